//! Every attempt goes through the client-side limiter: a call retried twice takes three
//! cells of its bucket, so retries can never push a client over the documented limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use futures::future::BoxFuture;
use luxcore_ext::client::LuxCore;
use luxcore_ext::rate_limit::{LimiterError, RateBucket, RateLimiter};
use luxcore_ext::retry::RetryPolicy;

#[derive(Default)]
struct Counting {
    create: AtomicUsize,
    standard: AtomicUsize,
}

impl RateLimiter for Counting {
    fn acquire(&self, bucket: RateBucket) -> BoxFuture<'_, Result<(), LimiterError>> {
        match bucket {
            RateBucket::Create => &self.create,
            // `RateBucket` is non-exhaustive: a future bucket counts as standard here.
            _ => &self.standard,
        }
        .fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }
}

/// A server that answers 503 to the first `failures` requests, then `ok_body`.
async fn flaky(
    failures: usize,
    ok_status: StatusCode,
    ok_body: &'static str,
) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app = Router::new().fallback(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < failures {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    r#"{"statusCode":503,"message":"busy","error_code":"SERVICE_UNAVAILABLE"}"#,
                )
            } else {
                (ok_status, ok_body)
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, hits)
}

fn client_with(base: &str, limiter: Arc<Counting>) -> LuxCore {
    LuxCore::builder()
        .base_url(base)
        .api_key("qp_test_sk_retries")
        .rate_limiter(limiter)
        .retry_policy(
            RetryPolicy::default()
                .with_base_delay(Duration::from_millis(1))
                .with_max_delay(Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn each_retry_takes_a_cell_of_its_bucket() {
    let (base, hits) = flaky(2, StatusCode::OK, r#"{"ok":true}"#).await;
    let limiter = Arc::new(Counting::default());
    let client = client_with(&base, Arc::clone(&limiter));
    let (status, _) = client
        .signed_request(reqwest::Method::GET, "/api/v1/balance", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(limiter.standard.load(Ordering::SeqCst), 3);
    assert_eq!(limiter.create.load(Ordering::SeqCst), 0);

    // Payment creation is retried too (merchant_reference de-duplicates), in the creation bucket.
    let (base, hits) = flaky(1, StatusCode::CREATED, r#"{"ok":true}"#).await;
    let limiter = Arc::new(Counting::default());
    let client = client_with(&base, Arc::clone(&limiter));
    let body = serde_json::json!({"amount": 1000, "currency": "MXN", "method": "spei",
        "type": "deposit", "merchant_reference": "rl-retry-1"});
    let (status, _) = client
        .signed_request(reqwest::Method::POST, "/api/v1/payments", Some(&body))
        .await
        .unwrap();
    assert_eq!(status, 201);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(limiter.create.load(Ordering::SeqCst), 2);
    assert_eq!(limiter.standard.load(Ordering::SeqCst), 0);
}
