//! Balances: reads (raw and as exact [`Money`]) and checked withdrawals.
//!
//! | method on `client.balance()`   | returns                                        |
//! |--------------------------------|------------------------------------------------|
//! | `get(currency, type)` / `all()`| the API's [`Balance`] / [`BalanceList`]        |
//! | `available(currency)`          | [`Money`] available in `main`                  |
//! | `money(currency)`              | [`BalanceSnapshot`] (total, available, frozen) |
//! | `all_money()`                  | `BTreeMap<Currency, BalanceSnapshot>`          |
//! | `ensure_available(&needed)`    | `Err(Error::InsufficientFunds)` if short       |
//! | `withdraw_checked(request)`    | balance check, then create                     |
//!
//! The API version follows the credentials: with HMAC credentials, `get`, `all` and the
//! money helpers read through API v2 (signed), otherwise through API v1 with the API key
//! (see [`LuxCore`]).
//!
//! ```no_run
//! # async fn demo(client: luxcore_ext::LuxCore) -> luxcore_ext::Result<()> {
//! use luxcore_ext::prelude::*;
//!
//! let ars = client.balance().money(Currency::ARS).await?;
//! println!("available {} (frozen {})", ars.available, ars.frozen); // "12,000.00 ARS"
//! # Ok(()) }
//! ```

mod snapshot;

use std::collections::BTreeMap;

use luxcore_api::enums::{BalanceType, Currency, PaymentType};
use luxcore_api::operations as ops;
use luxcore_api::types::{Balance, BalanceList, Payment, PaymentCreateRequest};

pub use crate::base::money::{DECIMALS, Money, MoneyError, MoneyParseError, minor_unit_exponent};
#[cfg(feature = "locale")]
pub use crate::base::money_locale::{Locale, MoneyFormat};
pub use snapshot::BalanceSnapshot;

use crate::base::error::Error;
use crate::payments::Created;
use crate::transport::client::{ApiCall, CallOptions, LuxCore, attempt};
use snapshot::{by_currency, decode_error};

/// Balance operations. Obtained from [`LuxCore::balance`]; owns a clone of the client.
#[derive(Debug, Clone)]
pub struct Balances {
    client: LuxCore,
}

impl LuxCore {
    /// Balances: reads, money helpers, checked withdrawals.
    pub fn balance(&self) -> Balances {
        Balances {
            client: self.clone(),
        }
    }
}

impl Balances {
    /// The balance in `currency` (`balance_type` defaults to `main` on the server).
    pub fn get(&self, currency: Currency, balance_type: Option<BalanceType>) -> ApiCall<Balance> {
        let operation = self.client.versioned(ops::GET_BALANCE, ops::GET_BALANCE_V2);
        let v2 = operation == ops::GET_BALANCE_V2;
        let send = attempt!(currency, balance_type => |c| async move {
            if v2 {
                let builder = c.get_balance_v2().currency(currency);
                match balance_type {
                    Some(balance_type) => builder.balance_type(balance_type).send().await,
                    None => builder.send().await,
                }
            } else {
                let builder = c.get_balance().currency(currency);
                match balance_type {
                    Some(balance_type) => builder.balance_type(balance_type).send().await,
                    None => builder.send().await,
                }
            }
        });
        ApiCall::plan(&self.client, operation, send).unchanged()
    }

    /// All balances (every currency and balance type).
    pub fn all(&self) -> ApiCall<BalanceList> {
        let operation = self
            .client
            .versioned(ops::GET_ALL_BALANCES, ops::GET_ALL_BALANCES_V2);
        let v2 = operation == ops::GET_ALL_BALANCES_V2;
        let send = attempt!( => |c| async move {
            if v2 {
                c.get_all_balances_v2().send().await
            } else {
                c.get_all_balances().send().await
            }
        });
        ApiCall::plan(&self.client, operation, send).unchanged()
    }

