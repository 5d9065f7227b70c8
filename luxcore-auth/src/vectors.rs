//! The known-answer vectors under `vectors/`, parsed (feature `vectors`).
//!
//! Like aws-sigv4's test suite, the vectors are data files, one per case, so that every
//! implementation of the protocol — this crate, the SDK's request hook, `luxcore-mock`'s
//! verifier and signer — is checked against the same bytes. Each file's values were computed
//! independently with `openssl dgst -sha256 -hmac` (the command is in its `description`).
//! Adding a file to `vectors/` without listing it here fails this crate's tests.

use serde::Deserialize;

/// One API v2 request signing case (`vectors/request-v1/*.json`).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct RequestVector {
    /// File stem.
    #[serde(skip)]
    pub name: &'static str,
    /// How the expected values were computed.
    pub description: String,
    /// Payment HMAC secret (a test value).
    pub secret: String,
    /// `X-Merchant-Id`.
    pub merchant_id: u64,
    /// HTTP method as given to the signer (may be lowercase).
    pub method: String,
    /// Path and query exactly as on the wire.
    pub path_with_query: String,
    /// Raw body (UTF-8 in these vectors).
    pub body: String,
    /// `X-Timestamp`.
    pub timestamp: i64,
    /// `X-Nonce`.
    pub nonce: String,
    /// The expected canonical string.
    pub canonical: String,
    /// The expected `X-Signature` value, `hmac_sha256=<hex>`.
    pub signature: String,
}

/// One webhook delivery signing case (`vectors/webhook-v1/*.json`).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct WebhookVector {
    /// File stem.
    #[serde(skip)]
    pub name: &'static str,
    /// How the expected values were computed.
    pub description: String,
    /// Endpoint secret (a test value).
    pub secret: String,
    /// Delivery timestamp (Unix seconds).
    pub timestamp: i64,
    /// Raw body.
    pub body: String,
    /// The expected signed payload.
    pub signed_payload: String,
    /// The expected signature header value, `hmac_sha256=<hex>`.
    pub signature: String,
}

macro_rules! files {
    ($dir:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../vectors/", $dir, "/", $name, ".json")))),*]
    };
}

/// `(file stem, contents)` of every request vector.
pub const REQUEST_V1_FILES: &[(&str, &str)] = files!("request-v1":
    "post-json-body",
    "get-empty-body-with-query",
    "lowercase-method-percent-encoded-path",
    "post-utf8-body",
);

/// `(file stem, contents)` of every webhook vector.
pub const WEBHOOK_V1_FILES: &[(&str, &str)] = files!("webhook-v1":
    "minimal-body",
    "payment-completed-envelope",
    "empty-body",
);

/// The API v2 request vectors.
///
/// # Panics
/// If a vector file is not valid (a defect of this crate, caught by its tests).
pub fn request_v1() -> Vec<RequestVector> {
    REQUEST_V1_FILES
        .iter()
        .map(|(name, json)| RequestVector {
            name,
            ..serde_json::from_str(json).unwrap_or_else(|e| panic!("vector {name}: {e}"))
        })
        .collect()
}

/// The webhook delivery vectors.
///
/// # Panics
/// If a vector file is not valid (a defect of this crate, caught by its tests).
pub fn webhook_v1() -> Vec<WebhookVector> {
    WEBHOOK_V1_FILES
        .iter()
        .map(|(name, json)| WebhookVector {
            name,
            ..serde_json::from_str(json).unwrap_or_else(|e| panic!("vector {name}: {e}"))
        })
        .collect()
}
