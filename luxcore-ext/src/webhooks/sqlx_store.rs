//! [`SqlxStore`]: a [`WebhookStore`] in PostgreSQL over your own `sqlx::PgPool`
//! (`postgres-sqlx` feature), and a [`TransactionalStore`]:
//! [`WebhookProcessor::handle_in_transaction`] hands the handler a `sqlx::Transaction`, and
//! your writes and the delivery's record commit together or not at all.
//!
//! The same table, SQL and semantics as `PostgresStore` (`postgres` feature,
//! tokio-postgres): instances using either store can share one database. The schema is
//! `migrations/0001_webhook_keys.sql` ([`MIGRATION`](super::MIGRATION)), applied by
//! [`SqlxStore::migrate`] or by your own migration tool (e.g. copy it into your
//! `sqlx migrate` directory).
//!
//! [`WebhookProcessor::handle_in_transaction`]: super::WebhookProcessor::handle_in_transaction

use std::fmt;
use std::time::Duration;

use sqlx::{PgPool, Postgres, Row as _};

use super::Outcome;
use super::postgres_sql::{
    self as sql, BEGIN, COMMIT, ENSURE_ROW, IS_APPLIED, LOCK_NOT_AVAILABLE, LOCK_ROW, MIGRATION,
    MIGRATION_LOCK, Opened, PURGE, RECORD, RELEASE, Recorded, SCHEMA_PRESENT, Settings,
    TransactionalStore, sealed,
};
use super::store::{Begin, ClaimToken, DedupKey, StoreError, WebhookStore};

/// The transaction a [`handle_in_transaction`](super::WebhookProcessor::handle_in_transaction)
/// handler gets and returns.
type PgTransaction = sqlx::Transaction<'static, Postgres>;

/// The store error for a sqlx error, which is kept as its `source()`. Its text is the
/// server's message or sqlx's own (sqlx's errors carry no connection URL or password).
fn sqlx_error(error: sqlx::Error) -> StoreError {
    match error.as_database_error() {
        Some(db) => {
            let message = format!("postgres: {}", db.message());
            let code = db.code().map(|code| code.into_owned());
            sql::database_error(message, code.as_deref(), error)
        }
        None => sql::database_error(format!("postgres: {error}"), None, error),
    }
}

fn is_lock_not_available(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == LOCK_NOT_AVAILABLE)
}

/// [`IS_APPLIED`]: whether `key` is applied at its version.
async fn is_applied<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    key: &DedupKey,
) -> Result<bool, StoreError> {
    let applied = sqlx::query_scalar::<_, bool>(IS_APPLIED)
        .bind(key.storage_key())
        .bind(key.version())
        .fetch_optional(executor)
        .await
        .map_err(sqlx_error)?;
    Ok(applied.unwrap_or(false))
}

/// [`SCHEMA_PRESENT`]: whether the schema is applied.
async fn schema_present<'e>(executor: impl sqlx::PgExecutor<'e>) -> Result<bool, StoreError> {
    sqlx::query_scalar::<_, bool>(SCHEMA_PRESENT)
        .fetch_one(executor)
        .await
        .map_err(sqlx_error)
}

