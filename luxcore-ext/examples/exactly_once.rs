//! Exactly once under faults: creates COUNT payments through the SDK (16 in flight, a
//! quarter of them through API v2) against a local luxcore-mock that answers 20 % of
//! requests with 429/500/503 and drops the connection of 10 % of the rest *after*
//! committing them. The SDK retries; `merchant_reference` de-duplication turns a retried,
//! already-committed creation into `Created::Existing`. At the end the mock must hold exactly
//! one payment per reference.
//!
//! ```text
//! cargo run --release -p luxcore-ext --example exactly_once -- [COUNT [SEED [IN_FLIGHT]]]
//! ```
//!
//! Defaults: COUNT 10000, SEED 42, IN_FLIGHT 16. Prints the figures: creations, New vs
//! Existing, the injected faults the client saw (counted from its `luxcore: retrying`
//! tracing events), elapsed time and the per-reference check. Exits non-zero if any
//! creation failed or any reference does not hold exactly one payment.

use luxcore_ext::Money;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::StreamExt;
use luxcore_ext::client::LuxCore;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::retry::RetryPolicy;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{FaultConfig, MockConfig, MockServer};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

tokio::task_local! {
    /// Retry causes of the creation being polled.
    static RETRIES: RefCell<Vec<String>>;
}

/// Turns each `luxcore: retrying` event into a cause label for the creation that emitted it.
struct RetryCounter;

impl<S: tracing::Subscriber> Layer<S> for RetryCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.message != "luxcore: retrying" {
            return;
        }
        let cause = match (fields.status, fields.error.as_deref()) {
            (Some(status), _) => format!("HTTP {status}"),
            (None, Some("transport")) => "dropped after commit".to_owned(),
            (None, other) => format!("other ({})", other.unwrap_or("unknown")),
        };
        let _ = RETRIES.try_with(|retries| retries.borrow_mut().push(cause));
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    error: Option<String>,
    status: Option<u64>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "error" => self.error = Some(value.to_owned()),
            "message" => self.message = value.to_owned(),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.status = Some(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        }
    }
}

fn arg<T: std::str::FromStr>(position: usize, name: &str, default: T) -> Result<T, String> {
    match std::env::args().nth(position) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| format!("{name} must be a non-negative integer, got {text:?}")),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let count: usize = arg(1, "COUNT", 10_000)?;
    let seed: u64 = arg(2, "SEED", 42)?;
    let in_flight: usize = arg(3, "IN_FLIGHT", 16)?;
    if in_flight == 0 {
        return Err("IN_FLIGHT must be at least 1".into());
    }
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(RetryCounter))?;

    let faults = FaultConfig {
        seed,
        probability: 0.2,
        statuses: vec![429, 500, 503],
        drop_after_commit: 0.1,
        ..FaultConfig::default()
    };
    let mock = MockServer::start(
        MockConfig::default()
            .without_rate_limits()
            .with_faults(faults.clone()),
    )
    .await?;
    let policy = RetryPolicy::default()
        .with_max_attempts(12)
        .with_base_delay(Duration::from_millis(2))
        .with_max_delay(Duration::from_millis(20))
        .with_max_elapsed(Duration::from_secs(60));
    // Key only: creation through API v1; with HMAC credentials too: through API v2, signed.
    // No retry budget: the injected fault rate is far above a real outage's, and every
    // creation must be retried until it lands (the budget would stop retries, by design).
    let client = LuxCore::builder()
        .base_url(mock.base_url())
        .api_key(luxcore_mock::DEFAULT_API_KEY)
        .retry_policy(policy.clone())
        .retry_budget(luxcore_ext::client::RetryBudget::unlimited())
        .build()?;
    let v2 = LuxCore::builder()
        .base_url(mock.base_url())
        .api_key(luxcore_mock::DEFAULT_API_KEY)
        .hmac(
            luxcore_mock::DEFAULT_MERCHANT_ID,
            luxcore_mock::DEFAULT_HMAC_SECRET,
        )
        .retry_policy(policy.clone())
        .retry_budget(luxcore_ext::client::RetryBudget::unlimited())
        .build()?;
    println!(
        "faults: {:.0} % status {:?}, {:.0} % drop after commit, seed {seed}",
        faults.probability * 100.0,
        faults.statuses,
        faults.drop_after_commit * 100.0
    );
    println!(
        "client: {} attempts max, backoff {:?}..{:?}; {count} creations, {in_flight} in flight",
        policy.max_attempts, policy.base_delay, policy.max_delay
    );

    let started = Instant::now();
    let (client, v2) = (&client, &v2);
    let outcomes: Vec<_> = futures::stream::iter(0..count)
        .map(|i| async move {
            let reference = format!("exactly_once_{seed}_{i}");
            let request = PaymentRequest::deposit(
                Money::new(10_000, Currency::MXN),
                PaymentMethod::Spei,
                &reference,
            )
            .build();
            RETRIES
                .scope(RefCell::new(Vec::new()), async {
                    let result = match request {
                        Ok(request) if i % 4 == 3 => v2.payments().create(request).await,
                        Ok(request) => client.payments().create(request).await,
                        Err(err) => Err(err),
                    };
                    (reference, result, RETRIES.with(RefCell::take))
                })
                .await
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let elapsed = started.elapsed();

    let (mut new, mut existing, mut failed, mut unexplained) = (0usize, 0usize, 0usize, 0usize);
    let mut causes: BTreeMap<String, usize> = BTreeMap::new();
    for (reference, result, retries) in &outcomes {
        let dropped = retries.iter().any(|c| c == "dropped after commit");
        match result {
            Ok(created) if created.is_new() => new += 1,
            Ok(_) => existing += 1,
            Err(err) => {
                failed += 1;
                eprintln!("{reference}: failed: {err}");
            }
        }
        // Existing must mean: an attempt of this very call was committed, then dropped.
        if matches!(result, Ok(created) if created.is_new() == dropped) {
            unexplained += 1;
            eprintln!("{reference}: New/Existing does not match its retries {retries:?}");
        }
        for cause in retries {
            *causes.entry(cause.clone()).or_default() += 1;
        }
    }
    let mut not_one = 0usize;
    for (reference, _, _) in &outcomes {
        if mock.payments_by_reference(reference).await? != 1 {
            not_one += 1;
        }
    }
    let stored = mock.payment_count().await?;

    println!("creations:         {count}");
    println!("  Ok New:          {new}");
    println!("  Ok Existing:     {existing}");
    println!("  failed:          {failed}");
    println!("faults seen (retries): {}", causes.values().sum::<usize>());
    for (cause, n) in &causes {
        println!("  {cause:<20} {n}");
    }
    println!(
        "elapsed:           {:.2} s ({:.0} creations/s)",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    );
    println!("payments stored:   {stored}");
    println!(
        "references with exactly one payment: {}/{count}",
        count - not_one
    );
    let ok = failed == 0 && not_one == 0 && stored == count && unexplained == 0;
    println!("exactly once:      {}", if ok { "yes" } else { "NO" });
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
