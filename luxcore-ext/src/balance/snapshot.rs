//! [`BalanceSnapshot`]: a balance answer's minor-unit strings as exact [`Money`].

use std::collections::BTreeMap;

use luxcore_api::enums::{BalanceType, Currency};
use luxcore_api::types;

use crate::base::error::{Error, Result};
use crate::base::money::{Money, MoneyParseError};

/// Total, available and frozen amounts of one currency (`main` balance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceSnapshot {
    /// Total balance (`balance_amount` = available + frozen).
    pub total: Money,
    /// Usable for new withdrawals now (`available_amount`).
    pub available: Money,
    /// Reserved by pending withdrawals (`frozen_amount`).
    pub frozen: Money,
}

impl BalanceSnapshot {
    /// Parses the minor-unit strings of a `GET /balance` answer.
    pub fn from_balance(balance: &types::Balance) -> Result<Self, MoneyParseError> {
        Self::parse(
            &balance.currency,
            &balance.balance_amount,
            &balance.available_amount,
            &balance.frozen_amount,
        )
    }

    /// Parses the minor-unit strings of one `GET /balance/all` entry.
    pub fn from_entry(entry: &types::BalanceEntry) -> Result<Self, MoneyParseError> {
        Self::parse(
            &entry.currency,
            &entry.balance_amount,
            &entry.available_amount,
            &entry.frozen_amount,
        )
    }

    fn parse(
        currency: &Currency,
        total: &str,
        available: &str,
        frozen: &str,
    ) -> Result<Self, MoneyParseError> {
        let money = |text: &str| Money::from_minor_str(text, currency.clone());
        Ok(BalanceSnapshot {
            total: money(total)?,
            available: money(available)?,
            frozen: money(frozen)?,
        })
    }
}

/// A balance answer whose amounts are not minor-unit integers.
pub(crate) fn decode_error(err: MoneyParseError) -> Error {
    Error::decode(
        Some(200),
        format!("balance amount is not an integer of minor units: {err}"),
        err.to_string().as_bytes(),
        None,
    )
}

/// `main` entries (or entries without a type) by currency.
pub(crate) fn by_currency(
    list: &types::BalanceList,
) -> Result<BTreeMap<Currency, BalanceSnapshot>> {
    list.balances
        .iter()
        .filter(|e| matches!(e.balance_type, None | Some(BalanceType::Main)))
        .map(|e| {
            BalanceSnapshot::from_entry(e)
                .map(|s| (e.currency.clone(), s))
                .map_err(decode_error)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(currency: &str, kind: Option<&str>, amounts: [&str; 3]) -> types::BalanceEntry {
        serde_json::from_value(serde_json::json!({
            "currency": currency, "balance_type": kind, "balance_amount": amounts[0],
            "available_amount": amounts[1], "frozen_amount": amounts[2],
        }))
        .unwrap()
    }

    #[test]
    fn snapshot_parsing() {
        let snap = BalanceSnapshot::from_entry(&entry(
            "ARS",
            Some("main"),
            ["1500000", "1200000", "300000"],
        ))
        .unwrap();
        assert_eq!(snap.total, Money::new(1_500_000, Currency::ARS));
        assert_eq!(snap.available.to_string(), "12,000.00 ARS");
        assert_eq!(snap.frozen.minor, 300_000);
        assert!(BalanceSnapshot::from_entry(&entry("ARS", None, ["1.5", "0", "0"])).is_err());
    }

    #[test]
    fn all_by_currency_keeps_main_only() {
        let list = types::BalanceList {
            balances: vec![
                entry("MXN", Some("main"), ["850000", "850000", "0"]),
                entry("ARS", Some("main"), ["1500000", "1200000", "300000"]),
                entry("ARS", Some("commission"), ["5", "5", "0"]),
                entry("UYU", None, ["7", "7", "0"]),
            ],
            merchant_id: Some(123),
            success: Some(true),
            total_balances: Some(4),
        };
        let map = by_currency(&list).unwrap();
        let keys: Vec<&str> = map.keys().map(Currency::as_str).collect();
        assert_eq!(keys, ["ARS", "MXN", "UYU"]);
        assert_eq!(map[&Currency::ARS].available.minor, 1_200_000);
        let bad = types::BalanceList {
            balances: vec![entry("ARS", None, ["x", "0", "0"])],
            ..list
        };
        assert!(matches!(
            by_currency(&bad),
            Err(Error::Decode {
                status: Some(200),
                ..
            })
        ));
    }
}
