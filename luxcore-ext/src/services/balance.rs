//! Balances, as the API returns them (amounts are minor-unit strings). Exact
//! [`Money`](crate::balance::Money) helpers are in [`crate::balance`].

use luxcore_api::enums::{BalanceType, Currency};
use luxcore_api::types::{Balance, BalanceList};

use crate::client::{Call, LuxCore};
use crate::error::Result;

/// Balance operations. Obtained from [`LuxCore::balance`].
#[derive(Debug, Clone, Copy)]
pub struct Balances<'a> {
    pub(crate) client: &'a LuxCore,
}

impl Balances<'_> {
    /// The balance in `currency` (`balance_type` defaults to `main` on the server).
    pub async fn get(
        &self,
        currency: Currency,
        balance_type: Option<BalanceType>,
    ) -> Result<Balance> {
        let response = self
            .client
            .run(Call::get("/api/v1/balance"), |c| {
                let mut builder = c.get_balance().currency(currency.clone());
                if let Some(balance_type) = &balance_type {
                    builder = builder.balance_type(balance_type.clone());
                }
                builder.send()
            })
            .await?;
        Ok(response.into_inner())
    }

    /// All balances (every currency and balance type).
    pub async fn all(&self) -> Result<BalanceList> {
        let response = self
            .client
            .run(Call::get("/api/v1/balance/all"), |c| {
                c.get_all_balances().send()
            })
            .await?;
        Ok(response.into_inner())
    }

    /// The balance of merchant `merchant_id` in `currency` (a key can read only its own
    /// merchant).
    pub async fn merchant(
        &self,
        merchant_id: i64,
        currency: Currency,
        balance_type: Option<BalanceType>,
    ) -> Result<Balance> {
        let response = self
            .client
            .run(Call::get("/api/v1/merchants/{id}/balance"), |c| {
                let mut builder = c
                    .get_merchant_balance()
                    .id(merchant_id)
                    .currency(currency.clone());
                if let Some(balance_type) = &balance_type {
                    builder = builder.balance_type(balance_type.clone());
                }
                builder.send()
            })
            .await?;
        Ok(response.into_inner())
    }

    /// All balances of merchant `merchant_id`.
    pub async fn merchant_all(&self, merchant_id: i64) -> Result<BalanceList> {
        let response = self
            .client
            .run(Call::get("/api/v1/merchants/{id}/balance/all"), |c| {
                c.get_merchant_all_balances().id(merchant_id).send()
            })
            .await?;
        Ok(response.into_inner())
    }

    /// The balance in `currency` through API v2 (HMAC-signed).
    pub async fn get_v2(
        &self,
        currency: Currency,
        balance_type: Option<BalanceType>,
    ) -> Result<Balance> {
        let response = self
            .client
            .run(Call::get("/api/v2/balance"), |c| {
                let mut builder = c.get_balance_v2().currency(currency.clone());
                if let Some(balance_type) = &balance_type {
                    builder = builder.balance_type(balance_type.clone());
                }
                builder.send()
            })
            .await?;
        Ok(response.into_inner())
    }

    /// All balances through API v2 (HMAC-signed).
    pub async fn all_v2(&self) -> Result<BalanceList> {
        let response = self
            .client
            .run(Call::get("/api/v2/balance/all"), |c| {
                c.get_all_balances_v2().send()
            })
            .await?;
        Ok(response.into_inner())
    }
}
