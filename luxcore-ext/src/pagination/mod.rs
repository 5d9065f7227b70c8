//! Pagination: single pages, [`Paging`] settings and ordered, de-duplicating streams over
//! every `limit`/`offset` list of the API, all driven by one generic walker.
//!
//! Each list gets three methods on its resource — `list(&filter)` (one [`Page`]),
//! `stream(filter)` (every item, in order, as a [`ListStream`]) and `collect_all(filter)`:
//!
//! | resource                 | methods                                                      | filter                                                  |
//! |--------------------------|--------------------------------------------------------------|---------------------------------------------------------|
//! | `client.payments()`      | `list`, `stream`, `collect_all`                              | [`PaymentFilter`](crate::payments::PaymentFilter)       |
//! | `client.webhook_endpoints()`      | `list`, `stream`, `collect_all`                              | [`WebhookFilter`](crate::webhook_endpoints::WebhookFilter) |
//! | `client.webhook_endpoints()`      | `list_events`, `stream_events`, `collect_all_events`         | [`WebhookEventFilter`](crate::webhook_endpoints::WebhookEventFilter) |
//! | `client.tickets()`       | `list`, `stream`, `collect_all`                              | [`TicketFilter`](crate::tickets::TicketFilter)          |
//! | `client.tickets()`       | `list_comments`, `stream_comments`, `collect_all_comments`   | none                                                    |
//!
//! Filters say *what* to list; [`Paging`] says *how* to walk it (page size, pages fetched
//! ahead, eager first round, start offset) and is set on the resource:
//! `client.payments().paging(Paging::new().concurrency(1))`. Streams are `'static`, `Send`
//! and `Unpin` (they own a clone of the client), so they can be spawned:
//!
//! ```no_run
//! # async fn demo(client: luxcore_ext::LuxCore) -> luxcore_ext::Result<()> {
//! use luxcore_ext::prelude::*;
//!
//! let completed = client.payments().stream(PaymentFilter::new().status(PaymentStatus::Completed));
//! let all = tokio::spawn(async move { completed.try_collect::<Vec<_>>().await }).await.unwrap()?;
//! println!("{} completed payments", all.len());
//! # Ok(()) }
//! ```
//!
//! Inside a tokio runtime, each page a stream requests ahead runs on a task of its own, so
//! pages are received and decoded in parallel, also while the consumer is busy with earlier
//! items; dropping the stream cancels them all.

//!
//! # Streams while the list changes
//!
//! A stream holds constant memory: the ids of the last `page_size × (concurrency + 2)` items (at least 1,024) for
//! de-duplication, the pages in flight and the page being yielded; never one id per item.
//!
//! Streams of payments, webhooks and webhook events are pinned to a *snapshot*: every page
//! after the first asks only for records created at or before the first page's `Date`
//! header rounded up to the next second (`created_at_to`, or the filter's own `created_to`
//! if earlier). What such a stream returns:
//!
//! * **Unchanged records** that match the filter: each exactly once, in list order.
//! * **Records created during the walk**: not returned, except those created in the same
//!   second as the first page was served (inside the snapshot); those come once, right
//!   after the first page.
//! * **Records deleted, or leaving the filter** (a payment completing while
//!   `status=processing` is streamed): returned if their page was served before the change,
//!   else not. Either way every other record is still returned once: when the `total` of a
//!   page falls, the walk goes back twice the fall (at most a window) and skips the repeats.
//!   A record can be skipped only if more than half a window of records disappears behind
//!   the walk between two pages, eight times in a row.
//! * **Records entering the filter** (a status change into it): returned once if their
//!   position is not walked yet, else not.
//! * **Records changing** but still matching: returned once, as their page had them.
//!
//! Lists without a `created_at_to` filter (tickets, ticket comments) are not pinned:
//! records inserted during the walk shift later pages, items already yielded are skipped
//! (within the window), and a page served before inserts that an earlier page saw is
//! fetched again.
//!
//! The walk ends on an empty or short page (fewer items than the page size), whatever
//! `total` said, and goes on past `total_pages` (one page at a time) while pages are full;
//! past `total`, a full page with nothing new ends it too (a server that ignores `offset`).
//! The first error ends the stream after being yielded.

