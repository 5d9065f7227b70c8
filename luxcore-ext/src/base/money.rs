//! [`Money`]: exact amounts in minor units, with formatting and parsing. No floats anywhere.

use std::fmt;
use std::str::FromStr;

use luxcore_api::enums::Currency;

/// Number of decimal places of every documented currency.
///
/// All documented LuxCore currencies (ARS, AUD, LKR, MXN, TRY, UYU) have two minor-unit
/// decimals in ISO 4217 ([`minor_unit_exponent`]), and the API sends every amount in minor
/// units. A currency this SDK does not know (`Currency::Other`) has **no** assumed
/// exponent: its amounts are kept and shown in minor units, decimal text in it is refused,
/// and a payment request in it is refused before sending.
pub const DECIMALS: u32 = 2;

/// The ISO 4217 minor-unit exponent of a documented currency (2 for ARS, AUD, LKR, MXN,
/// TRY and UYU); `None` for a currency this SDK does not know, whose minor unit it does
/// not guess.
pub fn minor_unit_exponent(currency: &Currency) -> Option<u32> {
    match currency {
        Currency::ARS
        | Currency::AUD
        | Currency::LKR
        | Currency::MXN
        | Currency::TRY
        | Currency::UYU => Some(2),
        _ => None,
    }
}

const SCALE: i128 = 10_i128.pow(DECIMALS);

/// An exact amount of money in minor units (centavos/cents) of a currency. No floats anywhere.
///
/// ```
/// use luxcore_ext::balance::Money;
/// use luxcore_ext::Currency;
///
/// let m = Money::parse_decimal("1,500.5", Currency::ARS).unwrap();
/// assert_eq!(m.minor, 150_050);
/// assert_eq!(m.to_string(), "1,500.50 ARS");
/// assert_eq!("1,500.50 ARS".parse::<Money>().unwrap(), m);
/// assert_eq!(Money::from_minor_str("1500000", Currency::MXN).unwrap().minor, 1_500_000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    /// Amount in minor units (150000 = 1,500.00).
    pub minor: i64,
    /// Currency.
    pub currency: Currency,
}

/// Why an arithmetic operation on [`Money`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The two amounts are in different currencies.
    #[error("currency mismatch: {left} vs {right}")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// The result does not fit in an `i64` of minor units.
    #[error("money amount overflow")]
    Overflow,
}

/// Why a text could not be parsed as an amount of [`Money`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyParseError {
    /// The input is empty (or only whitespace).
    #[error("empty amount")]
    Empty,
    /// The input is not a number of the accepted shape (digits, one optional leading sign,
    /// optional `,` thousands separators, optional `.` and decimals).
    #[error("invalid amount {0:?}")]
    InvalidFormat(String),
    /// `,` thousands separators are not in groups of three digits.
    #[error("misplaced thousands separator in {0:?}")]
    MisplacedSeparator(String),
    /// More decimals than the currency has (more than [`DECIMALS`]).
    #[error("more than {DECIMALS} decimals in {0:?}")]
    TooManyDecimals(String),
    /// The amount does not fit in an `i64` of minor units.
    #[error("amount out of range: {0:?}")]
    Overflow(String),
    /// The currency's minor unit is not known to this SDK (see [`minor_unit_exponent`]),
    /// so a decimal amount in it cannot be converted exactly.
    #[error("the minor unit of {0} is not known: give the amount in minor units")]
    UnknownCurrency(String),
    /// `"<amount> <CODE>"` was expected but no currency code follows the amount.
    #[error("missing currency code in {0:?}")]
    MissingCurrency(String),
    /// The currency code is not three ASCII upper-case letters.
    #[error("invalid currency code {0:?}")]
    InvalidCurrency(String),
}

