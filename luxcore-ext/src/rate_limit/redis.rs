//! Rate limits shared by every process that uses one API key, kept in Redis (`redis`
//! feature).
//! See [`SharedLimits`] for the algorithm, the keys and what happens when Redis is down.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::{LimiterError, LocalRateLimiter, Quota, RateBucket, RateLimiter, RateLimits};
use crate::base::error::Cause;
use crate::base::redis_connection::{
    InvokeError, RedisClient, RedisConnection, RedisEndpoint, Timeouts,
};
use crate::credentials::{ApiKey, Credentials};

const DEFAULT_PREFIX: &str = "luxcore:rl";
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);
const DEFAULT_RECHECK: Duration = Duration::from_secs(1);

/// What a [`RedisRateLimiter`] does when Redis cannot be reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnUnavailable {
    /// Fall back to an in-process limiter with the same quotas (the default).
    #[default]
    FailOpen,
    /// Fail the call with [`LimiterError::Unavailable`]; nothing is sent.
    FailClosed,
}

/// Configuration of a shared (Redis) rate limiter.
///
/// **Algorithm.** One atomic Lua script (`gcra.lua`, run with `EVALSHA` through
/// [`redis::Script`]) checks every quota of the bucket with GCRA on the Redis clock and
/// *reserves* the earliest instant at which all of them allow the request; the caller
/// sleeps until then and sends. Callers therefore queue in arrival order, one round trip
/// per request, without polling. For a quota of `N` requests per `T`, the GCRA burst is
/// `N / 20` (at least 1) and the remaining `N - burst` requests are spread over `T` plus
/// a 2 % margin (for network jitter): any window of length `T` holds fewer than `N`
/// requests, whatever the alignment of the server's windows, and a sustained load runs at
/// about 93 % of the quota (a burst of twice the quota completes at about 95 %).
/// A call cancelled while it waits for its reserved instant leaves that slot unused (the
/// limiter errs on the safe side).
///
/// **Keys.** `{prefix}:{<hash>}:<bucket>:<requests>per<period_ms>ms`, where `<hash>` is
/// the first 128 bits of SHA-256 over a domain tag and the API key (or, without a key, the
/// v2 merchant id) — the key itself is never sent to Redis nor logged. The prefix defaults
/// to `luxcore:rl`. Keys expire one second after their quota is idle again. The `{<hash>}`
/// hash tag puts every quota key of one API key in one Redis Cluster slot, so the one
/// script call that checks all quotas of a bucket runs on one node.
///
/// **Where.** One Redis (`redis://`, or `rediss://` with the `redis-tls` feature) or a
/// Redis Cluster (`redis-cluster` feature): see [`SharedLimits::with_endpoint`] and
/// [`RedisEndpoint`].
///
/// **When Redis is unreachable** (connect or answer slower than [`SharedLimits::timeout`],
/// 500 ms by default), the behaviour is [`OnUnavailable`]:
/// - [`OnUnavailable::FailOpen`] (**the default**) falls back to an in-process limiter with
///   the same quotas, logs a warning (without secrets), and tries Redis again after
///   [`SharedLimits::recheck_after`] (1 s by default). Payments keep flowing during a Redis
///   outage; N processes may then send up to N times the quotas, and the server's 429 with
///   `Retry-After` (honoured by the retry policy) is the backstop.
/// - [`OnUnavailable::FailClosed`] fails the call with
///   [`Error::RateLimiter`](crate::error::Error::RateLimiter) (nothing is sent): for
///   deployments where exceeding the quota is worse than refusing work.
#[derive(Clone)]
pub struct SharedLimits {
    redis: RedisEndpoint,
    limits: RateLimits,
    on_unavailable: OnUnavailable,
    prefix: String,
    timeout: Duration,
    recheck_after: Duration,
}

impl SharedLimits {
    /// These quotas, in the Redis at `redis_url` (`redis://[:password@]host:port[/db]`,
    /// or `rediss://` for TLS with the `redis-tls` feature). The URL is kept secret (it
    /// may hold a password) and never printed.
    pub fn new(redis_url: impl Into<String>, limits: RateLimits) -> Self {
        Self::with_endpoint(RedisEndpoint::new(redis_url), limits)
    }

    /// These quotas, in the Redis at `endpoint`: one server or a cluster, plain or TLS
    /// with a private CA and a client certificate.
    pub fn with_endpoint(endpoint: RedisEndpoint, limits: RateLimits) -> Self {
        SharedLimits {
            redis: endpoint,
            limits,
            on_unavailable: OnUnavailable::default(),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            recheck_after: DEFAULT_RECHECK,
        }
    }

