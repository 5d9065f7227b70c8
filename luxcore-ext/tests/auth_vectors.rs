//! The protocol crate's known-answer request vectors, through the SDK's own signing hook:
//! for each vector, the client (holding the vector's merchant id and secret) sends the
//! vector's method and path; a local server captures what arrived. The path and query must
//! arrive byte for byte as in the vector (so the vector's canonical string is the one the
//! SDK signs), and the captured signature must verify with the vector's secret over exactly
//! the captured bytes. (Timestamp and nonce are fresh per request, so the digest itself is
//! compared by luxcore-auth's own vector tests.)

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use luxcore_auth::request::{canonical_string_v1, signature_v1, verify_v1};
use luxcore_auth::vectors;
use luxcore_ext::client::LuxCore;
use secrecy::SecretString;

type Captured = Arc<Mutex<Vec<(Method, String, HeaderMap, Bytes)>>>;

async fn capture_server(captured: Captured) -> String {
    let app = Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let captured = Arc::clone(&captured);
            async move {
                let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
                captured.lock().unwrap().push((method, path, headers, body));
                (StatusCode::OK, "{}")
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_sdk_signs_the_vectors_wire_bytes() {
    let captured = Captured::default();
    let base = capture_server(Arc::clone(&captured)).await;
    let all = vectors::request_v1();
    assert!(all.len() >= 4);
    for v in &all {
        let client = LuxCore::builder()
            .base_url(&base)
            .hmac(v.merchant_id, v.secret.clone())
            .build()
            .unwrap();
        let method = Method::from_bytes(v.method.to_ascii_uppercase().as_bytes()).unwrap();
        let body: Option<serde_json::Value> =
            (!v.body.is_empty()).then(|| serde_json::from_str(&v.body).unwrap());
        let (status, _) = client
            .signed_request(method.clone(), &v.path_with_query, body.as_ref())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(status, 200, "{}", v.name);

        let (got_method, got_path, headers, got_body) = captured.lock().unwrap().pop().unwrap();
        assert_eq!(got_method, method, "{}", v.name);
        assert_eq!(
            got_path, v.path_with_query,
            "{}: path and query verbatim",
            v.name
        );
        let expected_body = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        assert_eq!(got_body.as_ref(), expected_body.as_slice(), "{}", v.name);

        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        assert_eq!(
            header("x-merchant-id"),
            v.merchant_id.to_string(),
            "{}",
            v.name
        );
        let timestamp: i64 = header("x-timestamp").parse().unwrap();
        let secret = SecretString::from(v.secret.clone());
        // The signature is the vector's template over what was sent ...
        let canonical = canonical_string_v1(
            timestamp,
            &header("x-nonce"),
            v.method.as_str(),
            &got_path,
            &got_body,
        );
        assert_eq!(
            header("x-signature"),
            format!("hmac_sha256={}", signature_v1(&secret, &canonical)),
            "{}",
            v.name
        );
        // ... and the server-side verification accepts it.
        let verified = verify_v1(
            &secret,
            &headers,
            method.as_str(),
            &got_path,
            &got_body,
            timestamp,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(verified.merchant_id, v.merchant_id);
    }
}
