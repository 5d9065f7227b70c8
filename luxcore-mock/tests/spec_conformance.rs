//! Where the mock and openapi.json were made to agree (found by schemathesis, `.ci/schemathesis`):
//! the body is validated before the duplicate check, `null` is not "absent", the spec's
//! `minLength: 1` means only "" is empty, and what the spec allows the mock accepts.

mod common;

use common::{deposit_body, start_default};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_duplicate_reference_does_not_bypass_validation() {
    let h = start_default().await;
    h.deposit(1000, "dup_ref").await;
    let mut bad_type = deposit_body(1000, "dup_ref");
    bad_type["ipay"] = json!({"payment_method": 5});
    let mut null_field = deposit_body(1000, "dup_ref");
    null_field["ipay"] = json!({"payment_method": null});
    let mut unsupported = deposit_body(1000, "dup_ref");
    unsupported["currency"] = json!("XYZ");
    for body in [bad_type, null_field, unsupported] {
        let r = h.create(body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {:#}", r.body);
        assert_ne!(r.code(), "MERCHANT_REFERENCE_DUPLICATE", "{body}");
    }
    // A well-formed retry still gets the original payment.
    let again = h.create(deposit_body(1000, "dup_ref")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.code(), "MERCHANT_REFERENCE_DUPLICATE");
    assert_eq!(
        h.server.payments_by_reference("dup_ref").await.ok(),
        Some(1)
    );
}

#[tokio::test]
async fn explicit_null_is_a_type_error_and_whitespace_is_not_empty() {
    let h = start_default().await;
    let r = h
        .post(
            "/api/v1/payments/methods/validate",
            json!({"method": "spei", "currency": "MXN", "amount": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:#}", r.body);
    assert_eq!(r.body["message"][0], "amount must be an integer number");

    let ticket = h.post("/api/v1/tickets", json!({"title": " "})).await;
    assert_eq!(ticket.status, StatusCode::CREATED, "{:#}", ticket.body);
    let empty = h.post("/api/v1/tickets", json!({"title": ""})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(empty.body["message"][0], "title should not be empty");
}

#[tokio::test]
async fn validate_applies_the_creation_rules() {
    let h = start_default().await;
    for (body, status, code) in [
        (
            json!({"method": "spei", "currency": "MXN", "amount": 0}),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            json!({"method": "spei", "currency": "AAA"}),
            StatusCode::BAD_REQUEST,
            "UNSUPPORTED_CURRENCY",
        ),
        (
            json!({"method": "teleport", "currency": "MXN"}),
            StatusCode::BAD_REQUEST,
            "INVALID_METHOD",
        ),
    ] {
        let r = h
            .post("/api/v1/payments/methods/validate", body.clone())
            .await;
        assert_eq!(r.status, status, "{body}: {:#}", r.body);
        assert_eq!(r.code(), code, "{body}");
    }
    // Known values that do not combine: answered, not refused.
    let r = h
        .post(
            "/api/v1/payments/methods/validate",
            json!({"method": "spei", "currency": "ARS"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"]["valid"], false);
}

#[tokio::test]
async fn what_the_spec_allows_is_accepted() {
    let h = start_default().await;
    // Any int64 merchant id is well formed; only merchant 123 is accessible.
    for id in ["-9223372036854775808", "0", "124"] {
        let r = h.get(&format!("/api/v1/merchants/{id}/balance")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{id}: {:#}", r.body);
        assert_eq!(r.code(), "INSUFFICIENT_SCOPE");
    }
    let r = h.get("/api/v1/merchants/abc/balance").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // `sort_by` is a free string in the spec: unknown values sort by the default.
    for query in ["sort_by=", "sort_by=title"] {
        let r = h.get(&format!("/api/v1/tickets?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {:#}", r.body);
    }

    // `format: uri`: any absolute URI.
    let r = h
        .post(
            "/api/v1/webhooks",
            json!({"url": "ftp://example.com/x", "events": ["payment.created"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
}

#[tokio::test]
async fn webhook_update_needs_a_body_and_comments_refuse_unknown_attachments_with_400() {
    let h = start_default().await;
    let created = h
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://example.com/hook", "events": ["payment.created"]}),
        )
        .await;
    let id = created.body["data"]["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/webhooks/{id}");
    let missing = h.call(Method::PUT, &path, None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let empty = h.put(&path, json!({})).await;
    assert_eq!(empty.status, StatusCode::OK, "{:#}", empty.body);
    let no_events = h.put(&path, json!({"events": []})).await;
    assert_eq!(no_events.status, StatusCode::BAD_REQUEST);

    let ticket = h.post("/api/v1/tickets", json!({"title": "t"})).await;
    let ticket_id = ticket.body["data"]["ticket_id"].as_str().expect("id");
    let r = h
        .post(
            &format!("/api/v1/tickets/{ticket_id}/comments"),
            json!({"content": "x", "attachment_ids": ["att_nope"]}),
        )
        .await;
    // The ticket exists, so not 404: the attachment named in the body is what is missing.
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "VALIDATION_ERROR");
}
