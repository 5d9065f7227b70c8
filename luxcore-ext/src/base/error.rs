//! The SDK's error type. (Turning responses into errors is response decoding, in the transport
//! layer.)
//!
//! Every fallible call returns [`Error`]. API answers with an error body become
//! [`Error::Api`] (with the parsed [`ErrorCode`]); HTTP 429 becomes
//! [`Error::RateLimited`]; bodies that are not what the API documents (an HTML page from
//! a proxy, truncated JSON) become [`Error::Decode`] with the HTTP status and a short
//! excerpt; network problems become [`Error::Transport`] or [`Error::Timeout`].

use std::fmt;
use std::time::Duration;

pub use luxcore_api::enums::ErrorCode;

use super::money::Money;

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
    RateLimiter(LimiterError),
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
            Error::RateLimiter(_) => "rate_limiter",
            Error::InsufficientFunds { .. } => "insufficient_funds",
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

/// Why a rate limiter (`rate_limit::RateLimiter`) could not give a permit. Never contains a secret (no API key, no
/// Redis URL or password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimiterError {
    /// The shared store (Redis) could not be reached or did not answer in time, and the
    /// limiter is configured to fail closed.
    #[error("the shared rate limiter is unavailable: {0}")]
    Unavailable(String),
    /// The shared store answered something unexpected (script error, wrong reply shape).
    #[error("the shared rate limiter failed: {0}")]
    Backend(String),
    /// The limiter is misconfigured (bad Redis URL, no key to share the limits by, ...).
    #[error("rate limiter configuration: {0}")]
    Config(String),
}

#[cfg(test)]
mod tests {
    use super::*;

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
