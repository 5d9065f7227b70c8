//! A generated payments list served on the fly: one payment created every millisecond.
//! Payment `k` (1-based, oldest first) was created at `t0 + k` ms; `initial` existed at
//! start; with `growing`, one more is created every millisecond after that. Honors
//! `limit`, `offset` and `created_at_to`; newest first, like `GET /payments`.
//!
//! Shared by `tests/pagination_stream.rs` and `benches/stream_memory.rs`.

// Each user takes what it needs.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};

pub struct Generated {
    pub base_url: String,
    pub requests: Arc<AtomicU64>,
    /// Requests that carried `created_at_to`.
    pub pinned_requests: Arc<AtomicU64>,
    pub t0_ms: i64,
}

#[derive(Clone)]
struct List {
    t0_ms: i64,
    initial: u64,
    growing: bool,
    requests: Arc<AtomicU64>,
    pinned_requests: Arc<AtomicU64>,
}

impl List {
    fn count(&self) -> u64 {
        if !self.growing {
            return self.initial;
        }
        let now = Utc::now().timestamp_millis();
        u64::try_from(now - self.t0_ms)
            .unwrap_or(0)
            .max(self.initial)
    }
}

pub fn id(k: u64) -> String {
    format!("pay_{k:010}")
}

async fn list(
    State(list): State<List>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    list.requests.fetch_add(1, Ordering::Relaxed);
    let limit: u64 = q.get("limit").and_then(|v| v.parse().ok()).unwrap_or(20);
    let offset: u64 = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut visible = list.count();
    if let Some(to) = q.get("created_at_to") {
        list.pinned_requests.fetch_add(1, Ordering::Relaxed);
        let to: DateTime<Utc> = to.parse().expect("created_at_to is RFC 3339");
        let k_to = u64::try_from(to.timestamp_millis() - list.t0_ms).unwrap_or(0);
        visible = visible.min(k_to);
    }
    let mut body = String::with_capacity(150 * limit as usize + 100);
    body.push_str("{\"success\":true,\"data\":[");
    let end = offset.saturating_add(limit).min(visible);
    for (n, position) in (offset..end).enumerate() {
        let k = visible - position;
        let created = DateTime::<Utc>::from_timestamp_millis(list.t0_ms + k as i64)
            .expect("valid time")
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if n > 0 {
            body.push(',');
        }
        body.push_str(&format!(
            "{{\"id\":\"{}\",\"amount\":{},\"currency\":\"ARS\",\"status\":\"completed\",\"created_at\":\"{created}\"}}",
            id(k),
            1000 + k
        ));
    }
    let total_pages = visible.div_ceil(limit.max(1));
    body.push_str(&format!(
        "],\"total\":{visible},\"pagination\":{{\"limit\":{limit},\"offset\":{offset},\"total_pages\":{total_pages}}}}}"
    ));
    let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_owned(),
            ),
            (axum::http::header::DATE, date),
        ],
        body,
    )
}

pub async fn start(initial: u64, growing: bool) -> Generated {
    let t0_ms = Utc::now().timestamp_millis() - initial as i64;
    let state = List {
        t0_ms,
        initial,
        growing,
        requests: Arc::default(),
        pinned_requests: Arc::default(),
    };
    let generated = Generated {
        base_url: String::new(),
        requests: Arc::clone(&state.requests),
        pinned_requests: Arc::clone(&state.pinned_requests),
        t0_ms,
    };
    let app = axum::Router::new()
        .route("/api/v1/payments", axum::routing::get(list))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Generated {
        base_url: format!("http://{addr}"),
        ..generated
    }
}

/// A line of `/proc/self/status` in KiB (`"VmRSS:"`, `"VmHWM:"`); 0 when unavailable.
pub fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
