//! `X-Request-Id` on every answer (a fresh `req_` + hex id per request), repeated in the
//! `request_id` of error bodies. The header is assumed (not in the LuxCore docs); its name is
//! the one the SDK reads.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{Reply, deposit_body, start, start_default};
use luxcore_mock::{Fault, FaultConfig, MockConfig, RateLimitConfig};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The `X-Request-Id` of a reply, checked for its shape: `req_` + 24 lowercase hex digits.
fn request_id(reply: &Reply) -> String {
    let id = reply
        .headers
        .get("x-request-id")
        .unwrap_or_else(|| panic!("no X-Request-Id on a {} answer", reply.status))
        .to_str()
        .expect("ascii")
        .to_owned();
    let hex = id.strip_prefix("req_").unwrap_or_else(|| panic!("{id}"));
    assert_eq!(hex.len(), 24, "{id}");
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{id}"
    );
    id
}

/// An error reply: the header, and the same id in the body's `request_id`.
fn error_request_id(reply: &Reply, status: StatusCode) -> String {
    assert_eq!(reply.status, status, "{:#}", reply.body);
    let id = request_id(reply);
    assert_eq!(reply.body["request_id"], json!(id), "{:#}", reply.body);
    id
}

#[tokio::test]
async fn success_carries_the_header_and_no_error_body_field() {
    let h = start_default().await;
    let r = h.create(deposit_body(1000, "req_id_ok")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    request_id(&r);
    assert!(r.body.get("request_id").is_none(), "{:#}", r.body);
    let r = h.get("/api/v1/payments").await;
    assert_eq!(r.status, StatusCode::OK);
    request_id(&r);
}

#[tokio::test]
async fn unauthorized_carries_the_id_in_header_and_body() {
    let h = start_default().await;
    // No key, an unknown key.
    for key in [None, Some("qp_test_sk_nope")] {
        let r = h.call_as(key, Method::GET, "/api/v1/payments", None).await;
        error_request_id(&r, StatusCode::UNAUTHORIZED);
    }
    // v2 without a signature.
    let r = h
        .call_as(None, Method::GET, "/api/v2/balance?currency=ARS", None)
        .await;
    error_request_id(&r, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn not_found_carries_the_id_in_header_and_body() {
    let h = start_default().await;
    // An unknown route, an unknown method on a known route, and an unknown payment.
    error_request_id(&h.get("/api/v1/nowhere").await, StatusCode::NOT_FOUND);
    let r = h.call(Method::PATCH, "/api/v1/payments", None).await;
    error_request_id(&r, StatusCode::NOT_FOUND);
    let r = h.get("/api/v1/payments/pay_0000000000_missing").await;
    assert_eq!(r.code(), "NOT_FOUND");
    error_request_id(&r, StatusCode::NOT_FOUND);
    error_request_id(&h.get("/_mock/nowhere").await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn validation_errors_carry_the_id_in_header_and_body() {
    let h = start_default().await;
    // Body validation (NestJS shape) and query validation.
    let r = h.create(json!({"amount": "ten"})).await;
    assert!(r.body["message"].is_array(), "{:#}", r.body);
    error_request_id(&r, StatusCode::BAD_REQUEST);
    let r = h.get("/api/v1/payments?limit=0").await;
    assert_eq!(r.code(), "VALIDATION_ERROR");
    error_request_id(&r, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rate_limits_faults_and_controls_carry_the_header() {
    let limited = start(MockConfig::default().with_rate_limits(RateLimitConfig {
        standard_limit: 1,
        standard_window: Duration::from_secs(60),
        ..RateLimitConfig::default()
    }))
    .await;
    assert_eq!(limited.get("/api/v1/payments").await.status, StatusCode::OK);
    error_request_id(
        &limited.get("/api/v1/payments").await,
        StatusCode::TOO_MANY_REQUESTS,
    );

    let faulty = start(
        MockConfig::default()
            .without_rate_limits()
            .with_faults(FaultConfig::scheduled([Fault::Status(503)])),
    )
    .await;
    error_request_id(
        &faulty.get("/api/v1/payments").await,
        StatusCode::SERVICE_UNAVAILABLE,
    );

    let h = start_default().await;
    let r = h.get("/_mock/health").await;
    assert_eq!(r.status, StatusCode::OK);
    request_id(&r);
    let r = h
        .put(
            "/_mock/balance",
            json!({"currency": "ARS", "available": 1000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    request_id(&r);
    let r = h
        .post_empty("/_mock/payments/pay_0000000000_missing/complete")
        .await;
    error_request_id(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_request_gets_a_fresh_id() {
    let h = start_default().await;
    let mut seen = HashSet::new();
    for _ in 0..20 {
        assert!(seen.insert(request_id(&h.get("/api/v1/payments").await)));
        let r = h.get("/api/v1/nowhere").await;
        assert!(seen.insert(error_request_id(&r, StatusCode::NOT_FOUND)));
    }
    assert_eq!(seen.len(), 40);
}
