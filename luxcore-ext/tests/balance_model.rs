//! Property test: the pure `BalanceModel` agrees with luxcore-mock's balances over random
//! sequences of deposits, withdrawals, completions, failures, cancellations, expiries and
//! refunds, after every step (including which withdrawals and refunds are refused for
//! insufficient balance).

use luxcore_ext::Money;
use std::cell::Cell;

#[path = "balance_model_support/model.rs"]
mod model;

use luxcore_ext::client::LuxCore;
use luxcore_ext::error::Error;
use luxcore_ext::payments::PaymentRequest;
use luxcore_ext::types::Payment;
use luxcore_ext::{Currency, ErrorCode, PaymentMethod, PaymentStatus};
use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};
use model::{BalanceEvent, BalanceModel, BalanceModelError};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const CURRENCIES: [Currency; 2] = [Currency::ARS, Currency::MXN];

#[derive(Debug, Clone)]
enum Op {
    Deposit {
        currency: usize,
        amount: u64,
    },
    Withdraw {
        currency: usize,
        amount: u64,
    },
    Complete(usize),
    Fail(usize),
    Expire(usize),
    Cancel(usize),
    /// Refund `percent` of what is left (`None`: all of it).
    Refund {
        target: usize,
        percent: Option<u8>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let deposit_amount =
        (1_000u64..=400_000).prop_filter("magic amounts", |a| *a != 40_001 && *a != 40_002);
    prop_oneof![
        3 => (0..2usize, deposit_amount).prop_map(|(currency, amount)| Op::Deposit { currency, amount }),
        3 => (0..2usize, 1_000u64..=300_000).prop_map(|(currency, amount)| Op::Withdraw { currency, amount }),
        4 => any::<usize>().prop_map(Op::Complete),
        1 => any::<usize>().prop_map(Op::Fail),
        1 => any::<usize>().prop_map(Op::Expire),
        1 => any::<usize>().prop_map(Op::Cancel),
        2 => (any::<usize>(), proptest::option::of(1u8..=100))
            .prop_map(|(target, percent)| Op::Refund { target, percent }),
    ]
}

/// What the test knows about a payment it created.
#[derive(Debug)]
struct Tracked {
    id: String,
    currency: Currency,
    withdrawal: bool,
    status: PaymentStatus,
    amount: i64,
    refunded: i64,
}

impl Tracked {
    fn open(&self) -> bool {
        matches!(
            self.status,
            PaymentStatus::Pending | PaymentStatus::Processing
        )
    }
}

struct Harness<'a> {
    server: &'a MockServer,
    client: &'a LuxCore,
    model: BalanceModel,
    payments: Vec<Tracked>,
    next_ref: usize,
}

fn check(condition: bool, message: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if condition {
        Ok(())
    } else {
        Err(TestCaseError::fail(message()))
    }
}

