//! Support ticket operations.

use axum::body::{Body, Bytes};
use axum::extract::RawQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use luxcore_api::enums::{TicketCategory, TicketStatus};
use luxcore_api::types::{
    TicketCommentList, TicketCommentResponse, TicketList, TicketResponse, UploadUrlResponse,
};

use crate::error::ApiResult;
use crate::http::extract::{Caller, PathParams};
use crate::http::input::{Fields, Query, json_object, one_of};
use crate::http::response::{data, listed};
use crate::store::tickets::{NewTicket, SORT_ORDERS, TicketFilter};

fn one(ticket: luxcore_api::types::Ticket, status: StatusCode) -> Response {
    data::<TicketResponse>(status, ticket)
}

fn parse_ticket(headers: &HeaderMap, body: &[u8]) -> ApiResult<NewTicket> {
    let map = json_object(headers, body)?;
    let mut f = Fields::new(&map);
    let title = f.required_string("title");
    f.max_len("title", title.as_ref(), 200);
    let description = f.optional_string("description");
    let category = f.optional_string("category");
    if category
        .as_ref()
        .is_some_and(|c| !TicketCategory::KNOWN.contains(&c.as_str()))
    {
        f.error(one_of("category", TicketCategory::KNOWN));
    }
    let input = NewTicket {
        title: title.unwrap_or_default(),
        description,
        category,
        sub_category: f.optional_string("sub_category"),
        payment_id: f.optional_string("payment_id"),
        transaction_id: f.optional_string("transaction_id"),
        reference: f.optional_string("reference"),
        requires_refund: f.optional_bool("requires_refund").unwrap_or(false),
    };
    f.finish()?;
    Ok(input)
}

/// `POST /api/v1/tickets`.
pub(crate) async fn create(caller: Caller, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let app = caller.require(&["tickets.create"])?;
    let input = parse_ticket(&headers, &body)?;
    let ticket = app.mutate(|store, events| store.create_ticket(input, events));
    Ok(one(ticket, StatusCode::CREATED))
}

/// `GET /api/v1/tickets`.
pub(crate) async fn list(caller: Caller, RawQuery(query): RawQuery) -> ApiResult<Response> {
    let app = caller.require(&["tickets.read"])?;
    let mut q = Query::parse(query.as_deref());
    let page = q.page();
    let statuses = q.all("status");
    if statuses
        .iter()
        .any(|s| !TicketStatus::KNOWN.contains(&s.as_str()))
    {
        q.error(format!(
            "each value in status must be one of the following values: {}",
            TicketStatus::KNOWN.join(", ")
        ));
    }
    let categories = q.all("category");
    if categories
        .iter()
        .any(|c| !TicketCategory::KNOWN.contains(&c.as_str()))
    {
        q.error(format!(
            "each value in category must be one of the following values: {}",
            TicketCategory::KNOWN.join(", ")
        ));
    }
    let search = q.get("search").map(str::to_owned);
    if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        q.error("search must be shorter than or equal to 100 characters");
    }
    let filter = TicketFilter {
        statuses,
        categories,
        search,
        payment_id: q.get("payment_id").map(str::to_owned),
        created_after: q.date("created_after"),
        created_before: q.date("created_before"),
        sort_by: q
            .get("sort_by")
            .filter(|s| SORT_ORDERS.contains(s))
            .map(str::to_owned),
    };
    q.finish()?;
    Ok(listed::<TicketList>(
        app.store().list_tickets(&filter, page),
    ))
}

/// `GET /api/v1/tickets/{id}`.
pub(crate) async fn get(caller: Caller, PathParams(id): PathParams<String>) -> ApiResult<Response> {
    let app = caller.require(&["tickets.read"])?;
    let ticket = app.store().ticket(&id)?;
    Ok(one(ticket, StatusCode::OK))
}

/// `POST /api/v1/tickets/{id}/close`.
pub(crate) async fn close(
    caller: Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    let app = caller.require(&["tickets.update"])?;
    let ticket = app.mutate(|store, events| store.close_ticket(&id, events))?;
    Ok(one(ticket, StatusCode::OK))
}

/// `POST /api/v1/tickets/{id}/reopen`.
pub(crate) async fn reopen(
    caller: Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    let app = caller.require(&["tickets.update"])?;
    let ticket = app.mutate(|store, events| store.reopen_ticket(&id, events))?;
    Ok(one(ticket, StatusCode::OK))
}

/// `POST /api/v1/tickets/{id}/comments`.
pub(crate) async fn add_comment(
    caller: Caller,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let app = caller.require(&["tickets.update"])?;
    let map = json_object(&headers, &body)?;
    let mut f = Fields::new(&map);
    let content = f.required_string("content");
    let attachment_ids = f
        .optional_string_array("attachment_ids")
        .unwrap_or_default();
    f.finish()?;
    let content = content.unwrap_or_default();
    let comment = app
        .mutate(|store, events| store.add_comment(&id, content, &attachment_ids, false, events))?;
    Ok(data::<TicketCommentResponse>(StatusCode::CREATED, comment))
}

/// `GET /api/v1/tickets/{id}/comments`.
pub(crate) async fn comments(
    caller: Caller,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let app = caller.require(&["tickets.read"])?;
    let mut q = Query::parse(query.as_deref());
    let page = q.page();
    q.finish()?;
    Ok(listed::<TicketCommentList>(
        app.store().list_comments(&id, page)?,
    ))
}

/// `POST /api/v1/tickets/{id}/upload-url`.
pub(crate) async fn upload_url(
    caller: Caller,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let app = caller.require(&["tickets.update"])?;
    let map = json_object(&headers, &body)?;
    let mut f = Fields::new(&map);
    let file_name = f.required_string("file_name");
    f.max_len("file_name", file_name.as_ref(), 255);
    let content_type = f.required_string("content_type");
    if map
        .get("size")
        .is_some_and(|v| !v.is_null() && v.as_u64().is_none())
    {
        f.error("size must be a non-negative integer number");
    }
    let comment_id = f.optional_string("comment_id");
    f.finish()?;
    let upload = app.store().upload_url(
        &id,
        file_name.unwrap_or_default(),
        content_type.unwrap_or_default(),
        comment_id,
    )?;
    Ok(data::<UploadUrlResponse>(StatusCode::OK, upload))
}

fn file_response(bytes: Bytes, content_type: &str, file_name: &str) -> Response {
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    let safe: String = file_name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `GET /api/v1/tickets/{id}/attachments/{attachment_id}`.
pub(crate) async fn download(
    caller: Caller,
    PathParams((id, attachment_id)): PathParams<(String, String)>,
) -> ApiResult<Response> {
    let app = caller.require(&["tickets.read"])?;
    let (bytes, content_type, file_name) = app.store().download(&id, None, &attachment_id)?;
    Ok(file_response(bytes, &content_type, &file_name))
}

/// `GET /api/v1/tickets/{id}/comments/{comment_id}/attachments/{attachment_id}`.
pub(crate) async fn download_comment(
    caller: Caller,
    PathParams((id, comment_id, attachment_id)): PathParams<(String, String, String)>,
) -> ApiResult<Response> {
    let app = caller.require(&["tickets.read"])?;
    let (bytes, content_type, file_name) =
        app.store()
            .download(&id, Some(&comment_id), &attachment_id)?;
    Ok(file_response(bytes, &content_type, &file_name))
}
