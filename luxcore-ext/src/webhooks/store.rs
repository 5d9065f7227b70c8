//! Where [`WebhookProcessor`](super::WebhookProcessor) keeps what it has processed: the
//! [`WebhookStore`] trait (its docs describe the model) and the in-memory [`MemoryStore`].

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub use crate::base::error::Cause;

/// What a delivery is de-duplicated by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DedupKey {
    /// A payment event with a usable `status_version` (1 ..= 2^53): one key per payment,
    /// ordered by version.
    Payment {
        /// The payment id (`id`, else `transaction_id`).
        payment_id: String,
        /// The payment's `status_version`.
        status_version: i64,
    },
    /// Any other event with an envelope `id` (tickets, balance, `webhook.test`, payment
    /// events without a version).
    Event {
        /// The envelope `id` (`evt_…`).
        id: String,
    },
    /// A legacy payload without an `id`: lowercase hex SHA-256 of the **raw body bytes**
    /// (LuxCore redelivers the same bytes; the signature headers are not part of it).
    Body {
        /// Hex SHA-256 of the raw body.
        sha256: String,
    },
}

impl DedupKey {
    /// The version stored for keys that are not payment versions: "processed".
    pub const UNVERSIONED: i64 = 0;
    /// The largest `status_version` ordered by payment (exact in every store, including
    /// Redis's Lua numbers); a larger one falls back to the event id.
    pub const MAX_VERSION: i64 = 1 << 53;

    /// The key under which the store keeps this delivery: `payment:<id>`, `event:<id>` or
    /// `body:<sha256>`.
    pub fn storage_key(&self) -> String {
        match self {
            Self::Payment { payment_id, .. } => format!("payment:{payment_id}"),
            Self::Event { id } => format!("event:{id}"),
            Self::Body { sha256 } => format!("body:{sha256}"),
        }
    }

    /// The version this delivery applies: the `status_version` for payments,
    /// [`UNVERSIONED`](Self::UNVERSIONED) otherwise.
    pub fn version(&self) -> i64 {
        match self {
            Self::Payment { status_version, .. } => *status_version,
            _ => Self::UNVERSIONED,
        }
    }

    /// `true` for [`Payment`](Self::Payment) keys (kept for good; the others may expire
    /// after the store's retention).
    pub fn is_payment(&self) -> bool {
        matches!(self, Self::Payment { .. })
    }
}

impl fmt::Display for DedupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Payment {
                payment_id,
                status_version,
            } => write!(f, "payment:{payment_id}@v{status_version}"),
            other => f.write_str(&other.storage_key()),
        }
    }
}

/// The random token of one claim (128 bits, hex).
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimToken(String);

impl ClaimToken {
    /// A fresh random token.
    pub fn random() -> Self {
        Self(hex::encode(rand::random::<[u8; 16]>()))
    }

    /// The token as text (what the store keeps).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not a secret, but of no use in logs; the prefix identifies it.
        write!(f, "ClaimToken({}…)", &self.0[..8.min(self.0.len())])
    }
}

/// The answer of [`WebhookStore::begin`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Begin {
    /// The key is claimed with the caller's token until the lease runs out: run the
    /// handler.
    Claimed,
    /// Already applied (a duplicate, or a payment version not above the last applied).
    Done,
    /// Another delivery holds a live claim on the key: answer a retryable status.
    Busy,
}

/// A store could not be reached or answered nonsense. The receiver answers 503 so that
/// LuxCore redelivers; nothing was recorded by the failed call.
/// [`source`](std::error::Error::source) leads to the store's own error
/// (`tokio_postgres::Error`, `redis::RedisError`, the pool's error) when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// Connection refused, reset, timed out, pool exhausted, server error.
    Unavailable(Cause),
    /// The store answered something the SDK did not expect (e.g. a wrong schema).
    Unexpected(Cause),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(cause) => write!(f, "webhook store unavailable: {cause}"),
            StoreError::Unexpected(cause) => {
                write!(f, "webhook store answered unexpectedly: {cause}")
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Unavailable(cause) | StoreError::Unexpected(cause) => cause.source(),
        }
    }
}

