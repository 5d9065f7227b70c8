// The crate doc is the README (also shown on crates.io); its example compiles as a doctest.
#![doc = include_str!("../README.md")]
#![doc = ""]
//! ## Where things live
//!
//! The crate is layered; a module imports only from the layers below it, never from a
//! sibling above (no cycles):
//!
//! | layer | modules | what |
//! |---|---|---|
//! | 4 server | `server` (`delivery`), this file | [`MockServer`] and its control methods, the accept loop, the webhook delivery worker |
//! | 3 HTTP edge | `http::{request_id, pipeline, auth, input, extract, response, routes}` | the `X-Request-Id` of every answer, the `/api` pipeline (faults, authentication, rate-limit headers and 429s), input validation, extractors, response envelopes and error bodies, the routes built from the generated operation table ([`luxcore_api::operations`]) and the `/_mock` controls |
//! | 2 state | `state::{credentials, faults, ratelimit}`, [`config`] | `App`: the store behind its lock, credentials and nonces, the fault injector ([`Fault`]: statuses, catalogue codes, drops), the [`DuplicateAnswer`] in force, rate-limit counters, the shutdown signal and the delivery queue; [`MockConfig`] and its parts |
//! | 1 domain | `store::{model, payments, payout, balances, webhooks, tickets, methods, page}` | the records and their operations (no HTTP): payments with balances (method configuration, CLABE/CVU checks, limits, magic amounts), webhooks with their event logs, tickets with attachments |
//! | 0 base | `error`, `clock` | [`MockError`] and `ApiError` (status from the error catalogue, code, message, `data`), the clock and ids |
#![deny(missing_docs)]

mod clock;
mod error;
mod http;
mod server;
mod state;
mod store;

pub use error::MockError;
pub use server::MockServer;
pub use state::config;
pub use state::config::{
    ALL_SCOPES, DEFAULT_API_KEY, DEFAULT_HMAC_SECRET, DEFAULT_MERCHANT_ID, DuplicateAnswer, Fault,
    FaultConfig, MockConfig, READONLY_API_KEY, READONLY_SCOPES, RateLimitConfig,
    WEBHOOK_MAX_ATTEMPTS,
};
