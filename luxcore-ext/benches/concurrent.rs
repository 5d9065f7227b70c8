//! Throughput with many requests in flight: 20,000 `client.payments().get(id)`, 64 in flight,
//! against hand-written reqwest + serde_json decoding into the same generated
//! `PaymentResponse`, both against the same in-process luxcore-mock (rate limits off), in one
//! run. Target: SDK / raw <= 1.05 (best of 5 rounds each, rounds alternated).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::{StreamExt, stream};
use luxcore_api::types::PaymentResponse;
use luxcore_ext::client::LuxCore;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};

const REQUESTS: usize = 20_000;
const IN_FLIGHT: usize = 64;

struct Setup {
    client: LuxCore,
    raw: reqwest::Client,
    id: String,
    url: String,
}

impl Setup {
    async fn sdk_round(&self) -> Duration {
        let started = Instant::now();
        stream::iter(0..REQUESTS)
            .map(|_| async { self.client.payments().get(&self.id).await.expect("get") })
            .buffer_unordered(IN_FLIGHT)
            .for_each(|payment| async move {
                std::hint::black_box(payment);
            })
            .await;
        started.elapsed()
    }

    async fn raw_round(&self) -> Duration {
        let started = Instant::now();
        stream::iter(0..REQUESTS)
            .map(|_| async {
                let response = self
                    .raw
                    .get(&self.url)
                    .header("X-API-Key", DEFAULT_API_KEY)
                    .send()
                    .await
                    .expect("send");
                assert!(response.status().is_success());
                let bytes = response.bytes().await.expect("body");
                serde_json::from_slice::<PaymentResponse>(&bytes)
                    .expect("decode")
                    .data
            })
            .buffer_unordered(IN_FLIGHT)
            .for_each(|payment| async move {
                std::hint::black_box(payment);
            })
            .await;
        started.elapsed()
    }
}

fn concurrent(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (mock, setup) = rt.block_on(async {
        let mock = MockServer::start(MockConfig::default().without_rate_limits())
            .await
            .expect("mock starts");
        let client = LuxCore::builder()
            .base_url(mock.base_url())
            .api_key(DEFAULT_API_KEY)
            .build()
            .expect("client");
        let request = PaymentRequest::deposit(
            150_000,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            "bench-64",
        )
        .build()
        .expect("request");
        let payment = client.payments().create(request).await.expect("created");
        let payment = payment.into_inner();
        let id = payment.id.or(payment.transaction_id).expect("payment id");
        // The same transport settings as the SDK's defaults, as a careful merchant would.
        let raw = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest client");
        let url = format!("{}/api/v1/payments/{id}", mock.base_url());
        let setup = Setup {
            client,
            raw,
            id,
            url,
        };
        (mock, setup)
    });

    // Side by side, best of 5 rounds each, alternated (both warmed up first).
    let (sdk, raw) = rt.block_on(async {
        setup.sdk_round().await;
        setup.raw_round().await;
        let (mut sdk, mut raw) = (Duration::MAX, Duration::MAX);
        for _ in 0..5 {
            sdk = sdk.min(setup.sdk_round().await);
            raw = raw.min(setup.raw_round().await);
        }
        (sdk, raw)
    });
    println!(
        "get_payment x{REQUESTS}, {IN_FLIGHT} in flight, best of 5: luxcore_ext {:.3} s vs raw {:.3} s = {:.3}x",
        sdk.as_secs_f64(),
        raw.as_secs_f64(),
        sdk.as_secs_f64() / raw.as_secs_f64()
    );

    let mut group = c.benchmark_group("get_payment_20000_64_in_flight");
    group.sample_size(10);
    group.bench_function("luxcore_ext", |b| {
        b.to_async(&rt).iter(|| setup.sdk_round())
    });
    group.bench_function("raw_reqwest_serde_json", |b| {
        b.to_async(&rt).iter(|| setup.raw_round())
    });
    group.finish();
    drop(mock);
}

criterion_group!(benches, concurrent);
criterion_main!(benches);
