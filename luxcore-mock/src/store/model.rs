//! The records the mock keeps and the [`Store`] that holds them all. The operations on the
//! store live with their resource (`payments`, `balances`, `webhooks`, `tickets`), each an
//! `impl Store` block over these records.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use luxcore_api::enums::WebhookEventType;
use luxcore_api::types::{Payment, Ticket, TicketComment, Webhook, WebhookEvent};
use secrecy::SecretString;
use serde_json::Value;

use super::methods::CURRENCIES;

/// Something that happened, to be delivered to subscribed webhooks.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) kind: WebhookEventType,
    pub(crate) data: Value,
}

impl Event {
    pub(crate) fn new(kind: WebhookEventType, data: impl serde::Serialize) -> Self {
        Self {
            kind,
            data: serde_json::to_value(data).unwrap_or(Value::Null),
        }
    }
}

/// All mutable state of one mock server.
pub(crate) struct Store {
    pub(crate) merchant_id: u64,
    pub(crate) base_url: String,
    pub(crate) payments: Vec<PaymentRecord>,
    /// `created_at` of each of `payments`, in the same order (set once, at creation): lists
    /// filter and count on these without reading the ~1 KiB records.
    pub(crate) payment_created: Vec<Option<DateTime<Utc>>>,
    pub(crate) payment_index: HashMap<String, usize>,
    pub(crate) balances: BTreeMap<String, Funds>,
    pub(crate) webhooks: Vec<WebhookRecord>,
    pub(crate) tickets: Vec<TicketRecord>,
    pub(crate) attachments: Vec<AttachmentRecord>,
    /// The merchant's configuration (kept by [`Store::reset`]).
    pub(crate) rules: Rules,
}

/// The merchant's configuration the payment rules read: switched-off methods and the
/// per-transaction limit. Set once, from the server's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rules {
    /// Methods answered with `METHOD_NOT_AVAILABLE`.
    pub(crate) unavailable_methods: Vec<String>,
    /// Methods answered with `METHOD_NOT_CONFIGURED` (and left out of the methods list).
    pub(crate) unconfigured_methods: Vec<String>,
    /// Largest `amount` of one payment; above it `LIMIT_EXCEEDED`.
    pub(crate) transaction_limit: Option<i64>,
}

impl Store {
    pub(crate) fn new(merchant_id: u64, base_url: String, rules: Rules) -> Self {
        Self {
            merchant_id,
            base_url,
            rules,
            payments: Vec::new(),
            payment_created: Vec::new(),
            payment_index: HashMap::new(),
            balances: CURRENCIES
                .iter()
                .map(|c| ((*c).to_owned(), Funds::default()))
                .collect(),
            webhooks: Vec::new(),
            tickets: Vec::new(),
            attachments: Vec::new(),
        }
    }

    /// Back to the initial (empty) state; the [`Rules`] stay.
    pub(crate) fn reset(&mut self) {
        let rules = std::mem::take(&mut self.rules);
        *self = Self::new(self.merchant_id, std::mem::take(&mut self.base_url), rules);
    }

    /// The merchant id as shown in bodies.
    pub(crate) fn merchant_id_i64(&self) -> i64 {
        i64::try_from(self.merchant_id).unwrap_or(i64::MAX)
    }
}

/// Available and frozen funds of one currency (`main` balance).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Funds {
    pub(crate) available: i64,
    pub(crate) frozen: i64,
}

/// A stored payment.
#[derive(Debug, Clone)]
pub(crate) struct PaymentRecord {
    pub(crate) payment: Payment,
    pub(crate) refunded: i64,
}

/// A registered webhook. `hook.secret` is always `None` here; the secret is kept
/// apart and only returned by create.
pub(crate) struct WebhookRecord {
    pub(crate) hook: Webhook,
    pub(crate) secret: SecretString,
    pub(crate) events: Vec<EventRecord>,
}

/// One event queued for one webhook, with its delivery state.
pub(crate) struct EventRecord {
    pub(crate) event: WebhookEvent,
    pub(crate) body: Bytes,
    /// Attempts in the current round of automatic retries.
    pub(crate) round: u32,
}

/// A delivery to run in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    pub(crate) webhook_id: String,
    pub(crate) event_id: String,
}

/// A stored ticket (attachments are rendered from [`AttachmentRecord`]s).
pub(crate) struct TicketRecord {
    pub(crate) ticket: Ticket,
    pub(crate) comments: Vec<TicketComment>,
}

/// An attachment slot created by upload-url; `upload` is set once the bytes arrive.
pub(crate) struct AttachmentRecord {
    pub(crate) id: String,
    pub(crate) ticket_id: String,
    pub(crate) comment_id: Option<String>,
    pub(crate) file_name: String,
    pub(crate) content_type: String,
    pub(crate) token: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) upload: Option<Upload>,
}

/// Uploaded bytes.
pub(crate) struct Upload {
    pub(crate) bytes: Bytes,
    pub(crate) content_type: String,
    pub(crate) at: DateTime<Utc>,
}
