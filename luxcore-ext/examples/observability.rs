//! Prints the spans and metrics of a short run against a local luxcore-mock: a payment
//! creation retried after an injected 503, a balance read, and a webhook delivery.
//!
//! ```sh
//! cargo run -p luxcore-ext --example observability --features metrics
//! ```
//!
//! Spans go through `tracing-opentelemetry` into the OpenTelemetry SDK (here an in-memory
//! exporter; in production an OTLP exporter), metrics through the `metrics` facade (here
//! `metrics-util`'s debugging recorder; in production e.g. `metrics-exporter-prometheus`).

use luxcore_ext::prelude::*;
use luxcore_ext::webhooks::{HEADER_SIGNATURE, HEADER_TIMESTAMP};
use luxcore_mock::{Fault, FaultConfig, MockConfig, MockServer};
use metrics_util::debugging::DebuggingRecorder;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;

async fn run() -> luxcore_ext::Result<()> {
    let server = MockServer::start(MockConfig::default().without_rate_limits())
        .await
        .expect("mock starts");
    let client = LuxCore::builder()
        .base_url(server.base_url())
        .api_key(luxcore_mock::DEFAULT_API_KEY)
        .build()?;
    server
        .set_faults(FaultConfig::scheduled([Fault::Status(503)]))
        .await
        .expect("faults set");
    let request = PaymentRequest::deposit(
        Money::new(150_000, Currency::ARS),
        PaymentMethod::BankTransfer,
        "order_observability_1",
    )
    .build()?;
    client.payments().create(request).await?;
    client.balance().all().await?;
    let secret = "whsec_example";
    let processor = WebhookProcessor::new(WebhookVerifier::new(secret), MemoryStore::new());
    let body = br#"{"id":"evt_1","event":"webhook.test","data":{}}"#;
    let now = luxcore_ext::auth::unix_now();
    let mut headers = http::HeaderMap::new();
    let signature = luxcore_ext::auth::webhook::sign_v1(&secret.into(), now, body);
    headers.insert(HEADER_SIGNATURE, signature.parse().expect("header value"));
    headers.insert(
        HEADER_TIMESTAMP,
        now.to_string().parse().expect("header value"),
    );
    let outcome = processor
        .handle(&headers, body, |_| async { Ok::<_, String>(()) })
        .await;
    println!("webhook: {outcome}");
    Ok(())
}

fn main() -> luxcore_ext::Result<()> {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    // The SDK's spans and events only (not hyper's connection-pool traces).
    let only_the_sdk = tracing_subscriber::filter::Targets::new()
        .with_target("luxcore_ext", tracing::Level::DEBUG);
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("observability"))
            .with_filter(only_the_sdk),
    );
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::subscriber::with_default(subscriber, || {
        metrics::with_local_recorder(&recorder, || runtime.block_on(run()))
    })?;
    let _ = provider.force_flush();
    println!("\n== spans");
    for span in exporter.get_finished_spans().unwrap_or_default() {
        let attributes: Vec<String> = span
            .attributes
            .iter()
            .map(|kv| format!("{}={}", kv.key, kv.value))
            .collect();
        println!(
            "{} [{:?}] {}",
            span.name,
            span.span_kind,
            attributes.join(" ")
        );
        for event in span.events.iter() {
            let attributes: Vec<String> = event
                .attributes
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect();
            println!("    event {} {}", event.name, attributes.join(" "));
        }
    }
    println!("\n== metrics");
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let (kind, key) = key.into_parts();
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        println!(
            "{kind:?} {} {{{}}} {value:?}",
            key.name(),
            labels.join(", ")
        );
    }
    Ok(())
}
