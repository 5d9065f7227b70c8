//! A webhook receiver: an axum endpoint that verifies, parses, de-duplicates and
//! acknowledges LuxCore deliveries.
//!
//! ```text
//! LUXCORE_WEBHOOK_SECRET=whsec_... [LUXCORE_WEBHOOK_ADDR=127.0.0.1:3000] \
//!     cargo run -p luxcore-ext --example webhook_receiver
//! ```
//!
//! `POST /webhooks/luxcore` answers:
//!
//! * `400` when the signature or timestamp does not verify, or a signed body is not a
//!   valid event (nothing is processed);
//! * `200` after applying an event, and also for a duplicate or out-of-order payment event
//!   that the [`StatusVersionGuard`] ignores, so LuxCore stops redelivering it.
//!
//! The handler keeps the applied events in memory; a real service would do its work
//! (update the order, notify the customer) where [`Receiver::apply`] records them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use luxcore_ext::webhooks::{
    Event, GuardDecision, StatusVersionGuard, WebhookError, WebhookVerifier, verify_event,
};
use secrecy::SecretString;
use tokio::net::TcpListener;

/// Path the receiver listens on.
pub const PATH: &str = "/webhooks/luxcore";

/// Shared state of the receiver.
pub struct Receiver {
    verifier: WebhookVerifier,
    guard: StatusVersionGuard,
    applied: Mutex<Vec<Event>>,
    ignored: Mutex<Vec<Event>>,
    rejected: Mutex<Vec<String>>,
}

impl Receiver {
    /// A receiver for the endpoint secret `secret` (`whsec_...`) with the default scheme.
    pub fn new(secret: SecretString) -> Arc<Self> {
        Arc::new(Receiver {
            verifier: WebhookVerifier::new(secret),
            guard: StatusVersionGuard::in_memory(),
            applied: Mutex::default(),
            ignored: Mutex::default(),
            rejected: Mutex::default(),
        })
    }

    /// Events applied so far, in the order they were applied.
    pub fn applied(&self) -> Vec<Event> {
        self.applied
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Verified events ignored as duplicates or out of order.
    pub fn ignored(&self) -> Vec<Event> {
        self.ignored
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Why deliveries were rejected (400), in order.
    pub fn rejected(&self) -> Vec<String> {
        self.rejected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Verifies, parses and guards one delivery; returns the HTTP status to answer.
    pub fn handle(&self, headers: &HeaderMap, body: &[u8]) -> StatusCode {
        let event = match verify_event(&self.verifier, headers, body) {
            Ok(event) => event,
            Err(err) => {
                let reason = match &err {
                    WebhookError::Verify(e) => format!("verify: {e}"),
                    WebhookError::Parse(e) => format!("parse: {e}"),
                    other => other.to_string(),
                };
                eprintln!("webhook rejected: {reason}");
                push(&self.rejected, reason);
                return StatusCode::BAD_REQUEST;
            }
        };
        match self.guard.check(&event) {
            GuardDecision::Stale => push(&self.ignored, event),
            GuardDecision::Apply | GuardDecision::Unversioned => self.apply(event),
        }
        StatusCode::OK
    }

    /// Where a real service processes the event.
    fn apply(&self, event: Event) {
        println!(
            "{} {} payment={:?} status_version={:?}",
            event.id().unwrap_or("-"),
            event.name(),
            event.payment_id(),
            event.status_version()
        );
        push(&self.applied, event);
    }
}

fn push<T>(list: &Mutex<Vec<T>>, item: T) {
    list.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(item);
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    receiver.handle(&headers, &body)
}

/// The axum router serving [`PATH`].
pub fn router(receiver: Arc<Receiver>) -> Router {
    Router::new()
        .route(PATH, post(receive))
        .with_state(receiver)
}

/// Serves the receiver on an already bound listener until the future is dropped.
pub async fn serve(listener: TcpListener, receiver: Arc<Receiver>) -> std::io::Result<()> {
    axum::serve(listener, router(receiver)).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("LUXCORE_WEBHOOK_SECRET")
        .map_err(|_| "set LUXCORE_WEBHOOK_SECRET to the endpoint's whsec_... secret")?;
    let addr: SocketAddr = std::env::var("LUXCORE_WEBHOOK_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()?;
    let listener = TcpListener::bind(addr).await?;
    println!("listening on http://{}{PATH}", listener.local_addr()?);
    serve(listener, Receiver::new(SecretString::from(secret))).await?;
    Ok(())
}
