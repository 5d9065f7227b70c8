//! Paging and date filters of the list operations.

use chrono::{DateTime, Utc};
use luxcore_api::types::Pagination;

/// Limit and offset of a list request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub(crate) limit: usize,
    pub(crate) offset: usize,
}

/// `created_at_from` / `created_at_to` filter.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DateRange {
    pub(crate) from: Option<DateTime<Utc>>,
    pub(crate) to: Option<DateTime<Utc>>,
}

impl DateRange {
    pub(crate) fn contains(&self, t: Option<DateTime<Utc>>) -> bool {
        let Some(t) = t else { return true };
        self.from.is_none_or(|from| t >= from) && self.to.is_none_or(|to| t <= to)
    }
}

/// One page of `items` plus the total and the pagination block.
pub(crate) fn paginate<T, U>(
    items: impl IntoIterator<Item = T>,
    page: Page,
    to_owned: impl Fn(T) -> U,
) -> (Vec<U>, i64, Pagination) {
    // Count everything, but convert (clone) only the requested page: lists are walked on
    // every request and the whole list may hold thousands of records.
    let mut total = 0usize;
    let mut data = Vec::with_capacity(page.limit.min(100));
    for item in items {
        if total >= page.offset && data.len() < page.limit {
            data.push(to_owned(item));
        }
        total += 1;
    }
    let total_pages = total.div_ceil(page.limit.max(1));
    let pagination = Pagination {
        limit: i32::try_from(page.limit).unwrap_or(i32::MAX),
        offset: i32::try_from(page.offset).unwrap_or(i32::MAX),
        total_pages: i32::try_from(total_pages).unwrap_or(i32::MAX),
    };
    (data, i64::try_from(total).unwrap_or(i64::MAX), pagination)
}
