//! What the SDK-versus-baseline benches share: one luxcore-mock with one payment, and three
//! ways to read it (`Side`): the SDK, the generated client alone, and hand-written reqwest +
//! serde_json sending the same request on the wire; and rounds of each side measured back to
//! back in rotating order, reported as median ratios (`Sets`).
//!
//! Why rotating sets: on a shared 2-core machine the speed drifts by tens of percent within a
//! minute, and whichever side criterion measures first or last gets a different machine.
//! Rounds of all sides back to back, the order rotating per set, see the same drift; the
//! median of the per-set ratios is the figure the targets are checked against.

use luxcore_ext::Money;
use std::time::Duration;

use luxcore_api::types::{Payment, PaymentResponse};
use luxcore_ext::client::LuxCore;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};

/// One way of reading the payment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    /// `client.payments().get(id)`.
    Sdk,
    /// `client.raw().get_payment().id(id).send()`: the generated client with the SDK's hook.
    Generated,
    /// Hand-written reqwest + serde_json into the same generated `PaymentResponse`, sending
    /// the same headers (`X-API-Key`, `Accept`, `User-Agent`).
    Raw,
}

pub const SIDES: [Side; 3] = [Side::Sdk, Side::Generated, Side::Raw];

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Sdk => "luxcore_ext",
            Side::Generated => "generated_client",
            Side::Raw => "raw_reqwest_serde_json",
        }
    }

    /// With `LUXCORE_BENCH_ONLY=sdk|generated|raw`, runs `rounds` rounds of that side alone
    /// (for profiling: `perf record <bench binary> --bench`, or callgrind) and returns `true`.
    pub fn profile_alone_if_asked<F: Future<Output = ()>>(
        rt: &tokio::runtime::Runtime,
        rounds: usize,
        mut round: impl FnMut(Side) -> F,
    ) -> bool {
        let Ok(only) = std::env::var("LUXCORE_BENCH_ONLY") else {
            return false;
        };
        let side = match only.as_str() {
            "sdk" => Side::Sdk,
            "generated" => Side::Generated,
            _ => Side::Raw,
        };
        rt.block_on(async {
            for _ in 0..rounds {
                round(side).await;
            }
        });
        true
    }
}

/// A luxcore-mock (rate limits off) holding one payment, an SDK client and a reqwest client
/// sharing one connection pool.
pub struct Setup {
    /// Kept alive while the benches run.
    _mock: MockServer,
    pub client: LuxCore,
    raw: reqwest::Client,
    id: String,
    url: String,
}

impl Setup {
    pub async fn start() -> Setup {
        let mock = MockServer::start(MockConfig::default().without_rate_limits())
            .await
            .expect("mock starts");
        // The SDK's default transport settings, as a careful merchant would configure them,
        // and one pool for all sides: the comparison is the SDK's own work, not how two
        // pools' connections happen to spread over the runtime's threads.
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
            Money::new(150_000, Currency::ARS),
            PaymentMethod::BankTransfer,
            "bench-get",
        )
        .build()
        .expect("request");
        let payment = client.payments().create(request).await.expect("created");
        let payment = payment.into_inner();
        let id = payment.id.or(payment.transaction_id).expect("payment id");
        let url = format!("{}/api/v1/payments/{id}", mock.base_url());
        Setup {
            _mock: mock,
            client,
            raw,
            id,
            url,
        }
    }

    /// Reads the payment once.
    pub async fn get(&self, side: Side) -> Payment {
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
}

/// Wall and process CPU time (user + system, client and server together) of one round.
#[derive(Clone, Copy, Default)]
pub struct Round {
    pub wall: Duration,
    pub cpu: Option<Duration>,
}

/// CPU time of all threads of this process so far (`CLOCK_PROCESS_CPUTIME_ID`, nanoseconds:
/// `/proc/self/stat`'s 10 ms ticks are longer than a round of the `overhead` bench).
fn process_cpu() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec` for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    if rc != 0 {
        return None;
    }
    Some(Duration::new(
        u64::try_from(now.tv_sec).ok()?,
        u32::try_from(now.tv_nsec).ok()?,
    ))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Rounds of every side, one set after another.
pub struct Sets(Vec<[Round; 3]>);

impl Sets {
    /// Warms every side up with one round, then measures `sets` sets of one round per side,
    /// back to back, the order rotating per set.
    pub async fn measure<F>(sets: usize, mut round: impl FnMut(Side) -> F) -> Sets
    where
        F: Future<Output = ()>,
    {
        for side in SIDES {
            round(side).await;
        }
        let mut all = Vec::with_capacity(sets);
        for set in 0..sets {
            let mut rounds = [Round::default(); 3];
            for k in 0..SIDES.len() {
                let i = (set + k) % SIDES.len();
                let cpu_before = process_cpu();
                let started = std::time::Instant::now();
                round(SIDES[i]).await;
                let wall = started.elapsed();
                let cpu = process_cpu()
                    .zip(cpu_before)
                    .map(|(after, before)| after.saturating_sub(before));
                rounds[i] = Round { wall, cpu };
            }
            all.push(rounds);
        }
        Sets(all)
    }

    /// Median over the sets of `a`'s wall time over `b`'s.
    pub fn ratio(&self, a: Side, b: Side) -> f64 {
        let (a, b) = (a as usize, b as usize);
        median(
            self.0
                .iter()
                .map(|s| s[a].wall.as_secs_f64() / s[b].wall.as_secs_f64())
                .collect(),
        )
    }

    /// Median wall time of one round of `side`.
    pub fn median_wall(&self, side: Side) -> Duration {
        let side = side as usize;
        Duration::from_secs_f64(median(
            self.0.iter().map(|s| s[side].wall.as_secs_f64()).collect(),
        ))
    }

    /// Process CPU of all rounds of `side`.
    pub fn cpu(&self, side: Side) -> Option<Duration> {
        self.0.iter().map(|s| s[side as usize].cpu).sum()
    }

    /// Prints the median ratios, median round times (`per` requests per round) and CPU.
    pub fn report(&self, what: &str, per: usize) {
        use Side::{Generated, Raw, Sdk};
        println!(
            "{what}, {} sets, median ratios: luxcore_ext/raw {:.3}x, generated/raw {:.3}x, \
             luxcore_ext/generated {:.3}x",
            self.0.len(),
            self.ratio(Sdk, Raw),
            self.ratio(Generated, Raw),
            self.ratio(Sdk, Generated)
        );
        let each = |side| self.median_wall(side).as_secs_f64() * 1e6 / per as f64;
        println!(
            "median per request: luxcore_ext {:.1} µs, generated {:.1} µs, raw {:.1} µs",
            each(Sdk),
            each(Generated),
            each(Raw)
        );
        if let (Some(s), Some(g), Some(r)) = (self.cpu(Sdk), self.cpu(Generated), self.cpu(Raw)) {
            let (s, g, r) = (s.as_secs_f64(), g.as_secs_f64(), r.as_secs_f64());
            println!(
                "process CPU (client and server): luxcore_ext {s:.2} s, generated {g:.2} s, \
                 raw {r:.2} s; luxcore_ext/raw {:.3}x",
                s / r
            );
        }
    }
}
