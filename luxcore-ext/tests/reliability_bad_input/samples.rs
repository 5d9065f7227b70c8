//! Real response bodies, recorded from luxcore-mock: the raw material the generators
//! truncate and mutate.

use luxcore_ext::client::LuxCore;
use luxcore_mock::{MockConfig, MockServer};
use reqwest::Method;
use serde_json::{Value, json};

use super::ops::Op;

/// One real answer: which operation it belongs to, its status and body.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub(crate) op: Op,
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// One request to record: `{pay}`, `{wh}` and `{tkt}` in the path stand for the payment,
/// webhook and ticket created by earlier steps.
fn steps() -> Vec<(Op, Method, &'static str, Option<Value>)> {
    let deposit = json!({"amount": 150000, "currency": "MXN", "method": "spei",
        "type": "deposit", "merchant_reference": "sample_1", "description": "d",
        "customer": {"name": "Ana", "email": "ana@example.com"}, "metadata": {"k": "v"}});
    let withdrawal = json!({"amount": 50000, "currency": "MXN", "method": "spei",
        "type": "withdrawal", "merchant_reference": "sample_2",
        "payout": {"clabe": "002010077777777771"}});
    let validate = json!({"currency": "MXN", "method": "spei", "type": "deposit", "amount": 1000});
    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["payment.completed"]});
    let ticket = json!({"title": "Deposit missing", "category": "payment_issue"});
    let upload = json!({"file_name": "a.png", "content_type": "image/png", "size": 4});
    let (get, post, put, delete) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);
    vec![
        (Op::Create, post.clone(), "/api/v1/payments", Some(deposit)),
        (
            Op::CreateV2,
            post.clone(),
            "/api/v2/payments",
            Some(withdrawal),
        ),
        (Op::Get, get.clone(), "/api/v1/payments/{pay}", None),
        (Op::List, get.clone(), "/api/v1/payments?limit=5", None),
        (Op::Methods, get.clone(), "/api/v1/payments/methods", None),
        (
            Op::Validate,
            post.clone(),
            "/api/v1/payments/methods/validate",
            Some(validate),
        ),
        (
            Op::Cancel,
            post.clone(),
            "/api/v1/payments/{pay}/cancel",
            None,
        ),
        (
            Op::WebhookCreate,
            post.clone(),
            "/api/v1/webhooks",
            Some(hook),
        ),
        (Op::WebhookList, get.clone(), "/api/v1/webhooks", None),
        (Op::WebhookGet, get.clone(), "/api/v1/webhooks/{wh}", None),
        (
            Op::WebhookUpdate,
            put.clone(),
            "/api/v1/webhooks/{wh}",
            Some(json!({"url": "http://127.0.0.1:9/other"})),
        ),
        (
            Op::WebhookTest,
            post.clone(),
            "/api/v1/webhooks/{wh}/test",
            Some(json!({})),
        ),
        (
            Op::WebhookEvents,
            get.clone(),
            "/api/v1/webhooks/{wh}/events",
            None,
        ),
        (
            Op::WebhookRetry,
            post.clone(),
            "/api/v1/webhooks/{wh}/retry",
            Some(json!({"event_ids": []})),
        ),
        (
            Op::WebhookDisable,
            put.clone(),
            "/api/v1/webhooks/{wh}/disable",
            None,
        ),
        (
            Op::WebhookEnable,
            put.clone(),
            "/api/v1/webhooks/{wh}/enable",
            None,
        ),
        (Op::WebhookDelete, delete, "/api/v1/webhooks/{wh}", None),
        (
            Op::BalanceGet,
            get.clone(),
            "/api/v1/balance?currency=MXN",
            None,
        ),
        (Op::BalanceAll, get.clone(), "/api/v1/balance/all", None),
        (
            Op::MerchantBalance,
            get.clone(),
            "/api/v1/merchants/123/balance?currency=MXN",
            None,
        ),
        (
            Op::MerchantAll,
            get.clone(),
            "/api/v1/merchants/123/balance/all",
            None,
        ),
        (
            Op::BalanceGetV2,
            get.clone(),
            "/api/v2/balance?currency=MXN",
            None,
        ),
        (Op::BalanceAllV2, get.clone(), "/api/v2/balance/all", None),
        (
            Op::TicketCreate,
            post.clone(),
            "/api/v1/tickets",
            Some(ticket),
        ),
        (Op::TicketList, get.clone(), "/api/v1/tickets", None),
        (Op::TicketGet, get.clone(), "/api/v1/tickets/{tkt}", None),
        (
            Op::TicketComment,
            post.clone(),
            "/api/v1/tickets/{tkt}/comments",
            Some(json!({"content": "hello"})),
        ),
        (
            Op::TicketComments,
            get.clone(),
            "/api/v1/tickets/{tkt}/comments",
            None,
        ),
        (
            Op::TicketUploadUrl,
            post.clone(),
            "/api/v1/tickets/{tkt}/upload-url",
            Some(upload),
        ),
        (
            Op::TicketClose,
            post.clone(),
            "/api/v1/tickets/{tkt}/close",
            None,
        ),
        (Op::TicketReopen, post, "/api/v1/tickets/{tkt}/reopen", None),
    ]
}

