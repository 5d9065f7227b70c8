//! Support tickets: create, get, close, reopen, comments, attachments, and
//! list/stream/collect_all of tickets and of their comments.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use luxcore_api::enums::TicketCategory;
use luxcore_api::operations as ops;
use luxcore_api::types::{
    Ticket, TicketComment, TicketCommentCreateRequest, TicketCreateRequest, UploadUrl,
    UploadUrlRequest,
};
use luxcore_api::{ByteStream, ResponseValue};
use reqwest::header::{CONTENT_TYPE, HeaderValue};

use crate::base::error::{Error, Result};
use crate::base::ids::{PaymentId, TicketId};
use crate::pagination::{
    ListStream, Page, Paging, collect_list, list_methods, page_call, walk_list,
};
use crate::transport::client::{ApiCall, CallOptions, LuxCore, attempt, dynamic_operation};
use crate::transport::decode::ApiError;

pub use crate::pagination::filters::TicketFilter;

/// Ticket operations. Obtained from [`LuxCore::tickets`]; owns a clone of the client.
#[derive(Debug, Clone)]
pub struct Tickets {
    client: LuxCore,
    paging: Paging,
}

impl LuxCore {
    /// Support tickets, comments and attachments.
    pub fn tickets(&self) -> Tickets {
        Tickets {
            client: self.clone(),
            paging: Paging::default(),
        }
    }
}

/// Builds a [`TicketCreateRequest`].
///
/// ```
/// use luxcore_ext::tickets::TicketRequest;
///
/// let request = TicketRequest::new("Deposit not credited")
///     .description("Paid at 10:00, still processing")
///     .payment_id("pay_1234567890_abcdefgh")
///     .build()
///     .unwrap();
/// assert_eq!(request.title.as_str(), "Deposit not credited");
/// assert!(TicketRequest::new("x".repeat(201)).build().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRequest {
    title: String,
    description: Option<String>,
    category: Option<TicketCategory>,
    sub_category: Option<String>,
    payment_id: Option<String>,
    transaction_id: Option<String>,
    reference: Option<String>,
    requires_refund: bool,
}

impl TicketRequest {
    /// A ticket with this title (1 to 200 characters).
    pub fn new(title: impl Into<String>) -> Self {
        TicketRequest {
            title: title.into(),
            description: None,
            category: None,
            sub_category: None,
            payment_id: None,
            transaction_id: None,
            reference: None,
            requires_refund: false,
        }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the category.
    pub fn category(mut self, category: TicketCategory) -> Self {
        self.category = Some(category);
        self
    }

    /// Sets the sub-category.
    pub fn sub_category(mut self, sub_category: impl Into<String>) -> Self {
        self.sub_category = Some(sub_category.into());
        self
    }

    /// Links a payment.
    pub fn payment_id(mut self, payment_id: impl Into<PaymentId>) -> Self {
        self.payment_id = Some(String::from(payment_id.into()));
        self
    }

    /// Links a transaction.
    pub fn transaction_id(mut self, transaction_id: impl Into<String>) -> Self {
        self.transaction_id = Some(transaction_id.into());
        self
    }

    /// Sets your external reference.
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Asks for a refund.
    pub fn requires_refund(mut self, requires_refund: bool) -> Self {
        self.requires_refund = requires_refund;
        self
    }

    /// The request. Fails with [`Error::InvalidRequest`] on an empty title or one longer
    /// than 200 characters.
    pub fn build(self) -> Result<TicketCreateRequest> {
        if self.title.trim().is_empty() {
            return Err(Error::InvalidRequest("the ticket title is empty".into()));
        }
        let title = self
            .title
            .as_str()
            .try_into()
            .map_err(|e| Error::InvalidRequest(format!("ticket title: {e}")))?;
        Ok(TicketCreateRequest {
            category: self.category,
            description: self.description,
            payment_id: self.payment_id,
            reference: self.reference,
            requires_refund: self.requires_refund,
            sub_category: self.sub_category,
            title,
            transaction_id: self.transaction_id,
        })
    }
}

/// Reads a whole attachment stream (errors while reading are body errors of the attempt).
async fn collect(
    response: std::result::Result<ResponseValue<ByteStream>, ApiError>,
) -> std::result::Result<ResponseValue<Bytes>, ApiError> {
    let response = response?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut stream = response.into_inner_stream();
    let mut buffer = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        buffer.extend_from_slice(&chunk.map_err(ApiError::ResponseBodyError)?);
    }
    Ok(ResponseValue::new(buffer.freeze(), status, headers))
}

