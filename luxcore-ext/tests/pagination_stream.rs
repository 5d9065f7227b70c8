//! Pagination streams against luxcore-mock: order, concurrency, inserts during the walk,
//! filters, validation, errors, and every list operation.

use std::collections::HashSet;
use std::pin::pin;

use futures::{StreamExt, TryStreamExt, stream};
use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::prelude::*;
use luxcore_ext::tickets::TicketRequest;
use luxcore_ext::types::Payment;
use luxcore_ext::{Currency, PaymentMethod, PaymentStatus};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};

async fn setup() -> (MockServer, LuxCore) {
    let server = MockServer::start(MockConfig::default().without_rate_limits())
        .await
        .expect("mock starts");
    let client = LuxCore::builder()
        .base_url(server.base_url())
        .api_key(DEFAULT_API_KEY)
        .build()
        .expect("client builds");
    (server, client)
}

/// Creates `n` card deposits concurrently; returns their ids.
async fn create_deposits(client: &LuxCore, prefix: &str, n: usize) -> Vec<String> {
    stream::iter(0..n)
        .map(|i| async move {
            let request = PaymentRequest::deposit(
                Money::new(10_000 + i as i64, Currency::ARS),
                PaymentMethod::Card,
                format!("{prefix}_{i}"),
            )
            .build()
            .expect("valid request");
            let created = client.payments().create(request).await.expect("created");
            created.into_inner().id.expect("payment id")
        })
        .buffer_unordered(16)
        .collect()
        .await
}

/// Creates `n` webhooks to an unreachable URL (deliveries fail, events stay listed); returns
/// their ids.
async fn create_webhooks(client: &LuxCore, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let hook = client
            .webhook_endpoints()
            .create_for(
                format!("http://127.0.0.1:9/{prefix}{i}"),
                [luxcore_ext::api::enums::WebhookEventType::PaymentCreated],
            )
            .await
            .unwrap();
        ids.push(hook.id);
    }
    ids
}

fn id(payment: &Payment) -> String {
    payment.id.clone().expect("payment id")
}

fn assert_newest_first(payments: &[Payment]) {
    for pair in payments.windows(2) {
        assert!(
            pair[0].created_at >= pair[1].created_at,
            "not newest first: {:?} then {:?}",
            pair[0].created_at,
            pair[1].created_at
        );
    }
}

#[tokio::test]
async fn thousand_payments_sequential_and_concurrent_identical() {
    within(async {
        let (_server, client) = setup().await;
        let created: HashSet<String> = create_deposits(&client, "bulk", 1000)
            .await
            .into_iter()
            .collect();
        assert_eq!(created.len(), 1000);

        let payments = client.payments();
        let sequential = payments
            .clone()
            .paging(Paging::new().concurrency(1))
            .collect_all(PaymentFilter::new())
            .await
            .unwrap();
        let concurrent = payments
            .clone()
            .paging(Paging::new().concurrency(4))
            .collect_all(PaymentFilter::new())
            .await
            .unwrap();
        assert_eq!(sequential.len(), 1000);
        assert_eq!(sequential, concurrent);
        let ids: Vec<String> = sequential.iter().map(id).collect();
        let unique: HashSet<String> = ids.iter().cloned().collect();
        assert_eq!(unique, created, "every created payment exactly once");
        assert_newest_first(&sequential);

        // The stream is the pages, concatenated.
        let first = payments.list(PaymentFilter::new()).await.unwrap();
        assert_eq!(first.total, 1000);
        assert_eq!((first.limit, first.offset, first.total_pages), (100, 0, 10));
        assert_eq!(first.items, sequential[..100]);
        let third = payments
            .clone()
            .paging(Paging::new().page_size(7).offset(14))
            .list(PaymentFilter::new())
            .await
            .unwrap();
        assert_eq!(third.items, sequential[14..21]);
        assert_eq!(third.total_pages, 143);

        // Odd page sizes give the same sequence.
        let small = payments
            .clone()
            .paging(Paging::new().page_size(33).concurrency(3))
            .collect_all(PaymentFilter::new())
            .await
            .unwrap();
        assert_eq!(small, sequential);
    })
    .await;
}

