//! Typed filters of the list operations, each with the paging options of its stream.

use chrono::{DateTime, Utc};
use luxcore_api::enums::{
    PaymentStatus, TicketCategory, TicketStatus, WebhookDeliveryStatus, WebhookStatus,
};

use super::{DEFAULT_CONCURRENCY, MAX_PAGE_SIZE};
use crate::error::{Error, Result};

/// Longest accepted ticket `search` text, in characters.
pub const MAX_SEARCH_CHARS: usize = 100;

/// Page size, prefetch concurrency and start offset, shared by every filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Paging {
    pub(crate) page_size: u32,
    pub(crate) concurrency: usize,
    pub(crate) offset: u64,
    pub(crate) eager: bool,
}

/// Checks the paging fields of a filter: page size 1..=100, concurrency >= 1, offset
/// representable by the API (32-bit).
pub(crate) fn paging(
    page_size: u32,
    concurrency: usize,
    offset: u64,
    eager: bool,
) -> Result<Paging> {
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(Error::Config(format!(
            "page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}"
        )));
    }
    if concurrency == 0 {
        return Err(Error::Config("concurrency must be at least 1".into()));
    }
    if i32::try_from(offset).is_err() {
        return Err(Error::Config(format!("offset {offset} is too large")));
    }
    Ok(Paging {
        page_size,
        concurrency,
        offset,
        eager,
    })
}

/// Adds the paging builder methods and `paging()` validation to a filter with
/// `page_size`, `concurrency` and `offset` fields.
macro_rules! paging_methods {
    ($filter:ty) => {
        impl $filter {
            /// Items per request, 1..=100 (default 100, the maximum).
            pub fn page_size(mut self, page_size: u32) -> Self {
                self.page_size = page_size;
                self
            }

            /// Pages fetched ahead while streaming, at least 1 (default 4; 1 = sequential).
            pub fn concurrency(mut self, concurrency: usize) -> Self {
                self.concurrency = concurrency;
                self
            }

            /// Offset of the first item (default 0): the page returned by `list`, and where
            /// streams start.
            pub fn offset(mut self, offset: u64) -> Self {
                self.offset = offset;
                self
            }

            /// Streams only: request the first `concurrency` pages together instead of
            /// the first page alone (default `false`). Saves one round trip on long lists;
            /// costs up to `concurrency - 1` empty-page requests, which count against the
            /// rate limit, on lists shorter than that.
            pub fn eager(mut self, eager: bool) -> Self {
                self.eager = eager;
                self
            }

            /// Validates the paging fields ([`Error::Config`] when out of range).
            pub(crate) fn paging(&self) -> Result<Paging> {
                paging(self.page_size, self.concurrency, self.offset, self.eager)
            }
        }
    };
}

/// Defines a filter with an optional `status`, a `created_at` range and the paging fields,
/// with its builder methods (the payments, webhooks and webhook-events lists share this shape).
macro_rules! status_range_filter {
    (
        $(#[$meta:meta])*
        $filter:ident, $status:ty, $items:literal, $status_doc:literal
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $filter {
            #[doc = concat!("Only ", $items, " in this ", $status_doc, ".")]
            pub status: Option<$status>,
            #[doc = concat!("Only ", $items, " created at or after this time (`created_at_from`).")]
            pub created_from: Option<DateTime<Utc>>,
            #[doc = concat!("Only ", $items, " created at or before this time (`created_at_to`).")]
            pub created_to: Option<DateTime<Utc>>,
            /// Items per request, 1..=100 (default 100).
            pub page_size: u32,
            /// Pages fetched ahead while streaming, at least 1 (default 4).
            pub concurrency: usize,
            /// Streams only: fetch the first `concurrency` pages together (see `eager()`).
            pub eager: bool,
            /// Offset of the first item (default 0).
            pub offset: u64,
        }

        impl Default for $filter {
            fn default() -> Self {
                Self {
                    status: None,
                    created_from: None,
                    created_to: None,
                    page_size: MAX_PAGE_SIZE,
                    concurrency: DEFAULT_CONCURRENCY,
                    eager: false,
                    offset: 0,
                }
            }
        }

        impl $filter {
            #[doc = concat!("No filter: all ", $items, ", default paging.")]
            pub fn new() -> Self {
                Self::default()
            }

            #[doc = concat!("Only ", $items, " in `status`.")]
            pub fn status(mut self, status: $status) -> Self {
                self.status = Some(status);
                self
            }

            #[doc = concat!("Only ", $items, " created at or after `from`.")]
            pub fn created_from(mut self, from: DateTime<Utc>) -> Self {
                self.created_from = Some(from);
                self
            }

            #[doc = concat!("Only ", $items, " created at or before `to`.")]
            pub fn created_to(mut self, to: DateTime<Utc>) -> Self {
                self.created_to = Some(to);
                self
            }
        }

        paging_methods!($filter);
    };
}

status_range_filter!(
    /// Filter of `GET /payments` (newest first).
    ///
    /// ```
    /// use luxcore_ext::pagination::PaymentFilter;
    /// use luxcore_ext::PaymentStatus;
    ///
    /// let filter = PaymentFilter::new().status(PaymentStatus::Completed).page_size(50).concurrency(2);
    /// assert_eq!(filter.page_size, 50);
    /// ```
    PaymentFilter, PaymentStatus, "payments", "status"
);

status_range_filter!(
    /// Filter of `GET /webhooks`.
    WebhookFilter, WebhookStatus, "webhooks", "status"
);

status_range_filter!(
    /// Filter of `GET /webhooks/{id}/events`.
    WebhookEventFilter, WebhookDeliveryStatus, "events", "delivery status"
);

/// Filter of `GET /tickets`. Repeated values (`status`, `category`) are sent as repeated
/// query keys (`?status=open&status=in_progress`) and match any of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketFilter {
    /// Only tickets in one of these statuses (all when empty).
    pub status: Vec<TicketStatus>,
    /// Only tickets in one of these categories (all when empty).
    pub category: Vec<TicketCategory>,
    /// Free text searched in title and description, at most 100 characters.
    pub search: Option<String>,
    /// Only tickets about this payment.
    pub payment_id: Option<String>,
    /// Only tickets created after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Only tickets created before this time.
    pub created_before: Option<DateTime<Utc>>,
    /// Server-side sort key (values undocumented; passed through).
    pub sort_by: Option<String>,
    /// Items per request, 1..=100 (default 100).
    pub page_size: u32,
    /// Pages fetched ahead while streaming, at least 1 (default 4).
    pub concurrency: usize,
    /// Streams only: fetch the first `concurrency` pages together (see `eager()`).
    pub eager: bool,
    /// Offset of the first item (default 0).
    pub offset: u64,
}

