//! Issue 23.3: after a store failure between a handler and its record, an older version of
//! a payment can be handed to the handler after a newer one (documented on
//! `WebhookProcessor`, "When recording fails, an older version can run after a newer one").
//!
//! The store is cut between handler and record by a wrapper whose `commit` fails once for
//! one key, as an unreachable store would (the claim is left to its lease, as when the
//! record never reaches the store). With payment versions 1, 2 (= v) and 3 (= v+1):
//!
//! 1. v1 is processed;
//! 2. v3's handler succeeds, its record fails: 503, the store still holds v1;
//! 3. v2 arrives late: 409 until v3's lease runs out, then claimed and processed;
//! 4. LuxCore redelivers v3 (it got a 503): processed again.
//!
//! (a) a handler that applies what it gets sees 1, 3, 2, 3: its data goes back from v3 to
//! v2 and v3 runs twice; (b) a handler that compares `status_version` with the version
//! kept in its own data ignores v2 and the second v3, and never leaves v3. The other order
//! (v2's record fails, v3 is applied, v2 is redelivered) is skipped by the store.
//!
//! With PostgreSQL (`postgres` feature, `LUXCORE_TEST_POSTGRES_URL`), the same sequence
//! through `handle_in_transaction`, the store cut (a TCP proxy) after the handler's write:
//! the write is rolled back with the record, so the merchant's table holds 1, 2, 3.

mod cut_proxy;

mod support;
use support::{lock, signed_headers};

use std::convert::Infallible;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use luxcore_ext::webhooks::{
    Begin, ClaimToken, DedupKey, Event, MemoryStore, Outcome, StoreError, WebhookProcessor,
    WebhookStore, WebhookVerifier,
};

const SECRET: &str = "whsec_version_regression_tests";
/// Short, so that step 3 waits only this long for the failed delivery's claim.
const LEASE: Duration = Duration::from_millis(300);

/// The delivery of `payment_id` at `version` (its event id made of both).
fn payment_body(payment_id: &str, version: i64) -> Vec<u8> {
    support::payment_body(&format!("evt_{payment_id}_{version}"), payment_id, version)
}

/// A store whose `commit` (the record) fails once for one payment version, as when the
/// store becomes unreachable right after the handler: nothing recorded, the claim left to
/// its lease.
struct FailRecordOnce<S> {
    inner: S,
    fail: Mutex<Option<DedupKey>>,
}

impl<S: WebhookStore> WebhookStore for FailRecordOnce<S> {
    async fn begin(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        self.inner.begin(key, token, lease).await
    }

    async fn commit(&self, key: &DedupKey, token: &ClaimToken) -> Result<(), StoreError> {
        let cut = {
            let mut fail = lock(&self.fail);
            fail.take_if(|failing| failing == key).is_some()
        };
        if cut {
            return Err(StoreError::Unavailable(
                "connection reset (cut by the test)".into(),
            ));
        }
        self.inner.commit(key, token).await
    }

    async fn release(&self, key: &DedupKey, token: &ClaimToken) -> Result<(), StoreError> {
        self.inner.release(key, token).await
    }
}

fn version(payment_id: &str, status_version: i64) -> DedupKey {
    DedupKey::Payment {
        payment_id: payment_id.to_owned(),
        status_version,
    }
}

/// The merchant: the versions its handler was given, and the version its data holds
/// after each run.
#[derive(Default)]
struct Merchant {
    given: Mutex<Vec<i64>>,
    holds: Mutex<Option<i64>>,
    history: Mutex<Vec<i64>>,
}

impl Merchant {
    /// Applies `event`; with `compare`, only when its version is above the one held.
    fn apply(&self, event: &Event, compare: bool) {
        let version = event.status_version().unwrap();
        lock(&self.given).push(version);
        let mut holds = lock(&self.holds);
        if !compare || holds.is_none_or(|held| version > held) {
            *holds = Some(version);
        }
        lock(&self.history).push(holds.unwrap());
    }

    fn given(&self) -> Vec<i64> {
        lock(&self.given).clone()
    }

    fn holds(&self) -> Option<i64> {
        *lock(&self.holds)
    }

    fn history(&self) -> Vec<i64> {
        lock(&self.history).clone()
    }
}

