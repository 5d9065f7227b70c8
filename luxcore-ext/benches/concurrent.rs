//! Throughput with many requests in flight: 20,000 `client.payments().get(id)`, 64 in flight,
//! against hand-written reqwest + serde_json decoding into the same generated
//! `PaymentResponse`, both against the same in-process luxcore-mock (rate limits off) through
//! the same `reqwest::Client`, in one run. A third side, the generated client alone
//! (`client.raw().get_payment()`, with the SDK's authentication hook), shows how the
//! overhead splits between the SDK's own layer and the generated code under it.
//!
//! Target: SDK / raw <= 1.05, as the median ratio over 15 sets of back-to-back rounds (the
//! order within a set rotates, so the slow drifts of a shared machine hit every side
//! alike). Best-of ratios and process CPU per side are printed beside it.
//!
//! Profiling one side alone: `LUXCORE_BENCH_ONLY=sdk|generated|raw perf record <bench
//! binary> --bench`.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::{StreamExt, stream};
use luxcore_api::types::{Payment, PaymentResponse};
use luxcore_ext::client::LuxCore;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};

const REQUESTS: usize = 20_000;
const IN_FLIGHT: usize = 64;
const SETS: usize = 15;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Sdk,
    Generated,
    Raw,
}

const SIDES: [Side; 3] = [Side::Sdk, Side::Generated, Side::Raw];

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Sdk => "luxcore_ext",
            Side::Generated => "generated_client",
            Side::Raw => "raw_reqwest_serde_json",
        }
    }
}

/// Wall and process CPU time (user + system, client and server together) of one round.
#[derive(Clone, Copy)]
struct Round {
    wall: Duration,
    cpu: Option<Duration>,
}

/// CPU time of this process so far, from `/proc/self/stat` (Linux; `None` elsewhere).
/// Clock ticks of 10 ms: a round takes over a second of CPU, so about 1 % resolution.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends with the last ')'): utime is the 12th,
    // stime the 13th.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Setup {
    client: LuxCore,
    raw: reqwest::Client,
    id: String,
    url: String,
}

impl Setup {
    async fn get(&self, side: Side) -> Payment {
        match side {
            Side::Sdk => self.client.payments().get(&self.id).await.expect("get"),
            Side::Generated => {
                let answer = self.client.raw().get_payment().id(&self.id).send();
                answer.await.expect("get").into_inner().data
            }
            Side::Raw => {
                let response = self
                    .raw
                    .get(&self.url)
                    .header("X-API-Key", DEFAULT_API_KEY)
                    .header("Accept", "application/json")
                    .header("User-Agent", luxcore_ext::client::USER_AGENT)
                    .send()
                    .await
                    .expect("send");
                assert!(response.status().is_success());
                let bytes = response.bytes().await.expect("body");
                serde_json::from_slice::<PaymentResponse>(&bytes)
                    .expect("decode")
                    .data
            }
        }
    }

    /// 20,000 gets, 64 in flight; returns the wall time.
    async fn round(&self, side: Side) -> Duration {
        let started = Instant::now();
        stream::iter(0..REQUESTS)
            .map(|_| self.get(side))
            .buffer_unordered(IN_FLIGHT)
            .for_each(|payment| async move {
                std::hint::black_box(payment);
            })
            .await;
        started.elapsed()
    }

    async fn measure(&self, side: Side) -> Round {
        let cpu_before = process_cpu();
        let wall = self.round(side).await;
        let cpu = process_cpu()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        Round { wall, cpu }
    }

    /// `SETS` sets of one round per side, back to back, the order rotating per set.
    async fn sets(&self) -> Vec<[Round; 3]> {
        for side in SIDES {
            self.round(side).await; // warm-up
        }
        let mut sets = Vec::with_capacity(SETS);
        for set in 0..SETS {
            let mut rounds = [Round {
                wall: Duration::ZERO,
                cpu: None,
            }; 3];
            for k in 0..SIDES.len() {
                let i = (set + k) % SIDES.len();
                rounds[i] = self.measure(SIDES[i]).await;
            }
            sets.push(rounds);
        }
        sets
    }
}

/// Prints the ratios; the target (<= 1.05) is on the median luxcore_ext / raw ratio.
fn report(sets: &[[Round; 3]]) {
    let (sdk, generated, raw) = (0, 1, 2);
    let ratio = |a: usize, b: usize| {
        median(
            sets.iter()
                .map(|s| s[a].wall.as_secs_f64() / s[b].wall.as_secs_f64())
                .collect(),
        )
    };
    let best = |a: usize| {
        sets.iter()
            .map(|s| s[a].wall)
            .min()
            .unwrap_or_default()
            .as_secs_f64()
    };
    let cpu = |a: usize| {
        sets.iter()
            .map(|s| s[a].cpu)
            .sum::<Option<Duration>>()
            .map(|d| d.as_secs_f64())
    };
    println!(
        "get_payment x{REQUESTS}, {IN_FLIGHT} in flight, {SETS} sets, median ratios: \
         luxcore_ext/raw {:.3}x, generated/raw {:.3}x, luxcore_ext/generated {:.3}x",
        ratio(sdk, raw),
        ratio(generated, raw),
        ratio(sdk, generated)
    );
    println!(
        "best of {SETS}: luxcore_ext {:.3} s, generated {:.3} s, raw {:.3} s = {:.3}x",
        best(sdk),
        best(generated),
        best(raw),
        best(sdk) / best(raw)
    );
    if let (Some(s), Some(g), Some(r)) = (cpu(sdk), cpu(generated), cpu(raw)) {
        println!(
            "process CPU (client and server): luxcore_ext {s:.2} s, generated {g:.2} s, \
             raw {r:.2} s; luxcore_ext/raw {:.3}x, luxcore_ext/generated {:.3}x",
            s / r,
            s / g
        );
    }
}

fn concurrent(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (mock, setup) = rt.block_on(async {
        let mock = MockServer::start(MockConfig::default().without_rate_limits())
            .await
            .expect("mock starts");
        // The same transport settings as the SDK's defaults, as a careful merchant would,
        // and one connection pool for all sides: the comparison is the SDK's own work, not
        // how two pools' connections happen to be spread over the runtime's threads.
        let raw = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest client");
        let client = LuxCore::builder()
            .base_url(mock.base_url())
            .api_key(DEFAULT_API_KEY)
            .http_client(raw.clone())
            .build()
            .expect("client");
        let request = PaymentRequest::deposit(
            150_000,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            "bench-64",
        )
        .build()
        .expect("request");
        let payment = client.payments().create(request).await.expect("created");
        let payment = payment.into_inner();
        let id = payment.id.or(payment.transaction_id).expect("payment id");
        let url = format!("{}/api/v1/payments/{id}", mock.base_url());
        let setup = Setup {
            client,
            raw,
            id,
            url,
        };
        (mock, setup)
    });

    if let Ok(only) = std::env::var("LUXCORE_BENCH_ONLY") {
        let side = match only.as_str() {
            "sdk" => Side::Sdk,
            "generated" => Side::Generated,
            _ => Side::Raw,
        };
        rt.block_on(async {
            for _ in 0..10 {
                setup.round(side).await;
            }
        });
        drop(mock);
        return;
    }

    report(&rt.block_on(setup.sets()));

    let mut group = c.benchmark_group("get_payment_20000_64_in_flight");
    group.sample_size(10);
    for side in SIDES {
        group.bench_function(side.name(), |b| b.to_async(&rt).iter(|| setup.round(side)));
    }
    group.finish();
    drop(mock);
}

criterion_group!(benches, concurrent);
criterion_main!(benches);
