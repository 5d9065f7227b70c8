//! Issue 23.6: the ready axum route (`webhooks::axum::route`, and `route_in_transaction`
//! on PostgreSQL, with `PostgresStore` and with `SqlxStore`) under a many-instances load,
//! over real HTTP on loopback.
//!
//! Four axum servers, each with its own `WebhookProcessor` over one shared store (an
//! `Arc<MemoryStore>` shared in this process, Redis, PostgreSQL), receive 400 signed
//! deliveries for 20 payments from 16 concurrent senders: 80 % distinct events, 20 %
//! duplicates, a fifth of the positions moved out of order, each attempt sent to one of
//! the 4 servers at random, and a 409 redelivered later (as LuxCore does). Checked:
//!
//! * every payment's versions are applied once each, in increasing order, ending at its
//!   last version (the handler's ledger; on PostgreSQL's transactional route a merchant
//!   table written in the handler's transaction);
//! * the answers: only 200 (`processed` / `already processed`) and 409; no 5xx, no 400;
//!   `processed` answers = handler runs = applied rows; `processed + already processed` =
//!   the 400 deliveries;
//! * meanwhile, on the same servers: a body over the route's limit (axum's default, 2 MiB)
//!   answers 413 `length limit exceeded` (with a `Content-Length` and chunked) and records
//!   nothing, while a body of exactly 2 MiB is processed; a sender that disconnects
//!   mid-body (its `Content-Length` larger than what it wrote) runs nothing and records
//!   nothing, the server keeps serving, and the same delivery sent properly afterwards is
//!   processed once (and skipped the time after).
//!
//! Redis and PostgreSQL tests are compiled with the `redis` / `postgres` (`postgres-sqlx`)
//! features and need
//! `LUXCORE_TEST_REDIS_URL` / `LUXCORE_TEST_POSTGRES_URL` (they fail, never skip, without;
//! `cargo xtask test` starts the servers and sets them).

#![cfg(feature = "axum")]

mod support;
#[cfg(any(feature = "redis", feature = "postgres", feature = "postgres-sqlx"))]
use support::required_env;
use support::{lock, payment_body, payment_event, run_id, signed_headers};

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::MethodRouter;
use luxcore_ext::webhooks::axum::route;
use luxcore_ext::webhooks::{Event, MemoryStore, WebhookProcessor, WebhookStore, WebhookVerifier};
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

const SECRET: &str = "whsec_axum_load_tests";
/// Leases in these tests: 10 × the stores' 500 ms timeout, as the lease docs ask.
const LEASE: Duration = Duration::from_secs(5);
const SERVERS: usize = 4;
const DELIVERIES: usize = 400;
const PAYMENTS: usize = 20;
const SENDERS: usize = 16;
/// The route's body limit: axum's `DefaultBodyLimit` default (documented on `route`).
const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// The header naming a probe request, so the servers' middleware can report its end.
const PROBE: &str = "x-test-probe";

/// The same event, padded with an extra field to exactly `size` bytes: a valid, signed
/// delivery the processor would apply if it got it.
fn padded_body(event_id: &str, payment_id: &str, version: i64, size: usize) -> Vec<u8> {
    let mut event = payment_event(event_id, payment_id, version);
    event["padding"] = serde_json::json!("");
    let bare = serde_json::to_vec(&event).unwrap().len();
    event["padding"] = serde_json::json!("x".repeat(size - bare));
    let body = serde_json::to_vec(&event).unwrap();
    assert_eq!(body.len(), size);
    body
}

// ---------------------------------------------------------------------------------------
// The workload (as in webhooks_processing.rs).
// ---------------------------------------------------------------------------------------

/// One event's signed body (re-signed at each attempt, as LuxCore does).
type Delivery = Arc<Vec<u8>>;