    /// The balance of merchant `merchant_id` in `currency` (a key can read only its own
    /// merchant; API v1).
    pub fn merchant(
        &self,
        merchant_id: i64,
        currency: Currency,
        balance_type: Option<BalanceType>,
    ) -> ApiCall<Balance> {
        let send = attempt!(currency, balance_type => |c| {
            let builder = c.get_merchant_balance().id(merchant_id).currency(currency);
            match balance_type {
                Some(balance_type) => builder.balance_type(balance_type),
                None => builder,
            }
            .send()
        });
        ApiCall::plan(&self.client, ops::GET_MERCHANT_BALANCE, send).unchanged()
    }

    /// All balances of merchant `merchant_id` (API v1).
    pub fn merchant_all(&self, merchant_id: i64) -> ApiCall<BalanceList> {
        let send = attempt!( => |c| c.get_merchant_all_balances().id(merchant_id).send());
        ApiCall::plan(&self.client, ops::GET_MERCHANT_ALL_BALANCES, send).unchanged()
    }

    /// The available `main` balance in `currency`.
    pub fn available(&self, currency: Currency) -> ApiCall<Money> {
        self.money(currency).map(|snapshot| snapshot.available)
    }

    /// Total, available and frozen `main` balance in `currency`.
    pub fn money(&self, currency: Currency) -> ApiCall<BalanceSnapshot> {
        self.get(currency, Some(BalanceType::Main))
            .and_then(|balance, _| BalanceSnapshot::from_balance(&balance).map_err(decode_error))
    }

    /// The `main` balance of every currency. Entries of other balance types are left out.
    pub fn all_money(&self) -> ApiCall<BTreeMap<Currency, BalanceSnapshot>> {
        self.all().and_then(|list, _| by_currency(&list))
    }

    /// Reads the available balance of `needed.currency` and fails with
    /// [`Error::InsufficientFunds`] when it is below `needed`.
    ///
    /// A point-in-time check: another withdrawal may take the money before yours is
    /// created, so the server's answer stays authoritative.
    pub fn ensure_available(&self, needed: &Money) -> ApiCall<()> {
        let needed = needed.clone();
        self.available(needed.currency.clone())
            .and_then(move |available, _| {
                if available.minor < needed.minor {
                    return Err(Error::InsufficientFunds { needed, available });
                }
                Ok(())
            })
    }

    /// Checks the available balance, then creates the withdrawal.
    ///
    /// The check covers the withdrawal's `amount` only: the total debit is amount + fee,
    /// and the fee is not knowable client-side. So this fails early with
    /// [`Error::InsufficientFunds`] when even the amount is not available, and otherwise
    /// the server still decides and may answer `INSUFFICIENT_BALANCE`
    /// ([`Error::Api`]). A `request` that is not a withdrawal (`withdrawal` or
    /// `withdrawal_pp`) is an [`Error::InvalidRequest`].
    ///
    /// One [`ApiCall`]: its options (timeout, deadline, retry) apply to both requests, and
    /// its metadata is the creation's.
    pub fn withdraw_checked(&self, request: PaymentCreateRequest) -> ApiCall<Created<Payment>> {
        if !matches!(
            request.type_,
            PaymentType::Withdrawal | PaymentType::WithdrawalPp
        ) {
            return ApiCall::fail(Error::InvalidRequest(format!(
                "withdraw_checked needs a withdrawal, got type {}",
                request.type_
            )));
        }
        let Ok(amount) = i64::try_from(request.amount.get()) else {
            return ApiCall::fail(Error::InvalidRequest("amount out of range".into()));
        };
        let balance = self.clone();
        ApiCall::from_fn(move |options: CallOptions| async move {
            balance
                .ensure_available(&Money::new(amount, request.currency.clone()))
                .with_options(options.clone())
                .await?;
            balance
                .client
                .payments()
                .create(request)
                .with_options(options)
                .with_meta()
                .await
        })
    }
}
