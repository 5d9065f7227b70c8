//! Client behaviour against tiny local servers (no mock needed): headers, signing,
//! error mapping of odd responses, retries, timeouts, clock skew, rate limiting, uploads
//! and secrets in tracing output.

mod client_support;

use luxcore_ext::Money;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use client_support::*;
use luxcore_ext::error::Error;
use luxcore_ext::payments::{Created, PaymentRequest};
use luxcore_ext::rate_limit::{Quota, RateBucket, RateLimits};
use luxcore_ext::retry::RetryPolicy;
use luxcore_ext::{Currency, ErrorCode, PaymentMethod};
use secrecy::SecretString;

const BALANCE: &str = r#"{"success":true,"merchant_id":123,"currency":"ARS","balance_type":"main",
    "balance_amount":"100","available_amount":"100","frozen_amount":"0"}"#;
const PAYMENT: &str = r#"{"amount":150000,"currency":"ARS","status":"processing",
    "transaction_id":"pay_1234567890_abcdefgh","id":"pay_1234567890_abcdefgh"}"#;

fn json(status: StatusCode, body: &'static str) -> axum::response::Response {
    (status, [("content-type", "application/json")], body).into_response()
}

/// Counts hits and keeps the request headers.
#[derive(Clone, Default)]
struct Seen {
    hits: Arc<AtomicUsize>,
    headers: Arc<Mutex<Vec<HeaderMap>>>,
}