/// `deliveries` for `payments` payments: 80 % distinct events (versions 1..=n per
/// payment), 20 % duplicates of them, and a fifth of the positions moved out of order.
/// Also returns each payment's last version and the number of distinct events.
fn workload(
    run: &str,
    deliveries: usize,
    payments: usize,
) -> (Vec<Delivery>, HashMap<String, i64>, usize) {
    let distinct = deliveries * 8 / 10;
    let mut events = Vec::new();
    let mut last = HashMap::new();
    for i in 0..distinct {
        let p = i % payments;
        let version = i64::try_from(i / payments + 1).unwrap();
        let payment = format!("pay_{run}_{p:05}");
        last.insert(payment.clone(), version);
        events.push(Arc::new(payment_body(
            &format!("evt_{run}_{i}"),
            &payment,
            version,
        )));
    }
    let mut all = events.clone();
    while all.len() < deliveries {
        let pick = rand::random_range(0..events.len());
        let at = rand::random_range(0..=all.len());
        all.insert(at, events[pick].clone());
    }
    for _ in 0..deliveries / 5 {
        let i = rand::random_range(0..all.len());
        let j = rand::random_range(i..all.len().min(i + 4 * payments + 1));
        all.swap(i, j);
    }
    (all, last, distinct)
}

// ---------------------------------------------------------------------------------------
// The merchant (the handlers' side) and the servers.
// ---------------------------------------------------------------------------------------

/// What the handlers did: their runs, and (plain route) the versions applied per payment.
#[derive(Default)]
struct Merchant {
    runs: AtomicUsize,
    ledger: Mutex<HashMap<String, Vec<i64>>>,
}

impl Merchant {
    /// Counts a handler run; the event's payment and version.
    fn ran(&self, event: &Event) -> (String, i64) {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let payment = event.payment_id().unwrap().to_owned();
        (payment, event.status_version().unwrap())
    }

    /// Appends `version` to the payment's ledger (the handlers' own view).
    fn note(&self, payment: String, version: i64) {
        lock(&self.ledger).entry(payment).or_default().push(version);
    }

    /// The plain route's handler: a short random delay (so deliveries overlap), then the
    /// version is appended to the payment's ledger.
    fn handler(
        self: &Arc<Self>,
    ) -> impl Fn(Event) -> std::pin::Pin<Box<dyn Future<Output = Result<(), Infallible>> + Send>>
    + Clone
    + Send
    + Sync
    + 'static {
        let merchant = Arc::clone(self);
        move |event: Event| {
            let merchant = Arc::clone(&merchant);
            Box::pin(async move {
                let (payment, version) = merchant.ran(&event);
                tokio::time::sleep(Duration::from_micros(rand::random_range(0..2_000))).await;
                merchant.note(payment, version);
                Ok(())
            })
        }
    }
}

/// What one server's middleware saw: every answered status, and how each probe request
/// ended (its status, or `None` when its future was dropped unanswered).
#[derive(Default)]
struct Seen {
    statuses: Mutex<Vec<u16>>,
    probes: Mutex<HashMap<String, Option<u16>>>,
    probe_ended: Notify,
}

/// Reports the end of a request when dropped: answered or not.
struct End {
    seen: Arc<Seen>,
    probe: Option<String>,
    status: Option<u16>,
}

impl Drop for End {
    fn drop(&mut self) {
        if let Some(status) = self.status {
            lock(&self.seen.statuses).push(status);
        }
        if let Some(probe) = self.probe.take() {
            lock(&self.seen.probes).insert(probe, self.status);
            self.seen.probe_ended.notify_waiters();
        }
    }
}

async fn observe(State(seen): State<Arc<Seen>>, request: Request, next: Next) -> Response {
    let probe = (request.headers().get(PROBE))
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut end = End {
        seen,
        probe,
        status: None,
    };
    let response = next.run(request).await;
    end.status = Some(response.status().as_u16());
    response
}

