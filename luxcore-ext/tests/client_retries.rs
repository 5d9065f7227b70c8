//! Retries against luxcore-mock's fault injection: recovery from 429/500/503, exactly
//! one payment per merchant_reference despite dropped connections, conservative
//! handling of other POSTs, and errors surfacing with retries off.

mod client_support;

use client_support::*;
use luxcore_ext::error::Error;
use luxcore_ext::payments::Created;
use luxcore_ext::{Currency, ErrorCode, PaymentMethod, PaymentStatus};
use luxcore_mock::{Fault, FaultConfig};

#[tokio::test]
async fn recovers_from_429_500_503() {
    let (server, client) = mock().await;
    server
        .set_faults(FaultConfig::scheduled([
            Fault::Status(429),
            Fault::Status(500),
            Fault::Status(503),
        ]))
        .await
        .unwrap();
    let (_guard, captured) = capture_tracing();
    client.balance().all().await.unwrap();
    assert_eq!(retries_in(&captured.text()), 3);
}

#[tokio::test]
async fn dropped_creation_is_retried_into_the_existing_payment() {
    let (server, client) = mock().await;
    for v2 in [false, true] {
        let reference = unique_ref("drop");
        let request = deposit(
            150_000,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            &reference,
        );
        server
            .set_faults(FaultConfig::scheduled([Fault::DropAfterCommit]))
            .await
            .unwrap();
        let created = if v2 {
            client_v2(&server.base_url())
                .payments()
                .create(request)
                .await
        } else {
            client.payments().create(request).await
        }
        .unwrap();
        assert!(matches!(created, Created::Existing(_)), "v2={v2}");
        assert_eq!(
            server.payments_by_reference(&reference).await.unwrap(),
            1,
            "v2={v2}"
        );
    }
}

#[tokio::test]
async fn random_faults_leave_exactly_one_payment_per_reference() {
    let (server, _) = mock().await;
    let client = builder(&server.base_url())
        .retry_policy(fast_retries().with_max_attempts(12))
        .build()
        .unwrap();
    let v2 = builder_v2(&server.base_url())
        .retry_policy(fast_retries().with_max_attempts(12))
        .build()
        .unwrap();
    server
        .set_faults(FaultConfig {
            seed: 42,
            probability: 0.3,
            drop_after_commit: 0.2,
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    let (_guard, captured) = capture_tracing();
    let mut references = Vec::new();
    for i in 0..25 {
        let reference = unique_ref("chaos");
        let request = deposit(10_000 + i, Currency::MXN, PaymentMethod::Spei, &reference);
        let created = if i % 2 == 0 {
            client.payments().create(request).await
        } else {
            v2.payments().create(request).await
        };
        created.unwrap_or_else(|e| panic!("{reference}: {e:?}"));
        references.push(reference);
    }
    server.set_faults(FaultConfig::default()).await.unwrap();
    let text = captured.text();
    assert!(
        retries_in(&text) >= 5,
        "faults must have fired: {}",
        retries_in(&text)
    );
    assert!(
        text.contains("error=\"transport\""),
        "no connection was dropped"
    );
    for reference in &references {
        assert_eq!(
            server.payments_by_reference(reference).await.unwrap(),
            1,
            "{reference}"
        );
    }
    assert_eq!(server.payment_count().await.unwrap(), references.len());
}

#[tokio::test]
async fn other_posts_are_not_retried_after_send() {
    let (server, client) = mock().await;
    let id = new_deposit_id(&client, 5000, Currency::ARS, PaymentMethod::Card, "c").await;

    // A 500 on cancel is not retried: the payment stays as it was.
    server
        .set_faults(FaultConfig::scheduled([Fault::Status(500)]))
        .await
        .unwrap();
    let err = client.payments().cancel(&id).await.unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::InternalError);
    assert_eq!(
        client.payments().get(&id).await.unwrap().status,
        PaymentStatus::Processing
    );

    // A dropped connection after the server acted is not retried either.
    let (_guard, captured) = capture_tracing();
    server
        .set_faults(FaultConfig::scheduled([Fault::DropAfterCommit]))
        .await
        .unwrap();
    let err = client.payments().cancel(&id).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(retries_in(&captured.text()), 0);
    assert_eq!(
        client.payments().get(&id).await.unwrap().status,
        PaymentStatus::Cancelled
    );

    // A 429 (refused by the rate limiter before processing) is retried; a 503 is not, since
    // a proxy's 503 may follow a request the service already acted on.
    let ticket = client
        .tickets()
        .create(
            luxcore_ext::tickets::TicketRequest::new("retry")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    server
        .set_faults(FaultConfig::scheduled([Fault::Status(503)]))
        .await
        .unwrap();
    let err = client.tickets().close(&ticket.ticket_id).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    server
        .set_faults(FaultConfig::scheduled([Fault::Status(429)]))
        .await
        .unwrap();
    client.tickets().close(&ticket.ticket_id).await.unwrap();
}

#[tokio::test]
async fn with_retries_off_errors_surface() {
    let (server, _) = mock().await;
    let client = no_retry_client(&server);
    server
        .set_faults(FaultConfig::scheduled([Fault::Status(503)]))
        .await
        .unwrap();
    let err = client.balance().all().await.unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::ServiceUnavailable);
    assert_eq!(err.status(), Some(503));

    server
        .set_faults(FaultConfig::scheduled([Fault::Status(429)]))
        .await
        .unwrap();
    let err = client.balance().all().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RateLimited {
                retry_after: Some(_),
                ..
            }
        ),
        "{err:?}"
    );

    server
        .set_faults(FaultConfig::scheduled([Fault::Status(500)]))
        .await
        .unwrap();
    let err = client.balance().all().await.unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::InternalError);

    let reference = unique_ref("off");
    let request = deposit(7000, Currency::ARS, PaymentMethod::Card, &reference);
    server
        .set_faults(FaultConfig::scheduled([Fault::DropAfterCommit]))
        .await
        .unwrap();
    let err = client.payments().create(request.clone()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 1);
    // Sending the same reference again returns the payment the lost answer was about.
    let again = client.payments().create(request).await.unwrap();
    assert!(!again.is_new());
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 1);
}
