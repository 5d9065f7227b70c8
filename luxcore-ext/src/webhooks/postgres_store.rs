//! [`PostgresStore`]: a [`WebhookStore`] in PostgreSQL (`postgres` feature), and the
//! strongest form, [`WebhookProcessor::handle_in_transaction`](super::WebhookProcessor::handle_in_transaction), where the merchant's own
//! writes and the record of the delivery commit together or not at all.
//!
//! The schema is `migrations/0001_webhook_keys.sql` (one table, `luxcore_webhook_keys`),
//! applied by [`migrate`] or [`PostgresStore::migrate`]. Leases are measured by the
//! database's clock (`clock_timestamp()`).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::{BorrowToSql, ToSql, Type};
use tokio_postgres::{NoTls, Row, RowStream, Statement, ToStatement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::Outcome;
use super::postgres_sql::{
    self as sql, BEGIN, COMMIT, ENSURE_ROW, IS_APPLIED, LOCK_NOT_AVAILABLE, LOCK_ROW, MIGRATION,
    MIGRATION_LOCK, Opened, PURGE, RECORD, RELEASE, Recorded, SCHEMA_PRESENT, Settings,
    TransactionalStore, sealed,
};
use super::postgres_tls::{self, PostgresTls};
use super::store::{Begin, Cause, ClaimToken, DedupKey, StoreError, WebhookStore};

const DEFAULT_TIMEOUT: Duration = sql::DEFAULT_TIMEOUT;

/// Applies [`MIGRATION`] on `client`, serialised by an advisory lock so that instances
/// starting together do not race. Once the schema is there, it only checks that (no lock
/// taken, so it never waits for deliveries in flight).
pub async fn migrate(client: &tokio_postgres::Client) -> Result<(), StoreError> {
    let present = || async {
        let row = client
            .query_one(SCHEMA_PRESENT, &[])
            .await
            .map_err(pg_error)?;
        Ok::<bool, StoreError>(row.get(0))
    };
    if present().await? {
        return Ok(());
    }
    client
        .batch_execute(&format!("BEGIN; {MIGRATION_LOCK}"))
        .await
        .map_err(pg_error)?;
    // Checked again under the lock: another instance may have just applied it.
    let migrated = async {
        let rest = if present().await? {
            "COMMIT".to_owned()
        } else {
            format!("{MIGRATION}; COMMIT")
        };
        client.batch_execute(&rest).await.map_err(pg_error)
    }
    .await;
    if migrated.is_err() {
        // Leave the connection outside any transaction (best effort: it may be gone).
        let _ = client.batch_execute("ROLLBACK").await;
    }
    migrated
}

/// The store error for a PostgreSQL error, which is kept as its `source()`.
fn pg_error(error: tokio_postgres::Error) -> StoreError {
    match error.as_db_error() {
        Some(db) => {
            let message = format!("postgres: {}", db.message());
            let code = db.code().code().to_owned();
            sql::database_error(message, Some(&code), error)
        }
        None => sql::database_error(format!("postgres: {error}"), None, error),
    }
}

/// A [`WebhookStore`] in PostgreSQL over a `deadpool-postgres` pool. Cheap to clone.
/// Every call is bounded by a timeout (default 2 s).
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    settings: Settings,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pool's configuration (which holds the password) is not shown.
        f.debug_struct("PostgresStore")
            .field("pool", &self.pool.status())
            .field("retention", &self.settings.retention)
            .field("timeout", &self.settings.timeout)
            .field("purge_every", &self.settings.purge_every)
            .finish()
    }
}

impl PostgresStore {
    /// Connects a pool of up to `max_connections` to `url`
    /// (`postgres://user[:password]@host:port/db[?sslmode=...]`, or libpq's `key=value`
    /// form) with [`PostgresTls::new`]: TLS as `sslmode` says (default `prefer`), verified
    /// against the platform's root certificates. Does not migrate; connections are opened
    /// when first used. See [`connect_with`](Self::connect_with).
    pub fn connect(url: &str, max_connections: usize) -> Result<Self, StoreError> {
        Self::connect_with(url, max_connections, PostgresTls::new())
    }

