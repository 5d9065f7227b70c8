//! Clock and identifier helpers.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use rand::Rng;

/// Now, truncated to milliseconds (what the API shows).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// Now as an RFC 3339 string with milliseconds, e.g. `2025-01-28T10:00:00.000Z`.
pub(crate) fn timestamp_string() -> String {
    now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Unix time in seconds (the protocol crate's clock).
pub(crate) use luxcore_auth::unix_now;

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn pick(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

/// `len` random lowercase letters.
pub(crate) fn random_letters(len: usize) -> String {
    pick(LOWER, len)
}

/// `len` random lowercase letters and digits.
pub(crate) fn random_alnum(len: usize) -> String {
    pick(ALNUM, len)
}

/// A payment id: `pay_` + 10 digits + `_` + 8 lowercase letters.
pub(crate) fn payment_id() -> String {
    let secs = unix_now().rem_euclid(10_000_000_000);
    format!("pay_{secs:010}_{}", random_letters(8))
}

/// A random (version 4) UUID in its hyphenated form.
pub(crate) fn uuid_v4() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
