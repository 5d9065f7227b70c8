//! [`BalanceModel`]: a pure, local model of how payments move a merchant's `main` balances.
//!
//! It follows the documented balance-change table (Balance API guide) exactly:
//!
//! | event                                   | effect                                          |
//! |-----------------------------------------|-------------------------------------------------|
//! | deposit completed                       | available += net amount (amount − fee)          |
//! | withdrawal created                      | available −= X, frozen += X (X = total debit)   |
//! | withdrawal completed                    | frozen −= X                                     |
//! | withdrawal failed / cancelled / expired | frozen −= X, available += X                     |
//! | refund processed                        | available −= refund amount                      |
//!
//! A withdrawal whose total debit exceeds the available balance is rejected (the server
//! answers `INSUFFICIENT_BALANCE` and creates nothing); the model leaves its state unchanged.
//! A refund larger than the available balance is rejected the same way (ASSUMED: the docs
//! only say a refund decreases available; balances never go negative, as in
//! `luxcore-mock`). Deposits that are created, fail, are cancelled or expire do not move
//! balances.
//!
//! A test model, not part of the SDK: `tests/balance_model.rs` checks luxcore-mock's
//! balances against it.
#![allow(dead_code)]

use std::collections::BTreeMap;

use luxcore_ext::api::enums::{Currency, PaymentStatus, PaymentType};
use luxcore_ext::api::types;

use luxcore_ext::Money;

/// One balance-moving change, as in the documented balance-change table.
///
/// Amounts are minor units of `currency`. For withdrawals, `amount` is the total debit
/// (the payment's `net_amount`: amount + fee).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BalanceEvent {
    /// A deposit completed: available += `net_amount`.
    DepositCompleted {
        /// Currency.
        currency: Currency,
        /// Net amount credited (amount − fee).
        net_amount: i64,
    },
    /// A withdrawal was created: available −= `amount`, frozen += `amount`.
    WithdrawalCreated {
        /// Currency.
        currency: Currency,
        /// Total debit (amount + fee).
        amount: i64,
    },
    /// A withdrawal completed: frozen −= `amount`.
    WithdrawalCompleted {
        /// Currency.
        currency: Currency,
        /// Total debit (amount + fee).
        amount: i64,
    },
    /// A withdrawal failed, was cancelled or expired: frozen −= `amount`, available += `amount`.
    WithdrawalReleased {
        /// Currency.
        currency: Currency,
        /// Total debit (amount + fee).
        amount: i64,
    },
    /// A refund was processed: available −= `amount` (rejected when more than available).
    Refund {
        /// Currency.
        currency: Currency,
        /// Refunded amount.
        amount: i64,
    },
}

impl BalanceEvent {
    /// The currency the event moves.
    pub fn currency(&self) -> &Currency {
        match self {
            Self::DepositCompleted { currency, .. }
            | Self::WithdrawalCreated { currency, .. }
            | Self::WithdrawalCompleted { currency, .. }
            | Self::WithdrawalReleased { currency, .. }
            | Self::Refund { currency, .. } => currency,
        }
    }

