//! [`WebhookProcessor`]: verify, de-duplicate, order and process a delivery exactly once
//! across instances, and say which HTTP status to answer.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt as _;
use http::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tracing::Instrument as _;

use super::store::{Begin, ClaimToken, DedupKey, MemoryStore, StoreError, WebhookStore};
use super::{Event, WebhookError, WebhookVerifier};
use crate::base::metrics;

/// Default lease of a claim: how long one delivery may hold a key (see
/// [`WebhookProcessor::lease`]).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Default time limit of a handler (see [`WebhookProcessor::handler_limit`]): 8 s, below
/// the 10 s after which LuxCore (and luxcore-mock) stop waiting for an answer, so the
/// answer is sent while the sender still listens.
pub const DEFAULT_HANDLER_LIMIT: Duration = Duration::from_secs(8);

/// What happened to one delivery, and so which HTTP status to answer
/// ([`status`](Self::status)).
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler ran and succeeded, and the delivery is recorded: `200`.
    Processed {
        /// What it was de-duplicated by.
        key: DedupKey,
    },
    /// Already applied (duplicate), or a payment version not above the last applied one
    /// (out of order): skipped, `200` so LuxCore stops redelivering.
    Skipped {
        /// What it was de-duplicated by.
        key: DedupKey,
    },
    /// Another delivery of the same key (the same event, or another version of the same
    /// payment) is being processed right now: `409`, so LuxCore redelivers later.
    Busy {
        /// What it was de-duplicated by.
        key: DedupKey,
    },
    /// Bad signature or timestamp, or a signed body that is not an event: `400`,
    /// nothing recorded, nothing run.
    Rejected(WebhookError),
    /// The handler returned an error, panicked, outlived its time limit or was cancelled
    /// by [`WebhookProcessor::drain`]: `500`, nothing recorded, the redelivery runs the
    /// handler again.
    HandlerFailed {
        /// What it was de-duplicated by.
        key: DedupKey,
        /// The handler's error, as text.
        message: String,
    },
    /// The store could not be reached: `503`, never a silent 2xx. If this happened
    /// after a successful handler (recording failed), the redelivery runs it again.
    StoreUnavailable {
        /// The delivery's key, when it was parsed.
        key: Option<DedupKey>,
        /// What failed.
        error: StoreError,
    },
    /// The processor is being drained ([`WebhookProcessor::drain`]) and takes no new
    /// delivery: `503`, nothing claimed, nothing run; LuxCore redelivers later (to
    /// another instance, or to this one once restarted).
    ShuttingDown {
        /// What it was de-duplicated by.
        key: DedupKey,
    },
}

impl Outcome {
    /// The HTTP status to answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Processed { .. } | Self::Skipped { .. } => StatusCode::OK,
            Self::Busy { .. } => StatusCode::CONFLICT,
            Self::Rejected(_) => StatusCode::BAD_REQUEST,
            Self::HandlerFailed { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Self::StoreUnavailable { .. } | Self::ShuttingDown { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// `true` when the answer is 2xx (LuxCore will not redeliver).
    pub fn is_acknowledged(&self) -> bool {
        self.status().is_success()
    }

    /// `true` when LuxCore should redeliver later (409, 5xx).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Busy { .. }
                | Self::HandlerFailed { .. }
                | Self::StoreUnavailable { .. }
                | Self::ShuttingDown { .. }
        )
    }

