//! Webhook delivery signatures: the signed payload, signing (LuxCore's side, and the mock's)
//! and verification with one [`WebhookVerifier`] built once from the endpoint secret.
//!
//! Each LuxCore webhook endpoint has a secret starting with `whsec_` (shown once, at
//! creation) and `signature_algorithm: "hmac_sha256"`. **The verification scheme
//! itself is not in the public docs; everything below is an ASSUMED scheme "v1"**,
//! which `luxcore-mock` uses to sign its deliveries:
//!
//! * headers: `X-LuxCore-Signature: hmac_sha256=<lowercase hex>`,
//!   `X-LuxCore-Timestamp: <unix seconds>` and (informational) `X-LuxCore-Event-Id`;
//! * signed message: [`signed_payload_v1`], i.e. `v1.` + timestamp + `.` + raw body;
//! * key: the whole `whsec_...` string as UTF-8 bytes; algorithm HMAC-SHA256.
//!
//! The header names and tolerance are configurable through [`SignatureScheme`] in case
//! the real ones differ. Always verify the **raw** request body, before any JSON
//! parsing or re-serialisation.
//!
//! ```
//! use luxcore_auth::webhook::{WebhookVerifier, sign_v1, HEADER_SIGNATURE, HEADER_TIMESTAMP};
//! use secrecy::SecretString;
//!
//! let body = br#"{"id":"evt_1"}"#;
//! let now = 1_700_000_000;
//! let mut headers = http::HeaderMap::new();
//! let secret = SecretString::from("whsec_test");
//! headers.insert(HEADER_SIGNATURE, sign_v1(&secret, now, body).parse().unwrap());
//! headers.insert(HEADER_TIMESTAMP, now.to_string().parse().unwrap());
//!
//! let verifier = WebhookVerifier::new("whsec_test"); // once, at start-up
//! let delivery = verifier.verify_at(&headers, body, now + 5).unwrap();
//! assert_eq!(delivery.timestamp, now);
//! ```

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::unix_now;

/// Default header carrying the delivery signature(s).
pub const HEADER_SIGNATURE: &str = "X-LuxCore-Signature";
/// Default header carrying the delivery time as Unix seconds.
pub const HEADER_TIMESTAMP: &str = "X-LuxCore-Timestamp";
/// Header carrying the event id (informational, not signed separately).
pub const HEADER_EVENT_ID: &str = "X-LuxCore-Event-Id";
/// Prefix written before the hex digest in the signature header.
pub const SIGNATURE_PREFIX: &str = "hmac_sha256=";
/// Alternative prefix accepted when verifying.
const ALT_SIGNATURE_PREFIX: &str = "sha256=";
/// Prefix of webhook secrets as issued by LuxCore.
pub const SECRET_PREFIX: &str = "whsec_";
/// Default maximum distance between the delivery timestamp and the local clock.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

type HmacSha256 = Hmac<Sha256>;

/// Builds the bytes that are signed: `v1.` + decimal `timestamp` + `.` + `raw_body`.
///
/// **ASSUMED template** (the public docs do not describe webhook signing). This is the
/// single place to change it; [`sign_v1`], [`WebhookVerifier`] and `luxcore-mock` all go
/// through this function.
pub fn signed_payload_v1(timestamp: i64, raw_body: &[u8]) -> Vec<u8> {
    let ts = timestamp.to_string();
    let mut payload = Vec::with_capacity(4 + ts.len() + raw_body.len());
    payload.extend_from_slice(b"v1.");
    payload.extend_from_slice(ts.as_bytes());
    payload.push(b'.');
    payload.extend_from_slice(raw_body);
    payload
}

fn keyed(secret: &SecretString) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length")
}

fn digest_v1(keyed: &HmacSha256, timestamp: i64, raw_body: &[u8]) -> [u8; 32] {
    let mut mac = keyed.clone();
    mac.update(&signed_payload_v1(timestamp, raw_body));
    mac.finalize().into_bytes().into()
}

/// Signs a delivery and returns the full signature header value,
/// `hmac_sha256=<lowercase hex>`. `secret` is the whole `whsec_...` string.
pub fn sign_v1(secret: &SecretString, timestamp: i64, raw_body: &[u8]) -> String {
    format!(
        "{SIGNATURE_PREFIX}{}",
        hex::encode(digest_v1(&keyed(secret), timestamp, raw_body))
    )
}

