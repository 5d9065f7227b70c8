//! The client-side rate limiter keeps a bulk job under the server's limits: against
//! luxcore-mock's fixed windows, a burst of creations through the limiter gets no 429, while
//! the same burst without it does.

use luxcore_ext::Money;
use std::time::Duration;

use futures::{StreamExt, stream};
use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::rate_limit::{Quota, RateBucket, RateLimits};
use luxcore_ext::retry::RetryPolicy;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer, RateLimitConfig};

/// Server: 20 creations per 1 s window (fixed windows), generous everything else.
fn server_limits() -> RateLimitConfig {
    RateLimitConfig {
        creation_limit: 10_000,
        creation_window: Duration::from_secs(60),
        creation_burst_limit: 20,
        creation_burst_window: Duration::from_secs(1),
        standard_limit: 10_000,
        standard_window: Duration::from_secs(60),
    }
}

/// Fires `count` creations, 16 at a time; returns (ok, rate limited, other errors).
async fn burst(client: &LuxCore, tag: &str, count: usize) -> (usize, usize, usize) {
    let results: Vec<_> = stream::iter(0..count)
        .map(|i| async move {
            let request = PaymentRequest::deposit(
                Money::new(1_000, Currency::MXN),
                PaymentMethod::Spei,
                format!("{tag}-{i}"),
            )
            .build()
            .expect("valid request");
            client.payments().create(request).await
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let limited = results
        .iter()
        .filter(|r| {
            matches!(r, Err(Error::RateLimited { .. }))
                || matches!(r, Err(e) if e.status() == Some(429))
        })
        .count();
    (ok, limited, count - ok - limited)
}

#[tokio::test]
async fn a_limited_client_gets_no_429_where_an_unlimited_one_does() {
    let mock = MockServer::start(MockConfig::default().with_rate_limits(server_limits()))
        .await
        .expect("mock");

    let unlimited = LuxCore::builder()
        .base_url(mock.base_url())
        .api_key(DEFAULT_API_KEY)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let (ok, limited, other) = burst(&unlimited, "unlimited", 40).await;
    assert_eq!(other, 0);
    assert!(
        limited > 0,
        "without the limiter the server must reject part of the burst ({ok} ok)"
    );

    // Let the server's window roll over, then the same burst through the limiter.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let quota = Quota::new(20, Duration::from_secs(1)).expect("quota");
    let limited_client = LuxCore::builder()
        .base_url(mock.base_url())
        .api_key(DEFAULT_API_KEY)
        .retry_policy(RetryPolicy::none())
        .rate_limits(RateLimits::unlimited().with_quota(RateBucket::Create, quota))
        .build()
        .expect("client");
    let (ok, limited, other) = burst(&limited_client, "limited", 40).await;
    assert_eq!(
        (ok, limited, other),
        (40, 0, 0),
        "the limiter must keep every window within 20 creations"
    );
}
