//! The generic page walker behind every list stream: ordered, bounded-concurrency page
//! prefetch over `limit`/`offset` pages, with de-duplication by id.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::hash::Hash;

use futures::stream::{FuturesOrdered, Stream, StreamExt};

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
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

/// Walks every page of a `limit`/`offset` list and yields its items in order.
///
/// * `fetch(offset, limit)` fetches one page. The first page (at `start_offset`) is fetched
///   alone; its `total`/`total_pages` then let up to `concurrency` further pages be fetched
///   ahead (1 = strictly sequential). Items are still yielded in list order.
/// * The walk ends on an empty or short page (fewer items than the page size), whatever
///   `total` said, and goes on past `total_pages` (one page at a time) while pages are full.
/// * `id_of` extracts an item's id: an id already yielded is skipped, so records inserted
///   at the head of the list during the walk (which shift later pages down) cause no
///   repeats. Items without an id (`None`) are always yielded. Memory: one id per item.
/// * A page answered with a smaller `total` than a page before it was served before
///   records were inserted and may have missed some; it is fetched once more, so nothing
///   of the original set is lost to prefetching.
/// * The first error ends the stream after being yielded. Dropping the stream drops (and
///   so cancels) every in-flight request; nothing is spawned.
///
/// `page_size` and `concurrency` must be at least 1 (callers validate; 0 is treated as 1).
/// If the first page reports a smaller `limit` than requested, that limit is used from then on.
pub fn paginate<T, K, E, F, Fut, I>(
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
pub fn paginate_with<T, K, E, F, Fut, I>(
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
    let walk = Walk {
        eager,
        fetch,
        id_of,
        page_size: page_size.max(1),
        concurrency: concurrency.max(1),
        next_offset: start_offset,
        planned_end: 0,
        first: true,
        max_total: 0,
        in_flight: FuturesOrdered::new(),
        offsets: VecDeque::new(),
        ready: VecDeque::new(),
        seen: HashSet::new(),
        done: false,
    };
    futures::stream::unfold(walk, |mut walk| async move {
        let item = walk.next_item().await?;
        Some((item, walk))
    })
}

struct Walk<T, K, F, Fut: Future, I> {
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
    /// Largest `total` of a page consumed so far.
    max_total: u64,
    in_flight: FuturesOrdered<Fut>,
    /// Offsets of `in_flight`, in the same (request) order.
    offsets: VecDeque<u64>,
    ready: VecDeque<T>,
    seen: HashSet<K>,
    done: bool,
}

impl<T, K, E, F, Fut, I> Walk<T, K, F, Fut, I>
where
    F: FnMut(u64, u32) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
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
            let (Some(result), Some(offset)) =
                (self.in_flight.next().await, self.offsets.pop_front())
            else {
                self.done = true;
                continue;
            };
            let page = match result {
                Ok(page) if !self.first && page.total < self.max_total => {
                    // Served before records were inserted that an earlier page already
                    // saw: the list may have shifted past it. Ask again, once, and take
                    // that answer's total as the new baseline (so deletions, which also
                    // lower the total, cannot cause a refetch loop).
                    self.max_total = 0;
                    (self.fetch)(offset, self.page_size).await
                }
                other => other,
            };
            match page {
                Ok(page) => self.absorb(page, offset),
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
        self.in_flight
            .push_back((self.fetch)(offset, self.page_size));
        self.offsets.push_back(offset);
        self.next_offset = offset.saturating_add(u64::from(self.page_size));
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
        self.max_total = self.max_total.max(page.total);
        if page.items.len() < self.page_size as usize {
            self.stop();
        }
        let beyond_total = offset >= self.planned_end;
        let mut fresh_items = 0usize;
        for item in page.items {
            let fresh = match (self.id_of)(&item) {
                Some(id) => self.seen.insert(id),
                None => true,
            };
            if fresh {
                fresh_items += 1;
                self.ready.push_back(item);
            }
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
            async move {
                let _guard = guard;
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
            let this = self.clone();
            paginate(
                0,
                page_size,
                concurrency,
                move |o, l| this.fetch(o, l),
                |x: &u64| Some(*x),
            )
        }

        fn stream_eager(
            &self,
            page_size: u32,
            concurrency: usize,
        ) -> impl Stream<Item = Result<u64, String>> + use<> {
            let this = self.clone();
            paginate_with(
                0,
                page_size,
                concurrency,
                true,
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
            let got: Vec<u64> = list.stream(100, concurrency).try_collect().await.unwrap();
            assert_eq!(got, expected, "concurrency {concurrency}");
        }
        // 10 full pages plus one empty probe past the end, per run.
        assert_eq!(list.calls.lock().unwrap().len(), 4 * 11);
    }

    #[tokio::test]
    async fn odd_sizes_and_empty() {
        for (n, ps) in [(0, 100), (1, 100), (99, 100), (101, 100), (250, 7), (5, 1)] {
            let list = FakeList::with(n);
            let got: Vec<u64> = list.stream(ps, 4).try_collect().await.unwrap();
            assert_eq!(got, (1..=n).rev().collect::<Vec<_>>(), "n={n} ps={ps}");
        }
    }

    #[tokio::test]
    async fn total_lies() {
        for skew in [-500, -1000, 300, 10_000] {
            let mut list = FakeList::with(1000);
            list.total_skew = skew;
            let got: Vec<u64> = list.stream(100, 4).try_collect().await.unwrap();
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
            let got: Vec<u64> = list
                .stream_eager(ps, concurrency)
                .try_collect()
                .await
                .unwrap();
            assert_eq!(got, (1..=n).rev().collect::<Vec<_>>(), "n={n} ps={ps}");
        }
        // The first round asks for 4 pages at once (served in any order): 0, 100, 200, 300.
        let list = FakeList::with(1000);
        let _: Vec<u64> = list.stream_eager(100, 4).try_collect().await.unwrap();
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
        let got: Vec<u64> = list.stream_eager(100, 3).try_collect().await.unwrap();
        assert_eq!(got, (1..=230).rev().collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn server_caps_limit() {
        let mut list = FakeList::with(230);
        list.max_limit = 50;
        let got: Vec<u64> = list.stream(100, 3).try_collect().await.unwrap();
        assert_eq!(got, (1..=230).rev().collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn inserts_during_walk_lose_and_repeat_nothing() {
        for concurrency in [1, 4, 8] {
            for reverse_delay in [false, true] {
                let mut list = FakeList::with(1000);
                list.insert_per_request = 7;
                list.reverse_delay = reverse_delay;
                let got: Vec<u64> = list.stream(50, concurrency).try_collect().await.unwrap();
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
        let results: Vec<Result<u64, String>> = list.stream(100, 4).collect().await;
        assert_eq!(results.len(), 301);
        assert!(results[..300].iter().all(Result::is_ok));
        assert_eq!(results[300], Err("boom at 300".to_owned()));
        // First page error.
        list.fail_at_offset = Some(0);
        let results: Vec<Result<u64, String>> = list.stream(100, 4).collect().await;
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
        let got: Vec<&str> = paginate(0, 3, 2, fetch, |(id, _): &(Option<u32>, &str)| *id)
            .map_ok(|(_, name)| name)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(got, ["a", "b", "c", "d", "e"]);
    }

    #[tokio::test]
    async fn start_offset_respected() {
        let list = FakeList::with(300);
        let this = list.clone();
        let got: Vec<u64> = paginate(
            250,
            100,
            4,
            move |o, l| this.fetch(o, l),
            |x: &u64| Some(*x),
        )
        .try_collect()
        .await
        .unwrap();
        assert_eq!(got, (1..=50).rev().collect::<Vec<_>>());
    }
}