#[tokio::test]
async fn stream_across_inserts_loses_and_repeats_nothing() {
    within(async {
        let (_server, client) = setup().await;
        create_deposits(&client, "orig", 200).await;
        let original: Vec<String> = client
            .payments()
            .collect_all(PaymentFilter::new())
            .await
            .unwrap()
            .iter()
            .map(id)
            .collect();
        assert_eq!(original.len(), 200);

        for concurrency in [1, 4] {
            let payments = client
                .payments()
                .paging(Paging::new().page_size(10).concurrency(concurrency));
            let mut walk = pin!(payments.stream(PaymentFilter::new()));
            let mut seen = Vec::new();
            let mut inserted = 0;
            while let Some(payment) = walk.try_next().await.unwrap() {
                seen.push(id(&payment));
                // A page boundary: new payments land at the head of the list and shift every
                // later page down before (some of) the next fetches.
                if seen.len() % 10 == 0 {
                    let ids =
                        create_deposits(&client, &format!("new_{concurrency}_{inserted}"), 3).await;
                    inserted += ids.len();
                }
            }
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(
                unique.len(),
                seen.len(),
                "no repeats (concurrency {concurrency})"
            );
            let originals_seen: Vec<String> = seen
                .iter()
                .filter(|id| original.contains(id))
                .cloned()
                .collect();
            assert_eq!(
                originals_seen, original,
                "every original payment once, in order (concurrency {concurrency})"
            );
            assert!(
                inserted >= 60,
                "inserts happened during the walk: {inserted}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn filters_validation_and_errors() {
    within(async {
        let (server, client) = setup().await;
        let ids = create_deposits(&client, "filter", 30).await;
        for id in &ids[..5] {
            server.complete_payment(id).await.unwrap();
        }
        let payments = client.payments();

        let completed = payments
            .clone()
            .paging(Paging::new().page_size(2))
            .collect_all(PaymentFilter::new().status(PaymentStatus::Completed))
            .await
            .unwrap();
        assert_eq!(completed.len(), 5);
        assert!(
            completed
                .iter()
                .all(|p| p.status == PaymentStatus::Completed)
        );
        let expected: HashSet<&String> = ids[..5].iter().collect();
        let got: Vec<String> = completed.iter().map(id).collect();
        assert_eq!(got.iter().collect::<HashSet<_>>(), expected);

        let processing = payments
            .collect_all(PaymentFilter::new().status(PaymentStatus::Processing))
            .await
            .unwrap();
        assert_eq!(processing.len(), 25);

        let future = chrono::Utc::now() + chrono::Duration::hours(1);
        let none = payments
            .collect_all(PaymentFilter::new().created_from(future))
            .await
            .unwrap();
        assert!(none.is_empty());
        let past = chrono::Utc::now() - chrono::Duration::hours(1);
        let all = payments
            .collect_all(PaymentFilter::new().created_from(past).created_to(future))
            .await
            .unwrap();
        assert_eq!(all.len(), 30);
        let before = payments
            .collect_all(PaymentFilter::new().created_to(past))
            .await
            .unwrap();
        assert!(before.is_empty());

        // Invalid paging: a Config error, nothing sent.
        for paging in [
            Paging::new().page_size(0),
            Paging::new().page_size(101),
            Paging::new().concurrency(0),
        ] {
            let payments = payments.clone().paging(paging);
            let filter = PaymentFilter::new();
            assert!(matches!(
                payments.list(&filter).await,
                Err(Error::Config(_))
            ));
            let items: Vec<_> = payments.stream(filter.clone()).collect().await;
            assert!(
                matches!(items.as_slice(), [Err(Error::Config(_))]),
                "{paging:?}: {items:?}"
            );
            assert!(matches!(
                payments.collect_all(filter).await,
                Err(Error::Config(_))
            ));
        }

        // An API error ends the stream with that error.
        let items: Vec<_> = client
            .webhook_endpoints()
            .stream_events("wh_missing", WebhookEventFilter::new())
            .collect()
            .await;
        assert!(
            matches!(items.as_slice(), [Err(Error::Api { status: 404, .. })]),
            "{items:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn webhooks_events_tickets_and_comments() {
    within(async {
        let (_server, client) = setup().await;

        // Webhooks: an unreachable URL, so deliveries fail and events stay listed.
        let hooks = client.webhook_endpoints();
        let webhook_ids = create_webhooks(&client, "hook", 5).await;
        hooks.disable(&webhook_ids[0]).await.unwrap();
        let all = hooks
            .clone()
            .paging(Paging::new().page_size(2))
            .collect_all(WebhookFilter::new())
            .await
            .unwrap();
        assert_eq!(all.len(), 5);
        let all_ids: HashSet<String> = all.iter().map(|w| w.id.clone()).collect();
        assert_eq!(all_ids, webhook_ids.iter().cloned().collect());
        let disabled = hooks
            .collect_all(
                WebhookFilter::new().status(luxcore_ext::api::enums::WebhookStatus::Disabled),
            )
            .await
            .unwrap();
        assert_eq!(disabled.len(), 1);
        assert_eq!(disabled[0].id, webhook_ids[0]);
        let page = hooks
            .clone()
            .paging(Paging::new().page_size(3))
            .list(WebhookFilter::new())
            .await
            .unwrap();
        assert_eq!((page.items.len(), page.total, page.total_pages), (3, 5, 2));

        create_deposits(&client, "events", 7).await;
        let events = hooks
            .clone()
            .paging(Paging::new().page_size(3))
            .collect_all_events(webhook_ids[1].clone(), WebhookEventFilter::new())
            .await
            .unwrap();
        assert_eq!(events.len(), 7, "one payment.created per deposit");
        let event_ids: HashSet<&String> = events.iter().map(|e| &e.id).collect();
        assert_eq!(event_ids.len(), 7);
        let first = hooks
            .clone()
            .paging(Paging::new().page_size(5))
            .list_events(&webhook_ids[1], WebhookEventFilter::new())
            .await
            .unwrap();
        assert_eq!(first.items.len(), 5);
        assert_eq!(first.total, 7);

        // Tickets and comments.
        let tickets = client.tickets();
        let mut ticket_ids = Vec::new();
        for i in 0..6 {
            let ticket = tickets
                .create(TicketRequest::new(format!("Ticket {i}")).build().unwrap())
                .await
                .unwrap();
            ticket_ids.push(ticket.ticket_id);
        }
        tickets.close(&ticket_ids[0]).await.unwrap();
        let all = tickets
            .clone()
            .paging(Paging::new().page_size(4))
            .collect_all(TicketFilter::new())
            .await
            .unwrap();
        assert_eq!(all.len(), 6);
        let closed = tickets
            .collect_all(TicketFilter::new().status(luxcore_ext::api::enums::TicketStatus::Closed))
            .await
            .unwrap();
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].ticket_id, ticket_ids[0]);
        let found = tickets
            .collect_all(TicketFilter::new().search("Ticket 3"))
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert!(matches!(
            tickets
                .list(TicketFilter::new().search("x".repeat(101)))
                .await,
            Err(Error::Config(_))
        ));

        for i in 0..12 {
            tickets
                .add_comment_text(&ticket_ids[1], format!("comment {i}"))
                .await
                .unwrap();
        }
        let comments = tickets
            .clone()
            .paging(Paging::new().page_size(5).concurrency(2))
            .collect_all_comments(ticket_ids[1].clone())
            .await
            .unwrap();
        let texts: Vec<&str> = comments.iter().map(|c| c.content.as_str()).collect();
        let expected: Vec<String> = (0..12).map(|i| format!("comment {i}")).collect();
        assert_eq!(texts, expected, "oldest first, all of them");
        let page = tickets
            .clone()
            .paging(Paging::new().page_size(5).offset(10))
            .list_comments(&ticket_ids[1])
            .await
            .unwrap();
        assert_eq!(page.items.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn streams_are_send_and_dropping_early_is_fine() {
    within(async {
        fn assert_send<T: Send>(_: &T) {}
        let (_server, client) = setup().await;
        create_deposits(&client, "drop", 250).await;
        let payments = client.payments();
        let stream = payments
            .clone()
            .paging(Paging::new().page_size(10).concurrency(8))
            .stream(PaymentFilter::new());
        assert_send(&stream);
        let first: Vec<Payment> = stream.take(15).try_collect().await.unwrap();
        assert_eq!(first.len(), 15);
        // The client still works after in-flight page requests were dropped.
        let all = payments.collect_all(PaymentFilter::new()).await.unwrap();
        assert_eq!(all.len(), 250);
        assert_eq!(all[..15], first[..]);
    })
    .await;
}

#[tokio::test]
async fn streams_own_the_client_and_can_be_spawned() {
    within(async {
        let (_server, client) = setup().await;
        create_deposits(&client, "spawn", 30).await;
        let filter = PaymentFilter::new();
        // The stream owns a clone of the client: it outlives this borrow and moves into a task.
        let s = client.payments().stream(filter);
        let spawned = tokio::spawn(async move { s.try_collect::<Vec<_>>().await });
        let all = spawned.await.unwrap().unwrap();
        assert_eq!(all.len(), 30);
        fn assert_static_send_unpin<T: Send + Unpin + 'static>(_: &T) {}
        assert_static_send_unpin(&client.tickets().stream_comments("tkt_x"));
    })
    .await;
}

/// Streams `status=processing` with `page_size`/`concurrency` while completing, at each
/// page boundary, one payment already yielded and one well ahead of the walk.
async fn walk_while_completing(
    server: &MockServer,
    client: &LuxCore,
    original: &[String],
    concurrency: usize,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let payments = client
        .payments()
        .paging(Paging::new().page_size(10).concurrency(concurrency));
    let mut walk = pin!(payments.stream(PaymentFilter::new().status(PaymentStatus::Processing)));
    let (mut seen, mut behind, mut ahead) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(payment) = walk.try_next().await.unwrap() {
        assert_eq!(payment.status, PaymentStatus::Processing);
        seen.push(id(&payment));
        if seen.len() % 10 == 0 {
            let yielded = seen[seen.len() - 5].clone();
            server.complete_payment(&yielded).await.unwrap();
            behind.push(yielded);
            // Far past the pages in flight (10 per page, at most 4 ahead).
            if let Some(future) = original.get(seen.len() + behind.len() + 60)
                && !seen.contains(future)
                && !ahead.contains(future)
            {
                server.complete_payment(future).await.unwrap();
                ahead.push(future.clone());
            }
        }
    }
    (seen, behind, ahead)
}

#[tokio::test]
async fn payments_leaving_a_status_filter_mid_walk() {
    within(async {
        for concurrency in [1, 4] {
            let (server, client) = setup().await;
            create_deposits(&client, "leave", 200).await;
            let filter = PaymentFilter::new().status(PaymentStatus::Processing);
            let original: Vec<String> = client
                .payments()
                .collect_all(filter.clone())
                .await
                .unwrap()
                .iter()
                .map(id)
                .collect();
            assert_eq!(original.len(), 200);
            let (seen, behind, ahead) =
                walk_while_completing(&server, &client, &original, concurrency).await;
            let case = format!("concurrency {concurrency}");
            assert!(
                behind.len() >= 10 && ahead.len() >= 5,
                "{case}: {behind:?} {ahead:?}"
            );
            let still: Vec<String> = client
                .payments()
                .collect_all(filter)
                .await
                .unwrap()
                .iter()
                .map(id)
                .collect();
            // Exactly: every payment still processing, plus the ones completed after they
            // were yielded; none completed before its page; once each, in list order.
            let expected: Vec<String> = original
                .iter()
                .filter(|p| still.contains(p) || behind.contains(p))
                .cloned()
                .collect();
            assert_eq!(seen, expected, "{case}");
            assert!(ahead.iter().all(|p| !seen.contains(p)), "{case}");
        }
    })
    .await;
}

#[tokio::test]
async fn webhooks_deleted_mid_walk() {
    within(async {
        for concurrency in [1, 3] {
            let (_server, client) = setup().await;
            let hooks = client.webhook_endpoints();
            create_webhooks(&client, "del", 60).await;
            let original: Vec<String> = hooks
                .collect_all(WebhookFilter::new())
                .await
                .unwrap()
                .into_iter()
                .map(|w| w.id)
                .collect();
            let paged = hooks
                .clone()
                .paging(Paging::new().page_size(5).concurrency(concurrency));
            let mut walk = pin!(paged.stream(WebhookFilter::new()));
            let (mut seen, mut behind, mut ahead) = (Vec::new(), Vec::new(), Vec::new());
            while let Some(hook) = walk.try_next().await.unwrap() {
                seen.push(hook.id);
                if seen.len() % 5 == 0 {
                    // Two already yielded, one far past the pages in flight (3 of 5).
                    for yielded in [seen[seen.len() - 1].clone(), seen[seen.len() - 4].clone()] {
                        hooks.delete(&yielded).await.unwrap();
                        behind.push(yielded);
                    }
                    if let Some(future) = original.get(seen.len() + behind.len() + 25)
                        && !ahead.contains(future)
                    {
                        hooks.delete(future).await.unwrap();
                        ahead.push(future.clone());
                    }
                }
            }
            let survivors: Vec<String> = hooks
                .collect_all(WebhookFilter::new())
                .await
                .unwrap()
                .into_iter()
                .map(|w| w.id)
                .collect();
            let expected: Vec<String> = original
                .iter()
                .filter(|h| survivors.contains(h) || behind.contains(h))
                .cloned()
                .collect();
            let case = format!("concurrency {concurrency}");
            assert!(behind.len() >= 10 && !ahead.is_empty(), "{case}");
            assert_eq!(
                seen, expected,
                "{case}: survivors and deleted-after-yield, in order"
            );
            assert!(ahead.iter().all(|h| !seen.contains(h)), "{case}");
        }
    })
    .await;
}

/// Every stream test ends: a walker regression fails here instead of hanging CI.
async fn within<F: std::future::Future>(test: F) -> F::Output {
    tokio::time::timeout(std::time::Duration::from_secs(120), test)
        .await
        .expect("the test did not end within 120 s")
}

mod generated_list;
use generated_list as generated;

fn generated_client(base_url: &str) -> LuxCore {
    LuxCore::builder()
        .base_url(base_url)
        .api_key(DEFAULT_API_KEY)
        .build()
        .expect("client builds")
}

#[tokio::test]
async fn a_walk_is_pinned_to_the_snapshot_of_its_first_page() {
    within(async {
        // 3,000 payments, one more every millisecond: thousands are created during the
        // walk. None created after the snapshot is returned, none repeats, and every
        // payment the first page saw comes, in order.
        let server = generated::start(3000, true).await;
        let client = generated_client(&server.base_url);
        for concurrency in [1, 4] {
            let before = server.requests.load(std::sync::atomic::Ordering::SeqCst);
            let payments = client
                .payments()
                .paging(Paging::new().page_size(20).concurrency(concurrency));
            let mut walk = pin!(payments.stream(PaymentFilter::new()));
            let first = walk.try_next().await.unwrap().unwrap();
            // Past the snapshot (the first page's `Date` rounded up): the list keeps
            // growing, the pinned pages do not.
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
            let mut got = vec![first];
            while let Some(payment) = walk.try_next().await.unwrap() {
                got.push(payment);
            }
            let k_newest =
                u64::try_from(got[0].created_at.unwrap().timestamp_millis() - server.t0_ms)
                    .unwrap();
            let ks: Vec<u64> = got
                .iter()
                .map(|p| id(p)[4..].parse::<u64>().unwrap())
                .collect();
            let case = format!("concurrency {concurrency}");
            let unique: HashSet<u64> = ks.iter().copied().collect();
            assert_eq!(unique.len(), ks.len(), "{case}: no repeats");
            // Every payment the first page's snapshot held, once, in order.
            let original: Vec<u64> = ks.iter().copied().filter(|&k| k <= k_newest).collect();
            assert_eq!(original, (1..=k_newest).rev().collect::<Vec<_>>(), "{case}");
            // Newer ones only from the first page's second (created before the snapshot),
            // all right after the first page: none of the 1,100+ created after it.
            let newer: Vec<u64> = ks.iter().copied().filter(|&k| k > k_newest).collect();
            assert!(newer.len() < 1000, "{case}: {} newer", newer.len());
            assert!(
                ks.iter().skip(20 + newer.len()).all(|&k| k <= k_newest),
                "{case}: newer payments come right after the first page"
            );
            assert!(newer.windows(2).all(|w| w[0] == w[1] + 1), "{case}");
            // The pinned list (`snapshot` long) is walked once: the first page, then one
            // request per 20 positions from 20 on, the last one short.
            let requests = server.requests.load(std::sync::atomic::Ordering::SeqCst) - before;
            let snapshot = newer.first().map_or(k_newest, |k| k + 20);
            println!(
                "{case}: {} items ({} newer), {requests} requests",
                ks.len(),
                newer.len()
            );
            if newer.is_empty() {
                assert!(
                    (1 + k_newest / 20..=2 + k_newest / 20).contains(&requests),
                    "{case}"
                );
            } else {
                assert_eq!(requests, 1 + snapshot / 20, "{case}: snapshot {snapshot}");
            }
        }
        // Every page after the first asked for the snapshot.
        assert!(
            server
                .pinned_requests
                .load(std::sync::atomic::Ordering::SeqCst)
                > 250,
            "every page after the first carries created_at_to"
        );
    })
    .await;
}

/// `cargo test --release -p luxcore-ext --test pagination_stream -- --ignored million --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "1,000,000 items: run by hand, reports peak RSS growth"]
async fn a_million_item_walk_runs_in_constant_memory() {
    const N: u64 = 1_000_000;
    let server = generated::start(N, false).await;
    let client = generated_client(&server.base_url);
    let mut walk = client.payments().stream(PaymentFilter::new());
    let (mut count, mut at_100k, mut expected_k) = (0u64, 0u64, N);
    let started = std::time::Instant::now();
    while let Some(payment) = walk.try_next().await.unwrap() {
        assert_eq!(
            payment.id.as_deref(),
            Some(generated::id(expected_k).as_str())
        );
        expected_k -= 1;
        count += 1;
        if count == 100_000 {
            at_100k = generated::rss_kib("VmRSS:");
        }
    }
    let (rss_end, hwm_end) = (generated::rss_kib("VmRSS:"), generated::rss_kib("VmHWM:"));
    assert_eq!(count, N);
    let growth = hwm_end.saturating_sub(at_100k);
    println!(
        "1M walk: {:.1} s, VmRSS at 100k {at_100k} KiB, at 1M {rss_end} KiB, VmHWM {hwm_end} KiB: peak growth {growth} KiB",
        started.elapsed().as_secs_f64()
    );
    assert!(
        growth <= 4 * 1024,
        "peak RSS grew {growth} KiB from item 100,000 to 1,000,000"
    );
}

/// Counts the handlers of a [`hanging_list`] dropped before they answered: hyper drops a
/// handler when its client goes away.
struct Abandoned(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

type Counters = (
    std::sync::Arc<std::sync::atomic::AtomicU64>,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
);

/// 50 payments in pages of 10: the first page answers, later pages never do. Counts the
/// later requests started (`.0`) and abandoned by the client (`.1`).
async fn hanging_list(
    axum::extract::State((started, abandoned)): axum::extract::State<Counters>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if query.get("offset").is_none_or(|offset| offset == "0") {
        let items: Vec<String> = (1..=10)
            .map(|k| {
                format!(
                    r#"{{"id":"pay_{k}","amount":1000,"currency":"ARS","status":"completed","created_at":"2026-01-01T00:00:00Z"}}"#
                )
            })
            .collect();
        let body = format!(
            r#"{{"success":true,"data":[{}],"total":50,"pagination":{{"limit":10,"offset":0,"total_pages":5}}}}"#,
            items.join(",")
        );
        return (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
    }
    started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let _abandoned = Abandoned(abandoned);
    std::future::pending::<axum::response::Response>().await
}

#[tokio::test]
async fn dropping_a_stream_cancels_the_pages_it_requested_ahead() {
    use std::sync::atomic::Ordering::SeqCst;
    use std::time::Duration;
    within(async {
        let counters: Counters = Default::default();
        let (started, abandoned) = (counters.0.clone(), counters.1.clone());
        let app = axum::Router::new()
            .route("/api/v1/payments", axum::routing::get(hanging_list))
            .with_state(counters);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let client = generated_client(&base_url);
        let mut stream = client
            .payments()
            .paging(Paging::new().page_size(10).concurrency(4))
            .stream(PaymentFilter::new());
        for _ in 0..10 {
            stream.next().await.unwrap().unwrap();
        }
        // The 11th item waits for the pages requested ahead, which never answer.
        let waited = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
        assert!(waited.is_err(), "the hanging page cannot have answered");
        while started.load(SeqCst) < 4 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The page requests run on tasks of their own: they go on until the stream is
        // dropped, and then every one of them is cancelled (well before the client's 30 s
        // timeout).
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(abandoned.load(SeqCst), 0);
        drop(stream);
        tokio::time::timeout(Duration::from_secs(5), async {
            while abandoned.load(SeqCst) < 4 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("all 4 requests in flight are cancelled when the stream is dropped");
        assert_eq!((started.load(SeqCst), abandoned.load(SeqCst)), (4, 4));
    })
    .await;
}

/// `collect_all` is one `ApiCall`: its options reach every page request and it has the
/// metadata of the last page.
#[tokio::test]
async fn collect_all_is_one_api_call_with_options_and_metadata() {
    let (server, client) = setup().await;
    create_deposits(&client, "collect_meta", 25).await;
    let payments = client.payments().paging(Paging::new().page_size(10));
    let all = payments
        .collect_all(PaymentFilter::new())
        .with_meta()
        .await
        .unwrap();
    assert_eq!(all.len(), 25);
    assert_eq!(all.meta().status, 200);
    assert!(all.meta().request_id.is_some());

    // One injected 503 on a later page: retried away with the client's policy, the call's
    // error with retries turned off for this call.
    let fault = || {
        luxcore_mock::FaultConfig::scheduled([
            luxcore_mock::Fault::Pass,
            luxcore_mock::Fault::Status(503),
        ])
    };
    server.set_faults(fault()).await.unwrap();
    assert_eq!(
        payments
            .collect_all(PaymentFilter::new())
            .await
            .unwrap()
            .len(),
        25
    );
    server.set_faults(fault()).await.unwrap();
    let err = payments
        .collect_all(PaymentFilter::new())
        .retry(RetryPolicy::none())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err:?}");
}