/// Storage for [`WebhookProcessor`](super::WebhookProcessor): async, fallible and shared
/// by every instance that receives webhooks for one endpoint. Each method must be atomic
/// with respect to concurrent callers on any instance.
///
/// # The model
///
/// Every delivery maps to one [`DedupKey`]: a payment (with its `status_version`), an
/// event id, or a body hash. The store keeps, per key, the highest version **applied**
/// (unversioned keys use version [`DedupKey::UNVERSIONED`]) and at most one **claim**: a
/// random token with an expiry (a lease), measured by the store's own clock.
///
/// * [`begin`](WebhookStore::begin): atomically, if the key's applied version is at
///   least the delivery's → [`Begin::Done`]; else if another live claim holds the key →
///   [`Begin::Busy`]; else take the claim → [`Begin::Claimed`].
/// * [`commit`](WebhookStore::commit): after the handler succeeded, raise the applied
///   version to the delivery's (never lower it) and drop the claim if it is still ours.
/// * [`release`](WebhookStore::release): after the handler failed, drop the claim if it
///   is still ours; nothing is recorded.
///
/// Because a payment's claim is per **payment** (not per event), two versions of one
/// payment are never applied concurrently, so versions are applied in increasing order
/// even across instances.
pub trait WebhookStore: Send + Sync {
    /// Claims `key` for `lease` unless it is already applied at `key.version()` or
    /// another live claim holds it.
    fn begin(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        lease: Duration,
    ) -> impl Future<Output = Result<Begin, StoreError>> + Send;

    /// Records `key.version()` as applied (the applied version never goes down) and
    /// drops the claim if `token` still holds it.
    fn commit(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Drops the claim if `token` still holds it; records nothing.
    fn release(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A short, fixed name of the store's kind for metrics labels (`memory`, `redis`,
    /// `postgres`; `custom` unless overridden).
    fn kind(&self) -> &'static str {
        "custom"
    }
}

impl<S: WebhookStore + ?Sized> WebhookStore for Arc<S> {
    fn begin(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        lease: Duration,
    ) -> impl Future<Output = Result<Begin, StoreError>> + Send {
        (**self).begin(key, token, lease)
    }

    fn commit(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).commit(key, token)
    }

    fn release(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).release(key, token)
    }

    fn kind(&self) -> &'static str {
        (**self).kind()
    }
}

/// Claims between two automatic [`MemoryStore::purge_expired`] sweeps.
const SWEEP_EVERY: u64 = 1024;

#[derive(Debug, Default)]
struct Entry {
    applied: Option<i64>,
    claim: Option<(ClaimToken, Instant)>,
    /// When a recorded event-id or body-hash entry may be forgotten (`None` for payments).
    expires: Option<Instant>,
}

impl Entry {
    /// The applied version, unless its retention has passed.
    fn live_record(&self, now: Instant) -> Option<i64> {
        self.applied
            .filter(|_| self.expires.is_none_or(|at| at > now))
    }

    /// Another delivery holds an unexpired claim.
    fn claimed(&self, now: Instant) -> bool {
        self.claim.as_ref().is_some_and(|(_, until)| *until > now)
    }

    /// Holds nothing that is still needed: no live claim, and nothing recorded (a released
    /// claim) or a record past its retention.
    fn forgettable(&self, now: Instant) -> bool {
        !self.claimed(now) && self.live_record(now).is_none()
    }
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<String, Entry>,
    claims_since_sweep: u64,
}

/// An in-process [`WebhookStore`] (the default): correct for **one** process. Several
/// instances need a shared store (`RedisStore`, `PostgresStore`). As in those, payment
/// entries are kept for good and event-id and body-hash entries for the retention
/// ([`Self::DEFAULT_RETENTION`]); expired entries are swept every 1,024 claims, or by
/// [`purge_expired`](Self::purge_expired).
#[derive(Debug)]
pub struct MemoryStore {
    entries: Mutex<Entries>,
    retention: Duration,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            entries: Mutex::default(),
            retention: Self::DEFAULT_RETENTION,
        }
    }
}

