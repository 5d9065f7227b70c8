//! `WebhookProcessor` overhead per event: verify + parse + claim + record around a no-op
//! handler, for each store. Memory always; Redis with `--features redis` and
//! `LUXCORE_TEST_REDIS_URL`; PostgreSQL with `--features postgres` and
//! `LUXCORE_TEST_POSTGRES_URL` (a store whose variable is unset is left out, and said so).
//!
//! ```text
//! cargo bench -p luxcore-ext --features redis,postgres --bench webhook_processor
//! ```
//!
//! `new event` is the full path (a fresh payment version each time: claim, handler,
//! record); `duplicate` is a redelivery of an applied event (claim answered "done").

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use luxcore_ext::auth::webhook::{HEADER_SIGNATURE, HEADER_TIMESTAMP, sign_v1};
use luxcore_ext::webhooks::{
    MemoryStore, Outcome, WebhookProcessor, WebhookStore, WebhookVerifier,
};
use secrecy::SecretString;

const SECRET: &str = "whsec_bench";

fn delivery(run: &str, payment: u64, version: u64) -> (HeaderMap, Vec<u8>) {
    let body = serde_json::to_vec(&serde_json::json!({
        "id": format!("evt_{run}_{payment}_{version}"), "event": "payment.completed",
        "merchant_id": 123, "created_at": "2026-05-01T10:00:00Z",
        "data": {"id": format!("pay_{run}_{payment}"), "amount": 150000, "currency": "ARS",
                 "status": "completed", "type": "deposit", "fee": 6750, "net_amount": 143250,
                 "status_version": version}
    }))
    .unwrap();
    let now = luxcore_auth::unix_now();
    let mut headers = HeaderMap::new();
    let signature = sign_v1(&SecretString::from(SECRET), now, &body);
    headers.insert(HEADER_SIGNATURE, signature.parse().unwrap());
    headers.insert(HEADER_TIMESTAMP, now.to_string().parse().unwrap());
    (headers, body)
}

/// Signed deliveries of payments never seen before (signed outside the measurement).
struct Fresh {
    run: String,
    next: std::sync::atomic::AtomicU64,
}

impl Default for Fresh {
    fn default() -> Self {
        Self {
            run: hex::encode(rand::random::<[u8; 4]>()),
            next: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl Fresh {
    fn take(&self, count: u64) -> Vec<(HeaderMap, Vec<u8>)> {
        let first = self
            .next
            .fetch_add(count, std::sync::atomic::Ordering::Relaxed);
        (first..first + count)
            .map(|i| delivery(&self.run, i, 1))
            .collect()
    }
}

async fn noop(_: luxcore_ext::webhooks::Event) -> Result<(), std::convert::Infallible> {
    Ok(())
}

fn bench_store<S: WebhookStore + 'static>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    store: S,
) {
    let processor = std::sync::Arc::new(WebhookProcessor::new(WebhookVerifier::new(SECRET), store));
    let fresh = Fresh::default();
    let mut group = c.benchmark_group(format!("webhook_processor/{name}"));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("new event", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let processor = processor.clone();
            let deliveries = fresh.take(iters);
            async move {
                let start = Instant::now();
                for (headers, body) in &deliveries {
                    let outcome = processor.handle(headers, body, noop).await;
                    assert!(matches!(outcome, Outcome::Processed { .. }), "{outcome}");
                }
                start.elapsed()
            }
        });
    });
    let (headers, body) = delivery(&fresh.run, u64::MAX, 1);
    rt.block_on(processor.handle(&headers, &body, noop));
    group.bench_function("duplicate", |b| {
        b.to_async(rt).iter(|| async {
            let outcome = processor.handle(&headers, &body, noop).await;
            assert!(matches!(outcome, Outcome::Skipped { .. }), "{outcome}");
            black_box(outcome)
        });
    });
    group.finish();
}

/// `handle_in_transaction` with a handler that only returns the transaction: the record
/// and the commit are the whole cost (one durable commit instead of two).
#[cfg(feature = "postgres")]
fn bench_transactional(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    store: luxcore_ext::webhooks::PostgresStore,
) {
    use luxcore_ext::webhooks::Transaction;
    let processor = std::sync::Arc::new(WebhookProcessor::new(WebhookVerifier::new(SECRET), store));
    let fresh = Fresh::default();
    let mut group = c.benchmark_group("webhook_processor/postgres transactional");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("new event", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let processor = processor.clone();
            let deliveries = fresh.take(iters);
            async move {
                let start = Instant::now();
                for (headers, body) in &deliveries {
                    let outcome = processor
                        .handle_in_transaction(headers, body, |_, tx: Transaction| async move {
                            Ok::<_, std::convert::Infallible>(tx)
                        })
                        .await;
                    assert!(matches!(outcome, Outcome::Processed { .. }), "{outcome}");
                }
                start.elapsed()
            }
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    bench_store(c, &rt, "memory", MemoryStore::new());
    #[cfg(feature = "redis")]
    match std::env::var("LUXCORE_TEST_REDIS_URL") {
        Ok(url) => {
            let store = rt
                .block_on(luxcore_ext::webhooks::RedisStore::connect(&url))
                .expect("redis reachable");
            bench_store(c, &rt, "redis", store);
        }
        Err(_) => eprintln!("LUXCORE_TEST_REDIS_URL unset: redis store not measured"),
    }
    #[cfg(feature = "postgres")]
    match std::env::var("LUXCORE_TEST_POSTGRES_URL") {
        Ok(url) => {
            let store = luxcore_ext::webhooks::PostgresStore::connect(&url, 4).unwrap();
            rt.block_on(store.migrate()).expect("postgres reachable");
            bench_store(c, &rt, "postgres", store.clone());
            bench_transactional(c, &rt, store);
        }
        Err(_) => eprintln!("LUXCORE_TEST_POSTGRES_URL unset: postgres store not measured"),
    }
}

criterion_group!(webhook_processor, benches);
criterion_main!(webhook_processor);
