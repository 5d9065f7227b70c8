//! The SDK's error type and the mapping from the generated client's errors.
//!
//! Every fallible call returns [`Error`]. API answers with an error body become
//! [`Error::Api`] (with the parsed [`ErrorCode`]); HTTP 429 becomes
//! [`Error::RateLimited`]; bodies that are not what the API documents (an HTML page from
//! a proxy, truncated JSON) become [`Error::Decode`] with the HTTP status and a short
//! excerpt; network problems become [`Error::Transport`] or [`Error::Timeout`].
//!
//! Error bodies come in three shapes, all understood here:
//!
//! * business: `{"statusCode":400,"message":"...","error_code":"INSUFFICIENT_BALANCE","timestamp":"..."}`
//! * validation: `{"statusCode":400,"message":["amount must ..."],"error":"Bad Request"}` →
//!   [`ErrorCode::ValidationError`]
//! * older: `{"statusCode":401,"message":"...","error":"INVALID_API_KEY"}` (code in `error`).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use luxcore_api::types::{ErrorMessage, ErrorResponse};
use reqwest::header::HeaderMap;
use serde::Deserialize;

pub use luxcore_api::enums::ErrorCode;

use crate::balance::Money;
use crate::client::hook::AttemptMeta;

/// Result alias used throughout the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest body excerpt kept in [`Error::Decode`], in characters.
pub const BODY_EXCERPT_CHARS: usize = 200;

/// Everything that can go wrong in a LuxCore call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error body (4xx/5xx other than 429).
    #[error("{}", DisplayApi { status: *status, code, messages, request_id: request_id.as_deref() })]
    Api {
        /// HTTP status.
        status: u16,
        /// The error code (`error_code`, or derived from the body shape and status).
        code: ErrorCode,
        /// Human-readable messages (one for business errors, one per field for validation errors).
        messages: Vec<String>,
        /// Server timestamp of the error (business errors only).
        timestamp: Option<String>,
        /// Request id for LuxCore support (body `request_id` or `X-Request-Id` header).
        request_id: Option<String>,
    },
    /// The request could not be sent or the response could not be read (DNS, connect,
    /// TLS, connection reset).
    #[error("transport error: {message}")]
    Transport {
        /// Description, including the underlying error chain.
        message: String,
    },
    /// The request (one attempt) took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,
    /// The response body is not what the API documents (e.g. an HTML error page).
    #[error("could not decode the response{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Decode {
        /// HTTP status of the response, when known.
        status: Option<u16>,
        /// What failed to parse.
        message: String,
        /// The first [`BODY_EXCERPT_CHARS`] characters of the body.
        body_excerpt: String,
    },
    /// HTTP 429: too many requests (after retries, if enabled).
    #[error("rate limited by LuxCore{}", retry_after.map(|d| format!(" (retry after {} ms)", d.as_millis())).unwrap_or_default())]
    RateLimited {
        /// How long the server asked to wait (`Retry-After` or `X-RateLimit-Reset`).
        retry_after: Option<Duration>,
    },
    /// The client is misconfigured (bad base URL, missing credentials for the route, ...).
    #[error("configuration error: {0}")]
    Config(String),
    /// A request value was rejected before sending (e.g. a zero amount).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client-side rate limiter gave no permit (a shared limiter configured to fail
    /// closed whose store is down). Nothing was sent.
    #[error("{0}")]
    RateLimiter(crate::rate_limit::LimiterError),
    /// A balance check found too little available money for the operation.
    #[error("insufficient funds: needed {needed}, available {available}")]
    InsufficientFunds {
        /// Amount the operation needs.
        needed: Money,
        /// Amount available.
        available: Money,
    },
}

struct DisplayApi<'a> {
    status: u16,
    code: &'a ErrorCode,
    messages: &'a [String],
    request_id: Option<&'a str>,
}

impl fmt::Display for DisplayApi<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LuxCore API error {} {}", self.status, self.code)?;
        if !self.messages.is_empty() {
            write!(f, ": {}", self.messages.join("; "))?;
        }
        if let Some(id) = self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

static RATE_LIMIT_EXCEEDED: ErrorCode = ErrorCode::RateLimitExceeded;

/// Retry classification of [`ErrorCode`]s.
pub trait ErrorCodeExt {
    /// `true` for codes that may succeed when the same request is sent again later:
    /// `MISSING_REQUISITES`, `NO_AVAILABLE_REQUISITES`, `RATE_LIMIT_EXCEEDED`,
    /// `INTERNAL_ERROR`, `SERVICE_UNAVAILABLE`. Documented non-recoverable codes
    /// (`INVALID_METHOD`, `UNSUPPORTED_CURRENCY`, ...) and unknown codes are `false`.
    fn is_retryable(&self) -> bool;
}

