//! Typed webhook events parsed from the raw delivery body.
//!
//! Two shapes are accepted:
//!
//! * the envelope (current docs; keys after `merchant_id` are ASSUMED):
//!   `{"id":"evt_…","created_at":"RFC 3339","merchant_id":123,"event":"payment.completed","data":{…}}`,
//!   with the event name under `event` or `type` and the payload under `data` or `payment`;
//! * the legacy flat shape of the first docs: `{"event":"payment.completed","payment":{…}}`.
//!
//! **A signed JSON object with an event name always parses.** Unknown event names parse to
//! [`EventKind::Unknown`] so new events never break a receiver; a known event whose payload
//! does not fit the generated type (a field renamed, missing or of another type — the
//! spec is a reconstruction) parses to [`EventKind::Unrecognized`] with the payload and
//! the decode error, so the handler decides instead of the event being refused. Only a
//! body that is not JSON, not an object, or has no event name is an [`EventParseError`].
//! [`Event::raw`] always gives the delivery's JSON, and an [`Event`] serializes as that
//! JSON (and deserializes by parsing it again), so it can be queued and read back.
//!
//! The payment id and `status_version` that de-duplication and ordering use are read
//! leniently from the JSON (see [`Event::payment_id`]), whatever variant the payload
//! parsed to. Verify the signature on the raw bytes **before** parsing (see
//! [`super::verify_event`]).

use chrono::{DateTime, Utc};
use luxcore_api::enums::WebhookEventType;
use luxcore_api::types;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::base::lenient;

/// A parsed webhook event: the delivery's JSON, its envelope fields and the typed payload.
///
/// `Serialize` writes the delivery's JSON unchanged ([`raw`](Self::raw)); `Deserialize`
/// parses it again, so an event read back from a queue equals the one stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    raw: Value,
    id: Option<String>,
    name: String,
    created_at: Option<DateTime<Utc>>,
    merchant_id: Option<i64>,
    legacy: bool,
    payment_id: Option<String>,
    status_version: Option<i64>,
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
    /// A **known** event whose payload is missing or does not fit the documented type
    /// (after the lenient forms of [`Event`]'s module docs). The event is still genuine
    /// (it was signed) and, for payment events, still de-duplicated and ordered by its
    /// payment id and `status_version` when those can be read: decide in the handler
    /// (read what you need from `payload`, or fail to have it redelivered).
    Unrecognized {
        /// The event name as sent, e.g. `payment.completed`.
        kind: String,
        /// The payload as received (`data` or `payment`; `Null` when absent).
        payload: Value,
        /// Why it did not decode (serde's message, with the field where it knows it).
        error: String,
    },
    /// An event this SDK version does not know.
    Unknown {
        /// The event name as sent.
        kind: String,
        /// The whole delivery body.
        raw: Value,
    },
}

/// Why a webhook body could not be parsed: it is not JSON, not an object, or has no
/// event name. (A known event with an unexpected payload is not an error: see
/// [`EventKind::Unrecognized`].)
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
}

/// Event names whose payload is a payment.
const PAYMENT_EVENTS: [&str; 9] = [
    "payment.created",
    "payment.processing",
    "payment.completed",
    "payment.failed",
    "payment.cancelled",
    "payment.refunded",
    "payout.created",
    "payout.completed",
    "payout.failed",
];

impl Event {
    /// Parses a delivery body (the raw bytes, after signature verification).
    pub fn parse(raw_body: &[u8]) -> Result<Event, EventParseError> {
        let value: Value =
            serde_json::from_slice(raw_body).map_err(|e| EventParseError::Json(e.to_string()))?;
        Self::from_value(value)
    }

