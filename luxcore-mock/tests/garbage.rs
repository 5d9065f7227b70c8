//! Garbage never panics the server: every route answers malformed bodies, wrong
//! content types, bad query values and odd headers with a JSON 4xx (or a 2xx when
//! the garbage is ignorable), never a 5xx.

mod common;

use common::{Reply, deposit_body, start_default};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn routes(payment: &str, webhook: &str, ticket: &str) -> Vec<(Method, String)> {
    let p = format!("/api/v1/payments/{payment}");
    let w = format!("/api/v1/webhooks/{webhook}");
    let t = format!("/api/v1/tickets/{ticket}");
    vec![
        (Method::POST, "/api/v1/payments".into()),
        (Method::GET, "/api/v1/payments".into()),
        (Method::GET, "/api/v1/payments/methods".into()),
        (Method::POST, "/api/v1/payments/methods/validate".into()),
        (Method::GET, p.clone()),
        (Method::POST, format!("{p}/cancel")),
        (Method::POST, "/api/v1/webhooks".into()),
        (Method::GET, "/api/v1/webhooks".into()),
        (Method::GET, w.clone()),
        (Method::PUT, w.clone()),
        (Method::POST, format!("{w}/test")),
        (Method::PUT, format!("{w}/enable")),
        (Method::PUT, format!("{w}/disable")),
        (Method::GET, format!("{w}/events")),
        (Method::POST, format!("{w}/retry")),
        (Method::GET, "/api/v1/balance".into()),
        (Method::GET, "/api/v1/balance/all".into()),
        (Method::GET, "/api/v1/merchants/123/balance".into()),
        (Method::GET, "/api/v1/merchants/abc/balance/all".into()),
        (Method::POST, "/api/v1/tickets".into()),
        (Method::GET, "/api/v1/tickets".into()),
        (Method::GET, t.clone()),
        (Method::POST, format!("{t}/comments")),
        (Method::GET, format!("{t}/comments")),
        (Method::POST, format!("{t}/upload-url")),
        (Method::GET, format!("{t}/attachments/att_x")),
        (Method::GET, format!("{t}/comments/cmt_x/attachments/att_x")),
        (Method::POST, format!("{t}/reopen")),
        (Method::POST, format!("{t}/close")),
        (Method::DELETE, w),
        (Method::POST, "/api/v2/payments".into()),
        (Method::GET, "/api/v2/balance".into()),
        (Method::GET, "/api/v2/balance/all".into()),
        (Method::GET, "/api/v1/payments/%FF%FE".into()),
        (Method::PATCH, "/api/v1/payments".into()),
        (Method::POST, format!("/_mock/payments/{payment}/refund")),
        (Method::POST, "/_mock/payments/nope/complete".into()),
        (Method::PUT, "/_mock/balance".into()),
        (Method::PUT, "/_mock/faults".into()),
        (Method::PUT, "/_mock/duplicates".into()),
        (Method::POST, format!("/_mock/tickets/{ticket}/reply")),
        (Method::PUT, "/_mock/uploads/nope".into()),
        (Method::GET, "/_mock/nope".into()),
    ]
}

