//! `WebhookVerifier::verify_at` with an arbitrary body, signature and timestamp header
//! values, secret and clock: never panics. The same body signed correctly always verifies,
//! and verification never succeeds for a signature made over a different body.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use luxcore_auth::webhook::{self as signature, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookVerifier};
use secrecy::SecretString;

fuzz_target!(|input: (Vec<u8>, Vec<u8>, Vec<u8>, String, i64)| {
    let (body, signature_header, timestamp_header, secret, now) = input;
    let secret = SecretString::from(secret);
    let scheme = WebhookVerifier::new(secret.clone());

    let mut headers = HeaderMap::new();
    for value in signature_header.split(|b| *b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(HEADER_SIGNATURE, value);
        }
    }
    if let Ok(value) = HeaderValue::from_bytes(&timestamp_header) {
        headers.insert(HEADER_TIMESTAMP, value);
    }
    if scheme.verify_at(&headers, &body, now).map(|_| ()).is_ok() {
        // Only a signature over exactly this body, timestamp and secret can match.
        let timestamp_text = String::from_utf8_lossy(&timestamp_header);
        let timestamp: i64 = timestamp_text.trim().parse().expect("verified timestamp");
        let expected = signature::sign_v1(&secret, timestamp, &body);
        let hex = &expected[expected.len() - 64..];
        assert!(
            String::from_utf8_lossy(&signature_header)
                .to_ascii_lowercase()
                .contains(hex),
            "verified without the right digest"
        );
    }

    // A correct signature at `now` always verifies.
    let mut good = HeaderMap::new();
    let sig = signature::sign_v1(&secret, now, &body);
    good.insert(
        HEADER_SIGNATURE,
        HeaderValue::from_str(&sig).expect("hex is a header"),
    );
    good.insert(HEADER_TIMESTAMP, HeaderValue::from(now));
    let result = scheme.verify_at(&good, &body, now).map(|_| ());
    if now >= 0 {
        assert_eq!(result, Ok(()));
    } else {
        // Negative timestamps are not decimal Unix seconds as sent by LuxCore.
        assert!(result.is_err());
    }
});
