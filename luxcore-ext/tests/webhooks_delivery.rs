//! The `webhook_receiver` example (the SDK's axum route over a `WebhookProcessor`) against
//! real deliveries from luxcore-mock: verified, parsed, ordered by `status_version`; plus
//! out-of-order, duplicate, tampered, stale and wrongly signed deliveries.

#[allow(dead_code)]
#[path = "../examples/webhook_receiver.rs"]
mod receiver;

use luxcore_ext::Money;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use luxcore_ext::api::enums::WebhookEventType;
use luxcore_ext::auth::webhook::{DEFAULT_TOLERANCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign_v1};
use luxcore_ext::client::LuxCore;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::webhooks::{Event, EventKind};
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};
use receiver::{PATH, Receiver};
use secrecy::SecretString;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const PAYMENT_EVENTS: [WebhookEventType; 5] = [
    WebhookEventType::PaymentCreated,
    WebhookEventType::PaymentCompleted,
    WebhookEventType::PaymentFailed,
    WebhookEventType::PaymentCancelled,
    WebhookEventType::PaymentRefunded,
];

async fn setup() -> (MockServer, LuxCore) {
    let server = MockServer::start(
        MockConfig::default()
            .without_rate_limits()
            .with_webhook_retry_base(Duration::from_millis(20)),
    )
    .await
    .expect("mock starts");
    let client = LuxCore::builder()
        .base_url(server.base_url())
        .api_key(DEFAULT_API_KEY)
        .build()
        .expect("client builds");
    (server, client)
}

/// A receiver registered with the mock and being served.
struct Running {
    receiver: Arc<Receiver>,
    url: String,
    secret: String,
    webhook_id: String,
    task: JoinHandle<std::io::Result<()>>,
}

/// Binds the receiver, registers it with the mock and serves it with the issued secret
/// (or `secret_override`).
async fn start_receiver(client: &LuxCore, secret_override: Option<&str>) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}{PATH}", listener.local_addr().expect("addr"));
    let webhook = client
        .webhook_endpoints()
        .create_for(url.clone(), PAYMENT_EVENTS)
        .await
        .expect("webhook created");
    let issued = webhook.secret.expect("secret issued at creation");
    let secret = secret_override.map_or(issued, str::to_owned);
    let receiver = Arc::new(Receiver::default());
    let task = tokio::spawn(receiver::serve(
        listener,
        SecretString::from(secret.clone()),
        Arc::clone(&receiver),
    ));
    Running {
        receiver,
        url,
        secret,
        webhook_id: webhook.id,
        task,
    }
}

async fn deposit(client: &LuxCore, reference: &str) -> String {
    let request = PaymentRequest::deposit(
        Money::new(150_000, Currency::ARS),
        PaymentMethod::Card,
        reference,
    )
    .build()
    .expect("valid request");
    let created = client.payments().create(request).await.expect("created");
    created.into_inner().id.expect("payment id")
}

/// Polls `done` every 20 ms, for at most 20 s.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Highest applied status_version per payment.
fn applied_versions(events: &[Event]) -> HashMap<String, i64> {
    let mut versions = HashMap::new();
    for event in events {
        if let (Some(id), Some(v)) = (event.payment_id(), event.status_version()) {
            let entry = versions.entry(id.to_owned()).or_insert(v);
            *entry = (*entry).max(v);
        }
    }
    versions
}