impl MemoryStore {
    /// Default retention of event-id and body-hash entries (payment entries are kept for
    /// good), as in the shared stores: 30 days.
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long event-id and body-hash entries are kept (default
    /// [`Self::DEFAULT_RETENTION`]).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// The applied version recorded under `storage_key` (see [`DedupKey::storage_key`]).
    pub fn applied(&self, storage_key: &str) -> Option<i64> {
        self.lock().map.get(storage_key).and_then(|e| e.applied)
    }

    /// Number of keys tracked.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// `true` when no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.lock().map.is_empty()
    }

    /// Forgets the entries that hold nothing still needed (expired records, released
    /// claims); returns how many.
    pub fn purge_expired(&self) -> usize {
        let mut entries = self.lock();
        Self::sweep(&mut entries, Instant::now())
    }

    fn sweep(entries: &mut Entries, now: Instant) -> usize {
        let before = entries.map.len();
        entries.map.retain(|_, entry| !entry.forgettable(now));
        entries.claims_since_sweep = 0;
        before - entries.map.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Every critical section leaves the map consistent, so a poisoned lock is usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn begin_now(&self, key: &DedupKey, token: &ClaimToken, lease: Duration) -> Begin {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.claims_since_sweep += 1;
        if entries.claims_since_sweep >= SWEEP_EVERY {
            Self::sweep(&mut entries, now);
        }
        let entry = entries.map.entry(key.storage_key()).or_default();
        if entry.live_record(now).is_some_and(|a| a >= key.version()) {
            return Begin::Done;
        }
        if entry.claimed(now) {
            return Begin::Busy;
        }
        entry.claim = Some((token.clone(), now + lease));
        Begin::Claimed
    }

    fn finish(&self, key: &DedupKey, token: &ClaimToken, record: bool) {
        let mut entries = self.lock();
        let entry = entries.map.entry(key.storage_key()).or_default();
        if record {
            entry.applied = Some(
                entry
                    .applied
                    .map_or(key.version(), |a| a.max(key.version())),
            );
            if !key.is_payment() {
                entry.expires = Some(Instant::now() + self.retention);
            }
        }
        if entry.claim.as_ref().is_some_and(|(t, _)| t == token) {
            entry.claim = None;
        }
    }
}

impl WebhookStore for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn begin(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        Ok(self.begin_now(key, token, lease))
    }

    async fn commit(&self, key: &DedupKey, token: &ClaimToken) -> Result<(), StoreError> {
        self.finish(key, token, true);
        Ok(())
    }

