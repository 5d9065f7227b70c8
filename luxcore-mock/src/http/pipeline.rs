//! The `/api` request pipeline: latency and faults, body buffering,
//! authentication, rate limiting, then the handler; drop-after-commit and
//! error-after-commit last.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, Response};
use axum::middleware::Next;
use axum::response::IntoResponse;
use tokio::sync::Notify;

use super::auth::{self, Principal};
use crate::clock::unix_now;
use crate::error::ApiError;
use crate::state::App;
use crate::state::config::Fault;
use crate::state::ratelimit::{Bucket, Decision};

/// Put into every request's extensions by the server: firing it makes the connection task
/// close the TCP connection at once, before any response byte is written.
#[derive(Clone, Default)]
pub(crate) struct DropConnection(Arc<Notify>);

impl DropConnection {
    /// Asks the connection task to drop the connection.
    pub(crate) fn fire(&self) {
        self.0.notify_one();
    }

    /// Resolves once [`Self::fire`] was called (on any clone).
    pub(crate) async fn fired(&self) {
        self.0.notified().await;
    }
}

/// Largest accepted `/api` request body.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Middleware over the whole router; only `/api` requests go through the pipeline.
pub(crate) async fn api_pipeline(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response<Body> {
    if !is_api(request.uri().path()) {
        return next.run(request).await;
    }
    let latency = app.faults().latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = app.faults().draw();
    match fault {
        Fault::Status(status) => return ApiError::injected(status).into_response(),
        Fault::Error(code) => return ApiError::injected_code(code).into_response(),
        Fault::ErrorAfterCommit(_) | Fault::DropAfterCommit | Fault::Pass => {}
    }
    let drop_handle = request.extensions().get::<DropConnection>().cloned();
    let response = process(&app, request, next).await;
    match (fault, drop_handle) {
        (Fault::DropAfterCommit, Some(handle)) => {
            // The connection task closes the socket; this response is never sent.
            handle.fire();
            std::future::pending::<()>().await;
            response
        }
        // The request was processed; its answer is replaced by the error.
        (Fault::ErrorAfterCommit(code), _) => ApiError::injected_code(code).into_response(),
        _ => response,
    }
}

fn add_headers(response: &mut Response<Body>, decision: Decision) {
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(decision.remaining),
    );
    headers.insert("x-ratelimit-reset", HeaderValue::from(decision.reset));
}

fn bucket(method: &Method, path: &str) -> Bucket {
    if method == Method::POST && (path == "/api/v1/payments" || path == "/api/v2/payments") {
        Bucket::Creation
    } else {
        Bucket::Standard
    }
}

async fn process(app: &Arc<App>, request: Request, next: Next) -> Response<Body> {
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ApiError::validation(vec![format!(
            "request body must not be larger than {MAX_BODY} bytes"
        )])
        .into_response();
    };
    let path = parts.uri.path().to_owned();
    let principal: Result<Principal, ApiError> = if auth::is_v2(&path) {
        auth::hmac(&app.credentials, &app.nonces, &parts, &bytes, unix_now())
    } else {
        auth::api_key(&app.credentials, &parts.headers)
    };
    let principal = match principal {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let decision = app.rate_limit(&principal.rate_key(), bucket(&parts.method, &path));
    if let Some(decision) = decision.filter(|d| !d.allowed) {
        let mut response = ApiError::rate_limited(decision.retry_after).into_response();
        add_headers(&mut response, decision);
        return response;
    }
    parts.extensions.insert(principal);
    let mut response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if let Some(decision) = decision {
        add_headers(&mut response, decision);
    }
    response
}
