// The crate doc is the README (also shown on crates.io); its example compiles as a doctest.
#![doc = include_str!("../README.md")]
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
