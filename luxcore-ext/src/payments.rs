//! Payments: create, get, cancel, methods, validate, and list/stream/collect_all; plus
//! [`PaymentRequest`] to build creation requests and [`PaymentFilter`] to filter lists.
//!
//! ```no_run
//! # async fn demo() -> luxcore_ext::Result<()> {
//! use luxcore_ext::prelude::*;
//!
//! let client = LuxCore::builder().api_key("qp_test_sk_...").build()?;
//! let request = PaymentRequest::deposit(Money::new(150_000, Currency::ARS), PaymentMethod::BankTransfer, "order_123")
//!     .description("Order #123")
//!     .build()?;
//! let payment = client.payments().create(request).await?.into_inner();
//! println!("{} {}", payment.id.as_deref().unwrap_or("-"), payment.status);
//! # Ok(()) }
//! ```

use std::num::NonZeroU64;
use std::sync::Arc;

use luxcore_api::enums::{Currency, PaymentMethod, PaymentType};
use luxcore_api::operations as ops;
use luxcore_api::types::{
    Customer, IpayOptions, Metadata, Payment, PaymentCreateRequest, PaymentMethodInfo,
    PaymentMethodValidateRequest, PaymentMethodValidation, PayoutDetails,
};

use crate::base::context::{Response, ResponseMeta};
use crate::base::error::{Error, ErrorCode, Result};
use crate::base::ids::PaymentId;
use crate::base::money::{Money, minor_unit_exponent};
use crate::pagination::{ListStream, Page, Paging, list_methods, status_range_query};
use crate::payouts::Recipient;
use crate::transport::client::{ApiCall, CallOptions, LuxCore, attempt};

pub use crate::pagination::filters::PaymentFilter;

/// Payment operations. Obtained from [`LuxCore::payments`]; owns a clone of the client.
#[derive(Debug, Clone)]
pub struct Payments {
    client: LuxCore,
    paging: Paging,
}

impl LuxCore {
    /// Payments: create, get, cancel, methods, validate, list, stream.
    pub fn payments(&self) -> Payments {
        Payments {
            client: self.clone(),
            paging: Paging::default(),
        }
    }
}

/// The outcome of a creation that LuxCore de-duplicates by `merchant_reference`.
#[derive(Debug, Clone, PartialEq)]
pub enum Created<T> {
    /// Created now (HTTP 201).
    New(T),
    /// A payment with this `merchant_reference` already existed and is returned instead
    /// (HTTP 200, `MERCHANT_REFERENCE_DUPLICATE`). With automatic retries this can also
    /// be the payment created by an earlier attempt of the same call whose answer was
    /// lost (see [`crate::retry`]).
    Existing(T),
}

impl<T> Created<T> {
    /// The value, new or existing.
    pub fn into_inner(self) -> T {
        match self {
            Created::New(value) | Created::Existing(value) => value,
        }
    }

    /// A reference to the value, new or existing.
    pub fn get(&self) -> &T {
        match self {
            Created::New(value) | Created::Existing(value) => value,
        }
    }

    /// `true` when created by this call (HTTP 201).
    pub fn is_new(&self) -> bool {
        matches!(self, Created::New(_))
    }
}

/// What a creation request asked for, to compare with the payment an answer returns for
/// its `merchant_reference`.
#[derive(Debug, Clone)]
struct Sent {
    amount: u64,
    currency: Currency,
    type_: PaymentType,
    method: PaymentMethod,
}

impl Sent {
    fn of(request: &PaymentCreateRequest) -> Self {
        Sent {
            amount: request.amount.get(),
            currency: request.currency.clone(),
            type_: request.type_.clone(),
            method: request.method.clone(),
        }
    }

