//! `Event::parse` on arbitrary bytes: never panics; a parsed event re-parses identically
//! from its JSON value, and the status-version guard never applies it twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use luxcore_ext::webhooks::{Event, GuardDecision, StatusVersionGuard};

fuzz_target!(|data: &[u8]| {
    let Ok(event) = Event::parse(data) else {
        return;
    };
    let _ = format!("{event:?}");
    let value: serde_json::Value = serde_json::from_slice(data).expect("parsed as JSON before");
    assert_eq!(Event::from_value(value).as_ref(), Ok(&event));
    let guard = StatusVersionGuard::in_memory();
    let first = guard.check(&event);
    let second = guard.check(&event);
    assert!(!(first == GuardDecision::Apply && second == GuardDecision::Apply));
});
