//! Payment operations (v1 and v2 creation share the same logic and state).

use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use luxcore_api::enums::{Currency, ErrorCode, PaymentMethod, PaymentStatus, PaymentType};
use luxcore_api::types::{
    Customer, Payment, PaymentList, PaymentMethodList, PaymentMethodValidation,
    PaymentMethodValidationResponse, PaymentResponse,
};

use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Caller, PathParams};
use crate::http::input::{Fields, Query, json_object, one_of};
use crate::http::response::{data, json, listed};
use crate::state::config::DuplicateAnswer;
use crate::store::methods::{self, METHODS, PAYMENT_TYPES, is_withdrawal};
use crate::store::payments::{Created, NewPayment, Transition};

const CUSTOMER_FIELDS: &[&str] = &["name", "email", "phone", "document"];

fn parse_new_payment(headers: &HeaderMap, body: &[u8]) -> ApiResult<NewPayment> {
    let map = json_object(headers, body)?;
    let mut f = Fields::new(&map);
    let amount = f.amount("amount", true);
    let currency = f.required_string("currency");
    let method = f.required_string("method");
    let kind = f.required_string("type");
    if kind
        .as_ref()
        .is_some_and(|k| !PAYMENT_TYPES.contains(&k.as_str()))
    {
        f.error(one_of("type", PAYMENT_TYPES));
    }
    let merchant_reference = f.required_string("merchant_reference");
    f.max_len("merchant_reference", merchant_reference.as_ref(), 255);
    let description = f.optional_string("description");
    let customer = f.string_fields("customer", CUSTOMER_FIELDS);
    let metadata = f.optional_object("metadata");
    let customer_id = f.optional_string("customer_id");
    let traffic_type = f.optional_string("traffic_type");
    let payout = f.optional_object("payout");
    let ipay = f.string_fields("ipay", &["payment_method"]);
    f.finish()?;
    let (Some(amount), Some(currency), Some(method), Some(kind), Some(merchant_reference)) =
        (amount, currency, method, kind, merchant_reference)
    else {
        return Err(ApiError::validation(vec![
            "invalid payment request".to_owned(),
        ]));
    };
    let customer = customer.map(|c| {
        let field = |name: &str| c.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        Customer {
            document: field("document"),
            email: field("email"),
            name: field("name"),
            phone: field("phone"),
        }
    });
    Ok(NewPayment {
        amount,
        currency,
        method,
        kind,
        merchant_reference,
        description,
        customer,
        metadata,
        customer_id,
        traffic_type,
        payout,
        ipay_method: ipay.and_then(|i| {
            i.get("payment_method")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        }),
    })
}

/// `POST /api/v1/payments` and `POST /api/v2/payments` (HMAC): one operation, two auth schemes.
pub(crate) async fn create(caller: Caller, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let app = caller.require(&["payments.create"])?;
    let request = parse_new_payment(&headers, &body)?;
    // The answer to a duplicate is read before the creation, so one request sees one mode.
    let answer = app.duplicates();
    match app.mutate(|store, events| store.create_payment(request, events))? {
        Created::New(payment) => Ok(json(StatusCode::CREATED, &payment)),
        Created::Duplicate(payment) => duplicate(answer, payment),
    }
}

/// The answer to a creation whose `merchant_reference` is taken by `existing`.
fn duplicate(answer: DuplicateAnswer, mut existing: Payment) -> ApiResult<Response> {
    match answer {
        DuplicateAnswer::Ok200 => {
            existing.error_code = Some(ErrorCode::MerchantReferenceDuplicate);
            existing.message = Some("Payment with this reference exists".to_owned());
            Ok(json(StatusCode::OK, &existing))
        }
        DuplicateAnswer::AlreadyExists400 => {
            let data = match serde_json::to_value(&existing) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
            Err(ApiError::catalogued(
                ErrorCode::PaymentAlreadyExists,
                "Payment with this reference already exists",
            )
            .with_data(data))
        }
        DuplicateAnswer::DuplicateReference400 => Err(ApiError::catalogued(
            ErrorCode::DuplicateReference,
            "Duplicate reference detected: merchant_reference is already used",
        )),
    }
}

