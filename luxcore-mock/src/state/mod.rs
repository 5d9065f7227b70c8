//! The state of one server: [`App`] holds the store, the credentials and nonces, the fault
//! injector, the answer to duplicate creations, the rate-limit counters, the shutdown signal
//! and the queue of webhook deliveries (run by the server's delivery worker). Everything a request handler, a
//! control method or a delivery task shares, and nothing of HTTP.

pub mod config;
pub(crate) mod credentials;
pub(crate) mod faults;
pub(crate) mod ratelimit;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{mpsc, watch};

use self::config::{DEFAULT_MERCHANT_ID, DuplicateAnswer, FaultConfig, MockConfig};
use self::credentials::{Credentials, NonceStore};
use self::faults::FaultInjector;
use self::ratelimit::{Bucket, Decision, RateLimiter};
use crate::store::{Event, Job, Rules, Store};

/// Everything a request handler or a delivery task needs.
pub(crate) struct App {
    pub(crate) store: Mutex<Store>,
    pub(crate) nonces: Mutex<NonceStore>,
    pub(crate) faults: Mutex<FaultInjector>,
    pub(crate) limiter: Option<Mutex<RateLimiter>>,
    pub(crate) credentials: Credentials,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) initial_faults: FaultConfig,
    /// How duplicate creations are answered now (`PUT /_mock/duplicates`).
    duplicates: Mutex<DuplicateAnswer>,
    /// The configured answer, restored by [`Self::reset`].
    initial_duplicates: DuplicateAnswer,
    /// Webhook deliveries to start, in the order they were queued.
    deliveries: mpsc::UnboundedSender<Job>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Resolves once the server is shutting down (or its state is gone).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopped| *stopped).await.is_ok();
}

impl App {
    /// The state for `config`, and the receiving end of its delivery queue (for the
    /// delivery worker).
    pub(crate) fn new(
        config: &MockConfig,
        base_url: String,
    ) -> (Self, mpsc::UnboundedReceiver<Job>) {
        let credentials = Credentials {
            api_keys: config
                .api_keys
                .iter()
                .map(|(key, scopes)| (key.clone(), Arc::from(scopes.clone())))
                .collect(),
            hmac: config
                .hmac_merchants
                .iter()
                .cloned()
                .collect::<HashMap<_, _>>(),
        };
        let (deliveries, queued) = mpsc::unbounded_channel();
        let rules = Rules {
            unavailable_methods: config.unavailable_methods.clone(),
            unconfigured_methods: config.unconfigured_methods.clone(),
            transaction_limit: config.transaction_limit,
        };
        let app = Self {
            store: Mutex::new(Store::new(DEFAULT_MERCHANT_ID, base_url, rules)),
            nonces: Mutex::new(NonceStore::default()),
            faults: Mutex::new(FaultInjector::new(config.faults.clone())),
            limiter: config
                .rate_limits
                .clone()
                .map(|limits| Mutex::new(RateLimiter::new(limits))),
            credentials,
            shutdown: watch::Sender::new(false),
            initial_faults: config.faults.clone(),
            duplicates: Mutex::new(config.duplicates),
            initial_duplicates: config.duplicates,
            deliveries,
        };
        (app, queued)
    }

    /// Locks the store (for reads, or writes that emit no events).
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// Locks the fault injector.
    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultInjector> {
        lock(&self.faults)
    }

    /// How duplicate creations are answered now.
    pub(crate) fn duplicates(&self) -> DuplicateAnswer {
        *lock(&self.duplicates)
    }

    /// Changes how duplicate creations are answered (until the next [`Self::reset`]).
    pub(crate) fn set_duplicates(&self, answer: DuplicateAnswer) {
        *lock(&self.duplicates) = answer;
    }

    /// Runs `f` on the locked store; the events it queues are logged for subscribed
    /// webhooks under the same lock and delivered in the background afterwards.
    pub(crate) fn mutate<R>(&self, f: impl FnOnce(&mut Store, &mut Vec<Event>) -> R) -> R {
        let (result, jobs) = {
            let mut store = self.store();
            let mut events = Vec::new();
            let result = f(&mut store, &mut events);
            let jobs = store.enqueue(events);
            (result, jobs)
        };
        self.deliver(jobs);
        result
    }

    /// Queues deliveries for the delivery worker. Once the server has shut down there is no
    /// worker, and the jobs are dropped.
    pub(crate) fn deliver(&self, jobs: Vec<Job>) {
        for job in jobs {
            let _ = self.deliveries.send(job);
        }
    }

    /// Back to the initial state: store, nonces, rate-limit counters, faults and the
    /// configured duplicate answer.
    pub(crate) fn reset(&self) {
        self.store().reset();
        lock(&self.nonces).clear();
        if let Some(limiter) = &self.limiter {
            lock(limiter).reset();
        }
        *self.faults() = FaultInjector::new(self.initial_faults.clone());
        self.set_duplicates(self.initial_duplicates);
    }

    /// Checks the rate limit, if enabled.
    pub(crate) fn rate_limit(&self, principal: &str, bucket: Bucket) -> Option<Decision> {
        self.limiter
            .as_ref()
            .map(|limiter| lock(limiter).check(principal, bucket))
    }
}