    /// A short, fixed name of the outcome (`processed`, `skipped`, `busy`, `rejected`,
    /// `handler_failed`, `store_unavailable`, `shutting_down`), e.g. for metrics labels.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Processed { .. } => "processed",
            Self::Skipped { .. } => "skipped",
            Self::Busy { .. } => "busy",
            Self::Rejected(_) => "rejected",
            Self::HandlerFailed { .. } => "handler_failed",
            Self::StoreUnavailable { .. } => "store_unavailable",
            Self::ShuttingDown { .. } => "shutting_down",
        }
    }

    /// Counts the delivery in the metrics (`luxcore.webhook.deliveries`).
    pub(crate) fn counted(self) -> Self {
        metrics::webhook_delivery(self.label(), self.status().as_u16());
        self
    }

    /// The delivery's de-duplication key, once known.
    pub fn key(&self) -> Option<&DedupKey> {
        match self {
            Self::Processed { key }
            | Self::Skipped { key }
            | Self::Busy { key }
            | Self::ShuttingDown { key }
            | Self::HandlerFailed { key, .. } => Some(key),
            Self::StoreUnavailable { key, .. } => key.as_ref(),
            Self::Rejected(_) => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Processed { key } => write!(f, "processed {key}"),
            Self::Skipped { key } => write!(f, "skipped {key} (already applied)"),
            Self::Busy { key } => write!(f, "{key} is being processed elsewhere"),
            Self::Rejected(error) => write!(f, "rejected: {error}"),
            Self::HandlerFailed { key, message } => write!(f, "handler failed on {key}: {message}"),
            Self::StoreUnavailable { error, .. } => write!(f, "{error}"),
            Self::ShuttingDown { key } => write!(f, "{key} not taken: the processor is draining"),
        }
    }
}

/// The de-duplication key of a parsed event (documented on [`DedupKey`]):
///
/// 1. a payment event with a `status_version` in `1..=2^53` → its payment;
/// 2. else an envelope `id` → the event id;
/// 3. else (legacy payloads) → hex SHA-256 of the raw body bytes.
pub fn dedup_key(event: &Event, raw_body: &[u8]) -> DedupKey {
    let versioned = (event.payment_id())
        .zip(event.status_version())
        .filter(|(_, version)| (1..=DedupKey::MAX_VERSION).contains(version));
    if let Some((payment_id, version)) = versioned {
        return DedupKey::Payment {
            payment_id: payment_id.to_owned(),
            status_version: version,
        };
    }
    match event.id() {
        Some(id) => DedupKey::Event { id: id.to_owned() },
        None => DedupKey::Body {
            sha256: hex::encode(Sha256::digest(raw_body)),
        },
    }
}

/// The deliveries a processor (and its clones) is working on, for
/// [`WebhookProcessor::drain`].
#[derive(Default)]
struct InFlight {
    /// Units between their claim and their record/release (or about to claim).
    units: AtomicUsize,
    /// Set by `drain`: no new unit starts.
    closing: AtomicBool,
    /// Set by `drain` once its time is up: running handlers are cancelled.
    cancelled: AtomicBool,
    /// Woken when `units` reaches 0 and when `cancelled` is set.
    changed: Notify,
}

impl InFlight {
    /// Counts a unit in, unless the processor is draining.
    fn enter(self: &Arc<Self>) -> Option<UnitGuard> {
        // Counted before `closing` is read, and `drain` sets `closing` before it reads the
        // count: a unit is either refused or waited for, never missed.
        self.units.fetch_add(1, Ordering::SeqCst);
        let guard = UnitGuard(Arc::clone(self));
        if self.closing.load(Ordering::SeqCst) {
            return None;
        }
        Some(guard)
    }

    /// Resolves once `done` holds (checked after every change).
    async fn until(&self, done: impl Fn(&Self) -> bool) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done(self) {
                return;
            }
            notified.await;
        }
    }

    fn idle(&self) -> bool {
        self.units.load(Ordering::SeqCst) == 0
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// One unit counted in [`InFlight`]; counted out when dropped (also when its task is
/// dropped with the runtime).
pub(crate) struct UnitGuard(Arc<InFlight>);

impl Drop for UnitGuard {
    fn drop(&mut self) {
        if self.0.units.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.changed.notify_waiters();
        }
    }
}