impl Harness<'_> {
    fn reference(&mut self) -> String {
        self.next_ref += 1;
        format!("model_{}", self.next_ref)
    }

    async fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Deposit { currency, amount } => {
                let request = PaymentRequest::deposit(
                    Money::new(amount as i64, CURRENCIES[currency].clone()),
                    PaymentMethod::Card,
                    self.reference(),
                )
                .build()
                .expect("valid deposit");
                let created = self.client.payments().create(request).await;
                let payment = created.map_err(|e| TestCaseError::fail(format!("{e}")))?;
                // Creating a deposit moves nothing.
                self.track(payment.into_inner(), false);
            }
            Op::Withdraw { currency, amount } => {
                let currency = CURRENCIES[currency].clone();
                // The documented convention: fee = amount * 45 / 1000, debit = amount + fee.
                let amount = i64::try_from(amount).expect("small");
                let debit = amount + amount * 45 / 1000;
                let predicted = self.model.apply(&BalanceEvent::WithdrawalCreated {
                    currency: currency.clone(),
                    amount: debit,
                });
                let request = PaymentRequest::withdrawal(
                    Money::new(amount.abs(), currency),
                    PaymentMethod::BankTransfer,
                    self.reference(),
                )
                .payout_field("account_number", "0110012345678901234567")
                .build()
                .expect("valid withdrawal");
                match (self.client.payments().create(request).await, predicted) {
                    (Ok(created), Ok(())) => {
                        let payment = created.into_inner();
                        check(payment.net_amount == Some(debit), || {
                            format!("debit {debit} vs {:?}", payment.net_amount)
                        })?;
                        self.track(payment, true);
                    }
                    (Err(err), Err(BalanceModelError::InsufficientBalance { .. })) => {
                        check(err.code() == Some(&ErrorCode::InsufficientBalance), || {
                            format!("{err:?}")
                        })?;
                    }
                    (server, model) => {
                        return Err(TestCaseError::fail(format!(
                            "withdrawal disagreement: server {server:?}, model {model:?}"
                        )));
                    }
                }
            }
            Op::Complete(i) | Op::Fail(i) | Op::Expire(i) | Op::Cancel(i) => {
                let Some(index) = self.pick(i) else {
                    return Ok(());
                };
                let (id, was_open) = (self.payments[index].id.clone(), self.payments[index].open());
                let result = match op {
                    Op::Complete(_) => self
                        .server
                        .complete_payment(&id)
                        .await
                        .map_err(|e| format!("{e}")),
                    Op::Fail(_) => self
                        .server
                        .fail_payment(&id)
                        .await
                        .map_err(|e| format!("{e}")),
                    Op::Expire(_) => self
                        .server
                        .expire_payment(&id)
                        .await
                        .map_err(|e| format!("{e}")),
                    _ => self
                        .client
                        .payments()
                        .cancel(&id)
                        .await
                        .map_err(|e| match &e {
                            Error::Api { code, .. } => code.to_string(),
                            other => other.to_string(),
                        }),
                };
                match result {
                    Ok(payment) => {
                        check(was_open, || format!("closed payment moved: {payment:?}"))?;
                        if let Some(event) = BalanceEvent::from_payment(&payment) {
                            self.model
                                .apply(&event)
                                .map_err(|e| TestCaseError::fail(format!("{event:?}: {e}")))?;
                        }
                        self.payments[index].status = payment.status;
                    }
                    Err(err) => {
                        check(!was_open, || format!("open payment not moved: {err}"))?;
                        // An expired payment answers TTL_EXPIRED (the docs' "create a new
                        // payment"), any other closed one PAYMENT_ALREADY_PROCESSED.
                        let expected = if self.payments[index].status == PaymentStatus::Expired {
                            "TTL_EXPIRED"
                        } else {
                            "PAYMENT_ALREADY_PROCESSED"
                        };
                        check(err.contains(expected), || format!("{expected}: {err}"))?;
                    }
                }
            }
            Op::Refund { target, percent } => {
                let Some(index) = self.pick(target) else {
                    return Ok(());
                };
                let p = &self.payments[index];
                let refundable = !p.withdrawal
                    && matches!(
                        p.status,
                        PaymentStatus::Completed | PaymentStatus::PartialRefund
                    );
                let remaining = p.amount - p.refunded;
                let amount = percent.map(|pct| (remaining * i64::from(pct) / 100).max(1));
                let (id, currency) = (p.id.clone(), p.currency.clone());
                let predicted = refundable.then(|| {
                    self.model.apply(&BalanceEvent::Refund {
                        currency,
                        amount: amount.unwrap_or(remaining),
                    })
                });
                let result = self.server.refund_payment(&id, amount).await;
                match (result, predicted) {
                    (Ok(payment), Some(Ok(()))) => {
                        self.payments[index].refunded += amount.unwrap_or(remaining);
                        self.payments[index].status = payment.status;
                    }
                    (Err(err), Some(Err(BalanceModelError::InsufficientBalance { .. }))) => {
                        check(err.code() == Some(&ErrorCode::InsufficientBalance), || {
                            format!("{err}")
                        })?;
                    }
                    (Err(_), None) => {}
                    (server, model) => {
                        return Err(TestCaseError::fail(format!(
                            "refund disagreement: server {server:?}, model {model:?}"
                        )));
                    }
                }
            }
        }
        self.compare_control().await
    }

    fn pick(&self, i: usize) -> Option<usize> {
        (!self.payments.is_empty()).then(|| i % self.payments.len())
    }

    fn track(&mut self, payment: Payment, withdrawal: bool) {
        self.payments.push(Tracked {
            id: payment.id.clone().expect("payment id"),
            currency: payment.currency.clone(),
            withdrawal,
            status: payment.status.clone(),
            amount: payment.amount,
            refunded: 0,
        });
    }

    /// After every step: the mock's balances (control API) equal the model's.
    async fn compare_control(&self) -> Result<(), TestCaseError> {
        for currency in &CURRENCIES {
            let (available, frozen) = self
                .server
                .balance(currency.as_str())
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let model = self.model.balance(currency);
            check(
                (available, frozen) == (model.available, model.frozen),
                || format!("{currency}: mock ({available}, {frozen}) vs model {model:?}"),
            )?;
        }
        Ok(())
    }

    /// At the end: the balances read through the API, as Money, equal the model's.
    async fn compare_api(&self) -> Result<(), TestCaseError> {
        for currency in &CURRENCIES {
            let snapshot = self
                .client
                .balance()
                .money(currency.clone())
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let model = self.model.balance(currency);
            check(
                (
                    snapshot.available.minor,
                    snapshot.frozen.minor,
                    snapshot.total.minor,
                ) == (model.available, model.frozen, model.total()),
                || format!("{currency}: API {snapshot:?} vs model {model:?}"),
            )?;
        }
        Ok(())
    }
}

#[test]
fn balance_model_matches_mock() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime
        .block_on(MockServer::start(
            MockConfig::default().without_rate_limits(),
        ))
        .expect("mock starts");
    let client = LuxCore::builder()
        .base_url(server.base_url())
        .api_key(DEFAULT_API_KEY)
        .build()
        .expect("client builds");

    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let rejected_withdrawals = Cell::new(0usize);
    let steps = Cell::new(0usize);
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        runtime.block_on(async {
            server
                .reset()
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut harness = Harness {
                server: &server,
                client: &client,
                model: BalanceModel::new(),
                payments: Vec::new(),
                next_ref: 0,
            };
            for op in &ops {
                let before = harness.payments.len();
                harness.step(op).await?;
                steps.set(steps.get() + 1);
                if matches!(op, Op::Withdraw { .. }) && harness.payments.len() == before {
                    rejected_withdrawals.set(rejected_withdrawals.get() + 1);
                }
            }
            harness.compare_api().await
        })
    });
    if let Err(err) = result {
        panic!("{err}");
    }
    assert!(steps.get() > 64, "{} steps", steps.get());
    assert!(
        rejected_withdrawals.get() > 0,
        "some withdrawals were refused for insufficient balance"
    );
}