impl ErrorCodeExt for ErrorCode {
    fn is_retryable(&self) -> bool {
        matches!(
            self,
            ErrorCode::MissingRequisites
                | ErrorCode::NoAvailableRequisites
                | ErrorCode::RateLimitExceeded
                | ErrorCode::InternalError
                | ErrorCode::ServiceUnavailable
        )
    }
}

/// HTTP statuses that are worth retrying for safe requests.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl Error {
    /// `true` when sending the same request again later may succeed: transport errors,
    /// timeouts, 429, 500/502/503/504 and retryable codes (see [`ErrorCodeExt`]).
    /// Whether the SDK retries automatically also depends on the operation (see
    /// [`crate::retry`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout | Error::RateLimited { .. } => true,
            Error::Api { status, code, .. } => is_retryable_status(*status) || code.is_retryable(),
            Error::Decode {
                status: Some(status),
                ..
            } => is_retryable_status(*status),
            _ => false,
        }
    }

    /// The API error code: the parsed code of [`Error::Api`],
    /// `RATE_LIMIT_EXCEEDED` for [`Error::RateLimited`], otherwise `None`.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(code),
            Error::RateLimited { .. } => Some(&RATE_LIMIT_EXCEEDED),
            _ => None,
        }
    }

    /// The HTTP status, when the error comes from a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Decode { status, .. } => *status,
            Error::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// The request id to quote to LuxCore support, when the server sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// A short, secret-free label of the error kind, for logs and tracing.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Error::Api { .. } => "api",
            Error::Transport { .. } => "transport",
            Error::Timeout => "timeout",
            Error::Decode { .. } => "decode",
            Error::RateLimited { .. } => "rate_limited",
            Error::Config(_) => "config",
            Error::InvalidRequest(_) => "invalid_request",
            Error::InsufficientFunds { .. } => "insufficient_funds",
            Error::RateLimiter(_) => "rate_limiter",
        }
    }

    /// Maps a transport-level `reqwest` error.
    pub(crate) fn from_reqwest(err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            Error::Timeout
        } else if err.is_builder() {
            Error::Config(error_chain(err))
        } else {
            Error::Transport {
                message: error_chain(err),
            }
        }
    }
}

/// `err` followed by its sources, `: `-separated.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = inner.source();
    }
    message
}

/// The first [`BODY_EXCERPT_CHARS`] characters of a body, lossily decoded.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut excerpt: String = text.chars().take(BODY_EXCERPT_CHARS).collect();
    if text.chars().nth(BODY_EXCERPT_CHARS).is_some() {
        // Keep within the limit while marking the cut.
        excerpt.pop();
        excerpt.push('…');
    }
    excerpt
}

/// An error body in any of the three documented shapes, parsed leniently.
#[derive(Debug, Default, Deserialize)]
struct LenientErrorBody {
    #[serde(default)]
    message: Option<LenientMessage>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum LenientMessage {
    One(String),
    Many(Vec<String>),
}

/// The parts of an error body the SDK uses.
#[derive(Debug, Default)]
struct ErrorParts {
    error_code: Option<ErrorCode>,
    error: Option<String>,
    messages: Vec<String>,
    message_is_array: bool,
    timestamp: Option<String>,
    request_id: Option<String>,
}

impl From<ErrorResponse> for ErrorParts {
    fn from(body: ErrorResponse) -> Self {
        let (messages, message_is_array) = match body.message {
            ErrorMessage::String(one) => (vec![one], false),
            ErrorMessage::Array(many) => (many, true),
        };
        ErrorParts {
            error_code: body.error_code,
            error: body.error,
            messages,
            message_is_array,
            timestamp: body.timestamp,
            request_id: body.request_id,
        }
    }
}

impl ErrorParts {
    /// Parses a body that looks like an error body (`error_code` or `message` present).
    fn parse_lenient(body: &[u8]) -> Option<Self> {
        let parsed: LenientErrorBody = serde_json::from_slice(body).ok()?;
        if parsed.error_code.is_none() && parsed.message.is_none() {
            return None;
        }
        let (messages, message_is_array) = match parsed.message {
            Some(LenientMessage::One(one)) => (vec![one], false),
            Some(LenientMessage::Many(many)) => (many, true),
            None => (Vec::new(), false),
        };
        Some(ErrorParts {
            error_code: parsed.error_code.map(ErrorCode::from),
            error: parsed.error,
            messages,
            message_is_array,
            timestamp: parsed.timestamp,
            request_id: parsed.request_id,
        })
    }

