//! Issue 28: a reused `merchant_reference` is an error, a creation answered 2xx whose body
//! does not decode is never mistaken for "nothing happened", one deadline bounds a whole
//! call (limiter wait, attempts, backoff), and a retry budget stops an outage from
//! multiplying load.

mod client_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use client_support::*;
use futures::future::BoxFuture;
use luxcore_ext::client::RetryBudget;
use luxcore_ext::error::{Error, LimiterError};
use luxcore_ext::payments::Created;
use luxcore_ext::rate_limit::{RateBucket, RateLimiter};
use luxcore_ext::retry::RetryPolicy;
use luxcore_ext::{Currency, PaymentMethod};
use luxcore_mock::{Fault, FaultConfig};

#[tokio::test]
async fn a_reused_reference_with_other_terms_is_a_conflict_not_existing() {
    let (server, client) = mock().await;
    let reference = unique_ref("conflict");
    let first = client
        .payments()
        .create(deposit(
            150_000,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            &reference,
        ))
        .await
        .unwrap();
    assert!(first.is_new());
    // The same request again (a true retry): the existing payment, as before.
    let again = client
        .payments()
        .create(deposit(
            150_000,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            &reference,
        ))
        .await
        .unwrap();
    assert!(matches!(again, Created::Existing(_)), "{again:?}");
    // Another order with the same reference: a conflict carrying the other payment.
    for (amount, currency, fields) in [
        (99_000, Currency::ARS, vec!["amount"]),
        (150_000, Currency::MXN, vec!["currency"]),
        (1, Currency::UYU, vec!["amount", "currency"]),
    ] {
        let err = client
            .payments()
            .create(deposit(
                amount,
                currency,
                PaymentMethod::BankTransfer,
                &reference,
            ))
            .await
            .unwrap_err();
        let Error::ReferenceConflict {
            fields: found,
            existing,
            ..
        } = &err
        else {
            panic!("expected a reference conflict, got {err:?}");
        };
        assert_eq!(found, &fields);
        assert_eq!(existing.amount, 150_000);
        assert!(err.is_reference_conflict() && !err.is_retryable());
        assert!(err.to_string().contains("merchant_reference"), "{err}");
    }
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 1);
}

/// Through the chaos path: the answer of the first attempt is lost after the server
/// committed, the SDK retries. Same terms: `Existing`; other terms: the conflict.
#[tokio::test]
async fn lost_answers_give_existing_for_a_retry_and_conflict_for_another_order() {
    let (server, client) = mock().await;
    let reference = unique_ref("chaos");
    let request = || {
        deposit(
            150_000,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            &reference,
        )
    };
    server
        .set_faults(FaultConfig::scheduled([Fault::DropAfterCommit]))
        .await
        .unwrap();
    let created = client.payments().create(request()).await.unwrap();
    assert!(matches!(created, Created::Existing(_)), "{created:?}");
    server
        .set_faults(FaultConfig::scheduled([Fault::DropAfterCommit]))
        .await
        .unwrap();
    let err = client
        .payments()
        .create(deposit(
            150_001,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            &reference,
        ))
        .await
        .unwrap_err();
    assert!(err.is_reference_conflict(), "{err:?}");
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 1);
}

