//! Rate limits shared across OS processes (issue 13, "shared limits"): 4 processes with one
//! API key, each with a `RedisRateLimiter` on the same Redis, together offer twice the
//! documented creation burst (1000 creations against 500 per 10 s) to luxcore-mock with its
//! documented limits on, retries off. Expected: 0 × 429, and throughput at least 90 % of
//! the limit (50 creations/s). It takes about 21 s.
//!
//! The same run goes, at the same time, through each Redis deployment of `cargo xtask test`
//! that the build can reach (`redis_support`): one server, its TLS port (`redis-tls`) and a
//! 3-master Redis Cluster (`redis-cluster`), each with its own mock and its own 4 processes.
//!
//! A `harness = false` test: this binary is the coordinator, and runs itself again as the
//! worker processes (`LUXCORE_SHARED_LIMIT_WORKER` set). Needs `LUXCORE_TEST_REDIS_URL`
//! (and the TLS and cluster variables; `cargo xtask test` sets them); without them the
//! test fails.

mod redis_support;
mod support;
mod test_ca;

use luxcore_ext::Money;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{StreamExt, stream};
use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::rate_limit::{OnUnavailable, RateLimits, SharedLimits};
use luxcore_ext::retry::RetryPolicy;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};
use redis_support::Deployment;

const WORKERS: usize = 4;
/// Twice the documented creation burst (500 per 10 s).
const CREATIONS: usize = 1000;
const IN_FLIGHT: usize = 32;
/// The binding documented limit: 500 creations per 10 s.
const LIMIT_PER_SEC: f64 = 500.0 / 10.0;

const WORKER_ENV: &str = "LUXCORE_SHARED_LIMIT_WORKER";
const DEPLOYMENT_ENV: &str = "LUXCORE_SHARED_LIMIT_DEPLOYMENT";

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

/// What one worker reports on stdout: `RESULT ok limited other start_ms end_ms`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Report {
    ok: usize,
    limited: usize,
    other: usize,
    start_ms: u128,
    end_ms: u128,
}

