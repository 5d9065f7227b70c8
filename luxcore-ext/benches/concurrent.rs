//! Throughput with many requests in flight: 20,000 `client.payments().get(id)`, 64 in flight,
//! against hand-written reqwest + serde_json decoding into the same generated
//! `PaymentResponse` (same request on the wire), and against the generated client alone,
//! all against the same in-process luxcore-mock through the same `reqwest::Client`.
//!
//! Target: SDK / raw <= 1.05 as the median over 15 rotating sets (see `common`). Profiling
//! one side alone: `LUXCORE_BENCH_ONLY=sdk|generated|raw perf record <bench binary> --bench`.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::{StreamExt, stream};

use common::{SIDES, Sets, Setup, Side};

const REQUESTS: usize = 20_000;
const IN_FLIGHT: usize = 64;
const SETS: usize = 15;

/// 20,000 gets, 64 in flight.
async fn round(setup: &Setup, side: Side) {
    stream::iter(0..REQUESTS)
        .map(|_| setup.get(side))
        .buffer_unordered(IN_FLIGHT)
        .for_each(|payment| async move {
            std::hint::black_box(payment);
        })
        .await;
}

fn concurrent(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let setup = rt.block_on(Setup::start());
    if Side::profile_alone_if_asked(&rt, 10, |side| round(&setup, side)) {
        return;
    }

    let sets = rt.block_on(Sets::measure(SETS, |side| round(&setup, side)));
    sets.report(
        &format!("get_payment x{REQUESTS}, {IN_FLIGHT} in flight"),
        REQUESTS,
    );

    let mut group = c.benchmark_group("get_payment_20000_64_in_flight");
    group.sample_size(10);
    for side in SIDES {
        group.bench_function(side.name(), |b| {
            b.to_async(&rt).iter(|| round(&setup, side))
        });
    }
    group.finish();
}

criterion_group!(benches, concurrent);
criterion_main!(benches);
