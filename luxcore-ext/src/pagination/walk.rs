//! The generic page walker behind every list stream: ordered, bounded-concurrency page
//! prefetch over `limit`/`offset` pages, with de-duplication by id across a bounded window.
//!
//! # What a walk returns while the list changes
//!
//! The walker sees the list only through `limit`/`offset` pages, so it reasons about
//! *positions*. Memory is constant: the ids of the last [`window`] items yielded (never one
//! id per item), the pages in flight and the items of the page being yielded. (The SDK's
//! streams also pin payments, webhooks and webhook events to a snapshot with
//! `created_at_to`, so that records created later do not shift those lists at all: see the
//! pagination module.)
//!
//! * **Nothing changes**: every item exactly once, in list order.
//! * **Records inserted before the walk's position** shift later pages down: items already
//!   yielded come back at the start of the next page and are skipped (they are in the
//!   window). A page that arrived *before* the page taken last and reports a smaller
//!   `total` was served before inserts that page saw: it is asked again, ahead of the pages
//!   in flight, so nothing of the original set is lost to prefetching.
//! * **Records deleted, or leaving the filter**, at a position not walked yet: not
//!   returned. Behind the walk's position they shift the rest of the list up, which would
//!   skip as many surviving items: when a page arrives after the page taken last with a
//!   `total` smaller by `fall`, and starts less than `fall` positions before where that page
//!   ended, the walk drops it and the pages in flight and goes on from `2 × fall` positions
//!   (at most the window) before that end, skipping the repeats; twice, so that deletions
//!   during the next round trip are covered too. After [`MAX_RESTARTS`] such restarts in a
//!   row a page is taken as it is (the walk always ends); only then, with more than half a
//!   window of records disappearing behind the walk between two pages, eight times in a
//!   row, can a surviving item be skipped. Inserts and deletions between the same two pages
//!   offset each other in `total`, and a fall the walker cannot see cannot be repaired.
//! * **Records entering the filter** (a status change into it): returned once if their
//!   position has not been walked yet, else not; they shift later items down (repeats,
//!   skipped).
//! * **Records changing** but still matching: returned once, as their page had them.
//!
//! Repeats are skipped when an item comes back within [`window`] items of where it was
//! yielded: always for shifts of fewer records than that between two pages.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::hash::Hash;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use futures::future::Map;
use futures::stream::{FuturesOrdered, Stream, StreamExt};

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// Items of this page, in list order.
    pub items: Vec<T>,
    /// Total number of matching items when the page was served.
    pub total: u64,
    /// Page size used by the server.
    pub limit: u32,
    /// Offset of the first item.
    pub offset: u64,
    /// Number of pages at this page size when the page was served.
    pub total_pages: u64,
}

/// Restarts in a row (each after a fall of `total`) before a page is taken as it is.
const MAX_RESTARTS: u32 = 8;

/// Ids remembered for de-duplication by a walk of `page_size` pages, `concurrency` ahead:
/// the last `window(page_size, concurrency)` items yielded (at least 1024, and at least
/// `concurrency + 2` pages). The memory of a walk does not grow with the list.
pub(crate) fn window(page_size: u32, concurrency: usize) -> usize {
    (page_size.max(1) as usize)
        .saturating_mul(concurrency.max(1).saturating_add(2))
        .max(1024)
}

/// Walks every page of a `limit`/`offset` list and yields its items in order.
///
/// * `fetch(offset, limit)` fetches one page. The first page (at `start_offset`) is fetched
///   alone; its `total`/`total_pages` then let up to `concurrency` further pages be fetched
///   ahead (1 = strictly sequential). Items are still yielded in list order. Never more
///   than `concurrency` requests are in flight.
/// * The walk ends on an empty or short page (fewer items than the page size), whatever
///   `total` said, and goes on past `total_pages` (one page at a time) while pages are full.
///   Past `total`, a full page with nothing new ends the walk too (a server that ignores
///   `offset`).
/// * `id_of` extracts an item's id: an id yielded within the last [`window`] items is
///   skipped, so records inserted at the head of the list during the walk (which shift
///   later pages down) cause no repeats. Items without an id (`None`) are always yielded.
///   Memory is bounded by the window, whatever the length of the list.
/// * A page answered with a smaller `total` (by `d`) than the pages before it was served
///   before records were inserted, or after records were deleted: the walk discards it and
///   the pages in flight and goes on from `d` positions (at most the window) before it, so
///   nothing of the original set is lost to prefetching or to deletions behind the walk.
///   The smaller total becomes the new baseline, so deletions cannot cause a refetch loop.
///   See [the pagination module](crate::pagination) for the exact behaviour under changes.
/// * The first error ends the stream after being yielded. Dropping the stream drops (and
///   so cancels) every in-flight request. The walker spawns nothing itself (the SDK's
///   streams start each page request on a task of their own: see the pagination module).
///
/// `page_size` and `concurrency` must be at least 1 (callers validate; 0 is treated as 1).
/// If the first page reports a smaller `limit` than requested, that limit is used from then on.
#[cfg(test)]
pub(crate) fn paginate<T, K, E, F, Fut, I>(
    start_offset: u64,
    page_size: u32,
    concurrency: usize,
    fetch: F,
    id_of: I,
) -> impl Stream<Item = Result<T, E>>
where
    F: FnMut(u64, u32) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
    I: Fn(&T) -> Option<K>,
    K: Eq + Hash,
{
    paginate_with(start_offset, page_size, concurrency, false, fetch, id_of)
}

