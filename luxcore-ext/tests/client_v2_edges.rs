//! Edges of the v2 request path against tiny local servers: the clock-skew correction
//! when the server keeps rejecting, sends no `Date`, or is behind the client (with exact
//! request counts), and `signed_request` on POSTs that are not payment creation and under
//! a base URL with a path prefix.

mod client_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use client_support::*;
use luxcore_ext::auth::request::{SignatureError, verify_v1};
use luxcore_ext::error::Error;
use luxcore_ext::retry::RetryPolicy;
use luxcore_ext::{Currency, ErrorCode, PaymentMethod};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PAYMENT: &str = r#"{"amount":150000,"currency":"ARS","status":"processing",
    "transaction_id":"pay_1234567890_abcdefgh","id":"pay_1234567890_abcdefgh"}"#;
const OUT_OF_WINDOW: &str =
    r#"{"statusCode":401,"message":"stale","error_code":"TIMESTAMP_OUT_OF_WINDOW"}"#;
/// No call in this file may take longer: a retry loop fails the test instead of hanging.
const DEADLINE: Duration = Duration::from_secs(20);

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn http_date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn json(status: StatusCode, body: &'static str) -> axum::response::Response {
    (status, [("content-type", "application/json")], body).into_response()
}

/// A 1,500.00 ARS deposit with `reference`.
fn ars_deposit(reference: &str) -> luxcore_ext::types::PaymentCreateRequest {
    deposit(
        150_000,
        Currency::ARS,
        PaymentMethod::BankTransfer,
        reference,
    )
}

/// Runs `call` under [`DEADLINE`].
async fn bounded<T>(call: impl std::future::IntoFuture<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, call.into_future())
        .await
        .expect("the call must end (no endless retry loop)")
}

fn assert_out_of_window(err: &Error) {
    assert_eq!(
        err.code(),
        Some(&ErrorCode::TimestampOutOfWindow),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(401), "{err:?}");
}

// ---------------------------------------------------------------------------------------
// Clock skew
// ---------------------------------------------------------------------------------------

/// Requests a v2 server saw: accepted (signature valid at its clock) and rejected.
#[derive(Clone, Default)]
struct Verdicts {
    accepted: Arc<AtomicUsize>,
    rejected: Arc<AtomicUsize>,
}

impl Verdicts {
    fn counts(&self) -> (usize, usize) {
        (
            self.rejected.load(Ordering::SeqCst),
            self.accepted.load(Ordering::SeqCst),
        )
    }
}

/// A v2 payment-creation server whose clock is `server_offset` seconds off real time: it
/// verifies signatures at its own clock and sends its clock as `Date` (hyper keeps a
/// `Date` the handler set). `always_reject` answers `TIMESTAMP_OUT_OF_WINDOW` to everything.
async fn clocked_server(server_offset: i64, always_reject: bool) -> (String, Verdicts) {
    let verdicts = Verdicts::default();
    let v = verdicts.clone();
    let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let v = v.clone();
        async move {
            let server_now = unix_now() + server_offset;
            let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let secret = SecretString::from(SECRET);
            let verdict = verify_v1(&secret, &headers, method.as_str(), path, &body, server_now);
            let date = [("date", http_date(server_now))];
            match verdict {
                Ok(_) if !always_reject => {
                    v.accepted.fetch_add(1, Ordering::SeqCst);
                    (date, json(StatusCode::CREATED, PAYMENT)).into_response()
                }
                Ok(_) | Err(SignatureError::TimestampOutOfWindow { .. }) => {
                    v.rejected.fetch_add(1, Ordering::SeqCst);
                    (date, json(StatusCode::UNAUTHORIZED, OUT_OF_WINDOW)).into_response()
                }
                Err(other) => panic!("the client's signature is wrong: {other:?}"),
            }
        }
    };
    let base = serve(Router::new().route("/api/v2/payments", axum::routing::post(handler))).await;
    (base, verdicts)
}

#[tokio::test]
async fn a_server_that_always_rejects_the_timestamp_ends_the_call() {
    let (base, verdicts) = clocked_server(0, true).await;
    // Retries on (fast): only the one clock correction may repeat the request.
    let client = builder_v2(&base)
        .clock_skew_for_tests(-1000)
        .build()
        .unwrap();
    let err = bounded(client.payments().create(ars_deposit("always_rejected")))
        .await
        .unwrap_err();
    assert_out_of_window(&err);
    // The rejected request, then one corrected retry; no loop.
    assert_eq!(verdicts.counts(), (2, 0));
    assert!(
        client.clock_offset_secs().abs() <= 2,
        "{}",
        client.clock_offset_secs()
    );
    // The next call may correct once more (its own budget), and ends the same way.
    let err = bounded(client.payments().create(ars_deposit("always_rejected")))
        .await
        .unwrap_err();
    assert_out_of_window(&err);
    assert_eq!(verdicts.counts(), (4, 0));
}

