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
#![deny(missing_docs)]

mod app;
mod auth;
pub mod config;
mod delivery;
mod error;
mod faults;
mod input;
mod methods;
mod pipeline;
mod ratelimit;
mod routes;
mod server;
mod store;
mod util;

pub use config::{
    ALL_SCOPES, DEFAULT_API_KEY, DEFAULT_HMAC_SECRET, DEFAULT_MERCHANT_ID, Fault, FaultConfig,
    MockConfig, READONLY_API_KEY, READONLY_SCOPES, RateLimitConfig, WEBHOOK_MAX_ATTEMPTS,
};
pub use error::MockError;
pub use server::MockServer;
