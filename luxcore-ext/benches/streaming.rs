//! Streaming 5,000 payments (50 pages of 100) from luxcore-mock with 20 ms injected latency per
//! request: concurrency 4 against sequential (1), with and without `eager` (the first 4 pages
//! requested together instead of the first page alone). Target: >= 3.5x faster.

use luxcore_ext::Money;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::TryStreamExt;
use luxcore_ext::client::LuxCore;
use luxcore_ext::pagination::Paging;
use luxcore_ext::payments::PaymentFilter;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, FaultConfig, MockConfig, MockServer};

const PAYMENTS: usize = 5_000;

fn streaming(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (mock, client) = rt.block_on(async {
        let mock = MockServer::start(MockConfig::default().without_rate_limits())
            .await
            .expect("mock starts");
        let client = LuxCore::builder()
            .base_url(mock.base_url())
            .api_key(DEFAULT_API_KEY)
            .build()
            .expect("client");
        for i in 0..PAYMENTS {
            let request = PaymentRequest::deposit(
                Money::new(1_000 + i as i64, Currency::MXN),
                PaymentMethod::Spei,
                format!("bench-stream-{i}"),
            )
            .build()
            .expect("request");
            client.payments().create(request).await.expect("created");
        }
        (mock, client)
    });

    // Baseline without injected latency: what the 50 pages cost in processing alone (mock
    // serialization, transfer, client decoding).
    let mut baseline = c.benchmark_group("stream_5000_payments_no_latency");
    baseline.sample_size(10);
    baseline.bench_function("concurrency_1", |b| {
        b.to_async(&rt).iter(|| async {
            let paging = Paging::new().page_size(100).concurrency(1);
            let all: Vec<_> = client
                .payments()
                .paging(paging)
                .stream(PaymentFilter::new())
                .try_collect()
                .await
                .expect("stream");
            assert_eq!(all.len(), PAYMENTS);
            all
        })
    });
    baseline.finish();

    let latency = FaultConfig {
        latency: Duration::from_millis(20),
        ..FaultConfig::default()
    };
    rt.block_on(mock.set_faults(latency)).expect("faults");

    let mut group = c.benchmark_group("stream_5000_payments_20ms_latency");
    group.sample_size(10);
    for (name, concurrency, eager) in [
        ("concurrency_1", 1usize, false),
        ("concurrency_4", 4, false),
        ("concurrency_4_eager", 4, true),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let paging = Paging::new()
                    .page_size(100)
                    .concurrency(concurrency)
                    .eager(eager);
                let all: Vec<_> = client
                    .payments()
                    .paging(paging)
                    .stream(PaymentFilter::new())
                    .try_collect()
                    .await
                    .expect("stream");
                assert_eq!(all.len(), PAYMENTS);
                all
            })
        });
    }
    group.finish();
    drop(mock);
}

criterion_group!(benches, streaming);
criterion_main!(benches);
