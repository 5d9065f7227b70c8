//! Shared by the examples: a client from the environment, or an in-process luxcore-mock.
//!
//! With `LUXCORE_API_KEY` set, the client talks to `LUXCORE_BASE_URL` (default
//! `https://api.lux-core.io`) with that key, plus HMAC credentials when
//! `LUXCORE_MERCHANT_ID` and `LUXCORE_HMAC_SECRET` are set too. Without it, a luxcore-mock
//! starts in this process and the client uses its test credentials.
#![allow(dead_code)] // each example uses a part

use luxcore_ext::prelude::*;
use luxcore_mock::{
    DEFAULT_API_KEY, DEFAULT_HMAC_SECRET, DEFAULT_MERCHANT_ID, MockConfig, MockServer,
};

/// What the examples return.
pub type ExampleResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A client and, without `LUXCORE_API_KEY`, the mock it talks to (kept alive with it).
pub struct Setup {
    /// The SDK client.
    pub client: LuxCore,
    /// The in-process mock, when no real server is configured.
    pub mock: Option<MockServer>,
}

/// Which credentials the client should hold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Creds {
    /// The API key alone: every operation through API v1.
    ApiKey,
    /// HMAC credentials as well: payment creation and balance reads through API v2, signed.
    WithHmac,
}

/// A client from the environment, or for a fresh in-process mock started with `config`.
pub async fn setup(creds: Creds, config: MockConfig) -> ExampleResult<Setup> {
    if let Ok(key) = std::env::var("LUXCORE_API_KEY")
        && !key.trim().is_empty()
    {
        let base_url = std::env::var("LUXCORE_BASE_URL")
            .unwrap_or_else(|_| luxcore_ext::client::DEFAULT_BASE_URL.to_owned());
        let mut builder = LuxCore::builder().base_url(base_url).api_key(key);
        if creds == Creds::WithHmac {
            let merchant: u64 = std::env::var("LUXCORE_MERCHANT_ID")?.parse()?;
            builder = builder.hmac(merchant, std::env::var("LUXCORE_HMAC_SECRET")?);
        }
        return Ok(Setup {
            client: builder.build()?,
            mock: None,
        });
    }
    let mock = MockServer::start(config).await?;
    let mut builder = LuxCore::builder()
        .base_url(mock.base_url())
        .api_key(DEFAULT_API_KEY);
    if creds == Creds::WithHmac {
        builder = builder.hmac(DEFAULT_MERCHANT_ID, DEFAULT_HMAC_SECRET);
    }
    Ok(Setup {
        client: builder.build()?,
        mock: Some(mock),
    })
}

/// A client for a mock with default settings (or the environment's server).
pub async fn client(creds: Creds) -> ExampleResult<Setup> {
    setup(creds, MockConfig::default()).await
}

/// [`client`], with the mock's documented rate limits off (for examples that send many
/// requests at once).
pub async fn unlimited(creds: Creds) -> ExampleResult<Setup> {
    setup(creds, MockConfig::default().without_rate_limits()).await
}

/// A payment's id (`id`, else `transaction_id`), or `-`.
pub fn payment_id(payment: &luxcore_ext::types::Payment) -> &str {
    payment
        .id
        .as_deref()
        .or(payment.transaction_id.as_deref())
        .unwrap_or("-")
}

/// Minor units as money (`150000` ARS → `1,500.00 ARS`), or `-`.
pub fn money(minor: Option<i64>, currency: &Currency) -> String {
    minor.map_or_else(
        || "-".to_owned(),
        |m| Money::new(m, currency.clone()).to_string(),
    )
}

/// An optional text, or `-`.
pub fn text(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}
