// The crate doc is the README (also shown on crates.io); its example runs as a doctest.
#![doc = include_str!("../README.md")]
// docs.rs (nightly, `--cfg docsrs`) marks items behind a feature as such.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod clock;
pub mod request;
#[cfg(feature = "vectors")]
pub mod vectors;
pub mod webhook;

pub use clock::unix_now;
pub use request::{HmacCredentials, SignatureError, SignedHeaders, VerifiedRequest};
pub use webhook::{VerifiedDelivery, WebhookVerifier, WebhookVerifyError};
