//! Balances per currency. Only the `main` balance type moves; the others read 0.

use luxcore_api::enums::{BalanceType, Currency, ErrorCode, WebhookEventType};
use luxcore_api::types::{Balance, BalanceEntry, BalanceList};

use super::methods::CURRENCIES;
use super::model::{Event, Funds, Store};
use crate::error::{ApiError, ApiResult};

/// Balance types.
pub(crate) const BALANCE_TYPES: &[&str] =
    &["main", "deposit", "withdrawal", "commission", "frozen"];

fn unsupported(currency: &str) -> ApiError {
    ApiError::bad_request(
        ErrorCode::UnsupportedCurrency,
        format!("Currency {currency} is not supported"),
    )
}

impl Store {
    /// Funds of a supported currency.
    pub(crate) fn funds(&self, currency: &str) -> ApiResult<Funds> {
        self.balances
            .get(currency)
            .copied()
            .ok_or_else(|| unsupported(currency))
    }

    /// Mutable funds of a supported currency.
    pub(crate) fn funds_mut(&mut self, currency: &str) -> ApiResult<&mut Funds> {
        self.balances
            .get_mut(currency)
            .ok_or_else(|| unsupported(currency))
    }

    /// Overwrites the funds of a currency (control API).
    pub(crate) fn set_funds(
        &mut self,
        currency: &str,
        available: i64,
        frozen: i64,
    ) -> ApiResult<()> {
        if available < 0 || frozen < 0 {
            return Err(ApiError::bad_request(
                ErrorCode::ValidationError,
                "available and frozen must not be negative",
            ));
        }
        *self.funds_mut(currency)? = Funds { available, frozen };
        Ok(())
    }

    /// The `/balance/all` entry of one currency and balance type.
    pub(crate) fn balance_entry(
        &self,
        currency: &str,
        balance_type: &str,
    ) -> ApiResult<BalanceEntry> {
        let funds = if balance_type == "main" {
            self.funds(currency)?
        } else {
            self.funds(currency)?;
            Funds::default()
        };
        Ok(BalanceEntry {
            available_amount: funds.available.to_string(),
            balance_amount: funds.available.saturating_add(funds.frozen).to_string(),
            balance_type: Some(BalanceType::from(balance_type)),
            currency: Currency::from(currency),
            frozen_amount: funds.frozen.to_string(),
        })
    }

    /// The flat single-currency balance body.
    pub(crate) fn balance(&self, currency: &str, balance_type: &str) -> ApiResult<Balance> {
        let entry = self.balance_entry(currency, balance_type)?;
        let total = entry.balance_amount.parse().ok();
        let available = entry.available_amount.parse().ok();
        Ok(Balance {
            available_amount: entry.available_amount,
            available_balance: available,
            balance_amount: entry.balance_amount,
            balance_type: entry.balance_type,
            currency: entry.currency,
            frozen_amount: entry.frozen_amount,
            merchant_id: Some(self.merchant_id_i64()),
            new_balance: total,
            success: Some(true),
        })
    }

    /// Every currency's `main` balance.
    pub(crate) fn balance_list(&self) -> BalanceList {
        let balances: Vec<BalanceEntry> = CURRENCIES
            .iter()
            .filter_map(|c| self.balance_entry(c, "main").ok())
            .collect();
        BalanceList {
            total_balances: i32::try_from(balances.len()).ok(),
            balances,
            merchant_id: Some(self.merchant_id_i64()),
            success: Some(true),
        }
    }

    /// Queues a `balance.updated` event for a currency.
    pub(crate) fn balance_event(&self, currency: &str, events: &mut Vec<Event>) {
        if let Ok(entry) = self.balance_entry(currency, "main") {
            events.push(Event::new(WebhookEventType::BalanceUpdated, entry));
        }
    }
}