/// Delivers `body` once through `processor` with the merchant's handler.
async fn deliver<S: WebhookStore>(
    processor: &WebhookProcessor<S>,
    merchant: &Merchant,
    body: &[u8],
    compare: bool,
) -> Outcome {
    processor
        .handle(&signed_headers(SECRET, body), body, |event| async move {
            merchant.apply(&event, compare);
            Ok::<_, Infallible>(())
        })
        .await
}

/// Redelivers `body` every 20 ms while it is answered 409 (as LuxCore does); the final
/// outcome and the number of 409s.
async fn deliver_until_not_busy<S: WebhookStore>(
    processor: &WebhookProcessor<S>,
    merchant: &Merchant,
    body: &[u8],
    compare: bool,
) -> (Outcome, usize) {
    let started = Instant::now();
    let mut busy = 0;
    loop {
        let outcome = deliver(processor, merchant, body, compare).await;
        if !matches!(outcome, Outcome::Busy { .. }) {
            return (outcome, busy);
        }
        busy += 1;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still busy after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Steps 1–4 of the module docs with a fresh store; returns the merchant, and the version
/// its data held right after step 3 (v2 applied, v3 not yet redelivered).
async fn v2_late_after_v3s_record_failed(compare: bool) -> (Merchant, Option<i64>) {
    let payment = "pay_regression";
    let store = FailRecordOnce {
        inner: MemoryStore::new(),
        fail: Mutex::new(Some(version(payment, 3))),
    };
    let processor = WebhookProcessor::new(WebhookVerifier::new(SECRET), store).lease(LEASE);
    let merchant = Merchant::default();
    let [v1, v2, v3] = [1, 2, 3].map(|v| payment_body(payment, v));

    let first = deliver(&processor, &merchant, &v1, compare).await;
    assert!(matches!(first, Outcome::Processed { .. }), "v1: {first}");
    // v3's handler succeeds, its record does not reach the store: 503.
    let cut = deliver(&processor, &merchant, &v3, compare).await;
    assert!(matches!(cut, Outcome::StoreUnavailable { .. }), "v3: {cut}");
    assert_eq!(cut.status(), 503);
    assert_eq!(
        processor.store().inner.applied("payment:pay_regression"),
        Some(1)
    );
    // v2, late: 409 while v3's claim lasts, then the store (at v1) lets it run.
    let (late, busy) = deliver_until_not_busy(&processor, &merchant, &v2, compare).await;
    assert!(
        busy > 0,
        "v3's claim should hold the payment until its lease ends"
    );
    assert!(matches!(late, Outcome::Processed { .. }), "late v2: {late}");
    let after_v2 = merchant.holds();
    // LuxCore redelivers v3 (it was answered 503): the store (at v2) runs it again.
    let again = deliver(&processor, &merchant, &v3, compare).await;
    assert!(
        matches!(again, Outcome::Processed { .. }),
        "v3 again: {again}"
    );
    // From here on the store is at v3: v2 and v3 are skipped.
    for body in [&v2, &v3] {
        let outcome = deliver(&processor, &merchant, body, compare).await;
        assert!(matches!(outcome, Outcome::Skipped { .. }), "{outcome}");
    }
    assert_eq!(
        processor.store().inner.applied("payment:pay_regression"),
        Some(3)
    );
    (merchant, after_v2)
}

/// (a) The plain handler is handed v2 after v3, and its data goes back to v2 until v3 is
/// redelivered.
#[tokio::test]
async fn a_failed_record_lets_an_older_version_run_after_a_newer_one() {
    let (merchant, after_v2) = v2_late_after_v3s_record_failed(false).await;
    assert_eq!(merchant.given(), [1, 3, 2, 3], "v2 after v3, and v3 twice");
    assert_eq!(after_v2, Some(2), "the data went back from v3 to v2");
    assert_eq!(merchant.history(), [1, 3, 2, 3]);
}

/// (b) A handler that compares the event's `status_version` with its own is handed the
/// same sequence but ignores v2 and the second v3: its data never leaves v3.
#[tokio::test]
async fn a_handler_comparing_versions_ends_on_the_newest() {
    let (merchant, after_v2) = v2_late_after_v3s_record_failed(true).await;
    assert_eq!(
        merchant.given(),
        [1, 3, 2, 3],
        "the same deliveries reach it"
    );
    assert_eq!(after_v2, Some(3), "v2 ignored");
    assert_eq!(
        merchant.history(),
        [1, 3, 3, 3],
        "never back to an older version"
    );
    assert_eq!(merchant.holds(), Some(3));
}

/// The other order is harmless: v2's record fails, v3 is applied and recorded, and the
/// redelivery of v2 is skipped without running the handler.
#[tokio::test]
async fn a_failed_record_of_the_older_version_is_skipped_after_the_newer() {
    let payment = "pay_other_order";
    let store = FailRecordOnce {
        inner: MemoryStore::new(),
        fail: Mutex::new(Some(version(payment, 2))),
    };
    let processor = WebhookProcessor::new(WebhookVerifier::new(SECRET), store).lease(LEASE);
    let merchant = Merchant::default();
    let [v2, v3] = [2, 3].map(|v| payment_body(payment, v));
    let cut = deliver(&processor, &merchant, &v2, false).await;
    assert!(matches!(cut, Outcome::StoreUnavailable { .. }), "v2: {cut}");
    let (newer, _) = deliver_until_not_busy(&processor, &merchant, &v3, false).await;
    assert!(matches!(newer, Outcome::Processed { .. }), "v3: {newer}");
    let redelivered = deliver(&processor, &merchant, &v2, false).await;
    assert!(
        matches!(redelivered, Outcome::Skipped { .. }),
        "{redelivered}"
    );
    assert_eq!(merchant.given(), [2, 3]);
    assert_eq!(merchant.holds(), Some(3));
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use cut_proxy::Proxy;
    use luxcore_ext::webhooks::{PostgresStore, Transaction};

    /// (c) `handle_in_transaction`: the handler writes the merchant's table, then the
    /// store is cut before the record. The write is rolled back with it, so the late v2
    /// and the redelivered v3 leave the table at 1, 2, 3, in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn in_a_transaction_a_failed_record_rolls_the_newer_version_back() {
        let url = std::env::var("LUXCORE_TEST_POSTGRES_URL").expect(
            "LUXCORE_TEST_POSTGRES_URL is not set: this test needs a real server (run \
             `cargo xtask test`, which starts one, or set it)",
        );
        let (proxy, proxied) = Proxy::in_front_of(&url).await;
        let store = PostgresStore::connect(&proxied, 4)
            .expect("valid URL")
            .timeout(Duration::from_millis(500));
        store.migrate().await.expect("postgres reachable");
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS luxcore_test_regression (
                     seq bigserial PRIMARY KEY, payment text NOT NULL, version bigint NOT NULL)",
            )
            .await
            .unwrap();
        let processor = WebhookProcessor::new(WebhookVerifier::new(SECRET), store).lease(LEASE);
        let payment = format!("pay_tx_{}", hex::encode(rand::random::<[u8; 4]>()));
        let deliver = |version: i64, cut: bool| {
            let (processor, proxy, payment) = (&processor, &proxy, &payment);
            async move {
                let body = payment_body(payment, version);
                let handler =
                    |event: Event, tx: Transaction| async move {
                        tx.execute(
                        "INSERT INTO luxcore_test_regression (payment, version) VALUES ($1, $2)",
                        &[&event.payment_id().unwrap(), &event.status_version().unwrap()],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                        if cut {
                            // The store goes down between the handler and the record.
                            proxy.cut();
                        }
                        Ok::<_, String>(tx)
                    };
                let outcome = processor
                    .handle_in_transaction(&signed_headers(SECRET, &body), &body, handler)
                    .await;
                proxy.restore();
                outcome
            }
        };
        let table = async || -> Vec<i64> {
            client
                .query(
                    "SELECT version FROM luxcore_test_regression WHERE payment = $1 ORDER BY seq",
                    &[&payment],
                )
                .await
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect()
        };
        assert!(matches!(deliver(1, false).await, Outcome::Processed { .. }));
        let cut = deliver(3, true).await;
        assert_eq!(cut.status(), 503, "v3 with the store cut: {cut}");
        assert_eq!(table().await, [1], "v3's write rolled back with its record");
        // The late v2 (409 while the server has not yet rolled v3's transaction back).
        let started = Instant::now();
        let late = loop {
            let outcome = deliver(2, false).await;
            if !matches!(
                outcome,
                Outcome::Busy { .. } | Outcome::StoreUnavailable { .. }
            ) {
                break outcome;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "{outcome}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(matches!(late, Outcome::Processed { .. }), "late v2: {late}");
        assert!(matches!(deliver(3, false).await, Outcome::Processed { .. }));
        assert!(matches!(deliver(2, false).await, Outcome::Skipped { .. }));
        assert_eq!(table().await, [1, 2, 3], "in order, each once");
    }
}
