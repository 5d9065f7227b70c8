//! The request hook installed in the generated client: authentication (API key for v1,
//! HMAC signature for v2), User-Agent, per-attempt timeout, and recording of each
//! attempt's response status and headers for error mapping and retries.

use std::cell::RefCell;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use luxcore_api::RequestHook;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};

use crate::credentials::Credentials;
use luxcore_auth::request::generate_nonce;
use luxcore_auth::unix_now;

/// Response headers kept per attempt (for retries, rate limits and support).
const RECORDED_HEADERS: [&str; 6] = [
    "date",
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-request-id",
];

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const API_VERSION: HeaderName = HeaderName::from_static("api-version");
const SIGNATURE_HEADERS: [&str; 5] = [
    "x-merchant-id",
    "x-timestamp",
    "x-nonce",
    "x-signature-version",
    "x-signature",
];

/// What the hook saw of one attempt.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttemptMeta {
    /// HTTP status of the response, if one arrived.
    pub status: Option<StatusCode>,
    /// The [`RECORDED_HEADERS`] of the response.
    pub headers: HeaderMap,
    /// The transport failed while connecting: the request never reached the server.
    pub connect_error: bool,
}

tokio::task_local! {
    /// Set by `LuxCore::run` around each attempt; written by the hook.
    static ATTEMPT: RefCell<AttemptMeta>;
}

/// Runs `fut` (one attempt) with a fresh attempt slot and returns its output with what
/// the hook recorded.
pub(crate) async fn record_attempt<F: Future>(fut: F) -> (F::Output, AttemptMeta) {
    ATTEMPT
        .scope(RefCell::new(AttemptMeta::default()), async {
            let output = fut.await;
            let meta = ATTEMPT.with(|slot| slot.take());
            (output, meta)
        })
        .await
}

/// Which API a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/api/v1/...`: `X-API-Key`.
    V1,
    /// `/api/v2/...`: HMAC signature.
    V2,
    /// Anything else (e.g. a pre-signed upload URL): no credentials.
    Other,
}

/// The hook. Shared (in an `Arc`) by the generated client and the hand-made requests.
pub(crate) struct AuthHook {
    credentials: Credentials,
    /// Seconds added to the local clock for v2 timestamps (server minus local).
    clock_offset: AtomicI64,
    user_agent: HeaderValue,
    timeout: Option<Duration>,
    /// Path of the base URL (`""` for `https://api.lux-core.io`), stripped before routing.
    base_path: String,
}

