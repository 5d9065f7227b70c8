//! `SqlxStore` (`postgres-sqlx` feature) against a real PostgreSQL
//! (`LUXCORE_TEST_POSTGRES_URL`; the tests fail, never skip, without it):
//!
//! * the handler's writes in the merchant's `sqlx::Transaction` and the record commit
//!   together: a herd of 50 concurrent deliveries of one event applies it once, every
//!   redelivery after answers 200, and a load of duplicated, out-of-order deliveries with
//!   failing handlers over three instances applies each version once, in order;
//! * a failing handler (error, panic, timeout) rolls back: no merchant write, nothing
//!   recorded, the redelivery runs it again;
//! * a crash with handlers in flight (the instance's connections killed and its tasks
//!   aborted, or the in-flight futures dropped) leaves nothing half-applied, and the
//!   redeliveries apply every event once;
//! * `handle_in_transaction_detached` finishes the unit when the caller hangs up;
//! * the store cut between the handler and the record (a TCP proxy): 503, and the
//!   handler's write is gone with the record;
//! * a handler that ends the transaction itself (`tx.commit()`, `COMMIT` as SQL) fails
//!   loudly with nothing recorded, and the pool's connection comes back clean;
//! * the plain `WebhookStore` path, the claim's `lock_timeout` kept from the handler, and
//!   errors that keep their cause without showing the password;
//! * with the `postgres` feature too: `SqlxStore` and `PostgresStore` share one table.
//!
//! Every test uses its own tables and keys, so they run in parallel on one database.

mod cut_proxy;

mod support;
use support::{lock, payment_body, required_env, run_id, signed_headers};

use std::collections::{HashMap, VecDeque};
use std::str::FromStr as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use luxcore_ext::webhooks::{
    Begin, ClaimToken, DedupKey, Event, Outcome, SqlxStore, StoreError, WebhookProcessor,
    WebhookStore, WebhookVerifier,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use tokio::sync::Barrier;

const SECRET: &str = "whsec_sqlx_tests";
/// 10 × the stores' timeout, as the lease docs ask.
const LEASE: Duration = Duration::from_secs(10);

type Tx = sqlx::Transaction<'static, Postgres>;

fn url() -> String {
    required_env("LUXCORE_TEST_POSTGRES_URL")
}

/// A pool of up to `max` connections; `name` is its connections' `application_name`.
async fn pool_named(max: u32, name: &str) -> PgPool {
    let options = PgConnectOptions::from_str(&url())
        .expect("valid URL")
        .application_name(name);
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .expect("postgres reachable")
}

async fn pool(max: u32) -> PgPool {
    pool_named(max, "luxcore-sqlx-tests").await
}

/// A migrated store over a new pool of `max` connections.
async fn store(max: u32) -> SqlxStore {
    let store = SqlxStore::new(pool(max).await).timeout(Duration::from_secs(1));
    store.migrate().await.expect("schema applied");
    store
}

fn processor(store: SqlxStore) -> WebhookProcessor<SqlxStore> {
    WebhookProcessor::new(WebhookVerifier::new(SECRET), store).lease(LEASE)
}

/// The merchant's own table for one test: `(seq, payment, version)` rows, one per
/// application.
async fn ledger_table(pool: &PgPool) -> String {
    let table = format!("luxcore_sqlx_ledger_{}", run_id());
    sqlx::raw_sql(&format!(
        "CREATE TABLE {table} (seq bigserial PRIMARY KEY, payment text NOT NULL, version bigint NOT NULL)"
    ))
    .execute(pool)
    .await
    .unwrap();
    table
}

/// The handler's write: one ledger row for the event's (payment, version).
async fn write_ledger(tx: &mut Tx, table: &str, event: &Event) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO {table} (payment, version) VALUES ($1, $2)"
    ))
    .bind(event.payment_id())
    .bind(event.status_version())
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// The versions applied to `payment`, in order.
async fn ledger(pool: &PgPool, table: &str, payment: &str) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "SELECT version FROM {table} WHERE payment = $1 ORDER BY seq"
    ))
    .bind(payment)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The key's row: `None` when there is none, else its applied version (`None` inside when
/// nothing is applied).
async fn key_row(pool: &PgPool, storage_key: &str) -> Option<Option<i64>> {
    sqlx::query_scalar("SELECT applied_version FROM luxcore_webhook_keys WHERE key = $1")
        .bind(storage_key)
        .fetch_optional(pool)
        .await
        .unwrap()
}

/// Delivers through `handle_in_transaction` with a handler that writes the ledger row,
/// counts its run and, if `fail`, fails after the write.
async fn deliver(
    processor: &WebhookProcessor<SqlxStore>,
    table: &str,
    body: &[u8],
    runs: &AtomicUsize,
) -> Outcome {
    processor
        .handle_in_transaction(
            &signed_headers(SECRET, body),
            body,
            |event, mut tx| async move {
                runs.fetch_add(1, Ordering::SeqCst);
                write_ledger(&mut tx, table, &event).await?;
                Ok::<_, sqlx::Error>(tx)
            },
        )
        .await
}