    /// [`connect`](Self::connect) with these TLS settings (a private CA, a client
    /// certificate). The `sslmode` table and what each mode verifies: [`PostgresTls`].
    ///
    /// Fails with [`StoreError::Unexpected`] (its text never holds the URL or the password)
    /// on an invalid URL, an unknown `sslmode`, unusable PEM, or — for a mode that needs
    /// TLS — no rustls crypto provider. A server that refuses the connection (no TLS under
    /// `require`, a certificate that does not verify, `pg_hba.conf` rejecting plaintext)
    /// is reported by the first call as [`StoreError::Unavailable`], whose text says why.
    pub fn connect_with(
        url: &str,
        max_connections: usize,
        tls: PostgresTls,
    ) -> Result<Self, StoreError> {
        let (url, mode) = postgres_tls::take_sslmode(url)?;
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|_| StoreError::Unexpected("postgres: invalid connection URL".into()))?;
        config.connect_timeout(DEFAULT_TIMEOUT);
        config.ssl_mode(mode.for_tokio_postgres());
        let recycling = || ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match postgres_tls::client_config(mode, &tls)? {
            Some(rustls) => {
                Manager::from_config(config, MakeRustlsConnect::new(rustls), recycling())
            }
            None => Manager::from_config(config, NoTls, recycling()),
        };
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(DEFAULT_TIMEOUT))
            .create_timeout(Some(DEFAULT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Unexpected(format!("postgres pool: {e}").into()))?;
        Ok(Self::new(pool))
    }

    /// A store over an existing pool.
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            settings: Settings::default(),
        }
    }

    sql::settings_setters!("Time limit of each call (default 2 s).");

    /// The pool (for your own queries).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Applies the schema ([`migrate`]).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        self.bounded(migrate(&client)).await
    }

    /// Deletes expired event-id and body-hash rows that no delivery holds; returns how
    /// many. Runs by itself every [`purge_every`](Self::purge_every) deliveries.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        self.bounded(async { client.execute(PURGE, &[]).await.map_err(pg_error) })
            .await
    }

    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(|e| {
            StoreError::Unavailable(Cause::with_source(format!("postgres pool: {e}"), e))
        })
    }

    fn bounded<T, F>(&self, call: F) -> impl Future<Output = Result<T, StoreError>> + use<T, F>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        self.settings.bounded(call)
    }

    /// Counts a recorded delivery; every `purge_every`-th starts a purge in the background.
    fn count_recorded(&self) {
        let store = self.clone();
        self.settings
            .count_recorded(|| async move { store.purge_expired().await });
    }
}

impl WebhookStore for PostgresStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn begin(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let storage_key = key.storage_key();
        let version = key.version();
        self.bounded(async {
            let client = self.client().await?;
            let is_applied = client.prepare_cached(IS_APPLIED).await.map_err(pg_error)?;
            let applied = || async {
                let row = client
                    .query_opt(&is_applied, &[&storage_key, &version])
                    .await;
                Ok(row
                    .map_err(pg_error)?
                    .is_some_and(|row| row.get::<_, bool>(0)))
            };
            let claim = || async {
                let claim = client.prepare_cached(BEGIN).await.map_err(pg_error)?;
                let claimed = client
                    .query_opt(
                        &claim,
                        &[
                            &storage_key,
                            &token.as_str(),
                            &sql::lease_ms(lease),
                            &version,
                        ],
                    )
                    .await
                    .map_err(pg_error)?;
                Ok(claimed.is_some())
            };
            sql::begin(applied, claim).await
        })
        .await
    }

    async fn commit(&self, key: &DedupKey, token: &ClaimToken) -> Result<(), StoreError> {
        let storage_key = key.storage_key();
        let retention = self.settings.retention_ms(key);
        self.bounded(async {
            let client = self.client().await?;
            let commit = client.prepare_cached(COMMIT).await.map_err(pg_error)?;
            client
                .execute(
                    &commit,
                    &[&storage_key, &key.version(), &token.as_str(), &retention],
                )
                .await
                .map_err(pg_error)
                .map(drop)
        })
        .await?;
        self.count_recorded();
        Ok(())
    }

    async fn release(&self, key: &DedupKey, token: &ClaimToken) -> Result<(), StoreError> {
        let storage_key = key.storage_key();
        self.bounded(async {
            let client = self.client().await?;
            let release = client.prepare_cached(RELEASE).await.map_err(pg_error)?;
            client
                .execute(&release, &[&storage_key, &token.as_str()])
                .await
                .map_err(pg_error)
                .map(drop)
        })
        .await
    }
}

