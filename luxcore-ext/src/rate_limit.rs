//! Optional client-side rate limiting.
//!
//! LuxCore limits requests per API key. The documented limits (from the oldest copy of
//! the authentication page, so treat them as indicative) are:
//!
//! | bucket                     | limit                                   |
//! |----------------------------|-----------------------------------------|
//! | [`RateBucket::Create`]     | 5000 requests/minute, burst 500 per 10 s |
//! | [`RateBucket::Standard`]   | 100 requests/minute                     |
//!
//! **Off by default.** The server is the authority (it answers 429 with `Retry-After`,
//! which the retry policy honours), keys are often shared by several processes, and the
//! documented figures may be stale. Turn it on with
//! `LuxCore::builder().rate_limits(RateLimits::documented())` to smooth bursts from one
//! process, or give your own quotas with [`RateLimits::with_quota`]. When on, every
//! attempt (retries included) waits until all quotas of its bucket allow it.
//!
//! The client talks to a [`RateLimiter`] (an async trait object). [`LocalRateLimiter`] is
//! the in-process default: it counts one process only, so N processes with one key send
//! up to N times the quotas. With the `redis` feature, `RedisRateLimiter` (built by
//! `LuxCoreBuilder::shared_rate_limits`) keeps the quotas in Redis, so every process
//! using one key shares them; see `SharedLimits` for the algorithm, the keys and what
//! happens when Redis is down.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use std::sync::Arc;

use futures::future::BoxFuture;
use governor::{DefaultDirectRateLimiter, RateLimiter as GovernorLimiter};

use crate::base::error::Error;
pub use crate::base::error::LimiterError;

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
pub use self::redis::{OnUnavailable, RedisRateLimiter, SharedLimits};
#[cfg(feature = "redis")]
pub use crate::base::redis_connection::{RedisConnectError, RedisConnectErrorKind, RedisEndpoint};

/// Which limit an operation counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateBucket {
    /// Payment creation (the `createPayment` operations of API v1 and v2).
    Create,
    /// Every other endpoint.
    Standard,
}

/// One quota: at most `requests` in any window of length `period`.
///
/// The limiter enforces it whatever the alignment of the server's windows (fixed or
/// sliding): half of the allowance is available as an immediate burst and the other half
/// is spread evenly over the period (see [`Quota`]'s GCRA conversion). A plain
/// GCRA with the whole allowance as burst would let up to twice `requests` through in one
/// window — a fixed-window server would answer the second half with 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    requests: NonZeroU32,
    period: Duration,
}

impl Quota {
    /// `requests` per `period`. `None` when `requests` is 0 or `period` is zero.
    pub fn new(requests: u32, period: Duration) -> Option<Self> {
        let requests = NonZeroU32::new(requests)?;
        (!period.is_zero()).then_some(Quota { requests, period })
    }

    /// `requests` per minute. `None` when `requests` is 0.
    pub fn per_minute(requests: u32) -> Option<Self> {
        Self::new(requests, Duration::from_secs(60))
    }

    /// Requests allowed per period.
    pub fn requests(&self) -> u32 {
        self.requests.get()
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// GCRA parameters that never admit more than `requests` in any `period`-long window:
    /// in a window of length `period`, GCRA admits at most `burst + period / interval`
    /// requests, so with `burst = requests / 2` and the remaining `requests - burst` spread
    /// over the period the total is exactly `requests`.
    fn to_governor(self) -> Option<governor::Quota> {
        let requests = self.requests.get();
        let burst = NonZeroU32::new(requests / 2).unwrap_or(NonZeroU32::MIN);
        let spread = (requests - burst.get()).max(1);
        governor::Quota::with_period(self.period / spread).map(|q| q.allow_burst(burst))
    }
}

/// The client-side quotas per [`RateBucket`]. A bucket without quotas is unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits {
    create: Vec<Quota>,
    standard: Vec<Quota>,
}

impl RateLimits {
    /// No quotas (every bucket unlimited); add some with [`Self::with_quota`].
    pub fn unlimited() -> Self {
        Self::default()
    }

    /// The documented limits: creation 5000/min and 500 per 10 s (both must allow),
    /// standard endpoints 100/min.
    pub fn documented() -> Self {
        let q = |requests, secs| Quota {
            requests: NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN),
            period: Duration::from_secs(secs),
        };
        RateLimits {
            create: vec![q(5000, 60), q(500, 10)],
            standard: vec![q(100, 60)],
        }
    }

    /// Adds a quota to `bucket` (all quotas of a bucket must allow a request).
    pub fn with_quota(mut self, bucket: RateBucket, quota: Quota) -> Self {
        self.quotas_mut(bucket).push(quota);
        self
    }

    /// The quotas of `bucket`.
    pub fn quotas(&self, bucket: RateBucket) -> &[Quota] {
        match bucket {
            RateBucket::Create => &self.create,
            RateBucket::Standard => &self.standard,
        }
    }

    fn quotas_mut(&mut self, bucket: RateBucket) -> &mut Vec<Quota> {
        match bucket {
            RateBucket::Create => &mut self.create,
            RateBucket::Standard => &mut self.standard,
        }
    }
}

