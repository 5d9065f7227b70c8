//! Proptest generators: response bodies (random bytes and mutations of real bodies),
//! statuses and headers, and webhook bodies, headers, secrets and schemes.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use luxcore_ext::auth::webhook::{self as signature, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use luxcore_ext::webhooks::SignatureScheme;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::server::Answer;

pub(crate) const MARKER: &str = "__luxcore_weird_value__";

/// Values of the wrong type, out of range or pathological, as raw JSON text.
pub(crate) fn weird_json() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(vec![
            "null", "true", "false", "0", "-1", "1.5", "-0.0", "1e308", "1e999", "-1e999",
            "18446744073709551616", "-9223372036854775809", "9223372036854775807",
            "9007199254740993", "123456789012345678901234567890123456789", "\"\"", "\"x\"",
            "\"-1\"", "\"1e3\"", "\"1,500.00\"", "\"\\ud800\"", "\"\\u0000\"", "[]", "{}",
            "[null]", "{\"a\":1}", "\"not-a-date\"", "\"9999-99-99T99:99:99Z\"",
        ])
        .prop_map(str::to_owned),
        1 => (1usize..300, any::<bool>()).prop_map(|(depth, arrays)| nested(depth, arrays)),
        1 => "[ -~]{0,40}".prop_map(|s| Value::String(s).to_string()),
        1 => (1usize..20_000).prop_map(|n| Value::String("x".repeat(n)).to_string()),
    ]
}

pub(crate) fn nested(depth: usize, arrays: bool) -> String {
    let (open, close) = if arrays { ("[", "]") } else { ("{\"a\":", "}") };
    format!("{}1{}", open.repeat(depth), close.repeat(depth))
}

/// JSON pointers of every node of `value`.
pub(crate) fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{prefix}/{escaped}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{prefix}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(prefix);
}

pub(crate) fn pick_pointer(value: &Value, index: &Index) -> String {
    let mut all = Vec::new();
    pointers(value, String::new(), &mut all);
    all[index.index(all.len())].clone()
}

/// `value` with the node at `index` replaced by `raw` JSON text.
pub(crate) fn replace_node(value: &Value, index: &Index, raw: &str) -> Vec<u8> {
    let mut value = value.clone();
    let pointer = pick_pointer(&value, index);
    match value.pointer_mut(&pointer) {
        Some(node) => *node = Value::String(MARKER.to_owned()),
        None => return raw.as_bytes().to_vec(),
    }
    value
        .to_string()
        .replacen(&format!("\"{MARKER}\""), raw, 1)
        .into_bytes()
}

/// `value` without the object member (or array item) at `index`.
pub(crate) fn remove_node(value: &Value, index: &Index) -> Vec<u8> {
    let mut value = value.clone();
    let pointer = pick_pointer(&value, index);
    if let Some((parent, last)) = pointer.rsplit_once('/') {
        match value.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.remove(&last.replace("~1", "/").replace("~0", "~"));
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = last.parse::<usize>()
                    && i < items.len()
                {
                    items.remove(i);
                }
            }
            _ => {}
        }
    }
    serde_json::to_vec(&value).unwrap()
}

/// A response body: random bytes, or a real body served as is, truncated, byte-flipped,
/// with one node replaced by a weird value, or one node removed; or deep nesting.
pub(crate) fn body(samples: Arc<Vec<Value>>) -> impl Strategy<Value = Vec<u8>> {
    let n = samples.len();
    let s1 = Arc::clone(&samples);
    let s2 = Arc::clone(&samples);
    let s3 = Arc::clone(&samples);
    let s4 = Arc::clone(&samples);
    let s5 = samples;
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..300),
        3 => (0..n).prop_map(move |i| serde_json::to_vec(&s1[i]).unwrap()),
        2 => (0..n, any::<Index>()).prop_map(move |(i, cut)| {
            let bytes = serde_json::to_vec(&s2[i]).unwrap();
            bytes[..cut.index(bytes.len())].to_vec()
        }),
        2 => (0..n, any::<Index>(), any::<u8>()).prop_map(move |(i, at, byte)| {
            let mut bytes = serde_json::to_vec(&s3[i]).unwrap();
            let at = at.index(bytes.len());
            bytes[at] = byte;
            bytes
        }),
        5 => (0..n, any::<Index>(), weird_json())
            .prop_map(move |(i, at, raw)| replace_node(&s4[i], &at, &raw)),
        3 => (0..n, any::<Index>()).prop_map(move |(i, at)| remove_node(&s5[i], &at)),
        1 => (1usize..100_000, any::<bool>()).prop_map(|(depth, arrays)| {
            // Unbalanced on purpose: only the opening brackets.
            let open = if arrays { "[" } else { "{\"a\":" };
            open.repeat(depth).into_bytes()
        }),
        1 => Just(Vec::new()),
    ]
}