    /// The balance change implied by a payment that has just reached its current status,
    /// or `None` when that status does not move balances (or cannot be derived):
    ///
    /// * withdrawal `pending`/`processing` → [`WithdrawalCreated`](Self::WithdrawalCreated);
    /// * withdrawal `completed` → [`WithdrawalCompleted`](Self::WithdrawalCompleted);
    /// * withdrawal `failed`/`cancelled`/`expired` → [`WithdrawalReleased`](Self::WithdrawalReleased);
    /// * deposit `completed` → [`DepositCompleted`](Self::DepositCompleted);
    /// * deposit `refunded`/`partial_refund` → `None`: the refunded amount is not on the
    ///   payment object (partial refunds may add up), so build [`Refund`](Self::Refund)
    ///   from your refund request instead.
    ///
    /// Hosted-page types (`deposit_pp`/`withdrawal_pp`) count as deposits/withdrawals. The
    /// withdrawal total debit is `net_amount`, or `amount + fee` when `net_amount` is absent.
    pub fn from_payment(payment: &types::Payment) -> Option<BalanceEvent> {
        let currency = payment.currency.clone();
        let fee = payment.fee.or(payment.fee_amount).unwrap_or(0);
        let withdrawal = match payment.type_.as_ref()? {
            PaymentType::Withdrawal | PaymentType::WithdrawalPp => true,
            PaymentType::Deposit | PaymentType::DepositPp => false,
            _ => return None,
        };
        if withdrawal {
            let amount = payment
                .net_amount
                .or_else(|| payment.amount.checked_add(fee))?;
            match payment.status {
                PaymentStatus::Pending | PaymentStatus::Processing => {
                    Some(Self::WithdrawalCreated { currency, amount })
                }
                PaymentStatus::Completed => Some(Self::WithdrawalCompleted { currency, amount }),
                PaymentStatus::Failed | PaymentStatus::Cancelled | PaymentStatus::Expired => {
                    Some(Self::WithdrawalReleased { currency, amount })
                }
                _ => None,
            }
        } else {
            match payment.status {
                PaymentStatus::Completed => Some(Self::DepositCompleted {
                    currency,
                    net_amount: payment
                        .net_amount
                        .or_else(|| payment.amount.checked_sub(fee))?,
                }),
                _ => None,
            }
        }
    }
}

/// Why [`BalanceModel::apply`] rejected an event. The model is unchanged after a rejection.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BalanceModelError {
    /// A withdrawal or refund needs more than is available (the server's
    /// `INSUFFICIENT_BALANCE`).
    #[error("insufficient balance: needed {needed}, available {available}")]
    InsufficientBalance {
        /// Total debit of the withdrawal.
        needed: Money,
        /// Available balance at the time.
        available: Money,
    },
    /// An amount is negative or a balance would leave the `i64` range.
    #[error("invalid amount or balance overflow in {0} balance")]
    InvalidAmount(Currency),
}

/// Available and frozen minor units of one currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModelBalance {
    /// Usable for new withdrawals.
    pub available: i64,
    /// Reserved by pending withdrawals.
    pub frozen: i64,
}

impl ModelBalance {
    /// Total balance (`available + frozen`, the API's `balance_amount`), saturating.
    pub fn total(&self) -> i64 {
        self.available.saturating_add(self.frozen)
    }
}

/// A per-currency model of the `main` balances, driven by [`BalanceEvent`]s.
///
/// ```
/// use luxcore_ext::balance::{BalanceEvent, BalanceModel};
/// use luxcore_ext::Currency;
///
/// let mut model = BalanceModel::new();
/// model.apply(&BalanceEvent::DepositCompleted { currency: Currency::ARS, net_amount: 143_250 }).unwrap();
/// model.apply(&BalanceEvent::WithdrawalCreated { currency: Currency::ARS, amount: 104_500 }).unwrap();
/// assert_eq!(model.balance(&Currency::ARS).available, 38_750);
/// assert_eq!(model.balance(&Currency::ARS).frozen, 104_500);
/// // Not enough available: rejected, state unchanged.
/// assert!(model.apply(&BalanceEvent::WithdrawalCreated { currency: Currency::ARS, amount: 50_000 }).is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BalanceModel {
    balances: BTreeMap<Currency, ModelBalance>,
}

impl BalanceModel {
    /// An empty model (every currency at zero).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the starting balances of `currency` (e.g. from a fresh balance read).
    pub fn set(&mut self, currency: Currency, available: i64, frozen: i64) {
        self.balances
            .insert(currency, ModelBalance { available, frozen });
    }

    /// The modelled balances of `currency` (zero when never touched).
    pub fn balance(&self, currency: &Currency) -> ModelBalance {
        self.balances.get(currency).copied().unwrap_or_default()
    }

    /// Every currency the model has seen, in currency order.
    pub fn balances(&self) -> &BTreeMap<Currency, ModelBalance> {
        &self.balances
    }

