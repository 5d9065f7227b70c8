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

mod common;

use std::time::Duration;

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use common::{Creds, ExampleResult, money, payment_id, text};
use luxcore_ext::prelude::*;
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> ExampleResult {
    match std::env::var("LUXCORE_API_KEY") {
        Ok(key) if !key.trim().is_empty() => read_only_tour().await,
        _ => local_tour().await,
    }
}

fn step(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

/// Against a real LuxCore server (`LUXCORE_API_KEY`, `LUXCORE_BASE_URL`): only reads.
async fn read_only_tour() -> ExampleResult {
    let setup = common::client(Creds::ApiKey).await?;
    let client = &setup.client;
    println!("luxcore-rs tour (read-only) against {}", client.base_url());

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
        .paging(Paging::new().page_size(5))
        .list(PaymentFilter::new())
        .with_meta()
        .await?;
    println!(
        "   {} payments in total (request id {}, {} requests left this window)",
        page.total,
        text(page.meta().request_id.as_deref()),
        page.meta()
            .rate_limit
            .remaining
            .map_or_else(|| "-".to_owned(), |n| n.to_string())
    );
    for p in &page.items {
        let amount = Money::new(p.amount, p.currency.clone());
        println!("   {} {} {amount}", payment_id(p), p.status);
    }
    step(3, "Payment methods");
    for m in client.payments().methods(None, None).await? {
        let yes_no = |b: Option<bool>| match b {
            Some(true) => "yes",
            Some(false) => "no",
            None => "-",
        };
        println!(
            "   {} (deposit: {}, withdrawal: {})",
            m.method,
            yes_no(m.deposit),
            yes_no(m.withdrawal)
        );
    }
    step(4, "Open tickets");
    let tickets = client
        .tickets()
        .paging(Paging::new().page_size(5))
        .list(TicketFilter::new())
        .await?;
    println!("   {} tickets", tickets.total);
    println!("\nDone (read-only).");
    Ok(())
}

/// Against an in-process luxcore-mock: the full flow.
async fn local_tour() -> ExampleResult {
    let config =
        luxcore_mock::MockConfig::default().with_webhook_retry_base(Duration::from_millis(100));
    // An API key and HMAC credentials: payment creation and balance reads go to API v2
    // (signed), everything else to API v1 with the key.
    let setup = common::setup(Creds::WithHmac, config).await?;
    let (client, mock) = (&setup.client, setup.mock.as_ref().ok_or("a local mock")?);
    println!(
        "luxcore-rs tour against luxcore-mock at {} (set LUXCORE_API_KEY to use a real server)",
        mock.base_url()
    );
    println!("client: {client:?}");

    step(1, "Register a webhook and start a receiver for it");
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver_url = format!("http://{}/luxcore", receiver.local_addr()?);
    let webhook = client
        .webhook_endpoints()
        .create_for(
            &receiver_url,
            [
                WebhookEventType::PaymentCompleted,
                WebhookEventType::BalanceUpdated,
            ],
        )
        .await?;
    let secret = webhook
        .secret
        .clone()
        .ok_or("the create response carries the secret once")?;
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
        Money::new(150_000, Currency::ARS),
        PaymentMethod::BankTransfer,
        "tour-order-1",
    )
    .description("Order #1")
    .build()?;
    let created = client
        .payments()
        .create(request.clone())
        .with_meta()
        .await?;
    println!(
        "   HTTP {}, request id {}, {} attempt(s)",
        created.meta().status,
        text(created.meta().request_id.as_deref()),
        created.meta().attempts
    );
    let deposit = created.into_inner().into_inner();
    let deposit_id = payment_id(&deposit).to_owned();
    println!(
        "   {deposit_id}: {} (fee {}, net {})",
        deposit.status,
        money(deposit.fee_amount, &deposit.currency),
        money(deposit.net_amount, &deposit.currency)
    );
    if let Some(bank) = &deposit.bank_details {
        println!(
            "   pay to {}, account {}, purpose {}",
            text(bank.bank_name.as_deref()),
            text(bank.account_number.as_deref()),
            text(bank.purpose.as_deref())
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
        "   verified {} {} for {} (status_version {})",
        event.name(),
        text(event.id()),
        text(event.payment_id()),
        event
            .status_version()
            .map_or_else(|| "-".to_owned(), |v| v.to_string())
    );

    step(
        5,
        "Withdraw 500.00 ARS, checking the available balance first",
    );
    let needed = Money::new(50_000, Currency::ARS);
    client.balance().ensure_available(&needed).await?;
    // The recipient's CVU is checked locally (length, check digits) before anything is sent:
    // a mistyped one is refused by build(), with the rule it broke.
    let recipient = luxcore_ext::payouts::Recipient::cvu("0000003100099999999994")
        .holder_name("Juana Pérez")
        .cuil("27-12345678-0");
    let typo = luxcore_ext::payouts::Recipient::cvu("0000003100099999999995");
    if let Err(e) =
        PaymentRequest::withdrawal(needed.clone(), PaymentMethod::BankTransfer, "tour-typo")
            .payout_to(&typo)
            .build()
    {
        println!("   a mistyped CVU, refused before sending: {e}");
    }
    #[cfg(feature = "locale")]
    {
        let es_ar: luxcore_ext::balance::Locale = "es-AR".parse()?;
        println!(
            "   the amount as an Argentine reads it: {}",
            needed.format(&es_ar)
        );
    }
    let withdrawal = PaymentRequest::withdrawal(
        Money::new(50_000, Currency::ARS),
        PaymentMethod::BankTransfer,
        "tour-payout-1",
    )
    .payout_to(&recipient)
    .build()?;
    let payout = client
        .balance()
        .withdraw_checked(withdrawal)
        .await?
        .into_inner();
    let frozen = client.balance().money(Currency::ARS).await?;
    println!(
        "   {} {}: available {}, frozen {}",
        payout.status,
        payment_id(&payout),
        frozen.available,
        frozen.frozen
    );
    let too_much = Money::new(10_000_000, Currency::ARS);
    if let Err(e) = client.balance().ensure_available(&too_much).await {
        println!("   asking for {too_much}: {e}");
    }
    // Sent anyway, LuxCore refuses it; every error says what to do (the docs' error catalogue).
    let over = PaymentRequest::withdrawal(
        too_much.clone(),
        PaymentMethod::BankTransfer,
        "tour-payout-2",
    )
    .payout_to(&recipient)
    .build()?;
    match client.payments().create(over).await {
        Err(e) => println!(
            "   sent anyway: {} -> {:?}: {}",
            e.code().map_or_else(|| e.to_string(), ToString::to_string),
            e.recovery(),
            e.advice()
        ),
        Ok(_) => return Err("a withdrawal above the balance must be refused".into()),
    }

    step(6, "Stream payments (pages fetched ahead, yielded in order)");
    for i in 0..25 {
        let r = PaymentRequest::deposit(
            Money::new(1_000 + i, Currency::MXN),
            PaymentMethod::Spei,
            format!("tour-bulk-{i}"),
        )
        .build()?;
        client.payments().create(r).await?;
    }
    // Paging (how) is separate from the filter (what); the stream owns a clone of the
    // client, so it can run in its own task.
    let stream = client
        .payments()
        .paging(Paging::new().page_size(10).concurrency(4))
        .stream(PaymentFilter::new());
    let all = tokio::spawn(async move { stream.try_collect::<Vec<_>>().await }).await??;
    println!(
        "   streamed {} payments, newest first: {}",
        all.len(),
        text(all.first().and_then(|p| p.merchant_reference.as_deref()))
    );

    step(7, "Sign an API v2 request (HMAC)");
    // The same credentials the client signs with (`credentials::HmacV2`), used by hand.
    let hmac = luxcore_ext::credentials::HmacV2::new(
        luxcore_mock::DEFAULT_MERCHANT_ID,
        luxcore_mock::DEFAULT_HMAC_SECRET,
    )?;
    let credentials = hmac.signer();
    let path = format!(
        "{}?currency=ARS",
        luxcore_ext::api::operations::GET_BALANCE_V2.path
    );
    let signed = credentials.sign_now("GET", &path, b"");
    println!(
        "   X-Merchant-Id: {}  X-Timestamp: {}  X-Nonce: {}",
        signed.merchant_id, signed.timestamp, signed.nonce
    );
    println!(
        "   X-Signature-Version: {}  X-Signature: {}…",
        signed.version,
        &signed.signature[..24.min(signed.signature.len())]
    );
    let v2 = client.balance().money(Currency::ARS).await?;
    println!(
        "   balance().money(ARS), signed by the client: available {}",
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
