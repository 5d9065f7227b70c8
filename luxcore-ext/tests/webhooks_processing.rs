//! `WebhookProcessor` exactly-once, end to end:
//!
//! * a failed handler answers 5xx, luxcore-mock redelivers, the event is applied once;
//! * 4 receiver instances sharing one store (memory, Redis, PostgreSQL) under a load with
//!   duplicates, out-of-order deliveries, failing handlers and one instance that crashes
//!   mid-run, redelivered until acknowledged (as LuxCore does);
//! * a store outage mid-run (a TCP proxy in front of Redis / PostgreSQL is cut): 503s,
//!   and after it nothing is lost;
//! * many tasks released by one barrier deliver the same event to processors sharing a
//!   `MemoryStore`: the handler runs once; a deliberately non-atomic store fails the same
//!   scenario;
//! * PostgreSQL's transactional variant: the merchant's write and the record commit
//!   together, so nothing is applied twice even across an outage.
//!
//! `SqlxStore` (`postgres-sqlx`) runs the same load and drift scenarios as `PostgresStore`
//! (its transactional variant: `tests/webhooks_sqlx.rs`).
//!
//! Redis and PostgreSQL tests are compiled with the `redis` / `postgres` features and need
//! `LUXCORE_TEST_REDIS_URL` / `LUXCORE_TEST_POSTGRES_URL` (they fail, never skip, without).
//! The PostgreSQL load and outage runs are repeated over TLS (`sslmode=verify-full`, the
//! run's test CA): `LUXCORE_TEST_POSTGRES_TLS_URL` and `LUXCORE_TEST_TLS_CA`.
//! The Redis load and outage tests also run over TLS (`redis-tls`:
//! `LUXCORE_TEST_REDIS_TLS_URL` and the test CA) and the load test on a Redis Cluster
//! (`redis-cluster`: `LUXCORE_TEST_REDIS_CLUSTER_NODES`) and on a TLS-only one (both
//! features: `LUXCORE_TEST_REDIS_TLS_CLUSTER_NODES`); see `redis_support`.
//! CI size: 1,000 deliveries for 100 payments; `LUXCORE_WEBHOOK_LOAD_FULL=1` runs 10,000
//! for 1,000.

// The proxy and server helpers are used only by the `redis` / `postgres` tests.
#![cfg_attr(
    not(any(feature = "redis", feature = "postgres", feature = "postgres-sqlx")),
    allow(dead_code)
)]

mod cut_proxy;
#[cfg(feature = "redis")]
mod redis_support;
#[cfg(any(feature = "postgres", feature = "redis"))]
mod test_ca;

mod support;
#[cfg(any(feature = "redis", feature = "postgres", feature = "postgres-sqlx"))]
use support::required_env;
use support::{lock, payment_body, run_id, signed_headers};

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use luxcore_ext::webhooks::{
    Begin, ClaimToken, DedupKey, Event, MemoryStore, Outcome, StoreError, WebhookProcessor,
    WebhookStore, WebhookVerifier,
};
use tokio::sync::Barrier;

use cut_proxy::Proxy;

const SECRET: &str = "whsec_processing_tests";
/// Leases in these tests: 10 × the stores' 500 ms timeout, as the lease docs ask.
const LEASE: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------
// The load: deliveries, a LuxCore-like redeliverer and the checks.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Delivery {
    payment: String,
    version: i64,
    body: Arc<Vec<u8>>,
}

/// `deliveries` for `payments` payments: 80 % distinct events (versions 1..=n per
/// payment), 20 % duplicates of them, and 20 % of positions moved out of order.
fn workload(
    run: &str,
    deliveries: usize,
    payments: usize,
) -> (Vec<Delivery>, HashMap<String, i64>) {
    let distinct = deliveries * 8 / 10;
    let mut events = Vec::new();
    let mut last = HashMap::new();
    for i in 0..distinct {
        let p = i % payments;
        let version = i64::try_from(i / payments + 1).unwrap();
        let payment = format!("pay_{run}_{p:05}");
        last.insert(payment.clone(), version);
        let body = payment_body(&format!("evt_{run}_{i}"), &payment, version);
        events.push(Delivery {
            payment,
            version,
            body: Arc::new(body),
        });
    }
    let mut all = events.clone();
    while all.len() < deliveries {
        let pick = rand::random_range(0..events.len());
        let at = rand::random_range(0..=all.len());
        all.insert(at.min(all.len()), events[pick].clone());
    }
    // 20 % out of order: swap with a later position (often the same payment's later
    // version has by then been delivered first).
    for _ in 0..deliveries / 5 {
        let i = rand::random_range(0..all.len());
        let j = rand::random_range(i..all.len().min(i + 4 * payments + 1));
        all.swap(i, j);
    }
    (all, last)
}

/// What the merchant's handlers did, and what the redeliverer saw.
#[derive(Default)]
struct World {
    /// Per payment, the versions applied, in order.
    ledger: Mutex<HashMap<String, Vec<i64>>>,
    /// (payment, version) whose handler succeeded but whose record failed (store outage).
    unrecorded: Mutex<HashSet<(String, i64)>>,
    acknowledged: Mutex<Vec<Delivery>>,
    acked: AtomicUsize,
    attempts: AtomicUsize,
    busy: AtomicUsize,
    failed: AtomicUsize,
    unavailable: AtomicUsize,
    refused: AtomicUsize,
    crashed_in_handler: AtomicUsize,
    crash_done: AtomicBool,
}

struct Instance<S> {
    processor: WebhookProcessor<S>,
    crashed: AtomicBool,
}

struct LoadConfig {
    deliveries: usize,
    payments: usize,
    /// Instance 3 crashes once this many deliveries are acknowledged.
    crash_after: usize,
    /// Cut the store for this long once a third of the deliveries are acknowledged.
    outage: Option<(Arc<Proxy>, Duration)>,
    time_limit: Duration,
}