#[tokio::test]
async fn skew_is_corrected_once_with_exact_request_counts() {
    let (base, verdicts) = clocked_server(0, false).await;
    let client = builder_v2(&base)
        .retry_policy(RetryPolicy::none())
        .clock_skew_for_tests(-1000)
        .build()
        .unwrap();
    let created = bounded(client.payments().create(ars_deposit("skew_once")))
        .await
        .unwrap();
    assert!(created.is_new());
    // One rejection, one accepted retry.
    assert_eq!(verdicts.counts(), (1, 1));
    assert!(
        client.clock_offset_secs().abs() <= 2,
        "{}",
        client.clock_offset_secs()
    );
    // Later calls use the corrected clock at once: one request each.
    for n in 2..=3 {
        bounded(client.payments().create(ars_deposit("skew_once")))
            .await
            .unwrap();
        assert_eq!(verdicts.counts(), (1, n));
    }
}

#[tokio::test]
async fn a_client_ahead_of_the_server_adopts_a_negative_offset() {
    // The server's clock is 1000 s behind real time; the client's is right.
    let (base, verdicts) = clocked_server(-1000, false).await;
    let client = builder_v2(&base)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(client.clock_offset_secs(), 0);
    let created = bounded(client.payments().create(ars_deposit("ahead")))
        .await
        .unwrap();
    assert!(created.is_new());
    assert_eq!(verdicts.counts(), (1, 1));
    let offset = client.clock_offset_secs();
    assert!((-1002..=-998).contains(&offset), "offset {offset}");
}

/// A raw HTTP/1.1 server (hyper would add a `Date`): answers every request 401
/// `TIMESTAMP_OUT_OF_WINDOW` with `date` as its only extra header (none when `None`).
async fn raw_rejecting_server(date: Option<&'static str>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Head, then as many body bytes as Content-Length says.
                let (head_end, length) = loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&request[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        break (end + 4, length);
                    }
                };
                while request.len() < head_end + length {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let date = date.map(|d| format!("date: {d}\r\n")).unwrap_or_default();
                let response = format!(
                    "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n{date}\r\n{OUT_OF_WINDOW}",
                    OUT_OF_WINDOW.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), hits)
}

#[tokio::test]
async fn no_usable_date_header_means_no_correction() {
    for date in [None, Some("not a date")] {
        let (base, hits) = raw_rejecting_server(date).await;
        let client = builder_v2(&base)
            .clock_skew_for_tests(-1000)
            .build()
            .unwrap();
        let err = bounded(client.payments().create(ars_deposit("no_date")))
            .await
            .unwrap_err();
        assert_out_of_window(&err);
        assert_eq!(hits.load(Ordering::SeqCst), 1, "date {date:?}: sent once");
        assert_eq!(client.clock_offset_secs(), -1000, "date {date:?}");
    }
    // The raw server is good enough to correct from when it does send a date.
    let (base, hits) = raw_rejecting_server(Some("Thu, 01 Jan 2099 00:00:00 GMT")).await;
    let client = builder_v2(&base).build().unwrap();
    let err = bounded(client.payments().create(ars_deposit("date")))
        .await
        .unwrap_err();
    assert_out_of_window(&err);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert!(client.clock_offset_secs() > 0);
}

// ---------------------------------------------------------------------------------------
// signed_request
// ---------------------------------------------------------------------------------------

/// What a server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    path_and_query: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A server answering every path with `answer(hit number)` (or blocking for a minute on
/// `None`), recording each request.
async fn recording_server(
    answer: impl Fn(usize) -> Option<(StatusCode, &'static str)> + Clone + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let s = Arc::clone(&seen);
    let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let (s, answer) = (Arc::clone(&s), answer.clone());
        async move {
            let hit = {
                let mut seen = s.lock().unwrap();
                seen.push(Seen {
                    method,
                    path_and_query: uri.path_and_query().unwrap().as_str().to_owned(),
                    headers,
                    body,
                });
                seen.len()
            };
            match answer(hit) {
                Some((status, body)) => json(status, body),
                None => {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    json(StatusCode::OK, "{}")
                }
            }
        }
    };
    (serve(Router::new().fallback(handler)).await, seen)
}

const UNAVAILABLE: &str =
    r#"{"statusCode":503,"message":"down","error_code":"SERVICE_UNAVAILABLE"}"#;
const INTERNAL: &str = r#"{"statusCode":500,"message":"boom","error_code":"INTERNAL_ERROR"}"#;
const BAD_GATEWAY: &str = r#"{"statusCode":502,"message":"proxy","error_code":"INTERNAL_ERROR"}"#;