pub(crate) mod filters;
mod walk;

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream};
use luxcore_api::types::Pagination;
use tracing::instrument::{Instrument, WithSubscriber};

pub use filters::MAX_SEARCH_CHARS;
pub(crate) use filters::status_range_query;
pub use walk::Page;
pub(crate) use walk::paginate_with;

use crate::base::context::{Response, ResponseMeta};
use crate::base::error::{Error, Result};
use crate::transport::client::{ApiCall, CallOptions};

/// Largest page size the API accepts (`limit` maximum); the default.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Default number of pages fetched ahead by the streams.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Every item of a list, in order: `'static + Send + Unpin`, owns a clone of the client.
pub type ListStream<T> = BoxStream<'static, Result<T>>;

impl<T> Page<T> {
    /// Builds a page from a list response (negative numbers are read as 0).
    pub(crate) fn from_api(items: Vec<T>, total: i64, pagination: &Pagination) -> Self {
        Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
            limit: u32::try_from(pagination.limit).unwrap_or(0),
            offset: u64::try_from(pagination.offset).unwrap_or(0),
            total_pages: u64::try_from(pagination.total_pages).unwrap_or(0),
        }
    }
}

/// How a list is walked: page size, pages fetched ahead, eager first round, start offset.
/// Separate from the filters (what is listed).
///
/// ```
/// use luxcore_ext::pagination::Paging;
///
/// let paging = Paging::new().page_size(50).concurrency(2).eager(true);
/// assert_eq!((paging.page_size, paging.concurrency, paging.offset), (50, 2, 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Paging {
    /// Items per request, 1..=100 (default 100, the maximum).
    pub page_size: u32,
    /// Pages fetched ahead while streaming, at least 1 (default 4; 1 = sequential).
    pub concurrency: usize,
    /// Streams only: request the first `concurrency` pages together (default `false`).
    pub eager: bool,
    /// Offset of the first item (default 0): the page `list` returns, where streams start.
    pub offset: u64,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            page_size: MAX_PAGE_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            eager: false,
            offset: 0,
        }
    }
}

impl Paging {
    /// The defaults: pages of 100, 4 fetched ahead, not eager, from offset 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Items per request, 1..=100.
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// Pages fetched ahead while streaming, at least 1 (1 = sequential).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Streams only: request the first `concurrency` pages together instead of the first
    /// page alone. Saves one round trip on long lists; costs up to `concurrency - 1`
    /// empty-page requests, which count against the rate limit, on lists shorter than that.
    pub fn eager(mut self, eager: bool) -> Self {
        self.eager = eager;
        self
    }

    /// Offset of the first item.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// Checks the ranges: page size 1..=100, concurrency >= 1, offset representable by the
    /// API (32-bit). [`Error::Config`] otherwise.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(Error::Config(format!(
                "page_size must be between 1 and {MAX_PAGE_SIZE}, got {}",
                self.page_size
            )));
        }
        if self.concurrency == 0 {
            return Err(Error::Config("concurrency must be at least 1".into()));
        }
        api_offset(self.offset).map(|_| ())
    }
}

/// The API's 32-bit offset.
pub(crate) fn api_offset(offset: u64) -> Result<i32> {
    i32::try_from(offset).map_err(|_| Error::Config(format!("offset {offset} is too large")))
}

/// One page as a call (validating paging and `checked` first).
pub(crate) fn page_call<T: Send + 'static>(
    paging: Paging,
    checked: Result<()>,
    fetch: impl FnOnce(i32, u32) -> ApiCall<Page<T>>,
) -> ApiCall<Page<T>> {
    match checked
        .and_then(|()| paging.validate())
        .and_then(|()| api_offset(paging.offset))
    {
        Ok(offset) => fetch(offset, paging.page_size),
        Err(err) => ApiCall::fail(err),
    }
}