impl Money {
    /// An amount of `minor` units of `currency`.
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// `true` when the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// `true` when the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    /// `self + other`; an error on a currency mismatch or overflow.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.minor
            .checked_add(other.minor)
            .map(|minor| Money::new(minor, self.currency.clone()))
            .ok_or(MoneyError::Overflow)
    }

    /// `self - other`; an error on a currency mismatch or overflow.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.minor
            .checked_sub(other.minor)
            .map(|minor| Money::new(minor, self.currency.clone()))
            .ok_or(MoneyError::Overflow)
    }

    /// `-self`; an error for `i64::MIN` minor units.
    pub fn checked_neg(&self) -> Result<Money, MoneyError> {
        self.minor
            .checked_neg()
            .map(|minor| Money::new(minor, self.currency.clone()))
            .ok_or(MoneyError::Overflow)
    }

    /// Compares two amounts of the same currency; an error on a currency mismatch.
    pub fn checked_cmp(&self, other: &Money) -> Result<std::cmp::Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.minor.cmp(&other.minor))
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency.clone(),
                right: other.currency.clone(),
            })
        }
    }

    /// Parses an amount as the API sends it: a string of minor units (`"1500000"` is
    /// 15,000.00), optionally with a leading `-`. Surrounding whitespace is ignored;
    /// anything else (decimals, separators, `+`, exponents) is an error.
    pub fn from_minor_str(text: &str, currency: Currency) -> Result<Money, MoneyParseError> {
        let trimmed = text.trim();
        let (negative, digits) = split_sign(trimmed, false);
        if digits.is_empty() {
            return Err(empty_or_invalid(trimmed));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyParseError::InvalidFormat(trimmed.to_owned()));
        }
        let magnitude = accumulate(digits, 0).ok_or_else(|| overflow(trimmed))?;
        Ok(Money::new(signed(negative, magnitude, trimmed)?, currency))
    }

    /// Parses a human-entered decimal amount in major units: `"1500.00"`, `"1500"`,
    /// `"1,500.5"`, `"-1,500.00"`. Up to [`DECIMALS`] decimals; `,` thousands separators
    /// are optional but must group three digits. An optional leading `+` or `-` sign and
    /// surrounding whitespace are accepted.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Money, MoneyParseError> {
        if minor_unit_exponent(&currency).is_none() {
            return Err(MoneyParseError::UnknownCurrency(currency.to_string()));
        }
        let trimmed = text.trim();
        let (negative, body) = split_sign(trimmed, true);
        if body.is_empty() {
            return Err(empty_or_invalid(trimmed));
        }
        let invalid = || MoneyParseError::InvalidFormat(trimmed.to_owned());
        let (int_part, frac_part) = match body.split_once('.') {
            Some((int_part, frac_part)) => (int_part, Some(frac_part)),
            None => (body, None),
        };
        if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit() || b == b',') {
            return Err(invalid());
        }
        if let Some(frac) = frac_part {
            if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            if frac.len() > DECIMALS as usize {
                return Err(MoneyParseError::TooManyDecimals(trimmed.to_owned()));
            }
        }
        check_grouping(int_part)
            .ok_or_else(|| MoneyParseError::MisplacedSeparator(trimmed.to_owned()))?;

        let whole = accumulate(int_part, 0).ok_or_else(|| overflow(trimmed))?;
        let frac = frac_part.unwrap_or("");
        let mut minor = whole.checked_mul(SCALE).ok_or_else(|| overflow(trimmed))?;
        let frac_value = accumulate(frac, 0).ok_or_else(|| overflow(trimmed))?;
        let frac_scale = 10_i128.pow(DECIMALS - frac.len() as u32);
        minor = minor
            .checked_add(frac_value * frac_scale)
            .ok_or_else(|| overflow(trimmed))?;
        Ok(Money::new(signed(negative, minor, trimmed)?, currency))
    }
}

fn split_sign(text: &str, allow_plus: bool) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix('+').filter(|_| allow_plus) {
        (false, rest)
    } else {
        (false, text)
    }
}

fn empty_or_invalid(trimmed: &str) -> MoneyParseError {
    if trimmed.is_empty() {
        MoneyParseError::Empty
    } else {
        MoneyParseError::InvalidFormat(trimmed.to_owned())
    }
}

fn overflow(trimmed: &str) -> MoneyParseError {
    MoneyParseError::Overflow(trimmed.to_owned())
}

/// Accumulates the ASCII digits of `text` (skipping `,`) onto `start`; `None` past `i128`
/// range (which is far above any `i64`, so the final range check happens in [`signed`]).
fn accumulate(text: &str, start: i128) -> Option<i128> {
    text.bytes()
        .filter(|&b| b != b',')
        .try_fold(start, |acc, b| {
            let value = acc.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
            // Stop early: anything beyond this can never fit an i64 after scaling.
            (value <= i128::from(u64::MAX) * SCALE).then_some(value)
        })
}

fn signed(negative: bool, magnitude: i128, trimmed: &str) -> Result<i64, MoneyParseError> {
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| overflow(trimmed))
}

