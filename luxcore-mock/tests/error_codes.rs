//! Every documented error code is produced by some request.

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
    let mut note = |r: &Reply| {
        let code = r.code().to_owned();
        assert!(!code.is_empty(), "no error_code: {:#}", r.body);
        seen.insert(code);
    };

    note(&h.call_as(None, Method::GET, "/api/v1/balance", None).await);
    note(
        &h.call_as(
            Some(READONLY_API_KEY),
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"title": "t"})),
        )
        .await,
    );
    note(&h.get("/api/v1/nothing-here").await);
    note(&h.get("/api/v1/payments/pay_0000000000_missingx").await);
    note(&h.get("/api/v1/webhooks/wh_missing").await);
    note(&h.get("/api/v1/tickets/missing").await);
    let ticket = h.post("/api/v1/tickets", json!({"title": "t"})).await.body["data"]["ticket_id"]
        .as_str()
        .expect("id")
        .to_owned();
    note(
        &h.get(&format!("/api/v1/tickets/{ticket}/attachments/att_missing"))
            .await,
    );
    note(
        &h.post_empty(&format!("/api/v1/tickets/{ticket}/reopen"))
            .await,
    );
    h.post_empty(&format!("/api/v1/tickets/{ticket}/close"))
        .await;
    note(
        &h.post_empty(&format!("/api/v1/tickets/{ticket}/close"))
            .await,
    );

    note(&h.create(withdrawal_body(1000, "ec_balance")).await);
    let mut body = deposit_body(40001, "ec_missing");
    note(&h.create(body.clone()).await);
    body["amount"] = json!(40002);
    note(&h.create(body.clone()).await);
    body["amount"] = json!(1000);
    body["method"] = json!("spei");
    note(&h.create(body.clone()).await);
    body["currency"] = json!("EUR");
    note(&h.create(body).await);
    let mut w = withdrawal_body(1000, "ec_payout");
    w["payout"] = json!({});
    note(&h.create(w.clone()).await);
    w["method"] = json!("cash");
    note(&h.create(w).await);
    let dup = h.deposit(1000, "ec_dup").await;
    let duplicate = h.create(deposit_body(1000, "ec_dup")).await;
    assert_eq!(duplicate.status, reqwest::StatusCode::OK);
    note(&duplicate);
    h.post_empty(&format!("/api/v1/payments/{dup}/cancel"))
        .await;
    note(
        &h.post_empty(&format!("/api/v1/payments/{dup}/cancel"))
            .await,
    );
    note(&h.get("/api/v1/payments?limit=0").await);

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
    );
    note(&h.v2_with(Method::GET, path, b"", unix_now(), "short").await);
    let first = h
        .v2_with(Method::GET, path, b"", unix_now(), "nonce-0000000002")
        .await;
    assert_eq!(first.status, reqwest::StatusCode::OK);
    let replay = h
        .v2_with(Method::GET, path, b"", unix_now(), "nonce-0000000002")
        .await;
    note(&replay);
    let mut request = h.http.get(h.url(path));
    let signed = luxcore_auth::HmacCredentials::new(123, "wrong").sign_now("GET", path, b"");
    for (name, value) in signed.to_pairs() {
        request = request.header(name, value);
    }
    note(&common::reply(request.send().await.expect("sent")).await);

    h.server
        .set_faults(FaultConfig::scheduled([
            Fault::Status(429),
            Fault::Status(500),
            Fault::Status(503),
        ]))
        .await
        .expect("faults");
    for _ in 0..3 {
        note(&h.get("/api/v1/balance").await);
    }

    let expected: BTreeSet<String> = ErrorCode::KNOWN.iter().map(|c| (*c).to_owned()).collect();
    let missing: Vec<_> = expected.difference(&seen).collect();
    assert!(missing.is_empty(), "never produced: {missing:?}");
    let unknown: Vec<_> = seen.difference(&expected).collect();
    assert!(unknown.is_empty(), "undocumented codes: {unknown:?}");
}
