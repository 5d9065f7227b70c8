//! Real webhook deliveries to a local receiver: signatures, retries with backoff,
//! the event log, test and retry endpoints, disabled webhooks, shutdown.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{Harness, eventually, start_default};
use luxcore_api::enums::WebhookDeliveryStatus;
use luxcore_api::types::{WebhookEventList, WebhookResponse};
use luxcore_auth::webhook::{WebhookVerifier, WebhookVerifyError};
use secrecy::SecretString;
use serde_json::{Value, json};

#[derive(Default)]
struct Inbox {
    received: Mutex<Vec<(HeaderMap, Bytes)>>,
    /// When each delivery arrived.
    arrivals: Mutex<Vec<std::time::Instant>>,
    /// Answer 500 to this many deliveries before answering 200.
    failures_left: AtomicUsize,
}

struct Receiver {
    url: String,
    inbox: Arc<Inbox>,
}

impl Receiver {
    async fn start(failures: usize) -> Self {
        let inbox = Arc::new(Inbox::default());
        inbox.failures_left.store(failures, Ordering::SeqCst);
        async fn hook(
            State(inbox): State<Arc<Inbox>>,
            headers: HeaderMap,
            body: Bytes,
        ) -> StatusCode {
            inbox.received.lock().expect("lock").push((headers, body));
            inbox
                .arrivals
                .lock()
                .expect("lock")
                .push(std::time::Instant::now());
            let fail = inbox
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if fail {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            }
        }
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(Arc::clone(&inbox));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver");
        });
        Self { url, inbox }
    }

    fn count(&self) -> usize {
        self.inbox.received.lock().expect("lock").len()
    }

    /// The time between consecutive deliveries.
    fn gaps(&self) -> Vec<Duration> {
        let arrivals = self.inbox.arrivals.lock().expect("lock");
        arrivals.windows(2).map(|w| w[1] - w[0]).collect()
    }

    fn bodies(&self) -> Vec<(HeaderMap, Bytes)> {
        self.inbox.received.lock().expect("lock").clone()
    }

    fn events(&self) -> Vec<String> {
        self.bodies()
            .iter()
            .map(|(_, body)| {
                let v: Value = serde_json::from_slice(body).expect("json");
                v["event"].as_str().unwrap_or_default().to_owned()
            })
            .collect()
    }
}

