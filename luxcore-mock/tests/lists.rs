//! List endpoints: pagination, filters and stable newest-first order.

mod common;

use chrono::{DateTime, Utc};
use common::start_default;
use luxcore_api::types::{PaymentList, TicketList};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn payments_pagination_order_and_filters() {
    let h = start_default().await;
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(h.deposit(1000 + i, &format!("list_{i:02}")).await);
    }
    let first: PaymentList = h.get("/api/v1/payments").await.parse();
    assert_eq!(first.success, Some(true));
    assert_eq!(first.total, 25);
    assert_eq!(first.data.len(), 20);
    assert_eq!(
        (
            first.pagination.limit,
            first.pagination.offset,
            first.pagination.total_pages
        ),
        (20, 0, 2)
    );
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    let got: Vec<String> = first.data.iter().filter_map(|p| p.id.clone()).collect();
    assert_eq!(got, newest_first[..20]);
    let second: PaymentList = h.get("/api/v1/payments?limit=20&offset=20").await.parse();
    let got: Vec<String> = second.data.iter().filter_map(|p| p.id.clone()).collect();
    assert_eq!(got, newest_first[20..]);
    let small: PaymentList = h.get("/api/v1/payments?limit=7&offset=3").await.parse();
    assert_eq!(small.pagination.total_pages, 4);
    assert_eq!(small.data.len(), 7);
    assert_eq!(small.data[0].id.as_deref(), Some(newest_first[3].as_str()));
    let beyond: PaymentList = h.get("/api/v1/payments?offset=100").await.parse();
    assert!(beyond.data.is_empty());
    assert_eq!(beyond.total, 25);

    // Status filter.
    h.server.complete_payment(&ids[3]).await.expect("complete");
    h.server.complete_payment(&ids[9]).await.expect("complete");
    let done: PaymentList = h.get("/api/v1/payments?status=completed").await.parse();
    let got: Vec<String> = done.data.iter().filter_map(|p| p.id.clone()).collect();
    assert_eq!(got, [ids[9].clone(), ids[3].clone()]);
    assert_eq!(done.total, 2);

    // Date filters, checked against the full list.
    let all: PaymentList = h.get("/api/v1/payments?limit=100").await.parse();
    let pivot: DateTime<Utc> = all.data[12].created_at.expect("created_at");
    let from = pivot.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let expected = all
        .data
        .iter()
        .filter(|p| p.created_at.is_some_and(|c| c >= pivot))
        .count();
    let later: PaymentList = h
        .get(&format!(
            "/api/v1/payments?limit=100&created_at_from={}",
            from.replace('+', "%2B")
        ))
        .await
        .parse();
    assert_eq!(later.data.len(), expected);
    let expected_to = all
        .data
        .iter()
        .filter(|p| p.created_at.is_some_and(|c| c <= pivot))
        .count();
    let earlier: PaymentList = h
        .get(&format!("/api/v1/payments?limit=100&created_at_to={from}"))
        .await
        .parse();
    assert_eq!(earlier.data.len(), expected_to);
    let none: PaymentList = h
        .get("/api/v1/payments?created_at_to=2000-01-01T00:00:00Z")
        .await
        .parse();
    assert_eq!(none.total, 0);
    assert_eq!(none.pagination.total_pages, 0);
}

