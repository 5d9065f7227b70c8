//! Payments: creation (duplicates, method rules, payout checks, limits, magic amounts,
//! fees, balance freezing), status transitions and refunds.

use std::collections::HashMap;

use chrono::Duration;
use luxcore_api::enums::{
    Currency, ErrorCode, PaymentMethod, PaymentStatus, PaymentType, WebhookEventType,
};
use luxcore_api::types::{BankDetails, Customer, IpayCheckout, Metadata, Payment};
use serde_json::{Map, Value};

use super::methods::{self, is_withdrawal};
use super::model::{Event, PaymentRecord, Store};
use super::page::{DateRange, Page, paginate};
use super::payout;
use crate::clock::{now, payment_id, random_alnum};
use crate::error::{ApiError, ApiResult};

/// Fee in per mille of the amount.
pub(crate) const FEE_PER_MILLE: i64 = 45;
/// Deposit amount answered with `MISSING_REQUISITES`.
pub(crate) const MAGIC_MISSING_REQUISITES: i64 = 40001;
/// Deposit amount answered with `NO_AVAILABLE_REQUISITES`.
pub(crate) const MAGIC_NO_AVAILABLE_REQUISITES: i64 = 40002;
/// Amounts (any payment type) answered with a catalogue code after the duplicate check:
/// limits and a method switched off. All 400s in the catalogue.
pub(crate) const MAGIC_CODES: &[(i64, ErrorCode, &str)] = &[
    (
        40003,
        ErrorCode::LimitExceeded,
        "Transaction limit exceeded",
    ),
    (
        40004,
        ErrorCode::DailyLimitExceeded,
        "Daily transaction limit reached",
    ),
    (
        40005,
        ErrorCode::MonthlyLimitExceeded,
        "Monthly transaction limit reached",
    ),
    (
        40006,
        ErrorCode::MethodNotAvailable,
        "Payment method not available",
    ),
    (
        40007,
        ErrorCode::MethodNotConfigured,
        "Payment method not configured for merchant",
    ),
];
/// Payout fields of which a withdrawal needs at least one (non-empty).
pub(crate) const PAYOUT_FIELDS: &[&str] = &[
    "account_number",
    "clabe",
    "cvu",
    "cbu",
    "wallet_address",
    "payid",
];

/// A validated create-payment request.
#[derive(Debug, Clone)]
pub(crate) struct NewPayment {
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) method: String,
    pub(crate) kind: String,
    pub(crate) merchant_reference: String,
    pub(crate) description: Option<String>,
    pub(crate) customer: Option<Customer>,
    pub(crate) metadata: Option<Map<String, Value>>,
    pub(crate) customer_id: Option<String>,
    pub(crate) traffic_type: Option<String>,
    pub(crate) payout: Option<Map<String, Value>>,
    pub(crate) ipay_method: Option<String>,
}

/// Result of a create request.
pub(crate) enum Created {
    /// A new payment (HTTP 201).
    New(Payment),
    /// The live payment with the same reference, as stored (the HTTP edge answers it as
    /// the configured duplicate answer says).
    Duplicate(Payment),
}

/// Control / cancel transitions out of `pending` / `processing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    Complete,
    Fail,
    Expire,
    Cancel,
}

impl Transition {
    fn target(self) -> PaymentStatus {
        match self {
            Self::Complete => PaymentStatus::Completed,
            Self::Fail => PaymentStatus::Failed,
            Self::Expire => PaymentStatus::Expired,
            Self::Cancel => PaymentStatus::Cancelled,
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Self::Complete => "completed",
            Self::Fail => "failed",
            Self::Expire => "expired",
            Self::Cancel => "cancelled",
        }
    }

    fn event(self) -> Option<WebhookEventType> {
        match self {
            Self::Complete => Some(WebhookEventType::PaymentCompleted),
            Self::Fail => Some(WebhookEventType::PaymentFailed),
            Self::Cancel => Some(WebhookEventType::PaymentCancelled),
            Self::Expire => None,
        }
    }
}

fn reusable(status: &PaymentStatus) -> bool {
    matches!(
        status,
        PaymentStatus::Failed | PaymentStatus::Expired | PaymentStatus::Cancelled
    )
}

fn open(status: &PaymentStatus) -> bool {
    matches!(status, PaymentStatus::Pending | PaymentStatus::Processing)
}

/// 400 `TTL_EXPIRED`: the payment expired before completion.
fn ttl_expired(action: &str) -> ApiError {
    ApiError::catalogued(
        ErrorCode::TtlExpired,
        format!("Payment expired before completion and cannot be {action}; create a new payment"),
    )
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, format!("Payment {id} not found"))
}