impl AuthHook {
    pub(crate) fn new(
        credentials: Credentials,
        user_agent: HeaderValue,
        timeout: Option<Duration>,
        base_path: String,
        clock_offset: i64,
    ) -> Self {
        AuthHook {
            credentials,
            clock_offset: AtomicI64::new(clock_offset),
            user_agent,
            timeout,
            base_path,
        }
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub(crate) fn clock_offset(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    pub(crate) fn set_clock_offset(&self, offset: i64) {
        self.clock_offset.store(offset, Ordering::Relaxed);
    }

    pub(crate) fn base_path(&self) -> &str {
        &self.base_path
    }

    pub(crate) fn route(&self, path: &str) -> Route {
        let path = path.strip_prefix(&self.base_path).unwrap_or(path);
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under("/api/v1") {
            Route::V1
        } else if under("/api/v2") {
            Route::V2
        } else {
            Route::Other
        }
    }

    /// User-Agent and timeout, for every request including unauthenticated ones.
    pub(crate) fn prepare(&self, request: &mut reqwest::Request) {
        request.headers_mut().remove(API_VERSION);
        request
            .headers_mut()
            .insert(USER_AGENT, self.user_agent.clone());
        if let Some(timeout) = self.timeout {
            request.timeout_mut().get_or_insert(timeout);
        }
    }

    fn authenticate(&self, request: &mut reqwest::Request) -> Result<(), String> {
        match self.route(request.url().path()) {
            Route::V1 => {
                let key = self.credentials.api_key().ok_or(
                    "no API key configured: /api/v1 requests need one (LuxCore::builder().api_key(..))",
                )?;
                let value = key.header_value()?;
                let headers = request.headers_mut();
                for name in SIGNATURE_HEADERS {
                    headers.remove(name);
                }
                headers.insert(X_API_KEY, value);
                Ok(())
            }
            Route::V2 => self.sign(request),
            Route::Other => {
                request.headers_mut().remove(X_API_KEY);
                Ok(())
            }
        }
    }

    /// Adds fresh v2 signature headers over the exact method, path+query and body sent.
    fn sign(&self, request: &mut reqwest::Request) -> Result<(), String> {
        let hmac = self.credentials.hmac().ok_or(
            "no HMAC credentials configured: /api/v2 requests need them (LuxCore::builder().hmac_v2(..))",
        )?;
        let body: &[u8] = match request.body() {
            None => &[],
            Some(body) => body
                .as_bytes()
                .ok_or("cannot sign a streaming request body for API v2")?,
        };
        let url = request.url();
        let path_and_query = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let timestamp = unix_now().saturating_add(self.clock_offset());
        let signed = hmac.signer().sign(
            request.method().as_str(),
            &path_and_query,
            body,
            timestamp,
            &generate_nonce(),
        );
        let headers = request.headers_mut();
        headers.remove(X_API_KEY);
        signed
            .try_apply(headers)
            .map_err(|_| "could not build the v2 signature headers".to_owned())
    }
}

impl RequestHook for AuthHook {
    fn before_send(&self, request: &mut reqwest::Request) -> Result<(), String> {
        self.prepare(request);
        self.authenticate(request)
    }

    fn after_response(&self, result: &reqwest::Result<reqwest::Response>) {
        // Outside `LuxCore::run` (e.g. calls through `raw()`) there is no slot: nothing to do.
        let _ = ATTEMPT.try_with(|slot| {
            let mut meta = slot.borrow_mut();
            match result {
                Ok(response) => {
                    meta.status = Some(response.status());
                    meta.headers = recorded_headers(response.headers());
                }
                Err(err) => meta.connect_error = err.is_connect(),
            }
        });
    }
}

fn recorded_headers(all: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for name in RECORDED_HEADERS {
        if let Some(value) = all.get(name) {
            kept.insert(name, value.clone());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{ApiKey, HmacV2};
    use luxcore_auth::request::verify_v1;
    use secrecy::SecretString;

    const KEY: &str = "qp_test_sk_hooktest";
    const SECRET: &str = "hmac_hook_secret";

    fn hook(creds: Credentials, base_path: &str, offset: i64) -> AuthHook {
        AuthHook::new(
            creds,
            HeaderValue::from_static("luxcore-rs/test"),
            Some(Duration::from_secs(5)),
            base_path.to_owned(),
            offset,
        )
    }

    fn both() -> Credentials {
        Credentials::from(ApiKey::new(KEY).unwrap()).with_hmac(HmacV2::new(123, SECRET).unwrap())
    }

    fn request(
        method: reqwest::Method,
        url: &str,
        body: Option<&'static [u8]>,
    ) -> reqwest::Request {
        let mut request = reqwest::Request::new(method, url.parse().unwrap());
        request
            .headers_mut()
            .insert(API_VERSION, HeaderValue::from_static("1.0.0"));
        if let Some(body) = body {
            *request.body_mut() = Some(reqwest::Body::from(body));
        }
        request
    }

    #[test]
    fn routes() {
        let h = hook(both(), "/proxy", 0);
        assert_eq!(h.route("/proxy/api/v1/payments"), Route::V1);
        assert_eq!(h.route("/proxy/api/v2/payments"), Route::V2);
        assert_eq!(h.route("/proxy/api/v2"), Route::V2);
        assert_eq!(h.route("/proxy/api/v10/x"), Route::Other);
        assert_eq!(h.route("/uploads/abc"), Route::Other);
        let h = hook(both(), "", 0);
        assert_eq!(h.route("/api/v1/balance"), Route::V1);
    }

    #[test]
    fn v1_gets_api_key_and_user_agent() {
        let h = hook(both(), "", 0);
        let mut req = request(
            reqwest::Method::GET,
            "http://x/api/v1/balance?currency=ARS",
            None,
        );
        h.before_send(&mut req).unwrap();
        assert_eq!(req.headers()["x-api-key"], KEY);
        assert!(req.headers()["x-api-key"].is_sensitive());
        assert_eq!(req.headers()[USER_AGENT], "luxcore-rs/test");
        assert!(req.headers().get("api-version").is_none());
        assert!(req.headers().get("x-signature").is_none());
        assert_eq!(req.timeout(), Some(&Duration::from_secs(5)));
        assert!(!format!("{req:?}").contains(KEY));
    }

    #[test]
    fn v2_is_signed_over_exact_bytes() {
        let h = hook(both(), "", 0);
        let body: &'static [u8] = br#"{"amount":150000}"#;
        let mut req = request(
            reqwest::Method::POST,
            "http://x/api/v2/payments?a=1%202",
            Some(body),
        );
        h.before_send(&mut req).unwrap();
        assert!(req.headers().get("x-api-key").is_none());
        let verified = verify_v1(
            &SecretString::from(SECRET),
            req.headers(),
            "POST",
            "/api/v2/payments?a=1%202",
            body,
            unix_now(),
        )
        .unwrap();
        assert_eq!(verified.merchant_id, 123);
        // Each signing uses a fresh nonce.
        let mut again = request(
            reqwest::Method::POST,
            "http://x/api/v2/payments",
            Some(body),
        );
        h.before_send(&mut again).unwrap();
        assert_ne!(again.headers()["x-nonce"], req.headers()["x-nonce"]);
    }

    #[test]
    fn clock_offset_is_applied() {
        let h = hook(both(), "", -1000);
        let mut req = request(reqwest::Method::GET, "http://x/api/v2/balance", None);
        h.before_send(&mut req).unwrap();
        let ts: i64 = req.headers()["x-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((unix_now() - 1000 - ts).abs() <= 2);
        h.set_clock_offset(0);
        assert_eq!(h.clock_offset(), 0);
    }

    #[test]
    fn missing_credentials_are_errors() {
        let only_key = hook(Credentials::from(ApiKey::new(KEY).unwrap()), "", 0);
        let mut req = request(reqwest::Method::GET, "http://x/api/v2/balance", None);
        assert!(only_key.before_send(&mut req).unwrap_err().contains("HMAC"));
        let only_hmac = hook(Credentials::from(HmacV2::new(1, SECRET).unwrap()), "", 0);
        let mut req = request(reqwest::Method::GET, "http://x/api/v1/balance", None);
        assert!(
            only_hmac
                .before_send(&mut req)
                .unwrap_err()
                .contains("API key")
        );
        // Other routes get neither.
        let mut req = request(reqwest::Method::PUT, "http://other/upload/1", None);
        both_hook_ok(&mut req);
        assert!(req.headers().get("x-api-key").is_none());
    }

    fn both_hook_ok(req: &mut reqwest::Request) {
        hook(both(), "", 0).before_send(req).unwrap();
    }

    #[tokio::test]
    async fn after_response_records_into_the_slot() {
        let h = hook(both(), "", 0);
        let response = http::Response::builder()
            .status(503)
            .header("retry-after", "3")
            .header("x-request-id", "req_1")
            .header("set-cookie", "ignored")
            .body(Vec::<u8>::new())
            .unwrap();
        let response = reqwest::Response::from(response);
        let ((), meta) = record_attempt(async { h.after_response(&Ok(response)) }).await;
        assert_eq!(meta.status, Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(meta.headers["retry-after"], "3");
        assert_eq!(meta.headers["x-request-id"], "req_1");
        assert!(meta.headers.get("set-cookie").is_none());
        // Outside a slot: no panic.
        h.after_response(&Err(reqwest::Client::new()
            .get("http://[::1")
            .build()
            .unwrap_err()));
    }
}
