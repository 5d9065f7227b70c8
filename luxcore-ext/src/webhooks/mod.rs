//! Webhook deliveries from LuxCore: signature verification ([`WebhookVerifier`], from
//! `luxcore-auth`), typed events ([`Event`], [`EventKind`]) and exactly-once processing
//! across instances ([`WebhookProcessor`] over a [`WebhookStore`]).
//!
//! A receiver hands the raw body, the headers and its handler to
//! [`WebhookProcessor::handle_detached`] (which finishes a delivery once started, even if
//! the sender hangs up) and answers the [`Outcome`]'s status; on shutdown it calls
//! [`WebhookProcessor::drain`]. Stores:
//! [`MemoryStore`] (one process), `RedisStore` (`redis` feature), `PostgresStore`
//! (`postgres` feature: tokio-postgres) and `SqlxStore` (`postgres-sqlx` feature: over your
//! `sqlx::PgPool`), both PostgreSQL stores with a transactional handler variant and one
//! shared table. The `axum` feature adds a ready route (`webhooks::axum`); see
//! `examples/webhook_receiver.rs`.

#[cfg(feature = "axum")]
pub mod axum;
mod event;
#[cfg(any(feature = "postgres", feature = "postgres-sqlx"))]
mod postgres_sql;
#[cfg(feature = "postgres")]
mod postgres_store;
#[cfg(feature = "postgres")]
mod postgres_tls;
mod processor;
#[cfg(feature = "redis")]
mod redis_store;
#[cfg(feature = "postgres-sqlx")]
mod sqlx_store;
mod store;

use http::HeaderMap;

#[cfg(feature = "redis")]
pub use crate::base::redis_connection::{RedisConnectError, RedisConnectErrorKind, RedisEndpoint};
pub use event::{Event, EventKind, EventParseError};
pub use luxcore_auth::webhook::{
    HEADER_EVENT_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignatureScheme, VerifiedDelivery,
    WebhookVerifier, WebhookVerifyError,
};
#[cfg(any(feature = "postgres", feature = "postgres-sqlx"))]
pub use postgres_sql::{MIGRATION, TransactionalStore};
#[cfg(feature = "postgres")]
pub use postgres_store::{PostgresStore, Transaction, migrate};
#[cfg(feature = "postgres")]
pub use postgres_tls::PostgresTls;
pub use processor::{DEFAULT_HANDLER_LIMIT, DEFAULT_LEASE, Outcome, WebhookProcessor, dedup_key};
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
#[cfg(feature = "postgres-sqlx")]
pub use sqlx_store::SqlxStore;
pub use store::{Begin, Cause, ClaimToken, DedupKey, MemoryStore, StoreError, WebhookStore};

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

/// Verifies a delivery with `verifier` against the current time, then parses it.
///
/// `raw_body` must be the exact bytes received. Nothing is parsed before the signature has
/// been checked.
pub fn verify_event(
    verifier: &WebhookVerifier,
    headers: &HeaderMap,
    raw_body: &[u8],
) -> Result<Event, WebhookError> {
    verifier.verify(headers, raw_body)?;
    Ok(Event::parse(raw_body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_then_parse() {
        let secret = secrecy::SecretString::from("whsec_test");
        let verifier = WebhookVerifier::new("whsec_test");
        let body = br#"{"id":"evt_1","event":"webhook.test","data":{"hello":"world"}}"#;
        let now = chrono::Utc::now().timestamp();
        let mut headers = HeaderMap::new();
        let sig = luxcore_auth::webhook::sign_v1(&secret, now, body);
        headers.insert(HEADER_SIGNATURE, sig.parse().unwrap());
        headers.insert(HEADER_TIMESTAMP, now.to_string().parse().unwrap());
        let event = verify_event(&verifier, &headers, body).unwrap();
        assert_eq!(event.id(), Some("evt_1"));
        assert!(matches!(
            verify_event(&verifier, &headers, b"{}"),
            Err(WebhookError::Verify(WebhookVerifyError::SignatureMismatch))
        ));
        // Signed garbage: verification passes, parsing fails with a typed error.
        let garbage = b"not json";
        let sig = luxcore_auth::webhook::sign_v1(&secret, now, garbage);
        headers.insert(HEADER_SIGNATURE, sig.parse().unwrap());
        assert!(matches!(
            verify_event(&verifier, &headers, garbage),
            Err(WebhookError::Parse(EventParseError::Json(_)))
        ));
    }
}