fn tickets_page(
    client: &LuxCore,
    query: &Arc<(TicketFilter,)>,
    offset: i32,
    limit: u32,
) -> ApiCall<Page<Ticket>> {
    let query = Arc::clone(query);
    let send = attempt!(query => |c| {
        let filter = &query.0;
        let mut builder = c.list_tickets().limit(limit).offset(offset);
        if !filter.status.is_empty() {
            builder = builder.status(filter.status.clone());
        }
        if !filter.category.is_empty() {
            builder = builder.category(filter.category.clone());
        }
        if let Some(search) = &filter.search {
            builder = builder.search(search.as_str());
        }
        if let Some(payment_id) = &filter.payment_id {
            builder = builder.payment_id(payment_id.clone());
        }
        if let Some(after) = filter.created_after {
            builder = builder.created_after(after);
        }
        if let Some(before) = filter.created_before {
            builder = builder.created_before(before);
        }
        if let Some(sort_by) = &filter.sort_by {
            builder = builder.sort_by(sort_by.clone());
        }
        builder.send()
    });
    ApiCall::plan(client, ops::LIST_TICKETS, send)
        .map(|list| Page::from_api(list.data, list.total, &list.pagination))
}

fn comments_page(
    client: &LuxCore,
    ticket_id: &Arc<String>,
    offset: i32,
    limit: u32,
) -> ApiCall<Page<TicketComment>> {
    let ticket_id = Arc::clone(ticket_id);
    let send = attempt!(ticket_id => |c| {
        c.list_ticket_comments()
            .id(ticket_id.as_str())
            .limit(limit)
            .offset(offset)
            .send()
    });
    ApiCall::plan(client, ops::LIST_TICKET_COMMENTS, send)
        .map(|list| Page::from_api(list.data, list.total, &list.pagination))
}

impl Tickets {
    /// The same resource walking lists with `paging` (page size, concurrency, eager, offset).
    pub fn paging(mut self, paging: Paging) -> Self {
        self.paging = paging;
        self
    }

    /// Opens a ticket. Not retried once sent.
    pub fn create(&self, request: TicketCreateRequest) -> ApiCall<Ticket> {
        let send = attempt!(request => |c| c.create_ticket().body(request).send());
        ApiCall::plan(&self.client, ops::CREATE_TICKET, send).map(|r| r.data)
    }

    /// Gets a ticket by id.
    pub fn get(&self, id: impl Into<TicketId>) -> ApiCall<Ticket> {
        let id = String::from(id.into());
        let send = attempt!(id => |c| c.get_ticket().id(id).send());
        ApiCall::plan(&self.client, ops::GET_TICKET, send).map(|r| r.data)
    }

    /// Closes a ticket (`TICKET_ALREADY_CLOSED` if it is). Not retried once sent.
    pub fn close(&self, id: impl Into<TicketId>) -> ApiCall<Ticket> {
        let id = String::from(id.into());
        let send = attempt!(id => |c| c.close_ticket().id(id).send());
        ApiCall::plan(&self.client, ops::CLOSE_TICKET, send).map(|r| r.data)
    }

    /// Reopens a closed ticket (`TICKET_NOT_CLOSED` otherwise). Not retried once sent.
    pub fn reopen(&self, id: impl Into<TicketId>) -> ApiCall<Ticket> {
        let id = String::from(id.into());
        let send = attempt!(id => |c| c.reopen_ticket().id(id).send());
        ApiCall::plan(&self.client, ops::REOPEN_TICKET, send).map(|r| r.data)
    }

    /// Adds a comment (optionally linking attachments uploaded with
    /// [`Self::upload_attachment`]). Not retried once sent.
    pub fn add_comment(
        &self,
        id: impl Into<TicketId>,
        request: TicketCommentCreateRequest,
    ) -> ApiCall<TicketComment> {
        let id = String::from(id.into());
        let send = attempt!(id, request => |c| c.add_ticket_comment().id(id).body(request).send());
        ApiCall::plan(&self.client, ops::ADD_TICKET_COMMENT, send).map(|r| r.data)
    }

