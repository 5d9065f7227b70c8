//! Typed webhook events parsed from the raw delivery body.
//!
//! Two shapes are accepted:
//!
//! * the envelope (current docs; keys after `merchant_id` are ASSUMED):
//!   `{"id":"evt_…","created_at":"RFC 3339","merchant_id":123,"event":"payment.completed","data":{…}}`,
//!   with the event name under `event` or `type` and the payload under `data` or `payment`;
//! * the legacy flat shape of the first docs: `{"event":"payment.completed","payment":{…}}`.
//!
//! Unknown event names parse to [`EventKind::Unknown`] so new events never break a
//! receiver. Malformed bodies are a typed [`EventParseError`], never a panic. Verify the
//! signature on the raw bytes **before** parsing (see [`super::verify_event`]).

use chrono::{DateTime, Utc};
use luxcore_api::enums::WebhookEventType;
use luxcore_api::types;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A parsed webhook event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    id: Option<String>,
    name: String,
    created_at: Option<DateTime<Utc>>,
    merchant_id: Option<i64>,
    legacy: bool,
    kind: EventKind,
}

/// What happened, with the typed payload of every documented event.
///
/// Payment payloads are boxed to keep the enum small.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// `payment.created`: a payment was initialised.
    PaymentCreated(Box<types::Payment>),
    /// `payment.processing` (legacy event list only).
    PaymentProcessing(Box<types::Payment>),
    /// `payment.completed`.
    PaymentCompleted(Box<types::Payment>),
    /// `payment.failed`.
    PaymentFailed(Box<types::Payment>),
    /// `payment.cancelled`.
    PaymentCancelled(Box<types::Payment>),
    /// `payment.refunded`.
    PaymentRefunded(Box<types::Payment>),
    /// `payout.created` (legacy; merged into `payment.*` since).
    PayoutCreated(Box<types::Payment>),
    /// `payout.completed` (legacy).
    PayoutCompleted(Box<types::Payment>),
    /// `payout.failed` (legacy).
    PayoutFailed(Box<types::Payment>),
    /// `balance.updated`: the balance entry after the change.
    BalanceUpdated(types::BalanceEntry),
    /// `merchant.updated`: merchant configuration changed (payload undocumented, raw JSON).
    MerchantUpdated(Value),
    /// `ticket.created`.
    TicketCreated(Box<types::Ticket>),
    /// `ticket.updated`: status changed (e.g. reopened) or a merchant comment.
    TicketUpdated(Box<types::Ticket>),
    /// `ticket.comment_added`: support replied. The payload shape is undocumented: the
    /// ticket and/or the comment are filled in when recognisable, `raw` is always kept.
    TicketCommentAdded {
        /// The ticket, if the payload is (or contains under `ticket`) a ticket.
        ticket: Option<Box<types::Ticket>>,
        /// The comment, if the payload is (or contains under `comment`) a comment.
        comment: Option<Box<types::TicketComment>>,
        /// The payload as received.
        raw: Value,
    },
    /// `ticket.resolved` (reserved in the docs).
    TicketResolved(Box<types::Ticket>),
    /// `ticket.closed`.
    TicketClosed(Box<types::Ticket>),
    /// `webhook.test`: a test delivery (payload as received, `Null` when absent).
    WebhookTest(Value),
    /// An event this SDK version does not know.
    Unknown {
        /// The event name as sent.
        kind: String,
        /// The whole delivery body.
        raw: Value,
    },
}

/// Why a webhook body could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventParseError {
    /// The body is not valid JSON.
    #[error("webhook body is not valid JSON: {0}")]
    Json(String),
    /// The body is JSON but not an object.
    #[error("webhook body is not a JSON object")]
    NotAnObject,
    /// Neither `event` nor `type` holds an event name.
    #[error("webhook body has no event name (`event` or `type`)")]
    MissingEventName,
    /// A known event without its payload (`data` or `payment`).
    #[error("webhook event {event} has no payload (`data` or `payment`)")]
    MissingPayload {
        /// The event name.
        event: String,
    },
    /// A known event whose payload does not have the documented shape.
    #[error("webhook event {event} has an invalid payload: {message}")]
    InvalidPayload {
        /// The event name.
        event: String,
        /// What was wrong.
        message: String,
    },
}

