//! # luxcore-ext — the LuxCore payments SDK for Rust
//!
//! The hand-written layer merchants call, on top of the generated `luxcore-api` client:
//! one [`LuxCore`] client with API-key (v1) and HMAC (v2) authentication, typed errors,
//! retries and client-side rate limits, per-call options and response metadata, resource
//! handles with spawnable pagination streams, money and balance helpers, and webhook
//! verification. `use luxcore_ext::prelude::*;` brings everything a merchant needs.
//!
//! ## Where things live
//!
//! The crate is layered; a module imports only from the layers below it, never from a
//! sibling above (no cycles):
//!
//! | layer | modules | what |
//! |---|---|---|
//! | 3 facade | [`prelude`], this file | re-exports; [`client`] gathers the client types |
//! | 2 resources | [`payments`], [`webhook_endpoints`], [`balance`], [`tickets`]; [`pagination`] (shared by them) | one module per API resource with *all* of its methods (CRUD, list/stream/collect_all, money helpers); the generic page walker |
//! | 1 transport | [`retry`], `transport::{hook, decode, client, builder}` | request hooks (authentication, HMAC signing), response decoding into [`Error`], the retry policy, the call runner ([`ApiCall`], [`LuxCore`]) and [`LuxCoreBuilder`] |
//! | 0 base | [`error`], [`credentials`], [`rate_limit`], [`payouts`], `base::{money, money_locale, headers, context, redis_connection}` | error *types*, money (locale-aware text with the `locale` feature), credentials, typed payout details checked per rail, header reading, the per-attempt context and [`ResponseMeta`]; the Redis connection layer of the shared limiter and the Redis webhook store (one server or a cluster, plain or TLS) |
//!
//! Beside the layers: [`webhooks`] (parsing and de-duplicating webhook deliveries) and
//! [`auth`] (the protocol crate `luxcore-auth`: request signing and webhook signatures).
//! Operation metadata (method, path, authentication, retry class, rate-limit bucket) comes
//! from the operation table generated from `openapi.json` into
//! [`luxcore_api::operations`]; no API path is typed by hand here.
#![doc = ""]
// The package's README (also shown on crates.io); its code blocks compile as doctests.
#![doc = include_str!("../README.md")]
// docs.rs (nightly, `--cfg docsrs`) marks items behind a feature as such.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod base;
mod transport;

pub mod balance;
pub mod credentials;
pub mod pagination;
pub mod payments;
pub mod payouts;
pub mod rate_limit;
pub mod tickets;
pub mod webhook_endpoints;
pub mod webhooks;

pub use base::{error, metrics};
pub use transport::retry;

/// The client and its call types: [`LuxCore`], [`LuxCoreBuilder`], [`ApiCall`] (awaited,
/// a [`CallFuture`](client::CallFuture)), [`CallOptions`], [`RetryBudget`](client::RetryBudget),
/// [`Response`] and [`ResponseMeta`].
pub mod client {
    pub use crate::base::context::{Response, ResponseMeta};
    pub use crate::base::headers::RateLimitInfo;
    #[cfg(feature = "rustls-ring")]
    pub use crate::transport::builder::install_ring_crypto_provider;
    pub use crate::transport::builder::{
        DEFAULT_BASE_URL, DEFAULT_DEADLINE, LuxCoreBuilder, USER_AGENT,
    };
    pub use crate::transport::client::{ApiCall, CallFuture, CallOptions, LuxCore, MetaFuture};
    pub use crate::transport::retry::RetryBudget;
}

/// Everything the tour uses, in one `use luxcore_ext::prelude::*;`.
pub mod prelude {
    pub use crate::balance::{BalanceSnapshot, Money};
    pub use crate::client::{ApiCall, CallOptions, LuxCore, Response, ResponseMeta};
    pub use crate::error::{Error, ErrorCode, ErrorCodeExt, Recovery, Result};
    pub use crate::pagination::{ListStream, Page, Paging};
    pub use crate::payments::{Created, PaymentExt as _, PaymentFilter, PaymentRequest};
    pub use crate::payouts::Recipient;
    pub use crate::rate_limit::RateLimits;
    pub use crate::retry::RetryPolicy;
    pub use crate::tickets::{TicketFilter, TicketRequest};
    pub use crate::webhook_endpoints::{WebhookEventFilter, WebhookFilter};
    pub use crate::webhooks::{Event, MemoryStore, Outcome, WebhookProcessor};
    pub use futures::{StreamExt as _, TryStreamExt as _};
    pub use luxcore_api::enums::{
        BalanceType, Currency, PaymentMethod, PaymentStatus, PaymentType, WebhookEventType,
    };
    pub use luxcore_auth::WebhookVerifier;
}

pub use balance::Money;
pub use base::ids::{MerchantId, PaymentId, TicketId, WebhookId};
pub use client::{ApiCall, CallOptions, LuxCore, LuxCoreBuilder, Response, ResponseMeta};
pub use error::{Error, Recovery, Result};
pub use luxcore_api as api;
pub use luxcore_api::enums::{Currency, ErrorCode, PaymentMethod, PaymentStatus, PaymentType};
pub use luxcore_api::types;
/// The protocol rules (request signing, webhook signatures), re-exported from `luxcore-auth`.
pub use luxcore_auth as auth;
pub use luxcore_auth::WebhookVerifier;
