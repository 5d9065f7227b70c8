//! What the two PostgreSQL stores share (`postgres` / `postgres-sqlx` features):
//! `PostgresStore` (tokio-postgres) and `SqlxStore` (sqlx) run the same SQL on the same
//! table (`migrations/0001_webhook_keys.sql`), so instances using either can share one
//! database. Here: the statements, the settings and purge schedule of a store, the
//! decisions taken on what the database answered, and [`TransactionalStore`] with the one
//! `handle_in_transaction` (open → handler → record) over either store.
//!
//! Leases are measured by the database's clock (`clock_timestamp()`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::FutureExt as _;

use super::processor::{timed, unavailable};
use http::HeaderMap;

use super::store::{Begin, Cause, ClaimToken, DedupKey, StoreError, WebhookStore};
use super::{Event, Outcome, WebhookProcessor};

/// The schema (idempotent).
pub const MIGRATION: &str = include_str!("../../migrations/0001_webhook_keys.sql");

/// Whether [`MIGRATION`] has been applied (its table and index exist): then migrating
/// takes no lock at all. Running it again would: `CREATE INDEX IF NOT EXISTS` takes a
/// `SHARE` lock on the table before it finds the index there, so it waits for every
/// `handle_in_transaction` transaction in flight while every new one queues behind it — an
/// instance starting during a rolling deploy would stall the others' deliveries (409s) and
/// could time out itself.
pub(super) const SCHEMA_PRESENT: &str = "
SELECT to_regclass('luxcore_webhook_keys') IS NOT NULL
   AND to_regclass('luxcore_webhook_keys_expires_at') IS NOT NULL";

/// Serialises [`MIGRATION`] between instances starting together; taken in the migration's
/// own transaction (`pg_advisory_xact_lock`).
pub(super) const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7316548201)";

/// Default retention of event-id and body-hash rows (payment rows are kept for good).
pub(super) const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// Default number of deliveries recorded between two automatic purges.
pub(super) const DEFAULT_PURGE_EVERY: u64 = 1024;
/// Default time limit of each store call.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The claim: one statement, committed **asynchronously** (issue 23.4). Its
/// `set_config('synchronous_commit', 'off', true)` is transaction-local: it applies to the
/// claim's own (implicit) transaction only, so the record ([`COMMIT`]), [`RELEASE`], the
/// transactional path and anything else run on the pooled connection keep the session's
/// setting — a new event costs one durable commit, the record's, instead of two.
///
/// Why losing the claim is harmless: a claim is a lease, not a fact. An asynchronously
/// committed claim is visible to every other session at once (it excludes concurrent
/// deliveries exactly as before); only a crash of the database server within the last
/// few `wal_writer_delay`s can erase it. Then the key reads as unclaimed (or as claimed by
/// an older, expired lease) and a redelivery claims it again — what already happens when
/// a lease expires under a slow handler, so no guarantee rested on the claim surviving a
/// crash. What proves "applied" is the record, and it stays synchronous; its WAL flush
/// also flushes the claim written before it. The holder of an erased claim still records
/// normally: [`COMMIT`] is an upsert that does not need the claim (or its row) to exist.
///
/// `$1` key, `$2` token, `$3` lease (ms), `$4` version; a row when claimed.
pub(super) const BEGIN: &str = "
INSERT INTO luxcore_webhook_keys AS k (key, claim_token, claim_expires_at)
SELECT $1::text, $2::text, clock_timestamp() + ($3::bigint || ' milliseconds')::interval
 WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL
ON CONFLICT (key) DO UPDATE
   SET claim_token = EXCLUDED.claim_token, claim_expires_at = EXCLUDED.claim_expires_at
 WHERE (k.applied_version IS NULL OR k.applied_version < $4::bigint)
   AND (k.claim_token IS NULL OR k.claim_expires_at <= clock_timestamp())
RETURNING 1";

/// `$1` key, `$2` version: one boolean row (applied at that version) or none.
pub(super) const IS_APPLIED: &str = "
SELECT COALESCE(applied_version >= $2::bigint, false) FROM luxcore_webhook_keys WHERE key = $1::text";

