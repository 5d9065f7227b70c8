//! Layer 0: leaf modules with no I/O and no dependency on the layers above — error types,
//! money, header reading, per-attempt context and response metadata.

pub(crate) mod context;
pub mod error;
pub(crate) mod headers;
pub mod ids;
pub(crate) mod lenient;
pub mod metrics;
pub mod money;
#[cfg(feature = "locale")]
pub mod money_locale;
#[cfg(feature = "postgres")]
pub(crate) mod tls;
