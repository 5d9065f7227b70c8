//! Automatic retries: which requests are retried, when, and how long the SDK waits.
//!
//! # What is retried
//!
//! A failed attempt is retried (up to [`RetryPolicy::max_attempts`] attempts in total,
//! within [`RetryPolicy::max_elapsed`]) only when repeating it is safe:
//!
//! * **Idempotent requests** (`GET`, `PUT`, `DELETE`): on connection errors, timeouts,
//!   HTTP 429 and the error codes whose recovery in the documented catalogue is to send
//!   the request again (`LOCK_TIMEOUT`, `TRANSACTION_ERROR`, `DATABASE_ERROR`, `TIMEOUT`,
//!   `PROVIDER_ERROR`, `RATE_LIMIT_EXCEEDED`, `INTERNAL_ERROR`, `SERVICE_UNAVAILABLE`; see
//!   [`Error::recovery`](crate::Error::recovery)); codes the catalogue does not know
//!   on HTTP 500, 502, 503 and 504. The "wait" codes (`MISSING_REQUISITES`,
//!   `NO_AVAILABLE_REQUISITES`, `INSUFFICIENT_BALANCE`) are not retried: they need time
//!   (pending payments to settle, deposits to arrive) and surface with their advice.
//! * **Payment creation** (the operations whose body requires a `merchant_reference`: payment creation in API v1
//!   and v2; the operation table's `RetryClass::DedupByReference`): on the
//!   same conditions. This is safe because LuxCore de-duplicates on `merchant_reference`:
//!   if an earlier attempt was processed but its answer was lost (connection dropped,
//!   timeout), the retry is answered with HTTP 200 `MERCHANT_REFERENCE_DUPLICATE` and the
//!   existing payment, which the SDK returns as
//!   [`Created::Existing`](crate::payments::Created::Existing). So a
//!   `Created::Existing` can mean "created by an earlier attempt of this very call".
//!   Exception documented by LuxCore: a reference whose payment failed, expired or was
//!   cancelled may be reused, so a retry can then create a second payment — only if the
//!   first one reached such a state within the retry window, which does not happen in
//!   practice. v2 retries are signed again with a fresh nonce and timestamp.
//! * **Other `POST`s** (cancel, close, reopen, add comment, webhook create/test/retry,
//!   upload URL, method validation): only when the request provably did not reach the
//!   server (the connection could not be established) or it was refused by the rate
//!   limiter before processing (HTTP 429). Once sent they are never retried otherwise:
//!   not on timeouts or dropped connections, and not on 5xx either — a 503 from a proxy
//!   may follow a request the service already acted on, and a second ticket, comment or
//!   cancellation is worse than a typed error the caller can look at.
//!
//! # How long to wait
//!
//! Exponential backoff with full jitter: before retry *n* the SDK sleeps a random time
//! in `[0, min(max_delay, base_delay * 2^(n-1))]`. When the server says how long to wait
//! (`Retry-After` in seconds or as an HTTP date, or `X-RateLimit-Reset` in Unix seconds
//! on a 429) that is used instead, capped at `max_delay`. A retry whose wait would end
//! after `max_elapsed` (counted from the start of the call) is not made.
//!
//! # Clock skew (API v2)
//!
//! Independently of this policy, a v2 request answered 401 `TIMESTAMP_OUT_OF_WINDOW` with
//! a `Date` header makes the client adopt the server clock (as an offset) and retry once
//! immediately: the server rejected the request before processing it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use luxcore_auth::unix_now;

use rand::Rng;
use reqwest::StatusCode;

use luxcore_api::operations::RetryClass;

use crate::base::context::AttemptMeta;
use crate::base::error::Error;
use crate::base::headers::retry_after_header;

/// How failed requests are retried. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (default 4: one try and three retries).
    pub max_attempts: u32,
    /// Backoff cap of the first retry (default 250 ms); doubles per retry.
    pub base_delay: Duration,
    /// Longest single wait, also the cap on server-requested waits (default 10 s).
    pub max_delay: Duration,
    /// No retry is started whose wait would end later than this after the call started
    /// (default 30 s).
    pub max_elapsed: Duration,
    /// `false` turns automatic retries off (the clock-skew correction stays on).
    pub enabled: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(30),
            enabled: true,
        }
    }
}