    /// The fields in which `existing` differs from the request (`amount`, `currency`,
    /// `type`, `method`), or `None` when it is the same payment. A field the answer leaves
    /// out (type, method) is not a difference.
    fn conflicts_with(&self, existing: &Payment) -> Option<Vec<&'static str>> {
        let mut fields = Vec::new();
        if u64::try_from(existing.amount).ok() != Some(self.amount) {
            fields.push("amount");
        }
        if existing.currency != self.currency {
            fields.push("currency");
        }
        if existing.type_.as_ref().is_some_and(|t| *t != self.type_) {
            fields.push("type");
        }
        if existing.method.as_ref().is_some_and(|m| *m != self.method) {
            fields.push("method");
        }
        (!fields.is_empty()).then_some(fields)
    }

    /// `existing` when it is the payment this request asked for, else the conflict (after
    /// `attempts` attempts).
    fn existing(
        &self,
        existing: Payment,
        request_id: Option<String>,
        attempts: u32,
    ) -> Result<Payment> {
        match self.conflicts_with(&existing) {
            Some(fields) => Err(Error::ReferenceConflict {
                fields,
                existing: Box::new(existing),
                request_id,
                attempts,
            }),
            None => Ok(existing),
        }
    }
}

/// How many of the newest payments a creation refused as a duplicate (`PAYMENT_ALREADY_EXISTS`,
/// `DUPLICATE_REFERENCE`) searches for the payment holding its reference, when the refusal
/// does not carry it: 5 pages of 100. The API has no filter by reference, and the payment a
/// retry collides with was created moments before, so it is among the newest.
pub const DUPLICATE_LOOKUP_PAYMENTS: u32 = 500;

/// A creation refused because its reference is taken: HTTP 400 `PAYMENT_ALREADY_EXISTS`
/// ("returns existing") or `DUPLICATE_REFERENCE`.
fn is_duplicate_refusal(error: &Error) -> bool {
    matches!(
        error.code(),
        Some(ErrorCode::PaymentAlreadyExists | ErrorCode::DuplicateReference)
    )
}

/// The payment holding `reference` after a duplicate refusal: from the refusal's `data`,
/// else from the newest payments. It becomes [`Created::Existing`] when it is the payment
/// `sent` asked for, [`Error::ReferenceConflict`] when it is another; not found, the refusal
/// stays the answer.
async fn existing_after_refusal(
    client: &LuxCore,
    sent: &Sent,
    reference: &str,
    refusal: Error,
    options: CallOptions,
) -> Result<Response<Created<Payment>>> {
    let request_id = refusal.request_id().map(str::to_owned);
    let attempts = refusal.attempts().unwrap_or(1);
    let carried = refusal
        .body()
        .and_then(|data| serde_json::from_value::<Payment>(data.clone()).ok())
        .filter(|p| p.merchant_reference.as_deref() == Some(reference));
    let (payment, meta) = match carried {
        Some(payment) => {
            let status = refusal
                .status()
                .and_then(|s| reqwest::StatusCode::from_u16(s).ok())
                .unwrap_or(reqwest::StatusCode::BAD_REQUEST);
            let mut meta = ResponseMeta::new(status, &reqwest::header::HeaderMap::new(), attempts);
            meta.request_id = request_id.clone();
            (payment, meta)
        }
        None => match find_by_reference(client, reference, options).await? {
            Some(found) => found,
            None => return Err(refusal),
        },
    };
    let payment = sent.existing(payment, request_id, attempts)?;
    Ok(Response::new(Created::Existing(payment), meta))
}

/// The newest payment with `merchant_reference == reference` among the
/// [`DUPLICATE_LOOKUP_PAYMENTS`] newest, with the metadata of the page that held it.
async fn find_by_reference(
    client: &LuxCore,
    reference: &str,
    options: CallOptions,
) -> Result<Option<(Payment, ResponseMeta)>> {
    const PAGE: u32 = 100;
    let query = Arc::new((PaymentFilter::new(),));
    for index in 0..DUPLICATE_LOOKUP_PAYMENTS / PAGE {
        let offset = i32::try_from(index * PAGE).unwrap_or(i32::MAX);
        let (page, meta) = payments_page(client, &query, offset, PAGE)
            .with_options(options.clone())
            .with_meta()
            .await?
            .into_parts();
        let exhausted = page.items.len() < PAGE as usize;
        if let Some(payment) = page
            .items
            .into_iter()
            .find(|p| p.merchant_reference.as_deref() == Some(reference))
        {
            return Ok(Some((payment, meta)));
        }
        if exhausted {
            break;
        }
    }
    Ok(None)
}