    /// What to do when Redis is unreachable (default [`OnUnavailable::FailOpen`]).
    pub fn on_unavailable(mut self, policy: OnUnavailable) -> Self {
        self.on_unavailable = policy;
        self
    }

    /// The prefix of the Redis keys (default `luxcore:rl`). Keep `{` and `}` out of it:
    /// they would change the keys' cluster hash tag.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long to wait for Redis (connect, and each script call) before treating it as
    /// unreachable (default 500 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// After Redis was found unreachable, how long to use the fallback (or fail) before
    /// trying Redis again (default 1 s).
    pub fn recheck_after(mut self, after: Duration) -> Self {
        self.recheck_after = after;
        self
    }
}

impl fmt::Debug for SharedLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLimits")
            .field("redis", &self.redis)
            .field("limits", &self.limits)
            .field("on_unavailable", &self.on_unavailable)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("recheck_after", &self.recheck_after)
            .finish()
    }
}

/// One quota as stored in Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SharedQuota {
    key: String,
    interval_us: u64,
    burst: u64,
}

/// GCRA parameters of `quota` for the shared limiter: burst `N / 20` (at least 1), and
/// the other `N - burst` requests spread over the period plus 2 %.
fn shared_gcra(quota: &Quota) -> (u64, u64) {
    let requests = u64::from(quota.requests.get());
    let burst = (requests / 20).max(1);
    let spread = requests.saturating_sub(burst).max(1);
    let period_us = u64::try_from(quota.period.as_micros()).unwrap_or(u64::MAX / 2);
    let period_us = period_us.saturating_add(period_us / 50);
    (period_us.div_ceil(spread).max(1), burst)
}

/// The hashed namespace of one API key (or merchant): hex of the first 128 bits of
/// SHA-256 over a domain tag and the identity.
fn fingerprint(identity: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"luxcore-rs rate limit v1\0")
        .chain_update(identity.as_bytes())
        .finalize();
    hex::encode(&digest[..16])
}

fn shared_quotas(
    prefix: &str,
    fingerprint: &str,
    bucket: &str,
    quotas: &[Quota],
) -> Vec<SharedQuota> {
    quotas
        .iter()
        .map(|q| {
            let (interval_us, burst) = shared_gcra(q);
            SharedQuota {
                key: format!(
                    "{prefix}:{{{fingerprint}}}:{bucket}:{}per{}ms",
                    q.requests(),
                    q.period().as_millis()
                ),
                interval_us,
                burst,
            }
        })
        .collect()
}

/// A [`RateLimiter`] whose quotas live in Redis, shared by every process that uses the
/// same API key; see [`SharedLimits`]. Build it with
/// `LuxCoreBuilder::shared_rate_limits`, or with [`Self::new`] and pass it to
/// `LuxCoreBuilder::rate_limiter`.
pub struct RedisRateLimiter {
    client: RedisClient,
    connection: OnceCell<RedisConnection>,
    script: redis::Script,
    create: Vec<SharedQuota>,
    standard: Vec<SharedQuota>,
    fallback: LocalRateLimiter,
    on_unavailable: OnUnavailable,
    timeout: Duration,
    recheck_after: Duration,
    down_until: Mutex<Option<Instant>>,
}

impl RedisRateLimiter {
    /// A limiter counting `shared`'s quotas for this API key. Fails with
    /// [`LimiterError::Config`] for an invalid Redis URL, a bad PEM, or a TLS / cluster
    /// endpoint without its feature (no connection is made yet: the first request
    /// connects).
    pub fn new(shared: SharedLimits, api_key: &ApiKey) -> Result<Self, LimiterError> {
        Self::with_identity(shared, api_key.expose())
    }

    /// For a client's credentials: by API key, or by v2 merchant id without one.
    pub(crate) fn for_credentials(
        shared: SharedLimits,
        credentials: &Credentials,
    ) -> Result<Self, LimiterError> {
        match (credentials.api_key(), credentials.hmac()) {
            (Some(key), _) => Self::new(shared, key),
            (None, Some(hmac)) => {
                Self::with_identity(shared, &format!("merchant:{}", hmac.merchant_id()))
            }
            (None, None) => Err(LimiterError::Config(
                "no credentials to share the rate limits by".into(),
            )),
        }
    }

