//! `/_mock` simulation controls (no auth, no faults, no rate limits), the upload
//! target of ticket attachments and the fake hosted payment pages.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use luxcore_api::types::{PaymentResponse, TicketCommentResponse};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::http::extract::{PathParams, RawBody};
use crate::http::input::{Fields, json_object};
use crate::http::response::{data, json};
use crate::state::App;
use crate::state::config::{DuplicateAnswer, Fault, FaultConfig};
use crate::state::faults::FaultInjector;
use crate::store::payments::Transition;

fn payment_response(payment: luxcore_api::types::Payment) -> Response {
    data::<PaymentResponse>(StatusCode::OK, payment)
}

fn ok() -> Response {
    json(StatusCode::OK, &json!({"success": true}))
}

/// `GET /_mock/health`.
pub(crate) async fn health() -> Response {
    json(StatusCode::OK, &json!({"status": "ok"}))
}

fn transition(app: &Arc<App>, id: &str, transition: Transition) -> ApiResult<Response> {
    let payment = app.mutate(|store, events| store.transition(id, transition, events))?;
    Ok(payment_response(payment))
}

/// `POST /_mock/payments/{id}/complete`.
pub(crate) async fn complete(
    State(app): State<Arc<App>>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    transition(&app, &id, Transition::Complete)
}

/// `POST /_mock/payments/{id}/fail`.
pub(crate) async fn fail(
    State(app): State<Arc<App>>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    transition(&app, &id, Transition::Fail)
}

/// `POST /_mock/payments/{id}/expire`.
pub(crate) async fn expire(
    State(app): State<Arc<App>>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    transition(&app, &id, Transition::Expire)
}

/// `POST /_mock/payments/{id}/refund` with optional `{"amount": N}`.
pub(crate) async fn refund(
    State(app): State<Arc<App>>,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let map = json_object(&headers, &body)?;
    let mut f = Fields::new(&map);
    let amount = f.amount("amount", false);
    f.finish()?;
    let payment = app.mutate(|store, events| store.refund(&id, amount, events))?;
    Ok(payment_response(payment))
}

fn integer(f: &mut Fields<'_>, map: &serde_json::Map<String, Value>, name: &str) -> Option<i64> {
    match map.get(name) {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|v| v >= 0) => n.as_i64(),
        _ => {
            f.error(format!("{name} must be a non-negative integer number"));
            None
        }
    }
}

/// `PUT /_mock/balance` with `{"currency", "available", "frozen"}`.
pub(crate) async fn set_balance(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let map = json_object(&headers, &body)?;
    let mut f = Fields::new(&map);
    let currency = f.required_string("currency");
    let available = integer(&mut f, &map, "available");
    let frozen = match map.get("frozen") {
        None | Some(Value::Null) => Some(0),
        Some(_) => integer(&mut f, &map, "frozen"),
    };
    f.finish()?;
    let (Some(currency), Some(available), Some(frozen)) = (currency, available, frozen) else {
        return Err(ApiError::validation(vec!["invalid balance".to_owned()]));
    };
    let balance = {
        let mut store = app.store();
        store.set_funds(&currency, available, frozen)?;
        store.balance(&currency, "main")?
    };
    Ok(json(StatusCode::OK, &balance))
}

/// `POST /_mock/reset`.
pub(crate) async fn reset(State(app): State<Arc<App>>) -> Response {
    app.reset();
    ok()
}

/// One schedule item: a status number, a string in [`Fault`]'s text form (`503`, `"drop"`,
/// `"pass"`, `"LOCK_TIMEOUT"`, `"after_commit:TIMEOUT"`), or an object: `{"status": 503}`,
/// `{"error": "LOCK_TIMEOUT"}`, `{"error": "TIMEOUT", "after_commit": true}`, `{"drop":
/// true}`, `{"pass": true}`.
fn parse_fault(value: &Value) -> Result<Fault, String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .map(Fault::Status)
            .ok_or_else(|| format!("{n} is not an HTTP status")),
        Value::String(s) => s.parse(),
        Value::Object(map) => {
            let after_commit = match map.get("after_commit") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err("after_commit must be a boolean".to_owned()),
            };
            let flag = |name: &str| map.get(name) == Some(&Value::Bool(true));
            match (map.get("error"), map.get("status")) {
                (Some(Value::String(code)), None) => match code.parse::<Fault>() {
                    Ok(Fault::Error(code)) if after_commit => Ok(Fault::ErrorAfterCommit(code)),
                    Ok(fault @ Fault::Error(_)) => Ok(fault),
                    _ => Err(format!(
                        "error must be an error code of the catalogue with an error status (got {:?})",
                        code.chars().take(64).collect::<String>()
                    )),
                },
                (None, Some(status)) if !after_commit => parse_fault(status)
                    .ok()
                    .filter(|f| matches!(f, Fault::Status(_)))
                    .ok_or_else(|| "status must be an HTTP status".to_owned()),
                (None, None) if flag("drop") && !after_commit => Ok(Fault::DropAfterCommit),
                (None, None) if flag("pass") && !after_commit => Ok(Fault::Pass),
                _ => Err(
                    "a schedule object is {\"error\": CODE, \"after_commit\"?: bool}, {\"status\": N}, {\"drop\": true} or {\"pass\": true}"
                        .to_owned(),
                ),
            }
        }
        _ => Err("a schedule item is a status number, a string or an object".to_owned()),
    }
}