    /// Adds a plain-text comment.
    pub fn add_comment_text(
        &self,
        id: impl Into<TicketId>,
        content: impl Into<String>,
    ) -> ApiCall<TicketComment> {
        match content.into().try_into() {
            Ok(content) => self.add_comment(
                id,
                TicketCommentCreateRequest {
                    attachment_ids: Vec::new(),
                    content,
                },
            ),
            Err(e) => ApiCall::fail(Error::InvalidRequest(format!("content: {e}"))),
        }
    }

    /// Asks for a pre-signed upload URL for an attachment. Not retried once sent.
    pub fn upload_url(
        &self,
        id: impl Into<TicketId>,
        request: UploadUrlRequest,
    ) -> ApiCall<UploadUrl> {
        let id = String::from(id.into());
        let send =
            attempt!(id, request => |c| c.create_ticket_upload_url().id(id).body(request).send());
        ApiCall::plan(&self.client, ops::CREATE_TICKET_UPLOAD_URL, send).map(|r| r.data)
    }

    /// Uploads a file to a ticket: requests an upload URL, then sends the bytes to it
    /// (with the method it names, `PUT` by default). Credentials are sent with the upload
    /// only when the URL is on the API's own origin; a pre-signed URL elsewhere gets none.
    /// Returns the upload URL answer, whose `attachment_id` identifies the attachment.
    /// The upload itself (a `PUT`) is retried on transient failures; the URL request is a
    /// `POST` and is not retried once sent.
    ///
    /// One [`ApiCall`]: its options (timeout, deadline, retry) apply to both requests; its
    /// metadata is the upload's.
    pub fn upload_attachment(
        &self,
        id: impl Into<TicketId>,
        file_name: impl Into<String>,
        content_type: impl Into<String>,
        bytes: Bytes,
    ) -> ApiCall<UploadUrl> {
        self.upload(
            String::from(id.into()),
            None,
            file_name.into(),
            content_type.into(),
            bytes,
        )
    }

    /// Like [`Self::upload_attachment`], attaching the file to comment `comment_id`.
    pub fn upload_comment_attachment(
        &self,
        id: impl Into<TicketId>,
        comment_id: impl Into<String>,
        file_name: impl Into<String>,
        content_type: impl Into<String>,
        bytes: Bytes,
    ) -> ApiCall<UploadUrl> {
        self.upload(
            String::from(id.into()),
            Some(comment_id.into()),
            file_name.into(),
            content_type.into(),
            bytes,
        )
    }

    fn upload(
        &self,
        id: String,
        comment_id: Option<String>,
        file_name: String,
        content_type: String,
        bytes: Bytes,
    ) -> ApiCall<UploadUrl> {
        let Ok(content_type_header) = HeaderValue::from_str(&content_type) else {
            return ApiCall::fail(Error::InvalidRequest(
                "content_type is not a valid header value".into(),
            ));
        };
        let request = match (
            content_type.as_str().try_into(),
            file_name.as_str().try_into(),
        ) {
            (Ok(content_type), Ok(file_name)) => UploadUrlRequest {
                comment_id,
                content_type,
                file_name,
                size: i64::try_from(bytes.len()).ok(),
            },
            (Err(e), _) => {
                return ApiCall::fail(Error::InvalidRequest(format!("content_type: {e}")));
            }
            (_, Err(e)) => return ApiCall::fail(Error::InvalidRequest(format!("file_name: {e}"))),
        };
        let tickets = self.clone();
        ApiCall::from_fn(move |options: CallOptions| async move {
            let upload = tickets
                .upload_url(id, request)
                .with_options(options.clone())
                .await?;
            let url = tickets.resolve(&upload.upload_url)?;
            let (method, operation, auth) = tickets.upload_target(&upload, &url);
            let sent = tickets
                .client
                .run_manual(operation, auth, &options, move || {
                    let mut request = reqwest::Request::new(method.clone(), url.clone());
                    request
                        .headers_mut()
                        .insert(CONTENT_TYPE, content_type_header.clone());
                    *request.body_mut() = Some(bytes.clone().into());
                    request
                })
                .await?;
            Ok(sent.map(|_| upload))
        })
    }