/// A creation answered 2xx whose body does not decode: the payment may exist, so this is
/// never a plain decode error (which a caller might answer by creating again).
fn creation_unreadable(error: Error) -> Error {
    match error {
        Error::Decode {
            status: Some(status),
            message,
            body,
            request_id,
            attempts,
            ..
        } if (200..300).contains(&status) => Error::CreatedButUnreadable {
            status,
            message,
            body,
            request_id,
            attempts,
        },
        other => other,
    }
}

/// Typed reads of a generated [`Payment`].
pub trait PaymentExt {
    /// The amount as [`Money`] (`amount` minor units of `currency`).
    fn money(&self) -> Money;
    /// The payment id: `id` (webhooks, reads), else `transaction_id` (creation answers).
    fn payment_id(&self) -> Option<&str>;
}

impl PaymentExt for Payment {
    fn money(&self) -> Money {
        Money::new(self.amount, self.currency.clone())
    }

    fn payment_id(&self) -> Option<&str> {
        self.id.as_deref().or(self.transaction_id.as_deref())
    }
}

fn payment_id(payment: &Payment) -> Option<String> {
    payment
        .id
        .clone()
        .or_else(|| payment.transaction_id.clone())
}

fn payments_page(
    client: &LuxCore,
    query: &Arc<(PaymentFilter,)>,
    offset: i32,
    limit: u32,
) -> ApiCall<Page<Payment>> {
    let query = Arc::clone(query);
    let send = attempt!(query => |c| {
        let builder = c.list_payments().limit(limit).offset(offset);
        status_range_query!(builder, &query.0).send()
    });
    ApiCall::plan(client, ops::LIST_PAYMENTS, send)
        .map(|list| Page::from_api(list.data, list.total, &list.pagination))
}

impl Payments {
    /// The same resource walking lists with `paging` (page size, concurrency, eager, offset).
    pub fn paging(mut self, paging: Paging) -> Self {
        self.paging = paging;
        self
    }

    /// Creates a deposit or withdrawal: through API v2, HMAC-signed, when the client has
    /// HMAC credentials, else through API v1 with the API key (see [`LuxCore`]).
    ///
    /// Returns [`Created::Existing`] when the `merchant_reference` is already in use by
    /// the same payment: the documented answer HTTP 200 `MERCHANT_REFERENCE_DUPLICATE`, and
    /// also HTTP 400 `PAYMENT_ALREADY_EXISTS` or `DUPLICATE_REFERENCE` (the docs list both;
    /// the payment is then taken from the error body's `data` when it holds one, else
    /// found among the [`DUPLICATE_LOOKUP_PAYMENTS`] newest payments by its reference; not
    /// found, the error stays). A payment with the reference but another amount,
    /// currency, type or method is an [`Error::ReferenceConflict`]. Retried automatically
    /// on transient failures: safe because of that de-duplication (see [`crate::retry`]).
    /// Each v2 attempt carries a fresh nonce and timestamp.
    ///
    /// The metadata of a payment recovered from a 400 refusal is the refusal's (status
    /// 400, its request id, the creation's attempts) when the body carried the payment,
    /// else that of the list page that held it.
    pub fn create(&self, request: PaymentCreateRequest) -> ApiCall<Created<Payment>> {
        let operation = self
            .client
            .versioned(ops::CREATE_PAYMENT, ops::CREATE_PAYMENT_V2);
        let v2 = operation == ops::CREATE_PAYMENT_V2;
        let sent = Sent::of(&request);
        let reference = request.merchant_reference.to_string();
        let send = attempt!(request => |c| async move {
            if v2 {
                c.create_payment_v2().body(request).send().await
            } else {
                c.create_payment().body(request).send().await
            }
        });
        let checked = sent.clone();
        let call = ApiCall::plan(&self.client, operation, send)
            .and_then(move |payment, meta| {
                if meta.status == 201 {
                    return Ok(Created::New(payment));
                }
                checked
                    .existing(payment, meta.request_id.clone(), meta.attempts)
                    .map(Created::Existing)
            })
            .map_err(creation_unreadable)
            .merchant_reference(&reference);
        let client = self.client.clone();
        let lookup = reference.clone();
        ApiCall::from_fn(move |options: CallOptions| async move {
            match call.with_options(options.clone()).with_meta().await {
                Err(refusal) if is_duplicate_refusal(&refusal) => {
                    existing_after_refusal(&client, &sent, &lookup, refusal, options).await
                }
                answer => answer,
            }
        })
        .merchant_reference(&reference)
    }