impl Event {
    /// Parses a delivery body (the raw bytes, after signature verification).
    pub fn parse(raw_body: &[u8]) -> Result<Event, EventParseError> {
        let value: Value =
            serde_json::from_slice(raw_body).map_err(|e| EventParseError::Json(e.to_string()))?;
        Self::from_value(value)
    }

    /// Builds an event from an already parsed JSON body.
    pub fn from_value(value: Value) -> Result<Event, EventParseError> {
        let Value::Object(mut body) = value else {
            return Err(EventParseError::NotAnObject);
        };
        let name = ["event", "type"]
            .iter()
            .find_map(|key| body.get(*key).and_then(Value::as_str))
            .filter(|name| !name.trim().is_empty())
            .ok_or(EventParseError::MissingEventName)?
            .to_owned();
        let id = body.get("id").and_then(Value::as_str).map(str::to_owned);
        let created_at = body
            .get("created_at")
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        let merchant_id = body.get("merchant_id").and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        });
        let has_data = body.get("data").is_some_and(|d| !d.is_null());
        let legacy = id.is_none() && !has_data && body.contains_key("payment");
        let payload_key = if has_data { "data" } else { "payment" };
        let payload = body.remove(payload_key);
        let kind = EventKind::parse(&name, payload_key, payload, body)?;
        Ok(Event {
            id,
            name,
            created_at,
            merchant_id,
            legacy,
            kind,
        })
    }

    /// The event id (`evt_…`); `None` for legacy flat deliveries, which carry none.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The event name as sent, e.g. `payment.completed`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The event name as the API's open enum (legacy names are `Other`).
    pub fn event_type(&self) -> WebhookEventType {
        WebhookEventType::from(self.name.as_str())
    }

    /// When the event happened; `None` when absent or not RFC 3339.
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        self.created_at
    }

    /// The merchant the event belongs to (a number, or a numeric string in old payloads).
    pub fn merchant_id(&self) -> Option<i64> {
        self.merchant_id
    }

    /// `true` for the legacy flat `{event, payment}` shape.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    /// The typed payload.
    pub fn kind(&self) -> &EventKind {
        &self.kind
    }

    /// Consumes the event, returning the typed payload.
    pub fn into_kind(self) -> EventKind {
        self.kind
    }

    /// The payment of a `payment.*` / `payout.*` event.
    pub fn payment(&self) -> Option<&types::Payment> {
        match &self.kind {
            EventKind::PaymentCreated(p)
            | EventKind::PaymentProcessing(p)
            | EventKind::PaymentCompleted(p)
            | EventKind::PaymentFailed(p)
            | EventKind::PaymentCancelled(p)
            | EventKind::PaymentRefunded(p)
            | EventKind::PayoutCreated(p)
            | EventKind::PayoutCompleted(p)
            | EventKind::PayoutFailed(p) => Some(p),
            _ => None,
        }
    }

    /// The payment id (`id`, else `transaction_id`) of a payment event.
    pub fn payment_id(&self) -> Option<&str> {
        let payment = self.payment()?;
        payment.id.as_deref().or(payment.transaction_id.as_deref())
    }

    /// The payment's `status_version` (rises by one per status change), if present.
    pub fn status_version(&self) -> Option<i64> {
        self.payment()?.status_version
    }
}