    /// The method, operation and authentication of the upload to `url`: credentials only
    /// on the API's own origin (by the URL's API prefix), none elsewhere.
    fn upload_target(
        &self,
        upload: &UploadUrl,
        url: &reqwest::Url,
    ) -> (reqwest::Method, ops::Operation, Option<ops::Auth>) {
        let same_origin = reqwest::Url::parse(self.client.base_url())
            .is_ok_and(|base| base.origin() == url.origin());
        let post = upload
            .method
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("POST"));
        let method = if post {
            reqwest::Method::POST
        } else {
            reqwest::Method::PUT
        };
        let mut operation = dynamic_operation(&method);
        operation.path = "{upload_url}";
        let base_path = reqwest::Url::parse(self.client.base_url())
            .map(|b| b.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let auth = same_origin
            .then(|| {
                let path = url.path();
                ops::auth_for_path(path.strip_prefix(base_path.as_str()).unwrap_or(path))
            })
            .flatten();
        (method, operation, auth)
    }

    /// An absolute upload URL (a relative one is taken relative to the base URL).
    fn resolve(&self, upload_url: &str) -> Result<reqwest::Url> {
        let absolute = if upload_url.starts_with('/') {
            format!("{}{upload_url}", self.client.base_url())
        } else {
            upload_url.to_owned()
        };
        let invalid = |message: String| Error::decode(None, message, upload_url.as_bytes(), None);
        let url = reqwest::Url::parse(&absolute)
            .map_err(|e| invalid(format!("the upload URL is not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the upload URL is not http(s)".into()));
        }
        Ok(url)
    }

    /// Downloads an attachment of a ticket.
    pub fn download_attachment(
        &self,
        id: impl Into<TicketId>,
        attachment_id: impl Into<String>,
    ) -> ApiCall<Bytes> {
        let (id, attachment_id) = (String::from(id.into()), attachment_id.into());
        let send = attempt!(id, attachment_id => |c| {
            let send = c.download_ticket_attachment().id(id).attachment_id(attachment_id).send();
            async move { collect(send.await).await }
        });
        ApiCall::plan(&self.client, ops::DOWNLOAD_TICKET_ATTACHMENT, send).unchanged()
    }

    /// Downloads an attachment of a comment.
    pub fn download_comment_attachment(
        &self,
        id: impl Into<TicketId>,
        comment_id: impl Into<String>,
        attachment_id: impl Into<String>,
    ) -> ApiCall<Bytes> {
        let (id, comment_id, attachment_id) = (
            String::from(id.into()),
            comment_id.into(),
            attachment_id.into(),
        );
        let send = attempt!(id, comment_id, attachment_id => |c| {
            let send = c
                .download_comment_attachment()
                .id(id)
                .comment_id(comment_id)
                .attachment_id(attachment_id)
                .send();
            async move { collect(send.await).await }
        });
        ApiCall::plan(&self.client, ops::DOWNLOAD_COMMENT_ATTACHMENT, send).unchanged()
    }

    list_methods!(
        "the tickets",
        Ticket,
        TicketFilter,
        tickets_page,
        |t: &Ticket| Some(t.ticket_id.clone()),
        list,
        stream,
        collect_all
    );

    /// One page of the comments of ticket `ticket_id`, oldest first (the resource's
    /// [`Paging`]).
    pub fn list_comments(&self, ticket_id: impl Into<TicketId>) -> ApiCall<Page<TicketComment>> {
        let ticket_id = Arc::new(String::from(ticket_id.into()));
        let client = self.client.clone();
        page_call(self.paging, Ok(()), move |o, l| {
            comments_page(&client, &ticket_id, o, l)
        })
    }

    /// Every comment of ticket `ticket_id`, oldest first, de-duplicated by id (see
    /// [`Self::stream`]).
    pub fn stream_comments(&self, ticket_id: impl Into<TicketId>) -> ListStream<TicketComment> {
        let ticket_id = Arc::new(String::from(ticket_id.into()));
        let client = self.client.clone();
        walk_list(
            self.paging,
            Ok(()),
            move |o, l| comments_page(&client, &ticket_id, o, l),
            |c: &TicketComment| Some(c.id.clone()),
        )
    }

    /// Every comment of ticket `ticket_id`, collected. One [`ApiCall`]: its options apply
    /// to every page request; its metadata is that of the last page received.
    pub fn collect_all_comments(
        &self,
        ticket_id: impl Into<TicketId>,
    ) -> ApiCall<Vec<TicketComment>> {
        let ticket_id = Arc::new(String::from(ticket_id.into()));
        let client = self.client.clone();
        collect_list(
            self.paging,
            Ok(()),
            move |o, l| comments_page(&client, &ticket_id, o, l),
            |c: &TicketComment| Some(c.id.clone()),
        )
    }
}
