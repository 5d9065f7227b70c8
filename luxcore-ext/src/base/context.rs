//! Per-call and per-attempt state, passed explicitly (smithy-rs style): the runner creates an
//! [`AttemptContext`] for every attempt and hands it to the request hook, which records what
//! it saw of the response there; the runner reads it back for error decoding, retries and
//! the [`ResponseMeta`] of a successful call.

use std::sync::Mutex;
use std::time::Duration;

use luxcore_api::operations::{Auth, Operation};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};

use super::headers::{MetaHeaders, RECORDED_HEADERS, RateLimitInfo, X_REQUEST_ID, parse_http_date};

/// What the hook saw of one attempt.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttemptMeta {
    /// HTTP status of the response, if one arrived.
    pub status: Option<StatusCode>,
    /// The [`RECORDED_HEADERS`] of an error response (4xx/5xx: what decoding, retries and
    /// clock correction read). A 2xx answer's headers are read from the answer itself.
    pub headers: HeaderMap,
    /// The transport failed while connecting: the request never reached the server.
    pub connect_error: bool,
}

impl AttemptMeta {
    /// Records a transport result: the status and, for an error status, the
    /// [`RECORDED_HEADERS`] (for a success, only `X-Request-Id`: a 2xx whose body does not
    /// decode still names its request); or the failure kind.
    pub(crate) fn record(&mut self, result: &reqwest::Result<reqwest::Response>) {
        match result {
            Ok(response) => {
                let status = response.status();
                self.status = Some(status);
                if status.is_client_error() || status.is_server_error() {
                    let mut kept = HeaderMap::with_capacity(RECORDED_HEADERS.len());
                    for name in RECORDED_HEADERS {
                        if let Some(value) = response.headers().get(&name) {
                            kept.insert(name, value.clone());
                        }
                    }
                    self.headers = kept;
                } else if let Some(id) = response.headers().get(X_REQUEST_ID) {
                    self.headers.insert(X_REQUEST_ID, id.clone());
                }
            }
            Err(err) => self.connect_error = err.is_connect(),
        }
    }
}

/// One attempt of one call: what to send (operation, authentication, timeout) and, once
/// sent, what came back.
#[derive(Debug)]
pub(crate) struct AttemptContext {
    /// The operation (for a hand-made request, a description of it).
    pub operation: Operation,
    /// How to authenticate the request (`None`: no credentials, e.g. a pre-signed URL).
    pub auth: Option<Auth>,
    /// Attempt number, 1-based.
    pub attempt: u32,
    /// Timeout of this attempt (`None`: the client's default).
    pub timeout: Option<Duration>,
    /// Written by the hook.
    recorded: Mutex<AttemptMeta>,
}

impl AttemptContext {
    pub(crate) fn new(
        operation: Operation,
        auth: Option<Auth>,
        attempt: u32,
        timeout: Option<Duration>,
    ) -> Self {
        AttemptContext {
            operation,
            auth,
            attempt,
            timeout,
            recorded: Mutex::new(AttemptMeta::default()),
        }
    }

    /// Called by the hook with the transport result.
    pub(crate) fn record(&self, result: &reqwest::Result<reqwest::Response>) {
        if let Ok(mut meta) = self.recorded.lock() {
            meta.record(result);
        }
    }

    /// What the hook recorded.
    pub(crate) fn take_meta(&self) -> AttemptMeta {
        self.recorded
            .lock()
            .map(|mut meta| std::mem::take(&mut *meta))
            .unwrap_or_default()
    }
}

/// Metadata of a successful call: see [`Response::meta`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMeta {
    /// HTTP status of the answer.
    pub status: u16,
    /// `X-Request-Id`, to quote to LuxCore support.
    pub request_id: Option<String>,
    /// Attempts made, the successful one included (1 = no retry).
    pub attempts: u32,
    /// The `X-RateLimit-*` values of the answer.
    pub rate_limit: RateLimitInfo,
    /// The raw `Date` header of the answer (parsed on demand by [`Self::server_date`]).
    date: Option<HeaderValue>,
}

impl ResponseMeta {
    pub(crate) fn new(status: StatusCode, headers: &HeaderMap, attempts: u32) -> Self {
        let found = MetaHeaders::scan(headers);
        ResponseMeta {
            status: status.as_u16(),
            request_id: found.request_id(),
            attempts,
            rate_limit: found.rate_limit(),
            date: found.date.cloned(),
        }
    }

    /// The server's clock when it answered (its `Date` header, whole seconds), if sent and
    /// valid.
    pub fn server_date(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let value = self.date.as_ref()?.to_str().ok()?;
        chrono::DateTime::from_timestamp(parse_http_date(value)?, 0)
    }
}

/// A successful answer with its [`ResponseMeta`]. Derefs to the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<T> {
    value: T,
    meta: ResponseMeta,
}

impl<T> Response<T> {
    pub(crate) fn new(value: T, meta: ResponseMeta) -> Self {
        Response { value, meta }
    }

    /// Status, request id, attempts and rate-limit values.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// The value.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The value and the metadata.
    pub fn into_parts(self) -> (T, ResponseMeta) {
        (self.value, self.meta)
    }

    /// Applies `f` to the value, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            value: f(self.value),
            meta: self.meta,
        }
    }
}

impl<T> std::ops::Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16) -> reqwest::Result<reqwest::Response> {
        let response = http::Response::builder()
            .status(status)
            .header("date", "Tue, 14 Nov 2023 22:13:20 GMT")
            .header("retry-after", "3")
            .header("x-ratelimit-remaining", "0")
            .header("x-request-id", "req_1")
            .header("content-type", "application/json")
            .body(Vec::<u8>::new())
            .unwrap();
        Ok(reqwest::Response::from(response))
    }

    #[test]
    fn error_answers_keep_the_recorded_headers_success_only_the_request_id() {
        let mut meta = AttemptMeta::default();
        meta.record(&answer(429));
        assert_eq!(meta.status, Some(StatusCode::TOO_MANY_REQUESTS));
        assert_eq!(meta.headers.len(), 4);
        assert_eq!(meta.headers["x-request-id"], "req_1");
        assert_eq!(meta.headers["retry-after"], "3");
        assert!(meta.headers.get("content-type").is_none());
        let mut meta = AttemptMeta::default();
        meta.record(&answer(500));
        assert_eq!(meta.headers.len(), 4);
        // A 2xx answer's headers are read from the answer itself (ResponseMeta::new); only
        // its request id is kept, for a body that does not decode.
        let mut meta = AttemptMeta::default();
        meta.record(&answer(200));
        assert_eq!(meta.status, Some(StatusCode::OK));
        assert_eq!(meta.headers.len(), 1);
        assert_eq!(meta.headers["x-request-id"], "req_1");
        assert!(!meta.connect_error);
    }
}