    fn with_identity(shared: SharedLimits, identity: &str) -> Result<Self, LimiterError> {
        if shared.timeout.is_zero() {
            return Err(LimiterError::Config(
                "the Redis timeout must be greater than zero".into(),
            ));
        }
        // The URL is not echoed: it may carry a password.
        let client = shared
            .redis
            .client()
            .map_err(|e| LimiterError::Config(e.to_string()))?;
        let fp = fingerprint(identity);
        let limits = &shared.limits;
        Ok(RedisRateLimiter {
            client,
            connection: OnceCell::new(),
            script: redis::Script::new(include_str!("gcra.lua")),
            create: shared_quotas(
                &shared.prefix,
                &fp,
                "create",
                limits.quotas(RateBucket::Create),
            ),
            standard: shared_quotas(
                &shared.prefix,
                &fp,
                "standard",
                limits.quotas(RateBucket::Standard),
            ),
            fallback: LocalRateLimiter::new(limits),
            on_unavailable: shared.on_unavailable,
            timeout: shared.timeout,
            recheck_after: shared.recheck_after,
            down_until: Mutex::new(None),
        })
    }

    /// The Redis keys of `bucket`'s quotas (hashed namespace; for tests and operators).
    pub fn redis_keys(&self, bucket: RateBucket) -> Vec<String> {
        self.quotas(bucket).iter().map(|q| q.key.clone()).collect()
    }

    fn quotas(&self, bucket: RateBucket) -> &[SharedQuota] {
        match bucket {
            RateBucket::Create => &self.create,
            RateBucket::Standard => &self.standard,
        }
    }

    fn recently_down(&self) -> bool {
        let guard = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        guard.is_some_and(|until| Instant::now() < until)
    }

    fn mark_down(&self) {
        let mut guard = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        *guard = Some(Instant::now() + self.recheck_after);
    }

    /// Runs the script: the wait before the reserved permit.
    async fn reserve(&self, quotas: &[SharedQuota]) -> Result<Duration, LimiterError> {
        let timeouts = Timeouts {
            connect: self.timeout,
            response: self.timeout,
        };
        let connection = self
            .connection
            .get_or_try_init(|| self.client.connect(timeouts))
            .await
            .map_err(|e| LimiterError::Unavailable(Cause::with_source(e.to_string(), e)))?;
        let keys: Vec<&str> = quotas.iter().map(|q| q.key.as_str()).collect();
        let args: Vec<u64> = quotas
            .iter()
            .flat_map(|q| [q.interval_us, q.burst])
            .collect();
        let wait: String = connection
            .invoke(&self.script, &keys, &args)
            .await
            .map_err(|e| match e {
                InvokeError::Redis(e)
                    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() =>
                {
                    LimiterError::Unavailable(Cause::with_source(e.to_string(), e))
                }
                InvokeError::Redis(e) => {
                    LimiterError::Backend(Cause::with_source(e.to_string(), e))
                }
                InvokeError::CrossSlot(message) => LimiterError::Backend(message.into()),
            })?;
        let wait_us: u64 = wait.parse().map_err(|_| {
            LimiterError::Backend("the rate-limit script returned a non-number".into())
        })?;
        Ok(Duration::from_micros(wait_us))
    }

    async fn acquire_shared(&self, bucket: RateBucket) -> Result<(), LimiterError> {
        let quotas = self.quotas(bucket);
        if quotas.is_empty() {
            return Ok(());
        }
        let error = if self.recently_down() {
            // Not extending the down period: Redis is tried again once it is over, however
            // often requests come meanwhile.
            LimiterError::Unavailable("Redis was unreachable moments ago".into())
        } else {
            let error =
                match tokio::time::timeout(self.timeout.saturating_mul(2), self.reserve(quotas))
                    .await
                {
                    Ok(Ok(wait)) => {
                        if !wait.is_zero() {
                            tokio::time::sleep(wait).await;
                        }
                        return Ok(());
                    }
                    Ok(Err(e)) => e,
                    Err(_) => LimiterError::Unavailable("Redis did not answer in time".into()),
                };
            self.mark_down();
            error
        };
        match self.on_unavailable {
            OnUnavailable::FailClosed => Err(error),
            OnUnavailable::FailOpen => {
                tracing::warn!(error = %error, "luxcore: shared rate limiter unavailable, using the in-process limiter");
                self.fallback.until_ready(bucket).await;
                Ok(())
            }
        }
    }
}

