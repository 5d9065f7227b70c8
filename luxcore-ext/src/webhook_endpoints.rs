//! Webhook endpoints: create, get, update, delete, test, enable, disable, retry, and
//! list/stream/collect_all of the endpoints and of their events (deliveries).
//!
//! Verifying the deliveries your endpoint receives is [`crate::webhooks`].

use std::sync::Arc;

use luxcore_api::enums::WebhookEventType;
use luxcore_api::operations as ops;
use luxcore_api::types::{
    Webhook, WebhookCreateRequest, WebhookEvent, WebhookRetryRequest, WebhookRetryResult,
    WebhookTestRequest, WebhookUpdateRequest,
};

use crate::base::ids::WebhookId;
use crate::pagination::{ListStream, Page, Paging, list_methods, status_range_query};
use crate::transport::client::{ApiCall, LuxCore, attempt};

pub use crate::pagination::filters::{WebhookEventFilter, WebhookFilter};

/// Webhook endpoint operations. Obtained from [`LuxCore::webhook_endpoints`]; owns a clone of the
/// client.
#[derive(Debug, Clone)]
pub struct WebhookEndpoints {
    client: LuxCore,
    paging: Paging,
}

impl LuxCore {
    /// Webhook endpoints: create, get, update, delete, test, enable, disable, retry, list,
    /// stream, and their events.
    pub fn webhook_endpoints(&self) -> WebhookEndpoints {
        WebhookEndpoints {
            client: self.clone(),
            paging: Paging::default(),
        }
    }
}

fn webhooks_page(
    client: &LuxCore,
    query: &Arc<(WebhookFilter,)>,
    offset: i32,
    limit: u32,
) -> ApiCall<Page<Webhook>> {
    let query = Arc::clone(query);
    let send = attempt!(query => |c| {
        let builder = c.list_webhooks().limit(limit).offset(offset);
        status_range_query!(builder, &query.0).send()
    });
    ApiCall::plan(client, ops::LIST_WEBHOOKS, send)
        .map(|list| Page::from_api(list.data, list.total, &list.pagination))
}

fn events_page(
    client: &LuxCore,
    query: &Arc<(String, WebhookEventFilter)>,
    offset: i32,
    limit: u32,
) -> ApiCall<Page<WebhookEvent>> {
    let query = Arc::clone(query);
    let send = attempt!(query => |c| {
        let (webhook_id, filter) = &*query;
        let builder = c.list_webhook_events().id(webhook_id).limit(limit).offset(offset);
        status_range_query!(builder, filter).send()
    });
    ApiCall::plan(client, ops::LIST_WEBHOOK_EVENTS, send)
        .map(|list| Page::from_api(list.data, list.total, &list.pagination))
}

impl WebhookEndpoints {
    /// The same resource walking lists with `paging` (page size, concurrency, eager, offset).
    pub fn paging(mut self, paging: Paging) -> Self {
        self.paging = paging;
        self
    }

    /// Registers an endpoint. The returned [`Webhook::secret`] (`whsec_...`) is shown
    /// only this once: store it to verify deliveries. Not retried once sent.
    pub fn create(&self, request: WebhookCreateRequest) -> ApiCall<Webhook> {
        let send = attempt!(request => |c| c.create_webhook().body(request).send());
        ApiCall::plan(&self.client, ops::CREATE_WEBHOOK, send).map(|r| r.data)
    }

    /// Registers `url` for `events` (signature algorithm left to the server default).
    pub fn create_for(
        &self,
        url: impl Into<String>,
        events: impl IntoIterator<Item = WebhookEventType>,
    ) -> ApiCall<Webhook> {
        self.create(WebhookCreateRequest {
            events: events.into_iter().collect(),
            merchant_id: None,
            signature_algorithm: None,
            url: url.into(),
        })
    }

    /// Gets a webhook by id.
    pub fn get(&self, id: impl Into<WebhookId>) -> ApiCall<Webhook> {
        let id = String::from(id.into());
        let send = attempt!(id => |c| c.get_webhook().id(id).send());
        ApiCall::plan(&self.client, ops::GET_WEBHOOK, send).map(|r| r.data)
    }

    /// Updates the URL, events and/or signature algorithm (unset fields are unchanged).
    pub fn update(
        &self,
        id: impl Into<WebhookId>,
        request: WebhookUpdateRequest,
    ) -> ApiCall<Webhook> {
        let id = String::from(id.into());
        let send = attempt!(id, request => |c| c.update_webhook().id(id).body(request).send());
        ApiCall::plan(&self.client, ops::UPDATE_WEBHOOK, send).map(|r| r.data)
    }

    /// Deletes a webhook.
    pub fn delete(&self, id: impl Into<WebhookId>) -> ApiCall<()> {
        let id = String::from(id.into());
        let send = attempt!(id => |c| c.delete_webhook().id(id).send());
        ApiCall::plan(&self.client, ops::DELETE_WEBHOOK, send).map(|_| ())
    }

    /// Sends a test event (`webhook.test` unless `event_type` is given) to the endpoint
    /// and returns the event with its delivery state. Not retried once sent.
    pub fn test(
        &self,
        id: impl Into<WebhookId>,
        event_type: Option<WebhookEventType>,
    ) -> ApiCall<WebhookEvent> {
        let (id, body) = (String::from(id.into()), WebhookTestRequest { event_type });
        let send = attempt!(id, body => |c| c.test_webhook().id(id).body(body).send());
        ApiCall::plan(&self.client, ops::TEST_WEBHOOK, send).map(|r| r.data)
    }

    /// Enables a webhook.
    pub fn enable(&self, id: impl Into<WebhookId>) -> ApiCall<Webhook> {
        let id = String::from(id.into());
        let send = attempt!(id => |c| c.enable_webhook().id(id).send());
        ApiCall::plan(&self.client, ops::ENABLE_WEBHOOK, send).map(|r| r.data)
    }

    /// Disables a webhook (deliveries stop until enabled again).
    pub fn disable(&self, id: impl Into<WebhookId>) -> ApiCall<Webhook> {
        let id = String::from(id.into());
        let send = attempt!(id => |c| c.disable_webhook().id(id).send());
        ApiCall::plan(&self.client, ops::DISABLE_WEBHOOK, send).map(|r| r.data)
    }

    /// Queues failed deliveries again: those in `event_ids`, or all failed events when
    /// it is empty. Not retried once sent.
    pub fn retry(
        &self,
        id: impl Into<WebhookId>,
        event_ids: Vec<String>,
    ) -> ApiCall<WebhookRetryResult> {
        let (id, body) = (String::from(id.into()), WebhookRetryRequest { event_ids });
        let send = attempt!(id, body => |c| c.retry_webhook_events().id(id).body(body).send());
        ApiCall::plan(&self.client, ops::RETRY_WEBHOOK_EVENTS, send).map(|r| r.data)
    }

    list_methods!(
        "the webhook endpoints",
        Webhook,
        WebhookFilter,
        webhooks_page,
        |w: &Webhook| Some(w.id.clone()),
        list,
        stream,
        collect_all
    );

    list_methods!(
        "the events (deliveries) of webhook `webhook_id`",
        WebhookEvent,
        WebhookEventFilter,
        events_page,
        |e: &WebhookEvent| Some(e.id.clone()),
        list_events,
        stream_events,
        collect_all_events,
        webhook_id: WebhookId
    );
}
