//! Response decoding: turns an answer that is not the documented success (an error body in
//! any of its three shapes, an HTML page from a proxy, a truncated body) or a failure of the
//! generated client into an [`Error`].
//!
//! Error bodies come in three shapes, all understood here:
//!
//! * business: `{"statusCode":400,"message":"...","error_code":"INSUFFICIENT_BALANCE","timestamp":"..."}`
//! * validation: `{"statusCode":400,"message":["amount must ..."],"error":"Bad Request"}` →
//!   [`ErrorCode::ValidationError`]
//! * older: `{"statusCode":401,"message":"...","error":"INVALID_API_KEY"}` (code in `error`).

use bytes::Bytes;
use luxcore_api::types::{ErrorMessage, ErrorResponse};
use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::base::context::AttemptMeta;
use crate::base::error::{Error, ErrorCode};
use crate::base::headers::{request_id as header_request_id, server_delay_hint};

/// Error type of the generated client.
pub(crate) type ApiError = luxcore_api::Error<ErrorResponse>;

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
    #[serde(default)]
    data: Option<serde_json::Value>,
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
    /// The body's `data` object (e.g. the existing payment of `PAYMENT_ALREADY_EXISTS`).
    data: Option<serde_json::Value>,
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
            data: Some(body.data)
                .filter(|data| !data.is_empty())
                .map(serde_json::Value::Object),
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
            data: parsed.data.filter(serde_json::Value::is_object),
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
            data: self.data.map(Box::new),
            attempts: 1,
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

fn rate_limited(headers: &HeaderMap) -> Error {
    Error::rate_limited(
        server_delay_hint(headers, luxcore_auth::unix_now()),
        header_request_id(headers),
    )
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
    Error::decode(Some(status), message, body, header_request_id(headers))
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
                Err(e) => Error::from_reqwest(e),
            }
        }
        E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
            Error::from_reqwest(e)
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
    Error::decode(
        status,
        e.to_string(),
        bytes,
        header_request_id(&meta.headers),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::base::error::BODY_EXCERPT_CHARS;
    use luxcore_api::ResponseValue;
    use reqwest::StatusCode;
    use reqwest::header::HeaderValue;

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
                data: None,
                attempts: 1,
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
                retry_after: Some(Duration::from_secs(7)),
                request_id: None,
                attempts: 1,
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
        let body = br#"{"message":"Payment not found","error_code":"NOT_FOUND"}"#;
        let serde_err = serde_json::from_slice::<ErrorResponse>(body).unwrap_err();
        let meta = AttemptMeta {
            status: Some(StatusCode::NOT_FOUND),
            ..AttemptMeta::default()
        };
        let err = map(
            luxcore_api::Error::InvalidResponsePayload(Bytes::from_static(body), serde_err),
            &meta,
        );
        assert_eq!(err.code(), Some(&ErrorCode::NotFound));
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
        assert_eq!(
            err,
            Error::RateLimited {
                retry_after: None,
                request_id: None,
                attempts: 1,
            }
        );
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
}
