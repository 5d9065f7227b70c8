//! Shared application state of one server and the router.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;

use crate::auth::{Credentials, NonceStore};
use crate::config::{FaultConfig, MockConfig};
use crate::delivery;
use crate::error::MockError;
use crate::faults::FaultInjector;
use crate::ratelimit::RateLimiter;
use crate::store::{Event, Store};

/// Everything a request handler or a delivery task needs.
pub(crate) struct App {
    pub(crate) store: Mutex<Store>,
    pub(crate) nonces: Mutex<NonceStore>,
    pub(crate) faults: Mutex<FaultInjector>,
    pub(crate) limiter: Option<Mutex<RateLimiter>>,
    pub(crate) credentials: Credentials,
    pub(crate) http: reqwest::Client,
    pub(crate) retry_base: Duration,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) initial_faults: FaultConfig,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    pub(crate) fn new(config: &MockConfig, base_url: String) -> Result<Self, MockError> {
        let http = reqwest::Client::builder()
            .timeout(config.webhook_timeout)
            .user_agent("luxcore-mock-webhooks/0.1")
            .build()
            .map_err(|e| MockError::Client(e.to_string()))?;
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
        Ok(Self {
            store: Mutex::new(Store::new(crate::config::DEFAULT_MERCHANT_ID, base_url)),
            nonces: Mutex::new(NonceStore::default()),
            faults: Mutex::new(FaultInjector::new(config.faults.clone())),
            limiter: config
                .rate_limits
                .clone()
                .map(|limits| Mutex::new(RateLimiter::new(limits))),
            credentials,
            http,
            retry_base: config.webhook_retry_base,
            shutdown: watch::Sender::new(false),
            initial_faults: config.faults.clone(),
        })
    }

    /// Locks the store (for reads, or writes that emit no events).
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// Locks the fault injector.
    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultInjector> {
        lock(&self.faults)
    }

    /// Runs `f` on the locked store; the events it queues are logged for subscribed
    /// webhooks under the same lock and delivered in the background afterwards.
    pub(crate) fn mutate<R>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store, &mut Vec<Event>) -> R,
    ) -> R {
        let (result, jobs) = {
            let mut store = self.store();
            let mut events = Vec::new();
            let result = f(&mut store, &mut events);
            let jobs = store.enqueue(events);
            (result, jobs)
        };
        delivery::spawn(self, jobs);
        result
    }

    /// Back to the initial state: store, nonces, rate-limit counters and faults.
    pub(crate) fn reset(&self) {
        self.store().reset();
        lock(&self.nonces).clear();
        if let Some(limiter) = &self.limiter {
            lock(limiter).reset();
        }
        *self.faults() = FaultInjector::new(self.initial_faults.clone());
    }

    /// Checks the rate limit, if enabled.
    pub(crate) fn rate_limit(
        &self,
        principal: &str,
        bucket: crate::ratelimit::Bucket,
    ) -> Option<crate::ratelimit::Decision> {
        self.limiter
            .as_ref()
            .map(|limiter| lock(limiter).check(principal, bucket))
    }
}

/// The router with every route and the `/api` pipeline.
pub(crate) fn router(app: Arc<App>) -> Router {
    crate::routes::router(Arc::clone(&app)).layer(axum::middleware::from_fn_with_state(
        app,
        crate::pipeline::api_pipeline,
    ))
}
