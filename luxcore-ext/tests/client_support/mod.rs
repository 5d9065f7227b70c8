//! Helpers shared by the `client_*` integration tests.
#![allow(dead_code)]

use luxcore_ext::Money;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use luxcore_ext::client::{LuxCore, LuxCoreBuilder};
use luxcore_ext::retry::RetryPolicy;

/// The mock's default full-scope test key.
pub const KEY: &str = "qp_test_sk_local";
/// The mock's default read-only test key.
pub const READONLY_KEY: &str = "qp_test_sk_readonly";
/// The mock's default v2 merchant.
pub const MERCHANT: u64 = 123;
/// The mock's default v2 HMAC secret.
pub const SECRET: &str = "hmac_test_secret_local";

/// Serves `router` on an ephemeral local port; returns `http://127.0.0.1:PORT`.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// A base URL on which nothing listens (connection refused).
pub async fn refused_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// Retries with tiny delays, so tests stay fast.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_base_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(20))
        .with_max_elapsed(Duration::from_secs(10))
}

/// A builder with the default API key (API v1 for every operation) and fast retries.
pub fn builder(base_url: &str) -> LuxCoreBuilder {
    LuxCore::builder()
        .base_url(base_url)
        .api_key(KEY)
        .retry_policy(fast_retries())
}

/// A builder with the default key *and* HMAC credentials (payment creation and balance
/// reads go to API v2, signed) and fast retries.
pub fn builder_v2(base_url: &str) -> LuxCoreBuilder {
    builder(base_url).hmac(MERCHANT, SECRET)
}

/// A client with the default API key and fast retries.
pub fn client(base_url: &str) -> LuxCore {
    builder(base_url).build().unwrap()
}

/// A client with the default key and HMAC credentials and fast retries.
#[allow(dead_code)]
pub fn client_v2(base_url: &str) -> LuxCore {
    builder_v2(base_url).build().unwrap()
}

/// Everything written by a tracing subscriber.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// The text captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every tracing event and span close (TRACE level, all targets) on this
/// thread while the guard lives. Use with a current-thread runtime (`#[tokio::test]`).
pub fn capture_tracing() -> (tracing::subscriber::DefaultGuard, Captured) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (tracing::subscriber::set_default(subscriber), captured)
}

/// Number of `luxcore: retrying` events in captured tracing output.
pub fn retries_in(text: &str) -> usize {
    text.matches("luxcore: retrying").count()
}

/// Starts a mock (documented rate limits off) and a client for it with the default
/// credentials and fast retries.
pub async fn mock() -> (luxcore_mock::MockServer, LuxCore) {
    let server =
        luxcore_mock::MockServer::start(luxcore_mock::MockConfig::default().without_rate_limits())
            .await
            .unwrap();
    let client = client(&server.base_url());
    (server, client)
}

/// A client for `server` without retries.
pub fn no_retry_client(server: &luxcore_mock::MockServer) -> LuxCore {
    builder(&server.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A merchant reference unique within the test process.
pub fn unique_ref(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}_{nanos}_{n}")
}

/// A deposit request.
pub fn deposit(
    amount: i64,
    currency: luxcore_ext::Currency,
    method: luxcore_ext::PaymentMethod,
    reference: &str,
) -> luxcore_ext::types::PaymentCreateRequest {
    luxcore_ext::payments::PaymentRequest::deposit(Money::new(amount, currency), method, reference)
        .build()
        .unwrap()
}

/// Creates a new deposit (merchant reference `unique_ref(prefix)`) and returns its id.
pub async fn new_deposit_id(
    client: &LuxCore,
    amount: i64,
    currency: luxcore_ext::Currency,
    method: luxcore_ext::PaymentMethod,
    prefix: &str,
) -> String {
    let created = client
        .payments()
        .create(deposit(amount, currency, method, &unique_ref(prefix)))
        .await
        .unwrap();
    created.into_inner().transaction_id.unwrap()
}

/// The code of an `Error::Api`, panicking with the error otherwise.
pub fn api_code(err: &luxcore_ext::error::Error) -> luxcore_ext::ErrorCode {
    match err {
        luxcore_ext::error::Error::Api { code, .. } => code.clone(),
        other => panic!("expected Error::Api, got {other:?}"),
    }
}