/// The one entry point for receiving webhooks: verify, de-duplicate and order, run the
/// handler, record — exactly once across every instance sharing the store.
///
/// ```
/// # async fn example(headers: http::HeaderMap, body: bytes::Bytes) {
/// use luxcore_ext::webhooks::{MemoryStore, WebhookProcessor, WebhookVerifier};
///
/// let processor = WebhookProcessor::new(WebhookVerifier::new("whsec_..."), MemoryStore::new());
/// let outcome = processor
///     .handle_detached(&headers, &body, |event| async move {
///         // update the order; an Err answers 500 and LuxCore redelivers
///         Ok::<_, std::io::Error>(())
///     })
///     .await;
/// let status = outcome.status(); // answer this
/// # }
/// ```
///
/// The rules, in order:
///
/// 1. The signature and timestamp are verified on the raw bytes before anything is
///    parsed: a failure is [`Outcome::Rejected`] (400) and touches nothing.
/// 2. The event is parsed and its [`DedupKey`] computed ([`dedup_key`]).
/// 3. The store is asked to claim the key for the lease: already applied →
///    [`Outcome::Skipped`] (200); claimed by another live delivery → [`Outcome::Busy`]
///    (409); unreachable → [`Outcome::StoreUnavailable`] (503).
/// 4. The handler runs, for at most [`handler_timeout`](Self::handler_timeout) (8 s by
///    default, never more than 90 % of the lease, so that no two instances ever run it
///    for one key at once). Failure, panic or timeout → the claim is released, nothing
///    recorded, [`Outcome::HandlerFailed`] (500).
/// 5. Success → the key's version is recorded and the claim dropped →
///    [`Outcome::Processed`] (200). If recording fails → 503, and the redelivery runs the
///    handler again.
///
/// # When recording fails, an older version can run after a newer one
///
/// A payment's versions are applied in increasing order *as far as the store knows*. If
/// step 5 fails for version v+1 — the store became unreachable after the handler
/// succeeded (503), or the process died in between — the store still holds an older
/// version (or nothing) for the payment. Once v+1's claim is gone (its lease runs out), a
/// late delivery of v is claimed and its handler runs **after** v+1's, and LuxCore's
/// redelivery of v+1 then runs v+1's handler a second time. (The other order is harmless:
/// if v's record fails and v+1 is then applied and recorded, a redelivery of v is
/// skipped.)
///
/// So a handler that applies payment statuses must not let an older version overwrite a
/// newer one: keep the `status_version` it applied with its own data and ignore an event
/// whose [`Event::status_version`] is not above it, e.g. with a conditional write
/// (`UPDATE orders SET status = $1, status_version = $2 WHERE id = $3 AND status_version
/// < $2`); the second run of v+1 is then a no-op as well. With the PostgreSQL store's
/// `handle_in_transaction` this does not happen: the handler's writes and the record
/// commit in one transaction, so a failed record rolls the handler's writes back and the
/// merchant's data never holds a version the store does not.
///
/// # Handling that finishes once started
///
/// Steps 3–5 are one unit. [`handle_detached`](Self::handle_detached) (and the axum
/// routes) run it on its own tokio task: if the sender hangs up — LuxCore stops waiting
/// after 10 s — or the HTTP server drops the request's future, the unit still finishes;
/// only the answer goes unheard. LuxCore's redelivery then finds the record (200,
/// skipped, the handler does not run again) or, while the unit is still running, the claim
/// (409, redelivered later). [`handle`](Self::handle) runs the unit inside the caller's
/// future instead: dropping that future cancels the handler at its next `.await`, leaves
/// the claim until the lease runs out (redeliveries answer 409 until then), and a handler
/// that had succeeded before the record runs again on the redelivery.
///
/// # A handler that outlives its time limit
///
/// Its future is dropped (cancelled at its next `.await`; what it already wrote stays
/// written, except in `handle_in_transaction`, where it is rolled back), the claim is
/// released and the answer is 500: LuxCore redelivers and the handler runs again from the
/// start. The default limit (8 s) lets the answer reach LuxCore before its 10 s delivery
/// timeout. Raise it with [`handler_limit`](Self::handler_limit) for slow handlers: with
/// detached handling the sender then hangs up first, and its redeliveries get 409 until the
/// unit records (200 after); the lease must exceed the limit by 10 %.
///
/// # Shutting down
///
/// [`drain`](Self::drain) stops new units (503) and waits for the running ones, so a
/// graceful shutdown leaves no claim behind; see the `webhooks::axum` module.
///
/// **The one window left** with a store separate from your data: a process that dies
/// after your handler's write and before step 5 leaves the claim to expire, and the
/// redelivery runs the handler again. Make handlers idempotent, or use the PostgreSQL
/// store's `handle_in_transaction`, where your write and the record commit together.
pub struct WebhookProcessor<S = MemoryStore> {
    verifier: WebhookVerifier,
    store: Arc<S>,
    lease: Duration,
    handler_limit: Duration,
    in_flight: Arc<InFlight>,
}

