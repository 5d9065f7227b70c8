//! `list` (one page), `stream` and `collect_all` for every list operation, on the
//! service types: payments, webhooks, webhook events, tickets and ticket comments.

use std::sync::Arc;

use futures::future::Either;
use futures::stream::{self, Stream, TryStreamExt};
use luxcore_api::types::{Pagination, Payment, Ticket, TicketComment, Webhook, WebhookEvent};

use super::filters::Paging;
use super::{
    CommentFilter, Page, PaymentFilter, TicketFilter, WebhookEventFilter, WebhookFilter,
    paginate_with,
};
use crate::client::{Call, LuxCore};
use crate::error::{Error, Result};
use crate::services::{Payments, Tickets, Webhooks};

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

/// Runs [`paginate`] with validated paging, or yields the validation error alone.
fn walk<'a, T, K, F, Fut>(
    paging: Result<Paging>,
    fetch: F,
    id_of: fn(&T) -> Option<K>,
) -> impl Stream<Item = Result<T>> + 'a
where
    T: 'a,
    K: Eq + std::hash::Hash + 'a,
    F: FnMut(u64, u32) -> Fut + 'a,
    Fut: Future<Output = Result<Page<T>>> + 'a,
{
    match paging {
        Ok(p) => Either::Left(paginate_with(
            p.offset,
            p.page_size,
            p.concurrency,
            p.eager,
            fetch,
            id_of,
        )),
        Err(err) => Either::Right(stream::once(async move { Err(err) })),
    }
}

/// The API's 32-bit offset (paging validation keeps the start in range; later pages of a
/// huge list could still exceed it).
fn api_offset(offset: u64) -> Result<i32> {
    i32::try_from(offset).map_err(|_| Error::Config(format!("offset {offset} is too large")))
}

fn payment_id(payment: &Payment) -> Option<String> {
    payment
        .id
        .clone()
        .or_else(|| payment.transaction_id.clone())
}

async fn payments_page(
    client: &LuxCore,
    filter: &PaymentFilter,
    offset: u64,
    limit: u32,
) -> Result<Page<Payment>> {
    let offset = api_offset(offset)?;
    let response = client
        .run(Call::get("/api/v1/payments"), |c| {
            let mut builder = c.list_payments().limit(limit).offset(offset);
            if let Some(status) = &filter.status {
                builder = builder.status(status.clone());
            }
            if let Some(from) = filter.created_from {
                builder = builder.created_at_from(from);
            }
            if let Some(to) = filter.created_to {
                builder = builder.created_at_to(to);
            }
            builder.send()
        })
        .await?;
    let list = response.into_inner();
    Ok(Page::from_api(list.data, list.total, &list.pagination))
}

impl<'a> Payments<'a> {
    /// One page of payments, newest first: `filter.page_size` items from `filter.offset`.
    pub async fn list(&self, filter: &PaymentFilter) -> Result<Page<Payment>> {
        let paging = filter.paging()?;
        payments_page(self.client, filter, paging.offset, paging.page_size).await
    }

    /// Every payment matching `filter`, newest first, fetching up to
    /// `filter.concurrency` pages ahead; see [`paginate`] for the guarantees (order,
    /// no repeats by `id`/`transaction_id`, end on a short page, errors end the stream,
    /// drop cancels). Invalid paging yields a single [`Error::Config`].
    pub fn stream(&self, filter: PaymentFilter) -> impl Stream<Item = Result<Payment>> + 'a {
        let client = self.client;
        let paging = filter.paging();
        let filter = Arc::new(filter);
        walk(
            paging,
            move |offset, limit| {
                let filter = Arc::clone(&filter);
                async move { payments_page(client, &filter, offset, limit).await }
            },
            payment_id,
        )
    }

    /// Every payment matching `filter`, collected (see [`Self::stream`]).
    pub async fn collect_all(&self, filter: PaymentFilter) -> Result<Vec<Payment>> {
        self.stream(filter).try_collect().await
    }
}

