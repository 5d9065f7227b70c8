//! API v2 request signing and verification (HMAC-SHA256).
//!
//! Every v2 request carries five headers:
//!
//! | header                  | value                                  |
//! |-------------------------|----------------------------------------|
//! | `X-Merchant-Id`         | numeric merchant id                    |
//! | `X-Timestamp`           | Unix time in seconds                   |
//! | `X-Nonce`               | unique value, 8–128 characters         |
//! | `X-Signature-Version`   | `v1`                                   |
//! | `X-Signature`           | `hmac_sha256=<lowercase hex digest>`   |
//!
//! The digest is HMAC-SHA256, keyed with the merchant's *payment HMAC secret*, over
//! the canonical string built by [`canonical_string_v1`]. The server accepts timestamps
//! within ±[`REPLAY_WINDOW_SECS`] of its clock and rejects a nonce seen again within
//! that window.
//!
//! Client side: build [`HmacCredentials`] once and call [`HmacCredentials::sign_now`]
//! per request, then [`SignedHeaders::apply`] the result to the outgoing headers.
//! Server side (used by `luxcore-mock`): [`extract_merchant_id`] to look up the
//! secret, then [`verify_v1`]; the caller keeps the nonces it has seen (see [`verify_v1`]).
//!
//! ```
//! use luxcore_auth::request::{HmacCredentials, verify_v1};
//!
//! let creds = HmacCredentials::new(42, "hmac_test_secret_local");
//! let signed = creds.sign("POST", "/api/v2/payments", b"{}", 1_700_000_000, "abcdef0123456789");
//! let mut headers = http::HeaderMap::new();
//! signed.apply(&mut headers);
//!
//! let secret = secrecy::SecretString::from("hmac_test_secret_local");
//! let ok = verify_v1(&secret, &headers, "POST", "/api/v2/payments", b"{}", 1_700_000_010)
//!     .unwrap();
//! assert_eq!(ok.merchant_id, 42);
//! ```

use std::fmt;

use hmac::{Hmac, Mac};
use http::header::{HeaderMap, HeaderName, HeaderValue, InvalidHeaderValue};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::unix_now;

/// The signature scheme version sent in `X-Signature-Version`.
pub const SIGNATURE_VERSION: &str = "v1";
/// Allowed clock skew, in seconds, between `X-Timestamp` and the server clock (either
/// direction). Also the period during which a nonce must not be reused.
pub const REPLAY_WINDOW_SECS: i64 = 300;
/// Minimum length of `X-Nonce`, in characters.
pub const NONCE_MIN_LEN: usize = 8;
/// Maximum length of `X-Nonce`, in characters.
pub const NONCE_MAX_LEN: usize = 128;

/// Header carrying the numeric merchant id.
pub const HEADER_MERCHANT_ID: &str = "X-Merchant-Id";
/// Header carrying the request time as Unix seconds.
pub const HEADER_TIMESTAMP: &str = "X-Timestamp";
/// Header carrying the per-request nonce.
pub const HEADER_NONCE: &str = "X-Nonce";
/// Header carrying the signature scheme version ([`SIGNATURE_VERSION`]).
pub const HEADER_SIGNATURE_VERSION: &str = "X-Signature-Version";
/// Header carrying the signature (`hmac_sha256=<hex>`).
pub const HEADER_SIGNATURE: &str = "X-Signature";
/// Prefix of the `X-Signature` value, before the lowercase hex digest.
pub const SIGNATURE_PREFIX: &str = "hmac_sha256=";

// `HeaderName::from_static` requires lowercase; HTTP header names are case-insensitive.
const NAME_MERCHANT_ID: HeaderName = HeaderName::from_static("x-merchant-id");
const NAME_TIMESTAMP: HeaderName = HeaderName::from_static("x-timestamp");
const NAME_NONCE: HeaderName = HeaderName::from_static("x-nonce");
const NAME_SIGNATURE_VERSION: HeaderName = HeaderName::from_static("x-signature-version");
const NAME_SIGNATURE: HeaderName = HeaderName::from_static("x-signature");

type HmacSha256 = Hmac<Sha256>;