/// The handler's writes and the record commit together; the handler runs with the
/// session's `lock_timeout` (not the claim's 50 ms) and the lease as
/// `idle_in_transaction_session_timeout`; every redelivery after (the same event, an older
/// version) answers 200 without running the handler.
#[tokio::test]
async fn the_handlers_writes_and_the_record_commit_together() {
    let store = store(4).await;
    let pool = store.pool().clone();
    let table = ledger_table(&pool).await;
    let processor = processor(store);
    let run = run_id();
    let payment = format!("pay_{run}");
    let body = payment_body(&format!("evt_{run}_2"), &payment, 2);
    let runs = AtomicUsize::new(0);
    let (counter, table_name) = (&runs, &table);
    let outcome = processor
        .handle_in_transaction(
            &signed_headers(SECRET, &body),
            &body,
            |event, mut tx| async move {
                let (runs, table) = (counter, table_name);
                runs.fetch_add(1, Ordering::SeqCst);
                write_ledger(&mut tx, table, &event).await?;
                // Inside the transaction: the write is visible, the record not yet.
                let mine: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                    .fetch_one(&mut *tx)
                    .await?;
                let lock_timeout: String = sqlx::query_scalar("SHOW lock_timeout")
                    .fetch_one(&mut *tx)
                    .await?;
                let idle: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
                    .fetch_one(&mut *tx)
                    .await?;
                if (mine, lock_timeout.as_str(), idle.as_str()) != (1, "0", "10s") {
                    return Err(format!(
                        "in the handler: {mine} rows, lock_timeout {lock_timeout}, idle {idle}"
                    )
                    .into());
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(tx)
            },
        )
        .await;
    assert!(matches!(outcome, Outcome::Processed { .. }), "{outcome}");
    assert_eq!(ledger(&pool, &table, &payment).await, [2]);
    assert_eq!(
        key_row(&pool, &format!("payment:{payment}")).await,
        Some(Some(2))
    );
    for (event, version) in [("2", 2), ("2", 2), ("1", 1), ("2", 2)] {
        let body = payment_body(&format!("evt_{run}_{event}"), &payment, version);
        let again = deliver(&processor, &table, &body, &runs).await;
        assert!(
            matches!(again, Outcome::Skipped { .. }),
            "v{version}: {again}"
        );
        assert_eq!(again.status(), 200);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran once");
    assert_eq!(ledger(&pool, &table, &payment).await, [2]);
    // The next version is applied on top.
    let v3 = payment_body(&format!("evt_{run}_3"), &payment, 3);
    assert!(matches!(
        deliver(&processor, &table, &v3, &runs).await,
        Outcome::Processed { .. }
    ));
    assert_eq!(ledger(&pool, &table, &payment).await, [2, 3]);
}

/// The herd: 50 deliveries of one event at the same moment, spread over 5 instances with
/// pools of their own. Exactly one applies it (the others: 200 already applied, or 409
/// while it runs); the merchant's balance is credited once; then 50 concurrent
/// redeliveries all answer 200 and run nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_herd_of_concurrent_deliveries_applies_the_event_once() {
    const INSTANCES: usize = 5;
    const DELIVERIES: usize = 50;
    let mut instances = Vec::new();
    for _ in 0..INSTANCES {
        instances.push(Arc::new(processor(
            store(12).await.timeout(Duration::from_secs(5)),
        )));
    }
    let pool = instances[0].store().pool().clone();
    let account = format!("luxcore_sqlx_account_{}", run_id());
    sqlx::raw_sql(&format!(
        "CREATE TABLE {account} (id int PRIMARY KEY, balance bigint NOT NULL); \
         INSERT INTO {account} VALUES (1, 0)"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let run = run_id();
    let body = Arc::new(payment_body(
        &format!("evt_{run}"),
        &format!("pay_{run}"),
        1,
    ));
    let runs = Arc::new(AtomicUsize::new(0));
    let herd = |barrier: Arc<Barrier>| {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..DELIVERIES {
            let processor = Arc::clone(&instances[i % INSTANCES]);
            let (body, runs, barrier, account) = (
                Arc::clone(&body),
                Arc::clone(&runs),
                Arc::clone(&barrier),
                account.clone(),
            );
            tasks.spawn(async move {
                let headers = signed_headers(SECRET, &body);
                barrier.wait().await;
                processor
                    .handle_in_transaction(&headers, &body, |_, mut tx| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        sqlx::query(&format!(
                            "UPDATE {account} SET balance = balance + 150000 WHERE id = 1"
                        ))
                        .execute(&mut *tx)
                        .await?;
                        // Hold the row a while, so the others find it locked.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok::<_, sqlx::Error>(tx)
                    })
                    .await
            });
        }
        tasks
    };
    let mut answers: HashMap<&'static str, usize> = HashMap::new();
    let mut tasks = herd(Arc::new(Barrier::new(DELIVERIES)));
    while let Some(outcome) = tasks.join_next().await {
        let outcome = outcome.unwrap();
        assert!(
            matches!(
                outcome,
                Outcome::Processed { .. } | Outcome::Skipped { .. } | Outcome::Busy { .. }
            ),
            "only 200 or 409: {outcome}"
        );
        *answers.entry(outcome.label()).or_default() += 1;
    }
    assert_eq!(answers.get("processed"), Some(&1), "{answers:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "{answers:?}");
    let balance = || async {
        sqlx::query_scalar::<_, i64>(&format!("SELECT balance FROM {account} WHERE id = 1"))
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(balance().await, 150_000);
    // Every redelivery after: 200, nothing run.
    let mut tasks = herd(Arc::new(Barrier::new(DELIVERIES)));
    while let Some(outcome) = tasks.join_next().await {
        let outcome = outcome.unwrap();
        assert!(matches!(outcome, Outcome::Skipped { .. }), "{outcome}");
        assert_eq!(outcome.status(), 200);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(balance().await, 150_000);
}

/// Delivers `deliveries` (redelivering each until acknowledged, as LuxCore does) through
/// 12 workers picking a random instance each time; handlers fail at random after their
/// write. Returns the number of handler failures seen.
async fn redeliver_until_acknowledged(
    instances: &[Arc<WebhookProcessor<SqlxStore>>],
    table: &str,
    deliveries: Vec<Arc<Vec<u8>>>,
    failure_rate: f64,
) -> usize {
    let total = deliveries.len();
    let queue = Arc::new(Mutex::new(deliveries.into_iter().collect::<VecDeque<_>>()));
    let acked = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..12 {
        let (queue, acked, failed, instances, table) = (
            queue.clone(),
            acked.clone(),
            failed.clone(),
            instances.to_vec(),
            table.to_owned(),
        );
        workers.push(tokio::spawn(async move {
            while acked.load(Ordering::SeqCst) < total {
                let Some(body) = lock(&queue).pop_front() else {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                };
                let processor = &instances[rand::random_range(0..instances.len())];
                let table = &table;
                let outcome = processor
                    .handle_in_transaction(
                        &signed_headers(SECRET, &body),
                        &body,
                        |event, mut tx| async move {
                            write_ledger(&mut tx, table, &event)
                                .await
                                .map_err(|e| e.to_string())?;
                            if rand::random_bool(failure_rate) {
                                // After the merchant's write: rolled back with the record.
                                return Err("random handler failure".to_owned());
                            }
                            Ok(tx)
                        },
                    )
                    .await;
                match &outcome {
                    Outcome::Processed { .. } | Outcome::Skipped { .. } => {
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Outcome::HandlerFailed { .. } | Outcome::Busy { .. } => {
                        if matches!(outcome, Outcome::HandlerFailed { .. }) {
                            failed.fetch_add(1, Ordering::SeqCst);
                        }
                        tokio::time::sleep(Duration::from_millis(3)).await;
                        lock(&queue).push_back(body);
                    }
                    other => panic!("unexpected answer: {other}"),
                }
            }
        }));
    }
    tokio::time::timeout(Duration::from_secs(120), async {
        for worker in workers {
            worker.await.unwrap();
        }
    })
    .await
    .expect("all deliveries acknowledged within 120 s");
    failed.load(Ordering::SeqCst)
}

/// Asserts every payment's ledger holds strictly increasing versions ending on its last
/// (so no version applied twice or after a newer one).
async fn check_ledger(pool: &PgPool, table: &str, last: &HashMap<String, i64>) {
    for (payment, final_version) in last {
        let applied = ledger(pool, table, payment).await;
        assert_eq!(
            applied.last(),
            Some(final_version),
            "{payment}: {applied:?}"
        );
        assert!(
            applied.windows(2).all(|w| w[0] < w[1]),
            "{payment} applied twice or out of order: {applied:?}"
        );
    }
}

/// Many redeliveries, concurrent and out of order, over three instances, with 10 % of the
/// handlers failing after their write: every (payment, version) is applied at most once,
/// in order, and every payment ends on its last version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeliveries_across_instances_apply_each_version_once() {
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(Arc::new(processor(store(6).await)));
    }
    let pool = instances[0].store().pool().clone();
    let table = ledger_table(&pool).await;
    let run = run_id();
    let mut deliveries = Vec::new();
    let mut last = HashMap::new();
    for p in 0..40 {
        let payment = format!("pay_{run}_{p}");
        for version in 1..=3 {
            let body = Arc::new(payment_body(
                &format!("evt_{run}_{p}_{version}"),
                &payment,
                version,
            ));
            // Each event three times.
            deliveries.extend([body.clone(), body.clone(), body]);
        }
        last.insert(payment, 3);
    }
    // Shuffled: duplicates together, older versions after newer ones.
    for i in (1..deliveries.len()).rev() {
        deliveries.swap(i, rand::random_range(0..=i));
    }
    let failed = redeliver_until_acknowledged(&instances, &table, deliveries, 0.1).await;
    assert!(failed > 0, "no handler failed: the scenario tested nothing");
    check_ledger(&pool, &table, &last).await;
}

/// A handler that fails — an error, a panic, running past its time limit — after its
/// write: 500, the write rolled back, nothing recorded (not even the key's row); the
/// redelivery runs the handler again and applies it once.
#[tokio::test]
async fn a_failing_handler_rolls_back_and_records_nothing() {
    let store = store(2).await;
    let pool = store.pool().clone();
    let table = ledger_table(&pool).await;
    let processor = processor(store).handler_limit(Duration::from_millis(300));
    for how in ["error", "panic", "timeout"] {
        let payment = format!("pay_{}_{how}", run_id());
        let body = payment_body(&format!("evt_{payment}"), &payment, 1);
        let table = &table;
        let failed = processor
            .handle_in_transaction(
                &signed_headers(SECRET, &body),
                &body,
                |event, mut tx| async move {
                    write_ledger(&mut tx, table, &event).await?;
                    match how {
                        "error" => return Err(sqlx::Error::RowNotFound),
                        "panic" => panic!("handler bug"),
                        _ => tokio::time::sleep(Duration::from_secs(5)).await,
                    }
                    Ok(tx)
                },
            )
            .await;
        assert!(
            matches!(failed, Outcome::HandlerFailed { .. }),
            "{how}: {failed}"
        );
        assert_eq!(failed.status(), 500, "{how}");
        assert!(
            ledger(&pool, table, &payment).await.is_empty(),
            "{how}: rolled back"
        );
        assert_eq!(
            key_row(&pool, &format!("payment:{payment}")).await,
            None,
            "{how}: nothing recorded"
        );
        let runs = AtomicUsize::new(0);
        let again = deliver(&processor, table, &body, &runs).await;
        assert!(matches!(again, Outcome::Processed { .. }), "{how}: {again}");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "{how}: the redelivery ran it"
        );
        assert_eq!(ledger(&pool, table, &payment).await, [1], "{how}");
    }
}

/// `handle_in_transaction_detached`: the caller's future is dropped mid-handler (the sender
/// hung up), the unit still finishes — the handler's write and the record commit — and the
/// redelivery answers 200 without running it again (409 while it runs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_unit_finishes_when_the_caller_hangs_up() {
    let store = store(4).await;
    let pool = store.pool().clone();
    let table = Arc::new(ledger_table(&pool).await);
    let processor = processor(store);
    let payment = format!("pay_{}", run_id());
    let body = payment_body(&format!("evt_{payment}"), &payment, 1);
    let (started, is_started) = tokio::sync::oneshot::channel::<()>();
    let (finish, finishing) = tokio::sync::oneshot::channel::<()>();
    let handler = {
        let table = table.clone();
        move |event: Event, mut tx: Tx| async move {
            write_ledger(&mut tx, &table, &event).await?;
            started.send(()).unwrap();
            finishing.await.unwrap();
            Ok::<_, sqlx::Error>(tx)
        }
    };
    let headers = signed_headers(SECRET, &body);
    let hung_up = tokio::time::timeout(
        Duration::from_secs(5),
        processor.handle_in_transaction_detached(&headers, &body, handler),
    );
    tokio::select! {
        outcome = hung_up => panic!("the handler cannot finish yet: {outcome:?}"),
        Ok(()) = is_started => {} // the caller's future is dropped here
    }
    assert_eq!(processor.in_flight(), 1, "the unit goes on");
    let runs = AtomicUsize::new(0);
    let meanwhile = deliver(&processor, &table, &body, &runs).await;
    assert!(matches!(meanwhile, Outcome::Busy { .. }), "{meanwhile}");
    finish.send(()).unwrap();
    let started = Instant::now();
    while processor.in_flight() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the unit never finished"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let key = format!("payment:{payment}");
    assert_eq!(key_row(&pool, &key).await, Some(Some(1)));
    let again = deliver(&processor, &table, &body, &runs).await;
    assert!(matches!(again, Outcome::Skipped { .. }), "{again}");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        0,
        "the redeliveries ran nothing"
    );
    assert_eq!(ledger(&pool, &table, &payment).await, [1]);
}

/// The database goes away after the handler's write and before the record (a TCP proxy
/// in front of it is cut): 503, and the write is gone with the record — it was never
/// committed on its own. The redelivery applies the event once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_lost_before_the_record_takes_the_handlers_write_with_it() {
    let (proxy, proxied) = cut_proxy::Proxy::in_front_of(&url()).await;
    let direct = pool(2).await;
    let table = ledger_table(&direct).await;
    let through_proxy = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(1))
        .connect(&proxied)
        .await
        .unwrap();
    let store = SqlxStore::new(through_proxy).timeout(Duration::from_secs(1));
    store.migrate().await.unwrap();
    let processor = processor(store);
    let payment = format!("pay_{}", run_id());
    let body = payment_body(&format!("evt_{payment}"), &payment, 1);
    let (table_name, cut) = (&table, &proxy);
    let outcome = processor
        .handle_in_transaction(
            &signed_headers(SECRET, &body),
            &body,
            |event, mut tx| async move {
                write_ledger(&mut tx, table_name, &event).await?;
                cut.cut(); // the database goes away now
                Ok::<_, sqlx::Error>(tx)
            },
        )
        .await;
    assert!(
        matches!(outcome, Outcome::StoreUnavailable { .. }),
        "{outcome}"
    );
    assert_eq!(outcome.status(), 503);
    proxy.restore();
    let key = format!("payment:{payment}");
    let started = Instant::now();
    // Once the server has noticed the lost connection, nothing of it is left.
    while key_row(&direct, &key).await.is_some() {
        assert!(started.elapsed() < Duration::from_secs(10), "a row is left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ledger(&direct, &table, &payment).await.is_empty());
    let runs = AtomicUsize::new(0);
    let started = Instant::now();
    let again = loop {
        let outcome = deliver(&processor, &table, &body, &runs).await;
        if !matches!(
            outcome,
            Outcome::StoreUnavailable { .. } | Outcome::Busy { .. }
        ) {
            break outcome;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{outcome}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(matches!(again, Outcome::Processed { .. }), "{again}");
    assert_eq!(ledger(&direct, &table, &payment).await, [1]);
    assert_eq!(key_row(&direct, &key).await, Some(Some(1)));
}

/// A crash with handlers in flight, two ways:
///
/// * the process dies: 8 handlers have written and wait; the instance's connections are
///   killed (what the server sees when a process dies) and its tasks aborted — nothing
///   they wrote is left, nothing recorded, the rows unlocked at once;
/// * the in-flight futures are dropped (a server dropping its requests): sqlx rolls the
///   transactions back.
///
/// Then the redeliveries (duplicated, concurrent, to the surviving instances) apply every
/// event exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_with_handlers_in_flight_leaves_nothing_half_applied() {
    const IN_FLIGHT: usize = 8;
    let run = run_id();
    let survivor = Arc::new(processor(store(8).await));
    let pool = survivor.store().pool().clone();
    let table = ledger_table(&pool).await;
    let bodies: Vec<Arc<Vec<u8>>> = (0..2 * IN_FLIGHT)
        .map(|i| {
            Arc::new(payment_body(
                &format!("evt_{run}_{i}"),
                &format!("pay_{run}_{i}"),
                1,
            ))
        })
        .collect();
    let started = Arc::new(tokio::sync::Semaphore::new(0));
    // Runs `body` on `processor`: the handler writes, says so, then waits forever.
    let stuck = |processor: Arc<WebhookProcessor<SqlxStore>>, body: Arc<Vec<u8>>| {
        let (started, table) = (started.clone(), table.clone());
        async move {
            processor
                .handle_in_transaction(
                    &signed_headers(SECRET, &body),
                    &body,
                    |event, mut tx| async move {
                        write_ledger(&mut tx, &table, &event).await?;
                        started.add_permits(1);
                        std::future::pending::<()>().await;
                        Ok::<_, sqlx::Error>(tx)
                    },
                )
                .await
        }
    };

    // 1. The process dies.
    let crashing_name = format!("luxcore-crash-{run}");
    let crashing = Arc::new(processor(SqlxStore::new(
        pool_named(IN_FLIGHT as u32, &crashing_name).await,
    )));
    let mut tasks = Vec::new();
    for body in &bodies[..IN_FLIGHT] {
        tasks.push(tokio::spawn(stuck(crashing.clone(), body.clone())));
    }
    let all_started = started.acquire_many(IN_FLIGHT as u32);
    tokio::time::timeout(Duration::from_secs(10), all_started)
        .await
        .expect("the handlers started")
        .unwrap()
        .forget();
    // While they hold their rows, a redelivery of each answers 409.
    let runs = AtomicUsize::new(0);
    for body in &bodies[..IN_FLIGHT] {
        let meanwhile = deliver(&survivor, &table, body, &runs).await;
        assert!(matches!(meanwhile, Outcome::Busy { .. }), "{meanwhile}");
    }
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&crashing_name)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        killed.len(),
        IN_FLIGHT,
        "one connection per handler in flight"
    );
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        assert!(task.await.unwrap_err().is_cancelled());
    }

    // 2. The in-flight futures are dropped.
    let dropping = Arc::new(processor(store(IN_FLIGHT as u32).await));
    let in_flight = futures::future::join_all(
        bodies[IN_FLIGHT..]
            .iter()
            .map(|body| stuck(dropping.clone(), body.clone())),
    );
    let wait = async {
        started
            .acquire_many(IN_FLIGHT as u32)
            .await
            .unwrap()
            .forget();
    };
    tokio::select! {
        outcomes = in_flight => panic!("the handlers never finish: {outcomes:?}"),
        () = wait => {} // all written: drop them here
    }

    // Nothing half-applied: no merchant row, no record.
    for (i, body) in bodies.iter().enumerate() {
        let payment = format!("pay_{run}_{i}");
        let started = Instant::now();
        // The server may take a moment to notice a killed connection.
        while !ledger(&pool, &table, &payment).await.is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{payment} half-applied"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let row = key_row(&pool, &format!("payment:{payment}")).await;
        assert_eq!(
            row.flatten(),
            None,
            "{payment}: nothing recorded ({body:?})"
        );
    }
    // Redeliveries, each event three times, concurrently, to two surviving instances.
    let other = Arc::new(processor(store(8).await));
    let redeliveries = bodies
        .iter()
        .flat_map(|body| [body.clone(), body.clone(), body.clone()])
        .collect();
    redeliver_until_acknowledged(&[survivor, other], &table, redeliveries, 0.0).await;
    for i in 0..bodies.len() {
        let payment = format!("pay_{run}_{i}");
        assert_eq!(ledger(&pool, &table, &payment).await, [1], "{payment}");
        assert_eq!(
            key_row(&pool, &format!("payment:{payment}")).await,
            Some(Some(1))
        );
    }
}

