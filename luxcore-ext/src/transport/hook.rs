//! The request hooks installed in the generated client: authentication (`X-API-Key`, or a
//! fresh HMAC signature over the exact bytes sent), User-Agent and timeout.
//!
//! [`AuthHook`] holds what every request shares (credentials, clock offset); the runner wraps
//! it with the [`AttemptContext`] of each attempt in an [`AttemptHook`], which authenticates
//! as the context's operation requires and records the response into the context. Calls
//! through `LuxCore::raw()` have no context: the bare [`AuthHook`] authenticates them by
//! their path's API prefix (the generated operation table's `API_PREFIXES`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use luxcore_api::RequestHook;
use luxcore_api::operations::{Auth, auth_for_path};
use reqwest::header::{HeaderName, HeaderValue, USER_AGENT};

use crate::base::context::AttemptContext;
use crate::credentials::Credentials;
use luxcore_auth::request::generate_nonce;
use luxcore_auth::unix_now;

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// The hook. Shared (in an `Arc`) by the generated client and the hand-made requests.
pub(crate) struct AuthHook {
    credentials: Credentials,
    /// The API key as a sensitive header value, built once (`None` without an API key).
    api_key_header: Option<HeaderValue>,
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
        // `ApiKey::new` rejected keys that are not valid header values.
        let api_key_header = credentials
            .api_key()
            .and_then(|key| key.header_value().ok());
        AuthHook {
            credentials,
            api_key_header,
            clock_offset: AtomicI64::new(clock_offset),
            user_agent,
            timeout,
            base_path,
        }
    }

    /// The client's per-attempt timeout, if it sets one on each request.
    pub(crate) fn default_timeout(&self) -> Option<Duration> {
        self.timeout
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

    /// The authentication of a request to `path` (the base URL's path stripped), by its
    /// API prefix; `None` outside the API (e.g. a pre-signed upload URL).
    pub(crate) fn auth_for(&self, path: &str) -> Option<Auth> {
        auth_for_path(path.strip_prefix(&self.base_path).unwrap_or(path))
    }

    /// User-Agent and timeout, for every request including unauthenticated ones.
    /// `timeout` overrides the client's per-attempt timeout.
    pub(crate) fn prepare(&self, request: &mut reqwest::Request, timeout: Option<Duration>) {
        request
            .headers_mut()
            .insert(USER_AGENT, self.user_agent.clone());
        if let Some(timeout) = timeout {
            *request.timeout_mut() = Some(timeout);
        } else if let Some(timeout) = self.timeout {
            request.timeout_mut().get_or_insert(timeout);
        }
    }

    /// Adds the credentials `auth` asks for. Requests arrive fresh from the generated code
    /// or a hand-made builder, so there are no other credentials to remove.
    pub(crate) fn authenticate(
        &self,
        request: &mut reqwest::Request,
        auth: Option<Auth>,
    ) -> Result<(), String> {
        match auth {
            Some(Auth::ApiKey) => {
                let value = self.api_key_header.clone().ok_or(
                    "no API key configured: API v1 requests need one (LuxCore::builder().api_key(..))",
                )?;
                request.headers_mut().insert(X_API_KEY, value);
                Ok(())
            }
            Some(Auth::HmacV2) => self.sign(request),
            None => Ok(()),
        }
    }

    /// Adds fresh v2 signature headers over the exact method, path+query and body sent.
    fn sign(&self, request: &mut reqwest::Request) -> Result<(), String> {
        let hmac = self.credentials.hmac().ok_or(
            "no HMAC credentials configured: API v2 requests need them (LuxCore::builder().hmac(..))",
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
        signed
            .try_apply(request.headers_mut())
            .map_err(|_| "could not build the v2 signature headers".to_owned())
    }
}

/// Calls through `LuxCore::raw()`: authenticated by path, nothing recorded.
impl RequestHook for AuthHook {
    fn before_send(&self, request: &mut reqwest::Request) -> Result<(), String> {
        self.prepare(request, None);
        let auth = self.auth_for(request.url().path());
        self.authenticate(request, auth)
    }
}

/// The hook of one attempt: authenticates as its context says, records the response there.
/// The runner keeps an `Arc` of it to read the context back.
pub(crate) struct AttemptHook {
    pub(crate) shared: Arc<AuthHook>,
    pub(crate) context: AttemptContext,
}

impl RequestHook for AttemptHook {
    fn before_send(&self, request: &mut reqwest::Request) -> Result<(), String> {
        tracing::trace!(
            operation = self.context.operation.id,
            attempt = self.context.attempt,
            "luxcore: sending"
        );
        self.shared.prepare(request, self.context.timeout);
        self.shared.authenticate(request, self.context.auth)
    }

    fn after_response(&self, result: &reqwest::Result<reqwest::Response>) {
        self.context.record(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{ApiKey, HmacV2};
    use luxcore_api::operations::{API_PREFIXES, CREATE_PAYMENT_V2, GET_BALANCE, GET_BALANCE_V2};
    use luxcore_auth::request::verify_v1;
    use luxcore_auth::unix_now;
    use reqwest::StatusCode;
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
        if let Some(body) = body {
            *request.body_mut() = Some(reqwest::Body::from(body));
        }
        request
    }

    fn url(path: &str) -> String {
        format!("http://x{path}")
    }

    #[test]
    fn auth_by_prefix() {
        let h = hook(both(), "/proxy", 0);
        let (v1, v2) = (API_PREFIXES[0].0, API_PREFIXES[1].0);
        assert_eq!(
            h.auth_for(&format!("/proxy{v1}/payments")),
            Some(Auth::ApiKey)
        );
        assert_eq!(
            h.auth_for(&format!("/proxy{v2}/payments")),
            Some(Auth::HmacV2)
        );
        assert_eq!(h.auth_for(&format!("/proxy{v2}")), Some(Auth::HmacV2));
        assert_eq!(h.auth_for(&format!("/proxy{v1}0/x")), None);
        assert_eq!(h.auth_for("/uploads/abc"), None);
        let h = hook(both(), "", 0);
        assert_eq!(h.auth_for(GET_BALANCE.path), Some(Auth::ApiKey));
    }

    #[test]
    fn v1_gets_api_key_and_user_agent() {
        let h = hook(both(), "", 0);
        let mut req = request(
            reqwest::Method::GET,
            &url(&format!("{}?currency=ARS", GET_BALANCE.path)),
            None,
        );
        h.before_send(&mut req).unwrap();
        assert_eq!(req.headers()["x-api-key"], KEY);
        assert!(req.headers()["x-api-key"].is_sensitive());
        assert_eq!(req.headers()[USER_AGENT], "luxcore-rs/test");
        assert!(req.headers().get("x-signature").is_none());
        assert_eq!(req.timeout(), Some(&Duration::from_secs(5)));
        assert!(!format!("{req:?}").contains(KEY));
    }

    #[test]
    fn v2_is_signed_over_exact_bytes() {
        let h = hook(both(), "", 0);
        let body: &'static [u8] = br#"{"amount":150000}"#;
        let path_and_query = format!("{}?a=1%202", CREATE_PAYMENT_V2.path);
        let mut req = request(reqwest::Method::POST, &url(&path_and_query), Some(body));
        h.before_send(&mut req).unwrap();
        assert!(req.headers().get("x-api-key").is_none());
        let verified = verify_v1(
            &SecretString::from(SECRET),
            req.headers(),
            "POST",
            &path_and_query,
            body,
            unix_now(),
        )
        .unwrap();
        assert_eq!(verified.merchant_id, 123);
        // Each signing uses a fresh nonce.
        let mut again = request(
            reqwest::Method::POST,
            &url(CREATE_PAYMENT_V2.path),
            Some(body),
        );
        h.before_send(&mut again).unwrap();
        assert_ne!(again.headers()["x-nonce"], req.headers()["x-nonce"]);
    }

    #[test]
    fn clock_offset_is_applied() {
        let h = hook(both(), "", -1000);
        let mut req = request(reqwest::Method::GET, &url(GET_BALANCE_V2.path), None);
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
        let mut req = request(reqwest::Method::GET, &url(GET_BALANCE_V2.path), None);
        assert!(only_key.before_send(&mut req).unwrap_err().contains("HMAC"));
        let only_hmac = hook(Credentials::from(HmacV2::new(1, SECRET).unwrap()), "", 0);
        let mut req = request(reqwest::Method::GET, &url(GET_BALANCE.path), None);
        assert!(
            only_hmac
                .before_send(&mut req)
                .unwrap_err()
                .contains("API key")
        );
        // Other routes get neither.
        let mut req = request(reqwest::Method::PUT, "http://other/upload/1", None);
        hook(both(), "", 0).before_send(&mut req).unwrap();
        assert!(req.headers().get("x-api-key").is_none());
    }

    #[test]
    fn attempt_hook_follows_its_context_and_records_into_it() {
        let shared = Arc::new(hook(both(), "", 0));
        let h = AttemptHook {
            shared,
            context: AttemptContext::new(
                GET_BALANCE_V2,
                Some(Auth::HmacV2),
                1,
                Some(Duration::from_millis(750)),
            ),
        };
        // The context decides: signed, with the per-call timeout, whatever the path says.
        let mut req = request(reqwest::Method::GET, "http://x/anything", None);
        h.before_send(&mut req).unwrap();
        assert!(req.headers().get("x-signature").is_some());
        assert_eq!(req.timeout(), Some(&Duration::from_millis(750)));
        let response = http::Response::builder()
            .status(503)
            .header("retry-after", "3")
            .header("x-request-id", "req_1")
            .header("set-cookie", "ignored")
            .body(Vec::<u8>::new())
            .unwrap();
        h.after_response(&Ok(reqwest::Response::from(response)));
        let meta = h.context.take_meta();
        assert_eq!(meta.status, Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(meta.headers["retry-after"], "3");
        assert_eq!(meta.headers["x-request-id"], "req_1");
        assert!(meta.headers.get("set-cookie").is_none());
    }
}