pub(crate) fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => select(vec![
            "0", "1", "-1", "1.5", "", " ", "NaN", "soon", "18446744073709551615",
            "18446744073709551616", "99999999999999999999999", "9223372036854775807",
            "-9223372036854775808", "Thu, 01 Jan 1970 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 32 Foo 2024 25:61:61 GMT",
            "Tue, 14 Nov 2023 22:13:20 GMT", "application/json", "text/html",
            "application/json; charset=utf-16", "application/octet-stream",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        2 => "[ -~]{0,40}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..40),
    ]
}

pub(crate) fn headers() -> impl Strategy<Value = Vec<(&'static str, Vec<u8>)>> {
    prop::collection::vec(
        (
            select(vec![
                "retry-after",
                "x-ratelimit-reset",
                "x-ratelimit-remaining",
                "x-ratelimit-limit",
                "date",
                "x-request-id",
                "content-type",
            ]),
            header_value(),
        ),
        0..4,
    )
}

pub(crate) fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => select(vec![200u16, 201]),
        6 => select(vec![400u16, 401, 404, 429, 500, 502, 503]),
        1 => select(vec![204u16, 302, 418, 504]),
    ]
}

/// Answers built mostly from the operation's own bodies (usually with a 2xx status), often
/// from error bodies (usually with an error status), sometimes from any recorded body with
/// any status.
pub(crate) fn answer(
    own: Arc<Vec<Value>>,
    errors: Arc<Vec<Value>>,
    all: Arc<Vec<Value>>,
) -> impl Strategy<Value = Answer> {
    let own = if own.is_empty() {
        Arc::clone(&all)
    } else {
        own
    };
    let success = prop_oneof![4 => select(vec![200u16, 201]), 1 => status()];
    let failure = prop_oneof![
        4 => select(vec![400u16, 401, 404, 429, 500, 502, 503]),
        1 => status(),
    ];
    prop_oneof![
        3 => (success, headers(), body(own)),
        2 => (failure, headers(), body(errors)),
        1 => (status(), headers(), body(all)),
    ]
    .prop_map(|(status, headers, body)| Answer {
        status,
        headers,
        body,
    })
}

// Webhook deliveries

pub(crate) const EVENT_NAMES: &[&str] = &[
    "payment.created",
    "payment.processing",
    "payment.completed",
    "payment.failed",
    "payment.cancelled",
    "payment.refunded",
    "payout.created",
    "payout.completed",
    "payout.failed",
    "balance.updated",
    "merchant.updated",
    "ticket.created",
    "ticket.updated",
    "ticket.comment_added",
    "ticket.resolved",
    "ticket.closed",
    "webhook.test",
    "something.new",
];

