//! A payout to an Argentine CVU, with the amount as an Argentine types it.
//!
//! `cargo run -p luxcore-ext --example payout --features locale`
//!
//! The amount `45.999,90` is read in the `es-AR` locale (`.` groups, `,` is decimal), the
//! CVU and the holder's CUIL are checked before anything is sent, and a mistyped CVU is
//! refused locally. Against an in-process luxcore-mock (funded with ARS 100.000,00) the
//! withdrawal is created; against a real server (environment: see
//! `examples/common/mod.rs`) the checked request is only shown, never sent.

mod common;

use common::{Creds, ExampleResult, payment_id};
use luxcore_ext::balance::Locale;
use luxcore_ext::prelude::*;

#[tokio::main]
async fn main() -> ExampleResult {
    let setup = common::client(Creds::ApiKey).await?;
    if let Some(mock) = &setup.mock {
        mock.set_balance("ARS", 10_000_000, 0).await?;
    }
    let es_ar: Locale = "es-AR".parse()?;

    // What the merchant's back office typed, read as an Argentine writes it.
    let amount = Money::parse("45.999,90", Currency::ARS, &es_ar)?;
    println!("amount: {} (Display: {amount})", amount.format(&es_ar));
    // US-style text in an es-AR field is ambiguous there: refused, not guessed.
    if let Err(refused) = Money::parse("45,999.90", Currency::ARS, &es_ar) {
        println!("\"45,999.90\" in es-AR: {refused}");
    }

    // The recipient: a CVU (Mercado Pago, Ualá, ...) and the holder's CUIL.
    let recipient = Recipient::cvu("0000003100099999999994")
        .holder_name("Juana Pérez")
        .cuil("27-12345678-0");
    let reference = format!("payout_{}", chrono::Utc::now().timestamp_millis());

    // A typo in the CVU is caught by its check digit: build() fails, nothing is sent.
    let typo = Recipient::cvu("0000003100099999999995");
    match PaymentRequest::withdrawal(amount.clone(), PaymentMethod::BankTransfer, &reference)
        .payout_to(&typo)
        .build()
    {
        Err(Error::InvalidRequest(rule)) => println!("refused before sending: {rule}"),
        other => println!("unexpected: {other:?}"),
    }

    let request =
        PaymentRequest::withdrawal(amount.clone(), PaymentMethod::BankTransfer, &reference)
            .description("Supplier payout")
            .payout_to(&recipient)
            .build()?;
    if setup.mock.is_none() {
        println!("checked, not sent (real server): {recipient:?}");
        return Ok(());
    }
    let balance = setup.client.balance();
    let payment = balance.withdraw_checked(request).await?.into_inner();
    let debit = Money::new(payment.net_amount.unwrap_or(payment.amount), Currency::ARS);
    println!(
        "withdrawal {} {}: {} to the CVU, {} frozen with the fee",
        payment_id(&payment),
        payment.status,
        payment.money().format(&es_ar),
        debit.format(&es_ar)
    );
    let available = balance.available(Currency::ARS).await?;
    println!("available now: {}", available.format(&es_ar));
    Ok(())
}
