//! A guided tour of luxcore-rs.
//!
//! ```sh
//! cargo run --example tour
//! ```
//!
//! Without `LUXCORE_API_KEY` it starts luxcore-mock in-process and walks the main flows: a deposit,
//! its completion and the balance change, a withdrawal guarded by `ensure_available`, streaming
//! payments, an HMAC-signed v2 request, a webhook delivery received and verified, and a support
//! ticket. With `LUXCORE_API_KEY` (and optionally `LUXCORE_BASE_URL`) it runs only the read-only
//! parts against that server.

use std::time::Duration;

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use futures::TryStreamExt;
use luxcore_ext::HmacCredentials;
use luxcore_ext::balance::Money;
use luxcore_ext::client::LuxCore;
use luxcore_ext::pagination::{PaymentFilter, TicketFilter};
use luxcore_ext::services::tickets::TicketRequest;
use luxcore_ext::services::{Created, PaymentRequest};
use luxcore_ext::webhooks::{Event, MemoryStore, WebhookProcessor, WebhookVerifier};
use luxcore_ext::{Currency, PaymentMethod, api::enums::WebhookEventType};
use luxcore_mock::{
    DEFAULT_API_KEY, DEFAULT_HMAC_SECRET, DEFAULT_MERCHANT_ID, MockConfig, MockServer,
};
use secrecy::SecretString;
use tokio::sync::mpsc;

type TourResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> TourResult {
    match std::env::var("LUXCORE_API_KEY") {
        Ok(key) if !key.trim().is_empty() => read_only_tour(key).await,
        _ => local_tour().await,
    }
}

