//! The [`LuxCore`] client: one handle for every operation, with authentication, retries,
//! optional client-side rate limiting, tracing and typed errors.
//!
//! ```no_run
//! # async fn demo() -> luxcore_ext::error::Result<()> {
//! use luxcore_ext::client::LuxCore;
//! use luxcore_ext::{Currency, PaymentMethod};
//! use luxcore_ext::services::PaymentRequest;
//!
//! let client = LuxCore::builder().api_key("qp_test_sk_...").build()?;
//! let request = PaymentRequest::deposit(150_000, Currency::ARS, PaymentMethod::BankTransfer, "order_123")
//!     .description("Order #123")
//!     .build()?;
//! let payment = client.payments().create(request).await?.into_inner();
//! println!("{:?} {:?}", payment.transaction_id, payment.status);
//! # Ok(()) }
//! ```
//!
//! Each call runs as one *logical call*: it waits for the optional client-side rate
//! limiter, opens a `luxcore.request` tracing span (method, path template, status,
//! attempt, latency_ms — never bodies, keys or signatures), sends the request through the
//! generated client (whose hook adds `X-API-Key` on `/api/v1` and a fresh HMAC signature
//! on `/api/v2`), retries per [`RetryPolicy`], and maps
//! failures to [`Error`].

mod builder;
pub(crate) mod hook;

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use luxcore_api::ResponseValue;
use luxcore_api::types::ErrorResponse;
use reqwest::{Method, StatusCode};
use tracing::{Instrument, Span, field};

pub use builder::{DEFAULT_BASE_URL, LuxCoreBuilder, USER_AGENT};

use crate::credentials::Credentials;
use crate::error::{Error, ErrorCode, Result, from_api_error};
use crate::rate_limit::{Limiter, RateBucket};
use crate::retry::{RetryPolicy, server_date};
use crate::services::{Balances, Payments, Tickets, Webhooks};
use hook::{AttemptMeta, AuthHook, Route, record_attempt};
use luxcore_auth::unix_now;

/// Error type of the generated client.
pub(crate) type ApiError = luxcore_api::Error<ErrorResponse>;

/// The LuxCore client. Cheap to clone (an `Arc` inside); share one per process.
#[derive(Clone)]
pub struct LuxCore {
    inner: Arc<Inner>,
}

struct Inner {
    raw: luxcore_api::Client,
    http: reqwest::Client,
    base_url: String,
    hook: Arc<AuthHook>,
    retry: RetryPolicy,
    limiter: Option<Limiter>,
}

/// How a request may be retried (see [`crate::retry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryClass {
    /// GET, PUT, DELETE: retried on any retryable failure.
    Idempotent,
    /// Payment creation: retried like idempotent requests (merchant_reference de-duplicates).
    CreatePayment,
    /// Other POSTs: retried only when the request provably was not processed.
    NotRetryableAfterSend,
}

/// One logical call, as described to [`LuxCore::run`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call {
    /// HTTP method, for tracing.
    pub method: &'static str,
    /// Path template (e.g. `/api/v1/payments/{id}`), for tracing.
    pub path: &'static str,
    /// Retry classification.
    pub retry: RetryClass,
    /// Client-side rate-limit bucket.
    pub bucket: RateBucket,
}

impl Call {
    /// A `GET` (idempotent, standard bucket).
    pub(crate) const fn get(path: &'static str) -> Self {
        Call::new("GET", path, RetryClass::Idempotent, RateBucket::Standard)
    }

    /// A `PUT` (idempotent, standard bucket).
    pub(crate) const fn put(path: &'static str) -> Self {
        Call::new("PUT", path, RetryClass::Idempotent, RateBucket::Standard)
    }

    /// A `DELETE` (idempotent, standard bucket).
    pub(crate) const fn delete(path: &'static str) -> Self {
        Call::new("DELETE", path, RetryClass::Idempotent, RateBucket::Standard)
    }

    /// A non-idempotent `POST` (standard bucket).
    pub(crate) const fn post(path: &'static str) -> Self {
        Call::new(
            "POST",
            path,
            RetryClass::NotRetryableAfterSend,
            RateBucket::Standard,
        )
    }

    /// Payment creation (`POST`, creation bucket, de-duplicated by merchant_reference).
    pub(crate) const fn create_payment(path: &'static str) -> Self {
        Call::new("POST", path, RetryClass::CreatePayment, RateBucket::Create)
    }

    const fn new(
        method: &'static str,
        path: &'static str,
        retry: RetryClass,
        bucket: RateBucket,
    ) -> Self {
        Call {
            method,
            path,
            retry,
            bucket,
        }
    }
}

impl LuxCore {
    /// Starts configuring a client. See [`LuxCoreBuilder`].
    pub fn builder() -> LuxCoreBuilder {
        LuxCoreBuilder::new()
    }

