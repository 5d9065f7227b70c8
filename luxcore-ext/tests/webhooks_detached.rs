//! Issue 29 (items 1 and 2): deliveries that finish once started, graceful shutdown, and
//! the transaction handle that cannot end its transaction.
//!
//! * A sender that hangs up 100 ms into a 2 s handler (the axum routes, a real HTTP
//!   server and client): the handler finishes, the record is written, a redelivery while
//!   it runs answers 409 and the one after answers 200 without running the handler again —
//!   with the memory store, and with PostgreSQL (plain and transactional routes).
//! * luxcore-mock as the sender, with a delivery timeout shorter than the handler: one
//!   handler run, the mock's retries end in 200.
//! * `WebhookProcessor::drain` after axum's graceful shutdown: waits for a unit whose
//!   sender hung up, refuses new deliveries (503), and, past its timeout, cancels the
//!   handler and releases the claim (memory) or rolls the transaction back (PostgreSQL).
//! * `Transaction`'s statement methods against a real PostgreSQL; a failing handler rolls
//!   back; a `COMMIT` sent as SQL text is detected and nothing is recorded.
//!
//! PostgreSQL tests are compiled with the `postgres` feature and need
//! `LUXCORE_TEST_POSTGRES_URL` (they fail, never skip, without; `cargo xtask test` starts
//! a server and sets it).

#![cfg(feature = "axum")]

mod support;
use support::{run_id, signed_headers};

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use luxcore_ext::webhooks::axum::route;
use luxcore_ext::webhooks::{
    Begin, ClaimToken, DedupKey, Event, MemoryStore, Outcome, WebhookProcessor, WebhookStore,
    WebhookVerifier,
};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

const SECRET: &str = "whsec_detached_tests";
/// How long the slow handlers take, and when the impatient sender hangs up.
const HANDLER_TAKES: Duration = Duration::from_secs(2);
const SENDER_GIVES_UP: Duration = Duration::from_millis(100);

/// The delivery of `payment_id` at `version` (its event id made of both).
fn payment_body(payment_id: &str, version: i64) -> Vec<u8> {
    support::payment_body(&format!("evt_{payment_id}_{version}"), payment_id, version)
}

/// Counts a handler's runs and completions; `started` gets a permit per run.
#[derive(Default)]
struct Probe {
    runs: AtomicUsize,
    finished: AtomicUsize,
    started: Notify,
}

impl Probe {
    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    fn finished(&self) -> usize {
        self.finished.load(Ordering::SeqCst)
    }

    /// A handler taking `HANDLER_TAKES`.
    fn slow_handler(
        self: &Arc<Self>,
    ) -> impl Fn(Event) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
    + Clone
    + Send
    + Sync
    + 'static {
        let probe = Arc::clone(self);
        move |_event| {
            let probe = Arc::clone(&probe);
            Box::pin(async move {
                probe.runs.fetch_add(1, Ordering::SeqCst);
                probe.started.notify_one();
                tokio::time::sleep(HANDLER_TAKES).await;
                probe.finished.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
        }
    }
}

/// An axum server on 127.0.0.1 with a graceful shutdown.
struct Server {
    url: String,
    shutdown: oneshot::Sender<()>,
    serving: JoinHandle<std::io::Result<()>>,
}

async fn serve(router: axum::Router) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
    let (shutdown, stop) = oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stop.await;
            })
            .await
    });
    Server {
        url,
        shutdown,
        serving,
    }
}

impl Server {
    /// Stops accepting and waits for axum's graceful shutdown to end.
    async fn stop(self) {
        let _ = self.shutdown.send(());
        tokio::time::timeout(Duration::from_secs(10), self.serving)
            .await
            .expect("graceful shutdown ends")
            .unwrap()
            .unwrap();
    }
}

/// POSTs a signed `body`; the status, or the client's error (e.g. its timeout).
async fn deliver(url: &str, body: &[u8], timeout: Duration) -> Result<u16, reqwest::Error> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .unwrap();
    let response = client
        .post(url)
        .headers(signed_headers(SECRET, body))
        .body(body.to_vec())
        .send()
        .await?;
    Ok(response.status().as_u16())
}

