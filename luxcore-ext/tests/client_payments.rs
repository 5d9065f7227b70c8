//! Payments through the client against luxcore-mock: create (v1, v2), duplicates,
//! get, cancel, methods, validate, withdrawals and their balance effects.

mod client_support;

use client_support::*;
use luxcore_ext::Money;
use luxcore_ext::payments::{Created, PaymentRequest};
use luxcore_ext::types::PaymentMethodValidateRequest;
use luxcore_ext::{Currency, ErrorCode, PaymentMethod, PaymentStatus, PaymentType};

fn is_payment_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('_').collect();
    parts.len() == 3
        && parts[0] == "pay"
        && parts[1].len() == 10
        && parts[1].bytes().all(|b| b.is_ascii_digit())
        && parts[2].len() == 8
        && parts[2].bytes().all(|b| b.is_ascii_lowercase())
}

#[tokio::test]
async fn create_get_cancel_deposit() {
    let (server, client) = mock().await;
    let reference = unique_ref("dep");
    let created = client
        .payments()
        .create(deposit(
            150_000,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            &reference,
        ))
        .await
        .unwrap();
    let Created::New(payment) = created else {
        panic!("expected a new payment")
    };
    let id = payment.transaction_id.clone().unwrap();
    assert!(is_payment_id(&id), "{id}");
    assert_eq!(payment.id.as_deref(), Some(id.as_str()));
    assert_eq!(payment.amount, 150_000);
    assert_eq!(payment.fee_amount, Some(6750));
    assert_eq!(payment.net_amount, Some(143_250));
    assert_eq!(payment.status, PaymentStatus::Processing);
    assert_eq!(
        payment.merchant_reference.as_deref(),
        Some(reference.as_str())
    );

    let fetched = client.payments().get(&id).await.unwrap();
    assert_eq!(fetched.transaction_id.as_deref(), Some(id.as_str()));
    assert_eq!(fetched.status, PaymentStatus::Processing);

    let cancelled = client.payments().cancel(&id).await.unwrap();
    assert_eq!(cancelled.status, PaymentStatus::Cancelled);
    let err = client.payments().cancel(&id).await.unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::PaymentAlreadyProcessed);
    assert_eq!(err.status(), Some(400));
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 1);
}

#[tokio::test]
async fn duplicate_reference_is_created_existing() {
    let (server, client) = mock().await;
    let reference = unique_ref("dup");
    let request = deposit(10_000, Currency::MXN, PaymentMethod::Spei, &reference);
    let first = client.payments().create(request.clone()).await.unwrap();
    assert!(first.is_new());
    let second = client.payments().create(request).await.unwrap();
    let Created::Existing(existing) = second else {
        panic!("expected the existing payment")
    };
    assert_eq!(existing.transaction_id, first.get().transaction_id);
    assert_eq!(
        existing.error_code,
        Some(ErrorCode::MerchantReferenceDuplicate)
    );
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 1);
}

#[tokio::test]
async fn create_v2_with_hmac() {
    let (server, _) = mock().await;
    let reference = unique_ref("v2");
    let request = deposit(
        150_000,
        Currency::ARS,
        PaymentMethod::BankTransfer,
        &reference,
    );
    // HMAC credentials: creation goes to API v2, signed.
    let client = client_v2(&server.base_url());
    let created = client.payments().create(request.clone()).await.unwrap();
    assert!(created.is_new());
    assert_eq!(created.get().fee_amount, Some(6750));
    let again = client.payments().create(request).await.unwrap();
    assert!(!again.is_new());
    assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 1);
}

