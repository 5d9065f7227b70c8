//! Quickstart: create a deposit, read it back, look at the balance, handle an error.
//!
//! Against an in-process luxcore-mock by default; with `LUXCORE_API_KEY` (a *test* key,
//! `qp_test_sk_...`) and optionally `LUXCORE_BASE_URL`, against that server (see
//! `examples/common/mod.rs`).

mod common;

use common::{Creds, ExampleResult, money, payment_id, text};
use luxcore_ext::prelude::*;

#[tokio::main]
async fn main() -> ExampleResult {
    let setup = common::client(Creds::ApiKey).await?;
    let client = &setup.client;

    // 1,500.00 ARS by bank transfer. Amounts are integer minor units.
    let reference = format!("order_{}", chrono::Utc::now().timestamp_millis());
    let request = PaymentRequest::deposit(
        Money::new(150_000, Currency::ARS),
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
    let id = payment_id(&payment).to_owned();
    println!(
        "created {id}: {}, fee {}, net {}",
        payment.status,
        money(payment.fee_amount, &payment.currency),
        money(payment.net_amount, &payment.currency)
    );
    if let Some(bank) = &payment.bank_details {
        println!(
            "  pay to {} account {}",
            text(bank.bank_name.as_deref()),
            text(bank.account_number.as_deref())
        );
    }

    let fetched = client.payments().get(&id).await?;
    println!("fetched {id}: {}", fetched.status);

    let balance = client.balance().money(Currency::ARS).await?;
    println!(
        "ARS balance: available {}, frozen {}",
        balance.available, balance.frozen
    );

    // Errors are typed: match on the code.
    match client.payments().get("pay_0000000000_abcdefgh").await {
        Err(Error::Api {
            code: ErrorCode::NotFound,
            ..
        }) => println!("unknown payment, as expected"),
        Err(other) => return Err(other.into()),
        Ok(_) => println!("surprisingly, that payment exists"),
    }
    Ok(())
}
