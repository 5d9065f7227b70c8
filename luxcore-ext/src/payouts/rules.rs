//! The rules of each rail's identifiers: lengths, alphabets and check digits. Each function
//! takes the text as given and returns it normalized (separators removed), or the
//! [`PayoutError`] naming the field and the rule. No error repeats the value.

use std::ops::RangeInclusive;

use super::PayoutError;

/// What may separate digit groups in a typed identifier; removed before checking.
const SEPARATORS: [char; 3] = [' ', '-', '.'];

fn error(field: &'static str, rule: impl Into<String>) -> PayoutError {
    PayoutError {
        field,
        rule: rule.into(),
    }
}

/// The digits of `value` without separators, `len` of them.
pub(super) fn digits(
    field: &'static str,
    value: &str,
    len: RangeInclusive<usize>,
) -> Result<Vec<u8>, PayoutError> {
    let mut out = Vec::with_capacity(*len.end());
    for c in value.trim().chars() {
        match c {
            '0'..='9' => out.push(c as u8 - b'0'),
            c if SEPARATORS.contains(&c) => {}
            _ => {
                return Err(error(
                    field,
                    "only digits are allowed (spaces, '-' and '.' are ignored)",
                ));
            }
        }
    }
    if !len.contains(&out.len()) {
        let expected = if len.start() == len.end() {
            format!("{}", len.start())
        } else {
            format!("{} to {}", len.start(), len.end())
        };
        return Err(error(
            field,
            format!("{expected} digits expected, found {}", out.len()),
        ));
    }
    Ok(out)
}