/// A [`WebhookStore`] in PostgreSQL over your `sqlx::PgPool` (`postgres-sqlx` feature).
/// Cheap to clone; every call is bounded by a timeout (default 2 s), whatever the pool's
/// own `acquire_timeout`.
///
/// As a [`TransactionalStore`], it lets
/// [`handle_in_transaction`](super::WebhookProcessor::handle_in_transaction) hand your
/// handler a `sqlx::Transaction<'static, Postgres>` from the pool: run your statements on
/// it and return it; the SDK records the delivery in it and commits. A handler that
/// commits or rolls back itself (and returns another transaction), or sends `COMMIT` as
/// SQL, is answered 500 with nothing recorded (see there). Dropped without being returned
/// (an error, a panic, a timeout), it rolls back as any sqlx transaction does.
///
/// Uses the same table (`migrations/0001_webhook_keys.sql`) and SQL as `PostgresStore`
/// (`postgres` feature): instances with either store can share one database.
///
/// TLS, pool size and connection options are the pool's: build it as you do for the rest
/// of your application (luxcore-ext turns on no sqlx TLS feature; enable `tls-rustls` or
/// `tls-native-tls` on sqlx in your own `Cargo.toml`).
///
/// ```no_run
/// # async fn f(headers: http::HeaderMap, body: bytes::Bytes) -> Result<(), Box<dyn std::error::Error>> {
/// use luxcore_ext::webhooks::{SqlxStore, WebhookProcessor, WebhookVerifier};
///
/// let pool = sqlx::PgPool::connect("postgres://shop@localhost/shop").await?;
/// let store = SqlxStore::new(pool);
/// store.migrate().await?;
/// let processor = WebhookProcessor::new(WebhookVerifier::new("whsec_..."), store);
///
/// // In the route: your writes and the delivery's record commit together.
/// let outcome = processor
///     .handle_in_transaction(&headers, &body, |event, mut tx| async move {
///         sqlx::query("UPDATE orders SET paid = true WHERE payment_id = $1")
///             .bind(event.payment_id())
///             .execute(&mut *tx)
///             .await?;
///         Ok::<_, sqlx::Error>(tx) // hand it back: the SDK records and commits
///     })
///     .await;
/// let status = outcome.status(); // answer this
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SqlxStore {
    pool: PgPool,
    settings: Settings,
}

impl fmt::Debug for SqlxStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the pool's size: its connect options hold the password.
        f.debug_struct("SqlxStore")
            .field("pool_size", &self.pool.size())
            .field("pool_idle", &self.pool.num_idle())
            .field("retention", &self.settings.retention)
            .field("timeout", &self.settings.timeout)
            .field("purge_every", &self.settings.purge_every)
            .finish()
    }
}

impl SqlxStore {
    /// A store over `pool` (yours; cloning a `PgPool` shares it). Does not migrate.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            settings: Settings::default(),
        }
    }

    sql::settings_setters!(
        "Time limit of each call (default 2 s), including the wait for a connection."
    );

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies [`MIGRATION`](super::MIGRATION) in one transaction, serialised by an
    /// advisory lock so that instances starting together do not race (idempotent). Once
    /// the schema is there, it only checks that (no lock taken, so it never waits for
    /// deliveries in flight).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.settings
            .bounded(async {
                if schema_present(&self.pool).await? {
                    return Ok(());
                }
                let mut tx = self.pool.begin().await.map_err(sqlx_error)?;
                sqlx::query(MIGRATION_LOCK)
                    .execute(&mut *tx)
                    .await
                    .map_err(sqlx_error)?;
                // Checked again under the lock: another instance may have just applied it.
                if schema_present(&mut *tx).await? {
                    return tx.commit().await.map_err(sqlx_error);
                }
                sqlx::raw_sql(MIGRATION)
                    .execute(&mut *tx)
                    .await
                    .map_err(sqlx_error)?;
                tx.commit().await.map_err(sqlx_error)
            })
            .await
    }

    /// Deletes expired event-id and body-hash rows that no delivery holds; returns how
    /// many. Runs by itself every [`purge_every`](Self::purge_every) deliveries.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        self.settings
            .bounded(async {
                let done = sqlx::query(PURGE)
                    .execute(&self.pool)
                    .await
                    .map_err(sqlx_error)?;
                Ok(done.rows_affected())
            })
            .await
    }

    /// Counts a recorded delivery; every `purge_every`-th starts a purge in the background.
    fn count_recorded(&self) {
        let store = self.clone();
        self.settings
            .count_recorded(|| async move { store.purge_expired().await });
    }
}

impl WebhookStore for SqlxStore {
    /// `postgres`, as `PostgresStore`: the same store in the metrics.
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn begin(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let claim = || async {
            let claimed = sqlx::query(BEGIN)
                .bind(key.storage_key())
                .bind(token.as_str())
                .bind(sql::lease_ms(lease))
                .bind(key.version())
                .fetch_optional(&self.pool)
                .await
                .map_err(sqlx_error)?;
            Ok(claimed.is_some())
        };
        self.settings
            .bounded(sql::begin(|| is_applied(&self.pool, key), claim))
            .await
    }

