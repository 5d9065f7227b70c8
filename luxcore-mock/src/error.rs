//! Errors: [`MockError`] for the Rust API, `ApiError` for what the API refuses (status,
//! code, message). The domain returns `ApiError`; the HTTP edge renders it as an error body
//! (`http::response`), the Rust API converts it into [`MockError::Rejected`].

use http::StatusCode;
use luxcore_api::enums::ErrorCode;
use serde_json::{Map, Value};

/// Error of [`MockServer`](crate::MockServer) methods.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// Binding or inspecting the listening socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP client for webhook deliveries could not be built.
    #[error("webhook HTTP client: {0}")]
    Client(String),
    /// The mock refused the operation, as the HTTP API would (same status and code).
    #[error("{status} {code}: {message}")]
    Rejected {
        /// HTTP status the API would answer with.
        status: u16,
        /// Error code, e.g. `NOT_FOUND` or `PAYMENT_ALREADY_PROCESSED`.
        code: ErrorCode,
        /// Human-readable reason.
        message: String,
    },
}

impl MockError {
    /// The error code when the operation was [`MockError::Rejected`].
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The two error body shapes of the API.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `{statusCode, message: "...", error_code, timestamp}`.
    Business { code: ErrorCode, message: String },
    /// `{statusCode: 400, message: [...], error: "Bad Request"}`; `code` adds
    /// `error_code` + `timestamp` (used for bad query parameters).
    Validation {
        messages: Vec<String>,
        code: Option<ErrorCode>,
    },
}

/// An error answered by the HTTP API (rendered by the HTTP edge).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    status: StatusCode,
    kind: Kind,
    retry_after: Option<u64>,
    /// The error body's `data` object (empty: not sent).
    data: Map<String, Value>,
}

/// The HTTP status of `code` in the generated error catalogue (`luxcore_api::errors`), when
/// it is an error status (4xx/5xx); 500 otherwise (an unknown code, or
/// `MERCHANT_REFERENCE_DUPLICATE`, whose documented answer is a 200).
pub(crate) fn catalogue_status(code: &ErrorCode) -> StatusCode {
    code.info()
        .and_then(|info| StatusCode::from_u16(info.status).ok())
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl ApiError {
    /// Business error with an `error_code`.
    pub(crate) fn business(
        status: StatusCode,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind: Kind::Business {
                code,
                message: message.into(),
            },
            retry_after: None,
            data: Map::new(),
        }
    }

    /// Business error with the status the error catalogue gives `code` (see
    /// [`catalogue_status`]); a 429 adds `Retry-After: 1`.
    pub(crate) fn catalogued(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = catalogue_status(&code);
        let mut error = Self::business(status, code, message);
        if status == StatusCode::TOO_MANY_REQUESTS {
            error.retry_after = Some(1);
        }
        error
    }

    /// The same error with this `data` object in its body.
    pub(crate) fn with_data(mut self, data: Map<String, Value>) -> Self {
        self.data = data;
        self
    }

    /// 400 business error.
    pub(crate) fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::business(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 with the given code.
    pub(crate) fn not_found(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::business(StatusCode::NOT_FOUND, code, message)
    }

    /// 401 `INVALID_API_KEY`.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::business(StatusCode::UNAUTHORIZED, ErrorCode::InvalidApiKey, message)
    }

    /// 400 validation error of the request body (NestJS shape, no `error_code`).
    pub(crate) fn validation(messages: Vec<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: Kind::Validation {
                messages,
                code: None,
            },
            retry_after: None,
            data: Map::new(),
        }
    }

    /// 400 validation error of query parameters: the validation shape plus
    /// `error_code: VALIDATION_ERROR` and `timestamp`.
    pub(crate) fn query(messages: Vec<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: Kind::Validation {
                messages,
                code: Some(ErrorCode::ValidationError),
            },
            retry_after: None,
            data: Map::new(),
        }
    }

    /// 429 `RATE_LIMIT_EXCEEDED` with `Retry-After`.
    pub(crate) fn rate_limited(retry_after: u64) -> Self {
        let mut error = Self::business(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimitExceeded,
            "Too many requests, rate limit exceeded",
        );
        error.retry_after = Some(retry_after.max(1));
        error
    }

    /// An injected fault with the given status.
    pub(crate) fn injected(status: u16) -> Self {
        let status = StatusCode::from_u16(status)
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                let mut error = Self::rate_limited(1);
                error.kind = Kind::Business {
                    code: ErrorCode::RateLimitExceeded,
                    message: "Too many requests (injected fault)".to_owned(),
                };
                error
            }
            StatusCode::SERVICE_UNAVAILABLE => Self::business(
                status,
                ErrorCode::ServiceUnavailable,
                "Service temporarily unavailable (injected fault)",
            ),
            _ => Self::business(
                status,
                ErrorCode::InternalError,
                "Internal server error (injected fault)",
            ),
        }
    }

    /// An injected fault answering `code` with its catalogue status (see [`Self::catalogued`]).
    pub(crate) fn injected_code(code: ErrorCode) -> Self {
        let message = format!("{code} (injected fault)");
        Self::catalogued(code, message)
    }

    /// The error code, if the body carries one.
    pub(crate) fn code(&self) -> ErrorCode {
        match &self.kind {
            Kind::Business { code, .. } => code.clone(),
            Kind::Validation { code, .. } => code.clone().unwrap_or(ErrorCode::ValidationError),
        }
    }

    /// The message (validation messages joined with `; `).
    pub(crate) fn message(&self) -> String {
        match &self.kind {
            Kind::Business { message, .. } => message.clone(),
            Kind::Validation { messages, .. } => messages.join("; "),
        }
    }

    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The body shape with its code and message(s).
    pub(crate) fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The body's `data` object (empty: not sent).
    pub(crate) fn data(&self) -> &Map<String, Value> {
        &self.data
    }

    /// `Retry-After` seconds (429s only).
    pub(crate) fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }
}

impl From<ApiError> for MockError {
    fn from(error: ApiError) -> Self {
        Self::Rejected {
            status: error.status.as_u16(),
            code: error.code(),
            message: error.message(),
        }
    }
}

/// Result of HTTP handlers and domain operations.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
