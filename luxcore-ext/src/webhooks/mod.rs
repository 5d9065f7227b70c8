//! Webhook deliveries from LuxCore: signature verification ([`verify`], [`SignatureScheme`]),
//! typed events ([`Event`], [`EventKind`]) and ordering ([`StatusVersionGuard`]).
//!
//! A receiver does, in this order: verify the signature on the **raw** body, parse the
//! event, ask the guard whether to apply it, process it, and answer 2xx (also for events
//! the guard ignores, so LuxCore stops redelivering them). [`verify_event`] does the
//! first two steps; see `examples/webhook_receiver.rs` for an axum endpoint.

mod event;
mod guard;
pub mod signature;

use http::HeaderMap;
use secrecy::SecretString;

pub use event::{Event, EventKind, EventParseError};
pub use guard::{GuardDecision, InMemoryVersionStore, StatusVersionGuard, VersionStore};
pub use signature::{SignatureScheme, WebhookVerifyError, verify};

/// Why [`verify_event`] rejected a delivery.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The signature or timestamp did not verify (answer 400/401; do not process).
    #[error(transparent)]
    Verify(#[from] WebhookVerifyError),
    /// Signed correctly but not a parsable event.
    #[error(transparent)]
    Parse(#[from] EventParseError),
}

/// Verifies a delivery with `scheme` against the current time, then parses it.
///
/// `raw_body` must be the exact bytes received and `secret` the endpoint's `whsec_…`
/// secret. Nothing is parsed before the signature has been checked.
pub fn verify_event(
    scheme: &SignatureScheme,
    raw_body: &[u8],
    headers: &HeaderMap,
    secret: &SecretString,
) -> Result<Event, WebhookError> {
    scheme.verify(raw_body, headers, secret)?;
    Ok(Event::parse(raw_body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_then_parse() {
        let secret = SecretString::from("whsec_test");
        let body = br#"{"id":"evt_1","event":"webhook.test","data":{"hello":"world"}}"#;
        let now = chrono::Utc::now().timestamp();
        let mut headers = HeaderMap::new();
        let sig = signature::sign_v1(&secret, now, body);
        headers.insert(signature::HEADER_SIGNATURE, sig.parse().unwrap());
        headers.insert(
            signature::HEADER_TIMESTAMP,
            now.to_string().parse().unwrap(),
        );
        let scheme = SignatureScheme::default();
        let event = verify_event(&scheme, body, &headers, &secret).unwrap();
        assert_eq!(event.id(), Some("evt_1"));
        assert!(matches!(
            verify_event(&scheme, b"{}", &headers, &secret),
            Err(WebhookError::Verify(WebhookVerifyError::SignatureMismatch))
        ));
        // Signed garbage: verification passes, parsing fails with a typed error.
        let garbage = b"not json";
        let sig = signature::sign_v1(&secret, now, garbage);
        headers.insert(signature::HEADER_SIGNATURE, sig.parse().unwrap());
        assert!(matches!(
            verify_event(&scheme, garbage, &headers, &secret),
            Err(WebhookError::Parse(EventParseError::Json(_)))
        ));
    }
}