impl Seen {
    fn record(&self, headers: &HeaderMap) -> usize {
        self.headers.lock().unwrap().push(headers.clone());
        self.hits.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn last(&self) -> HeaderMap {
        self.headers.lock().unwrap().last().cloned().unwrap()
    }
}

fn deposit(reference: &str) -> luxcore_ext::types::PaymentCreateRequest {
    PaymentRequest::deposit(
        Money::new(150_000, Currency::ARS),
        PaymentMethod::BankTransfer,
        reference,
    )
    .build()
    .unwrap()
}

#[tokio::test]
async fn v1_requests_carry_key_and_user_agent_but_no_api_version() {
    let seen = Seen::default();
    let s = seen.clone();
    let base = serve(Router::new().route(
        "/api/v1/balance",
        get(move |headers: HeaderMap| async move {
            s.record(&headers);
            json(StatusCode::OK, BALANCE)
        }),
    ))
    .await;
    let client = client(&base);
    let balance = client.balance().get(Currency::ARS, None).await.unwrap();
    assert_eq!(balance.available_amount, "100");
    let headers = seen.last();
    assert_eq!(headers["x-api-key"], KEY);
    assert!(
        headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("luxcore-rs/")
    );
    assert!(headers.get("api-version").is_none());
    assert!(headers.get("x-signature").is_none());
}

#[tokio::test]
async fn v2_requests_are_signed_over_what_was_sent() {
    async fn verify(
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::response::Response {
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let secret = SecretString::from(SECRET);
        let now = chrono::Utc::now().timestamp();
        match luxcore_ext::auth::request::verify_v1(
            &secret,
            &headers,
            method.as_str(),
            path,
            &body,
            now,
        ) {
            Ok(_) if headers.get("x-api-key").is_none() => {
                if method == Method::POST {
                    json(StatusCode::CREATED, PAYMENT)
                } else {
                    json(StatusCode::OK, BALANCE)
                }
            }
            _ => json(
                StatusCode::UNAUTHORIZED,
                r#"{"statusCode":401,"message":"bad signature","error_code":"INVALID_SIGNATURE"}"#,
            ),
        }
    }
    let base = serve(
        Router::new()
            .route("/api/v2/balance", get(verify))
            .route("/api/v2/payments", post(verify)),
    )
    .await;
    let client = client_v2(&base);
    client.balance().get(Currency::ARS, None).await.unwrap();
    let created = client.payments().create(deposit("v2_ref")).await.unwrap();
    assert!(created.is_new());
    let (status, body) = client
        .signed_request(
            reqwest::Method::GET,
            "/api/v2/balance?currency=ARS&x=a%20b",
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["currency"], "ARS");
}

#[tokio::test]
async fn created_new_on_201_existing_on_200() {
    let seen = Seen::default();
    let s = seen.clone();
    let base = serve(Router::new().route(
        "/api/v1/payments",
        post(move |headers: HeaderMap| async move {
            if s.record(&headers) == 1 {
                json(StatusCode::CREATED, PAYMENT)
            } else {
                json(StatusCode::OK, PAYMENT)
            }
        }),
    ))
    .await;
    let client = client(&base);
    let first = client.payments().create(deposit("ref")).await.unwrap();
    assert!(matches!(first, Created::New(_)));
    let second = client.payments().create(deposit("ref")).await.unwrap();
    assert!(matches!(second, Created::Existing(_)));
}

#[tokio::test]
async fn html_502_is_a_decode_error_with_status() {
    let seen = Seen::default();
    let s = seen.clone();
    let html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let base = serve(Router::new().route(
        "/api/v1/payments/{id}",
        get(move |headers: HeaderMap| async move {
            s.record(&headers);
            (
                StatusCode::BAD_GATEWAY,
                [("content-type", "text/html")],
                html,
            )
        }),
    ))
    .await;
    let no_retry = builder(&base)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = no_retry.payments().get("pay_1").await.unwrap_err();
    let Error::Decode {
        status,
        body_excerpt,
        ..
    } = &err
    else {
        panic!("expected Decode, got {err:?}")
    };
    assert_eq!(*status, Some(502));
    assert!(body_excerpt.contains("502 Bad Gateway"));
    assert!(err.is_retryable());
    assert_eq!(seen.hits(), 1);

    // With retries a GET is attempted max_attempts times.
    let err = client(&base).payments().get("pay_1").await.unwrap_err();
    assert!(matches!(
        err,
        Error::Decode {
            status: Some(502),
            ..
        }
    ));
    assert_eq!(seen.hits(), 1 + 4);
}

#[tokio::test]
async fn retry_after_is_honoured_then_success() {
    let seen = Seen::default();
    let s = seen.clone();
    let base = serve(Router::new().route(
        "/api/v1/balance",
        get(move |headers: HeaderMap| async move {
            if s.record(&headers) == 1 {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("content-type", "application/json"), ("retry-after", "1")],
                    r#"{"statusCode":429,"message":"Too many requests","error_code":"RATE_LIMIT_EXCEEDED"}"#,
                )
                    .into_response()
            } else {
                json(StatusCode::OK, BALANCE)
            }
        }),
    ))
    .await;
    let (_guard, captured) = capture_tracing();
    let client = builder(&base)
        .retry_policy(RetryPolicy::default())
        .build()
        .unwrap();
    client.balance().get(Currency::ARS, None).await.unwrap();
    assert_eq!(seen.hits(), 2);
    let text = captured.text();
    assert_eq!(retries_in(&text), 1, "{text}");
    assert!(text.contains("delay_ms=1000"), "{text}");
}

#[tokio::test]
async fn rate_limited_surfaces_without_retries() {
    let base = serve(Router::new().route(
        "/api/v1/balance",
        get(|| async {
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("content-type", "application/json"), ("retry-after", "7")],
                r#"{"statusCode":429,"message":"Too many requests","error_code":"RATE_LIMIT_EXCEEDED"}"#,
            )
        }),
    ))
    .await;
    let client = builder(&base)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.balance().get(Currency::ARS, None).await.unwrap_err();
    let Error::RateLimited {
        retry_after,
        request_id,
        ..
    } = &err
    else {
        panic!("expected RateLimited, got {err:?}");
    };
    assert_eq!(
        (*retry_after, request_id.as_deref()),
        (Some(Duration::from_secs(7)), None)
    );
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(err.code(), Some(&ErrorCode::RateLimitExceeded));
}

#[tokio::test]
async fn connection_refused_is_transport_and_retried_even_for_posts() {
    let base = refused_url().await;
    let (_guard, captured) = capture_tracing();
    let client = client(&base);
    let err = client.payments().get("pay_1").await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());
    // A POST that never reached the server is retried too.
    let err = client.payments().cancel("pay_1").await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(retries_in(&captured.text()), 3 + 3);
}

