//! The mock's state: payments, balances, webhooks (with their event logs) and
//! tickets. One `Store` lives behind one mutex, so every operation is atomic.

pub(crate) mod balances;
pub(crate) mod payments;
pub(crate) mod tickets;
pub(crate) mod webhooks;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use luxcore_api::enums::WebhookEventType;
use serde_json::Value;

pub(crate) use balances::Funds;
pub(crate) use payments::PaymentRecord;
pub(crate) use tickets::{AttachmentRecord, TicketRecord};
pub(crate) use webhooks::{Job, WebhookRecord};

use crate::methods::CURRENCIES;

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
}

impl Store {
    pub(crate) fn new(merchant_id: u64, base_url: String) -> Self {
        Self {
            merchant_id,
            base_url,
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

    /// Back to the initial (empty) state.
    pub(crate) fn reset(&mut self) {
        *self = Self::new(self.merchant_id, std::mem::take(&mut self.base_url));
    }

    /// The merchant id as shown in bodies.
    pub(crate) fn merchant_id_i64(&self) -> i64 {
        i64::try_from(self.merchant_id).unwrap_or(i64::MAX)
    }
}
