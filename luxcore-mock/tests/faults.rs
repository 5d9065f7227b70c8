//! Fault injection: scheduled statuses, drop-after-commit, seeded determinism.

mod common;

use std::time::{Duration, Instant};

use common::{deposit_body, start};
use luxcore_mock::{Fault, FaultConfig, MockConfig};
use reqwest::StatusCode;
use serde_json::json;

fn config(faults: FaultConfig) -> MockConfig {
    MockConfig::default()
        .without_rate_limits()
        .with_faults(faults)
}

#[tokio::test]
async fn scheduled_statuses_then_pass() {
    let h = start(config(FaultConfig::scheduled([
        Fault::Status(500),
        Fault::Status(503),
        Fault::Status(429),
        Fault::Pass,
    ])))
    .await;
    let r = h.create(deposit_body(1000, "fault_500")).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.code(), "INTERNAL_ERROR");
    assert_eq!(r.body["statusCode"], 500);
    let r = h.create(deposit_body(1000, "fault_503")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.code(), "SERVICE_UNAVAILABLE");
    let r = h.create(deposit_body(1000, "fault_429")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "RATE_LIMIT_EXCEEDED");
    assert_eq!(r.headers["retry-after"], "1");
    // Injected errors did not process the request.
    assert_eq!(h.server.payment_count().await.expect("count"), 0);
    assert_eq!(
        h.create(deposit_body(1000, "fault_ok")).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        h.create(deposit_body(1000, "fault_ok2")).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn drop_after_commit_processes_then_closes() {
    let h = start(config(FaultConfig::scheduled([Fault::DropAfterCommit]))).await;
    let error = h
        .http
        .post(h.url("/api/v1/payments"))
        .header("X-API-Key", &h.key)
        .json(&deposit_body(150_000, "dropped_ref"))
        .send()
        .await
        .expect_err("the connection must close without a response");
    assert!(!error.is_status() && !error.is_timeout(), "{error:?}");
    // ... yet the payment exists.
    assert_eq!(
        h.server
            .payments_by_reference("dropped_ref")
            .await
            .expect("count"),
        1
    );
    // Retrying the same request is answered with the existing payment.
    let again = h.create(deposit_body(150_000, "dropped_ref")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.code(), "MERCHANT_REFERENCE_DUPLICATE");
    assert_eq!(
        h.server
            .payments_by_reference("dropped_ref")
            .await
            .expect("count"),
        1
    );
}

/// Outcome of each of `n` GETs: the status, or 0 for a dropped connection.
async fn outcomes(seed: u64, n: usize) -> Vec<u16> {
    let h = start(config(FaultConfig {
        seed,
        probability: 0.4,
        statuses: vec![429, 500, 503],
        drop_after_commit: 0.2,
        ..FaultConfig::default()
    }))
    .await;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let sent = h
            .http
            .get(h.url("/api/v1/balance"))
            .header("X-API-Key", &h.key)
            .send()
            .await;
        out.push(sent.map_or(0, |r| r.status().as_u16()));
    }
    out
}

#[tokio::test]
async fn seeded_faults_are_deterministic() {
    let a = outcomes(42, 40).await;
    let b = outcomes(42, 40).await;
    assert_eq!(a, b);
    for code in [0, 200, 429, 500, 503] {
        assert!(a.contains(&code), "{code} missing from {a:?}");
    }
    let c = outcomes(7, 40).await;
    assert_ne!(a, c);
}

#[tokio::test]
async fn faults_can_be_changed_at_runtime_and_skip_controls() {
    let h = start(config(FaultConfig::default())).await;
    h.server
        .set_faults(FaultConfig {
            probability: 1.0,
            statuses: vec![503],
            ..FaultConfig::default()
        })
        .await
        .expect("set");
    assert_eq!(
        h.get("/api/v1/balance").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // /_mock is never faulted.
    let health = h
        .http
        .get(h.url("/_mock/health"))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), StatusCode::OK);
    // HTTP control: a schedule with a status and a drop, then latency.
    let r = h
        .http
        .put(h.url("/_mock/faults"))
        .json(&json!({"schedule": [500, "drop", "pass"], "latency_ms": 150}))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        h.get("/api/v1/balance").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let dropped = h
        .http
        .get(h.url("/api/v1/balance"))
        .header("X-API-Key", &h.key)
        .send()
        .await;
    assert!(dropped.is_err());
    let started = Instant::now();
    assert_eq!(h.get("/api/v1/balance").await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
    let bad = common::reply(
        h.http
            .put(h.url("/_mock/faults"))
            .json(&json!({"probability": 2}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // reset restores the configured (empty) faults.
    h.server.reset().await.expect("reset");
    assert_eq!(h.get("/api/v1/balance").await.status, StatusCode::OK);
}