/// `$1` key, `$2` version, `$3` token, `$4` retention (ms; NULL for payments).
pub(super) const COMMIT: &str = "
INSERT INTO luxcore_webhook_keys AS k (key, applied_version, expires_at)
VALUES ($1::text, $2::bigint, clock_timestamp() + ($4::bigint || ' milliseconds')::interval)
ON CONFLICT (key) DO UPDATE
   SET applied_version = GREATEST(k.applied_version, EXCLUDED.applied_version),
       expires_at = EXCLUDED.expires_at,
       claim_expires_at = CASE WHEN k.claim_token = $3::text THEN NULL ELSE k.claim_expires_at END,
       claim_token = CASE WHEN k.claim_token = $3::text THEN NULL ELSE k.claim_token END";

/// `$1` key, `$2` token.
pub(super) const RELEASE: &str = "
UPDATE luxcore_webhook_keys SET claim_token = NULL, claim_expires_at = NULL
 WHERE key = $1::text AND claim_token = $2::text";

/// Expired event-id and body-hash rows that no delivery holds.
pub(super) const PURGE: &str = "
DELETE FROM luxcore_webhook_keys WHERE expires_at < clock_timestamp()
   AND (claim_token IS NULL OR claim_expires_at <= clock_timestamp())";

/// How long a concurrent delivery waits for a key's new row that is not yet committed.
const LOCK_WAIT_MS: u64 = 50;

/// `$1` key: creates the key's row if new (waits at most [`LOCK_WAIT_MS`]).
pub(super) const ENSURE_ROW: &str =
    "INSERT INTO luxcore_webhook_keys (key) VALUES ($1::text) ON CONFLICT DO NOTHING";

/// Locks the key's row (`NOWAIT`: `lock_timeout` plays no part) and, in the same round
/// trip, gives the transaction back the session's own `lock_timeout` (saved by
/// [`open_transaction`]) for the handler. `$1` key; columns: the applied version
/// (`Option<i64>`), whether a live claim holds the key (`bool`), and the restored setting.
pub(super) const LOCK_ROW: &str = "
SELECT applied_version, claim_token IS NOT NULL AND claim_expires_at > clock_timestamp(),
       set_config('lock_timeout', current_setting('luxcore.saved_lock_timeout'), true)
  FROM luxcore_webhook_keys WHERE key = $1::text FOR UPDATE NOWAIT";

/// Records the delivery, only in the transaction [`open_transaction`] began: after a
/// `COMMIT` or `ROLLBACK` of the handler's, the transaction-local marker is gone and no row
/// matches. `$1` key, `$2` version, `$3` retention (ms; NULL for payments), `$4` marker.
pub(super) const RECORD: &str = "
UPDATE luxcore_webhook_keys
   SET applied_version = GREATEST(applied_version, $2::bigint),
       expires_at = clock_timestamp() + ($3::bigint || ' milliseconds')::interval
 WHERE key = $1::text AND current_setting('luxcore.transaction', true) = $4::text";

/// SQLSTATE `lock_not_available` (`NOWAIT`, `lock_timeout`): another delivery holds the key.
pub(super) const LOCK_NOT_AVAILABLE: &str = "55P03";

/// The statements that begin the transaction of `handle_in_transaction`, sent as one
/// simple query: `BEGIN`, then, transaction-local, the session's `lock_timeout` saved
/// (for [`LOCK_ROW`] to put back), the `marker` (for [`RECORD`]), the claim's short
/// `lock_timeout` and the lease as `idle_in_transaction_session_timeout`, so the server
/// ends a stuck transaction. `marker` must be hex ([`ClaimToken`](super::ClaimToken)'s
/// text): it is put in the SQL text.
pub(super) fn open_transaction(marker: &str, lease: Duration) -> String {
    debug_assert!(marker.bytes().all(|b| b.is_ascii_hexdigit()));
    format!(
        "BEGIN; SELECT set_config('luxcore.saved_lock_timeout', current_setting('lock_timeout'), true), \
         set_config('luxcore.transaction', '{marker}', true); \
         SET LOCAL lock_timeout = {LOCK_WAIT_MS}; \
         SET LOCAL idle_in_transaction_session_timeout = {}",
        lease_ms(lease)
    )
}

/// A lease in milliseconds, at least 1.
pub(super) fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// What [`LOCK_ROW`] said about the key: `None` to run the handler, else the outcome to
/// answer (the transaction wrote nothing and is rolled back).
pub(super) fn locked_row(key: &DedupKey, applied: Option<i64>, claimed: bool) -> Option<Outcome> {
    if applied.is_some_and(|a| a >= key.version()) {
        Some(Outcome::Skipped { key: key.clone() })
    } else if claimed {
        Some(Outcome::Busy { key: key.clone() })
    } else {
        None
    }
}