/// Deterministic digits derived from the payment id (for fake account numbers).
fn digits_from(id: &str, len: usize) -> String {
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    (0..len)
        .map(|i| {
            for b in id
                .bytes()
                .chain(std::iter::once(u8::try_from(i % 256).unwrap_or(0)))
            {
                state ^= u64::from(b);
                state = state.wrapping_mul(0x0100_0000_01b3);
            }
            char::from(b'0' + u8::try_from(state % 10).unwrap_or(0))
        })
        .collect()
}

fn bank_details(id: &str, req: &NewPayment) -> Option<BankDetails> {
    if is_withdrawal(&req.kind) {
        return None;
    }
    let (bank_name, holder, account_number) = match (req.method.as_str(), req.currency.as_str()) {
        ("bank_transfer" | "cash", "ARS") => {
            ("Banco Nacion", "LuxCore Platform S.A.", digits_from(id, 22))
        }
        ("bank_transfer" | "cash", "UYU") => (
            "Banco Republica",
            "LuxCore Platform S.A.",
            digits_from(id, 14),
        ),
        ("bank_transfer" | "cash" | "spei", "MXN") => (
            "STP",
            "LuxCore Platform S.A. de C.V.",
            format!("646180{}", digits_from(id, 12)),
        ),
        ("payid", "AUD") => (
            "PayID (NPP)",
            "LuxCore Platform Pty Ltd",
            format!("pay.{}@payid.lux-core.test", id.to_ascii_lowercase()),
        ),
        _ => return None,
    };
    Some(BankDetails {
        account_holder: Some(holder.to_owned()),
        account_number: Some(account_number),
        amount: Some(req.amount.to_string()),
        bank_name: Some(bank_name.to_owned()),
        currency: Some(req.currency.clone()),
        purpose: Some(format!("Payment {id}")),
        swift_code: None,
    })
}

fn ipay_checkout(base_url: &str, id: &str, req: &NewPayment) -> Option<IpayCheckout> {
    if req.method != "ipay" || is_withdrawal(&req.kind) {
        return None;
    }
    let mut params = HashMap::new();
    params.insert(
        "merchantWebToken".to_owned(),
        format!("mock_{}", random_alnum(24)),
    );
    params.insert("orderId".to_owned(), id.to_owned());
    params.insert(
        "totalAmount".to_owned(),
        format!("{}.{:02}", req.amount / 100, req.amount % 100),
    );
    params.insert("currency".to_owned(), req.currency.clone());
    params.insert("returnUrl".to_owned(), format!("{base_url}/_mock/pay/{id}"));
    if let Some(scheme) = &req.ipay_method {
        params.insert("paymentMethod".to_owned(), scheme.clone());
    }
    Some(IpayCheckout {
        checkout_params: params,
        checkout_url: Some(format!("{base_url}/_mock/ipay/checkout?orderId={id}")),
        form_action: Some(format!("{base_url}/_mock/ipay/checkout")),
    })
}

impl Store {
    /// The stored payment with this id.
    pub(crate) fn payment(&self, id: &str) -> ApiResult<&PaymentRecord> {
        self.payment_index
            .get(id)
            .and_then(|i| self.payments.get(*i))
            .ok_or_else(|| not_found(id))
    }

    fn payment_mut(&mut self, id: &str) -> ApiResult<&mut PaymentRecord> {
        let index = *self.payment_index.get(id).ok_or_else(|| not_found(id))?;
        self.payments.get_mut(index).ok_or_else(|| not_found(id))
    }

    /// Number of payments with this merchant reference.
    pub(crate) fn count_by_reference(&self, reference: &str) -> usize {
        self.payments
            .iter()
            .filter(|r| r.payment.merchant_reference.as_deref() == Some(reference))
            .count()
    }