#[tokio::test]
async fn signed_request_posts_are_not_retried_once_processed() {
    let body = serde_json::json!({"note": "hello"});
    // Paths that are not payment creation: unknown to the operation table (v1 and v2) and
    // a known non-creation POST.
    for path in [
        "/api/v1/custom/action",
        "/api/v2/custom/action?x=1",
        "/api/v1/payments/pay_1/cancel",
    ] {
        for (status, answer) in [
            (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL),
            (StatusCode::BAD_GATEWAY, BAD_GATEWAY),
        ] {
            let (base, seen) = recording_server(move |_| Some((status, answer))).await;
            let client = client_v2(&base);
            let err = bounded(client.signed_request(Method::POST, path, Some(&body)))
                .await
                .unwrap_err();
            assert_eq!(err.status(), Some(status.as_u16()), "{path}: {err:?}");
            assert_eq!(seen.lock().unwrap().len(), 1, "{path} {status}: sent once");
        }
        // A timeout: the server may have acted, so no second attempt either.
        let (base, seen) = recording_server(|_| None).await;
        let client = builder_v2(&base)
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let err = bounded(client.signed_request(Method::POST, path, Some(&body)))
            .await
            .unwrap_err();
        assert_eq!(err, Error::Timeout, "{path}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            seen.lock().unwrap().len() <= 1,
            "{path}: timed out, sent once"
        );
        // Not even 503 SERVICE_UNAVAILABLE: once sent, such a POST is never retried (only a
        // 429 or a failed connection, which prove it was not processed, are).
        let (base, seen) =
            recording_server(|_| Some((StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE))).await;
        let err = bounded(client_v2(&base).signed_request(Method::POST, path, Some(&body)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::ServiceUnavailable), "{path}");
        assert_eq!(seen.lock().unwrap().len(), 1, "{path}: 503 not retried");
    }
    // The contrast: the same 500 on payment creation, or on a GET, is retried.
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v2/payments",
            Some(serde_json::json!({"merchant_reference": "r"})),
        ),
        (Method::GET, "/api/v1/custom/thing", None),
    ] {
        let (base, seen) =
            recording_server(|_| Some((StatusCode::INTERNAL_SERVER_ERROR, INTERNAL))).await;
        let err = bounded(client_v2(&base).signed_request(method.clone(), path, body.as_ref()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::InternalError));
        assert_eq!(seen.lock().unwrap().len(), 4, "{method} {path}: retried");
    }
}

#[tokio::test]
async fn base_url_with_a_path_prefix_with_and_without_trailing_slash() {
    for base_suffix in ["/prefix", "/prefix/", "/a/b"] {
        let prefix = base_suffix.trim_end_matches('/');
        let (host, seen) = recording_server(|_| Some((StatusCode::OK, r#"{"ok":true}"#))).await;
        let client = client_v2(&format!("{host}{base_suffix}"));
        let body = serde_json::json!({"amount": 1});
        for (method, path, body) in [
            (Method::POST, "/api/v2/custom/thing?x=a%20b", Some(&body)),
            (Method::GET, "/api/v2/balance/all", None),
            (Method::POST, "/api/v1/custom/thing", Some(&body)),
        ] {
            let (status, answer) = bounded(client.signed_request(method.clone(), path, body))
                .await
                .unwrap();
            assert_eq!(
                (status, answer),
                (StatusCode::OK, serde_json::json!({"ok": true}))
            );
            let request = seen.lock().unwrap().pop().unwrap();
            let sent_path = format!("{prefix}{path}");
            assert_eq!(request.method, method);
            assert_eq!(request.path_and_query, sent_path, "base {base_suffix}");
            let secret = SecretString::from(SECRET);
            let verify = |p: &str| {
                verify_v1(
                    &secret,
                    &request.headers,
                    method.as_str(),
                    p,
                    &request.body,
                    unix_now(),
                )
            };
            if path.starts_with("/api/v2/") {
                // Signed over the path actually sent, prefix included; not over the
                // path given to signed_request.
                verify(&sent_path).unwrap_or_else(|e| panic!("{base_suffix} {path}: {e:?}"));
                assert!(verify(path).is_err(), "{base_suffix} {path}");
                assert!(request.headers.get("x-api-key").is_none());
            } else {
                assert_eq!(request.headers.get("x-api-key").unwrap(), KEY);
                assert!(request.headers.get("x-signature").is_none());
            }
            if let Some(body) = body {
                assert_eq!(
                    serde_json::from_slice::<serde_json::Value>(&request.body).unwrap(),
                    *body
                );
            }
        }
    }
}
