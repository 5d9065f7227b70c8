//! The garbage server: answers every request with the current case's status, headers and
//! body, and records where each request was addressed; and clients for it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Response};
use luxcore_ext::client::LuxCore;
use luxcore_ext::retry::RetryPolicy;

/// What the garbage server answers to every request of a case.
#[derive(Clone, Default)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, Vec<u8>)>,
    pub(crate) body: Vec<u8>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value)))
            .collect();
        let body = String::from_utf8_lossy(&self.body);
        let shown: String = body.chars().take(600).collect();
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .field("body", &shown)
            .finish()
    }
}

/// The garbage server's state: the answer of the current case, and the authority (host and
/// port) every request was addressed to.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) answer: Mutex<Answer>,
    pub(crate) authorities: Mutex<Vec<String>>,
}

pub(crate) type Slot = Arc<Shared>;

impl Shared {
    pub(crate) fn serve(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }
}

pub(crate) fn respond(slot: &Slot, request: &axum::extract::Request) -> Response<Body> {
    // Through a forward proxy the request target is absolute (`http://host/path`).
    let authority = request.uri().authority().map_or_else(
        || {
            let host = request.headers().get("host");
            String::from_utf8_lossy(host.map_or(&b""[..], |h| h.as_bytes())).into_owned()
        },
        ToString::to_string,
    );
    slot.authorities.lock().unwrap().push(authority);
    let answer = slot.answer.lock().unwrap().clone();
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        axum::http::StatusCode::from_u16(answer.status).expect("statuses are valid");
    for (name, value) in answer.headers {
        // Bytes a header value cannot hold (control characters) are skipped.
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// Serves `slot` on an ephemeral local port; returns `http://127.0.0.1:PORT`.
pub(crate) async fn garbage_server(slot: Slot) -> String {
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let slot = Arc::clone(&slot);
        async move { respond(&slot, &request) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A client for the garbage server. Its HTTP client sends **every** request through the
/// garbage server as a forward proxy: an upload URL taken from a mutated body may name any
/// host, and nothing may leave the machine.
/// The two clients of the garbage server: `v1` holds the API key only (every operation
/// through API v1), `v2` holds HMAC credentials too (payment creation and balance reads
/// through API v2).
pub(crate) struct Clients {
    pub(crate) v1: LuxCore,
    pub(crate) v2: LuxCore,
}

pub(crate) fn client_for(base_url: &str, retries: bool) -> Clients {
    let policy = if retries {
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_base_delay(Duration::from_millis(1))
            .with_max_delay(Duration::from_millis(5))
            .with_max_elapsed(Duration::from_secs(2))
    } else {
        RetryPolicy::none()
    };
    let http = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(base_url).unwrap())
        .connect_timeout(Duration::from_secs(1))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let builder = || {
        LuxCore::builder()
            .base_url(base_url)
            .api_key("qp_test_sk_local")
            .http_client(http.clone())
            .timeout(Duration::from_secs(3))
            .retry_policy(policy.clone())
    };
    Clients {
        v1: builder().build().unwrap(),
        v2: builder()
            .hmac(123, "hmac_test_secret_local")
            .build()
            .unwrap(),
    }
}
