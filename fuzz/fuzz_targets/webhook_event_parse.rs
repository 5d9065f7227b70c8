//! `Event::parse` on arbitrary bytes: never panics; a JSON object with a non-blank event
//! name (`event` or `type`) always parses (a signed event is never refused for its shape),
//! with `raw()` equal to the input; a parsed event re-parses identically from its JSON
//! value and round-trips through serde; its de-duplication key never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use luxcore_ext::webhooks::{Event, dedup_key};

fuzz_target!(|data: &[u8]| {
    let parsed = Event::parse(data);
    let value: Option<serde_json::Value> = serde_json::from_slice(data).ok();
    let has_name = value.as_ref().and_then(|v| v.as_object()).is_some_and(|o| {
        ["event", "type"]
            .iter()
            .find_map(|k| o.get(*k).and_then(|v| v.as_str()))
            .is_some_and(|name| !name.trim().is_empty())
    });
    assert_eq!(parsed.is_ok(), has_name, "{parsed:?}");
    let Ok(event) = parsed else {
        return;
    };
    let _ = format!("{event:?}");
    let value = value.expect("parsed as JSON before");
    assert_eq!(event.raw(), &value);
    assert_eq!(Event::from_value(value).as_ref(), Ok(&event));
    let stored = serde_json::to_vec(&event).expect("serializes");
    assert_eq!(serde_json::from_slice::<Event>(&stored).ok().as_ref(), Some(&event));
    let key = dedup_key(&event, data);
    assert_eq!(key, dedup_key(&event, data));
    if event.payment_id().is_none() || event.status_version().is_none() {
        assert!(!key.is_payment());
    }
});
