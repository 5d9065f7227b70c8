//! Pagination: typed list filters, single pages and ordered, de-duplicating streams over
//! every `limit`/`offset` list of the API.
//!
//! Each list operation gets three methods on its service: `list(&filter)` (one [`Page`]),
//! `stream(filter)` (every item, in order) and `collect_all(filter)`:
//!
//! | service                      | methods                                                  | filter                 |
//! |------------------------------|----------------------------------------------------------|------------------------|
//! | `client.payments()`          | `list`, `stream`, `collect_all`                          | [`PaymentFilter`]      |
//! | `client.webhooks()`          | `list`, `stream`, `collect_all`                          | [`WebhookFilter`]      |
//! | `client.webhooks()`          | `list_events`, `stream_events`, `collect_all_events`     | [`WebhookEventFilter`] |
//! | `client.tickets()`           | `list`, `stream`, `collect_all`                          | [`TicketFilter`]       |
//! | `client.tickets()`           | `list_comments`, `stream_comments`, `collect_all_comments` | [`CommentFilter`]    |
//!
//! Streams use the largest page size (100) and fetch up to 4 pages ahead by default, and
//! still yield items in list order; see [`paginate`] for the exact guarantees.
//!
//! ```no_run
//! # async fn demo(client: luxcore_ext::client::LuxCore) -> luxcore_ext::error::Result<()> {
//! use futures::TryStreamExt;
//! use luxcore_ext::pagination::PaymentFilter;
//! use luxcore_ext::PaymentStatus;
//!
//! let payments = client.payments();
//! let mut completed = std::pin::pin!(payments.stream(PaymentFilter::new().status(PaymentStatus::Completed)));
//! while let Some(payment) = completed.try_next().await? {
//!     println!("{:?} {}", payment.id, payment.amount);
//! }
//! # Ok(()) }
//! ```

mod filters;
mod lists;
mod walk;

pub use filters::{
    CommentFilter, MAX_SEARCH_CHARS, PaymentFilter, TicketFilter, WebhookEventFilter, WebhookFilter,
};
pub use walk::{paginate, paginate_with};

/// Largest page size the API accepts (`limit` maximum); the streams' default.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Default number of pages fetched ahead by the streams.
pub const DEFAULT_CONCURRENCY: usize = 4;

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
