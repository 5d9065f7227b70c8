//! Every documented error code is produced, each by the request meant to produce it.

mod common;

use std::collections::BTreeSet;

use common::{Reply, deposit_body, start_default, unix_now, withdrawal_body};
use luxcore_api::enums::ErrorCode;
use luxcore_mock::{Fault, FaultConfig, READONLY_API_KEY};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn every_error_code_is_produced() {
    let h = start_default().await;
    let mut seen = BTreeSet::new();
    // Each request is checked against its own expected status and code; the set of codes
    // seen is then compared with the documented list.
    let mut note = |r: &Reply, status: u16, code: &str| {
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code),
            "unexpected answer: {:#}",
            r.body
        );
        seen.insert(code.to_owned());
    };

    note(
        &h.call_as(None, Method::GET, "/api/v1/balance", None).await,
        401,
        "INVALID_API_KEY",
    );
    note(
        &h.call_as(
            Some(READONLY_API_KEY),
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"title": "t"})),
        )
        .await,
        403,
        "INSUFFICIENT_SCOPE",
    );
    note(&h.get("/api/v1/nothing-here").await, 404, "NOT_FOUND");
    note(
        &h.get("/api/v1/payments/pay_0000000000_missingx").await,
        404,
        "PAYMENT_NOT_FOUND",
    );
    note(
        &h.get("/api/v1/webhooks/wh_missing").await,
        404,
        "WEBHOOK_NOT_FOUND",
    );
    note(
        &h.get("/api/v1/tickets/missing").await,
        404,
        "TICKET_NOT_FOUND",
    );
    let ticket = h.post("/api/v1/tickets", json!({"title": "t"})).await.body["data"]["ticket_id"]
        .as_str()
        .expect("id")
        .to_owned();
    note(
        &h.get(&format!("/api/v1/tickets/{ticket}/attachments/att_missing"))
            .await,
        404,
        "ATTACHMENT_NOT_FOUND",
    );
    note(
        &h.post_empty(&format!("/api/v1/tickets/{ticket}/reopen"))
            .await,
        400,
        "TICKET_NOT_CLOSED",
    );
    h.post_empty(&format!("/api/v1/tickets/{ticket}/close"))
        .await;
    note(
        &h.post_empty(&format!("/api/v1/tickets/{ticket}/close"))
            .await,
        400,
        "TICKET_ALREADY_CLOSED",
    );

    note(
        &h.create(withdrawal_body(1000, "ec_balance")).await,
        400,
        "INSUFFICIENT_BALANCE",
    );
    let mut body = deposit_body(40001, "ec_missing");
    note(&h.create(body.clone()).await, 400, "MISSING_REQUISITES");
    body["amount"] = json!(40002);
    note(
        &h.create(body.clone()).await,
        400,
        "NO_AVAILABLE_REQUISITES",
    );
    body["amount"] = json!(1000);
    body["method"] = json!("spei");
    note(&h.create(body.clone()).await, 400, "INVALID_METHOD");
    body["currency"] = json!("EUR");
    note(&h.create(body).await, 400, "UNSUPPORTED_CURRENCY");
    let mut w = withdrawal_body(1000, "ec_payout");
    w["payout"] = json!({});
    note(&h.create(w.clone()).await, 400, "INVALID_WITHDRAWAL_DATA");
    w["method"] = json!("cash");
    note(&h.create(w).await, 400, "WITHDRAWAL_NOT_SUPPORTED");
    let dup = h.deposit(1000, "ec_dup").await;
    let duplicate = h.create(deposit_body(1000, "ec_dup")).await;
    assert_eq!(duplicate.status, reqwest::StatusCode::OK);
    note(&duplicate, 200, "MERCHANT_REFERENCE_DUPLICATE");
    h.post_empty(&format!("/api/v1/payments/{dup}/cancel"))
        .await;
    note(
        &h.post_empty(&format!("/api/v1/payments/{dup}/cancel"))
            .await,
        400,
        "PAYMENT_ALREADY_PROCESSED",
    );
    note(
        &h.get("/api/v1/payments?limit=0").await,
        400,
        "VALIDATION_ERROR",
    );

    let path = "/api/v2/balance";
    note(
        &h.v2_with(
            Method::GET,
            path,
            b"",
            unix_now() - 1000,
            "nonce-0000000001",
        )
        .await,
        401,
        "TIMESTAMP_OUT_OF_WINDOW",
    );
    note(
        &h.v2_with(Method::GET, path, b"", unix_now(), "short").await,
        400,
        "INVALID_NONCE",
    );
    let first = h
        .v2_with(Method::GET, path, b"", unix_now(), "nonce-0000000002")
        .await;
    assert_eq!(first.status, reqwest::StatusCode::OK);
    let replay = h
        .v2_with(Method::GET, path, b"", unix_now(), "nonce-0000000002")
        .await;
    note(&replay, 401, "NONCE_REUSED");
    let mut request = h.http.get(h.url(path));
    let signed = luxcore_auth::HmacCredentials::new(123, "wrong").sign_now("GET", path, b"");
    for (name, value) in signed.to_pairs() {
        request = request.header(name, value);
    }
    note(
        &common::reply(request.send().await.expect("sent")).await,
        401,
        "INVALID_SIGNATURE",
    );

    h.server
        .set_faults(FaultConfig::scheduled([
            Fault::Status(429),
            Fault::Status(500),
            Fault::Status(503),
        ]))
        .await
        .expect("faults");
    for (status, code) in [
        (429, "RATE_LIMIT_EXCEEDED"),
        (500, "INTERNAL_ERROR"),
        (503, "SERVICE_UNAVAILABLE"),
    ] {
        note(&h.get("/api/v1/balance").await, status, code);
    }

    let expected: BTreeSet<String> = ErrorCode::KNOWN.iter().map(|c| (*c).to_owned()).collect();
    let missing: Vec<_> = expected.difference(&seen).collect();
    assert!(missing.is_empty(), "never produced: {missing:?}");
    let unknown: Vec<_> = seen.difference(&expected).collect();
    assert!(unknown.is_empty(), "undocumented codes: {unknown:?}");
}
