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
//!     route(processor, |event| async move {
//!         println!("{} {:?}", event.name(), event.payment_id());
//!         Ok::<_, std::io::Error>(())
//!     }),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

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
/// anything is parsed; the answer is the [`Outcome`].
pub fn route<S, H, Fut, E, T>(processor: Arc<WebhookProcessor<S>>, handler: H) -> MethodRouter<T>
where
    S: WebhookStore + 'static,
    H: Fn(Event) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
    T: Clone + Send + Sync + 'static,
{
    post(move |headers: HeaderMap, body: Bytes| async move {
        processor.handle(&headers, &body, handler).await
    })
}

/// Like [`route`], with [`WebhookProcessor::handle_in_transaction`]: the handler's
/// writes and the delivery's record commit together (`postgres` feature).
#[cfg(feature = "postgres")]
pub fn route_in_transaction<H, Fut, E, T>(
    processor: Arc<WebhookProcessor<super::PostgresStore>>,
    handler: H,
) -> MethodRouter<T>
where
    H: Fn(Event, super::Transaction) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<super::Transaction, E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
    T: Clone + Send + Sync + 'static,
{
    post(move |headers: HeaderMap, body: Bytes| async move {
        processor
            .handle_in_transaction(&headers, &body, handler)
            .await
    })
}
