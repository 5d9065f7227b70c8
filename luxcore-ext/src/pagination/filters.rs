//! Typed query filters of the list operations (what is listed; how the list is walked is
//! [`Paging`](crate::pagination::Paging)). Each is re-exported by its resource module.

use chrono::{DateTime, Utc};
use luxcore_api::enums::{
    PaymentStatus, TicketCategory, TicketStatus, WebhookDeliveryStatus, WebhookStatus,
};

use crate::base::error::{Error, Result};

/// Longest accepted ticket `search` text, in characters.
pub const MAX_SEARCH_CHARS: usize = 100;

/// Defines a filter with an optional `status` and a `created_at` range, with its builder
/// methods (the payments, webhooks and webhook-events lists share this shape).
macro_rules! status_range_filter {
    (
        $(#[$meta:meta])*
        $filter:ident, $status:ty, $items:literal, $status_doc:literal
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $filter {
            #[doc = concat!("Only ", $items, " in this ", $status_doc, ".")]
            pub status: Option<$status>,
            #[doc = concat!("Only ", $items, " created at or after this time (`created_at_from`).")]
            pub created_from: Option<DateTime<Utc>>,
            #[doc = concat!("Only ", $items, " created at or before this time (`created_at_to`).")]
            pub created_to: Option<DateTime<Utc>>,
        }

        impl Query for $filter {
            fn pinned(&self, at: DateTime<Utc>) -> Option<Self> {
                let to = self.created_to.map_or(at, |to| to.min(at));
                Some(Self { created_to: Some(to), ..self.clone() })
            }
        }

        impl $filter {
            #[doc = concat!("No filter: all ", $items, ".")]
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
    };
}

/// A filter's own checks, run before any request.
pub(crate) trait Query {
    /// `Ok` when the filter can be sent.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// The filter limited to records created at or before `at` (the earlier of `at` and
    /// its own upper bound), to pin a walk to a snapshot; `None` when the list has no such
    /// filter.
    fn pinned(&self, _at: DateTime<Utc>) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

/// Sets the query parameters of a status + created-range filter on a generated list
/// builder: `status_range_query!(builder, filter)` evaluates to the builder.
macro_rules! status_range_query {
    ($builder:expr, $filter:expr) => {{
        let (mut builder, filter) = ($builder, $filter);
        if let Some(status) = &filter.status {
            builder = builder.status(status.clone());
        }
        if let Some(from) = filter.created_from {
            builder = builder.created_at_from(from);
        }
        if let Some(to) = filter.created_to {
            builder = builder.created_at_to(to);
        }
        builder
    }};
}
pub(crate) use status_range_query;

status_range_filter!(
    /// Filter of `GET /payments` (newest first).
    ///
    /// ```
    /// use luxcore_ext::prelude::*;
    ///
    /// let filter = PaymentFilter::new().status(PaymentStatus::Completed);
    /// assert_eq!(filter.status, Some(PaymentStatus::Completed));
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
}

impl TicketFilter {
    /// No filter: every ticket.
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
    pub fn payment_id(mut self, payment_id: impl Into<crate::base::ids::PaymentId>) -> Self {
        self.payment_id = Some(String::from(payment_id.into()));
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

    /// Validates the search length.
    pub(crate) fn validate(&self) -> Result<()> {
        if self
            .search
            .as_ref()
            .is_some_and(|search| search.chars().count() > MAX_SEARCH_CHARS)
        {
            return Err(Error::Config(format!(
                "search must be at most {MAX_SEARCH_CHARS} characters"
            )));
        }
        Ok(())
    }
}

impl Query for TicketFilter {
    fn check(&self) -> Result<()> {
        self.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_and_validation() {
        let f = PaymentFilter::new().status(PaymentStatus::Completed);
        assert_eq!(f.status, Some(PaymentStatus::Completed));
        let t = TicketFilter::new()
            .status(TicketStatus::Open)
            .status(TicketStatus::InProgress)
            .category(TicketCategory::PaymentIssue);
        assert_eq!(t.status.len(), 2);
        assert!(t.validate().is_ok());
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
        assert_eq!(WebhookEventFilter::new(), WebhookEventFilter::default());
        assert_eq!(WebhookFilter::new().status, None);
    }
}