impl Seen {
    /// How probe `probe` ended, waiting up to 10 s for it.
    async fn probe_end(&self, probe: &str) -> Option<u16> {
        let wait = async {
            loop {
                let notified = self.probe_ended.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(end) = lock(&self.probes).get(probe) {
                    return *end;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("probe {probe} never ended on the server"))
    }
}

/// An axum server on 127.0.0.1 serving `route` at `/webhooks`, with a graceful shutdown.
struct Server {
    addr: SocketAddr,
    url: String,
    seen: Arc<Seen>,
    shutdown: oneshot::Sender<()>,
    serving: JoinHandle<std::io::Result<()>>,
}

async fn serve(route: MethodRouter) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let router =
        axum::Router::new()
            .route("/webhooks", route)
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&seen),
                observe,
            ));
    let (shutdown, stop) = oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stop.await;
            })
            .await
    });
    Server {
        addr,
        url: format!("http://{addr}/webhooks"),
        seen,
        shutdown,
        serving,
    }
}

impl Server {
    async fn stop(self) {
        let _ = self.shutdown.send(());
        tokio::time::timeout(Duration::from_secs(10), self.serving)
            .await
            .expect("graceful shutdown ends")
            .unwrap()
            .unwrap();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// POSTs `body` signed; the status and the body text.
async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>) -> (u16, String) {
    let headers = signed_headers(SECRET, &body);
    let response = client
        .post(url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------
// The bodies over the limit and the sender that disconnects mid-body.
// ---------------------------------------------------------------------------------------

/// Payments of the probes, each delivered once properly at the end.
struct Probes {
    over_limit: String,
    chunked_over_limit: String,
    at_limit: String,
    cut: String,
}

impl Probes {
    fn new(run: &str) -> Self {
        Self {
            over_limit: format!("probe_{run}_over_limit"),
            chunked_over_limit: format!("probe_{run}_chunked"),
            at_limit: format!("probe_{run}_at_limit"),
            cut: format!("probe_{run}_cut"),
        }
    }
}

/// Runs while the load runs, against the same servers.
async fn send_probes(servers: &[Server], probes: &Probes, merchant_saw: impl Fn(&str) -> bool) {
    let client = client();
    // 2 MiB + 1 with a Content-Length: 413, told in plain words; the handler never runs.
    let body = padded_body("evt_over", &probes.over_limit, 1, BODY_LIMIT + 1);
    let (status, text) = post(&client, &servers[0].url, body).await;
    assert_eq!(status, 413, "over the limit: {text}");
    assert!(text.contains("length limit exceeded"), "{text}");

    // The same without a Content-Length (chunked): 413 once 2 MiB have been read.
    let body = padded_body("evt_chunked", &probes.chunked_over_limit, 1, BODY_LIMIT + 1);
    let headers = signed_headers(SECRET, &body);
    let chunks: Vec<Result<Vec<u8>, Infallible>> =
        body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let response = client
        .post(&servers[1].url)
        .headers(headers)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413, "chunked over the limit");
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("length limit exceeded")
    );

    // Exactly 2 MiB: within the limit, processed.
    let body = padded_body("evt_at", &probes.at_limit, 1, BODY_LIMIT);
    let (status, text) = post(&client, &servers[2].url, body).await;
    assert_eq!((status, text.as_str()), (200, "processed"), "at the limit");

    // A sender that announces the whole body, writes half of it and closes the socket.
    let body = payment_body("evt_cut", &probes.cut, 1);
    let server = &servers[3];
    let mut head = format!(
        "POST /webhooks HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n{PROBE}: cut\r\n",
        server.addr,
        body.len()
    );
    for (name, value) in &signed_headers(SECRET, &body) {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..body.len() / 2]).await.unwrap();
    stream.flush().await.unwrap();
    drop(stream);
    // The server ends that request without running anything: axum's body rejection (400,
    // unheard) or, if hyper drops the request first, no answer at all.
    let end = server.seen.probe_end("cut").await;
    assert!(
        matches!(end, None | Some(400)),
        "cut request ended with {end:?}"
    );
    assert!(!merchant_saw(&probes.cut), "a cut body reached the handler");

