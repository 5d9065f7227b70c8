//! The payment method support matrix (methods × currencies × directions).

use luxcore_api::enums::{Currency, ErrorCode, PaymentMethod};
use luxcore_api::types::PaymentMethodInfo;

use super::model::Rules;
use crate::error::{ApiError, ApiResult};

/// Supported currencies.
pub(crate) const CURRENCIES: &[&str] = &["ARS", "AUD", "LKR", "MXN", "TRY", "UYU"];

/// Payment types.
pub(crate) const PAYMENT_TYPES: &[&str] = &["deposit", "withdrawal", "deposit_pp", "withdrawal_pp"];

/// One payment method.
pub(crate) struct MethodSpec {
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    pub(crate) currencies: &'static [&'static str],
    pub(crate) deposit: bool,
    pub(crate) withdrawal: bool,
    pub(crate) processing_time: &'static str,
}

/// The support matrix.
pub(crate) const METHODS: &[MethodSpec] = &[
    MethodSpec {
        code: "spei",
        name: "SPEI",
        currencies: &["MXN"],
        deposit: true,
        withdrawal: true,
        processing_time: "up to 30 min",
    },
    MethodSpec {
        code: "oxxo",
        name: "OXXO",
        currencies: &["MXN"],
        deposit: true,
        withdrawal: false,
        processing_time: "up to 30 min",
    },
    MethodSpec {
        code: "card",
        name: "Card",
        currencies: CURRENCIES,
        deposit: true,
        withdrawal: false,
        processing_time: "up to 30 min",
    },
    MethodSpec {
        code: "bank_transfer",
        name: "Bank Transfer",
        currencies: &["ARS", "MXN", "UYU"],
        deposit: true,
        withdrawal: true,
        processing_time: "up to 30 min",
    },
    MethodSpec {
        code: "cash",
        name: "Cash",
        currencies: &["ARS", "MXN", "UYU"],
        deposit: true,
        withdrawal: false,
        processing_time: "up to 30 min",
    },
    MethodSpec {
        code: "crypto",
        name: "Crypto",
        currencies: CURRENCIES,
        deposit: true,
        withdrawal: true,
        processing_time: "up to 30 min",
    },
    MethodSpec {
        code: "payid",
        name: "PayID",
        currencies: &["AUD"],
        deposit: true,
        withdrawal: true,
        processing_time: "up to 10 min",
    },
    MethodSpec {
        code: "ipay",
        name: "iPay",
        currencies: &["LKR"],
        deposit: true,
        withdrawal: false,
        processing_time: "instant (redirect)",
    },
];

/// Whether a payment type moves money out (`withdrawal`, `withdrawal_pp`).
pub(crate) fn is_withdrawal(kind: &str) -> bool {
    kind.starts_with("withdrawal")
}

/// Checks currency, method and direction, in that order.
pub(crate) fn check(method: &str, currency: &str, kind: Option<&str>) -> ApiResult<()> {
    if !CURRENCIES.contains(&currency) {
        return Err(ApiError::bad_request(
            ErrorCode::UnsupportedCurrency,
            format!("Currency {currency} is not supported"),
        ));
    }
    let Some(spec) = METHODS
        .iter()
        .find(|m| m.code == method && m.currencies.contains(&currency))
    else {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidMethod,
            format!("Payment method {method} is not available for {currency}"),
        ));
    };
    if kind.is_some_and(is_withdrawal) && !spec.withdrawal {
        return Err(ApiError::bad_request(
            ErrorCode::WithdrawalNotSupported,
            format!("Payment method {method} does not support withdrawals"),
        ));
    }
    Ok(())
}

/// Checks the merchant's configuration of a method: 400 `METHOD_NOT_CONFIGURED` when it is
/// left out, `METHOD_NOT_AVAILABLE` when it is switched off for the moment.
pub(crate) fn check_configured(rules: &Rules, method: &str) -> ApiResult<()> {
    if rules.unconfigured_methods.iter().any(|m| m == method) {
        return Err(ApiError::catalogued(
            ErrorCode::MethodNotConfigured,
            format!("Payment method {method} is not configured for this merchant"),
        ));
    }
    if rules.unavailable_methods.iter().any(|m| m == method) {
        return Err(ApiError::catalogued(
            ErrorCode::MethodNotAvailable,
            format!("Payment method {method} is not available at the moment"),
        ));
    }
    Ok(())
}

/// The list entry of a method.
pub(crate) fn info(spec: &MethodSpec) -> PaymentMethodInfo {
    PaymentMethodInfo {
        currencies: spec.currencies.iter().map(|c| Currency::from(*c)).collect(),
        deposit: Some(spec.deposit),
        method: PaymentMethod::from(spec.code),
        name: Some(spec.name.to_owned()),
        processing_time: Some(spec.processing_time.to_owned()),
        withdrawal: Some(spec.withdrawal),
    }
}
