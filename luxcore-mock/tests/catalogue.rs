//! The mock speaks the error catalogue (issue 24.5): every code with the status of
//! `luxcore_api::errors`, from the situation the mock simulates (magic amounts, payout
//! details, configuration, expired payments, duplicates) or as a seeded fault; and the three
//! answers to a duplicate creation.

mod common;

use common::{Harness, Reply, deposit_body, start, withdrawal_body};
use luxcore_api::enums::ErrorCode;
use luxcore_api::errors::{ERRORS, find};
use luxcore_api::types::{ErrorResponse, Payment};
use luxcore_mock::{DuplicateAnswer, Fault, FaultConfig, MockConfig, MockError};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn config() -> MockConfig {
    MockConfig::default().without_rate_limits()
}

/// `r` is the business error `code` with the catalogue's status: `statusCode`, `error_code`,
/// `timestamp` and a `request_id` equal to the `X-Request-Id` header; the body matches the
/// spec's `ErrorResponse`.
fn assert_catalogued(r: &Reply, code: &str) {
    let info = find(code).unwrap_or_else(|| panic!("{code} is not in the catalogue"));
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (info.status, code),
        "{:#}",
        r.body
    );
    assert_eq!(r.body["statusCode"], u64::from(info.status));
    assert!(r.body["message"].is_string(), "{:#}", r.body);
    assert!(r.body["timestamp"].is_string(), "{:#}", r.body);
    let id = r.body["request_id"].as_str().expect("request_id");
    assert!(id.starts_with("req_"), "{id}");
    assert_eq!(r.headers["x-request-id"], id);
    let parsed: ErrorResponse = r.parse();
    assert_eq!(parsed.error_code, Some(ErrorCode::from(code)));
}

async fn put_faults(h: &Harness, body: Value) -> Reply {
    common::reply(
        h.http
            .put(h.url("/_mock/faults"))
            .json(&body)
            .send()
            .await
            .expect("sent"),
    )
    .await
}

async fn put_duplicates(h: &Harness, answer: &str) -> Reply {
    common::reply(
        h.http
            .put(h.url("/_mock/duplicates"))
            .json(&json!({ "answer": answer }))
            .send()
            .await
            .expect("sent"),
    )
    .await
}

fn mxn_withdrawal(amount: i64, reference: &str, payout: Value) -> Value {
    let mut body = withdrawal_body(amount, reference);
    body["currency"] = json!("MXN");
    body["method"] = json!("spei");
    body["payout"] = payout;
    body
}

fn ars_withdrawal(amount: i64, reference: &str, payout: Value) -> Value {
    let mut body = withdrawal_body(amount, reference);
    body["payout"] = payout;
    body
}

// ---- faults -------------------------------------------------------------------------------

/// Every code of the catalogue with an error status can be scheduled over HTTP, one request
/// each, and is answered with its catalogue status without processing the request.
#[tokio::test]
async fn every_catalogue_code_can_be_scheduled_over_http() {
    let h = start(config()).await;
    let codes: Vec<&str> = ERRORS
        .iter()
        .filter(|info| info.status >= 400)
        .map(|info| info.code)
        .collect();
    assert!(codes.len() > 30, "{codes:?}");
    let schedule: Vec<Value> = codes.iter().map(|code| json!({"error": code})).collect();
    let r = put_faults(&h, json!({ "schedule": schedule })).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    for code in &codes {
        let r = h.create(deposit_body(1000, &format!("fault_{code}"))).await;
        assert_catalogued(&r, code);
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers["retry-after"], "1");
        }
    }
    assert_eq!(h.server.payment_count().await.expect("count"), 0);
    // Schedule used up: the next request is processed.
    assert_eq!(
        h.create(deposit_body(1000, "after")).await.status,
        StatusCode::CREATED
    );
}