/// [`WebhookStore::begin`] from two queries: "applied?" ([`IS_APPLIED`]) first, so a
/// duplicate (the common redelivery) writes nothing; then the claim ([`BEGIN`]); if that
/// took nothing, applied meanwhile (done) or held by another delivery (busy).
pub(super) async fn begin<A, AF, C, CF>(applied: A, claim: C) -> Result<Begin, StoreError>
where
    A: Fn() -> AF,
    AF: Future<Output = Result<bool, StoreError>>,
    C: FnOnce() -> CF,
    CF: Future<Output = Result<bool, StoreError>>,
{
    if applied().await? {
        return Ok(Begin::Done);
    }
    if claim().await? {
        return Ok(Begin::Claimed);
    }
    Ok(if applied().await? {
        Begin::Done
    } else {
        Begin::Busy
    })
}

/// The store error for a database error (kept as `source()`): `message` is the server's
/// message (or the client's error text, without the connection URL), `code` its SQLSTATE.
/// A missing table or column (not migrated) is [`StoreError::Unexpected`]: retrying will
/// not help, but the delivery is still answered 503 so nothing is lost once it is fixed.
pub(super) fn database_error<E>(message: String, code: Option<&str>, error: E) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    // undefined_table, undefined_column
    let schema = matches!(code, Some("42P01" | "42703"));
    let cause = Cause::with_source(message, error);
    if schema {
        StoreError::Unexpected(cause)
    } else {
        StoreError::Unavailable(cause)
    }
}

/// The builder setters of both stores over their `settings: Settings` field (one text, one
/// behaviour); `$timeout_doc` says what the store's time limit covers.
macro_rules! settings_setters {
    ($timeout_doc:literal) => {
        /// How long event-id and body-hash rows are kept (default 30 days); payment rows
        /// are kept for good.
        #[must_use]
        pub fn retention(mut self, retention: std::time::Duration) -> Self {
            self.settings.retention = retention;
            self
        }

        /// After every `n` deliveries this store (with its clones) records,
        /// [`purge_expired`] runs on a background task (default 1,024; 0 turns it off: run
        /// it yourself). Each instance counts its own deliveries; a failed purge is logged
        /// and tried again `n` deliveries later.
        ///
        /// [`purge_expired`]: Self::purge_expired
        #[must_use]
        pub fn purge_every(mut self, n: u64) -> Self {
            self.settings.purge_every = n;
            self
        }

        #[doc = $timeout_doc]
        #[must_use]
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.settings.timeout = timeout;
            self
        }
    };
}
pub(super) use settings_setters;

/// The settings both stores have, and the count behind the automatic purge. Cloned with
/// the store (clones share the count). (Public only to appear in [`TransactionalStore`]'s
/// hidden methods; not exported.)
#[derive(Clone)]
pub struct Settings {
    pub(super) retention: Duration,
    pub(super) timeout: Duration,
    pub(super) purge_every: u64,
    /// Deliveries recorded by this store and its clones (for the automatic purge).
    recorded: Arc<AtomicU64>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            retention: DEFAULT_RETENTION,
            timeout: DEFAULT_TIMEOUT,
            purge_every: DEFAULT_PURGE_EVERY,
            recorded: Arc::default(),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("retention", &self.retention)
            .field("timeout", &self.timeout)
            .field("purge_every", &self.purge_every)
            .finish()
    }
}

