//! Locale-aware [`Money`] text (feature `locale`): amounts as the people of each market
//! write them, `45.999,90 ARS` in Argentina, `45,999.90 AUD` in Australia.
//!
//! The digits, separators, minus sign and grouping of a locale come from ICU4X
//! (`icu_decimal`, with its compiled CLDR data), not from a table kept here. [`Money`]'s
//! `Display` / `FromStr` are not affected: they stay the locale-independent
//! `1,500.00 ARS` form (see [`Money`]).
//!
//! ## Cost of the feature
//!
//! `locale` adds five crates to the 144 a default build of `luxcore-ext` compiles
//! (`icu_decimal`, `icu_decimal_data`, `icu_locale_fallback`, `icu_locale_fallback_data`,
//! `fixed_decimal`); the rest of the ICU4X 2.x family it needs (`icu_locale_core`,
//! `icu_provider`, `zerovec`, `writeable`, ...) is already built for `url`'s international
//! domain names, and the feature only turns on `icu_provider`'s `sync` (so [`MoneyFormat`]
//! is `Send + Sync`). Measured with `cargo build --timings` on a shared 2-core Linux
//! machine: the five crates compile in about 1.4 s (dev profile) and 5.5 s (release) of
//! compile time in total. A cold release build of just `url` with its ICU4X crates already
//! takes over 80 s of compile time there, so the feature adds at most about 6 % to a cold
//! build of `luxcore-ext` (less, with `reqwest`, `tokio` and `rustls` counted).

use std::fmt;

use icu_decimal::DecimalFormatter;
use icu_decimal::input::Decimal;
use icu_decimal::parts;
use luxcore_api::enums::Currency;
use writeable::{Part, PartsWrite, Writeable};

use super::money::{Money, MoneyParseError, minor_unit_exponent};

/// A BCP 47 locale (`"es-AR".parse::<Locale>()`), re-exported from ICU4X
/// (`icu_locale_core`).
pub use icu_locale_core::Locale;

/// Formats and parses [`Money`] the way one locale writes numbers. Build it once per
/// locale and reuse it; [`Money::format`] and [`Money::parse`] build one per call.
///
/// | locale | `Money::new(4_599_990, ARS)` |
/// |---|---|
/// | `es-AR`, `es-UY`, `tr-TR` | `45.999,90 ARS` |
/// | `es-MX`, `en-AU`, `en-LK`, `si-LK` | `45,999.90 ARS` |
///
/// **The currency is shown by its ISO 4217 code, after the number, in every locale.** Local
/// symbols are ambiguous across LuxCore's markets (`$` is the Argentine, Mexican,
/// Uruguayan and Australian dollar alike), and ICU4X's currency formatting is still
/// experimental (`icu_experimental`), so this SDK does not use it.
///
/// **Parsing** reads what a person of that locale types, and refuses what it cannot read
/// without guessing:
/// - digits (ASCII or the locale's own), the locale's decimal separator, and its grouping
///   separator in well-formed groups (a locale that groups with a space also takes any
///   space); an optional sign (`-`, `−`, `+` or the locale's own); optionally the
///   currency's code before or after the number (any letter case; another code is
///   [`MoneyParseError::InvalidCurrency`]). Currency symbols (`$`, `₺`) are refused.
/// - **The grouping separator is always grouping:** in `es-AR` (`.` groups, `,` is
///   decimal) `"1.234"` is 1 234, not 1.234. Since every documented currency has two
///   decimals, a separator followed by exactly three digits can only be grouping, so this
///   reading is never a guess.
/// - **Ambiguous input is refused**, with the reading it would need: in `es-AR`, `"1.5"`
///   ([`MoneyParseError::MisplacedSeparator`], `.` groups three digits) and `"1,234"`
///   ([`MoneyParseError::TooManyDecimals`]); in `en-AU`, `"1.234"` (too many decimals)
///   and `"1,5"` (misplaced separator). `"45,999.90"` in `es-AR` is
///   [`MoneyParseError::InvalidFormat`].
/// - **Never rounds:** more decimals than the currency has (two for every documented
///   currency, see [`minor_unit_exponent`]) are refused, trailing zeros included
///   (`"1,500"` in `es-AR`). A currency without a known minor unit is
///   [`MoneyParseError::UnknownCurrency`].
///
/// ```
/// use luxcore_ext::balance::{Locale, Money, MoneyFormat, MoneyParseError};
/// use luxcore_ext::Currency;
///
/// let es_ar: Locale = "es-AR".parse().unwrap();
/// let format = MoneyFormat::new(&es_ar);
/// let amount = format.parse("45.999,90", Currency::ARS).unwrap();
/// assert_eq!(amount, Money::new(4_599_990, Currency::ARS));
/// assert_eq!(format.format(&amount), "45.999,90 ARS");
/// assert_eq!(amount.to_string(), "45,999.90 ARS"); // Display is locale-independent
///
/// assert_eq!(format.parse("1.234", Currency::ARS).unwrap().minor, 123_400);
/// assert!(matches!(format.parse("1.5", Currency::ARS), Err(MoneyParseError::MisplacedSeparator(_))));
/// assert!(matches!(format.parse("1,234", Currency::ARS), Err(MoneyParseError::TooManyDecimals(_))));
/// ```
pub struct MoneyFormat {
    locale: Locale,
    /// `None` only if ICU4X had no data even for the root locale (never with its compiled
    /// data): then [`Self::format`] falls back to `Display` and [`Self::parse`] refuses.
    formatter: Option<DecimalFormatter>,
    /// `None` if the formatter's output could not be read back (see [`Symbols::probe`]).
    symbols: Option<Symbols>,
}