#[tokio::test]
async fn real_deliveries_verified_guarded_and_acknowledged() {
    let (server, client) = setup().await;
    let running = start_receiver(&client, None).await;
    let receiver = &running.receiver;

    // 8 deposits: 3 completed (1 of them then refunded), 2 failed, 1 cancelled, 2 left open.
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(deposit(&client, &format!("wh_{i}")).await);
    }
    for id in &ids[..3] {
        server.complete_payment(id).await.unwrap();
    }
    server.refund_payment(&ids[0], None).await.unwrap();
    for id in &ids[3..5] {
        server.fail_payment(id).await.unwrap();
    }
    client.payments().cancel(&ids[5]).await.unwrap();
    let expected: HashMap<String, (i64, &str)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let last = match i {
                0 => (3, "payment.refunded"),
                1 | 2 => (2, "payment.completed"),
                3 | 4 => (2, "payment.failed"),
                5 => (2, "payment.cancelled"),
                _ => (1, "payment.created"),
            };
            (id.clone(), last)
        })
        .collect();

    wait_until("the final version of every payment", || {
        let versions = applied_versions(&receiver.applied());
        expected
            .iter()
            .all(|(id, (v, _))| versions.get(id) == Some(v))
    })
    .await;
    // Every delivery verified: 15 events in total (8 created + 7 status changes).
    wait_until("all deliveries acknowledged", || {
        receiver.statuses().iter().filter(|s| **s == 200).count() >= 15
    })
    .await;
    assert!(
        !receiver.statuses().contains(&400),
        "{:?}",
        receiver.statuses()
    );

    let applied = receiver.applied();
    // Per payment, applied versions strictly increase (older deliveries were ignored),
    // and the last one is the final status.
    let mut last: HashMap<&str, (i64, &str)> = HashMap::new();
    for event in &applied {
        let id = event.payment_id().expect("payment event");
        let version = event.status_version().expect("versioned");
        if let Some((previous, _)) = last.get(id) {
            assert!(version > *previous, "{id}: v{version} after v{previous}");
        }
        last.insert(id, (version, event.name()));
        assert!(event.id().is_some_and(|e| e.starts_with("evt_")));
        assert_eq!(event.merchant_id(), Some(123));
        assert_eq!(event.payment().unwrap().status_version, Some(version));
    }
    for (id, (version, name)) in &expected {
        assert_eq!(last.get(id.as_str()), Some(&(*version, *name)), "{id}");
    }
    // No payment event was applied twice.
    let mut keys: Vec<(String, i64)> = applied
        .iter()
        .map(|e| {
            (
                e.payment_id().unwrap().to_owned(),
                e.status_version().unwrap(),
            )
        })
        .collect();
    let before = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), before);
    assert!(matches!(
        applied.iter().find(|e| e.name() == "payment.refunded").map(Event::kind),
        Some(EventKind::PaymentRefunded(p)) if p.status.as_str() == "refunded"
    ));

    // A test event sent through the API arrives verified and is accepted (unversioned).
    client
        .webhook_endpoints()
        .test(&running.webhook_id, None)
        .await
        .unwrap();
    wait_until("the test event", || {
        receiver
            .applied()
            .iter()
            .any(|e| matches!(e.kind(), EventKind::WebhookTest(_)))
    })
    .await;
    assert!(
        !receiver.statuses().contains(&400),
        "{:?}",
        receiver.statuses()
    );
    running.task.abort();
}

#[tokio::test]
async fn wrong_secret_rejects_real_deliveries() {
    let (_server, client) = setup().await;
    let running = start_receiver(&client, Some("whsec_not_the_issued_one")).await;
    let receiver = &running.receiver;
    deposit(&client, "wrong_secret").await;
    wait_until("a rejected delivery", || receiver.statuses().contains(&400)).await;
    assert!(receiver.applied().is_empty());
    assert!(
        receiver.statuses().iter().all(|s| *s == 400),
        "{:?}",
        receiver.statuses()
    );
    running.task.abort();
}

/// A timestamp skew the receiver must reject: the default tolerance plus a minute, so
/// that no clock tick between signing and verifying can bring it back inside.
const OUTSIDE_TOLERANCE: i64 = DEFAULT_TOLERANCE.as_secs() as i64 + 60;

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Signs `body` as the mock would, at `timestamp`.
fn signed(secret: &str, timestamp: i64, body: &[u8]) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    let signature = sign_v1(&SecretString::from(secret.to_owned()), timestamp, body);
    headers.insert(HEADER_SIGNATURE, signature.parse().unwrap());
    headers.insert(HEADER_TIMESTAMP, timestamp.to_string().parse().unwrap());
    headers
}

