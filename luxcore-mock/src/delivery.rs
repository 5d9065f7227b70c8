//! Background webhook deliveries: signed HTTP POSTs with exponential backoff.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use luxcore_api::enums::{WebhookDeliveryStatus, WebhookStatus};
use luxcore_auth::webhook::{HEADER_EVENT_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign_v1};
use secrecy::SecretString;

use crate::app::App;
use crate::config::WEBHOOK_MAX_ATTEMPTS;
use crate::store::Job;
use crate::util::{now, unix_now};

/// Starts one background task per job. Tasks stop when the server shuts down.
pub(crate) fn spawn(app: &Arc<App>, jobs: Vec<Job>) {
    if jobs.is_empty() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no tokio runtime: webhook deliveries not started");
        return;
    };
    for job in jobs {
        let app = Arc::clone(app);
        let mut shutdown = app.shutdown.subscribe();
        runtime.spawn(async move {
            tokio::select! {
                () = deliver(Arc::clone(&app), job) => {}
                () = crate::server::stopped(&mut shutdown) => {}
            }
        });
    }
}

struct Target {
    url: String,
    secret: SecretString,
    body: Bytes,
}

/// What to do after an attempt.
enum Next {
    Done,
    RetryIn(Duration),
}

fn target(app: &App, job: &Job) -> Option<Target> {
    let mut store = app.store();
    let webhook = store.webhook_mut(&job.webhook_id).ok()?;
    let active = webhook.hook.status == Some(WebhookStatus::Active);
    let url = webhook.hook.url.clone();
    let secret = webhook.secret.clone();
    let entry = webhook
        .events
        .iter_mut()
        .find(|e| e.event.id == job.event_id)?;
    if !active {
        entry.event.status = WebhookDeliveryStatus::Failed;
        entry.event.next_retry_at = None;
        return None;
    }
    Some(Target {
        url,
        secret,
        body: entry.body.clone(),
    })
}

fn record(app: &App, job: &Job, status: Option<u16>) -> Next {
    let mut store = app.store();
    let Some(entry) = store
        .webhook_mut(&job.webhook_id)
        .ok()
        .and_then(|w| w.events.iter_mut().find(|e| e.event.id == job.event_id))
    else {
        return Next::Done;
    };
    let at = now();
    entry.round += 1;
    entry.event.attempts = Some(entry.event.attempts.unwrap_or(0).saturating_add(1));
    entry.event.response_status = status.map(i32::from);
    entry.event.last_attempt_at = Some(at);
    if status.is_some_and(|s| (200..300).contains(&s)) {
        entry.event.status = WebhookDeliveryStatus::Delivered;
        entry.event.next_retry_at = None;
        return Next::Done;
    }
    if entry.round >= WEBHOOK_MAX_ATTEMPTS {
        entry.event.status = WebhookDeliveryStatus::Failed;
        entry.event.next_retry_at = None;
        return Next::Done;
    }
    let delay = app
        .retry_base
        .saturating_mul(1u32 << (entry.round - 1).min(16));
    entry.event.status = WebhookDeliveryStatus::Pending;
    entry.event.next_retry_at = chrono::Duration::from_std(delay).ok().map(|d| at + d);
    Next::RetryIn(delay)
}

async fn deliver(app: Arc<App>, job: Job) {
    loop {
        let Some(target) = target(&app, &job) else {
            return;
        };
        let timestamp = unix_now();
        let signature = sign_v1(&target.secret, timestamp, &target.body);
        let response = app
            .http
            .post(&target.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(HEADER_SIGNATURE, signature)
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_EVENT_ID, job.event_id.as_str())
            .body(target.body)
            .send()
            .await;
        let status = match response {
            Ok(response) => Some(response.status().as_u16()),
            Err(error) => {
                tracing::debug!(%error, url = %target.url, "webhook delivery failed");
                None
            }
        };
        match record(&app, &job, status) {
            Next::Done => return,
            Next::RetryIn(delay) => tokio::time::sleep(delay).await,
        }
    }
}
