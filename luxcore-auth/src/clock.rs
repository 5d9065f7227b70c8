//! The one clock helper of the protocol (and of the SDK, which re-uses it).

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time as Unix seconds (0 if the system clock is before 1970, saturating far in
/// the future).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_after_2023() {
        // 2023-11-14T22:13:20Z; a clock helper that returned 0 or a constant would fail.
        let now = super::unix_now();
        assert!(now > 1_700_000_000, "{now}");
        assert!(now < 32_503_680_000, "{now}"); // year 3000
    }
}