    /// Gets a payment by id (`pay_...`).
    pub fn get(&self, id: impl Into<PaymentId>) -> ApiCall<Payment> {
        let id = String::from(id.into());
        let send = attempt!(id => |c| c.get_payment().id(id).send());
        ApiCall::plan(&self.client, ops::GET_PAYMENT, send).map(|r| r.data)
    }

    /// Cancels a pending or processing payment (`PAYMENT_ALREADY_PROCESSED` otherwise).
    /// Not retried once sent (see [`crate::retry`]).
    pub fn cancel(&self, id: impl Into<PaymentId>) -> ApiCall<Payment> {
        let id = String::from(id.into());
        let send = attempt!(id => |c| c.cancel_payment().id(id).send());
        ApiCall::plan(&self.client, ops::CANCEL_PAYMENT, send).map(|r| r.data)
    }

    /// The payment methods available to the merchant, optionally only those offered in
    /// `currency` and/or supporting `payment_type`.
    pub fn methods(
        &self,
        currency: Option<Currency>,
        payment_type: Option<PaymentType>,
    ) -> ApiCall<Vec<PaymentMethodInfo>> {
        let send = attempt!(currency, payment_type => |c| {
            let mut builder = c.get_payment_methods();
            if let Some(currency) = currency {
                builder = builder.currency(currency);
            }
            if let Some(payment_type) = payment_type {
                builder = builder.type_(payment_type);
            }
            builder.send()
        });
        ApiCall::plan(&self.client, ops::GET_PAYMENT_METHODS, send).map(|r| r.data)
    }

    /// Checks a method/currency/type (and amount) combination before creating a payment.
    pub fn validate(
        &self,
        request: PaymentMethodValidateRequest,
    ) -> ApiCall<PaymentMethodValidation> {
        let send = attempt!(request => |c| c.validate_payment_method().body(request).send());
        ApiCall::plan(&self.client, ops::VALIDATE_PAYMENT_METHOD, send).map(|r| r.data)
    }

    list_methods!(
        "the payments (newest first)",
        Payment,
        PaymentFilter,
        payments_page,
        payment_id,
        list,
        stream,
        collect_all
    );
}

/// Builds a [`PaymentCreateRequest`] with the fields merchants usually set.
///
/// ```
/// use luxcore_ext::payments::PaymentRequest;
/// use luxcore_ext::{Currency, Money, PaymentMethod};
///
/// let deposit = PaymentRequest::deposit(Money::new(150_000, Currency::ARS), PaymentMethod::BankTransfer, "order_1")
///     .description("Order #1")
///     .metadata("source", "web")
///     .build()
///     .unwrap();
/// assert_eq!(deposit.amount.get(), 150_000);
///
/// let payout = PaymentRequest::withdrawal(Money::new(50_000, Currency::MXN), PaymentMethod::Spei, "payout_1")
///     .payout_field("clabe", "002010077777777771")
///     .build()
///     .unwrap();
/// assert!(payout.payout.is_some());
///
/// // Zero is rejected with an error, not a panic.
/// assert!(PaymentRequest::deposit(Money::new(0, Currency::ARS), PaymentMethod::Card, "x").build().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRequest {
    amount: Money,
    method: PaymentMethod,
    payment_type: PaymentType,
    merchant_reference: String,
    description: Option<String>,
    customer: Option<Customer>,
    customer_id: Option<String>,
    metadata: serde_json::Map<String, serde_json::Value>,
    payout: serde_json::Map<String, serde_json::Value>,
    traffic_type: Option<String>,
    ipay: Option<IpayOptions>,
    /// Why the details given to [`Self::payout_to`] were refused, for [`Self::build`].
    payout_error: Option<String>,
}

