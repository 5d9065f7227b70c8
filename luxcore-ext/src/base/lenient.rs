//! Lenient reading of JSON the docs show in more than one form.
//!
//! `openapi.json` is a reconstruction: where the docs or their examples show one field in
//! two forms, the SDK accepts both before decoding into the generated types, and reads the
//! values it orders and de-duplicates by (payment id, `status_version`) straight from the
//! JSON, so a payload that does not fit the generated types is still ordered correctly.
//!
//! The forms accepted (also stated in the spec's descriptions):
//!
//! * payment integers (`amount`, `fee`, `fee_amount`, `net_amount`, `status_version`,
//!   `merchant_id`): a JSON integer, or a string of an optional `-` and ASCII digits
//!   (`"150000"`). A decimal string such as `"1500.00"` is **not** converted: its unit
//!   (major or minor) is not documented, so guessing could move money by a factor of 100;
//!   such a payload stays undecoded and is handed over as raw JSON.
//! * `bank_details.amount` and the balance amounts (`balance_amount`, `available_amount`,
//!   `frozen_amount`): documented as strings of minor units; a JSON integer is accepted too.

use serde_json::{Map, Value};

/// Payment fields documented as integers that may arrive as integer strings.
const PAYMENT_INTEGERS: [&str; 6] = [
    "amount",
    "fee",
    "fee_amount",
    "net_amount",
    "status_version",
    "merchant_id",
];

/// Balance fields documented as strings of minor units that may arrive as integers.
const BALANCE_STRINGS: [&str; 3] = ["balance_amount", "available_amount", "frozen_amount"];

/// An integer given as a JSON integer or as a string of an optional `-` and ASCII digits.
pub(crate) fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        }
        _ => None,
    }
}

/// An identifier given as a non-empty JSON string or a JSON integer.
pub(crate) fn identifier(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn integers_from_strings(object: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        if let Some(value) = object.get_mut(*key)
            && value.is_string()
            && let Some(n) = integer(value)
        {
            *value = Value::from(n);
        }
    }
}

fn strings_from_integers(object: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        if let Some(value) = object.get_mut(*key)
            && let Some(n) = value.as_i64()
        {
            *value = Value::String(n.to_string());
        }
    }
}

/// Rewrites a payment object's documented alternative forms into the generated types' form.
pub(crate) fn normalize_payment(payment: &mut Value) {
    let Some(object) = payment.as_object_mut() else {
        return;
    };
    integers_from_strings(object, &PAYMENT_INTEGERS);
    if let Some(Value::Object(bank)) = object.get_mut("bank_details") {
        strings_from_integers(bank, &["amount"]);
    }
}

/// Rewrites a balance entry's amounts given as integers into strings.
pub(crate) fn normalize_balance_entry(entry: &mut Value) {
    if let Some(object) = entry.as_object_mut() {
        strings_from_integers(object, &BALANCE_STRINGS);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn integers_in_both_forms_only() {
        assert_eq!(integer(&json!(150000)), Some(150000));
        assert_eq!(integer(&json!("150000")), Some(150000));
        assert_eq!(integer(&json!("-5")), Some(-5));
        for no in [
            json!("1500.00"),
            json!("1e5"),
            json!(""),
            json!("-"),
            json!(" 1"),
            json!("+1"),
            json!(1.5),
            json!(null),
            json!("99999999999999999999"),
        ] {
            assert_eq!(integer(&no), None, "{no}");
        }
        assert_eq!(identifier(&json!("pay_1")), Some("pay_1".into()));
        assert_eq!(identifier(&json!(42)), Some("42".into()));
        assert_eq!(identifier(&json!(" ")), None);
        assert_eq!(identifier(&json!(1.5)), None);
    }

    #[test]
    fn payment_and_balance_forms() {
        let mut payment = json!({"amount": "150000", "fee": 10, "net_amount": "1500.00",
            "status_version": "3", "merchant_id": "123", "currency": "ARS",
            "bank_details": {"amount": 150000, "currency": "ARS"}});
        normalize_payment(&mut payment);
        assert_eq!(
            payment,
            json!({"amount": 150000, "fee": 10, "net_amount": "1500.00",
                "status_version": 3, "merchant_id": 123, "currency": "ARS",
                "bank_details": {"amount": "150000", "currency": "ARS"}})
        );
        let mut entry = json!({"balance_amount": 5, "available_amount": "4", "frozen_amount": 1.5});
        normalize_balance_entry(&mut entry);
        assert_eq!(
            entry,
            json!({"balance_amount": "5", "available_amount": "4", "frozen_amount": 1.5})
        );
        let mut not_an_object = json!([1]);
        normalize_payment(&mut not_an_object);
        assert_eq!(not_an_object, json!([1]));
    }
}