impl RetryPolicy {
    /// No automatic retries: every error surfaces at once.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets [`Self::max_attempts`] (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets [`Self::base_delay`].
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets [`Self::max_delay`].
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets [`Self::max_elapsed`].
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// The upper bound of the jittered wait before retry number `retry` (1 = first retry):
    /// `min(max_delay, base_delay * 2^(retry-1))`.
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_delay)
    }

    /// A random wait in `[0, backoff_cap(retry)]` (full jitter).
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap = u64::try_from(self.backoff_cap(retry).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=cap))
    }

    /// Whether `err` (from attempt number `attempt`, 1-based, of a request of `class`)
    /// is retried, and after which wait. `elapsed` is the time since the call started.
    pub(crate) fn next_delay(
        &self,
        class: RetryClass,
        err: &Error,
        meta: &AttemptMeta,
        attempt: u32,
        elapsed: Duration,
    ) -> Option<Duration> {
        if !self.enabled || attempt >= self.max_attempts || !may_retry(class, err, meta) {
            return None;
        }
        let hint = match err {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ if meta.status == Some(StatusCode::SERVICE_UNAVAILABLE) => {
                retry_after_header(&meta.headers, unix_now())
            }
            _ => None,
        };
        let delay = hint.map_or_else(|| self.backoff(attempt), |h| h.min(self.max_delay));
        (elapsed.saturating_add(delay) <= self.max_elapsed).then_some(delay)
    }
}

/// Whether a failure of a request of `class` may be retried at all.
fn may_retry(class: RetryClass, err: &Error, meta: &AttemptMeta) -> bool {
    match class {
        RetryClass::Idempotent | RetryClass::DedupByReference => err.is_retryable(),
        RetryClass::NotRetryableAfterSend => match err {
            Error::RateLimited { .. } => true,
            Error::Transport { .. } | Error::Timeout => meta.connect_error,
            _ => false,
        },
    }
}

/// A retry budget shared by a client and its clones: a token bucket like the AWS SDK's
/// standard retry mode, so that an outage does not multiply the fleet's load.
///
/// Every retry spends tokens ([`retry_cost`](Self::retry_cost), or
/// [`timeout_cost`](Self::timeout_cost) after a timeout or a transport failure); a call
/// that succeeds gives back the cost of the retry that succeeded, or
/// [`success_refill`](Self::success_refill) when it succeeded at its first attempt. With
/// too few tokens left the SDK does not retry and answers the attempt's error. The first
/// attempt of a call never needs a token. Defaults ([`standard`](Self::standard)): 500
/// tokens, 5 per retry, 10 per retry after a timeout, 1 back per first-attempt success,
/// so about 100 retries in a row without a success empty it.
///
/// The budget lives in the process (each instance protects the service from its own
/// retries); it needs no shared store.
#[derive(Debug)]
pub struct RetryBudget {
    capacity: u32,
    retry_cost: u32,
    timeout_cost: u32,
    success_refill: u32,
    tokens: AtomicU32,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self::standard()
    }
}

impl RetryBudget {
    /// 500 tokens, 5 per retry, 10 per retry after a timeout, 1 back per success.
    pub fn standard() -> Self {
        Self::new(500, 5, 10, 1)
    }

    /// A budget that never runs out (every retry the [`RetryPolicy`] allows is made).
    pub fn unlimited() -> Self {
        Self::new(u32::MAX, 0, 0, 0)
    }

    /// A budget of `capacity` tokens (full at the start).
    pub fn new(capacity: u32, retry_cost: u32, timeout_cost: u32, success_refill: u32) -> Self {
        RetryBudget {
            capacity,
            retry_cost,
            timeout_cost,
            success_refill,
            tokens: AtomicU32::new(capacity),
        }
    }

    /// Tokens left.
    pub fn available(&self) -> u32 {
        self.tokens.load(Ordering::Relaxed)
    }