/// `deposit` and `withdrawal`: the same arguments, another payment type.
macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $kind:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(
            amount: Money,
            method: PaymentMethod,
            merchant_reference: impl Into<String>,
        ) -> Self {
            Self::new(amount, method, PaymentType::$kind, merchant_reference)
        }
    )*};
}

impl PaymentRequest {
    constructors! {
        /// A deposit (the customer pays you) of `amount`
        /// (`Money::new(150_000, Currency::ARS)` = 1,500.00 ARS).
        deposit => Deposit;
        /// A withdrawal (payout to a recipient) of `amount`. Add the recipient's account
        /// with [`Self::payout_field`] / [`Self::payout`].
        withdrawal => Withdrawal;
    }

    fn new(
        amount: Money,
        method: PaymentMethod,
        payment_type: PaymentType,
        merchant_reference: impl Into<String>,
    ) -> Self {
        PaymentRequest {
            amount,
            method,
            payment_type,
            merchant_reference: merchant_reference.into(),
            description: None,
            customer: None,
            customer_id: None,
            metadata: serde_json::Map::new(),
            payout: serde_json::Map::new(),
            traffic_type: None,
            ipay: None,
            payout_error: None,
        }
    }

    /// Overrides the payment type (e.g. `deposit_pp` / `withdrawal_pp` for the hosted page).
    pub fn payment_type(mut self, payment_type: PaymentType) -> Self {
        self.payment_type = payment_type;
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the customer (for withdrawals: the recipient).
    pub fn customer(mut self, customer: Customer) -> Self {
        self.customer = Some(customer);
        self
    }

    /// Sets your customer identifier.
    pub fn customer_id(mut self, customer_id: impl Into<String>) -> Self {
        self.customer_id = Some(customer_id.into());
        self
    }

    /// Adds one metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Adds one payout detail (`account_number`, `clabe`, `wallet_address`, `payid`, ...).
    pub fn payout_field(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.payout.insert(key.into(), value.into());
        self
    }

    /// Replaces the payout details.
    pub fn payout(mut self, payout: PayoutDetails) -> Self {
        self.payout = payout.0;
        self
    }

    /// Sets the payout details from a typed, checked [`Recipient`] (CBU, CVU, CLABE,
    /// PayID, ...): replaces the details set before; [`Self::payout_field`] can add keys
    /// after it. When a rule is broken, or the recipient's market is not the amount's
    /// currency, [`Self::build`] fails with [`Error::InvalidRequest`] naming the field and
    /// the rule (`payout cvu: the check digit ...`), so nothing is sent. The keys sent are
    /// assumed: see [`Recipient::to_payout`].
    pub fn payout_to(mut self, recipient: &Recipient) -> Self {
        match recipient.payout_for(&self.amount.currency) {
            Ok(details) => {
                self.payout = details.0;
                self.payout_error = None;
            }
            Err(error) => self.payout_error = Some(error.to_string()),
        }
        self
    }

    /// Sets the traffic type.
    pub fn traffic_type(mut self, traffic_type: impl Into<String>) -> Self {
        self.traffic_type = Some(traffic_type.into());
        self
    }

    /// Restricts an iPay checkout to one scheme.
    pub fn ipay_payment_method(mut self, scheme: impl Into<String>) -> Self {
        self.ipay = Some(IpayOptions {
            payment_method: Some(scheme.into()),
        });
        self
    }

    /// The request. Fails with [`Error::InvalidRequest`] when the amount is not positive,
    /// its currency is not one LuxCore documents, the merchant reference is empty or
    /// longer than 255 characters, or the details given to [`Self::payout_to`] break a rule.
    pub fn build(self) -> Result<PaymentCreateRequest> {
        if let Some(rule) = self.payout_error {
            return Err(Error::InvalidRequest(rule));
        }
        let Money { minor, currency } = self.amount;
        if minor_unit_exponent(&currency).is_none() {
            return Err(Error::InvalidRequest(format!(
                "currency {currency} is not one LuxCore documents (ARS, AUD, LKR, MXN, TRY, UYU)"
            )));
        }
        let amount = u64::try_from(minor)
            .ok()
            .and_then(NonZeroU64::new)
            .ok_or_else(|| Error::InvalidRequest("amount must be at least 1 minor unit".into()))?;
        if self.merchant_reference.trim().is_empty() {
            return Err(Error::InvalidRequest(
                "merchant_reference must not be empty".into(),
            ));
        }
        Ok(PaymentCreateRequest {
            amount,
            currency,
            customer: self.customer,
            customer_id: self.customer_id,
            description: self.description,
            ipay: self.ipay,
            merchant_reference: self
                .merchant_reference
                .try_into()
                .map_err(|e| Error::InvalidRequest(format!("merchant_reference: {e}")))?,
            metadata: (!self.metadata.is_empty()).then_some(Metadata(self.metadata)),
            method: self.method,
            payout: (!self.payout.is_empty()).then_some(PayoutDetails(self.payout)),
            traffic_type: self.traffic_type,
            type_: self.payment_type,
        })
    }
}

impl TryFrom<PaymentRequest> for PaymentCreateRequest {
    type Error = Error;