    /// The generated client, with this client's hook installed (authentication,
    /// User-Agent, timeout). Calls through it get no retries, rate limiting or error
    /// mapping.
    pub fn raw(&self) -> &luxcore_api::Client {
        &self.inner.raw
    }

    /// Payments: create (v1 and v2), get, cancel, methods, validate.
    pub fn payments(&self) -> Payments<'_> {
        Payments { client: self }
    }

    /// Webhook endpoints: create, get, update, delete, test, enable, disable, retry.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { client: self }
    }

    /// Balances (v1 and v2).
    pub fn balance(&self) -> Balances<'_> {
        Balances { client: self }
    }

    /// Support tickets, comments and attachments.
    pub fn tickets(&self) -> Tickets<'_> {
        Tickets { client: self }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The configured credentials (`Debug` redacts them).
    pub fn credentials(&self) -> &Credentials {
        self.inner.hook.credentials()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Seconds added to the local clock for v2 timestamps (server clock minus local
    /// clock, learned from a `TIMESTAMP_OUT_OF_WINDOW` answer; 0 until then).
    pub fn clock_offset_secs(&self) -> i64 {
        self.inner.hook.clock_offset()
    }

    /// Runs one logical call: client-side rate limit wait, tracing span, retries per
    /// policy, error mapping. `f` builds and sends one attempt.
    pub(crate) async fn run<'a, T, F, Fut>(
        &'a self,
        call: Call,
        mut f: F,
    ) -> Result<ResponseValue<T>>
    where
        F: FnMut(&'a luxcore_api::Client) -> Fut,
        Fut: Future<Output = std::result::Result<ResponseValue<T>, ApiError>>,
    {
        let span = tracing::info_span!(
            "luxcore.request",
            method = call.method,
            path = call.path,
            status = field::Empty,
            attempt = field::Empty,
            latency_ms = field::Empty,
        );
        self.run_attempts(call, &mut f).instrument(span).await
    }

    async fn run_attempts<'a, T, F, Fut>(
        &'a self,
        call: Call,
        f: &mut F,
    ) -> Result<ResponseValue<T>>
    where
        F: FnMut(&'a luxcore_api::Client) -> Fut,
        Fut: Future<Output = std::result::Result<ResponseValue<T>, ApiError>>,
    {
        let inner = &*self.inner;
        let started = Instant::now();
        let mut clock_corrected = false;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            if let Some(limiter) = &inner.limiter {
                limiter.until_ready(call.bucket).await?;
            }
            let (result, meta) = record_attempt(f(&inner.raw)).await;
            let status = meta
                .status
                .or_else(|| result.as_ref().ok().map(ResponseValue::status));
            let err = match result {
                Ok(value) => {
                    finish_span(attempt, status, started);
                    return Ok(value);
                }
                Err(err) => from_api_error(err, &meta).await,
            };
            if !clock_corrected && self.correct_clock(&call, &err, &meta) {
                clock_corrected = true;
                continue;
            }
            match inner
                .retry
                .next_delay(call.retry, &err, &meta, attempt, started.elapsed())
            {
                Some(delay) => {
                    tracing::debug!(
                        attempt,
                        delay_ms = millis(delay),
                        error = err.kind(),
                        status = status.map(|s| s.as_u16()),
                        "luxcore: retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                None => {
                    finish_span(attempt, status, started);
                    tracing::debug!(
                        error = err.kind(),
                        status = status.map(|s| s.as_u16()),
                        "luxcore: call failed"
                    );
                    return Err(err);
                }
            }
        }
    }

    /// On a v2 `TIMESTAMP_OUT_OF_WINDOW` with a `Date` header, adopts the server clock.
    /// Returns `true` when the request should be sent again at once.
    fn correct_clock(&self, call: &Call, err: &Error, meta: &AttemptMeta) -> bool {
        if !call.path.starts_with("/api/v2") || err.code() != Some(&ErrorCode::TimestampOutOfWindow)
        {
            return false;
        }
        let Some(server_now) = server_date(&meta.headers) else {
            return false;
        };
        let offset = server_now.saturating_sub(unix_now());
        self.inner.hook.set_clock_offset(offset);
        tracing::info!(
            offset_secs = offset,
            "luxcore: v2 timestamp rejected; adopted the server clock from its Date header"
        );
        true
    }

    /// Sends a hand-built request through the hook (`authenticate`: credentials for
    /// `/api/v1` and `/api/v2` routes; otherwise only User-Agent and timeout), mapping the
    /// answer like generated operations do.
    pub(crate) async fn send_manual(
        &self,
        mut request: reqwest::Request,
        authenticate: bool,
    ) -> std::result::Result<ResponseValue<Bytes>, ApiError> {
        use luxcore_api::RequestHook;
        let hook = &self.inner.hook;
        if authenticate {
            hook.before_send(&mut request).map_err(ApiError::Custom)?;
        } else {
            hook.prepare(&mut request);
        }
        let result = self.inner.http.execute(request).await;
        hook.after_response(&result);
        let response = result?;
        let status = response.status();
        if !(status.is_success() || status.is_client_error() || status.is_server_error()) {
            return Err(ApiError::UnexpectedResponse(response));
        }
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(ApiError::ResponseBodyError)?;
        if status.is_success() {
            return Ok(ResponseValue::new(body, status, headers));
        }
        match serde_json::from_slice::<ErrorResponse>(&body) {
            Ok(parsed) => Err(ApiError::ErrorResponse(ResponseValue::new(
                parsed, status, headers,
            ))),
            Err(e) => Err(ApiError::InvalidResponsePayload(body, e)),
        }
    }

    /// Escape hatch for endpoints the SDK does not wrap: sends `method path_and_query`
    /// (relative to the base URL, e.g. `/api/v2/balance?currency=ARS`, query exactly as
    /// it should go on the wire) with an optional JSON body. The request is authenticated
    /// like any other (`X-API-Key` on `/api/v1`, a fresh HMAC signature over the exact
    /// bytes on `/api/v2`), retried per policy (`GET`/`PUT`/`DELETE`, and `POST` to the
    /// payment-creation paths, as for the typed methods) and error-mapped. Returns the
    /// status and the JSON body (`Null` when empty) of a 2xx answer.
    pub async fn signed_request(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, serde_json::Value)> {
        if !path_and_query.starts_with('/') {
            return Err(Error::InvalidRequest(
                "path_and_query must start with '/'".into(),
            ));
        }
        let url = reqwest::Url::parse(&format!("{}{path_and_query}", self.base_url()))
            .map_err(|e| Error::InvalidRequest(format!("invalid path_and_query: {e}")))?;
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| Error::InvalidRequest(format!("body is not serializable: {e}")))?;
        let call = self.describe_dynamic(&method, url.path());
        let response = self
            .run(call, |_| {
                let mut request = reqwest::Request::new(method.clone(), url.clone());
                if let Some(body) = &body {
                    request.headers_mut().insert(
                        reqwest::header::CONTENT_TYPE,
                        reqwest::header::HeaderValue::from_static("application/json"),
                    );
                    *request.body_mut() = Some(body.clone().into());
                }
                self.send_manual(request, true)
            })
            .await?;
        let status = response.status();
        let bytes = response.into_inner();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok((status, serde_json::Value::Null));
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
            status: Some(status.as_u16()),
            message: e.to_string(),
            body_excerpt: crate::error::body_excerpt(&bytes),
        })?;
        Ok((status, value))
    }

    /// The [`Call`] of a request to a dynamic path (for [`Self::signed_request`]).
    fn describe_dynamic(&self, method: &Method, path: &str) -> Call {
        let route = self.inner.hook.route(path);
        let label = match route {
            Route::V1 => "/api/v1/{dynamic}",
            Route::V2 => "/api/v2/{dynamic}",
            Route::Other => "{dynamic}",
        };
        let relative = path
            .strip_prefix(self.inner.hook.base_path())
            .unwrap_or(path)
            .trim_end_matches('/');
        let is_creation = matches!(relative, "/api/v1/payments" | "/api/v2/payments");
        let method_label = static_method(method);
        match *method {
            Method::POST if is_creation => Call::new(
                "POST",
                if route == Route::V2 {
                    "/api/v2/payments"
                } else {
                    "/api/v1/payments"
                },
                RetryClass::CreatePayment,
                RateBucket::Create,
            ),
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS => {
                Call::new(
                    method_label,
                    label,
                    RetryClass::Idempotent,
                    RateBucket::Standard,
                )
            }
            _ => Call::new(
                method_label,
                label,
                RetryClass::NotRetryableAfterSend,
                RateBucket::Standard,
            ),
        }
    }
}

fn static_method(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Records the outcome of the call on the current `luxcore.request` span.
fn finish_span(attempts: u32, status: Option<StatusCode>, started: Instant) {
    let span = Span::current();
    span.record("attempt", attempts);
    if let Some(status) = status {
        span.record("status", status.as_u16());
    }
    span.record("latency_ms", millis(started.elapsed()));
}

impl fmt::Debug for LuxCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LuxCore")
            .field("base_url", &self.inner.base_url)
            .field("credentials", self.credentials())
            .field("retry", &self.inner.retry)
            .field("rate_limited", &self.inner.limiter.is_some())
            .field("clock_offset_secs", &self.clock_offset_secs())
            .finish()
    }
}

impl LuxCore {
    pub(crate) fn from_parts(
        raw: luxcore_api::Client,
        http: reqwest::Client,
        base_url: String,
        hook: Arc<AuthHook>,
        retry: RetryPolicy,
        limiter: Option<Limiter>,
    ) -> Self {
        LuxCore {
            inner: Arc::new(Inner {
                raw,
                http,
                base_url,
                hook,
                retry,
                limiter,
            }),
        }
    }
}
