//! Typed balance reads ([`Money`]) and checked withdrawals on the balance service.

use std::collections::BTreeMap;

use luxcore_api::enums::{BalanceType, Currency, PaymentType};
use luxcore_api::types::{self, Payment, PaymentCreateRequest};

use super::{Money, MoneyParseError};
use crate::error::{BODY_EXCERPT_CHARS, Error, Result};
use crate::services::{Balances, Created};

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
fn decode_error(err: MoneyParseError) -> Error {
    let excerpt: String = err.to_string().chars().take(BODY_EXCERPT_CHARS).collect();
    Error::Decode {
        status: Some(200),
        message: format!("balance amount is not an integer of minor units: {err}"),
        body_excerpt: excerpt,
    }
}

/// `main` entries (or entries without a type) by currency.
fn by_currency(list: &types::BalanceList) -> Result<BTreeMap<Currency, BalanceSnapshot>> {
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

impl Balances<'_> {
    /// The available `main` balance in `currency` (API v1, API key).
    pub async fn available(&self, currency: Currency) -> Result<Money> {
        Ok(self.money(currency).await?.available)
    }

    /// Total, available and frozen `main` balance in `currency` (API v1, API key).
    pub async fn money(&self, currency: Currency) -> Result<BalanceSnapshot> {
        let balance = self.get(currency, Some(BalanceType::Main)).await?;
        BalanceSnapshot::from_balance(&balance).map_err(decode_error)
    }

    /// The `main` balance of every currency (API v1, API key). Entries of other balance
    /// types are left out.
    pub async fn all_money(&self) -> Result<BTreeMap<Currency, BalanceSnapshot>> {
        by_currency(&self.all().await?)
    }

    /// [`Self::available`] through API v2 (HMAC-signed).
    pub async fn available_v2(&self, currency: Currency) -> Result<Money> {
        Ok(self.money_v2(currency).await?.available)
    }

    /// [`Self::money`] through API v2 (HMAC-signed).
    pub async fn money_v2(&self, currency: Currency) -> Result<BalanceSnapshot> {
        let balance = self.get_v2(currency, Some(BalanceType::Main)).await?;
        BalanceSnapshot::from_balance(&balance).map_err(decode_error)
    }

    /// [`Self::all_money`] through API v2 (HMAC-signed).
    pub async fn all_money_v2(&self) -> Result<BTreeMap<Currency, BalanceSnapshot>> {
        by_currency(&self.all_v2().await?)
    }

    /// Reads the available balance of `needed.currency` (API v1 when an API key is
    /// configured, else API v2) and fails with [`Error::InsufficientFunds`] when it is
    /// below `needed`.
    ///
    /// A point-in-time check: another withdrawal may take the money before yours is
    /// created, so the server's answer stays authoritative.
    pub async fn ensure_available(&self, needed: &Money) -> Result<()> {
        let available = if self.client.credentials().api_key().is_some() {
            self.available(needed.currency.clone()).await?
        } else {
            self.available_v2(needed.currency.clone()).await?
        };
        if available.minor < needed.minor {
            return Err(Error::InsufficientFunds {
                needed: needed.clone(),
                available,
            });
        }
        Ok(())
    }

    /// Checks the available balance, then creates the withdrawal (API v1 when an API key
    /// is configured, else API v2).
    ///
    /// The check covers the withdrawal's `amount` only: the total debit is amount + fee,
    /// and the fee is not knowable client-side. So this fails early with
    /// [`Error::InsufficientFunds`] when even the amount is not available, and otherwise
    /// the server still decides and may answer `INSUFFICIENT_BALANCE`
    /// ([`Error::Api`]). A `request` that is not a withdrawal (`withdrawal` or
    /// `withdrawal_pp`) is an [`Error::InvalidRequest`].
    pub async fn withdraw_checked(
        &self,
        request: PaymentCreateRequest,
    ) -> Result<Created<Payment>> {
        if !matches!(
            request.type_,
            PaymentType::Withdrawal | PaymentType::WithdrawalPp
        ) {
            return Err(Error::InvalidRequest(format!(
                "withdraw_checked needs a withdrawal, got type {}",
                request.type_
            )));
        }
        let amount = i64::try_from(request.amount.get())
            .map_err(|_| Error::InvalidRequest("amount out of range".into()))?;
        self.ensure_available(&Money::new(amount, request.currency.clone()))
            .await?;
        let payments = self.client.payments();
        if self.client.credentials().api_key().is_some() {
            payments.create(request).await
        } else {
            payments.create_v2(request).await
        }
    }
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