    /// Applies one event. A withdrawal or refund needing more than the available balance
    /// is rejected with [`BalanceModelError::InsufficientBalance`]; negative amounts and
    /// `i64` overflow with [`BalanceModelError::InvalidAmount`]. On error nothing changes.
    pub fn apply(&mut self, event: &BalanceEvent) -> Result<(), BalanceModelError> {
        let currency = event.currency().clone();
        let current = self.balance(&currency);
        let invalid = || BalanceModelError::InvalidAmount(currency.clone());
        let next = match *event {
            BalanceEvent::DepositCompleted { net_amount, .. } => ModelBalance {
                available: add(current.available, net_amount).ok_or_else(invalid)?,
                ..current
            },
            BalanceEvent::WithdrawalCreated { amount, .. } => {
                check_available(&currency, current, amount)?;
                ModelBalance {
                    available: current.available - amount,
                    frozen: add(current.frozen, amount).ok_or_else(invalid)?,
                }
            }
            BalanceEvent::WithdrawalCompleted { amount, .. } => ModelBalance {
                frozen: sub(current.frozen, amount).ok_or_else(invalid)?,
                ..current
            },
            BalanceEvent::WithdrawalReleased { amount, .. } => ModelBalance {
                available: add(current.available, amount).ok_or_else(invalid)?,
                frozen: sub(current.frozen, amount).ok_or_else(invalid)?,
            },
            BalanceEvent::Refund { amount, .. } => {
                check_available(&currency, current, amount)?;
                ModelBalance {
                    available: current.available - amount,
                    ..current
                }
            }
        };
        self.balances.insert(currency, next);
        Ok(())
    }
}

/// `amount` must be non-negative and at most the available balance.
fn check_available(
    currency: &Currency,
    current: ModelBalance,
    amount: i64,
) -> Result<(), BalanceModelError> {
    if amount < 0 {
        return Err(BalanceModelError::InvalidAmount(currency.clone()));
    }
    if amount > current.available {
        return Err(BalanceModelError::InsufficientBalance {
            needed: Money::new(amount, currency.clone()),
            available: Money::new(current.available, currency.clone()),
        });
    }
    Ok(())
}

fn add(balance: i64, amount: i64) -> Option<i64> {
    (amount >= 0).then(|| balance.checked_add(amount)).flatten()
}

