//! The documented error catalogue end to end (issue 24): luxcore-mock answers every code of
//! `openapi.json`'s `x-luxcore-errors` (a scheduled fault), and the SDK's error has the
//! catalogue's status, the code, its recovery and its advice; the codes the catalogue says to
//! resend are retried on operations that are safe to repeat and never on others; the "wait"
//! codes are not retried; duplicate creations end as `Created::Existing` in each of the
//! mock's three duplicate answers.

mod client_support;

use client_support::*;
use luxcore_ext::api::errors::{ERRORS, Source};
use luxcore_ext::error::{Error, ErrorCodeExt};
use luxcore_ext::payments::Created;
use luxcore_ext::{Currency, ErrorCode, PaymentMethod, PaymentStatus, Recovery};
use luxcore_mock::{DuplicateAnswer, Fault, FaultConfig};

/// A 1,500.00 ARS bank-transfer deposit with `reference`.
fn ars(reference: &str) -> luxcore_ext::types::PaymentCreateRequest {
    deposit(
        150_000,
        Currency::ARS,
        PaymentMethod::BankTransfer,
        reference,
    )
}

/// The mock answers the next request with `code` (the catalogue's status), unprocessed.
async fn answer_once(server: &luxcore_mock::MockServer, code: ErrorCode) {
    server
        .set_faults(FaultConfig::scheduled([Fault::Error(code)]))
        .await
        .unwrap();
}

#[tokio::test]
async fn every_catalogue_code_reaches_the_caller_with_its_status_code_and_recovery() {
    let (server, _) = mock().await;
    let client = no_retry_client(&server);
    let mut seen = 0;
    for info in ERRORS.iter().filter(|info| info.status >= 400) {
        let code = ErrorCode::from(info.code);
        answer_once(&server, code.clone()).await;
        let err = client
            .payments()
            .get("pay_0000000000_abcdefgh")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(info.status), "{}: {err:?}", info.code);
        assert_eq!(err.code(), Some(&code), "{}", info.code);
        assert_eq!(err.recovery(), info.recovery, "{}", info.code);
        assert_eq!(code.recovery(), info.recovery, "{}", info.code);
        assert!(err.request_id().is_some(), "{}: no request id", info.code);
        if info.status == 429 {
            assert!(err.is_rate_limited(), "{err:?}");
        } else {
            assert_eq!(err.advice(), info.advice, "{}", info.code);
            assert!(
                err.to_string()
                    .ends_with(&format!("; what to do: {}", info.advice)),
                "{err}"
            );
        }
        seen += 1;
    }
    // Every code but MERCHANT_REFERENCE_DUPLICATE (a 200, below) was answered.
    assert_eq!(seen, ERRORS.len() - 1);
    assert_eq!(
        ERRORS
            .iter()
            .filter(|i| i.source == Source::Documented)
            .count(),
        26,
        "both tables of the docs' error-code page"
    );
}

#[tokio::test]
async fn a_retryable_400_is_retried_on_creation_and_succeeds() {
    let (server, client) = mock().await;
    let reference = unique_ref("lock");
    answer_once(&server, ErrorCode::LockTimeout).await;
    let answer = client
        .payments()
        .create(ars(&reference))
        .with_meta()
        .await
        .unwrap();
    assert!(answer.is_new(), "{answer:?}");
    assert_eq!(answer.meta().attempts, 2);
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 1);
}

#[tokio::test]
async fn a_retryable_code_that_persists_ends_the_call_after_every_attempt() {
    let (server, client) = mock().await;
    let code = ErrorCode::DatabaseError;
    server
        .set_faults(FaultConfig::scheduled(vec![Fault::Error(code.clone()); 4]))
        .await
        .unwrap();
    let reference = unique_ref("persisting");
    let err = client.payments().create(ars(&reference)).await.unwrap_err();
    assert_eq!(err.code(), Some(&code));
    assert_eq!(
        err.attempts(),
        Some(4),
        "the client's policy allows 4 attempts"
    );
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 0);
}

#[tokio::test]
async fn a_retryable_code_on_a_post_that_is_not_idempotent_is_not_retried() {
    let (server, client) = mock().await;
    let payment = client
        .payments()
        .create(ars(&unique_ref("cancel")))
        .await
        .unwrap()
        .into_inner();
    let id = payment
        .id
        .clone()
        .or(payment.transaction_id.clone())
        .unwrap();
    answer_once(&server, ErrorCode::LockTimeout).await;
    let err = client.payments().cancel(&id).await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::LockTimeout));
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(err.recovery(), Recovery::Retry);
    // A retry would have cancelled it (the fault answers once).
    let after = client.payments().get(&id).await.unwrap();
    assert_ne!(after.status, PaymentStatus::Cancelled);
}