    /// Builds an event from an already parsed JSON body.
    pub fn from_value(raw: Value) -> Result<Event, EventParseError> {
        let Value::Object(body) = &raw else {
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
        let merchant_id = body.get("merchant_id").and_then(lenient::integer);
        let has_data = body.get("data").is_some_and(|d| !d.is_null());
        let legacy = id.is_none() && !has_data && body.contains_key("payment");
        let payload_key = if has_data { "data" } else { "payment" };
        let payload = body.get(payload_key);
        let (payment_id, status_version) = if PAYMENT_EVENTS.contains(&name.as_str()) {
            payment_ref(body, payload)
        } else {
            (None, None)
        };
        let kind = EventKind::parse(&name, payload, body);
        Ok(Event {
            id,
            name,
            created_at,
            merchant_id,
            legacy,
            payment_id,
            status_version,
            kind,
            raw,
        })
    }

    /// The delivery's JSON as received, whatever variant it parsed to.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Consumes the event, returning the delivery's JSON.
    pub fn into_raw(self) -> Value {
        self.raw
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

    /// `true` when this is a known event whose payload did not decode
    /// ([`EventKind::Unrecognized`]).
    pub fn is_unrecognized(&self) -> bool {
        matches!(self.kind, EventKind::Unrecognized { .. })
    }

    /// The typed payment of a `payment.*` / `payout.*` event (`None` when its payload did
    /// not decode: see [`payment_id`](Self::payment_id) for what is still known).
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

    /// The payment id of a `payment.*` / `payout.*` event, read from the JSON whether or
    /// not the payload decoded: the payload's `id`, else `transaction_id`, else
    /// `payment_id`, else the envelope's `payment_id` (a string, or an integer as text).
    pub fn payment_id(&self) -> Option<&str> {
        self.payment_id.as_deref()
    }

    /// The payment's `status_version` (rises by one per status change) of a payment event,
    /// read from the JSON whether or not the payload decoded: the payload's, else the
    /// envelope's, as an integer or an integer string.
    pub fn status_version(&self) -> Option<i64> {
        self.status_version
    }
}

/// The payment id and version of a payment event, from its payload (unwrapped from
/// `{"payment": {…}}`) or, failing that, its envelope.
fn payment_ref(
    envelope: &Map<String, Value>,
    payload: Option<&Value>,
) -> (Option<String>, Option<i64>) {
    let payload = payload.map(|p| unwrap_key(p, "payment"));
    let field = |key: &str| payload.and_then(|p| p.get(key));
    let id = ["id", "transaction_id", "payment_id"]
        .iter()
        .find_map(|key| field(key).and_then(lenient::identifier))
        .or_else(|| envelope.get("payment_id").and_then(lenient::identifier));
    let version = field("status_version")
        .and_then(lenient::integer)
        .or_else(|| envelope.get("status_version").and_then(lenient::integer));
    (id, version)
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(deserializer)?;
        Event::from_value(raw).map_err(serde::de::Error::custom)
    }
}

impl EventKind {
    /// `payload` is `envelope[payload_key]` (`data` or `payment`), if any.
    fn parse(name: &str, payload: Option<&Value>, envelope: &Map<String, Value>) -> EventKind {
        let present = payload.filter(|p| !p.is_null());
        let decoded = match name {
            _ if PAYMENT_EVENTS.contains(&name) => payment(name, present),
            "balance.updated" => balance_entry(present).map(Self::BalanceUpdated),
            "merchant.updated" => Ok(Self::MerchantUpdated(
                payload.cloned().unwrap_or(Value::Null),
            )),
            "ticket.created" => ticket(present).map(Self::TicketCreated),
            "ticket.updated" => ticket(present).map(Self::TicketUpdated),
            "ticket.resolved" => ticket(present).map(Self::TicketResolved),
            "ticket.closed" => ticket(present).map(Self::TicketClosed),
            "ticket.comment_added" => comment_added(present),
            "webhook.test" => Ok(Self::WebhookTest(payload.cloned().unwrap_or(Value::Null))),
            // Unknown: hand back the whole body as received.
            _ => Ok(Self::Unknown {
                kind: name.to_owned(),
                raw: Value::Object(envelope.clone()),
            }),
        };
        decoded.unwrap_or_else(|error| Self::Unrecognized {
            kind: name.to_owned(),
            payload: payload.cloned().unwrap_or(Value::Null),
            error,
        })
    }
}

fn required(payload: Option<&Value>) -> Result<&Value, String> {
    payload.ok_or_else(|| "no payload (`data` or `payment`)".to_owned())
}

fn typed<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    T::deserialize(value).map_err(|e| e.to_string())
}

