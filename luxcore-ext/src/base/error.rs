//! The SDK's error type. (Turning responses into errors is response decoding, in the transport
//! layer.)
//!
//! Every fallible call returns [`Error`]. API answers with an error body become
//! [`Error::Api`] (with the parsed [`ErrorCode`]); HTTP 429 becomes
//! [`Error::RateLimited`]; bodies that are not what the API documents (an HTML page from
//! a proxy, truncated JSON) become [`Error::Decode`] with the HTTP status, a short excerpt
//! and, when the body was JSON, the parsed value; network problems become
//! [`Error::Transport`] (the `reqwest` error kept as [`source`](std::error::Error::source))
//! or [`Error::Timeout`]. Two cases exist because money is involved:
//! [`Error::ReferenceConflict`] (a reused `merchant_reference` answered with another
//! payment) and [`Error::CreatedButUnreadable`] (a creation answered 2xx whose body could
//! not be read: the payment may exist, do not create it again).
//!
//! Match the common cases with the predicates rather than the variants:
//!
//! ```
//! # fn handle(error: luxcore_ext::Error) {
//! if error.is_retryable() {
//!     // the SDK already retried what was safe; try again later
//! } else if error.is_reference_conflict() {
//!     // merchant_reference reused for another order: a bug on our side
//! } else if error.is_created_but_unreadable() {
//!     // the payment may exist: look it up by merchant_reference before anything else
//! }
//! eprintln!("{error} (status {:?}, request id {:?})", error.status(), error.request_id());
//! # }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use luxcore_api::enums::ErrorCode;
pub use luxcore_api::errors::{ErrorInfo, Recovery};
use luxcore_api::types::Payment;
use serde_json::Value;

use super::money::Money;

/// Result alias used throughout the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest body excerpt kept in [`Error::Decode`], in characters.
pub const BODY_EXCERPT_CHARS: usize = 200;

/// Longest body parsed into the JSON value of [`Error::Decode`] and
/// [`Error::CreatedButUnreadable`], in bytes (64 KiB): larger bodies keep only the excerpt.
pub const BODY_VALUE_MAX_BYTES: usize = 64 * 1024;

/// What failed at the transport level ([`Error::Transport`]), as far as `reqwest` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// Connecting failed (DNS, refused, TLS handshake): nothing reached the server.
    Connect,
    /// Sending the request failed after connecting (e.g. a reset connection).
    Request,
    /// Reading the response body failed.
    Body,
    /// Anything else (redirect loops, decoding of the transfer encoding, ...).
    Other,
}

