//! Rate limits per API key / v2 merchant, with headers and 429s.

mod common;

use std::time::Duration;

use common::{deposit_body, start, unix_now};
use luxcore_mock::{MockConfig, READONLY_API_KEY, RateLimitConfig};
use reqwest::{Method, StatusCode};

fn small() -> MockConfig {
    MockConfig::default().with_rate_limits(RateLimitConfig {
        creation_limit: 4,
        creation_window: Duration::from_secs(60),
        creation_burst_limit: 2,
        creation_burst_window: Duration::from_secs(10),
        standard_limit: 3,
        standard_window: Duration::from_secs(60),
    })
}

fn header(reply: &common::Reply, name: &str) -> i64 {
    reply.headers[name]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("integer")
}

#[tokio::test]
async fn standard_limit_with_headers() {
    let h = start(small()).await;
    let now = unix_now();
    for remaining in [2, 1, 0] {
        let r = h.get("/api/v1/payments").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(header(&r, "x-ratelimit-limit"), 3);
        assert_eq!(header(&r, "x-ratelimit-remaining"), remaining);
        let reset = header(&r, "x-ratelimit-reset");
        assert!((now..=now + 61).contains(&reset), "{reset}");
    }
    let limited = h.get("/api/v1/balance").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "RATE_LIMIT_EXCEEDED");
    assert_eq!(header(&limited, "x-ratelimit-remaining"), 0);
    let retry_after = header(&limited, "retry-after");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Another key has its own counters.
    let other = h
        .call_as(Some(READONLY_API_KEY), Method::GET, "/api/v1/balance", None)
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(header(&other, "x-ratelimit-remaining"), 2);
    // Payment creation has its own bucket (burst 2).
    for i in 0..2 {
        let r = h.create(deposit_body(1000, &format!("rl_{i}"))).await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(header(&r, "x-ratelimit-limit"), 2);
    }
    let burst = h.create(deposit_body(1000, "rl_x")).await;
    assert_eq!(burst.status, StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=10).contains(&header(&burst, "retry-after")));
    assert_eq!(
        h.server.payments_by_reference("rl_x").await.expect("count"),
        0
    );
    // Controls are never limited.
    assert_eq!(
        h.http
            .get(h.url("/_mock/health"))
            .send()
            .await
            .expect("sent")
            .status(),
        StatusCode::OK
    );
    // Reset clears the counters.
    h.server.reset().await.expect("reset");
    assert_eq!(h.get("/api/v1/payments").await.status, StatusCode::OK);
}

#[tokio::test]
async fn windows_roll_over() {
    let h = start(MockConfig::default().with_rate_limits(RateLimitConfig {
        standard_limit: 1,
        standard_window: Duration::from_secs(1),
        ..RateLimitConfig::default()
    }))
    .await;
    assert_eq!(h.get("/api/v1/payments").await.status, StatusCode::OK);
    assert_eq!(
        h.get("/api/v1/payments").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(h.get("/api/v1/payments").await.status, StatusCode::OK);
}

#[tokio::test]
async fn v2_is_limited_per_merchant_and_off_switch_works() {
    let h = start(small()).await;
    for _ in 0..3 {
        assert_eq!(
            h.v2(Method::GET, "/api/v2/balance", b"").await.status,
            StatusCode::OK
        );
    }
    let r = h.v2(Method::GET, "/api/v2/balance", b"").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));

    let off = start(MockConfig::default().without_rate_limits()).await;
    for _ in 0..150 {
        let r = off.get("/api/v1/balance").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.headers.contains_key("x-ratelimit-limit"));
    }
    // Documented defaults: 100 per minute for standard endpoints.
    let default = start(MockConfig::default()).await;
    let r = default.get("/api/v1/balance").await;
    assert_eq!(header(&r, "x-ratelimit-limit"), 100);
    assert_eq!(header(&r, "x-ratelimit-remaining"), 99);
}