/// `GET /api/v1/payments`.
pub(crate) async fn list(caller: Caller, RawQuery(query): RawQuery) -> ApiResult<Response> {
    let app = caller.require(&["payments.read"])?;
    let mut q = Query::parse(query.as_deref());
    let page = q.page();
    let range = q.date_range("created_at_from", "created_at_to");
    let status = q.enumerated("status", PaymentStatus::KNOWN);
    q.finish()?;
    Ok(listed::<PaymentList>(app.store().list_payments(
        status.as_deref(),
        range,
        page,
    )))
}

/// `GET /api/v1/payments/{id}`.
pub(crate) async fn get(caller: Caller, PathParams(id): PathParams<String>) -> ApiResult<Response> {
    let app = caller.require(&["payments.read"])?;
    let payment = app.store().payment(&id)?.payment.clone();
    Ok(data::<PaymentResponse>(StatusCode::OK, payment))
}

/// `POST /api/v1/payments/{id}/cancel`.
pub(crate) async fn cancel(
    caller: Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    let app = caller.require(&["payments.cancel"])?;
    let payment = app.mutate(|store, events| store.transition(&id, Transition::Cancel, events))?;
    Ok(data::<PaymentResponse>(StatusCode::OK, payment))
}

/// `GET /api/v1/payments/methods`.
pub(crate) async fn methods(caller: Caller, RawQuery(query): RawQuery) -> ApiResult<Response> {
    let app = caller.require(&["payments.methods", "payments.read"])?;
    let mut q = Query::parse(query.as_deref());
    let currency = q.get("currency").map(str::to_owned);
    let kind = q.enumerated("type", PAYMENT_TYPES);
    q.finish()?;
    if let Some(currency) = currency
        .as_ref()
        .filter(|c| !methods::CURRENCIES.contains(&c.as_str()))
    {
        return Err(ApiError::bad_request(
            ErrorCode::UnsupportedCurrency,
            format!("Currency {currency} is not supported"),
        ));
    }
    let unconfigured = app.store().rules.unconfigured_methods.clone();
    let list = METHODS
        .iter()
        .filter(|m| !unconfigured.iter().any(|u| u == m.code))
        .filter(|m| {
            currency
                .as_ref()
                .is_none_or(|c| m.currencies.contains(&c.as_str()))
        })
        .filter(|m| {
            kind.as_ref().is_none_or(|k| {
                if is_withdrawal(k) {
                    m.withdrawal
                } else {
                    m.deposit
                }
            })
        })
        .map(methods::info)
        .collect();
    Ok(data::<PaymentMethodList>(StatusCode::OK, list))
}

/// `POST /api/v1/payments/methods/validate`.
pub(crate) async fn validate(
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let app = caller.require(&["payments.methods", "payments.read"])?;
    let map = json_object(&headers, &body)?;
    let mut f = Fields::new(&map);
    let method = f.required_string("method");
    let currency = f.required_string("currency");
    let kind = f.optional_string("type");
    if kind
        .as_ref()
        .is_some_and(|k| !PAYMENT_TYPES.contains(&k.as_str()))
    {
        f.error(one_of("type", PAYMENT_TYPES));
    }
    let _ = f.amount("amount", false);
    f.finish()?;
    let (Some(method), Some(currency)) = (method, currency) else {
        return Err(ApiError::validation(vec!["invalid request".to_owned()]));
    };
    // A currency or method outside the spec's enums is refused as on creation (400
    // UNSUPPORTED_CURRENCY / INVALID_METHOD); `valid: false` answers known values that do not combine.
    if !methods::CURRENCIES.contains(&currency.as_str())
        || !METHODS.iter().any(|m| m.code == method)
    {
        methods::check(&method, &currency, kind.as_deref())?;
    }
    let checked = methods::check(&method, &currency, kind.as_deref())
        .and_then(|()| methods::check_configured(&app.store().rules, &method));
    let (valid, error_code, reasons) = match checked {
        Ok(()) => (true, None, Vec::new()),
        Err(error) => (false, Some(error.code()), vec![error.message()]),
    };
    Ok(data::<PaymentMethodValidationResponse>(
        StatusCode::OK,
        PaymentMethodValidation {
            currency: Some(Currency::from(currency.as_str())),
            error_code,
            method: Some(PaymentMethod::from(method.as_str())),
            reasons,
            type_: kind.as_deref().map(PaymentType::from),
            valid,
        },
    ))
}
