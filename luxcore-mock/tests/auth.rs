//! API keys and scopes (v1), HMAC signatures and nonces (v2).

mod common;

use common::{deposit_body, start, start_default, unix_now};
use luxcore_auth::HmacCredentials;
use luxcore_mock::{MockConfig, READONLY_API_KEY};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn missing_and_unknown_keys_are_401() {
    let h = start_default().await;
    let missing = h.call_as(None, Method::GET, "/api/v1/payments", None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.code(), "INVALID_API_KEY");
    assert_eq!(missing.body["statusCode"], 401);
    assert!(missing.body["timestamp"].is_string());
    let unknown = h
        .call_as(
            Some("qp_test_sk_nope"),
            Method::GET,
            "/api/v1/payments",
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.code(), "INVALID_API_KEY");
    // Nothing was created by an unauthenticated create.
    let create = h
        .call_as(
            None,
            Method::POST,
            "/api/v1/payments",
            Some(deposit_body(1000, "x")),
        )
        .await;
    assert_eq!(create.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.server.payment_count().await.expect("count"), 0);
}

#[tokio::test]
async fn readonly_key_scopes() {
    let h = start_default().await;
    let ro = Some(READONLY_API_KEY);
    for path in [
        "/api/v1/payments",
        "/api/v1/payments/methods",
        "/api/v1/balance",
        "/api/v1/balance/all",
        "/api/v1/webhooks",
        "/api/v1/tickets",
    ] {
        let r = h.call_as(ro, Method::GET, path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:#}", r.body);
    }
    let denied = [
        (
            Method::POST,
            "/api/v1/payments",
            Some(deposit_body(1000, "ro")),
        ),
        (Method::POST, "/api/v1/payments/pay_1/cancel", None),
        (
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/", "events": ["payment.completed"]})),
        ),
        (Method::DELETE, "/api/v1/webhooks/wh_1", None),
        (Method::PUT, "/api/v1/webhooks/wh_1/enable", None),
        (Method::POST, "/api/v1/tickets", Some(json!({"title": "t"}))),
        (Method::POST, "/api/v1/tickets/t/close", None),
    ];
    for (method, path, body) in denied {
        let r = h.call_as(ro, method.clone(), path, body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(r.code(), "INSUFFICIENT_SCOPE");
    }
}

#[tokio::test]
async fn custom_keys_and_aliases() {
    let h = start(
        MockConfig::default()
            .without_rate_limits()
            .with_api_key("qp_test_sk_view", &["payments.view", "balance.view"])
            .with_api_key("qp_test_sk_methods", &["payments.methods"]),
    )
    .await;
    let view = Some("qp_test_sk_view");
    assert_eq!(
        h.call_as(view, Method::GET, "/api/v1/payments", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        h.call_as(view, Method::GET, "/api/v1/balance", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        h.call_as(view, Method::GET, "/api/v1/tickets", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let methods = Some("qp_test_sk_methods");
    assert_eq!(
        h.call_as(methods, Method::GET, "/api/v1/payments/methods", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        h.call_as(methods, Method::GET, "/api/v1/payments", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn v2_accepts_good_signatures_only() {
    let h = start_default().await;
    let body = serde_json::to_vec(&deposit_body(150_000, "v2_sig")).expect("json");
    let ok = h.v2(Method::POST, "/api/v2/payments", &body).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:#}", ok.body);

    // Tampered body: signed one body, sent another.
    let creds = HmacCredentials::new(123, "hmac_test_secret_local");
    let signed = creds.sign_now("POST", "/api/v2/payments", &body);
    let mut tampered = deposit_body(150_001, "v2_tampered");
    tampered["amount"] = json!(999);
    let mut request = h
        .http
        .post(h.url("/api/v2/payments"))
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(&tampered).expect("json"));
    for (name, value) in signed.to_pairs() {
        request = request.header(name, value);
    }
    let r = common::reply(request.send().await.expect("sent")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "INVALID_SIGNATURE");

    // Wrong secret.
    let wrong = HmacCredentials::new(123, "not_the_secret").sign_now("GET", "/api/v2/balance", b"");
    let mut request = h.http.get(h.url("/api/v2/balance"));
    for (name, value) in wrong.to_pairs() {
        request = request.header(name, value);
    }
    let r = common::reply(request.send().await.expect("sent")).await;
    assert_eq!(r.code(), "INVALID_SIGNATURE");

    // Stale and future timestamps.
    // A clear margin beyond the ±300 s window: the clock may tick between reading it and
    // the server checking (the exact boundary is tested with a fixed clock in luxcore-auth).
    for skew in [-330, 330] {
        let r = h
            .v2_with(
                Method::GET,
                "/api/v2/balance",
                b"",
                unix_now() + skew,
                &luxcore_auth::request::generate_nonce(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "skew {skew}");
        assert_eq!(r.code(), "TIMESTAMP_OUT_OF_WINDOW");
    }

    // Replayed nonce.
    let nonce = "replayed-nonce-0001";
    let first = h
        .v2_with(Method::GET, "/api/v2/balance", b"", unix_now(), nonce)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let again = h
        .v2_with(Method::GET, "/api/v2/balance/all", b"", unix_now(), nonce)
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(again.code(), "NONCE_REUSED");

    // Short and long nonces.
    for nonce in ["short".to_owned(), "n".repeat(129)] {
        let r = h
            .v2_with(Method::GET, "/api/v2/balance", b"", unix_now(), &nonce)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "len {}", nonce.len());
        assert_eq!(r.code(), "INVALID_NONCE");
    }

    // The signature covers the query string.
    let signed = creds.sign_now("GET", "/api/v2/balance?currency=ARS", b"");
    let mut request = h.http.get(h.url("/api/v2/balance?currency=MXN"));
    for (name, value) in signed.to_pairs() {
        request = request.header(name, value);
    }
    let r = common::reply(request.send().await.expect("sent")).await;
    assert_eq!(r.code(), "INVALID_SIGNATURE");
}

#[tokio::test]
async fn v2_rejects_api_keys_and_missing_headers() {
    let h = start_default().await;
    let with_key = h.call(Method::GET, "/api/v2/balance", None).await;
    assert_eq!(with_key.status, StatusCode::UNAUTHORIZED);
    assert_eq!(with_key.code(), "INVALID_API_KEY");
    let bare = h.call_as(None, Method::GET, "/api/v2/balance", None).await;
    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bare.code(), "INVALID_API_KEY");

    // An X-API-Key next to a valid signature is still rejected.
    let signed =
        HmacCredentials::new(123, "hmac_test_secret_local").sign_now("GET", "/api/v2/balance", b"");
    let mut request = h
        .http
        .get(h.url("/api/v2/balance"))
        .header("X-API-Key", &h.key);
    for (name, value) in signed.to_pairs() {
        request = request.header(name, value);
    }
    let r = common::reply(request.send().await.expect("sent")).await;
    assert_eq!(r.code(), "INVALID_API_KEY");

    // Unknown merchant.
    let signed =
        HmacCredentials::new(999, "hmac_test_secret_local").sign_now("GET", "/api/v2/balance", b"");
    let mut request = h.http.get(h.url("/api/v2/balance"));
    for (name, value) in signed.to_pairs() {
        request = request.header(name, value);
    }
    let r = common::reply(request.send().await.expect("sent")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "INVALID_API_KEY");
}

#[tokio::test]
async fn extra_hmac_merchants() {
    let h = start(
        MockConfig::default()
            .without_rate_limits()
            .with_hmac_merchant(777, "another_secret"),
    )
    .await;
    let signed =
        HmacCredentials::new(777, "another_secret").sign_now("GET", "/api/v2/balance/all", b"");
    let mut request = h.http.get(h.url("/api/v2/balance/all"));
    for (name, value) in signed.to_pairs() {
        request = request.header(name, value);
    }
    let r = common::reply(request.send().await.expect("sent")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
}
