//! `X-Request-Id`: every answer of the mock (errors, `/_mock` controls and unknown routes
//! included) carries a fresh id, `req_` + 24 hex digits, and error bodies repeat it in
//! `request_id`.
//!
//! Assumed: the LuxCore docs do not document a request-id header. The name is the one the SDK
//! reads (`luxcore-ext`, `base/headers.rs`); the spec's `ErrorResponse.request_id` is marked
//! "not documented publicly; shape assumed", and so is the `req_` format here.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Response};
use axum::middleware::Next;
use rand::Rng;

/// The response header carrying the id (assumed; see the module docs).
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    /// The id of the request being answered, for the error bodies rendered while it runs.
    static REQUEST_ID: String;
}

/// A fresh id: `req_` + 24 random hex digits (96 bits).
fn fresh() -> String {
    let bytes: [u8; 12] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("req_{hex}")
}

/// The id of the request being answered, when called while one is (see [`assign`]).
pub(crate) fn current() -> Option<String> {
    REQUEST_ID.try_with(String::clone).ok()
}

/// Middleware around the whole router (outermost): gives the request a fresh id, answers it
/// with the id in scope for [`current`], and sets `X-Request-Id` on the answer.
pub(crate) async fn assign(request: Request, next: Next) -> Response<Body> {
    let id = fresh();
    let header = HeaderValue::from_str(&id);
    let mut response = REQUEST_ID.scope(id, next.run(request)).await;
    if let Ok(value) = header {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    response
}
