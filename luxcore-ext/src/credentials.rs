//! Credentials: an API key for API v1 and/or HMAC credentials for API v2.
//!
//! * [`ApiKey`]: sent as `X-API-Key` on every API v1 request. Test keys start
//!   with `qp_test_sk_`, production keys with `qp_prod_sk_`.
//! * [`HmacV2`]: merchant id and payment HMAC secret; every API v2 request is
//!   signed (see [`crate::auth::request`]).
//! * [`Credentials`]: either or both.
//!
//! `Debug` and `Display` never show a key or a secret.

use std::fmt;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::base::error::{Error, Result};
use crate::base::ids::MerchantId;
use luxcore_auth::HmacCredentials;

/// Prefix of test-mode API keys (simulated payments, test balances).
pub const TEST_KEY_PREFIX: &str = "qp_test_sk_";
/// Prefix of production API keys (real money).
pub const PRODUCTION_KEY_PREFIX: &str = "qp_prod_sk_";

const REDACTED: &str = "[REDACTED]";

/// An API v1 key (`X-API-Key`). The key is held in a [`SecretString`] and never printed.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Wraps a key. Fails with [`Error::Config`] when it is empty or not a valid header
    /// value. A key without the `qp_test_sk_`/`qp_prod_sk_` prefix is accepted with a
    /// warning (logged through `tracing`, without the key).
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = SecretString::from(key.into());
        let raw = key.expose_secret();
        if raw.trim().is_empty() {
            return Err(Error::Config("the API key is empty".into()));
        }
        if HeaderValue::from_str(raw).is_err() || raw.trim() != raw {
            return Err(Error::Config(
                "the API key contains whitespace or characters not allowed in an HTTP header"
                    .into(),
            ));
        }
        let key = ApiKey(key);
        if !key.is_test() && !key.is_production() {
            tracing::warn!(
                "LuxCore API key does not start with `{TEST_KEY_PREFIX}` or `{PRODUCTION_KEY_PREFIX}`; using it anyway"
            );
        }
        Ok(key)
    }

    /// `true` for a test-mode key (`qp_test_sk_...`).
    pub fn is_test(&self) -> bool {
        self.0.expose_secret().starts_with(TEST_KEY_PREFIX)
    }

    /// `true` for a production key (`qp_prod_sk_...`).
    pub fn is_production(&self) -> bool {
        self.0.expose_secret().starts_with(PRODUCTION_KEY_PREFIX)
    }

    fn environment(&self) -> &'static str {
        if self.is_test() {
            "test"
        } else if self.is_production() {
            "production"
        } else {
            "unknown"
        }
    }

    /// The raw key, for hashing into a shared rate limiter's namespace (never logged).
    #[cfg(feature = "redis")]
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The key as a sensitive header value (hidden from `Debug` of the request).
    pub(crate) fn header_value(&self) -> Result<HeaderValue, String> {
        let mut value = HeaderValue::from_str(self.0.expose_secret())
            .map_err(|_| "the API key is not a valid header value".to_owned())?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("environment", &self.environment())
            .field("key", &REDACTED)
            .finish()
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}, {REDACTED})", self.environment())
    }
}

/// API v2 HMAC credentials: the numeric merchant id and the payment HMAC secret.
#[derive(Clone)]
pub struct HmacV2(HmacCredentials);

impl HmacV2 {
    /// Wraps the merchant id and payment HMAC secret. Fails with [`Error::Config`] when
    /// the secret is empty.
    pub fn new(merchant_id: impl Into<MerchantId>, secret: impl Into<String>) -> Result<Self> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err(Error::Config("the HMAC secret is empty".into()));
        }
        Ok(HmacV2(HmacCredentials::new(
            merchant_id.into().get(),
            secret,
        )))
    }

    /// The merchant id sent in `X-Merchant-Id`.
    pub fn merchant_id(&self) -> MerchantId {
        MerchantId::new(self.0.merchant_id())
    }

    /// The signing credentials, for signing requests by hand.
    pub fn signer(&self) -> &HmacCredentials {
        &self.0
    }
}

impl fmt::Debug for HmacV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacV2")
            .field("merchant_id", &self.merchant_id())
            .field("secret", &REDACTED)
            .finish()
    }
}