/// Waits (bounded) until `seen` has `n` hits, then a little longer: no more may follow.
async fn settles_at(seen: &Seen, n: usize, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while seen.hits() < n && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.hits(), n, "{what}");
}

// The server runs on other worker threads than the client's call, and blocks far longer
// than the per-attempt timeout, which is generous enough for a loaded machine to reach
// the handler: a slow machine cannot turn a sent request into an unsent one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_map_to_timeout_and_posts_are_not_retried_after_send() {
    let seen = Seen::default();
    let (s1, s2) = (seen.clone(), seen.clone());
    let slow = |s: Seen| {
        move |headers: HeaderMap| async move {
            s.record(&headers);
            tokio::time::sleep(Duration::from_secs(60)).await;
            json(StatusCode::OK, PAYMENT)
        }
    };
    let base = serve(
        Router::new()
            .route("/api/v1/payments/{id}/cancel", post(slow(s1)))
            .route("/api/v1/payments/{id}", get(slow(s2))),
    )
    .await;
    let client = builder(&base)
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    // The call runs on this thread (block_on), so the capture sees its retries.
    let (_guard, captured) = capture_tracing();
    let started = std::time::Instant::now();
    let err = client.payments().cancel("pay_1").await.unwrap_err();
    assert_eq!(err, Error::Timeout);
    assert_eq!(
        retries_in(&captured.text()),
        0,
        "a timed-out POST is not retried"
    );
    settles_at(&seen, 1, "a timed-out POST must not be sent again").await;
    let err = client.payments().get("pay_1").await.unwrap_err();
    assert_eq!(err, Error::Timeout);
    assert_eq!(
        retries_in(&captured.text()),
        3,
        "a timed-out GET is retried"
    );
    settles_at(&seen, 1 + 4, "a timed-out GET is sent four times").await;
    // Bounded by the timeouts, not by the server's minute.
    assert!(started.elapsed() < Duration::from_secs(40));
}

#[tokio::test]
async fn server_errors_on_posts_are_not_retried_not_even_503() {
    let seen = Seen::default();
    let s = seen.clone();
    let base = serve(Router::new().route(
        "/api/v1/tickets/{id}/close",
        post(move |headers: HeaderMap| async move {
            match s.record(&headers) {
                1 => json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    r#"{"statusCode":503,"message":"down","error_code":"SERVICE_UNAVAILABLE"}"#,
                ),
                _ => json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    r#"{"statusCode":500,"message":"boom","error_code":"INTERNAL_ERROR"}"#,
                ),
            }
        }),
    ))
    .await;
    let err = client(&base).tickets().close("t1").await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::ServiceUnavailable));
    assert_eq!(err.status(), Some(503));
    // Once sent, a POST other than payment creation is not retried, not even on 503.
    assert_eq!(seen.hits(), 1);
}

#[tokio::test]
async fn clock_skew_is_corrected_from_the_date_header() {
    async fn create(
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::response::Response {
        let secret = SecretString::from(SECRET);
        let now = chrono::Utc::now().timestamp();
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        match luxcore_ext::auth::request::verify_v1(
            &secret,
            &headers,
            method.as_str(),
            path,
            &body,
            now,
        ) {
            Ok(_) => json(StatusCode::CREATED, PAYMENT),
            Err(luxcore_ext::auth::request::SignatureError::TimestampOutOfWindow { .. }) => json(
                StatusCode::UNAUTHORIZED,
                r#"{"statusCode":401,"message":"stale","error_code":"TIMESTAMP_OUT_OF_WINDOW"}"#,
            ),
            Err(_) => json(
                StatusCode::UNAUTHORIZED,
                r#"{"statusCode":401,"message":"bad","error_code":"INVALID_SIGNATURE"}"#,
            ),
        }
    }
    let base = serve(Router::new().route("/api/v2/payments", post(create))).await;
    let client = builder_v2(&base)
        .retry_policy(RetryPolicy::none())
        .clock_skew_for_tests(-1000)
        .build()
        .unwrap();
    assert_eq!(client.clock_offset_secs(), -1000);
    let created = client.payments().create(deposit("skew")).await.unwrap();
    assert!(created.is_new());
    assert!(
        client.clock_offset_secs().abs() <= 2,
        "{}",
        client.clock_offset_secs()
    );
}

#[tokio::test]
async fn missing_credentials_for_a_route_are_config_errors() {
    let base = serve(Router::new()).await;
    let key_only = luxcore_ext::client::LuxCore::builder()
        .base_url(&base)
        .api_key(KEY)
        .build()
        .unwrap();
    let err = key_only
        .signed_request(reqwest::Method::GET, "/api/v2/balance/all", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("HMAC")),
        "{err:?}"
    );
    let hmac_only = luxcore_ext::client::LuxCore::builder()
        .base_url(&base)
        .hmac(MERCHANT, SECRET)
        .build()
        .unwrap();
    let err = hmac_only.tickets().get("t1").await.unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("API key")),
        "{err:?}"
    );
}