    /// The code: `error_code`; else a code-like `error` (older shape); else the
    /// validation shape; else derived from the status.
    fn code(&self, status: u16) -> ErrorCode {
        if let Some(code) = &self.error_code {
            return code.clone();
        }
        if let Some(error) = self.error.as_deref().filter(|e| looks_like_code(e)) {
            return ErrorCode::from(error);
        }
        if self.message_is_array {
            return ErrorCode::ValidationError;
        }
        code_for_status(status, self.error.as_deref())
    }

    fn into_error(self, status: u16, headers: &HeaderMap) -> Error {
        if status == 429 {
            return rate_limited(headers);
        }
        let code = self.code(status);
        Error::Api {
            status,
            code,
            messages: self.messages,
            timestamp: self.timestamp,
            request_id: self.request_id.or_else(|| header_request_id(headers)),
        }
    }
}

/// `SCREAMING_SNAKE_CASE` with at least one underscore: the older shape's code in `error`.
fn looks_like_code(s: &str) -> bool {
    s.contains('_')
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// A code for a status when the body carries none.
fn code_for_status(status: u16, error: Option<&str>) -> ErrorCode {
    match status {
        400 | 422 => ErrorCode::ValidationError,
        401 => ErrorCode::InvalidApiKey,
        403 => ErrorCode::InsufficientScope,
        404 => ErrorCode::NotFound,
        429 => ErrorCode::RateLimitExceeded,
        500 => ErrorCode::InternalError,
        503 => ErrorCode::ServiceUnavailable,
        _ => ErrorCode::Other(error.map_or_else(|| format!("HTTP_{status}"), str::to_owned)),
    }
}

fn header_request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn rate_limited(headers: &HeaderMap) -> Error {
    Error::RateLimited {
        retry_after: crate::retry::server_delay_hint(headers, luxcore_auth::unix_now()),
    }
}

/// Maps a response (status, headers, body) that is an error or could not be decoded.
pub(crate) fn from_error_body(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parts = (status >= 400)
        .then(|| ErrorParts::parse_lenient(body))
        .flatten();
    if let Some(parts) = parts {
        return parts.into_error(status, headers);
    }
    if status == 429 {
        return rate_limited(headers);
    }
    let message = match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Err(e) => format!("body is not valid JSON: {e}"),
        Ok(_) => format!("unexpected response body for HTTP {status}"),
    };
    Error::Decode {
        status: Some(status),
        message,
        body_excerpt: body_excerpt(body),
    }
}

/// Maps an error of the generated client, using what the request hook recorded about
/// the attempt (`meta`) where the generated error lost it (status, headers).
pub(crate) async fn from_api_error(
    err: luxcore_api::Error<ErrorResponse>,
    meta: &AttemptMeta,
) -> Error {
    use luxcore_api::Error as E;
    match err {
        E::ErrorResponse(rv) => {
            let status = rv.status().as_u16();
            let headers = rv.headers().clone();
            ErrorParts::from(rv.into_inner()).into_error(status, &headers)
        }
        E::InvalidResponsePayload(bytes, e) => decode_error(meta, &bytes, &e),
        E::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            match response.bytes().await {
                Ok(body) => from_error_body(status, &headers, &body),
                Err(e) => Error::from_reqwest(&e),
            }
        }
        E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
            Error::from_reqwest(&e)
        }
        E::Custom(message) => Error::Config(message),
        E::InvalidRequest(message) => Error::InvalidRequest(message),
    }
}

