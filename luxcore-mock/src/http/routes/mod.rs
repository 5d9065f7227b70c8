//! The routes: every operation of the generated operation table with its handler, and the
//! `/_mock` controls. One module per resource holds the handlers.

mod balance;
mod control;
mod payments;
mod tickets;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Uri;
use axum::routing::{MethodFilter, MethodRouter, get, on, post, put};
use luxcore_api::enums::ErrorCode;
use luxcore_api::operations::{self as ops, Operation};

use crate::error::ApiError;
use crate::state::App;

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

/// Every route, with the state; the `/api` pipeline is layered on top by [`super::router`].
pub(crate) fn routes(app: Arc<App>) -> Router {
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
        .route(
            "/_mock/duplicates",
            get(control::get_duplicates).put(control::set_duplicates),
        )
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
        let (app, _deliveries) = App::new(&crate::MockConfig::default(), "http://x".into());
        let _ = routes(Arc::new(app));
    }
}