    // The same server keeps serving: the same delivery sent properly is processed once.
    let (status, text) = post(&client, &server.url, body.clone()).await;
    assert_eq!((status, text.as_str()), (200, "processed"), "after the cut");
    let (status, text) = post(&client, &servers[0].url, body).await;
    assert_eq!((status, text.as_str()), (200, "already processed"));

    // Nothing was recorded for the refused bodies: the same events, sent properly now
    // (to other servers), are processed, then skipped.
    for (payment, event, at) in [
        (&probes.over_limit, "evt_over", 1),
        (&probes.chunked_over_limit, "evt_chunked", 2),
    ] {
        assert!(!merchant_saw(payment), "{payment}: a refused body ran");
        let body = payment_body(event, payment, 1);
        let (status, text) = post(&client, &servers[at].url, body.clone()).await;
        assert_eq!((status, text.as_str()), (200, "processed"), "{payment}");
        let (status, text) = post(&client, &servers[at + 1].url, body).await;
        assert_eq!((status, text.as_str()), (200, "already processed"));
    }
}

// ---------------------------------------------------------------------------------------
// The scenario.
// ---------------------------------------------------------------------------------------

/// The answers the senders heard.
#[derive(Default, Debug)]
struct Answers {
    processed: AtomicUsize,
    skipped: AtomicUsize,
    busy: AtomicUsize,
    attempts: AtomicUsize,
    other: Mutex<Vec<(u16, String)>>,
}

