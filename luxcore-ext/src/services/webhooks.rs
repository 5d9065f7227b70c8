//! Webhook endpoints: create, get, update, delete, test, enable, disable, retry.
//! (Listing webhooks and their events is in [`crate::pagination`].)

use luxcore_api::enums::WebhookEventType;
use luxcore_api::types::{
    Webhook, WebhookCreateRequest, WebhookEvent, WebhookRetryRequest, WebhookRetryResult,
    WebhookTestRequest, WebhookUpdateRequest,
};

use crate::client::{Call, LuxCore};
use crate::error::Result;

/// Webhook operations. Obtained from [`LuxCore::webhooks`].
#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a> {
    pub(crate) client: &'a LuxCore,
}

impl Webhooks<'_> {
    /// Registers an endpoint. The returned [`Webhook::secret`] (`whsec_...`) is shown
    /// only this once: store it to verify deliveries. Not retried once sent.
    pub async fn create(&self, request: WebhookCreateRequest) -> Result<Webhook> {
        let response = self
            .client
            .run(Call::post("/api/v1/webhooks"), |c| {
                c.create_webhook().body(request.clone()).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Registers `url` for `events` (signature algorithm left to the server default).
    pub async fn create_for(
        &self,
        url: impl Into<String>,
        events: impl IntoIterator<Item = WebhookEventType>,
    ) -> Result<Webhook> {
        self.create(WebhookCreateRequest {
            events: events.into_iter().collect(),
            merchant_id: None,
            signature_algorithm: None,
            url: url.into(),
        })
        .await
    }

    /// Gets a webhook by id.
    pub async fn get(&self, id: &str) -> Result<Webhook> {
        let response = self
            .client
            .run(Call::get("/api/v1/webhooks/{id}"), |c| {
                c.get_webhook().id(id).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Updates the URL, events and/or signature algorithm (unset fields are unchanged).
    pub async fn update(&self, id: &str, request: WebhookUpdateRequest) -> Result<Webhook> {
        let response = self
            .client
            .run(Call::put("/api/v1/webhooks/{id}"), |c| {
                c.update_webhook().id(id).body(request.clone()).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Deletes a webhook.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.client
            .run(Call::delete("/api/v1/webhooks/{id}"), |c| {
                c.delete_webhook().id(id).send()
            })
            .await?;
        Ok(())
    }

    /// Sends a test event (`webhook.test` unless `event_type` is given) to the endpoint
    /// and returns the event with its delivery state. Not retried once sent.
    pub async fn test(
        &self,
        id: &str,
        event_type: Option<WebhookEventType>,
    ) -> Result<WebhookEvent> {
        let body = WebhookTestRequest { event_type };
        let response = self
            .client
            .run(Call::post("/api/v1/webhooks/{id}/test"), |c| {
                c.test_webhook().id(id).body(body.clone()).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Enables a webhook.
    pub async fn enable(&self, id: &str) -> Result<Webhook> {
        let response = self
            .client
            .run(Call::put("/api/v1/webhooks/{id}/enable"), |c| {
                c.enable_webhook().id(id).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Disables a webhook (deliveries stop until enabled again).
    pub async fn disable(&self, id: &str) -> Result<Webhook> {
        let response = self
            .client
            .run(Call::put("/api/v1/webhooks/{id}/disable"), |c| {
                c.disable_webhook().id(id).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Queues failed deliveries again: those in `event_ids`, or all failed events when
    /// it is empty. Not retried once sent.
    pub async fn retry(&self, id: &str, event_ids: Vec<String>) -> Result<WebhookRetryResult> {
        let body = WebhookRetryRequest { event_ids };
        let response = self
            .client
            .run(Call::post("/api/v1/webhooks/{id}/retry"), |c| {
                c.retry_webhook_events().id(id).body(body.clone()).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }
}