impl LoadConfig {
    fn sized(deliveries: usize, payments: usize) -> Self {
        Self {
            deliveries,
            payments,
            crash_after: deliveries * 2 / 5,
            outage: None,
            time_limit: Duration::from_secs(if deliveries > 2_000 { 900 } else { 180 }),
        }
    }

    fn ci_or_full() -> Self {
        if std::env::var_os("LUXCORE_WEBHOOK_LOAD_FULL").is_some() {
            Self::sized(10_000, 1_000)
        } else {
            Self::sized(1_000, 100)
        }
    }
}

/// Runs the load against 4 instances and checks the end state. Returns the world.
async fn run_load<S: WebhookStore + 'static>(
    name: &str,
    instances: Vec<WebhookProcessor<S>>,
    config: LoadConfig,
) -> Arc<World> {
    assert_eq!(instances.len(), 4);
    let started = Instant::now();
    let run = run_id();
    let (deliveries, last) = workload(&run, config.deliveries, config.payments);
    let total = deliveries.len();
    let queue = Arc::new(Mutex::new(deliveries.into_iter().collect::<VecDeque<_>>()));
    let world = Arc::new(World::default());
    let instances: Arc<Vec<Instance<S>>> = Arc::new(
        instances
            .into_iter()
            .map(|processor| Instance {
                processor,
                crashed: AtomicBool::new(false),
            })
            .collect(),
    );
    let outage_task = config.outage.clone().map(|(proxy, length)| {
        let world = Arc::clone(&world);
        tokio::spawn(async move {
            while world.acked.load(Ordering::SeqCst) < total / 3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let before = world.unavailable.load(Ordering::SeqCst);
            proxy.cut();
            tokio::time::sleep(length).await;
            proxy.restore();
            world.unavailable.load(Ordering::SeqCst) - before
        })
    });
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (queue, world, instances) = (queue.clone(), world.clone(), instances.clone());
        let crash_after = config.crash_after;
        workers.push(tokio::spawn(async move {
            loop {
                let next = lock(&queue).pop_front();
                let Some(delivery) = next else {
                    if world.acked.load(Ordering::SeqCst) >= total {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                };
                let index = rand::random_range(0..instances.len());
                let acknowledged = attempt(&instances, index, &delivery, &world, crash_after).await;
                if acknowledged {
                    lock(&world.acknowledged).push(delivery);
                    world.acked.fetch_add(1, Ordering::SeqCst);
                } else {
                    // LuxCore redelivers later, possibly to another instance.
                    tokio::time::sleep(Duration::from_millis(3)).await;
                    lock(&queue).push_back(delivery);
                }
            }
        }));
    }
    let all = async {
        for worker in workers {
            worker.await.unwrap();
        }
    };
    tokio::time::timeout(config.time_limit, all)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{name}: only {} of {total} deliveries acknowledged in {:?}",
                world.acked.load(Ordering::SeqCst),
                config.time_limit
            )
        });
    let unavailable_during_outage = match outage_task {
        Some(task) => Some(task.await.unwrap()),
        None => None,
    };
    let elapsed = started.elapsed();
    if config.outage.is_none() {
        assert_eq!(
            world.unavailable.load(Ordering::SeqCst),
            0,
            "{name}: 503 without an outage"
        );
    }
    check(name, &world, &last);
    println!(
        "{name}: {total} deliveries for {} payments acknowledged in {elapsed:.2?} \
         ({:.0} deliveries/s): {} attempts, {} busy (409), {} handler failures (500), \
         {} store unavailable (503){}, {} refused by the crashed instance, \
         {} handlers lost in the crash, {} applied",
        config.payments,
        total as f64 / elapsed.as_secs_f64(),
        world.attempts.load(Ordering::SeqCst),
        world.busy.load(Ordering::SeqCst),
        world.failed.load(Ordering::SeqCst),
        world.unavailable.load(Ordering::SeqCst),
        unavailable_during_outage
            .map(|n| format!(" ({n} during the outage)"))
            .unwrap_or_default(),
        world.refused.load(Ordering::SeqCst),
        world.crashed_in_handler.load(Ordering::SeqCst),
        lock(&world.ledger).values().map(Vec::len).sum::<usize>(),
    );
    assert!(
        world.failed.load(Ordering::SeqCst) > 0,
        "{name}: no handler failed"
    );
    assert!(
        world.crashed_in_handler.load(Ordering::SeqCst) > 0,
        "{name}: the crash hit no handler"
    );
    if let Some(n) = unavailable_during_outage {
        assert!(n > 0, "{name}: the outage produced no 503");
    }
    world
}

/// One delivery attempt to instance `index`; `true` when answered 2xx.
async fn attempt<S: WebhookStore>(
    instances: &[Instance<S>],
    index: usize,
    delivery: &Delivery,
    world: &Arc<World>,
    crash_after: usize,
) -> bool {
    world.attempts.fetch_add(1, Ordering::SeqCst);
    let instance = &instances[index];
    if instance.crashed.load(Ordering::SeqCst) {
        world.refused.fetch_add(1, Ordering::SeqCst);
        return false; // connection refused
    }
    let (crash_tx, mut crash_rx) = tokio::sync::oneshot::channel::<()>();
    let handler_ok = Arc::new(AtomicBool::new(false));
    let handler = {
        let (world, handler_ok) = (Arc::clone(world), Arc::clone(&handler_ok));
        let crashed = &instance.crashed;
        move |event: Event| async move {
            tokio::time::sleep(Duration::from_micros(rand::random_range(0..1_500))).await;
            let crash_now = index == 3
                && world.acked.load(Ordering::SeqCst) >= crash_after
                && !world.crash_done.swap(true, Ordering::SeqCst);
            if crash_now {
                crashed.store(true, Ordering::SeqCst);
            }
            if crashed.load(Ordering::SeqCst) {
                // The process dies here, in the middle of the handler, holding the claim.
                world.crashed_in_handler.fetch_add(1, Ordering::SeqCst);
                let _ = crash_tx.send(());
                std::future::pending::<()>().await;
            }
            if rand::random_bool(0.1) {
                return Err("random handler failure");
            }
            let payment = event.payment_id().unwrap().to_owned();
            let version = event.status_version().unwrap();
            lock(&world.ledger)
                .entry(payment)
                .or_default()
                .push(version);
            handler_ok.store(true, Ordering::SeqCst);
            Ok(())
        }
    };
    let headers = signed_headers(SECRET, &delivery.body);
    let outcome = tokio::select! {
        outcome = instance.processor.handle(&headers, &delivery.body, handler) => outcome,
        Ok(()) = &mut crash_rx => return false, // the connection drops with the process
    };
    match &outcome {
        Outcome::Busy { .. } => world.busy.fetch_add(1, Ordering::SeqCst),
        Outcome::HandlerFailed { .. } => world.failed.fetch_add(1, Ordering::SeqCst),
        Outcome::StoreUnavailable { .. } => {
            if handler_ok.load(Ordering::SeqCst) {
                lock(&world.unrecorded).insert((delivery.payment.clone(), delivery.version));
            }
            world.unavailable.fetch_add(1, Ordering::SeqCst)
        }
        Outcome::Rejected(e) => panic!("signed delivery rejected: {e}"),
        _ => 0,
    };
    outcome.is_acknowledged()
}

