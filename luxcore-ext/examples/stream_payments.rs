//! Streams every payment, newest first, with bounded page prefetch; spawns a stream.
//!
//! Against an in-process luxcore-mock by default (250 deposits, every tenth completed);
//! environment: see `examples/common/mod.rs`.

mod common;

use common::{Creds, ExampleResult, payment_id};
use luxcore_ext::prelude::*;

#[tokio::main]
async fn main() -> ExampleResult {
    let setup = common::unlimited(Creds::ApiKey).await?;
    let client = &setup.client;
    if let Some(mock) = &setup.mock {
        for id in seed(client, 250).await?.iter().step_by(10) {
            mock.complete_payment(id).await?;
        }
    }

    // Default paging: 100 per page, up to 4 pages fetched ahead, items still in order.
    let mut stream = client.payments().stream(PaymentFilter::new());
    let (mut count, mut volume) = (0usize, Money::zero(Currency::ARS));
    while let Some(payment) = stream.try_next().await? {
        count += 1;
        if payment.currency == Currency::ARS {
            volume = volume.checked_add(&Money::new(payment.amount, Currency::ARS))?;
        }
        if count <= 3 {
            let amount = Money::new(payment.amount, payment.currency.clone());
            println!("{} {} {amount}", payment_id(&payment), payment.status);
        }
    }
    println!("{count} payments, {volume} in ARS");

    // Filters say what; paging says how: only completed payments, sequentially, 50 per
    // request. Streams own a clone of the client, so they can run in a task.
    let completed = client
        .payments()
        .paging(Paging::new().page_size(50).concurrency(1))
        .stream(PaymentFilter::new().status(PaymentStatus::Completed));
    let completed = tokio::spawn(async move { completed.try_collect::<Vec<_>>().await }).await??;
    println!("{} completed", completed.len());
    Ok(())
}

/// Creates `n` deposits, 16 at a time; returns their ids.
async fn seed(client: &LuxCore, n: u64) -> Result<Vec<String>> {
    futures::stream::iter(0..n)
        .map(|i| async move {
            let request = PaymentRequest::deposit(
                Money::new(10_000 + i as i64 * 100, Currency::ARS),
                PaymentMethod::BankTransfer,
                format!("example_order_{i}"),
            )
            .build()?;
            let created = client.payments().create(request).await?;
            Ok(payment_id(created.get()).to_owned())
        })
        .buffer_unordered(16)
        .try_collect()
        .await
}
