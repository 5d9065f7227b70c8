//! The checks of a withdrawal's payout details that have their own error codes: a CLABE
//! (Mexico, 400 `INVALID_CLABE`) and a CBU or CVU (Argentina, 400 `INVALID_CVU`).
//!
//! The keys read are the ones the SDK sends (`luxcore-ext`, `payouts::api_fields`, assumed
//! there too): `clabe`; `account_number` with `account_type` `cvu` or `cbu`; and, as the
//! docs' codes suggest, `cvu` / `cbu` keys. Values must be the bare digits (the SDK removes
//! separators before sending). Other keys (an alias, an IBAN, a wallet) are not checked
//! here. Messages never repeat the value (bank data).

use luxcore_api::enums::ErrorCode;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// The check digit making `sum(w_i * d_i) + check ≡ 0 (mod 10)` (weights cycled).
fn mod10_check(digits: &[u8], weights: &[u32]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(weights.iter().cycle())
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

/// The digits of `value`, if it is exactly `len` ASCII digits.
fn digits(value: &str, len: usize) -> Option<Vec<u8>> {
    (value.len() == len && value.bytes().all(|b| b.is_ascii_digit()))
        .then(|| value.bytes().map(|b| b - b'0').collect())
}

/// A CLABE: 18 digits, bank (3) + place (3) + account (11) + check digit (weights 3 7 1,
/// mod 10; Banxico).
pub(crate) fn valid_clabe(value: &str) -> bool {
    digits(value, 18).is_some_and(|d| mod10_check(&d[..17], &[3, 7, 1]) == d[17])
}

/// A CBU or CVU: 22 digits in two blocks, each ending in its check digit (BCRA): digits
/// 1-7 with weights 7 1 3 9 7 1 3 and check digit 8; digits 9-21 with weights 3 9 7 1 3 9
/// 7 1 3 9 7 1 3 and check digit 22.
pub(crate) fn valid_cbu(value: &str) -> bool {
    digits(value, 22).is_some_and(|d| {
        mod10_check(&d[..7], &[7, 1, 3, 9]) == d[7]
            && mod10_check(&d[8..21], &[3, 9, 7, 1]) == d[21]
    })
}

fn invalid_clabe() -> ApiError {
    ApiError::catalogued(
        ErrorCode::InvalidClabe,
        "Invalid CLABE format: 18 digits with a valid check digit expected (payout.clabe)",
    )
}

fn invalid_cvu(field: &str) -> ApiError {
    ApiError::catalogued(
        ErrorCode::InvalidCvu,
        format!("Invalid CVU format: 22 digits with valid check digits expected (payout.{field})"),
    )
}

/// Whether `value` (any JSON) is a string passing `check`.
fn passes(value: &Value, check: fn(&str) -> bool) -> bool {
    value.as_str().is_some_and(check)
}

/// Checks the CLABE and CBU/CVU details of `payout`, when present (a key with `null` is
/// absent).
pub(crate) fn check(payout: &Map<String, Value>) -> ApiResult<()> {
    let present = |key: &str| payout.get(key).filter(|v| !v.is_null());
    if present("clabe").is_some_and(|v| !passes(v, valid_clabe)) {
        return Err(invalid_clabe());
    }
    for key in ["cvu", "cbu"] {
        if present(key).is_some_and(|v| !passes(v, valid_cbu)) {
            return Err(invalid_cvu(key));
        }
    }
    let typed_cbu = present("account_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("cvu") || t.eq_ignore_ascii_case("cbu"));
    if typed_cbu && !present("account_number").is_some_and(|v| passes(v, valid_cbu)) {
        return Err(invalid_cvu("account_number"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn clabe_check_digit() {
        assert!(valid_clabe("002010077777777771"));
        assert!(valid_clabe("646180157000000004"));
        assert!(!valid_clabe("002010077777777772"));
        assert!(!valid_clabe("00201007777777777"));
        assert!(!valid_clabe("0020100777777777711"));
        assert!(!valid_clabe("002 010077777777771"));
        assert!(!valid_clabe("00201007777777777x"));
        assert!(!valid_clabe(""));
    }

    #[test]
    fn cbu_and_cvu_check_digits() {
        // The SDK's documented CVU, and a CBU whose check digits are computed here.
        assert!(valid_cbu("0000003100099999999994"));
        let mut cbu: Vec<u8> = "0110012_3456789012345_"
            .bytes()
            .map(|b| b.wrapping_sub(b'0'))
            .collect();
        cbu[7] = mod10_check(&cbu[..7], &[7, 1, 3, 9]);
        cbu[21] = mod10_check(&cbu[8..21], &[3, 9, 7, 1]);
        let cbu: String = cbu.iter().map(|d| char::from(b'0' + d)).collect();
        assert!(valid_cbu(&cbu), "{cbu}");
        // Either check digit wrong, a wrong length, a non-digit.
        assert!(!valid_cbu("0000003100099999999995"));
        assert!(!valid_cbu("0000004100099999999994"));
        assert!(!valid_cbu("000000310009999999999"));
        assert!(!valid_cbu("0000003100099999999994 "));
        assert!(!valid_cbu("0110012345678901234567"));
    }

    #[test]
    fn payout_keys() {
        let ok = |v: Value| check(v.as_object().unwrap()).map_err(|e| e.code());
        assert_eq!(
            ok(json!({"account_number": "0110012345678901234567"})),
            Ok(())
        );
        assert_eq!(ok(json!({"clabe": "002010077777777771"})), Ok(()));
        assert_eq!(ok(json!({"clabe": null, "account_number": "1"})), Ok(()));
        assert_eq!(
            ok(json!({"account_number": "0000003100099999999994", "account_type": "cvu"})),
            Ok(())
        );
        assert_eq!(
            ok(json!({"account_number": "alias.de.juana", "account_type": "alias"})),
            Ok(())
        );
        assert_eq!(ok(json!({"clabe": "1"})), Err(ErrorCode::InvalidClabe));
        assert_eq!(
            ok(json!({"clabe": 2010077777777771_i64})),
            Err(ErrorCode::InvalidClabe)
        );
        assert_eq!(
            ok(json!({"cvu": "0000003100099999999995"})),
            Err(ErrorCode::InvalidCvu)
        );
        assert_eq!(ok(json!({"cbu": "123"})), Err(ErrorCode::InvalidCvu));
        assert_eq!(
            ok(json!({"account_number": "0000003100099999999995", "account_type": "CVU"})),
            Err(ErrorCode::InvalidCvu)
        );
        assert_eq!(
            ok(json!({"account_type": "cbu", "clabe": "002010077777777771"})),
            Err(ErrorCode::InvalidCvu)
        );
    }
}