#[tokio::test]
async fn bad_list_parameters_are_400() {
    let h = start_default().await;
    let cases = [
        ("limit=0", "limit must not be less than 1"),
        ("limit=101", "limit must not be greater than 100"),
        ("limit=abc", "limit must be an integer number"),
        ("limit=2.5", "limit must be an integer number"),
        ("offset=-1", "offset must not be less than 0"),
        (
            "offset=99999999999999999999999",
            "offset must not be greater than",
        ),
        ("status=lost", "status must be one of the following values"),
        (
            "created_at_from=yesterday",
            "created_at_from must be a valid ISO 8601 date string",
        ),
    ];
    for path in ["/api/v1/payments", "/api/v1/webhooks", "/api/v1/tickets"] {
        for (query, message) in cases {
            if path == "/api/v1/tickets" && query.starts_with("created_at") {
                continue;
            }
            let r = h.get(&format!("{path}?{query}")).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}?{query}");
            assert_eq!(r.body["error"], "Bad Request");
            assert_eq!(r.code(), "VALIDATION_ERROR");
            let messages = r.body["message"].as_array().expect("array");
            assert!(
                messages
                    .iter()
                    .any(|m| m.as_str().is_some_and(|m| m.contains(message))),
                "{path}?{query}: {messages:?}"
            );
        }
    }
}

#[tokio::test]
async fn ticket_filters() {
    let h = start_default().await;
    let make = |title: &str, description: &str, category: &str, payment: Option<&str>| {
        let mut body = json!({"title": title, "description": description, "category": category});
        // An absent optional field is left out: an explicit null is a validation error.
        if let Some(payment) = payment {
            body["payment_id"] = json!(payment);
        }
        body
    };
    let bodies = [
        make(
            "Deposit missing",
            "Bank says sent",
            "payment_issue",
            Some("pay_1"),
        ),
        make(
            "Refund please",
            "Customer REFUND request",
            "refund_request",
            Some("pay_2"),
        ),
        make("API error", "500 on create", "technical_issue", None),
    ];
    let mut ids = Vec::new();
    for body in bodies {
        let r = h.post("/api/v1/tickets", body).await;
        assert_eq!(r.status, StatusCode::CREATED);
        ids.push(r.body["data"]["ticket_id"].as_str().expect("id").to_owned());
    }
    h.post_empty(&format!("/api/v1/tickets/{}/close", ids[0]))
        .await;
    let ids_of = |list: &TicketList| -> Vec<String> {
        list.data.iter().map(|t| t.ticket_id.clone()).collect()
    };

    let all: TicketList = h.get("/api/v1/tickets").await.parse();
    assert_eq!(
        ids_of(&all),
        [ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );
    let open: TicketList = h.get("/api/v1/tickets?status=open").await.parse();
    assert_eq!(open.total, 2);
    let both: TicketList = h
        .get("/api/v1/tickets?status=open&status=closed")
        .await
        .parse();
    assert_eq!(both.total, 3);
    let cats: TicketList = h
        .get("/api/v1/tickets?category=refund_request&category=technical_issue")
        .await
        .parse();
    assert_eq!(ids_of(&cats), [ids[2].clone(), ids[1].clone()]);
    let search: TicketList = h.get("/api/v1/tickets?search=refund").await.parse();
    assert_eq!(ids_of(&search), [ids[1].clone()]);
    let search: TicketList = h.get("/api/v1/tickets?search=BANK%20SAYS").await.parse();
    assert_eq!(ids_of(&search), [ids[0].clone()]);
    let by_payment: TicketList = h.get("/api/v1/tickets?payment_id=pay_2").await.parse();
    assert_eq!(ids_of(&by_payment), [ids[1].clone()]);
    let oldest: TicketList = h
        .get("/api/v1/tickets?sort_by=created_at_asc&limit=1")
        .await
        .parse();
    assert_eq!(ids_of(&oldest), [ids[0].clone()]);
    assert_eq!(oldest.pagination.total_pages, 3);
    let none: TicketList = h
        .get("/api/v1/tickets?created_before=2000-01-01T00:00:00Z")
        .await
        .parse();
    assert_eq!(none.total, 0);
    let after: TicketList = h
        .get("/api/v1/tickets?created_after=2000-01-01")
        .await
        .parse();
    assert_eq!(after.total, 3);
    let long = "x".repeat(101);
    let r = h.get(&format!("/api/v1/tickets?search={long}")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = h.get("/api/v1/tickets?category=gossip").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