/// What [`MoneyFormat::parse`] needs to know of a locale, read from what ICU4X writes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Symbols {
    minus_prefix: String,
    minus_suffix: String,
    decimal: String,
    /// Empty when the locale never groups.
    group: String,
    /// Size of the group next to the decimal separator (3), and of the groups further left
    /// (3; 2 in Indian-style grouping).
    primary: usize,
    secondary: usize,
    /// The locale's digits 0 to 9 (ASCII digits are accepted as well).
    digits: [char; 10],
}

impl fmt::Debug for MoneyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MoneyFormat")
            .field("locale", &self.locale.to_string())
            .field("symbols", &self.symbols)
            .finish()
    }
}

impl MoneyFormat {
    /// The format of `locale`. A locale without data of its own uses the nearest one
    /// CLDR has (`es-419` for `es-XX`, and at last the root locale), as ICU4X does.
    pub fn new(locale: &Locale) -> Self {
        let formatter = DecimalFormatter::try_new(locale.into(), Default::default())
            .or_else(|_| DecimalFormatter::try_new(Default::default(), Default::default()))
            .ok();
        let symbols = formatter.as_ref().and_then(Symbols::probe);
        MoneyFormat {
            locale: locale.clone(),
            formatter,
            symbols,
        }
    }

    /// The locale.
    pub fn locale(&self) -> &Locale {
        &self.locale
    }

    /// The decimal separator (`,` in `es-AR`, `.` in `en-AU`), e.g. for an input hint.
    pub fn decimal_separator(&self) -> Option<&str> {
        self.symbols.as_ref().map(|s| s.decimal.as_str())
    }

    /// The grouping separator (`.` in `es-AR`, `,` in `en-AU`); `None` if the locale does
    /// not group digits.
    pub fn grouping_separator(&self) -> Option<&str> {
        self.symbols
            .as_ref()
            .map(|s| s.group.as_str())
            .filter(|g| !g.is_empty())
    }

    /// `money` as the locale writes it, then a space and the currency code:
    /// `-45.999,90 ARS` in `es-AR`. Always every decimal of the currency. A currency
    /// without a known minor unit shows its minor units, as `Display` does:
    /// `123.400 EUR (minor units)`.
    pub fn format(&self, money: &Money) -> String {
        let Some(formatter) = &self.formatter else {
            return money.to_string();
        };
        let Money { minor, currency } = money;
        match minor_unit_exponent(currency) {
            Some(exponent) => {
                let exponent = i16::try_from(exponent).unwrap_or(i16::MAX);
                let mut decimal = Decimal::from(*minor);
                decimal.multiply_pow10(-exponent);
                format!("{} {currency}", formatter.format(&decimal))
            }
            None => format!(
                "{} {currency} (minor units)",
                formatter.format(&Decimal::from(*minor))
            ),
        }
    }

