//! axum integration (`axum` feature): a ready `POST` route that reads the raw body, runs a
//! [`WebhookProcessor`] and answers the [`Outcome`]'s status.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use luxcore_ext::webhooks::{MemoryStore, WebhookProcessor, WebhookVerifier, axum::route};
//!
//! let processor = Arc::new(WebhookProcessor::new(
//!     WebhookVerifier::new("whsec_..."),
//!     MemoryStore::new(),
//! ));
//! let app = axum::Router::new().route(
//!     "/webhooks/luxcore",
//!     route(processor.clone(), |event| async move {
//!         println!("{} {:?}", event.name(), event.payment_id());
//!         Ok::<_, std::io::Error>(())
//!     }),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app)
//!     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap_or(()) })
//!     .await?;
//! // The server stopped; finish (or cancel and release) the deliveries still running.
//! processor.drain(std::time::Duration::from_secs(10)).await;
//! Ok(())
//! # }
//! ```
//!
//! # Deliveries finish once started
//!
//! The routes run each delivery's claim → handler → record on its own tokio task
//! ([`WebhookProcessor::handle_detached`]): when LuxCore stops waiting (10 s) and hangs up,
//! hyper drops the request's future but the task goes on, records, and the redelivery
//! answers 200 without running the handler again (409 while it still runs).
//!
//! # Graceful shutdown
//!
//! `serve(..).with_graceful_shutdown(signal)` stops accepting connections and waits for
//! the requests in progress, but not for tasks whose sender already hung up. Keep an
//! `Arc` of the processor and call [`WebhookProcessor::drain`] after `serve` returns and
//! before the runtime ends: it refuses new deliveries (503), waits up to its timeout for
//! the running ones, then cancels the rest and releases their claims, so nothing stays
//! claimed (LuxCore's redelivery to another instance is not kept waiting for the lease).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};

use super::store::WebhookStore;
use super::{Event, Outcome, WebhookProcessor};

/// The status of [`Outcome::status`], with `Retry-After: 1` on retryable answers and a
/// one-line plain-text body (no secrets, no event payload).
impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Outcome::Processed { .. } => "processed".to_owned(),
            Outcome::Skipped { .. } => "already processed".to_owned(),
            Outcome::Busy { .. } => "being processed; retry later".to_owned(),
            Outcome::Rejected(_) => "invalid delivery".to_owned(),
            Outcome::HandlerFailed { .. } => "handler failed; retry later".to_owned(),
            Outcome::StoreUnavailable { .. } => "store unavailable; retry later".to_owned(),
            Outcome::ShuttingDown { .. } => "shutting down; retry later".to_owned(),
        };
        let mut response = (status, body).into_response();
        if self.is_retryable() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// A `POST` route running `handler` through `processor` for each delivery.
///
/// The body is taken as raw bytes (axum's default limit, 2 MiB) and verified before
/// anything is parsed; the answer is the [`Outcome`]. A larger body answers 413 (`Failed
/// to buffer the request body: length limit exceeded`) and nothing is claimed, run or
/// recorded; an `axum::extract::DefaultBodyLimit` layer on the router sets another limit. Each verified delivery runs through
/// [`WebhookProcessor::handle_detached`]: it finishes even if the sender hangs up.
pub fn route<S, H, Fut, E, T>(processor: Arc<WebhookProcessor<S>>, handler: H) -> MethodRouter<T>
where
    S: WebhookStore + 'static,
    H: Fn(Event) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
    T: Clone + Send + Sync + 'static,
{
    post(move |headers: HeaderMap, body: Bytes| async move {
        processor.handle_detached(&headers, &body, handler).await
    })
}

/// Like [`route`], with [`WebhookProcessor::handle_in_transaction_detached`]: the
/// handler's writes and the delivery's record commit together (`postgres` feature:
/// `PostgresStore` and its `Transaction`; `postgres-sqlx`: `SqlxStore` and a
/// `sqlx::Transaction`), and the unit finishes even if the sender hangs up.
#[cfg(any(feature = "postgres", feature = "postgres-sqlx"))]
pub fn route_in_transaction<S, H, Fut, E, T>(
    processor: Arc<WebhookProcessor<S>>,
    handler: H,
) -> MethodRouter<T>
where
    S: super::TransactionalStore,
    H: Fn(Event, S::Transaction) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<S::Transaction, E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
    T: Clone + Send + Sync + 'static,
{
    post(move |headers: HeaderMap, body: Bytes| async move {
        processor
            .handle_in_transaction_detached(&headers, &body, handler)
            .await
    })
}