/// Everything that can go wrong in a LuxCore call.
///
/// The cause is kept: [`std::error::Error::source`] leads to the `reqwest` error (and its
/// own sources: hyper, io, rustls) of a transport failure. `Clone` shares it (an `Arc`);
/// `PartialEq` compares what the errors say (variant and fields), not the identity of
/// their sources, nor how many attempts led to them.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error body (4xx/5xx other than 429). The `Display` ends
    /// with what to do about it ([`Error::recovery`], [`Error::advice`]).
    #[error("{}", DisplayApi { status: *status, code, messages, request_id: request_id.as_deref() })]
    #[non_exhaustive]
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
        /// The body's `data` object, when it has one (a `PAYMENT_ALREADY_EXISTS` answer may
        /// carry the existing payment there).
        data: Option<Box<Value>>,
        /// Attempts the call made, the one answered with this included.
        attempts: u32,
    },
    /// The request could not be sent or the response could not be read (DNS, connect,
    /// TLS, connection reset). The `reqwest` error is the [`source`](std::error::Error::source).
    #[error("transport error: {message}")]
    #[non_exhaustive]
    Transport {
        /// Description, including the underlying error chain.
        message: String,
        /// What failed.
        kind: TransportKind,
        /// The underlying error (absent only for failures the SDK detects itself).
        #[source]
        source: Option<Arc<reqwest::Error>>,
    },
    /// The request (one attempt) took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,
    /// The call's deadline ([`CallOptions::deadline`](crate::CallOptions::deadline)) passed
    /// before it could finish: waiting for the rate limiter, backing off or in an attempt.
    /// A request may have reached the server (as with [`Error::Timeout`]).
    #[error("the call's deadline of {} ms passed", deadline.as_millis())]
    DeadlineExceeded {
        /// The deadline the call had.
        deadline: Duration,
    },
    /// The response body is not what the API documents (e.g. an HTML error page, or a
    /// payload that drifted from the spec).
    #[error("could not decode the response{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    #[non_exhaustive]
    Decode {
        /// HTTP status of the response, when known.
        status: Option<u16>,
        /// What failed to parse.
        message: String,
        /// The first [`BODY_EXCERPT_CHARS`] characters of the body.
        body_excerpt: String,
        /// The body as JSON, when it was JSON of at most [`BODY_VALUE_MAX_BYTES`]: read the
        /// fields you need from it (e.g. `body["id"]`, `body["status"]`).
        body: Option<Box<Value>>,
        /// Request id (`X-Request-Id`), when the server sent one.
        request_id: Option<String>,
        /// Attempts the call made, the one answered with this included.
        attempts: u32,
    },
    /// A payment creation was answered 2xx but the body could not be read as a payment:
    /// **the payment may exist**. The SDK does not retry this (a retry would be answered
    /// as a duplicate); look the payment up by its `merchant_reference` (or read `body`)
    /// before doing anything else.
    #[error("payment created (HTTP {status}) but the answer could not be read: {message}")]
    #[non_exhaustive]
    CreatedButUnreadable {
        /// HTTP status of the answer (201 new, 200 existing).
        status: u16,
        /// What failed to parse.
        message: String,
        /// The body as JSON, when it was JSON of at most [`BODY_VALUE_MAX_BYTES`].
        body: Option<Box<Value>>,
        /// Request id (`X-Request-Id`), when the server sent one.
        request_id: Option<String>,
        /// Attempts the call made, the one answered with this included.
        attempts: u32,
    },
    /// A creation's `merchant_reference` is already used by a payment with another amount,
    /// currency, type or method: **not** the payment this request asked for (a reference
    /// reused for another order). Nothing was created; `existing` is the other payment.
    #[error("merchant_reference already used by another payment (differs in {})", fields.join(", "))]
    #[non_exhaustive]
    ReferenceConflict {
        /// The fields that differ: `amount`, `currency`, `type`, `method`.
        fields: Vec<&'static str>,
        /// The payment that holds the reference.
        existing: Box<Payment>,
        /// Request id (`X-Request-Id`), when the server sent one.
        request_id: Option<String>,
        /// Attempts the call made, the one answered with this included.
        attempts: u32,
    },
    /// HTTP 429: too many requests (after retries, if enabled).
    #[error("rate limited by LuxCore{}", retry_after.map(|d| format!(" (retry after {} ms)", d.as_millis())).unwrap_or_default())]
    #[non_exhaustive]
    RateLimited {
        /// How long the server asked to wait (`Retry-After` or `X-RateLimit-Reset`).
        retry_after: Option<Duration>,
        /// Request id (`X-Request-Id`), when the server sent one.
        request_id: Option<String>,
        /// Attempts the call made, the one answered with this included.
        attempts: u32,
    },
    /// The client is misconfigured (bad base URL, missing credentials for the route, ...).
    #[error("configuration error: {0}")]
    Config(String),
    /// A request value was rejected before sending (e.g. a zero amount).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client-side rate limiter gave no permit (a shared limiter configured to fail
    /// closed whose store is down, or a slot further away than the call's deadline).
    /// Nothing was sent.
    #[error("{0}")]
    RateLimiter(#[source] LimiterError),
    /// A balance check found too little available money for the operation.
    #[error("insufficient funds: needed {needed}, available {available}")]
    InsufficientFunds {
        /// Amount the operation needs.
        needed: Money,
        /// Amount available.
        available: Money,
    },
}

impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        use Error as E;
        match (self, other) {
            (
                E::Api {
                    status,
                    code,
                    messages,
                    timestamp,
                    request_id,
                    data,
                    ..
                },
                E::Api {
                    status: s,
                    code: c,
                    messages: m,
                    timestamp: t,
                    request_id: r,
                    data: d,
                    ..
                },
            ) => {
                status == s
                    && code == c
                    && messages == m
                    && timestamp == t
                    && request_id == r
                    && data == d
            }
            (
                E::Transport { message, kind, .. },
                E::Transport {
                    message: m,
                    kind: k,
                    ..
                },
            ) => message == m && kind == k,
            (E::Timeout, E::Timeout) => true,
            (E::DeadlineExceeded { deadline }, E::DeadlineExceeded { deadline: d }) => {
                deadline == d
            }
            (
                E::Decode {
                    status,
                    message,
                    body_excerpt,
                    body,
                    request_id,
                    ..
                },
                E::Decode {
                    status: s,
                    message: m,
                    body_excerpt: x,
                    body: b,
                    request_id: r,
                    ..
                },
            ) => status == s && message == m && body_excerpt == x && body == b && request_id == r,
            (
                E::CreatedButUnreadable {
                    status,
                    message,
                    body,
                    request_id,
                    ..
                },
                E::CreatedButUnreadable {
                    status: s,
                    message: m,
                    body: b,
                    request_id: r,
                    ..
                },
            ) => status == s && message == m && body == b && request_id == r,
            (
                E::ReferenceConflict {
                    fields,
                    existing,
                    request_id,
                    ..
                },
                E::ReferenceConflict {
                    fields: f,
                    existing: e,
                    request_id: r,
                    ..
                },
            ) => fields == f && existing == e && request_id == r,
            (
                E::RateLimited {
                    retry_after,
                    request_id,
                    ..
                },
                E::RateLimited {
                    retry_after: a,
                    request_id: r,
                    ..
                },
            ) => retry_after == a && request_id == r,
            (E::Config(a), E::Config(b)) | (E::InvalidRequest(a), E::InvalidRequest(b)) => a == b,
            (E::RateLimiter(a), E::RateLimiter(b)) => a == b,
            (
                E::InsufficientFunds { needed, available },
                E::InsufficientFunds {
                    needed: n,
                    available: a,
                },
            ) => needed == n && available == a,
            _ => false,
        }
    }
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
        write!(
            f,
            "; what to do: {}",
            api_advice(self.code, api_recovery(self.status, self.code))
        )
    }
}

static RATE_LIMIT_EXCEEDED: ErrorCode = ErrorCode::RateLimitExceeded;

/// What the catalogue says about [`ErrorCode`]s (`openapi.json`'s `x-luxcore-errors`,
/// generated into [`luxcore_api::errors`]).
pub trait ErrorCodeExt {
    /// What to do about this code: the catalogue's recovery, or
    /// [`Recovery::ContactSupport`] for a code this version does not know (an error
    /// knows more: see [`Error::recovery`], which also reads the HTTP status).
    fn recovery(&self) -> Recovery;

    /// `true` for codes whose recovery is to send the same request again
    /// ([`Recovery::Retry`], [`Recovery::RetryLater`]): `LOCK_TIMEOUT`,
    /// `TRANSACTION_ERROR`, `DATABASE_ERROR`, `TIMEOUT`, `PROVIDER_ERROR`,
    /// `RATE_LIMIT_EXCEEDED`, `INTERNAL_ERROR`, `SERVICE_UNAVAILABLE`. The "wait" codes
    /// (`MISSING_REQUISITES`, `NO_AVAILABLE_REQUISITES`, `INSUFFICIENT_BALANCE`) and unknown
    /// codes are `false`.
    fn is_retryable(&self) -> bool;
}

