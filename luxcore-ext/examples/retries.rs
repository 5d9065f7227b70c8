//! Retries: the SDK recovers from transient failures (429, 500, 502, 503, 504, dropped
//! connections) for safe requests, and payment creation never creates duplicates thanks
//! to `merchant_reference`.
//!
//! This example injects faults into a local `luxcore-mock` and prints the SDK's retry
//! events (`RUST_LOG=luxcore_ext=debug` style filtering via `tracing-subscriber`).
//!
//! ```text
//! cargo run -p luxcore-ext --example retries
//! ```

use std::time::Duration;

use luxcore_ext::prelude::*;
use luxcore_mock::{Fault, FaultConfig, MockConfig, MockServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "luxcore_ext=debug".into()),
        )
        .init();

    let mock = MockServer::start(MockConfig::default().without_rate_limits()).await?;
    let client = LuxCore::builder()
        .base_url(mock.base_url())
        .api_key(luxcore_mock::DEFAULT_API_KEY)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(5)
                .with_base_delay(Duration::from_millis(100))
                .with_max_delay(Duration::from_secs(2)),
        )
        // Optional client-side limiter with the documented quotas (off by default).
        .rate_limits(RateLimits::documented())
        .build()?;

    // 1. A read that meets 429, 500 and 503 before succeeding.
    mock.set_faults(FaultConfig::scheduled([
        Fault::Status(429),
        Fault::Status(500),
        Fault::Status(503),
    ]))
    .await?;
    let balances = client.balance().all().with_meta().await?;
    println!(
        "balances after 3 transient failures: {} entries, {} attempts",
        balances.balances.len(),
        balances.meta().attempts
    );

    // 2. A creation whose answer is lost after the server committed it: the retry gets
    //    the existing payment back (HTTP 200 duplicate), so there is exactly one.
    let reference = format!("retry_demo_{}", chrono::Utc::now().timestamp_millis());
    mock.set_faults(FaultConfig::scheduled([Fault::DropAfterCommit]))
        .await?;
    let request = PaymentRequest::deposit(
        Money::new(99_000, Currency::ARS),
        PaymentMethod::Card,
        &reference,
    )
    .build()?;
    match client.payments().create(request).await? {
        Created::New(_) => println!("created on the first attempt"),
        Created::Existing(p) => println!(
            "answer lost, retry returned the existing {}",
            p.transaction_id.as_deref().unwrap_or("-")
        ),
    }
    println!(
        "payments with reference {reference}: {}",
        mock.payments_by_reference(&reference).await?
    );

    // 3. With retries off for one call (per-call options), the error surfaces at once.
    mock.set_faults(FaultConfig::scheduled([Fault::Status(503)]))
        .await?;
    let err = client
        .balance()
        .all()
        .with_options(
            CallOptions::new()
                .retry(RetryPolicy::none())
                .timeout(Duration::from_secs(2)),
        )
        .await
        .unwrap_err();
    println!("without retries: {err} (retryable: {})", err.is_retryable());
    Ok(())
}