/// The end-state rules of issue 13.
fn check(name: &str, world: &World, last: &HashMap<String, i64>) {
    let ledger = lock(&world.ledger);
    let unrecorded = lock(&world.unrecorded);
    for (payment, final_version) in last {
        let applied = ledger.get(payment).map(Vec::as_slice).unwrap_or_default();
        // Every payment's last status is applied.
        assert_eq!(
            applied.last(),
            Some(final_version),
            "{name}: {payment} ended at {applied:?}, its last version is {final_version}"
        );
        for pair in applied.windows(2) {
            // Increasing order. The one documented exception (only possible when the
            // store failed, so never in the runs without an outage): a version whose
            // handler succeeded but whose record did not reach the store is unknown to
            // the store, so it may be applied again, or followed by an older version.
            let unrecorded_first = unrecorded.contains(&(payment.clone(), pair[0]));
            assert!(
                pair[0] < pair[1] || unrecorded_first,
                "{name}: {payment} applied {applied:?}"
            );
        }
    }
    // No delivery answered 2xx went unapplied unless it was stale.
    for delivery in lock(&world.acknowledged).iter() {
        let applied = &ledger[&delivery.payment];
        assert!(
            applied.contains(&delivery.version) || applied.iter().any(|v| *v > delivery.version),
            "{name}: {} v{} acknowledged but never applied ({applied:?})",
            delivery.payment,
            delivery.version
        );
    }
}