/// A client-side rate limiter: [`Self::acquire`] returns once one more request of `bucket`
/// may be sent (it waits as long as needed), or fails with a [`LimiterError`].
///
/// The client calls it before every attempt (retries included). Two implementations
/// ship: [`LocalRateLimiter`] (in-process, the default of
/// `LuxCoreBuilder::rate_limits`) and, with the `redis` feature, `RedisRateLimiter`
/// (shared by every process that uses one API key). Bring your own with
/// `LuxCoreBuilder::rate_limiter`.
pub trait RateLimiter: Send + Sync + 'static {
    /// Waits for a permit for one request of `bucket`.
    fn acquire(&self, bucket: RateBucket) -> BoxFuture<'_, Result<(), LimiterError>>;
}

/// The in-process limiter: one governor GCRA per quota, shared by the clones of one client
/// (not by other processes: N processes with one key send up to N times the quotas).
pub struct LocalRateLimiter {
    create: Vec<DefaultDirectRateLimiter>,
    standard: Vec<DefaultDirectRateLimiter>,
}

impl LocalRateLimiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: &RateLimits) -> Self {
        let build = |quotas: &[Quota]| {
            quotas
                .iter()
                .filter_map(|q| q.to_governor())
                .map(GovernorLimiter::direct)
                .collect()
        };
        LocalRateLimiter {
            create: build(&limits.create),
            standard: build(&limits.standard),
        }
    }

    /// Waits until every quota of `bucket` allows one more request (each quota's cell
    /// is taken as soon as it is available, one quota after the other).
    pub async fn until_ready(&self, bucket: RateBucket) {
        let limiters = match bucket {
            RateBucket::Create => &self.create,
            RateBucket::Standard => &self.standard,
        };
        for limiter in limiters {
            limiter.until_ready().await;
        }
    }
}

impl RateLimiter for LocalRateLimiter {
    fn acquire(&self, bucket: RateBucket) -> BoxFuture<'_, Result<(), LimiterError>> {
        Box::pin(async move {
            self.until_ready(bucket).await;
            Ok(())
        })
    }
}

impl fmt::Debug for LocalRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRateLimiter")
            .field("create_quotas", &self.create.len())
            .field("standard_quotas", &self.standard.len())
            .finish()
    }
}

/// The limiter a client runs: any [`RateLimiter`] behind an `Arc`.
#[derive(Clone)]
pub(crate) struct Limiter(Arc<dyn RateLimiter>);

impl Limiter {
    /// The in-process limiter for `limits`.
    pub(crate) fn new(limits: &RateLimits) -> Self {
        Limiter(Arc::new(LocalRateLimiter::new(limits)))
    }

    /// Wraps any limiter.
    pub(crate) fn from_dyn(limiter: Arc<dyn RateLimiter>) -> Self {
        Limiter(limiter)
    }

