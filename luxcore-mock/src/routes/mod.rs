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
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on, post, put};
use luxcore_api::enums::ErrorCode;
use luxcore_api::operations::{self as ops, Operation};
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

/// Every operation of the spec and its handler. Paths and methods come from the generated
/// operation table (`luxcore_api::operations`), never typed here; a test checks that the
/// list covers the whole table.
fn api() -> Vec<(Operation, MethodRouter<Arc<App>>)> {
    vec![
        at(ops::CREATE_PAYMENT, payments::create),
        at(ops::CREATE_PAYMENT_V2, payments::create),
        at(ops::LIST_PAYMENTS, payments::list),
        at(ops::GET_PAYMENT_METHODS, payments::methods),
        at(ops::VALIDATE_PAYMENT_METHOD, payments::validate),
        at(ops::GET_PAYMENT, payments::get),
        at(ops::CANCEL_PAYMENT, payments::cancel),
        at(ops::CREATE_WEBHOOK, webhooks::create),
        at(ops::LIST_WEBHOOKS, webhooks::list),
        at(ops::GET_WEBHOOK, webhooks::get),
        at(ops::UPDATE_WEBHOOK, webhooks::update),
        at(ops::DELETE_WEBHOOK, webhooks::delete),
        at(ops::TEST_WEBHOOK, webhooks::test),
        at(ops::ENABLE_WEBHOOK, webhooks::enable),
        at(ops::DISABLE_WEBHOOK, webhooks::disable),
        at(ops::LIST_WEBHOOK_EVENTS, webhooks::events),
        at(ops::RETRY_WEBHOOK_EVENTS, webhooks::retry),
        at(ops::GET_BALANCE, balance::get),
        at(ops::GET_BALANCE_V2, balance::get),
        at(ops::GET_ALL_BALANCES, balance::all),
        at(ops::GET_ALL_BALANCES_V2, balance::all),
        at(ops::GET_MERCHANT_BALANCE, balance::merchant),
        at(ops::GET_MERCHANT_ALL_BALANCES, balance::merchant_all),
        at(ops::CREATE_TICKET, tickets::create),
        at(ops::LIST_TICKETS, tickets::list),
        at(ops::GET_TICKET, tickets::get),
        at(ops::CLOSE_TICKET, tickets::close),
        at(ops::REOPEN_TICKET, tickets::reopen),
        at(ops::ADD_TICKET_COMMENT, tickets::add_comment),
        at(ops::LIST_TICKET_COMMENTS, tickets::comments),
        at(ops::CREATE_TICKET_UPLOAD_URL, tickets::upload_url),
        at(ops::DOWNLOAD_TICKET_ATTACHMENT, tickets::download),
        at(ops::DOWNLOAD_COMMENT_ATTACHMENT, tickets::download_comment),
    ]
}

/// `handler` for the method of `operation`.
fn at<H, T>(operation: Operation, handler: H) -> (Operation, MethodRouter<Arc<App>>)
where
    H: Handler<T, Arc<App>>,
    T: 'static,
{
    (operation, on(method_filter(operation), handler))
}

/// The routing filter of an operation's method (the table holds standard methods only:
/// `every_operation_is_routed` checks them all).
fn method_filter(operation: Operation) -> MethodFilter {
    axum::http::Method::from_bytes(operation.method.as_bytes())
        .ok()
        .and_then(|method| MethodFilter::try_from(method).ok())
        .unwrap_or_else(|| {
            panic!(
                "operation {} has a method axum cannot route: {}",
                operation.id, operation.method
            )
        })
}

pub(crate) fn router(app: Arc<App>) -> Router {
    // Operations sharing a path (`GET` and `POST /payments`) merge into one route.
    let api = api()
        .into_iter()
        .fold(Router::new(), |router, (operation, route)| {
            router.route(operation.path, route)
        });
    api.route("/_mock/health", get(control::health))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_routed() {
        let mut routed: Vec<&str> = api().iter().map(|(operation, _)| operation.id).collect();
        let mut table: Vec<&str> = ops::ALL.iter().map(|operation| operation.id).collect();
        routed.sort_unstable();
        table.sort_unstable();
        assert_eq!(routed, table);
        // Every path and method of the table builds a route.
        let app = App::new(&crate::MockConfig::default(), "http://x".into()).unwrap();
        let app = Arc::new(app);
        let _ = router(app);
    }
}
