//! The HTTP edge: what turns requests into calls on the state and the store, and their
//! results into the API's bodies. [`pipeline`] runs every `/api` request through faults,
//! authentication ([`auth`]) and rate limits; the handlers in [`routes`] read their input
//! ([`input`], [`extract`]) and answer through [`response`] (envelopes and error bodies);
//! [`request_id`] gives every answer its `X-Request-Id`.

pub(crate) mod auth;
pub(crate) mod extract;
pub(crate) mod input;
pub(crate) mod pipeline;
pub(crate) mod request_id;
pub(crate) mod response;
pub(crate) mod routes;

use std::sync::Arc;

use axum::Router;

use crate::state::App;

/// The router with every route, the `/api` pipeline and, around everything, the request id.
pub(crate) fn router(app: Arc<App>) -> Router {
    routes::routes(Arc::clone(&app))
        .layer(axum::middleware::from_fn_with_state(
            app,
            pipeline::api_pipeline,
        ))
        .layer(axum::middleware::from_fn(request_id::assign))
}