#[tokio::test]
async fn client_side_rate_limit_waits() {
    let base = serve(Router::new().route(
        "/api/v1/balance",
        get(|| async { json(StatusCode::OK, BALANCE) }),
    ))
    .await;
    // 4 per hour: half of it (2) is the immediate burst, the rest is spread over the hour.
    let quota = Quota::new(4, Duration::from_secs(3600)).unwrap();
    let client = builder(&base)
        .rate_limits(RateLimits::unlimited().with_quota(RateBucket::Standard, quota))
        .build()
        .unwrap();
    for _ in 0..2 {
        client.balance().get(Currency::ARS, None).await.unwrap();
    }
    let third = tokio::time::timeout(
        Duration::from_millis(300),
        client.balance().get(Currency::ARS, None),
    )
    .await;
    assert!(third.is_err(), "the third call must wait for the quota");
}

#[tokio::test]
async fn upload_attachment_puts_bytes_without_credentials_to_a_foreign_url() {
    let uploads = Seen::default();
    let body_seen: Arc<Mutex<Vec<u8>>> = Arc::default();
    let (u, b) = (uploads.clone(), body_seen.clone());
    let storage = serve(Router::new().route(
        "/bucket/{key}",
        put(move |headers: HeaderMap, body: Bytes| async move {
            u.record(&headers);
            *b.lock().unwrap() = body.to_vec();
            StatusCode::OK
        }),
    ))
    .await;
    let upload_json: &'static str = Box::leak(
        format!(
            r#"{{"success":true,"data":{{"attachment_id":"att_1","upload_url":"{storage}/bucket/att_1","method":"PUT"}}}}"#
        )
        .into_boxed_str(),
    );
    let base = serve(Router::new().route(
        "/api/v1/tickets/{id}/upload-url",
        post(move || async move { json(StatusCode::OK, upload_json) }),
    ))
    .await;
    let upload = client(&base)
        .tickets()
        .upload_attachment("t1", "log.txt", "text/plain", Bytes::from_static(b"hello"))
        .await
        .unwrap();
    assert_eq!(upload.attachment_id, "att_1");
    assert_eq!(uploads.hits(), 1);
    let headers = uploads.last();
    assert!(headers.get("x-api-key").is_none());
    assert_eq!(headers["content-type"], "text/plain");
    assert_eq!(body_seen.lock().unwrap().as_slice(), b"hello");
}

