//! Money formatting/parsing properties, and the typed balance helpers against luxcore-mock.

use luxcore_ext::balance::{Money, MoneyError, MoneyParseError};
use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::{Currency, ErrorCode, PaymentMethod, PaymentStatus};
use luxcore_mock::{
    DEFAULT_API_KEY, DEFAULT_HMAC_SECRET, DEFAULT_MERCHANT_ID, MockConfig, MockServer,
};
use proptest::prelude::*;

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::ARS),
        Just(Currency::AUD),
        Just(Currency::LKR),
        Just(Currency::MXN),
        Just(Currency::TRY),
        Just(Currency::UYU),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn format_then_parse_round_trips(minor in any::<i64>(), currency in currency()) {
        let money = Money::new(minor, currency.clone());
        let text = money.to_string();
        prop_assert_eq!(text.parse::<Money>(), Ok(money.clone()));
        // The amount part alone parses as a decimal, too.
        let (amount, code) = text.rsplit_once(' ').unwrap();
        prop_assert_eq!(code, currency.as_str());
        prop_assert_eq!(Money::parse_decimal(amount, currency.clone()), Ok(money.clone()));
        // And without thousands separators.
        prop_assert_eq!(Money::parse_decimal(&amount.replace(',', ""), currency), Ok(money));
    }

    #[test]
    fn minor_strings_round_trip(minor in any::<i64>()) {
        prop_assert_eq!(
            Money::from_minor_str(&minor.to_string(), Currency::ARS),
            Ok(Money::new(minor, Currency::ARS))
        );
    }

    #[test]
    fn decimal_text_is_exact(whole in 0u64..1_000_000_000_000, frac in 0u32..100, short in any::<bool>(), neg in any::<bool>()) {
        // "W.F" with one or two decimals is exactly W * 100 + F (scaled).
        let (text_frac, minor_frac) = if short { (format!("{}", frac / 10), i64::from(frac / 10) * 10) } else { (format!("{frac:02}"), i64::from(frac)) };
        let sign = if neg { "-" } else { "" };
        let text = format!("{sign}{whole}.{text_frac}");
        let magnitude = i64::try_from(whole).unwrap() * 100 + minor_frac;
        let expected = if neg { -magnitude } else { magnitude };
        prop_assert_eq!(Money::parse_decimal(&text, Currency::MXN), Ok(Money::new(expected, Currency::MXN)));
        // A third decimal is always rejected.
        let three = format!("{text}{}", frac % 10);
        let too_many = if short { format!("{three}0") } else { three };
        prop_assert!(matches!(
            Money::parse_decimal(&too_many, Currency::MXN),
            Err(MoneyParseError::TooManyDecimals(_))
        ));
    }

    #[test]
    fn checked_arithmetic_matches_i128(a in any::<i64>(), b in any::<i64>()) {
        let (x, y) = (Money::new(a, Currency::UYU), Money::new(b, Currency::UYU));
        let sum = i64::try_from(i128::from(a) + i128::from(b)).ok();
        prop_assert_eq!(x.checked_add(&y).ok().map(|m| m.minor), sum);
        let diff = i64::try_from(i128::from(a) - i128::from(b)).ok();
        prop_assert_eq!(x.checked_sub(&y).ok().map(|m| m.minor), diff);
        let mismatch = Err(MoneyError::CurrencyMismatch { left: Currency::UYU, right: Currency::ARS });
        prop_assert_eq!(x.checked_add(&Money::new(b, Currency::ARS)), mismatch.clone());
        prop_assert_eq!(x.checked_sub(&Money::new(b, Currency::ARS)), mismatch);
    }

    /// Garbage, and near-misses of the accepted shapes: each parser answers exactly what
    /// the documented grammar says, the error kind included.
    #[test]
    fn garbage_gets_the_error_of_its_class(
        text in prop_oneof![
            "\\PC{0,40}",
            "[-+ ,.0-9]{0,24}",
            // Near-misses of grouped amounts: groups of 0 to 4 digits, 0 to 3 decimals.
            "[-+]?[0-9]{0,4}(,[0-9]{0,4}){0,3}(\\.[0-9]{0,3})?",
            "[-+ ,.0-9]{0,16} [A-Za-z]{2,4}",
        ]
    ) {
        prop_assert_eq!(
            Money::from_minor_str(&text, Currency::ARS).map(|m| m.minor).map_err(|e| kind(&e)),
            expected_minor_str(&text)
        );
        prop_assert_eq!(
            Money::parse_decimal(&text, Currency::ARS).map(|m| m.minor).map_err(|e| kind(&e)),
            expected_decimal(&text)
        );
        let trimmed = text.trim();
        let expected = match trimmed.rsplit_once(char::is_whitespace) {
            _ if trimmed.is_empty() => Err("Empty"),
            None => Err("MissingCurrency"),
            Some((_, code)) if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) => {
                Err("InvalidCurrency")
            }
            // No minor unit is guessed for a currency the SDK does not know.
            Some((_, code)) if luxcore_ext::balance::minor_unit_exponent(&Currency::from(code)).is_none() => {
                Err("UnknownCurrency")
            }
            Some((amount, code)) => expected_decimal(amount).map(|minor| (minor, code.to_owned())),
        };
        prop_assert_eq!(
            text.parse::<Money>().map(|m| (m.minor, m.currency.as_str().to_owned())).map_err(|e| kind(&e)),
            expected
        );
    }
}

