//! Configured credentials (API keys with their scopes, v2 HMAC secrets) and the nonce
//! replay store of v2 requests.

use std::collections::HashMap;
use std::sync::Arc;

use luxcore_auth::request::REPLAY_WINDOW_SECS;
use secrecy::SecretString;

/// Configured credentials.
pub(crate) struct Credentials {
    pub(crate) api_keys: HashMap<String, Arc<[String]>>,
    pub(crate) hmac: HashMap<u64, SecretString>,
}

/// Nonces seen per merchant, each kept until its replay window has passed.
#[derive(Debug, Default)]
pub(crate) struct NonceStore {
    seen: HashMap<(u64, String), i64>,
    last_purge: i64,
}

impl NonceStore {
    /// Records the nonce; `false` if it was already used within the window.
    pub(crate) fn remember(
        &mut self,
        merchant_id: u64,
        nonce: &str,
        timestamp: i64,
        now: i64,
    ) -> bool {
        if now != self.last_purge {
            self.seen.retain(|_, expires| *expires > now);
            self.last_purge = now;
        }
        let key = (merchant_id, nonce.to_owned());
        if self.seen.get(&key).is_some_and(|expires| *expires > now) {
            return false;
        }
        let expires = timestamp.max(now).saturating_add(REPLAY_WINDOW_SECS);
        self.seen.insert(key, expires);
        true
    }

    /// Forgets every nonce.
    pub(crate) fn clear(&mut self) {
        self.seen.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_store_rejects_reuse_and_expires() {
        let mut store = NonceStore::default();
        assert!(store.remember(1, "abcdefgh", 1000, 1000));
        assert!(!store.remember(1, "abcdefgh", 1000, 1100));
        assert!(store.remember(2, "abcdefgh", 1000, 1100));
        assert!(store.remember(1, "abcdefgh", 1400, 1400));
    }
}
