//! # luxcore-ext — the LuxCore payments SDK for Rust
//!
//! The hand-written layer merchants call, on top of the generated `luxcore-api` client:
//! one [`LuxCore`](client::LuxCore) client with API-key (v1) and HMAC (v2) authentication,
//! typed errors, retries and client-side rate limits, pagination streams, balance helpers and
//! webhook verification.
#![deny(missing_docs)]

pub mod balance;
pub mod client;
pub mod credentials;
pub mod error;
pub mod pagination;
pub mod rate_limit;
pub mod retry;
pub mod services;
pub mod webhooks;

pub use luxcore_api as api;
pub use luxcore_api::enums::{Currency, ErrorCode, PaymentMethod, PaymentStatus, PaymentType};
pub use luxcore_api::types;
/// The protocol rules (request signing, webhook signatures), re-exported from `luxcore-auth`.
pub use luxcore_auth as auth;
pub use luxcore_auth::{HmacCredentials, WebhookVerifier};