/// Why a webhook delivery failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookVerifyError {
    /// A required header is absent; holds its name.
    #[error("missing header {0}")]
    MissingHeader(String),
    /// The timestamp header is not decimal Unix seconds.
    #[error("invalid webhook timestamp")]
    InvalidTimestamp,
    /// The timestamp is further from the local clock than the tolerance allows.
    #[error("webhook timestamp outside tolerance (skew {skew_secs}s)")]
    TimestampOutOfTolerance {
        /// Local time minus delivery timestamp; positive means the delivery is old.
        skew_secs: i64,
    },
    /// The signature header holds no well-formed HMAC-SHA256 hex digest.
    #[error("malformed webhook signature")]
    MalformedSignature,
    /// No signature in the header matches the body, timestamp and secret.
    #[error("webhook signature mismatch")]
    SignatureMismatch,
}

/// Where to find the signature and timestamp, and how much clock skew to accept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureScheme {
    /// Name of the signature header (default [`HEADER_SIGNATURE`]).
    pub signature_header: String,
    /// Name of the timestamp header (default [`HEADER_TIMESTAMP`]).
    pub timestamp_header: String,
    /// Maximum accepted distance between the timestamp and now, in either direction
    /// (default [`DEFAULT_TOLERANCE`], 300 s). Whole seconds are used.
    pub tolerance: Duration,
}

impl Default for SignatureScheme {
    fn default() -> Self {
        Self {
            signature_header: HEADER_SIGNATURE.to_owned(),
            timestamp_header: HEADER_TIMESTAMP.to_owned(),
            tolerance: DEFAULT_TOLERANCE,
        }
    }
}

/// What a verified delivery proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedDelivery {
    /// The signed delivery timestamp (Unix seconds).
    pub timestamp: i64,
}

/// The one webhook verification entry point: built once from the endpoint's `whsec_…`
/// secret (and, during a rotation, the previous one) and a [`SignatureScheme`], then shared
/// (`Clone`, `Send`, `Sync`) by every request handler.
///
/// The HMAC is keyed once here, not per delivery. `Debug` never shows the secrets.
#[derive(Clone)]
pub struct WebhookVerifier {
    keys: Vec<HmacSha256>,
    scheme: SignatureScheme,
}

impl WebhookVerifier {
    /// A verifier for one endpoint secret with the default [`SignatureScheme`].
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self {
            keys: vec![keyed(&secret.into())],
            scheme: SignatureScheme::default(),
        }
    }

    /// Also accepts deliveries signed with `secret` (e.g. the previous secret while a
    /// rotation is under way).
    #[must_use]
    pub fn also_accept(mut self, secret: impl Into<SecretString>) -> Self {
        self.keys.push(keyed(&secret.into()));
        self
    }

    /// Replaces the header names and tolerance.
    #[must_use]
    pub fn scheme(mut self, scheme: SignatureScheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Sets the maximum accepted clock skew (default 300 s).
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.scheme.tolerance = tolerance;
        self
    }

    /// The header names and tolerance in use.
    pub fn signature_scheme(&self) -> &SignatureScheme {
        &self.scheme
    }

    /// Verifies a delivery against the current system time. See [`Self::verify_at`].
    pub fn verify(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
    ) -> Result<VerifiedDelivery, WebhookVerifyError> {
        self.verify_at(headers, raw_body, unix_now())
    }

    /// Verifies a delivery as of `now_unix` (Unix seconds).
    ///
    /// The signature header may hold the hex digest with the `hmac_sha256=` prefix, a
    /// `sha256=` prefix or bare, and may list several comma-separated signatures (and
    /// may be repeated) during secret rotation: verification succeeds if any of them
    /// matches any accepted secret. Digests are compared in constant time. The timestamp
    /// must be within the scheme's tolerance of `now_unix` in either direction.
    pub fn verify_at(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
        now_unix: i64,
    ) -> Result<VerifiedDelivery, WebhookVerifyError> {
        let scheme = &self.scheme;
        let timestamp_value = headers
            .get(scheme.timestamp_header.as_str())
            .ok_or_else(|| WebhookVerifyError::MissingHeader(scheme.timestamp_header.clone()))?;
        let mut signature_values = headers
            .get_all(scheme.signature_header.as_str())
            .iter()
            .peekable();
        if signature_values.peek().is_none() {
            return Err(WebhookVerifyError::MissingHeader(
                scheme.signature_header.clone(),
            ));
        }

        let timestamp = parse_timestamp(timestamp_value.as_bytes())
            .ok_or(WebhookVerifyError::InvalidTimestamp)?;
        let skew_secs = now_unix.saturating_sub(timestamp);
        if skew_secs.unsigned_abs() > scheme.tolerance.as_secs() {
            return Err(WebhookVerifyError::TimestampOutOfTolerance { skew_secs });
        }

        let candidates: Vec<[u8; 32]> = signature_values
            .flat_map(|value| value.as_bytes().split(|&b| b == b','))
            .filter_map(parse_signature)
            .collect();
        if candidates.is_empty() {
            return Err(WebhookVerifyError::MalformedSignature);
        }

        let mut matched = subtle::Choice::from(0);
        for key in &self.keys {
            let expected = digest_v1(key, timestamp, raw_body);
            for candidate in &candidates {
                matched |= expected.ct_eq(candidate);
            }
        }
        if bool::from(matched) {
            Ok(VerifiedDelivery { timestamp })
        } else {
            Err(WebhookVerifyError::SignatureMismatch)
        }
    }
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secrets", &format_args!("[REDACTED; {}]", self.keys.len()))
            .field("scheme", &self.scheme)
            .finish()
    }
}

