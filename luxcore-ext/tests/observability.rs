//! Issue 25: spans after the OpenTelemetry HTTP client conventions (checked with
//! `tracing-opentelemetry` and the OpenTelemetry SDK's in-memory exporter), metrics through
//! the `metrics` facade (checked with `metrics-util`'s debugging recorder), and nothing
//! secret or personal in any span attribute, event or metric label.

mod client_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use client_support::*;
use http::HeaderMap;
use luxcore_ext::Money;
use luxcore_ext::metrics::{
    CALL_ATTEMPTS, CALL_DURATION, HTTP_CLIENT_REQUEST_DURATION, RETRIES, THROTTLED,
    WEBHOOK_DELIVERIES, WEBHOOK_STORE_DURATION,
};
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::types::Customer;
use luxcore_ext::webhooks::{HEADER_SIGNATURE, HEADER_TIMESTAMP, MemoryStore, WebhookProcessor};
use luxcore_ext::{Currency, PaymentMethod, WebhookVerifier};
use luxcore_mock::{Fault, FaultConfig};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt as _;

const WEBHOOK_SECRET: &str = "whsec_observability_secret";
const CUSTOMER: [&str; 4] = [
    "Maria Garcia Observada",
    "maria.observada@example.com",
    "+5491187654321",
    "DNI-31999888",
];

/// One metric of the snapshot: name, labels, value.
type Metric = (String, Vec<(String, String)>, DebugValue);

/// Runs `scenario` on a current-thread runtime with an OpenTelemetry tracing layer and a
/// debugging metrics recorder installed for this thread; returns the finished spans and
/// the metrics snapshot.
fn observed(scenario: impl std::future::Future<Output = ()>) -> (Vec<SpanData>, Vec<Metric>) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("luxcore-test")));
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        metrics::with_local_recorder(&recorder, || runtime.block_on(scenario));
    });
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let metrics = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (_, key) = key.into_parts();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, value)
        })
        .collect();
    (spans, metrics)
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn signed(body: &[u8]) -> HeaderMap {
    let now = luxcore_auth::unix_now();
    let signature = luxcore_auth::webhook::sign_v1(&WEBHOOK_SECRET.into(), now, body);
    let mut headers = HeaderMap::new();
    headers.insert(HEADER_SIGNATURE, signature.parse().unwrap());
    headers.insert(HEADER_TIMESTAMP, now.to_string().parse().unwrap());
    headers
}

fn customer() -> Customer {
    Customer {
        name: Some(CUSTOMER[0].into()),
        email: Some(CUSTOMER[1].into()),
        phone: Some(CUSTOMER[2].into()),
        document: Some(CUSTOMER[3].into()),
    }
}

/// A retried creation: one call span named after the operation with two attempt spans
/// (the second with `http.request.resend_count` 1), conventional attributes, the request
/// id from `X-Request-Id`, and a retry event.
#[test]
fn a_retried_creation_is_one_call_span_with_two_attempt_spans() {
    let reference = unique_ref("otel");
    let (spans, _) = observed(async {
        let (server, client) = mock().await;
        server
            .set_faults(FaultConfig::scheduled([Fault::Status(503)]))
            .await
            .unwrap();
        let request = PaymentRequest::deposit(
            Money::new(150_000, Currency::ARS),
            PaymentMethod::BankTransfer,
            &reference,
        )
        .build()
        .unwrap();
        client.payments().create(request).await.unwrap();
    });
    let calls: Vec<_> = spans.iter().filter(|s| s.name == "createPayment").collect();
    assert_eq!(
        calls.len(),
        1,
        "{:#?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let call = calls[0];
    assert_eq!(
        attr(call, "luxcore.operation").as_deref(),
        Some("createPayment")
    );
    assert_eq!(attr(call, "luxcore.api_version").as_deref(), Some("v1"));
    assert_eq!(
        attr(call, "luxcore.merchant_reference"),
        Some(reference.clone())
    );
    assert_eq!(attr(call, "luxcore.attempts").as_deref(), Some("2"));
    assert_eq!(
        attr(call, "http.response.status_code").as_deref(),
        Some("201")
    );
    let mut attempts: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_span_id == call.span_context.span_id())
        .collect();
    attempts.sort_by_key(|s| s.start_time);
    assert_eq!(attempts.len(), 2);
    for (i, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt.name, "POST /api/v1/payments");
        assert_eq!(attempt.span_kind, opentelemetry::trace::SpanKind::Client);
        assert_eq!(
            attr(attempt, "http.request.method").as_deref(),
            Some("POST")
        );
        assert_eq!(
            attr(attempt, "url.template").as_deref(),
            Some("/api/v1/payments")
        );
        assert_eq!(
            attr(attempt, "server.address").as_deref(),
            Some("127.0.0.1")
        );
        assert!(attr(attempt, "server.port").is_some());
        let request_id = attr(attempt, "luxcore.request_id").unwrap_or_default();
        assert!(
            request_id.starts_with("req_"),
            "attempt {i}: {request_id:?}"
        );
        assert_eq!(
            attr(attempt, "http.request.resend_count"),
            (i == 1).then(|| "1".to_owned())
        );
    }
    assert_eq!(
        attr(attempts[0], "http.response.status_code").as_deref(),
        Some("503")
    );
    assert_eq!(attr(attempts[0], "error.type").as_deref(), Some("api"));
    assert_eq!(
        attr(attempts[1], "http.response.status_code").as_deref(),
        Some("201")
    );
    assert_eq!(attr(attempts[1], "error.type"), None);
    // The backoff shows as an event of the call span, with its duration.
    let retry = call
        .events
        .iter()
        .find(|e| e.name == "luxcore: retrying")
        .expect("a retry event");
    assert!(
        retry
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "delay_ms")
    );
}