impl Settings {
    /// `call`, bounded by the store's timeout. (A combinator, not an `async fn`: no state
    /// machine of its own around `call`.)
    pub(super) fn bounded<T, F>(
        &self,
        call: F,
    ) -> impl Future<Output = Result<T, StoreError>> + use<T, F>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        tokio::time::timeout(self.timeout, call).map(|answer| {
            answer.unwrap_or_else(|_| Err(StoreError::Unavailable("postgres: timed out".into())))
        })
    }

    /// The retention of `key`'s row in milliseconds; `None` (kept for good) for payments.
    pub(super) fn retention_ms(&self, key: &DedupKey) -> Option<i64> {
        (!key.is_payment()).then(|| i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX))
    }

    /// Counts a recorded delivery; every `purge_every`-th runs `purge` in the background
    /// (when there is a tokio runtime to run it on). A failed purge is logged and tried
    /// again `purge_every` deliveries later.
    pub(super) fn count_recorded<P>(&self, purge: impl FnOnce() -> P)
    where
        P: Future<Output = Result<u64, StoreError>> + Send + 'static,
    {
        if self.purge_every == 0 {
            return;
        }
        let count = self.recorded.fetch_add(1, Ordering::Relaxed) + 1;
        if !count.is_multiple_of(self.purge_every) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let purge = purge();
        runtime.spawn(async move {
            match purge.await {
                Ok(deleted) => tracing::debug!(deleted, "luxcore: purged expired webhook keys"),
                Err(error) => tracing::warn!(
                    %error,
                    "luxcore: purging expired webhook keys failed; tried again later"
                ),
            }
        });
    }
}

/// What opening the transaction of `handle_in_transaction` gave. (Public only to appear in
/// [`TransactionalStore`]'s hidden methods; not exported.)
pub enum Opened<T> {
    /// The key's row is locked in the open transaction `T`: run the handler.
    Go(T),
    /// Nothing to run (already applied, busy); the transaction, if any, is over.
    Outcome(Outcome),
}

/// What recording in the handler's transaction did. (Public only to appear in
/// [`TransactionalStore`]'s hidden methods; not exported.)
pub enum Recorded {
    /// Recorded and committed with the handler's writes.
    Committed,
    /// The handler had ended the transaction: nothing recorded, the transaction (or what
    /// is left of it) dropped.
    TransactionEnded,
}

pub(super) mod sealed {
    /// Only the SDK's PostgreSQL stores are [`TransactionalStore`](super::TransactionalStore)s.
    pub trait Sealed {}
}

/// A PostgreSQL store whose deliveries can be handled **in the merchant's transaction**
/// ([`WebhookProcessor::handle_in_transaction`]): `PostgresStore` (`postgres` feature,
/// tokio-postgres) and `SqlxStore` (`postgres-sqlx` feature, sqlx). Sealed.
pub trait TransactionalStore: WebhookStore + sealed::Sealed + Sized + 'static {
    /// The open transaction the handler gets and hands back: `Transaction` for
    /// `PostgresStore`, `sqlx::Transaction<'static, sqlx::Postgres>` for `SqlxStore`.
    type Transaction: Send + 'static;

    /// The store's settings (timeout, retention).
    #[doc(hidden)]
    fn settings(&self) -> &Settings;

    /// Begins a transaction marked with `marker` (see [`open_transaction`]), then answers
    /// from "already applied?" or locks the key's row ([`ENSURE_ROW`], [`LOCK_ROW`]).
    #[doc(hidden)]
    fn open(
        &self,
        key: &DedupKey,
        marker: &ClaimToken,
        lease: Duration,
    ) -> impl Future<Output = Result<Opened<Self::Transaction>, StoreError>> + Send;

    /// [`RECORD`] in `tx` (only if it still holds `marker`), then `COMMIT`.
    #[doc(hidden)]
    fn record(
        &self,
        tx: Self::Transaction,
        key: &DedupKey,
        marker: &ClaimToken,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;
}