impl<S> Clone for WebhookProcessor<S> {
    /// A processor sharing the store and the in-flight units (so [`drain`] on one drains
    /// all clones).
    ///
    /// [`drain`]: WebhookProcessor::drain
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            store: Arc::clone(&self.store),
            lease: self.lease,
            handler_limit: self.handler_limit,
            in_flight: Arc::clone(&self.in_flight),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for WebhookProcessor<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookProcessor")
            .field("verifier", &self.verifier)
            .field("store", &self.store)
            .field("lease", &self.lease)
            .field("handler_limit", &self.handler_limit)
            .field("in_flight", &self.in_flight.units.load(Ordering::Relaxed))
            .field("draining", &self.in_flight.closing.load(Ordering::Relaxed))
            .finish()
    }
}

impl<S: WebhookStore> WebhookProcessor<S> {
    /// A processor verifying with `verifier` and recording in `store`.
    pub fn new(verifier: WebhookVerifier, store: S) -> Self {
        Self {
            verifier,
            store: Arc::new(store),
            lease: DEFAULT_LEASE,
            handler_limit: DEFAULT_HANDLER_LIMIT,
            in_flight: Arc::default(),
        }
    }

    /// How long a claim lasts (default 30 s): the longest a crashed instance can delay a
    /// key. The claim and the handler must end within 90 % of it (the handler is
    /// cancelled and answered 500 otherwise, see [`handler_timeout`](Self::handler_timeout)),
    /// and recording within the last 10 %: choose a lease of at least 10 × the store's
    /// timeout plus your slowest handler. A record that arrives after the lease ran out
    /// still counts, but another instance may by then have run the handler too.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The handler's own time limit (default [`DEFAULT_HANDLER_LIMIT`], 8 s), counted from
    /// the claim; the effective limit is the smaller of this and 90 % of the lease
    /// ([`handler_timeout`](Self::handler_timeout)). Keep it below LuxCore's 10 s delivery
    /// timeout so LuxCore hears the answer; see the [type docs](Self) for what happens to
    /// a handler that outlives it.
    #[must_use]
    pub fn handler_limit(mut self, limit: Duration) -> Self {
        self.handler_limit = limit;
        self
    }

    /// The lease of each claim.
    pub fn lease_duration(&self) -> Duration {
        self.lease
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The verifier.
    pub fn verifier(&self) -> &WebhookVerifier {
        &self.verifier
    }

    /// The handler's effective time limit: [`handler_limit`](Self::handler_limit), at most
    /// 90 % of the lease.
    pub fn handler_timeout(&self) -> Duration {
        self.handler_limit.min(self.lease.mul_f64(0.9))
    }

    /// Deliveries being processed right now by this processor and its clones (claimed or
    /// about to be, not yet recorded or released).
    pub fn in_flight(&self) -> usize {
        self.in_flight.units.load(Ordering::SeqCst)
    }

    /// `true` once [`drain`](Self::drain) was called (on this processor or a clone).
    pub fn is_draining(&self) -> bool {
        self.in_flight.closing.load(Ordering::SeqCst)
    }

    /// For a graceful shutdown: stops taking new deliveries (they answer
    /// [`Outcome::ShuttingDown`], 503, nothing claimed) and waits up to `timeout` for the
    /// units in flight — including detached ones whose sender already hung up — to record
    /// or release their claims. Returns `true` when all of them finished by themselves.
    ///
    /// When `timeout` runs out, the handlers still running are cancelled (their futures
    /// dropped; a `handle_in_transaction` transaction rolls back) and their claims
    /// released, answered [`Outcome::HandlerFailed`]; that takes at most another 10 % of
    /// the lease (the store's calls are bounded by its own timeout), and `false` is
    /// returned. So nothing is left claimed once `drain` returns, unless the store was
    /// unreachable, in which case the claim runs out with its lease.
    ///
    /// Irreversible: the processor and its clones take no delivery afterwards. Call it
    /// after the HTTP server stopped (axum: after `serve(..).with_graceful_shutdown(..)`
    /// returned) and before the runtime shuts down.
    pub async fn drain(&self, timeout: Duration) -> bool {
        let in_flight = &self.in_flight;
        in_flight.closing.store(true, Ordering::SeqCst);
        if tokio::time::timeout(timeout, in_flight.until(InFlight::idle))
            .await
            .is_ok()
        {
            return true;
        }
        tracing::warn!(
            units = in_flight.units.load(Ordering::SeqCst),
            "webhook processor drained with handlers still running: cancelling them"
        );
        in_flight.cancelled.store(true, Ordering::SeqCst);
        in_flight.changed.notify_waiters();
        let releasing = self.lease.mul_f64(0.1);
        if tokio::time::timeout(releasing, in_flight.until(InFlight::idle))
            .await
            .is_err()
        {
            tracing::warn!(
                units = in_flight.units.load(Ordering::SeqCst),
                "webhook units still releasing after the drain; their claims run out with the lease"
            );
        }
        false
    }

    /// Steps 1–2: verifies `raw_body` with `headers`, parses it and computes its key.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
    ) -> Result<(Event, DedupKey), WebhookError> {
        let event = super::verify_event(&self.verifier, headers, raw_body)?;
        let key = dedup_key(&event, raw_body);
        Ok((event, key))
    }

