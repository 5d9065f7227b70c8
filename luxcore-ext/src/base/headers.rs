//! Reading LuxCore's response headers: server clock (`Date`), wait hints (`Retry-After`,
//! `X-RateLimit-Reset`), the request id and the `X-RateLimit-*` values. Pure functions of a
//! header map and a clock reading, used by decoding, retries and response metadata.

use std::time::Duration;

use reqwest::header::{DATE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

// The names as written in a `HeaderName` (lower case), once: the constants below and the
// one-pass scan of `MetaHeaders` both use them.
const DATE_NAME: &str = "date";
const X_RATELIMIT_LIMIT_NAME: &str = "x-ratelimit-limit";
const X_RATELIMIT_REMAINING_NAME: &str = "x-ratelimit-remaining";
const X_RATELIMIT_RESET_NAME: &str = "x-ratelimit-reset";
const X_REQUEST_ID_NAME: &str = "x-request-id";

/// `X-RateLimit-Limit`.
pub(crate) const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static(X_RATELIMIT_LIMIT_NAME);
/// `X-RateLimit-Remaining`.
pub(crate) const X_RATELIMIT_REMAINING: HeaderName =
    HeaderName::from_static(X_RATELIMIT_REMAINING_NAME);
/// `X-RateLimit-Reset`.
pub(crate) const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static(X_RATELIMIT_RESET_NAME);
/// `X-Request-Id`.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static(X_REQUEST_ID_NAME);

/// Response headers kept per failed attempt (for retries, rate limits, clock correction
/// and support). Names are constants: looking them up parses nothing.
pub(crate) const RECORDED_HEADERS: [HeaderName; 6] = [
    DATE,
    RETRY_AFTER,
    X_RATELIMIT_LIMIT,
    X_RATELIMIT_REMAINING,
    X_RATELIMIT_RESET,
    X_REQUEST_ID,
];

/// The `X-RateLimit-*` values of a response, when the server sent them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitInfo {
    /// `X-RateLimit-Limit`: requests allowed in the current window.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`: requests left in the current window.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`: when the window resets, in Unix seconds.
    pub reset: Option<i64>,
}

impl RateLimitInfo {
    /// Reads the three headers (absent or malformed values are `None`).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        MetaHeaders::scan(headers).rate_limit()
    }
}

/// What the metadata of an answer reads from its headers (`Date`, `X-Request-Id`,
/// `X-RateLimit-*`), found in one pass over the map: the first value of each name, as
/// `HeaderMap::get` gives, without one hashed lookup per name.
#[derive(Debug, Default)]
pub(crate) struct MetaHeaders<'h> {
    pub(crate) date: Option<&'h HeaderValue>,
    request_id: Option<&'h HeaderValue>,
    limit: Option<&'h HeaderValue>,
    remaining: Option<&'h HeaderValue>,
    reset: Option<&'h HeaderValue>,
}

impl<'h> MetaHeaders<'h> {
    pub(crate) fn scan(headers: &'h HeaderMap) -> Self {
        let mut found = MetaHeaders::default();
        for (name, value) in headers {
            let slot = match name.as_str() {
                DATE_NAME => &mut found.date,
                X_REQUEST_ID_NAME => &mut found.request_id,
                X_RATELIMIT_LIMIT_NAME => &mut found.limit,
                X_RATELIMIT_REMAINING_NAME => &mut found.remaining,
                X_RATELIMIT_RESET_NAME => &mut found.reset,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        found
    }

    pub(crate) fn request_id(&self) -> Option<String> {
        value_str(self.request_id).map(str::to_owned)
    }

    pub(crate) fn rate_limit(&self) -> RateLimitInfo {
        RateLimitInfo {
            limit: value_str(self.limit).and_then(|v| v.parse().ok()),
            remaining: value_str(self.remaining).and_then(|v| v.parse().ok()),
            reset: value_str(self.reset).and_then(|v| v.parse().ok()),
        }
    }
}

fn value_str(value: Option<&HeaderValue>) -> Option<&str> {
    value.and_then(|v| v.to_str().ok()).map(str::trim)
}

/// The `X-Request-Id` header.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    header_str(headers, &X_REQUEST_ID).map(str::to_owned)
}

/// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) into Unix seconds.
pub(crate) fn parse_http_date(value: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.timestamp())
}

fn header_str<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    value_str(headers.get(name))
}

/// The server's clock from its `Date` header, in Unix seconds.
pub(crate) fn server_date(headers: &HeaderMap) -> Option<i64> {
    header_str(headers, &DATE).and_then(parse_http_date)
}

fn secs_until(target: i64, now: i64) -> Duration {
    Duration::from_secs(u64::try_from(target.saturating_sub(now)).unwrap_or(0))
}

