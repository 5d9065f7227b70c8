//! Reliability against bad input (proptest). Proves that:
//!
//! * every one of the 33 API operations of the client (plus the helpers built on them:
//!   money reads, attachment upload, list streams) returns `Ok` or a typed [`Error`] —
//!   never panics and never hangs — whatever a server answers: random bytes, real bodies
//!   (recorded from luxcore-mock) truncated, byte-flipped, with a field removed or
//!   replaced by a wrong type / huge number / deep nesting, any status among
//!   200/201/204/302/400/401/404/418/429/500/502/503/504, and random or garbage
//!   `Retry-After`, `X-RateLimit-*`, `Date`, `X-Request-Id` and `Content-Type` headers;
//!   and that a typed error agrees with the HTTP status that was served. (The clients
//!   send every request, whatever its URL, through the local garbage server as a forward
//!   proxy, so an upload URL taken from a mutated body never leaves the machine.)
//! * the same real bodies, unmutated, decode to `Ok` (so the garbage runs are not vacuous);
//! * webhook verification (`verify_event`, `WebhookVerifier::verify_at`), parsing
//!   (`Event::parse`) and de-duplication keys (`dedup_key`, `MemoryStore`) never panic on random bodies and
//!   headers and report typed errors;
//! * a correctly signed random body verifies, while any single-byte change of the body,
//!   the timestamp or the signature is rejected.
//!
//! Helpers live in `tests/reliability_bad_input/`: the garbage server (`server`), the
//! recorded real bodies (`samples`), the operations (`ops`) and the generators.