impl Report {
    fn parse(stdout: &str) -> Option<Report> {
        let line = stdout.lines().find_map(|l| l.strip_prefix("RESULT "))?;
        let mut fields = line.split_whitespace();
        let mut next = || fields.next()?.parse::<u128>().ok();
        Some(Report {
            ok: usize::try_from(next()?).ok()?,
            limited: usize::try_from(next()?).ok()?,
            other: usize::try_from(next()?).ok()?,
            start_ms: next()?,
            end_ms: next()?,
        })
    }
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if std::env::var_os(WORKER_ENV).is_some() {
        runtime.block_on(worker())
    } else {
        runtime.block_on(coordinator())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shared_rate_limits: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

/// One process: `LUXCORE_SHARED_LIMIT_COUNT` creations, `IN_FLIGHT` at a time, through the
/// shared limiter (fail closed, so a Redis problem shows as errors, not as local limits).
async fn worker() -> Result<(), String> {
    let base_url = env("LUXCORE_SHARED_LIMIT_BASE_URL")?;
    let deployment =
        Deployment::parse(&env(DEPLOYMENT_ENV)?).ok_or_else(|| format!("bad {DEPLOYMENT_ENV}"))?;
    let prefix = env("LUXCORE_SHARED_LIMIT_PREFIX")?;
    let tag = env(WORKER_ENV)?;
    let count: usize = env("LUXCORE_SHARED_LIMIT_COUNT")?
        .parse()
        .map_err(|_| "bad LUXCORE_SHARED_LIMIT_COUNT".to_owned())?;
    let client = LuxCore::builder()
        .base_url(base_url)
        .api_key(DEFAULT_API_KEY)
        .retry_policy(RetryPolicy::none())
        .shared_rate_limits(
            SharedLimits::with_endpoint(deployment.endpoint(), RateLimits::documented())
                .key_prefix(prefix)
                .on_unavailable(OnUnavailable::FailClosed),
        )
        .build()
        .map_err(|e| e.to_string())?;
    let start_ms = unix_ms();
    let results: Vec<_> = stream::iter(0..count)
        .map(|i| {
            let client = &client;
            let tag = &tag;
            async move {
                let request = PaymentRequest::deposit(
                    Money::new(1_000, Currency::MXN),
                    PaymentMethod::Spei,
                    format!("shared-{tag}-{i}"),
                )
                .build()?;
                client.payments().create(request).await
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let end_ms = unix_ms();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let limited = results
        .iter()
        .filter(|r| matches!(r, Err(Error::RateLimited { .. })))
        .count();
    if let Some(Err(e)) = results
        .iter()
        .find(|r| !matches!(r, Ok(_) | Err(Error::RateLimited { .. })))
    {
        eprintln!("worker {tag}: first other error: {e}");
    }
    println!(
        "RESULT {ok} {limited} {} {start_ms} {end_ms}",
        count - ok - limited
    );
    Ok(())
}

async fn coordinator() -> Result<(), String> {
    env("LUXCORE_TEST_REDIS_URL").map_err(|e| {
        format!("{e}: this test needs a redis-server (run `cargo xtask test`, which starts one)")
    })?;
    let rounds = Deployment::all().into_iter().map(run_round);
    let results = futures::future::join_all(rounds).await;
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// One round: a mock with the documented limits and 4 worker processes sharing the limits
/// through the Redis of `deployment`.
async fn run_round(deployment: Deployment) -> Result<(), String> {
    let name = deployment.name();
    let mock = MockServer::start(MockConfig::default())
        .await
        .map_err(|e| format!("{name}: luxcore-mock did not start: {e}"))?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let prefix = format!(
        "luxcore-test:shared:{name}:{}:{}",
        std::process::id(),
        unix_ms()
    );
    let children: Vec<_> = (0..WORKERS)
        .map(|i| {
            Command::new(&exe)
                .env(WORKER_ENV, format!("{name}-w{i}"))
                .env(DEPLOYMENT_ENV, name)
                .env("LUXCORE_SHARED_LIMIT_BASE_URL", mock.base_url())
                .env("LUXCORE_SHARED_LIMIT_PREFIX", &prefix)
                .env(
                    "LUXCORE_SHARED_LIMIT_COUNT",
                    (CREATIONS / WORKERS).to_string(),
                )
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| format!("{name}: could not start worker {i}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    // Wait without blocking the runtime that serves the mock.
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|child| child.wait_with_output())
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| e.to_string())?;
    let mut reports = Vec::new();
    for (i, output) in outputs.into_iter().enumerate() {
        let output = output.map_err(|e| format!("{name}: worker {i}: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "{name}: worker {i} failed ({}): {stdout}",
                output.status
            ));
        }
        reports.push(
            Report::parse(&stdout)
                .ok_or_else(|| format!("{name}: worker {i} printed no result"))?,
        );
    }
    let ok: usize = reports.iter().map(|r| r.ok).sum();
    let limited: usize = reports.iter().map(|r| r.limited).sum();
    let other: usize = reports.iter().map(|r| r.other).sum();
    let start = reports.iter().map(|r| r.start_ms).min().unwrap_or_default();
    let end = reports.iter().map(|r| r.end_ms).max().unwrap_or_default();
    let elapsed = Duration::from_millis(u64::try_from(end.saturating_sub(start)).unwrap_or(0));
    let rate = ok as f64 / elapsed.as_secs_f64().max(0.001);
    let percent = 100.0 * rate / LIMIT_PER_SEC;
    println!(
        "shared_rate_limits ({name}): {WORKERS} processes, {CREATIONS} creations offered: \
         {ok} ok, {limited} x 429, {other} other errors in {:.2} s = {rate:.1} creations/s \
         ({percent:.1} % of the 50/s limit)",
        elapsed.as_secs_f64()
    );
    if limited != 0 || other != 0 || ok != CREATIONS {
        return Err(format!(
            "{name}: expected {CREATIONS} ok and 0 x 429, got {ok} ok, {limited} x 429, \
             {other} other"
        ));
    }
    if percent < 90.0 {
        return Err(format!(
            "{name}: throughput {percent:.1} % of the limit is below 90 %"
        ));
    }
    Ok(())
}