impl RateLimiter for RedisRateLimiter {
    fn acquire(&self, bucket: RateBucket) -> BoxFuture<'_, Result<(), LimiterError>> {
        Box::pin(self.acquire_shared(bucket))
    }
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("create_quotas", &self.create.len())
            .field("standard_quotas", &self.standard.len())
            .field("on_unavailable", &self.on_unavailable)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_parameters_never_exceed_the_quota_in_a_window() {
        for (requests, secs) in [(500, 10), (5000, 60), (100, 60), (20, 1), (1, 1), (3, 7)] {
            let quota = Quota::new(requests, Duration::from_secs(secs)).unwrap();
            let (interval_us, burst) = shared_gcra(&quota);
            // GCRA admits at most burst + ceil(T / interval) - 1 in a window of length T.
            let period_us = secs * 1_000_000;
            let most = burst + period_us.div_ceil(interval_us) - 1;
            assert!(
                most <= u64::from(requests),
                "{requests}/{secs}s: {most} fit in one window"
            );
            // ... and the sustained rate is at least 90 % of the quota (for N >= 20).
            if requests >= 20 {
                let per_period = period_us as f64 / interval_us as f64;
                assert!(per_period >= 0.9 * f64::from(requests), "{per_period}");
            }
        }
    }

    #[test]
    fn keys_are_hashed_and_namespaced() {
        let shared =
            SharedLimits::new("redis://127.0.0.1:1", RateLimits::documented()).key_prefix("app");
        let key = ApiKey::new("qp_test_sk_secretvalue").unwrap();
        let limiter = RedisRateLimiter::new(shared.clone(), &key).unwrap();
        let keys = limiter.redis_keys(RateBucket::Create);
        assert_eq!(keys.len(), 2);
        for k in keys.iter().chain(&limiter.redis_keys(RateBucket::Standard)) {
            assert!(!k.contains("secretvalue") && !k.contains("qp_test"), "{k}");
            assert!(k.starts_with("app:{"), "{k}");
        }
        assert!(keys[1].ends_with(":create:500per10000ms"), "{}", keys[1]);
        // Same key, same namespace; another key, another one.
        let again = RedisRateLimiter::new(shared.clone(), &key).unwrap();
        assert_eq!(again.redis_keys(RateBucket::Create), keys);
        let other = ApiKey::new("qp_test_sk_other").unwrap();
        let other = RedisRateLimiter::new(shared, &other).unwrap();
        assert_ne!(other.redis_keys(RateBucket::Create), keys);
    }

    /// One script call passes every quota key of a bucket: on a cluster they must share
    /// one hash slot (the `{<fingerprint>}` tag), whatever the bucket and prefix.
    #[cfg(feature = "redis-cluster")]
    #[test]
    fn the_quota_keys_of_one_call_share_a_hash_slot() {
        use redis::cluster_routing::Slot;
        let mut slots = std::collections::HashSet::new();
        for prefix in ["luxcore:rl", "", "app:eu", "a}b"] {
            for secret in ["qp_test_sk_one", "qp_test_sk_two", "qp_live_sk_three"] {
                let shared = SharedLimits::new("redis://127.0.0.1:1", RateLimits::documented())
                    .key_prefix(prefix);
                let limiter = RedisRateLimiter::new(shared, &ApiKey::new(secret).unwrap()).unwrap();
                for bucket in [RateBucket::Create, RateBucket::Standard] {
                    let keys = limiter.redis_keys(bucket);
                    assert!(
                        keys.len() >= 2 || bucket == RateBucket::Standard,
                        "{keys:?}"
                    );
                    let first = Slot::for_key(&keys[0]);
                    for key in &keys {
                        assert_eq!(Slot::for_key(key), first, "{keys:?}");
                    }
                    slots.insert(first);
                }
            }
        }
        // Different API keys land in different slots (spread over the cluster).
        assert!(slots.len() >= 3, "{slots:?}");
    }

    #[test]
    fn debug_redacts_url_and_key() {
        let shared = SharedLimits::new("redis://:hunter2@127.0.0.1:1", RateLimits::documented());
        assert!(!format!("{shared:?}").contains("hunter2"));
        let key = ApiKey::new("qp_test_sk_secretvalue").unwrap();
        let limiter = RedisRateLimiter::new(shared, &key).unwrap();
        let debug = format!("{limiter:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("secretvalue"),
            "{debug}"
        );
    }

    #[test]
    fn bad_configuration_is_a_typed_error() {
        let key = ApiKey::new("qp_test_sk_x").unwrap();
        let bad_url = SharedLimits::new("not a url :pw@", RateLimits::documented());
        match RedisRateLimiter::new(bad_url, &key) {
            Err(LimiterError::Config(msg)) => assert!(!msg.contains(":pw@"), "{msg}"),
            other => panic!("expected a config error, got {other:?}"),
        }
        let zero = SharedLimits::new("redis://127.0.0.1:1", RateLimits::documented())
            .timeout(Duration::ZERO);
        assert!(matches!(
            RedisRateLimiter::new(zero, &key),
            Err(LimiterError::Config(_))
        ));
        assert!(matches!(
            RedisRateLimiter::for_credentials(
                SharedLimits::new("redis://127.0.0.1:1", RateLimits::documented()),
                &Credentials::new()
            ),
            Err(LimiterError::Config(_))
        ));
    }
}
