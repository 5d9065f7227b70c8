//! Every operation of the client, grouped by tag, and the check of one call's outcome.

use bytes::Bytes;
use futures::StreamExt;
use luxcore_ext::error::Error;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::prelude::*;
use luxcore_ext::tickets::TicketRequest;
use luxcore_ext::types::{
    PaymentMethodValidateRequest, TicketCommentCreateRequest, UploadUrlRequest,
    WebhookCreateRequest, WebhookUpdateRequest,
};
use luxcore_ext::{Currency, PaymentMethod, PaymentType};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::server::{Answer, Clients};
use crate::HANG_LIMIT;

/// Every operation of the client (the 33 of the API) and the helpers built on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    // payments (7)
    Create,
    CreateV2,
    Get,
    Cancel,
    Methods,
    Validate,
    List,
    // webhooks (10)
    WebhookCreate,
    WebhookList,
    WebhookGet,
    WebhookUpdate,
    WebhookDelete,
    WebhookTest,
    WebhookEnable,
    WebhookDisable,
    WebhookEvents,
    WebhookRetry,
    // balance (6)
    BalanceGet,
    BalanceAll,
    MerchantBalance,
    MerchantAll,
    BalanceGetV2,
    BalanceAllV2,
    // tickets (8)
    TicketCreate,
    TicketList,
    TicketGet,
    TicketClose,
    TicketReopen,
    TicketComment,
    TicketComments,
    TicketUploadUrl,
    // downloads (2)
    DownloadAttachment,
    DownloadCommentAttachment,
    // helpers on top of the operations
    PaymentStream,
    WebhookEventStream,
    TicketStream,
    CommentStream,
    Money,
    AllMoney,
    MoneyV2,
    AllMoneyV2,
    UploadAttachment,
}

pub(crate) const PAYMENT_OPS: &[Op] = &[
    Op::Create,
    Op::CreateV2,
    Op::Get,
    Op::Cancel,
    Op::Methods,
    Op::Validate,
    Op::List,
    Op::PaymentStream,
];
pub(crate) const WEBHOOK_OPS: &[Op] = &[
    Op::WebhookCreate,
    Op::WebhookList,
    Op::WebhookGet,
    Op::WebhookUpdate,
    Op::WebhookDelete,
    Op::WebhookTest,
    Op::WebhookEnable,
    Op::WebhookDisable,
    Op::WebhookEvents,
    Op::WebhookRetry,
    Op::WebhookEventStream,
];
pub(crate) const BALANCE_OPS: &[Op] = &[
    Op::BalanceGet,
    Op::BalanceAll,
    Op::MerchantBalance,
    Op::MerchantAll,
    Op::BalanceGetV2,
    Op::BalanceAllV2,
    Op::Money,
    Op::AllMoney,
    Op::MoneyV2,
    Op::AllMoneyV2,
];
pub(crate) const TICKET_OPS: &[Op] = &[
    Op::TicketCreate,
    Op::TicketList,
    Op::TicketGet,
    Op::TicketClose,
    Op::TicketReopen,
    Op::TicketComment,
    Op::TicketComments,
    Op::TicketUploadUrl,
    Op::TicketStream,
    Op::CommentStream,
    Op::UploadAttachment,
];
pub(crate) const DOWNLOAD_OPS: &[Op] = &[Op::DownloadAttachment, Op::DownloadCommentAttachment];

/// The 33 API operations (the groups above, without the helpers).
pub(crate) const API_OPS: usize = 33;

pub(crate) fn is_helper(op: Op) -> bool {
    matches!(
        op,
        Op::PaymentStream
            | Op::WebhookEventStream
            | Op::TicketStream
            | Op::CommentStream
            | Op::Money
            | Op::AllMoney
            | Op::MoneyV2
            | Op::AllMoneyV2
            | Op::UploadAttachment
    )
}

/// Streams stop after this many items: a garbage server could describe an endless list.
pub(crate) const STREAM_CAP: usize = 1_000;

pub(crate) async fn collect_capped<T: std::fmt::Debug>(
    stream: impl futures::Stream<Item = luxcore_ext::error::Result<T>>,
) -> luxcore_ext::error::Result<String> {
    let items: Vec<_> = stream.take(STREAM_CAP).collect().await;
    let mut count = 0usize;
    for item in items {
        item?;
        count += 1;
    }
    Ok(format!("{count} items"))
}