impl ErrorCodeExt for ErrorCode {
    fn recovery(&self) -> Recovery {
        self.info()
            .map_or(Recovery::ContactSupport, |info| info.recovery)
    }

    fn is_retryable(&self) -> bool {
        self.info().is_some_and(|info| resends(info.recovery))
    }
}

/// Whether a recovery is "send the same request again".
fn resends(recovery: Recovery) -> bool {
    matches!(recovery, Recovery::Retry | Recovery::RetryLater)
}

/// The recovery of an API error: the code's, when the catalogue knows it; else the status's.
fn api_recovery(status: u16, code: &ErrorCode) -> Recovery {
    match code.info() {
        Some(info) => info.recovery,
        None => match status {
            429 | 503 => Recovery::RetryLater,
            500 | 502 | 504 => Recovery::Retry,
            401 | 403 => Recovery::FixCredentials,
            400 | 404 | 405 | 409 | 413 | 415 | 422 => Recovery::FixRequest,
            _ => Recovery::ContactSupport,
        },
    }
}

/// The advice in words: the code's, when the catalogue knows it; else the recovery's.
fn api_advice(code: &ErrorCode, recovery: Recovery) -> &'static str {
    code.info()
        .map_or(recovery.description(), |info| info.advice)
}

/// HTTP statuses that are worth retrying for safe requests.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl Error {
    /// `true` when sending the same request again may succeed: the errors whose
    /// [`recovery`](Self::recovery) is [`Recovery::Retry`] or [`Recovery::RetryLater`] —
    /// transport errors, timeouts, 429, the catalogue's retryable codes (see
    /// [`ErrorCodeExt::is_retryable`]) and, for codes the catalogue does not know, HTTP
    /// 500/502/503/504. Whether the SDK retries automatically also depends on the
    /// operation (see [`crate::retry`]).
    pub fn is_retryable(&self) -> bool {
        resends(self.recovery())
    }

    /// What to do about this error, for any error: the catalogue's recovery of an API
    /// error's code (by HTTP status for a code the catalogue does not know),
    /// [`Recovery::Retry`] for transport failures and timeouts (the SDK already retried
    /// what was safe), [`Recovery::RetryLater`] for 429 and a rate limiter without a
    /// permit, [`Recovery::FixRequest`] for a request refused before sending,
    /// [`Recovery::WaitForBalance`] for [`Error::InsufficientFunds`],
    /// [`Recovery::UseUniqueReference`] for [`Error::ReferenceConflict`],
    /// [`Recovery::ReturnsExisting`] for [`Error::CreatedButUnreadable`] (the payment
    /// exists: look it up by its reference) and [`Recovery::ContactSupport`] for an
    /// answer that could not be read.
    ///
    /// ```
    /// use luxcore_ext::{Error, Recovery};
    /// # fn demo(error: Error) {
    /// match error.recovery() {
    ///     Recovery::Retry | Recovery::RetryLater => { /* the SDK retried what was safe: later */ }
    ///     Recovery::WaitAndRetry | Recovery::WaitForBalance => { /* try again once funds or requisites free up */ }
    ///     Recovery::FixRequest => { /* a bug or bad input: show error.advice() */ }
    ///     _ => eprintln!("{error}: {}", error.advice()),
    /// }
    /// # }
    /// ```
    pub fn recovery(&self) -> Recovery {
        match self {
            Error::Api { status, code, .. } => api_recovery(*status, code),
            Error::Transport { .. } | Error::Timeout | Error::DeadlineExceeded { .. } => {
                Recovery::Retry
            }
            Error::RateLimited { .. } | Error::RateLimiter(_) => Recovery::RetryLater,
            Error::Decode {
                status: Some(status),
                ..
            } if is_retryable_status(*status) => Recovery::Retry,
            Error::Decode { .. } => Recovery::ContactSupport,
            Error::CreatedButUnreadable { .. } => Recovery::ReturnsExisting,
            Error::ReferenceConflict { .. } => Recovery::UseUniqueReference,
            Error::Config(_) | Error::InvalidRequest(_) => Recovery::FixRequest,
            Error::InsufficientFunds { .. } => Recovery::WaitForBalance,
        }
    }

    /// What to do, in words: the catalogue's advice for an API error's code, else the
    /// meaning of its [`recovery`](Self::recovery).
    pub fn advice(&self) -> &'static str {
        match self {
            Error::Api { code, .. } => api_advice(code, self.recovery()),
            _ => self.recovery().description(),
        }
    }

    /// `true` for an attempt's timeout or the call's deadline.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout | Error::DeadlineExceeded { .. })
    }

    /// `true` when connecting failed (DNS, refused, TLS handshake): the request did not
    /// reach the server.
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        )
    }

    /// `true` for HTTP 429 from LuxCore.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Error::RateLimited { .. })
    }

    /// `true` for an answer whose body could not be decoded ([`Error::Decode`] or
    /// [`Error::CreatedButUnreadable`]).
    pub fn is_decode(&self) -> bool {
        matches!(
            self,
            Error::Decode { .. } | Error::CreatedButUnreadable { .. }
        )
    }

    /// `true` for [`Error::ReferenceConflict`].
    pub fn is_reference_conflict(&self) -> bool {
        matches!(self, Error::ReferenceConflict { .. })
    }

    /// `true` for [`Error::CreatedButUnreadable`]: the payment may exist.
    pub fn is_created_but_unreadable(&self) -> bool {
        matches!(self, Error::CreatedButUnreadable { .. })
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
            Error::Api { status, .. } | Error::CreatedButUnreadable { status, .. } => Some(*status),
            Error::Decode { status, .. } => *status,
            Error::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// The request id to quote to LuxCore support, when the server sent one (every error
    /// that comes from a response: the body's `request_id` or the `X-Request-Id` header).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. }
            | Error::Decode { request_id, .. }
            | Error::CreatedButUnreadable { request_id, .. }
            | Error::ReferenceConflict { request_id, .. }
            | Error::RateLimited { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// How many attempts the call made, the failed one included, for every error that came
    /// from a response (`None` for errors without one: transport failures, timeouts,
    /// requests refused before sending).
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::Api { attempts, .. }
            | Error::Decode { attempts, .. }
            | Error::CreatedButUnreadable { attempts, .. }
            | Error::ReferenceConflict { attempts, .. }
            | Error::RateLimited { attempts, .. } => Some(*attempts),
            _ => None,
        }
    }

    /// Records the attempts of the call that ends with this error.
    pub(crate) fn with_attempts(mut self, made: u32) -> Self {
        if let Error::Api { attempts, .. }
        | Error::Decode { attempts, .. }
        | Error::CreatedButUnreadable { attempts, .. }
        | Error::ReferenceConflict { attempts, .. }
        | Error::RateLimited { attempts, .. } = &mut self
        {
            *attempts = made;
        }
        self
    }

    /// The JSON body of an answer that could not be decoded, when it was JSON
    /// ([`Error::Decode`], [`Error::CreatedButUnreadable`]), or the `data` object of an
    /// error body ([`Error::Api`]).
    pub fn body(&self) -> Option<&Value> {
        match self {
            Error::Decode { body, .. } | Error::CreatedButUnreadable { body, .. } => {
                body.as_deref()
            }
            Error::Api { data, .. } => data.as_deref(),
            _ => None,
        }
    }

    /// A short, secret-free label of the error kind, for logs and tracing.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Error::Api { .. } => "api",
            Error::Transport { .. } => "transport",
            Error::Timeout => "timeout",
            Error::DeadlineExceeded { .. } => "deadline_exceeded",
            Error::Decode { .. } => "decode",
            Error::CreatedButUnreadable { .. } => "created_but_unreadable",
            Error::ReferenceConflict { .. } => "reference_conflict",
            Error::RateLimited { .. } => "rate_limited",
            Error::Config(_) => "config",
            Error::InvalidRequest(_) => "invalid_request",
            Error::RateLimiter(_) => "rate_limiter",
            Error::InsufficientFunds { .. } => "insufficient_funds",
        }
    }

    /// [`Error::Decode`] for `body` (excerpt, and the JSON value when it is small JSON).
    pub(crate) fn decode(
        status: Option<u16>,
        message: String,
        body: &[u8],
        request_id: Option<String>,
    ) -> Self {
        Error::Decode {
            status,
            message,
            body_excerpt: body_excerpt(body),
            body: body_value(body),
            request_id,
            attempts: 1,
        }
    }

    /// [`Error::RateLimited`].
    pub(crate) fn rate_limited(retry_after: Option<Duration>, request_id: Option<String>) -> Self {
        Error::RateLimited {
            retry_after,
            request_id,
            attempts: 1,
        }
    }

    /// [`Error::Transport`] detected by the SDK itself (no underlying error).
    pub(crate) fn transport(message: String) -> Self {
        Error::Transport {
            message,
            kind: TransportKind::Other,
            source: None,
        }
    }

    /// Maps a transport-level `reqwest` error, keeping it as the source.
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Error::Timeout
        } else if err.is_builder() {
            Error::Config(error_chain(&err))
        } else {
            let kind = if err.is_connect() {
                TransportKind::Connect
            } else if err.is_body() || err.is_decode() {
                TransportKind::Body
            } else if err.is_request() {
                TransportKind::Request
            } else {
                TransportKind::Other
            };
            Error::Transport {
                message: error_chain(&err),
                kind,
                source: Some(Arc::new(err)),
            }
        }
    }
}

