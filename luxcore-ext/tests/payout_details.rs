//! Typed payout details (`payouts::Recipient`): known valid and invalid numbers from the
//! published standards, property tests of what each check digit catches (on numbers
//! generated with an independent implementation of each algorithm), and the refusal
//! before sending through `PaymentRequest::payout_to`.

use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::payouts::Recipient;
use luxcore_ext::{Currency, Money, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};
use proptest::prelude::*;

// --- independent generators: each algorithm written out again, as its standard says ---

fn digits_text(d: &[u8]) -> String {
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

/// `(10 - Σ w·d mod 10) mod 10`, weights repeated.
fn weighted_mod10(d: &[u8], weights: &[u32]) -> u8 {
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, x)| u32::from(*x) * weights[i % weights.len()])
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// `11 - Σ w·d mod 11` (11 → 0); `None` for 10.
fn weighted_mod11(d: &[u8], weights: &[u32]) -> Option<u8> {
    let sum: u32 = d.iter().zip(weights).map(|(x, w)| u32::from(*x) * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c as u8),
    }
}

/// A CBU (or, with bank `000`, a CVU): bank+branch (7) + check, account (13) + check.
fn cbu(head: &[u8; 7], account: &[u8; 13]) -> String {
    let mut d = head.to_vec();
    d.push(weighted_mod10(head, &[7, 1, 3, 9, 7, 1, 3]));
    d.extend_from_slice(account);
    d.push(weighted_mod10(
        account,
        &[3, 9, 7, 1, 3, 9, 7, 1, 3, 9, 7, 1, 3],
    ));
    digits_text(&d)
}

fn clabe(body: &[u8; 17]) -> String {
    let mut d = body.to_vec();
    d.push(weighted_mod10(body, &[3, 7, 1]));
    digits_text(&d)
}

fn cuit(kind: u8, document: &[u8; 8]) -> Option<String> {
    let mut d = vec![kind / 10, kind % 10];
    d.extend_from_slice(document);
    d.push(weighted_mod11(&d, &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2])?);
    Some(digits_text(&d))
}

/// An ABN with the given last nine digits: the two leading digits (10-99) that make the
/// weighted sum divisible by 89, if any.
fn abn(tail: &[u8; 9]) -> Option<String> {
    let weights = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
    (10u8..=99).find_map(|lead| {
        let mut d = vec![lead / 10, lead % 10];
        d.extend_from_slice(tail);
        let sum: i32 = d
            .iter()
            .zip(weights)
            .enumerate()
            .map(|(i, (x, w))| (i32::from(*x) - if i == 0 { 1 } else { 0 }) * w)
            .sum();
        (sum % 89 == 0).then(|| digits_text(&d))
    })
}

/// A Turkish IBAN: `TR`, check digits `98 - (BBAN ‖ "2927" ‖ "00") mod 97`.
fn tr_iban(bank: &[u8; 5], account: &[u8; 16]) -> String {
    let bban = format!("{}0{}", digits_text(bank), digits_text(account));
    let remainder = format!("{bban}292700")
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    format!("TR{:02}{bban}", 98 - remainder)
}

fn uy_ci(body: &[u8; 7]) -> String {
    let mut d = body.to_vec();
    d.push(weighted_mod10(body, &[2, 9, 8, 7, 6, 3, 4]));
    digits_text(&d)
}

fn uy_rut(body: &[u8; 11]) -> Option<String> {
    let mut d = body.to_vec();
    d.push(weighted_mod11(body, &[4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])?);
    Some(digits_text(&d))
}

// --- what a check digit must catch ---

/// Every single-digit change at the digit positions `positions` of `valid`, with whether
/// the algorithm guarantees catching it (`exempt` says when it does not).
fn single_changes(
    valid: &str,
    positions: std::ops::Range<usize>,
) -> impl Iterator<Item = (usize, u8, u8, String)> + '_ {
    positions.flat_map(move |i| {
        let old = valid.as_bytes()[i] - b'0';
        (0..10u8).filter(move |v| *v != old).map(move |new| {
            let mut changed = valid.as_bytes().to_vec();
            changed[i] = b'0' + new;
            (i, old, new, String::from_utf8(changed).unwrap())
        })
    })
}

