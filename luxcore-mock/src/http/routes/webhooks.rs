//! Webhook operations.

use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use luxcore_api::enums::{
    SignatureAlgorithm, WebhookDeliveryStatus, WebhookEventType, WebhookStatus,
};
use luxcore_api::types::{
    WebhookEventList, WebhookEventResponse, WebhookList, WebhookResponse, WebhookRetryResponse,
    WebhookRetryResult,
};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Caller, PathParams};
use crate::http::input::{Fields, Query, json_object, one_of};
use crate::http::response::{data, listed};
use crate::store::webhooks::WebhookInput;

fn parse_events(
    f: &mut Fields<'_>,
    map: &Map<String, Value>,
    required: bool,
) -> Option<Vec<WebhookEventType>> {
    match map.get("events") {
        None if required => {
            f.error("events should not be empty");
            f.error("events must be an array");
            None
        }
        None => None,
        Some(Value::Array(items)) if items.is_empty() => {
            f.error("events should not be empty");
            None
        }
        Some(Value::Array(items)) => {
            let known = WebhookEventType::KNOWN;
            let events: Vec<WebhookEventType> = items
                .iter()
                .filter_map(Value::as_str)
                .filter(|s| known.contains(s))
                .map(WebhookEventType::from)
                .collect();
            if events.len() == items.len() {
                let mut unique = Vec::new();
                for event in events {
                    if !unique.contains(&event) {
                        unique.push(event);
                    }
                }
                Some(unique)
            } else {
                f.error(format!(
                    "each value in events must be one of the following values: {}",
                    known.join(", ")
                ));
                None
            }
        }
        Some(_) => {
            f.error("events must be an array");
            None
        }
    }
}

/// An absolute URI as `format: uri` means it (RFC 3986): a scheme, `:`, and only characters a URI
/// may carry. Deliveries go out over plain HTTP only, so other schemes end as `failed` events.
fn is_absolute_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let rest_ok = rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b));
    scheme_ok && rest_ok && url::Url::parse(value).is_ok()
}

fn parse_webhook(headers: &HeaderMap, body: &[u8], partial: bool) -> ApiResult<WebhookInput> {
    let map = json_object(headers, body)?;
    let mut f = Fields::new(&map);
    let url = if partial {
        f.optional_string("url")
    } else {
        f.required_string("url")
    };
    if url.as_deref().is_some_and(|url| !is_absolute_uri(url)) {
        f.error("url must be a URL address");
    }
    let events = parse_events(&mut f, &map, !partial);
    let algorithm = f.optional_string("signature_algorithm");
    if algorithm.is_some_and(|a| !SignatureAlgorithm::KNOWN.contains(&a.as_str())) {
        f.error(one_of("signature_algorithm", SignatureAlgorithm::KNOWN));
    }
    if map.get("merchant_id").is_some_and(|v| !v.is_string()) {
        f.error("merchant_id must be a string");
    }
    f.finish()?;
    Ok(WebhookInput { url, events })
}

fn one(webhook: luxcore_api::types::Webhook, status: StatusCode) -> Response {
    data::<WebhookResponse>(status, webhook)
}

/// `POST /api/v1/webhooks`.
pub(crate) async fn create(caller: Caller, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let app = caller.require(&["webhooks.create"])?;
    let input = parse_webhook(&headers, &body, false)?;
    let (Some(url), Some(events)) = (input.url, input.events) else {
        return Err(ApiError::validation(vec![
            "url and events are required".to_owned(),
        ]));
    };
    let webhook = app.store().create_webhook(url, events);
    Ok(one(webhook, StatusCode::CREATED))
}

/// `GET /api/v1/webhooks`.
pub(crate) async fn list(caller: Caller, RawQuery(query): RawQuery) -> ApiResult<Response> {
    let app = caller.require(&["webhooks.read"])?;
    let mut q = Query::parse(query.as_deref());
    let page = q.page();
    let range = q.date_range("created_at_from", "created_at_to");
    let status = q.enumerated("status", WebhookStatus::KNOWN);
    q.finish()?;
    Ok(listed::<WebhookList>(app.store().list_webhooks(
        status.as_deref(),
        range,
        page,
    )))
}

