//! Webhook endpoints and their per-webhook event logs.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use luxcore_api::enums::{
    ErrorCode, SignatureAlgorithm, WebhookDeliveryStatus, WebhookEventType, WebhookStatus,
};
use luxcore_api::types::{Webhook, WebhookEvent};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

use super::model::{Event, EventRecord, Job, Store, WebhookRecord};
use super::page::{DateRange, Page, paginate};
use crate::clock::{now, random_alnum};
use crate::error::{ApiError, ApiResult};

/// Fields of a create or update request.
#[derive(Debug, Default)]
pub(crate) struct WebhookInput {
    pub(crate) url: Option<String>,
    pub(crate) events: Option<Vec<WebhookEventType>>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, format!("Webhook {id} not found"))
}

/// The delivered envelope.
pub(crate) fn envelope(
    id: &str,
    kind: &WebhookEventType,
    created_at: DateTime<Utc>,
    merchant_id: i64,
    data: Value,
) -> Map<String, Value> {
    let value = json!({
        "id": id,
        "event": kind.as_str(),
        "created_at": created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "merchant_id": merchant_id,
        "data": data,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl Store {
    fn webhook_index(&self, id: &str) -> ApiResult<usize> {
        self.webhooks
            .iter()
            .position(|w| w.hook.id == id)
            .ok_or_else(|| not_found(id))
    }

    /// A webhook (without its secret).
    pub(crate) fn webhook(&self, id: &str) -> ApiResult<&WebhookRecord> {
        self.webhook_index(id).map(|i| &self.webhooks[i])
    }

    /// A webhook, mutable.
    pub(crate) fn webhook_mut(&mut self, id: &str) -> ApiResult<&mut WebhookRecord> {
        let index = self.webhook_index(id)?;
        Ok(&mut self.webhooks[index])
    }

    /// Registers a webhook; the returned copy carries the one-time secret.
    pub(crate) fn create_webhook(&mut self, url: String, events: Vec<WebhookEventType>) -> Webhook {
        let mut id = format!("wh_{}", random_alnum(16));
        while self.webhooks.iter().any(|w| w.hook.id == id) {
            id = format!("wh_{}", random_alnum(16));
        }
        let secret = format!("whsec_{}", random_alnum(32));
        let at = now();
        let hook = Webhook {
            created_at: Some(at),
            events,
            id,
            secret: None,
            signature_algorithm: Some(SignatureAlgorithm::HmacSha256),
            status: Some(WebhookStatus::Active),
            updated_at: Some(at),
            url,
        };
        let mut shown = hook.clone();
        shown.secret = Some(secret.clone());
        self.webhooks.push(WebhookRecord {
            hook,
            secret: SecretString::from(secret),
            events: Vec::new(),
        });
        shown
    }

    /// Updates URL and/or events.
    pub(crate) fn update_webhook(&mut self, id: &str, input: WebhookInput) -> ApiResult<Webhook> {
        let record = self.webhook_mut(id)?;
        if let Some(url) = input.url {
            record.hook.url = url;
        }
        if let Some(events) = input.events {
            record.hook.events = events;
        }
        record.hook.updated_at = Some(now());
        Ok(record.hook.clone())
    }

    /// Sets `active` / `disabled`.
    pub(crate) fn set_webhook_status(
        &mut self,
        id: &str,
        status: WebhookStatus,
    ) -> ApiResult<Webhook> {
        let record = self.webhook_mut(id)?;
        record.hook.status = Some(status);
        record.hook.updated_at = Some(now());
        Ok(record.hook.clone())
    }

    /// Deletes a webhook and its event log.
    pub(crate) fn delete_webhook(&mut self, id: &str) -> ApiResult<()> {
        let index = self.webhook_index(id)?;
        self.webhooks.remove(index);
        Ok(())
    }

    /// Webhooks, newest first.
    pub(crate) fn list_webhooks(
        &self,
        status: Option<&str>,
        range: DateRange,
        page: Page,
    ) -> (Vec<Webhook>, i64, luxcore_api::types::Pagination) {
        let items = self
            .webhooks
            .iter()
            .rev()
            .map(|w| &w.hook)
            .filter(|h| status.is_none_or(|s| h.status.as_ref().is_some_and(|x| x.as_str() == s)))
            .filter(|h| range.contains(h.created_at));
        paginate(items, page, Webhook::clone)
    }

    /// A webhook's events, newest first.
    pub(crate) fn list_webhook_events(
        &self,
        id: &str,
        status: Option<&str>,
        range: DateRange,
        page: Page,
    ) -> ApiResult<(Vec<WebhookEvent>, i64, luxcore_api::types::Pagination)> {
        let record = self.webhook(id)?;
        let items = record
            .events
            .iter()
            .rev()
            .map(|e| &e.event)
            .filter(|e| status.is_none_or(|s| e.status.as_str() == s))
            .filter(|e| range.contains(e.created_at));
        Ok(paginate(items, page, WebhookEvent::clone))
    }

    fn push_event(
        &mut self,
        index: usize,
        id: &str,
        kind: &WebhookEventType,
        created_at: DateTime<Utc>,
        payload: Map<String, Value>,
    ) -> Job {
        let body = Bytes::from(serde_json::to_vec(&payload).unwrap_or_default());
        let record = &mut self.webhooks[index];
        let event = WebhookEvent {
            attempts: Some(0),
            created_at: Some(created_at),
            event_type: kind.clone(),
            id: id.to_owned(),
            last_attempt_at: None,
            next_retry_at: None,
            payload,
            response_status: None,
            status: WebhookDeliveryStatus::Pending,
            webhook_id: Some(record.hook.id.clone()),
        };
        record.events.push(EventRecord {
            event,
            body,
            round: 0,
        });
        Job {
            webhook_id: record.hook.id.clone(),
            event_id: id.to_owned(),
        }
    }

    /// Logs each event for every active webhook subscribed to it; returns the
    /// deliveries to start.
    pub(crate) fn enqueue(&mut self, events: Vec<Event>) -> Vec<Job> {
        let mut jobs = Vec::new();
        for event in events {
            let id = format!("evt_{}", random_alnum(24));
            let created_at = now();
            let payload = envelope(
                &id,
                &event.kind,
                created_at,
                self.merchant_id_i64(),
                event.data,
            );
            let targets: Vec<usize> = self
                .webhooks
                .iter()
                .enumerate()
                .filter(|(_, w)| {
                    w.hook.status == Some(WebhookStatus::Active)
                        && w.hook.events.contains(&event.kind)
                })
                .map(|(i, _)| i)
                .collect();
            for index in targets {
                jobs.push(self.push_event(index, &id, &event.kind, created_at, payload.clone()));
            }
        }
        jobs
    }

    /// Logs a test event (`webhook.test` or the given type) for one webhook.
    pub(crate) fn test_event(
        &mut self,
        webhook_id: &str,
        kind: WebhookEventType,
    ) -> ApiResult<(WebhookEvent, Job)> {
        let index = self.webhook_index(webhook_id)?;
        if self.webhooks[index].hook.status != Some(WebhookStatus::Active) {
            return Err(ApiError::bad_request(
                ErrorCode::ValidationError,
                "Webhook is disabled; enable it to receive events",
            ));
        }
        let id = format!("evt_{}", random_alnum(24));
        let created_at = now();
        let data = sample_data(&kind, webhook_id, self.merchant_id_i64());
        let payload = envelope(&id, &kind, created_at, self.merchant_id_i64(), data);
        let job = self.push_event(index, &id, &kind, created_at, payload);
        let event = self.webhooks[index]
            .events
            .last()
            .map(|e| e.event.clone())
            .ok_or_else(|| not_found(webhook_id))?;
        Ok((event, job))
    }

    /// Queues failed events again (all, or those in `ids`); returns their ids.
    pub(crate) fn retry_events(
        &mut self,
        webhook_id: &str,
        ids: Option<&[String]>,
    ) -> ApiResult<Vec<Job>> {
        let record = self.webhook_mut(webhook_id)?;
        if record.hook.status != Some(WebhookStatus::Active) {
            return Err(ApiError::bad_request(
                ErrorCode::ValidationError,
                "Webhook is disabled; enable it to retry events",
            ));
        }
        let mut jobs = Vec::new();
        for entry in &mut record.events {
            let wanted = ids.is_none_or(|ids| ids.contains(&entry.event.id));
            if wanted && entry.event.status == WebhookDeliveryStatus::Failed {
                entry.event.status = WebhookDeliveryStatus::Pending;
                entry.event.next_retry_at = Some(now());
                entry.round = 0;
                jobs.push(Job {
                    webhook_id: webhook_id.to_owned(),
                    event_id: entry.event.id.clone(),
                });
            }
        }
        Ok(jobs)
    }
}

/// The `data` of a test event.
fn sample_data(kind: &WebhookEventType, webhook_id: &str, merchant_id: i64) -> Value {
    let at = now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    match kind.as_str() {
        s if s.starts_with("payment.") => {
            let status = match s {
                "payment.completed" => "completed",
                "payment.failed" => "failed",
                "payment.cancelled" => "cancelled",
                "payment.refunded" => "refunded",
                _ => "processing",
            };
            json!({
                "id": "pay_0000000000_testtest",
                "transaction_id": "pay_0000000000_testtest",
                "status": status,
                "status_version": 1,
                "amount": 150000,
                "currency": "ARS",
                "method": "bank_transfer",
                "type": "deposit",
                "merchant_id": merchant_id,
                "merchant_reference": "test_reference",
                "fee": 6750,
                "fee_amount": 6750,
                "net_amount": 143250,
                "created_at": at,
                "updated_at": at,
            })
        }
        "balance.updated" => json!({
            "currency": "ARS",
            "balance_type": "main",
            "balance_amount": "1500000",
            "available_amount": "1200000",
            "frozen_amount": "300000",
        }),
        s if s.starts_with("ticket.") => json!({
            "ticket_id": "00000000-0000-4000-8000-000000000000",
            "title": "Test ticket",
            "description": "Sample ticket of a test event",
            "status": if s == "ticket.closed" { "closed" } else { "open" },
            "category": "technical_issue",
            "requires_refund": false,
            "created_at": at,
            "updated_at": at,
        }),
        _ => json!({
            "message": "This is a test event from LuxCore",
            "webhook_id": webhook_id,
        }),
    }
}