/// Starts 4 servers (`route_for` each processor), runs the load and the probes through
/// them, stops them, drains the processors and checks the end state. `applied` reads the
/// merchant's versions per payment (for the payments whose id starts with its argument).
async fn load_through_axum<S: WebhookStore + 'static>(
    name: &str,
    processors: Vec<Arc<WebhookProcessor<S>>>,
    route_for: impl Fn(Arc<WebhookProcessor<S>>) -> MethodRouter,
    merchant: Arc<Merchant>,
    applied: impl AsyncFn(&str) -> HashMap<String, Vec<i64>>,
) {
    assert_eq!(processors.len(), SERVERS);
    let started = Instant::now();
    let run = run_id();
    let (deliveries, last, distinct) = workload(&run, DELIVERIES, PAYMENTS);
    let mut servers = Vec::new();
    for processor in &processors {
        servers.push(serve(route_for(Arc::clone(processor))).await);
    }
    let urls: Arc<Vec<String>> = Arc::new(servers.iter().map(|s| s.url.clone()).collect());
    let queue = Arc::new(Mutex::new(deliveries.into_iter().collect::<VecDeque<_>>()));
    let answers = Arc::new(Answers::default());
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let client = client();
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (queue, answers, acknowledged, urls, client) = (
            queue.clone(),
            answers.clone(),
            acknowledged.clone(),
            urls.clone(),
            client.clone(),
        );
        senders.push(tokio::spawn(async move {
            while acknowledged.load(Ordering::SeqCst) < DELIVERIES {
                let next = lock(&queue).pop_front();
                let Some(delivery) = next else {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                };
                let url = &urls[rand::random_range(0..urls.len())];
                answers.attempts.fetch_add(1, Ordering::SeqCst);
                let (status, text) = post(&client, url, delivery.to_vec()).await;
                match (status, text.as_str()) {
                    (200, "processed") => answers.processed.fetch_add(1, Ordering::SeqCst),
                    (200, "already processed") => answers.skipped.fetch_add(1, Ordering::SeqCst),
                    (409, _) => answers.busy.fetch_add(1, Ordering::SeqCst),
                    _ => {
                        lock(&answers.other).push((status, text));
                        0
                    }
                };
                if status == 200 {
                    acknowledged.fetch_add(1, Ordering::SeqCst);
                } else {
                    // LuxCore redelivers later, possibly to another server.
                    tokio::time::sleep(Duration::from_millis(3)).await;
                    lock(&queue).push_back(delivery);
                }
                if !lock(&answers.other).is_empty() {
                    return; // fail below, with what was answered
                }
            }
        }));
    }
    let probes = Probes::new(&run);
    let load = async {
        for sender in senders {
            sender.await.unwrap();
        }
    };
    let probing = async {
        // Checked against the handler's own view while the load runs; the end-state
        // check below reads `applied` (the merchant table on PostgreSQL) again.
        let probe_ledger = Arc::clone(&merchant);
        send_probes(&servers, &probes, move |payment| {
            lock(&probe_ledger.ledger).contains_key(payment)
        })
        .await;
    };
    tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(load, probing)
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "{name}: only {} of {DELIVERIES} deliveries acknowledged in 120 s",
            acknowledged.load(Ordering::SeqCst)
        )
    });
    let elapsed = started.elapsed();
    let seen: Vec<Arc<Seen>> = servers.iter().map(|s| Arc::clone(&s.seen)).collect();
    for server in servers {
        server.stop().await;
    }
    for processor in &processors {
        assert!(
            processor.drain(Duration::from_secs(5)).await,
            "{name}: a unit was still running"
        );
        assert_eq!(processor.in_flight(), 0);
    }

    // The answers: 200 and 409 only.
    let other = lock(&answers.other).clone();
    assert!(other.is_empty(), "{name}: unexpected answers {other:?}");
    let processed = answers.processed.load(Ordering::SeqCst);
    let skipped = answers.skipped.load(Ordering::SeqCst);
    let busy = answers.busy.load(Ordering::SeqCst);
    assert_eq!(processed + skipped, DELIVERIES, "{name}: {answers:?}");
    assert!(
        busy > 0,
        "{name}: no delivery found its payment busy: {answers:?}"
    );
    // The servers' side: besides the probes' 413s and 400, only 200 and 409; every
    // server answered a share of the load.
    for (i, seen) in seen.iter().enumerate() {
        let statuses = lock(&seen.statuses).clone();
        assert!(
            statuses.iter().filter(|s| **s == 200).count() > DELIVERIES / 20,
            "{name}: server {i} got little of the load"
        );
        let unexpected: Vec<_> = statuses
            .iter()
            .filter(|s| !matches!(s, 200 | 409 | 413 | 400))
            .collect();
        assert!(
            unexpected.is_empty(),
            "{name}: server {i} answered {unexpected:?}"
        );
        assert!(statuses.iter().filter(|s| **s == 400).count() <= usize::from(i == 3));
    }

    // Exactly once, in order, ending at the last version.
    let ledger = applied(&format!("pay_{run}_")).await;
    for (payment, final_version) in &last {
        let versions = ledger.get(payment).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            versions.last(),
            Some(final_version),
            "{name}: {payment} ended at {versions:?}, its last version is {final_version}"
        );
        assert!(
            versions.windows(2).all(|pair| pair[0] < pair[1]),
            "{name}: {payment} applied twice or out of order: {versions:?}"
        );
    }
    assert_eq!(ledger.len(), PAYMENTS, "{name}: unknown payments applied");
    let applied_count: usize = ledger.values().map(Vec::len).sum();
    assert_eq!(
        processed, applied_count,
        "{name}: each 'processed' answer is one applied version"
    );
    assert!(applied_count <= distinct);
    // The probes: each applied once (the properly sent deliveries and the 2 MiB one).
    let probe_ledger = applied(&format!("probe_{run}_")).await;
    for payment in [
        &probes.over_limit,
        &probes.chunked_over_limit,
        &probes.at_limit,
        &probes.cut,
    ] {
        assert_eq!(
            probe_ledger.get(payment),
            Some(&vec![1]),
            "{name}: {payment}"
        );
    }
    assert_eq!(
        merchant.runs.load(Ordering::SeqCst),
        applied_count + 4,
        "{name}: handler runs = applied versions (no run left unrecorded)"
    );
    println!(
        "{name}: {DELIVERIES} deliveries for {PAYMENTS} payments through {SERVERS} axum servers \
         in {elapsed:.2?}: {} attempts; 200 processed {processed}, 200 already processed \
         {skipped}, 409 busy {busy}; {applied_count} versions applied of {distinct} distinct \
         events; probes: 413 ×2, cut body ended {:?}",
        answers.attempts.load(Ordering::SeqCst),
        lock(&seen[3].probes).get("cut").copied().flatten(),
    );
}

