//! `Event::parse` on arbitrary bytes: never panics; a parsed event re-parses identically
//! from its JSON value, and its de-duplication key never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use luxcore_ext::webhooks::{Event, dedup_key};

fuzz_target!(|data: &[u8]| {
    let Ok(event) = Event::parse(data) else {
        return;
    };
    let _ = format!("{event:?}");
    let value: serde_json::Value = serde_json::from_slice(data).expect("parsed as JSON before");
    assert_eq!(Event::from_value(value).as_ref(), Ok(&event));
    let key = dedup_key(&event, data);
    assert_eq!(key, dedup_key(&event, data));
    if event.payment_id().is_none() || event.status_version().is_none() {
        assert!(!key.is_payment());
    }
});