/// [`paginate`], optionally *eager*: with `eager`, the first `concurrency` pages are requested
/// together instead of the first page alone, saving one round trip on long lists at the cost
/// of up to `concurrency - 1` requests that come back empty on lists shorter than that (they
/// count against the rate limit). Speculative pages are discarded, and the walk goes on from
/// the first page, if that page shows the server caps the page size below the one asked for.
pub(crate) fn paginate_with<T, K, E, F, Fut, I>(
    start_offset: u64,
    page_size: u32,
    concurrency: usize,
    eager: bool,
    fetch: F,
    id_of: I,
) -> impl Stream<Item = Result<T, E>>
where
    F: FnMut(u64, u32) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
    I: Fn(&T) -> Option<K>,
    K: Eq + Hash,
{
    let page_size = page_size.max(1);
    let concurrency = concurrency.max(1);
    // Numbers the answers in the order they arrive (which the pages' order is not).
    let arrivals = Arc::new(AtomicU64::new(0));
    let stamp = move |result| (result, arrivals.fetch_add(1, Ordering::Relaxed));
    let walk = Walk {
        stamp,
        taken_arrival: 0,
        eager,
        fetch,
        id_of,
        page_size,
        concurrency,
        next_offset: start_offset,
        planned_end: 0,
        first: true,
        baseline: 0,
        resume: start_offset,
        start_offset,
        restarts_in_row: 0,
        in_flight: FuturesOrdered::new(),
        offsets: VecDeque::new(),
        ready: VecDeque::new(),
        recent: Recent::new(window(page_size, concurrency)),
        done: false,
    };
    futures::stream::unfold(walk, |mut walk| async move {
        let item = walk.next_item().await?;
        Some((item, walk))
    })
}

/// The ids of the last (at least) `cap` fresh items: two generations of at most `cap` ids.
struct Recent<K> {
    current: HashSet<K>,
    previous: HashSet<K>,
    cap: usize,
}

impl<K: Eq + Hash> Recent<K> {
    fn new(cap: usize) -> Self {
        Recent {
            current: HashSet::new(),
            previous: HashSet::new(),
            cap,
        }
    }

    /// `false` when `id` is among the remembered ids; else remembers it.
    fn insert(&mut self, id: K) -> bool {
        if self.current.contains(&id) || self.previous.contains(&id) {
            return false;
        }
        if self.current.len() >= self.cap {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear();
        }
        self.current.insert(id);
        true
    }
}

struct Walk<T, K, F, Fut: Future, I, S>
where
    S: FnOnce(Fut::Output) -> (Fut::Output, u64),
{
    /// Stamps an answer with its arrival number.
    stamp: S,
    /// Arrival number of the page taken last.
    taken_arrival: u64,
    /// Request the first `concurrency` pages together (see [`paginate_with`]).
    eager: bool,
    fetch: F,
    id_of: I,
    page_size: u32,
    concurrency: usize,
    /// Offset of the next page to request.
    next_offset: u64,
    /// Offsets below this are expected to hold items (from `total`/`total_pages`); pages
    /// there are fetched ahead, pages beyond one at a time.
    planned_end: u64,
    first: bool,
    /// `total` of the page taken last.
    baseline: u64,
    /// Offset just past the page taken last.
    resume: u64,
    /// Where the walk started (restarts never go before it).
    start_offset: u64,
    /// Restarts since the last page taken.
    restarts_in_row: u32,
    in_flight: FuturesOrdered<Map<Fut, S>>,
    /// Offsets of `in_flight`, in the same (request) order.
    offsets: VecDeque<u64>,
    ready: VecDeque<T>,
    recent: Recent<K>,
    done: bool,
}