fn bodies(rng: &mut StdRng) -> Vec<(Option<&'static str>, Vec<u8>)> {
    let random: Vec<u8> = (0..256).map(|_| rng.random()).collect();
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let json = Some("application/json");
    vec![
        (json, b"{".to_vec()),
        (json, b"[]".to_vec()),
        (json, b"null".to_vec()),
        (json, b"\"text\"".to_vec()),
        (json, b"1e999".to_vec()),
        (json, br#"{"amount": 1e400, "currency": "ARS"}"#.to_vec()),
        (
            json,
            br#"{"amount": 123456789012345678901234567890, "currency": []}"#.to_vec(),
        ),
        (
            json,
            br#"{"amount": -1, "events": [1,2], "url": 5, "title": null, "content": {}}"#.to_vec(),
        ),
        (
            json,
            br#"{"event_ids": "all", "event_type": 7, "file_name": [], "available": -1}"#.to_vec(),
        ),
        (
            json,
            br#"{"schedule": [{"error": {}}, {"status": {"status": []}}, "after_commit:x"], "answer": ["x"]}"#.to_vec(),
        ),
        (
            json,
            br#"{"amount": 1000, "currency": "MXN", "method": "spei", "type": "withdrawal", "merchant_reference": "g", "payout": {"clabe": [], "cvu": {}, "account_type": "cvu", "payid": "x"}}"#.to_vec(),
        ),
        (json, deep.into_bytes()),
        (json, random.clone()),
        (json, vec![0xff, 0xfe, b'{', b'}']),
        (
            Some("text/plain"),
            serde_json::to_vec(&deposit_body(100, "ct")).unwrap_or_default(),
        ),
        (
            Some("application/x-www-form-urlencoded"),
            b"amount=100&currency=ARS".to_vec(),
        ),
        (Some("application/json; charset=utf-16"), b"{}".to_vec()),
        (None, random),
        (None, Vec::new()),
    ]
}

const QUERIES: &[&str] = &[
    "limit=0",
    "limit=101",
    "limit=abc",
    "limit=-5&offset=-1",
    "offset=1e5",
    "limit=99999999999999999999999",
    "status=%FF",
    "status=",
    "created_at_from=garbage&created_at_to=2020-13-45",
    "currency=%00&balance_type=x",
    "type=refund",
    "search=%E2%28%A1",
    "sort_by=random",
    "category=&status=open&status=closed&status=nope",
];

fn check(reply: &Reply, what: &str) {
    assert!(
        reply.status.as_u16() < 500,
        "{what}: server error {} {:#}",
        reply.status,
        reply.body
    );
    if reply.status.is_client_error() {
        assert_eq!(
            reply.body["statusCode"].as_u64(),
            Some(u64::from(reply.status.as_u16())),
            "{what}: error body must be JSON, got {:#}",
            reply.body
        );
    }
}

#[tokio::test]
async fn garbage_never_panics() {
    let h = start_default().await;
    let payment = h.deposit(1000, "garbage").await;
    let webhook = h
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/", "events": ["payment.created"]}),
        )
        .await
        .body["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let ticket = h.post("/api/v1/tickets", json!({"title": "t"})).await.body["data"]["ticket_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut rng = StdRng::seed_from_u64(1);
    for (method, path) in routes(&payment, &webhook, &ticket) {
        for (content_type, body) in bodies(&mut rng) {
            let mut request = h
                .http
                .request(method.clone(), h.url(&path))
                .header("X-API-Key", &h.key)
                .body(body);
            if let Some(content_type) = content_type {
                request = request.header("Content-Type", content_type);
            }
            let reply = common::reply(request.send().await.expect("sent")).await;
            check(&reply, &format!("{method} {path} ({content_type:?})"));
        }
        for query in QUERIES {
            let url = h.url(&format!("{path}?{query}"));
            let reply = common::reply(
                h.http
                    .request(method.clone(), url)
                    .header("X-API-Key", &h.key)
                    .header("Content-Type", "application/json")
                    .body("{}")
                    .send()
                    .await
                    .expect("sent"),
            )
            .await;
            check(&reply, &format!("{method} {path}?{query}"));
            if method == Method::GET
                && ["/api/v1/payments", "/api/v1/webhooks", "/api/v1/tickets"]
                    .contains(&path.as_str())
                && query.starts_with("limit")
            {
                assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}?{query}");
            }
        }
    }
    // Odd HMAC and API key headers.
    let headers: [(&str, &str); 8] = [
        ("X-Merchant-Id", "abc"),
        ("X-Merchant-Id", "99999999999999999999999"),
        ("X-Timestamp", "99999999999999999999999"),
        ("X-Timestamp", "-1"),
        ("X-Signature", "hmac_sha256=zz"),
        ("X-Signature-Version", "v9"),
        ("X-Nonce", "\u{1}"),
        ("X-API-Key", "\u{7f}"),
    ];
    for (name, value) in headers {
        for path in ["/api/v2/balance", "/api/v2/payments", "/api/v1/balance"] {
            let request = h
                .http
                .post(h.url(path))
                .header("X-Merchant-Id", "123")
                .header("X-Timestamp", common::unix_now().to_string())
                .header("X-Nonce", "abcdefgh12345678")
                .header("X-Signature-Version", "v1")
                .header("X-Signature", format!("hmac_sha256={}", "0".repeat(64)));
            let request = match reqwest::header::HeaderValue::from_bytes(value.as_bytes()) {
                Ok(v) => request.header(name, v),
                Err(_) => request,
            };
            let reply = common::reply(request.send().await.expect("sent")).await;
            check(&reply, &format!("{name}: {value:?} on {path}"));
            assert!(reply.status.is_client_error());
        }
    }
    // Garbage created nothing: the one payment made above is still the only one.
    assert_eq!(h.server.payment_count().await.expect("count"), 1);
    // The server still works.
    assert_eq!(h.get("/api/v1/balance/all").await.status, StatusCode::OK);
}