    /// Processes one delivery **inside the caller's future**: see the [type docs](Self).
    /// `raw_body` must be the exact bytes received. The handler gets the parsed event and
    /// runs at most once per key across instances, unless it fails.
    ///
    /// If the caller's future is dropped (an HTTP server does that when the sender hangs
    /// up), the handler is cancelled at its next `.await` and the claim stays until the
    /// lease runs out; prefer [`handle_detached`](Self::handle_detached) in a receiver.
    pub async fn handle<F, Fut, E>(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
        handler: F,
    ) -> Outcome
    where
        F: FnOnce(Event) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        self.run_inline(headers, raw_body, |event, key| {
            self.unit(event, key, handler)
        })
        .await
    }

    /// Like [`handle`](Self::handle), but the claim → handler → record unit runs on its
    /// own tokio task (verification stays in the caller's): once claimed, a delivery is
    /// finished even if the caller's future is dropped — the sender hung up — and only the
    /// answer is lost. The next delivery of the key finds the record (200) or, while the
    /// unit runs, the claim (409). [`drain`](Self::drain) waits for such units.
    ///
    /// The handler must therefore be `Send + 'static` (capture `Arc`s, not borrows).
    /// Outside a tokio runtime the unit runs inline, as with `handle`.
    pub async fn handle_detached<F, Fut, E>(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
        handler: F,
    ) -> Outcome
    where
        S: 'static,
        F: FnOnce(Event) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display + 'static,
    {
        self.run_detached(headers, raw_body, |this, event, key| async move {
            this.unit(event, key, handler).await
        })
        .await
    }

    /// Admission, then `unit(event, key)` in the caller's future with the in-flight guard
    /// held until it ends; the outcome counted.
    pub(crate) async fn run_inline<Fut>(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
        unit: impl FnOnce(Event, DedupKey) -> Fut,
    ) -> Outcome
    where
        Fut: Future<Output = Outcome>,
    {
        let (event, key, guard) = match self.admit(headers, raw_body) {
            Ok(admitted) => admitted,
            Err(outcome) => return outcome.counted(),
        };
        let outcome = unit(event, key).await;
        drop(guard);
        outcome.counted()
    }

    /// Admission, then `unit(processor, event, key)` on a task of its own ([`detach`]) with
    /// the in-flight guard held until it ends; the outcome counted.
    pub(crate) async fn run_detached<Fut>(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
        unit: impl FnOnce(Self, Event, DedupKey) -> Fut,
    ) -> Outcome
    where
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let (event, key, guard) = match self.admit(headers, raw_body) {
            Ok(admitted) => admitted,
            Err(outcome) => return outcome.counted(),
        };
        let unit = unit(self.clone(), event, key.clone());
        detach(key, async move {
            let outcome = unit.await;
            drop(guard);
            outcome
        })
        .await
    }

    /// Verification and admission: the parsed event, its key and the in-flight guard, or
    /// the outcome to answer (rejected, shutting down), not yet counted.
    pub(crate) fn admit(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
    ) -> Result<(Event, DedupKey, UnitGuard), Outcome> {
        let (event, key) = self.accept(headers, raw_body)?;
        match self.in_flight.enter() {
            Some(guard) => Ok((event, key, guard)),
            None => {
                tracing::debug!(%key, "webhook delivery refused: the processor is draining");
                Err(Outcome::ShuttingDown { key })
            }
        }
    }

    /// Steps 3–5 for a verified delivery.
    async fn unit<F, Fut, E>(&self, event: Event, key: DedupKey, handler: F) -> Outcome
    where
        F: FnOnce(Event) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        let token = ClaimToken::random();
        let claiming = std::time::Instant::now();
        let kind = self.store.kind();
        match timed(kind, "begin", self.store.begin(&key, &token, self.lease)).await {
            Ok(Begin::Claimed) => {}
            Ok(Begin::Done) => return Outcome::Skipped { key },
            Ok(Begin::Busy) => return Outcome::Busy { key },
            Err(error) => return unavailable(Some(key), error),
        }
        let message = match self.run_handler(claiming, handler(event)).await {
            Ok(()) => {
                return match timed(kind, "commit", self.store.commit(&key, &token)).await {
                    Ok(()) => Outcome::Processed { key },
                    Err(error) => unavailable(Some(key), error),
                };
            }
            Err(message) => message,
        };
        tracing::warn!(%key, %message, "webhook handler failed");
        if let Err(error) = timed(kind, "release", self.store.release(&key, &token)).await {
            // The claim runs out by itself after the lease.
            tracing::warn!(%key, %error, "could not release webhook claim");
        }
        Outcome::HandlerFailed { key, message }
    }

    /// [`verify`](Self::verify), with a rejection as its [`Outcome`] (logged, no secrets).
    pub(crate) fn accept(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
    ) -> Result<(Event, DedupKey), Outcome> {
        self.verify(headers, raw_body).map_err(|error| {
            tracing::warn!(%error, "webhook delivery rejected");
            Outcome::Rejected(error)
        })
    }

    /// Runs a handler until [`handler_timeout`](Self::handler_timeout) after `claiming`
    /// (when the claim was asked for, so a slow claim shortens the handler's time, not
    /// the margin left for recording), or until [`drain`](Self::drain) cancels it; its
    /// error, panic, timeout or cancellation as text.
    pub(crate) async fn run_handler<T, E: fmt::Display>(
        &self,
        claiming: std::time::Instant,
        handler: impl Future<Output = Result<T, E>>,
    ) -> Result<T, String> {
        let deadline = tokio::time::Instant::from_std(claiming + self.handler_timeout());
        let guarded = tokio::time::timeout_at(deadline, AssertUnwindSafe(handler).catch_unwind());
        tokio::select! {
            biased;
            result = guarded => match result {
                Ok(Ok(result)) => result.map_err(|error| error.to_string()),
                Ok(Err(panic)) => Err(panic_message(panic.as_ref())),
                Err(_) => Err(format!(
                    "handler ran longer than {:?}",
                    self.handler_timeout()
                )),
            },
            () = self.in_flight.until(InFlight::is_cancelled) => {
                Err("handler cancelled: the processor was drained before it finished".to_owned())
            }
        }
    }
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    match detail {
        Some(detail) => format!("handler panicked: {detail}"),
        None => "handler panicked".to_owned(),
    }
}

