//! Authentication: API keys with scopes on `/api/v1`, HMAC signatures on `/api/v2`
//! (verified with `luxcore_auth::request`, nonces recorded in the state's replay store).

use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use luxcore_api::enums::ErrorCode;
use luxcore_auth::request::{self as signing, SignatureError};

use crate::error::{ApiError, ApiResult};
use crate::state::credentials::{Credentials, NonceStore};

/// Header carrying the v1 API key.
pub(crate) const API_KEY_HEADER: &str = "x-api-key";

/// Who sent an authenticated request.
#[derive(Debug, Clone)]
pub(crate) enum Principal {
    /// A v1 API key and its scopes.
    ApiKey {
        key: Arc<str>,
        scopes: Arc<[String]>,
    },
    /// A v2 merchant authenticated by HMAC (all scopes).
    Hmac { merchant_id: u64 },
}

/// `(scope, alias)` pairs: either grants the scope.
const ALIASES: &[(&str, &str)] = &[
    ("payments.read", "payments.view"),
    ("webhooks.read", "webhooks.view"),
    ("balance.read", "balance.view"),
];

fn grants(held: &str, required: &str) -> bool {
    held == "*"
        || held == required
        || ALIASES.iter().any(|(scope, alias)| {
            (required == *scope && held == *alias) || (required == *alias && held == *scope)
        })
}

impl Principal {
    /// Rate-limit identity.
    pub(crate) fn rate_key(&self) -> String {
        match self {
            Self::ApiKey { key, .. } => format!("key:{key}"),
            Self::Hmac { merchant_id } => format!("merchant:{merchant_id}"),
        }
    }

    /// 403 `INSUFFICIENT_SCOPE` unless one of `any_of` is held.
    pub(crate) fn require(&self, any_of: &[&str]) -> ApiResult<()> {
        let Self::ApiKey { scopes, .. } = self else {
            return Ok(());
        };
        if any_of
            .iter()
            .any(|required| scopes.iter().any(|held| grants(held, required)))
        {
            Ok(())
        } else {
            Err(ApiError::business(
                StatusCode::FORBIDDEN,
                ErrorCode::InsufficientScope,
                format!("API key lacks the required scope: {}", any_of.join(" or ")),
            ))
        }
    }
}

/// Whether the path belongs to API v2 (HMAC).
pub(crate) fn is_v2(path: &str) -> bool {
    path == "/api/v2" || path.starts_with("/api/v2/")
}

/// Authenticates a v1 request by its `X-API-Key`.
pub(crate) fn api_key(credentials: &Credentials, headers: &HeaderMap) -> ApiResult<Principal> {
    let Some(value) = headers.get(API_KEY_HEADER) else {
        return Err(ApiError::unauthorized("API key is missing"));
    };
    let key = value.to_str().unwrap_or("");
    match credentials.api_keys.get(key) {
        Some(scopes) => Ok(Principal::ApiKey {
            key: Arc::from(key),
            scopes: Arc::clone(scopes),
        }),
        None => Err(ApiError::unauthorized("API key not found or invalid")),
    }
}

fn signature_error(error: &SignatureError) -> ApiError {
    match error {
        SignatureError::MissingHeader(name) => {
            ApiError::unauthorized(format!("Missing HMAC authentication header {name}"))
        }
        SignatureError::InvalidMerchantId => ApiError::unauthorized("Invalid X-Merchant-Id"),
        SignatureError::TimestampOutOfWindow { .. } => ApiError::business(
            StatusCode::UNAUTHORIZED,
            ErrorCode::TimestampOutOfWindow,
            "X-Timestamp is outside the allowed window of 300 seconds",
        ),
        SignatureError::InvalidNonceLength { .. } | SignatureError::InvalidNonce => {
            ApiError::bad_request(
                ErrorCode::InvalidNonce,
                "X-Nonce must be 8-128 visible ASCII characters",
            )
        }
        other => ApiError::business(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidSignature,
            format!("Invalid request signature ({other})"),
        ),
    }
}