fn processors<S: WebhookStore>(stores: impl IntoIterator<Item = S>) -> Vec<WebhookProcessor<S>> {
    stores
        .into_iter()
        .map(|store| WebhookProcessor::new(WebhookVerifier::new(SECRET), store).lease(LEASE))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_instances_memory_store() {
    let store = Arc::new(MemoryStore::new());
    let instances = processors((0..4).map(|_| Arc::clone(&store)));
    run_load("memory", instances, LoadConfig::ci_or_full()).await;
}

// ---------------------------------------------------------------------------------------
// Issue 27: signed events whose payload drifted from the spec are handed over, never
// refused, and ordered with the well-formed versions of the same payment.
// ---------------------------------------------------------------------------------------

/// Five kinds of drift of a `payment.completed` payload, each breaking (or bending) the
/// generated `Payment` type in another way.
const DRIFTS: [&str; 5] = [
    "decimal amount string",
    "currency missing",
    "integer strings",
    "amount null",
    "status of another type",
];

fn drifted_body(event_id: &str, payment_id: &str, version: i64, drift: &str) -> Vec<u8> {
    let mut data = serde_json::json!({"id": payment_id, "amount": 150000, "currency": "ARS",
        "status": "completed", "status_version": version});
    match drift {
        "decimal amount string" => data["amount"] = serde_json::json!("1500.00"),
        "currency missing" => {
            data.as_object_mut().unwrap().remove("currency");
        }
        "integer strings" => {
            data["amount"] = serde_json::json!("150000");
            data["status_version"] = serde_json::json!(version.to_string());
        }
        "amount null" => data["amount"] = serde_json::Value::Null,
        "status of another type" => data["status"] = serde_json::json!({"code": 3}),
        other => panic!("unknown drift {other}"),
    }
    serde_json::to_vec(&serde_json::json!({
        "id": event_id, "event": "payment.completed", "merchant_id": 123, "data": data
    }))
    .unwrap()
}

/// For each drift: v1 well-formed, v2 drifted, v2 again (another event id), v1 again,
/// v3 well-formed, v2 again. The handler sees v1, v2, v3 once each, in order; every
/// answer is 200; v2 reaches it as `Unrecognized` (or typed, for integer strings) with
/// the raw JSON.
async fn drifted_events_are_handed_over_in_order<S: WebhookStore>(name: &str, store: S) {
    let processor = WebhookProcessor::new(WebhookVerifier::new(SECRET), store).lease(LEASE);
    let run = run_id();
    for drift in DRIFTS {
        let payment = format!("pay_{run}_{}", drift.replace(' ', "_"));
        let deliveries = [
            (
                payment_body(&format!("evt_{run}_{drift}_1"), &payment, 1),
                1,
                true,
            ),
            (
                drifted_body(&format!("evt_{run}_{drift}_2"), &payment, 2, drift),
                2,
                true,
            ),
            (
                drifted_body(&format!("evt_{run}_{drift}_2b"), &payment, 2, drift),
                2,
                false,
            ),
            (
                payment_body(&format!("evt_{run}_{drift}_1"), &payment, 1),
                1,
                false,
            ),
            (
                payment_body(&format!("evt_{run}_{drift}_3"), &payment, 3),
                3,
                true,
            ),
            (
                drifted_body(&format!("evt_{run}_{drift}_2"), &payment, 2, drift),
                2,
                false,
            ),
        ];
        let seen = Mutex::new(Vec::new());
        for (body, version, applies) in deliveries {
            let outcome = processor
                .handle(&signed_headers(SECRET, &body), &body, |event| {
                    let (seen, body, payment) = (&seen, &body, &payment);
                    async move {
                        assert_eq!(event.payment_id(), Some(payment.as_str()));
                        assert_eq!(
                            event.raw(),
                            &serde_json::from_slice::<serde_json::Value>(body).unwrap()
                        );
                        let typed = event.payment().is_some();
                        lock(seen).push((event.status_version().unwrap(), typed));
                        Ok::<_, Infallible>(())
                    }
                })
                .await;
            assert_eq!(
                outcome.status(),
                200,
                "{name} {drift} v{version}: {outcome}"
            );
            let processed = matches!(outcome, Outcome::Processed { .. });
            assert_eq!(processed, applies, "{name} {drift} v{version}: {outcome}");
            assert_eq!(
                outcome.key(),
                Some(&DedupKey::Payment {
                    payment_id: payment.clone(),
                    status_version: version
                })
            );
        }
        let typed_v2 = drift == "integer strings";
        assert_eq!(
            lock(&seen).clone(),
            vec![(1, true), (2, typed_v2), (3, true)],
            "{name} {drift}"
        );
    }
}

#[tokio::test]
async fn drifted_events_memory_store() {
    drifted_events_are_handed_over_in_order("memory", MemoryStore::new()).await;
}

#[cfg(feature = "redis")]
mod redis_store {
    use super::*;
    use luxcore_ext::webhooks::{RedisEndpoint, RedisStore};
    use redis_support::Deployment;

    async fn store(url: &str, prefix: &str) -> RedisStore {
        store_at(&RedisEndpoint::new(url), prefix).await
    }

    async fn store_at(endpoint: &RedisEndpoint, prefix: &str) -> RedisStore {
        RedisStore::connect_to(endpoint)
            .await
            .expect("redis reachable")
            .prefix(prefix)
            .timeout(Duration::from_millis(500))
    }

    #[tokio::test]
    async fn unreachable_redis_is_a_typed_error() {
        // Nothing listens on port 1.
        let error = RedisStore::connect("redis://127.0.0.1:1")
            .await
            .unwrap_err();
        assert!(
            matches!(error, luxcore_ext::webhooks::StoreError::Unavailable(_)),
            "{error:?}"
        );
        // A typed connection error is the source, and Redis's own error the source of that.
        let source = std::error::Error::source(&error).expect("the connection error");
        let connect = source
            .downcast_ref::<luxcore_ext::webhooks::RedisConnectError>()
            .expect("a RedisConnectError");
        assert_eq!(
            connect.kind(),
            luxcore_ext::webhooks::RedisConnectErrorKind::Unreachable
        );
        let inner = std::error::Error::source(connect).expect("the Redis error");
        assert!(
            inner.downcast_ref::<redis::RedisError>().is_some(),
            "{inner:?}"
        );
        assert!(
            format!(
                "{:?}",
                store(&required_env("LUXCORE_TEST_REDIS_URL"), "p:").await
            )
            .contains("RedisStore")
        );
    }

    #[tokio::test]
    async fn drifted_events_redis_store() {
        let url = required_env("LUXCORE_TEST_REDIS_URL");
        let prefix = format!("luxcore:test:{}:", run_id());
        drifted_events_are_handed_over_in_order("redis", store(&url, &prefix).await).await;
    }

    /// 4 instances on the Redis of `deployment` (one server, its TLS port, the clusters).
    async fn four_instances(deployment: Deployment) {
        let endpoint = deployment.endpoint();
        let prefix = format!("luxcore:test:{}:", run_id());
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(store_at(&endpoint, &prefix).await);
        }
        let name = format!("redis ({})", deployment.name());
        run_load(&name, processors(stores), LoadConfig::ci_or_full()).await;
    }

    /// The outage test through a cut TCP proxy in front of one server (plain or TLS).
    async fn outage(deployment: Deployment) {
        let (url_env, with_tls): (&str, fn(RedisEndpoint) -> RedisEndpoint) = match deployment {
            Deployment::Plain => ("LUXCORE_TEST_REDIS_URL", |e| e),
            Deployment::Tls => (
                redis_support::TLS_URL_ENV,
                redis_support::with_test_certificates,
            ),
            Deployment::Cluster | Deployment::TlsCluster => {
                unreachable!("the proxy fronts one server")
            }
        };
        let (proxy, proxied) = Proxy::in_front_of(&required_env(url_env)).await;
        let endpoint = with_tls(RedisEndpoint::new(proxied));
        let prefix = format!("luxcore:test:{}:", run_id());
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(store_at(&endpoint, &prefix).await);
        }
        let mut config = LoadConfig::sized(400, 40);
        config.outage = Some((proxy, Duration::from_millis(1_500)));
        let name = format!("redis outage ({})", deployment.name());
        run_load(&name, processors(stores), config).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_instances_redis_store() {
        four_instances(Deployment::Plain).await;
    }

    #[cfg(feature = "redis-tls")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_instances_redis_tls_store() {
        four_instances(Deployment::Tls).await;
    }

    #[cfg(feature = "redis-cluster")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_instances_redis_cluster_store() {
        four_instances(Deployment::Cluster).await;
    }

    #[cfg(all(feature = "redis-tls", feature = "redis-cluster"))]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_instances_redis_tls_cluster_store() {
        four_instances(Deployment::TlsCluster).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_outage_answers_503_and_loses_nothing() {
        outage(Deployment::Plain).await;
    }

    #[cfg(feature = "redis-tls")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_tls_outage_answers_503_and_loses_nothing() {
        outage(Deployment::Tls).await;
    }
}

#[cfg(feature = "postgres")]
mod postgres_store {
    use super::*;
    use luxcore_ext::webhooks::{PostgresStore, PostgresTls, StoreError, Transaction};

    async fn store(url: &str) -> PostgresStore {
        store_with(url, PostgresTls::new()).await
    }