/// Builds the v1 canonical string that is signed.
///
/// Format: `v1.{timestamp}.{nonce}.{METHOD}.{path_with_query}.{sha256_hex(body)}`,
/// where `METHOD` is uppercased, `path_with_query` is used exactly as sent (query
/// string and percent-encoding untouched, no normalisation) and the body hash is the
/// lowercase hex SHA-256 of the raw body bytes (`e3b0c442…b855` for an empty body).
///
/// **This template is ASSUMED.** The public LuxCore docs only show that the string
/// begins with `v1.{timestamp` and name its inputs (method, path with query, body
/// SHA-256, timestamp, nonce); the order and separators after the timestamp are our
/// guess. This function is the single place to change once the real template is
/// known: [`HmacCredentials::sign`], [`verify_v1`] and `luxcore-mock` all call it.
pub fn canonical_string_v1(
    timestamp: i64,
    nonce: &str,
    method: &str,
    path_with_query: &str,
    body: &[u8],
) -> String {
    // Written piece by piece into one buffer of the final size (signing is on every v2
    // request); the same string as
    // `format!("{SIGNATURE_VERSION}.{timestamp}.{nonce}.{METHOD}.{path_with_query}.{body_hash}")`.
    let mut timestamp_digits = itoa::Buffer::new();
    let timestamp = timestamp_digits.format(timestamp);
    let mut canonical = String::with_capacity(
        SIGNATURE_VERSION.len()
            + timestamp.len()
            + nonce.len()
            + method.len()
            + path_with_query.len()
            + 64
            + 5,
    );
    canonical.push_str(SIGNATURE_VERSION);
    canonical.push('.');
    canonical.push_str(timestamp);
    canonical.push('.');
    canonical.push_str(nonce);
    canonical.push('.');
    canonical.extend(method.chars().map(|c| c.to_ascii_uppercase()));
    canonical.push('.');
    canonical.push_str(path_with_query);
    canonical.push('.');
    push_hex(&mut canonical, &Sha256::digest(body).into());
    canonical
}

/// Appends the 64 lowercase hex digits of a SHA-256 digest (or HMAC) to `out`, without
/// allocating.
fn push_hex(out: &mut String, digest: &[u8; 32]) {
    let mut digits = [0u8; 64];
    hex::encode_to_slice(digest, &mut digits).expect("64 hex digits for 32 bytes");
    // Hex digits are ASCII.
    out.extend(digits.iter().map(|&b| char::from(b)));
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Computes the lowercase hex HMAC-SHA256 of `canonical`, keyed with the UTF-8 bytes
/// of `secret`. This is the digest part of `X-Signature` (without [`SIGNATURE_PREFIX`]).
pub fn signature_v1(secret: &SecretString, canonical: &str) -> String {
    hex::encode(hmac_sha256(
        secret.expose_secret().as_bytes(),
        canonical.as_bytes(),
    ))
}

/// Returns a fresh nonce: 32 lowercase hex characters (128 bits) from a CSPRNG
/// (`rand`'s thread-local ChaCha generator, seeded from the operating system).
pub fn generate_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A merchant id and its payment HMAC secret. `Debug` never shows the secret.
#[derive(Clone)]
pub struct HmacCredentials {
    merchant_id: u64,
    /// HMAC state already keyed with the secret (its inner and outer pads hashed once), cloned
    /// per signature: the same result as [`signature_v1`], two compressions cheaper. The secret
    /// itself is not kept.
    keyed: HmacSha256,
}

impl HmacCredentials {
    /// Creates credentials from the numeric merchant id and the payment HMAC secret.
    pub fn new(merchant_id: u64, secret: impl Into<String>) -> Self {
        let secret = SecretString::from(secret.into());
        let keyed = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        Self { merchant_id, keyed }
    }

    /// The merchant id sent in `X-Merchant-Id`.
    pub fn merchant_id(&self) -> u64 {
        self.merchant_id
    }

    /// Signs a request with an explicit timestamp and nonce (deterministic; useful for
    /// tests and for retrying with the same values).
    ///
    /// `path_with_query` must be exactly what goes on the wire, e.g.
    /// `/api/v2/balance?currency=ARS`. The nonce should be [`NONCE_MIN_LEN`]–
    /// [`NONCE_MAX_LEN`] visible ASCII characters; this is not checked here (the server
    /// rejects other nonces), so prefer [`generate_nonce`] or [`Self::sign_now`].
    pub fn sign(
        &self,
        method: &str,
        path_with_query: &str,
        body: &[u8],
        timestamp: i64,
        nonce: &str,
    ) -> SignedHeaders {
        let canonical = canonical_string_v1(timestamp, nonce, method, path_with_query, body);
        let mut mac = self.keyed.clone();
        mac.update(canonical.as_bytes());
        let mut signature = String::with_capacity(SIGNATURE_PREFIX.len() + 64);
        signature.push_str(SIGNATURE_PREFIX);
        push_hex(&mut signature, &mac.finalize().into_bytes().into());
        SignedHeaders {
            merchant_id: itoa::Buffer::new().format(self.merchant_id).to_owned(),
            timestamp: itoa::Buffer::new().format(timestamp).to_owned(),
            nonce: nonce.to_owned(),
            version: SIGNATURE_VERSION,
            signature,
        }
    }

    /// Signs a request with the current Unix time and a fresh [`generate_nonce`].
    pub fn sign_now(&self, method: &str, path_with_query: &str, body: &[u8]) -> SignedHeaders {
        self.sign(method, path_with_query, body, unix_now(), &generate_nonce())
    }
}

impl fmt::Debug for HmacCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacCredentials")
            .field("merchant_id", &self.merchant_id)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// The five signature header values for one request (none of them is secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// Value of `X-Merchant-Id`.
    pub merchant_id: String,
    /// Value of `X-Timestamp` (Unix seconds).
    pub timestamp: String,
    /// Value of `X-Nonce`.
    pub nonce: String,
    /// Value of `X-Signature-Version` (always [`SIGNATURE_VERSION`]).
    pub version: &'static str,
    /// Value of `X-Signature`: the full `hmac_sha256=<hex>` string.
    pub signature: String,
}

