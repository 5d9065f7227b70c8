//! The test Redis deployments that `cargo xtask test` starts, as [`RedisEndpoint`]s: one
//! server in plaintext (`LUXCORE_TEST_REDIS_URL`), the same server's TLS port requiring a
//! client certificate (`LUXCORE_TEST_REDIS_TLS_URL`, the run's test CA and client
//! certificate in `LUXCORE_TEST_TLS_CA` / `_CLIENT_CERT` / `_CLIENT_KEY`), a 3-master
//! Redis Cluster (`LUXCORE_TEST_REDIS_CLUSTER_NODES`, comma-separated URLs) and a TLS-only
//! one (`LUXCORE_TEST_REDIS_TLS_CLUSTER_NODES`, `rediss://` URLs, client certificates
//! required). A test that
//! needs one fails, never skips, when its variable is unset.

#![allow(dead_code)]

use luxcore_ext::webhooks::RedisEndpoint;

// The run's test CA and client certificate: every file that declares `mod redis_support`
// declares `mod test_ca` beside it (and `mod support`).
use crate::test_ca;

pub const URL_ENV: &str = "LUXCORE_TEST_REDIS_URL";
pub const TLS_URL_ENV: &str = "LUXCORE_TEST_REDIS_TLS_URL";
pub const CLUSTER_NODES_ENV: &str = "LUXCORE_TEST_REDIS_CLUSTER_NODES";
pub const TLS_CLUSTER_NODES_ENV: &str = "LUXCORE_TEST_REDIS_TLS_CLUSTER_NODES";

// Every file that declares `mod redis_support` declares `mod support` beside it.
pub use crate::support::required_env;

/// One of the test deployments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// One redis-server, `redis://`.
    Plain,
    /// The same redis-server's TLS port (`rediss://`, client certificate required).
    Tls,
    /// A 3-master Redis Cluster.
    Cluster,
    /// A 3-master Redis Cluster that speaks TLS only (client certificate required).
    TlsCluster,
}

impl Deployment {
    /// Every deployment this build can reach (TLS with `redis-tls`, the cluster with
    /// `redis-cluster`, the TLS cluster with both).
    pub fn all() -> Vec<Deployment> {
        let mut all = vec![Deployment::Plain];
        if cfg!(feature = "redis-tls") {
            all.push(Deployment::Tls);
        }
        if cfg!(feature = "redis-cluster") {
            all.push(Deployment::Cluster);
        }
        if cfg!(all(feature = "redis-tls", feature = "redis-cluster")) {
            all.push(Deployment::TlsCluster);
        }
        all
    }

    /// By name (`plain`, `tls`, `cluster`, `tls-cluster`), for the worker processes.
    pub fn parse(name: &str) -> Option<Deployment> {
        match name {
            "plain" => Some(Deployment::Plain),
            "tls" => Some(Deployment::Tls),
            "cluster" => Some(Deployment::Cluster),
            "tls-cluster" => Some(Deployment::TlsCluster),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Deployment::Plain => "plain",
            Deployment::Tls => "tls",
            Deployment::Cluster => "cluster",
            Deployment::TlsCluster => "tls-cluster",
        }
    }

    /// The endpoint, from the variables.
    pub fn endpoint(self) -> RedisEndpoint {
        match self {
            Deployment::Plain => RedisEndpoint::new(required_env(URL_ENV)),
            Deployment::Tls => tls_endpoint(),
            Deployment::Cluster => cluster_endpoint(),
            Deployment::TlsCluster => tls_cluster_endpoint(),
        }
    }
}

/// The TLS port with the test CA and the client certificate.
pub fn tls_endpoint() -> RedisEndpoint {
    with_test_certificates(RedisEndpoint::new(required_env(TLS_URL_ENV)))
}

/// `endpoint` trusting the test CA and presenting the test client certificate.
pub fn with_test_certificates(endpoint: RedisEndpoint) -> RedisEndpoint {
    let (cert, key) = test_ca::client();
    endpoint.ca_pem(test_ca::ca()).client_cert_pem(cert, key)
}

/// The cluster's nodes.
pub fn cluster_nodes() -> Vec<String> {
    nodes(CLUSTER_NODES_ENV)
}

/// The comma-separated node URLs in the variable `name`.
fn nodes(name: &str) -> Vec<String> {
    required_env(name).split(',').map(str::to_owned).collect()
}

#[cfg(feature = "redis-cluster")]
pub fn cluster_endpoint() -> RedisEndpoint {
    RedisEndpoint::cluster(cluster_nodes())
}

/// The TLS-only cluster with the test CA and the client certificate.
#[cfg(feature = "redis-cluster")]
pub fn tls_cluster_endpoint() -> RedisEndpoint {
    with_test_certificates(RedisEndpoint::cluster(nodes(TLS_CLUSTER_NODES_ENV)))
}

#[cfg(not(feature = "redis-cluster"))]
pub fn cluster_endpoint() -> RedisEndpoint {
    unreachable!("the cluster deployments need the `redis-cluster` feature")
}

#[cfg(not(feature = "redis-cluster"))]
pub fn tls_cluster_endpoint() -> RedisEndpoint {
    cluster_endpoint()
}