fn sum(metrics: &[Metric], name: &str) -> (u64, usize) {
    let mut counter = 0;
    let mut samples = 0;
    for (metric, _, value) in metrics.iter().filter(|(n, _, _)| n == name) {
        match value {
            DebugValue::Counter(n) => counter += n,
            DebugValue::Histogram(values) => samples += values.len(),
            DebugValue::Gauge(_) => {}
        }
        let _ = metric;
    }
    (counter, samples)
}

fn labelled<'a>(metrics: &'a [Metric], name: &str, key: &str, value: &str) -> Vec<&'a DebugValue> {
    metrics
        .iter()
        .filter(|(n, labels, _)| n == name && labels.iter().any(|(k, v)| k == key && v == value))
        .map(|(_, _, v)| v)
        .collect()
}

/// A scripted run against luxcore-mock with one 429 and one 500, and three webhook
/// deliveries: the counts and histograms of every metric.
#[test]
fn a_scripted_run_records_every_metric() {
    let (_, metrics) = observed(async {
        let (server, client) = mock().await;
        server
            .set_faults(FaultConfig::scheduled([
                Fault::Status(429),
                Fault::Status(500),
            ]))
            .await
            .unwrap();
        client.balance().all().await.unwrap();
        let processor =
            WebhookProcessor::new(WebhookVerifier::new(WEBHOOK_SECRET), MemoryStore::new());
        let body = br#"{"id":"evt_m1","event":"payment.completed","data":{"id":"pay_m1","amount":1,"currency":"ARS","status":"completed","status_version":1}}"#;
        for headers in [signed(body), signed(body), HeaderMap::new()] {
            processor
                .handle(&headers, body, |_| async { Ok::<_, String>(()) })
                .await;
        }
    });
    assert_eq!(sum(&metrics, RETRIES).0, 2, "{metrics:#?}");
    assert_eq!(
        labelled(&metrics, RETRIES, "reason", "rate_limited").len(),
        1
    );
    assert_eq!(
        labelled(&metrics, RETRIES, "http.response.status_code", "500").len(),
        1
    );
    assert_eq!(sum(&metrics, THROTTLED).0, 1);
    assert_eq!(sum(&metrics, HTTP_CLIENT_REQUEST_DURATION).1, 3);
    for status in ["429", "500", "200"] {
        assert_eq!(
            labelled(
                &metrics,
                HTTP_CLIENT_REQUEST_DURATION,
                "http.response.status_code",
                status
            )
            .len(),
            1,
            "{status}"
        );
    }
    assert_eq!(sum(&metrics, CALL_DURATION).1, 1);
    assert_eq!(labelled(&metrics, CALL_DURATION, "outcome", "ok").len(), 1);
    let attempts = labelled(
        &metrics,
        CALL_ATTEMPTS,
        "luxcore.operation",
        "getAllBalances",
    );
    assert!(
        matches!(attempts.as_slice(), [DebugValue::Histogram(v)] if v.len() == 1 && v[0].into_inner() == 3.0),
        "{attempts:?}"
    );
    for (outcome, status) in [
        ("processed", "200"),
        ("skipped", "200"),
        ("rejected", "400"),
    ] {
        let found = labelled(&metrics, WEBHOOK_DELIVERIES, "outcome", outcome);
        assert!(
            matches!(found.as_slice(), [DebugValue::Counter(1)]),
            "{outcome}: {found:?}"
        );
        assert!(metrics.iter().any(|(n, labels, _)| n == WEBHOOK_DELIVERIES
            && labels.contains(&("outcome".into(), outcome.into()))
            && labels.contains(&("http.response.status_code".into(), status.into()))));
    }
    assert_eq!(
        labelled(
            &metrics,
            WEBHOOK_STORE_DURATION,
            "luxcore.webhook.store",
            "memory"
        )
        .len(),
        2,
        "begin and commit"
    );
    assert_eq!(
        sum(&metrics, WEBHOOK_STORE_DURATION).1,
        3,
        "two begins, one commit"
    );
}

