//! Webhooks, balances and tickets through the client against luxcore-mock.

mod client_support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use client_support::*;
use luxcore_ext::api::enums::{BalanceType, TicketStatus, WebhookEventType, WebhookStatus};
use luxcore_ext::tickets::TicketRequest;
use luxcore_ext::types::WebhookUpdateRequest;
use luxcore_ext::{Currency, ErrorCode};

/// A local endpoint that accepts deliveries and keeps their headers and bodies.
async fn receiver() -> (String, Arc<Mutex<Vec<(HeaderMap, Bytes)>>>) {
    let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let r = received.clone();
    let base = serve(Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| async move {
            r.lock().unwrap().push((headers, body));
            StatusCode::OK
        }),
    ))
    .await;
    (format!("{base}/hook"), received)
}

#[tokio::test]
async fn webhook_lifecycle() {
    let (_server, client) = mock().await;
    let (url, _received) = receiver().await;
    let webhooks = client.webhook_endpoints();
    let created = webhooks
        .create_for(
            &url,
            [
                WebhookEventType::PaymentCompleted,
                WebhookEventType::PaymentFailed,
            ],
        )
        .await
        .unwrap();
    assert!(
        created
            .secret
            .as_deref()
            .is_some_and(|s| s.starts_with("whsec_"))
    );
    assert_eq!(created.status, Some(WebhookStatus::Active));
    let id = created.id.clone();

    let fetched = webhooks.get(&id).await.unwrap();
    assert_eq!(fetched.url, url);
    assert!(
        fetched.secret.is_none(),
        "the secret is shown only at creation"
    );

    let updated = webhooks
        .update(
            &id,
            WebhookUpdateRequest {
                events: vec![WebhookEventType::PaymentCreated],
                ..WebhookUpdateRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.events, vec![WebhookEventType::PaymentCreated]);

    let event = webhooks.test(&id, None).await.unwrap();
    assert_eq!(event.event_type, WebhookEventType::WebhookTest);
    assert!(event.id.starts_with("evt_"));

    // Nothing has failed yet, so nothing is queued again.
    let retried = webhooks.retry(&id, Vec::new()).await.unwrap();
    assert_eq!(retried.retried, 0);

    assert_eq!(
        webhooks.disable(&id).await.unwrap().status,
        Some(WebhookStatus::Disabled)
    );
    let err = webhooks.test(&id, None).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(
        webhooks.enable(&id).await.unwrap().status,
        Some(WebhookStatus::Active)
    );

    webhooks.delete(&id).await.unwrap();
    let err = webhooks.get(&id).await.unwrap_err();
    assert_eq!(api_code(&err), ErrorCode::NotFound);
}

#[tokio::test]
async fn balances_v1_merchant_and_v2() {
    let (server, client) = mock().await;
    server.set_balance("ARS", 1_200_000, 300_000).await.unwrap();
    let balances = client.balance();
    // With HMAC credentials, balance reads go to API v2, signed.
    let v2 = client_v2(&server.base_url()).balance();
    for balance in [
        balances.get(Currency::ARS, None).await.unwrap(),
        balances
            .get(Currency::ARS, Some(BalanceType::Main))
            .await
            .unwrap(),
        balances
            .merchant(MERCHANT as i64, Currency::ARS, None)
            .await
            .unwrap(),
        v2.get(Currency::ARS, Some(BalanceType::Main))
            .await
            .unwrap(),
    ] {
        assert_eq!(balance.currency, Currency::ARS);
        assert_eq!(balance.available_amount, "1200000");
        assert_eq!(balance.frozen_amount, "300000");
        assert_eq!(balance.balance_amount, "1500000");
    }
    for list in [
        balances.all().await.unwrap(),
        balances.merchant_all(MERCHANT as i64).await.unwrap(),
        v2.all().await.unwrap(),
    ] {
        let ars = list
            .balances
            .iter()
            .find(|b| {
                b.currency == Currency::ARS
                    && b.balance_type
                        .as_ref()
                        .is_none_or(|t| *t == BalanceType::Main)
            })
            .expect("an ARS main entry");
        assert_eq!(ars.available_amount, "1200000");
    }
}

#[tokio::test]
async fn ticket_lifecycle_with_attachments() {
    let (server, client) = mock().await;
    let tickets = client.tickets();
    let ticket = tickets
        .create(
            TicketRequest::new("Deposit not credited")
                .description("paid yesterday")
                .payment_id("pay_1234567890_abcdefgh")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(ticket.status, TicketStatus::Open);
    let id = ticket.ticket_id.clone();
    assert_eq!(
        tickets.get(&id).await.unwrap().title,
        "Deposit not credited"
    );

    let upload = tickets
        .upload_attachment(
            &id,
            "receipt.txt",
            "text/plain",
            Bytes::from_static(b"receipt bytes"),
        )
        .await
        .unwrap();
    let downloaded = tickets
        .download_attachment(&id, &upload.attachment_id)
        .await
        .unwrap();
    assert_eq!(&downloaded[..], b"receipt bytes");

    let comment = tickets.add_comment_text(&id, "any news?").await.unwrap();
    assert_eq!(comment.content, "any news?");
    let upload = tickets
        .upload_comment_attachment(
            &id,
            &comment.id,
            "shot.png",
            "image/png",
            Bytes::from_static(&[0x89, b'P', b'N', b'G']),
        )
        .await
        .unwrap();
    let downloaded = tickets
        .download_comment_attachment(&id, &comment.id, &upload.attachment_id)
        .await
        .unwrap();
    assert_eq!(&downloaded[..], &[0x89, b'P', b'N', b'G']);

    let raw_url = tickets
        .upload_url(
            &id,
            luxcore_ext::types::UploadUrlRequest {
                comment_id: None,
                content_type: "text/plain".try_into().unwrap(),
                file_name: "later.txt".try_into().unwrap(),
                size: None,
            },
        )
        .await
        .unwrap();
    assert!(!raw_url.upload_url.is_empty());

    assert_eq!(
        tickets.close(&id).await.unwrap().status,
        TicketStatus::Closed
    );
    assert_ne!(
        tickets.reopen(&id).await.unwrap().status,
        TicketStatus::Closed
    );
    drop(server);
}

#[tokio::test]
async fn webhook_retry_requeues_a_failed_event() {
    let server = luxcore_mock::MockServer::start(
        luxcore_mock::MockConfig::default()
            .without_rate_limits()
            .with_webhook_retry_base(std::time::Duration::from_millis(1)),
    )
    .await
    .unwrap();
    let client = client(&server.base_url());
    let failing = serve(Router::new().route(
        "/hook",
        post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
    ))
    .await;
    let webhook = client
        .webhook_endpoints()
        .create_for(
            format!("{failing}/hook"),
            [WebhookEventType::PaymentCompleted],
        )
        .await
        .unwrap();
    let event = client
        .webhook_endpoints()
        .test(&webhook.id, None)
        .await
        .unwrap();
    // Wait (generously) until the mock gives up delivering it.
    let events_path = format!("/api/v1/webhooks/{}/events", webhook.id);
    let failed = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let (_, page) = client
                .signed_request(reqwest::Method::GET, &events_path, None)
                .await
                .unwrap();
            let status = page["data"]
                .as_array()
                .and_then(|events| events.iter().find(|e| e["id"] == event.id.as_str()))
                .map(|e| e["status"].clone());
            if status.as_ref().and_then(|s| s.as_str()) == Some("failed") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(failed.is_ok(), "the test event never failed");
    let retried = client
        .webhook_endpoints()
        .retry(&webhook.id, vec![event.id.clone()])
        .await
        .unwrap();
    assert_eq!(retried.retried, 1);
    assert_eq!(retried.event_ids, vec![event.id]);
}

/// Pages a stream requests ahead run on tasks of their own, on any worker thread: their
/// `luxcore.request` spans still reach the caller's subscriber (here a thread-local one),
/// under the caller's span.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_page_spans_keep_their_parent_and_subscriber() {
    use futures::TryStreamExt;
    use luxcore_ext::pagination::Paging;
    use luxcore_ext::payments::PaymentFilter;
    use tracing::Instrument;
    let (_server, client) = mock().await;
    for _ in 0..25 {
        let reference = unique_ref("span");
        let request = deposit(
            1_000,
            Currency::ARS,
            luxcore_ext::PaymentMethod::BankTransfer,
            &reference,
        );
        client.payments().create(request).await.unwrap();
    }
    let (_guard, captured) = capture_tracing();
    let all: Vec<_> = client
        .payments()
        .paging(Paging::new().page_size(5).concurrency(3))
        .stream(PaymentFilter::new())
        .try_collect()
        .instrument(tracing::info_span!("merchant_export"))
        .await
        .unwrap();
    assert_eq!(all.len(), 25);
    let text = captured.text();
    let pages = text
        .lines()
        .filter(|line| {
            line.contains("merchant_export")
                && line.contains("luxcore.request")
                && line.contains(r#"luxcore.operation="listPayments""#)
                && !line.contains("luxcore.attempt{")
                && line.contains("close")
        })
        .count();
    // 5 full pages, then the walk may ask one more (empty) page.
    assert!((5..=6).contains(&pages), "{pages} page spans in: {text}");
}