impl<S: TransactionalStore> WebhookProcessor<S> {
    /// Like [`handle`](WebhookProcessor::handle), but the handler gets an open
    /// transaction and returns it; the delivery is recorded **in that transaction** and
    /// the SDK commits it, so the merchant's writes and the record commit together or not
    /// at all — the exactly-once guarantee holds even if the process dies at any point.
    /// With `PostgresStore` the handler gets a [`Transaction`](super::Transaction); with
    /// `SqlxStore` a `sqlx::Transaction<'static, Postgres>` (`.execute(&mut *tx)`).
    ///
    /// Before the handler runs, the key's row is locked (`FOR UPDATE NOWAIT`) for the
    /// transaction's life: a concurrent delivery of the same key answers
    /// [`Outcome::Busy`] (409); one of a key already applied answers [`Outcome::Skipped`]
    /// (200) from a plain read, without waiting for the lock. The claim's short
    /// `lock_timeout` (50 ms) is the claim's alone: the handler's statements run with the
    /// session's own. The transaction's `idle_in_transaction_session_timeout` is the
    /// lease, so the server ends a stuck one. A handler error, panic or timeout rolls the
    /// transaction back with nothing recorded (500, the redelivery runs it again); a failed
    /// record or `COMMIT` answers 503 with nothing committed.
    ///
    /// # Ending the transaction in the handler
    ///
    /// Only the SDK commits. `PostgresStore`'s `Transaction` has no method that ends it.
    /// sqlx's `commit()` and `rollback()` consume the transaction, so a handler that calls
    /// them has nothing to hand back but another transaction; and `COMMIT` or `ROLLBACK`
    /// sent as SQL text cannot be refused by types with either store. The SDK tells its
    /// own transaction apart by a transaction-local marker set when it began: when
    /// recording finds the marker gone, it records nothing, ends what it was handed and
    /// answers 500 ([`Outcome::HandlerFailed`], "ended the transaction"), so such a
    /// handler fails loudly instead of breaking exactly-once silently. What the handler
    /// committed itself stays committed, and the redelivery runs it again. Savepoints are
    /// fine.
    ///
    /// Runs inside the caller's future: dropping it (the sender hung up) rolls the
    /// transaction back; prefer
    /// [`handle_in_transaction_detached`](Self::handle_in_transaction_detached) in a
    /// receiver.
    pub async fn handle_in_transaction<F, Fut, E>(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
        handler: F,
    ) -> Outcome
    where
        F: FnOnce(Event, S::Transaction) -> Fut,
        Fut: Future<Output = Result<S::Transaction, E>>,
        E: fmt::Display,
    {
        self.run_inline(headers, raw_body, |event, key| {
            self.transaction_unit(event, key, handler)
        })
        .await
    }

    /// Like [`handle_in_transaction`](Self::handle_in_transaction), on its own tokio task
    /// as [`handle_detached`](WebhookProcessor::handle_detached): once the key's row is
    /// locked, the handler, the record and the `COMMIT` finish even if the caller's future
    /// is dropped.
    pub async fn handle_in_transaction_detached<F, Fut, E>(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
        handler: F,
    ) -> Outcome
    where
        F: FnOnce(Event, S::Transaction) -> Fut + Send + 'static,
        Fut: Future<Output = Result<S::Transaction, E>> + Send + 'static,
        E: fmt::Display + 'static,
    {
        self.run_detached(headers, raw_body, |this, event, key| async move {
            this.transaction_unit(event, key, handler).await
        })
        .await
    }

    /// The transactional unit: open (bounded by the store's timeout) locks the key's row in
    /// a new transaction, the handler runs in it within the processor's time limit, record
    /// writes the record in it and commits. A handler error, panic, timeout or
    /// cancellation drops the transaction (rolled back, nothing recorded: 500); a failed
    /// open or record answers 503.
    async fn transaction_unit<F, Fut, E>(&self, event: Event, key: DedupKey, handler: F) -> Outcome
    where
        F: FnOnce(Event, S::Transaction) -> Fut,
        Fut: Future<Output = Result<S::Transaction, E>>,
        E: fmt::Display,
    {
        let store = self.store();
        let settings = store.settings();
        let kind = store.kind();
        // Hex: safe in the SQL text of `open_transaction`.
        let marker = ClaimToken::random();
        let claiming = Instant::now();
        let opened = settings.bounded(store.open(&key, &marker, self.lease_duration()));
        let tx = match timed(kind, "begin", opened).await {
            Ok(Opened::Go(tx)) => tx,
            Ok(Opened::Outcome(outcome)) => return outcome,
            Err(error) => return unavailable(Some(key), error),
        };
        let message = match self.run_handler(claiming, handler(event, tx)).await {
            Ok(tx) => {
                let recorded = settings.bounded(store.record(tx, &key, &marker));
                return match timed(kind, "commit", recorded).await {
                    Ok(Recorded::Committed) => Outcome::Processed { key },
                    Ok(Recorded::TransactionEnded) => {
                        let message = "the handler ended the transaction it was given (COMMIT \
                                       or ROLLBACK): nothing recorded"
                            .to_owned();
                        tracing::error!(%key, "webhook handler ended the SDK's transaction; nothing recorded");
                        Outcome::HandlerFailed { key, message }
                    }
                    Err(error) => unavailable(Some(key), error),
                };
            }
            Err(message) => message,
        };
        tracing::warn!(%key, %message, "webhook handler failed; transaction rolled back");
        Outcome::HandlerFailed { key, message }
    }
}
