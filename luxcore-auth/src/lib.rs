//! # luxcore-auth — the LuxCore wire protocol's security rules, as pure functions
//!
//! Everything both sides of a LuxCore connection must agree on, with no HTTP client, no async
//! runtime and no server framework:
//!
//! * [`request`]: API v2 request signing (`X-Signature` over the v1 canonical string), its
//!   verification, the ±300 s timestamp window and the nonce rules;
//! * [`webhook`]: webhook delivery signatures (the signed payload, signing, and one
//!   [`WebhookVerifier`] built once from the endpoint secret);
//! * [`unix_now`]: the one clock helper.
//!
//! Digests are compared in constant time (`subtle`). Secrets are held as
//! [`secrecy::SecretString`] or as already-keyed HMAC state, and no `Debug` output shows them.
//!
//! A merchant who only receives webhooks can depend on this crate alone:
//!
//! ```
//! use luxcore_auth::webhook::{WebhookVerifier, sign_v1, HEADER_SIGNATURE, HEADER_TIMESTAMP};
//!
//! let verifier = WebhookVerifier::new("whsec_test");
//! let body = br#"{"id":"evt_1","event":"webhook.test","data":{}}"#;
//! # let now = luxcore_auth::unix_now();
//! # let mut headers = http::HeaderMap::new();
//! # headers.insert(HEADER_SIGNATURE, sign_v1(&"whsec_test".into(), now, body).parse().unwrap());
//! # headers.insert(HEADER_TIMESTAMP, now.to_string().parse().unwrap());
//! let verified = verifier.verify(&headers, body).expect("signed by LuxCore");
//! assert_eq!(verified.timestamp, now);
//! ```
//!
//! The two templates the public docs leave open — the v2 canonical string
//! ([`request::canonical_string_v1`]) and the webhook signed payload
//! ([`webhook::signed_payload_v1`]) — are each one small, versioned function whose doc comment
//! says it is assumed. Their known-answer vectors are data files under `vectors/`, checked
//! here and (through the `vectors` feature) by the SDK's and the mock's tests.
#![deny(missing_docs)]

mod clock;
pub mod request;
#[cfg(feature = "vectors")]
pub mod vectors;
pub mod webhook;

pub use clock::unix_now;
pub use request::{HmacCredentials, SignatureError, SignedHeaders, VerifiedRequest};
pub use webhook::{VerifiedDelivery, WebhookVerifier, WebhookVerifyError};