fn kind(error: &MoneyParseError) -> &'static str {
    match error {
        MoneyParseError::Empty => "Empty",
        MoneyParseError::InvalidFormat(_) => "InvalidFormat",
        MoneyParseError::MisplacedSeparator(_) => "MisplacedSeparator",
        MoneyParseError::TooManyDecimals(_) => "TooManyDecimals",
        MoneyParseError::Overflow(_) => "Overflow",
        MoneyParseError::MissingCurrency(_) => "MissingCurrency",
        MoneyParseError::UnknownCurrency(_) => "UnknownCurrency",
        MoneyParseError::InvalidCurrency(_) => "InvalidCurrency",
        _ => "other",
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A magnitude (decimal digits) with its sign, as an `i64`, or `Overflow`.
fn in_range(negative: bool, digits: &str) -> Result<i64, &'static str> {
    let magnitude: i128 = digits.parse().map_err(|_| "Overflow")?;
    i64::try_from(if negative { -magnitude } else { magnitude }).map_err(|_| "Overflow")
}

/// `from_minor_str`'s grammar: optional `-`, digits; whitespace around.
fn expected_minor_str(text: &str) -> Result<i64, &'static str> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("Empty");
    }
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    if !all_digits(digits) {
        return Err("InvalidFormat");
    }
    in_range(negative, digits)
}

/// `parse_decimal`'s grammar: optional sign, digits with optional `,` groups of three,
/// optional `.` and one or two decimals; whitespace around.
fn expected_decimal(text: &str) -> Result<i64, &'static str> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("Empty");
    }
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let (int, frac) = match body.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (body, None),
    };
    let int_digits = int.replace(',', "");
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return Err("InvalidFormat");
    }
    match frac {
        Some(frac) if !all_digits(frac) => return Err("InvalidFormat"),
        Some(frac) if frac.len() > 2 => return Err("TooManyDecimals"),
        _ => {}
    }
    if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let first_ok = (1..=3).contains(&groups[0].len());
        if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
            return Err("MisplacedSeparator");
        }
    }
    let frac = format!("{:0<2}", frac.unwrap_or(""));
    // Leading zeros are harmless; a magnitude beyond i128 is out of range anyway.
    let digits = format!("{int_digits}{frac}");
    let digits = digits.trim_start_matches('0');
    in_range(negative, if digits.is_empty() { "0" } else { digits })
}

async fn setup() -> (MockServer, LuxCore, LuxCore) {
    let server = MockServer::start(MockConfig::default().without_rate_limits())
        .await
        .expect("mock starts");
    let v1 = LuxCore::builder()
        .base_url(server.base_url())
        .api_key(DEFAULT_API_KEY)
        .build()
        .expect("client builds");
    let v2 = LuxCore::builder()
        .base_url(server.base_url())
        .hmac(DEFAULT_MERCHANT_ID, DEFAULT_HMAC_SECRET)
        .build()
        .expect("client builds");
    (server, v1, v2)
}

fn ars(minor: i64) -> Money {
    Money::new(minor, Currency::ARS)
}

fn withdrawal(amount: u64, reference: &str) -> luxcore_ext::types::PaymentCreateRequest {
    PaymentRequest::withdrawal(
        Money::new(amount as i64, Currency::ARS),
        PaymentMethod::BankTransfer,
        reference,
    )
    .payout_field("account_number", "0110012345678901234567")
    .build()
    .expect("valid request")
}