fn processors<S: WebhookStore>(
    stores: impl IntoIterator<Item = S>,
) -> Vec<Arc<WebhookProcessor<S>>> {
    stores
        .into_iter()
        .map(|store| {
            Arc::new(WebhookProcessor::new(WebhookVerifier::new(SECRET), store).lease(LEASE))
        })
        .collect()
}

/// The plain route's merchant ledger, for the payments starting with `prefix`.
fn ledger_of(merchant: &Merchant, prefix: &str) -> HashMap<String, Vec<i64>> {
    lock(&merchant.ledger)
        .iter()
        .filter(|(payment, _)| payment.starts_with(prefix))
        .map(|(payment, versions)| (payment.clone(), versions.clone()))
        .collect()
}

/// One `MemoryStore` shared (through an `Arc`) by the 4 servers' processors: they run in
/// this one process, so it stands for a shared store here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_axum_servers_memory_store() {
    let store = Arc::new(MemoryStore::new());
    let merchant = Arc::new(Merchant::default());
    let handler = merchant.handler();
    load_through_axum(
        "memory",
        processors((0..SERVERS).map(|_| Arc::clone(&store))),
        |processor| route(processor, handler.clone()),
        Arc::clone(&merchant),
        async |prefix| ledger_of(&merchant, prefix),
    )
    .await;
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_axum_servers_redis_store() {
    use luxcore_ext::webhooks::RedisStore;
    let url = required_env("LUXCORE_TEST_REDIS_URL");
    let prefix = format!("luxcore:test:{}:", run_id());
    let mut stores = Vec::new();
    for _ in 0..SERVERS {
        let store = RedisStore::connect(&url)
            .await
            .expect("redis reachable")
            .prefix(&prefix)
            .timeout(Duration::from_millis(500));
        stores.push(store);
    }
    let merchant = Arc::new(Merchant::default());
    let handler = merchant.handler();
    load_through_axum(
        "redis",
        processors(stores),
        |processor| route(processor, handler.clone()),
        Arc::clone(&merchant),
        async |prefix| ledger_of(&merchant, prefix),
    )
    .await;
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use luxcore_ext::webhooks::axum::route_in_transaction;
    use luxcore_ext::webhooks::{PostgresStore, Transaction};

    async fn stores() -> Vec<PostgresStore> {
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        let mut stores = Vec::new();
        for _ in 0..SERVERS {
            let store = PostgresStore::connect(&url, 8)
                .expect("valid URL")
                .timeout(Duration::from_millis(500));
            store
                .migrate()
                .await
                .expect("postgres reachable, schema applied");
            stores.push(store);
        }
        stores
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_axum_servers_postgres_store() {
        let merchant = Arc::new(Merchant::default());
        let handler = merchant.handler();
        load_through_axum(
            "postgres",
            processors(stores().await),
            |processor| route(processor, handler.clone()),
            Arc::clone(&merchant),
            async |prefix| ledger_of(&merchant, prefix),
        )
        .await;
    }

    /// `route_in_transaction`: the handler writes the merchant's table in the delivery's
    /// transaction; the end state is read from that table.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_axum_servers_postgres_transaction() {
        let stores = stores().await;
        let client = stores[0].pool().get().await.unwrap();
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS luxcore_test_axum_ledger (
                     seq bigserial PRIMARY KEY, payment text NOT NULL, version bigint NOT NULL)",
            )
            .await
            .unwrap();
        let merchant = Arc::new(Merchant::default());
        let handler = {
            let merchant = Arc::clone(&merchant);
            move |event: Event, tx: Transaction| {
                let merchant = Arc::clone(&merchant);
                async move {
                    let (payment, version) = merchant.ran(&event);
                    tx.execute(
                        "INSERT INTO luxcore_test_axum_ledger (payment, version) VALUES ($1, $2)",
                        &[&payment, &version],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    // The probes read the handler's view; the checks read the table.
                    merchant.note(payment, version);
                    Ok::<_, String>(tx)
                }
            }
        };
        load_through_axum(
            "postgres transaction",
            processors(stores),
            |processor| route_in_transaction(processor, handler.clone()),
            Arc::clone(&merchant),
            async |prefix| {
                let rows = client
                    .query(
                        "SELECT payment, version FROM luxcore_test_axum_ledger \
                         WHERE payment LIKE $1 ORDER BY seq",
                        &[&format!("{prefix}%")],
                    )
                    .await
                    .unwrap();
                let mut ledger: HashMap<String, Vec<i64>> = HashMap::new();
                for row in rows {
                    ledger.entry(row.get(0)).or_default().push(row.get(1));
                }
                ledger
            },
        )
        .await;
    }
}