/// The sender hangs up 100 ms in: the client sees its timeout while the handler runs.
async fn deliver_and_hang_up(url: &str, body: &[u8], probe: &Probe) {
    let hung_up = deliver(url, body, SENDER_GIVES_UP).await;
    assert!(
        hung_up.as_ref().is_err_and(reqwest::Error::is_timeout),
        "the sender should have given up: {hung_up:?}"
    );
    tokio::time::timeout(Duration::from_secs(5), probe.started.notified())
        .await
        .expect("the handler started");
    assert_eq!(probe.finished(), 0, "the handler is still running");
}

/// Polls `done` every 10 ms until it holds, failing after `within`.
async fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The whole scenario against a route served for `processor`: hang up mid-handler, 409
/// while it runs, record written, 200 after without a second run. `applied` reads the
/// store's record of the payment.
async fn hang_up_mid_handler<S, A, AF>(
    processor: Arc<WebhookProcessor<S>>,
    router: axum::Router,
    probe: &Probe,
    body: &[u8],
    applied: A,
) where
    S: WebhookStore + 'static,
    A: Fn() -> AF,
    AF: Future<Output = Option<i64>>,
{
    let server = serve(router).await;
    deliver_and_hang_up(&server.url, body, probe).await;
    // The unit outlived its request: the claim is live, a redelivery waits.
    assert_eq!(processor.in_flight(), 1);
    let meanwhile = deliver(&server.url, body, Duration::from_secs(5)).await;
    assert_eq!(meanwhile.unwrap(), 409, "redelivery while the handler runs");
    wait_until(
        "the detached unit recorded",
        Duration::from_secs(10),
        || processor.in_flight() == 0,
    )
    .await;
    assert_eq!(probe.finished(), 1, "the handler completed");
    assert_eq!(applied().await, Some(1), "the record is written");
    let redelivery = deliver(&server.url, body, Duration::from_secs(5)).await;
    assert_eq!(redelivery.unwrap(), 200, "redelivery after the record");
    assert_eq!(probe.runs(), 1, "the handler ran once");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_hanging_up_mid_handler_memory_store() {
    let processor = Arc::new(WebhookProcessor::new(
        WebhookVerifier::new(SECRET),
        Arc::new(MemoryStore::new()),
    ));
    let probe = Arc::new(Probe::default());
    let router =
        axum::Router::new().route("/webhooks", route(processor.clone(), probe.slow_handler()));
    let payment = format!("pay_{}", run_id());
    let storage_key = format!("payment:{payment}");
    let store = Arc::clone(processor.store());
    hang_up_mid_handler(
        processor,
        router,
        &probe,
        &payment_body(&payment, 1),
        || std::future::ready(store.applied(&storage_key)),
    )
    .await;
}

/// luxcore-mock delivers with a 100 ms timeout to a 2 s handler: its first attempt gives
/// up, its retries get 409 while the handler runs and 200 once it recorded; the handler
/// runs once and the mock marks the event delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn luxcore_mock_timing_out_mid_handler_gets_200_on_retry_and_one_run() {
    use luxcore_ext::api::enums::WebhookEventType;
    use luxcore_ext::client::LuxCore;
    use luxcore_ext::payments::PaymentRequest;
    use luxcore_ext::{Currency, PaymentMethod};
    use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};
    use std::sync::Mutex;

    // Attempts at about 0, 0.4, 1.0, 2.2 and 4.6 s (5 at most): one lands after the 2 s
    // handler ended.
    let mock = MockServer::start(
        MockConfig::default()
            .without_rate_limits()
            .with_webhook_timeout(SENDER_GIVES_UP)
            .with_webhook_retry_base(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    let client = LuxCore::builder()
        .base_url(mock.base_url())
        .api_key(DEFAULT_API_KEY)
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
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
    let probe = Arc::new(Probe::default());
    let statuses = Arc::new(Mutex::new(Vec::<u16>::new()));
    let app = axum::Router::new()
        .route("/webhooks", route(processor.clone(), probe.slow_handler()))
        .layer(axum::middleware::map_response({
            let statuses = statuses.clone();
            move |response: axum::response::Response| {
                statuses.lock().unwrap().push(response.status().as_u16());
                std::future::ready(response)
            }
        }));
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });

    let request = PaymentRequest::deposit(
        luxcore_ext::Money::new(150_000, Currency::ARS),
        PaymentMethod::Card,
        "slow_handler",
    )
    .build()
    .unwrap();
    let payment = client.payments().create(request).await.unwrap();
    let id = payment.into_inner().id.unwrap();
    mock.complete_payment(&id).await.unwrap();

    let key = format!("payment:{id}");
    wait_until("a retry answered 200", Duration::from_secs(15), || {
        statuses.lock().unwrap().contains(&200)
    })
    .await;
    assert_eq!(processor.store().applied(&key), Some(2));
    assert_eq!(probe.runs(), 1, "one handler run for all the attempts");
    assert_eq!(probe.finished(), 1);
    let statuses = statuses.lock().unwrap().clone();
    // The first attempt's answer is never heard (hyper dropped its future); the retries
    // while the handler ran got 409; the first after it got 200 and ended the retries.
    let (last, waiting) = statuses.split_last().unwrap();
    assert_eq!(*last, 200, "{statuses:?}");
    assert!(waiting.iter().all(|s| *s == 409), "{statuses:?}");
    serving.abort();
}