#[tokio::test]
async fn typed_balance_reads_v1_and_v2() {
    let (server, v1, v2) = setup().await;
    server.set_balance("ARS", 1_200_000, 300_000).await.unwrap();
    server.set_balance("MXN", 850_000, 0).await.unwrap();

    let snapshot = v1.balance().money(Currency::ARS).await.unwrap();
    assert_eq!(snapshot.total, ars(1_500_000));
    assert_eq!(snapshot.available, ars(1_200_000));
    assert_eq!(snapshot.frozen, ars(300_000));
    assert_eq!(snapshot.available.to_string(), "12,000.00 ARS");
    assert_eq!(
        v1.balance().available(Currency::ARS).await.unwrap(),
        ars(1_200_000)
    );
    assert_eq!(v2.balance().money(Currency::ARS).await.unwrap(), snapshot);
    assert_eq!(
        v2.balance().available(Currency::ARS).await.unwrap(),
        ars(1_200_000)
    );

    let all = v1.balance().all_money().await.unwrap();
    let currencies: Vec<&str> = all.keys().map(Currency::as_str).collect();
    assert_eq!(currencies, ["ARS", "AUD", "LKR", "MXN", "TRY", "UYU"]);
    assert_eq!(all[&Currency::ARS], snapshot);
    assert_eq!(
        all[&Currency::MXN].available,
        Money::new(850_000, Currency::MXN)
    );
    assert_eq!(all[&Currency::UYU].total, Money::new(0, Currency::UYU));
    assert_eq!(v2.balance().all_money().await.unwrap(), all);

    // The API version follows the credentials: the HMAC-only client read through API v2
    // above, and gets a configuration error for an operation only API v1 has.
    assert!(matches!(
        v2.balance().merchant_all(DEFAULT_MERCHANT_ID as i64).await,
        Err(luxcore_ext::error::Error::Config(_))
    ));
}

#[tokio::test]
async fn ensure_available_and_withdraw_checked() {
    let (server, v1, v2) = setup().await;
    server.set_balance("ARS", 100_000, 0).await.unwrap();
    let balance = v1.balance();

    balance.ensure_available(&ars(100_000)).await.unwrap();
    assert_eq!(
        balance.ensure_available(&ars(100_001)).await,
        Err(Error::InsufficientFunds {
            needed: ars(100_001),
            available: ars(100_000),
        })
    );

    // Not even the amount is available: refused client-side, nothing sent.
    let err = balance
        .withdraw_checked(withdrawal(100_001, "too_much"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::InsufficientFunds {
            needed: ars(100_001),
            available: ars(100_000),
        }
    );
    assert_eq!(server.payment_count().await.unwrap(), 0);

    // The amount is available but amount + fee (104,500) is not: the server decides.
    let err = balance
        .withdraw_checked(withdrawal(100_000, "fee_too_much"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InsufficientBalance), "{err:?}");
    assert_eq!(server.payment_count().await.unwrap(), 0);

    // Enough: created, amount + fee frozen.
    let created = balance
        .withdraw_checked(withdrawal(90_000, "fits"))
        .await
        .unwrap();
    assert!(created.is_new());
    let payment = created.into_inner();
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert_eq!(payment.net_amount, Some(94_050));
    assert_eq!(server.balance("ARS").await.unwrap(), (5_950, 94_050));

    // Through API v2 only (HMAC credentials): balance v2, then create v2.
    server.set_balance("ARS", 50_000, 0).await.unwrap();
    let created = v2
        .balance()
        .withdraw_checked(withdrawal(40_000, "v2_fits"))
        .await
        .unwrap();
    assert_eq!(created.get().net_amount, Some(41_800));
    assert_eq!(
        v2.balance()
            .withdraw_checked(withdrawal(9_000, "v2_short"))
            .await,
        Err(Error::InsufficientFunds {
            needed: ars(9_000),
            available: ars(8_200),
        })
    );

    // Only withdrawals are accepted.
    let deposit =
        PaymentRequest::deposit(Money::new(1_000, Currency::ARS), PaymentMethod::Card, "dep")
            .build()
            .unwrap();
    assert!(matches!(
        balance.withdraw_checked(deposit).await,
        Err(Error::InvalidRequest(_))
    ));
}