/// Runs `op` once; the `Ok` value is formatted (exercising `Debug` of what was decoded).
pub(crate) async fn run_op(clients: &Clients, op: Op) -> luxcore_ext::error::Result<String> {
    let client = &clients.v1;
    let (payments_v2, balance_v2) = (clients.v2.payments(), clients.v2.balance());
    let payments = client.payments();
    let webhooks = client.webhook_endpoints();
    let balance = client.balance();
    let tickets = client.tickets();
    let deposit = || {
        PaymentRequest::deposit(
            Money::new(1_000, Currency::MXN),
            PaymentMethod::Spei,
            "garbage_ref",
        )
    };
    let out = match op {
        Op::Create => format!("{:?}", payments.create(deposit().build()?).await?),
        Op::CreateV2 => format!("{:?}", payments_v2.create(deposit().build()?).await?),
        Op::Get => format!("{:?}", payments.get("pay_1").await?),
        Op::Cancel => format!("{:?}", payments.cancel("pay_1").await?),
        Op::Methods => format!(
            "{:?}",
            payments
                .methods(Some(Currency::MXN), Some(PaymentType::Deposit))
                .await?
        ),
        Op::Validate => format!(
            "{:?}",
            payments
                .validate(PaymentMethodValidateRequest {
                    amount: std::num::NonZeroU64::new(1_000),
                    currency: Currency::MXN,
                    method: PaymentMethod::Spei,
                    type_: Some(PaymentType::Deposit),
                })
                .await?
        ),
        Op::List => format!("{:?}", payments.list(PaymentFilter::new()).await?),
        Op::WebhookCreate => format!(
            "{:?}",
            webhooks
                .create(WebhookCreateRequest {
                    events: vec!["payment.completed".into()],
                    merchant_id: None,
                    signature_algorithm: None,
                    url: "https://example.com/hook".into(),
                })
                .await?
        ),
        Op::WebhookList => format!("{:?}", webhooks.list(WebhookFilter::new()).await?),
        Op::WebhookGet => format!("{:?}", webhooks.get("wh_1").await?),
        Op::WebhookUpdate => format!(
            "{:?}",
            webhooks
                .update(
                    "wh_1",
                    WebhookUpdateRequest {
                        url: Some("https://example.com/other".into()),
                        ..WebhookUpdateRequest::default()
                    },
                )
                .await?
        ),
        Op::WebhookDelete => format!("{:?}", webhooks.delete("wh_1").await?),
        Op::WebhookTest => format!("{:?}", webhooks.test("wh_1", None).await?),
        Op::WebhookEnable => format!("{:?}", webhooks.enable("wh_1").await?),
        Op::WebhookDisable => format!("{:?}", webhooks.disable("wh_1").await?),
        Op::WebhookEvents => format!(
            "{:?}",
            webhooks
                .list_events("wh_1", WebhookEventFilter::new())
                .await?
        ),
        Op::WebhookRetry => format!("{:?}", webhooks.retry("wh_1", vec!["evt_1".into()]).await?),
        Op::BalanceGet => format!("{:?}", balance.get(Currency::MXN, None).await?),
        Op::BalanceAll => format!("{:?}", balance.all().await?),
        Op::MerchantBalance => format!("{:?}", balance.merchant(123, Currency::MXN, None).await?),
        Op::MerchantAll => format!("{:?}", balance.merchant_all(123).await?),
        Op::BalanceGetV2 => format!("{:?}", balance_v2.get(Currency::MXN, None).await?),
        Op::BalanceAllV2 => format!("{:?}", balance_v2.all().await?),
        Op::TicketCreate => format!(
            "{:?}",
            tickets
                .create(TicketRequest::new("Deposit missing").build()?)
                .await?
        ),
        Op::TicketList => format!("{:?}", tickets.list(TicketFilter::new()).await?),
        Op::TicketGet => format!("{:?}", tickets.get("tkt_1").await?),
        Op::TicketClose => format!("{:?}", tickets.close("tkt_1").await?),
        Op::TicketReopen => format!("{:?}", tickets.reopen("tkt_1").await?),
        Op::TicketComment => format!(
            "{:?}",
            tickets
                .add_comment(
                    "tkt_1",
                    TicketCommentCreateRequest {
                        attachment_ids: vec!["att_1".into()],
                        content: "hello".try_into().expect("non-empty"),
                    },
                )
                .await?
        ),
        Op::TicketComments => format!("{:?}", tickets.list_comments("tkt_1").await?),
        Op::TicketUploadUrl => format!(
            "{:?}",
            tickets
                .upload_url(
                    "tkt_1",
                    UploadUrlRequest {
                        comment_id: None,
                        content_type: "image/png".try_into().expect("non-empty"),
                        file_name: "a.png".try_into().expect("non-empty"),
                        size: Some(4),
                    },
                )
                .await?
        ),
        Op::DownloadAttachment => {
            format!("{:?}", tickets.download_attachment("tkt_1", "att_1").await?)
        }
        Op::DownloadCommentAttachment => format!(
            "{:?}",
            tickets
                .download_comment_attachment("tkt_1", "cmt_1", "att_1")
                .await?
        ),
        Op::PaymentStream => collect_capped(payments.stream(PaymentFilter::new())).await?,
        Op::WebhookEventStream => {
            collect_capped(webhooks.stream_events("wh_1", WebhookEventFilter::new())).await?
        }
        Op::TicketStream => collect_capped(tickets.stream(TicketFilter::new())).await?,
        Op::CommentStream => collect_capped(tickets.stream_comments("tkt_1")).await?,
        Op::Money => format!("{:?}", balance.money(Currency::MXN).await?),
        Op::AllMoney => format!("{:?}", balance.all_money().await?),
        Op::MoneyV2 => format!("{:?}", balance_v2.money(Currency::MXN).await?),
        Op::AllMoneyV2 => format!("{:?}", balance_v2.all_money().await?),
        Op::UploadAttachment => format!(
            "{:?}",
            tickets
                .upload_attachment(
                    "tkt_1",
                    "a.png",
                    "image/png",
                    Bytes::from_static(b"\x89PNG")
                )
                .await?
        ),
    };
    Ok(out)
}

