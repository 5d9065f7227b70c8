//! `luxcore-mock` binary: serves the mock LuxCore API until interrupted.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Parser;
use luxcore_mock::{
    DEFAULT_API_KEY, DEFAULT_HMAC_SECRET, DEFAULT_MERCHANT_ID, DuplicateAnswer, Fault, FaultConfig,
    MockConfig, MockServer, READONLY_API_KEY,
};

/// Stateful local LuxCore payments API server for tests.
#[derive(Debug, Parser)]
#[command(name = "luxcore-mock", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Turn rate limiting off.
    #[arg(long)]
    no_rate_limits: bool,
    /// Probability (0-1) that an /api request gets an error status.
    #[arg(long, default_value_t = 0.0)]
    fault_probability: f64,
    /// Statuses injected by --fault-probability, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "429,500,503")]
    fault_statuses: Vec<u16>,
    /// Probability (0-1) that an /api request is processed and its connection then
    /// dropped without a response.
    #[arg(long, default_value_t = 0.0)]
    fault_drop_rate: f64,
    /// Latency added to every /api request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    fault_latency_ms: u64,
    /// Seed of the fault RNG.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Faults for the first /api requests, one each, comma-separated: an HTTP status
    /// (503), drop, pass, an error code of the catalogue (LOCK_TIMEOUT) or
    /// after_commit:CODE (processed, then answered with CODE).
    #[arg(long, value_delimiter = ',')]
    fault_schedule: Vec<Fault>,
    /// How a creation with a taken merchant_reference is answered: ok (200 with the
    /// existing payment), payment_already_exists (400, the payment in `data`) or
    /// duplicate_reference (400).
    #[arg(long, default_value_t = DuplicateAnswer::Ok200)]
    duplicates: DuplicateAnswer,
    /// Methods answered with 400 METHOD_NOT_AVAILABLE, comma-separated (e.g. spei,oxxo).
    #[arg(long, value_delimiter = ',')]
    unavailable_methods: Vec<String>,
    /// Methods answered with 400 METHOD_NOT_CONFIGURED (and left out of the methods
    /// list), comma-separated.
    #[arg(long, value_delimiter = ',')]
    unconfigured_methods: Vec<String>,
    /// Largest amount (minor units) of one payment; above it 400 LIMIT_EXCEEDED.
    #[arg(long)]
    transaction_limit: Option<i64>,
    /// First webhook retry delay in milliseconds (doubles per retry).
    #[arg(long, default_value_t = 1000)]
    webhook_retry_base_ms: u64,
}

fn check_probability(name: &str, value: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{name} must be between 0 and 1, got {value}"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let faults = FaultConfig {
        seed: args.fault_seed,
        probability: check_probability("--fault-probability", args.fault_probability)?,
        statuses: args.fault_statuses,
        drop_after_commit: check_probability("--fault-drop-rate", args.fault_drop_rate)?,
        latency: Duration::from_millis(args.fault_latency_ms),
        schedule: args.fault_schedule,
    };
    let mut config = MockConfig::default()
        .with_addr(SocketAddr::new(args.host, args.port))
        .with_faults(faults)
        .with_webhook_retry_base(Duration::from_millis(args.webhook_retry_base_ms))
        .with_duplicates(args.duplicates);
    if args.no_rate_limits {
        config = config.without_rate_limits();
    }
    for method in args.unavailable_methods {
        config = config.with_unavailable_method(method);
    }
    for method in args.unconfigured_methods {
        config = config.with_unconfigured_method(method);
    }
    if let Some(limit) = args.transaction_limit {
        config = config.with_transaction_limit(limit);
    }
    let server = MockServer::start(config).await?;
    // Local test credentials: printing them is intended (one `KEY=value` per line,
    // so the output can be sourced by a shell).
    println!("LUXCORE_BASE_URL={}", server.base_url());
    println!("LUXCORE_API_KEY={DEFAULT_API_KEY}");
    println!("LUXCORE_API_KEY_READONLY={READONLY_API_KEY}");
    println!("LUXCORE_MERCHANT_ID={DEFAULT_MERCHANT_ID}");
    println!("LUXCORE_HMAC_SECRET={DEFAULT_HMAC_SECRET}");
    tokio::signal::ctrl_c().await?;
    drop(server);
    Ok(())
}