/// A handler that ends its transaction itself — `tx.commit()` or `tx.rollback()` and
/// returning another transaction, or `COMMIT` / `ROLLBACK` sent as SQL — gets 500 and
/// nothing recorded (what it committed itself stays); the redelivery runs a correct handler
/// and records. The pool's one connection comes back outside any transaction.
#[tokio::test]
async fn a_handler_ending_the_transaction_fails_loudly() {
    let store = store(1).await;
    let pool = store.pool().clone();
    let table = ledger_table(&pool).await;
    let processor = processor(store);
    for how in ["commit()", "rollback()", "COMMIT", "ROLLBACK"] {
        let payment = format!("pay_{}", run_id());
        let body = payment_body(&format!("evt_{payment}"), &payment, 1);
        let (table, pool) = (&table, &pool);
        let outcome = processor
            .handle_in_transaction(
                &signed_headers(SECRET, &body),
                &body,
                |event, mut tx| async move {
                    write_ledger(&mut tx, table, &event).await?;
                    match how {
                        "commit()" => tx.commit().await?,
                        "rollback()" => tx.rollback().await?,
                        sql => {
                            sqlx::raw_sql(sql).execute(&mut *tx).await?;
                            return Ok(tx);
                        }
                    }
                    // Nothing else to hand back but another transaction (the pool's one
                    // connection is free again).
                    pool.begin().await
                },
            )
            .await;
        assert!(
            matches!(&outcome, Outcome::HandlerFailed { message, .. } if message.contains("ended the transaction")),
            "{how}: {outcome}"
        );
        assert_eq!(outcome.status(), 500, "{how}");
        let key = format!("payment:{payment}");
        assert_eq!(key_row(pool, &key).await.flatten(), None, "{how}: recorded");
        let committed = how.to_lowercase().starts_with("commit");
        let expected: &[i64] = if committed { &[1] } else { &[] };
        assert_eq!(ledger(pool, table, &payment).await, expected, "{how}");
        // The connection is clean: two statements get two transactions.
        let (a, b): (i64, i64) = (
            sqlx::query_scalar("SELECT txid_current()")
                .fetch_one(pool)
                .await
                .unwrap(),
            sqlx::query_scalar("SELECT txid_current()")
                .fetch_one(pool)
                .await
                .unwrap(),
        );
        assert_ne!(a, b, "{how}: the connection was left inside a transaction");
        let runs = AtomicUsize::new(0);
        let again = deliver(&processor, table, &body, &runs).await;
        assert!(matches!(again, Outcome::Processed { .. }), "{how}: {again}");
        assert_eq!(key_row(pool, &key).await, Some(Some(1)), "{how}");
    }
}

