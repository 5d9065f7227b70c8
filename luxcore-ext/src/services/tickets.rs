//! Support tickets: create, get, close, reopen, comments, attachments.
//! (Listing tickets and comments is in [`crate::pagination`].)

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use luxcore_api::enums::TicketCategory;
use luxcore_api::types::{
    Ticket, TicketComment, TicketCommentCreateRequest, TicketCreateRequest, UploadUrl,
    UploadUrlRequest,
};
use luxcore_api::{ByteStream, ResponseValue};
use reqwest::header::{CONTENT_TYPE, HeaderValue};

use crate::client::{ApiError, Call, LuxCore};
use crate::error::{Error, Result};

/// Ticket operations. Obtained from [`LuxCore::tickets`].
#[derive(Debug, Clone, Copy)]
pub struct Tickets<'a> {
    pub(crate) client: &'a LuxCore,
}

/// Builds a [`TicketCreateRequest`].
///
/// ```
/// use luxcore_ext::services::tickets::TicketRequest;
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
    pub fn payment_id(mut self, payment_id: impl Into<String>) -> Self {
        self.payment_id = Some(payment_id.into());
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

impl Tickets<'_> {
    /// Opens a ticket. Not retried once sent.
    pub async fn create(&self, request: TicketCreateRequest) -> Result<Ticket> {
        let response = self
            .client
            .run(Call::post("/api/v1/tickets"), |c| {
                c.create_ticket().body(request.clone()).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Gets a ticket by id.
    pub async fn get(&self, id: &str) -> Result<Ticket> {
        let response = self
            .client
            .run(Call::get("/api/v1/tickets/{id}"), |c| {
                c.get_ticket().id(id).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Closes a ticket (`TICKET_ALREADY_CLOSED` if it is). Not retried once sent.
    pub async fn close(&self, id: &str) -> Result<Ticket> {
        let response = self
            .client
            .run(Call::post("/api/v1/tickets/{id}/close"), |c| {
                c.close_ticket().id(id).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Reopens a closed ticket (`TICKET_NOT_CLOSED` otherwise). Not retried once sent.
    pub async fn reopen(&self, id: &str) -> Result<Ticket> {
        let response = self
            .client
            .run(Call::post("/api/v1/tickets/{id}/reopen"), |c| {
                c.reopen_ticket().id(id).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Adds a comment (optionally linking attachments uploaded with
    /// [`Self::upload_attachment`]). Not retried once sent.
    pub async fn add_comment(
        &self,
        id: &str,
        request: TicketCommentCreateRequest,
    ) -> Result<TicketComment> {
        let response = self
            .client
            .run(Call::post("/api/v1/tickets/{id}/comments"), |c| {
                c.add_ticket_comment().id(id).body(request.clone()).send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Adds a plain-text comment.
    pub async fn add_comment_text(
        &self,
        id: &str,
        content: impl Into<String>,
    ) -> Result<TicketComment> {
        self.add_comment(
            id,
            TicketCommentCreateRequest {
                attachment_ids: Vec::new(),
                content: content
                    .into()
                    .try_into()
                    .map_err(|e| Error::InvalidRequest(format!("content: {e}")))?,
            },
        )
        .await
    }

    /// Asks for a pre-signed upload URL for an attachment. Not retried once sent.
    pub async fn upload_url(&self, id: &str, request: UploadUrlRequest) -> Result<UploadUrl> {
        let response = self
            .client
            .run(Call::post("/api/v1/tickets/{id}/upload-url"), |c| {
                c.create_ticket_upload_url()
                    .id(id)
                    .body(request.clone())
                    .send()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// Uploads a file to a ticket: requests an upload URL, then sends the bytes to it
    /// (with the method it names, `PUT` by default). Credentials are sent with the upload
    /// only when the URL is on the API's own origin; a pre-signed URL elsewhere gets none.
    /// Returns the upload URL answer, whose `attachment_id` identifies the attachment.
    /// The upload itself (a `PUT`) is retried on transient failures; the URL request is a
    /// `POST` and is not retried once sent.
    pub async fn upload_attachment(
        &self,
        id: &str,
        file_name: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<UploadUrl> {
        self.upload(id, None, file_name, content_type, bytes).await
    }

    /// Like [`Self::upload_attachment`], attaching the file to comment `comment_id`.
    pub async fn upload_comment_attachment(
        &self,
        id: &str,
        comment_id: &str,
        file_name: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<UploadUrl> {
        self.upload(id, Some(comment_id), file_name, content_type, bytes)
            .await
    }

    async fn upload(
        &self,
        id: &str,
        comment_id: Option<&str>,
        file_name: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<UploadUrl> {
        let content_type_header = HeaderValue::from_str(content_type).map_err(|_| {
            Error::InvalidRequest("content_type is not a valid header value".into())
        })?;
        let upload = self
            .upload_url(
                id,
                UploadUrlRequest {
                    comment_id: comment_id.map(str::to_owned),
                    content_type: content_type
                        .try_into()
                        .map_err(|e| Error::InvalidRequest(format!("content_type: {e}")))?,
                    file_name: file_name
                        .try_into()
                        .map_err(|e| Error::InvalidRequest(format!("file_name: {e}")))?,
                    size: i64::try_from(bytes.len()).ok(),
                },
            )
            .await?;
        let url = self.resolve(&upload.upload_url)?;
        let same_origin = reqwest::Url::parse(self.client.base_url())
            .is_ok_and(|base| base.origin() == url.origin());
        let post = upload
            .method
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("POST"));
        let (method, call) = if post {
            (reqwest::Method::POST, Call::post("{upload_url}"))
        } else {
            (reqwest::Method::PUT, Call::put("{upload_url}"))
        };
        self.client
            .run(call, |_| {
                let mut request = reqwest::Request::new(method.clone(), url.clone());
                request
                    .headers_mut()
                    .insert(CONTENT_TYPE, content_type_header.clone());
                *request.body_mut() = Some(bytes.clone().into());
                self.client.send_manual(request, same_origin)
            })
            .await?;
        Ok(upload)
    }

    /// An absolute upload URL (a relative one is taken relative to the base URL).
    fn resolve(&self, upload_url: &str) -> Result<reqwest::Url> {
        let absolute = if upload_url.starts_with('/') {
            format!("{}{upload_url}", self.client.base_url())
        } else {
            upload_url.to_owned()
        };
        let url = reqwest::Url::parse(&absolute).map_err(|e| Error::Decode {
            status: None,
            message: format!("the upload URL is not a valid URL: {e}"),
            body_excerpt: crate::error::body_excerpt(upload_url.as_bytes()),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Decode {
                status: None,
                message: "the upload URL is not http(s)".into(),
                body_excerpt: crate::error::body_excerpt(upload_url.as_bytes()),
            });
        }
        Ok(url)
    }

    /// Downloads an attachment of a ticket.
    pub async fn download_attachment(&self, id: &str, attachment_id: &str) -> Result<Bytes> {
        let response = self
            .client
            .run(
                Call::get("/api/v1/tickets/{id}/attachments/{attachmentId}"),
                |c| {
                    let send = c
                        .download_ticket_attachment()
                        .id(id)
                        .attachment_id(attachment_id)
                        .send();
                    async move { collect(send.await).await }
                },
            )
            .await?;
        Ok(response.into_inner())
    }

    /// Downloads an attachment of a comment.
    pub async fn download_comment_attachment(
        &self,
        id: &str,
        comment_id: &str,
        attachment_id: &str,
    ) -> Result<Bytes> {
        let response = self
            .client
            .run(
                Call::get("/api/v1/tickets/{id}/comments/{commentId}/attachments/{attachmentId}"),
                |c| {
                    let send = c
                        .download_comment_attachment()
                        .id(id)
                        .comment_id(comment_id)
                        .attachment_id(attachment_id)
                        .send();
                    async move { collect(send.await).await }
                },
            )
            .await?;
        Ok(response.into_inner())
    }
}
