//! Runs every known-answer vector in `vectors/` through this crate's signing and verification.

use std::collections::BTreeSet;

use http::HeaderMap;
use luxcore_auth::request::{
    self, HmacCredentials, SignatureError, canonical_string_v1, verify_v1,
};
use luxcore_auth::vectors;
use luxcore_auth::webhook::{
    self, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookVerifier, WebhookVerifyError,
    signed_payload_v1,
};
use secrecy::SecretString;

fn files_in(dir: &str) -> BTreeSet<String> {
    let path = format!("{}/vectors/{dir}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".json")
                .expect("only .json files")
                .to_owned()
        })
        .collect()
}

#[test]
fn every_vector_file_is_listed() {
    let listed = |files: &[(&str, &str)]| -> BTreeSet<String> {
        files.iter().map(|(n, _)| (*n).to_owned()).collect()
    };
    assert_eq!(files_in("request-v1"), listed(vectors::REQUEST_V1_FILES));
    assert_eq!(files_in("webhook-v1"), listed(vectors::WEBHOOK_V1_FILES));
    assert!(vectors::request_v1().len() >= 4);
    assert!(vectors::webhook_v1().len() >= 3);
}

#[test]
fn request_vectors_sign_and_verify() {
    for v in vectors::request_v1() {
        let canonical = canonical_string_v1(
            v.timestamp,
            &v.nonce,
            &v.method,
            &v.path_with_query,
            v.body.as_bytes(),
        );
        assert_eq!(canonical, v.canonical, "{}", v.name);
        let secret = SecretString::from(v.secret.clone());
        assert_eq!(
            format!(
                "{}{}",
                request::SIGNATURE_PREFIX,
                request::signature_v1(&secret, &canonical)
            ),
            v.signature,
            "{}",
            v.name
        );
        let signed = HmacCredentials::new(v.merchant_id, v.secret.clone()).sign(
            &v.method,
            &v.path_with_query,
            v.body.as_bytes(),
            v.timestamp,
            &v.nonce,
        );
        assert_eq!(signed.signature, v.signature, "{}", v.name);
        let mut headers = HeaderMap::new();
        signed.try_apply(&mut headers).unwrap();
        let method = v.method.to_ascii_uppercase();
        let ok = verify_v1(
            &secret,
            &headers,
            &method,
            &v.path_with_query,
            v.body.as_bytes(),
            v.timestamp,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(
            (ok.merchant_id, ok.timestamp, ok.nonce.as_str()),
            (v.merchant_id, v.timestamp, v.nonce.as_str())
        );
        // One byte more in the body is a mismatch.
        let tampered = format!("{} ", v.body);
        assert_eq!(
            verify_v1(
                &secret,
                &headers,
                &method,
                &v.path_with_query,
                tampered.as_bytes(),
                v.timestamp
            ),
            Err(SignatureError::SignatureMismatch),
            "{}",
            v.name
        );
    }
}

#[test]
fn webhook_vectors_sign_and_verify() {
    for v in vectors::webhook_v1() {
        assert_eq!(
            signed_payload_v1(v.timestamp, v.body.as_bytes()),
            v.signed_payload.as_bytes(),
            "{}",
            v.name
        );
        let secret = SecretString::from(v.secret.clone());
        assert_eq!(
            webhook::sign_v1(&secret, v.timestamp, v.body.as_bytes()),
            v.signature,
            "{}",
            v.name
        );
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_SIGNATURE, v.signature.parse().unwrap());
        headers.insert(HEADER_TIMESTAMP, v.timestamp.to_string().parse().unwrap());
        let verifier = WebhookVerifier::new(v.secret.clone());
        assert_eq!(
            verifier
                .verify_at(&headers, v.body.as_bytes(), v.timestamp)
                .unwrap()
                .timestamp,
            v.timestamp
        );
        let tampered = format!("{} ", v.body);
        assert_eq!(
            verifier.verify_at(&headers, tampered.as_bytes(), v.timestamp),
            Err(WebhookVerifyError::SignatureMismatch),
            "{}",
            v.name
        );
    }
}