    /// Parses an amount of `currency` typed in this locale (rules: see [`MoneyFormat`]).
    pub fn parse(&self, text: &str, currency: Currency) -> Result<Money, MoneyParseError> {
        let exponent = minor_unit_exponent(&currency)
            .ok_or_else(|| MoneyParseError::UnknownCurrency(currency.to_string()))?;
        let cleaned: String = text.chars().filter(|c| !is_bidi_mark(*c)).collect();
        let trimmed = cleaned.trim();
        if trimmed.is_empty() {
            return Err(MoneyParseError::Empty);
        }
        let invalid = || MoneyParseError::InvalidFormat(trimmed.to_owned());
        let Some(symbols) = &self.symbols else {
            return Err(invalid());
        };
        let number = strip_code(trimmed, &currency)?;
        if number.is_empty() {
            return Err(invalid());
        }
        let (negative, body) = symbols.split_sign(number).ok_or_else(invalid)?;
        let (int_digits, frac_digits) = symbols.read(body, trimmed)?;
        if frac_digits.len() > exponent as usize {
            return Err(MoneyParseError::TooManyDecimals(trimmed.to_owned()));
        }
        let overflow = || MoneyParseError::Overflow(trimmed.to_owned());
        let mut magnitude: i128 = 0;
        let padding = exponent as usize - frac_digits.len();
        let all = int_digits
            .iter()
            .chain(&frac_digits)
            .copied()
            .chain(std::iter::repeat_n(0, padding));
        for digit in all {
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(digit)))
                .filter(|m| *m <= i128::from(u64::MAX))
                .ok_or_else(overflow)?;
        }
        let value = if negative { -magnitude } else { magnitude };
        let minor = i64::try_from(value).map_err(|_| overflow())?;
        Ok(Money::new(minor, currency))
    }
}

impl Money {
    /// This amount as `locale` writes it, with the currency code: `45.999,90 ARS` in
    /// `es-AR`, `45,999.90 ARS` in `en-AU` (feature `locale`; see [`MoneyFormat`]).
    /// `Display` stays locale-independent (`45,999.90 ARS`).
    ///
    /// ```
    /// use luxcore_ext::balance::{Locale, Money};
    /// use luxcore_ext::Currency;
    ///
    /// let amount = Money::new(-4_599_990, Currency::TRY);
    /// assert_eq!(amount.format(&"tr-TR".parse::<Locale>().unwrap()), "-45.999,90 TRY");
    /// assert_eq!(amount.format(&"en-AU".parse::<Locale>().unwrap()), "-45,999.90 TRY");
    /// ```
    pub fn format(&self, locale: &Locale) -> String {
        MoneyFormat::new(locale).format(self)
    }

    /// Parses an amount of `currency` as typed in `locale` (feature `locale`): in `es-AR`
    /// `"45.999,90"` is 45 999.90 and `"1.234"` is 1 234; ambiguous text and more decimals
    /// than the currency has are refused, never rounded. Rules: see [`MoneyFormat`].
    ///
    /// ```
    /// use luxcore_ext::balance::{Locale, Money};
    /// use luxcore_ext::Currency;
    ///
    /// let es_uy: Locale = "es-UY".parse().unwrap();
    /// assert!(Money::parse("$ 1.500,5", Currency::UYU, &es_uy).is_err()); // no symbols
    /// assert_eq!(Money::parse("1.500,5 UYU", Currency::UYU, &es_uy).unwrap().minor, 150_050);
    /// assert!(Money::parse("1.500,505", Currency::UYU, &es_uy).is_err()); // not rounded
    /// ```
    pub fn parse(
        text: &str,
        currency: Currency,
        locale: &Locale,
    ) -> Result<Money, MoneyParseError> {
        MoneyFormat::new(locale).parse(text, currency)
    }
}

/// Invisible direction marks ICU4X puts around signs in right-to-left locales, and that
/// text copied from such a page may carry: ignored when parsing.
fn is_bidi_mark(c: char) -> bool {
    matches!(
        c,
        '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Removes the currency's code before or after the number (any case, optionally separated
/// by white space). Three other letters there are another currency; other letters are left
/// for the number reader to refuse.
fn strip_code<'a>(text: &'a str, currency: &Currency) -> Result<&'a str, MoneyParseError> {
    let code = currency.as_str();
    let letters = |s: &str| s.chars().take_while(|c| c.is_ascii_alphabetic()).count();
    let leading = letters(text);
    let trailing = text
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let check = |found: &str| {
        if found.eq_ignore_ascii_case(code) {
            Ok(())
        } else {
            Err(MoneyParseError::InvalidCurrency(found.to_owned()))
        }
    };
    if leading == 3 && trailing != text.len() {
        check(&text[..3])?;
        return Ok(text[3..].trim_start());
    }
    if trailing == 3 && leading == 0 {
        let (number, found) = text.split_at(text.len() - 3);
        check(found)?;
        return Ok(number.trim_end());
    }
    if leading == 3 && trailing == 3 && text.len() == 3 {
        check(text)?;
        return Ok("");
    }
    Ok(text)
}

/// One piece of the formatter's output and the part it belongs to.
#[derive(Default)]
struct Pieces {
    parts: Vec<Part>,
    pieces: Vec<(Option<Part>, String)>,
}

impl fmt::Write for Pieces {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.pieces.push((self.parts.last().copied(), s.to_owned()));
        Ok(())
    }
}