#[tokio::test]
async fn secrets_never_reach_tracing_output() {
    let seen = Seen::default();
    let (s1, s2) = (seen.clone(), seen.clone());
    let base = serve(
        Router::new()
            .route(
                "/api/v1/balance",
                get(move |headers: HeaderMap| async move {
                    s1.record(&headers);
                    json(StatusCode::OK, BALANCE)
                }),
            )
            .route(
                "/api/v2/balance",
                get(move |headers: HeaderMap| async move {
                    s2.record(&headers);
                    json(
                        StatusCode::UNAUTHORIZED,
                        r#"{"statusCode":401,"message":"nope","error_code":"INVALID_SIGNATURE"}"#,
                    )
                }),
            ),
    )
    .await;
    let (_guard, captured) = capture_tracing();
    let client = client(&base);
    client.balance().get(Currency::ARS, None).await.unwrap();
    let v2 = client_v2(&base);
    let err = v2.balance().get(Currency::ARS, None).await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InvalidSignature));
    tracing::info!(client = ?client, v2 = ?v2, error = %err, "after calls");
    let signature = seen.last()["x-signature"].to_str().unwrap().to_owned();
    let text = captured.text();
    assert!(text.contains("luxcore.request"), "{text}");
    assert!(text.contains(r#"url.template="/api/v2/balance""#), "{text}");
    assert!(text.contains("http.response.status_code=401"), "{text}");
    for secret in [KEY, SECRET, signature.as_str()] {
        assert!(!text.contains(secret), "{secret} leaked into: {text}");
    }
}

#[test]
fn service_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let client = client("http://127.0.0.1:9");
    assert_send(&client.payments().get("x"));
    assert_send(&client.payments().create(deposit("r")));
    assert_send(&client.tickets().download_attachment("t", "a"));
    assert_send(&client.signed_request(reqwest::Method::GET, "/api/v2/balance", None));
    fn assert_sync_send<T: Send + Sync + Clone>() {}
    assert_sync_send::<luxcore_ext::client::LuxCore>();
    assert_sync_send::<Error>();
}

#[tokio::test]
async fn response_metadata_and_per_call_options() {
    let seen = Seen::default();
    let s = seen.clone();
    let base = serve(Router::new().route(
        "/api/v1/payments/{id}",
        get(move |headers: HeaderMap| async move {
            let hit = s.record(&headers);
            if hit % 2 == 1 {
                return json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    r#"{"statusCode":503,"message":"busy","error_code":"SERVICE_UNAVAILABLE"}"#,
                );
            }
            (
                StatusCode::OK,
                [
                    ("content-type", "application/json"),
                    ("x-request-id", "req_meta_1"),
                    ("x-ratelimit-limit", "100"),
                    ("x-ratelimit-remaining", "97"),
                    ("x-ratelimit-reset", "1700000060"),
                ],
                format!(r#"{{"success":true,"data":{PAYMENT}}}"#),
            )
                .into_response()
        }),
    ))
    .await;
    let client = client(&base);

    // Any call: `.with_meta()` gives the value with status, request id, attempts and
    // X-RateLimit-* values (here after one retried 503).
    let answer = client.payments().get("pay_1").with_meta().await.unwrap();
    assert_eq!(answer.id.as_deref(), Some("pay_1234567890_abcdefgh"));
    let meta = answer.meta();
    assert_eq!(meta.status, 200);
    assert_eq!(meta.request_id.as_deref(), Some("req_meta_1"));
    assert_eq!(meta.attempts, 2);
    assert_eq!(
        (
            meta.rate_limit.limit,
            meta.rate_limit.remaining,
            meta.rate_limit.reset
        ),
        (Some(100), Some(97), Some(1_700_000_060))
    );
    assert_eq!(seen.hits(), 2);

    // Per-call retry policy: this call alone does not retry.
    let err = client
        .payments()
        .get("pay_1")
        .retry(RetryPolicy::none())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(seen.hits(), 3);
    // The next call (answered 200 at once) reports one attempt.
    let again = client.payments().get("pay_1").with_meta().await.unwrap();
    assert_eq!(again.meta().attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_timeout() {
    let base = serve(Router::new().route(
        "/api/v1/payments/{id}",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            json(StatusCode::OK, r#"{"success":true,"data":{}}"#)
        }),
    ))
    .await;
    // The client's own timeout would let the server's minute run out.
    let client = builder(&base)
        .retry_policy(RetryPolicy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client
        .payments()
        .get("pay_1")
        .with_options(
            luxcore_ext::CallOptions::new()
                .timeout(Duration::from_millis(200))
                .retry(RetryPolicy::none()),
        )
        .await
        .unwrap_err();
    assert_eq!(err, Error::Timeout);
    // The call's 200 ms, not the client's 120 s nor the server's 60 s.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