/// The outcome of one call must agree with what was served.
pub(crate) fn check_outcome(
    op: Op,
    answer: &Answer,
    outcome: Result<luxcore_ext::error::Result<String>, tokio::time::error::Elapsed>,
) -> Result<(), TestCaseError> {
    let Ok(result) = outcome else {
        return Err(TestCaseError::fail(format!(
            "{op:?} hung (> {HANG_LIMIT:?}) on HTTP {}",
            answer.status
        )));
    };
    let served = answer.status;
    match result {
        Ok(_) => prop_assert!(
            (200..300).contains(&served),
            "{op:?} returned Ok for HTTP {served}"
        ),
        Err(err) => {
            prop_assert!(!err.to_string().is_empty());
            match &err {
                Error::Api { status, .. } => {
                    prop_assert!(*status == served && served >= 400, "{op:?}: {err:?}");
                }
                Error::RateLimited { .. } => prop_assert_eq!(served, 429, "{:?}: {:?}", op, err),
                Error::Decode {
                    status: Some(status),
                    ..
                } => prop_assert_eq!(*status, served, "{:?}: {:?}", op, err),
                // Only the upload URL taken from a 2xx body is decoded without a status.
                Error::Decode { status: None, .. } => prop_assert!(
                    op == Op::UploadAttachment && (200..300).contains(&served),
                    "{op:?}: {err:?}"
                ),
                // A creation answered 2xx that does not decode: the payment may exist.
                Error::CreatedButUnreadable { status, .. } => prop_assert!(
                    matches!(op, Op::Create | Op::CreateV2)
                        && *status == served
                        && (200..300).contains(&served),
                    "{op:?}: {err:?}"
                ),
                // A creation answered with another payment for the reference (not 201).
                Error::ReferenceConflict { .. } => prop_assert!(
                    matches!(op, Op::Create | Op::CreateV2)
                        && (200..300).contains(&served)
                        && served != 201,
                    "{op:?}: {err:?}"
                ),
                // The garbage server always answers at once and completely.
                other => {
                    return Err(TestCaseError::fail(format!(
                        "{op:?}: unexpected error kind for HTTP {served}: {other:?}"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The operation whose recorded body `op` decodes (helpers use an API operation's body).
pub(crate) fn recorded_as(op: Op) -> Op {
    match op {
        Op::PaymentStream => Op::List,
        Op::WebhookEventStream => Op::WebhookEvents,
        Op::TicketStream => Op::TicketList,
        Op::CommentStream => Op::TicketComments,
        Op::Money => Op::BalanceGet,
        Op::MoneyV2 => Op::BalanceGetV2,
        Op::AllMoney => Op::BalanceAll,
        Op::AllMoneyV2 => Op::BalanceAllV2,
        Op::UploadAttachment => Op::TicketUploadUrl,
        other => other,
    }
}
