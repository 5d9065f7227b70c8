//! Fixed-window rate-limit counters per API key (or v2 merchant) and bucket. The pipeline
//! (HTTP edge) picks the bucket, writes the `X-RateLimit-*` headers and answers the 429s.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::config::RateLimitConfig;
use crate::clock::unix_now;

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Bucket {
    /// `POST /api/v1/payments` and `POST /api/v2/payments`.
    Creation,
    /// Every other `/api` request.
    Standard,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    limit: u32,
    period: Duration,
    start: Instant,
    count: u32,
}

impl Window {
    fn new(limit: u32, period: Duration, now: Instant) -> Self {
        Self {
            limit,
            period,
            start: now,
            count: 0,
        }
    }

    fn roll(&mut self, now: Instant) {
        if now.duration_since(self.start) >= self.period {
            self.start = now;
            self.count = 0;
        }
    }

    fn left(&self, now: Instant) -> Duration {
        (self.start + self.period).saturating_duration_since(now)
    }
}

/// What the rate limiter decided, with the values for the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Whether the request may proceed.
    pub(crate) allowed: bool,
    /// `X-RateLimit-Limit`.
    pub(crate) limit: u32,
    /// `X-RateLimit-Remaining`.
    pub(crate) remaining: u32,
    /// `X-RateLimit-Reset` (Unix seconds).
    pub(crate) reset: i64,
    /// `Retry-After` seconds when refused.
    pub(crate) retry_after: u64,
}

/// Counters of every (principal, bucket).
#[derive(Debug)]
pub(crate) struct RateLimiter {
    config: RateLimitConfig,
    windows: HashMap<(String, Bucket), Vec<Window>>,
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl RateLimiter {
    pub(crate) fn new(config: RateLimitConfig) -> Self {
        Self {
            config,
            windows: HashMap::new(),
        }
    }

    /// Forgets every counter.
    pub(crate) fn reset(&mut self) {
        self.windows.clear();
    }

    fn fresh(&self, bucket: Bucket, now: Instant) -> Vec<Window> {
        let c = &self.config;
        match bucket {
            Bucket::Creation => vec![
                Window::new(c.creation_limit, c.creation_window, now),
                Window::new(c.creation_burst_limit, c.creation_burst_window, now),
            ],
            Bucket::Standard => vec![Window::new(c.standard_limit, c.standard_window, now)],
        }
    }

    /// Counts one request of `principal` against `bucket`, unless a window is full.
    pub(crate) fn check(&mut self, principal: &str, bucket: Bucket) -> Decision {
        let now = Instant::now();
        let key = (principal.to_owned(), bucket);
        if !self.windows.contains_key(&key) {
            let fresh = self.fresh(bucket, now);
            self.windows.insert(key.clone(), fresh);
        }
        let Some(windows) = self.windows.get_mut(&key) else {
            return Decision {
                allowed: true,
                limit: 0,
                remaining: 0,
                reset: unix_now(),
                retry_after: 0,
            };
        };
        windows.iter_mut().for_each(|w| w.roll(now));
        let retry_after = windows
            .iter()
            .filter(|w| w.count >= w.limit)
            .map(|w| ceil_secs(w.left(now)))
            .max();
        let allowed = retry_after.is_none();
        if allowed {
            windows.iter_mut().for_each(|w| w.count += 1);
        }
        let retry_after = retry_after.unwrap_or(0);
        // Report the window with the fewest requests left (the first one on a tie).
        let reported = windows
            .iter()
            .min_by_key(|w| w.limit.saturating_sub(w.count))
            .copied();
        let (limit, remaining, reset) = reported.map_or((0, 0, unix_now()), |w| {
            let reset_in = i64::try_from(ceil_secs(w.left(now))).unwrap_or(i64::MAX);
            (
                w.limit,
                w.limit.saturating_sub(w.count),
                unix_now().saturating_add(reset_in),
            )
        });
        Decision {
            allowed,
            limit,
            remaining,
            reset,
            retry_after: retry_after.max(u64::from(!allowed)),
        }
    }
}