    /// Tokens a retry costs.
    pub fn retry_cost(&self) -> u32 {
        self.retry_cost
    }

    /// Tokens a retry after a timeout or transport failure costs.
    pub fn timeout_cost(&self) -> u32 {
        self.timeout_cost
    }

    /// Tokens a first-attempt success gives back.
    pub fn success_refill(&self) -> u32 {
        self.success_refill
    }

    /// What retrying after `err` costs.
    pub(crate) fn cost_of(&self, err: &Error) -> u32 {
        if err.is_timeout() || matches!(err, Error::Transport { .. }) {
            self.timeout_cost
        } else {
            self.retry_cost
        }
    }

    /// Takes `cost` tokens if there are that many.
    pub(crate) fn try_spend(&self, cost: u32) -> bool {
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |tokens| {
                tokens.checked_sub(cost)
            })
            .is_ok()
    }

    /// Gives back `tokens`, up to the capacity.
    pub(crate) fn refill(&self, tokens: u32) {
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                Some(now.saturating_add(tokens).min(self.capacity))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::headers::tests::headers;
    use luxcore_api::enums::ErrorCode;

    fn api(status: u16, code: ErrorCode) -> Error {
        Error::Api {
            status,
            code,
            messages: vec![],
            timestamp: None,
            request_id: None,
            data: None,
            attempts: 1,
        }
    }

    #[test]
    fn backoff_caps_and_jitter() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff_cap(1), Duration::from_millis(250));
        assert_eq!(policy.backoff_cap(2), Duration::from_millis(500));
        assert_eq!(policy.backoff_cap(3), Duration::from_millis(1000));
        assert_eq!(policy.backoff_cap(10), Duration::from_secs(10));
        assert_eq!(policy.backoff_cap(u32::MAX), Duration::from_secs(10));
        for retry in 1..6 {
            for _ in 0..200 {
                assert!(policy.backoff(retry) <= policy.backoff_cap(retry));
            }
        }
        // Full jitter actually varies.
        let samples: std::collections::HashSet<_> = (0..50).map(|_| policy.backoff(3)).collect();
        assert!(samples.len() > 1);
    }

    #[test]
    fn server_hint_is_capped() {
        let policy = RetryPolicy::default().with_max_elapsed(Duration::from_secs(3600));
        let err = Error::RateLimited {
            retry_after: Some(Duration::from_secs(120)),
            request_id: None,
            attempts: 1,
        };
        let delay = policy.next_delay(
            RetryClass::Idempotent,
            &err,
            &AttemptMeta::default(),
            1,
            Duration::ZERO,
        );
        assert_eq!(delay, Some(Duration::from_secs(10)));
        // ...and a wait past max_elapsed is not started.
        let policy = RetryPolicy::default();
        let delay = policy.next_delay(
            RetryClass::Idempotent,
            &err,
            &AttemptMeta::default(),
            1,
            Duration::from_secs(25),
        );
        assert_eq!(delay, None);
    }

    #[test]
    fn attempts_and_disabled() {
        let policy = RetryPolicy::default();
        let meta = AttemptMeta::default();
        let err = Error::Timeout;
        for attempt in 1..4 {
            assert!(
                policy
                    .next_delay(RetryClass::Idempotent, &err, &meta, attempt, Duration::ZERO)
                    .is_some()
            );
        }
        assert!(
            policy
                .next_delay(RetryClass::Idempotent, &err, &meta, 4, Duration::ZERO)
                .is_none()
        );
        assert!(
            RetryPolicy::none()
                .next_delay(RetryClass::Idempotent, &err, &meta, 1, Duration::ZERO)
                .is_none()
        );
        assert_eq!(RetryPolicy::default().with_max_attempts(0).max_attempts, 1);
    }

    #[test]
    fn classes() {
        let policy = RetryPolicy::default();
        let plain = AttemptMeta::default();
        let connect = AttemptMeta {
            connect_error: true,
            ..AttemptMeta::default()
        };
        let transport = Error::transport("reset".into());
        let retried = |class, err: &Error, meta: &AttemptMeta| {
            policy
                .next_delay(class, err, meta, 1, Duration::ZERO)
                .is_some()
        };
        let cases: Vec<(Error, bool, bool)> = vec![
            // (error, idempotent/create retried, other POST retried [without connect error])
            (transport.clone(), true, false),
            (Error::Timeout, true, false),
            (Error::rate_limited(None, None), true, true),
            (api(500, ErrorCode::InternalError), true, false),
            (api(502, ErrorCode::Other("HTTP_502".into())), true, false),
            (api(503, ErrorCode::ServiceUnavailable), true, false),
            (api(504, ErrorCode::Other("HTTP_504".into())), true, false),
            // The catalogue's retryable codes, whatever their status (LOCK_TIMEOUT is a 400).
            (api(400, ErrorCode::LockTimeout), true, false),
            (api(500, ErrorCode::TransactionError), true, false),
            (api(500, ErrorCode::DatabaseError), true, false),
            (api(504, ErrorCode::Timeout), true, false),
            (api(500, ErrorCode::ProviderError), true, false),
            // "Wait" codes surface with their advice instead of being retried blindly.
            (api(400, ErrorCode::MissingRequisites), false, false),
            (api(400, ErrorCode::NoAvailableRequisites), false, false),
            (api(400, ErrorCode::InsufficientBalance), false, false),
            (api(401, ErrorCode::InvalidApiKey), false, false),
            (api(404, ErrorCode::NotFound), false, false),
            (api(400, ErrorCode::PaymentAlreadyExists), false, false),
            (
                Error::decode(Some(502), String::new(), b"", None),
                true,
                false,
            ),
            (
                Error::decode(Some(200), String::new(), b"", None),
                false,
                false,
            ),
            (Error::Config("x".into()), false, false),
        ];
        for (err, safe, other) in cases {
            assert_eq!(
                retried(RetryClass::Idempotent, &err, &plain),
                safe,
                "{err:?}"
            );
            assert_eq!(
                retried(RetryClass::DedupByReference, &err, &plain),
                safe,
                "{err:?}"
            );
            assert_eq!(
                retried(RetryClass::NotRetryableAfterSend, &err, &plain),
                other,
                "{err:?}"
            );
        }
        // A connection that could not be established is retried for any POST.
        assert!(retried(
            RetryClass::NotRetryableAfterSend,
            &transport,
            &connect
        ));
        assert!(retried(
            RetryClass::NotRetryableAfterSend,
            &Error::Timeout,
            &connect
        ));
    }

    #[test]
    fn retry_after_on_503() {
        let policy = RetryPolicy::default();
        let meta = AttemptMeta {
            status: Some(StatusCode::SERVICE_UNAVAILABLE),
            headers: headers(&[("retry-after", "2")]),
            ..AttemptMeta::default()
        };
        let delay = policy.next_delay(
            RetryClass::Idempotent,
            &api(503, ErrorCode::ServiceUnavailable),
            &meta,
            1,
            Duration::ZERO,
        );
        assert_eq!(delay, Some(Duration::from_secs(2)));
    }

    #[test]
    fn budget_spends_refills_and_runs_out() {
        let budget = RetryBudget::new(12, 5, 10, 1);
        let transport = Error::transport("reset".into());
        let api = Error::Api {
            status: 503,
            code: crate::ErrorCode::ServiceUnavailable,
            messages: vec![],
            timestamp: None,
            request_id: None,
            data: None,
            attempts: 1,
        };
        assert_eq!(budget.cost_of(&transport), 10);
        assert_eq!(budget.cost_of(&Error::Timeout), 10);
        assert_eq!(budget.cost_of(&api), 5);
        assert!(budget.try_spend(5));
        assert!(budget.try_spend(5));
        assert_eq!(budget.available(), 2);
        assert!(!budget.try_spend(5), "only 2 tokens left");
        assert_eq!(budget.available(), 2, "a refused spend takes nothing");
        budget.refill(100);
        assert_eq!(budget.available(), 12, "refills stop at the capacity");
        let unlimited = RetryBudget::unlimited();
        for _ in 0..1000 {
            assert!(unlimited.try_spend(unlimited.cost_of(&api)));
        }
    }
}