impl SignedHeaders {
    /// Inserts (replacing any existing values) the five headers into `headers`.
    ///
    /// All values are ASCII by construction except a caller-chosen nonce passed to
    /// [`HmacCredentials::sign`]; if that is not a valid header value it is left out
    /// (the server will then answer with a missing-header error). Use
    /// [`Self::try_apply`] to get an error instead.
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in self.header_values() {
            if let Ok(value) = value {
                headers.insert(name, value);
            }
        }
    }

    /// Like [`Self::apply`], but fails (leaving `headers` untouched) when a value is
    /// not a valid HTTP header value.
    pub fn try_apply(&self, headers: &mut HeaderMap) -> Result<(), InvalidHeaderValue> {
        let mut values = Vec::with_capacity(5);
        for (name, value) in self.header_values() {
            values.push((name, value?));
        }
        for (name, value) in values {
            headers.insert(name, value);
        }
        Ok(())
    }

    fn header_values(&self) -> [(HeaderName, Result<HeaderValue, InvalidHeaderValue>); 5] {
        [
            (NAME_MERCHANT_ID, HeaderValue::from_str(&self.merchant_id)),
            (NAME_TIMESTAMP, HeaderValue::from_str(&self.timestamp)),
            (NAME_NONCE, HeaderValue::from_str(&self.nonce)),
            (
                NAME_SIGNATURE_VERSION,
                Ok(HeaderValue::from_static(self.version)),
            ),
            (NAME_SIGNATURE, HeaderValue::from_str(&self.signature)),
        ]
    }

    /// The headers as `(name, value)` pairs, names as in [`HEADER_MERCHANT_ID`] etc.,
    /// for HTTP stacks that do not use [`http::HeaderMap`].
    pub fn to_pairs(&self) -> [(&'static str, String); 5] {
        [
            (HEADER_MERCHANT_ID, self.merchant_id.clone()),
            (HEADER_TIMESTAMP, self.timestamp.clone()),
            (HEADER_NONCE, self.nonce.clone()),
            (HEADER_SIGNATURE_VERSION, self.version.to_owned()),
            (HEADER_SIGNATURE, self.signature.clone()),
        ]
    }
}

/// The authenticated values of a request that passed [`verify_v1`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The merchant id from `X-Merchant-Id`.
    pub merchant_id: u64,
    /// The timestamp from `X-Timestamp` (Unix seconds).
    pub timestamp: i64,
    /// The nonce from `X-Nonce`; the server must check it was not used before.
    pub nonce: String,
}

/// Why a v2 request signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A required header is absent; holds its name (e.g. [`HEADER_NONCE`]).
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// `X-Merchant-Id` is not a decimal unsigned integer.
    #[error("invalid X-Merchant-Id")]
    InvalidMerchantId,
    /// `X-Timestamp` is not decimal Unix seconds.
    #[error("invalid X-Timestamp")]
    InvalidTimestamp,
    /// `X-Timestamp` is more than [`REPLAY_WINDOW_SECS`] away from the server clock.
    #[error("X-Timestamp outside the ±{REPLAY_WINDOW_SECS}s window (skew {skew_secs}s)")]
    TimestampOutOfWindow {
        /// Server time minus request timestamp; positive means the request is old.
        skew_secs: i64,
    },
    /// `X-Nonce` is shorter than [`NONCE_MIN_LEN`] or longer than [`NONCE_MAX_LEN`].
    #[error("X-Nonce length {len} outside {NONCE_MIN_LEN}..={NONCE_MAX_LEN}")]
    InvalidNonceLength {
        /// The length that was received.
        len: usize,
    },
    /// `X-Nonce` contains characters other than visible ASCII.
    #[error("X-Nonce is not visible ASCII")]
    InvalidNonce,
    /// `X-Signature-Version` is not [`SIGNATURE_VERSION`]; holds the received value.
    #[error("unsupported X-Signature-Version {0:?}")]
    UnsupportedVersion(String),
    /// `X-Signature` is not `hmac_sha256=` followed by 64 hex digits.
    #[error("malformed X-Signature")]
    MalformedSignature,
    /// The signature is well formed but does not match the request.
    #[error("signature mismatch")]
    SignatureMismatch,
}