impl PartsWrite for Pieces {
    type SubPartsWrite = Self;

    fn with_part(
        &mut self,
        part: Part,
        mut f: impl FnMut(&mut Self::SubPartsWrite) -> fmt::Result,
    ) -> fmt::Result {
        self.parts.push(part);
        let result = f(self);
        self.parts.pop();
        result
    }
}

impl Symbols {
    /// Reads the locale's symbols from how ICU4X writes -1234567890.12 (every digit once,
    /// both kinds of group, both separators, the minus sign), using its part annotations.
    /// `None` if the output does not have that shape.
    fn probe(formatter: &DecimalFormatter) -> Option<Symbols> {
        let mut probe = Decimal::from(-123_456_789_012_i64);
        probe.multiply_pow10(-2);
        let mut out = Pieces::default();
        formatter.format(&probe).write_to_parts(&mut out).ok()?;
        let mut symbols = Symbols {
            minus_prefix: String::new(),
            minus_suffix: String::new(),
            decimal: String::new(),
            group: String::new(),
            primary: 0,
            secondary: 0,
            digits: ['0'; 10],
        };
        let mut integer = Vec::new();
        let mut fraction = Vec::new();
        let mut groups_at = Vec::new();
        for (part, text) in out.pieces {
            let text: String = text.chars().filter(|c| !is_bidi_mark(*c)).collect();
            match part? {
                p if p == parts::MINUS_SIGN && integer.is_empty() => {
                    symbols.minus_prefix.push_str(&text)
                }
                p if p == parts::MINUS_SIGN => symbols.minus_suffix.push_str(&text),
                p if p == parts::INTEGER => integer.extend(text.chars()),
                p if p == parts::GROUP => {
                    groups_at.push(integer.len());
                    symbols.group = text;
                }
                p if p == parts::DECIMAL => symbols.decimal = text,
                p if p == parts::FRACTION => fraction.extend(text.chars()),
                _ => return None,
            }
        }
        // "1234567890" gives the digits 1..9, then 0.
        if integer.len() != 10 || symbols.decimal.is_empty() {
            return None;
        }
        for (i, c) in integer.iter().enumerate() {
            symbols.digits[(i + 1) % 10] = *c;
        }
        if fraction != [symbols.digits[1], symbols.digits[2]] {
            return None;
        }
        if let Some(&last) = groups_at.last() {
            symbols.primary = 10 - last;
            symbols.secondary = match groups_at.len() {
                1 => symbols.primary,
                n => last - groups_at[n - 2],
            };
        }
        let digit_like = |s: &str| s.chars().any(|c| symbols.digit(c).is_some());
        if digit_like(&symbols.decimal)
            || digit_like(&symbols.group)
            || symbols.group == symbols.decimal
        {
            return None;
        }
        Some(symbols)
    }

    fn digit(&self, c: char) -> Option<u8> {
        c.to_digit(10)
            .filter(|_| c.is_ascii_digit())
            .or_else(|| self.digits.iter().position(|d| *d == c).map(|p| p as u32))
            .map(|d| d as u8)
    }