async fn webhooks_page(
    client: &LuxCore,
    filter: &WebhookFilter,
    offset: u64,
    limit: u32,
) -> Result<Page<Webhook>> {
    let offset = api_offset(offset)?;
    let response = client
        .run(Call::get("/api/v1/webhooks"), |c| {
            let mut builder = c.list_webhooks().limit(limit).offset(offset);
            if let Some(status) = &filter.status {
                builder = builder.status(status.clone());
            }
            if let Some(from) = filter.created_from {
                builder = builder.created_at_from(from);
            }
            if let Some(to) = filter.created_to {
                builder = builder.created_at_to(to);
            }
            builder.send()
        })
        .await?;
    let list = response.into_inner();
    Ok(Page::from_api(list.data, list.total, &list.pagination))
}

async fn events_page(
    client: &LuxCore,
    webhook_id: &str,
    filter: &WebhookEventFilter,
    offset: u64,
    limit: u32,
) -> Result<Page<WebhookEvent>> {
    let offset = api_offset(offset)?;
    let response = client
        .run(Call::get("/api/v1/webhooks/{id}/events"), |c| {
            let mut builder = c
                .list_webhook_events()
                .id(webhook_id)
                .limit(limit)
                .offset(offset);
            if let Some(status) = &filter.status {
                builder = builder.status(status.clone());
            }
            if let Some(from) = filter.created_from {
                builder = builder.created_at_from(from);
            }
            if let Some(to) = filter.created_to {
                builder = builder.created_at_to(to);
            }
            builder.send()
        })
        .await?;
    let list = response.into_inner();
    Ok(Page::from_api(list.data, list.total, &list.pagination))
}

impl<'a> Webhooks<'a> {
    /// One page of webhook endpoints.
    pub async fn list(&self, filter: &WebhookFilter) -> Result<Page<Webhook>> {
        let paging = filter.paging()?;
        webhooks_page(self.client, filter, paging.offset, paging.page_size).await
    }

    /// Every webhook endpoint matching `filter` (de-duplicated by `id`); see
    /// [`Payments::stream`] for the behaviour.
    pub fn stream(&self, filter: WebhookFilter) -> impl Stream<Item = Result<Webhook>> + 'a {
        let client = self.client;
        let paging = filter.paging();
        let filter = Arc::new(filter);
        walk(
            paging,
            move |offset, limit| {
                let filter = Arc::clone(&filter);
                async move { webhooks_page(client, &filter, offset, limit).await }
            },
            |w: &Webhook| Some(w.id.clone()),
        )
    }

    /// Every webhook endpoint matching `filter`, collected.
    pub async fn collect_all(&self, filter: WebhookFilter) -> Result<Vec<Webhook>> {
        self.stream(filter).try_collect().await
    }

    /// One page of the events (deliveries) of webhook `webhook_id`.
    pub async fn list_events(
        &self,
        webhook_id: &str,
        filter: &WebhookEventFilter,
    ) -> Result<Page<WebhookEvent>> {
        let paging = filter.paging()?;
        events_page(
            self.client,
            webhook_id,
            filter,
            paging.offset,
            paging.page_size,
        )
        .await
    }

    /// Every event of webhook `webhook_id` matching `filter` (de-duplicated by `id`).
    pub fn stream_events(
        &self,
        webhook_id: impl Into<String>,
        filter: WebhookEventFilter,
    ) -> impl Stream<Item = Result<WebhookEvent>> + 'a {
        let client = self.client;
        let paging = filter.paging();
        let target = Arc::new((webhook_id.into(), filter));
        walk(
            paging,
            move |offset, limit| {
                let target = Arc::clone(&target);
                async move { events_page(client, &target.0, &target.1, offset, limit).await }
            },
            |e: &WebhookEvent| Some(e.id.clone()),
        )
    }

    /// Every event of webhook `webhook_id` matching `filter`, collected.
    pub async fn collect_all_events(
        &self,
        webhook_id: impl Into<String>,
        filter: WebhookEventFilter,
    ) -> Result<Vec<WebhookEvent>> {
        self.stream_events(webhook_id, filter).try_collect().await
    }
}