/// Every span attribute, event attribute and metric label of a tour-sized run (v1 and v2,
/// HMAC-signed creation with customer data, a withdrawal, reads, lists, a failed call,
/// webhooks) is free of the credentials, the webhook secret and the customer's data.
#[test]
fn nothing_secret_or_personal_in_spans_or_metrics() {
    let (spans, metrics) = observed(async {
        let (server, client) = mock().await;
        let v2 = client_v2(&server.base_url());
        for (client, name) in [(&client, "v1"), (&v2, "v2")] {
            let created = client
                .payments()
                .create(
                    PaymentRequest::deposit(
                        Money::new(150_000, Currency::ARS),
                        PaymentMethod::BankTransfer,
                        unique_ref(name),
                    )
                    .customer(customer())
                    .build()
                    .unwrap(),
                )
                .await
                .unwrap()
                .into_inner();
            let id = created
                .transaction_id
                .clone()
                .or(created.id.clone())
                .unwrap();
            client.payments().get(&id).await.unwrap();
            client.balance().all().await.unwrap();
        }
        let _ = client
            .payments()
            .create(
                PaymentRequest::withdrawal(
                    Money::new(1_000, Currency::MXN),
                    PaymentMethod::Spei,
                    unique_ref("w"),
                )
                .customer(customer())
                .payout_field("clabe", "002010077777777771")
                .build()
                .unwrap(),
            )
            .await;
        let _ = client.payments().get("pay_does_not_exist").await;
        let _ = client
            .payments()
            .list(luxcore_ext::payments::PaymentFilter::new())
            .await
            .unwrap();
        let processor = WebhookProcessor::new(
            WebhookVerifier::new(WEBHOOK_SECRET),
            Arc::new(MemoryStore::new()),
        );
        let body = serde_json::to_vec(&serde_json::json!({"id": "evt_s1", "event": "payment.completed",
            "data": {"id": "pay_s1", "amount": 1, "currency": "ARS", "status": "completed",
                     "status_version": 1, "customer": {"name": CUSTOMER[0], "email": CUSTOMER[1]}}}))
        .unwrap();
        processor
            .handle(&signed(&body), &body, |_| async { Ok::<_, String>(()) })
            .await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    });
    let forbidden: Vec<&str> = [KEY, SECRET, WEBHOOK_SECRET, "hmac_sha256="]
        .into_iter()
        .chain(CUSTOMER)
        .collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut check = |what: String, value: String| {
        for secret in &forbidden {
            assert!(
                !value.contains(secret),
                "{what} = {value:?} contains {secret:?}"
            );
        }
        *seen.entry(what).or_default() += 1;
    };
    for span in &spans {
        check(format!("span name {}", span.name), span.name.to_string());
        for kv in &span.attributes {
            check(format!("span attribute {}", kv.key), kv.value.to_string());
        }
        for event in span.events.iter() {
            for kv in &event.attributes {
                check(format!("event attribute {}", kv.key), kv.value.to_string());
            }
        }
    }
    for (name, labels, _) in &metrics {
        for (key, value) in labels {
            check(format!("{name} label {key}"), value.clone());
        }
    }
    // The walk covered the spans and metrics of every part of the run.
    // 9 calls (2 x create, get, balance; a withdrawal, a failed get, a list), 2 spans each.
    assert_eq!(spans.len(), 18, "{} spans", spans.len());
    for needed in [
        "span attribute url.template",
        "span attribute luxcore.request_id",
        "span attribute luxcore.merchant_reference",
        "luxcore.webhook.deliveries label outcome",
        "http.client.request.duration label url.template",
    ] {
        assert!(seen.contains_key(needed), "{needed} not recorded: {seen:?}");
    }
}
