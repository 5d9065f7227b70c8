//! `RedisRateLimiter` against a real redis-server (`LUXCORE_TEST_REDIS_URL`, set by
//! `cargo xtask test`): the Lua GCRA never lets more than the quota through in any window,
//! even from several limiter instances (processes) at once; the Redis keys never hold the
//! API key; with Redis down the limiter fails open (local limiter) or closed (typed
//! error), as configured; and once Redis answers again, the shared quota is used again.

mod cut_proxy;

use luxcore_ext::Money;
use std::sync::Arc;
use std::time::{Duration, Instant};

use luxcore_ext::client::LuxCore;
use luxcore_ext::credentials::ApiKey;
use luxcore_ext::error::Error;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::rate_limit::{
    LimiterError, OnUnavailable, Quota, RateBucket, RateLimiter, RateLimits, RedisConnectError,
    RedisConnectErrorKind, RedisRateLimiter, SharedLimits,
};
use luxcore_ext::retry::RetryPolicy;
use luxcore_ext::{Currency, PaymentMethod};
use tokio::sync::Mutex;

const KEY: &str = "qp_test_sk_redislimitersecret";

/// The test Redis. Missing is a failure, not a skip: the `redis` feature is on.
fn redis_url() -> String {
    std::env::var("LUXCORE_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "LUXCORE_TEST_REDIS_URL is not set: the `redis` feature's tests need a redis-server \
             (run `cargo xtask test`, which starts one)"
        )
    })
}

/// A key prefix no other test run shares.
fn unique_prefix(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("luxcore-test:{tag}:{}:{nanos}", std::process::id())
}

/// A port nothing listens on.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("redis://127.0.0.1:{port}")
}

fn limits(requests: u32, period: Duration) -> RateLimits {
    RateLimits::unlimited().with_quota(RateBucket::Standard, Quota::new(requests, period).unwrap())
}

fn key() -> ApiKey {
    ApiKey::new(KEY).unwrap()
}

