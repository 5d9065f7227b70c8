//! The delivery worker: takes the webhook deliveries the state queues and runs each as
//! signed HTTP POSTs with exponential backoff, in the background until the server stops.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use luxcore_api::enums::{WebhookDeliveryStatus, WebhookStatus};
use luxcore_auth::webhook::{HEADER_EVENT_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign_v1};
use secrecy::SecretString;
use tokio::sync::mpsc;

use crate::clock::{now, unix_now};
use crate::error::MockError;
use crate::state::config::{MockConfig, WEBHOOK_MAX_ATTEMPTS};
use crate::state::{App, stopped};
use crate::store::Job;

/// The HTTP client of deliveries and the retry timing.
pub(crate) struct Deliverer {
    http: reqwest::Client,
    retry_base: Duration,
}

impl Deliverer {
    /// Builds the HTTP client for `config` (its timeout and the first retry delay).
    pub(crate) fn new(config: &MockConfig) -> Result<Self, MockError> {
        let http = reqwest::Client::builder()
            .timeout(config.webhook_timeout)
            .user_agent("luxcore-mock-webhooks/0.1")
            .build()
            .map_err(|e| MockError::Client(e.to_string()))?;
        Ok(Self {
            http,
            retry_base: config.webhook_retry_base,
        })
    }

    /// Starts one background task per queued job, until the server shuts down (which
    /// stops the tasks too).
    pub(crate) async fn run(self, app: Arc<App>, mut queued: mpsc::UnboundedReceiver<Job>) {
        let deliverer = Arc::new(self);
        let mut shutdown = app.shutdown.subscribe();
        loop {
            tokio::select! {
                () = stopped(&mut shutdown) => break,
                job = queued.recv() => {
                    let Some(job) = job else { break };
                    let app = Arc::clone(&app);
                    let deliverer = Arc::clone(&deliverer);
                    let mut shutdown = app.shutdown.subscribe();
                    tokio::spawn(async move {
                        tokio::select! {
                            () = deliverer.deliver(&app, job) => {}
                            () = stopped(&mut shutdown) => {}
                        }
                    });
                }
            }
        }
    }

    /// Attempts one job until it is delivered, fails for good or its webhook is disabled.
    async fn deliver(&self, app: &App, job: Job) {
        loop {
            let Some(target) = target(app, &job) else {
                return;
            };
            let timestamp = unix_now();
            let signature = sign_v1(&target.secret, timestamp, &target.body);
            let response = self
                .http
                .post(&target.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
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
            match record(app, self.retry_base, &job, status) {
                Next::Done => return,
                Next::RetryIn(delay) => tokio::time::sleep(delay).await,
            }
        }
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

fn record(app: &App, retry_base: Duration, job: &Job, status: Option<u16>) -> Next {
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
    let delay = retry_base.saturating_mul(1u32 << (entry.round - 1).min(16));
    entry.event.status = WebhookDeliveryStatus::Pending;
    entry.event.next_retry_at = chrono::Duration::from_std(delay).ok().map(|d| at + d);
    Next::RetryIn(delay)
}
