//! Reads balances as exact `Money` and makes a checked withdrawal.
//!
//! ```text
//! cargo run -p luxcore-ext --example balance_check            # against an in-process luxcore-mock
//! LUXCORE_BASE_URL=https://api.lux-core.io LUXCORE_API_KEY=qp_test_sk_... \
//!     cargo run -p luxcore-ext --example balance_check        # read-only against a real server
//! ```
//!
//! Without `LUXCORE_BASE_URL` the example starts luxcore-mock, funds ARS 12,000.00 and
//! tries two withdrawals; against a real server it only reads balances.

use luxcore_ext::balance::Money;
use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::services::PaymentRequest;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, mock) = match std::env::var("LUXCORE_BASE_URL") {
        Ok(base_url) => {
            let key = std::env::var("LUXCORE_API_KEY").map_err(|_| "set LUXCORE_API_KEY")?;
            let client = LuxCore::builder().base_url(base_url).api_key(key).build()?;
            (client, None)
        }
        Err(_) => {
            let mock = MockServer::start(MockConfig::default().without_rate_limits()).await?;
            mock.set_balance("ARS", 1_200_000, 300_000).await?;
            let client = LuxCore::builder()
                .base_url(mock.base_url())
                .api_key(DEFAULT_API_KEY)
                .build()?;
            (client, Some(mock))
        }
    };

    let balance = client.balance();
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

    if mock.is_none() {
        return Ok(()); // read-only against a real server
    }
    for amount in [250_050u64, 5_000_000] {
        let request = PaymentRequest::withdrawal(
            amount,
            Currency::ARS,
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
