//! Locale-aware money (feature `locale`): how each market's locale writes and reads
//! amounts, the refusal of ambiguous text, and format→parse round trips.

use luxcore_ext::Currency;
use luxcore_ext::balance::{Locale, Money, MoneyFormat, MoneyParseError};
use proptest::prelude::*;

/// The locales of LuxCore's markets, with their decimal and grouping separators (CLDR).
const MARKETS: &[(&str, char, char)] = &[
    ("es-AR", ',', '.'),
    ("es-UY", ',', '.'),
    ("tr-TR", ',', '.'),
    ("es-MX", '.', ','),
    ("en-AU", '.', ','),
    ("en-LK", '.', ','),
    ("si-LK", '.', ','),
];

fn locale(tag: &str) -> Locale {
    tag.parse().unwrap()
}

#[test]
fn each_market_formats_its_own_way() {
    let amount = |currency| Money::new(4_599_990, currency);
    for (tag, currency, expected) in [
        ("es-AR", Currency::ARS, "45.999,90 ARS"),
        ("es-UY", Currency::UYU, "45.999,90 UYU"),
        ("tr-TR", Currency::TRY, "45.999,90 TRY"),
        ("es-MX", Currency::MXN, "45,999.90 MXN"),
        ("en-AU", Currency::AUD, "45,999.90 AUD"),
        ("en-LK", Currency::LKR, "45,999.90 LKR"),
        ("si-LK", Currency::LKR, "45,999.90 LKR"),
    ] {
        assert_eq!(
            amount(currency.clone()).format(&locale(tag)),
            expected,
            "{tag}"
        );
        // Display does not change with the locale.
        assert_eq!(
            amount(currency.clone()).to_string(),
            format!("45,999.90 {currency}")
        );
    }
    let es_ar = locale("es-AR");
    assert_eq!(Money::new(-5, Currency::ARS).format(&es_ar), "-0,05 ARS");
    assert_eq!(Money::new(0, Currency::ARS).format(&es_ar), "0,00 ARS");
    assert_eq!(
        Money::new(123_400, Currency::ARS).format(&es_ar),
        "1.234,00 ARS"
    );
    assert_eq!(
        Money::new(i64::MIN, Currency::ARS).format(&es_ar),
        "-92.233.720.368.547.758,08 ARS"
    );
    // No minor unit is guessed for a currency the SDK does not know.
    assert_eq!(
        Money::new(123_400, Currency::from("EUR")).format(&es_ar),
        "123.400 EUR (minor units)"
    );
    // Other scripts: the locale's own digits, read back as well.
    let bn = locale("bn");
    let text = Money::new(-123_456_789, Currency::LKR).format(&bn);
    assert_eq!(text, "-১২,৩৪,৫৬৭.৮৯ LKR");
    assert_eq!(
        Money::parse(&text, Currency::LKR, &bn).unwrap().minor,
        -123_456_789
    );
}

#[test]
fn how_argentines_type_amounts() {
    let es_ar = MoneyFormat::new(&locale("es-AR"));
    for (text, minor) in [
        ("45.999,90", 4_599_990),
        ("45999,90", 4_599_990),
        ("45999,9", 4_599_990),
        ("45.999", 4_599_900),
        ("1.234", 123_400), // `.` groups: 1 234, documented
        ("1.234.567", 123_456_700),
        ("0,05", 5),
        ("-1.500,00", -150_000),
        ("−1.500", -150_000),
        ("+7", 700),
        ("  12,5 ARS ", 1_250),
        ("ARS 12,50", 1_250),
        ("ars12", 1_200),
        ("45.999,90 ARS", 4_599_990),
        ("-92.233.720.368.547.758,08", i64::MIN),
        ("92233720368547758,07", i64::MAX),
    ] {
        assert_eq!(
            es_ar.parse(text, Currency::ARS),
            Ok(Money::new(minor, Currency::ARS)),
            "{text:?}"
        );
    }
}

