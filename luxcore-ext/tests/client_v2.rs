//! API v2 (HMAC) against luxcore-mock: good signatures accepted; tampered bodies, stale
//! timestamps, replayed nonces, bad nonces, missing headers and API keys rejected; the
//! client's clock-skew correction.

mod client_support;

use client_support::*;
use luxcore_ext::auth::request::{HmacCredentials, generate_nonce};
use luxcore_ext::{Currency, ErrorCode, PaymentMethod};
use serde_json::{Value, json};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Sends `body` to `path` with exactly the given headers, bypassing the SDK's hook.
async fn raw_post(base: &str, path: &str, body: &[u8], headers: &[(&str, String)]) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn payment_body(reference: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "amount": 150000, "currency": "ARS", "method": "bank_transfer",
        "type": "deposit", "merchant_reference": reference
    }))
    .unwrap()
}

fn signed(body: &[u8], timestamp: i64, nonce: &str) -> Vec<(&'static str, String)> {
    HmacCredentials::new(MERCHANT, SECRET)
        .sign("POST", "/api/v2/payments", body, timestamp, nonce)
        .to_pairs()
        .to_vec()
}

#[tokio::test]
async fn good_signatures_are_accepted() {
    let (server, _) = mock().await;
    let client = client_v2(&server.base_url());
    server.set_balance("ARS", 1_500_000, 300_000).await.unwrap();
    let balance = client.balance().get(Currency::ARS, None).await.unwrap();
    assert_eq!(balance.available_amount, "1500000");
    assert_eq!(balance.frozen_amount, "300000");
    let all = client.balance().all().await.unwrap();
    assert!(!all.balances.is_empty());
    let (status, body) = client
        .signed_request(reqwest::Method::GET, "/api/v2/balance?currency=ARS", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["available_amount"], "1500000");
    let reference = unique_ref("v2sr");
    let body: Value = serde_json::from_slice(&payment_body(&reference)).unwrap();
    let (status, created) = client
        .signed_request(reqwest::Method::POST, "/api/v2/payments", Some(&body))
        .await
        .unwrap();
    assert_eq!(status, 201);
    assert_eq!(created["merchant_reference"], reference.as_str());
    // A hand-signed request is accepted too (the signing template matches the mock).
    let body = payment_body(&unique_ref("raw"));
    let (status, _) = raw_post(
        &server.base_url(),
        "/api/v2/payments",
        &body,
        &signed(&body, now(), &generate_nonce()),
    )
    .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn tampered_body_is_rejected() {
    let (server, _) = mock().await;
    let reference = unique_ref("tamper");
    let signed_body = payment_body(&reference);
    let sent_body = String::from_utf8(signed_body.clone())
        .unwrap()
        .replace("150000", "150001");
    let headers = signed(&signed_body, now(), &generate_nonce());
    let (status, body) = raw_post(
        &server.base_url(),
        "/api/v2/payments",
        sent_body.as_bytes(),
        &headers,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error_code"], "INVALID_SIGNATURE");
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 0);
}

#[tokio::test]
async fn stale_timestamp_replayed_nonce_bad_nonce_missing_headers() {
    let (server, _) = mock().await;
    let base = server.base_url();
    let body = payment_body(&unique_ref("stale"));
    let (status, answer) = raw_post(
        &base,
        "/api/v2/payments",
        &body,
        &signed(&body, now() - 1000, &generate_nonce()),
    )
    .await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (401, Some("TIMESTAMP_OUT_OF_WINDOW"))
    );

    let body = payment_body(&unique_ref("replay"));
    let headers = signed(&body, now(), &generate_nonce());
    let (status, _) = raw_post(&base, "/api/v2/payments", &body, &headers).await;
    assert_eq!(status, 201);
    let (status, answer) = raw_post(&base, "/api/v2/payments", &body, &headers).await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (401, Some("NONCE_REUSED"))
    );

    let (status, answer) = raw_post(
        &base,
        "/api/v2/payments",
        &body,
        &signed(&body, now(), "short"),
    )
    .await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (400, Some("INVALID_NONCE"))
    );

    let (status, answer) = raw_post(&base, "/api/v2/payments", &body, &[]).await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (401, Some("INVALID_API_KEY"))
    );

    // An API key is not accepted on v2.
    let (status, answer) = raw_post(
        &base,
        "/api/v2/payments",
        &body,
        &[("x-api-key", KEY.to_owned())],
    )
    .await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (401, Some("INVALID_API_KEY"))
    );
}

#[tokio::test]
async fn wrong_secret_maps_to_invalid_signature() {
    let (server, _) = mock().await;
    let client = luxcore_ext::client::LuxCore::builder()
        .base_url(server.base_url())
        .hmac(MERCHANT, "not_the_secret")
        .build()
        .unwrap();
    let err = client.balance().get(Currency::ARS, None).await.unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::InvalidSignature);
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn clock_skew_is_corrected_once() {
    let (server, _) = mock().await;
    let client = builder_v2(&server.base_url())
        .retry_policy(luxcore_ext::retry::RetryPolicy::none())
        .clock_skew_for_tests(-1000)
        .build()
        .unwrap();
    let reference = unique_ref("skew");
    let created = client
        .payments()
        .create(deposit(
            150_000,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            &reference,
        ))
        .await
        .unwrap();
    assert!(created.is_new());
    assert!(client.clock_offset_secs().abs() <= 2);
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 1);
    // Later calls use the corrected clock straight away.
    client.balance().get(Currency::ARS, None).await.unwrap();
}
