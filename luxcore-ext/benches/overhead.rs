//! Per-request overhead of the SDK: `client.payments().get(id)` against a hand-written raw
//! reqwest + serde_json call of the same endpoint, both against the same local luxcore-mock in
//! one run. Target: SDK / raw <= 1.05.

use criterion::{Criterion, criterion_group, criterion_main};
use luxcore_api::types::PaymentResponse;
use luxcore_ext::client::LuxCore;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (mock, client, id) = rt.block_on(async {
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
            "bench-overhead",
        )
        .build()
        .expect("request");
        let payment = client
            .payments()
            .create(request)
            .await
            .expect("created")
            .into_inner();
        let id = payment.id.or(payment.transaction_id).expect("payment id");
        (mock, client, id)
    });
    // The hand-written call gets the same transport settings as the SDK's defaults (connect and
    // total timeouts, no redirects), as a careful merchant would configure it.
    let raw = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client");
    let url = format!("{}/api/v1/payments/{id}", mock.base_url());

    let mut group = c.benchmark_group("get_payment");
    group.bench_function("luxcore_ext", |b| {
        b.to_async(&rt)
            .iter(|| async { client.payments().get(&id).await.expect("get") })
    });
    // For reference, the generated client alone (with the SDK's hook installed).
    group.bench_function("luxcore_api_generated", |b| {
        b.to_async(&rt).iter(|| async {
            client
                .raw()
                .get_payment()
                .id(&id)
                .send()
                .await
                .expect("get")
                .into_inner()
                .data
        })
    });
    group.bench_function("raw_reqwest_serde_json", |b| {
        b.to_async(&rt).iter(|| async {
            let response = raw
                .get(&url)
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
    });
    group.finish();
    drop(mock);
}

criterion_group!(benches, overhead);
criterion_main!(benches);