    async fn store_with(url: &str, tls: PostgresTls) -> PostgresStore {
        let store = PostgresStore::connect_with(url, 8, tls)
            .expect("valid URL")
            .timeout(Duration::from_millis(500));
        store
            .migrate()
            .await
            .expect("postgres reachable, schema applied");
        store
    }

    #[tokio::test]
    async fn debug_and_errors_never_show_the_password() {
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        let mut with_password = url::Url::parse(&url).unwrap();
        with_password.set_password(Some("hunter2-secret")).unwrap();
        let store = PostgresStore::connect(with_password.as_str(), 1).unwrap();
        store
            .migrate()
            .await
            .expect("trust auth ignores the password");
        assert!(!format!("{store:?}").contains("hunter2"), "{store:?}");
        // Unreachable (nothing listens on port 1): a typed 503-class error, no password.
        with_password.set_port(Some(1)).unwrap();
        let down = PostgresStore::connect(with_password.as_str(), 1).unwrap();
        let error = down.migrate().await.unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        assert!(!format!("{error} {error:?}").contains("hunter2"), "{error}");
        // The cause is kept (the pool's or PostgreSQL's own error), and no link of the
        // chain shows the password.
        let mut source = std::error::Error::source(&error);
        assert!(source.is_some(), "{error:?}");
        while let Some(cause) = source {
            assert!(
                !format!("{cause} {cause:?}").contains("hunter2"),
                "{cause:?}"
            );
            source = cause.source();
        }
    }

    /// Event rows past their retention are deleted by the store itself, every
    /// `purge_every` deliveries it records; payment rows are kept.
    #[tokio::test]
    async fn expired_event_rows_are_purged_every_n_deliveries() {
        use luxcore_ext::webhooks::{Begin, ClaimToken, DedupKey, WebhookStore};
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        let store = store(&url)
            .await
            .retention(Duration::from_millis(1))
            .purge_every(5);
        let run = run_id();
        let record = |key: DedupKey| {
            let store = store.clone();
            async move {
                let token = ClaimToken::random();
                let begun = store.begin(&key, &token, LEASE).await.unwrap();
                assert!(matches!(begun, Begin::Claimed), "{begun:?}");
                store.commit(&key, &token).await.unwrap();
            }
        };
        let events = |n: usize| {
            (0..n)
                .map(|i| DedupKey::Event {
                    id: format!("evt_purge_{run}_{i}"),
                })
                .collect::<Vec<_>>()
        };
        let client = store.pool().get().await.unwrap();
        let rows = |pattern: String| {
            let client = &client;
            async move {
                let row = client
                    .query_one(
                        "SELECT count(*) FROM luxcore_webhook_keys WHERE key LIKE $1",
                        &[&pattern],
                    )
                    .await
                    .unwrap();
                row.get::<_, i64>(0)
            }
        };
        let payment = DedupKey::Payment {
            payment_id: format!("pay_purge_{run}"),
            status_version: 1,
        };
        record(payment).await;
        for key in events(3) {
            record(key).await;
        }
        // Four recorded: expired, but not purged yet.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(rows(format!("event:evt_purge_{run}_%")).await, 3);
        // The fifth starts a purge in the background.
        record(events(4).pop().unwrap()).await;
        let started = std::time::Instant::now();
        while rows(format!("event:evt_purge_{run}_%")).await > 1 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "expired event rows still there 10 s after the fifth delivery"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for i in 0..3 {
            assert_eq!(rows(format!("event:evt_purge_{run}_{i}")).await, 0);
        }
        assert_eq!(rows(format!("payment:pay_purge_{run}")).await, 1);
    }

    #[tokio::test]
    async fn drifted_events_postgres_store() {
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        drifted_events_are_handed_over_in_order("postgres", store(&url).await).await;
    }

    /// The plaintext server (`LUXCORE_TEST_POSTGRES_URL`, `postgres` user) or the TLS-only
    /// role (`LUXCORE_TEST_POSTGRES_TLS_URL`, `sslmode=verify-full` with the test CA).
    fn server(tls: bool) -> (&'static str, String, PostgresTls) {
        if tls {
            let url = required_env("LUXCORE_TEST_POSTGRES_TLS_URL");
            (
                "postgres over TLS",
                url,
                PostgresTls::new().root_ca_pem(test_ca::ca()),
            )
        } else {
            let url = required_env("LUXCORE_TEST_POSTGRES_URL");
            ("postgres", url, PostgresTls::new())
        }
    }