async fn tickets_page(
    client: &LuxCore,
    filter: &TicketFilter,
    offset: u64,
    limit: u32,
) -> Result<Page<Ticket>> {
    let offset = api_offset(offset)?;
    let response = client
        .run(Call::get("/api/v1/tickets"), |c| {
            let mut builder = c.list_tickets().limit(limit).offset(offset);
            if !filter.status.is_empty() {
                builder = builder.status(filter.status.clone());
            }
            if !filter.category.is_empty() {
                builder = builder.category(filter.category.clone());
            }
            if let Some(search) = &filter.search {
                builder = builder.search(search.as_str());
            }
            if let Some(payment_id) = &filter.payment_id {
                builder = builder.payment_id(payment_id.clone());
            }
            if let Some(after) = filter.created_after {
                builder = builder.created_after(after);
            }
            if let Some(before) = filter.created_before {
                builder = builder.created_before(before);
            }
            if let Some(sort_by) = &filter.sort_by {
                builder = builder.sort_by(sort_by.clone());
            }
            builder.send()
        })
        .await?;
    let list = response.into_inner();
    Ok(Page::from_api(list.data, list.total, &list.pagination))
}

async fn comments_page(
    client: &LuxCore,
    ticket_id: &str,
    offset: u64,
    limit: u32,
) -> Result<Page<TicketComment>> {
    let offset = api_offset(offset)?;
    let response = client
        .run(Call::get("/api/v1/tickets/{id}/comments"), |c| {
            c.list_ticket_comments()
                .id(ticket_id)
                .limit(limit)
                .offset(offset)
                .send()
        })
        .await?;
    let list = response.into_inner();
    Ok(Page::from_api(list.data, list.total, &list.pagination))
}

impl<'a> Tickets<'a> {
    /// One page of tickets.
    pub async fn list(&self, filter: &TicketFilter) -> Result<Page<Ticket>> {
        let paging = filter.validate()?;
        tickets_page(self.client, filter, paging.offset, paging.page_size).await
    }

    /// Every ticket matching `filter` (de-duplicated by `ticket_id`); see
    /// [`Payments::stream`] for the behaviour.
    pub fn stream(&self, filter: TicketFilter) -> impl Stream<Item = Result<Ticket>> + 'a {
        let client = self.client;
        let paging = filter.validate();
        let filter = Arc::new(filter);
        walk(
            paging,
            move |offset, limit| {
                let filter = Arc::clone(&filter);
                async move { tickets_page(client, &filter, offset, limit).await }
            },
            |t: &Ticket| Some(t.ticket_id.clone()),
        )
    }

    /// Every ticket matching `filter`, collected.
    pub async fn collect_all(&self, filter: TicketFilter) -> Result<Vec<Ticket>> {
        self.stream(filter).try_collect().await
    }

    /// One page of the comments of ticket `ticket_id`, oldest first.
    pub async fn list_comments(
        &self,
        ticket_id: &str,
        filter: &CommentFilter,
    ) -> Result<Page<TicketComment>> {
        let paging = filter.paging()?;
        comments_page(self.client, ticket_id, paging.offset, paging.page_size).await
    }

    /// Every comment of ticket `ticket_id` (de-duplicated by `id`).
    pub fn stream_comments(
        &self,
        ticket_id: impl Into<String>,
        filter: CommentFilter,
    ) -> impl Stream<Item = Result<TicketComment>> + 'a {
        let client = self.client;
        let paging = filter.paging();
        let ticket_id: Arc<str> = ticket_id.into().into();
        walk(
            paging,
            move |offset, limit| {
                let ticket_id = Arc::clone(&ticket_id);
                async move { comments_page(client, &ticket_id, offset, limit).await }
            },
            |c: &TicketComment| Some(c.id.clone()),
        )
    }

    /// Every comment of ticket `ticket_id`, collected.
    pub async fn collect_all_comments(
        &self,
        ticket_id: impl Into<String>,
        filter: CommentFilter,
    ) -> Result<Vec<TicketComment>> {
        self.stream_comments(ticket_id, filter).try_collect().await
    }
}
