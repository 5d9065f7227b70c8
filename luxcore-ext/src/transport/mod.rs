//! Layer 1: getting one call across the wire — the request hooks (authentication, signing,
//! recording into the attempt context), response decoding into errors, the retry policy,
//! and the client with its call runner and builder.

pub(crate) mod builder;
pub(crate) mod client;
pub(crate) mod decode;
pub(crate) mod hook;
pub mod retry;
pub(crate) mod telemetry;
