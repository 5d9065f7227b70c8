//! Concurrency through the client against luxcore-mock. Proves that:
//!
//! * 64 concurrent withdrawals against a balance that fits exactly 10 of them (each debits
//!   `amount + amount * 45 / 1000`) give exactly 10 `Created::New` and 54
//!   `Error::Api { code: INSUFFICIENT_BALANCE }`, with the balance ending at available 0 and
//!   frozen = 10 debits — also when the balance falls one minor unit short of an 11th
//!   withdrawal, and with v1 and v2 creations mixed;
//! * racing cancellations of those withdrawals release each one exactly once
//!   (the rest get `PAYMENT_ALREADY_PROCESSED`) and restore the balance;
//! * 64 concurrent creations with one `merchant_reference` create exactly one payment:
//!   one `New`, 63 `Existing`, all with the same id.

use luxcore_ext::Money;
use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::payments::{Created, PaymentRequest};
use luxcore_ext::retry::RetryPolicy;
use luxcore_ext::types::Payment;
use luxcore_ext::{Currency, ErrorCode, PaymentMethod, PaymentStatus};
use luxcore_mock::{MockConfig, MockServer};

const WITHDRAWALS: usize = 64;
const FIT: usize = 10;
const AMOUNT: u64 = 100_000;

/// What one withdrawal takes from the available balance: amount + fee (4.5 %, rounded down).
const fn debit(amount: u64) -> i64 {
    (amount + amount * 45 / 1000) as i64
}

async fn setup() -> (MockServer, LuxCore) {
    let server = MockServer::start(MockConfig::default().without_rate_limits())
        .await
        .unwrap();
    let client = LuxCore::builder()
        .base_url(server.base_url())
        .api_key(luxcore_mock::DEFAULT_API_KEY)
        .retry_policy(
            RetryPolicy::default()
                .with_base_delay(Duration::from_millis(2))
                .with_max_delay(Duration::from_millis(20)),
        )
        .build()
        .unwrap();
    (server, client)
}

/// `client` with HMAC credentials too: its payment creations go to API v2, signed.
fn with_hmac(client: &LuxCore) -> LuxCore {
    LuxCore::builder()
        .base_url(client.base_url())
        .api_key(luxcore_mock::DEFAULT_API_KEY)
        .hmac(
            luxcore_mock::DEFAULT_MERCHANT_ID,
            luxcore_mock::DEFAULT_HMAC_SECRET,
        )
        .retry_policy(client.retry_policy().clone())
        .build()
        .unwrap()
}

/// Sends `WITHDRAWALS` withdrawals at once (every fourth through API v2) and returns the
/// created payments and the errors.
async fn withdraw_all(
    client: &LuxCore,
    currency: Currency,
    method: PaymentMethod,
    payout: (&str, &str),
    tag: &str,
) -> (Vec<Payment>, Vec<Error>) {
    let v2 = &with_hmac(client);
    let results: Vec<_> = futures::stream::iter(0..WITHDRAWALS)
        .map(|i| {
            let request = PaymentRequest::withdrawal(
                Money::new(AMOUNT as i64, currency.clone()),
                method.clone(),
                format!("{tag}_{i}"),
            )
            .payout_field(payout.0, payout.1)
            .build()
            .unwrap();
            async move {
                if i % 4 == 3 {
                    v2.payments().create(request).await
                } else {
                    client.payments().create(request).await
                }
            }
        })
        .buffer_unordered(WITHDRAWALS)
        .collect()
        .await;
    let mut created = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(Created::New(payment)) => created.push(payment),
            Ok(Created::Existing(payment)) => panic!("unexpected duplicate {payment:?}"),
            Err(err) => errors.push(err),
        }
    }
    (created, errors)
}