    async fn commit(&self, key: &DedupKey, token: &ClaimToken) -> Result<(), StoreError> {
        let commit = sqlx::query(COMMIT)
            .bind(key.storage_key())
            .bind(key.version())
            .bind(token.as_str())
            .bind(self.settings.retention_ms(key))
            .execute(&self.pool);
        self.settings
            .bounded(async { commit.await.map_err(sqlx_error) })
            .await?;
        self.count_recorded();
        Ok(())
    }

    async fn release(&self, key: &DedupKey, token: &ClaimToken) -> Result<(), StoreError> {
        let release = sqlx::query(RELEASE)
            .bind(key.storage_key())
            .bind(token.as_str())
            .execute(&self.pool);
        self.settings
            .bounded(async { release.await.map(drop).map_err(sqlx_error) })
            .await
    }
}

impl sealed::Sealed for SqlxStore {}

impl TransactionalStore for SqlxStore {
    type Transaction = sqlx::Transaction<'static, Postgres>;

    fn settings(&self) -> &Settings {
        &self.settings
    }

    async fn open(
        &self,
        key: &DedupKey,
        marker: &ClaimToken,
        lease: Duration,
    ) -> Result<Opened<PgTransaction>, StoreError> {
        // Already applied (the common redelivery): answered from a plain read, without
        // waiting on the row's lock (200, not 409, while another delivery holds it).
        if is_applied(&self.pool, key).await? {
            return Ok(Opened::Outcome(Outcome::Skipped { key: key.clone() }));
        }
        let begin = sql::open_transaction(marker.as_str(), lease);
        let mut tx = self.pool.begin_with(begin).await.map_err(sqlx_error)?;
        // Create the key's row if new, lock it: a concurrent delivery of the key waits at
        // most 50 ms (a new row not yet committed) or not at all (`NOWAIT`), then is busy.
        let storage_key = key.storage_key();
        let locked = async {
            sqlx::query(ENSURE_ROW)
                .bind(&storage_key)
                .execute(&mut *tx)
                .await?;
            sqlx::query(LOCK_ROW)
                .bind(&storage_key)
                .fetch_one(&mut *tx)
                .await
        };
        let row = match locked.await {
            Ok(row) => row,
            Err(e) if is_lock_not_available(&e) => {
                return rollback(tx, Outcome::Busy { key: key.clone() }).await;
            }
            Err(e) => return Err(sqlx_error(e)),
        };
        let applied: Option<i64> = row.try_get(0).map_err(sqlx_error)?;
        let claimed: bool = row.try_get(1).map_err(sqlx_error)?;
        match sql::locked_row(key, applied, claimed) {
            Some(outcome) => rollback(tx, outcome).await,
            None => Ok(Opened::Go(tx)),
        }
    }

    async fn record(
        &self,
        mut tx: PgTransaction,
        key: &DedupKey,
        marker: &ClaimToken,
    ) -> Result<Recorded, StoreError> {
        let recorded = sqlx::query(RECORD)
            .bind(key.storage_key())
            .bind(key.version())
            .bind(self.settings.retention_ms(key))
            .bind(marker.as_str())
            .execute(&mut *tx)
            .await
            .map_err(sqlx_error)?
            .rows_affected();
        if recorded != 1 {
            // Not the transaction `open` began (the handler ended it, or handed back
            // another): end whatever is left of it (a `ROLLBACK` outside a transaction is
            // only a warning), so the connection goes back to the pool clean.
            if let Err(error) = tx.rollback().await {
                tracing::warn!(%error, "rolling back after the handler ended the transaction failed");
            }
            return Ok(Recorded::TransactionEnded);
        }
        tx.commit().await.map_err(sqlx_error)?;
        self.count_recorded();
        Ok(Recorded::Committed)
    }
}

/// Ends a transaction that wrote nothing.
async fn rollback(
    tx: PgTransaction,
    outcome: Outcome,
) -> Result<Opened<PgTransaction>, StoreError> {
    tx.rollback().await.map_err(sqlx_error)?;
    Ok(Opened::Outcome(outcome))
}
