//! Payment rules: validation, duplicates, method/currency rules, magic amounts,
//! cancel rules, balance transitions and refunds.

mod common;

use common::{deposit_body, start_default, withdrawal_body};
use luxcore_api::types::{Payment, PaymentResponse};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn messages(body: &Value) -> Vec<String> {
    body["message"]
        .as_array()
        .unwrap_or_else(|| panic!("message array expected: {body:#}"))
        .iter()
        .map(|m| m.as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn amount_validation() {
    let h = start_default().await;
    let cases: [(Value, &str); 7] = [
        (json!(1500.5), "amount must be an integer number"),
        (json!("1500"), "amount must be an integer number"),
        (json!(0), "amount must not be less than 1"),
        (json!(-5), "amount must not be less than 1"),
        (json!(1500.0), "amount must be an integer number"),
        (json!(u64::MAX), "amount must not be greater than"),
        (json!(1e300), "amount must be an integer number"),
    ];
    for (amount, expected) in cases {
        let mut body = deposit_body(1, "amount_check");
        body["amount"] = amount.clone();
        let r = h.create(body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{amount}");
        assert_eq!(r.body["error"], "Bad Request");
        assert_eq!(r.body["statusCode"], 400);
        assert!(r.body.get("error_code").is_none(), "{:#}", r.body);
        let messages = messages(&r.body);
        assert!(
            messages.iter().any(|m| m.starts_with(expected)),
            "{amount}: {messages:?}"
        );
    }
    assert_eq!(h.server.payment_count().await.expect("count"), 0);
}

#[tokio::test]
async fn required_fields_and_types() {
    let h = start_default().await;
    let r = h.create(json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let all = messages(&r.body);
    for needle in [
        "amount must be an integer number",
        "currency must be a string",
        "method must be a string",
        "type must be a string",
        "merchant_reference must be a string",
    ] {
        assert!(all.iter().any(|m| m == needle), "{needle}: {all:?}");
    }
    let r = h
        .create(json!({"amount": 100, "currency": 5, "method": "card", "type": "sideways", "merchant_reference": "", "customer": "maria", "metadata": [1]}))
        .await;
    let all = messages(&r.body);
    assert!(
        all.contains(&"currency must be a string".to_owned()),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|m| m.starts_with("type must be one of the following values"))
    );
    assert!(all.contains(&"merchant_reference should not be empty".to_owned()));
    assert!(all.contains(&"customer must be an object".to_owned()));
    assert!(all.contains(&"metadata must be an object".to_owned()));
    // Malformed JSON.
    let r = h
        .http
        .post(h.url("/api/v1/payments"))
        .header("X-API-Key", &h.key)
        .header("Content-Type", "application/json")
        .body("{\"amount\": 1")
        .send()
        .await
        .expect("sent");
    let r = common::reply(r).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "Bad Request");
    assert!(!messages(&r.body).is_empty());
}

#[tokio::test]
async fn method_and_currency_rules() {
    let h = start_default().await;
    h.server
        .set_balance("MXN", 10_000_000, 0)
        .await
        .expect("set");
    let cases = [
        (
            json!({"currency": "EUR", "method": "card", "type": "deposit"}),
            "UNSUPPORTED_CURRENCY",
        ),
        (
            json!({"currency": "ARS", "method": "spei", "type": "deposit"}),
            "INVALID_METHOD",
        ),
        (
            json!({"currency": "ARS", "method": "teleport", "type": "deposit"}),
            "INVALID_METHOD",
        ),
        (
            json!({"currency": "MXN", "method": "oxxo", "type": "withdrawal", "payout": {"clabe": "1"}}),
            "WITHDRAWAL_NOT_SUPPORTED",
        ),
        (
            json!({"currency": "MXN", "method": "spei", "type": "withdrawal"}),
            "INVALID_WITHDRAWAL_DATA",
        ),
        (
            json!({"currency": "MXN", "method": "spei", "type": "withdrawal", "payout": {"clabe": "  "}}),
            "INVALID_WITHDRAWAL_DATA",
        ),
        (
            json!({"currency": "ARS", "method": "bank_transfer", "type": "deposit", "amount": 40001}),
            "MISSING_REQUISITES",
        ),
        (
            json!({"currency": "ARS", "method": "bank_transfer", "type": "deposit", "amount": 40002}),
            "NO_AVAILABLE_REQUISITES",
        ),
    ];
    for (i, (fields, code)) in cases.into_iter().enumerate() {
        let mut body = json!({"amount": 10_000, "merchant_reference": format!("rule_{i}")});
        for (k, v) in fields.as_object().expect("object") {
            body[k] = v.clone();
        }
        let r = h.create(body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{code}: {:#}", r.body);
        assert_eq!(r.code(), code);
        assert!(r.body["message"].is_string());
        assert!(r.body["timestamp"].is_string());
    }
    assert_eq!(h.server.payment_count().await.expect("count"), 0);
    // The same magic amount as a withdrawal is an ordinary withdrawal.
    let mut ok = withdrawal_body(40001, "magic_withdrawal");
    ok["currency"] = json!("MXN");
    ok["method"] = json!("spei");
    ok["payout"] = json!({"clabe": "646180157000000004"});
    assert_eq!(h.create(ok).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn method_specific_response_parts() {
    let h = start_default().await;
    let ipay: Payment = h
        .create(json!({"amount": 250_000, "currency": "LKR", "method": "ipay", "type": "deposit", "merchant_reference": "ipay_1", "ipay": {"payment_method": "VISA"}}))
        .await
        .parse();
    let checkout = ipay.ipay_checkout.expect("ipay_checkout");
    assert!(
        checkout
            .form_action
            .expect("form_action")
            .contains("/_mock/ipay/checkout")
    );
    assert!(
        checkout
            .checkout_url
            .expect("checkout_url")
            .contains("orderId=")
    );
    assert_eq!(checkout.checkout_params["orderId"], ipay.id.expect("id"));
    assert_eq!(checkout.checkout_params["paymentMethod"], "VISA");

    let spei: Payment = h
        .create(json!({"amount": 1000, "currency": "MXN", "method": "spei", "type": "deposit", "merchant_reference": "spei_1"}))
        .await
        .parse();
    assert_eq!(
        spei.bank_details
            .expect("bank")
            .account_number
            .map(|a| a.len()),
        Some(18)
    );
    let cash: Payment = h
        .create(json!({"amount": 1000, "currency": "UYU", "method": "cash", "type": "deposit", "merchant_reference": "cash_1"}))
        .await
        .parse();
    assert!(cash.bank_details.is_some());
    let card: Payment = h
        .create(json!({"amount": 1000, "currency": "AUD", "method": "card", "type": "deposit", "merchant_reference": "card_1"}))
        .await
        .parse();
    assert!(card.bank_details.is_none() && card.payment_url.is_none());

    let page: Payment = h
        .create(json!({"amount": 1000, "currency": "ARS", "method": "card", "type": "deposit_pp", "merchant_reference": "pp_1"}))
        .await
        .parse();
    let url = page.payment_url.expect("payment_url");
    assert!(url.starts_with(&h.server.base_url()));
    let html = h.http.get(&url).send().await.expect("page");
    assert_eq!(html.status(), StatusCode::OK);
}

#[tokio::test]
async fn duplicate_reference_semantics() {
    let h = start_default().await;
    let first = h.deposit(150_000, "dup_ref").await;
    let dup = h.create(deposit_body(999, "dup_ref")).await;
    assert_eq!(dup.status, StatusCode::OK);
    assert_eq!(dup.code(), "MERCHANT_REFERENCE_DUPLICATE");
    assert_eq!(dup.body["message"], "Payment with this reference exists");
    assert_eq!(dup.body["id"], first.as_str());
    assert_eq!(dup.body["amount"], 150_000);
    // The stored payment itself carries no error code.
    let stored: PaymentResponse = h.get(&format!("/api/v1/payments/{first}")).await.parse();
    assert_eq!(stored.data.error_code, None);
    assert_eq!(
        h.server
            .payments_by_reference("dup_ref")
            .await
            .expect("count"),
        1
    );

    // Completed payments stay duplicates.
    h.server.complete_payment(&first).await.expect("complete");
    assert_eq!(
        h.create(deposit_body(1, "dup_ref")).await.status,
        StatusCode::OK
    );

    // After failed / expired / cancelled, the reference can be reused.
    for (i, end) in ["fail", "expire", "cancel"].into_iter().enumerate() {
        let reference = format!("reuse_{i}");
        let id = h.deposit(1000, &reference).await;
        match end {
            "fail" => {
                h.server.fail_payment(&id).await.expect("fail");
            }
            "expire" => {
                h.server.expire_payment(&id).await.expect("expire");
            }
            _ => {
                let r = h.post_empty(&format!("/api/v1/payments/{id}/cancel")).await;
                assert_eq!(r.status, StatusCode::OK);
            }
        }
        let again = h.create(deposit_body(1000, &reference)).await;
        assert_eq!(again.status, StatusCode::CREATED, "{end}");
        assert_ne!(again.body["id"], id.as_str());
        assert_eq!(
            h.server
                .payments_by_reference(&reference)
                .await
                .expect("count"),
            2
        );
        // ... and the new one is now the live duplicate.
        let third = h.create(deposit_body(1000, &reference)).await;
        assert_eq!(third.status, StatusCode::OK);
        assert_eq!(third.body["id"], again.body["id"]);
    }
}

#[tokio::test]
async fn cancel_rules() {
    let h = start_default().await;
    let id = h.deposit(1000, "cancel_1").await;
    let ok = h.post_empty(&format!("/api/v1/payments/{id}/cancel")).await;
    assert_eq!(ok.status, StatusCode::OK);
    let again = h.post_empty(&format!("/api/v1/payments/{id}/cancel")).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.code(), "PAYMENT_ALREADY_PROCESSED");
    assert_eq!(
        again.body["message"],
        "Payment cannot be cancelled in current status: cancelled"
    );
    let done = h.deposit(1000, "cancel_2").await;
    h.server.complete_payment(&done).await.expect("complete");
    let r = h
        .post_empty(&format!("/api/v1/payments/{done}/cancel"))
        .await;
    assert_eq!(r.code(), "PAYMENT_ALREADY_PROCESSED");
    let missing = h
        .post_empty("/api/v1/payments/pay_0000000000_zzzzzzzz/cancel")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "NOT_FOUND");
    let missing = h.get("/api/v1/payments/pay_0000000000_zzzzzzzz").await;
    assert_eq!(missing.code(), "NOT_FOUND");
    // Controls refuse finished payments too.
    let err = h
        .server
        .fail_payment(&done)
        .await
        .expect_err("already completed");
    assert_eq!(
        err.code().map(ToString::to_string).as_deref(),
        Some("PAYMENT_ALREADY_PROCESSED")
    );
}

#[tokio::test]
async fn balance_table_transitions() {
    let h = start_default().await;
    let balance = || async { h.server.balance("ARS").await.expect("balance") };

    // Deposit completed: available += net (amount - fee).
    let dep = h.deposit(150_000, "bal_dep").await;
    assert_eq!(balance().await, (0, 0));
    let completed = h.server.complete_payment(&dep).await.expect("complete");
    assert_eq!(completed.status_version, Some(2));
    assert!(completed.completed_at.is_some());
    assert_eq!(balance().await, (143_250, 0));

    // Withdrawal created: net (amount + fee) moves available -> frozen.
    let w = h.create(withdrawal_body(100_000, "bal_w1")).await;
    assert_eq!(w.status, StatusCode::CREATED, "{:#}", w.body);
    assert_eq!(w.body["status"], "pending");
    assert_eq!(w.body["net_amount"], 104_500);
    assert_eq!(balance().await, (38_750, 104_500));
    let v1: luxcore_api::types::Balance = h.get("/api/v1/balance?currency=ARS").await.parse();
    assert_eq!(v1.balance_amount, "143250");

    // Withdrawal completed: frozen leaves.
    let w1 = w.body["id"].as_str().expect("id").to_owned();
    h.server.complete_payment(&w1).await.expect("complete");
    assert_eq!(balance().await, (38_750, 0));

    // Insufficient balance: nothing created, nothing moved.
    let too_much = h.create(withdrawal_body(100_000, "bal_w2")).await;
    assert_eq!(too_much.code(), "INSUFFICIENT_BALANCE");
    assert_eq!(
        h.server
            .payments_by_reference("bal_w2")
            .await
            .expect("count"),
        0
    );
    assert_eq!(balance().await, (38_750, 0));

    // Failed, cancelled and expired withdrawals unfreeze.
    h.server
        .set_balance("ARS", 1_000_000, 0)
        .await
        .expect("set");
    for (i, end) in ["fail", "cancel", "expire"].into_iter().enumerate() {
        let r = h
            .create(withdrawal_body(10_000, &format!("bal_u{i}")))
            .await;
        let id = r.body["id"].as_str().expect("id").to_owned();
        assert_eq!(balance().await, (989_550, 10_450));
        match end {
            "fail" => {
                h.server.fail_payment(&id).await.expect("fail");
            }
            "expire" => {
                h.server.expire_payment(&id).await.expect("expire");
            }
            _ => {
                let r = h.post_empty(&format!("/api/v1/payments/{id}/cancel")).await;
                assert_eq!(r.status, StatusCode::OK);
            }
        }
        assert_eq!(balance().await, (1_000_000, 0), "{end}");
    }

    // Refunds: partial then full; available decreases by the refunded amount.
    h.server.set_balance("ARS", 0, 0).await.expect("set");
    let dep = h.deposit(10_000, "bal_refund").await;
    h.server.complete_payment(&dep).await.expect("complete");
    assert_eq!(balance().await, (9_550, 0));
    let partial = h
        .server
        .refund_payment(&dep, Some(4_000))
        .await
        .expect("refund");
    assert_eq!(partial.status.as_str(), "partial_refund");
    assert_eq!(balance().await, (5_550, 0));
    let too_much = h
        .server
        .refund_payment(&dep, Some(7_000))
        .await
        .expect_err("over");
    assert_eq!(
        too_much.code().map(ToString::to_string).as_deref(),
        Some("VALIDATION_ERROR")
    );
    h.server.set_balance("ARS", 100_000, 0).await.expect("set");
    let full = h.server.refund_payment(&dep, None).await.expect("refund");
    assert_eq!(full.status.as_str(), "refunded");
    assert_eq!(full.status_version, Some(4));
    assert_eq!(balance().await, (94_000, 0));
}

#[tokio::test]
async fn http_controls() {
    let h = start_default().await;
    let id = h.deposit(10_000, "ctl").await;
    let r = h
        .http
        .post(h.url(&format!("/_mock/payments/{id}/complete")))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
    let r = common::reply(
        h.http
            .post(h.url(&format!("/_mock/payments/{id}/refund")))
            .json(&json!({"amount": 100}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["data"]["status"], "partial_refund");
    let r = common::reply(
        h.http
            .put(h.url("/_mock/balance"))
            .json(&json!({"currency": "UYU", "available": 500, "frozen": 7}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(h.server.balance("UYU").await.expect("balance"), (500, 7));
    let bad = common::reply(
        h.http
            .put(h.url("/_mock/balance"))
            .json(&json!({"currency": "EUR", "available": 1}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(bad.code(), "UNSUPPORTED_CURRENCY");
    let missing = common::reply(
        h.http
            .post(h.url("/_mock/payments/pay_x/fail"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(missing.code(), "NOT_FOUND");
    let r = h
        .http
        .post(h.url("/_mock/reset"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(h.server.payment_count().await.expect("count"), 0);
    assert_eq!(h.server.balance("UYU").await.expect("balance"), (0, 0));
}