/// Takes `value[key]` when the payload wraps the object (`{"payment": {…}}`).
fn unwrap_key<'a>(value: &'a Value, key: &str) -> &'a Value {
    match value {
        Value::Object(map) if map.len() == 1 => map.get(key).unwrap_or(value),
        other => other,
    }
}

fn payment(name: &str, payload: Option<&Value>) -> Result<EventKind, String> {
    let value = unwrap_key(required(payload)?, "payment");
    let mut normalized = value.clone();
    lenient::normalize_payment(&mut normalized);
    let payment = Box::new(typed::<types::Payment>(&normalized)?);
    Ok(match name {
        "payment.created" => EventKind::PaymentCreated(payment),
        "payment.processing" => EventKind::PaymentProcessing(payment),
        "payment.completed" => EventKind::PaymentCompleted(payment),
        "payment.failed" => EventKind::PaymentFailed(payment),
        "payment.cancelled" => EventKind::PaymentCancelled(payment),
        "payment.refunded" => EventKind::PaymentRefunded(payment),
        "payout.created" => EventKind::PayoutCreated(payment),
        "payout.completed" => EventKind::PayoutCompleted(payment),
        _ => EventKind::PayoutFailed(payment),
    })
}

fn balance_entry(payload: Option<&Value>) -> Result<types::BalanceEntry, String> {
    let mut normalized = required(payload)?.clone();
    lenient::normalize_balance_entry(&mut normalized);
    typed(&normalized)
}

fn ticket(payload: Option<&Value>) -> Result<Box<types::Ticket>, String> {
    typed(unwrap_key(required(payload)?, "ticket")).map(Box::new)
}