/// axum's graceful shutdown does not wait for a unit whose sender hung up; `drain` does,
/// and refuses new deliveries meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_after_graceful_shutdown_waits_for_a_detached_unit() {
    let processor = Arc::new(WebhookProcessor::new(
        WebhookVerifier::new(SECRET),
        Arc::new(MemoryStore::new()),
    ));
    let gate = Arc::new(Notify::new());
    let probe = Arc::new(Probe::default());
    let handler = {
        let (gate, probe) = (gate.clone(), probe.clone());
        move |_event: Event| {
            let (gate, probe) = (gate.clone(), probe.clone());
            async move {
                probe.runs.fetch_add(1, Ordering::SeqCst);
                probe.started.notify_one();
                gate.notified().await;
                probe.finished.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(())
            }
        }
    };
    let router = axum::Router::new().route("/webhooks", route(processor.clone(), handler));
    let server = serve(router).await;
    let payment = format!("pay_{}", run_id());
    let body = payment_body(&payment, 1);
    deliver_and_hang_up(&server.url, &body, &probe).await;
    server.stop().await;
    // The server is gone; the unit is not.
    assert_eq!(processor.in_flight(), 1);
    let draining = tokio::spawn({
        let processor = processor.clone();
        async move { processor.drain(Duration::from_secs(10)).await }
    });
    wait_until("drain started", Duration::from_secs(5), || {
        processor.is_draining()
    })
    .await;
    // A delivery arriving now is refused, nothing claimed.
    let other = payment_body(&format!("pay_{}", run_id()), 1);
    let refused = processor
        .handle_detached(&signed_headers(SECRET, &other), &other, |_| async {
            Ok::<_, String>(())
        })
        .await;
    assert!(matches!(refused, Outcome::ShuttingDown { .. }), "{refused}");
    assert_eq!(refused.status(), 503);
    assert!(refused.is_retryable());
    // The handler is held by the gate, so the drain cannot have ended.
    assert!(!draining.is_finished());
    gate.notify_one();
    assert!(draining.await.unwrap(), "every unit finished by itself");
    assert_eq!(processor.in_flight(), 0);
    assert_eq!(probe.finished(), 1);
    assert_eq!(
        processor.store().applied(&format!("payment:{payment}")),
        Some(1)
    );
}