impl fmt::Display for HmacV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HmacV2(merchant {}, {REDACTED})", self.merchant_id())
    }
}

/// The credentials of a client: an API key (API v1), HMAC credentials (API v2), or both.
#[derive(Clone, Default)]
pub struct Credentials {
    api_key: Option<ApiKey>,
    hmac: Option<HmacV2>,
}

impl Credentials {
    /// No credentials yet; add them with [`Self::with_api_key`] / [`Self::with_hmac`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the API v1 key.
    pub fn with_api_key(mut self, key: ApiKey) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Sets the API v2 HMAC credentials.
    pub fn with_hmac(mut self, hmac: HmacV2) -> Self {
        self.hmac = Some(hmac);
        self
    }

    /// The API v1 key, if any.
    pub fn api_key(&self) -> Option<&ApiKey> {
        self.api_key.as_ref()
    }

    /// The API v2 HMAC credentials, if any.
    pub fn hmac(&self) -> Option<&HmacV2> {
        self.hmac.as_ref()
    }

    /// `true` when neither an API key nor HMAC credentials are set.
    pub fn is_empty(&self) -> bool {
        self.api_key.is_none() && self.hmac.is_none()
    }
}

impl From<ApiKey> for Credentials {
    fn from(key: ApiKey) -> Self {
        Credentials::new().with_api_key(key)
    }
}

impl From<HmacV2> for Credentials {
    fn from(hmac: HmacV2) -> Self {
        Credentials::new().with_hmac(hmac)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("hmac", &self.hmac)
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.api_key, &self.hmac) {
            (Some(key), Some(hmac)) => write!(f, "{key} + {hmac}"),
            (Some(key), None) => write!(f, "{key}"),
            (None, Some(hmac)) => write!(f, "{hmac}"),
            (None, None) => f.write_str("no credentials"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "qp_test_sk_supersecret123";
    const SECRET: &str = "hmac_very_secret_value";

    #[test]
    fn key_environment() {
        let key = ApiKey::new(KEY).unwrap();
        assert!(key.is_test() && !key.is_production());
        let key = ApiKey::new("qp_prod_sk_abc").unwrap();
        assert!(key.is_production() && !key.is_test());
        let key = ApiKey::new("legacy_key_123").unwrap();
        assert!(!key.is_production() && !key.is_test());
        assert!(format!("{key:?}").contains("unknown"));
    }

    #[test]
    fn bad_keys_are_config_errors() {
        for bad in ["", "   ", "qp_test_sk_\nx", " qp_test_sk_x"] {
            assert!(matches!(ApiKey::new(bad), Err(Error::Config(_))), "{bad:?}");
        }
        assert!(matches!(HmacV2::new(1, ""), Err(Error::Config(_))));
    }

    #[test]
    fn secrets_are_redacted() {
        let key = ApiKey::new(KEY).unwrap();
        let hmac = HmacV2::new(123, SECRET).unwrap();
        let both = Credentials::from(key.clone()).with_hmac(hmac.clone());
        for text in [
            format!("{key:?}"),
            format!("{key:#?}"),
            format!("{key}"),
            format!("{hmac:?}"),
            format!("{hmac:#?}"),
            format!("{hmac}"),
            format!("{both:?}"),
            format!("{both:#?}"),
            format!("{both}"),
        ] {
            assert!(!text.contains(KEY), "{text}");
            assert!(!text.contains("supersecret"), "{text}");
            assert!(!text.contains(SECRET), "{text}");
            assert!(text.contains("REDACTED"), "{text}");
        }
        assert!(format!("{hmac:?}").contains("123"));
    }

    #[test]
    fn credentials_accessors() {
        let creds = Credentials::new();
        assert!(creds.is_empty());
        assert_eq!(creds.to_string(), "no credentials");
        let creds = Credentials::from(HmacV2::new(7, SECRET).unwrap());
        assert!(!creds.is_empty());
        assert_eq!(
            creds.hmac().map(HmacV2::merchant_id),
            Some(MerchantId::new(7))
        );
        assert!(creds.api_key().is_none());
        let header = ApiKey::new(KEY).unwrap().header_value().unwrap();
        assert!(header.is_sensitive());
    }
}