    fn try_from(request: PaymentRequest) -> Result<Self> {
        request.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deposit_and_withdrawal() {
        let deposit = PaymentRequest::deposit(
            Money::new(150_000, Currency::ARS),
            PaymentMethod::BankTransfer,
            "o1",
        )
        .description("d")
        .customer_id("c1")
        .metadata("k", "v")
        .build()
        .unwrap();
        assert_eq!(deposit.type_, PaymentType::Deposit);
        assert_eq!(deposit.amount.get(), 150_000);
        assert_eq!(deposit.metadata.unwrap().0["k"], "v");
        assert!(deposit.payout.is_none());

        let withdrawal: PaymentCreateRequest =
            PaymentRequest::withdrawal(Money::new(5, Currency::MXN), PaymentMethod::Spei, "w1")
                .payout_field("clabe", "002010077777777771")
                .try_into()
                .unwrap();
        assert_eq!(withdrawal.type_, PaymentType::Withdrawal);
        let json = serde_json::to_value(&withdrawal).unwrap();
        assert_eq!(json["type"], "withdrawal");
        assert_eq!(json["payout"]["clabe"], "002010077777777771");
        assert!(json.get("metadata").is_none());
    }

    #[test]
    fn invalid_requests_are_errors() {
        let zero =
            PaymentRequest::deposit(Money::new(0, Currency::ARS), PaymentMethod::Card, "r").build();
        assert!(matches!(zero, Err(Error::InvalidRequest(_))));
        let empty =
            PaymentRequest::deposit(Money::new(1, Currency::ARS), PaymentMethod::Card, " ").build();
        assert!(matches!(empty, Err(Error::InvalidRequest(_))));
    }

    #[test]
    fn created() {
        let new = Created::New(1);
        assert!(new.is_new());
        assert_eq!(*new.get(), 1);
        let existing = Created::Existing(2);
        assert!(!existing.is_new());
        assert_eq!(existing.into_inner(), 2);
    }
}