/// `limiter.acquire(Standard)`, or `Err(Elapsed)` if it has not answered within `limit`.
async fn acquire_within(
    limiter: &RedisRateLimiter,
    limit: Duration,
) -> Result<Result<(), LimiterError>, tokio::time::error::Elapsed> {
    tokio::time::timeout(limit, limiter.acquire(RateBucket::Standard)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_more_than_the_quota_in_any_window_across_instances() {
    const QUOTA: usize = 20;
    const PERIOD: Duration = Duration::from_secs(1);
    const PERMITS: usize = 70;
    let prefix = unique_prefix("window");
    // Three instances = three processes sharing one key.
    let limiters: Vec<Arc<RedisRateLimiter>> = (0..3)
        .map(|_| {
            let shared = SharedLimits::new(redis_url(), limits(QUOTA as u32, PERIOD))
                .key_prefix(&prefix)
                .on_unavailable(OnUnavailable::FailClosed);
            Arc::new(RedisRateLimiter::new(shared, &key()).unwrap())
        })
        .collect();
    let granted = Arc::new(Mutex::new(Vec::with_capacity(PERMITS)));
    let mut tasks = Vec::new();
    for task in 0..PERMITS {
        let limiter = limiters[task % limiters.len()].clone();
        let granted = granted.clone();
        tasks.push(tokio::spawn(async move {
            limiter.acquire(RateBucket::Standard).await.unwrap();
            granted.lock().await.push(Instant::now());
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut times = granted.lock().await.clone();
    times.sort();
    assert_eq!(times.len(), PERMITS);
    // Every window of length PERIOD (starting at any grant) holds at most QUOTA grants.
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < PERIOD)
            .count();
        assert!(
            in_window <= QUOTA,
            "{in_window} grants within {PERIOD:?} from grant {i}"
        );
    }
    // And the quota is used: sustained rate at least 85 % of 20/s.
    let span = times[PERMITS - 1].duration_since(times[0]).as_secs_f64();
    let rate = (PERMITS - 1) as f64 / span;
    assert!(
        rate >= 0.85 * QUOTA as f64,
        "{rate:.1}/s over {span:.2} s is below 85 % of the quota"
    );

    // Redis holds the hashed namespace only, never the key.
    let client = redis::Client::open(redis_url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(keys, limiters[0].redis_keys(RateBucket::Standard));
    assert!(keys.iter().all(|k| !k.contains(KEY) && !k.contains("qp_")));
}

#[tokio::test]
async fn all_quotas_of_a_bucket_must_allow() {
    // 4 per 1 s and 6 per 3 s on creation: burst 1 each, so the second permit waits for the
    // slower quota (3.06 s / 5 = 612 ms), not the faster one (1.02 s / 3 = 340 ms).
    let limits = RateLimits::unlimited()
        .with_quota(
            RateBucket::Create,
            Quota::new(4, Duration::from_secs(1)).unwrap(),
        )
        .with_quota(
            RateBucket::Create,
            Quota::new(6, Duration::from_secs(3)).unwrap(),
        );
    let shared = SharedLimits::new(redis_url(), limits)
        .key_prefix(unique_prefix("multi"))
        .on_unavailable(OnUnavailable::FailClosed);
    let limiter = RedisRateLimiter::new(shared, &key()).unwrap();
    let started = Instant::now();
    limiter.acquire(RateBucket::Create).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
    limiter.acquire(RateBucket::Create).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(600) && waited < Duration::from_millis(1500),
        "second permit after {waited:?}"
    );
    // The standard bucket has no quota: never waits.
    let started = Instant::now();
    for _ in 0..50 {
        limiter.acquire(RateBucket::Standard).await.unwrap();
    }
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn fail_closed_when_redis_is_down() {
    let shared = SharedLimits::new(closed_port_url(), limits(100, Duration::from_secs(1)))
        .on_unavailable(OnUnavailable::FailClosed)
        .timeout(Duration::from_millis(300));
    let limiter = RedisRateLimiter::new(shared.clone(), &key()).unwrap();
    let started = Instant::now();
    let err = limiter.acquire(RateBucket::Standard).await.unwrap_err();
    assert!(matches!(err, LimiterError::Unavailable(_)), "{err:?}");
    // The cause is kept: the source is the typed connection error, and Redis's own
    // connection error the source of that.
    let source = std::error::Error::source(&err).expect("the connection error as source");
    let connect = source
        .downcast_ref::<RedisConnectError>()
        .unwrap_or_else(|| panic!("{source:?}"));
    assert_eq!(connect.kind(), RedisConnectErrorKind::Unreachable);
    let inner = std::error::Error::source(connect).expect("the Redis error");
    assert!(
        inner.downcast_ref::<redis::RedisError>().is_some(),
        "{inner:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(!err.to_string().contains(KEY));
    // Within the recheck period the answer is immediate.
    let started = Instant::now();
    assert!(limiter.acquire(RateBucket::Standard).await.is_err());
    assert!(started.elapsed() < Duration::from_millis(100));

    // Through the client: a typed error, and nothing is sent (the base URL is closed too,
    // so a sent request would be a transport error instead).
    let shared = SharedLimits::new(closed_port_url(), RateLimits::documented())
        .on_unavailable(OnUnavailable::FailClosed)
        .timeout(Duration::from_millis(300));
    let client = LuxCore::builder()
        .base_url(closed_port_url().replace("redis://", "http://"))
        .api_key(KEY)
        .retry_policy(RetryPolicy::none())
        .shared_rate_limits(shared)
        .build()
        .unwrap();
    let request = PaymentRequest::deposit(
        Money::new(1_000, Currency::MXN),
        PaymentMethod::Spei,
        "fail-closed-1",
    )
    .build()
    .unwrap();
    match client.payments().create(request).await {
        Err(err @ Error::RateLimiter(LimiterError::Unavailable(_))) => {
            // Error -> LimiterError -> RedisConnectError -> redis::RedisError.
            let limiter = std::error::Error::source(&err).expect("the limiter error");
            assert!(limiter.source().is_some(), "{err:?}");
        }
        other => panic!("expected a rate limiter error, got {other:?}"),
    }
}

#[tokio::test]
async fn fail_open_falls_back_to_the_local_limiter() {
    // 2 per hour: the local fallback lets the first request through at once (half the
    // quota as burst) and holds the second.
    let shared = SharedLimits::new(closed_port_url(), limits(2, Duration::from_secs(3600)))
        .on_unavailable(OnUnavailable::FailOpen)
        .timeout(Duration::from_millis(300));
    let limiter = RedisRateLimiter::new(shared, &key()).unwrap();
    let first = acquire_within(&limiter, Duration::from_secs(3)).await;
    assert!(
        matches!(first, Ok(Ok(()))),
        "fail open must answer: {first:?}"
    );
    let second = acquire_within(&limiter, Duration::from_secs(1)).await;
    assert!(
        second.is_err(),
        "the local quota must hold the second request"
    );
}

#[tokio::test]
async fn fail_open_goes_back_to_redis_once_it_answers_again() {
    // Redis behind a proxy that can be cut. While it is cut, the limiter answers from the
    // local fallback and writes nothing to Redis; once Redis answers again (and the recheck
    // period has passed), the shared quota is used again: its keys appear in Redis.
    let (proxy, proxied) = cut_proxy::Proxy::in_front_of(&redis_url()).await;
    let prefix = unique_prefix("switch-back");
    // 100 per hour: the keys live long enough to be seen, and the local fallback (half the
    // quota as burst) lets the few requests of the test through at once.
    let shared = SharedLimits::new(proxied, limits(100, Duration::from_secs(3600)))
        .key_prefix(&prefix)
        .on_unavailable(OnUnavailable::FailOpen)
        .timeout(Duration::from_millis(200))
        .recheck_after(Duration::from_millis(300));
    let limiter = RedisRateLimiter::new(shared, &key()).unwrap();
    let client = redis::Client::open(redis_url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys_in_redis = async || -> Vec<String> {
        redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut con)
            .await
            .unwrap()
    };

    limiter.acquire(RateBucket::Standard).await.unwrap();
    assert_eq!(
        keys_in_redis().await,
        limiter.redis_keys(RateBucket::Standard)
    );
    redis::cmd("DEL")
        .arg(limiter.redis_keys(RateBucket::Standard))
        .query_async::<()>(&mut client.get_multiplexed_async_connection().await.unwrap())
        .await
        .unwrap();

    proxy.cut();
    for _ in 0..5 {
        let answer = acquire_within(&limiter, Duration::from_secs(2)).await;
        assert!(
            matches!(answer, Ok(Ok(()))),
            "fail open answers: {answer:?}"
        );
    }
    assert!(keys_in_redis().await.is_empty(), "nothing shared while cut");

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        limiter.acquire(RateBucket::Standard).await.unwrap();
        if keys_in_redis().await == limiter.redis_keys(RateBucket::Standard) {
            break; // back on the shared quota
        }
        assert!(
            Instant::now() < deadline,
            "the limiter never went back to Redis after it answered again"
        );
    }
}

/// The builder has one rate limiter: the last of `rate_limits` / `shared_rate_limits` wins
/// (before 0.2, two of them made `build()` fail).
#[tokio::test]
async fn the_last_limiter_setter_wins() {
    // A shared limiter on a closed port that fails closed refuses every permit; a sent
    // request fails to connect (the base URL is closed too).
    let shared = || {
        SharedLimits::new(closed_port_url(), RateLimits::documented())
            .on_unavailable(OnUnavailable::FailClosed)
            .timeout(Duration::from_millis(200))
    };
    let base = closed_port_url().replace("redis://", "http://");
    let shared_last = LuxCore::builder()
        .base_url(&base)
        .api_key(KEY)
        .retry_policy(RetryPolicy::none())
        .rate_limits(RateLimits::documented())
        .shared_rate_limits(shared())
        .build()
        .unwrap();
    let err = shared_last.payments().get("pay_1").await.unwrap_err();
    assert!(matches!(err, Error::RateLimiter(_)), "{err:?}");

    let local_last = LuxCore::builder()
        .base_url(&base)
        .api_key(KEY)
        .retry_policy(RetryPolicy::none())
        .shared_rate_limits(shared())
        .rate_limits(RateLimits::documented())
        .build()
        .unwrap();
    let err = local_last.payments().get("pay_1").await.unwrap_err();
    assert!(
        err.is_connect(),
        "the local limiter let it through: {err:?}"
    );
}
