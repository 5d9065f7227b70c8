//! Every one of the 33 operations at least once, with status and schema checks
//! (bodies are deserialised into the generated `luxcore_api::types`).

mod common;

use common::{Harness, deposit_body, start_default};
use luxcore_api::enums::{PaymentStatus, TicketStatus, WebhookEventType, WebhookStatus};
use luxcore_api::types::{
    Balance, BalanceList, ErrorResponse, Payment, PaymentList, PaymentMethodList,
    PaymentMethodValidationResponse, PaymentResponse, TicketCommentList, TicketCommentResponse,
    TicketList, TicketResponse, UploadUrlResponse, WebhookEventList, WebhookEventResponse,
    WebhookList, WebhookResponse, WebhookRetryResponse,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn payment_operations() {
    let h = start_default().await;

    // createPayment
    let created = h.create(deposit_body(150_000, "order_abc123")).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let payment: Payment = created.parse();
    let id = payment.id.clone().expect("id");
    assert_eq!(payment.transaction_id.as_deref(), Some(id.as_str()));
    assert!(id.starts_with("pay_"));
    let parts: Vec<&str> = id.split('_').collect();
    assert_eq!(parts.len(), 3);
    assert!(parts[1].len() == 10 && parts[1].bytes().all(|b| b.is_ascii_digit()));
    assert!(parts[2].len() == 8 && parts[2].bytes().all(|b| b.is_ascii_lowercase()));
    assert_eq!(payment.status, PaymentStatus::Processing);
    assert_eq!(payment.status_version, Some(1));
    assert_eq!(payment.fee_amount, Some(6750));
    assert_eq!(payment.fee, Some(6750));
    assert_eq!(payment.net_amount, Some(143_250));
    assert_eq!(payment.merchant_id, Some(123));
    let created_at = payment.created_at.expect("created_at");
    assert_eq!(
        payment.expires_at,
        Some(created_at + chrono::Duration::minutes(15))
    );
    let bank = payment.bank_details.expect("bank_details");
    assert_eq!(bank.amount.as_deref(), Some("150000"));
    assert_eq!(bank.purpose, Some(format!("Payment {id}")));
    assert_eq!(bank.account_number.map(|a| a.len()), Some(22));
    assert!(
        created.body["created_at"]
            .as_str()
            .expect("string")
            .ends_with('Z')
    );

    // getPayment
    let got = h.get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    let got: PaymentResponse = got.parse();
    assert_eq!(got.success, Some(true));
    assert_eq!(got.data.id.as_deref(), Some(id.as_str()));

    // listPayments
    let list = h.get("/api/v1/payments").await;
    assert_eq!(list.status, StatusCode::OK);
    let list: PaymentList = list.parse();
    assert_eq!(list.total, 1);
    assert_eq!(list.pagination.limit, 20);
    assert_eq!(list.pagination.total_pages, 1);

    // cancelPayment
    let cancelled = h.post_empty(&format!("/api/v1/payments/{id}/cancel")).await;
    assert_eq!(cancelled.status, StatusCode::OK);
    let cancelled: PaymentResponse = cancelled.parse();
    assert_eq!(cancelled.data.status, PaymentStatus::Cancelled);
    assert_eq!(cancelled.data.status_version, Some(2));

    // getPaymentMethods
    let methods = h.get("/api/v1/payments/methods").await;
    assert_eq!(methods.status, StatusCode::OK);
    let methods: PaymentMethodList = methods.parse();
    assert_eq!(methods.data.len(), 8);
    let lkr: PaymentMethodList = h.get("/api/v1/payments/methods?currency=LKR").await.parse();
    let codes: Vec<&str> = lkr.data.iter().map(|m| m.method.as_str()).collect();
    assert_eq!(codes, ["card", "crypto", "ipay"]);
    let payouts: PaymentMethodList = h
        .get("/api/v1/payments/methods?currency=MXN&type=withdrawal")
        .await
        .parse();
    let codes: Vec<&str> = payouts.data.iter().map(|m| m.method.as_str()).collect();
    assert_eq!(codes, ["spei", "bank_transfer", "crypto"]);

    // validatePaymentMethod
    let ok = h
        .post(
            "/api/v1/payments/methods/validate",
            json!({"method": "spei", "currency": "MXN", "type": "withdrawal"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let ok: PaymentMethodValidationResponse = ok.parse();
    assert!(ok.data.valid);
    let bad: PaymentMethodValidationResponse = h
        .post(
            "/api/v1/payments/methods/validate",
            json!({"method": "oxxo", "currency": "MXN", "type": "withdrawal"}),
        )
        .await
        .parse();
    assert!(!bad.data.valid);
    assert_eq!(
        bad.data.error_code.map(|c| c.to_string()).as_deref(),
        Some("WITHDRAWAL_NOT_SUPPORTED")
    );
    assert!(!bad.data.reasons.is_empty());
}

async fn webhook_id(h: &Harness) -> String {
    let created = h
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "events": ["payment.completed"], "signature_algorithm": "hmac_sha256"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
    let created: WebhookResponse = created.parse();
    assert!(
        created
            .data
            .secret
            .as_deref()
            .is_some_and(|s| s.starts_with("whsec_"))
    );
    assert_eq!(created.data.status, Some(WebhookStatus::Active));
    created.data.id
}

#[tokio::test]
async fn webhook_operations() {
    let h = start_default().await;
    let id = webhook_id(&h).await;
    let path = format!("/api/v1/webhooks/{id}");

    // getWebhook: the secret is never shown again
    let got = h.get(&path).await;
    assert_eq!(got.status, StatusCode::OK);
    let got: WebhookResponse = got.parse();
    assert_eq!(got.data.secret, None);
    assert!(got.body_has_no_secret());

    // listWebhooks
    let list: WebhookList = h.get("/api/v1/webhooks").await.parse();
    assert_eq!(list.total, 1);
    assert_eq!(list.data[0].id, id);

    // updateWebhook
    let updated = h
        .put(
            &path,
            json!({"events": ["payment.completed", "payment.failed"]}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    let updated: WebhookResponse = updated.parse();
    assert_eq!(
        updated.data.events,
        [
            WebhookEventType::PaymentCompleted,
            WebhookEventType::PaymentFailed
        ]
    );
    assert_eq!(updated.data.url, "http://127.0.0.1:9/hook");

    // disableWebhook / enableWebhook
    let disabled: WebhookResponse = h
        .call(Method::PUT, &format!("{path}/disable"), None)
        .await
        .parse();
    assert_eq!(disabled.data.status, Some(WebhookStatus::Disabled));
    let filtered: WebhookList = h.get("/api/v1/webhooks?status=disabled").await.parse();
    assert_eq!(filtered.total, 1);
    let enabled: WebhookResponse = h
        .call(Method::PUT, &format!("{path}/enable"), None)
        .await
        .parse();
    assert_eq!(enabled.data.status, Some(WebhookStatus::Active));

    // testWebhook
    let test = h.post_empty(&format!("{path}/test")).await;
    assert_eq!(test.status, StatusCode::OK, "{:#}", test.body);
    let test: WebhookEventResponse = test.parse();
    assert_eq!(test.data.event_type, WebhookEventType::WebhookTest);
    assert!(test.data.id.starts_with("evt_"));
    assert_eq!(test.data.payload["event"], "webhook.test");

    // listWebhookEvents
    let events = h.get(&format!("{path}/events")).await;
    assert_eq!(events.status, StatusCode::OK);
    let events: WebhookEventList = events.parse();
    assert_eq!(events.total, 1);
    assert_eq!(events.data[0].id, test.data.id);

    // retryWebhookEvents
    let retried = h
        .post(
            &format!("{path}/retry"),
            json!({"event_ids": ["evt_unknown"]}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK);
    let retried: WebhookRetryResponse = retried.parse();
    assert_eq!(retried.data.retried, 0);

    // deleteWebhook
    let deleted = h.call(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = h.get(&path).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.code(), "NOT_FOUND");
}

trait NoSecret {
    fn body_has_no_secret(&self) -> bool;
}

impl NoSecret for WebhookResponse {
    fn body_has_no_secret(&self) -> bool {
        !serde_json::to_string(self)
            .expect("json")
            .contains("whsec_")
    }
}

#[tokio::test]
async fn balance_operations() {
    let h = start_default().await;
    h.server
        .set_balance("ARS", 1_200_000, 300_000)
        .await
        .expect("set");

    // getBalance
    let balance = h.get("/api/v1/balance?currency=ARS").await;
    assert_eq!(balance.status, StatusCode::OK);
    let balance: Balance = balance.parse();
    assert_eq!(balance.balance_amount, "1500000");
    assert_eq!(balance.available_amount, "1200000");
    assert_eq!(balance.frozen_amount, "300000");
    assert_eq!(balance.new_balance, Some(1_500_000));
    assert_eq!(balance.available_balance, Some(1_200_000));
    assert_eq!(balance.merchant_id, Some(123));
    assert_eq!(balance.success, Some(true));
    assert_eq!(
        balance.balance_type.map(|t| t.to_string()).as_deref(),
        Some("main")
    );
    // Default currency is MXN.
    let mxn: Balance = h.get("/api/v1/balance").await.parse();
    assert_eq!(mxn.currency.as_str(), "MXN");

    // getAllBalances
    let all = h.get("/api/v1/balance/all").await;
    assert_eq!(all.status, StatusCode::OK);
    let all: BalanceList = all.parse();
    assert_eq!(all.total_balances, Some(6));
    let ars = all
        .balances
        .iter()
        .find(|b| b.currency.as_str() == "ARS")
        .expect("ARS");
    assert_eq!(ars.available_amount, "1200000");

    // getMerchantBalance / getMerchantAllBalances
    let merchant: Balance = h
        .get("/api/v1/merchants/123/balance?currency=ARS")
        .await
        .parse();
    assert_eq!(merchant.balance_amount, "1500000");
    let merchant_all: BalanceList = h.get("/api/v1/merchants/123/balance/all").await.parse();
    assert_eq!(merchant_all.balances.len(), 6);
    let other = h.get("/api/v1/merchants/456/balance").await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_eq!(other.code(), "INSUFFICIENT_SCOPE");

    // getBalanceV2 / getAllBalancesV2
    let v2 = h.v2(Method::GET, "/api/v2/balance?currency=ARS", b"").await;
    assert_eq!(v2.status, StatusCode::OK, "{:#}", v2.body);
    let v2: Balance = v2.parse();
    assert_eq!(v2.available_amount, "1200000");
    let v2_all = h.v2(Method::GET, "/api/v2/balance/all", b"").await;
    assert_eq!(v2_all.status, StatusCode::OK);
    let v2_all: BalanceList = v2_all.parse();
    assert_eq!(v2_all.balances.len(), 6);
}

#[tokio::test]
async fn payment_v2_shares_state_with_v1() {
    let h = start_default().await;
    let body = serde_json::to_vec(&deposit_body(150_000, "v2_order")).expect("json");
    let created = h.v2(Method::POST, "/api/v2/payments", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
    let payment: Payment = created.parse();
    let id = payment.id.expect("id");
    // Visible through v1, and the duplicate rule spans both versions.
    let got: PaymentResponse = h.get(&format!("/api/v1/payments/{id}")).await.parse();
    assert_eq!(got.data.merchant_reference.as_deref(), Some("v2_order"));
    let dup = h.create(deposit_body(150_000, "v2_order")).await;
    assert_eq!(dup.status, StatusCode::OK);
    assert_eq!(dup.body["id"], id.as_str());
    assert_eq!(h.server.payment_count().await.expect("count"), 1);
}

#[tokio::test]
async fn ticket_operations() {
    let h = start_default().await;

    // createTicket
    let created = h
        .post(
            "/api/v1/tickets",
            json!({"title": "Deposit not credited", "description": "pay_123 stuck", "category": "payment_issue", "payment_id": "pay_123456"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
    let ticket: TicketResponse = created.parse();
    let id = ticket.data.ticket_id.clone();
    assert_eq!(id.len(), 36);
    assert_eq!(ticket.data.status, TicketStatus::Open);
    assert_eq!(ticket.data.requires_refund, Some(false));
    let path = format!("/api/v1/tickets/{id}");

    // getTicket / listTickets
    let got: TicketResponse = h.get(&path).await.parse();
    assert_eq!(got.data.title, "Deposit not credited");
    let list: TicketList = h.get("/api/v1/tickets").await.parse();
    assert_eq!(list.total, 1);

    // addTicketComment / listTicketComments
    let comment = h
        .post(&format!("{path}/comments"), json!({"content": "Any news?"}))
        .await;
    assert_eq!(comment.status, StatusCode::CREATED);
    let comment: TicketCommentResponse = comment.parse();
    assert_eq!(comment.data.author_type.as_deref(), Some("merchant"));
    let comments: TicketCommentList = h.get(&format!("{path}/comments")).await.parse();
    assert_eq!(comments.total, 1);

    // createTicketUploadUrl + PUT + downloadTicketAttachment
    let upload = h
        .post(
            &format!("{path}/upload-url"),
            json!({"file_name": "receipt.txt", "content_type": "text/plain", "size": 5}),
        )
        .await;
    assert_eq!(upload.status, StatusCode::OK, "{:#}", upload.body);
    let upload: UploadUrlResponse = upload.parse();
    assert!(upload.data.upload_url.starts_with(&h.server.base_url()));
    let put = h
        .http
        .put(&upload.data.upload_url)
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), StatusCode::OK);
    let download = h
        .http
        .get(h.url(&format!("{path}/attachments/{}", upload.data.attachment_id)))
        .header("X-API-Key", &h.key)
        .send()
        .await
        .expect("download");
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "text/plain");
    assert_eq!(download.bytes().await.expect("bytes").as_ref(), b"hello");

    // downloadCommentAttachment
    let comment_upload: UploadUrlResponse = h
        .post(
            &format!("{path}/upload-url"),
            json!({"file_name": "x.bin", "content_type": "application/octet-stream", "comment_id": comment.data.id}),
        )
        .await
        .parse();
    h.http
        .put(&comment_upload.data.upload_url)
        .header("Content-Type", "image/png")
        .body(vec![0_u8, 1, 2, 255])
        .send()
        .await
        .expect("put");
    let download = h
        .http
        .get(h.url(&format!(
            "{path}/comments/{}/attachments/{}",
            comment.data.id, comment_upload.data.attachment_id
        )))
        .header("X-API-Key", &h.key)
        .send()
        .await
        .expect("download");
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(
        download.bytes().await.expect("bytes").as_ref(),
        [0_u8, 1, 2, 255]
    );

    // closeTicket / reopenTicket
    let closed: TicketResponse = h.post_empty(&format!("{path}/close")).await.parse();
    assert_eq!(closed.data.status, TicketStatus::Closed);
    assert!(closed.data.closed_at.is_some());
    let reopened: TicketResponse = h.post_empty(&format!("{path}/reopen")).await.parse();
    assert_eq!(reopened.data.status, TicketStatus::Open);
    assert_eq!(reopened.data.attachments.len(), 1);
}

#[tokio::test]
async fn unknown_route_is_json_404() {
    let h = start_default().await;
    let r = h.get("/api/v1/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let body: ErrorResponse = r.parse();
    assert_eq!(body.status_code, 404);
    assert_eq!(r.code(), "NOT_FOUND");
    let wrong_method = h.call(Method::DELETE, "/api/v1/payments", None).await;
    assert_eq!(wrong_method.status, StatusCode::NOT_FOUND);
    assert_eq!(wrong_method.code(), "NOT_FOUND");
}