/// Every swap of two adjacent, different digits in `positions`.
fn transpositions(
    valid: &str,
    positions: std::ops::Range<usize>,
) -> impl Iterator<Item = (usize, u8, u8, String)> + '_ {
    let end = positions.end;
    positions.filter(move |i| i + 1 < end).filter_map(move |i| {
        let bytes = valid.as_bytes();
        let (a, b) = (bytes[i], bytes[i + 1]);
        (a != b).then(|| {
            let mut swapped = bytes.to_vec();
            swapped.swap(i, i + 1);
            (i, a - b'0', b - b'0', String::from_utf8(swapped).unwrap())
        })
    })
}

fn refused(make: impl Fn(String) -> Recipient, text: String) -> bool {
    make(text).validate().is_err()
}

fn digits<const N: usize>() -> impl Strategy<Value = [u8; N]> {
    proptest::array::uniform(0u8..10)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// CBU and CVU: every single-digit change is caught; a swap of adjacent digits is
    /// caught unless they differ by 5 (weights 7 1 3 9 are odd, their differences even).
    #[test]
    fn cbu_and_cvu_check_digits(bank in 1u16..1000, branch in digits::<4>(), psp in digits::<4>(), account in digits::<13>()) {
        let mut head = [0u8; 7];
        head[0] = (bank / 100) as u8;
        head[1] = (bank / 10 % 10) as u8;
        head[2] = (bank % 10) as u8;
        head[3..].copy_from_slice(&branch);
        let valid_cbu = cbu(&head, &account);
        let mut cvu_head = [0u8; 7];
        cvu_head[3..].copy_from_slice(&psp);
        let valid_cvu = cbu(&cvu_head, &account);
        for (make, valid) in [
            (Recipient::cbu as fn(String) -> Recipient, &valid_cbu),
            (Recipient::cvu as fn(String) -> Recipient, &valid_cvu),
        ] {
            prop_assert!(make(valid.clone()).validate().is_ok(), "{valid}");
            for (i, old, new, changed) in single_changes(valid, 0..22) {
                prop_assert!(refused(make, changed), "{valid}: digit {i} {old}->{new}");
            }
            for (i, a, b, swapped) in transpositions(valid, 0..22) {
                if a.abs_diff(b) != 5 {
                    prop_assert!(refused(make, swapped), "{valid}: swap at {i}");
                }
            }
        }
        // A CBU is not a CVU and the other way round.
        prop_assert_eq!(Recipient::cvu(valid_cbu.clone()).validate().unwrap_err().field(), "cvu");
        prop_assert_eq!(Recipient::cbu(valid_cvu.clone()).validate().unwrap_err().field(), "cbu");
    }

    /// CLABE: the same guarantees as the CBU (weights 3 7 1).
    #[test]
    fn clabe_check_digit(body in digits::<17>()) {
        let valid = clabe(&body);
        prop_assert!(Recipient::clabe(valid.clone()).validate().is_ok(), "{valid}");
        for (i, old, new, changed) in single_changes(&valid, 0..18) {
            prop_assert!(refused(Recipient::clabe, changed), "{valid}: digit {i} {old}->{new}");
        }
        for (i, a, b, swapped) in transpositions(&valid, 0..18) {
            let caught = refused(Recipient::clabe, swapped);
            // Exactly the documented exception goes through.
            prop_assert_eq!(caught, a.abs_diff(b) != 5, "{}: swap at {}", valid, i);
        }
    }

    /// CUIT/CUIL (mod 11): every single-digit change and every adjacent swap is caught.
    #[test]
    fn cuit_check_digit(kind in prop::sample::select(vec![20u8, 23, 24, 27, 30, 33, 34]), document in digits::<8>()) {
        let Some(valid) = cuit(kind, &document) else { return Ok(()) };
        prop_assert!(Recipient::cbu("2850590940090418135201").cuit(valid.clone()).validate().is_ok(), "{valid}");
        let with = |text: String| Recipient::cbu("2850590940090418135201").cuit(text);
        for (i, old, new, changed) in single_changes(&valid, 0..11) {
            prop_assert!(refused(with, changed), "{valid}: digit {i} {old}->{new}");
        }
        for (i, _, _, swapped) in transpositions(&valid, 0..11) {
            prop_assert!(refused(with, swapped), "{valid}: swap at {i}");
        }
    }

    /// ABN (mod 89): every single-digit change and every adjacent swap is caught.
    #[test]
    fn abn_checksum(tail in digits::<9>()) {
        let Some(valid) = abn(&tail) else { return Ok(()) };
        prop_assert!(Recipient::payid_abn(valid.clone()).validate().is_ok(), "{valid}");
        for (i, old, new, changed) in single_changes(&valid, 0..11) {
            prop_assert!(refused(Recipient::payid_abn, changed), "{valid}: digit {i} {old}->{new}");
        }
        for (i, _, _, swapped) in transpositions(&valid, 0..11) {
            prop_assert!(refused(Recipient::payid_abn, swapped), "{valid}: swap at {i}");
        }
    }

    /// Turkish IBAN (mod 97-10): every single-digit change and every adjacent swap among
    /// the check digits and the BBAN is caught.
    #[test]
    fn tr_iban_mod97(bank in digits::<5>(), account in digits::<16>()) {
        let valid = tr_iban(&bank, &account);
        prop_assert!(Recipient::tr_iban(valid.clone()).validate().is_ok(), "{valid}");
        for (i, old, new, changed) in single_changes(&valid, 2..26) {
            prop_assert!(refused(Recipient::tr_iban, changed), "{valid}: digit {i} {old}->{new}");
        }
        for (i, _, _, swapped) in transpositions(&valid, 2..26) {
            prop_assert!(refused(Recipient::tr_iban, swapped), "{valid}: swap at {i}");
        }
    }

    /// Uruguayan CI: every adjacent swap is caught; a single-digit change is caught unless
    /// it is by 5 at a position weighted 2, 8, 6 or 4 (digits 1, 3, 5, 7).
    #[test]
    fn uy_ci_check_digit(body in digits::<7>()) {
        let valid = uy_ci(&body);
        let with = |text: String| Recipient::uy_bank("BROU", "12345").uy_ci(text);
        prop_assert!(with(valid.clone()).validate().is_ok(), "{valid}");
        for (i, old, new, changed) in single_changes(&valid, 0..8) {
            let exempt = i < 7 && i % 2 == 0 && old.abs_diff(new) == 5;
            prop_assert_eq!(refused(with, changed), !exempt, "{}: digit {} {}->{}", valid, i, old, new);
        }
        for (i, _, _, swapped) in transpositions(&valid, 0..8) {
            prop_assert!(refused(with, swapped), "{valid}: swap at {i}");
        }
    }

    /// Uruguayan RUT (mod 11): every single-digit change and every adjacent swap is caught.
    #[test]
    fn uy_rut_check_digit(body in digits::<11>()) {
        let Some(valid) = uy_rut(&body) else { return Ok(()) };
        let with = |text: String| Recipient::uy_bank("BROU", "12345").uy_rut(text);
        prop_assert!(with(valid.clone()).validate().is_ok(), "{valid}");
        for (i, old, new, changed) in single_changes(&valid, 0..12) {
            prop_assert!(refused(with, changed), "{valid}: digit {i} {old}->{new}");
        }
        for (i, _, _, swapped) in transpositions(&valid, 0..12) {
            prop_assert!(refused(with, swapped), "{valid}: swap at {i}");
        }
    }
}

