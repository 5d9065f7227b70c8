//! An enum value the SDK does not know yet must not fail a whole response: it is kept verbatim.

use luxcore_api::enums::{Currency, ErrorCode, PaymentMethod, PaymentStatus, WebhookEventType};
use luxcore_api::types::{ErrorResponse, Payment, PaymentList};

#[test]
fn a_payment_list_with_new_status_method_and_currency_still_parses() {
    let body = serde_json::json!({
        "success": true,
        "data": [
            {"id": "pay_1", "amount": 100, "currency": "ARS", "status": "completed", "method": "spei"},
            {"id": "pay_2", "amount": 200, "currency": "BRL", "status": "on_hold", "method": "pix", "type": "deposit_qr"}
        ],
        "total": 2,
        "pagination": {"limit": 20, "offset": 0, "total_pages": 1}
    });
    let list: PaymentList = serde_json::from_value(body).expect("unknown values are tolerated");
    assert_eq!(list.data[0].status, PaymentStatus::Completed);
    assert_eq!(list.data[0].currency, Currency::ARS);
    assert_eq!(list.data[1].status, PaymentStatus::Other("on_hold".into()));
    assert_eq!(list.data[1].currency, Currency::Other("BRL".into()));
    assert_eq!(
        list.data[1].method,
        Some(PaymentMethod::Other("pix".into()))
    );
    assert!(!list.data[1].status.is_known());
}

#[test]
fn unknown_values_round_trip_verbatim() {
    let payment: Payment = serde_json::from_str(
        r#"{"amount":1,"currency":"XYZ","status":"brand_new","error_code":"SOMETHING_NEW"}"#,
    )
    .expect("parses");
    let back = serde_json::to_value(&payment).expect("serializes");
    assert_eq!(back["currency"], "XYZ");
    assert_eq!(back["status"], "brand_new");
    assert_eq!(back["error_code"], "SOMETHING_NEW");
}

#[test]
fn known_values_map_to_typed_variants_and_back() {
    for value in PaymentStatus::KNOWN {
        let parsed: PaymentStatus =
            serde_json::from_value(serde_json::json!(value)).expect("parses");
        assert!(parsed.is_known(), "{value}");
        assert_eq!(parsed.as_str(), *value);
    }
    assert_eq!(
        WebhookEventType::from("payment.completed"),
        WebhookEventType::PaymentCompleted
    );
    assert_eq!(
        "payment.completed"
            .parse::<WebhookEventType>()
            .map(|e| e.to_string())
            .ok()
            .as_deref(),
        Some("payment.completed")
    );
    assert_eq!(
        ErrorCode::from("MERCHANT_REFERENCE_DUPLICATE"),
        ErrorCode::MerchantReferenceDuplicate
    );
}

#[test]
fn both_error_shapes_parse() {
    let business: ErrorResponse = serde_json::from_str(
        r#"{"statusCode":400,"message":"Payment cannot be cancelled in current status: cancelled","error_code":"PAYMENT_ALREADY_PROCESSED","timestamp":"2025-01-28T10:00:00.000Z"}"#,
    )
    .expect("business error");
    assert_eq!(
        business.error_code,
        Some(ErrorCode::PaymentAlreadyProcessed)
    );
    let validation: ErrorResponse = serde_json::from_str(
        r#"{"statusCode":400,"message":["amount must not be less than 1","merchant_reference must be a string"],"error":"Bad Request"}"#,
    )
    .expect("validation error");
    assert!(
        matches!(validation.message, luxcore_api::types::ErrorMessage::Array(ref m) if m.len() == 2)
    );
    assert_eq!(validation.error.as_deref(), Some("Bad Request"));
}