/// Runs a unit on its own task and waits for its outcome; the task goes on if this future
/// is dropped. Counts the outcome in the metrics once, whoever hears it.
async fn detach(key: DedupKey, unit: impl Future<Output = Outcome> + Send + 'static) -> Outcome {
    let counted = async move { unit.await.counted() }.in_current_span();
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return counted.await;
    };
    match runtime.spawn(counted).await {
        Ok(outcome) => outcome,
        Err(error) => {
            // Handler panics are caught inside the unit: this is the runtime shutting
            // down under it (the claim runs out with its lease).
            tracing::warn!(%key, %error, "webhook unit did not finish");
            Outcome::ShuttingDown { key }.counted()
        }
    }
}

/// Runs a store call, timing it for `luxcore.webhook.store.duration`.
pub(crate) async fn timed<T>(
    store: &'static str,
    operation: &'static str,
    call: impl Future<Output = T>,
) -> T {
    let started = std::time::Instant::now();
    let answer = call.await;
    metrics::webhook_store(store, operation, started.elapsed());
    answer
}

pub(crate) fn unavailable(key: Option<DedupKey>, error: StoreError) -> Outcome {
    tracing::warn!(%error, "webhook store unavailable");
    Outcome::StoreUnavailable { key, error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::{HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookVerifyError};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SECRET: &str = "whsec_unit";

    fn signed(body: &[u8]) -> HeaderMap {
        let now = luxcore_auth::unix_now();
        let mut headers = HeaderMap::new();
        let sig = luxcore_auth::webhook::sign_v1(&SECRET.into(), now, body);
        headers.insert(HEADER_SIGNATURE, sig.parse().unwrap());
        headers.insert(HEADER_TIMESTAMP, now.to_string().parse().unwrap());
        headers
    }

    fn payment(event_id: &str, version: i64) -> Vec<u8> {
        serde_json::to_vec(
            &serde_json::json!({"id": event_id, "event": "payment.completed",
            "data": {"id": "pay_1", "amount": 1, "currency": "ARS", "status": "completed",
                     "status_version": version}}),
        )
        .unwrap()
    }

    fn processor() -> WebhookProcessor<Arc<MemoryStore>> {
        WebhookProcessor::new(WebhookVerifier::new(SECRET), Arc::new(MemoryStore::new()))
    }

    async fn run(p: &WebhookProcessor<Arc<MemoryStore>>, body: &[u8], fail: bool) -> Outcome {
        p.handle(&signed(body), body, |_| async move {
            if fail { Err("database down") } else { Ok(()) }
        })
        .await
    }

    #[tokio::test]
    async fn failed_handler_records_nothing_and_redelivery_applies() {
        let p = processor();
        let body = payment("evt_2", 2);
        let failed = run(&p, &body, true).await;
        assert_eq!(
            failed.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{failed}"
        );
        assert_eq!(p.store().applied("payment:pay_1"), None);
        let again = run(&p, &body, false).await;
        assert!(matches!(again, Outcome::Processed { .. }), "{again}");
        assert_eq!(p.store().applied("payment:pay_1"), Some(2));
        for (body, what) in [
            (payment("evt_2", 2), "duplicate"),
            (payment("evt_1", 1), "older"),
        ] {
            let outcome = run(&p, &body, false).await;
            assert!(
                matches!(outcome, Outcome::Skipped { .. }),
                "{what}: {outcome}"
            );
            assert_eq!(outcome.status(), StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn bad_signature_is_400_and_runs_nothing() {
        let p = processor();
        let body = payment("evt_1", 1);
        let calls = AtomicUsize::new(0);
        let mut headers = signed(&body);
        headers.insert(HEADER_SIGNATURE, "hmac_sha256=00".parse().unwrap());
        let outcome = p
            .handle(&headers, &body, |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(())
            })
            .await;
        assert!(matches!(
            outcome,
            Outcome::Rejected(WebhookError::Verify(WebhookVerifyError::MalformedSignature))
        ));
        assert_eq!(outcome.status(), StatusCode::BAD_REQUEST);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert!(p.store().is_empty());
        // Signed but not an event: 400 too, nothing recorded.
        let garbage = b"[1,2]";
        assert_eq!(
            run(&p, garbage, false).await.status(),
            StatusCode::BAD_REQUEST
        );
        assert!(p.store().is_empty());
    }

    #[tokio::test]
    async fn concurrent_duplicate_is_busy_then_skipped() {
        let p = Arc::new(processor());
        let body = payment("evt_5", 5);
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let (p, body) = (Arc::clone(&p), body.clone());
            tokio::spawn(async move {
                p.handle(&signed(&body), &body, |_| async move {
                    started_tx.send(()).unwrap();
                    finish_rx.await.unwrap();
                    Ok::<_, String>(())
                })
                .await
            })
        };
        started_rx.await.unwrap();
        // Same event, and an older version of the same payment: both wait (409).
        let dup = run(&p, &body, false).await;
        assert!(matches!(dup, Outcome::Busy { .. }), "{dup}");
        assert_eq!(dup.status(), StatusCode::CONFLICT);
        assert!(dup.is_retryable());
        assert!(matches!(
            run(&p, &payment("evt_4", 4), false).await,
            Outcome::Busy { .. }
        ));
        finish_tx.send(()).unwrap();
        assert!(matches!(first.await.unwrap(), Outcome::Processed { .. }));
        assert!(matches!(
            run(&p, &body, false).await,
            Outcome::Skipped { .. }
        ));
        assert!(matches!(
            run(&p, &payment("evt_4", 4), false).await,
            Outcome::Skipped { .. }
        ));
    }

    /// A store whose `begin` (or only `commit`) fails.
    struct DownStore {
        begin_works: bool,
    }

    impl WebhookStore for DownStore {
        async fn begin(
            &self,
            _: &DedupKey,
            _: &ClaimToken,
            _: Duration,
        ) -> Result<Begin, StoreError> {
            if self.begin_works {
                Ok(Begin::Claimed)
            } else {
                Err(StoreError::Unavailable("connection refused".into()))
            }
        }
        async fn commit(&self, _: &DedupKey, _: &ClaimToken) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("connection reset".into()))
        }
        async fn release(&self, _: &DedupKey, _: &ClaimToken) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("connection reset".into()))
        }
    }

    #[tokio::test]
    async fn unreachable_store_is_503_never_2xx() {
        let body = payment("evt_1", 1);
        for begin_works in [false, true] {
            let p = WebhookProcessor::new(WebhookVerifier::new(SECRET), DownStore { begin_works });
            let calls = AtomicUsize::new(0);
            let outcome = p
                .handle(&signed(&body), &body, |_| async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, String>(())
                })
                .await;
            assert!(
                matches!(outcome, Outcome::StoreUnavailable { .. }),
                "{outcome}"
            );
            assert_eq!(outcome.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(outcome.is_retryable());
            // The handler runs only once the key is claimed.
            assert_eq!(calls.load(Ordering::SeqCst), usize::from(begin_works));
        }
    }

    #[test]
    fn debug_redacts_the_secret() {
        let p = WebhookProcessor::new(
            WebhookVerifier::new("whsec_do_not_print"),
            MemoryStore::new(),
        );
        let debug = format!("{p:?} {p:#?}");
        assert!(!debug.contains("whsec_do_not_print"), "{debug}");
        assert!(debug.contains("REDACTED"), "{debug}");
    }

    #[tokio::test]
    async fn handler_outliving_the_lease_fails_and_frees_the_key() {
        let p = processor().lease(Duration::from_millis(50));
        let body = payment("evt_1", 1);
        let slow = p
            .handle(&signed(&body), &body, |_| async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok::<_, String>(())
            })
            .await;
        assert!(matches!(slow, Outcome::HandlerFailed { .. }), "{slow}");
        assert_eq!(p.store().applied("payment:pay_1"), None);
        assert!(matches!(
            run(&p, &body, false).await,
            Outcome::Processed { .. }
        ));
    }

    #[tokio::test]
    async fn unversioned_by_id_and_legacy_by_body_hash() {
        let p = processor();
        let test_event = br#"{"id":"evt_t","event":"webhook.test","data":{}}"#;
        assert!(matches!(
            run(&p, test_event, false).await,
            Outcome::Processed { .. }
        ));
        assert!(matches!(
            run(&p, test_event, false).await,
            Outcome::Skipped { .. }
        ));
        assert_eq!(
            p.store().applied("event:evt_t"),
            Some(DedupKey::UNVERSIONED)
        );
        let legacy = br#"{"event":"payment.completed","payment":{"id":"pay_9","amount":1,"currency":"ARS","status":"completed"}}"#;
        let outcome = run(&p, legacy, false).await;
        let hash = hex::encode(Sha256::digest(legacy));
        assert_eq!(outcome.key(), Some(&DedupKey::Body { sha256: hash }));
        assert!(matches!(
            run(&p, legacy, false).await,
            Outcome::Skipped { .. }
        ));
        // Another legacy body is another key.
        let other = br#"{"event":"payment.failed","payment":{"id":"pay_9","amount":1,"currency":"ARS","status":"failed"}}"#;
        assert!(matches!(
            run(&p, other, false).await,
            Outcome::Processed { .. }
        ));
        // A version out of range falls back to the event id.
        let huge = payment("evt_huge", i64::MAX);
        assert_eq!(
            run(&p, &huge, false).await.key(),
            Some(&DedupKey::Event {
                id: "evt_huge".into()
            })
        );
    }
}