/// The body as JSON when it is JSON of at most [`BODY_VALUE_MAX_BYTES`].
pub(crate) fn body_value(body: &[u8]) -> Option<Box<Value>> {
    if body.len() > BODY_VALUE_MAX_BYTES {
        return None;
    }
    serde_json::from_slice(body).ok().map(Box::new)
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
/// Redis URL or password). [`source`](std::error::Error::source) leads to the store's own
/// error (e.g. the `redis::RedisError`) when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimiterError {
    /// The shared store (Redis) could not be reached or did not answer in time, and the
    /// limiter is configured to fail closed.
    Unavailable(Cause),
    /// The shared store answered something unexpected (script error, wrong reply shape).
    Backend(Cause),
    /// The limiter is misconfigured (bad Redis URL, no key to share the limits by, ...).
    Config(String),
}

impl fmt::Display for LimiterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimiterError::Unavailable(cause) => {
                write!(f, "the shared rate limiter is unavailable: {cause}")
            }
            LimiterError::Backend(cause) => write!(f, "the shared rate limiter failed: {cause}"),
            LimiterError::Config(message) => write!(f, "rate limiter configuration: {message}"),
        }
    }
}

impl std::error::Error for LimiterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LimiterError::Unavailable(cause) | LimiterError::Backend(cause) => cause.source(),
            LimiterError::Config(_) => None,
        }
    }
}