/// Error bodies in every documented shape, and codes with special client handling.
fn error_bodies() -> Vec<(u16, Value)> {
    vec![
        (
            400,
            json!({"statusCode": 400, "message": "Insufficient balance",
            "error_code": "INSUFFICIENT_BALANCE", "timestamp": "2025-01-28T10:00:00.000Z"}),
        ),
        (
            400,
            json!({"statusCode": 400, "message": ["amount must be an integer number"],
            "error": "Bad Request"}),
        ),
        (
            401,
            json!({"statusCode": 401, "message": "API key not found", "error": "INVALID_API_KEY"}),
        ),
        (
            401,
            json!({"statusCode": 401, "message": "Timestamp outside window",
            "error_code": "TIMESTAMP_OUT_OF_WINDOW"}),
        ),
        (
            429,
            json!({"statusCode": 429, "message": "Too many requests",
            "error_code": "RATE_LIMIT_EXCEEDED"}),
        ),
        (
            503,
            json!({"statusCode": 503, "message": "down", "error_code": "SERVICE_UNAVAILABLE",
            "request_id": "req_1"}),
        ),
    ]
}

/// Drives luxcore-mock through `signed_request` (which returns the raw JSON) and records
/// one real 2xx body per operation (all but the two downloads), plus the error bodies.
/// URLs in the bodies are rewritten to point at `garbage_url`.
pub(crate) async fn record_samples(garbage_url: &str) -> Vec<Sample> {
    let server = MockServer::start(MockConfig::default().without_rate_limits())
        .await
        .unwrap();
    server.set_balance("MXN", 10_000_000, 0).await.unwrap();
    let client = LuxCore::builder()
        .base_url(server.base_url())
        .api_key(luxcore_mock::DEFAULT_API_KEY)
        .hmac(
            luxcore_mock::DEFAULT_MERCHANT_ID,
            luxcore_mock::DEFAULT_HMAC_SECRET,
        )
        .build()
        .unwrap();
    let mut samples = Vec::new();
    let (mut pay, mut wh, mut tkt) = (String::new(), String::new(), String::new());
    for (op, method, path, body) in steps() {
        let path = path
            .replace("{pay}", &pay)
            .replace("{wh}", &wh)
            .replace("{tkt}", &tkt);
        let (status, value) = client
            .signed_request(method, &path, body.as_ref())
            .await
            .unwrap_or_else(|e| panic!("recording {path}: {e}"));
        let text = value.to_string().replace(&server.base_url(), garbage_url);
        let body: Value = serde_json::from_str(&text).unwrap();
        let id = |pointer: &str| {
            body.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match op {
            Op::Create => pay = id("/id").unwrap(),
            Op::WebhookCreate => wh = id("/data/id").unwrap(),
            Op::TicketCreate => tkt = id("/data/ticket_id").unwrap(),
            _ => {}
        }
        samples.push(Sample {
            op,
            status: status.as_u16(),
            body,
        });
    }
    samples.extend(error_bodies().into_iter().map(|(status, body)| Sample {
        op: Op::Get,
        status,
        body,
    }));
    samples
}