/// `GET /api/v1/webhooks/{id}`.
pub(crate) async fn get(caller: Caller, PathParams(id): PathParams<String>) -> ApiResult<Response> {
    let app = caller.require(&["webhooks.read"])?;
    let webhook = app.store().webhook(&id)?.hook.clone();
    Ok(one(webhook, StatusCode::OK))
}

/// `PUT /api/v1/webhooks/{id}`.
pub(crate) async fn update(
    caller: Caller,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let app = caller.require(&["webhooks.update"])?;
    // The spec marks this body required (an empty JSON object is fine; no body at all is not).
    if body.is_empty() {
        return Err(ApiError::validation(vec![
            "request body must be a JSON object".to_owned(),
        ]));
    }
    let input = parse_webhook(&headers, &body, true)?;
    let webhook = app.store().update_webhook(&id, input)?;
    Ok(one(webhook, StatusCode::OK))
}

/// `DELETE /api/v1/webhooks/{id}`.
pub(crate) async fn delete(
    caller: Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    let app = caller.require(&["webhooks.delete"])?;
    app.store().delete_webhook(&id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /api/v1/webhooks/{id}/enable`.
pub(crate) async fn enable(
    caller: Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    let app = caller.require(&["webhooks.update"])?;
    let webhook = app.store().set_webhook_status(&id, WebhookStatus::Active)?;
    Ok(one(webhook, StatusCode::OK))
}

/// `PUT /api/v1/webhooks/{id}/disable`.
pub(crate) async fn disable(
    caller: Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    let app = caller.require(&["webhooks.update"])?;
    let webhook = app
        .store()
        .set_webhook_status(&id, WebhookStatus::Disabled)?;
    Ok(one(webhook, StatusCode::OK))
}

/// `POST /api/v1/webhooks/{id}/test`.
pub(crate) async fn test(
    caller: Caller,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let app = caller.require(&["webhooks.update"])?;
    let map = json_object(&headers, &body)?;
    let mut f = Fields::new(&map);
    let kind = f.optional_string("event_type");
    if kind
        .as_ref()
        .is_some_and(|k| !WebhookEventType::KNOWN.contains(&k.as_str()))
    {
        f.error(one_of("event_type", WebhookEventType::KNOWN));
    }
    f.finish()?;
    let kind = kind.map_or(WebhookEventType::WebhookTest, WebhookEventType::from);
    let (event, job) = app.store().test_event(&id, kind)?;
    app.deliver(vec![job]);
    Ok(data::<WebhookEventResponse>(StatusCode::OK, event))
}

/// `GET /api/v1/webhooks/{id}/events`.
pub(crate) async fn events(
    caller: Caller,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let app = caller.require(&["webhooks.read"])?;
    let mut q = Query::parse(query.as_deref());
    let page = q.page();
    let range = q.date_range("created_at_from", "created_at_to");
    let status = q.enumerated("status", WebhookDeliveryStatus::KNOWN);
    q.finish()?;
    Ok(listed::<WebhookEventList>(
        app.store()
            .list_webhook_events(&id, status.as_deref(), range, page)?,
    ))
}

/// `POST /api/v1/webhooks/{id}/retry`.
pub(crate) async fn retry(
    caller: Caller,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let app = caller.require(&["webhooks.update"])?;
    let map = json_object(&headers, &body)?;
    let mut f = Fields::new(&map);
    let ids = f.optional_string_array("event_ids");
    f.finish()?;
    let ids = ids.filter(|ids| !ids.is_empty());
    let jobs = app.store().retry_events(&id, ids.as_deref())?;
    let event_ids: Vec<String> = jobs.iter().map(|j| j.event_id.clone()).collect();
    app.deliver(jobs);
    Ok(data::<WebhookRetryResponse>(
        StatusCode::OK,
        WebhookRetryResult {
            retried: i32::try_from(event_ids.len()).unwrap_or(i32::MAX),
            event_ids,
        },
    ))
}