/// `route_in_transaction` over `SqlxStore` (`postgres-sqlx`): each server's store has its
/// own `sqlx::PgPool`, the handler writes the merchant's table in the delivery's
/// `sqlx::Transaction`, and the end state is read from that table.
#[cfg(feature = "postgres-sqlx")]
mod sqlx_store {
    use super::*;
    use luxcore_ext::webhooks::SqlxStore;
    use luxcore_ext::webhooks::axum::route_in_transaction;
    use sqlx::postgres::PgPoolOptions;

    type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_axum_servers_sqlx_transaction() {
        let url = required_env("LUXCORE_TEST_POSTGRES_URL");
        let mut stores = Vec::new();
        for _ in 0..SERVERS {
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(5))
                .connect(&url)
                .await
                .expect("postgres reachable");
            let store = SqlxStore::new(pool).timeout(Duration::from_millis(500));
            store.migrate().await.expect("schema applied");
            stores.push(store);
        }
        let pool = stores[0].pool().clone();
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS luxcore_test_axum_sqlx_ledger (
                 seq bigserial PRIMARY KEY, payment text NOT NULL, version bigint NOT NULL)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let merchant = Arc::new(Merchant::default());
        let handler = {
            let merchant = Arc::clone(&merchant);
            move |event: Event, mut tx: Tx| {
                let merchant = Arc::clone(&merchant);
                async move {
                    let (payment, version) = merchant.ran(&event);
                    sqlx::query(
                        "INSERT INTO luxcore_test_axum_sqlx_ledger (payment, version) \
                         VALUES ($1, $2)",
                    )
                    .bind(&payment)
                    .bind(version)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| e.to_string())?;
                    // The probes read the handler's view; the checks read the table.
                    merchant.note(payment, version);
                    Ok::<_, String>(tx)
                }
            }
        };
        load_through_axum(
            "sqlx transaction",
            processors(stores),
            |processor| route_in_transaction(processor, handler.clone()),
            Arc::clone(&merchant),
            async |prefix| {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT payment, version FROM luxcore_test_axum_sqlx_ledger \
                     WHERE payment LIKE $1 ORDER BY seq",
                )
                .bind(format!("{prefix}%"))
                .fetch_all(&pool)
                .await
                .unwrap();
                let mut ledger: HashMap<String, Vec<i64>> = HashMap::new();
                for (payment, version) in rows {
                    ledger.entry(payment).or_default().push(version);
                }
                ledger
            },
        )
        .await;
    }
}
