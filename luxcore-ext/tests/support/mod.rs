//! Helpers the webhook and Redis test binaries share: the variables `cargo xtask test`
//! sets, a lock that survives a panicking test thread, a run id for unique keys, and a
//! signed payment delivery as LuxCore sends it.

#![allow(dead_code)] // each test file uses a part

use std::sync::{Mutex, MutexGuard, PoisonError};

use http::HeaderMap;
use luxcore_ext::auth::webhook::{HEADER_SIGNATURE, HEADER_TIMESTAMP, sign_v1};
use secrecy::SecretString;

/// The variable's value; panics (a failure, never a skip) when it is unset.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: this test needs a real server (run `cargo xtask test`, which \
             starts one, or set {name})"
        )
    })
}

/// The mutex's guard, also after another test thread panicked holding it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 8 random hex digits: keys and tables unique to this run.
pub fn run_id() -> String {
    hex::encode(rand::random::<[u8; 4]>())
}

/// The signature and timestamp headers of a delivery of `body`, signed with `secret` now.
pub fn signed_headers(secret: &str, body: &[u8]) -> HeaderMap {
    let now = luxcore_auth::unix_now();
    let mut headers = HeaderMap::new();
    let signature = sign_v1(&SecretString::from(secret), now, body);
    headers.insert(HEADER_SIGNATURE, signature.parse().unwrap());
    headers.insert(HEADER_TIMESTAMP, now.to_string().parse().unwrap());
    headers
}

/// A `payment.completed` event for `payment_id` at `version`.
pub fn payment_event(event_id: &str, payment_id: &str, version: i64) -> serde_json::Value {
    serde_json::json!({
        "id": event_id, "event": "payment.completed", "merchant_id": 123,
        "data": {"id": payment_id, "amount": 150000, "currency": "ARS",
                 "status": "completed", "status_version": version}
    })
}

/// [`payment_event`] as the bytes of a delivery.
pub fn payment_body(event_id: &str, payment_id: &str, version: i64) -> Vec<u8> {
    serde_json::to_vec(&payment_event(event_id, payment_id, version)).unwrap()
}