    /// Creates a payment (or returns the live one with the same reference).
    pub(crate) fn create_payment(
        &mut self,
        req: NewPayment,
        events: &mut Vec<Event>,
    ) -> ApiResult<Created> {
        // Checks on the request alone come first: a schema-violating or unsupported request is
        // refused even when its merchant_reference is taken (a retry of a committed request has
        // the same body, so it passes them again and still gets the original payment).
        methods::check(&req.method, &req.currency, Some(&req.kind))?;
        methods::check_configured(&self.rules, &req.method)?;
        let withdrawal = is_withdrawal(&req.kind);
        if req.kind == "withdrawal" {
            let has_details = req.payout.as_ref().is_some_and(|payout| {
                PAYOUT_FIELDS.iter().any(|f| {
                    payout
                        .get(*f)
                        .and_then(Value::as_str)
                        .is_some_and(|v| !v.trim().is_empty())
                })
            });
            if !has_details {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidWithdrawalData,
                    format!(
                        "Withdrawal requires payout with one of: {}",
                        PAYOUT_FIELDS.join(", ")
                    ),
                ));
            }
        }
        if withdrawal && let Some(payout) = &req.payout {
            payout::check(payout)?;
        }
        if let Some(limit) = self.rules.transaction_limit.filter(|l| req.amount > *l) {
            return Err(ApiError::catalogued(
                ErrorCode::LimitExceeded,
                format!("Transaction limit exceeded: the limit is {limit} per payment"),
            ));
        }
        // Then the duplicate check, before anything that depends on state (requisites, limits,
        // balance).
        if let Some(existing) = self.payments.iter().rev().find(|r| {
            r.payment.merchant_reference.as_deref() == Some(req.merchant_reference.as_str())
                && !reusable(&r.payment.status)
        }) {
            return Ok(Created::Duplicate(existing.payment.clone()));
        }
        if let Some((_, code, message)) = MAGIC_CODES.iter().find(|(a, ..)| *a == req.amount) {
            return Err(ApiError::catalogued(code.clone(), *message));
        }
        if !withdrawal && req.amount == MAGIC_MISSING_REQUISITES {
            return Err(ApiError::bad_request(
                ErrorCode::MissingRequisites,
                "No available requisites for this amount, try again later",
            ));
        }
        if !withdrawal && req.amount == MAGIC_NO_AVAILABLE_REQUISITES {
            return Err(ApiError::bad_request(
                ErrorCode::NoAvailableRequisites,
                "All requisites are locked by pending transactions, try again later",
            ));
        }
        let fee = req.amount.saturating_mul(FEE_PER_MILLE) / 1000;
        let net = if withdrawal {
            req.amount.saturating_add(fee)
        } else {
            req.amount.saturating_sub(fee)
        };
        if withdrawal {
            let funds = self.funds_mut(&req.currency)?;
            if funds.available < net {
                return Err(ApiError::bad_request(
                    ErrorCode::InsufficientBalance,
                    "Insufficient balance for withdrawal",
                ));
            }
            funds.available -= net;
            funds.frozen = funds.frozen.saturating_add(net);
        }
        let mut id = payment_id();
        while self.payment_index.contains_key(&id) {
            id = payment_id();
        }
        let created_at = now();
        let payment_url = req
            .kind
            .ends_with("_pp")
            .then(|| format!("{}/_mock/pay/{id}", self.base_url));
        let payment = Payment {
            amount: req.amount,
            bank_details: bank_details(&id, &req),
            completed_at: None,
            confirmed_at: None,
            created_at: Some(created_at),
            currency: Currency::from(req.currency.as_str()),
            customer: req.customer.clone(),
            customer_id: req.customer_id.clone(),
            description: req.description.clone(),
            error_code: None,
            expires_at: Some(created_at + Duration::minutes(15)),
            fee: Some(fee),
            fee_amount: Some(fee),
            id: Some(id.clone()),
            instructions: None,
            ipay_checkout: ipay_checkout(&self.base_url, &id, &req),
            merchant_id: Some(self.merchant_id_i64()),
            merchant_reference: Some(req.merchant_reference.clone()),
            message: None,
            metadata: req.metadata.clone().map(Metadata),
            method: Some(PaymentMethod::from(req.method.as_str())),
            net_amount: Some(net),
            payment_url,
            status: if withdrawal {
                PaymentStatus::Pending
            } else {
                PaymentStatus::Processing
            },
            status_version: Some(1),
            traffic_type: req.traffic_type.clone(),
            transaction_id: Some(id.clone()),
            type_: Some(PaymentType::from(req.kind.as_str())),
            updated_at: Some(created_at),
        };
        self.payment_index.insert(id, self.payments.len());
        self.payment_created.push(payment.created_at);
        self.payments.push(PaymentRecord {
            payment: payment.clone(),
            refunded: 0,
        });
        events.push(Event::new(WebhookEventType::PaymentCreated, &payment));
        if withdrawal {
            self.balance_event(&req.currency, events);
        }
        Ok(Created::New(payment))
    }

    /// Moves an open payment to completed / failed / expired / cancelled.
    pub(crate) fn transition(
        &mut self,
        id: &str,
        transition: Transition,
        events: &mut Vec<Event>,
    ) -> ApiResult<Payment> {
        let record = self.payment_mut(id)?;
        let payment = &mut record.payment;
        if payment.status == PaymentStatus::Expired {
            return Err(ttl_expired(transition.verb()));
        }
        if !open(&payment.status) {
            let message = if transition == Transition::Cancel {
                format!(
                    "Payment cannot be cancelled in current status: {}",
                    payment.status
                )
            } else {
                format!(
                    "Payment cannot be {} in current status: {}",
                    transition.verb(),
                    payment.status
                )
            };
            return Err(ApiError::bad_request(
                ErrorCode::PaymentAlreadyProcessed,
                message,
            ));
        }
        let at = now();
        payment.status = transition.target();
        payment.status_version = Some(payment.status_version.unwrap_or(1) + 1);
        payment.updated_at = Some(at);
        if transition == Transition::Complete {
            payment.completed_at = Some(at);
            payment.confirmed_at = Some(at);
        }
        let payment = payment.clone();
        let withdrawal = payment
            .type_
            .as_ref()
            .is_some_and(|t| is_withdrawal(t.as_str()));
        let net = payment.net_amount.unwrap_or(0);
        let currency = payment.currency.as_str().to_owned();
        let moved = match (transition, withdrawal) {
            (Transition::Complete, false) => {
                let funds = self.funds_mut(&currency)?;
                funds.available = funds.available.saturating_add(net);
                true
            }
            (Transition::Complete, true) => {
                let funds = self.funds_mut(&currency)?;
                funds.frozen = funds.frozen.saturating_sub(net);
                true
            }
            (_, true) => {
                let funds = self.funds_mut(&currency)?;
                funds.frozen = funds.frozen.saturating_sub(net);
                funds.available = funds.available.saturating_add(net);
                true
            }
            (_, false) => false,
        };
        if let Some(kind) = transition.event() {
            events.push(Event::new(kind, &payment));
        }
        if moved {
            self.balance_event(&currency, events);
        }
        Ok(payment)
    }

    /// Refunds (part of) a completed deposit.
    pub(crate) fn refund(
        &mut self,
        id: &str,
        amount: Option<i64>,
        events: &mut Vec<Event>,
    ) -> ApiResult<Payment> {
        let record = self.payment(id)?;
        let payment = &record.payment;
        if payment
            .type_
            .as_ref()
            .is_some_and(|t| is_withdrawal(t.as_str()))
        {
            return Err(ApiError::bad_request(
                ErrorCode::ValidationError,
                "Only deposits can be refunded",
            ));
        }
        if payment.status == PaymentStatus::Expired {
            return Err(ttl_expired("refunded"));
        }
        if !matches!(
            payment.status,
            PaymentStatus::Completed | PaymentStatus::PartialRefund
        ) {
            return Err(ApiError::bad_request(
                ErrorCode::PaymentAlreadyProcessed,
                format!(
                    "Payment cannot be refunded in current status: {}",
                    payment.status
                ),
            ));
        }
        let remaining = payment.amount - record.refunded;
        let amount = amount.unwrap_or(remaining);
        if amount < 1 || amount > remaining {
            return Err(ApiError::bad_request(
                ErrorCode::ValidationError,
                format!("Refund amount must be between 1 and {remaining}"),
            ));
        }
        let currency = payment.currency.as_str().to_owned();
        let funds = self.funds_mut(&currency)?;
        if funds.available < amount {
            return Err(ApiError::bad_request(
                ErrorCode::InsufficientBalance,
                "Insufficient balance for refund",
            ));
        }
        funds.available -= amount;
        let record = self.payment_mut(id)?;
        record.refunded += amount;
        let payment = &mut record.payment;
        payment.status = if record.refunded >= payment.amount {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartialRefund
        };
        payment.status_version = Some(payment.status_version.unwrap_or(1) + 1);
        payment.updated_at = Some(now());
        let payment = payment.clone();
        events.push(Event::new(WebhookEventType::PaymentRefunded, &payment));
        self.balance_event(&currency, events);
        Ok(payment)
    }

    /// Payments matching the filters, newest first.
    pub(crate) fn list_payments(
        &self,
        status: Option<&str>,
        range: DateRange,
        page: Page,
    ) -> (Vec<Payment>, i64, luxcore_api::types::Pagination) {
        let items = self
            .payments
            .iter()
            .zip(&self.payment_created)
            .rev()
            .filter(|(_, created)| range.contains(**created))
            .map(|(r, _)| &r.payment)
            .filter(|p| status.is_none_or(|s| p.status.as_str() == s));
        paginate(items, page, Payment::clone)
    }
}