#[test]
fn ambiguous_or_inexact_text_is_refused() {
    type E = MoneyParseError;
    type Case = (&'static str, &'static str, fn(String) -> E);
    let cases: [Case; 29] = [
        // `.` groups in es-AR: a group of one or two digits is misplaced, not a decimal.
        ("es-AR", "1.5", E::MisplacedSeparator),
        ("es-AR", "1.50", E::MisplacedSeparator),
        ("es-AR", "1234.567", E::MisplacedSeparator),
        ("es-AR", "1.2345", E::MisplacedSeparator),
        ("es-AR", "1.", E::MisplacedSeparator),
        ("es-AR", ".500", E::MisplacedSeparator),
        // `,` is the decimal separator: three decimals are never rounded away.
        ("es-AR", "1,234", E::TooManyDecimals),
        ("es-AR", "1,500", E::TooManyDecimals),
        ("es-AR", "0,001", E::TooManyDecimals),
        // US style in an es-AR field.
        ("es-AR", "45,999.90", E::InvalidFormat),
        ("es-AR", "1,2,3", E::InvalidFormat),
        ("es-AR", "1,", E::InvalidFormat),
        ("es-AR", ",5", E::InvalidFormat),
        ("es-AR", "$ 1.500", E::InvalidFormat),
        ("es-AR", "1 500", E::InvalidFormat),
        ("es-AR", "1'500", E::InvalidFormat),
        ("es-AR", "- 5", E::InvalidFormat),
        ("es-AR", "--5", E::InvalidFormat),
        ("es-AR", "ARS", E::InvalidFormat),
        ("es-AR", "-", E::InvalidFormat),
        ("es-AR", "12 MXN", |_| E::InvalidCurrency("MXN".into())),
        ("es-AR", "USD 12", |_| E::InvalidCurrency("USD".into())),
        ("es-AR", "92.233.720.368.547.758,08", E::Overflow),
        (
            "es-AR",
            "99999999999999999999999999999999999999999",
            E::Overflow,
        ),
        // The same texts the other way round in en-AU.
        ("en-AU", "1.234", E::TooManyDecimals),
        ("en-AU", "1,5", E::MisplacedSeparator),
        ("en-AU", "45.999,90", E::InvalidFormat),
        ("tr-TR", "1.5", E::MisplacedSeparator),
        ("es-MX", "1,234.567", E::TooManyDecimals),
    ];
    for (tag, text, expected) in cases {
        let expected = expected(text.trim().to_owned());
        let parsed = Money::parse(text, Currency::ARS, &locale(tag));
        assert_eq!(parsed, Err(expected), "{tag} {text:?}");
    }
    for blank in ["", "   "] {
        assert_eq!(
            Money::parse(blank, Currency::ARS, &locale("es-AR")),
            Err(E::Empty)
        );
    }
    assert_eq!(
        Money::parse("12", Currency::from("EUR"), &locale("es-AR")),
        Err(MoneyParseError::UnknownCurrency("EUR".into()))
    );
}

#[test]
fn space_grouping_and_indian_grouping() {
    // fr groups with U+202F; a typed space is accepted for it.
    let fr = locale("fr");
    assert_eq!(
        Money::parse("1 234 567,89", Currency::ARS, &fr)
            .unwrap()
            .minor,
        123_456_789
    );
    // en-IN groups 12,34,567: the secondary groups have two digits.
    let en_in = locale("en-IN");
    assert_eq!(
        Money::parse("12,34,567.89", Currency::LKR, &en_in)
            .unwrap()
            .minor,
        123_456_789
    );
    assert!(matches!(
        Money::parse("1,234,567.89", Currency::LKR, &en_in),
        Err(MoneyParseError::MisplacedSeparator(_))
    ));
}

#[test]
fn separators_for_input_hints() {
    let es_ar = MoneyFormat::new(&locale("es-AR"));
    assert_eq!(es_ar.decimal_separator(), Some(","));
    assert_eq!(es_ar.grouping_separator(), Some("."));
    assert_eq!(es_ar.locale().to_string(), "es-AR");
    fn shared<T: Send + Sync>(_: &T) {}
    shared(&es_ar);
}

fn market() -> impl Strategy<Value = (&'static str, char, char)> {
    proptest::sample::select(MARKETS)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// What a locale writes, it reads back exactly, with or without the code.
    #[test]
    fn format_then_parse_round_trips(minor in any::<i64>(), (tag, _, _) in market()) {
        let format = MoneyFormat::new(&locale(tag));
        let money = Money::new(minor, Currency::ARS);
        let text = format.format(&money);
        prop_assert_eq!(format.parse(&text, Currency::ARS), Ok(money.clone()));
        let number = text.strip_suffix(" ARS").unwrap();
        prop_assert_eq!(format.parse(number, Currency::ARS), Ok(money.clone()));
    }

    /// The amount written with the locale's separators, grouped or not, with one or two
    /// decimals or none, is exactly that amount; a third decimal is refused.
    #[test]
    fn typed_amounts_are_exact(
        whole in 0u64..1_000_000_000_000,
        cents in 0u32..100,
        decimals in 0usize..=2,
        grouped in any::<bool>(),
        (tag, decimal, group) in market(),
    ) {
        let digits = whole.to_string();
        let integer = if grouped {
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(group);
                }
                out.push(c);
            }
            out
        } else {
            digits
        };
        let (text, minor_cents) = match decimals {
            0 => (integer.clone(), 0),
            1 => (format!("{integer}{decimal}{}", cents / 10), i64::from(cents / 10) * 10),
            _ => (format!("{integer}{decimal}{cents:02}"), i64::from(cents)),
        };
        let expected = i64::try_from(whole).unwrap() * 100 + minor_cents;
        let format = MoneyFormat::new(&locale(tag));
        prop_assert_eq!(format.parse(&text, Currency::MXN), Ok(Money::new(expected, Currency::MXN)));
        let three = format!("{integer}{decimal}{cents:02}{}", cents % 10);
        prop_assert!(matches!(
            format.parse(&three, Currency::MXN),
            Err(MoneyParseError::TooManyDecimals(_))
        ));
    }
}