impl<T, K, E, F, Fut, I, S> Walk<T, K, F, Fut, I, S>
where
    F: FnMut(u64, u32) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
    S: FnOnce(Result<Page<T>, E>) -> (Result<Page<T>, E>, u64) + Clone,
    I: Fn(&T) -> Option<K>,
    K: Eq + Hash,
{
    async fn next_item(&mut self) -> Option<Result<T, E>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            self.fill();
            let (Some((result, arrival)), Some(offset)) =
                (self.in_flight.next().await, self.offsets.pop_front())
            else {
                self.done = true;
                continue;
            };
            match result {
                Ok(page)
                    if !self.first
                        && self.restarts_in_row < MAX_RESTARTS
                        && self.gap(&page, offset) =>
                {
                    self.restarts_in_row += 1;
                    if arrival < self.taken_arrival {
                        // Served before the page taken last (and before inserts it saw):
                        // ask again, ahead of the pages in flight.
                        let again = (self.fetch)(offset, self.page_size).map(self.stamp.clone());
                        self.in_flight.push_front(again);
                        self.offsets.push_front(offset);
                    } else {
                        self.restart(&page);
                    }
                }
                Ok(page) => {
                    self.taken_arrival = arrival;
                    self.absorb(page, offset);
                }
                Err(err) => {
                    self.stop();
                    return Some(Err(err));
                }
            }
        }
    }

    /// Issues requests: the first page alone, then up to `concurrency` pages below
    /// `planned_end`, and beyond it one page at a time.
    fn fill(&mut self) {
        if self.first {
            if self.in_flight.is_empty() {
                self.issue();
                while self.eager && self.in_flight.len() < self.concurrency {
                    self.issue();
                }
            }
            return;
        }
        while self.in_flight.len() < self.concurrency && self.next_offset < self.planned_end {
            self.issue();
        }
        if self.in_flight.is_empty() {
            self.issue();
        }
    }

    fn issue(&mut self) {
        let offset = self.next_offset;
        let request = (self.fetch)(offset, self.page_size).map(self.stamp.clone());
        self.in_flight.push_back(request);
        self.offsets.push_back(offset);
        self.next_offset = offset.saturating_add(u64::from(self.page_size));
    }

    /// `true` when `page` (at `offset`) may have missed items: its total fell (by `fall`)
    /// below the total of the page taken last, and it starts less than `fall` positions
    /// before where that page ended. Records were deleted behind the walk (shifting the
    /// rest up), or the page was served before inserts the page taken last saw.
    fn gap(&self, page: &Page<T>, offset: u64) -> bool {
        let fall = self.baseline.saturating_sub(page.total);
        fall > 0 && offset.saturating_add(fall) > self.resume
    }

    /// Drops `page` and the pages in flight, and goes on from twice as many positions
    /// before the end of the page taken last as the total fell (at most the window, never
    /// before the start): deletions that go on during the next round trip are covered too.
    /// The walk cannot loop: after [`MAX_RESTARTS`] restarts in a row the page is taken as
    /// it is (possible only when more than half a window disappears between two pages).
    fn restart(&mut self, page: &Page<T>) {
        let fall = self.baseline - page.total;
        let back = usize::try_from(fall.saturating_mul(2))
            .map_or(self.recent.cap, |back| back.min(self.recent.cap));
        self.in_flight = FuturesOrdered::new();
        self.offsets.clear();
        self.next_offset = self
            .resume
            .saturating_sub(back as u64)
            .max(self.start_offset);
    }

    fn absorb(&mut self, page: Page<T>, offset: u64) {
        if self.first {
            self.first = false;
            if page.limit > 0 && page.limit < self.page_size {
                self.page_size = page.limit;
                self.next_offset = offset.saturating_add(u64::from(page.limit));
                // Speculative (eager) pages were asked at the wrong offsets: drop them.
                self.in_flight = FuturesOrdered::new();
                self.offsets.clear();
            }
        }
        let by_pages = page.total_pages.saturating_mul(u64::from(self.page_size));
        self.planned_end = self.planned_end.max(page.total).max(by_pages);
        self.baseline = page.total;
        self.resume = offset.saturating_add(u64::from(self.page_size));
        self.restarts_in_row = 0;
        if page.items.len() < self.page_size as usize {
            self.stop();
        }
        let beyond_total = offset >= self.planned_end;
        // The page's own buffer becomes the queue (items are ~1 KiB: not copied), repeats
        // removed in list order.
        let mut items = VecDeque::from(page.items);
        let (id_of, recent) = (&self.id_of, &mut self.recent);
        items.retain(|item| id_of(item).is_none_or(|id| recent.insert(id)));
        let fresh_items = items.len();
        if self.ready.is_empty() {
            self.ready = items;
        } else {
            self.ready.extend(items);
        }
        // Past what `total` promised, a full page of nothing new means the server ignores
        // or caps `offset`: walking on would never end. (Below `planned_end` a page of
        // repeats is normal when records are inserted at the head during the walk.)
        if beyond_total && fresh_items == 0 {
            self.stop();
        }
    }

    /// Ends the walk: no more requests; in-flight ones are dropped (cancelled).
    fn stop(&mut self) {
        self.done = true;
        self.in_flight = FuturesOrdered::new();
        self.offsets.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use futures::TryStreamExt;

    use super::*;

    /// A newest-first list held in memory, like the payments list.
    #[derive(Clone, Default)]
    struct FakeList {
        items: Arc<Mutex<Vec<u64>>>,
        /// Reported total is the real length plus this (may "lie").
        total_skew: i64,
        /// Items inserted at the head before serving each request.
        insert_per_request: u64,
        next_new: Arc<Mutex<u64>>,
        calls: Arc<Mutex<Vec<u64>>>,
        started: Arc<AtomicUsize>,
        dropped: Arc<AtomicUsize>,
        fail_at_offset: Option<u64>,
        /// Pages are served in reverse order of offset within a window (later first).
        reverse_delay: bool,
        /// Server-side cap on `limit`.
        max_limit: u32,
        /// Requests at or past this offset never complete.
        hang_from: Option<u64>,
        /// Items removed from the head (positions already walked) before serving each request.
        delete_head_per_request: usize,
        /// Items removed from the tail (positions not walked yet) before serving each request.
        delete_tail_per_request: usize,
        /// Requests issued and not finished (or dropped) yet, and the most at once.
        in_flight: Arc<AtomicUsize>,
        max_in_flight: Arc<AtomicUsize>,
    }

    /// Counts a request as in flight from its issue until it finishes or is dropped.
    struct InFlight(Arc<AtomicUsize>);
    impl InFlight {
        fn new(gauge: &Arc<AtomicUsize>, max: &AtomicUsize) -> Self {
            let now = gauge.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            InFlight(Arc::clone(gauge))
        }
    }
    impl Drop for InFlight {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Every walk must end: a regression that hangs fails here instead of hanging CI. A
    /// walk that stops yielding fails the test after 20 s; one that spins without ever
    /// yielding (which no async timeout can interrupt) ends the test process after 30 s.
    async fn within<F: Future>(walk: F) -> F::Output {
        let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watched = Arc::clone(&finished);
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(30));
            if !watched.load(Ordering::SeqCst) {
                eprintln!("a walk spun for 30 s without yielding: aborting the tests");
                std::process::exit(101);
            }
        });
        let output = tokio::time::timeout(std::time::Duration::from_secs(20), walk).await;
        finished.store(true, Ordering::SeqCst);
        output.expect("the walk did not end within 20 s")
    }

    struct DropCount(Arc<AtomicUsize>);
    impl Drop for DropCount {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl FakeList {
        fn with(n: u64) -> Self {
            let list = Self {
                max_limit: 100,
                ..Self::default()
            };
            // Newest first: highest id first.
            *list.items.lock().unwrap() = (1..=n).rev().collect();
            *list.next_new.lock().unwrap() = 1_000_000;
            list
        }

        fn fetch(
            &self,
            offset: u64,
            limit: u32,
        ) -> impl Future<Output = Result<Page<u64>, String>> + use<> {
            let this = self.clone();
            this.started.fetch_add(1, Ordering::SeqCst);
            // Created outside the async block: counts drops of never-polled futures too.
            let guard = DropCount(this.dropped.clone());
            let gauge = InFlight::new(&this.in_flight, &this.max_in_flight);
            async move {
                let _guard = (guard, gauge);
                if this.hang_from.is_some_and(|h| offset >= h) {
                    futures::future::pending::<()>().await;
                }
                let delay = if this.reverse_delay {
                    20u64.saturating_sub(offset / 10 % 20)
                } else {
                    1
                };
                for _ in 0..delay {
                    tokio::task::yield_now().await;
                }
                this.calls.lock().unwrap().push(offset);
                if this.fail_at_offset == Some(offset) {
                    return Err(format!("boom at {offset}"));
                }
                let mut items = this.items.lock().unwrap();
                let head = this.delete_head_per_request.min(items.len());
                items.drain(..head);
                let tail = items.len().saturating_sub(this.delete_tail_per_request);
                items.truncate(tail);
                for _ in 0..this.insert_per_request {
                    let mut next = this.next_new.lock().unwrap();
                    *next += 1;
                    items.insert(0, *next);
                }
                let limit = limit.min(this.max_limit);
                let start = (offset as usize).min(items.len());
                let end = (start + limit as usize).min(items.len());
                let total = (items.len() as i64 + this.total_skew).max(0) as u64;
                Ok(Page {
                    items: items[start..end].to_vec(),
                    total,
                    limit,
                    offset,
                    total_pages: total.div_ceil(u64::from(limit)),
                })
            }
        }

        fn stream(
            &self,
            page_size: u32,
            concurrency: usize,
        ) -> impl Stream<Item = Result<u64, String>> + use<> {
            self.walk(page_size, concurrency, false)
        }

        /// `paginate_with` over this list (`paginate` is `eager = false`).
        fn walk(
            &self,
            page_size: u32,
            concurrency: usize,
            eager: bool,
        ) -> impl Stream<Item = Result<u64, String>> + use<> {
            let this = self.clone();
            paginate_with(
                0,
                page_size,
                concurrency,
                eager,
                move |o, l| this.fetch(o, l),
                |x: &u64| Some(*x),
            )
        }
    }

    #[tokio::test]
    async fn sequential_and_concurrent_identical() {
        let list = FakeList::with(1000);
        let expected: Vec<u64> = (1..=1000).rev().collect();
        for concurrency in [1, 2, 4, 16] {
            let got: Vec<u64> = within(list.stream(100, concurrency).try_collect())
                .await
                .unwrap();
            assert_eq!(got, expected, "concurrency {concurrency}");
        }
        // 10 full pages plus one empty probe past the end, per run.
        assert_eq!(list.calls.lock().unwrap().len(), 4 * 11);
    }

    #[tokio::test]
    async fn odd_sizes_and_empty() {
        for (n, ps) in [(0, 100), (1, 100), (99, 100), (101, 100), (250, 7), (5, 1)] {
            let list = FakeList::with(n);
            let got: Vec<u64> = within(list.stream(ps, 4).try_collect()).await.unwrap();
            assert_eq!(got, (1..=n).rev().collect::<Vec<_>>(), "n={n} ps={ps}");
        }
    }

    #[tokio::test]
    async fn total_lies() {
        for skew in [-500, -1000, 300, 10_000] {
            let mut list = FakeList::with(1000);
            list.total_skew = skew;
            let got: Vec<u64> = within(list.stream(100, 4).try_collect()).await.unwrap();
            assert_eq!(got.len(), 1000, "skew {skew}");
            assert_eq!(got, (1..=1000).rev().collect::<Vec<_>>());
        }
    }

    #[tokio::test]
    async fn eager_walks_give_the_same_items_and_speculate_only_on_the_first_round() {
        for (n, ps, concurrency) in [
            (1000, 100, 4),
            (0, 100, 4),
            (50, 100, 4),
            (250, 100, 4),
            (230, 7, 3),
        ] {
            let list = FakeList::with(n);
            let got: Vec<u64> = within(list.walk(ps, concurrency, true).try_collect())
                .await
                .unwrap();
            assert_eq!(got, (1..=n).rev().collect::<Vec<_>>(), "n={n} ps={ps}");
        }
        // The first round asks for 4 pages at once (served in any order): 0, 100, 200, 300.
        let list = FakeList::with(1000);
        let _: Vec<u64> = within(list.walk(100, 4, true).try_collect()).await.unwrap();
        let calls = list.calls.lock().unwrap().clone();
        let mut first_round = calls[..4].to_vec();
        first_round.sort_unstable();
        assert_eq!(first_round, [0, 100, 200, 300]);
        assert_eq!(
            calls.len(),
            11,
            "10 full pages plus the empty probe, no repeats"
        );
    }

    #[tokio::test]
    async fn eager_walk_recovers_when_the_server_caps_the_limit() {
        let mut list = FakeList::with(230);
        list.max_limit = 50;
        let got: Vec<u64> = within(list.walk(100, 3, true).try_collect()).await.unwrap();
        assert_eq!(got, (1..=230).rev().collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn server_caps_limit() {
        let mut list = FakeList::with(230);
        list.max_limit = 50;
        let got: Vec<u64> = within(list.stream(100, 3).try_collect()).await.unwrap();
        assert_eq!(got, (1..=230).rev().collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn inserts_during_walk_lose_and_repeat_nothing() {
        for concurrency in [1, 4, 8] {
            for reverse_delay in [false, true] {
                let mut list = FakeList::with(1000);
                list.insert_per_request = 7;
                list.reverse_delay = reverse_delay;
                let got: Vec<u64> = within(list.stream(50, concurrency).try_collect())
                    .await
                    .unwrap();
                let unique: HashSet<u64> = got.iter().copied().collect();
                assert_eq!(unique.len(), got.len(), "duplicates (c={concurrency})");
                let original: Vec<u64> = got.iter().copied().filter(|&x| x <= 1000).collect();
                assert_eq!(
                    original,
                    (1..=1000).rev().collect::<Vec<_>>(),
                    "c={concurrency} reverse={reverse_delay}"
                );
            }
        }
    }

    #[tokio::test]
    async fn error_ends_stream() {
        let mut list = FakeList::with(1000);
        list.fail_at_offset = Some(300);
        let results: Vec<Result<u64, String>> = within(list.stream(100, 4).collect()).await;
        assert_eq!(results.len(), 301);
        assert!(results[..300].iter().all(Result::is_ok));
        assert_eq!(results[300], Err("boom at 300".to_owned()));
        // First page error.
        list.fail_at_offset = Some(0);
        let results: Vec<Result<u64, String>> = within(list.stream(100, 4).collect()).await;
        assert_eq!(results, vec![Err("boom at 0".to_owned())]);
    }

    #[tokio::test]
    async fn drop_cancels_in_flight() {
        let mut list = FakeList::with(1000);
        list.hang_from = Some(200);
        let mut stream = Box::pin(list.stream(100, 4));
        for _ in 0..200 {
            stream.next().await.unwrap().unwrap();
        }
        let started = list.started.load(Ordering::SeqCst);
        let served = list.calls.lock().unwrap().len();
        assert_eq!(served, 2);
        assert!(started >= 4, "prefetch started {started}");
        drop(stream);
        // Every request future, finished or still in flight, has been dropped.
        assert_eq!(list.dropped.load(Ordering::SeqCst), started);
    }

    #[tokio::test]
    async fn ids_dedup_and_missing_ids_kept() {
        let fetch = |offset: u64, _limit: u32| async move {
            let items = match offset {
                0 => vec![(Some(1), "a"), (None, "b"), (Some(2), "c")],
                3 => vec![(Some(2), "dup"), (None, "d"), (Some(3), "e")],
                _ => vec![],
            };
            Ok::<_, String>(Page {
                items,
                total: 6,
                limit: 3,
                offset,
                total_pages: 2,
            })
        };
        let got: Vec<&str> = within(
            paginate(0, 3, 2, fetch, |(id, _): &(Option<u32>, &str)| *id)
                .map_ok(|(_, name)| name)
                .try_collect(),
        )
        .await
        .unwrap();
        assert_eq!(got, ["a", "b", "c", "d", "e"]);
    }

    #[tokio::test]
    async fn start_offset_respected() {
        let list = FakeList::with(300);
        let this = list.clone();
        let got: Vec<u64> = within(
            paginate(
                250,
                100,
                4,
                move |o, l| this.fetch(o, l),
                |x: &u64| Some(*x),
            )
            .try_collect(),
        )
        .await
        .unwrap();
        assert_eq!(got, (1..=50).rev().collect::<Vec<_>>());
    }

    /// Requests a walk makes over an unchanging list of `n` items: one per full page, plus
    /// the short (or empty) page that ends it; eager walks ask at least `concurrency`.
    fn expected_requests(n: u64, page: u64, concurrency: u64, eager: bool) -> u64 {
        let plain = n / page + 1;
        if eager { plain.max(concurrency) } else { plain }
    }

    #[tokio::test]
    async fn exact_request_counts_and_pages_in_flight() {
        const PAGE: u64 = 10;
        for eager in [false, true] {
            for concurrency in [1usize, 2, 4] {
                for n in [
                    0,
                    1,
                    PAGE - 1,
                    PAGE,
                    PAGE + 1,
                    3 * PAGE,
                    3 * PAGE + 5,
                    9 * PAGE + 1,
                ] {
                    let list = FakeList::with(n);
                    let walk = if eager {
                        list.walk(PAGE as u32, concurrency, true).boxed()
                    } else {
                        list.stream(PAGE as u32, concurrency).boxed()
                    };
                    let got: Vec<u64> = within(walk.try_collect()).await.unwrap();
                    let case = format!("n={n} concurrency={concurrency} eager={eager}");
                    assert_eq!(got, (1..=n).rev().collect::<Vec<_>>(), "{case}");
                    let requests = list.started.load(Ordering::SeqCst) as u64;
                    let expected = expected_requests(n, PAGE, concurrency as u64, eager);
                    assert_eq!(requests, expected, "requests, {case}");
                    let most = list.max_in_flight.load(Ordering::SeqCst);
                    assert!(most <= concurrency, "{most} pages in flight, {case}");
                    // Prefetch does happen: as many pages at once as there are left to ask.
                    let ahead = if eager {
                        concurrency
                    } else {
                        // The pages below `total` after the first, at least the probe.
                        (n.div_ceil(PAGE).saturating_sub(1)).clamp(1, concurrency as u64) as usize
                    };
                    assert_eq!(most, ahead, "most pages in flight, {case}");
                    assert_eq!(list.in_flight.load(Ordering::SeqCst), 0, "{case}");
                }
            }
        }
    }

    #[tokio::test]
    async fn eager_walk_keeps_its_pages_when_the_server_limit_equals_the_page_size() {
        let mut list = FakeList::with(400);
        list.max_limit = 100;
        let got: Vec<u64> = within(list.walk(100, 4, true).try_collect()).await.unwrap();
        assert_eq!(got, (1..=400).rev().collect::<Vec<_>>());
        // 0, 100, 200, 300 together, then the empty probe at 400: nothing asked twice.
        let mut calls = list.calls.lock().unwrap().clone();
        calls.sort_unstable();
        assert_eq!(calls, [0, 100, 200, 300, 400]);
    }

    #[tokio::test]
    async fn a_page_reporting_limit_zero_keeps_the_page_size() {
        // A server answering `limit: 0` (or none) must not shrink the page size to 0.
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let fetch = move |offset: u64, limit: u32| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let end = (offset + u64::from(limit)).min(25);
                Ok::<_, String>(Page {
                    items: (offset.min(end)..end).collect(),
                    total: 25,
                    limit: 0,
                    offset,
                    total_pages: 0,
                })
            }
        };
        let got: Vec<u64> =
            within(paginate_with(0, 10, 2, true, fetch, |x: &u64| Some(*x)).try_collect())
                .await
                .unwrap();
        assert_eq!(got, (0..25).collect::<Vec<_>>());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "0, 10 (eager), then 20 (short)"
        );
    }

    #[tokio::test]
    async fn a_short_page_ends_the_walk_even_when_total_promises_more() {
        // total says 1000 but the list holds 15: the short second page ends the walk.
        let mut list = FakeList::with(15);
        list.total_skew = 985;
        let got: Vec<u64> = within(list.stream(10, 1).try_collect()).await.unwrap();
        assert_eq!(got, (1..=15).rev().collect::<Vec<_>>());
        assert_eq!(*list.calls.lock().unwrap(), [0, 10]);
    }

    #[tokio::test]
    async fn deletions_behind_the_walk_lose_no_survivor_and_end() {
        // Every request first deletes the newest items (already walked): each later page
        // shifts up. The walk notices the total falling, goes back, and skips the repeats.
        for concurrency in [1, 2, 4] {
            // (4 per request at concurrency 4 deletes the whole list before the walk ends.)
            for per_request in [1usize, 2, 4].into_iter().filter(|&d| d * concurrency < 16) {
                let mut list = FakeList::with(1000);
                list.delete_head_per_request = per_request;
                list.reverse_delay = concurrency > 1;
                let got: Vec<u64> = within(list.stream(10, concurrency).try_collect())
                    .await
                    .unwrap();
                let case = format!("concurrency={concurrency} deleted per request={per_request}");
                let unique: HashSet<u64> = got.iter().copied().collect();
                assert_eq!(unique.len(), got.len(), "no repeats, {case}");
                assert!(got.windows(2).all(|w| w[0] > w[1]), "in order, {case}");
                let survivors = list.items.lock().unwrap().clone();
                assert!(!survivors.is_empty(), "{case}");
                assert!(
                    survivors.iter().all(|id| unique.contains(id)),
                    "every item never deleted is returned, {case}"
                );
                // No refetch loop: each restart needs a further fall of the total.
                let requests = list.started.load(Ordering::SeqCst);
                println!("{requests} requests, {} items, {case}", got.len());
                assert!(requests <= 5 * 1000 / 10, "{requests} requests, {case}");
            }
        }
    }

    #[tokio::test]
    async fn deletions_ahead_of_the_walk_are_not_returned() {
        // Every request first deletes the oldest items (not walked yet).
        for concurrency in [1, 4] {
            let mut list = FakeList::with(500);
            list.delete_tail_per_request = 5;
            let got: Vec<u64> = within(list.stream(10, concurrency).try_collect())
                .await
                .unwrap();
            let survivors = list.items.lock().unwrap().clone();
            // Every survivor, in order, then the items deleted after their page was served
            // (from the tail: the oldest); none deleted before its page.
            assert_eq!(
                got[..survivors.len()],
                survivors[..],
                "concurrency={concurrency}"
            );
            assert!(
                got.windows(2).all(|w| w[0] == w[1] + 1),
                "concurrency={concurrency}"
            );
            assert!(got.len() < 500, "c={concurrency}");
        }
    }

    /// A walk over `list` (pages of 10, one at a time) that, before request `n` (0-based),
    /// deletes `deleted_before(n)` items at the head: behind the walk.
    fn walk_deleting_behind<D: Fn(usize) -> usize + 'static>(
        list: &FakeList,
        deleted_before: D,
    ) -> impl Stream<Item = Result<u64, String>> + use<D> {
        let this = list.clone();
        paginate(
            0,
            10,
            1,
            move |o, l| {
                let n = this.started.load(Ordering::SeqCst);
                this.items.lock().unwrap().drain(..deleted_before(n));
                this.fetch(o, l)
            },
            |x: &u64| Some(*x),
        )
    }

    /// The offsets requested by a [`walk_deleting_behind`] over 100 items, once it returned
    /// all 100 of them, in order.
    async fn requests_of_a_walk_over_100<D: Fn(usize) -> usize + 'static>(
        deleted_before: D,
    ) -> Vec<u64> {
        let list = FakeList::with(100);
        let walk = walk_deleting_behind(&list, deleted_before);
        let got: Vec<u64> = within(walk.try_collect()).await.unwrap();
        assert_eq!(got, (1..=100).rev().collect::<Vec<_>>());
        list.calls.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn a_falling_total_restarts_once_per_fall_not_forever() {
        // The total falls once (one deletion behind the walk, before the third request):
        // exactly one restart, one position back, and one extra request.
        // 0, 10, then 20 with total 99: back twice the fall, to 18; 18, 28, .., 88, and
        // 98 (short: 1 item).
        assert_eq!(
            requests_of_a_walk_over_100(|n| usize::from(n == 2)).await,
            [0, 10, 20, 18, 28, 38, 48, 58, 68, 78, 88, 98]
        );
    }

    #[tokio::test]
    async fn a_page_starting_exactly_fall_positions_back_is_taken_as_it_is() {
        // As above, then one more deletion behind the walk before the fourth request (the
        // page at 18): the total has fallen by 2 since the page taken last, and the page
        // starts exactly 2 positions before where that page ended. The 2 deletions shifted
        // item 80 from position 20 to 18: nothing was missed, so no second restart.
        assert_eq!(
            requests_of_a_walk_over_100(|n| usize::from(matches!(n, 2 | 3))).await,
            [0, 10, 20, 18, 28, 38, 48, 58, 68, 78, 88, 98]
        );
    }

    #[tokio::test]
    async fn restarts_in_a_row_stop_at_the_limit() {
        // Before each request after the first, the total falls by more than the walk went
        // back the previous time (2, 6, 18, ... items deleted behind it): every page shows a
        // gap. After MAX_RESTARTS restarts in a row the page is taken as it is.
        let list = FakeList::with(100_000);
        let walk = walk_deleting_behind(&list, |n| {
            if (1..=MAX_RESTARTS as usize + 1).contains(&n) {
                2 * 3usize.pow(n as u32 - 1)
            } else {
                0
            }
        });
        let got: Vec<u64> = within(walk.take(30).try_collect()).await.unwrap();
        let unique: HashSet<u64> = got.iter().copied().collect();
        assert_eq!((got.len(), unique.len()), (30, 30));
        // The first page; 8 restarts in a row (at 10, at 6, then six times at 0: never
        // before the start); the ninth page after it (at 0) is taken, and the walk goes on.
        assert_eq!(MAX_RESTARTS, 8);
        assert_eq!(
            *list.calls.lock().unwrap(),
            [0, 10, 6, 0, 0, 0, 0, 0, 0, 0, 10]
        );
    }

    #[tokio::test]
    async fn memory_is_bounded_by_the_window() {
        let mut recent = Recent::new(4);
        for id in 0..100u64 {
            assert!(recent.insert(id));
            assert!(!recent.insert(id), "just seen");
            assert!(recent.current.len() + recent.previous.len() <= 8);
        }
        // The last 4 are always remembered.
        for id in 96..100 {
            assert!(!recent.insert(id));
        }
        assert_eq!(window(100, 4), 1024);
        assert_eq!(window(100, 20), 2200);
        assert_eq!(window(0, 0), 1024);
    }

    #[tokio::test]
    async fn a_server_ignoring_offset_ends_the_walk() {
        // Always the first page, full, whatever the offset.
        for concurrency in [1, 4] {
            let calls = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&calls);
            let fetch = move |_offset: u64, limit: u32| {
                counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    Ok::<_, String>(Page {
                        items: (0..u64::from(limit)).collect(),
                        total: 30,
                        limit,
                        offset: 0,
                        total_pages: 3,
                    })
                }
            };
            let got: Vec<u64> =
                within(paginate(0, 10, concurrency, fetch, |x: &u64| Some(*x)).try_collect())
                    .await
                    .unwrap();
            assert_eq!(got, (0..10).collect::<Vec<_>>());
            // Pages 0, 10, 20 (within total: repeats are skipped), then 30 past it ends it.
            assert_eq!(calls.load(Ordering::SeqCst), 4, "concurrency {concurrency}");
        }
    }
}
