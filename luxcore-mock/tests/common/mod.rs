//! Shared helpers of the luxcore-mock integration tests (raw reqwest).
#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use luxcore_auth::HmacCredentials;
use luxcore_mock::{
    DEFAULT_API_KEY, DEFAULT_HMAC_SECRET, DEFAULT_MERCHANT_ID, MockConfig, MockServer,
};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A started server plus a client that sends the default API key.
pub struct Harness {
    pub server: MockServer,
    pub http: reqwest::Client,
    pub key: String,
}

/// A response: status, headers and the body parsed as JSON (`Null` if not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// `error_code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error_code"].as_str().unwrap_or("")
    }

    /// Deserialises the body into a generated type (panics with the body on mismatch).
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("body does not match the schema: {e}\n{:#}", self.body))
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

pub async fn start(config: MockConfig) -> Harness {
    let server = MockServer::start(config).await.expect("server starts");
    Harness {
        server,
        http: client(),
        key: DEFAULT_API_KEY.to_owned(),
    }
}

/// Default config without rate limits and with fast webhook retries.
pub async fn start_default() -> Harness {
    start(
        MockConfig::default()
            .without_rate_limits()
            .with_webhook_retry_base(Duration::from_millis(20)),
    )
    .await
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// Request with an optional JSON body and the given API key (`None`: no key).
    pub async fn call_as(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, self.url(path));
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply(request.send().await.expect("request sent")).await
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(Some(&self.key.clone()), method, path, body)
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn post_empty(&self, path: &str) -> Reply {
        self.call(Method::POST, path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }

    /// Signed v2 request with explicit timestamp and nonce.
    pub async fn v2_with(
        &self,
        method: Method,
        path: &str,
        body: &[u8],
        timestamp: i64,
        nonce: &str,
    ) -> Reply {
        let creds = HmacCredentials::new(DEFAULT_MERCHANT_ID, DEFAULT_HMAC_SECRET);
        let signed = creds.sign(method.as_str(), path, body, timestamp, nonce);
        let mut request = self
            .http
            .request(method, self.url(path))
            .header("Content-Type", "application/json")
            .body(body.to_vec());
        for (name, value) in signed.to_pairs() {
            request = request.header(name, value);
        }
        reply(request.send().await.expect("request sent")).await
    }

    /// Signed v2 request, now, fresh nonce.
    pub async fn v2(&self, method: Method, path: &str, body: &[u8]) -> Reply {
        self.v2_with(
            method,
            path,
            body,
            unix_now(),
            &luxcore_auth::request::generate_nonce(),
        )
        .await
    }

    /// Creates a payment and returns the reply.
    pub async fn create(&self, body: Value) -> Reply {
        self.post("/api/v1/payments", body).await
    }

    /// Creates an ARS bank-transfer deposit; returns its id.
    pub async fn deposit(&self, amount: i64, reference: &str) -> String {
        let r = self.create(deposit_body(amount, reference)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }
}

pub fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("time fits")
}

pub fn deposit_body(amount: i64, reference: &str) -> Value {
    json!({
        "amount": amount,
        "currency": "ARS",
        "method": "bank_transfer",
        "type": "deposit",
        "merchant_reference": reference,
        "description": "Order",
        "customer": {"name": "Maria Garcia", "email": "maria@example.com"},
        "metadata": {"order_id": "abc123"}
    })
}

pub fn withdrawal_body(amount: i64, reference: &str) -> Value {
    json!({
        "amount": amount,
        "currency": "ARS",
        "method": "bank_transfer",
        "type": "withdrawal",
        "merchant_reference": reference,
        "payout": {"account_number": "0110012345678901234567"}
    })
}

/// Polls `check` every 10 ms until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