/// `Some(())` when `int_part` has no commas, or commas separating a first group of one to
/// three digits from following groups of exactly three.
fn check_grouping(int_part: &str) -> Option<()> {
    if !int_part.contains(',') {
        return Some(());
    }
    let mut groups = int_part.split(',');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 {
        return None;
    }
    groups.all(|g| g.len() == 3).then_some(())
}

impl fmt::Display for Money {
    /// `1,500.00 ARS`, `-1,500.00 ARS`: thousands separators, always [`DECIMALS`] decimals,
    /// then the currency code. A currency without a known minor unit shows the minor units
    /// as they are: `150000 EUR (minor units)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if minor_unit_exponent(&self.currency).is_none() {
            return write!(f, "{} {} (minor units)", self.minor, self.currency);
        }
        let magnitude = self.minor.unsigned_abs();
        let scale = SCALE as u64;
        let whole = (magnitude / scale).to_string();
        let frac = magnitude % scale;
        let sign = if self.minor < 0 { "-" } else { "" };
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        // Digits left before the next separator: the leading group has 1 to 3 digits.
        let mut until_separator = match whole.len() % 3 {
            0 => 3,
            r => r,
        };
        for ch in whole.chars() {
            if until_separator == 0 {
                grouped.push(',');
                until_separator = 3;
            }
            grouped.push(ch);
            until_separator -= 1;
        }
        write!(
            f,
            "{sign}{grouped}.{frac:0width$} {}",
            self.currency,
            width = DECIMALS as usize
        )
    }
}

impl FromStr for Money {
    type Err = MoneyParseError;