// --- published examples ---

#[test]
fn published_and_well_formed_examples_pass() {
    let ar = || Recipient::cbu("2850590940090418135201");
    let uy = || Recipient::uy_bank("BROU", "001234567-00001");
    let lk = || Recipient::lk_bank("7010", "001", "0012345678");
    for (label, recipient) in [
        // The CBU of the CBU article's example (Banco Macro), as typed with a space.
        ("cbu", Recipient::cbu("28505909 40090418135201")),
        ("cvu", Recipient::cvu("0000003100099999999994")),
        // AFIP's own CUIT, and YPF's.
        ("cuit afip", ar().cuit("33-69345023-9")),
        ("cuit ypf", ar().cuit("30-50001091-2")),
        ("alias", Recipient::alias("juana.perez-mp")),
        // Banxico's CLABE example (bank 032, place 180), and two used in this repository.
        ("clabe banxico", Recipient::clabe("032180000118359719")),
        ("clabe 002", Recipient::clabe("002010077777777771")),
        ("clabe stp", Recipient::clabe("646180157000000004")),
        // The Australian Business Register's example ABN, and another.
        ("abn abr", Recipient::payid_abn("51 824 753 556")),
        ("abn", Recipient::payid_abn("53 004 085 616")),
        ("bsb", Recipient::au_bank("062-000", "12345678")),
        ("mobile", Recipient::payid_phone("0412 345 678")),
        ("mobile e164", Recipient::payid_phone("+61 412 345 678")),
        ("mobile trunk", Recipient::payid_phone("+61 (0)412-345-678")),
        ("landline", Recipient::payid_phone("(02) 9876 5432")),
        (
            "email",
            Recipient::payid_email("Juana.Perez@Example.com.au"),
        ),
        // The IBAN registry's example for Turkey, in print and electronic format.
        (
            "iban print",
            Recipient::tr_iban("TR33 0006 1005 1978 6457 8413 26"),
        ),
        ("iban", Recipient::tr_iban("TR330006100519786457841326")),
        ("ci", uy().uy_ci("1.234.567-2")),
        ("ci 6 digits", uy().uy_ci("123.456-1")),
        ("rut", uy().uy_rut("211003420017")),
        ("nic old", lk().lk_nic("853400937V")),
        ("nic old lower", lk().lk_nic("853400937v")),
        ("nic old woman", lk().lk_nic("857400937X")),
        ("nic new", lk().lk_nic("198534000937")),
    ] {
        assert_eq!(recipient.validate(), Ok(()), "{label}");
    }
}