    async fn release(&self, key: &DedupKey, token: &ClaimToken) -> Result<(), StoreError> {
        self.finish(key, token, false);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pay(v: i64) -> DedupKey {
        DedupKey::Payment {
            payment_id: "pay_1".into(),
            status_version: v,
        }
    }

    #[tokio::test]
    async fn event_entries_expire_after_the_retention_payments_stay() {
        let store = MemoryStore::new().retention(Duration::from_millis(30));
        let lease = Duration::from_secs(30);
        let event = DedupKey::Event { id: "evt_1".into() };
        let (a, b) = (ClaimToken::random(), ClaimToken::random());
        assert_eq!(store.begin(&event, &a, lease).await, Ok(Begin::Claimed));
        store.commit(&event, &a).await.unwrap();
        assert_eq!(store.begin(&pay(1), &a, lease).await, Ok(Begin::Claimed));
        store.commit(&pay(1), &a).await.unwrap();
        let released = DedupKey::Event { id: "evt_2".into() };
        assert_eq!(store.begin(&released, &a, lease).await, Ok(Begin::Claimed));
        store.release(&released, &a).await.unwrap();
        let claimed = DedupKey::Event { id: "evt_3".into() };
        assert_eq!(store.begin(&claimed, &a, lease).await, Ok(Begin::Claimed));
        // Within the retention: a duplicate; nothing to purge but the released claim.
        assert_eq!(store.begin(&event, &b, lease).await, Ok(Begin::Done));
        assert_eq!(store.purge_expired(), 1);
        assert_eq!(store.len(), 3);
        tokio::time::sleep(Duration::from_millis(60)).await;
        // Past it: the event is forgotten; the payment and the live claim stay.
        assert_eq!(store.purge_expired(), 1);
        assert_eq!(store.len(), 2);
        assert_eq!(store.applied("payment:pay_1"), Some(1));
        assert_eq!(store.begin(&pay(1), &b, lease).await, Ok(Begin::Done));
        assert_eq!(store.begin(&claimed, &b, lease).await, Ok(Begin::Busy));
        // An expired record is not a duplicate even before a sweep removes it.
        store.commit(&event, &b).await.ok();
        assert_eq!(store.begin(&event, &b, lease).await, Ok(Begin::Done));
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(store.begin(&event, &a, lease).await, Ok(Begin::Claimed));
    }

    #[tokio::test]
    async fn claims_sweep_expired_entries_by_themselves() {
        let store = MemoryStore::new().retention(Duration::from_millis(1));
        let lease = Duration::from_secs(30);
        let token = ClaimToken::random();
        for i in 0..100 {
            let key = DedupKey::Event {
                id: format!("evt_{i}"),
            };
            assert_eq!(store.begin(&key, &token, lease).await, Ok(Begin::Claimed));
            store.commit(&key, &token).await.unwrap();
        }
        assert_eq!(store.len(), 100);
        tokio::time::sleep(Duration::from_millis(10)).await;
        for _ in 0..SWEEP_EVERY {
            let _ = store.begin(&pay(1), &token, lease).await;
        }
        assert_eq!(store.len(), 1, "only the payment entry is left");
    }

    #[tokio::test]
    async fn claim_commit_release_and_lease() {
        let store = MemoryStore::new();
        let lease = Duration::from_secs(30);
        let (a, b) = (ClaimToken::random(), ClaimToken::random());
        assert_eq!(store.begin(&pay(2), &a, lease).await, Ok(Begin::Claimed));
        // The payment is claimed: any version of it waits.
        assert_eq!(store.begin(&pay(2), &b, lease).await, Ok(Begin::Busy));
        assert_eq!(store.begin(&pay(1), &b, lease).await, Ok(Begin::Busy));
        // A stranger's release does not drop our claim.
        store.release(&pay(2), &b).await.unwrap();
        assert_eq!(store.begin(&pay(3), &b, lease).await, Ok(Begin::Busy));
        store.commit(&pay(2), &a).await.unwrap();
        assert_eq!(store.applied("payment:pay_1"), Some(2));
        assert_eq!(store.begin(&pay(2), &b, lease).await, Ok(Begin::Done));
        assert_eq!(store.begin(&pay(1), &b, lease).await, Ok(Begin::Done));
        // Released without recording: the next delivery may claim it.
        assert_eq!(store.begin(&pay(3), &b, lease).await, Ok(Begin::Claimed));
        store.release(&pay(3), &b).await.unwrap();
        assert_eq!(store.applied("payment:pay_1"), Some(2));
        // An expired lease is taken over.
        let short = Duration::from_millis(20);
        assert!(matches!(
            store.begin(&pay(3), &a, short).await,
            Ok(Begin::Claimed)
        ));
        assert_eq!(store.begin(&pay(3), &b, lease).await, Ok(Begin::Busy));
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(matches!(
            store.begin(&pay(3), &b, lease).await,
            Ok(Begin::Claimed)
        ));
        // The late owner's commit still records (it did run) but never lowers a version.
        store.commit(&pay(3), &a).await.unwrap();
        store.commit(&pay(1), &a).await.unwrap();
        assert_eq!(store.applied("payment:pay_1"), Some(3));
        // b still holds its claim on the key.
        assert_eq!(store.begin(&pay(4), &a, lease).await, Ok(Begin::Busy));
    }

    #[test]
    fn storage_keys_and_debug() {
        assert_eq!(pay(3).storage_key(), "payment:pay_1");
        assert_eq!(pay(3).to_string(), "payment:pay_1@v3");
        assert_eq!(
            DedupKey::Event { id: "evt_1".into() }.storage_key(),
            "event:evt_1"
        );
        let token = ClaimToken::random();
        assert_eq!(token.as_str().len(), 32);
        assert!(!format!("{token:?}").contains(token.as_str()));
    }
}