mod reliability_bad_input {
    pub(crate) mod generators;
    pub(crate) mod ops;
    pub(crate) mod samples;
    pub(crate) mod server;
}

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderMap;
use luxcore_ext::auth::webhook::{self as signature, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use luxcore_ext::error::Error;
use luxcore_ext::webhooks::{
    Begin, ClaimToken, DedupKey, Event, EventParseError, MemoryStore, WebhookError, WebhookStore,
    WebhookVerifier, WebhookVerifyError, dedup_key, verify_event,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use secrecy::SecretString;
use serde_json::json;

use reliability_bad_input::generators::*;
use reliability_bad_input::ops::*;
use reliability_bad_input::samples::{Sample, record_samples};
use reliability_bad_input::server::{Answer, Slot, client_for, garbage_server};

/// Cases per operation (override with `LUXCORE_BAD_INPUT_CASES` for a longer hunt).
const CASES: u32 = 64;

fn cases() -> u32 {
    std::env::var("LUXCORE_BAD_INPUT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES)
}

/// Longest a single call may take before it counts as a hang.
const HANG_LIMIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------

struct Harness {
    runtime: tokio::runtime::Runtime,
    slot: Slot,
    base_url: String,
    samples: Vec<Sample>,
}

fn harness() -> Harness {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let slot = Slot::default();
    let base_url = runtime.block_on(garbage_server(Arc::clone(&slot)));
    let samples = runtime.block_on(record_samples(&base_url));
    Harness {
        runtime,
        slot,
        base_url,
        samples,
    }
}

/// Runs `ops` against `CASES` generated answers each; every call must end in `Ok` or a
/// typed error consistent with the served status, within [`HANG_LIMIT`].
fn garbage_group(ops: &'static [Op]) {
    let h = harness();
    let all = Arc::new(h.samples.iter().map(|s| s.body.clone()).collect::<Vec<_>>());
    let errors = Arc::new(
        h.samples
            .iter()
            .filter(|s| s.status >= 400)
            .map(|s| s.body.clone())
            .collect::<Vec<_>>(),
    );
    let clients = [
        client_for(&h.base_url, false),
        client_for(&h.base_url, true),
    ];
    let mut tally = std::collections::BTreeMap::<&'static str, usize>::new();
    for &op in ops {
        // Mostly this operation's own body, mutated (downloads have none: any body).
        let own = Arc::new(
            h.samples
                .iter()
                .filter(|s| s.op == recorded_as(op) && s.status < 300)
                .map(|s| s.body.clone())
                .collect::<Vec<_>>(),
        );
        let strategy = (
            answer(own, Arc::clone(&errors), Arc::clone(&all)),
            any::<bool>(),
        );
        let outcomes = Mutex::new(Vec::new());
        runner(cases())
            .run(&strategy, |(answer, retries)| {
                h.slot.serve(answer.clone());
                let client = &clients[usize::from(retries)];
                let outcome = h
                    .runtime
                    .block_on(async { tokio::time::timeout(HANG_LIMIT, run_op(client, op)).await });
                outcomes.lock().unwrap().push(match &outcome {
                    Ok(Ok(_)) => "ok",
                    Ok(Err(Error::Api { .. })) => "api",
                    Ok(Err(Error::RateLimited { .. })) => "rate_limited",
                    Ok(Err(Error::Decode { .. } | Error::CreatedButUnreadable { .. })) => "decode",
                    Ok(Err(_)) => "other",
                    Err(_) => "hung",
                });
                check_outcome(op, &answer, outcome)
            })
            .unwrap_or_else(|e| panic!("{op:?}: {e}"));
        for kind in outcomes.into_inner().unwrap() {
            *tally.entry(kind).or_default() += 1;
        }
    }
    eprintln!(
        "{} operations x {} cases, outcomes: {tally:?}",
        ops.len(),
        cases()
    );
    assert!(
        tally.len() >= 3,
        "the generator should reach several outcomes: {tally:?}"
    );
}

#[test]
fn payments_survive_garbage_responses() {
    garbage_group(PAYMENT_OPS);
}

#[test]
fn webhooks_survive_garbage_responses() {
    garbage_group(WEBHOOK_OPS);
}

#[test]
fn balances_survive_garbage_responses() {
    garbage_group(BALANCE_OPS);
}

#[test]
fn tickets_survive_garbage_responses() {
    garbage_group(TICKET_OPS);
}

#[test]
fn downloads_survive_garbage_responses() {
    garbage_group(DOWNLOAD_OPS);
}

/// The harness is not vacuous: every API operation is covered, and each one decodes its
/// own real (unmutated) body to `Ok`.
#[test]
fn real_bodies_decode() {
    let all: Vec<Op> = [
        PAYMENT_OPS,
        WEBHOOK_OPS,
        BALANCE_OPS,
        TICKET_OPS,
        DOWNLOAD_OPS,
    ]
    .concat();
    assert_eq!(all.iter().filter(|op| !is_helper(**op)).count(), API_OPS);
    let h = harness();
    let client = client_for(&h.base_url, false);
    for sample in h.samples.iter().filter(|s| s.status < 300) {
        h.slot.serve(Answer {
            status: sample.status,
            headers: vec![("content-type", b"application/json".to_vec())],
            body: serde_json::to_vec(&sample.body).unwrap(),
        });
        let result = h.runtime.block_on(run_op(&client, sample.op));
        assert!(result.is_ok(), "{:?}: {result:?}", sample.op);
    }
    // Downloads: any bytes are an attachment.
    h.slot.serve(Answer {
        status: 200,
        headers: vec![("content-type", b"image/png".to_vec())],
        body: vec![0, 159, 146, 150],
    });
    for op in DOWNLOAD_OPS {
        let result = h.runtime.block_on(run_op(&client, *op));
        assert!(result.is_ok(), "{op:?}: {result:?}");
    }
    // Every API operation except the downloads has a recorded body.
    let recorded: Vec<Op> = h.samples.iter().map(|s| s.op).collect();
    for op in all.iter().filter(|op| !is_helper(**op)) {
        assert!(
            recorded.contains(op) || DOWNLOAD_OPS.contains(op),
            "no sample for {op:?}"
        );
    }
    // An upload URL on another host still reaches only the local garbage server.
    let mut upload = h
        .samples
        .iter()
        .find(|s| s.op == Op::TicketUploadUrl)
        .unwrap()
        .body
        .clone();
    upload["data"]["upload_url"] = json!("http://luxcore-upload.invalid/put/1");
    h.slot.authorities.lock().unwrap().clear();
    h.slot.serve(Answer {
        status: 200,
        headers: vec![],
        body: serde_json::to_vec(&upload).unwrap(),
    });
    let result = h.runtime.block_on(run_op(&client, Op::UploadAttachment));
    assert!(result.is_ok(), "{result:?}");
    let authorities = h.slot.authorities.lock().unwrap().clone();
    assert_eq!(authorities.len(), 2, "{authorities:?}");
    assert_eq!(authorities[1], "luxcore-upload.invalid", "{authorities:?}");
}

/// A server that ignores `offset` and answers every page with the same full page of 100
/// payments: a stream must still end (the list makes no progress) instead of requesting
/// page after page for ever.
#[test]
fn stream_ends_when_the_server_ignores_offset() {
    let h = harness();
    let payment = h
        .samples
        .iter()
        .find(|s| s.op == Op::Get)
        .map(|s| s.body["data"].clone())
        .unwrap();
    let page: Vec<_> = (0..100)
        .map(|i| {
            let mut p = payment.clone();
            p["id"] = json!(format!("pay_{i:010}_abcdefgh"));
            p["transaction_id"] = p["id"].clone();
            p
        })
        .collect();
    h.slot.serve(Answer {
        status: 200,
        headers: vec![],
        body: serde_json::to_vec(&json!({"success": true, "data": page, "total": 100,
            "pagination": {"limit": 100, "offset": 0, "total_pages": 1}}))
        .unwrap(),
    });
    h.slot.authorities.lock().unwrap().clear();
    let client = client_for(&h.base_url, false);
    let result = h.runtime.block_on(async {
        tokio::time::timeout(
            HANG_LIMIT,
            client
                .v1
                .payments()
                .collect_all(luxcore_ext::payments::PaymentFilter::new()),
        )
        .await
    });
    let requests = h.slot.authorities.lock().unwrap().len();
    let Ok(result) = result else {
        panic!("the stream did not end within {HANG_LIMIT:?} ({requests} page requests)");
    };
    assert_eq!(result.map(|all| all.len()), Ok(100));
    assert!(requests <= 3, "{requests} page requests");
}

// ---------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// What `verify_at` must answer, derived from the inputs by the documented rules in their
/// order: both headers present, a decimal timestamp, within the tolerance, at least one
/// well-formed `[hmac_sha256=|sha256=]<64 hex>` entry, one of them the right digest.
fn expected_verification(
    headers: &HeaderMap,
    body: &[u8],
    secret: &SecretString,
    scheme: &signature::SignatureScheme,
    now: i64,
) -> Result<(), WebhookVerifyError> {
    let (sig_name, ts_name) = (&scheme.signature_header, &scheme.timestamp_header);
    let missing = |name: &String| WebhookVerifyError::MissingHeader(name.clone());
    let timestamp = headers
        .get(ts_name.as_str())
        .ok_or_else(|| missing(ts_name))?;
    if headers.get(sig_name.as_str()).is_none() {
        return Err(missing(sig_name));
    }
    let timestamp = std::str::from_utf8(timestamp.as_bytes())
        .ok()
        .map(|t| t.trim_matches(|c: char| c.is_ascii_whitespace()))
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or(WebhookVerifyError::InvalidTimestamp)?;
    let skew_secs = now.saturating_sub(timestamp);
    if skew_secs.unsigned_abs() > scheme.tolerance.as_secs() {
        return Err(WebhookVerifyError::TimestampOutOfTolerance { skew_secs });
    }
    let entries: Vec<String> = headers
        .get_all(sig_name.as_str())
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map(|entry| {
            let entry = entry.trim_matches(|c: char| c.is_ascii_whitespace());
            let hex = entry
                .strip_prefix("hmac_sha256=")
                .or_else(|| entry.strip_prefix("sha256="))
                .unwrap_or(entry);
            hex.to_ascii_lowercase()
        })
        .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    if entries.is_empty() {
        return Err(WebhookVerifyError::MalformedSignature);
    }
    let expected = signature::sign_v1(secret, timestamp, body);
    let expected = expected.strip_prefix("hmac_sha256=").unwrap();
    if entries.iter().any(|e| e == expected) {
        Ok(())
    } else {
        Err(WebhookVerifyError::SignatureMismatch)
    }
}

/// The `EventParseError` variant `Event::parse` must give for a body it rejects, by input
/// class; `None` for a JSON object with an event name, which always parses (issue 27).
fn expected_parse_error(body: &[u8]) -> Option<&'static str> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Some("Json");
    };
    let Some(object) = value.as_object() else {
        return Some("NotAnObject");
    };
    let name = ["event", "type"]
        .iter()
        .find_map(|key| object.get(*key).and_then(serde_json::Value::as_str));
    match name {
        Some(name) if !name.trim().is_empty() => None,
        _ => Some("MissingEventName"),
    }
}

/// The variant of an `EventParseError`.
trait KindName {
    fn kind_name(&self) -> &'static str;
}

impl KindName for EventParseError {
    fn kind_name(&self) -> &'static str {
        match self {
            EventParseError::Json(_) => "Json",
            EventParseError::NotAnObject => "NotAnObject",
            EventParseError::MissingEventName => "MissingEventName",
            _ => "other",
        }
    }
}