    /// Waits for a permit; a limiter failure (a fail-closed shared limiter whose store is
    /// down) becomes [`Error::RateLimiter`].
    pub(crate) async fn until_ready(&self, bucket: RateBucket) -> Result<(), Error> {
        self.0.acquire(bucket).await.map_err(Error::RateLimiter)
    }
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Limiter")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_limits() {
        let limits = RateLimits::documented();
        let create = limits.quotas(RateBucket::Create);
        assert_eq!(create.len(), 2);
        assert_eq!(
            (create[0].requests(), create[0].period()),
            (5000, Duration::from_secs(60))
        );
        assert_eq!(
            (create[1].requests(), create[1].period()),
            (500, Duration::from_secs(10))
        );
        let standard = limits.quotas(RateBucket::Standard);
        assert_eq!(
            (standard[0].requests(), standard[0].period()),
            (100, Duration::from_secs(60))
        );
    }

    #[test]
    fn invalid_quotas_are_none() {
        assert!(Quota::new(0, Duration::from_secs(1)).is_none());
        assert!(Quota::new(1, Duration::ZERO).is_none());
        assert!(Quota::per_minute(0).is_none());
    }

    #[tokio::test]
    async fn burst_then_limit() {
        // 6 per hour: half of it (3) passes at once, the fourth waits (10 minutes).
        let quota = Quota::new(6, Duration::from_secs(3600)).unwrap();
        let limiter =
            LocalRateLimiter::new(&RateLimits::unlimited().with_quota(RateBucket::Standard, quota));
        for _ in 0..3 {
            tokio::time::timeout(
                Duration::from_secs(5),
                limiter.until_ready(RateBucket::Standard),
            )
            .await
            .unwrap();
        }
        assert!(
            limiter.standard[0].check().is_err(),
            "quota must be exhausted after the burst"
        );
        // The other bucket is unlimited.
        for _ in 0..100 {
            limiter.acquire(RateBucket::Create).await.unwrap();
        }
    }

    #[tokio::test]
    async fn crate_limiter_wraps_any_limiter() {
        struct Closed;
        impl RateLimiter for Closed {
            fn acquire(&self, _: RateBucket) -> BoxFuture<'_, Result<(), LimiterError>> {
                Box::pin(async { Err(LimiterError::Unavailable("down".into())) })
            }
        }
        let err = Limiter::from_dyn(Arc::new(Closed))
            .until_ready(RateBucket::Create)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            Error::RateLimiter(LimiterError::Unavailable("down".into()))
        );
        assert!(
            Limiter::new(&RateLimits::documented())
                .until_ready(RateBucket::Standard)
                .await
                .is_ok()
        );
    }

    /// Admission times (since start) of a greedy client sending `count` requests through the
    /// quotas with a fake clock, each request at the earliest instant every quota allows,
    /// taking each quota's cell in turn as [`LocalRateLimiter::until_ready`] does.
    fn greedy_admissions(quotas: &[Quota], count: usize) -> Vec<u64> {
        use governor::clock::{Clock, FakeRelativeClock};
        let clock = FakeRelativeClock::default();
        let limiters: Vec<_> = quotas
            .iter()
            .map(|q| GovernorLimiter::direct_with_clock(q.to_governor().unwrap(), clock.clone()))
            .collect();
        (0..count)
            .map(|_| {
                for limiter in &limiters {
                    while let Err(not_until) = limiter.check() {
                        clock.advance(not_until.wait_time_from(clock.now()));
                    }
                }
                clock.now().as_u64()
            })
            .collect()
    }

    /// The most admissions in any window of `period` nanoseconds, over windows starting at
    /// every admission (the worst alignment is always one of these) and at `extra` offsets.
    fn busiest_window(times: &[u64], period: u64, extra: impl Iterator<Item = u64>) -> usize {
        // `times` is ascending: count by binary search.
        let count_from = |start: u64| {
            let end = start.saturating_add(period);
            times.partition_point(|&t| t < end) - times.partition_point(|&t| t < start)
        };
        times
            .iter()
            .copied()
            .chain(extra)
            .map(count_from)
            .max()
            .unwrap_or(0)
    }

    /// Deterministic pseudo-random offsets (xorshift), so a failure is reproducible.
    fn offsets(seed: u64, below: u64, n: usize) -> impl Iterator<Item = u64> {
        let mut x = seed | 1;
        (0..n).map(move |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % below.max(1)
        })
    }

    #[test]
    fn no_window_at_any_alignment_exceeds_a_quota() {
        for (requests, secs) in [(6, 60), (7, 10), (100, 60), (500, 10), (1, 5)] {
            let quota = Quota::new(requests, Duration::from_secs(secs)).unwrap();
            let count = usize::try_from(requests).unwrap() * 5;
            let times = greedy_admissions(&[quota], count);
            let period = Duration::from_secs(secs).as_nanos() as u64;
            let horizon = times.last().copied().unwrap_or(0);
            let busiest =
                busiest_window(&times, period, offsets(u64::from(requests), horizon, 500));
            assert!(
                busiest <= requests as usize,
                "{requests}/{secs}s: {busiest} requests in one window"
            );
            // And the limiter is not needlessly slow: over five periods' worth of requests
            // the busiest window still holds at least half the quota.
            assert!(
                busiest * 2 >= requests as usize,
                "{requests}/{secs}s: {busiest}"
            );
        }
    }

    #[test]
    fn both_creation_quotas_hold_together() {
        let limits = RateLimits::documented();
        let quotas = limits.quotas(RateBucket::Create);
        let times = greedy_admissions(quotas, 12_000);
        let horizon = times.last().copied().unwrap_or(0);
        for quota in quotas {
            let period = quota.period().as_nanos() as u64;
            let busiest = busiest_window(&times, period, offsets(7, horizon, 300));
            assert!(
                busiest <= quota.requests() as usize,
                "{} per {:?}: {busiest} in one window",
                quota.requests(),
                quota.period()
            );
        }
        // The minute quota binds: 12,000 requests cannot finish in under two minutes.
        assert!(
            horizon >= Duration::from_secs(120).as_nanos() as u64,
            "{horizon}"
        );
    }
}
