//! The example payloads published in the LuxCore docs (tests/fixtures/docs, see its README),
//! decoded by the SDK: every field value is checked, not only "it parses". These payloads were
//! not produced by luxcore-mock, so they check the SDK against LuxCore's own examples.

use axum::Router;
use axum::http::StatusCode;
use luxcore_api::types::{Balance, BalanceList, Payment, WebhookResponse};
use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::webhooks::Event;
use luxcore_ext::{Currency, ErrorCode, PaymentMethod, PaymentStatus, PaymentType};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/docs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn rfc3339(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

#[test]
fn create_payment_response() {
    let p: Payment = serde_json::from_str(&fixture("create_payment_response.json")).unwrap();
    assert_eq!(p.transaction_id.as_deref(), Some("pay_1234567890_abcdefgh"));
    assert_eq!(p.status, PaymentStatus::Processing);
    assert_eq!(p.amount, 150_000);
    assert_eq!(p.currency, Currency::ARS);
    assert_eq!(p.method, Some(PaymentMethod::BankTransfer));
    assert_eq!(p.type_, Some(PaymentType::Deposit));
    assert_eq!((p.fee_amount, p.net_amount), (Some(6750), Some(143_250)));
    let bank = p.bank_details.as_ref().unwrap();
    assert_eq!(bank.amount.as_deref(), Some("150000"));
    assert_eq!(
        bank.purpose.as_deref(),
        Some("Payment pay_1234567890_abcdefgh")
    );
    assert_eq!(bank.currency.as_deref(), Some("ARS"));
    assert_eq!(bank.bank_name.as_deref(), Some("Banco Nacion"));
    assert_eq!(bank.swift_code, None);
    assert_eq!(
        bank.account_holder.as_deref(),
        Some("LuxCore Platform S.A.")
    );
    assert_eq!(
        bank.account_number.as_deref(),
        Some("0110012345678901234567")
    );
    assert_eq!(p.created_at, Some(rfc3339("2025-01-21T10:30:00Z")));
    assert_eq!(p.expires_at, Some(rfc3339("2025-01-21T10:45:00Z")));
}

#[test]
fn balances() {
    let b: Balance = serde_json::from_str(&fixture("balance.json")).unwrap();
    assert_eq!(b.success, Some(true));
    assert_eq!(b.merchant_id, Some(123));
    assert_eq!(b.currency, Currency::ARS);
    assert_eq!(
        b.balance_type.map(|t| t.to_string()).as_deref(),
        Some("main")
    );
    assert_eq!(
        (
            b.balance_amount.as_str(),
            b.available_amount.as_str(),
            b.frozen_amount.as_str()
        ),
        ("1500000", "1200000", "300000")
    );
    assert_eq!(
        (b.new_balance, b.available_balance),
        (Some(1_500_000), Some(1_200_000))
    );

    let all: BalanceList = serde_json::from_str(&fixture("balance_all.json")).unwrap();
    assert_eq!((all.merchant_id, all.total_balances), (Some(123), Some(2)));
    let rows: Vec<_> = all
        .balances
        .iter()
        .map(|e| {
            (
                e.currency.clone(),
                e.balance_amount.as_str(),
                e.available_amount.as_str(),
                e.frozen_amount.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (Currency::ARS, "1500000", "1200000", "300000"),
            (Currency::MXN, "850000", "850000", "0"),
        ]
    );
}

#[test]
fn webhook_create_response() {
    let w: WebhookResponse =
        serde_json::from_str(&fixture("webhook_create_response.json")).unwrap();
    let hook = &w.data;
    assert_eq!(hook.id, "wh_abc123");
    assert_eq!(hook.url, "https://your-server.com/webhooks/luxcore");
    let events: Vec<String> = hook.events.iter().map(ToString::to_string).collect();
    assert_eq!(events, ["payment.completed", "payment.failed"]);
    assert_eq!(
        hook.status.as_ref().map(ToString::to_string).as_deref(),
        Some("active")
    );
    assert_eq!(hook.secret.as_deref(), Some("whsec_a1b2c3d4e5f6g7h8i9j0"));
    assert_eq!(hook.created_at, Some(rfc3339("2025-01-21T10:30:00Z")));
}

#[test]
fn legacy_flat_event() {
    let event = Event::parse(fixture("event_legacy_flat.json").as_bytes()).unwrap();
    assert!(event.is_legacy());
    assert_eq!(event.id(), None);
    assert_eq!(event.name(), "payment.completed");
    assert_eq!(event.payment_id(), Some("pay_1234567890_abcdefgh"));
    let p = event.payment().unwrap();
    assert_eq!(p.status, PaymentStatus::Completed);
    assert_eq!(
        (p.amount, p.fee, p.net_amount),
        (100_050, Some(250), Some(99_800))
    );
    assert_eq!(p.merchant_reference.as_deref(), Some("order_123456"));
    assert_eq!(p.completed_at, Some(rfc3339("2025-01-21T10:35:00Z")));
    assert_eq!(event.status_version(), None);
}

#[test]
fn envelope_event() {
    let event = Event::parse(fixture("event_envelope.json").as_bytes()).unwrap();
    assert!(!event.is_legacy());
    assert_eq!(event.id(), Some("evt_abc123def456"));
    assert_eq!(event.created_at(), Some(rfc3339("2025-01-21T10:35:00Z")));
    assert_eq!(event.merchant_id(), Some(123));
    assert_eq!(event.payment_id(), Some("pay_1234567890_abcdefgh"));
    assert_eq!(event.status_version(), Some(3));
    let p = event.payment().unwrap();
    assert_eq!((p.amount, p.currency.clone()), (100_050, Currency::ARS));
    assert_eq!(p.confirmed_at, Some(rfc3339("2025-01-21T10:35:00Z")));
}

/// Serves `body` with `status` for every request and returns the error the SDK maps it to.
async fn error_for(status: u16, body: String) -> Error {
    let status = StatusCode::from_u16(status).unwrap();
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move { (status, [("content-type", "application/json")], body) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = LuxCore::builder()
        .base_url(&base)
        .api_key("qp_test_sk_docs")
        .build()
        .unwrap();
    client
        .signed_request(reqwest::Method::GET, "/api/v1/balance", None)
        .await
        .unwrap_err()
}

fn api_parts(err: &Error) -> (u16, ErrorCode, Vec<String>, Option<String>) {
    match err {
        Error::Api {
            status,
            code,
            messages,
            timestamp,
            ..
        } => (*status, code.clone(), messages.clone(), timestamp.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_three_documented_error_shapes() {
    let err = error_for(400, fixture("error_business.json")).await;
    assert_eq!(
        api_parts(&err),
        (
            400,
            ErrorCode::PaymentAlreadyProcessed,
            vec!["Payment already processed".to_owned()],
            Some("2025-01-28T10:00:00.000Z".to_owned())
        )
    );

    let err = error_for(400, fixture("error_validation.json")).await;
    assert_eq!(
        api_parts(&err),
        (
            400,
            ErrorCode::ValidationError,
            vec![
                "amount must not be less than 1".to_owned(),
                "merchant_reference must be a string".to_owned()
            ],
            None
        )
    );

    let err = error_for(401, fixture("error_legacy.json")).await;
    assert_eq!(
        api_parts(&err),
        (
            401,
            ErrorCode::InvalidApiKey,
            vec!["API key not found or invalid".to_owned()],
            None
        )
    );
    assert!(!err.is_retryable());
}