/// The string shorthand (`"LOCK_TIMEOUT"`, case-insensitive), mixed with the older items, and
/// faults on operations other than creation.
#[tokio::test]
async fn string_items_and_other_operations() {
    let h = start(config()).await;
    let r = put_faults(
        &h,
        json!({"schedule": ["LOCK_TIMEOUT", 503, "provider_error", {"status": 500}, "pass", {"pass": true}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_catalogued(&h.get("/api/v1/balance").await, "LOCK_TIMEOUT");
    assert_catalogued(&h.get("/api/v1/payments").await, "SERVICE_UNAVAILABLE");
    assert_catalogued(&h.get("/api/v1/webhooks").await, "PROVIDER_ERROR");
    assert_catalogued(&h.get("/api/v1/tickets").await, "INTERNAL_ERROR");
    assert_eq!(h.get("/api/v1/balance").await.status, StatusCode::OK);
    assert_eq!(h.get("/api/v1/balance").await.status, StatusCode::OK);
    // A v2 request gets the fault too (before authentication).
    put_faults(&h, json!({"schedule": [{"error": "TIMEOUT"}]})).await;
    assert_catalogued(&h.v2(Method::GET, "/api/v2/balance", b"").await, "TIMEOUT");
}

/// `after_commit`: the request is processed (the payment exists, money moved), then answered
/// with the code; the retry gets the duplicate answer.
#[tokio::test]
async fn error_after_commit_processes_the_request() {
    let h = start(config()).await;
    h.server
        .set_balance("MXN", 1_000_000, 0)
        .await
        .expect("balance");
    let body = mxn_withdrawal(10_000, "late", json!({"clabe": "002010077777777771"}));
    let r = put_faults(
        &h,
        json!({"schedule": [{"error": "TIMEOUT", "after_commit": true}, "after_commit:PROVIDER_ERROR"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_catalogued(&h.create(body.clone()).await, "TIMEOUT");
    assert_eq!(h.server.payments_by_reference("late").await.expect("n"), 1);
    let (available, frozen) = h.server.balance("MXN").await.expect("balance");
    assert_eq!((available, frozen), (1_000_000 - 10_450, 10_450));
    assert_catalogued(&h.create(body.clone()).await, "PROVIDER_ERROR");
    let retry = h.create(body).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.code(), "MERCHANT_REFERENCE_DUPLICATE");
    assert_eq!(h.server.payments_by_reference("late").await.expect("n"), 1);
    assert_eq!(
        h.server.balance("MXN").await.expect("b"),
        (available, frozen)
    );
}

/// The Rust API: `Fault::Error` and `Fault::ErrorAfterCommit` in a `FaultConfig`.
#[tokio::test]
async fn rust_api_error_faults() {
    let h = start(config().with_faults(FaultConfig::scheduled([
        Fault::Error(ErrorCode::LockTimeout),
        Fault::ErrorAfterCommit(ErrorCode::DatabaseError),
        Fault::Error(ErrorCode::RateLimitExceeded),
        // Not an error status in the catalogue (its documented answer is a 200): a 500.
        Fault::Error(ErrorCode::MerchantReferenceDuplicate),
    ])))
    .await;
    assert_catalogued(&h.create(deposit_body(1000, "r1")).await, "LOCK_TIMEOUT");
    assert_eq!(h.server.payment_count().await.expect("count"), 0);
    assert_catalogued(&h.create(deposit_body(1000, "r2")).await, "DATABASE_ERROR");
    assert_eq!(h.server.payment_count().await.expect("count"), 1);
    let limited = h.get("/api/v1/balance").await;
    assert_catalogued(&limited, "RATE_LIMIT_EXCEEDED");
    assert_eq!(limited.headers["retry-after"], "1");
    let odd = h.get("/api/v1/balance").await;
    assert_eq!(odd.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(odd.code(), "MERCHANT_REFERENCE_DUPLICATE");
    // Text form, as `--fault-schedule` parses it.
    let parsed: Vec<Fault> = [
        "503",
        "drop",
        "pass",
        "lock_timeout",
        "after_commit:TIMEOUT",
    ]
    .iter()
    .map(|s| s.parse().expect("fault"))
    .collect();
    assert_eq!(
        parsed,
        [
            Fault::Status(503),
            Fault::DropAfterCommit,
            Fault::Pass,
            Fault::Error(ErrorCode::LockTimeout),
            Fault::ErrorAfterCommit(ErrorCode::Timeout),
        ]
    );
    for bad in [
        "NOPE",
        "MERCHANT_REFERENCE_DUPLICATE",
        "after_commit:",
        "after_commit:503",
        "",
    ] {
        assert!(bad.parse::<Fault>().is_err(), "{bad}");
    }
}

/// A bad schedule is refused as a whole (400, validation shape) and leaves the faults as
/// they were.
#[tokio::test]
async fn bad_fault_json_is_refused() {
    let h = start(config()).await;
    for schedule in [
        json!([{"error": "NO_SUCH_CODE"}]),
        json!([{"error": "MERCHANT_REFERENCE_DUPLICATE"}]),
        json!(["NO_SUCH_CODE"]),
        json!([{"error": 500}]),
        json!([{"error": "TIMEOUT", "after_commit": "yes"}]),
        json!([{"status": 500, "after_commit": true}]),
        json!([{"error": "TIMEOUT", "status": 504}]),
        json!([{}]),
        json!([true]),
        json!([70000]),
        json!({"error": "TIMEOUT"}),
    ] {
        let r = put_faults(&h, json!({ "schedule": schedule })).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{schedule}: {:#}",
            r.body
        );
        assert!(r.body["message"].is_array(), "{:#}", r.body);
    }
    assert_eq!(h.get("/api/v1/balance").await.status, StatusCode::OK);
}

// ---- situations the mock simulates ----------------------------------------------------------

#[tokio::test]
async fn magic_amounts_answer_limits_and_methods() {
    let h = start(config()).await;
    let cases = [
        (40003, "LIMIT_EXCEEDED"),
        (40004, "DAILY_LIMIT_EXCEEDED"),
        (40005, "MONTHLY_LIMIT_EXCEEDED"),
        (40006, "METHOD_NOT_AVAILABLE"),
        (40007, "METHOD_NOT_CONFIGURED"),
    ];
    for (amount, code) in cases {
        assert_catalogued(
            &h.create(deposit_body(amount, &format!("d_{amount}"))).await,
            code,
        );
        // Withdrawals too, before the balance is looked at (it is 0 here).
        assert_catalogued(
            &h.create(mxn_withdrawal(
                amount,
                &format!("w_{amount}"),
                json!({"clabe": "002010077777777771"}),
            ))
            .await,
            code,
        );
        // v2 creation shares the rules.
        let body = deposit_body(amount, &format!("v2_{amount}"));
        let bytes = serde_json::to_vec(&body).expect("json");
        assert_catalogued(&h.v2(Method::POST, "/api/v2/payments", &bytes).await, code);
    }
    assert_eq!(h.server.payment_count().await.expect("count"), 0);
    // A taken reference is answered as a duplicate before the magic amount.
    h.deposit(1000, "taken").await;
    let r = h.create(deposit_body(40003, "taken")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.code(), "MERCHANT_REFERENCE_DUPLICATE");
}

#[tokio::test]
async fn configured_limit_and_methods() {
    let h = start(
        config()
            .with_transaction_limit(100_000)
            .with_unavailable_method("bank_transfer")
            .with_unconfigured_method("oxxo"),
    )
    .await;
    let mut card = deposit_body(100_001, "limit");
    card["method"] = json!("card");
    assert_catalogued(&h.create(card.clone()).await, "LIMIT_EXCEEDED");
    card["amount"] = json!(100_000);
    assert_eq!(h.create(card).await.status, StatusCode::CREATED);
    assert_catalogued(
        &h.create(deposit_body(1000, "off")).await,
        "METHOD_NOT_AVAILABLE",
    );
    let oxxo = json!({"amount": 1000, "currency": "MXN", "method": "oxxo", "type": "deposit", "merchant_reference": "oxxo"});
    assert_catalogued(&h.create(oxxo).await, "METHOD_NOT_CONFIGURED");
    // A method outside the matrix is still INVALID_METHOD.
    let mut bad = deposit_body(1000, "bad");
    bad["method"] = json!("spei");
    assert_catalogued(&h.create(bad).await, "INVALID_METHOD");
    // The list leaves the unconfigured method out and keeps the unavailable one.
    let list = h.get("/api/v1/payments/methods?currency=MXN").await;
    let methods: Vec<&str> = list.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["method"].as_str())
        .collect();
    assert!(!methods.contains(&"oxxo"), "{methods:?}");
    assert!(methods.contains(&"bank_transfer"), "{methods:?}");
    // Validate answers valid: false with the code.
    for (method, code) in [
        ("oxxo", "METHOD_NOT_CONFIGURED"),
        ("bank_transfer", "METHOD_NOT_AVAILABLE"),
    ] {
        let r = h
            .post(
                "/api/v1/payments/methods/validate",
                json!({"method": method, "currency": "MXN", "type": "deposit"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_eq!(r.body["data"]["valid"], false);
        assert_eq!(r.body["data"]["error_code"], code);
    }
    // The configuration survives a reset.
    h.server.reset().await.expect("reset");
    assert_catalogued(
        &h.create(deposit_body(1000, "off")).await,
        "METHOD_NOT_AVAILABLE",
    );
}

#[tokio::test]
async fn clabe_is_checked() {
    let h = start(config()).await;
    h.server
        .set_balance("MXN", 1_000_000, 0)
        .await
        .expect("balance");
    for (i, clabe) in [
        json!("002010077777777772"),  // check digit
        json!("00201007777777777"),   // 17 digits
        json!("0020100777777777711"), // 19 digits
        json!("002-010-07777777777-1"),
        json!(""),
        json!(2_010_077_777_777_771_i64),
    ]
    .into_iter()
    .enumerate()
    {
        // Not the only detail: a CLABE that is empty or not a string, alone, is no payout
        // detail at all (INVALID_WITHDRAWAL_DATA).
        let payout = json!({"clabe": clabe, "account_number": "12345"});
        let r = h
            .create(mxn_withdrawal(1000, &format!("clabe_{i}"), payout))
            .await;
        assert_catalogued(&r, "INVALID_CLABE");
        assert!(
            !r.body["message"].as_str().unwrap_or("").contains("0020100"),
            "the value is not repeated"
        );
    }
    // withdrawal_pp with payout details: checked as well.
    let mut pp = mxn_withdrawal(1000, "clabe_pp", json!({"clabe": "1"}));
    pp["type"] = json!("withdrawal_pp");
    assert_catalogued(&h.create(pp).await, "INVALID_CLABE");
    assert_eq!(h.server.payment_count().await.expect("count"), 0);
    assert_eq!(h.server.balance("MXN").await.expect("b"), (1_000_000, 0));
    // The SDK's CLABEs pass.
    for clabe in ["002010077777777771", "646180157000000004"] {
        let r = h
            .create(mxn_withdrawal(1000, clabe, json!({"clabe": clabe})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    }
    // A request-alone rule: a bad CLABE is refused even when the reference is taken.
    let r = h
        .create(mxn_withdrawal(
            1000,
            "002010077777777771",
            json!({"clabe": "002010077777777772"}),
        ))
        .await;
    assert_catalogued(&r, "INVALID_CLABE");
}

#[tokio::test]
async fn cvu_and_cbu_are_checked() {
    let h = start(config()).await;
    h.server
        .set_balance("ARS", 1_000_000, 0)
        .await
        .expect("balance");
    let bad = [
        // As the SDK sends them: account_number + account_type.
        json!({"account_number": "0000003100099999999995", "account_type": "cvu"}),
        json!({"account_number": "0000004100099999999994", "account_type": "cbu"}),
        json!({"account_number": "000000310009999999999", "account_type": "cvu"}),
        json!({"account_number": "0000003100099999999994", "account_type": "CVU", "cvu": "1"}),
        json!({"account_type": "cvu", "clabe": "002010077777777771"}),
        // Keys named after the documents.
        json!({"cvu": "0000003100099999999995"}),
        json!({"cbu": "0110012345678901234567"}),
        json!({"cvu": 1, "account_number": "1"}),
    ];
    for (i, payout) in bad.into_iter().enumerate() {
        let r = h
            .create(ars_withdrawal(1000, &format!("cvu_{i}"), payout.clone()))
            .await;
        assert_eq!(r.code(), "INVALID_CVU", "{payout}: {:#}", r.body);
        assert_catalogued(&r, "INVALID_CVU");
    }
    assert_eq!(h.server.payment_count().await.expect("count"), 0);
    let good = [
        json!({"account_number": "0000003100099999999994", "account_type": "cvu", "account_holder": "Juana"}),
        json!({"cvu": "0000003100099999999994"}),
        json!({"cbu": "0110012900000000000017"}),
        // Not typed as a CBU/CVU: not checked (an alias, an IBAN, a wallet).
        json!({"account_number": "0110012345678901234567"}),
        json!({"account_number": "juana.perez.mp", "account_type": "alias"}),
    ];
    for (i, payout) in good.into_iter().enumerate() {
        let r = h
            .create(ars_withdrawal(1000, &format!("cvu_ok_{i}"), payout.clone()))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{payout}: {:#}", r.body);
    }
}

#[tokio::test]
async fn expired_payments_answer_ttl_expired() {
    let h = start(config()).await;
    let id = h.deposit(1000, "ttl").await;
    h.server.expire_payment(&id).await.expect("expire");
    let cancel = format!("/api/v1/payments/{id}/cancel");
    assert_catalogued(&h.post_empty(&cancel).await, "TTL_EXPIRED");
    for control in ["complete", "fail", "expire", "refund"] {
        let r = common::reply(
            h.http
                .post(h.url(&format!("/_mock/payments/{id}/{control}")))
                .send()
                .await
                .expect("sent"),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "TTL_EXPIRED"),
            "{control}"
        );
    }
    match h.server.complete_payment(&id).await {
        Err(MockError::Rejected { status, code, .. }) => {
            assert_eq!((status, code), (400, ErrorCode::TtlExpired));
        }
        other => panic!("{other:?}"),
    }
    // Other final states keep PAYMENT_ALREADY_PROCESSED.
    let done = h.deposit(1000, "ttl_done").await;
    h.server.complete_payment(&done).await.expect("complete");
    assert_catalogued(
        &h.post_empty(&format!("/api/v1/payments/{done}/cancel"))
            .await,
        "PAYMENT_ALREADY_PROCESSED",
    );
    // The expired payment's reference is free again.
    assert_eq!(
        h.create(deposit_body(1000, "ttl")).await.status,
        StatusCode::CREATED
    );
}

// ---- duplicate answers ----------------------------------------------------------------------

/// What a duplicate creation of `existing` gets in `mode`.
fn assert_duplicate(r: &Reply, mode: DuplicateAnswer, existing: &str) {
    match mode {
        DuplicateAnswer::Ok200 => {
            assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
            assert_eq!(r.code(), "MERCHANT_REFERENCE_DUPLICATE");
            let payment: Payment = r.parse();
            assert_eq!(payment.id.as_deref(), Some(existing));
        }
        DuplicateAnswer::AlreadyExists400 => {
            assert_catalogued(r, "PAYMENT_ALREADY_EXISTS");
            let parsed: ErrorResponse = r.parse();
            let payment: Payment =
                serde_json::from_value(Value::Object(parsed.data)).expect("payment in data");
            assert_eq!(payment.id.as_deref(), Some(existing));
            assert_eq!(payment.error_code, None);
        }
        DuplicateAnswer::DuplicateReference400 => {
            assert_catalogued(r, "DUPLICATE_REFERENCE");
            assert!(r.body.get("data").is_none(), "{:#}", r.body);
        }
    }
}

#[tokio::test]
async fn each_duplicate_mode() {
    for mode in DuplicateAnswer::ALL {
        let h = start(config().with_duplicates(mode)).await;
        assert_eq!(h.server.duplicates().await.expect("mode"), mode);
        h.server
            .set_balance("ARS", 1_000_000, 0)
            .await
            .expect("balance");
        let first = h.deposit(1000, "dup").await;
        assert_duplicate(&h.create(deposit_body(1000, "dup")).await, mode, &first);
        // Through API v2 as well.
        let bytes = serde_json::to_vec(&deposit_body(1000, "dup")).expect("json");
        assert_duplicate(
            &h.v2(Method::POST, "/api/v2/payments", &bytes).await,
            mode,
            &first,
        );
        // A withdrawal duplicate moves no money again.
        let w = ars_withdrawal(10_000, "dup_w", json!({"account_number": "1"}));
        let created = h.create(w.clone()).await;
        assert_eq!(created.status, StatusCode::CREATED);
        let id = created.body["id"].as_str().expect("id").to_owned();
        let after = h.server.balance("ARS").await.expect("b");
        assert_duplicate(&h.create(w).await, mode, &id);
        assert_eq!(h.server.balance("ARS").await.expect("b"), after);
        // A completed payment keeps its reference; a cancelled one frees it.
        h.server.complete_payment(&first).await.expect("complete");
        assert_duplicate(&h.create(deposit_body(1000, "dup")).await, mode, &first);
        let other = h.deposit(1000, "freed").await;
        h.post_empty(&format!("/api/v1/payments/{other}/cancel"))
            .await;
        assert_eq!(
            h.create(deposit_body(1000, "freed")).await.status,
            StatusCode::CREATED
        );
        assert_eq!(h.server.payments_by_reference("dup").await.expect("n"), 1);
        assert_eq!(h.server.payments_by_reference("freed").await.expect("n"), 2);
    }
}

/// The exactly-once situation: the first attempt committed and its answer was lost (the
/// connection dropped); the retry gets the duplicate answer of the mode, never a second
/// payment.
#[tokio::test]
async fn retry_after_a_lost_answer_gets_the_duplicate_answer() {
    for mode in DuplicateAnswer::ALL {
        let h = start(config().with_duplicates(mode)).await;
        h.server
            .set_faults(FaultConfig::scheduled([Fault::DropAfterCommit]))
            .await
            .expect("faults");
        let body = deposit_body(150_000, "lost");
        h.http
            .post(h.url("/api/v1/payments"))
            .header("X-API-Key", &h.key)
            .json(&body)
            .send()
            .await
            .expect_err("the connection closes without an answer");
        assert_eq!(h.server.payments_by_reference("lost").await.expect("n"), 1);
        let list = h.get("/api/v1/payments").await;
        let id = list.body["data"][0]["id"].as_str().expect("id").to_owned();
        assert_duplicate(&h.create(body).await, mode, &id);
        assert_eq!(h.server.payments_by_reference("lost").await.expect("n"), 1);
    }
}

#[tokio::test]
async fn duplicates_control_route_and_reset() {
    let h = start(config().with_duplicates(DuplicateAnswer::AlreadyExists400)).await;
    let get = || async {
        common::reply(
            h.http
                .get(h.url("/_mock/duplicates"))
                .send()
                .await
                .expect("sent"),
        )
        .await
    };
    assert_eq!(get().await.body["answer"], "payment_already_exists");
    let first = h.deposit(1000, "ctl").await;
    for (name, mode) in [
        (
            "duplicate_reference",
            DuplicateAnswer::DuplicateReference400,
        ),
        ("ok", DuplicateAnswer::Ok200),
        ("PAYMENT_ALREADY_EXISTS", DuplicateAnswer::AlreadyExists400),
        ("merchant_reference_duplicate", DuplicateAnswer::Ok200),
    ] {
        let r = put_duplicates(&h, name).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_eq!(r.body["answer"], mode.as_str());
        assert_eq!(h.server.duplicates().await.expect("mode"), mode);
        assert_duplicate(&h.create(deposit_body(1000, "ctl")).await, mode, &first);
    }
    for bad in [
        json!({"answer": "maybe"}),
        json!({}),
        json!({"answer": 400}),
    ] {
        let r = common::reply(
            h.http
                .put(h.url("/_mock/duplicates"))
                .json(&bad)
                .send()
                .await
                .expect("sent"),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        h.server.duplicates().await.expect("mode"),
        DuplicateAnswer::Ok200
    );
    // Reset restores the configured answer (and the store).
    let r = common::reply(
        h.http
            .post(h.url("/_mock/reset"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(get().await.body["answer"], "payment_already_exists");
    h.server
        .set_duplicates(DuplicateAnswer::DuplicateReference400)
        .await
        .expect("mode");
    h.server.reset().await.expect("reset");
    assert_eq!(
        h.server.duplicates().await.expect("mode"),
        DuplicateAnswer::AlreadyExists400
    );
    // Names round-trip.
    for mode in DuplicateAnswer::ALL {
        assert_eq!(mode.as_str().parse::<DuplicateAnswer>(), Ok(mode));
        assert_eq!(mode.to_string(), mode.as_str());
    }
}
