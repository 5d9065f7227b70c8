//! Quickstart: create a deposit, read it back, look at the balance, handle an error.
//!
//! By default this starts a local `luxcore-mock` and uses its test key. To run against
//! LuxCore itself (use a *test* key, `qp_test_sk_...`):
//!
//! ```text
//! LUXCORE_BASE_URL=https://api.lux-core.io LUXCORE_API_KEY=qp_test_sk_... \
//!     cargo run -p luxcore-ext --example quickstart
//! ```

use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::services::{Created, PaymentRequest};
use luxcore_ext::{Currency, ErrorCode, PaymentMethod};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A local mock unless LUXCORE_BASE_URL is set (kept alive until the end of main).
    let (_mock, base_url, api_key) = match std::env::var("LUXCORE_BASE_URL") {
        Ok(url) => (None, url, std::env::var("LUXCORE_API_KEY")?),
        Err(_) => {
            let mock = luxcore_mock::MockServer::start(luxcore_mock::MockConfig::default()).await?;
            let url = mock.base_url();
            (Some(mock), url, luxcore_mock::DEFAULT_API_KEY.to_owned())
        }
    };

    let client = LuxCore::builder()
        .base_url(base_url)
        .api_key(api_key)
        .build()?;

    // 1,500.00 ARS by bank transfer. Amounts are integer minor units.
    let reference = format!("order_{}", chrono::Utc::now().timestamp_millis());
    let request = PaymentRequest::deposit(
        150_000,
        Currency::ARS,
        PaymentMethod::BankTransfer,
        &reference,
    )
    .description("Order #123")
    .metadata("source", "quickstart")
    .build()?;
    let payment = match client.payments().create(request).await? {
        Created::New(payment) => payment,
        // Same merchant_reference as an earlier payment: LuxCore returns that one.
        Created::Existing(payment) => payment,
    };
    let id = payment.transaction_id.clone().unwrap_or_default();
    println!(
        "created {id}: status {}, fee {:?}, net {:?}",
        payment.status, payment.fee_amount, payment.net_amount
    );
    if let Some(bank) = &payment.bank_details {
        println!(
            "  pay to {:?} account {:?}",
            bank.bank_name, bank.account_number
        );
    }

    let fetched = client.payments().get(&id).await?;
    println!("fetched {id}: status {}", fetched.status);

    let balance = client.balance().get(Currency::ARS, None).await?;
    println!(
        "ARS balance: available {}, frozen {}",
        balance.available_amount, balance.frozen_amount
    );

    // Errors are typed: match on the code.
    match client.payments().get("pay_0000000000_abcdefgh").await {
        Err(Error::Api {
            code: ErrorCode::PaymentNotFound,
            ..
        }) => println!("unknown payment, as expected"),
        Err(other) => return Err(other.into()),
        Ok(_) => println!("surprisingly, that payment exists"),
    }
    Ok(())
}