async fn register(h: &Harness, url: &str, events: &[&str]) -> (String, SecretString) {
    let r = h
        .post("/api/v1/webhooks", json!({"url": url, "events": events}))
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{:#}", r.body);
    let hook: WebhookResponse = r.parse();
    (
        hook.data.id,
        SecretString::from(hook.data.secret.expect("secret")),
    )
}

async fn event_log(h: &Harness, webhook: &str, query: &str) -> WebhookEventList {
    h.get(&format!("/api/v1/webhooks/{webhook}/events{query}"))
        .await
        .parse()
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn deliveries_are_signed_and_logged() {
    let h = start_default().await;
    let rx = Receiver::start(0).await;
    let (hook, secret) = register(
        &h,
        &rx.url,
        &["payment.created", "payment.completed", "balance.updated"],
    )
    .await;
    let id = h.deposit(150_000, "wh_1").await;
    h.server.complete_payment(&id).await.expect("complete");
    eventually(WAIT, || async { (rx.count() == 3).then_some(()) }).await;

    let mut events = rx.events();
    events.sort();
    assert_eq!(
        events,
        ["balance.updated", "payment.completed", "payment.created"]
    );
    for (headers, body) in rx.bodies() {
        verify(&secret, &headers, &body).expect("valid signature");
        let wrong = SecretString::from("whsec_wrong");
        assert!(verify(&wrong, &headers, &body).is_err());
        let envelope: Value = serde_json::from_slice(&body).expect("json");
        assert!(envelope["id"].as_str().expect("id").starts_with("evt_"));
        assert_eq!(
            headers["x-luxcore-event-id"],
            envelope["id"].as_str().expect("id")
        );
        assert!(
            headers["x-luxcore-signature"]
                .to_str()
                .expect("ascii")
                .starts_with("hmac_sha256=")
        );
        assert_eq!(envelope["merchant_id"], 123);
        assert!(envelope["created_at"].is_string());
        match envelope["event"].as_str() {
            Some("balance.updated") => assert_eq!(envelope["data"]["available_amount"], "143250"),
            Some("payment.completed") => {
                assert_eq!(envelope["data"]["id"], id.as_str());
                assert_eq!(envelope["data"]["status"], "completed");
                assert_eq!(envelope["data"]["status_version"], 2);
            }
            _ => assert_eq!(envelope["data"]["status"], "processing"),
        }
    }
    let log = eventually(WAIT, || async {
        let log = event_log(&h, &hook, "").await;
        log.data
            .iter()
            .all(|e| e.status == WebhookDeliveryStatus::Delivered)
            .then_some(log)
    })
    .await;
    assert_eq!(log.total, 3);
    for event in &log.data {
        assert_eq!(event.attempts, Some(1));
        assert_eq!(event.response_status, Some(200));
        assert_eq!(event.webhook_id.as_deref(), Some(hook.as_str()));
        assert!(event.last_attempt_at.is_some());
        assert!(!event.payload.is_empty());
    }
    // Newest first.
    assert_eq!(log.data[0].event_type.as_str(), "balance.updated");
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff() {
    let base = Duration::from_millis(100);
    let h = common::start(
        luxcore_mock::MockConfig::default()
            .without_rate_limits()
            .with_webhook_retry_base(base),
    )
    .await;
    let rx = Receiver::start(2).await;
    let (hook, secret) = register(&h, &rx.url, &["payment.created"]).await;
    h.deposit(1000, "wh_retry").await;
    let log = eventually(WAIT, || async {
        let log = event_log(&h, &hook, "").await;
        (log.data.first()?.status == WebhookDeliveryStatus::Delivered).then_some(log)
    })
    .await;
    assert_eq!(log.data[0].attempts, Some(3));
    assert_eq!(log.data[0].response_status, Some(200));
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 3);
    // Exponential backoff: at least `base`, then at least twice `base`, between attempts
    // (lower bounds only: a slow machine can only make the gaps longer).
    let gaps = rx.gaps();
    assert_eq!(gaps.len(), 2);
    assert!(gaps[0] >= base, "first retry after {:?}", gaps[0]);
    assert!(gaps[1] >= base * 2, "second retry after {:?}", gaps[1]);
    // Same event, re-signed per attempt.
    for (headers, body) in &bodies {
        assert_eq!(body, &bodies[0].1);
        verify(&secret, headers, body).expect("signature");
    }
}

#[tokio::test]
async fn exhausted_deliveries_fail_and_can_be_retried() {
    let h = start_default().await;
    let rx = Receiver::start(usize::MAX).await;
    let (hook, _) = register(&h, &rx.url, &["payment.created", "payment.failed"]).await;
    let id = h.deposit(1000, "wh_fail").await;
    h.server.fail_payment(&id).await.expect("fail");
    let failed = eventually(WAIT, || async {
        let log = event_log(&h, &hook, "?status=failed").await;
        (log.total == 2).then_some(log)
    })
    .await;
    assert!(
        failed
            .data
            .iter()
            .all(|e| e.attempts == Some(5) && e.next_retry_at.is_none())
    );
    assert_eq!(failed.data[0].response_status, Some(500));
    assert_eq!(rx.count(), 10);
    assert_eq!(event_log(&h, &hook, "?status=delivered").await.total, 0);

    // Retry one of them after the receiver recovers.
    rx.inbox.failures_left.store(0, Ordering::SeqCst);
    let target = failed.data[1].id.clone();
    let r = h
        .post(
            &format!("/api/v1/webhooks/{hook}/retry"),
            json!({"event_ids": [target]}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK);
    assert_eq!(r.body["data"]["retried"], 1);
    assert_eq!(r.body["data"]["event_ids"][0], target.as_str());
    eventually(WAIT, || async {
        let log = event_log(&h, &hook, "?status=delivered").await;
        (log.total == 1 && log.data[0].id == target).then_some(())
    })
    .await;
    let retried = event_log(&h, &hook, "?status=delivered").await;
    assert_eq!(retried.data[0].attempts, Some(6));

    // Retry all the remaining failed ones.
    let r = h
        .post_empty(&format!("/api/v1/webhooks/{hook}/retry"))
        .await;
    assert_eq!(r.body["data"]["retried"], 1);
    eventually(WAIT, || async {
        (event_log(&h, &hook, "?status=delivered").await.total == 2).then_some(())
    })
    .await;
}

#[tokio::test]
async fn only_active_subscribed_webhooks_receive_events() {
    let h = start_default().await;
    let rx_on = Receiver::start(0).await;
    let rx_off = Receiver::start(0).await;
    let rx_other = Receiver::start(0).await;
    register(&h, &rx_on.url, &["payment.created"]).await;
    let (off, _) = register(&h, &rx_off.url, &["payment.created"]).await;
    register(&h, &rx_other.url, &["ticket.created"]).await;
    let r = h
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/webhooks/{off}/disable"),
            None,
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK);
    h.deposit(1000, "wh_active").await;
    eventually(WAIT, || async { (rx_on.count() == 1).then_some(()) }).await;
    // A later event for the other webhook proves delivery ran past ours.
    h.post("/api/v1/tickets", json!({"title": "ping"})).await;
    eventually(WAIT, || async { (rx_other.count() == 1).then_some(()) }).await;
    assert_eq!(rx_off.count(), 0);
    assert_eq!(event_log(&h, &off, "").await.total, 0);
    assert_eq!(rx_other.events(), ["ticket.created"]);
    // Test events need an active webhook.
    let r = h.post_empty(&format!("/api/v1/webhooks/{off}/test")).await;
    assert_eq!(r.status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "VALIDATION_ERROR");
}

#[tokio::test]
async fn test_endpoint_delivers_sample_events() {
    let h = start_default().await;
    let rx = Receiver::start(0).await;
    let (hook, secret) = register(&h, &rx.url, &["payment.completed"]).await;
    let r = h.post_empty(&format!("/api/v1/webhooks/{hook}/test")).await;
    assert_eq!(r.status, reqwest::StatusCode::OK);
    assert_eq!(r.body["data"]["event_type"], "webhook.test");
    let r = h
        .post(
            &format!("/api/v1/webhooks/{hook}/test"),
            json!({"event_type": "payment.completed"}),
        )
        .await;
    assert_eq!(r.body["data"]["event_type"], "payment.completed");
    let bad = h
        .post(
            &format!("/api/v1/webhooks/{hook}/test"),
            json!({"event_type": "payment.exploded"}),
        )
        .await;
    assert_eq!(bad.status, reqwest::StatusCode::BAD_REQUEST);
    eventually(WAIT, || async { (rx.count() == 2).then_some(()) }).await;
    let mut events = rx.events();
    events.sort();
    assert_eq!(events, ["payment.completed", "webhook.test"]);
    for (headers, body) in rx.bodies() {
        verify(&secret, &headers, &body).expect("signature");
        let envelope: Value = serde_json::from_slice(&body).expect("json");
        assert!(envelope["data"].is_object());
    }
    let missing = h.post_empty("/api/v1/webhooks/wh_missing/test").await;
    assert_eq!(missing.code(), "NOT_FOUND");
}

#[tokio::test]
async fn webhook_validation() {
    let h = start_default().await;
    let cases = [
        json!({"events": ["payment.created"]}),
        json!({"url": "not a url", "events": ["payment.created"]}),
        json!({"url": "https://exa mple.com/x", "events": ["payment.created"]}),
        json!({"url": "/relative/path", "events": ["payment.created"]}),
        json!({"url": null, "events": ["payment.created"]}),
        json!({"url": "https://example.com/x"}),
        json!({"url": "https://example.com/x", "events": []}),
        json!({"url": "https://example.com/x", "events": ["payment.exploded"]}),
        json!({"url": "https://example.com/x", "events": "payment.created"}),
        json!({"url": "https://example.com/x", "events": ["payment.created"], "signature_algorithm": "md5"}),
    ];
    for body in cases {
        let r = h.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(r.status, reqwest::StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.body["error"], "Bad Request");
    }
}

#[tokio::test]
async fn shutdown_stops_pending_retries() {
    let h = common::start(
        luxcore_mock::MockConfig::default()
            .without_rate_limits()
            .with_webhook_retry_base(Duration::from_millis(200)),
    )
    .await;
    let rx = Receiver::start(usize::MAX).await;
    register(&h, &rx.url, &["payment.created"]).await;
    h.deposit(1000, "wh_shutdown").await;
    eventually(WAIT, || async { (rx.count() >= 1).then_some(()) }).await;
    let Harness { server, .. } = h;
    let addr = server.addr();
    drop(server);
    let after_drop = rx.count();
    // The server really stopped: its port refuses connections.
    eventually(WAIT, || async {
        tokio::net::TcpStream::connect(addr)
            .await
            .is_err()
            .then_some(())
    })
    .await;
    // Without shutdown the four retries would all have arrived 200 + 400 + 800 + 1600 ms
    // after the first attempt; wait past that, so a slow machine cannot hide them.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let total = rx.count();
    assert!(
        total <= after_drop + 1,
        "deliveries continued after shutdown: {after_drop} at shutdown, {total} later"
    );
    assert!(total < 5, "all {total} attempts were delivered");
}

/// Verifies a delivery with the endpoint secret, as a merchant would (default scheme, 300 s).
fn verify(
    secret: &SecretString,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) -> Result<(), WebhookVerifyError> {
    WebhookVerifier::new(secret.clone())
        .verify(headers, body)
        .map(|_| ())
}