pub(super) fn text(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// The check digit making `sum(w_i * d_i) + check ≡ 0 (mod 10)`.
fn mod10_check(digits: &[u8], weights: &[u32]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(weights.iter().cycle())
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// The check digit making `sum(w_i * d_i) + check ≡ 0 (mod 11)`; `None` when that would
/// be 10 (such numbers are not issued).
fn mod11_check(digits: &[u8], weights: &[u32]) -> Option<u8> {
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    match (11 - sum % 11) % 11 {
        10 => None,
        check => Some(check as u8),
    }
}

/// Argentina, CBU (bank account) or CVU (virtual account): 22 digits in two blocks, each
/// ending in its check digit (BCRA, Comunicación "A" 2380 / "A" 6510): bank or PSP and
/// branch (7 digits) + check, account (13 digits) + check. A CVU's first three digits are
/// `000`; a CBU's never are.
pub(super) fn cbu_or_cvu(field: &'static str, value: &str) -> Result<String, PayoutError> {
    let d = digits(field, value, 22..=22)?;
    let is_cvu = d[..3] == [0, 0, 0];
    match field {
        "cvu" if !is_cvu => {
            return Err(error(
                field,
                "a CVU starts with 000 (a bank account number is a CBU)",
            ));
        }
        "cbu" if is_cvu => {
            return Err(error(
                field,
                "a CBU does not start with 000 (that is a CVU, a virtual account)",
            ));
        }
        _ => {}
    }
    if mod10_check(&d[..7], &[7, 1, 3, 9]) != d[7] {
        return Err(error(
            field,
            "the check digit of the first block (digit 8) does not match the bank and branch",
        ));
    }
    if mod10_check(&d[8..21], &[3, 9, 7, 1]) != d[21] {
        return Err(error(
            field,
            "the check digit of the second block (digit 22) does not match the account",
        ));
    }
    Ok(text(&d))
}

/// Argentina, alias of a CBU or CVU: 6 to 20 characters, letters (no ñ or accents),
/// digits, `.` and `-` (BCRA).
pub(super) fn alias(value: &str) -> Result<String, PayoutError> {
    let value = value.trim();
    if !(6..=20).contains(&value.chars().count()) {
        return Err(error("alias", "6 to 20 characters expected"));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err(error(
            "alias",
            "only letters A-Z (no ñ or accents), digits, '.' and '-' are allowed",
        ));
    }
    Ok(value.to_owned())
}

/// Argentina, CUIT (tax id) or CUIL (labour id): 11 digits, type (2) + document (8) +
/// check digit (mod 11, weights 5 4 3 2 7 6 5 4 3 2; AFIP). Types: 20, 23, 24, 25, 26, 27
/// for people; 30, 33, 34 for companies, which have a CUIT only.
pub(super) fn cuit_or_cuil(field: &'static str, value: &str) -> Result<String, PayoutError> {
    let d = digits(field, value, 11..=11)?;
    let kind = d[0] * 10 + d[1];
    let people = [20, 23, 24, 25, 26, 27];
    let allowed = people.contains(&kind) || (field == "cuit" && [30, 33, 34].contains(&kind));
    if !allowed {
        let types = if field == "cuit" {
            "20, 23, 24, 25, 26, 27, 30, 33 or 34"
        } else {
            "20, 23, 24, 25, 26 or 27"
        };
        return Err(error(
            field,
            format!("the first two digits must be {types}"),
        ));
    }
    if mod11_check(&d[..10], &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) != Some(d[10]) {
        return Err(error(field, "the check digit (digit 11) does not match"));
    }
    Ok(text(&d))
}

/// Mexico, CLABE (SPEI): 18 digits, bank (3) + place (3) + account (11) + check digit
/// (weights 3 7 1, mod 10; Banxico).
pub(super) fn clabe(value: &str) -> Result<String, PayoutError> {
    let d = digits("clabe", value, 18..=18)?;
    if mod10_check(&d[..17], &[3, 7, 1]) != d[17] {
        return Err(error("clabe", "the check digit (digit 18) does not match"));
    }
    Ok(text(&d))
}

/// Australia, BSB: 6 digits (`062-000` or `062000`). There is no check digit.
pub(super) fn bsb(value: &str) -> Result<String, PayoutError> {
    digits("bsb", value, 6..=6).map(|d| text(&d))
}

/// Australia, account number: 1 to 9 digits (the BECS field width), not all zeros. No
/// check digit is public (each bank has its own).
pub(super) fn au_account(value: &str) -> Result<String, PayoutError> {
    let d = digits("account_number", value, 1..=9)?;
    if d.iter().all(|&x| x == 0) {
        return Err(error("account_number", "must not be all zeros"));
    }
    Ok(text(&d))
}

/// Australia, ABN: 11 digits; subtract 1 from the first, weights 10 1 3 5 7 9 11 13 15 17
/// 19, the sum divisible by 89 (Australian Business Register).
pub(super) fn abn(value: &str) -> Result<String, PayoutError> {
    let d = digits("payid", value, 11..=11)?;
    let weights = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
    let sum: i32 = d
        .iter()
        .zip(weights)
        .enumerate()
        .map(|(i, (digit, w))| (i32::from(*digit) - i32::from(i == 0)) * w)
        .sum();
    if sum % 89 != 0 {
        return Err(error(
            "payid",
            "not a valid ABN (its checksum does not match)",
        ));
    }
    Ok(text(&d))
}

/// Australia, PayID e-mail address: one `@`, a local part of 1 to 64 characters, a
/// domain of dot-separated labels (letters, digits, `-`), at most 256 characters (NPP).
/// Returned in lower case.
pub(super) fn payid_email(value: &str) -> Result<String, PayoutError> {
    let value = value.trim();
    let fail = |rule: &str| Err(error("payid", format!("e-mail PayID: {rule}")));
    if value.len() > 256 {
        return fail("at most 256 characters");
    }
    let Some((local, domain)) = value.split_once('@') else {
        return fail("an '@' is expected");
    };
    if local.is_empty() || local.len() > 64 {
        return fail("1 to 64 characters are expected before the '@'");
    }
    if local
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "@\"(),:;<>[\\]".contains(c))
    {
        return fail("the part before the '@' has a character not allowed in an address");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return fail("the domain must be labels of letters, digits and '-' separated by '.'");
    }
    Ok(value.to_ascii_lowercase())
}

/// Australia, PayID phone number: an Australian number, `0412 345 678`, `+61 412 345 678`
/// or `(02) 9876 5432`: nine digits after `0` or `+61`, the first of them 2, 3, 4, 7 or 8
/// (ACMA numbering plan). Returned as E.164 (`+61412345678`).
pub(super) fn payid_phone(value: &str) -> Result<String, PayoutError> {
    let compact: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    // `+61 (0)4…` is written too: the trunk 0 after +61 is dropped.
    let national = match compact.strip_prefix("+61") {
        Some(rest) => rest.strip_prefix('0').unwrap_or(rest),
        None => compact.strip_prefix('0').ok_or_else(|| {
            error(
                "payid",
                "phone PayID: an Australian number starting with 0 or +61 is expected",
            )
        })?,
    };
    let d = digits("payid", national, 9..=9)
        .map_err(|e| error("payid", format!("phone PayID: {}", e.rule)))?;
    if ![2, 3, 4, 7, 8].contains(&d[0]) {
        return Err(error(
            "payid",
            "phone PayID: the number after 0 or +61 starts with 2, 3, 4, 7 or 8",
        ));
    }
    Ok(format!("+61{}", text(&d)))
}

/// Turkey, IBAN: `TR`, two check digits, 5-digit bank code, 1 reserved digit, 16-character
/// account (26 characters; IBAN registry), and the ISO 7064 mod 97-10 check, by the
/// `iban_validate` crate. Spaces are ignored, letters may be in lower case. Returned in
/// the electronic format (`TR33…`, no spaces).
pub(super) fn tr_iban(value: &str) -> Result<String, PayoutError> {
    let compact: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !compact.starts_with("TR") {
        return Err(error(
            "iban",
            "a Turkish IBAN (starting with TR) is expected",
        ));
    }
    let len = compact.chars().count();
    if len != 26 {
        return Err(error(
            "iban",
            format!("a Turkish IBAN has 26 characters, found {len}"),
        ));
    }
    match compact.parse::<iban::Iban>() {
        Ok(parsed) => Ok(iban::IbanLike::electronic_str(&parsed).to_owned()),
        Err(iban::ParseIbanError::InvalidBaseIban {
            source: iban::ParseBaseIbanError::InvalidChecksum,
        }) => Err(error("iban", "the check digits (mod 97) do not match")),
        Err(iban::ParseIbanError::InvalidBaseIban { .. }) => Err(error(
            "iban",
            "not an IBAN: two letters, two check digits, then letters and digits",
        )),
        Err(_) => Err(error(
            "iban",
            "a Turkish IBAN has 26 characters: TR, 2 check digits, 5-digit bank code, 1 digit, 16-character account",
        )),
    }
}

/// Uruguay, cédula de identidad: 6 or 7 digits + check digit (weights 2 9 8 7 6 3 4 on
/// the number padded to 7 digits, mod 10; DNIC). Typed as `1.234.567-2` or `12345672`.
pub(super) fn uy_ci(value: &str) -> Result<String, PayoutError> {
    let d = digits("ci", value, 7..=8)?;
    let mut body = vec![0u8; 8 - d.len()];
    body.extend_from_slice(&d[..d.len() - 1]);
    if mod10_check(&body, &[2, 9, 8, 7, 6, 3, 4]) != d[d.len() - 1] {
        return Err(error("ci", "the check digit (last digit) does not match"));
    }
    Ok(text(&d))
}

/// Uruguay, RUT (tax id): 12 digits, the last a check digit (mod 11, weights 4 3 2 9 8 7 6
/// 5 4 3 2; DGI).
pub(super) fn uy_rut(value: &str) -> Result<String, PayoutError> {
    let d = digits("rut", value, 12..=12)?;
    if mod11_check(&d[..11], &[4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) != Some(d[11]) {
        return Err(error("rut", "the check digit (digit 12) does not match"));
    }
    Ok(text(&d))
}

/// Uruguay, bank and account: Uruguay has no national account-number standard (no IBAN,
/// no public check digit; each bank numbers its own), so only the shape is checked: a
/// bank name or code, and an account number of 1 to 20 digits.
pub(super) fn uy_account(bank: &str, account: &str) -> Result<(String, String), PayoutError> {
    let bank = non_empty("bank", bank)?;
    let account = digits("account_number", account, 1..=20)?;
    Ok((bank, text(&account)))
}

/// Sri Lanka, bank account: 4-digit bank code and 3-digit branch code (the LankaPay /
/// Central Bank codes used by SLIPS and CEFTS), and an account number of 1 to 20 digits.
/// No public check-digit standard exists for the account number.
pub(super) fn lk_account(
    bank: &str,
    branch: &str,
    account: &str,
) -> Result<(String, String, String), PayoutError> {
    let bank = digits("bank_code", bank, 4..=4)?;
    let branch = digits("branch_code", branch, 3..=3)?;
    let account = digits("account_number", account, 1..=20)?;
    Ok((text(&bank), text(&branch), text(&account)))
}

/// Sri Lanka, National Identity Card number: the old format, 9 digits + `V` or `X`, or the
/// new one, 12 digits; the day-of-year field (digits 3-5 of the old, 5-7 of the new) is
/// 001-366, or 501-866 for women (Department for Registration of Persons). Its last digit
/// is a check digit whose algorithm is not published, so it is not verified.
pub(super) fn lk_nic(value: &str) -> Result<String, PayoutError> {
    let compact: String = value
        .trim()
        .chars()
        .filter(|c| !SEPARATORS.contains(c))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let (d, suffix, day_at) = match compact.strip_suffix(['V', 'X']) {
        Some(body) => (digits("nic", body, 9..=9)?, &compact[9..], 2),
        None => (
            digits("nic", &compact, 12..=12).map_err(|_| {
                error(
                    "nic",
                    "9 digits and V or X (old format), or 12 digits (new format), expected",
                )
            })?,
            "",
            4,
        ),
    };
    let day = u32::from(d[day_at]) * 100 + u32::from(d[day_at + 1]) * 10 + u32::from(d[day_at + 2]);
    if !(1..=366).contains(&day) && !(501..=866).contains(&day) {
        return Err(error(
            "nic",
            "the day-of-year digits must be 001-366 or 501-866",
        ));
    }
    Ok(format!("{}{suffix}", text(&d)))
}

/// The account holder's name: not blank, no control characters.
pub(super) fn holder_name(value: &str) -> Result<String, PayoutError> {
    let value = non_empty("account_holder", value)?;
    if value.chars().any(char::is_control) {
        return Err(error(
            "account_holder",
            "must not contain control characters",
        ));
    }
    Ok(value)
}

fn non_empty(field: &'static str, value: &str) -> Result<String, PayoutError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(error(field, "must not be empty"));
    }
    Ok(value.to_owned())
}
