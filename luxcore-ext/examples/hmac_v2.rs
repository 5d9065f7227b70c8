//! API v2: with HMAC credentials the client creates payments and reads balances through
//! API v2, signed, with the same methods as API v1 (the version follows the credentials).
//!
//! Every v2 request gets `X-Merchant-Id`, `X-Timestamp`, `X-Nonce`, `X-Signature-Version`
//! and `X-Signature` headers computed over the exact method, path with query and body bytes
//! sent; retries are signed again with a fresh nonce. Environment: see
//! `examples/common/mod.rs` (`LUXCORE_MERCHANT_ID`, `LUXCORE_HMAC_SECRET`).

mod common;

use common::{Creds, ExampleResult, payment_id};
use luxcore_ext::prelude::*;

#[tokio::main]
async fn main() -> ExampleResult {
    let setup = common::client(Creds::WithHmac).await?;
    if let Some(mock) = &setup.mock {
        mock.set_balance("MXN", 2_000_000, 0).await?;
    }
    let client = &setup.client;
    println!("credentials: {:?}", client.credentials()); // the secrets are redacted

    let request = PaymentRequest::deposit(
        Money::new(250_000, Currency::MXN),
        PaymentMethod::Spei,
        format!("v2_order_{}", chrono::Utc::now().timestamp_millis()),
    )
    .build()?;
    // Response metadata: status, request id, attempts, X-RateLimit-* values.
    let created = client.payments().create(request).with_meta().await?;
    println!(
        "v2 payment {} (new: {}), HTTP {} after {} attempt(s)",
        payment_id(created.get()),
        created.is_new(),
        created.meta().status,
        created.meta().attempts
    );

    let balance = client.balance().money(Currency::MXN).await?;
    println!("MXN available {} (v2)", balance.available);
    for (currency, snapshot) in client.balance().all_money().await? {
        println!("  {currency}: total {}", snapshot.total);
    }

    // Any other v2 endpoint: the escape hatch signs it the same way.
    let path = format!(
        "{}?currency=MXN",
        luxcore_ext::api::operations::GET_BALANCE_V2.path
    );
    let (status, body) = client
        .signed_request(reqwest::Method::GET, &path, None)
        .await?;
    println!(
        "signed_request -> {status}: available {}",
        body["available_amount"]
    );
    Ok(())
}