/// Random bodies, headers, secrets, header names, tolerances and clocks: verification
/// never panics and every rejection is the error kind of its input class; parsing never
/// panics either, and the store never applies the same (payment, version) twice.
#[test]
fn webhook_verification_and_parsing_never_panic() {
    let strategy = (
        webhook_body(),
        webhook_headers(),
        secret(),
        scheme(),
        any::<i64>(),
    );
    runner(512)
        .run(&strategy, |(body, headers, secret, scheme, now)| {
            let expected = expected_verification(&headers, &body, &secret, &scheme, now);
            let verifier = WebhookVerifier::new(secret).scheme(scheme.clone());
            // Every input class gets its own error kind.
            prop_assert_eq!(
                verifier.verify_at(&headers, &body, now).map(|_| ()),
                expected
            );
            match verify_event(&verifier, &headers, &body) {
                Ok(event) => prop_assert_eq!(Event::parse(&body), Ok(event)),
                Err(WebhookError::Verify(_)) => {}
                // Only a verified body is parsed, and its parse error is passed on as is.
                Err(WebhookError::Parse(err)) => {
                    prop_assert!(verifier.verify(&headers, &body).is_ok());
                    prop_assert_eq!(Event::parse(&body), Err(err));
                }
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
            match Event::parse(&body) {
                Ok(event) => {
                    prop_assert_eq!(expected_parse_error(&body), None, "an error was due");
                    prop_assert_eq!(
                        event.raw(),
                        &serde_json::from_slice::<serde_json::Value>(&body).unwrap()
                    );
                    let key = dedup_key(&event, &body);
                    if event.payment_id().is_none() || event.status_version().is_none() {
                        prop_assert!(!key.is_payment(), "{key}");
                    }
                    // Once committed, the same delivery is never claimed again.
                    let store = MemoryStore::new();
                    let lease = Duration::from_secs(30);
                    let token = ClaimToken::random();
                    let first = futures::executor::block_on(store.begin(&key, &token, lease));
                    prop_assert_eq!(first, Ok(Begin::Claimed));
                    futures::executor::block_on(store.commit(&key, &token)).unwrap();
                    let again = futures::executor::block_on(store.begin(&key, &token, lease));
                    prop_assert_eq!(again, Ok(Begin::Done), "the same event applied twice");
                    let _ = format!("{event:?} {:?} {:?}", event.kind(), event.created_at());
                }
                Err(err) => prop_assert_eq!(Some(err.kind_name()), expected_parse_error(&body)),
            }
            Ok(())
        })
        .unwrap();
}

/// Any version sequence for random payment ids: claimed exactly when the version is
/// higher than every version applied before for that payment.
#[test]
fn store_claims_only_newer_versions() {
    let strategy = prop::collection::vec(("pay_[a-c]", any::<i64>()), 0..64);
    runner(256)
        .run(&strategy, |sequence| {
            let store = MemoryStore::new();
            let lease = Duration::from_secs(30);
            let mut best = std::collections::HashMap::new();
            for (id, version) in sequence {
                let key = DedupKey::Payment {
                    payment_id: id.clone(),
                    status_version: version,
                };
                let token = ClaimToken::random();
                let decision = futures::executor::block_on(store.begin(&key, &token, lease));
                let expected = best.get(&id).is_none_or(|b| version > *b);
                prop_assert_eq!(decision == Ok(Begin::Claimed), expected);
                if expected {
                    futures::executor::block_on(store.commit(&key, &token)).unwrap();
                    best.insert(id.clone(), version);
                }
                prop_assert_eq!(store.applied(&key.storage_key()), best.get(&id).copied());
            }
            Ok(())
        })
        .unwrap();
}

/// A correctly signed random body verifies; flipping any single byte of the body, of the
/// timestamp header or of the signature's hex digest makes verification fail.
#[test]
fn signed_body_verifies_and_any_single_byte_change_is_rejected() {
    let strategy = (
        prop::collection::vec(any::<u8>(), 1..300),
        "whsec_[a-zA-Z0-9]{1,32}",
        1_000_000_000i64..4_000_000_000,
        -300i64..=300,
        any::<Index>(),
        1u8..=255,
        any::<Index>(),
    );
    runner(512)
        .run(
            &strategy,
            |(body, secret, timestamp, skew, at, flip, sig_at)| {
                let secret = SecretString::from(secret);
                let now = timestamp + skew;
                let sig = signature::sign_v1(&secret, timestamp, &body);
                let scheme = WebhookVerifier::new(secret);
                let verify_at = |body: &[u8], headers: &HeaderMap| {
                    scheme.verify_at(headers, body, now).map(|_| ())
                };
                let headers = |sig: &str, ts: &str| {
                    let mut h = HeaderMap::new();
                    h.insert(HEADER_SIGNATURE, sig.parse().unwrap());
                    h.insert(HEADER_TIMESTAMP, ts.parse().unwrap());
                    h
                };
                let good = headers(&sig, &timestamp.to_string());
                prop_assert_eq!(verify_at(&body, &good), Ok(()));

                // One byte of the body.
                let mut tampered = body.clone();
                let i = at.index(tampered.len());
                tampered[i] ^= flip;
                prop_assert_eq!(
                    verify_at(&tampered, &good),
                    Err(WebhookVerifyError::SignatureMismatch)
                );

                // One digit of the timestamp (still a number within the tolerance, or not).
                let ts = timestamp.to_string();
                let j = at.index(ts.len());
                let digit = ts.as_bytes()[j] - b'0';
                let other = (digit + 1 + flip % 9) % 10;
                let mut ts_bytes = ts.into_bytes();
                ts_bytes[j] = b'0' + other;
                let ts = String::from_utf8(ts_bytes).unwrap();
                prop_assert!(verify_at(&body, &headers(&sig, &ts)).is_err());

                // One hex digit of the signature.
                let hex_start = sig.len() - 64;
                let k = hex_start + sig_at.index(64);
                let mut sig_bytes = sig.clone().into_bytes();
                let replacement = if sig_bytes[k] == b'0' { b'1' } else { b'0' };
                sig_bytes[k] = replacement;
                let bad_sig = String::from_utf8(sig_bytes).unwrap();
                prop_assert_eq!(
                    verify_at(&body, &headers(&bad_sig, &timestamp.to_string())),
                    Err(WebhookVerifyError::SignatureMismatch)
                );
                Ok(())
            },
        )
        .unwrap();
}