/// Valid-looking event bodies of every kind, in the envelope and the legacy shape.
pub(crate) fn event_samples() -> Vec<Value> {
    let payment = json!({"id": "pay_1234567890_abcdefgh", "transaction_id":
        "pay_1234567890_abcdefgh", "amount": 150000, "currency": "ARS", "status": "completed",
        "status_version": 3, "fee": 6750, "net_amount": 143250, "type": "deposit",
        "method": "bank_transfer", "merchant_reference": "order_1",
        "created_at": "2025-01-21T10:35:00.000Z"});
    let entry = json!({"currency": "ARS", "balance_type": "main", "balance_amount": "1500000",
        "available_amount": "1200000", "frozen_amount": "300000"});
    let ticket = json!({"ticket_id": "tkt_1", "title": "Deposit missing", "status": "open",
        "category": "payment_issue", "created_at": "2025-01-21T10:35:00.000Z"});
    let comment = json!({"id": "cmt_1", "content": "hello", "is_support": true,
        "created_at": "2025-01-21T10:35:00.000Z"});
    let mut out = Vec::new();
    for name in EVENT_NAMES {
        let data = match name.split('.').next() {
            Some("payment" | "payout") => payment.clone(),
            Some("balance") => entry.clone(),
            Some("ticket") if *name == "ticket.comment_added" => {
                json!({"ticket": ticket, "comment": comment})
            }
            Some("ticket") => ticket.clone(),
            _ => json!({"hello": "world"}),
        };
        out.push(json!({"id": "evt_1", "event": name, "created_at":
            "2025-01-21T10:35:00.000Z", "merchant_id": 123, "data": data.clone()}));
        out.push(json!({"event": name, "payment": data}));
    }
    out
}

pub(crate) fn secret() -> impl Strategy<Value = SecretString> {
    prop_oneof![
        Just("whsec_test".to_owned()),
        "whsec_[a-zA-Z0-9]{0,40}",
        ".{0,20}",
    ]
    .prop_map(SecretString::from)
}

pub(crate) fn signature_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        ("(hmac_sha256=|sha256=|)", "[0-9a-fA-F]{0,70}").prop_map(|(p, h)| format!("{p}{h}")),
        "[ -~]{0,100}",
        prop::collection::vec("(hmac_sha256=)?[0-9a-f]{64}", 0..4).prop_map(|v| v.join(",")),
    ]
    .prop_map(String::into_bytes)
}

pub(crate) fn timestamp_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<i64>().prop_map(|t| t.to_string()),
        (0i64..4_000_000_000).prop_map(|t| t.to_string()),
        select(vec![
            "",
            " ",
            "1700000000 ",
            " 1700000000",
            "+1700000000",
            "1.7e9",
            "99999999999999999999",
            "-0",
            "0x10",
        ])
        .prop_map(str::to_owned),
        "[ -~]{0,24}",
    ]
    .prop_map(String::into_bytes)
}

/// Random webhook headers: any of the signature/timestamp headers (possibly repeated or
/// absent), with random values.
pub(crate) fn webhook_headers() -> impl Strategy<Value = HeaderMap> {
    (
        prop::collection::vec(signature_value(), 0..3),
        prop::option::weighted(0.8, timestamp_value()),
        prop::option::of("[ -~]{0,30}"),
    )
        .prop_map(|(signatures, timestamp, event_id)| {
            let mut headers = HeaderMap::new();
            for value in signatures {
                if let Ok(value) = http::HeaderValue::from_bytes(&value) {
                    headers.append(HEADER_SIGNATURE, value);
                }
            }
            if let Some(Ok(value)) = timestamp.map(|t| http::HeaderValue::from_bytes(&t)) {
                headers.insert(HEADER_TIMESTAMP, value);
            }
            if let Some(Ok(value)) = event_id.map(|e| http::HeaderValue::from_str(&e)) {
                headers.insert(signature::HEADER_EVENT_ID, value);
            }
            headers
        })
}

pub(crate) fn scheme() -> impl Strategy<Value = SignatureScheme> {
    prop_oneof![
        4 => Just(SignatureScheme::default()),
        1 => (any::<u64>(), "[ -~]{0,20}", "[ -~]{0,20}").prop_map(|(secs, sig, ts)| {
            let mut scheme = SignatureScheme::default();
            scheme.signature_header = sig;
            scheme.timestamp_header = ts;
            scheme.tolerance = Duration::from_secs(secs);
            scheme
        }),
    ]
}

pub(crate) fn webhook_body() -> impl Strategy<Value = Vec<u8>> {
    let samples = Arc::new(event_samples());
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..400),
        3 => body(samples),
    ]
}
