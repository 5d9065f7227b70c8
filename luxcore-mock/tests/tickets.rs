//! Ticket rules: validation, close/reopen, comments, attachments.

mod common;

use common::start_default;
use luxcore_api::types::{TicketCommentList, TicketResponse, UploadUrlResponse};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn ticket_validation() {
    let h = start_default().await;
    let cases = [
        (json!({}), "title should not be empty"),
        (json!({"title": 5}), "title must be a string"),
        (
            json!({"title": "x".repeat(201)}),
            "title must be shorter than or equal to 200 characters",
        ),
        (
            json!({"title": "t", "category": "gossip"}),
            "category must be one of the following values",
        ),
        (
            json!({"title": "t", "requires_refund": "yes"}),
            "requires_refund must be a boolean value",
        ),
    ];
    for (body, message) in cases {
        let r = h.post("/api/v1/tickets", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let messages = r.body["message"].as_array().expect("array");
        assert!(
            messages
                .iter()
                .any(|m| m.as_str().is_some_and(|m| m.starts_with(message))),
            "{body}: {messages:?}"
        );
    }
    let ok = h
        .post(
            "/api/v1/tickets",
            json!({"title": "x".repeat(200), "requires_refund": true}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(ok.body["data"]["requires_refund"], true);
}

#[tokio::test]
async fn close_reopen_and_not_found() {
    let h = start_default().await;
    let t: TicketResponse = h
        .post("/api/v1/tickets", json!({"title": "t"}))
        .await
        .parse();
    let path = format!("/api/v1/tickets/{}", t.data.ticket_id);
    let r = h.post_empty(&format!("{path}/reopen")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "TICKET_NOT_CLOSED");
    assert_eq!(
        h.post_empty(&format!("{path}/close")).await.status,
        StatusCode::OK
    );
    let r = h.post_empty(&format!("{path}/close")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "TICKET_ALREADY_CLOSED");
    let reopened: TicketResponse = h.post_empty(&format!("{path}/reopen")).await.parse();
    assert_eq!(reopened.data.closed_at, None);
    for path in [
        "/api/v1/tickets/00000000-0000-4000-8000-000000000000",
        "/api/v1/tickets/nope/comments",
        "/api/v1/tickets/nope/attachments/att_x",
    ] {
        let r = h.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.code(), "NOT_FOUND");
    }
    let r = h.post_empty("/api/v1/tickets/nope/close").await;
    assert_eq!(r.code(), "NOT_FOUND");
}

#[tokio::test]
async fn comments_and_attachments() {
    let h = start_default().await;
    let t: TicketResponse = h
        .post("/api/v1/tickets", json!({"title": "files"}))
        .await
        .parse();
    let path = format!("/api/v1/tickets/{}", t.data.ticket_id);

    // Attachment announced but not uploaded yet.
    let up: UploadUrlResponse = h
        .post(
            &format!("{path}/upload-url"),
            json!({"file_name": "a.pdf", "content_type": "application/pdf"}),
        )
        .await
        .parse();
    assert_eq!(up.data.method.as_deref(), Some("PUT"));
    assert!(up.data.expires_at.is_some());
    let download = format!("{path}/attachments/{}", up.data.attachment_id);
    let r = h.get(&download).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "NOT_FOUND");
    let ticket: TicketResponse = h.get(&path).await.parse();
    assert!(ticket.data.attachments.is_empty());

    // Upload without a Content-Type: the declared one is used.
    let put = h
        .http
        .put(&up.data.upload_url)
        .body(b"%PDF-1.4".to_vec())
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), StatusCode::OK);
    let r = h
        .http
        .get(h.url(&download))
        .header("X-API-Key", &h.key)
        .send()
        .await
        .expect("get");
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains("a.pdf")
    );
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), b"%PDF-1.4");
    let ticket: TicketResponse = h.get(&path).await.parse();
    assert_eq!(ticket.data.attachments.len(), 1);
    assert_eq!(ticket.data.attachments[0].size, Some(8));

    // Link an uploaded attachment to a comment through attachment_ids.
    let up2: UploadUrlResponse = h
        .post(
            &format!("{path}/upload-url"),
            json!({"file_name": "b.txt", "content_type": "text/plain"}),
        )
        .await
        .parse();
    h.http
        .put(&up2.data.upload_url)
        .header("Content-Type", "text/csv")
        .body("a,b")
        .send()
        .await
        .expect("put");
    let c = h
        .post(
            &format!("{path}/comments"),
            json!({"content": "see file", "attachment_ids": [up2.data.attachment_id]}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{:#}", c.body);
    let comment_id = c.body["data"]["id"].as_str().expect("id").to_owned();
    assert_eq!(c.body["data"]["attachments"][0]["content_type"], "text/csv");
    let r = h
        .http
        .get(h.url(&format!(
            "{path}/comments/{comment_id}/attachments/{}",
            up2.data.attachment_id
        )))
        .header("X-API-Key", &h.key)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), b"a,b");
    // Not reachable as a ticket-level attachment any more.
    let r = h
        .get(&format!("{path}/attachments/{}", up2.data.attachment_id))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let bad = h
        .post(
            &format!("{path}/comments"),
            json!({"content": "x", "attachment_ids": ["att_nope"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "VALIDATION_ERROR");
    let bad = h
        .post(&format!("{path}/comments"), json!({"content": ""}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = h
        .post(
            &format!("{path}/upload-url"),
            json!({"file_name": "c", "content_type": "text/plain", "comment_id": "cmt_nope"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    let bad = h
        .post(&format!("{path}/upload-url"), json!({"file_name": "c"}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Unknown upload token.
    let r = common::reply(
        h.http
            .put(h.url("/_mock/uploads/nope"))
            .body("x")
            .send()
            .await
            .expect("put"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body["message"].is_string());

    // Comments: oldest first, paginated; support replies included.
    for i in 0..4 {
        h.post(
            &format!("{path}/comments"),
            json!({"content": format!("c{i}")}),
        )
        .await;
    }
    h.server
        .support_reply(&t.data.ticket_id, "We are on it")
        .await
        .expect("reply");
    let page: TicketCommentList = h
        .get(&format!("{path}/comments?limit=2&offset=1"))
        .await
        .parse();
    assert_eq!(page.total, 6);
    assert_eq!(page.pagination.total_pages, 3);
    let contents: Vec<&str> = page.data.iter().map(|c| c.content.as_str()).collect();
    assert_eq!(contents, ["c0", "c1"]);
    let last: TicketCommentList = h.get(&format!("{path}/comments?offset=5")).await.parse();
    assert_eq!(last.data[0].author_type.as_deref(), Some("support"));
}
