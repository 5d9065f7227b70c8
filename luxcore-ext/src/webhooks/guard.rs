//! [`StatusVersionGuard`]: drop out-of-order and duplicate payment events.
//!
//! Every payment carries a `status_version` that rises by one with each status change
//! (changelog 2026-03-10). The documented rule is to ignore an event whose
//! `status_version` is not greater than the last one processed for that payment; this
//! handles both out-of-order and repeated deliveries.
//!
//! **Decision for events without a version** (non-payment events, legacy payloads, or a
//! payment without `status_version`/id): they are **accepted**
//! ([`GuardDecision::Unversioned`]); make their handling idempotent yourself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::Event;

/// Storage of the last applied `status_version` per payment id.
///
/// Implementations must make [`check_and_set`](Self::check_and_set) atomic: with a
/// database, a single conditional write such as
/// `INSERT … ON CONFLICT (payment_id) DO UPDATE SET version = $2 WHERE stored.version < $2`
/// and "did a row change?". A store that cannot be reached should answer `false` only if
/// you prefer to drop events; the SDK cannot retry for you.
pub trait VersionStore: Send + Sync {
    /// If nothing is stored for `payment_id`, or the stored version is lower than
    /// `version`, stores `version` and returns `true`; otherwise returns `false` and
    /// changes nothing. Must be atomic with respect to concurrent calls.
    fn check_and_set(&self, payment_id: &str, version: i64) -> bool;
}

impl<S: VersionStore + ?Sized> VersionStore for Arc<S> {
    fn check_and_set(&self, payment_id: &str, version: i64) -> bool {
        (**self).check_and_set(payment_id, version)
    }
}

impl<S: VersionStore + ?Sized> VersionStore for &S {
    fn check_and_set(&self, payment_id: &str, version: i64) -> bool {
        (**self).check_and_set(payment_id, version)
    }
}

/// An in-process [`VersionStore`]: a `Mutex<HashMap>`. One entry per payment id, never
/// evicted; use a shared database-backed store when several processes receive webhooks.
#[derive(Debug, Default)]
pub struct InMemoryVersionStore {
    versions: Mutex<HashMap<String, i64>>,
}

impl InMemoryVersionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last stored version for `payment_id`.
    pub fn get(&self, payment_id: &str) -> Option<i64> {
        self.lock().get(payment_id).copied()
    }

    /// Number of payments tracked.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// `true` when no payment is tracked.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        // A panic while holding the lock cannot leave the map inconsistent (single
        // insert), so a poisoned lock is still usable.
        self.versions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl VersionStore for InMemoryVersionStore {
    fn check_and_set(&self, payment_id: &str, version: i64) -> bool {
        let mut versions = self.lock();
        match versions.get_mut(payment_id) {
            Some(stored) if *stored >= version => false,
            Some(stored) => {
                *stored = version;
                true
            }
            None => {
                versions.insert(payment_id.to_owned(), version);
                true
            }
        }
    }
}

/// What to do with an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuardDecision {
    /// A newer status of the payment: apply it (its version is now recorded).
    Apply,
    /// Not newer than the last applied version of this payment (duplicate or out of
    /// order): ignore it, but acknowledge the delivery with a 2xx.
    Stale,
    /// No payment id or `status_version` to compare: accepted by decision.
    Unversioned,
}

impl GuardDecision {
    /// `true` for [`Apply`](Self::Apply) and [`Unversioned`](Self::Unversioned).
    pub fn should_apply(&self) -> bool {
        !matches!(self, Self::Stale)
    }
}

/// Applies the `status_version` rule to incoming events.
///
/// ```
/// use luxcore_ext::webhooks::{Event, GuardDecision, StatusVersionGuard};
///
/// let guard = StatusVersionGuard::in_memory();
/// let event = |v: i64| Event::parse(format!(
///     r#"{{"id":"evt_{v}","event":"payment.completed","data":{{"id":"pay_1","amount":1,
///        "currency":"ARS","status":"completed","status_version":{v}}}}}"#).as_bytes()).unwrap();
/// assert_eq!(guard.check(&event(3)), GuardDecision::Apply);
/// assert_eq!(guard.check(&event(2)), GuardDecision::Stale); // out of order
/// assert_eq!(guard.check(&event(3)), GuardDecision::Stale); // duplicate
/// ```
#[derive(Debug, Default)]
pub struct StatusVersionGuard<S = InMemoryVersionStore> {
    store: S,
}