/// A list query that can be pinned to a snapshot: the filter (with its parent id, if any)
/// limited to records created at or before a time. `None`: the list cannot be pinned.
pub(crate) trait Pin: Sized {
    fn pin(&self, at: DateTime<Utc>) -> Option<Self>;
}

impl<F: filters::Query> Pin for (F,) {
    fn pin(&self, at: DateTime<Utc>) -> Option<Self> {
        Some((self.0.pinned(at)?,))
    }
}

impl<F: filters::Query> Pin for (String, F) {
    fn pin(&self, at: DateTime<Utc>) -> Option<Self> {
        Some((self.0.clone(), self.1.pinned(at)?))
    }
}

/// The snapshot a walk is pinned to, once the first page told the server's time.
struct Snapshot<Q> {
    /// `Date` (plus one second) of the first unpinned page answered.
    at: Option<DateTime<Utc>>,
    /// The query pinned to `at`.
    pinned: Option<Arc<Q>>,
}

/// A list stream without a filter to pin: [`paginate_with`] over `fetch(offset, limit)`
/// pages, or the validation error (of `paging` or `checked`) alone.
pub(crate) fn walk_list<T, K>(
    paging: Paging,
    checked: Result<()>,
    fetch: impl Fn(i32, u32) -> ApiCall<Page<T>> + Send + Sync + 'static,
    id_of: fn(&T) -> Option<K>,
) -> ListStream<T>
where
    T: Send + 'static,
    K: Eq + std::hash::Hash + Send + 'static,
{
    walk_query(paging, checked, Unpinned, move |_, o, l| fetch(o, l), id_of)
}

/// Every item of the walk [`walk_query`] makes, as one [`ApiCall`]: the call's options apply
/// to each page request, and its metadata is that of the last page received.
pub(crate) fn collect_query<T, K, Q>(
    paging: Paging,
    checked: Result<()>,
    query: Q,
    fetch: impl Fn(&Arc<Q>, i32, u32) -> ApiCall<Page<T>> + Send + Sync + 'static,
    id_of: fn(&T) -> Option<K>,
) -> ApiCall<Vec<T>>
where
    T: Send + 'static,
    K: Eq + std::hash::Hash + Send + 'static,
    Q: Pin + Send + Sync + 'static,
{
    ApiCall::from_fn(move |options: CallOptions| async move {
        let last: Arc<Mutex<Option<ResponseMeta>>> = Arc::default();
        let seen = Arc::clone(&last);
        let pages = walk_query(
            paging,
            checked,
            query,
            move |q, offset, limit| {
                let seen = Arc::clone(&seen);
                fetch(q, offset, limit)
                    .with_options(options.clone())
                    .and_then(move |page, meta| {
                        if let Ok(mut last) = seen.lock() {
                            *last = Some(meta.clone());
                        }
                        Ok(page)
                    })
            },
            id_of,
        );
        let items: Vec<T> = futures::TryStreamExt::try_collect(pages).await?;
        let meta = last
            .lock()
            .ok()
            .and_then(|mut last| last.take())
            .unwrap_or_else(|| {
                ResponseMeta::new(
                    reqwest::StatusCode::OK,
                    &reqwest::header::HeaderMap::new(),
                    0,
                )
            });
        Ok(Response::new(items, meta))
    })
}

/// [`collect_query`] of a list without a filter to pin.
pub(crate) fn collect_list<T, K>(
    paging: Paging,
    checked: Result<()>,
    fetch: impl Fn(i32, u32) -> ApiCall<Page<T>> + Send + Sync + 'static,
    id_of: fn(&T) -> Option<K>,
) -> ApiCall<Vec<T>>
where
    T: Send + 'static,
    K: Eq + std::hash::Hash + Send + 'static,
{
    collect_query(paging, checked, Unpinned, move |_, o, l| fetch(o, l), id_of)
}

/// The query of a list that has no `created_at_to` filter.
struct Unpinned;

impl Pin for Unpinned {
    fn pin(&self, _at: DateTime<Utc>) -> Option<Self> {
        None
    }
}