fn step(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

/// Against a real LuxCore server: only reads.
async fn read_only_tour(key: String) -> TourResult {
    let base_url =
        std::env::var("LUXCORE_BASE_URL").unwrap_or_else(|_| "https://api.lux-core.io".into());
    println!("luxcore-rs tour (read-only) against {base_url}");
    let client = LuxCore::builder()
        .base_url(&base_url)
        .api_key(key)
        .build()?;

    step(1, "Balances");
    for (currency, snapshot) in client.balance().all_money().await? {
        println!(
            "   {currency}: available {}, frozen {}",
            snapshot.available, snapshot.frozen
        );
    }
    step(2, "The 5 newest payments");
    let page = client
        .payments()
        .list(&PaymentFilter::new().page_size(5))
        .await?;
    println!("   {} payments in total", page.total);
    for p in &page.items {
        println!(
            "   {} {} {} {}",
            p.id.as_deref()
                .or(p.transaction_id.as_deref())
                .unwrap_or("?"),
            p.status,
            p.amount,
            p.currency
        );
    }
    step(3, "Payment methods");
    for m in client.payments().methods(None, None).await? {
        println!(
            "   {} (deposit: {:?}, withdrawal: {:?})",
            m.method, m.deposit, m.withdrawal
        );
    }
    step(4, "Open tickets");
    let tickets = client
        .tickets()
        .list(&TicketFilter::new().page_size(5))
        .await?;
    println!("   {} tickets", tickets.total);
    println!("\nDone (read-only).");
    Ok(())
}

/// Against an in-process luxcore-mock: the full flow.
async fn local_tour() -> TourResult {
    let mock = MockServer::start(
        MockConfig::default().with_webhook_retry_base(Duration::from_millis(100)),
    )
    .await?;
    println!(
        "luxcore-rs tour against luxcore-mock at {} (set LUXCORE_API_KEY to use a real server)",
        mock.base_url()
    );
    let client = LuxCore::builder()
        .base_url(mock.base_url())
        .api_key(DEFAULT_API_KEY)
        .hmac_v2(DEFAULT_MERCHANT_ID, DEFAULT_HMAC_SECRET)
        .build()?;
    println!("client: {client:?}");

    step(1, "Register a webhook and start a receiver for it");
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver_url = format!("http://{}/luxcore", receiver.local_addr()?);
    let webhook = client
        .webhooks()
        .create_for(
            &receiver_url,
            [
                WebhookEventType::PaymentCompleted,
                WebhookEventType::BalanceUpdated,
            ],
        )
        .await?;
    let secret = SecretString::from(
        webhook
            .secret
            .clone()
            .ok_or("the create response carries the secret once")?,
    );
    println!(
        "   webhook {} -> {receiver_url} (secret received once, kept out of logs)",
        webhook.id
    );
    let state = ReceiverState {
        processor: std::sync::Arc::new(WebhookProcessor::new(
            WebhookVerifier::new(secret),
            MemoryStore::new(),
        )),
        events: events_tx,
    };
    let app = Router::new()
        .route("/luxcore", post(receive))
        .with_state(state);
    tokio::spawn(async move { axum::serve(receiver, app).await });

    step(2, "Create a deposit of 1,500.00 ARS by bank transfer");
    let request = PaymentRequest::deposit(
        150_000,
        Currency::ARS,
        PaymentMethod::BankTransfer,
        "tour-order-1",
    )
    .description("Order #1")
    .build()?;
    let deposit = client
        .payments()
        .create(request.clone())
        .await?
        .into_inner();
    let deposit_id = deposit
        .id
        .clone()
        .or(deposit.transaction_id.clone())
        .ok_or("payment id")?;
    println!(
        "   {deposit_id}: {} (fee {:?}, net {:?})",
        deposit.status, deposit.fee_amount, deposit.net_amount
    );
    if let Some(bank) = &deposit.bank_details {
        println!(
            "   pay to {:?} account {:?}, purpose {:?}",
            bank.bank_name, bank.account_number, bank.purpose
        );
    }
    match client.payments().create(request).await? {
        Created::Existing(p) => println!(
            "   same merchant_reference again -> Created::Existing ({})",
            p.status
        ),
        Created::New(_) => {
            return Err("a duplicate merchant_reference must not create a second payment".into());
        }
    }

    step(3, "Complete it (mock control) and watch the balance change");
    let before = client.balance().money(Currency::ARS).await?;
    mock.complete_payment(&deposit_id).await?;
    let after = client.balance().money(Currency::ARS).await?;
    println!("   available {} -> {}", before.available, after.available);

    step(4, "Receive and verify the webhook delivery");
    let event = tokio::time::timeout(Duration::from_secs(10), events_rx.recv())
        .await?
        .ok_or("receiver stopped")?;
    println!(
        "   verified {} {:?} for {:?} (status_version {:?})",
        event.name(),
        event.id(),
        event.payment_id(),
        event.status_version()
    );

    step(
        5,
        "Withdraw 500.00 ARS, checking the available balance first",
    );
    let needed = Money::new(50_000, Currency::ARS);
    client.balance().ensure_available(&needed).await?;
    let withdrawal = PaymentRequest::withdrawal(
        50_000,
        Currency::ARS,
        PaymentMethod::BankTransfer,
        "tour-payout-1",
    )
    .payout_field("account_number", "0110012345678901234567")
    .build()?;
    let payout = client
        .balance()
        .withdraw_checked(withdrawal)
        .await?
        .into_inner();
    let frozen = client.balance().money(Currency::ARS).await?;
    println!(
        "   {} {:?}: available {}, frozen {}",
        payout.status, payout.id, frozen.available, frozen.frozen
    );
    let too_much = Money::new(10_000_000, Currency::ARS);
    if let Err(e) = client.balance().ensure_available(&too_much).await {
        println!("   asking for {too_much}: {e}");
    }

    step(6, "Stream payments (pages fetched ahead, yielded in order)");
    for i in 0..25 {
        let r = PaymentRequest::deposit(
            1_000 + i,
            Currency::MXN,
            PaymentMethod::Spei,
            format!("tour-bulk-{i}"),
        )
        .build()?;
        client.payments().create(r).await?;
    }
    let all: Vec<_> = client
        .payments()
        .stream(PaymentFilter::new().page_size(10).concurrency(4))
        .try_collect()
        .await?;
    println!(
        "   streamed {} payments, newest first: {:?}",
        all.len(),
        all.first().and_then(|p| p.merchant_reference.as_deref())
    );

    step(7, "Sign an API v2 request (HMAC)");
    let credentials = HmacCredentials::new(DEFAULT_MERCHANT_ID, DEFAULT_HMAC_SECRET);
    let signed = credentials.sign_now("GET", "/api/v2/balance?currency=ARS", b"");
    println!(
        "   X-Merchant-Id: {}  X-Timestamp: {}  X-Nonce: {}",
        signed.merchant_id, signed.timestamp, signed.nonce
    );
    println!(
        "   X-Signature-Version: {}  X-Signature: {}…",
        signed.version,
        &signed.signature[..24.min(signed.signature.len())]
    );
    let v2 = client.balance().money_v2(Currency::ARS).await?;
    println!(
        "   GET /api/v2/balance (signed by the client): available {}",
        v2.available
    );

    step(8, "Open a support ticket about the payout");
    let payout_id = payout.id.clone().unwrap_or_default();
    let ticket = client
        .tickets()
        .create(
            TicketRequest::new("Payout not received")
                .description("Customer reports no funds")
                .payment_id(payout_id)
                .build()?,
        )
        .await?;
    println!("   ticket {} is {}", ticket.ticket_id, ticket.status);

    println!(
        "\nDone. Everything above ran against luxcore-mock; see README.md for pointing the SDK at LuxCore."
    );
    Ok(())
}

#[derive(Clone)]
struct ReceiverState {
    processor: std::sync::Arc<WebhookProcessor>,
    events: mpsc::UnboundedSender<Event>,
}

/// The merchant's webhook endpoint: verify, skip stale or duplicate deliveries, process, acknowledge.
async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let events = state.events.clone();
    let outcome = state
        .processor
        .handle(&headers, &body, |event| async move {
            if event.payment().is_some() {
                events.send(event).map_err(|_| "tour finished")?;
            }
            Ok::<_, &str>(())
        })
        .await;
    outcome.status()
}
