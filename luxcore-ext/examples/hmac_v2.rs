//! API v2: payment creation and balances signed with HMAC instead of an API key.
//!
//! Every `/api/v2` request gets `X-Merchant-Id`, `X-Timestamp`, `X-Nonce`,
//! `X-Signature-Version` and `X-Signature` headers computed over the exact method, path
//! with query and body bytes sent; retries are signed again with a fresh nonce.
//!
//! By default this starts a local `luxcore-mock`. For LuxCore itself:
//!
//! ```text
//! LUXCORE_BASE_URL=https://api.lux-core.io LUXCORE_MERCHANT_ID=123 LUXCORE_HMAC_SECRET=... \
//!     cargo run -p luxcore-ext --example hmac_v2
//! ```

use luxcore_ext::client::LuxCore;
use luxcore_ext::credentials::{Credentials, HmacV2};
use luxcore_ext::services::PaymentRequest;
use luxcore_ext::{Currency, PaymentMethod};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_mock, base_url, merchant_id, secret) = match std::env::var("LUXCORE_BASE_URL") {
        Ok(url) => (
            None,
            url,
            std::env::var("LUXCORE_MERCHANT_ID")?.parse()?,
            std::env::var("LUXCORE_HMAC_SECRET")?,
        ),
        Err(_) => {
            let mock = luxcore_mock::MockServer::start(luxcore_mock::MockConfig::default()).await?;
            mock.set_balance("MXN", 2_000_000, 0).await?;
            let url = mock.base_url();
            (
                Some(mock),
                url,
                luxcore_mock::DEFAULT_MERCHANT_ID,
                luxcore_mock::DEFAULT_HMAC_SECRET.to_owned(),
            )
        }
    };

    // v2 merchants have no API key: HMAC credentials alone are enough for v2 routes.
    let credentials = Credentials::from(HmacV2::new(merchant_id, secret)?);
    println!("credentials: {credentials:?}"); // the secret is redacted
    let client = LuxCore::builder()
        .base_url(base_url)
        .credentials(credentials)
        .build()?;

    let request = PaymentRequest::deposit(
        250_000,
        Currency::MXN,
        PaymentMethod::Spei,
        format!("v2_order_{}", chrono::Utc::now().timestamp_millis()),
    )
    .build()?;
    let created = client.payments().create_v2(request).await?;
    println!(
        "v2 payment {:?} (new: {})",
        created.get().transaction_id,
        created.is_new()
    );

    let balance = client.balance().get_v2(Currency::MXN, None).await?;
    println!("MXN available {} (v2)", balance.available_amount);
    for entry in client.balance().all_v2().await?.balances {
        println!(
            "  {} {:?}: {}",
            entry.currency, entry.balance_type, entry.balance_amount
        );
    }

    // Any other v2 endpoint: the escape hatch signs it the same way.
    let (status, body) = client
        .signed_request(reqwest::Method::GET, "/api/v2/balance?currency=MXN", None)
        .await?;
    println!(
        "signed_request -> {status}: available {}",
        body["available_amount"]
    );
    Ok(())
}
