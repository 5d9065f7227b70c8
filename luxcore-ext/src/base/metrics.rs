//! Metrics through the [`metrics`](https://docs.rs/metrics) facade (`metrics` feature), so
//! any recorder works: Prometheus (`metrics-exporter-prometheus`), OpenTelemetry
//! (`metrics-exporter-opentelemetry`), StatsD, or your own. Without the feature, or with
//! the feature and no recorder installed, every function here does nothing (no recorder:
//! the facade's no-op).
//!
//! Names and units follow the OpenTelemetry semantic conventions where one exists
//! (`http.client.request.duration`, seconds); the others are under `luxcore.`. Label values
//! are bounded: operation ids, path templates, methods, status codes, error kinds and
//! outcome names; never ids, references, amounts, keys or customer data.
//!
//! | metric | kind, unit | labels |
//! |---|---|---|
//! | `http.client.request.duration` | histogram, s | `http.request.method`, `url.template`, `http.response.status_code` (absent without an answer), `error.type` (on failure) |
//! | `luxcore.client.call.duration` | histogram, s | `luxcore.operation`, `outcome` (`ok` or the error kind) |
//! | `luxcore.client.call.attempts` | histogram, attempts | `luxcore.operation` |
//! | `luxcore.client.retries` | counter | `luxcore.operation`, `reason` (error kind), `http.response.status_code` (when answered) |
//! | `luxcore.client.throttled` | counter (HTTP 429 received) | `luxcore.operation` |
//! | `luxcore.client.rate_limiter.wait` | histogram, s | `luxcore.rate_limit.bucket` (`create`, `standard`) |
//! | `luxcore.webhook.deliveries` | counter | `outcome` (`processed`, `skipped`, `rejected`, `busy`, `handler_failed`, `store_unavailable`, `shutting_down`), `http.response.status_code` |
//! | `luxcore.webhook.store.duration` | histogram, s | `luxcore.webhook.store` (`memory`, `redis`, `postgres`, `custom`), `operation` (`begin`, `commit`, `release`) |

use std::time::Duration;

/// `http.client.request.duration`: one attempt.
pub const HTTP_CLIENT_REQUEST_DURATION: &str = "http.client.request.duration";
/// `luxcore.client.call.duration`: one call, all attempts and waits.
pub const CALL_DURATION: &str = "luxcore.client.call.duration";
/// `luxcore.client.call.attempts`: attempts per call.
pub const CALL_ATTEMPTS: &str = "luxcore.client.call.attempts";
/// `luxcore.client.retries`: retries made.
pub const RETRIES: &str = "luxcore.client.retries";
/// `luxcore.client.throttled`: HTTP 429 answers received.
pub const THROTTLED: &str = "luxcore.client.throttled";
/// `luxcore.client.rate_limiter.wait`: time waited for the client-side rate limiter.
pub const RATE_LIMITER_WAIT: &str = "luxcore.client.rate_limiter.wait";
/// `luxcore.webhook.deliveries`: deliveries by outcome.
pub const WEBHOOK_DELIVERIES: &str = "luxcore.webhook.deliveries";
/// `luxcore.webhook.store.duration`: webhook store calls.
pub const WEBHOOK_STORE_DURATION: &str = "luxcore.webhook.store.duration";

/// A status code as a label value.
#[cfg(feature = "metrics")]
fn status_label(status: u16) -> String {
    status.to_string()
}

/// One attempt ended (`status` when an answer arrived, `error` its kind on failure).
#[allow(unused_variables)]
pub(crate) fn attempt(
    method: &'static str,
    template: &'static str,
    status: Option<u16>,
    error: Option<&'static str>,
    elapsed: Duration,
) {
    #[cfg(feature = "metrics")]
    {
        let mut labels = vec![
            metrics::Label::from_static_parts("http.request.method", method),
            metrics::Label::from_static_parts("url.template", template),
        ];
        if let Some(status) = status {
            labels.push(metrics::Label::new(
                "http.response.status_code",
                status_label(status),
            ));
        }
        if let Some(error) = error {
            labels.push(metrics::Label::from_static_parts("error.type", error));
        }
        metrics::histogram!(HTTP_CLIENT_REQUEST_DURATION, labels).record(elapsed.as_secs_f64());
    }
}

/// One call ended after `attempts` attempts (`outcome`: `ok` or the error kind).
#[allow(unused_variables)]
pub(crate) fn call(
    operation: &'static str,
    outcome: &'static str,
    attempts: u32,
    elapsed: Duration,
) {
    #[cfg(feature = "metrics")]
    {
        metrics::histogram!(CALL_DURATION, "luxcore.operation" => operation, "outcome" => outcome)
            .record(elapsed.as_secs_f64());
        metrics::histogram!(CALL_ATTEMPTS, "luxcore.operation" => operation)
            .record(f64::from(attempts));
    }
}

/// A retry is about to be made after an error of kind `reason` (and `status`, if answered).
#[allow(unused_variables)]
pub(crate) fn retry(operation: &'static str, reason: &'static str, status: Option<u16>) {
    #[cfg(feature = "metrics")]
    match status {
        Some(status) => metrics::counter!(
            RETRIES,
            "luxcore.operation" => operation,
            "reason" => reason,
            "http.response.status_code" => status_label(status)
        )
        .increment(1),
        None => metrics::counter!(RETRIES, "luxcore.operation" => operation, "reason" => reason)
            .increment(1),
    }
}

/// An HTTP 429 arrived.
#[allow(unused_variables)]
pub(crate) fn throttled(operation: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(THROTTLED, "luxcore.operation" => operation).increment(1);
}

/// The client-side rate limiter made an attempt wait.
#[allow(unused_variables)]
pub(crate) fn limiter_wait(bucket: &'static str, waited: Duration) {
    #[cfg(feature = "metrics")]
    metrics::histogram!(RATE_LIMITER_WAIT, "luxcore.rate_limit.bucket" => bucket)
        .record(waited.as_secs_f64());
}

/// A webhook delivery was answered.
#[allow(unused_variables)]
pub(crate) fn webhook_delivery(outcome: &'static str, status: u16) {
    #[cfg(feature = "metrics")]
    metrics::counter!(
        WEBHOOK_DELIVERIES,
        "outcome" => outcome,
        "http.response.status_code" => status_label(status)
    )
    .increment(1);
}

/// A webhook store call ended.
#[allow(unused_variables)]
pub(crate) fn webhook_store(store: &'static str, operation: &'static str, elapsed: Duration) {
    #[cfg(feature = "metrics")]
    metrics::histogram!(
        WEBHOOK_STORE_DURATION,
        "luxcore.webhook.store" => store,
        "operation" => operation
    )
    .record(elapsed.as_secs_f64());
}
