//! Reads balances as exact `Money` and makes a checked withdrawal.
//!
//! Against an in-process luxcore-mock (funded with ARS 12,000.00) it also tries two
//! withdrawals; against a real server (environment: see `examples/common/mod.rs`) it only
//! reads balances.

mod common;

use common::{Creds, ExampleResult};
use luxcore_ext::prelude::*;

#[tokio::main]
async fn main() -> ExampleResult {
    let setup = common::unlimited(Creds::ApiKey).await?;
    if let Some(mock) = &setup.mock {
        mock.set_balance("ARS", 1_200_000, 300_000).await?;
    }
    let balance = setup.client.balance();
    for (currency, snapshot) in balance.all_money().await? {
        println!(
            "{currency}: available {}, frozen {}, total {}",
            snapshot.available, snapshot.frozen, snapshot.total
        );
    }

    // Amounts typed by a person are parsed exactly (no floats).
    let wanted = Money::parse_decimal("2,500.50", Currency::ARS)?;
    match balance.ensure_available(&wanted).await {
        Ok(()) => println!("{wanted} is available"),
        Err(Error::InsufficientFunds { needed, available }) => {
            println!("need {needed}, only {available} available");
        }
        Err(other) => return Err(other.into()),
    }

    if setup.mock.is_none() {
        return Ok(()); // read-only against a real server
    }
    for amount in [250_050i64, 5_000_000] {
        let request = PaymentRequest::withdrawal(
            Money::new(amount, Currency::ARS),
            PaymentMethod::BankTransfer,
            format!("payout_{amount}"),
        )
        .payout_field("account_number", "0110012345678901234567")
        .build()?;
        match balance.withdraw_checked(request).await {
            Ok(created) => {
                let payment = created.into_inner();
                let debit = Money::new(payment.net_amount.unwrap_or(payment.amount), Currency::ARS);
                println!("withdrawal {} created, {debit} frozen", payment.status);
            }
            Err(Error::InsufficientFunds { needed, available }) => {
                println!("refused before sending: need {needed}, available {available}");
            }
            Err(other) => return Err(other.into()),
        }
    }
    println!("now available: {}", balance.available(Currency::ARS).await?);
    Ok(())
}