/// A body that failed to deserialize: an error body in an unexpected place, or a Decode error.
fn decode_error(meta: &AttemptMeta, bytes: &Bytes, e: &serde_json::Error) -> Error {
    let status = meta.status.map(|s| s.as_u16());
    if let Some(status) = status.filter(|s| *s >= 400) {
        // A 4xx/5xx whose body is not the documented shape: try the lenient parser.
        if let Some(parts) = ErrorParts::parse_lenient(bytes) {
            return parts.into_error(status, &meta.headers);
        }
        if status == 429 {
            return rate_limited(&meta.headers);
        }
    }
    Error::Decode {
        status,
        message: e.to_string(),
        body_excerpt: body_excerpt(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use luxcore_api::ResponseValue;
    use reqwest::StatusCode;
    use reqwest::header::HeaderValue;

    #[test]
    fn insufficient_funds_reads_as_money() {
        let err = Error::InsufficientFunds {
            needed: Money::new(10_000_000, crate::Currency::ARS),
            available: Money::new(91_000, crate::Currency::ARS),
        };
        assert_eq!(
            err.to_string(),
            "insufficient funds: needed 100,000.00 ARS, available 910.00 ARS"
        );
    }

    fn rv(status: u16, body: &str, headers: HeaderMap) -> luxcore_api::Error<ErrorResponse> {
        let parsed: ErrorResponse = serde_json::from_str(body).unwrap();
        luxcore_api::Error::ErrorResponse(ResponseValue::new(
            parsed,
            StatusCode::from_u16(status).unwrap(),
            headers,
        ))
    }

    fn map(err: luxcore_api::Error<ErrorResponse>, meta: &AttemptMeta) -> Error {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(from_api_error(err, meta))
    }

    #[test]
    fn business_error_body() {
        let body = r#"{"statusCode":400,"message":"Insufficient balance for withdrawal",
            "error_code":"INSUFFICIENT_BALANCE","timestamp":"2025-01-28T10:00:00.000Z"}"#;
        let err = map(rv(400, body, HeaderMap::new()), &AttemptMeta::default());
        assert_eq!(
            err,
            Error::Api {
                status: 400,
                code: ErrorCode::InsufficientBalance,
                messages: vec!["Insufficient balance for withdrawal".into()],
                timestamp: Some("2025-01-28T10:00:00.000Z".into()),
                request_id: None,
            }
        );
        assert!(!err.is_retryable());
        assert_eq!(err.status(), Some(400));
        assert_eq!(err.code(), Some(&ErrorCode::InsufficientBalance));
        assert!(err.to_string().contains("INSUFFICIENT_BALANCE"));
    }

    #[test]
    fn validation_error_body() {
        let body = r#"{"statusCode":400,"message":["amount must not be less than 1",
            "merchant_reference must be a string"],"error":"Bad Request"}"#;
        let err = map(rv(400, body, HeaderMap::new()), &AttemptMeta::default());
        let Error::Api { code, messages, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(code, &ErrorCode::ValidationError);
        assert_eq!(messages.len(), 2);
    }

    #[test]
    fn older_shape_with_code_in_error() {
        let body = r#"{"statusCode":401,"message":"API key not found or invalid","error":"INVALID_API_KEY"}"#;
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("req_42"));
        let err = map(rv(401, body, headers), &AttemptMeta::default());
        assert_eq!(err.code(), Some(&ErrorCode::InvalidApiKey));
        assert_eq!(err.request_id(), Some("req_42"));
        // An unknown code-like value is kept verbatim.
        let body = r#"{"statusCode":409,"message":"x","error":"SOMETHING_NEW"}"#;
        let err = map(rv(409, body, HeaderMap::new()), &AttemptMeta::default());
        assert_eq!(err.code(), Some(&ErrorCode::Other("SOMETHING_NEW".into())));
    }

    #[test]
    fn status_fallback_codes() {
        for (status, code) in [
            (404, ErrorCode::NotFound),
            (403, ErrorCode::InsufficientScope),
            (500, ErrorCode::InternalError),
            (503, ErrorCode::ServiceUnavailable),
            (418, ErrorCode::Other("I'm a teapot".into())),
        ] {
            let body = format!(
                r#"{{"statusCode":{status},"message":"m","error":"{}"}}"#,
                if status == 418 {
                    "I'm a teapot"
                } else {
                    "Whatever"
                }
            );
            let err = map(rv(status, &body, HeaderMap::new()), &AttemptMeta::default());
            assert_eq!(err.code(), Some(&code), "{status}");
        }
    }

    #[test]
    fn too_many_requests_is_rate_limited_with_retry_after() {
        let body = r#"{"statusCode":429,"message":"Too many","error_code":"RATE_LIMIT_EXCEEDED"}"#;
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        let err = map(rv(429, body, headers), &AttemptMeta::default());
        assert_eq!(
            err,
            Error::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert!(err.is_retryable());
        assert_eq!(err.status(), Some(429));
        assert_eq!(err.code(), Some(&ErrorCode::RateLimitExceeded));
    }

    #[test]
    fn html_502_is_decode_with_status_from_meta() {
        let html = format!("<html><body>{}</body></html>", "Bad Gateway ".repeat(50));
        let serde_err = serde_json::from_str::<ErrorResponse>(&html).unwrap_err();
        let meta = AttemptMeta {
            status: Some(StatusCode::BAD_GATEWAY),
            ..AttemptMeta::default()
        };
        let err = map(
            luxcore_api::Error::InvalidResponsePayload(Bytes::from(html.clone()), serde_err),
            &meta,
        );
        let Error::Decode {
            status,
            body_excerpt,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*status, Some(502));
        assert!(body_excerpt.starts_with("<html><body>Bad Gateway"));
        assert_eq!(body_excerpt.chars().count(), BODY_EXCERPT_CHARS);
        assert!(err.is_retryable());
    }

    #[test]
    fn lenient_error_body_without_status_code() {
        // A 4xx body missing `statusCode` fails the typed parse but is still an API error.
        let body = br#"{"message":"Payment not found","error_code":"PAYMENT_NOT_FOUND"}"#;
        let serde_err = serde_json::from_slice::<ErrorResponse>(body).unwrap_err();
        let meta = AttemptMeta {
            status: Some(StatusCode::NOT_FOUND),
            ..AttemptMeta::default()
        };
        let err = map(
            luxcore_api::Error::InvalidResponsePayload(Bytes::from_static(body), serde_err),
            &meta,
        );
        assert_eq!(err.code(), Some(&ErrorCode::PaymentNotFound));
        assert_eq!(err.status(), Some(404));
    }

    #[test]
    fn success_body_that_does_not_parse_is_decode() {
        let serde_err = serde_json::from_str::<ErrorResponse>("{}").unwrap_err();
        let meta = AttemptMeta {
            status: Some(StatusCode::OK),
            ..AttemptMeta::default()
        };
        let err = map(
            luxcore_api::Error::InvalidResponsePayload(Bytes::from_static(b"{}"), serde_err),
            &meta,
        );
        assert!(matches!(
            err,
            Error::Decode {
                status: Some(200),
                ..
            }
        ));
        assert!(!err.is_retryable());
    }

    #[test]
    fn custom_and_invalid_request() {
        let meta = AttemptMeta::default();
        let err = map(luxcore_api::Error::Custom("no API key".into()), &meta);
        assert_eq!(err, Error::Config("no API key".into()));
        let err = map(luxcore_api::Error::InvalidRequest("bad".into()), &meta);
        assert_eq!(err, Error::InvalidRequest("bad".into()));
    }

    #[test]
    fn from_error_body_shapes() {
        let headers = HeaderMap::new();
        let err = from_error_body(
            503,
            &headers,
            br#"{"statusCode":503,"message":"down","error_code":"SERVICE_UNAVAILABLE"}"#,
        );
        assert_eq!(err.code(), Some(&ErrorCode::ServiceUnavailable));
        assert!(err.is_retryable());
        let err = from_error_body(502, &headers, b"<html>oops</html>");
        assert!(
            matches!(err, Error::Decode { status: Some(502), ref body_excerpt, .. } if body_excerpt == "<html>oops</html>")
        );
        let err = from_error_body(429, &headers, b"slow down");
        assert_eq!(err, Error::RateLimited { retry_after: None });
        // A 3xx is never an API error, even with an error-looking body.
        let err = from_error_body(302, &headers, br#"{"message":"moved"}"#);
        assert!(matches!(
            err,
            Error::Decode {
                status: Some(302),
                ..
            }
        ));
    }

    #[test]
    fn excerpt_is_char_safe() {
        let body = "é".repeat(300);
        let excerpt = body_excerpt(body.as_bytes());
        assert_eq!(excerpt.chars().count(), BODY_EXCERPT_CHARS);
        assert!(excerpt.ends_with('…'));
        assert_eq!(body_excerpt(b"short"), "short");
        assert_eq!(body_excerpt(&[0xff, 0xfe]), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn retryable_codes() {
        for code in [
            ErrorCode::MissingRequisites,
            ErrorCode::NoAvailableRequisites,
            ErrorCode::RateLimitExceeded,
            ErrorCode::InternalError,
            ErrorCode::ServiceUnavailable,
        ] {
            assert!(code.is_retryable(), "{code}");
        }
        for code in [
            ErrorCode::InvalidApiKey,
            ErrorCode::InsufficientBalance,
            ErrorCode::InvalidMethod,
            ErrorCode::InvalidWithdrawalData,
            ErrorCode::UnsupportedCurrency,
            ErrorCode::WithdrawalNotSupported,
            ErrorCode::ValidationError,
            ErrorCode::Other("X".into()),
        ] {
            assert!(!code.is_retryable(), "{code}");
        }
        let missing = Error::Api {
            status: 400,
            code: ErrorCode::MissingRequisites,
            messages: vec![],
            timestamp: None,
            request_id: None,
        };
        assert!(missing.is_retryable());
        assert!(Error::Timeout.is_retryable());
        assert!(!Error::Config("x".into()).is_retryable());
    }
}