    /// Parses what [`Display`](fmt::Display) writes: `"<decimal amount> <CODE>"`, e.g.
    /// `"1,500.00 ARS"`. The code must be three ASCII upper-case letters.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(MoneyParseError::Empty);
        }
        let (amount, code) = trimmed
            .rsplit_once(char::is_whitespace)
            .ok_or_else(|| MoneyParseError::MissingCurrency(trimmed.to_owned()))?;
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(MoneyParseError::InvalidCurrency(code.to_owned()));
        }
        Money::parse_decimal(amount, Currency::from(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ars(minor: i64) -> Money {
        Money::new(minor, Currency::ARS)
    }

    #[test]
    fn display() {
        assert_eq!(ars(150_000).to_string(), "1,500.00 ARS");
        assert_eq!(ars(-150_000).to_string(), "-1,500.00 ARS");
        assert_eq!(ars(0).to_string(), "0.00 ARS");
        assert_eq!(ars(5).to_string(), "0.05 ARS");
        assert_eq!(ars(-5).to_string(), "-0.05 ARS");
        assert_eq!(ars(100_050).to_string(), "1,000.50 ARS");
        assert_eq!(ars(99_999).to_string(), "999.99 ARS");
        assert_eq!(ars(123_456_789_012).to_string(), "1,234,567,890.12 ARS");
        assert_eq!(ars(i64::MIN).to_string(), "-92,233,720,368,547,758.08 ARS");
        assert_eq!(ars(i64::MAX).to_string(), "92,233,720,368,547,758.07 ARS");
        // No minor unit is guessed for a currency the SDK does not know.
        let other = Money::new(1234, Currency::from("EUR"));
        assert_eq!(other.to_string(), "1234 EUR (minor units)");
        for currency in ["ARS", "AUD", "LKR", "MXN", "TRY", "UYU"] {
            assert_eq!(minor_unit_exponent(&Currency::from(currency)), Some(2));
        }
        assert_eq!(minor_unit_exponent(&Currency::from("EUR")), None);
    }

    #[test]
    fn parse_decimal_ok() {
        for (text, minor) in [
            ("1500.00", 150_000),
            ("1500", 150_000),
            ("1,500.5", 150_050),
            ("1,500.50", 150_050),
            ("0.05", 5),
            ("-1,500.00", -150_000),
            ("+12", 1200),
            ("  7.1 ", 710),
            ("1,000,000", 100_000_000),
            ("0", 0),
            ("-0", 0),
            ("92,233,720,368,547,758.07", i64::MAX),
            ("-92233720368547758.08", i64::MIN),
        ] {
            assert_eq!(
                Money::parse_decimal(text, Currency::ARS),
                Ok(ars(minor)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn parse_decimal_errors() {
        fn variant(e: &MoneyParseError) -> &'static str {
            match e {
                MoneyParseError::Empty => "Empty",
                MoneyParseError::InvalidFormat(_) => "InvalidFormat",
                MoneyParseError::MisplacedSeparator(_) => "MisplacedSeparator",
                MoneyParseError::TooManyDecimals(_) => "TooManyDecimals",
                MoneyParseError::Overflow(_) => "Overflow",
                MoneyParseError::MissingCurrency(_) => "MissingCurrency",
                MoneyParseError::InvalidCurrency(_) => "InvalidCurrency",
                MoneyParseError::UnknownCurrency(_) => "UnknownCurrency",
            }
        }
        let cases = [
            ("", "Empty"),
            ("   ", "Empty"),
            ("-", "InvalidFormat"),
            ("1.234", "TooManyDecimals"),
            ("1.", "InvalidFormat"),
            (".5", "InvalidFormat"),
            ("1.2.3", "InvalidFormat"),
            ("abc", "InvalidFormat"),
            ("1e5", "InvalidFormat"),
            ("--1", "InvalidFormat"),
            ("1 000", "InvalidFormat"),
            ("1_000", "InvalidFormat"),
            ("١٢", "InvalidFormat"),
            ("15,00", "MisplacedSeparator"),
            ("1,5000", "MisplacedSeparator"),
            (",500", "MisplacedSeparator"),
            ("1500,", "MisplacedSeparator"),
            ("1234,567", "MisplacedSeparator"),
            ("1.5,0", "InvalidFormat"),
            ("92233720368547758.08", "Overflow"),
            ("-92233720368547758.09", "Overflow"),
            (
                "99999999999999999999999999999999999999999999999",
                "Overflow",
            ),
            ("1,", "MisplacedSeparator"),
        ];
        for (text, expected) in cases {
            let err = Money::parse_decimal(text, Currency::ARS).unwrap_err();
            assert_eq!(variant(&err), expected, "{text:?} -> {err:?}");
        }
    }

    #[test]
    fn minor_strings() {
        assert_eq!(
            Money::from_minor_str("1500000", Currency::ARS),
            Ok(ars(1_500_000))
        );
        assert_eq!(Money::from_minor_str(" -42 ", Currency::ARS), Ok(ars(-42)));
        assert_eq!(Money::from_minor_str("0", Currency::ARS), Ok(ars(0)));
        assert_eq!(
            Money::from_minor_str(&i64::MIN.to_string(), Currency::ARS),
            Ok(ars(i64::MIN))
        );
        assert_eq!(
            Money::from_minor_str("", Currency::ARS),
            Err(MoneyParseError::Empty)
        );
        for bad in ["15.00", "1,500", "+5", "12a", "-", "0x10", "1e3"] {
            assert!(
                matches!(
                    Money::from_minor_str(bad, Currency::ARS),
                    Err(MoneyParseError::InvalidFormat(_))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Money::from_minor_str("9223372036854775808", Currency::ARS),
            Err(MoneyParseError::Overflow(_))
        ));
    }

    #[test]
    fn from_str_with_currency() {
        assert_eq!("1,500.00 ARS".parse::<Money>(), Ok(ars(150_000)));
        assert_eq!(
            "12.34 EUR".parse::<Money>(),
            Err(MoneyParseError::UnknownCurrency("EUR".into()))
        );
        assert!(matches!(
            "1500".parse::<Money>(),
            Err(MoneyParseError::MissingCurrency(_))
        ));
        assert!(matches!(
            "1500 ars".parse::<Money>(),
            Err(MoneyParseError::InvalidCurrency(_))
        ));
        assert_eq!("".parse::<Money>(), Err(MoneyParseError::Empty));
    }

    #[test]
    fn arithmetic() {
        assert_eq!(ars(100).checked_add(&ars(50)), Ok(ars(150)));
        assert_eq!(ars(100).checked_sub(&ars(150)), Ok(ars(-50)));
        assert_eq!(
            ars(i64::MAX).checked_add(&ars(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            ars(i64::MIN).checked_sub(&ars(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(ars(i64::MIN).checked_neg(), Err(MoneyError::Overflow));
        assert_eq!(ars(5).checked_neg(), Ok(ars(-5)));
        let mxn = Money::new(1, Currency::MXN);
        assert_eq!(
            ars(1).checked_add(&mxn),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::ARS,
                right: Currency::MXN
            })
        );
        assert!(ars(1).checked_sub(&mxn).is_err());
        assert!(ars(1).checked_cmp(&mxn).is_err());
        assert_eq!(ars(1).checked_cmp(&ars(2)), Ok(std::cmp::Ordering::Less));
        assert!(Money::zero(Currency::ARS).is_zero());
        assert!(ars(-1).is_negative());
    }
}