fn assert_insufficient(errors: &[Error]) {
    for err in errors {
        assert!(
            matches!(
                err,
                Error::Api {
                    status: 400,
                    code: ErrorCode::InsufficientBalance,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

fn assert_withdrawals(created: &[Payment]) {
    let ids: HashSet<_> = created.iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids.len(), created.len(), "ids are unique");
    for payment in created {
        assert_eq!(payment.status, PaymentStatus::Pending);
        assert_eq!(payment.net_amount, Some(debit(AMOUNT)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_ten_of_sixty_four_withdrawals_fit() {
    let (server, client) = setup().await;
    let balance = FIT as i64 * debit(AMOUNT);
    assert_eq!(balance, 1_045_000);
    server.set_balance("MXN", balance, 0).await.unwrap();

    let (created, errors) = withdraw_all(
        &client,
        Currency::MXN,
        PaymentMethod::Spei,
        ("clabe", "002010077777777771"),
        "fit",
    )
    .await;

    assert_eq!(created.len(), FIT);
    assert_eq!(errors.len(), WITHDRAWALS - FIT);
    assert_insufficient(&errors);
    assert_withdrawals(&created);
    assert_eq!(server.payment_count().await.unwrap(), FIT);
    assert_eq!(server.balance("MXN").await.unwrap(), (0, balance));
    // The same figures through the SDK's balance reads.
    let snapshot = client.balance().money(Currency::MXN).await.unwrap();
    assert_eq!(
        (
            snapshot.available.minor,
            snapshot.frozen.minor,
            snapshot.total.minor
        ),
        (0, balance, balance)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_minor_unit_short_of_an_eleventh() {
    let (server, client) = setup().await;
    let balance = (FIT as i64 + 1) * debit(AMOUNT) - 1;
    server.set_balance("ARS", balance, 0).await.unwrap();

    let (created, errors) = withdraw_all(
        &client,
        Currency::ARS,
        PaymentMethod::BankTransfer,
        ("account_number", "0123456789"),
        "short",
    )
    .await;

    assert_eq!(created.len(), FIT);
    assert_eq!(errors.len(), WITHDRAWALS - FIT);
    assert_insufficient(&errors);
    assert_withdrawals(&created);
    assert_eq!(
        server.balance("ARS").await.unwrap(),
        (debit(AMOUNT) - 1, FIT as i64 * debit(AMOUNT))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_cancellations_release_each_withdrawal_once() {
    let (server, client) = setup().await;
    let balance = FIT as i64 * debit(AMOUNT);
    server.set_balance("MXN", balance, 0).await.unwrap();
    let (created, _) = withdraw_all(
        &client,
        Currency::MXN,
        PaymentMethod::Spei,
        ("clabe", "002010077777777771"),
        "cancel",
    )
    .await;
    assert_eq!(created.len(), FIT);

    // Every withdrawal cancelled four times at once.
    let ids: Vec<String> = created.iter().filter_map(|p| p.id.clone()).collect();
    let attempts: Vec<&str> = ids.iter().flat_map(|id| [id.as_str(); 4]).collect();
    let results: Vec<_> = futures::stream::iter(attempts)
        .map(|id| {
            let client = &client;
            async move { (id, client.payments().cancel(id).await) }
        })
        .buffer_unordered(64)
        .collect()
        .await;

    let mut cancelled = HashSet::new();
    for (id, result) in results {
        match result {
            Ok(payment) => {
                assert_eq!(payment.status, PaymentStatus::Cancelled);
                assert!(cancelled.insert(id), "{id} cancelled twice");
            }
            Err(err) => assert!(
                matches!(
                    err,
                    Error::Api {
                        code: ErrorCode::PaymentAlreadyProcessed,
                        ..
                    }
                ),
                "{err:?}"
            ),
        }
    }
    assert_eq!(cancelled.len(), FIT);
    assert_eq!(server.balance("MXN").await.unwrap(), (balance, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_reference_raced_sixty_four_times_creates_one_payment() {
    let (server, client) = setup().await;
    let v2 = &with_hmac(&client);
    let results: Vec<_> = futures::stream::iter(0..WITHDRAWALS)
        .map(|i| {
            let client = &client;
            let request = PaymentRequest::deposit(
                Money::new(150_000, Currency::ARS),
                PaymentMethod::BankTransfer,
                "raced_reference",
            )
            .build()
            .unwrap();
            async move {
                if i % 2 == 0 {
                    client.payments().create(request).await
                } else {
                    v2.payments().create(request).await
                }
            }
        })
        .buffer_unordered(WITHDRAWALS)
        .collect()
        .await;
    let created: Vec<Created<Payment>> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(created.iter().filter(|c| c.is_new()).count(), 1);
    let ids: HashSet<_> = created.iter().map(|c| c.get().id.clone()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(
        server
            .payments_by_reference("raced_reference")
            .await
            .unwrap(),
        1
    );
    assert_eq!(server.payment_count().await.unwrap(), 1);
}