#[tokio::test]
async fn withdrawal_freezes_and_completes() {
    let (server, client) = mock().await;
    server.set_balance("MXN", 1_000_000, 0).await.unwrap();
    let request = PaymentRequest::withdrawal(
        Money::new(100_000, Currency::MXN),
        PaymentMethod::Spei,
        unique_ref("wd"),
    )
    .payout_field("clabe", "002010077777777771")
    .build()
    .unwrap();
    let payment = client
        .payments()
        .create(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(payment.type_, Some(PaymentType::Withdrawal));
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert_eq!(payment.net_amount, Some(104_500));
    assert_eq!(server.balance("MXN").await.unwrap(), (895_500, 104_500));
    let id = payment.transaction_id.unwrap();
    server.complete_payment(&id).await.unwrap();
    assert_eq!(
        client.payments().get(&id).await.unwrap().status,
        PaymentStatus::Completed
    );
    assert_eq!(server.balance("MXN").await.unwrap(), (895_500, 0));
}

#[tokio::test]
async fn methods_and_validation() {
    let (_server, client) = mock().await;
    let all = client.payments().methods(None, None).await.unwrap();
    for method in [
        PaymentMethod::Spei,
        PaymentMethod::Card,
        PaymentMethod::Payid,
    ] {
        assert!(all.iter().any(|m| m.method == method), "{method} missing");
    }
    let mxn_payouts = client
        .payments()
        .methods(Some(Currency::MXN), Some(PaymentType::Withdrawal))
        .await
        .unwrap();
    assert!(mxn_payouts.iter().any(|m| m.method == PaymentMethod::Spei));
    assert!(!mxn_payouts.iter().any(|m| m.method == PaymentMethod::Oxxo));

    let ok = client
        .payments()
        .validate(PaymentMethodValidateRequest {
            amount: std::num::NonZeroU64::new(1000),
            currency: Currency::MXN,
            method: PaymentMethod::Oxxo,
            type_: Some(PaymentType::Deposit),
        })
        .await
        .unwrap();
    assert!(ok.valid);
    let bad = client
        .payments()
        .validate(PaymentMethodValidateRequest {
            amount: std::num::NonZeroU64::new(1000),
            currency: Currency::MXN,
            method: PaymentMethod::Oxxo,
            type_: Some(PaymentType::Withdrawal),
        })
        .await
        .unwrap();
    assert!(!bad.valid);
    assert_eq!(bad.error_code, Some(ErrorCode::WithdrawalNotSupported));
}

/// Calls of different methods boxed into one `Vec<ApiCall<Payment>>` run as they would
/// unboxed (meta included); a call rejected before sending stays rejected when boxed; a
/// call's future answers an error (no panic) if polled again after it completed or failed.
#[tokio::test]
async fn boxed_calls_run_like_unboxed_ones() {
    use luxcore_ext::ApiCall;
    use luxcore_ext::pagination::{Page, Paging};
    use luxcore_ext::payments::PaymentFilter;
    use luxcore_ext::types::Payment;
    use luxcore_ext::{Error, client::Response};

    let (_server, client) = mock().await;
    let id = new_deposit_id(
        &client,
        150_000,
        Currency::ARS,
        PaymentMethod::BankTransfer,
        "boxed",
    )
    .await;

    let calls: Vec<ApiCall<Payment>> =
        vec![client.payments().get(&id), client.payments().cancel(&id)];
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.with_meta().await.unwrap());
    }
    // Polled again after it completed, a call answers an error; it does not panic.
    let mut done = std::pin::pin!(client.payments().get(&id).with_meta());
    assert_eq!(done.as_mut().await.unwrap().meta().status, 200);
    let again = futures::poll!(done.as_mut());
    assert!(
        matches!(again, std::task::Poll::Ready(Err(Error::InvalidRequest(_)))),
        "{again:?}"
    );
    let statuses: Vec<_> = answers.iter().map(|a| a.status.clone()).collect();
    assert_eq!(
        statuses,
        [PaymentStatus::Processing, PaymentStatus::Cancelled]
    );
    assert!(
        answers
            .iter()
            .all(|a| a.meta().status == 200 && a.meta().attempts == 1)
    );

    let rejected: ApiCall<Page<Payment>> = client
        .payments()
        .paging(Paging::new().page_size(0))
        .list(PaymentFilter::new());
    let debug = format!("{rejected:?}");
    assert!(
        debug.starts_with(
            "ApiCall { options: CallOptions { timeout: None, retry: None, deadline: None }, rejected: Some(Config("
        ) && !debug.contains(luxcore_mock::DEFAULT_API_KEY),
        "{debug}"
    );
    let get = client.payments().get(&id);
    assert_eq!(
        format!("{get:?}"),
        "ApiCall { options: CallOptions { timeout: None, retry: None, deadline: None }, rejected: None, .. }"
    );
    assert_eq!(format!("{:?}", get.with_meta()), "MetaFuture");
    assert_eq!(
        format!(
            "{:?}",
            std::future::IntoFuture::into_future(client.payments().get(&id))
        ),
        "CallFuture"
    );
    let mut sent = std::pin::pin!(rejected.with_meta());
    let first: std::task::Poll<luxcore_ext::Result<Response<Page<Payment>>>> =
        futures::poll!(sent.as_mut());
    assert!(
        matches!(first, std::task::Poll::Ready(Err(Error::Config(_)))),
        "{first:?}"
    );
    let again = futures::poll!(sent.as_mut());
    assert!(
        matches!(again, std::task::Poll::Ready(Err(Error::InvalidRequest(_)))),
        "{again:?}"
    );
}
