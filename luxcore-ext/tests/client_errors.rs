//! Every documented error code, through the client against luxcore-mock, mapped to the
//! right `Error::Api { code }` (or `Created::Existing` for duplicates).

mod client_support;

use client_support::*;
use luxcore_ext::Money;
use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::types::TicketCreateRequest;
use luxcore_ext::{Currency, ErrorCode, PaymentMethod};
use serde_json::json;

async fn create_err(client: &LuxCore, request: luxcore_ext::types::PaymentCreateRequest) -> Error {
    client.payments().create(request).await.unwrap_err()
}

#[tokio::test]
async fn requisite_errors_from_magic_amounts() {
    let (server, _) = mock().await;
    let client = no_retry_client(&server);
    for (amount, code) in [
        (40_001, ErrorCode::MissingRequisites),
        (40_002, ErrorCode::NoAvailableRequisites),
    ] {
        let reference = unique_ref("magic");
        let err = create_err(
            &client,
            deposit(
                amount,
                Currency::ARS,
                PaymentMethod::BankTransfer,
                &reference,
            ),
        )
        .await;
        assert_eq!(api_code(&err), code);
        assert_eq!(err.status(), Some(400));
        // Recoverable by waiting (pending payments settle), not by resending at once.
        assert_eq!(err.recovery(), luxcore_ext::Recovery::WaitAndRetry);
        assert!(!err.is_retryable(), "{code} is a wait code");
        assert_eq!(server.payments_by_reference(&reference).await.unwrap(), 0);
    }
    // With retries on, the code surfaces with its advice.
    let retrying = client_support::client(&server.base_url());
    let answer = retrying
        .payments()
        .create(deposit(
            40_001,
            Currency::ARS,
            PaymentMethod::BankTransfer,
            &unique_ref("magic"),
        ))
        .await;
    let err = answer.unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::MissingRequisites);
    assert!(
        err.to_string()
            .contains("what to do: No requisites are free"),
        "{err}"
    );
}

#[tokio::test]
async fn payment_validation_codes() {
    let (server, _) = mock().await;
    let client = no_retry_client(&server);
    server.set_balance("MXN", 0, 0).await.unwrap();

    let insufficient = PaymentRequest::withdrawal(
        Money::new(50_000, Currency::MXN),
        PaymentMethod::Spei,
        unique_ref("w"),
    )
    .payout_field("clabe", "002010077777777771")
    .build()
    .unwrap();
    let err = create_err(&client, insufficient).await;
    assert_eq!(api_code(&err), ErrorCode::InsufficientBalance);
    assert!(!err.is_retryable());

    let err = create_err(
        &client,
        deposit(1000, Currency::ARS, PaymentMethod::Oxxo, &unique_ref("m")),
    )
    .await;
    assert_eq!(api_code(&err), ErrorCode::InvalidMethod);

    server.set_balance("MXN", 1_000_000, 0).await.unwrap();
    let no_payout = PaymentRequest::withdrawal(
        Money::new(1000, Currency::MXN),
        PaymentMethod::Spei,
        unique_ref("w"),
    )
    .build()
    .unwrap();
    let err = create_err(&client, no_payout).await;
    assert_eq!(api_code(&err), ErrorCode::InvalidWithdrawalData);

    // A currency LuxCore does not document is refused before sending (its minor unit is
    // not guessed), with an error naming it.
    let err = PaymentRequest::deposit(
        Money::new(1000, Currency::Other("EUR".into())),
        PaymentMethod::Card,
        unique_ref("c"),
    )
    .build()
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(message) if message.contains("EUR")),
        "{err:?}"
    );

    let oxxo_payout = PaymentRequest::withdrawal(
        Money::new(1000, Currency::MXN),
        PaymentMethod::Oxxo,
        unique_ref("w"),
    )
    .payout_field("account_number", "123")
    .build()
    .unwrap();
    let err = create_err(&client, oxxo_payout).await;
    assert_eq!(api_code(&err), ErrorCode::WithdrawalNotSupported);
}

