//! Every documented error code is produced, each by the request meant to produce it.

mod common;

use std::collections::BTreeSet;

use common::{Reply, deposit_body, start_default, unix_now, withdrawal_body};
use luxcore_api::enums::ErrorCode;
use luxcore_mock::{DuplicateAnswer, Fault, FaultConfig, READONLY_API_KEY};
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
    // Every missing resource is 404 NOT_FOUND.
    for path in [
        "/api/v1/payments/pay_0000000000_missingx",
        "/api/v1/webhooks/wh_missing",
        "/api/v1/tickets/missing",
    ] {
        note(&h.get(path).await, 404, "NOT_FOUND");
    }
    let ticket = h.post("/api/v1/tickets", json!({"title": "t"})).await.body["data"]["ticket_id"]
        .as_str()
        .expect("id")
        .to_owned();
    note(
        &h.get(&format!("/api/v1/tickets/{ticket}/attachments/att_missing"))
            .await,
        404,
        "NOT_FOUND",
    );
    // An unknown attachment named in a comment: the ticket exists, the body is wrong.
    note(
        &h.post(
            &format!("/api/v1/tickets/{ticket}/comments"),
            json!({"content": "x", "attachment_ids": ["att_missing"]}),
        )
        .await,
        400,
        "VALIDATION_ERROR",
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
    h.server
        .set_duplicates(DuplicateAnswer::AlreadyExists400)
        .await
        .expect("mode");
    note(
        &h.create(deposit_body(1000, "ec_dup")).await,
        400,
        "PAYMENT_ALREADY_EXISTS",
    );
    h.server
        .set_duplicates(DuplicateAnswer::DuplicateReference400)
        .await
        .expect("mode");
    note(
        &h.create(deposit_body(1000, "ec_dup")).await,
        400,
        "DUPLICATE_REFERENCE",
    );
    h.server
        .set_duplicates(DuplicateAnswer::Ok200)
        .await
        .expect("mode");
    for (amount, code) in [
        (40003, "LIMIT_EXCEEDED"),
        (40004, "DAILY_LIMIT_EXCEEDED"),
        (40005, "MONTHLY_LIMIT_EXCEEDED"),
        (40006, "METHOD_NOT_AVAILABLE"),
        (40007, "METHOD_NOT_CONFIGURED"),
    ] {
        note(
            &h.create(deposit_body(amount, &format!("ec_{amount}")))
                .await,
            400,
            code,
        );
    }
    let mut w = withdrawal_body(1000, "ec_clabe");
    w["currency"] = json!("MXN");
    w["method"] = json!("spei");
    w["payout"] = json!({"clabe": "002010077777777772"});
    note(&h.create(w).await, 400, "INVALID_CLABE");
    let mut w = withdrawal_body(1000, "ec_cvu");
    w["payout"] = json!({"account_number": "0000003100099999999995", "account_type": "cvu"});
    note(&h.create(w).await, 400, "INVALID_CVU");
    let expired = h.deposit(1000, "ec_ttl").await;
    h.server.expire_payment(&expired).await.expect("expire");
    note(
        &h.post_empty(&format!("/api/v1/payments/{expired}/cancel"))
            .await,
        400,
        "TTL_EXPIRED",
    );
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
    // The codes of LuxCore's own trouble: seeded faults.
    let troubles = [
        (ErrorCode::LockTimeout, 400),
        (ErrorCode::ProviderError, 500),
        (ErrorCode::TransactionError, 500),
        (ErrorCode::DatabaseError, 500),
        (ErrorCode::Timeout, 504),
    ];
    h.server
        .set_faults(FaultConfig::scheduled(
            troubles.iter().map(|(code, _)| Fault::Error(code.clone())),
        ))
        .await
        .expect("faults");
    for (code, status) in troubles {
        note(
            &h.create(deposit_body(1000, "ec_trouble")).await,
            status,
            code.as_str(),
        );
    }

    let expected: BTreeSet<String> = ErrorCode::KNOWN.iter().map(|c| (*c).to_owned()).collect();
    let missing: Vec<_> = expected.difference(&seen).collect();
    assert!(missing.is_empty(), "never produced: {missing:?}");
    let unknown: Vec<_> = seen.difference(&expected).collect();
    assert!(unknown.is_empty(), "undocumented codes: {unknown:?}");
}
