//! How the webhook store and the shared rate limiter reach Redis, against the real servers
//! of `cargo xtask test` (see `redis_support`):
//!
//! * TLS (`redis-tls`): `rediss://` with the run's private CA and a client certificate
//!   works for both; the server requires the certificate (without it: a typed TLS error);
//!   a plaintext client on the TLS port, and a server certificate from an unknown CA, are
//!   clear typed errors, quickly; the URL's password is never in an error.
//! * Redis Cluster (`redis-cluster`): the store and the limiter work on a 3-master
//!   cluster, their keys spread over the masters, and a key prefix that breaks the hash
//!   tag is refused before anything is sent; with both features, on a TLS-only cluster
//!   too (client certificate required).

// The helpers serve the `redis-tls` and `redis-cluster` modules.
#![cfg_attr(
    not(all(feature = "redis-tls", feature = "redis-cluster")),
    allow(dead_code, unused_imports)
)]

mod redis_support;
mod support;
mod test_ca;

use std::time::{Duration, Instant};

use luxcore_ext::credentials::ApiKey;
use luxcore_ext::rate_limit::{
    LimiterError, OnUnavailable, RateBucket, RateLimiter, RateLimits, RedisRateLimiter,
    SharedLimits,
};
use luxcore_ext::webhooks::{
    Begin, ClaimToken, DedupKey, RedisConnectError, RedisConnectErrorKind, RedisEndpoint,
    RedisStore, StoreError, WebhookStore,
};

const LEASE: Duration = Duration::from_secs(5);

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("luxcore-test:{tag}:{}:{nanos}:", std::process::id())
}

/// A delivery key, a claim, a commit, and the redelivery that finds it done.
async fn round_trip(store: &RedisStore, payment: &str) {
    let key = DedupKey::Payment {
        payment_id: payment.to_owned(),
        status_version: 2,
    };
    let token = ClaimToken::random();
    assert_eq!(
        store.begin(&key, &token, LEASE).await.unwrap(),
        Begin::Claimed
    );
    store.commit(&key, &token).await.unwrap();
    let again = ClaimToken::random();
    assert_eq!(store.begin(&key, &again, LEASE).await.unwrap(), Begin::Done);
}

/// One permit from a fail-closed shared limiter at `endpoint` (an error if Redis fails).
async fn one_permit(endpoint: RedisEndpoint, secret: &str) -> Result<(), LimiterError> {
    let shared = SharedLimits::with_endpoint(endpoint, RateLimits::documented())
        .key_prefix(unique("limits"))
        .timeout(Duration::from_secs(2))
        .on_unavailable(OnUnavailable::FailClosed);
    let limiter = RedisRateLimiter::new(shared, &ApiKey::new(secret).unwrap())?;
    limiter.acquire(RateBucket::Create).await
}

/// The [`RedisConnectError`] behind a store error.
fn connect_error(error: &StoreError) -> &RedisConnectError {
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    std::error::Error::source(error)
        .and_then(|s| s.downcast_ref::<RedisConnectError>())
        .unwrap_or_else(|| panic!("no RedisConnectError behind {error:?}"))
}