fn header_str<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
    label: &'static str,
) -> Result<Result<&'h str, ()>, SignatureError> {
    let value = headers
        .get(name)
        .ok_or(SignatureError::MissingHeader(label))?;
    Ok(value.to_str().map_err(|_| ()))
}

fn parse_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Reads `X-Merchant-Id`, so a server can look up the merchant's secret before
/// calling [`verify_v1`]. The id is **not** authenticated by this call.
pub fn extract_merchant_id(headers: &HeaderMap) -> Result<u64, SignatureError> {
    let raw = header_str(headers, &NAME_MERCHANT_ID, HEADER_MERCHANT_ID)?
        .map_err(|()| SignatureError::InvalidMerchantId)?;
    parse_decimal(raw).ok_or(SignatureError::InvalidMerchantId)
}

/// Verifies a v2 request signature (server side; used by `luxcore-mock`).
///
/// `secret` is the payment HMAC secret of the merchant named in `X-Merchant-Id`
/// (see [`extract_merchant_id`]); `method`, `path_with_query` and `body` are the
/// request as received (path and query exactly as on the wire, body as raw bytes);
/// `now_unix` is the server clock in Unix seconds.
///
/// Checks, in order: version, merchant id, timestamp format and window
/// (±[`REPLAY_WINDOW_SECS`], inclusive), nonce length, signature format, then the
/// HMAC in constant time.
///
/// **Nonce replay is not tracked here**: the caller must remember the returned
/// [`VerifiedRequest::nonce`] (per merchant) for [`REPLAY_WINDOW_SECS`] and reject
/// a repeat.
pub fn verify_v1(
    secret: &SecretString,
    headers: &HeaderMap,
    method: &str,
    path_with_query: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<VerifiedRequest, SignatureError> {
    let version = headers
        .get(NAME_SIGNATURE_VERSION)
        .ok_or(SignatureError::MissingHeader(HEADER_SIGNATURE_VERSION))?;
    if version.as_bytes() != SIGNATURE_VERSION.as_bytes() {
        return Err(SignatureError::UnsupportedVersion(
            String::from_utf8_lossy(version.as_bytes()).into_owned(),
        ));
    }

    let merchant_id = extract_merchant_id(headers)?;

    let timestamp: i64 = header_str(headers, &NAME_TIMESTAMP, HEADER_TIMESTAMP)?
        .ok()
        .and_then(parse_decimal)
        .ok_or(SignatureError::InvalidTimestamp)?;
    let skew_secs = now_unix.saturating_sub(timestamp);
    if skew_secs.unsigned_abs() > REPLAY_WINDOW_SECS.unsigned_abs() {
        return Err(SignatureError::TimestampOutOfWindow { skew_secs });
    }

    let nonce = header_str(headers, &NAME_NONCE, HEADER_NONCE)?
        .map_err(|()| SignatureError::InvalidNonce)?;
    // `to_str` succeeded, so the nonce is visible ASCII: bytes == characters.
    if !(NONCE_MIN_LEN..=NONCE_MAX_LEN).contains(&nonce.len()) {
        return Err(SignatureError::InvalidNonceLength { len: nonce.len() });
    }

    let given = header_str(headers, &NAME_SIGNATURE, HEADER_SIGNATURE)?
        .ok()
        .and_then(|s| s.strip_prefix(SIGNATURE_PREFIX))
        .and_then(|hex_digest| {
            let mut out = [0u8; 32];
            hex::decode_to_slice(hex_digest, &mut out)
                .ok()
                .map(|()| out)
        })
        .ok_or(SignatureError::MalformedSignature)?;

    let canonical = canonical_string_v1(timestamp, nonce, method, path_with_query, body);
    let expected = hmac_sha256(secret.expose_secret().as_bytes(), canonical.as_bytes());
    if !bool::from(expected.ct_eq(&given)) {
        return Err(SignatureError::SignatureMismatch);
    }

    Ok(VerifiedRequest {
        merchant_id,
        timestamp,
        nonce: nonce.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_string_is_the_documented_template() {
        for (ts, nonce, method, path, body) in [
            (
                1_700_000_000,
                "n1",
                "post",
                "/api/v2/payments?a=1%202",
                &b"{}"[..],
            ),
            (-5, "", "GET", "/", &b""[..]),
            (
                i64::MAX,
                "0123456789abcdef",
                "Delete",
                "/x.y/z",
                &[0xff; 70][..],
            ),
        ] {
            let body_hash = hex::encode(Sha256::digest(body));
            let expected = format!(
                "{SIGNATURE_VERSION}.{ts}.{nonce}.{}.{path}.{body_hash}",
                method.to_ascii_uppercase()
            );
            assert_eq!(canonical_string_v1(ts, nonce, method, path, body), expected);
        }
    }

    const SECRET: &str = "hmac_test_secret_local";
    const TS: i64 = 1_700_000_000;
    const NONCE: &str = "abcdef0123456789";
    const MERCHANT: u64 = 4242;

    // printf '%s' '{"amount":150000}' | sha256sum
    const JSON_BODY: &[u8] = br#"{"amount":150000}"#;
    const JSON_BODY_SHA256: &str =
        "ab3cfe23968ef87a07d065dc005a24cd96fbb97261c02805fc1602aab406e90f";
    // printf '' | sha256sum
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    // printf '%s' 'v1.1700000000.abcdef0123456789.POST./api/v2/payments.ab3cfe23968ef87a07d065dc005a24cd96fbb97261c02805fc1602aab406e90f' \
    //   | openssl dgst -sha256 -hmac 'hmac_test_secret_local'
    const KAT_POST: &str = "fbe60e976094319269c75e4227f3b58f8ad813cada4a70c962647e1b47678a2d";
    // printf '%s' 'v1.1700000000.abcdef0123456789.GET./api/v2/balance?currency=ARS.e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
    //   | openssl dgst -sha256 -hmac 'hmac_test_secret_local'
    const KAT_GET_QUERY: &str = "8c1086f6e98bdb6c92c7f02b88d45780a387dd758bcb30256ebdcdc514f13300";
    // printf '%s' 'v1.1700000000.abcdef0123456789.GET./api/v2/customers/cus%2F42?email=a%40b.com.e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
    //   | openssl dgst -sha256 -hmac 'hmac_test_secret_local'
    const KAT_PERCENT: &str = "a5740e19b12e780574e3b341d285a58d46db8fc391ebdc7e8268cb90aa60c3c9";
    const PERCENT_PATH: &str = "/api/v2/customers/cus%2F42?email=a%40b.com";

    fn secret() -> SecretString {
        SecretString::from(SECRET)
    }

    fn creds() -> HmacCredentials {
        HmacCredentials::new(MERCHANT, SECRET)
    }

    fn signed_headers(method: &str, path: &str, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        creds()
            .sign(method, path, body, TS, NONCE)
            .try_apply(&mut headers)
            .unwrap();
        headers
    }

    fn verify(
        headers: &HeaderMap,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<VerifiedRequest, SignatureError> {
        verify_v1(&secret(), headers, method, path, body, TS)
    }

    #[test]
    fn canonical_string_post_json() {
        assert_eq!(
            canonical_string_v1(TS, NONCE, "post", "/api/v2/payments", JSON_BODY),
            format!("v1.1700000000.abcdef0123456789.POST./api/v2/payments.{JSON_BODY_SHA256}")
        );
    }

    #[test]
    fn canonical_string_empty_body_keeps_query() {
        assert_eq!(
            canonical_string_v1(TS, NONCE, "GET", "/api/v2/balance?currency=ARS", b""),
            format!(
                "v1.1700000000.abcdef0123456789.GET./api/v2/balance?currency=ARS.{EMPTY_SHA256}"
            )
        );
    }

    #[test]
    fn known_answer_post_json_body() {
        let canonical = canonical_string_v1(TS, NONCE, "POST", "/api/v2/payments", JSON_BODY);
        assert_eq!(signature_v1(&secret(), &canonical), KAT_POST);
        let signed = creds().sign("POST", "/api/v2/payments", JSON_BODY, TS, NONCE);
        assert_eq!(signed.signature, format!("hmac_sha256={KAT_POST}"));
    }

    #[test]
    fn known_answer_get_empty_body_with_query() {
        let signed = creds().sign("GET", "/api/v2/balance?currency=ARS", b"", TS, NONCE);
        assert_eq!(
            signed.signature,
            format!("{SIGNATURE_PREFIX}{KAT_GET_QUERY}")
        );
    }

    #[test]
    fn known_answer_percent_encoded_path_is_signed_verbatim() {
        let signed = creds().sign("get", PERCENT_PATH, b"", TS, NONCE);
        assert_eq!(signed.signature, format!("{SIGNATURE_PREFIX}{KAT_PERCENT}"));
        // Decoding the path changes the signature.
        let decoded = creds().sign(
            "GET",
            "/api/v2/customers/cus/42?email=a@b.com",
            b"",
            TS,
            NONCE,
        );
        assert_ne!(decoded.signature, signed.signature);
    }

    #[test]
    fn signed_headers_fields_and_pairs() {
        let signed = creds().sign("POST", "/api/v2/payments", JSON_BODY, TS, NONCE);
        assert_eq!(signed.merchant_id, "4242");
        assert_eq!(signed.timestamp, "1700000000");
        assert_eq!(signed.nonce, NONCE);
        assert_eq!(signed.version, "v1");
        let pairs = signed.to_pairs();
        assert_eq!(pairs[0], ("X-Merchant-Id", "4242".to_owned()));
        assert_eq!(pairs[1], ("X-Timestamp", "1700000000".to_owned()));
        assert_eq!(pairs[2], ("X-Nonce", NONCE.to_owned()));
        assert_eq!(pairs[3], ("X-Signature-Version", "v1".to_owned()));
        assert_eq!(pairs[4], ("X-Signature", format!("hmac_sha256={KAT_POST}")));
    }

    #[test]
    fn apply_sets_all_headers_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.insert("x-nonce", HeaderValue::from_static("stale-value"));
        creds()
            .sign("POST", "/api/v2/payments", JSON_BODY, TS, NONCE)
            .apply(&mut headers);
        assert_eq!(headers.len(), 5);
        assert_eq!(headers["X-Merchant-Id"], "4242");
        assert_eq!(headers["X-Timestamp"], "1700000000");
        assert_eq!(headers["X-Nonce"], NONCE);
        assert_eq!(headers["X-Signature-Version"], "v1");
        assert_eq!(
            headers["X-Signature"],
            format!("hmac_sha256={KAT_POST}").as_str()
        );
    }

    #[test]
    fn apply_with_invalid_nonce_does_not_panic() {
        let signed = creds().sign("GET", "/x", b"", TS, "bad\nnonce-value");
        let mut headers = HeaderMap::new();
        signed.apply(&mut headers);
        assert!(headers.get(HEADER_NONCE).is_none());
        assert_eq!(headers.len(), 4);
        let mut untouched = HeaderMap::new();
        assert!(signed.try_apply(&mut untouched).is_err());
        assert!(untouched.is_empty());
    }

    #[test]
    fn round_trip_ok() {
        let headers = signed_headers("POST", "/api/v2/payments", JSON_BODY);
        let verified = verify(&headers, "POST", "/api/v2/payments", JSON_BODY).unwrap();
        assert_eq!(
            verified,
            VerifiedRequest {
                merchant_id: MERCHANT,
                timestamp: TS,
                nonce: NONCE.to_owned()
            }
        );
        assert_eq!(extract_merchant_id(&headers), Ok(MERCHANT));
    }

    #[test]
    fn round_trip_sign_now() {
        let signed = creds().sign_now("GET", "/api/v2/balance?currency=ARS", b"");
        let mut headers = HeaderMap::new();
        signed.apply(&mut headers);
        let now = unix_now();
        let verified = verify_v1(
            &secret(),
            &headers,
            "GET",
            "/api/v2/balance?currency=ARS",
            b"",
            now,
        )
        .unwrap();
        assert!((now - verified.timestamp).abs() <= 5);
        assert_eq!(verified.nonce.len(), 32);
    }

    #[test]
    fn round_trip_percent_encoded_path_and_lowercase_method() {
        let headers = signed_headers("get", PERCENT_PATH, b"");
        assert!(verify(&headers, "GET", PERCENT_PATH, b"").is_ok());
    }

    #[test]
    fn window_boundaries() {
        let headers = signed_headers("POST", "/api/v2/payments", JSON_BODY);
        for now in [TS - 300, TS + 300] {
            assert!(
                verify_v1(
                    &secret(),
                    &headers,
                    "POST",
                    "/api/v2/payments",
                    JSON_BODY,
                    now
                )
                .is_ok()
            );
        }
    }

    #[test]
    fn tampering_is_a_mismatch() {
        let headers = signed_headers("POST", "/api/v2/payments?x=1", JSON_BODY);
        let cases: [(&str, &str, &[u8]); 4] = [
            ("POST", "/api/v2/payments?x=1", br#"{"amount":150001}"#),
            ("PUT", "/api/v2/payments?x=1", JSON_BODY),
            ("POST", "/api/v2/payments?x=2", JSON_BODY),
            ("POST", "/api/v2/payments", JSON_BODY),
        ];
        for (method, path, body) in cases {
            assert_eq!(
                verify(&headers, method, path, body),
                Err(SignatureError::SignatureMismatch)
            );
        }
        let wrong = SecretString::from("hmac_other_secret");
        assert_eq!(
            verify_v1(
                &wrong,
                &headers,
                "POST",
                "/api/v2/payments?x=1",
                JSON_BODY,
                TS
            ),
            Err(SignatureError::SignatureMismatch)
        );
    }

    #[test]
    fn tampered_headers_are_a_mismatch() {
        let mut headers = signed_headers("POST", "/api/v2/payments", JSON_BODY);
        headers.insert(NAME_NONCE, HeaderValue::from_static("abcdef0123456780"));
        assert_eq!(
            verify(&headers, "POST", "/api/v2/payments", JSON_BODY),
            Err(SignatureError::SignatureMismatch)
        );

        let mut headers = signed_headers("POST", "/api/v2/payments", JSON_BODY);
        headers.insert(NAME_TIMESTAMP, HeaderValue::from_static("1700000001"));
        assert_eq!(
            verify(&headers, "POST", "/api/v2/payments", JSON_BODY),
            Err(SignatureError::SignatureMismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps() {
        let headers = signed_headers("POST", "/api/v2/payments", JSON_BODY);
        assert_eq!(
            verify_v1(
                &secret(),
                &headers,
                "POST",
                "/api/v2/payments",
                JSON_BODY,
                TS + 301
            ),
            Err(SignatureError::TimestampOutOfWindow { skew_secs: 301 })
        );
        assert_eq!(
            verify_v1(
                &secret(),
                &headers,
                "POST",
                "/api/v2/payments",
                JSON_BODY,
                TS - 301
            ),
            Err(SignatureError::TimestampOutOfWindow { skew_secs: -301 })
        );
        // A request stamped now-301 is stale.
        let creds = creds();
        let now = 1_800_000_000;
        let mut headers = HeaderMap::new();
        creds
            .sign("GET", "/", b"", now - 301, NONCE)
            .apply(&mut headers);
        assert_eq!(
            verify_v1(&secret(), &headers, "GET", "/", b"", now),
            Err(SignatureError::TimestampOutOfWindow { skew_secs: 301 })
        );
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let mut headers = signed_headers("GET", "/", b"");
        headers.insert(
            NAME_TIMESTAMP,
            HeaderValue::from_static("9223372036854775807"),
        );
        assert!(matches!(
            verify_v1(&secret(), &headers, "GET", "/", b"", i64::MIN),
            Err(SignatureError::TimestampOutOfWindow { .. })
        ));
        headers.insert(
            NAME_TIMESTAMP,
            HeaderValue::from_static("99999999999999999999"),
        );
        assert_eq!(
            verify(&headers, "GET", "/", b""),
            Err(SignatureError::InvalidTimestamp)
        );
    }

    #[test]
    fn nonce_length_limits() {
        for (len, ok) in [(7, false), (8, true), (128, true), (129, false)] {
            let nonce = "n".repeat(len);
            let mut headers = HeaderMap::new();
            creds()
                .sign("GET", "/", b"", TS, &nonce)
                .apply(&mut headers);
            let result = verify(&headers, "GET", "/", b"");
            if ok {
                assert!(result.is_ok(), "len {len}");
            } else {
                assert_eq!(result, Err(SignatureError::InvalidNonceLength { len }));
            }
        }
    }

    #[test]
    fn non_ascii_nonce_is_invalid() {
        let mut headers = signed_headers("GET", "/", b"");
        headers.insert(
            NAME_NONCE,
            HeaderValue::from_bytes(b"abcdefgh\xff").unwrap(),
        );
        assert_eq!(
            verify(&headers, "GET", "/", b""),
            Err(SignatureError::InvalidNonce)
        );
    }

    #[test]
    fn missing_headers() {
        let cases = [
            (NAME_MERCHANT_ID, HEADER_MERCHANT_ID),
            (NAME_TIMESTAMP, HEADER_TIMESTAMP),
            (NAME_NONCE, HEADER_NONCE),
            (NAME_SIGNATURE_VERSION, HEADER_SIGNATURE_VERSION),
            (NAME_SIGNATURE, HEADER_SIGNATURE),
        ];
        for (name, label) in cases {
            let mut headers = signed_headers("GET", "/", b"");
            headers.remove(&name);
            assert_eq!(
                verify(&headers, "GET", "/", b""),
                Err(SignatureError::MissingHeader(label))
            );
        }
        assert_eq!(
            extract_merchant_id(&HeaderMap::new()),
            Err(SignatureError::MissingHeader(HEADER_MERCHANT_ID))
        );
    }

    #[test]
    fn invalid_header_values() {
        for bad in ["", "abc", "-1", "+1", "1.0", "18446744073709551616"] {
            let mut headers = signed_headers("GET", "/", b"");
            headers.insert(NAME_MERCHANT_ID, HeaderValue::from_str(bad).unwrap());
            assert_eq!(
                verify(&headers, "GET", "/", b""),
                Err(SignatureError::InvalidMerchantId),
                "{bad:?}"
            );
        }
        for bad in ["", "soon", "-1700000000", "+1700000000", "1700000000.5"] {
            let mut headers = signed_headers("GET", "/", b"");
            headers.insert(NAME_TIMESTAMP, HeaderValue::from_str(bad).unwrap());
            assert_eq!(
                verify(&headers, "GET", "/", b""),
                Err(SignatureError::InvalidTimestamp),
                "{bad:?}"
            );
        }
        for bad in ["v2", "", "V1"] {
            let mut headers = signed_headers("GET", "/", b"");
            headers.insert(NAME_SIGNATURE_VERSION, HeaderValue::from_str(bad).unwrap());
            assert_eq!(
                verify(&headers, "GET", "/", b""),
                Err(SignatureError::UnsupportedVersion(bad.to_owned()))
            );
        }
    }

    #[test]
    fn garbage_signatures_are_malformed() {
        let bad_values = [
            "".to_owned(),
            "garbage".to_owned(),
            KAT_GET_QUERY.to_owned(),                   // missing prefix
            format!("sha256={KAT_GET_QUERY}"),          // wrong prefix
            format!("hmac_sha256={}", "zz".repeat(32)), // not hex
            format!("hmac_sha256={}", &KAT_GET_QUERY[..62]), // too short
            format!("hmac_sha256={KAT_GET_QUERY}00"),   // too long
            "hmac_sha256=".to_owned(),
        ];
        for bad in bad_values {
            let mut headers = signed_headers("GET", "/api/v2/balance?currency=ARS", b"");
            headers.insert(NAME_SIGNATURE, HeaderValue::from_str(&bad).unwrap());
            assert_eq!(
                verify(&headers, "GET", "/api/v2/balance?currency=ARS", b""),
                Err(SignatureError::MalformedSignature),
                "{bad:?}"
            );
        }
        let mut headers = signed_headers("GET", "/", b"");
        headers.insert(
            NAME_SIGNATURE,
            HeaderValue::from_bytes(b"hmac_sha256=\xff").unwrap(),
        );
        assert_eq!(
            verify(&headers, "GET", "/", b""),
            Err(SignatureError::MalformedSignature)
        );
    }

    #[test]
    fn uppercase_hex_signature_is_accepted() {
        let mut headers = signed_headers("GET", "/api/v2/balance?currency=ARS", b"");
        let upper = format!("hmac_sha256={}", KAT_GET_QUERY.to_ascii_uppercase());
        headers.insert(NAME_SIGNATURE, HeaderValue::from_str(&upper).unwrap());
        assert!(verify(&headers, "GET", "/api/v2/balance?currency=ARS", b"").is_ok());
    }

    #[test]
    fn nonce_is_32_lowercase_hex_and_fresh() {
        let a = generate_nonce();
        let b = generate_nonce();
        for n in [&a, &b] {
            assert_eq!(n.len(), 32);
            assert!(
                n.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
                "{n}"
            );
        }
        assert_ne!(a, b);
    }

    #[test]
    fn debug_does_not_leak_secret() {
        let creds = creds();
        let debug = format!("{creds:?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(debug.contains("4242"));
        assert!(debug.contains("REDACTED"));
        assert_eq!(creds.merchant_id(), MERCHANT);
        let cloned = creds.clone();
        assert!(!format!("{cloned:#?}").contains(SECRET));
    }
}