#[test]
fn refusals_name_the_field_and_the_rule() {
    let ar = || Recipient::cbu("2850590940090418135201");
    let uy = || Recipient::uy_bank("BROU", "001234567-00001");
    let lk = || Recipient::lk_bank("7010", "001", "0012345678");
    // The documented exception: a CLABE with two adjacent digits 0 and 5 swapped passes.
    let swapped = clabe(&[0, 0, 2, 0, 1, 0, 0, 7, 7, 7, 7, 7, 7, 7, 0, 5, 7]).replace("057", "507");
    assert_eq!(Recipient::clabe(swapped).validate(), Ok(()));
    for (recipient, expected) in [
        // The sample account of the API docs' bank_details is not a valid CBU.
        (
            Recipient::cbu("0110012345678901234567"),
            "cbu: the check digit of the first block (digit 8) does not match the bank and branch",
        ),
        (
            Recipient::cbu("285059094009041813520"),
            "cbu: 22 digits expected, found 21",
        ),
        (
            Recipient::cvu("00000031000999999999O4"),
            "cvu: only digits are allowed (spaces, '-' and '.' are ignored)",
        ),
        (
            ar().cuit("33-69345023-8"),
            "cuit: the check digit (digit 11) does not match",
        ),
        // Companies have a CUIT, not a CUIL.
        (
            ar().cuil("33-69345023-9"),
            "cuil: the first two digits must be 20, 23, 24, 25, 26 or 27",
        ),
        (
            Recipient::alias("pérez.mp"),
            "alias: only letters A-Z (no ñ or accents), digits, '.' and '-' are allowed",
        ),
        (
            Recipient::alias("abc"),
            "alias: 6 to 20 characters expected",
        ),
        (
            Recipient::clabe("032180000118359718"),
            "clabe: the check digit (digit 18) does not match",
        ),
        (
            Recipient::payid_abn("51 824 753 557"),
            "payid: not a valid ABN (its checksum does not match)",
        ),
        (
            Recipient::au_bank("06200", "12345678"),
            "bsb: 6 digits expected, found 5",
        ),
        (
            Recipient::au_bank("062000", "1234567890"),
            "account_number: 1 to 9 digits expected, found 10",
        ),
        (
            Recipient::au_bank("062000", "000"),
            "account_number: must not be all zeros",
        ),
        (
            Recipient::payid_phone("+64 21 123 4567"),
            "payid: phone PayID: an Australian number starting with 0 or +61 is expected",
        ),
        (
            Recipient::payid_phone("0512 345 678"),
            "payid: phone PayID: the number after 0 or +61 starts with 2, 3, 4, 7 or 8",
        ),
        (
            Recipient::payid_email("juana"),
            "payid: e-mail PayID: an '@' is expected",
        ),
        (
            Recipient::payid_email("@example.com"),
            "payid: e-mail PayID: 1 to 64 characters are expected before the '@'",
        ),
        (
            Recipient::payid_email("ju ana@example.com"),
            "payid: e-mail PayID: the part before the '@' has a character not allowed in an address",
        ),
        (
            Recipient::payid_email("juana@localhost"),
            "payid: e-mail PayID: the domain must be labels of letters, digits and '-' separated by '.'",
        ),
        (
            Recipient::payid_email("j@exa_mple.com"),
            "payid: e-mail PayID: the domain must be labels of letters, digits and '-' separated by '.'",
        ),
        (
            Recipient::tr_iban("TR040006A05197864578413260"),
            "iban: a Turkish IBAN has 26 characters: TR, 2 check digits, 5-digit bank code, 1 digit, 16-character account",
        ),
        (
            Recipient::tr_iban("TR330006100519786457841327"),
            "iban: the check digits (mod 97) do not match",
        ),
        (
            Recipient::tr_iban("DE89370400440532013000"),
            "iban: a Turkish IBAN (starting with TR) is expected",
        ),
        (
            Recipient::tr_iban("TR3300061005197864578413"),
            "iban: a Turkish IBAN has 26 characters, found 24",
        ),
        (
            uy().uy_ci("1.234.567-3"),
            "ci: the check digit (last digit) does not match",
        ),
        (
            uy().uy_rut("211003420018"),
            "rut: the check digit (digit 12) does not match",
        ),
        (Recipient::uy_bank(" ", "12"), "bank: must not be empty"),
        (
            lk().lk_nic("850000937V"),
            "nic: the day-of-year digits must be 001-366 or 501-866",
        ),
        (
            lk().lk_nic("859000937V"),
            "nic: the day-of-year digits must be 001-366 or 501-866",
        ),
        (lk().lk_nic("85340093V"), "nic: 9 digits expected, found 8"),
        (
            lk().lk_nic("19853400093"),
            "nic: 9 digits and V or X (old format), or 12 digits (new format), expected",
        ),
        (
            Recipient::lk_bank("701", "001", "1"),
            "bank_code: 4 digits expected, found 3",
        ),
        (
            Recipient::clabe("032180000118359719").cuit("20123456786"),
            "holder_id: a CUIT does not go with a CLABE",
        ),
        (ar().holder_name("  "), "account_holder: must not be empty"),
    ] {
        assert_eq!(
            recipient.validate().unwrap_err().to_string(),
            format!("payout {expected}")
        );
    }
}

