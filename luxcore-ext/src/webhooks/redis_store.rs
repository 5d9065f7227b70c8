//! [`RedisStore`]: a [`WebhookStore`] shared by every instance through one Redis
//! (`redis` feature).
//!
//! Per key two Redis keys, in one cluster hash slot: `<prefix>{<key>}:applied` (the
//! applied version; payment keys never expire, event and body keys after the retention)
//! and `<prefix>{<key>}:claim` (the claim token, `PX` = the lease, so Redis's clock runs
//! the lease out). Each operation is one Lua script, so it is atomic; every script's keys
//! share the `{<key>}` hash tag, so a Redis Cluster (`redis-cluster` feature) runs each
//! one on a single node. TLS (`rediss://`) with the `redis-tls` feature.
//!
//! Run Redis with persistence (`appendonly yes`): a Redis that restarts empty forgets
//! what was applied, and redeliveries after that would run handlers again.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;

use super::store::{Begin, Cause, ClaimToken, DedupKey, StoreError, WebhookStore};
use crate::base::redis_connection::{
    InvokeError, RedisConnectError, RedisConnection, RedisEndpoint, Timeouts, describe,
};

const BEGIN: &str = r"
local applied = redis.call('GET', KEYS[1])
if applied and tonumber(applied) >= tonumber(ARGV[1]) then return 0 end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
return 2
";

const COMMIT: &str = r"
local applied = redis.call('GET', KEYS[1])
if (not applied) or tonumber(applied) < tonumber(ARGV[1]) then
  if ARGV[3] == '0' then
    redis.call('SET', KEYS[1], ARGV[1])
  else
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  end
end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
";

/// Default key prefix.
pub const DEFAULT_PREFIX: &str = "luxcore:webhooks:";
/// Default retention of event-id and body-hash keys (payment keys are kept for good).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// A [`WebhookStore`] in Redis: one server, plain or TLS, or a Redis Cluster. Cheap to
/// clone (one multiplexed, self-reconnecting connection, or one per cluster node). Every
/// call is bounded by a timeout (default 2 s) so an unreachable Redis answers
/// [`StoreError::Unavailable`] quickly.
#[derive(Clone)]
pub struct RedisStore {
    conn: RedisConnection,
    prefix: String,
    retention: Duration,
    timeout: Duration,
    scripts: std::sync::Arc<[Script; 3]>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection (and its URL, which may hold a password) is not shown.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("retention", &self.retention)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn unavailable(error: impl fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("redis: {error}").into())
}

/// The store error for a failed connection: [`RedisConnectError`] is its `source()` (and
/// the `redis` crate's error, where there is one, the source of that).
fn not_connected(error: RedisConnectError) -> StoreError {
    StoreError::Unavailable(Cause::with_source(format!("redis: {error}"), error))
}