/// `Retry-After`: delta seconds, or an HTTP date (measured against the response's
/// `Date` header when present, else `now_unix`).
pub(crate) fn retry_after_header(headers: &HeaderMap, now_unix: i64) -> Option<Duration> {
    let value = header_str(headers, &RETRY_AFTER)?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(secs_until(at, server_date(headers).unwrap_or(now_unix)))
}

/// How long a 429 answer asks to wait: `Retry-After`, else `X-RateLimit-Reset` (Unix
/// seconds, measured against the `Date` header when present, else `now_unix`).
pub(crate) fn server_delay_hint(headers: &HeaderMap, now_unix: i64) -> Option<Duration> {
    retry_after_header(headers, now_unix).or_else(|| {
        let reset: i64 = header_str(headers, &X_RATELIMIT_RESET)?.parse().ok()?;
        Some(secs_until(reset, server_date(headers).unwrap_or(now_unix)))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// A header map of `pairs` (shared with the retry tests).
    pub(crate) fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    const NOW: i64 = 1_700_000_000; // Tue, 14 Nov 2023 22:13:20 GMT

    #[test]
    fn retry_after_seconds_and_date() {
        let h = headers(&[("retry-after", "12")]);
        assert_eq!(server_delay_hint(&h, NOW), Some(Duration::from_secs(12)));
        let h = headers(&[
            ("retry-after", "Tue, 14 Nov 2023 22:13:50 GMT"),
            ("date", "Tue, 14 Nov 2023 22:13:20 GMT"),
        ]);
        assert_eq!(server_delay_hint(&h, 0), Some(Duration::from_secs(30)));
        // No Date header: measured against the local clock; a past date means no wait.
        let h = headers(&[("retry-after", "Tue, 14 Nov 2023 22:13:25 GMT")]);
        assert_eq!(server_delay_hint(&h, NOW), Some(Duration::from_secs(5)));
        assert_eq!(server_delay_hint(&h, NOW + 100), Some(Duration::ZERO));
        let h = headers(&[("retry-after", "soon")]);
        assert_eq!(server_delay_hint(&h, NOW), None);
    }

    #[test]
    fn rate_limit_reset() {
        let h = headers(&[("x-ratelimit-reset", "1700000042")]);
        assert_eq!(server_delay_hint(&h, NOW), Some(Duration::from_secs(42)));
        let h = headers(&[
            ("x-ratelimit-reset", "1700000042"),
            ("date", "Tue, 14 Nov 2023 22:13:40 GMT"),
        ]);
        assert_eq!(server_delay_hint(&h, 0), Some(Duration::from_secs(22)));
        // Retry-After wins.
        let h = headers(&[("x-ratelimit-reset", "1700000042"), ("retry-after", "1")]);
        assert_eq!(server_delay_hint(&h, NOW), Some(Duration::from_secs(1)));
        assert_eq!(server_delay_hint(&HeaderMap::new(), NOW), None);
    }

    #[test]
    fn http_date() {
        assert_eq!(parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"), Some(NOW));
        assert_eq!(parse_http_date("garbage"), None);
        assert_eq!(
            server_date(&headers(&[("date", "Tue, 14 Nov 2023 22:13:20 GMT")])),
            Some(NOW)
        );
    }

    #[test]
    fn one_pass_reads_the_first_value_of_each_name_as_get_does() {
        let mut h = headers(&[
            ("x-request-id", "req_first"),
            ("content-type", "application/json"),
            ("x-ratelimit-remaining", " 7 "),
            ("date", "Tue, 14 Nov 2023 22:13:20 GMT"),
            ("x-ratelimit-reset", "soon"),
        ]);
        h.append("x-request-id", HeaderValue::from_static("req_second"));
        h.append("x-ratelimit-remaining", HeaderValue::from_static("8"));
        let found = MetaHeaders::scan(&h);
        assert_eq!(found.request_id().as_deref(), Some("req_first"));
        assert_eq!(found.request_id(), request_id(&h));
        assert_eq!(found.date, h.get(DATE));
        let info = found.rate_limit();
        assert_eq!(
            (info.limit, info.remaining, info.reset),
            (None, Some(7), None)
        );
        let empty = HeaderMap::new();
        let none = MetaHeaders::scan(&empty);
        assert_eq!((none.request_id(), none.date), (None, None));
    }

    #[test]
    fn rate_limit_info_and_request_id() {
        let h = headers(&[
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-remaining", "7"),
            ("x-ratelimit-reset", "1700000042"),
            ("x-request-id", "req_9"),
        ]);
        let info = RateLimitInfo::from_headers(&h);
        assert_eq!(
            (info.limit, info.remaining, info.reset),
            (Some(100), Some(7), Some(1_700_000_042))
        );
        assert_eq!(request_id(&h).as_deref(), Some("req_9"));
        assert_eq!(
            RateLimitInfo::from_headers(&HeaderMap::new()),
            RateLimitInfo::default()
        );
    }
}
