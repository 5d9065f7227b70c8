//! Stream memory per item: 200,000 payments streamed from a generated local server (pages
//! synthesized on the fly), the walker alone against the same walk keeping every id (what the
//! walker did before its de-duplication window: one id per item), side by side in one run.
//! Prints the peak RSS growth of each from item 20,000 on, and times both. Target: memory
//! independent of the list length (the 1,000,000-item figure comes from the ignored test
//! `a_million_item_walk_runs_in_constant_memory`).

use std::collections::HashSet;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::TryStreamExt;
use luxcore_ext::client::LuxCore;
use luxcore_ext::payments::PaymentFilter;
use luxcore_mock::DEFAULT_API_KEY;

#[path = "../tests/generated_list/mod.rs"]
mod generated_list;

const ITEMS: u64 = 200_000;
const FROM: u64 = 20_000;

/// Streams every payment; with `keep_ids`, also keeps every id. Returns the peak RSS growth
/// (KiB) from item `FROM` to the end, and the ids kept.
async fn walk(client: &LuxCore, keep_ids: bool) -> (u64, usize) {
    let mut stream = client.payments().stream(PaymentFilter::new());
    let (mut count, mut at_from) = (0u64, 0u64);
    let mut ids = HashSet::new();
    while let Some(payment) = stream.try_next().await.expect("stream") {
        count += 1;
        if keep_ids {
            ids.insert(payment.id.expect("id"));
        }
        if count == FROM {
            at_from = generated_list::rss_kib("VmRSS:");
        }
    }
    assert_eq!(count, ITEMS);
    let growth = generated_list::rss_kib("VmHWM:").saturating_sub(at_from);
    (growth, ids.len())
}

fn stream_memory(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let client = rt.block_on(async {
        let server = generated_list::start(ITEMS, false).await;
        LuxCore::builder()
            .base_url(&server.base_url)
            .api_key(DEFAULT_API_KEY)
            .build()
            .expect("client")
    });
    // Walker first: VmHWM only grows, so the walk that keeps every id must come second.
    let (walker, _) = rt.block_on(walk(&client, false));
    let (all_ids, kept) = rt.block_on(walk(&client, true));
    let span = (ITEMS - FROM) as f64;
    println!(
        "stream {ITEMS} payments, peak RSS growth from item {FROM}: walker {walker} KiB ({:.2} B/item), keeping every id {all_ids} KiB ({:.1} B/item, {kept} ids)",
        walker as f64 * 1024.0 / span,
        all_ids as f64 * 1024.0 / span,
    );

    let mut group = c.benchmark_group("stream_200000_payments");
    group.sample_size(10);
    group.bench_function("walker", |b| b.to_async(&rt).iter(|| walk(&client, false)));
    group.bench_function("walker_keeping_every_id", |b| {
        b.to_async(&rt).iter(|| walk(&client, true))
    });
    group.finish();
}

criterion_group!(benches, stream_memory);
criterion_main!(benches);