impl RedisStore {
    /// Connects to `url`: `redis://[[user]:password@]host:port[/db]`, or `rediss://...`
    /// for TLS (`redis-tls` feature; the platform's root certificates). For a private CA,
    /// a client certificate or a cluster, see [`Self::connect_to`].
    ///
    /// Fails with [`StoreError::Unavailable`] whose `source()` is a
    /// [`RedisConnectError`] telling what went wrong (bad URL, TLS handshake refused,
    /// plaintext to a TLS-only port, unreachable, ...). The URL is never in the error.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_to(&RedisEndpoint::new(url)).await
    }

    /// Connects to a Redis Cluster through `nodes` (`redis://host:port`, or `rediss://`
    /// with `redis-tls`): [`RedisEndpoint::cluster`].
    #[cfg(feature = "redis-cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis-cluster")))]
    pub async fn connect_cluster<I, S>(nodes: I) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::connect_to(&RedisEndpoint::cluster(nodes)).await
    }

    /// Connects to `endpoint`: one server or a cluster, plain or TLS with a private CA
    /// and a client certificate.
    pub async fn connect_to(endpoint: &RedisEndpoint) -> Result<Self, StoreError> {
        let timeouts = Timeouts {
            connect: DEFAULT_TIMEOUT,
            response: DEFAULT_TIMEOUT,
        };
        let conn = endpoint
            .client()
            .map_err(not_connected)?
            .connect(timeouts)
            .await
            .map_err(not_connected)?;
        Ok(Self::with_connection(conn))
    }

    /// A store over an existing connection manager (one server).
    pub fn new(conn: ConnectionManager) -> Self {
        Self::with_connection(RedisConnection::Single(conn))
    }

    fn with_connection(conn: RedisConnection) -> Self {
        Self {
            conn,
            prefix: DEFAULT_PREFIX.to_owned(),
            retention: DEFAULT_RETENTION,
            timeout: DEFAULT_TIMEOUT,
            scripts: std::sync::Arc::new([
                Script::new(BEGIN),
                Script::new(COMMIT),
                Script::new(RELEASE),
            ]),
        }
    }

    /// Prefix of every Redis key (default `luxcore:webhooks:`); one per endpoint or
    /// environment sharing a Redis. Keep `{` and `}` out of it: they would change the
    /// keys' cluster hash tag (on a cluster, such calls fail with
    /// [`StoreError::Unexpected`] before anything is sent).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long event-id and body-hash keys are kept (default 30 days; LuxCore's
    /// redeliveries stop long before). Payment keys are kept for good.
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Time limit of each call (default 2 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn keys(&self, key: &DedupKey) -> (String, String) {
        keys(&self.prefix, key)
    }

    async fn run(&self, script: usize, keys: &[&str], args: &[String]) -> Result<i64, StoreError> {
        let call = self.conn.invoke(&self.scripts[script], keys, args);
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(unavailable("timed out")),
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(InvokeError::Redis(error))) => Err(StoreError::Unavailable(Cause::with_source(
                format!("redis: {}", describe(&error)),
                error,
            ))),
            Ok(Err(InvokeError::CrossSlot(message))) => {
                Err(StoreError::Unexpected(format!("redis: {message}").into()))
            }
        }
    }
}

/// The `applied` and `claim` keys of `key`: one `{<key>}` hash tag, so one cluster slot.
fn keys(prefix: &str, key: &DedupKey) -> (String, String) {
    let base = format!("{prefix}{{{}}}", key.storage_key());
    (format!("{base}:applied"), format!("{base}:claim"))
}

fn millis(duration: Duration) -> String {
    duration
        .as_millis()
        .clamp(1, u128::from(u64::MAX))
        .to_string()
}

impl WebhookStore for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn begin(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        lease: Duration,
    ) -> impl Future<Output = Result<Begin, StoreError>> + Send {
        let (applied, claim) = self.keys(key);
        let args = [
            key.version().to_string(),
            token.as_str().to_owned(),
            millis(lease),
        ];
        async move {
            match self.run(0, &[&applied, &claim], &args).await? {
                0 => Ok(Begin::Done),
                1 => Ok(Begin::Claimed),
                2 => Ok(Begin::Busy),
                other => Err(StoreError::Unexpected(
                    format!("redis begin answered {other}").into(),
                )),
            }
        }
    }

    fn commit(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let (applied, claim) = self.keys(key);
        let retention = if key.is_payment() {
            "0".to_owned()
        } else {
            millis(self.retention)
        };
        let args = [
            key.version().to_string(),
            token.as_str().to_owned(),
            retention,
        ];
        async move { self.run(1, &[&applied, &claim], &args).await.map(drop) }
    }

    fn release(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let (_, claim) = self.keys(key);
        let args = [token.as_str().to_owned()];
        async move { self.run(2, &[&claim], &args).await.map(drop) }
    }
}

#[cfg(all(test, feature = "redis-cluster"))]
mod tests {
    use super::*;
    use redis::cluster_routing::Slot;

    /// BEGIN and COMMIT take both keys, RELEASE the claim key: one slot per delivery key,
    /// and different delivery keys spread over the slots.
    #[test]
    fn the_keys_of_one_script_share_a_hash_slot() {
        let delivery_keys = [
            DedupKey::Payment {
                payment_id: "pay_1".into(),
                status_version: 3,
            },
            DedupKey::Event { id: "evt_9".into() },
            DedupKey::Body {
                sha256: "ab".repeat(32),
            },
        ];
        let mut slots = std::collections::HashSet::new();
        for prefix in [DEFAULT_PREFIX, "", "shop-7:", "a:b}", "x{"] {
            for key in &delivery_keys {
                let (applied, claim) = keys(prefix, key);
                assert_eq!(
                    Slot::for_key(&applied),
                    Slot::for_key(&claim),
                    "{applied} / {claim}"
                );
                slots.insert(Slot::for_key(&applied));
            }
        }
        assert!(slots.len() > 3, "{slots:?}");
    }
}