impl StatusVersionGuard<InMemoryVersionStore> {
    /// A guard backed by an [`InMemoryVersionStore`].
    pub fn in_memory() -> Self {
        Self::default()
    }
}

impl<S: VersionStore> StatusVersionGuard<S> {
    /// A guard backed by `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Decides on `event` and, for [`GuardDecision::Apply`], records its version
    /// (atomically, before you process it: if processing then fails, a redelivery of the
    /// same version is [`Stale`](GuardDecision::Stale)).
    pub fn check(&self, event: &Event) -> GuardDecision {
        match event.payment_id() {
            Some(payment_id) => self.check_version(payment_id, event.status_version()),
            None => GuardDecision::Unversioned,
        }
    }

    /// The same rule for a payment id and an optional version from elsewhere.
    pub fn check_version(&self, payment_id: &str, version: Option<i64>) -> GuardDecision {
        match version {
            None => GuardDecision::Unversioned,
            Some(version) if self.store.check_and_set(payment_id, version) => GuardDecision::Apply,
            Some(_) => GuardDecision::Stale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(payment_id: &str, version: Option<i64>) -> Event {
        let mut data = serde_json::json!({
            "id": payment_id, "amount": 1, "currency": "ARS", "status": "completed"
        });
        if let Some(v) = version {
            data["status_version"] = v.into();
        }
        Event::from_value(serde_json::json!({
            "id": "evt_x", "event": "payment.completed", "data": data
        }))
        .unwrap()
    }

    #[test]
    fn newer_applies_older_and_equal_ignored() {
        let guard = StatusVersionGuard::in_memory();
        assert_eq!(guard.check(&event("pay_a", Some(1))), GuardDecision::Apply);
        assert_eq!(guard.check(&event("pay_a", Some(1))), GuardDecision::Stale);
        assert_eq!(guard.check(&event("pay_a", Some(3))), GuardDecision::Apply);
        assert_eq!(guard.check(&event("pay_a", Some(2))), GuardDecision::Stale);
        assert_eq!(guard.check(&event("pay_b", Some(2))), GuardDecision::Apply);
        assert_eq!(guard.store().get("pay_a"), Some(3));
        assert_eq!(guard.store().len(), 2);
    }

    #[test]
    fn unversioned_accepted() {
        let guard = StatusVersionGuard::in_memory();
        assert_eq!(
            guard.check(&event("pay_a", None)),
            GuardDecision::Unversioned
        );
        assert_eq!(
            guard.check(&event("pay_a", None)),
            GuardDecision::Unversioned
        );
        let test = Event::parse(br#"{"id":"evt_t","event":"webhook.test"}"#).unwrap();
        assert_eq!(guard.check(&test), GuardDecision::Unversioned);
        assert!(GuardDecision::Unversioned.should_apply());
        assert!(!GuardDecision::Stale.should_apply());
        assert!(guard.store().is_empty());
    }

    #[test]
    fn transaction_id_used_when_no_id() {
        let guard = StatusVersionGuard::in_memory();
        let body = serde_json::json!({"event": "payment.completed", "data": {
            "transaction_id": "pay_t", "amount": 1, "currency": "ARS", "status": "completed",
            "status_version": 2}});
        let e = Event::from_value(body).unwrap();
        assert_eq!(guard.check(&e), GuardDecision::Apply);
        assert_eq!(guard.check(&e), GuardDecision::Stale);
    }

    #[test]
    fn concurrent_check_and_set_is_atomic() {
        let store = Arc::new(InMemoryVersionStore::new());
        let guard = Arc::new(StatusVersionGuard::new(store.clone()));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let guard = guard.clone();
                std::thread::spawn(move || {
                    (1..=200)
                        .filter(|v| guard.check_version("pay_a", Some(*v)) == GuardDecision::Apply)
                        .count()
                })
            })
            .collect();
        let applied: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        // Each version is applied at most once across all threads.
        assert!((1..=200).contains(&applied), "{applied}");
        assert_eq!(store.get("pay_a"), Some(200));
        // Exactly once each, per version, when every thread sees every version.
        let seen = Arc::new(InMemoryVersionStore::new());
        let per_version: Vec<_> = (0..4)
            .map(|_| {
                let seen = seen.clone();
                std::thread::spawn(move || seen.check_and_set("p", 7))
            })
            .collect();
        let winners = per_version
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|won| *won)
            .count();
        assert_eq!(winners, 1);
    }
}
