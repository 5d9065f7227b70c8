//! Streams every payment, newest first, with bounded page prefetch.
//!
//! ```text
//! cargo run -p luxcore-ext --example stream_payments            # against an in-process luxcore-mock
//! LUXCORE_BASE_URL=https://api.lux-core.io LUXCORE_API_KEY=qp_test_sk_... \
//!     cargo run -p luxcore-ext --example stream_payments        # against a real server
//! ```
//!
//! Without `LUXCORE_BASE_URL` the example starts luxcore-mock, creates 250 deposits and
//! completes every tenth.

use std::pin::pin;

use futures::{StreamExt, TryStreamExt};
use luxcore_ext::client::LuxCore;
use luxcore_ext::pagination::PaymentFilter;
use luxcore_ext::services::PaymentRequest;
use luxcore_ext::{Currency, PaymentMethod, PaymentStatus};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the mock (if any) alive until the end of `main`.
    let (client, _mock) = match std::env::var("LUXCORE_BASE_URL") {
        Ok(base_url) => {
            let key = std::env::var("LUXCORE_API_KEY").map_err(|_| "set LUXCORE_API_KEY")?;
            let client = LuxCore::builder().base_url(base_url).api_key(key).build()?;
            (client, None)
        }
        Err(_) => {
            let mock = MockServer::start(MockConfig::default().without_rate_limits()).await?;
            let client = LuxCore::builder()
                .base_url(mock.base_url())
                .api_key(DEFAULT_API_KEY)
                .build()?;
            let ids = seed(&client, 250).await?;
            for id in ids.iter().step_by(10) {
                mock.complete_payment(id).await?;
            }
            (client, Some(mock))
        }
    };

    let payments = client.payments();
    // Default paging: 100 per page, up to 4 pages fetched ahead, items still in order.
    let mut stream = pin!(payments.stream(PaymentFilter::new()));
    let (mut count, mut volume) = (0usize, 0i64);
    while let Some(payment) = stream.try_next().await? {
        count += 1;
        volume = volume.saturating_add(payment.amount);
        if count <= 3 {
            println!(
                "{} {} {} {}",
                payment.id.as_deref().unwrap_or("-"),
                payment.status,
                payment.amount,
                payment.currency
            );
        }
    }
    println!("{count} payments, {volume} minor units in total");

    // Filters: only completed payments, sequentially, 50 per request.
    let completed = payments
        .collect_all(
            PaymentFilter::new()
                .status(PaymentStatus::Completed)
                .page_size(50)
                .concurrency(1),
        )
        .await?;
    println!("{} completed", completed.len());
    Ok(())
}

/// Creates `n` deposits, 16 at a time; returns their ids.
async fn seed(client: &LuxCore, n: u64) -> Result<Vec<String>, luxcore_ext::error::Error> {
    futures::stream::iter(0..n)
        .map(|i| async move {
            let request = PaymentRequest::deposit(
                10_000 + i * 100,
                Currency::ARS,
                PaymentMethod::BankTransfer,
                format!("example_order_{i}"),
            )
            .build()?;
            let created = client.payments().create(request).await?;
            Ok(created.into_inner().id.unwrap_or_default())
        })
        .buffer_unordered(16)
        .try_collect()
        .await
}