    async fn four_instances(tls: bool) {
        let (name, url, tls) = server(tls);
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(store_with(&url, tls.clone()).await);
        }
        run_load(name, processors(stores), LoadConfig::ci_or_full()).await;
    }

    async fn outage_answers_503_and_loses_nothing(tls: bool) {
        let (name, url, tls) = server(tls);
        let (proxy, proxied) = Proxy::in_front_of(&url).await;
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(store_with(&proxied, tls.clone()).await);
        }
        let mut config = LoadConfig::sized(400, 40);
        config.outage = Some((proxy, Duration::from_millis(1_500)));
        run_load(&format!("{name} outage"), processors(stores), config).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_instances_postgres_store() {
        four_instances(false).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_instances_postgres_store_over_tls() {
        four_instances(true).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_outage_answers_503_and_loses_nothing() {
        outage_answers_503_and_loses_nothing(false).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_outage_over_tls_answers_503_and_loses_nothing() {
        outage_answers_503_and_loses_nothing(true).await;
    }

    /// Issue 23.1: the claim's 50 ms `lock_timeout` is the claim's alone. Another session
    /// holds the merchant's account row (`SELECT ... FOR UPDATE`) for 300 ms while each of
    /// 10 deliveries updates it in the handler: every delivery waits for the row, as the
    /// merchant's session settings say, and is processed (before the fix: 10 of 10
    /// answered 500 with SQLSTATE 55P03 and the balance stayed 0).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn handler_statements_keep_the_sessions_lock_timeout() {
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        let store = store(&url).await.timeout(Duration::from_secs(5));
        let processor =
            WebhookProcessor::new(WebhookVerifier::new(SECRET), store.clone()).lease(LEASE);
        let (setup, _) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .map(|(client, connection)| (client, tokio::spawn(connection)))
            .unwrap();
        let account = format!("acct_{}", run_id());
        setup
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS luxcore_test_accounts (
                     id text PRIMARY KEY, balance bigint NOT NULL)",
            )
            .await
            .unwrap();
        setup
            .execute(
                "INSERT INTO luxcore_test_accounts (id, balance) VALUES ($1, 0)",
                &[&account],
            )
            .await
            .unwrap();
        let run = run_id();
        let mut failed = Vec::new();
        for i in 0..10 {
            // Another session locks the account row for 300 ms.
            setup
                .batch_execute(&format!(
                    "BEGIN; SELECT balance FROM luxcore_test_accounts WHERE id = '{account}' FOR UPDATE"
                ))
                .await
                .unwrap();
            let release = async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                setup.batch_execute("COMMIT").await.unwrap();
            };
            let body = payment_body(&format!("evt_{run}_{i}"), &format!("pay_{run}_{i}"), 1);
            let headers = signed_headers(SECRET, &body);
            let account = &account;
            let deliver = processor.handle_in_transaction(
                &headers,
                &body,
                |_event, tx: Transaction| async move {
                    tx.execute(
                        "UPDATE luxcore_test_accounts SET balance = balance + 1 WHERE id = $1",
                        &[account],
                    )
                    .await
                    .map_err(|e| format!("{:?}", e.code()))?;
                    let timeout: String = tx
                        .query_one("SHOW lock_timeout", &[])
                        .await
                        .map_err(|e| e.to_string())?
                        .get(0);
                    if timeout != "0" {
                        return Err(format!("the handler runs with lock_timeout = {timeout}"));
                    }
                    Ok(tx)
                },
            );
            let (outcome, ()) = tokio::join!(deliver, release);
            if !matches!(outcome, Outcome::Processed { .. }) {
                failed.push(format!("delivery {i}: {} {outcome}", outcome.status()));
            }
        }
        assert!(
            failed.is_empty(),
            "{} of 10 failed: {failed:#?}",
            failed.len()
        );
        let balance: i64 = setup
            .query_one(
                "SELECT balance FROM luxcore_test_accounts WHERE id = $1",
                &[&account],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(balance, 10);
    }

    /// Issue 23.2: a duplicate of an event already applied answers 200 (skipped) even while
    /// another delivery of the same key holds the row's lock; before, `FOR UPDATE NOWAIT`
    /// came first and it answered 409.
    #[tokio::test]
    async fn applied_duplicates_are_skipped_while_the_row_is_locked() {
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        let processor =
            WebhookProcessor::new(WebhookVerifier::new(SECRET), store(&url).await).lease(LEASE);
        let run = run_id();
        let payment = format!("pay_{run}_dup");
        let deliver = |version: i64| {
            let body = payment_body(&format!("evt_{run}_{version}"), &payment, version);
            let processor = &processor;
            async move {
                processor
                    .handle_in_transaction(
                        &signed_headers(SECRET, &body),
                        &body,
                        |_, tx: Transaction| async move { Ok::<_, String>(tx) },
                    )
                    .await
            }
        };
        assert!(matches!(deliver(2).await, Outcome::Processed { .. }));
        let (other, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let key = DedupKey::Payment {
            payment_id: payment.clone(),
            status_version: 2,
        }
        .storage_key();
        other
            .batch_execute(&format!(
                "BEGIN; SELECT 1 FROM luxcore_webhook_keys WHERE key = '{key}' FOR UPDATE"
            ))
            .await
            .unwrap();
        for version in [2, 1] {
            let outcome = deliver(version).await;
            assert!(
                matches!(outcome, Outcome::Skipped { .. }),
                "v{version} while the row is locked: {outcome}"
            );
            assert_eq!(outcome.status(), 200);
        }
        // A new version waits for the row: busy while it is held, processed after.
        assert!(matches!(deliver(3).await, Outcome::Busy { .. }));
        other.batch_execute("COMMIT").await.unwrap();
        assert!(matches!(deliver(3).await, Outcome::Processed { .. }));
    }

    /// The transactional variant: the merchant's ledger row and the record commit together,
    /// so across handler failures, concurrent instances and a store outage every
    /// (payment, version) is applied exactly once, in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_transactional_exactly_once_across_an_outage() {
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        let (proxy, proxied) = Proxy::in_front_of(&url).await;
        let setup = store(&url).await;
        let client = setup.pool().get().await.unwrap();
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS luxcore_test_ledger (
                     seq bigserial PRIMARY KEY, payment text NOT NULL, version bigint NOT NULL)",
            )
            .await
            .unwrap();
        let mut instances = Vec::new();
        for _ in 0..4 {
            instances.push(Arc::new(
                WebhookProcessor::new(WebhookVerifier::new(SECRET), store(&proxied).await)
                    .lease(LEASE),
            ));
        }
        let run = run_id();
        let (deliveries, last) = workload(&run, 400, 40);
        let total = deliveries.len();
        let queue = Arc::new(Mutex::new(deliveries.into_iter().collect::<VecDeque<_>>()));
        let acked = Arc::new(AtomicUsize::new(0));
        let unavailable = Arc::new(AtomicUsize::new(0));
        let outage = {
            let (acked, proxy, unavailable) = (acked.clone(), proxy.clone(), unavailable.clone());
            tokio::spawn(async move {
                while acked.load(Ordering::SeqCst) < total / 3 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let before = unavailable.load(Ordering::SeqCst);
                proxy.cut();
                tokio::time::sleep(Duration::from_millis(1_500)).await;
                proxy.restore();
                unavailable.load(Ordering::SeqCst) - before
            })
        };
        let mut workers = Vec::new();
        for _ in 0..12 {
            let (queue, acked, unavailable, instances) = (
                queue.clone(),
                acked.clone(),
                unavailable.clone(),
                instances.clone(),
            );
            workers.push(tokio::spawn(async move {
                while acked.load(Ordering::SeqCst) < total {
                    let Some(delivery) = lock(&queue).pop_front() else {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        continue;
                    };
                    let processor = &instances[rand::random_range(0..instances.len())];
                    let headers = signed_headers(SECRET, &delivery.body);
                    let outcome = processor
                        .handle_in_transaction(&headers, &delivery.body, |event, tx: Transaction| async move {
                            tx.execute(
                                "INSERT INTO luxcore_test_ledger (payment, version) VALUES ($1, $2)",
                                &[&event.payment_id().unwrap(), &event.status_version().unwrap()],
                            )
                            .await
                            .map_err(|e| e.to_string())?;
                            if rand::random_bool(0.1) {
                                // After the merchant's write: rolled back with the record.
                                return Err("random handler failure".to_owned());
                            }
                            Ok(tx)
                        })
                        .await;
                    if matches!(outcome, Outcome::StoreUnavailable { .. }) {
                        unavailable.fetch_add(1, Ordering::SeqCst);
                    }
                    if outcome.is_acknowledged() {
                        acked.fetch_add(1, Ordering::SeqCst);
                    } else {
                        tokio::time::sleep(Duration::from_millis(3)).await;
                        lock(&queue).push_back(delivery);
                    }
                }
            }));
        }
        tokio::time::timeout(Duration::from_secs(180), async {
            for worker in workers {
                worker.await.unwrap();
            }
        })
        .await
        .expect("all deliveries acknowledged");
        assert!(outage.await.unwrap() > 0, "the outage produced no 503");
        let rows = client
            .query(
                "SELECT payment, version FROM luxcore_test_ledger WHERE payment LIKE $1 ORDER BY seq",
                &[&format!("pay_{run}_%")],
            )
            .await
            .unwrap();
        let mut ledger: HashMap<String, Vec<i64>> = HashMap::new();
        for row in rows {
            ledger.entry(row.get(0)).or_default().push(row.get(1));
        }
        for (payment, final_version) in &last {
            let applied = &ledger[payment];
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
}

#[cfg(feature = "postgres-sqlx")]
mod sqlx_store {
    use super::*;
    use luxcore_ext::webhooks::SqlxStore;

    async fn store(url: &str) -> SqlxStore {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_millis(500))
            .connect(url)
            .await
            .expect("postgres reachable");
        let store = SqlxStore::new(pool).timeout(Duration::from_millis(500));
        store.migrate().await.expect("schema applied");
        store
    }

    #[tokio::test]
    async fn drifted_events_sqlx_store() {
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        drifted_events_are_handed_over_in_order("sqlx", store(&url).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_instances_sqlx_store() {
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(store(&url).await);
        }
        run_load("sqlx", processors(stores), LoadConfig::ci_or_full()).await;
    }
}

// ---------------------------------------------------------------------------------------
// luxcore-mock delivers; the handler fails once; the mock's retry is applied, once.
// ---------------------------------------------------------------------------------------

#[cfg(feature = "axum")] // the SDK's axum route
#[tokio::test]
async fn failed_handler_answers_500_and_the_mock_retry_is_applied_once() {
    use luxcore_ext::api::enums::WebhookEventType;
    use luxcore_ext::client::LuxCore;
    use luxcore_ext::payments::PaymentRequest;
    use luxcore_ext::webhooks::axum::route;
    use luxcore_ext::{Currency, PaymentMethod};
    use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};

    let server = MockServer::start(
        MockConfig::default()
            .without_rate_limits()
            .with_webhook_retry_base(Duration::from_millis(50)),
    )
    .await
    .unwrap();
    let client = LuxCore::builder()
        .base_url(server.base_url())
        .api_key(DEFAULT_API_KEY)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
    let webhook = client
        .webhook_endpoints()
        .create_for(url, [WebhookEventType::PaymentCompleted])
        .await
        .unwrap();
    let processor = Arc::new(WebhookProcessor::new(
        WebhookVerifier::new(webhook.secret.expect("secret issued")),
        MemoryStore::new(),
    ));
    let calls = Arc::new(AtomicUsize::new(0));
    let applied = Arc::new(Mutex::new(Vec::<(String, i64)>::new()));
    let statuses = Arc::new(Mutex::new(Vec::<u16>::new()));
    let handler = {
        let (calls, applied) = (calls.clone(), applied.clone());
        move |event: Event| {
            let (calls, applied) = (calls.clone(), applied.clone());
            async move {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Err("database down");
                }
                let key = (
                    event.payment_id().unwrap().to_owned(),
                    event.status_version().unwrap(),
                );
                lock(&applied).push(key);
                Ok(())
            }
        }
    };
    let app = axum::Router::new()
        .route("/webhooks", route(processor, handler))
        .layer(axum::middleware::map_response({
            let statuses = statuses.clone();
            move |response: axum::response::Response| {
                lock(&statuses).push(response.status().as_u16());
                std::future::ready(response)
            }
        }));
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });

    let request = PaymentRequest::deposit(
        luxcore_ext::Money::new(150_000, Currency::ARS),
        PaymentMethod::Card,
        "fail_once",
    )
    .build()
    .unwrap();
    let payment = client.payments().create(request).await.unwrap();
    let id = payment.into_inner().id.unwrap();
    server.complete_payment(&id).await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    while lock(&applied).is_empty() {
        assert!(Instant::now() < deadline, "the retry was never applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Leave time for any further (wrong) redelivery to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(*lock(&applied), [(id, 2)], "applied exactly once");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "failed once, then applied");
    assert_eq!(
        *lock(&statuses),
        [500, 200],
        "5xx first, then 2xx; no more deliveries"
    );
    serving.abort();
}

// ---------------------------------------------------------------------------------------
// Real contention on one store: many tasks, released together by a barrier, deliver the
// same event to processors sharing one store. With `MemoryStore` the handler runs exactly
// once; with a deliberately non-atomic store (check, then set) the same scenario runs it
// more than once, which proves the scenario can catch a store that is not atomic.
// ---------------------------------------------------------------------------------------

/// Tasks delivering the same event at once.
const TASKS: usize = 64;

/// One body per kind of key: a payment version, an event id, a legacy body hash.
fn bodies() -> [(&'static str, Vec<u8>); 3] {
    [
        (
            "payment",
            br#"{"id":"evt_1","event":"payment.completed","data":{"id":"pay_1","amount":150000,"currency":"ARS","status":"completed","status_version":3}}"#.to_vec(),
        ),
        (
            "event",
            br#"{"id":"evt_t","event":"webhook.test","data":{}}"#.to_vec(),
        ),
        (
            "legacy body",
            br#"{"event":"payment.completed","payment":{"id":"pay_9","amount":1,"currency":"ARS","status":"completed"}}"#.to_vec(),
        ),
    ]
}

/// What one contended delivery round produced.
#[derive(Debug, Default)]
struct Round {
    handler_runs: usize,
    processed: usize,
    skipped: usize,
    busy_answers: usize,
    /// The kind of the key the deliveries were de-duplicated by.
    key_kind: &'static str,
}

/// [`TASKS`] tasks, each with its own processor over the shared `store`, wait on one
/// barrier, then deliver `body` at the same moment. A `Busy` answer is redelivered (as
/// LuxCore does after a retryable status) until the delivery is acknowledged.
async fn deliver_concurrently<S: WebhookStore + 'static>(store: Arc<S>, body: &[u8]) -> Round {
    let runs = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let processor =
            WebhookProcessor::new(WebhookVerifier::new(SECRET), Arc::clone(&store)).lease(LEASE);
        let (runs, barrier, body) = (Arc::clone(&runs), Arc::clone(&barrier), body.to_vec());
        tasks.spawn(async move {
            let headers = signed_headers(SECRET, &body);
            barrier.wait().await;
            let mut busy = 0;
            loop {
                let runs = Arc::clone(&runs);
                let outcome = processor
                    .handle(&headers, &body, |_event| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        // Hold the claim a while, so that others find it taken.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<(), Infallible>(())
                    })
                    .await;
                match outcome {
                    Outcome::Busy { .. } => {
                        // Answered so that LuxCore redelivers.
                        assert!(outcome.is_retryable() && !outcome.is_acknowledged());
                        busy += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    other => {
                        assert!(
                            other.is_acknowledged() && !other.is_retryable(),
                            "{other:?}"
                        );
                        return (other, busy);
                    }
                }
            }
        });
    }
    let mut round = Round::default();
    while let Some(joined) = tasks.join_next().await {
        let (outcome, busy) = joined.unwrap();
        round.busy_answers += busy;
        round.key_kind = match outcome.key() {
            Some(DedupKey::Payment { .. }) => "payment",
            Some(DedupKey::Event { .. }) => "event",
            Some(DedupKey::Body { .. }) => "legacy body",
            _ => panic!("unexpected outcome {outcome:?}"),
        };
        match outcome {
            Outcome::Processed { .. } => round.processed += 1,
            Outcome::Skipped { .. } => round.skipped += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    round.handler_runs = runs.load(Ordering::SeqCst);
    round
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn contended_deliveries_run_the_handler_exactly_once() {
    for (what, body) in bodies() {
        let store = Arc::new(MemoryStore::new());
        let round = tokio::time::timeout(
            Duration::from_secs(30),
            deliver_concurrently(Arc::clone(&store), &body),
        )
        .await
        .expect("every delivery is acknowledged");
        assert_eq!(round.handler_runs, 1, "{what}: {round:?}");
        assert_eq!(round.processed, 1, "{what}: {round:?}");
        assert_eq!(round.skipped, TASKS - 1, "{what}: {round:?}");
        assert_eq!(store.len(), 1, "{what}");
        assert_eq!(round.key_kind, what, "{round:?}");
        // A later redelivery is a duplicate too.
        let again = deliver_concurrently(store, &body).await;
        assert_eq!(again.handler_runs, 0, "{what}: {again:?}");
        assert_eq!(again.skipped, TASKS, "{what}: {again:?}");
    }
}

/// A deliberately broken store: `begin` reads the key, yields to other tasks, then writes
/// the claim — the check and the set are not one atomic step.
#[derive(Default)]
struct CheckThenSet {
    /// Storage key → (applied version, claimed).
    entries: Mutex<HashMap<String, (Option<i64>, bool)>>,
}

impl CheckThenSet {
    fn update(&self, key: &DedupKey, change: impl FnOnce(&mut (Option<i64>, bool))) {
        change(
            self.entries
                .lock()
                .unwrap()
                .entry(key.storage_key())
                .or_default(),
        );
    }
}

impl WebhookStore for CheckThenSet {
    async fn begin(
        &self,
        key: &DedupKey,
        _: &ClaimToken,
        _: Duration,
    ) -> Result<Begin, StoreError> {
        let (applied, claimed) = self
            .entries
            .lock()
            .unwrap()
            .get(&key.storage_key())
            .copied()
            .unwrap_or_default();
        if applied.is_some_and(|a| a >= key.version()) {
            return Ok(Begin::Done);
        }
        if claimed {
            return Ok(Begin::Busy);
        }
        // The race window: another task can check the same key here.
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.update(key, |entry| entry.1 = true);
        Ok(Begin::Claimed)
    }

    async fn commit(&self, key: &DedupKey, _: &ClaimToken) -> Result<(), StoreError> {
        let version = key.version();
        self.update(key, |entry| {
            *entry = (Some(entry.0.map_or(version, |a| a.max(version))), false);
        });
        Ok(())
    }

    async fn release(&self, key: &DedupKey, _: &ClaimToken) -> Result<(), StoreError> {
        self.update(key, |entry| entry.1 = false);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn the_same_scenario_catches_a_store_that_is_not_atomic() {
    for (what, body) in bodies() {
        let round = tokio::time::timeout(
            Duration::from_secs(30),
            deliver_concurrently(Arc::new(CheckThenSet::default()), &body),
        )
        .await
        .expect("every delivery is acknowledged");
        assert!(
            round.handler_runs > 1,
            "{what}: a check-then-set store should let several deliveries run: {round:?}"
        );
    }
}