/// Sets the flag when dropped: tells that a handler's future was dropped (cancelled).
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Past its timeout, `drain` cancels a handler that never ends and releases its claim:
/// another instance may take the key at once, not a lease later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_timeout_cancels_the_handler_and_releases_the_claim() {
    let store = Arc::new(MemoryStore::new());
    let processor = Arc::new(WebhookProcessor::new(
        WebhookVerifier::new(SECRET),
        store.clone(),
    ));
    let probe = Arc::new(Probe::default());
    let dropped = Arc::new(AtomicBool::new(false));
    let handler = {
        let (probe, dropped) = (probe.clone(), dropped.clone());
        move |_event: Event| {
            let (probe, flag) = (probe.clone(), DropFlag(dropped.clone()));
            async move {
                let _flag = flag;
                probe.runs.fetch_add(1, Ordering::SeqCst);
                probe.started.notify_one();
                std::future::pending::<()>().await;
                Ok::<_, String>(())
            }
        }
    };
    let router = axum::Router::new().route("/webhooks", route(processor.clone(), handler));
    let server = serve(router).await;
    let payment = format!("pay_{}", run_id());
    let body = payment_body(&payment, 1);
    deliver_and_hang_up(&server.url, &body, &probe).await;
    server.stop().await;
    let key = DedupKey::Payment {
        payment_id: payment.clone(),
        status_version: 1,
    };
    // Claimed by the stuck unit.
    let lease = Duration::from_secs(30);
    assert_eq!(
        store.begin(&key, &ClaimToken::random(), lease).await,
        Ok(Begin::Busy)
    );
    assert!(!processor.drain(Duration::from_millis(200)).await);
    assert!(dropped.load(Ordering::SeqCst), "the handler was cancelled");
    assert_eq!(processor.in_flight(), 0);
    assert_eq!(store.applied(&key.storage_key()), None, "nothing recorded");
    let token = ClaimToken::random();
    assert_eq!(
        store.begin(&key, &token, lease).await,
        Ok(Begin::Claimed),
        "the claim was released"
    );
    store.release(&key, &token).await.unwrap();
}

/// `handle_detached` outside the HTTP stack: the caller's future is dropped mid-handler,
/// the unit still records (the building block for other frameworks).
#[tokio::test]
async fn handle_detached_finishes_when_the_callers_future_is_dropped() {
    let processor = WebhookProcessor::new(WebhookVerifier::new(SECRET), MemoryStore::new());
    let probe = Arc::new(Probe::default());
    let payment = format!("pay_{}", run_id());
    let body = payment_body(&payment, 1);
    let headers = signed_headers(SECRET, &body);
    let call = processor.handle_detached(&headers, &body, probe.slow_handler());
    // The caller gives up 100 ms in (its future is dropped by the timeout).
    assert!(
        tokio::time::timeout(SENDER_GIVES_UP, call).await.is_err(),
        "the handler takes 2 s"
    );
    assert_eq!(probe.runs(), 1);
    wait_until("the unit recorded", Duration::from_secs(10), || {
        processor.in_flight() == 0
    })
    .await;
    assert_eq!(
        processor.store().applied(&format!("payment:{payment}")),
        Some(1)
    );
    let again = processor
        .handle_detached(&headers, &body, probe.slow_handler())
        .await;
    assert!(matches!(again, Outcome::Skipped { .. }), "{again}");
    assert_eq!(probe.runs(), 1);
}

/// A handler panicking inside the detached unit: 500, the claim released, the redelivery
/// processes it.
#[tokio::test]
async fn a_panicking_handler_answers_500_and_frees_the_key() {
    let processor = WebhookProcessor::new(WebhookVerifier::new(SECRET), MemoryStore::new());
    let body = payment_body(&format!("pay_{}", run_id()), 1);
    let headers = signed_headers(SECRET, &body);
    let panicked = processor
        .handle_detached(&headers, &body, |_| async {
            if true {
                panic!("merchant bug");
            }
            Ok::<_, String>(())
        })
        .await;
    assert!(
        matches!(&panicked, Outcome::HandlerFailed { message, .. } if message.contains("merchant bug")),
        "{panicked}"
    );
    let again = processor
        .handle_detached(&headers, &body, |_| async { Ok::<_, String>(()) })
        .await;
    assert!(matches!(again, Outcome::Processed { .. }), "{again}");
}

