//! Per-request overhead of the SDK, one request at a time: `client.payments().get(id)`
//! against hand-written reqwest + serde_json decoding into the same generated
//! `PaymentResponse` (same request on the wire), and against the generated client alone,
//! all against the same in-process luxcore-mock through the same `reqwest::Client`.
//!
//! Target: SDK / raw <= 1.05 as the median over 300 rotating sets of 100 sequential requests
//! per side (see `common`); criterion's per-side times follow for reference. The rounds are
//! short (~7 ms) so that the three rounds of a set see the same machine: with 15 sets of
//! 2,000 requests the median of one binary ranged 1.04-1.12x from run to run on the build
//! machine, with 300 sets of 100 it stays within about 0.02 outside busy spells.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};

use common::{SIDES, Sets, Setup, Side};

const REQUESTS: usize = 100;
const SETS: usize = 300;
/// Rounds of one side alone under `LUXCORE_BENCH_ONLY` (20,000 requests).
const PROFILED_ROUNDS: usize = 200;

/// 100 gets, one after another.
async fn round(setup: &Setup, side: Side) {
    for _ in 0..REQUESTS {
        std::hint::black_box(setup.get(side).await);
    }
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let setup = rt.block_on(Setup::start());
    if Side::profile_alone_if_asked(&rt, PROFILED_ROUNDS, |side| round(&setup, side)) {
        return;
    }

    let sets = rt.block_on(Sets::measure(SETS, |side| round(&setup, side)));
    sets.report(&format!("get_payment x{REQUESTS}, sequential"), REQUESTS);

    let mut group = c.benchmark_group("get_payment");
    for side in SIDES {
        group.bench_function(side.name(), |b| b.to_async(&rt).iter(|| setup.get(side)));
    }
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