    /// The sign and the rest: the locale's minus (prefix and suffix), `-`, `−` or `+`.
    fn split_sign<'a>(&self, text: &'a str) -> Option<(bool, &'a str)> {
        let minus_prefixes = [self.minus_prefix.as_str(), "-", "\u{2212}"];
        for prefix in minus_prefixes.iter().filter(|p| !p.is_empty()) {
            if let Some(rest) = text.strip_prefix(prefix) {
                let rest = match self.minus_suffix.as_str() {
                    "" => rest,
                    suffix => rest.strip_suffix(suffix).unwrap_or(rest),
                };
                return Some((true, rest));
            }
        }
        if let Some(rest) = text.strip_prefix('+') {
            return Some((false, rest));
        }
        if !self.minus_suffix.is_empty()
            && let Some(rest) = text.strip_suffix(self.minus_suffix.as_str())
        {
            return Some((true, rest));
        }
        Some((false, text))
    }

    fn is_group(&self, rest: &str) -> Option<usize> {
        if self.group.is_empty() {
            return None;
        }
        if rest.starts_with(self.group.as_str()) {
            return Some(self.group.len());
        }
        let group_is_space = self.group.chars().all(char::is_whitespace);
        let c = rest.chars().next()?;
        (group_is_space && c.is_whitespace()).then(|| c.len_utf8())
    }

    /// The integer and fraction digits of `body`, the grouping checked.
    fn read(&self, body: &str, trimmed: &str) -> Result<(Vec<u8>, Vec<u8>), MoneyParseError> {
        let invalid = || MoneyParseError::InvalidFormat(trimmed.to_owned());
        let misplaced = || MoneyParseError::MisplacedSeparator(trimmed.to_owned());
        // Digits of each group of the integer part, and the fraction's digits.
        let mut groups: Vec<Vec<u8>> = vec![Vec::new()];
        let mut fraction: Option<Vec<u8>> = None;
        let mut rest = body;
        while let Some(c) = rest.chars().next() {
            if let Some(digit) = self.digit(c) {
                match &mut fraction {
                    Some(f) => f.push(digit),
                    None => groups.last_mut().ok_or_else(invalid)?.push(digit),
                }
                rest = &rest[c.len_utf8()..];
            } else if rest.starts_with(self.decimal.as_str()) {
                if fraction.is_some() {
                    return Err(invalid());
                }
                fraction = Some(Vec::new());
                rest = &rest[self.decimal.len()..];
            } else if let Some(len) = self.is_group(rest) {
                if fraction.is_some() {
                    return Err(invalid());
                }
                groups.push(Vec::new());
                rest = &rest[len..];
            } else {
                return Err(invalid());
            }
        }
        if groups.iter().all(Vec::is_empty) {
            return Err(invalid());
        }
        if fraction.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid());
        }
        if groups.len() > 1 {
            let (last, others) = groups.split_last().ok_or_else(invalid)?;
            let (first, middle) = others.split_first().ok_or_else(invalid)?;
            let well_formed = last.len() == self.primary
                && middle.iter().all(|g| g.len() == self.secondary)
                && (1..=self.secondary).contains(&first.len());
            if !well_formed {
                return Err(misplaced());
            }
        }
        Ok((groups.concat(), fraction.unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locale(tag: &str) -> Locale {
        tag.parse().unwrap()
    }

    #[test]
    fn probe_reads_the_markets_locales() {
        for (tag, decimal, group) in [
            ("es-AR", ",", "."),
            ("es-UY", ",", "."),
            ("tr-TR", ",", "."),
            ("es-MX", ".", ","),
            ("en-AU", ".", ","),
            ("en-LK", ".", ","),
            ("si-LK", ".", ","),
        ] {
            let format = MoneyFormat::new(&locale(tag));
            assert_eq!(format.decimal_separator(), Some(decimal), "{tag}");
            assert_eq!(format.grouping_separator(), Some(group), "{tag}");
            let symbols = format.symbols.as_ref().unwrap();
            assert_eq!((symbols.primary, symbols.secondary), (3, 3), "{tag}");
            assert_eq!(
                symbols.digits,
                ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
            );
        }
    }

    #[test]
    fn code_is_stripped_before_or_after() {
        assert_eq!(strip_code("12 ARS", &Currency::ARS), Ok("12"));
        assert_eq!(strip_code("ars12", &Currency::ARS), Ok("12"));
        assert_eq!(strip_code("12", &Currency::ARS), Ok("12"));
        assert_eq!(strip_code("ARS", &Currency::ARS), Ok(""));
        assert_eq!(
            strip_code("12 MXN", &Currency::ARS),
            Err(MoneyParseError::InvalidCurrency("MXN".into()))
        );
        // Not three letters: left for the number reader to refuse.
        assert_eq!(strip_code("12 AR", &Currency::ARS), Ok("12 AR"));
    }
}
