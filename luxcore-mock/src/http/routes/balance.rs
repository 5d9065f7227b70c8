//! Balance operations (v1 and v2 share the handlers).

use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::Response;
use luxcore_api::enums::ErrorCode;

use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Caller, PathParams};
use crate::http::input::Query;
use crate::http::response::json;
use crate::state::App;
use crate::store::balances::BALANCE_TYPES;

const SCOPES: &[&str] = &["balance.read"];

fn single(app: &App, query: Option<&str>) -> ApiResult<Response> {
    let mut q = Query::parse(query);
    let currency = q.get("currency").unwrap_or("MXN").to_owned();
    let balance_type = q
        .enumerated("balance_type", BALANCE_TYPES)
        .unwrap_or_else(|| "main".to_owned());
    q.finish()?;
    let balance = app.store().balance(&currency, &balance_type)?;
    Ok(json(StatusCode::OK, &balance))
}

fn merchant_check(app: &App, id: &str) -> ApiResult<()> {
    let merchant_id = app.store().merchant_id;
    // Any int64 is a well-formed id (the spec's type); only this merchant's is accessible.
    match id.parse::<i64>() {
        Ok(id) if u64::try_from(id) == Ok(merchant_id) => Ok(()),
        Ok(id) => Err(ApiError::business(
            StatusCode::FORBIDDEN,
            ErrorCode::InsufficientScope,
            format!("Credentials cannot access merchant {id}"),
        )),
        Err(_) => Err(ApiError::validation(vec![
            "id must be an integer number".to_owned(),
        ])),
    }
}

/// `GET /api/v1/balance`, `GET /api/v2/balance`.
pub(crate) async fn get(caller: Caller, RawQuery(query): RawQuery) -> ApiResult<Response> {
    let app = caller.require(SCOPES)?;
    single(&app, query.as_deref())
}

/// `GET /api/v1/balance/all`, `GET /api/v2/balance/all`.
pub(crate) async fn all(caller: Caller) -> ApiResult<Response> {
    let app = caller.require(SCOPES)?;
    let list = app.store().balance_list();
    Ok(json(StatusCode::OK, &list))
}

/// `GET /api/v1/merchants/{id}/balance`.
pub(crate) async fn merchant(
    caller: Caller,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let app = caller.require(SCOPES)?;
    merchant_check(&app, &id)?;
    single(&app, query.as_deref())
}

/// `GET /api/v1/merchants/{id}/balance/all`.
pub(crate) async fn merchant_all(
    caller: Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    let app = caller.require(SCOPES)?;
    merchant_check(&app, &id)?;
    let list = app.store().balance_list();
    Ok(json(StatusCode::OK, &list))
}