/// The one list stream: [`paginate_with`] over `fetch(query, offset, limit)` pages, or the
/// validation error (of `paging` or `checked`) alone.
///
/// The walk is pinned to a snapshot when the list has a `created_at_to` filter: pages after
/// the first ask only for records created at or before the first page's `Date` rounded up
/// to the next second (or the filter's own `created_to`, if earlier). Rounded up, so that
/// every record the first page saw is inside the snapshot.
pub(crate) fn walk_query<T, K, Q>(
    paging: Paging,
    checked: Result<()>,
    query: Q,
    fetch: impl Fn(&Arc<Q>, i32, u32) -> ApiCall<Page<T>> + Send + Sync + 'static,
    id_of: fn(&T) -> Option<K>,
) -> ListStream<T>
where
    T: Send + 'static,
    K: Eq + std::hash::Hash + Send + 'static,
    Q: Pin + Send + Sync + 'static,
{
    if let Err(err) = checked.and_then(|()| paging.validate()) {
        return stream::once(async move { Err(err) }).boxed();
    }
    let query = Arc::new(query);
    let pinnable = query.pin(DateTime::<Utc>::MIN_UTC).is_some();
    let snapshot = Arc::new(Mutex::new(Snapshot::<Q> {
        at: None,
        pinned: None,
    }));
    let fetch = Arc::new(fetch);
    paginate_with(
        paging.offset,
        paging.page_size,
        paging.concurrency,
        paging.eager,
        move |offset, limit| {
            let pinned = snapshot.lock().ok().and_then(|s| s.pinned.clone());
            let call = api_offset(offset).map(|offset| match &pinned {
                Some(pinned) => Prefetched::start(fetch(pinned, offset, limit)),
                None if pinnable => {
                    let (snapshot, query) = (Arc::clone(&snapshot), Arc::clone(&query));
                    let call = fetch(&query, offset, limit).and_then(move |page, meta| {
                        if let Some(date) = meta.server_date() {
                            pin_snapshot(&snapshot, &query, date);
                        }
                        Ok(page)
                    });
                    Prefetched::start(call)
                }
                None => Prefetched::start(fetch(&query, offset, limit)),
            });
            async move { call?.await }
        },
        id_of,
    )
    .boxed()
}

/// Pins the walk at `date` rounded up (`Date` has whole seconds), unless already pinned.
fn pin_snapshot<Q: Pin>(snapshot: &Mutex<Snapshot<Q>>, query: &Q, date: DateTime<Utc>) {
    let at = date + chrono::TimeDelta::seconds(1);
    if let Ok(mut snapshot) = snapshot.lock()
        && snapshot.at.is_none()
    {
        snapshot.at = Some(at);
        snapshot.pinned = query.pin(at).map(Arc::new);
    }
}