/// What a [`LimiterError`] or a webhook store error says, and the underlying error when there is one (kept as the
/// error's [`source`](std::error::Error::source)). Two causes are equal when they say the
/// same; `From<&str>` and `From<String>` make one without an underlying error.
#[derive(Clone)]
pub struct Cause {
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Cause {
    /// A cause with the underlying error kept as the source.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Cause {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// What happened, in words.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The underlying error, when there is one.
    pub fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cause")
            .field("message", &self.message)
            .field("has_source", &self.source.is_some())
            .finish()
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for Cause {}

impl From<&str> for Cause {
    fn from(message: &str) -> Self {
        Cause {
            message: message.to_owned(),
            source: None,
        }
    }
}

impl From<String> for Cause {
    fn from(message: String) -> Self {
        Cause {
            message,
            source: None,
        }
    }
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
    fn retryable_codes_come_from_the_catalogue() {
        for code in [
            ErrorCode::LockTimeout,
            ErrorCode::TransactionError,
            ErrorCode::DatabaseError,
            ErrorCode::Timeout,
            ErrorCode::ProviderError,
            ErrorCode::RateLimitExceeded,
            ErrorCode::InternalError,
            ErrorCode::ServiceUnavailable,
        ] {
            assert!(code.is_retryable(), "{code}");
        }
        for code in [
            ErrorCode::MissingRequisites,
            ErrorCode::NoAvailableRequisites,
            ErrorCode::InsufficientBalance,
            ErrorCode::InvalidApiKey,
            ErrorCode::InvalidMethod,
            ErrorCode::UnsupportedCurrency,
            ErrorCode::ValidationError,
            ErrorCode::PaymentAlreadyExists,
            ErrorCode::TimestampOutOfWindow,
            ErrorCode::Other("X".into()),
        ] {
            assert!(!code.is_retryable(), "{code}");
        }
        assert_eq!(
            ErrorCode::MissingRequisites.recovery(),
            Recovery::WaitAndRetry
        );
        assert_eq!(
            ErrorCode::Other("NEW".into()).recovery(),
            Recovery::ContactSupport
        );
        assert!(!api(400, ErrorCode::MissingRequisites).is_retryable());
        assert!(Error::Timeout.is_retryable());
        assert!(!Error::Config("x".into()).is_retryable());
    }

    fn api(status: u16, code: ErrorCode) -> Error {
        Error::Api {
            status,
            code,
            messages: vec!["m".into()],
            timestamp: None,
            request_id: Some("req_1".into()),
            data: None,
            attempts: 1,
        }
    }

    #[test]
    fn every_error_has_a_recovery_and_unknown_codes_go_by_status() {
        let unknown = |status| api(status, ErrorCode::Other("SOMETHING_NEW".into())).recovery();
        assert_eq!(unknown(502), Recovery::Retry);
        assert_eq!(unknown(503), Recovery::RetryLater);
        assert_eq!(unknown(403), Recovery::FixCredentials);
        assert_eq!(unknown(409), Recovery::FixRequest);
        assert_eq!(unknown(418), Recovery::ContactSupport);
        // A known code wins over its status.
        assert_eq!(
            api(500, ErrorCode::ValidationError).recovery(),
            Recovery::FixRequest
        );
        assert_eq!(Error::Timeout.recovery(), Recovery::Retry);
        assert_eq!(
            Error::rate_limited(None, None).recovery(),
            Recovery::RetryLater
        );
        assert_eq!(
            Error::InvalidRequest("x".into()).recovery(),
            Recovery::FixRequest
        );
        assert_eq!(
            Error::decode(Some(502), "html".into(), b"<html>", None).recovery(),
            Recovery::Retry
        );
        assert_eq!(
            Error::decode(Some(200), "drift".into(), b"{}", None).recovery(),
            Recovery::ContactSupport
        );
    }

    #[test]
    fn the_display_of_an_api_error_says_what_to_do() {
        assert_eq!(
            api(400, ErrorCode::LockTimeout).to_string(),
            "LuxCore API error 400 LOCK_TIMEOUT: m (request id req_1); what to do: \
             Could not acquire a lock on the resource: retry."
        );
        let unknown = api(418, ErrorCode::Other("TEAPOT".into()));
        assert!(
            unknown
                .to_string()
                .ends_with(Recovery::ContactSupport.description()),
            "{unknown}"
        );
        assert_eq!(unknown.advice(), Recovery::ContactSupport.description());
        assert_eq!(
            api(400, ErrorCode::InvalidCvu).advice(),
            ErrorCode::InvalidCvu.info().unwrap().advice
        );
    }
}