impl EventKind {
    /// `payload` was removed from `envelope` under `payload_key` (`data` or `payment`).
    fn parse(
        name: &str,
        payload_key: &str,
        payload: Option<Value>,
        mut envelope: Map<String, Value>,
    ) -> Result<EventKind, EventParseError> {
        let present = |payload: Option<Value>| payload.filter(|p| !p.is_null());
        let kind = match name {
            "payment.created" => Self::PaymentCreated(payment(name, present(payload))?),
            "payment.processing" => Self::PaymentProcessing(payment(name, present(payload))?),
            "payment.completed" => Self::PaymentCompleted(payment(name, present(payload))?),
            "payment.failed" => Self::PaymentFailed(payment(name, present(payload))?),
            "payment.cancelled" => Self::PaymentCancelled(payment(name, present(payload))?),
            "payment.refunded" => Self::PaymentRefunded(payment(name, present(payload))?),
            "payout.created" => Self::PayoutCreated(payment(name, present(payload))?),
            "payout.completed" => Self::PayoutCompleted(payment(name, present(payload))?),
            "payout.failed" => Self::PayoutFailed(payment(name, present(payload))?),
            "balance.updated" => {
                Self::BalanceUpdated(typed(name, required(name, present(payload))?)?)
            }
            "merchant.updated" => Self::MerchantUpdated(payload.unwrap_or(Value::Null)),
            "ticket.created" => Self::TicketCreated(ticket(name, present(payload))?),
            "ticket.updated" => Self::TicketUpdated(ticket(name, present(payload))?),
            "ticket.resolved" => Self::TicketResolved(ticket(name, present(payload))?),
            "ticket.closed" => Self::TicketClosed(ticket(name, present(payload))?),
            "ticket.comment_added" => comment_added(name, present(payload))?,
            "webhook.test" => Self::WebhookTest(payload.unwrap_or(Value::Null)),
            _ => {
                // Unknown: hand back the whole body as received.
                if let Some(payload) = payload {
                    envelope.insert(payload_key.to_owned(), payload);
                }
                Self::Unknown {
                    kind: name.to_owned(),
                    raw: Value::Object(envelope),
                }
            }
        };
        Ok(kind)
    }
}

fn required(name: &str, payload: Option<Value>) -> Result<Value, EventParseError> {
    payload.ok_or_else(|| EventParseError::MissingPayload {
        event: name.to_owned(),
    })
}

fn typed<T: DeserializeOwned>(name: &str, value: Value) -> Result<T, EventParseError> {
    serde_json::from_value(value).map_err(|e| EventParseError::InvalidPayload {
        event: name.to_owned(),
        message: e.to_string(),
    })
}

/// Takes `value[key]` when the payload wraps the object (`{"payment": {…}}`).
fn unwrap_key(value: Value, key: &str) -> Value {
    match value {
        Value::Object(mut map) if map.len() == 1 && map.contains_key(key) => {
            map.remove(key).unwrap_or(Value::Null)
        }
        other => other,
    }
}

fn payment(name: &str, payload: Option<Value>) -> Result<Box<types::Payment>, EventParseError> {
    let value = unwrap_key(required(name, payload)?, "payment");
    typed(name, value).map(Box::new)
}

fn ticket(name: &str, payload: Option<Value>) -> Result<Box<types::Ticket>, EventParseError> {
    let value = unwrap_key(required(name, payload)?, "ticket");
    typed(name, value).map(Box::new)
}