/// Defines `list`, `stream` and `collect_all` of one list on a resource with `client` and
/// `paging` fields: `$page(&client, &(parent, filter), offset, limit)` makes the page call.
/// The three take the filter the same way: by value or by reference (`impl Borrow`).
macro_rules! list_methods {
    (
        $what:literal, $item:ty, $filter:ty, $page:path, $id_of:expr,
        $list:ident, $stream:ident, $collect:ident $(, $parent:ident: $ptype:ty)?
    ) => {
        #[doc = concat!("One page of ", $what, ": the resource's [`Paging`](crate::pagination::Paging) `page_size` items from its `offset`.")]
        pub fn $list(&self, $($parent: impl Into<$ptype>,)? filter: impl std::borrow::Borrow<$filter>) -> ApiCall<Page<$item>> {
            let filter = filter.borrow();
            let query = std::sync::Arc::new(($(String::from($parent.into()),)? filter.clone(),));
            let client = self.client.clone();
            let checked = $crate::pagination::filters::Query::check(filter);
            $crate::pagination::page_call(self.paging, checked, move |o, l| $page(&client, &query, o, l))
        }

        #[doc = concat!("Every one of ", $what, " matching `filter`, in list order, de-duplicated by id, fetching up to `paging.concurrency` pages ahead (see [the pagination module](crate::pagination) for the guarantees). `'static + Send + Unpin`: it owns a clone of the client. Invalid paging or filter yields a single [`Error::Config`](crate::error::Error::Config).")]
        pub fn $stream(&self, $($parent: impl Into<$ptype>,)? filter: impl std::borrow::Borrow<$filter>) -> ListStream<$item> {
            let filter = filter.borrow();
            let checked = $crate::pagination::filters::Query::check(filter);
            let query = ($(String::from($parent.into()),)? filter.clone(),);
            let client = self.client.clone();
            $crate::pagination::walk_query(self.paging, checked, query, move |q, o, l| $page(&client, q, o, l), $id_of)
        }

        #[doc = concat!("Every one of ", $what, " matching `filter`, collected (see the stream method). One [`ApiCall`]: its options (timeout, deadline, retry) apply to every page request; its metadata is that of the last page received.")]
        pub fn $collect(&self, $($parent: impl Into<$ptype>,)? filter: impl std::borrow::Borrow<$filter>) -> ApiCall<Vec<$item>> {
            let filter = filter.borrow();
            let checked = $crate::pagination::filters::Query::check(filter);
            let query = ($(String::from($parent.into()),)? filter.clone(),);
            let client = self.client.clone();
            $crate::pagination::collect_query(self.paging, checked, query, move |q, o, l| $page(&client, q, o, l), $id_of)
        }
    };
}
pub(crate) use list_methods;

/// A page request of a walk, started when the walk asks for the page: on a runtime task of
/// its own when there is a tokio runtime, so that the pages fetched ahead are received and
/// decoded in parallel (with each other and with whatever consumes the stream), else polled
/// by the stream itself. Dropping it aborts the task: a dropped or restarting walk cancels
/// its requests either way.
enum Prefetched<T> {
    Task(tokio::task::JoinHandle<Result<T>>),
    Inline(BoxFuture<'static, Result<T>>),
}

impl<T: Send + 'static> Prefetched<T> {
    fn start(call: ApiCall<T>) -> Self {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                // The request's `luxcore.request` span keeps the parent and the subscriber it
                // would have had polled by the stream, on whichever thread the task runs.
                let call = call
                    .into_future()
                    .instrument(tracing::Span::current())
                    .with_current_subscriber();
                Prefetched::Task(runtime.spawn(call))
            }
            Err(_) => Prefetched::Inline(Box::pin(call.into_future())),
        }
    }
}

impl<T> Future for Prefetched<T> {
    type Output = Result<T>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<T>> {
        match self.get_mut() {
            Prefetched::Task(task) => std::pin::Pin::new(task).poll(cx).map(|joined| {
                joined.unwrap_or_else(|failed| match failed.try_into_panic() {
                    // A panic in the request is the caller's, as if polled inline.
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(_) => Err(Error::transport(
                        "the page request was cancelled: the runtime is shutting down".into(),
                    )),
                })
            }),
            Prefetched::Inline(call) => std::pin::Pin::new(call).poll(cx),
        }
    }
}

impl<T> Drop for Prefetched<T> {
    fn drop(&mut self) {
        if let Prefetched::Task(task) = self {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_validation() {
        for bad in [0, 101, u32::MAX] {
            assert!(matches!(
                Paging::new().page_size(bad).validate(),
                Err(Error::Config(_))
            ));
        }
        assert!(Paging::new().page_size(1).validate().is_ok());
        assert!(Paging::new().page_size(100).validate().is_ok());
        assert!(matches!(
            Paging::new().concurrency(0).validate(),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Paging::new().offset(u64::from(u32::MAX)).validate(),
            Err(Error::Config(_))
        ));
        let p = Paging::new()
            .page_size(10)
            .concurrency(1)
            .offset(20)
            .eager(true);
        assert_eq!(
            (p.page_size, p.concurrency, p.offset, p.eager),
            (10, 1, 20, true)
        );
    }
}