fn comment_added(payload: Option<&Value>) -> Result<EventKind, String> {
    let raw = required(payload)?.clone();
    let field = |key: &str| raw.get(key).filter(|v| v.is_object());
    let (ticket, comment) = match (field("ticket"), field("comment")) {
        (None, None) => (typed::<types::Ticket>(&raw).ok(), typed(&raw).ok()),
        (ticket, comment) => (
            ticket.and_then(|t| typed(t).ok()),
            comment.and_then(|c| typed(c).ok()),
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
    use proptest::strategy::Strategy as _;
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

    /// Issue 27: a known event whose payload is missing or of another shape is handed over,
    /// never refused; its payment id and version are still read.
    #[test]
    fn known_events_with_drifted_payloads_are_unrecognized_not_errors() {
        let cases = [
            (
                envelope("payment.completed", json!({"amount": "lots"})),
                "payment.completed",
            ),
            (
                envelope(
                    "payment.completed",
                    json!({"id": "pay_9", "amount": "1500.00",
                    "currency": "ARS", "status": "completed", "status_version": "4"}),
                ),
                "payment.completed",
            ),
            (envelope("balance.updated", json!([])), "balance.updated"),
            (
                br#"{"id":"evt_1","event":"payment.completed"}"#.to_vec(),
                "payment.completed",
            ),
            (
                br#"{"id":"evt_1","event":"payment.completed","data":null}"#.to_vec(),
                "payment.completed",
            ),
            (envelope("ticket.closed", json!(7)), "ticket.closed"),
        ];
        for (body, name) in cases {
            let event = Event::parse(&body).unwrap();
            let expected: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(event.raw(), &expected);
            assert!(event.is_unrecognized(), "{:?}", event.kind());
            let EventKind::Unrecognized {
                kind,
                payload,
                error,
            } = event.kind()
            else {
                unreachable!()
            };
            assert_eq!(kind, name);
            assert_eq!(payload, expected.get("data").unwrap_or(&Value::Null));
            assert!(!error.is_empty());
        }
        let drifted = Event::parse(&envelope(
            "payment.completed",
            json!({"id": "pay_9", "amount": "1500.00", "status_version": "4"}),
        ))
        .unwrap();
        assert_eq!(drifted.payment_id(), Some("pay_9"));
        assert_eq!(drifted.status_version(), Some(4));
        assert_eq!(drifted.payment(), None);
    }

    /// The documented alternative forms decode into the typed payload.
    #[test]
    fn documented_alternative_forms_decode() {
        let mut payment = payment_json("completed", 2);
        payment["amount"] = json!("150000");
        payment["status_version"] = json!("2");
        payment["bank_details"] = json!({"amount": 150000, "currency": "ARS"});
        let event = Event::parse(&envelope("payment.completed", payment)).unwrap();
        let typed = event.payment().expect("decoded");
        assert_eq!(typed.amount, 150000);
        assert_eq!(typed.status_version, Some(2));
        assert_eq!(
            typed
                .bank_details
                .as_ref()
                .and_then(|b| b.amount.as_deref()),
            Some("150000")
        );
        let entry = json!({"currency": "ARS", "balance_type": "main", "balance_amount": 5,
            "available_amount": "4", "frozen_amount": 1});
        let event = Event::parse(&envelope("balance.updated", entry)).unwrap();
        assert!(
            matches!(event.kind(), EventKind::BalanceUpdated(b) if b.balance_amount == "5"),
            "{:?}",
            event.kind()
        );
    }

    #[test]
    fn payment_ids_and_versions_are_read_leniently() {
        let cases = [
            (
                json!({"id": "pay_1", "status_version": 3}),
                Some("pay_1"),
                Some(3),
            ),
            (
                json!({"transaction_id": "pay_2", "status_version": "5"}),
                Some("pay_2"),
                Some(5),
            ),
            (
                json!({"payment_id": 77, "status_version": 1}),
                Some("77"),
                Some(1),
            ),
            (
                json!({"payment": {"id": "pay_3", "status_version": 2}}),
                Some("pay_3"),
                Some(2),
            ),
            (json!({"status_version": "x"}), None, None),
        ];
        for (data, id, version) in cases {
            let event = Event::parse(&envelope("payment.completed", data.clone())).unwrap();
            assert_eq!(event.payment_id(), id, "{data}");
            assert_eq!(event.status_version(), version, "{data}");
        }
        // At the envelope level.
        let body = json!({"id": "evt_1", "event": "payment.failed", "payment_id": "pay_e",
            "status_version": "6", "data": {"amount": "?"}});
        let event = Event::from_value(body).unwrap();
        assert_eq!(event.payment_id(), Some("pay_e"));
        assert_eq!(event.status_version(), Some(6));
        // Not a payment event: no payment reference, even with the same keys.
        let event = Event::parse(&envelope(
            "ticket.closed",
            json!({"id": "t", "status_version": 1}),
        ))
        .unwrap();
        assert_eq!((event.payment_id(), event.status_version()), (None, None));
    }

    /// Every variant survives `serde_json` unchanged, typed payload included.
    #[test]
    fn events_round_trip_through_serde_for_every_variant() {
        let ticket = json!({"ticket_id": "a1b2", "title": "Missing deposit", "status": "open",
            "category": "payment_issue"});
        let entry = json!({"currency": "ARS", "balance_type": "main", "balance_amount": "1",
            "available_amount": "1", "frozen_amount": "0"});
        let mut bodies: Vec<Vec<u8>> = PAYMENT_EVENTS
            .iter()
            .map(|name| envelope(name, payment_json("completed", 2)))
            .collect();
        bodies.extend([
            envelope("balance.updated", entry),
            envelope("merchant.updated", json!({"name": "x"})),
            envelope("ticket.created", ticket.clone()),
            envelope("ticket.updated", ticket.clone()),
            envelope("ticket.resolved", ticket.clone()),
            envelope("ticket.closed", ticket.clone()),
            envelope("ticket.comment_added", json!({"ticket": ticket})),
            envelope("webhook.test", json!({"hello": "world"})),
            envelope("payment.completed", json!({"amount": "lots"})),
            envelope("payment.disputed", json!({"whatever": [1, 2]})),
            br#"{"event":"payment.completed","payment":{"id":"pay_1","status":"completed","amount":1,"currency":"ARS"}}"#.to_vec(),
        ]);
        let mut variants = std::collections::BTreeSet::new();
        for body in bodies {
            let event = Event::parse(&body).unwrap();
            variants.insert(
                format!("{:?}", event.kind())
                    .split(['(', ' '])
                    .next()
                    .unwrap()
                    .to_owned(),
            );
            let stored = serde_json::to_string(&event).unwrap();
            assert_eq!(
                serde_json::from_str::<Value>(&stored).unwrap(),
                serde_json::from_slice::<Value>(&body).unwrap()
            );
            let read_back: Event = serde_json::from_str(&stored).unwrap();
            assert_eq!(read_back, event);
        }
        assert_eq!(variants.len(), 19, "{variants:?}");
        // Something that is not an event does not deserialize into one.
        assert!(serde_json::from_str::<Event>("[1]").is_err());
        assert!(serde_json::from_str::<Event>(r#"{"data": {}}"#).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Any JSON object with an event name parses, and `raw()` is the input.
        #[test]
        fn any_object_with_an_event_name_parses(
            name in proptest::prop_oneof![
                proptest::sample::select(PAYMENT_EVENTS.to_vec()).prop_map(str::to_owned),
                proptest::sample::select(vec!["balance.updated", "ticket.created",
                    "ticket.comment_added", "merchant.updated", "webhook.test"]).prop_map(str::to_owned),
                "[a-z]{1,8}\\.[a-z_]{1,10}",
            ],
            payload in json_value(),
            key in proptest::sample::select(vec!["data", "payment", "other"]),
            name_key in proptest::sample::select(vec!["event", "type"]),
            extra in proptest::collection::btree_map("[a-z_]{1,8}", json_value(), 0..4),
        ) {
            use proptest::{prop_assert, prop_assert_eq};
            let mut body: Map<String, Value> = extra.into_iter().collect();
            body.remove("event");
            body.remove("type");
            body.insert(name_key.to_owned(), Value::String(name.clone()));
            body.insert(key.to_owned(), payload);
            let body = Value::Object(body);
            let bytes = serde_json::to_vec(&body).unwrap();
            let event = Event::parse(&bytes);
            prop_assert!(event.is_ok(), "{:?}", event);
            let event = event.unwrap();
            // The input as JSON (floats compare after serde_json's own parse of the bytes).
            let input: Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(event.raw(), &input);
            prop_assert_eq!(event.name(), name.as_str());
        }
    }

    /// JSON values shaped like payment payloads: known fields with right, wrong, missing
    /// and null values, and extra fields.
    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[a-z0-9_.]{0,12}".prop_map(Value::from),
            Just(json!("150000")),
            Just(json!("1500.00")),
            Just(json!("completed")),
            Just(json!("ARS")),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        proptest::sample::select(vec![
                            "id",
                            "amount",
                            "currency",
                            "status",
                            "status_version",
                            "transaction_id",
                            "payment",
                            "ticket",
                            "comment",
                            "fee",
                            "bank_details",
                            "method"
                        ])
                        .prop_map(str::to_owned),
                        "[a-z_]{1,6}",
                    ],
                    inner,
                    0..8,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
