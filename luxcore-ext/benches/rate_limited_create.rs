//! Payment creation throughput under the client-side rate limiter, against luxcore-mock with the
//! documented limits (creation 5000/min and 500 per 10 s, fixed windows): 600 creations, 32 in
//! flight, retries off so every 429 would surface. Run once each with and without the limiter.
//!
//! `cargo bench -p luxcore-ext --bench rate_limited_create`

use luxcore_ext::Money;
use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::rate_limit::RateLimits;
use luxcore_ext::retry::RetryPolicy;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};

const CREATIONS: usize = 600;

struct Outcome {
    ok: usize,
    rate_limited: usize,
    other: usize,
    elapsed: Duration,
}

async fn run(client: &LuxCore, tag: &str) -> Outcome {
    let started = Instant::now();
    let results: Vec<_> = stream::iter(0..CREATIONS)
        .map(|i| async move {
            let request = PaymentRequest::deposit(
                Money::new(1_000, Currency::MXN),
                PaymentMethod::Spei,
                format!("{tag}-{i}"),
            )
            .build()
            .expect("valid request");
            client.payments().create(request).await
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let rate_limited = results
        .iter()
        .filter(|r| matches!(r, Err(Error::RateLimited { .. })))
        .count();
    Outcome {
        ok,
        rate_limited,
        other: CREATIONS - ok - rate_limited,
        elapsed: started.elapsed(),
    }
}

fn report(label: &str, o: &Outcome) {
    println!(
        "{label:<28} {:>4} ok  {:>4} x 429  {:>2} other  {:>6.2} s  {:>7.1} creations/s",
        o.ok,
        o.rate_limited,
        o.other,
        o.elapsed.as_secs_f64(),
        o.ok as f64 / o.elapsed.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: keep that fast.
    if !std::env::args().any(|a| a == "--bench") {
        println!("rate_limited_create: run with `cargo bench` to measure");
        return;
    }
    println!(
        "payment creation, {CREATIONS} creations, 32 in flight, documented server limits, retries off"
    );
    for (label, limits) in [
        (
            "with RateLimits::documented",
            Some(RateLimits::documented()),
        ),
        ("without a client limiter", None),
    ] {
        // A fresh server per run, so both start with empty windows.
        let mock = MockServer::start(MockConfig::default())
            .await
            .expect("mock starts");
        let mut builder = LuxCore::builder()
            .base_url(mock.base_url())
            .api_key(DEFAULT_API_KEY)
            .retry_policy(RetryPolicy::none());
        if let Some(limits) = limits {
            builder = builder.rate_limits(limits);
        }
        let client = builder.build().expect("client");
        let outcome = run(&client, "bench").await;
        report(label, &outcome);
    }
}
