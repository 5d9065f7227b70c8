//! What the HTTP edge answers: JSON bodies, the `{success, data}` envelopes of the spec's
//! response types, and error bodies (an `ApiError` as the spec's `ErrorResponse`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use luxcore_api::types::{
    self, ErrorMessage, ErrorResponse, Pagination, PaymentList, PaymentMethodList,
    PaymentMethodValidationResponse, PaymentResponse, TicketCommentList, TicketCommentResponse,
    TicketList, TicketResponse, UploadUrlResponse, WebhookEventList, WebhookEventResponse,
    WebhookList, WebhookResponse, WebhookRetryResponse,
};
use serde::Serialize;

use super::request_id;
use crate::clock::timestamp_string;
use crate::error::{ApiError, Kind};

/// A JSON response with a status. Serialized into a `Vec` (whose writes serde_json inlines)
/// rather than through `axum::Json`'s `BytesMut` writer: list pages are ~100 KiB, written
/// a few bytes at a time. A body that cannot be serialized is a 500, as with `axum::Json`.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
    }
}

/// A generated `{success, data}` response type.
pub(crate) trait Envelope: Serialize {
    /// What `data` holds.
    type Data;
    /// `{success: true, data}`.
    fn wrap(data: Self::Data) -> Self;
}

/// A generated `{success, data, total, pagination}` list response type.
pub(crate) trait ListEnvelope: Serialize {
    /// One element of `data`.
    type Item;
    /// `{success: true, data, total, pagination}`.
    fn wrap(data: Vec<Self::Item>, total: i64, pagination: Pagination) -> Self;
}

/// One line per generated envelope type of the spec.
macro_rules! envelopes {
    ($($envelope:ident($data:ty)),* $(,)?) => {$(
        impl Envelope for $envelope {
            type Data = $data;
            fn wrap(data: $data) -> Self {
                Self { data, success: Some(true) }
            }
        }
    )*};
}

/// One line per generated list type of the spec.
macro_rules! list_envelopes {
    ($($list:ident($item:ty)),* $(,)?) => {$(
        impl ListEnvelope for $list {
            type Item = $item;
            fn wrap(data: Vec<$item>, total: i64, pagination: Pagination) -> Self {
                Self { data, pagination, success: Some(true), total }
            }
        }
    )*};
}

envelopes!(
    PaymentResponse(types::Payment),
    PaymentMethodList(Vec<types::PaymentMethodInfo>),
    PaymentMethodValidationResponse(types::PaymentMethodValidation),
    WebhookResponse(types::Webhook),
    WebhookEventResponse(types::WebhookEvent),
    WebhookRetryResponse(types::WebhookRetryResult),
    TicketResponse(types::Ticket),
    TicketCommentResponse(types::TicketComment),
    UploadUrlResponse(types::UploadUrl),
);

list_envelopes!(
    PaymentList(types::Payment),
    WebhookList(types::Webhook),
    WebhookEventList(types::WebhookEvent),
    TicketList(types::Ticket),
    TicketCommentList(types::TicketComment),
);

/// `status` with the `{success: true, data}` body of `E`.
pub(crate) fn data<E: Envelope>(status: StatusCode, data: E::Data) -> Response {
    json(status, &E::wrap(data))
}

/// 200 with the `{success: true, data, total, pagination}` body of `L`, from a store page.
pub(crate) fn listed<L: ListEnvelope>(
    (data, total, pagination): (Vec<L::Item>, i64, Pagination),
) -> Response {
    json(StatusCode::OK, &L::wrap(data, total, pagination))
}

/// The body of an error: the business shape (`{statusCode, message: "...", error_code,
/// timestamp}`) or the validation shape (`{statusCode: 400, message: [...], error: "Bad
/// Request"}`, with `error_code` and `timestamp` for query parameters); both with the
/// `request_id` of the request being answered (also its `X-Request-Id`). A business error may
/// carry a `data` object (`PAYMENT_ALREADY_EXISTS`: the existing payment).
pub(crate) fn error_body(error: &ApiError) -> ErrorResponse {
    let status_code = i32::from(error.status().as_u16());
    match error.kind() {
        Kind::Business { code, message } => ErrorResponse {
            data: error.data().clone(),
            error: None,
            error_code: Some(code.clone()),
            message: ErrorMessage::String(message.clone()),
            path: None,
            request_id: request_id::current(),
            status_code,
            timestamp: Some(timestamp_string()),
        },
        Kind::Validation { messages, code } => ErrorResponse {
            data: Default::default(),
            error: Some("Bad Request".to_owned()),
            error_code: code.clone(),
            message: ErrorMessage::Array(messages.clone()),
            path: None,
            request_id: request_id::current(),
            status_code,
            timestamp: code.as_ref().map(|_| timestamp_string()),
        },
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json(self.status(), &error_body(&self));
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