impl Default for TicketFilter {
    fn default() -> Self {
        Self {
            status: Vec::new(),
            category: Vec::new(),
            search: None,
            payment_id: None,
            created_after: None,
            created_before: None,
            sort_by: None,
            page_size: MAX_PAGE_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            eager: false,
            offset: 0,
        }
    }
}

impl TicketFilter {
    /// No filter: every ticket, default paging.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `status` to the accepted statuses.
    pub fn status(mut self, status: TicketStatus) -> Self {
        self.status.push(status);
        self
    }

    /// Adds `category` to the accepted categories.
    pub fn category(mut self, category: TicketCategory) -> Self {
        self.category.push(category);
        self
    }

    /// Searches `text` in title and description (at most 100 characters).
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }

    /// Only tickets about `payment_id`.
    pub fn payment_id(mut self, payment_id: impl Into<String>) -> Self {
        self.payment_id = Some(payment_id.into());
        self
    }

    /// Only tickets created after `after`.
    pub fn created_after(mut self, after: DateTime<Utc>) -> Self {
        self.created_after = Some(after);
        self
    }

    /// Only tickets created before `before`.
    pub fn created_before(mut self, before: DateTime<Utc>) -> Self {
        self.created_before = Some(before);
        self
    }

    /// Server-side sort key.
    pub fn sort_by(mut self, sort_by: impl Into<String>) -> Self {
        self.sort_by = Some(sort_by.into());
        self
    }

    /// Validates paging and the search length.
    pub(crate) fn validate(&self) -> Result<Paging> {
        if self
            .search
            .as_ref()
            .is_some_and(|search| search.chars().count() > MAX_SEARCH_CHARS)
        {
            return Err(Error::Config(format!(
                "search must be at most {MAX_SEARCH_CHARS} characters"
            )));
        }
        self.paging()
    }
}

paging_methods!(TicketFilter);

/// Paging of `GET /tickets/{id}/comments` (oldest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentFilter {
    /// Items per request, 1..=100 (default 100).
    pub page_size: u32,
    /// Pages fetched ahead while streaming, at least 1 (default 4).
    pub concurrency: usize,
    /// Streams only: fetch the first `concurrency` pages together (see `eager()`).
    pub eager: bool,
    /// Offset of the first item (default 0).
    pub offset: u64,
}

impl Default for CommentFilter {
    fn default() -> Self {
        Self {
            page_size: MAX_PAGE_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            eager: false,
            offset: 0,
        }
    }
}

impl CommentFilter {
    /// Every comment, default paging.
    pub fn new() -> Self {
        Self::default()
    }
}

paging_methods!(CommentFilter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_builders() {
        let f = PaymentFilter::new();
        assert_eq!((f.page_size, f.concurrency, f.offset), (100, 4, 0));
        let f = f
            .status(PaymentStatus::Completed)
            .page_size(10)
            .concurrency(1)
            .offset(20);
        assert_eq!(f.status, Some(PaymentStatus::Completed));
        assert_eq!(
            f.paging().unwrap(),
            Paging {
                page_size: 10,
                concurrency: 1,
                eager: false,
                offset: 20
            }
        );
        let t = TicketFilter::new()
            .status(TicketStatus::Open)
            .status(TicketStatus::InProgress)
            .category(TicketCategory::PaymentIssue);
        assert_eq!(t.status.len(), 2);
        assert!(t.validate().is_ok());
    }

    #[test]
    fn validation() {
        for bad in [0, 101, u32::MAX] {
            assert!(matches!(
                PaymentFilter::new().page_size(bad).paging(),
                Err(Error::Config(_))
            ));
        }
        assert!(PaymentFilter::new().page_size(1).paging().is_ok());
        assert!(PaymentFilter::new().page_size(100).paging().is_ok());
        assert!(matches!(
            WebhookFilter::new().concurrency(0).paging(),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            CommentFilter::new().offset(u64::from(u32::MAX)).paging(),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            TicketFilter::new().search("x".repeat(101)).validate(),
            Err(Error::Config(_))
        ));
        assert!(
            TicketFilter::new()
                .search("é".repeat(100))
                .validate()
                .is_ok()
        );
        assert!(WebhookEventFilter::new().paging().is_ok());
    }
}
