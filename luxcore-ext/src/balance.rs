//! Balances: exact [`Money`] amounts, a pure [`BalanceModel`] of the documented balance
//! changes, and typed balance reads and checked withdrawals on the client's balance
//! service ([`Balances`](crate::services::Balances)):
//!
//! | method                                   | returns                                   |
//! |------------------------------------------|-------------------------------------------|
//! | `available(currency)` / `available_v2`   | [`Money`] available in `main`              |
//! | `money(currency)` / `money_v2`           | [`BalanceSnapshot`] (total, available, frozen) |
//! | `all_money()` / `all_money_v2`           | `BTreeMap<Currency, BalanceSnapshot>`     |
//! | `ensure_available(&needed)`              | `Err(Error::InsufficientFunds)` if short  |
//! | `withdraw_checked(request)`              | balance check, then create                |
//!
//! ```no_run
//! # async fn demo(client: luxcore_ext::client::LuxCore) -> luxcore_ext::error::Result<()> {
//! use luxcore_ext::Currency;
//!
//! let ars = client.balance().money(Currency::ARS).await?;
//! println!("available {} (frozen {})", ars.available, ars.frozen); // "12,000.00 ARS"
//! # Ok(()) }
//! ```

mod model;
mod money;
mod service;

pub use model::{BalanceEvent, BalanceModel, BalanceModelError, ModelBalance};
pub use money::{DECIMALS, Money, MoneyError, MoneyParseError};
pub use service::BalanceSnapshot;