fn payment_event(event_id: &str, name: &str, status: &str, version: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": event_id, "event": name, "created_at": "2026-05-01T10:00:00Z", "merchant_id": 123,
        "data": {"id": "pay_0000000001_abcdefgh", "transaction_id": "pay_0000000001_abcdefgh",
            "amount": 150000, "currency": "ARS", "status": status, "type": "deposit",
            "fee": 6750, "net_amount": 143250, "status_version": version}
    }))
    .unwrap()
}

#[tokio::test]
async fn out_of_order_duplicate_tampered_and_stale_deliveries() {
    let (_server, client) = setup().await;
    let running = start_receiver(&client, None).await;
    let (receiver, url, secret) = (&running.receiver, &running.url, &running.secret);
    let http = reqwest::Client::new();
    let now = chrono::Utc::now().timestamp();
    let post = |body: Vec<u8>, headers: reqwest::header::HeaderMap| {
        let request = http.post(url).headers(headers).body(body);
        async move {
            request
                .send()
                .await
                .expect("receiver answers")
                .status()
                .as_u16()
        }
    };

    let v1 = payment_event("evt_1", "payment.created", "processing", 1);
    let v3 = payment_event("evt_3", "payment.refunded", "refunded", 3);
    let v2 = payment_event("evt_2", "payment.completed", "completed", 2);
    assert_eq!(post(v1.clone(), signed(secret, now, &v1)).await, 200);
    assert_eq!(post(v3.clone(), signed(secret, now, &v3)).await, 200);
    // Older than what was applied: acknowledged, ignored.
    assert_eq!(post(v2.clone(), signed(secret, now, &v2)).await, 200);
    // The same delivery again (a retry): acknowledged, ignored.
    assert_eq!(post(v3.clone(), signed(secret, now + 1, &v3)).await, 200);
    let names: Vec<String> = receiver
        .applied()
        .iter()
        .map(|e| e.name().to_owned())
        .collect();
    assert_eq!(names, ["payment.created", "payment.refunded"]);

    // Unversioned events are de-duplicated by their id: the repeat is acknowledged, not
    // applied again.
    let webhook_test = br#"{"id":"evt_t","event":"webhook.test","data":{}}"#.to_vec();
    assert_eq!(
        post(webhook_test.clone(), signed(secret, now, &webhook_test)).await,
        200
    );
    assert_eq!(
        post(webhook_test.clone(), signed(secret, now, &webhook_test)).await,
        200
    );
    assert_eq!(receiver.applied().len(), 3);

    // Rejected with 400, nothing applied.
    let fresh = payment_event("evt_9", "payment.completed", "completed", 9);
    let mut tampered = fresh.clone();
    let position = tampered.iter().position(|b| *b == b'9').unwrap();
    tampered[position] = b'8';
    let cases: Vec<(&str, Vec<u8>, reqwest::header::HeaderMap)> = vec![
        ("tampered body", tampered, signed(secret, now, &fresh)),
        // Outside the tolerance by a clear margin, from a fresh clock reading: `now` was
        // read several round trips ago, and a second ticking over must not bring a
        // "future" timestamp back inside the window.
        (
            "stale timestamp",
            fresh.clone(),
            signed(secret, unix_now() - OUTSIDE_TOLERANCE, &fresh),
        ),
        (
            "future timestamp",
            fresh.clone(),
            signed(secret, unix_now() + OUTSIDE_TOLERANCE, &fresh),
        ),
        (
            "wrong secret",
            fresh.clone(),
            signed("whsec_other", now, &fresh),
        ),
        (
            "no headers",
            fresh.clone(),
            reqwest::header::HeaderMap::new(),
        ),
        (
            "signed garbage",
            b"{not json".to_vec(),
            signed(secret, now, b"{not json"),
        ),
    ];
    for (what, body, headers) in cases {
        assert_eq!(post(body, headers).await, 400, "{what}");
    }
    let rejected = receiver.statuses().iter().filter(|s| **s == 400).count();
    assert_eq!(rejected, 6, "{:?}", receiver.statuses());
    assert_eq!(receiver.applied().len(), 3);
    // The untampered body still applies: rejections recorded nothing in the store.
    assert_eq!(post(fresh.clone(), signed(secret, now, &fresh)).await, 200);
    assert_eq!(receiver.applied().len(), 4);
    running.task.abort();
}