fn parse_timestamp(raw: &[u8]) -> Option<i64> {
    let raw = raw.trim_ascii();
    if raw.is_empty() || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(raw).ok()?.parse().ok()
}

fn parse_signature(entry: &[u8]) -> Option<[u8; 32]> {
    let entry = entry.trim_ascii();
    let hex_digest = entry
        .strip_prefix(SIGNATURE_PREFIX.as_bytes())
        .or_else(|| entry.strip_prefix(ALT_SIGNATURE_PREFIX.as_bytes()))
        .unwrap_or(entry);
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const SECRET: &str = "whsec_test";
    const TS: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1"}"#;

    // printf '%s' 'v1.1700000000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac 'whsec_test'
    const KAT: &str = "3c047c79129cc4d8caa62cffc95acbeb2a923ad88722671550fca3bb4d13c3e6";

    fn secret() -> SecretString {
        SecretString::from(SECRET)
    }

    fn headers_with(signature: &str, timestamp: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_SIGNATURE, HeaderValue::from_str(signature).unwrap());
        headers.insert(HEADER_TIMESTAMP, HeaderValue::from_str(timestamp).unwrap());
        headers.insert(HEADER_EVENT_ID, HeaderValue::from_static("evt_1"));
        headers
    }

    fn signed_headers(timestamp: i64, body: &[u8]) -> HeaderMap {
        headers_with(&sign_v1(&secret(), timestamp, body), &timestamp.to_string())
    }

    fn verify_at(body: &[u8], headers: &HeaderMap, now: i64) -> Result<(), WebhookVerifyError> {
        WebhookVerifier::new(SECRET)
            .verify_at(headers, body, now)
            .map(|_| ())
    }

    #[test]
    fn payload_template() {
        assert_eq!(
            signed_payload_v1(TS, BODY),
            br#"v1.1700000000.{"id":"evt_1"}"#.to_vec()
        );
        assert_eq!(signed_payload_v1(-5, b""), b"v1.-5.".to_vec());
    }

    #[test]
    fn known_answer() {
        assert_eq!(sign_v1(&secret(), TS, BODY), format!("hmac_sha256={KAT}"));
        let headers = headers_with(&format!("hmac_sha256={KAT}"), "1700000000");
        assert_eq!(verify_at(BODY, &headers, TS), Ok(()));
    }

    #[test]
    fn round_trip() {
        let body = br#"{"id":"evt_2","type":"payment.approved","data":{"amount":150000}}"#;
        let headers = signed_headers(TS, body);
        assert_eq!(verify_at(body, &headers, TS + 10), Ok(()));
        assert_eq!(verify_at(body, &headers, TS - 300), Ok(()));
        assert_eq!(verify_at(body, &headers, TS + 300), Ok(()));
    }

    #[test]
    fn round_trip_with_current_time() {
        let now = unix_now();
        let headers = signed_headers(now, BODY);
        assert_eq!(
            WebhookVerifier::new(SECRET).verify(&headers, BODY),
            Ok(VerifiedDelivery { timestamp: now })
        );
    }

    #[test]
    fn prefix_variants_accepted() {
        for sig in [
            format!("hmac_sha256={KAT}"),
            format!("sha256={KAT}"),
            KAT.to_owned(),
            KAT.to_ascii_uppercase(),
            format!("  hmac_sha256={KAT} "),
        ] {
            let headers = headers_with(&sig, "1700000000");
            assert_eq!(verify_at(BODY, &headers, TS), Ok(()), "{sig:?}");
        }
    }

    #[test]
    fn rotation_list_any_match() {
        let old = sign_v1(&SecretString::from("whsec_old"), TS, BODY);
        for sig in [
            format!("{old},hmac_sha256={KAT}"),
            format!("hmac_sha256={KAT}, {old}"),
            format!("garbage,,sha256={KAT}"),
        ] {
            let headers = headers_with(&sig, "1700000000");
            assert_eq!(verify_at(BODY, &headers, TS), Ok(()), "{sig:?}");
        }
        // Repeated header lines count too.
        let mut headers = headers_with(&old, "1700000000");
        headers.append(
            HEADER_SIGNATURE,
            HeaderValue::from_str(&format!("sha256={KAT}")).unwrap(),
        );
        assert_eq!(verify_at(BODY, &headers, TS), Ok(()));
        // None matching.
        let other = sign_v1(&SecretString::from("whsec_other"), TS, BODY);
        let headers = headers_with(&format!("{old},{other}"), "1700000000");
        assert_eq!(
            verify_at(BODY, &headers, TS),
            Err(WebhookVerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn tampered_body_and_wrong_secret() {
        let headers = signed_headers(TS, BODY);
        assert_eq!(
            verify_at(br#"{"id":"evt_2"}"#, &headers, TS),
            Err(WebhookVerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify_at(br#"{"id": "evt_1"}"#, &headers, TS),
            Err(WebhookVerifyError::SignatureMismatch)
        );
        assert_eq!(
            WebhookVerifier::new("whsec_wrong").verify_at(&headers, BODY, TS),
            Err(WebhookVerifyError::SignatureMismatch)
        );
        // Changing the timestamp header invalidates the signature.
        let headers = headers_with(&sign_v1(&secret(), TS, BODY), "1700000001");
        assert_eq!(
            verify_at(BODY, &headers, TS),
            Err(WebhookVerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps() {
        let headers = signed_headers(TS, BODY);
        assert_eq!(
            verify_at(BODY, &headers, TS + 301),
            Err(WebhookVerifyError::TimestampOutOfTolerance { skew_secs: 301 })
        );
        assert_eq!(
            verify_at(BODY, &headers, TS - 301),
            Err(WebhookVerifyError::TimestampOutOfTolerance { skew_secs: -301 })
        );
        let strict = WebhookVerifier::new(SECRET).tolerance(Duration::from_secs(10));
        assert_eq!(
            strict.verify_at(&headers, BODY, TS + 11),
            Err(WebhookVerifyError::TimestampOutOfTolerance { skew_secs: 11 })
        );
        // Extreme values do not overflow.
        let headers = headers_with(&sign_v1(&secret(), i64::MAX, BODY), &i64::MAX.to_string());
        assert!(matches!(
            verify_at(BODY, &headers, i64::MIN),
            Err(WebhookVerifyError::TimestampOutOfTolerance { .. })
        ));
    }

    #[test]
    fn missing_headers() {
        let mut headers = signed_headers(TS, BODY);
        headers.remove(HEADER_SIGNATURE);
        assert_eq!(
            verify_at(BODY, &headers, TS),
            Err(WebhookVerifyError::MissingHeader(
                HEADER_SIGNATURE.to_owned()
            ))
        );
        let mut headers = signed_headers(TS, BODY);
        headers.remove(HEADER_TIMESTAMP);
        assert_eq!(
            verify_at(BODY, &headers, TS),
            Err(WebhookVerifyError::MissingHeader(
                HEADER_TIMESTAMP.to_owned()
            ))
        );
        assert!(matches!(
            verify_at(BODY, &HeaderMap::new(), TS),
            Err(WebhookVerifyError::MissingHeader(_))
        ));
    }

    #[test]
    fn garbage_timestamp() {
        for ts in [
            "",
            "soon",
            "-1700000000",
            "+1700000000",
            "1700000000.0",
            "99999999999999999999",
        ] {
            let headers = headers_with(&format!("hmac_sha256={KAT}"), ts);
            assert_eq!(
                verify_at(BODY, &headers, TS),
                Err(WebhookVerifyError::InvalidTimestamp),
                "{ts:?}"
            );
        }
        let mut headers = signed_headers(TS, BODY);
        headers.insert(
            HEADER_TIMESTAMP,
            HeaderValue::from_bytes(b"17\xff").unwrap(),
        );
        assert_eq!(
            verify_at(BODY, &headers, TS),
            Err(WebhookVerifyError::InvalidTimestamp)
        );
    }

    #[test]
    fn garbage_signature() {
        for sig in [
            "".to_owned(),
            "garbage".to_owned(),
            ",".to_owned(),
            format!("hmac_sha256={}", "zz".repeat(32)),
            format!("hmac_sha256={}", &KAT[..62]),
            format!("hmac_sha256={KAT}00"),
            format!("md5={KAT}"),
            "hmac_sha256=".to_owned(),
        ] {
            let headers = headers_with(&sig, "1700000000");
            assert_eq!(
                verify_at(BODY, &headers, TS),
                Err(WebhookVerifyError::MalformedSignature),
                "{sig:?}"
            );
        }
        let mut headers = signed_headers(TS, BODY);
        headers.insert(
            HEADER_SIGNATURE,
            HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        );
        assert_eq!(
            verify_at(BODY, &headers, TS),
            Err(WebhookVerifyError::MalformedSignature)
        );
    }

    #[test]
    fn custom_header_names() {
        let scheme = SignatureScheme {
            signature_header: "X-Webhook-Signature".to_owned(),
            timestamp_header: "X-Webhook-Timestamp".to_owned(),
            tolerance: DEFAULT_TOLERANCE,
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-webhook-signature",
            HeaderValue::from_str(&sign_v1(&secret(), TS, BODY)).unwrap(),
        );
        headers.insert(
            "x-webhook-timestamp",
            HeaderValue::from_static("1700000000"),
        );
        let verifier = WebhookVerifier::new(SECRET).scheme(scheme);
        assert_eq!(verifier.verify_at(&headers, BODY, TS).map(|_| ()), Ok(()));
        // Default names are not consulted.
        assert_eq!(
            verify_at(BODY, &headers, TS),
            Err(WebhookVerifyError::MissingHeader(
                HEADER_TIMESTAMP.to_owned()
            ))
        );
        // An invalid configured header name is reported as missing, not a panic.
        let bad = SignatureScheme {
            signature_header: "bad header\n".to_owned(),
            ..SignatureScheme::default()
        };
        assert_eq!(
            WebhookVerifier::new(SECRET)
                .scheme(bad)
                .verify_at(&signed_headers(TS, BODY), BODY, TS),
            Err(WebhookVerifyError::MissingHeader("bad header\n".to_owned()))
        );
    }

    #[test]
    fn rotation_accepts_the_previous_secret() {
        let old = SecretString::from("whsec_old");
        let headers = headers_with(&sign_v1(&old, TS, BODY), "1700000000");
        assert_eq!(
            verify_at(BODY, &headers, TS),
            Err(WebhookVerifyError::SignatureMismatch)
        );
        let rotating = WebhookVerifier::new(SECRET).also_accept("whsec_old");
        assert_eq!(
            rotating.verify_at(&headers, BODY, TS),
            Ok(VerifiedDelivery { timestamp: TS })
        );
        assert_eq!(
            rotating.verify_at(&signed_headers(TS, BODY), BODY, TS),
            Ok(VerifiedDelivery { timestamp: TS })
        );
    }

    #[test]
    fn default_scheme() {
        let scheme = SignatureScheme::default();
        assert_eq!(scheme.signature_header, "X-LuxCore-Signature");
        assert_eq!(scheme.timestamp_header, "X-LuxCore-Timestamp");
        assert_eq!(scheme.tolerance, Duration::from_secs(300));
    }

    #[test]
    fn debug_does_not_leak_secret() {
        let verifier =
            WebhookVerifier::new("whsec_super_secret_value").also_accept("whsec_old_one");
        let debug = format!("{verifier:?} {verifier:#?}");
        assert!(!debug.contains("whsec_super_secret_value"), "{debug}");
        assert!(!debug.contains("whsec_old_one"), "{debug}");
        assert!(debug.contains("REDACTED"), "{debug}");
        let err = verifier
            .verify_at(&signed_headers(TS, BODY), BODY, TS)
            .unwrap_err();
        assert!(!format!("{err:?} {err}").contains("whsec_super_secret_value"));
    }
}