fn probability(f: &mut Fields<'_>, map: &serde_json::Map<String, Value>, name: &str) -> f64 {
    match map.get(name) {
        None | Some(Value::Null) => 0.0,
        Some(v) => match v.as_f64() {
            Some(p) if (0.0..=1.0).contains(&p) => p,
            _ => {
                f.error(format!("{name} must be a number between 0 and 1"));
                0.0
            }
        },
    }
}

/// `PUT /_mock/faults` with `{"seed", "probability", "statuses", "drop_after_commit",
/// "latency_ms", "schedule"}` (schedule items: see [`parse_fault`]).
pub(crate) async fn set_faults(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let map = json_object(&headers, &body)?;
    let mut f = Fields::new(&map);
    let mut config = FaultConfig {
        seed: map.get("seed").and_then(Value::as_u64).unwrap_or(0),
        probability: probability(&mut f, &map, "probability"),
        drop_after_commit: probability(&mut f, &map, "drop_after_commit"),
        latency: Duration::from_millis(map.get("latency_ms").and_then(Value::as_u64).unwrap_or(0)),
        ..FaultConfig::default()
    };
    if let Some(statuses) = map.get("statuses").filter(|v| !v.is_null()) {
        let parsed: Option<Vec<u16>> = statuses.as_array().and_then(|items| {
            items
                .iter()
                .map(|v| v.as_u64().and_then(|s| u16::try_from(s).ok()))
                .collect()
        });
        match parsed {
            Some(statuses) => config.statuses = statuses,
            None => f.error("statuses must be an array of HTTP status codes"),
        }
    }
    if let Some(schedule) = map.get("schedule").filter(|v| !v.is_null()) {
        match schedule.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    match parse_fault(item) {
                        Ok(fault) => config.schedule.push(fault),
                        Err(message) => f.error(format!("schedule[{i}]: {message}")),
                    }
                }
            }
            None => f.error("schedule must be an array"),
        }
    }
    f.finish()?;
    *app.faults() = FaultInjector::new(config);
    Ok(ok())
}

/// `PUT /_mock/duplicates` with `{"answer": "ok" | "payment_already_exists" |
/// "duplicate_reference"}`: how creations with a taken `merchant_reference` are answered
/// from now on (until `/_mock/reset`, which restores the configured answer). Answers
/// `{"success": true, "answer": NAME}`.
pub(crate) async fn set_duplicates(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let map = json_object(&headers, &body)?;
    let mut f = Fields::new(&map);
    let answer = f.required_string("answer");
    let parsed = answer.as_deref().map(str::parse::<DuplicateAnswer>);
    if let Some(Err(message)) = &parsed {
        f.error(message.clone());
    }
    f.finish()?;
    let Some(Ok(answer)) = parsed else {
        return Err(ApiError::validation(vec!["invalid answer".to_owned()]));
    };
    app.set_duplicates(answer);
    Ok(duplicates_body(answer))
}

/// `GET /_mock/duplicates`: `{"success": true, "answer": NAME}`.
pub(crate) async fn get_duplicates(State(app): State<Arc<App>>) -> Response {
    duplicates_body(app.duplicates())
}

fn duplicates_body(answer: DuplicateAnswer) -> Response {
    json(
        StatusCode::OK,
        &json!({"success": true, "answer": answer.as_str()}),
    )
}

/// `POST /_mock/tickets/{id}/reply` with `{"content"}`: a support-team comment.
pub(crate) async fn support_reply(
    State(app): State<Arc<App>>,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let map = json_object(&headers, &body)?;
    let mut f = Fields::new(&map);
    let content = f.required_string("content");
    f.finish()?;
    let content = content.unwrap_or_default();
    let comment = app.mutate(|store, events| store.add_comment(&id, content, &[], true, events))?;
    Ok(data::<TicketCommentResponse>(StatusCode::CREATED, comment))
}

/// `PUT /_mock/uploads/{token}`: the pre-signed upload target.
pub(crate) async fn upload(
    State(app): State<Arc<App>>,
    PathParams(token): PathParams<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned);
    let attachment = app.store().store_upload(&token, body, content_type)?;
    Ok(json(
        StatusCode::OK,
        &json!({"success": true, "data": attachment}),
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /_mock/pay/{id}`: a minimal hosted payment page.
pub(crate) async fn payment_page(
    State(app): State<Arc<App>>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    let payment = app.store().payment(&id)?.payment.clone();
    let page = format!(
        "<!doctype html><title>LuxCore mock payment</title><h1>Payment {}</h1><p>{} {} via {} — status <b>{}</b></p>",
        escape(&id),
        payment.amount,
        escape(payment.currency.as_str()),
        escape(payment.method.as_ref().map_or("-", |m| m.as_str())),
        escape(payment.status.as_str()),
    );
    Ok(Html(page).into_response())
}

/// `GET|POST /_mock/ipay/checkout`: a placeholder iPay checkout page.
pub(crate) async fn ipay_checkout(RawQuery(query): RawQuery) -> Response {
    let order = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "orderId")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if order.is_empty() {
        return Html(
            "<!doctype html><title>iPay (mock)</title><p>iPay checkout (mock)</p>".to_owned(),
        )
        .into_response();
    }
    Html(format!(
        "<!doctype html><title>iPay (mock)</title><p>iPay checkout (mock) for order {}</p>",
        escape(&order)
    ))
    .into_response()
}