// --- before sending ---

#[test]
fn build_refuses_before_sending() {
    let request = |recipient: &Recipient, currency: Currency| {
        PaymentRequest::withdrawal(Money::new(100, currency), PaymentMethod::BankTransfer, "p1")
            .payout_to(recipient)
            .build()
    };
    let typo = Recipient::cvu("0000003100099999999995");
    assert_eq!(
        request(&typo, Currency::ARS),
        Err(Error::InvalidRequest(
            "payout cvu: the check digit of the second block (digit 22) does not match the account"
                .into()
        ))
    );
    let clabe = Recipient::clabe("032180000118359719");
    assert_eq!(
        request(&clabe, Currency::ARS),
        Err(Error::InvalidRequest(
            "payout currency: a CLABE is for MXN payouts, this withdrawal is in ARS".into()
        ))
    );
    // A later valid recipient replaces a refused one; raw keys can be added after it.
    let built =
        PaymentRequest::withdrawal(Money::new(100, Currency::MXN), PaymentMethod::Spei, "p2")
            .payout_to(&Recipient::clabe("1"))
            .payout_to(&clabe)
            .payout_field("reference", "rent")
            .build()
            .unwrap();
    let payout = serde_json::to_value(built.payout.unwrap().0).unwrap();
    assert_eq!(
        payout,
        serde_json::json!({"clabe": "032180000118359719", "reference": "rent"})
    );
}

#[tokio::test]
async fn a_checked_cvu_payout_reaches_the_mock() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    mock.set_balance("ARS", 10_000_000, 0).await.unwrap();
    let client = LuxCore::builder()
        .base_url(mock.base_url())
        .api_key(DEFAULT_API_KEY)
        .build()
        .unwrap();
    let amount = Money::new(4_599_990, Currency::ARS);
    let cvu = Recipient::cvu("0000003100099999999994")
        .holder_name("Juana Pérez")
        .cuil("27-12345678-0");
    let request = PaymentRequest::withdrawal(amount.clone(), PaymentMethod::BankTransfer, "cvu_1")
        .payout_to(&cvu)
        .build()
        .unwrap();
    let payment = client
        .payments()
        .create(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(payment.amount, amount.minor);

    let typo = Recipient::cvu("0000003100099999989994");
    let refused = PaymentRequest::withdrawal(amount, PaymentMethod::BankTransfer, "cvu_2")
        .payout_to(&typo)
        .build();
    assert!(matches!(refused, Err(Error::InvalidRequest(_))));
    assert_eq!(
        mock.payment_count().await.unwrap(),
        1,
        "nothing more was sent"
    );
}