/// An open PostgreSQL transaction handed to a
/// [`handle_in_transaction`](super::WebhookProcessor::handle_in_transaction) handler: run your
/// statements through it and return it. The delivery's record is written in it and
/// everything commits together. Dropped without being returned, it rolls back (its
/// connection is closed, never reused mid-transaction).
///
/// It offers the statement methods of [`tokio_postgres::Client`] — [`execute`],
/// [`query`], [`query_one`], [`query_opt`], [`query_raw`], [`prepare`],
/// [`prepare_typed`] and the statement cache's [`prepare_cached`] — and nothing that
/// ends the transaction: no `commit`, `rollback`, `batch_execute`, `simple_query` or
/// access to the client, so the SDK alone decides when it commits.
///
/// ```no_run
/// # use luxcore_ext::webhooks::{PostgresStore, Transaction, WebhookProcessor};
/// # async fn f(processor: WebhookProcessor<PostgresStore>, headers: http::HeaderMap, body: bytes::Bytes) {
/// processor
///     .handle_in_transaction(&headers, &body, |event, tx: Transaction| async move {
///         let credit = tx
///             .prepare_cached("UPDATE orders SET paid = true WHERE payment_id = $1")
///             .await?;
///         tx.execute(&credit, &[&event.payment_id()]).await?;
///         Ok::<_, tokio_postgres::Error>(tx)
///     })
///     .await;
/// # }
/// ```
///
/// Ending the transaction from the handler does not compile:
///
/// ```compile_fail,E0599
/// # use luxcore_ext::webhooks::Transaction;
/// # async fn handler(tx: Transaction) -> Result<Transaction, tokio_postgres::Error> {
/// tx.batch_execute("COMMIT").await?; // no such method
/// # Ok(tx)
/// # }
/// ```
///
/// A transaction-control statement sent as SQL text (`tx.execute("COMMIT", &[])`) cannot
/// be told apart by types; the SDK detects that its transaction ended before recording,
/// records nothing, closes the connection and answers 500 ([`Outcome::HandlerFailed`]),
/// so such a handler fails loudly instead of breaking exactly-once silently. (Savepoints —
/// `SAVEPOINT`, `ROLLBACK TO SAVEPOINT`, `RELEASE` — are fine.)
///
/// [`execute`]: Self::execute
/// [`query`]: Self::query
/// [`query_one`]: Self::query_one
/// [`query_opt`]: Self::query_opt
/// [`query_raw`]: Self::query_raw
/// [`prepare`]: Self::prepare
/// [`prepare_typed`]: Self::prepare_typed
/// [`prepare_cached`]: Self::prepare_cached
pub struct Transaction {
    client: Option<Object>,
}

impl Transaction {
    fn client(&self) -> &deadpool_postgres::ClientWrapper {
        // Only `finish` and `drop` take the client, both consuming the transaction.
        self.client
            .as_deref()
            .expect("transaction client present until finished")
    }

    fn finish(mut self) -> Option<Object> {
        self.client.take()
    }

    /// [`tokio_postgres::Client::execute`]: runs a statement, returns the rows modified.
    pub async fn execute<T>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, tokio_postgres::Error>
    where
        T: ?Sized + ToStatement,
    {
        self.client().execute(statement, params).await
    }

    /// [`tokio_postgres::Client::query`]: runs a statement, returns the rows.
    pub async fn query<T>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error>
    where
        T: ?Sized + ToStatement,
    {
        self.client().query(statement, params).await
    }

    /// [`tokio_postgres::Client::query_one`]: exactly one row, else an error.
    pub async fn query_one<T>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, tokio_postgres::Error>
    where
        T: ?Sized + ToStatement,
    {
        self.client().query_one(statement, params).await
    }

    /// [`tokio_postgres::Client::query_opt`]: at most one row, else an error.
    pub async fn query_opt<T>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, tokio_postgres::Error>
    where
        T: ?Sized + ToStatement,
    {
        self.client().query_opt(statement, params).await
    }

    /// [`tokio_postgres::Client::query_raw`]: the rows as a stream.
    pub async fn query_raw<T, P, I>(
        &self,
        statement: &T,
        params: I,
    ) -> Result<RowStream, tokio_postgres::Error>
    where
        T: ?Sized + ToStatement,
        P: BorrowToSql,
        I: IntoIterator<Item = P>,
        I::IntoIter: ExactSizeIterator,
    {
        self.client().query_raw(statement, params).await
    }

    /// [`tokio_postgres::Client::prepare`]: a prepared statement.
    pub async fn prepare(&self, query: &str) -> Result<Statement, tokio_postgres::Error> {
        self.client().prepare(query).await
    }

    /// [`tokio_postgres::Client::prepare_typed`]: a prepared statement with parameter
    /// types.
    pub async fn prepare_typed(
        &self,
        query: &str,
        types: &[Type],
    ) -> Result<Statement, tokio_postgres::Error> {
        self.client().prepare_typed(query, types).await
    }

