//! The spans of a call, after the OpenTelemetry HTTP client semantic conventions, and the
//! metrics they pair with ([`crate::metrics`]).
//!
//! * One **call span** per logical call: `luxcore.request` (its `otel.name` is the
//!   operation id, e.g. `createPayment`, which `tracing-opentelemetry` uses as the span
//!   name), with `luxcore.operation`, `luxcore.api_version`, `luxcore.merchant_reference`
//!   (payment creation), and at the end `luxcore.attempts`, `http.response.status_code`
//!   and `error.type`.
//! * One **attempt span** per HTTP request, a child of the call span: `luxcore.attempt`
//!   (`otel.name` `"{method} {url.template}"`, `otel.kind` `client`) with
//!   `http.request.method`, `url.template` (the path template, never the filled-in path),
//!   `server.address`, `server.port`, `http.request.resend_count` (retries only),
//!   `http.response.status_code`, `error.type` on failure and `luxcore.request_id` (from
//!   `X-Request-Id`).
//! * Events in the call span: `luxcore.rate_limit.wait` (`wait_ms`) when the client-side
//!   limiter made an attempt wait, and `luxcore: retrying` (`delay_ms`, `error`, `status`)
//!   before each backoff sleep.
//!
//! Never recorded: bodies, query strings, filled-in paths, keys, signatures, secrets or
//! customer data. When no subscriber wants the spans, no field is computed.

use std::time::{Duration, Instant};

use luxcore_api::operations::Operation;
use reqwest::StatusCode;
use tracing::{Span, field};

use crate::base::error::Error;
use crate::base::metrics;

/// Where requests go, for `server.address` / `server.port` (from the base URL).
#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub(crate) address: String,
    pub(crate) port: u16,
}

impl Server {
    pub(crate) fn of(base_url: &str) -> Self {
        let url = url::Url::parse(base_url).ok();
        Server {
            address: url
                .as_ref()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
            port: url.and_then(|u| u.port_or_known_default()).unwrap_or(0),
        }
    }
}

fn api_version(operation: &Operation) -> &'static str {
    if operation.path.starts_with("/api/v2/") {
        "v2"
    } else {
        "v1"
    }
}

/// The span of one logical call.
pub(crate) fn call_span(operation: &Operation, merchant_reference: Option<&str>) -> Span {
    let span = tracing::info_span!(
        "luxcore.request",
        otel.name = operation.id,
        luxcore.operation = operation.id,
        luxcore.api_version = api_version(operation),
        luxcore.merchant_reference = field::Empty,
        luxcore.attempts = field::Empty,
        http.response.status_code = field::Empty,
        error.type = field::Empty,
    );
    if let Some(reference) = merchant_reference
        && !span.is_disabled()
    {
        span.record("luxcore.merchant_reference", reference);
    }
    span
}

/// The span of one attempt (a child of the current call span).
pub(crate) fn attempt_span(operation: &Operation, server: &Server, attempt: u32) -> Span {
    let span = tracing::info_span!(
        "luxcore.attempt",
        otel.name = field::Empty,
        otel.kind = "client",
        http.request.method = operation.method,
        url.template = operation.path,
        server.address = server.address.as_str(),
        server.port = server.port,
        http.request.resend_count = field::Empty,
        http.response.status_code = field::Empty,
        error.type = field::Empty,
        luxcore.request_id = field::Empty,
    );
    if !span.is_disabled() {
        span.record(
            "otel.name",
            format!("{} {}", operation.method, operation.path).as_str(),
        );
        if attempt > 1 {
            span.record("http.request.resend_count", attempt - 1);
        }
    }
    span
}

/// Records the end of an attempt on its span and in the metrics.
pub(crate) fn attempt_ended(
    span: &Span,
    operation: &Operation,
    status: Option<StatusCode>,
    request_id: Option<&str>,
    error: Option<&Error>,
    started: Instant,
) {
    let status = status.map(|s| s.as_u16());
    if !span.is_disabled() {
        if let Some(status) = status {
            span.record("http.response.status_code", status);
        }
        if let Some(id) = request_id {
            span.record("luxcore.request_id", id);
        }
        if let Some(error) = error {
            span.record("error.type", error.kind());
        }
    }
    if status == Some(429) {
        metrics::throttled(operation.id);
    }
    metrics::attempt(
        operation.method,
        operation.path,
        status,
        error.map(Error::kind),
        started.elapsed(),
    );
}

/// Records the end of the call on the current (call) span and in the metrics.
pub(crate) fn call_ended(
    operation: &Operation,
    attempts: u32,
    status: Option<StatusCode>,
    error: Option<&Error>,
    started: Instant,
) {
    let span = Span::current();
    if !span.is_disabled() {
        span.record("luxcore.attempts", attempts);
        if let Some(status) = status {
            span.record("http.response.status_code", status.as_u16());
        }
        if let Some(error) = error {
            span.record("error.type", error.kind());
        }
    }
    metrics::call(
        operation.id,
        error.map_or("ok", Error::kind),
        attempts,
        started.elapsed(),
    );
}

/// The client-side limiter made the attempt wait `waited`.
pub(crate) fn limiter_waited(bucket: &'static str, waited: Duration) {
    if waited >= Duration::from_millis(1) {
        tracing::debug!(
            wait_ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
            bucket,
            "luxcore.rate_limit.wait"
        );
    }
    metrics::limiter_wait(bucket, waited);
}

/// A retry is about to be made after `err`.
pub(crate) fn retrying(operation: &Operation, err: &Error, status: Option<StatusCode>) {
    metrics::retry(operation.id, err.kind(), status.map(|s| s.as_u16()));
}
