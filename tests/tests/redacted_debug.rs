//! No personal or bank data in `Debug`: every field xtask marks sensitive
//! (`xtask::redact::SENSITIVE`) is filled with a marker, alone and nested in the types that
//! carry it, and the marker must not appear in `{:?}` or `{:#?}`.

use luxcore_api::types;
use serde_json::{Map, Value, json};

const MARKER: &str = "SECRET-MARKER-4242";

/// Every property of `schema` in the spec, filled with the marker (strings) where the field
/// is sensitive and with a plausible value otherwise.
fn filled(spec: &Value, schema: &str) -> Value {
    let fields = xtask::redact::SENSITIVE
        .iter()
        .find(|(n, _)| *n == schema)
        .map(|(_, f)| *f)
        .expect("listed schema");
    let props = spec["components"]["schemas"][schema]["properties"].as_object();
    let Some(props) = props.filter(|p| !p.is_empty()) else {
        // A free-form map (payout details): keys and values both carry the marker.
        return json!({ MARKER: MARKER, "account_number": MARKER });
    };
    let mut out = Map::new();
    for name in props.keys() {
        if fields.is_none_or(|list| list.contains(&name.as_str())) {
            out.insert(name.clone(), json!(MARKER));
        }
    }
    Value::Object(out)
}

fn assert_redacted<T: std::fmt::Debug>(label: &str, value: &T) {
    for text in [format!("{value:?}"), format!("{value:#?}")] {
        assert!(!text.contains(MARKER), "{label} leaks in Debug: {text}");
        assert!(!text.contains("4242"), "{label} leaks in Debug: {text}");
    }
}

fn parse<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("deserializes")
}

#[test]
fn sensitive_fields_never_show_in_debug() {
    let spec: Value =
        serde_json::from_str(include_str!("../../openapi.json")).expect("openapi.json");
    let customer = filled(&spec, "Customer");
    let payout = filled(&spec, "PayoutDetails");
    let bank = filled(&spec, "BankDetails");
    let legacy = filled(&spec, "LegacyInstructions");
    let mut webhook = filled(&spec, "Webhook");
    webhook["id"] = json!("wh_1");
    webhook["url"] = json!("https://example.com/hook");
    webhook["events"] = json!(["payment.completed"]);
    webhook["status"] = json!("active");

    // Every listed schema is covered here.
    assert_eq!(xtask::redact::SENSITIVE.len(), 5);
    let c: types::Customer = parse(customer.clone());
    assert_eq!(c.email.as_deref(), Some(MARKER), "the data itself is kept");
    assert_redacted("Customer", &c);
    assert_redacted(
        "PayoutDetails",
        &parse::<types::PayoutDetails>(payout.clone()),
    );
    assert_redacted("BankDetails", &parse::<types::BankDetails>(bank.clone()));
    assert_redacted(
        "LegacyInstructions",
        &parse::<types::LegacyInstructions>(legacy.clone()),
    );
    assert_redacted("Webhook", &parse::<types::Webhook>(webhook));

    let payment: types::Payment = parse(json!({
        "id": "pay_1", "status": "pending", "amount": 100, "currency": "ARS",
        "method": "bank_transfer", "type": "withdrawal", "merchant_reference": "r",
        "customer": customer, "bank_details": bank, "instructions": legacy,
    }));
    assert_redacted("Payment", &payment);
    let request: types::PaymentCreateRequest = parse(json!({
        "amount": 100, "currency": "ARS", "method": "bank_transfer", "type": "withdrawal",
        "merchant_reference": "r", "customer": customer, "payout": payout,
    }));
    assert_redacted("PaymentCreateRequest", &request);
    // The typify builders print no field values either.
    let builder = types::Customer::builder()
        .email(Some(MARKER.to_owned()))
        .name(Some(MARKER.to_owned()));
    assert_redacted("builder::Customer", &builder);
    assert_redacted(
        "builder::PaymentCreateRequest",
        &types::PaymentCreateRequest::builder().customer(Some(parse(filled(&spec, "Customer")))),
    );
    // Non-sensitive fields still print.
    assert!(format!("{payment:?}").contains("pay_1"));
    assert!(format!("{:?}", parse::<types::Customer>(json!({"email": MARKER}))).contains("email"));
}