    /// A prepared statement from the connection's statement cache (deadpool's
    /// `prepare_cached`): prepared once per pooled connection.
    pub async fn prepare_cached(&self, query: &str) -> Result<Statement, tokio_postgres::Error> {
        self.client().prepare_cached(query).await
    }

    /// Like [`prepare_cached`](Self::prepare_cached), with parameter types.
    pub async fn prepare_typed_cached(
        &self,
        query: &str,
        types: &[Type],
    ) -> Result<Statement, tokio_postgres::Error> {
        self.client().prepare_typed_cached(query, types).await
    }
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction").finish_non_exhaustive()
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Detach from the pool and close: the server rolls the transaction back.
            drop(Object::take(client));
        }
    }
}

impl sealed::Sealed for PostgresStore {}

impl TransactionalStore for PostgresStore {
    type Transaction = Transaction;

    fn settings(&self) -> &Settings {
        &self.settings
    }

    async fn open(
        &self,
        key: &DedupKey,
        marker: &ClaimToken,
        lease: Duration,
    ) -> Result<Opened<Transaction>, StoreError> {
        let storage_key = key.storage_key();
        let client = self.client().await?;
        // Already applied (the common redelivery): answered from a plain read, without
        // waiting on the row's lock, so a duplicate arriving while another delivery of the
        // key holds the row gets 200, not 409 (issue 23.2).
        let is_applied = client.prepare_cached(IS_APPLIED).await.map_err(pg_error)?;
        let applied = client
            .query_opt(&is_applied, &[&storage_key, &key.version()])
            .await
            .map_err(pg_error)?
            .is_some_and(|row| row.get::<_, bool>(0));
        if applied {
            return Ok(Opened::Outcome(Outcome::Skipped { key: key.clone() }));
        }
        let tx = Transaction {
            client: Some(client),
        };
        // One transaction: create the key's row if new, lock it. A concurrent delivery of
        // the same key waits at most 50 ms (a new row not yet committed) or not at all
        // (`NOWAIT` on an existing row), then answers Busy. The session's own
        // `lock_timeout` is saved first: LOCK_ROW puts it back once the row is locked, so
        // the merchant's statements never inherit the claim's 50 ms.
        tx.client()
            .batch_execute(&sql::open_transaction(marker.as_str(), lease))
            .await
            .map_err(pg_error)?;
        let locked = async {
            let ensure = tx.prepare_cached(ENSURE_ROW).await?;
            tx.execute(&ensure, &[&storage_key]).await?;
            let lock = tx.prepare_cached(LOCK_ROW).await?;
            tx.query_one(&lock, &[&storage_key]).await
        };
        let row = match locked.await {
            Ok(row) => row,
            Err(e) if e.code().map(|c| c.code()) == Some(LOCK_NOT_AVAILABLE) => {
                return rollback(tx, Outcome::Busy { key: key.clone() }).await;
            }
            Err(e) => return Err(pg_error(e)),
        };
        match sql::locked_row(key, row.get(0), row.get(1)) {
            Some(outcome) => rollback(tx, outcome).await,
            None => Ok(Opened::Go(tx)),
        }
    }

    async fn record(
        &self,
        tx: Transaction,
        key: &DedupKey,
        marker: &ClaimToken,
    ) -> Result<Recorded, StoreError> {
        let update = tx.prepare_cached(RECORD).await.map_err(pg_error)?;
        let recorded = tx
            .execute(
                &update,
                &[
                    &key.storage_key(),
                    &key.version(),
                    &self.settings.retention_ms(key),
                    &marker.as_str(),
                ],
            )
            .await
            .map_err(pg_error)?;
        if recorded != 1 {
            // Dropped: the connection is closed, whatever state the handler left it in.
            drop(tx);
            return Ok(Recorded::TransactionEnded);
        }
        tx.client()
            .batch_execute("COMMIT")
            .await
            .map_err(pg_error)?;
        // Committed: the connection is clean and goes back to the pool.
        drop(tx.finish());
        self.count_recorded();
        Ok(Recorded::Committed)
    }
}

/// Ends a transaction that wrote nothing and returns its connection to the pool.
async fn rollback(tx: Transaction, outcome: Outcome) -> Result<Opened<Transaction>, StoreError> {
    tx.client()
        .batch_execute("ROLLBACK")
        .await
        .map_err(pg_error)?;
    drop(tx.finish());
    Ok(Opened::Outcome(outcome))
}