/// A 201 whose body does not fit the generated `Payment`: not retried (a retry would be
/// answered as a duplicate), a distinct error with the JSON and the request id.
#[tokio::test]
async fn a_created_payment_whose_answer_does_not_decode_is_not_retried() {
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let router = axum::Router::new().route(
        "/api/v1/payments",
        post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                (
                    axum::http::StatusCode::CREATED,
                    [("x-request-id", "req_drift_1"), ("content-type", "application/json")],
                    r#"{"transaction_id":"pay_drift","status":"pending","amount":"1500.00","currency":"ARS"}"#,
                )
            }
        }),
    );
    let base = serve(router).await;
    let err = client(&base)
        .payments()
        .create(deposit(
            150_000,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            "order_drift",
        ))
        .await
        .unwrap_err();
    assert!(err.is_created_but_unreadable(), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(requests.load(Ordering::SeqCst), 1, "never retried");
    assert_eq!(err.status(), Some(201));
    assert_eq!(err.request_id(), Some("req_drift_1"));
    let body = err.body().expect("the JSON is kept");
    assert_eq!(body["transaction_id"], "pay_drift");
    assert_eq!(body["status"], "pending");
    // Elsewhere a 2xx that does not decode is a Decode error with the same JSON.
    let router = axum::Router::new().route(
        "/api/v1/payments/{id}",
        get(|| async {
            (
                [
                    ("x-request-id", "req_drift_2"),
                    ("content-type", "application/json"),
                ],
                r#"{"success":true,"data":{"id":"pay_x","status":7}}"#,
            )
        }),
    );
    let err = client(&serve(router).await)
        .payments()
        .get("pay_x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.request_id(), Some("req_drift_2"));
    assert_eq!(err.body().unwrap()["data"]["id"], "pay_x");
}

/// A limiter that would make the call wait an hour.
struct HourLimiter;

impl RateLimiter for HourLimiter {
    fn acquire(&self, _: RateBucket) -> BoxFuture<'_, Result<(), LimiterError>> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        })
    }
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_the_limiter_wait() {
    let client = builder("http://127.0.0.1:9")
        .rate_limiter(Arc::new(HourLimiter))
        .deadline(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let err = client.balance().all().await.unwrap_err();
    assert!(
        matches!(err, Error::DeadlineExceeded { deadline } if deadline == Duration::from_secs(5)),
        "{err:?}"
    );
    assert!(err.is_timeout());
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    // The call's own deadline replaces the client's.
    let started = tokio::time::Instant::now();
    let err = client
        .balance()
        .all()
        .deadline(Duration::from_millis(1500))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_millis(1500));
}

#[tokio::test]
async fn the_deadline_cuts_attempts_and_skips_late_retries() {
    // A server slower than the deadline: the attempt ends at the deadline.
    let slow = axum::Router::new().route(
        "/api/v1/balance/all",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            "{}"
        }),
    );
    let client = builder(&serve(slow).await)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client
        .balance()
        .all()
        .deadline(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // A 503 asking for 30 s: the retry would end after the deadline, so the call ends now
    // with the 503 instead of sleeping.
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let busy = axum::Router::new().route(
        "/api/v1/balance/all",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    [("retry-after", "30")],
                    "{}",
                )
            }
        }),
    );
    let client = builder(&serve(busy).await)
        .retry_policy(RetryPolicy::default().with_max_delay(Duration::from_secs(60)))
        .deadline(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.balance().all().await.unwrap_err();
    assert_eq!(err.status(), Some(503), "{err:?}");
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn the_retry_budget_is_shared_and_stops_retries_when_spent() {
    let requests = Arc::new(AtomicUsize::new(0));
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (counter, fail) = (Arc::clone(&requests), Arc::clone(&failing));
    let router = axum::Router::new().route(
        "/api/v1/balance/all",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let failing = fail.load(Ordering::SeqCst);
            async move {
                if failing {
                    (axum::http::StatusCode::SERVICE_UNAVAILABLE, "{}")
                } else {
                    (
                        axum::http::StatusCode::OK,
                        r#"{"success":true,"balances":[]}"#,
                    )
                }
            }
        }),
    );
    let client = builder(&serve(router).await)
        .retry_policy(fast_retries().with_max_attempts(4))
        .retry_budget(RetryBudget::new(12, 5, 10, 1))
        .build()
        .unwrap();
    let clone = client.clone();
    // 12 tokens: two retries of 5, then none.
    assert!(client.balance().all().await.is_err());
    assert_eq!(requests.swap(0, Ordering::SeqCst), 3);
    // The clone shares the budget: 2 tokens left, no retry.
    assert!(clone.balance().all().await.is_err());
    assert_eq!(requests.swap(0, Ordering::SeqCst), 1);
    // Successes refill it (1 token each).
    failing.store(false, Ordering::SeqCst);
    for _ in 0..3 {
        client.balance().all().await.unwrap();
    }
    failing.store(true, Ordering::SeqCst);
    requests.store(0, Ordering::SeqCst);
    assert!(client.balance().all().await.is_err());
    assert_eq!(requests.load(Ordering::SeqCst), 2, "5 tokens: one retry");
    // Without a budget every retry the policy allows is made.
    let unlimited = builder(client.base_url())
        .retry_policy(fast_retries().with_max_attempts(4))
        .retry_budget(RetryBudget::unlimited())
        .build()
        .unwrap();
    requests.store(0, Ordering::SeqCst);
    for _ in 0..5 {
        assert!(unlimited.balance().all().await.is_err());
    }
    assert_eq!(requests.load(Ordering::SeqCst), 20);
}
