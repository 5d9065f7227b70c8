//! Layer 0: leaf modules with no dependency on the layers above — error types, money,
//! header reading, per-attempt context and response metadata; and, with the `redis`
//! feature, the one Redis connection layer that the shared rate limiter and the webhook
//! store use (`redis_connection`, the only I/O here).

pub(crate) mod context;
pub mod error;
pub(crate) mod headers;
pub mod ids;
pub(crate) mod lenient;
pub mod metrics;
pub mod money;
#[cfg(feature = "locale")]
pub mod money_locale;
#[cfg(feature = "redis")]
pub(crate) mod redis_connection;
#[cfg(any(feature = "postgres", feature = "redis-tls"))]
pub(crate) mod tls;