#[test]
fn the_default_handler_limit_is_below_luxcores_delivery_timeout() {
    let processor = WebhookProcessor::new(WebhookVerifier::new(SECRET), MemoryStore::new());
    assert_eq!(
        processor.handler_timeout(),
        luxcore_ext::webhooks::DEFAULT_HANDLER_LIMIT
    );
    assert!(processor.handler_timeout() < Duration::from_secs(10));
    // Never more than 90 % of the lease.
    let short = processor.lease(Duration::from_secs(5));
    assert_eq!(short.handler_timeout(), Duration::from_millis(4_500));
    let long = short
        .lease(Duration::from_secs(60))
        .handler_limit(Duration::from_secs(20));
    assert_eq!(long.handler_timeout(), Duration::from_secs(20));
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use futures::TryStreamExt as _;
    use luxcore_ext::webhooks::axum::route_in_transaction;
    use luxcore_ext::webhooks::{PostgresStore, Transaction};
    use tokio_postgres::types::Type;

    fn required_env(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: this test needs a real server (run `cargo xtask test`, \
                 which starts one, or set {name})"
            )
        })
    }

    async fn store() -> PostgresStore {
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        let store = PostgresStore::connect(&url, 8).expect("valid URL");
        store
            .migrate()
            .await
            .expect("postgres reachable, schema applied");
        let client = store.pool().get().await.unwrap();
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS luxcore_test_detached (
                     payment text NOT NULL, note text NOT NULL)",
            )
            .await
            .unwrap();
        store
    }

    /// The applied version recorded for `payment` (None: no row or nothing applied).
    async fn applied(store: &PostgresStore, payment: &str) -> Option<i64> {
        let client = store.pool().get().await.unwrap();
        client
            .query_opt(
                "SELECT applied_version FROM luxcore_webhook_keys WHERE key = $1",
                &[&format!("payment:{payment}")],
            )
            .await
            .unwrap()
            .and_then(|row| row.get(0))
    }

    async fn notes(store: &PostgresStore, payment: &str) -> Vec<String> {
        let client = store.pool().get().await.unwrap();
        client
            .query(
                "SELECT note FROM luxcore_test_detached WHERE payment = $1 ORDER BY note",
                &[&payment],
            )
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sender_hanging_up_mid_handler_postgres_store() {
        let store = store().await;
        let processor = Arc::new(WebhookProcessor::new(
            WebhookVerifier::new(SECRET),
            store.clone(),
        ));
        let probe = Arc::new(Probe::default());
        let router =
            axum::Router::new().route("/webhooks", route(processor.clone(), probe.slow_handler()));
        let payment = format!("pay_{}", run_id());
        hang_up_mid_handler(
            processor,
            router,
            &probe,
            &payment_body(&payment, 1),
            || applied(&store, &payment),
        )
        .await;
    }

    /// The transactional route: the merchant's row and the record commit together after
    /// the sender hung up; the redelivery neither runs the handler nor writes again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sender_hanging_up_mid_handler_postgres_transaction() {
        let store = store().await;
        let processor = Arc::new(WebhookProcessor::new(
            WebhookVerifier::new(SECRET),
            store.clone(),
        ));
        let probe = Arc::new(Probe::default());
        let handler = {
            let probe = probe.clone();
            move |event: Event, tx: Transaction| {
                let probe = probe.clone();
                async move {
                    probe.runs.fetch_add(1, Ordering::SeqCst);
                    probe.started.notify_one();
                    tx.execute(
                        "INSERT INTO luxcore_test_detached (payment, note) VALUES ($1, 'paid')",
                        &[&event.payment_id()],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    tokio::time::sleep(HANDLER_TAKES).await;
                    probe.finished.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, String>(tx)
                }
            }
        };
        let router = axum::Router::new().route(
            "/webhooks",
            route_in_transaction(processor.clone(), handler),
        );
        let payment = format!("pay_{}", run_id());
        hang_up_mid_handler(
            processor,
            router,
            &probe,
            &payment_body(&payment, 1),
            || applied(&store, &payment),
        )
        .await;
        assert_eq!(notes(&store, &payment).await, ["paid"], "written once");
    }

    /// Past the drain's timeout the transactional handler is cancelled: its transaction
    /// rolls back (no merchant row, nothing recorded) and the key's row lock is gone, so
    /// another instance processes the redelivery at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn drain_timeout_rolls_the_transaction_back() {
        let store = store().await;
        let processor = Arc::new(WebhookProcessor::new(
            WebhookVerifier::new(SECRET),
            store.clone(),
        ));
        let probe = Arc::new(Probe::default());
        let handler = {
            let probe = probe.clone();
            move |event: Event, tx: Transaction| {
                let probe = probe.clone();
                async move {
                    tx.execute(
                        "INSERT INTO luxcore_test_detached (payment, note) VALUES ($1, 'stuck')",
                        &[&event.payment_id()],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    probe.runs.fetch_add(1, Ordering::SeqCst);
                    probe.started.notify_one();
                    std::future::pending::<()>().await;
                    Ok::<_, String>(tx)
                }
            }
        };
        let router = axum::Router::new().route(
            "/webhooks",
            route_in_transaction(processor.clone(), handler),
        );
        let server = serve(router).await;
        let payment = format!("pay_{}", run_id());
        let body = payment_body(&payment, 1);
        deliver_and_hang_up(&server.url, &body, &probe).await;
        server.stop().await;
        assert!(!processor.drain(Duration::from_millis(200)).await);
        assert_eq!(processor.in_flight(), 0);
        let other_instance = WebhookProcessor::new(WebhookVerifier::new(SECRET), store.clone());
        let outcome = other_instance
            .handle_in_transaction(
                &signed_headers(SECRET, &body),
                &body,
                |event, tx: Transaction| async move {
                    tx.execute(
                        "INSERT INTO luxcore_test_detached (payment, note) VALUES ($1, 'paid')",
                        &[&event.payment_id()],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    Ok::<_, String>(tx)
                },
            )
            .await;
        assert!(matches!(outcome, Outcome::Processed { .. }), "{outcome}");
        assert_eq!(
            notes(&store, &payment).await,
            ["paid"],
            "'stuck' rolled back"
        );
        assert_eq!(applied(&store, &payment).await, Some(1));
    }

    /// Every statement method of `Transaction` against the real server, in the
    /// transaction: the writes are visible inside it and committed with the record.
    #[tokio::test]
    async fn transaction_statement_methods_work() {
        let store = store().await;
        let processor = WebhookProcessor::new(WebhookVerifier::new(SECRET), store.clone());
        let payment = format!("pay_{}", run_id());
        let body = payment_body(&payment, 1);
        let outcome = processor
            .handle_in_transaction(
                &signed_headers(SECRET, &body),
                &body,
                |event, tx: Transaction| async move {
                    let payment = event.payment_id().unwrap_or_default().to_owned();
                    let insert =
                        "INSERT INTO luxcore_test_detached (payment, note) VALUES ($1, $2)";
                    let n = tx.execute(insert, &[&payment, &"a-execute"]).await?;
                    assert_eq!(n, 1);
                    let prepared = tx.prepare(insert).await?;
                    tx.execute(&prepared, &[&payment, &"b-prepare"]).await?;
                    let typed = tx.prepare_typed(insert, &[Type::TEXT, Type::TEXT]).await?;
                    tx.execute(&typed, &[&payment, &"c-prepare_typed"]).await?;
                    let cached = tx.prepare_cached(insert).await?;
                    tx.execute(&cached, &[&payment, &"d-prepare_cached"])
                        .await?;
                    let typed_cached = tx
                        .prepare_typed_cached(insert, &[Type::TEXT, Type::TEXT])
                        .await?;
                    tx.execute(&typed_cached, &[&payment, &"e-prepare_typed_cached"])
                        .await?;
                    let select =
                        "SELECT note FROM luxcore_test_detached WHERE payment = $1 ORDER BY note";
                    let rows = tx.query(select, &[&payment]).await?;
                    assert_eq!(rows.len(), 5);
                    let count: i64 = tx
                        .query_one(
                            "SELECT count(*) FROM luxcore_test_detached WHERE payment = $1",
                            &[&payment],
                        )
                        .await?
                        .get(0);
                    assert_eq!(count, 5);
                    let none = tx
                    .query_opt(
                        "SELECT note FROM luxcore_test_detached WHERE payment = $1 AND note = 'z'",
                        &[&payment],
                    )
                    .await?;
                    assert!(none.is_none());
                    let streamed: Vec<String> = tx
                        .query_raw(select, [&payment])
                        .await?
                        .map_ok(|row| row.get::<_, String>(0))
                        .try_collect()
                        .await?;
                    assert_eq!(streamed.len(), 5);
                    Ok::<_, tokio_postgres::Error>(tx)
                },
            )
            .await;
        assert!(matches!(outcome, Outcome::Processed { .. }), "{outcome}");
        assert_eq!(
            notes(&store, &payment).await,
            [
                "a-execute",
                "b-prepare",
                "c-prepare_typed",
                "d-prepare_cached",
                "e-prepare_typed_cached"
            ]
        );
        assert_eq!(applied(&store, &payment).await, Some(1));
    }

    /// A failing handler: its statements roll back with the transaction, nothing is
    /// recorded, the redelivery runs it again.
    #[tokio::test]
    async fn failing_transaction_handler_rolls_back_and_records_nothing() {
        let store = store().await;
        let processor = WebhookProcessor::new(WebhookVerifier::new(SECRET), store.clone());
        let payment = format!("pay_{}", run_id());
        let body = payment_body(&payment, 1);
        let run = |fail: bool| {
            let processor = &processor;
            let body = &body;
            async move {
                processor
                    .handle_in_transaction(
                        &signed_headers(SECRET, body),
                        body,
                        move |event, tx: Transaction| async move {
                            tx.execute(
                            "INSERT INTO luxcore_test_detached (payment, note) VALUES ($1, 'paid')",
                            &[&event.payment_id()],
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                            if fail {
                                return Err("ledger rejected it".to_owned());
                            }
                            Ok(tx)
                        },
                    )
                    .await
            }
        };
        let failed = run(true).await;
        assert!(matches!(failed, Outcome::HandlerFailed { .. }), "{failed}");
        assert!(notes(&store, &payment).await.is_empty(), "rolled back");
        assert_eq!(applied(&store, &payment).await, None, "nothing recorded");
        let again = run(false).await;
        assert!(matches!(again, Outcome::Processed { .. }), "{again}");
        assert_eq!(notes(&store, &payment).await, ["paid"]);
        assert_eq!(applied(&store, &payment).await, Some(1));
    }

    /// `COMMIT` / `ROLLBACK` sent as SQL text cannot be refused by types; the SDK sees its
    /// transaction ended and records nothing (500), instead of recording outside it.
    #[tokio::test]
    async fn ending_the_transaction_with_sql_text_is_detected() {
        let store = store().await;
        let processor = WebhookProcessor::new(WebhookVerifier::new(SECRET), store.clone());
        for statement in ["COMMIT", "ROLLBACK"] {
            let payment = format!("pay_{}", run_id());
            let body = payment_body(&payment, 1);
            let outcome = processor
                .handle_in_transaction(
                    &signed_headers(SECRET, &body),
                    &body,
                    move |_, tx: Transaction| async move {
                        tx.execute(statement, &[])
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok::<_, String>(tx)
                    },
                )
                .await;
            assert!(
                matches!(&outcome, Outcome::HandlerFailed { message, .. } if message.contains("ended the transaction")),
                "{statement}: {outcome}"
            );
            assert_eq!(outcome.status(), 500);
            assert_eq!(applied(&store, &payment).await, None, "{statement}");
        }
    }
}
