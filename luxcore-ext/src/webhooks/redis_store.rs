//! [`RedisStore`]: a [`WebhookStore`] shared by every instance through one Redis
//! (`redis` feature).
//!
//! Per key two Redis keys, in one cluster hash slot: `<prefix>{<key>}:applied` (the
//! applied version; payment keys never expire, event and body keys after the retention)
//! and `<prefix>{<key>}:claim` (the claim token, `PX` = the lease, so Redis's clock runs
//! the lease out). Each operation is one Lua script, so it is atomic.
//!
//! Run Redis with persistence (`appendonly yes`): a Redis that restarts empty forgets
//! what was applied, and redeliveries after that would run handlers again.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script};

use super::store::{Begin, Cause, ClaimToken, DedupKey, StoreError, WebhookStore};

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

/// A [`WebhookStore`] in Redis. Cheap to clone (one multiplexed, self-reconnecting
/// connection). Every call is bounded by a timeout (default 2 s) so an unreachable
/// Redis answers [`StoreError::Unavailable`] quickly.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
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

/// The store error for a Redis command or connection error, which is kept as its
/// `source()` (its text is [`describe`]d: category and detail).
fn unavailable_from(error: RedisError) -> StoreError {
    StoreError::Unavailable(Cause::with_source(
        format!("redis: {}", describe(&error)),
        error,
    ))
}

impl RedisStore {
    /// Connects to `url` (`redis://[:password@]host:port[/db]`; `rediss://` is not
    /// compiled in).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| unavailable(describe(&e)))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(DEFAULT_TIMEOUT))
            .set_response_timeout(Some(DEFAULT_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = tokio::time::timeout(
            DEFAULT_TIMEOUT * 2,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| unavailable("connect timed out"))?
        .map_err(unavailable_from)?;
        Ok(Self::new(conn))
    }

    /// A store over an existing connection manager.
    pub fn new(conn: ConnectionManager) -> Self {
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
    /// environment sharing a Redis.
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
        let base = format!("{}{{{}}}", self.prefix, key.storage_key());
        (format!("{base}:applied"), format!("{base}:claim"))
    }

    async fn run(&self, script: usize, keys: &[&str], args: &[String]) -> Result<i64, StoreError> {
        let mut invocation = self.scripts[script].prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(arg.as_str());
        }
        let mut conn = self.conn.clone();
        tokio::time::timeout(self.timeout, invocation.invoke_async::<i64>(&mut conn))
            .await
            .map_err(|_| unavailable("timed out"))?
            .map_err(unavailable_from)
    }
}

/// A Redis error as text without anything from the connection URL.
fn describe(error: &RedisError) -> String {
    match error.detail() {
        Some(detail) => format!("{} ({detail})", error.category()),
        None => error.category().to_owned(),
    }
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
