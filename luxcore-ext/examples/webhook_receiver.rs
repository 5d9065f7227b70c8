//! A webhook receiver: the SDK's ready axum route (`luxcore_ext::webhooks::axum::route`)
//! running a [`WebhookProcessor`], which verifies, de-duplicates, orders and acknowledges
//! LuxCore deliveries exactly once.
//!
//! ```text
//! LUXCORE_WEBHOOK_SECRET=whsec_... [LUXCORE_WEBHOOK_ADDR=127.0.0.1:3000] \
//!     cargo run -p luxcore-ext --features axum --example webhook_receiver
//! ```
//!
//! `POST /webhooks/luxcore` answers:
//!
//! * `400` when the signature or timestamp does not verify, or a signed body is not a
//!   valid event (nothing is processed or recorded);
//! * `200` after the handler applied an event, and also for a duplicate or out-of-order
//!   payment event (skipped, so LuxCore stops redelivering it);
//! * `409` while another delivery of the same payment is being processed, `500` when the
//!   handler failed, `503` when the store is unreachable or the receiver is shutting
//!   down: LuxCore redelivers later.
//!
//! A delivery whose sender hangs up (LuxCore waits 10 s) still finishes; on Ctrl-C the
//! server stops and `WebhookProcessor::drain` waits for the deliveries still running.
//!
//! The store here is in memory (one instance); with several instances use `RedisStore`
//! or `PostgresStore` (the `redis` / `postgres` features) — nothing else changes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::middleware::map_response_with_state;
use axum::response::Response;
use luxcore_ext::webhooks::axum::route;
use luxcore_ext::webhooks::{Event, MemoryStore, WebhookProcessor, WebhookVerifier};
use secrecy::SecretString;
use tokio::net::TcpListener;

/// Path the receiver listens on.
pub const PATH: &str = "/webhooks/luxcore";

/// What the receiver did: the events its handler applied and the status of every answer.
#[derive(Default)]
pub struct Receiver {
    applied: Mutex<Vec<Event>>,
    statuses: Mutex<Vec<u16>>,
}

impl Receiver {
    /// Events applied so far, in the order they were applied.
    pub fn applied(&self) -> Vec<Event> {
        lock(&self.applied).clone()
    }

    /// The HTTP status of every answer, in order.
    pub fn statuses(&self) -> Vec<u16> {
        lock(&self.statuses).clone()
    }

    /// Where a real service processes the event (update the order, notify the
    /// customer). Returning an error answers 500 and LuxCore redelivers.
    async fn apply(&self, event: Event) -> Result<(), std::convert::Infallible> {
        println!(
            "{} {} payment={:?} status_version={:?}",
            event.id().unwrap_or("-"),
            event.name(),
            event.payment_id(),
            event.status_version()
        );
        lock(&self.applied).push(event);
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn record_status(State(receiver): State<Arc<Receiver>>, response: Response) -> Response {
    lock(&receiver.statuses).push(response.status().as_u16());
    response
}

/// The processor for the endpoint secret `secret` (`whsec_...`): verifies, de-duplicates
/// and records in memory.
pub fn processor(secret: SecretString) -> Arc<WebhookProcessor> {
    Arc::new(WebhookProcessor::new(
        WebhookVerifier::new(secret),
        MemoryStore::new(),
    ))
}

/// The axum router serving [`PATH`] through `processor`. Each delivery runs on its own
/// task: if LuxCore hangs up before the answer, the handler still finishes and records,
/// and the redelivery answers 200 without running it again.
pub fn router(processor: Arc<WebhookProcessor>, receiver: Arc<Receiver>) -> Router {
    let apply = {
        let receiver = Arc::clone(&receiver);
        move |event: Event| {
            let receiver = Arc::clone(&receiver);
            async move { receiver.apply(event).await }
        }
    };
    Router::new()
        .route(PATH, route(processor, apply))
        .layer(map_response_with_state(receiver, record_status))
}

/// Serves the receiver on an already bound listener until the future is dropped.
pub async fn serve(
    listener: TcpListener,
    secret: SecretString,
    receiver: Arc<Receiver>,
) -> std::io::Result<()> {
    axum::serve(listener, router(processor(secret), receiver)).await
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
    let processor = processor(SecretString::from(secret));
    // Ctrl-C: stop accepting, finish the requests in progress...
    axum::serve(listener, router(Arc::clone(&processor), Arc::default()))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    // ...and the deliveries whose sender already hung up: within 10 s, else they are
    // cancelled and their claims released, so nothing stays claimed.
    if !processor.drain(Duration::from_secs(10)).await {
        eprintln!("some webhook handlers were cancelled; LuxCore redelivers them");
    }
    Ok(())
}