#[tokio::test]
async fn validation_error_shape() {
    let (server, client) = mock().await;
    let err = client
        .signed_request(
            reqwest::Method::POST,
            "/api/v1/payments",
            Some(&json!({"amount": 1.5, "currency": "ARS", "method": "card", "type": "deposit"})),
        )
        .await
        .unwrap_err();
    let Error::Api {
        status,
        code,
        messages,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 400);
    assert_eq!(code, &ErrorCode::ValidationError);
    assert!(!messages.is_empty());
    assert_eq!(server.payment_count().await.unwrap(), 0);
}

#[tokio::test]
async fn authentication_and_scope_codes() {
    let (server, _) = mock().await;
    let wrong_key = LuxCore::builder()
        .base_url(server.base_url())
        .api_key("qp_test_sk_not_a_real_key")
        .retry_policy(luxcore_ext::retry::RetryPolicy::none())
        .build()
        .unwrap();
    let err = wrong_key.balance().all().await.unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::InvalidApiKey);
    assert_eq!(err.status(), Some(401));

    let readonly = LuxCore::builder()
        .base_url(server.base_url())
        .api_key(READONLY_KEY)
        .build()
        .unwrap();
    readonly.balance().all().await.unwrap();
    let err = readonly
        .payments()
        .create(deposit(
            1000,
            Currency::ARS,
            PaymentMethod::Card,
            &unique_ref("ro"),
        ))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::InsufficientScope);
    assert_eq!(err.status(), Some(403));
}

#[tokio::test]
async fn not_found_codes() {
    let (_server, client) = mock().await;
    let err = client
        .payments()
        .get("pay_0000000000_abcdefgh")
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::NotFound);
    assert_eq!(err.status(), Some(404));
    let err = client
        .webhook_endpoints()
        .get("wh_missing")
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::NotFound);
    let err = client
        .tickets()
        .get("00000000-0000-0000-0000-000000000000")
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::NotFound);
    let ticket = client
        .tickets()
        .create(
            luxcore_ext::tickets::TicketRequest::new("t")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let err = client
        .tickets()
        .download_attachment(&ticket.ticket_id, "att_missing")
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::NotFound);
    let err = client
        .signed_request(reqwest::Method::GET, "/api/v1/no-such-route", None)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::NotFound);
}

#[tokio::test]
async fn ticket_state_codes() {
    let (_server, client) = mock().await;
    let request: TicketCreateRequest = luxcore_ext::tickets::TicketRequest::new("state")
        .build()
        .unwrap();
    let ticket = client.tickets().create(request).await.unwrap();
    let err = client
        .tickets()
        .reopen(&ticket.ticket_id)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::TicketNotClosed);
    client.tickets().close(&ticket.ticket_id).await.unwrap();
    let err = client.tickets().close(&ticket.ticket_id).await.unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::TicketAlreadyClosed);
}

/// luxcore-mock sends `X-Request-Id` on every answer: it reaches `Error::request_id()` of an
/// error and `ResponseMeta::request_id` of a success, one id per request.
#[tokio::test]
async fn request_ids_from_the_mock_reach_errors_and_metadata() {
    let (_server, client) = mock().await;
    let err = client.payments().get("pay_missing").await.unwrap_err();
    let error_id = err
        .request_id()
        .expect("the mock's X-Request-Id")
        .to_owned();
    assert!(error_id.starts_with("req_"), "{error_id}");
    assert!(err.to_string().contains(&error_id), "{err}");
    let answer = client.balance().all().with_meta().await.unwrap();
    let ok_id = answer
        .meta()
        .request_id
        .clone()
        .expect("X-Request-Id on a 200");
    assert!(ok_id.starts_with("req_"), "{ok_id}");
    assert_ne!(ok_id, error_id);
}