#[tokio::test]
async fn a_bad_url_is_a_config_error_for_the_store_and_the_limiter() {
    let error = RedisStore::connect("http://:hunter2@127.0.0.1:1")
        .await
        .unwrap_err();
    assert_eq!(connect_error(&error).kind(), RedisConnectErrorKind::Config);
    let shared = SharedLimits::new("http://:hunter2@127.0.0.1:1", RateLimits::documented());
    match RedisRateLimiter::new(shared, &ApiKey::new("qp_test_sk_x").unwrap()) {
        Err(LimiterError::Config(message)) => assert!(!message.contains("hunter2")),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[cfg(feature = "redis-tls")]
mod tls {
    use super::*;
    use crate::test_ca;
    use redis_support::{TLS_URL_ENV, required_env, tls_endpoint};

    /// The TLS URL with `scheme` and a password the server does not need.
    fn tls_url_with(scheme: &str) -> String {
        let url = required_env(TLS_URL_ENV);
        let rest = url.split_once("://").expect("a URL").1;
        format!("{scheme}://:hunter2@{rest}")
    }

    #[tokio::test]
    async fn private_ca_and_client_certificate_work_for_the_store_and_the_limiter() {
        let store = RedisStore::connect_to(&tls_endpoint())
            .await
            .expect("rediss:// with the private CA and the client certificate")
            .prefix(unique("tls"));
        round_trip(&store, "pay_tls_1").await;
        one_permit(tls_endpoint(), "qp_test_sk_tls_limiter")
            .await
            .expect("a permit over TLS");
    }

    #[tokio::test]
    async fn the_server_requires_the_client_certificate() {
        // Same CA, no client certificate: the server ends the handshake.
        let endpoint = RedisEndpoint::new(required_env(TLS_URL_ENV)).ca_pem(test_ca::ca());
        let started = Instant::now();
        let error = RedisStore::connect_to(&endpoint).await.unwrap_err();
        let cause = connect_error(&error);
        assert_eq!(cause.kind(), RedisConnectErrorKind::Tls, "{cause}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        match one_permit(endpoint, "qp_test_sk_tls_nocert").await {
            Err(LimiterError::Unavailable(cause)) => {
                let inner = cause
                    .source()
                    .and_then(|s| s.downcast_ref::<RedisConnectError>());
                assert_eq!(
                    inner.map(RedisConnectError::kind),
                    Some(RedisConnectErrorKind::Tls)
                );
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn plaintext_to_the_tls_port_is_a_clear_error_at_once() {
        let started = Instant::now();
        let error = RedisStore::connect(&tls_url_with("redis"))
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        let cause = connect_error(&error);
        assert_eq!(cause.kind(), RedisConnectErrorKind::NotTls, "{cause}");
        assert!(error.to_string().contains("rediss://"), "{error}");
        assert!(
            !format!("{error} {error:?}").contains("hunter2"),
            "{error:?}"
        );
        assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    }

    #[tokio::test]
    async fn a_server_certificate_from_an_unknown_ca_is_refused() {
        // The platform's roots do not hold the run's test CA.
        let started = Instant::now();
        let error = RedisStore::connect(&tls_url_with("rediss"))
            .await
            .unwrap_err();
        let cause = connect_error(&error);
        assert_eq!(cause.kind(), RedisConnectErrorKind::Tls, "{cause}");
        assert!(
            error.to_string().to_lowercase().contains("certificate"),
            "{error}"
        );
        assert!(
            !format!("{error} {error:?}").contains("hunter2"),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
        // The same through the limiter, failing closed.
        assert!(matches!(
            one_permit(
                RedisEndpoint::new(tls_url_with("rediss")),
                "qp_test_sk_unknown_ca"
            )
            .await,
            Err(LimiterError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn bad_pem_is_a_config_error() {
        let endpoint = RedisEndpoint::new(required_env(TLS_URL_ENV)).client_cert_pem(
            test_ca::client().0,
            b"-----BEGIN PRIVATE KEY-----\nnot base64 at all\n".to_vec(),
        );
        let error = RedisStore::connect_to(&endpoint).await.unwrap_err();
        assert_eq!(connect_error(&error).kind(), RedisConnectErrorKind::Config);
        assert!(error.to_string().contains("client key"), "{error}");
        assert!(matches!(
            RedisRateLimiter::new(
                SharedLimits::with_endpoint(endpoint, RateLimits::documented()),
                &ApiKey::new("qp_test_sk_x").unwrap()
            ),
            Err(LimiterError::Config(_))
        ));
    }
}

#[cfg(feature = "redis-cluster")]
mod cluster {
    use super::*;
    use redis_support::{cluster_endpoint, cluster_nodes};

    /// Keys per master, read from each node.
    async fn keys_per_master(prefix: &str) -> Vec<usize> {
        let mut counts = Vec::new();
        for node in cluster_nodes() {
            let client = redis::Client::open(node).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query_async(&mut conn)
                .await
                .unwrap();
            counts.push(keys.len());
        }
        counts
    }

    #[tokio::test]
    async fn the_store_works_on_a_cluster_with_keys_on_every_master() {
        let prefix = unique("cluster");
        let store = RedisStore::connect_cluster(cluster_nodes())
            .await
            .expect("the cluster")
            .prefix(prefix.clone());
        for i in 0..30 {
            round_trip(&store, &format!("pay_cluster_{i}")).await;
        }
        let counts = keys_per_master(&prefix).await;
        assert_eq!(counts.iter().sum::<usize>(), 30, "{counts:?}");
        assert!(
            counts.iter().all(|&n| n > 0),
            "keys on every master: {counts:?}"
        );
    }

    #[tokio::test]
    async fn the_limiter_works_on_a_cluster() {
        for i in 0..6 {
            one_permit(cluster_endpoint(), &format!("qp_test_sk_cluster_{i}"))
                .await
                .expect("a permit from the cluster");
        }
    }

    /// The TLS-only cluster (client certificates required, the cluster bus over TLS): the
    /// nodes it announces are followed over TLS, for the store and the limiter; without the
    /// client certificate the handshake fails with a TLS error.
    #[cfg(feature = "redis-tls")]
    #[tokio::test]
    async fn the_store_and_the_limiter_work_on_a_tls_cluster() {
        let endpoint = redis_support::tls_cluster_endpoint();
        assert!(endpoint.is_cluster() && endpoint.is_tls());
        let prefix = unique("tls-cluster");
        let store = RedisStore::connect_to(&endpoint)
            .await
            .expect("the TLS cluster")
            .prefix(prefix);
        // 30 keys land on all 3 masters (see the plaintext cluster's test): every node is
        // reached over TLS.
        for i in 0..30 {
            round_trip(&store, &format!("pay_tls_cluster_{i}")).await;
        }
        for i in 0..6 {
            one_permit(endpoint.clone(), &format!("qp_test_sk_tls_cluster_{i}"))
                .await
                .expect("a permit from the TLS cluster");
        }
        let nodes = std::env::var(redis_support::TLS_CLUSTER_NODES_ENV).unwrap();
        let without_cert = RedisEndpoint::cluster(nodes.split(',')).ca_pem(crate::test_ca::ca());
        let error = RedisStore::connect_to(&without_cert).await.unwrap_err();
        let cause = connect_error(&error);
        assert_eq!(cause.kind(), RedisConnectErrorKind::Tls, "{cause}");
    }

    #[tokio::test]
    async fn a_prefix_that_breaks_the_hash_tag_is_refused_before_sending() {
        // `{}` is an empty hash tag: Redis then hashes the whole key, so `applied` and
        // `claim` would land in different slots.
        let store = RedisStore::connect_cluster(cluster_nodes())
            .await
            .unwrap()
            .prefix("broken{}");
        let key = DedupKey::Event { id: "evt_1".into() };
        let error = store
            .begin(&key, &ClaimToken::random(), LEASE)
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Unexpected(_)), "{error:?}");
        assert!(error.to_string().contains("hash slot"), "{error}");
    }
}
