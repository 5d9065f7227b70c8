//! # luxcore-mock — a stateful local LuxCore payments API server
//!
//! Serves the 33 operations of the LuxCore API (`openapi.json`) from memory, like
//! stripe-mock: payments with balances, webhooks with real signed deliveries,
//! support tickets with attachment uploads, API-key scopes, API v2 HMAC signatures,
//! rate limits and seeded fault injection. Simulation controls live under `/_mock`
//! and as methods on [`MockServer`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), luxcore_mock::MockError> {
//! use luxcore_mock::{MockConfig, MockServer};
//!
//! let server = MockServer::start(MockConfig::default().without_rate_limits()).await?;
//! let base_url = server.base_url(); // http://127.0.0.1:PORT
//! server.set_balance("ARS", 1_000_000, 0).await?;
//! # drop(base_url);
//! # Ok(())
//! # }
//! ```
//!
//! Credentials: [`DEFAULT_API_KEY`] (all scopes), [`READONLY_API_KEY`], v2 merchant
//! [`DEFAULT_MERCHANT_ID`] with [`DEFAULT_HMAC_SECRET`]. See the crate README for the
//! magic amounts, the webhook signature scheme and the `/_mock` endpoints.
//!
//! ## Where things live
//!
//! The crate is layered; a module imports only from the layers below it, never from a
//! sibling above (no cycles):
//!
//! | layer | modules | what |
//! |---|---|---|
//! | 4 server | `server` (`delivery`), this file | [`MockServer`] and its control methods, the accept loop, the webhook delivery worker |
//! | 3 HTTP edge | `http::{request_id, pipeline, auth, input, extract, response, routes}` | the `X-Request-Id` of every answer, the `/api` pipeline (faults, authentication, rate-limit headers and 429s), input validation, extractors, response envelopes and error bodies, the routes built from the generated operation table ([`luxcore_api::operations`]) and the `/_mock` controls |
//! | 2 state | `state::{credentials, faults, ratelimit}`, [`config`] | `App`: the store behind its lock, credentials and nonces, the fault injector, rate-limit counters, the shutdown signal and the delivery queue; [`MockConfig`] and its parts |
//! | 1 domain | `store::{model, payments, balances, webhooks, tickets, methods, page}` | the records and their operations (no HTTP): payments with balances, webhooks with their event logs, tickets with attachments |
//! | 0 base | `error`, `clock` | [`MockError`] and `ApiError` (status, code, message), the clock and ids |
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
    ALL_SCOPES, DEFAULT_API_KEY, DEFAULT_HMAC_SECRET, DEFAULT_MERCHANT_ID, Fault, FaultConfig,
    MockConfig, READONLY_API_KEY, READONLY_SCOPES, RateLimitConfig, WEBHOOK_MAX_ATTEMPTS,
};