/// Authenticates a v2 request by its HMAC signature and records the nonce.
pub(crate) fn hmac(
    credentials: &Credentials,
    nonces: &std::sync::Mutex<NonceStore>,
    parts: &Parts,
    body: &[u8],
    now: i64,
) -> ApiResult<Principal> {
    if parts.headers.contains_key(API_KEY_HEADER) {
        return Err(ApiError::unauthorized(
            "API v2 does not accept X-API-Key; sign the request with HMAC",
        ));
    }
    let merchant_id =
        signing::extract_merchant_id(&parts.headers).map_err(|e| signature_error(&e))?;
    let Some(secret) = credentials.hmac.get(&merchant_id) else {
        return Err(ApiError::unauthorized(
            "Unknown merchant or HMAC not enabled",
        ));
    };
    let path_with_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |pq| pq.as_str());
    let verified = signing::verify_v1(
        secret,
        &parts.headers,
        parts.method.as_str(),
        path_with_query,
        body,
        now,
    )
    .map_err(|e| signature_error(&e))?;
    let fresh = nonces
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remember(merchant_id, &verified.nonce, verified.timestamp, now);
    if !fresh {
        return Err(ApiError::business(
            StatusCode::UNAUTHORIZED,
            ErrorCode::NonceReused,
            "X-Nonce was already used",
        ));
    }
    Ok(Principal::Hmac { merchant_id })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::SecretString;

    use super::*;

    #[test]
    fn aliases_grant_both_ways() {
        assert!(grants("payments.view", "payments.read"));
        assert!(grants("payments.read", "payments.view"));
        assert!(grants("*", "tickets.update"));
        assert!(!grants("payments.read", "payments.create"));
    }

    /// The protocol crate's known-answer vectors, through the mock's own v2 authentication
    /// path (merchant lookup, verification, nonce store), at the vectors' own clock.
    #[test]
    fn request_vectors_authenticate_and_tampering_is_rejected() {
        for v in luxcore_auth::vectors::request_v1() {
            let credentials = Credentials {
                api_keys: HashMap::new(),
                hmac: HashMap::from([(v.merchant_id, SecretString::from(v.secret.clone()))]),
            };
            let nonces = std::sync::Mutex::new(NonceStore::default());
            let request = |body: &str| {
                let mut builder = axum::http::Request::builder()
                    .method(v.method.to_ascii_uppercase().as_str())
                    .uri(v.path_with_query.as_str());
                for (name, value) in [
                    (signing::HEADER_MERCHANT_ID, v.merchant_id.to_string()),
                    (signing::HEADER_TIMESTAMP, v.timestamp.to_string()),
                    (signing::HEADER_NONCE, v.nonce.clone()),
                    (signing::HEADER_SIGNATURE_VERSION, "v1".to_owned()),
                    (signing::HEADER_SIGNATURE, v.signature.clone()),
                ] {
                    builder = builder.header(name, value);
                }
                let (parts, ()) = builder.body(()).unwrap().into_parts();
                (parts, body.to_owned())
            };
            // A tampered body is rejected first (it does not consume the nonce).
            let (parts, body) = request(&format!("{} ", v.body));
            let err =
                hmac(&credentials, &nonces, &parts, body.as_bytes(), v.timestamp).unwrap_err();
            assert_eq!(
                err,
                signature_error(&SignatureError::SignatureMismatch),
                "{}",
                v.name
            );
            let (parts, body) = request(&v.body);
            match hmac(&credentials, &nonces, &parts, body.as_bytes(), v.timestamp) {
                Ok(Principal::Hmac { merchant_id }) => assert_eq!(merchant_id, v.merchant_id),
                other => panic!("{}: {other:?}", v.name),
            }
            // The same signed request again is a replay.
            let err =
                hmac(&credentials, &nonces, &parts, body.as_bytes(), v.timestamp).unwrap_err();
            assert_eq!(
                err,
                ApiError::business(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::NonceReused,
                    "X-Nonce was already used"
                ),
                "{}",
                v.name
            );
        }
    }
}
