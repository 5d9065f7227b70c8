//! `Money` parsing on arbitrary text: `from_minor_str`, `parse_decimal` and `FromStr` never
//! panic, and every parsed amount round-trips through `Display` and minor units.
#![no_main]

use libfuzzer_sys::fuzz_target;
use luxcore_ext::Currency;
use luxcore_ext::balance::Money;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = [
        Money::from_minor_str(text, Currency::ARS),
        Money::parse_decimal(text, Currency::MXN),
        text.parse::<Money>(),
    ];
    for money in parsed.into_iter().flatten() {
        let shown = money.to_string();
        assert_eq!(shown.parse::<Money>().as_ref(), Ok(&money), "{shown}");
        let minor = Money::from_minor_str(&money.minor.to_string(), money.currency.clone());
        assert_eq!(minor.as_ref(), Ok(&money));
    }
});