/// The plain `WebhookStore` path (`handle`): claim, busy, commit, release, and "applied"
/// for any version not above the recorded one.
#[tokio::test]
async fn the_plain_store_path_claims_commits_and_releases() {
    let store = store(2).await;
    let run = run_id();
    let key = |v: i64| DedupKey::Payment {
        payment_id: format!("pay_{run}"),
        status_version: v,
    };
    let (a, b) = (ClaimToken::random(), ClaimToken::random());
    assert_eq!(store.begin(&key(2), &a, LEASE).await, Ok(Begin::Claimed));
    assert_eq!(store.begin(&key(2), &b, LEASE).await, Ok(Begin::Busy));
    assert_eq!(store.begin(&key(1), &b, LEASE).await, Ok(Begin::Busy));
    // A stranger's release does not drop the claim.
    store.release(&key(2), &b).await.unwrap();
    assert_eq!(store.begin(&key(3), &b, LEASE).await, Ok(Begin::Busy));
    store.commit(&key(2), &a).await.unwrap();
    assert_eq!(store.begin(&key(2), &b, LEASE).await, Ok(Begin::Done));
    assert_eq!(store.begin(&key(1), &b, LEASE).await, Ok(Begin::Done));
    assert_eq!(store.begin(&key(3), &b, LEASE).await, Ok(Begin::Claimed));
    store.release(&key(3), &b).await.unwrap();
    // A short lease runs out by the database's clock.
    let short = Duration::from_millis(50);
    assert_eq!(store.begin(&key(3), &a, short).await, Ok(Begin::Claimed));
    assert_eq!(store.begin(&key(3), &b, LEASE).await, Ok(Begin::Busy));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(store.begin(&key(3), &b, LEASE).await, Ok(Begin::Claimed));
    store.commit(&key(3), &b).await.unwrap();
    assert_eq!(
        key_row(store.pool(), &key(3).storage_key()).await,
        Some(Some(3))
    );
    // Through the processor.
    let processor = processor(store);
    let body = payment_body(&format!("evt_{run}_4"), &format!("pay_{run}"), 4);
    let runs = AtomicUsize::new(0);
    for expected in ["processed", "skipped"] {
        let outcome = processor
            .handle(&signed_headers(SECRET, &body), &body, |_| async {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(())
            })
            .await;
        assert_eq!(outcome.label(), expected, "{outcome}");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// Unreachable: a typed 503-class error whose `source()` is the `sqlx::Error`, and neither
/// it, the chain nor the store's `Debug` shows the password. Not migrated (the table is not
/// on the search path): `Unexpected`, also answered 503.
#[tokio::test]
async fn errors_keep_their_cause_and_never_show_the_password() {
    let mut with_password = url::Url::parse(&url()).unwrap();
    with_password.set_password(Some("hunter2-secret")).unwrap();
    with_password.set_port(Some(1)).unwrap();
    let down = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy(with_password.as_str())
        .unwrap();
    let down = SqlxStore::new(down);
    assert!(!format!("{down:?}").contains("hunter2"), "{down:?}");
    let error = down.migrate().await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let source = std::error::Error::source(&error).expect("the cause is kept");
    assert!(source.downcast_ref::<sqlx::Error>().is_some(), "{source:?}");
    let mut link = Some(source);
    assert!(!format!("{error} {error:?}").contains("hunter2"), "{error}");
    while let Some(cause) = link {
        assert!(
            !format!("{cause} {cause:?}").contains("hunter2"),
            "{cause:?}"
        );
        link = cause.source();
    }
    // Reachable, but the table is missing.
    let options = PgConnectOptions::from_str(&url())
        .unwrap()
        .options([("search_path", "luxcore_no_such_schema")]);
    let unmigrated = SqlxStore::new(PgPoolOptions::new().connect_with(options).await.unwrap());
    let processor = processor(unmigrated);
    let body = payment_body("evt_unmigrated", "pay_unmigrated", 1);
    for outcome in [
        processor
            .handle(&signed_headers(SECRET, &body), &body, |_| async {
                Ok::<_, String>(())
            })
            .await,
        processor
            .handle_in_transaction(&signed_headers(SECRET, &body), &body, |_, tx| async {
                Ok::<_, String>(tx)
            })
            .await,
    ] {
        assert!(
            matches!(
                &outcome,
                Outcome::StoreUnavailable {
                    error: StoreError::Unexpected(_),
                    ..
                }
            ),
            "{outcome}"
        );
        assert_eq!(outcome.status(), 503);
    }
}

/// `hold` starts a delivery whose handler sends `locked` and waits for `released`, holding
/// the key's row meanwhile; `other` delivers the same event through the other store: busy
/// while the row is held, skipped once the holder has committed.
#[cfg(feature = "postgres")]
async fn busy_while_held<O, OF>(
    hold: impl FnOnce(
        tokio::sync::oneshot::Sender<()>,
        tokio::sync::oneshot::Receiver<()>,
    ) -> tokio::task::JoinHandle<Outcome>,
    other: O,
) where
    O: Fn() -> OF,
    OF: Future<Output = Outcome>,
{
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (locked, is_locked) = tokio::sync::oneshot::channel::<()>();
    let holder = hold(locked, released);
    is_locked.await.unwrap();
    assert!(matches!(other().await, Outcome::Busy { .. }));
    release.send(()).unwrap();
    assert!(matches!(holder.await.unwrap(), Outcome::Processed { .. }));
    assert!(matches!(other().await, Outcome::Skipped { .. }));
}

/// `SqlxStore` and `PostgresStore` on one table: what one applied the other skips, a row
/// one locks is busy for the other, claims exclude each other, and a mixed herd applies an
/// event once.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlx_and_tokio_postgres_stores_share_one_table() {
    use luxcore_ext::webhooks::{PostgresStore, Transaction};

    let sqlx_store = store(8).await;
    let pool = sqlx_store.pool().clone();
    let pg_store = PostgresStore::connect(&url(), 8)
        .unwrap()
        .timeout(Duration::from_secs(1));
    pg_store.migrate().await.unwrap();
    let table = ledger_table(&pool).await;
    let via_sqlx = Arc::new(processor(sqlx_store.clone()));
    let via_pg = Arc::new(
        WebhookProcessor::new(WebhookVerifier::new(SECRET), pg_store.clone()).lease(LEASE),
    );
    let run = run_id();
    let runs = AtomicUsize::new(0);
    let deliver_pg = {
        let (via_pg, table) = (via_pg.clone(), table.clone());
        move |body: Vec<u8>| {
            let (via_pg, table) = (via_pg.clone(), table.clone());
            async move {
                via_pg
                    .handle_in_transaction(
                        &signed_headers(SECRET, &body),
                        &body,
                        |event, tx: Transaction| async move {
                            tx.execute(
                                format!("INSERT INTO {table} (payment, version) VALUES ($1, $2)")
                                    .as_str(),
                                &[&event.payment_id(), &event.status_version()],
                            )
                            .await?;
                            Ok::<_, tokio_postgres::Error>(tx)
                        },
                    )
                    .await
            }
        }
    };

    // Applied by one, skipped by the other (both ways, transactional and plain).
    let one = payment_body(&format!("evt_{run}_1"), &format!("pay_{run}_1"), 1);
    assert!(matches!(
        deliver(&via_sqlx, &table, &one, &runs).await,
        Outcome::Processed { .. }
    ));
    assert!(matches!(
        deliver_pg(one.clone()).await,
        Outcome::Skipped { .. }
    ));
    let plain = via_pg
        .handle(&signed_headers(SECRET, &one), &one, |_| async {
            Ok::<_, String>(())
        })
        .await;
    assert!(matches!(plain, Outcome::Skipped { .. }), "{plain}");
    let two = payment_body(&format!("evt_{run}_2"), &format!("pay_{run}_2"), 1);
    assert!(matches!(
        deliver_pg(two.clone()).await,
        Outcome::Processed { .. }
    ));
    assert!(matches!(
        deliver(&via_sqlx, &table, &two, &runs).await,
        Outcome::Skipped { .. }
    ));

    // A row locked by one is busy for the other, and the other way round.
    let three = payment_body(&format!("evt_{run}_3"), &format!("pay_{run}_3"), 1);
    busy_while_held(
        |locked, released| {
            let (via_pg, three) = (via_pg.clone(), three.clone());
            tokio::spawn(async move {
                via_pg
                    .handle_in_transaction(
                        &signed_headers(SECRET, &three),
                        &three,
                        |_, tx: Transaction| async move {
                            locked.send(()).unwrap();
                            released.await.unwrap();
                            Ok::<_, String>(tx)
                        },
                    )
                    .await
            })
        },
        || deliver(&via_sqlx, &table, &three, &runs),
    )
    .await;
    let four = payment_body(&format!("evt_{run}_4"), &format!("pay_{run}_4"), 1);
    busy_while_held(
        |locked, released| {
            let (via_sqlx, four) = (via_sqlx.clone(), four.clone());
            tokio::spawn(async move {
                via_sqlx
                    .handle_in_transaction(
                        &signed_headers(SECRET, &four),
                        &four,
                        |_, tx| async move {
                            locked.send(()).unwrap();
                            released.await.unwrap();
                            Ok::<_, String>(tx)
                        },
                    )
                    .await
            })
        },
        || deliver_pg(four.clone()),
    )
    .await;

    // Plain claims exclude each other; a record by one is "done" for the other.
    let key = DedupKey::Event {
        id: format!("evt_{run}_plain"),
    };
    let (a, b) = (ClaimToken::random(), ClaimToken::random());
    assert_eq!(sqlx_store.begin(&key, &a, LEASE).await, Ok(Begin::Claimed));
    assert_eq!(pg_store.begin(&key, &b, LEASE).await, Ok(Begin::Busy));
    sqlx_store.commit(&key, &a).await.unwrap();
    assert_eq!(pg_store.begin(&key, &b, LEASE).await, Ok(Begin::Done));

    // A mixed herd: 20 deliveries of one event, alternating the stores, released together.
    let herd = Arc::new(payment_body(
        &format!("evt_{run}_herd"),
        &format!("pay_{run}_herd"),
        1,
    ));
    let barrier = Arc::new(Barrier::new(20));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (barrier, herd, via_sqlx, table) = (
            barrier.clone(),
            herd.clone(),
            via_sqlx.clone(),
            table.clone(),
        );
        let deliver_pg = deliver_pg.clone();
        tasks.spawn(async move {
            barrier.wait().await;
            if i % 2 == 0 {
                deliver_pg(herd.to_vec()).await
            } else {
                deliver(&via_sqlx, &table, &herd, &AtomicUsize::new(0)).await
            }
        });
    }
    let mut processed = 0;
    while let Some(outcome) = tasks.join_next().await {
        let outcome = outcome.unwrap();
        assert!(
            matches!(
                outcome,
                Outcome::Processed { .. } | Outcome::Skipped { .. } | Outcome::Busy { .. }
            ),
            "{outcome}"
        );
        processed += usize::from(matches!(outcome, Outcome::Processed { .. }));
    }
    assert_eq!(processed, 1);
    assert_eq!(ledger(&pool, &table, &format!("pay_{run}_herd")).await, [1]);
}