fn comment_added(name: &str, payload: Option<Value>) -> Result<EventKind, EventParseError> {
    let raw = required(name, payload)?;
    let field = |key: &str| raw.get(key).filter(|v| v.is_object()).cloned();
    let (ticket, comment) = match (field("ticket"), field("comment")) {
        (None, None) => (
            serde_json::from_value::<types::Ticket>(raw.clone()).ok(),
            serde_json::from_value::<types::TicketComment>(raw.clone()).ok(),
        ),
        (ticket, comment) => (
            ticket.and_then(|t| serde_json::from_value(t).ok()),
            comment.and_then(|c| serde_json::from_value(c).ok()),
        ),
    };
    Ok(EventKind::TicketCommentAdded {
        ticket: ticket.map(Box::new),
        comment: comment.map(Box::new),
        raw,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn payment_json(status: &str, version: i64) -> Value {
        json!({
            "id": "pay_1234567890_abcdefgh", "transaction_id": "pay_1234567890_abcdefgh",
            "status": status, "amount": 150000, "currency": "ARS", "type": "deposit",
            "method": "bank_transfer", "fee": 6750, "net_amount": 143250,
            "merchant_id": 123, "status_version": version,
            "created_at": "2025-01-21T10:30:00Z"
        })
    }

    fn envelope(name: &str, data: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "id": "evt_abc123def456", "event": name, "created_at": "2025-01-21T10:35:00Z",
            "merchant_id": 123, "data": data
        }))
        .unwrap()
    }

    #[test]
    fn envelope_payment_events() {
        for (name, status) in [
            ("payment.created", "processing"),
            ("payment.completed", "completed"),
            ("payment.failed", "failed"),
            ("payment.cancelled", "cancelled"),
            ("payment.refunded", "refunded"),
        ] {
            let event = Event::parse(&envelope(name, payment_json(status, 2))).unwrap();
            assert_eq!(event.id(), Some("evt_abc123def456"));
            assert_eq!(event.name(), name);
            assert_eq!(event.event_type().as_str(), name);
            assert_eq!(event.merchant_id(), Some(123));
            assert_eq!(
                event.created_at().unwrap().to_rfc3339(),
                "2025-01-21T10:35:00+00:00"
            );
            assert!(!event.is_legacy());
            assert_eq!(event.payment_id(), Some("pay_1234567890_abcdefgh"));
            assert_eq!(event.status_version(), Some(2));
            assert_eq!(event.payment().unwrap().status.as_str(), status);
        }
        let event =
            Event::parse(&envelope("payment.completed", payment_json("completed", 3))).unwrap();
        assert!(matches!(event.kind(), EventKind::PaymentCompleted(p) if p.amount == 150000));
    }

    #[test]
    fn type_key_and_payment_key() {
        let body = json!({
            "id": "evt_1", "type": "payment.failed", "created_at": "2025-01-21T10:35:00Z",
            "merchant_id": "123", "payment": payment_json("failed", 2)
        });
        let event = Event::from_value(body).unwrap();
        assert_eq!(event.name(), "payment.failed");
        assert_eq!(event.merchant_id(), Some(123));
        assert!(!event.is_legacy());
        assert!(matches!(event.kind(), EventKind::PaymentFailed(_)));
        // `data` wrapping `{payment: {...}}` is unwrapped.
        let event = Event::parse(&envelope(
            "payment.created",
            json!({ "payment": payment_json("processing", 1) }),
        ))
        .unwrap();
        assert_eq!(event.status_version(), Some(1));
    }

    #[test]
    fn legacy_flat_shape() {
        let body = br#"{"event":"payment.completed","payment":{"id":"pay_1234567890_abcdefgh",
            "status":"completed","amount":100050,"currency":"ARS","merchant_reference":"order_123456",
            "method":"bank_transfer","type":"deposit","fee":250,"net_amount":99800,
            "completed_at":"2025-01-21T10:35:00Z"}}"#;
        let event = Event::parse(body).unwrap();
        assert!(event.is_legacy());
        assert_eq!(event.id(), None);
        assert_eq!(event.status_version(), None);
        assert_eq!(event.payment().unwrap().net_amount, Some(99800));
        for name in [
            "payout.created",
            "payout.completed",
            "payout.failed",
            "payment.processing",
        ] {
            let body = json!({"event": name, "payment": payment_json("processing", 1)});
            let event = Event::from_value(body).unwrap();
            assert!(event.payment().is_some(), "{name}");
            assert_eq!(event.event_type(), WebhookEventType::Other(name.to_owned()));
        }
    }

    #[test]
    fn other_documented_events() {
        let entry = json!({"currency": "ARS", "balance_type": "main", "balance_amount": "1500000",
            "available_amount": "1200000", "frozen_amount": "300000"});
        let event = Event::parse(&envelope("balance.updated", entry)).unwrap();
        assert!(
            matches!(event.kind(), EventKind::BalanceUpdated(b) if b.available_amount == "1200000")
        );
        assert_eq!(event.payment(), None);
        assert_eq!(event.status_version(), None);

        let ticket = json!({"ticket_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
            "title": "Missing deposit", "status": "open", "category": "payment_issue"});
        for name in [
            "ticket.created",
            "ticket.updated",
            "ticket.resolved",
            "ticket.closed",
        ] {
            let event = Event::parse(&envelope(name, ticket.clone())).unwrap();
            let parsed = match event.kind() {
                EventKind::TicketCreated(t)
                | EventKind::TicketUpdated(t)
                | EventKind::TicketResolved(t)
                | EventKind::TicketClosed(t) => t,
                other => panic!("{name}: {other:?}"),
            };
            assert_eq!(parsed.title, "Missing deposit");
        }

        let comment = json!({"id": "cmt_1", "content": "We are on it", "author_type": "support"});
        let shapes = [
            (ticket.clone(), true, false),
            (comment.clone(), false, true),
            (json!({"ticket": ticket, "comment": comment}), true, true),
            (json!({"something": "else"}), false, false),
        ];
        for (payload, has_ticket, has_comment) in shapes {
            let event = Event::parse(&envelope("ticket.comment_added", payload.clone())).unwrap();
            let EventKind::TicketCommentAdded {
                ticket,
                comment,
                raw,
            } = event.kind()
            else {
                panic!("{:?}", event.kind());
            };
            assert_eq!(ticket.is_some(), has_ticket, "{payload}");
            assert_eq!(comment.is_some(), has_comment, "{payload}");
            assert_eq!(raw, &payload);
        }

        let event = Event::parse(&envelope("merchant.updated", json!({"name": "x"}))).unwrap();
        assert_eq!(
            event.kind(),
            &EventKind::MerchantUpdated(json!({"name": "x"}))
        );
        let event = Event::parse(br#"{"id":"evt_t","event":"webhook.test"}"#).unwrap();
        assert_eq!(event.kind(), &EventKind::WebhookTest(Value::Null));
    }

    #[test]
    fn unknown_events_kept() {
        let body = envelope("payment.disputed", json!({"whatever": [1, 2]}));
        let event = Event::parse(&body).unwrap();
        let expected: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            event.kind(),
            &EventKind::Unknown {
                kind: "payment.disputed".to_owned(),
                raw: expected
            }
        );
        assert_eq!(event.id(), Some("evt_abc123def456"));
        let legacy = json!({"event": "payout.reversed", "payment": {"x": 1}});
        let event = Event::from_value(legacy.clone()).unwrap();
        assert_eq!(
            event.into_kind(),
            EventKind::Unknown {
                kind: "payout.reversed".to_owned(),
                raw: legacy
            }
        );
    }

    #[test]
    fn bad_input_is_typed_error() {
        assert!(matches!(Event::parse(b""), Err(EventParseError::Json(_))));
        assert!(matches!(
            Event::parse(b"{\"event\":"),
            Err(EventParseError::Json(_))
        ));
        assert!(matches!(
            Event::parse(b"\xff\xfe"),
            Err(EventParseError::Json(_))
        ));
        assert_eq!(Event::parse(b"[1,2]"), Err(EventParseError::NotAnObject));
        assert_eq!(Event::parse(b"null"), Err(EventParseError::NotAnObject));
        assert_eq!(Event::parse(b"{}"), Err(EventParseError::MissingEventName));
        assert_eq!(
            Event::parse(br#"{"id":"evt_1","event":" ","data":{}}"#),
            Err(EventParseError::MissingEventName)
        );
        assert_eq!(
            Event::parse(br#"{"event": 5, "data": {}}"#),
            Err(EventParseError::MissingEventName)
        );
        assert_eq!(
            Event::parse(br#"{"id":"evt_1","event":"payment.completed"}"#),
            Err(EventParseError::MissingPayload {
                event: "payment.completed".to_owned()
            })
        );
        assert_eq!(
            Event::parse(br#"{"id":"evt_1","event":"payment.completed","data":null}"#),
            Err(EventParseError::MissingPayload {
                event: "payment.completed".to_owned()
            })
        );
        assert!(matches!(
            Event::parse(&envelope("payment.completed", json!({"amount": "lots"}))),
            Err(EventParseError::InvalidPayload { .. })
        ));
        assert!(matches!(
            Event::parse(&envelope("balance.updated", json!([]))),
            Err(EventParseError::InvalidPayload { .. })
        ));
        // Deep nesting hits serde_json's recursion limit: an error, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            Event::parse(deep.as_bytes()),
            Err(EventParseError::Json(_))
        ));
        // Bad created_at is tolerated (None), the event still parses.
        let body = json!({"id": "evt_1", "event": "webhook.test", "created_at": "yesterday"});
        assert_eq!(Event::from_value(body).unwrap().created_at(), None);
    }
}
