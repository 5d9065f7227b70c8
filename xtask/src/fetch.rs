//! Downloading a candidate spec (`--fetch`, `drift --url`).

use std::time::Duration;

/// The published LuxCore OpenAPI document.
pub const LIVE_SPEC_URL: &str = "https://api.lux-core.io/api/v1/openapi.json";

/// Downloads `url` and checks that it is an OpenAPI 3.0 JSON document. Errors are one clear line.
pub fn fetch_spec(url: &str) -> Result<Vec<u8>, String> {
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("luxcore-rs-xtask/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let response = client.get(url).send().map_err(|e| {
        let cause = std::error::Error::source(&e)
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        format!("cannot download {url} (offline or unreachable?): {e}{cause}")
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "{url} answered HTTP {status}; expected 200 with the OpenAPI JSON"
        ));
    }
    let bytes = response
        .bytes()
        .map_err(|e| format!("reading the body of {url} failed: {e}"))?
        .to_vec();
    validate(&bytes).map_err(|e| format!("{url} did not return a usable spec: {e}"))?;
    Ok(bytes)
}

/// Checks that `bytes` is JSON with an OpenAPI 3.0.x version and parses as an OpenAPI document.
pub fn validate(bytes: &[u8]) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        let start = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]).replace('\n', " ");
        format!("not JSON ({e}); it starts with {start:?}")
    })?;
    match value.get("openapi").and_then(|v| v.as_str()) {
        Some(v) if v.starts_with("3.0.") => {}
        Some(v) => return Err(format!("OpenAPI version {v}; only 3.0.x is supported")),
        None => return Err("JSON without an `openapi` field: not an OpenAPI document".into()),
    }
    serde_json::from_value::<openapiv3::OpenAPI>(value)
        .map(|_| ())
        .map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))
}