fn sub(balance: i64, amount: i64) -> Option<i64> {
    (amount >= 0).then(|| balance.checked_sub(amount)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ars() -> Currency {
        Currency::ARS
    }

    /// `(available, frozen)` of ARS.
    fn ars_balance(m: &BalanceModel) -> (i64, i64) {
        let b = m.balance(&ars());
        (b.available, b.frozen)
    }

    #[test]
    fn documented_table() {
        use BalanceEvent::*;
        let currency = ars;
        // Each documented balance change, and ARS (available, frozen) after it.
        let steps = [
            (
                DepositCompleted {
                    currency: currency(),
                    net_amount: 1000,
                },
                (1000, 0),
            ),
            (
                WithdrawalCreated {
                    currency: currency(),
                    amount: 300,
                },
                (700, 300),
            ),
            (
                WithdrawalCompleted {
                    currency: currency(),
                    amount: 300,
                },
                (700, 0),
            ),
            (
                WithdrawalCreated {
                    currency: currency(),
                    amount: 200,
                },
                (500, 200),
            ),
            (
                WithdrawalReleased {
                    currency: currency(),
                    amount: 200,
                },
                (700, 0),
            ),
            (
                Refund {
                    currency: currency(),
                    amount: 100,
                },
                (600, 0),
            ),
        ];
        let mut m = BalanceModel::new();
        for (event, expected) in steps {
            m.apply(&event).unwrap();
            assert_eq!(ars_balance(&m), expected, "after {event:?}");
        }
        assert_eq!(m.balance(&ars()).total(), 600);
        // Other currencies are independent.
        assert_eq!(m.balance(&Currency::MXN), ModelBalance::default());
    }

    #[test]
    fn rejects_overdraft_without_change() {
        let mut m = BalanceModel::new();
        m.set(ars(), 100, 5);
        let err = m
            .apply(&BalanceEvent::WithdrawalCreated {
                currency: ars(),
                amount: 101,
            })
            .unwrap_err();
        assert_eq!(
            err,
            BalanceModelError::InsufficientBalance {
                needed: Money::new(101, ars()),
                available: Money::new(100, ars()),
            }
        );
        assert_eq!(ars_balance(&m), (100, 5));
        // Refunds cannot overdraw either.
        assert!(matches!(
            m.apply(&BalanceEvent::Refund {
                currency: ars(),
                amount: 101
            }),
            Err(BalanceModelError::InsufficientBalance { .. })
        ));
        // Exactly the available amount is fine.
        m.apply(&BalanceEvent::WithdrawalCreated {
            currency: ars(),
            amount: 100,
        })
        .unwrap();
        assert_eq!(ars_balance(&m), (0, 105));
    }

    #[test]
    fn invalid_amounts_rejected() {
        let mut m = BalanceModel::new();
        m.set(ars(), i64::MAX, 0);
        assert!(matches!(
            m.apply(&BalanceEvent::DepositCompleted {
                currency: ars(),
                net_amount: 1
            }),
            Err(BalanceModelError::InvalidAmount(_))
        ));
        assert!(matches!(
            m.apply(&BalanceEvent::Refund {
                currency: ars(),
                amount: -1
            }),
            Err(BalanceModelError::InvalidAmount(_))
        ));
        assert!(matches!(
            m.apply(&BalanceEvent::WithdrawalCreated {
                currency: ars(),
                amount: -1
            }),
            Err(BalanceModelError::InvalidAmount(_))
        ));
        assert_eq!(m.balance(&ars()).available, i64::MAX);
    }

    fn payment(kind: PaymentType, status: PaymentStatus) -> types::Payment {
        serde_json::from_value(serde_json::json!({
            "amount": 100_000, "currency": "ARS", "status": status.as_str(),
            "type": kind.as_str(), "fee": 4500, "net_amount":
                if matches!(kind, PaymentType::Withdrawal) { 104_500 } else { 95_500 },
        }))
        .unwrap()
    }

    #[test]
    fn from_payment() {
        use PaymentStatus as S;
        use PaymentType as T;
        let cases = [
            (T::Deposit, S::Processing, None),
            (
                T::Deposit,
                S::Completed,
                Some(BalanceEvent::DepositCompleted {
                    currency: ars(),
                    net_amount: 95_500,
                }),
            ),
            (T::Deposit, S::Failed, None),
            (T::Deposit, S::Refunded, None),
            (T::Deposit, S::PartialRefund, None),
            (
                T::Withdrawal,
                S::Pending,
                Some(BalanceEvent::WithdrawalCreated {
                    currency: ars(),
                    amount: 104_500,
                }),
            ),
            (
                T::Withdrawal,
                S::Completed,
                Some(BalanceEvent::WithdrawalCompleted {
                    currency: ars(),
                    amount: 104_500,
                }),
            ),
            (
                T::Withdrawal,
                S::Expired,
                Some(BalanceEvent::WithdrawalReleased {
                    currency: ars(),
                    amount: 104_500,
                }),
            ),
            (
                T::Withdrawal,
                S::Cancelled,
                Some(BalanceEvent::WithdrawalReleased {
                    currency: ars(),
                    amount: 104_500,
                }),
            ),
        ];
        for (kind, status, expected) in cases {
            assert_eq!(
                BalanceEvent::from_payment(&payment(kind.clone(), status.clone())),
                expected,
                "{kind} {status}"
            );
        }
        let mut without_net = payment(T::Withdrawal, S::Pending);
        without_net.net_amount = None;
        assert_eq!(
            BalanceEvent::from_payment(&without_net),
            Some(BalanceEvent::WithdrawalCreated {
                currency: ars(),
                amount: 104_500
            })
        );
    }
}
