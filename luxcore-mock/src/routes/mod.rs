//! HTTP routes: the 33 API operations and the `/_mock` controls.

mod balance;
mod control;
mod payments;
mod tickets;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use luxcore_api::enums::ErrorCode;
use luxcore_api::types::{
    self, Pagination, PaymentList, PaymentMethodList, PaymentMethodValidationResponse,
    PaymentResponse, TicketCommentList, TicketCommentResponse, TicketList, TicketResponse,
    UploadUrlResponse, WebhookEventList, WebhookEventResponse, WebhookList, WebhookResponse,
    WebhookRetryResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::auth::Principal;
use crate::error::ApiError;

/// `Path` whose rejection is a JSON error body.
pub(crate) struct PathParams<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::not_found(
                ErrorCode::NotFound,
                rejection.body_text(),
            )),
        }
    }
}

/// The caller of an API route (authenticated by the pipeline) with the app state:
/// `let app = caller.require(&["payments.read"])?;` checks the scopes, then hands out the state.
pub(crate) struct Caller {
    app: Arc<App>,
    principal: Principal,
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("Missing credentials"))?;
        Ok(Self {
            app: Arc::clone(app),
            principal,
        })
    }
}

impl Caller {
    /// 403 `INSUFFICIENT_SCOPE` unless one of `any_of` is held; otherwise the app state.
    pub(crate) fn require(self, any_of: &[&str]) -> Result<Arc<App>, ApiError> {
        self.principal.require(any_of)?;
        Ok(self.app)
    }
}

/// Raw body bytes whose rejection is a JSON error body.
pub(crate) struct RawBody(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(Self)
            .map_err(|rejection| ApiError::validation(vec![rejection.body_text()]))
    }
}

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

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, format!("Cannot find {}", uri.path()))
}

/// Largest accepted upload.
const MAX_UPLOAD: usize = 32 * 1024 * 1024;

pub(crate) fn router(app: Arc<App>) -> Router {
    let v1 = "/api/v1";
    Router::new()
        .route(
            &format!("{v1}/payments"),
            post(payments::create).get(payments::list),
        )
        .route(&format!("{v1}/payments/methods"), get(payments::methods))
        .route(
            &format!("{v1}/payments/methods/validate"),
            post(payments::validate),
        )
        .route(&format!("{v1}/payments/{{id}}"), get(payments::get))
        .route(
            &format!("{v1}/payments/{{id}}/cancel"),
            post(payments::cancel),
        )
        .route(
            &format!("{v1}/webhooks"),
            post(webhooks::create).get(webhooks::list),
        )
        .route(
            &format!("{v1}/webhooks/{{id}}"),
            get(webhooks::get)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(&format!("{v1}/webhooks/{{id}}/test"), post(webhooks::test))
        .route(
            &format!("{v1}/webhooks/{{id}}/enable"),
            put(webhooks::enable),
        )
        .route(
            &format!("{v1}/webhooks/{{id}}/disable"),
            put(webhooks::disable),
        )
        .route(
            &format!("{v1}/webhooks/{{id}}/events"),
            get(webhooks::events),
        )
        .route(
            &format!("{v1}/webhooks/{{id}}/retry"),
            post(webhooks::retry),
        )
        .route(&format!("{v1}/balance"), get(balance::get))
        .route(&format!("{v1}/balance/all"), get(balance::all))
        .route(
            &format!("{v1}/merchants/{{id}}/balance"),
            get(balance::merchant),
        )
        .route(
            &format!("{v1}/merchants/{{id}}/balance/all"),
            get(balance::merchant_all),
        )
        .route(
            &format!("{v1}/tickets"),
            post(tickets::create).get(tickets::list),
        )
        .route(&format!("{v1}/tickets/{{id}}"), get(tickets::get))
        .route(&format!("{v1}/tickets/{{id}}/close"), post(tickets::close))
        .route(
            &format!("{v1}/tickets/{{id}}/reopen"),
            post(tickets::reopen),
        )
        .route(
            &format!("{v1}/tickets/{{id}}/comments"),
            post(tickets::add_comment).get(tickets::comments),
        )
        .route(
            &format!("{v1}/tickets/{{id}}/upload-url"),
            post(tickets::upload_url),
        )
        .route(
            &format!("{v1}/tickets/{{id}}/attachments/{{attachment_id}}"),
            get(tickets::download),
        )
        .route(
            &format!("{v1}/tickets/{{id}}/comments/{{comment_id}}/attachments/{{attachment_id}}"),
            get(tickets::download_comment),
        )
        .route("/api/v2/payments", post(payments::create))
        .route("/api/v2/balance", get(balance::get))
        .route("/api/v2/balance/all", get(balance::all))
        .route("/_mock/health", get(control::health))
        .route("/_mock/payments/{id}/complete", post(control::complete))
        .route("/_mock/payments/{id}/fail", post(control::fail))
        .route("/_mock/payments/{id}/expire", post(control::expire))
        .route("/_mock/payments/{id}/refund", post(control::refund))
        .route("/_mock/balance", put(control::set_balance))
        .route("/_mock/reset", post(control::reset))
        .route("/_mock/faults", put(control::set_faults))
        .route("/_mock/tickets/{id}/reply", post(control::support_reply))
        .route(
            "/_mock/uploads/{token}",
            put(control::upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/_mock/pay/{id}", get(control::payment_page))
        .route(
            "/_mock/ipay/checkout",
            get(control::ipay_checkout).post(control::ipay_checkout),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .with_state(app)
}