#[tokio::test]
async fn wait_codes_surface_with_their_advice_instead_of_a_retry() {
    let (server, client) = mock().await;
    for code in [
        ErrorCode::MissingRequisites,
        ErrorCode::NoAvailableRequisites,
        ErrorCode::InsufficientBalance,
    ] {
        let reference = unique_ref("wait");
        // Once only: a retry would succeed.
        answer_once(&server, code.clone()).await;
        let err = client.payments().create(ars(&reference)).await.unwrap_err();
        assert_eq!(err.code(), Some(&code));
        assert!(matches!(
            err.recovery(),
            Recovery::WaitAndRetry | Recovery::WaitForBalance
        ));
        assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn a_duplicate_creation_is_existing_in_each_duplicate_answer() {
    let (server, client) = mock().await;
    for answer in DuplicateAnswer::ALL {
        server.set_duplicates(answer).await.unwrap();
        let reference = unique_ref("dup");
        let request = || ars(&reference);
        let first = client.payments().create(request()).await.unwrap();
        assert!(first.is_new());
        // The reference was used before, not by this call: reported as the duplicate it is.
        let again = client.payments().create(request()).await.unwrap();
        assert!(
            matches!(again, Created::Existing(_)),
            "{answer:?}: {again:?}"
        );
        assert_eq!(again.get().id, first.get().id, "{answer:?}");
        // The same reference for another order: a conflict, never the other order's payment.
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
        assert!(err.is_reference_conflict(), "{answer:?}: {err:?}");
        assert_eq!(err.recovery(), Recovery::UseUniqueReference);
        // A lost answer: the retry meets the duplicate and returns the payment.
        let lost = unique_ref("lost");
        server
            .set_faults(FaultConfig::scheduled([Fault::DropAfterCommit]))
            .await
            .unwrap();
        let created = client
            .payments()
            .create(ars(&lost))
            .with_meta()
            .await
            .unwrap();
        assert!(!created.is_new(), "{answer:?}: {created:?}");
        if answer != DuplicateAnswer::DuplicateReference400 {
            // The duplicate answer (200, or 400 carrying the payment) came to the retry.
            assert_eq!(created.meta().attempts, 2, "{answer:?}");
        }
        assert_eq!(
            created.get().merchant_reference.as_deref(),
            Some(lost.as_str())
        );
        assert_eq!(server.payments_by_reference(&lost).await.unwrap(), 1);
        assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn a_duplicate_refusal_whose_payment_cannot_be_found_stays_an_error() {
    let (server, _) = mock().await;
    let client = no_retry_client(&server);
    // DUPLICATE_REFERENCE for a reference no listed payment holds (a seeded answer): the
    // lookup finds nothing, and the refusal is the answer, with its advice.
    answer_once(&server, ErrorCode::DuplicateReference).await;
    let err: Error = client
        .payments()
        .create(ars(&unique_ref("nowhere")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::DuplicateReference));
    assert_eq!(err.recovery(), Recovery::UseUniqueReference);
}

#[tokio::test]
async fn mistyped_payout_details_sent_raw_are_refused_by_the_mock_with_the_catalogue_code() {
    let (server, _) = mock().await;
    let client = no_retry_client(&server);
    server.set_balance("MXN", 10_000_000, 0).await.unwrap();
    server.set_balance("ARS", 10_000_000, 0).await.unwrap();
    // The raw map skips the SDK's own check (payout_to would refuse both before sending).
    for (currency, method, key, value, code) in [
        (
            Currency::MXN,
            PaymentMethod::Spei,
            "clabe",
            "002010077777777770",
            ErrorCode::InvalidClabe,
        ),
        (
            Currency::ARS,
            PaymentMethod::BankTransfer,
            "cvu",
            "0000003100099999999995",
            ErrorCode::InvalidCvu,
        ),
    ] {
        let reference = unique_ref("payout");
        let request = luxcore_ext::payments::PaymentRequest::withdrawal(
            luxcore_ext::Money::new(50_000, currency),
            method,
            &reference,
        )
        .payout_field(key, value)
        .build()
        .unwrap();
        let err = client.payments().create(request).await.unwrap_err();
        assert_eq!(err.code(), Some(&code), "{err}");
        assert_eq!(err.status(), Some(400));
        assert_eq!(err.recovery(), Recovery::FixRequest);
        assert!(err.request_id().is_some());
        assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 0);
    }
}
