//! Support tickets, comments and attachments (upload URL flow).

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use luxcore_api::enums::{ErrorCode, TicketCategory, TicketStatus, WebhookEventType};
use luxcore_api::types::{Attachment, Ticket, TicketComment, UploadUrl};

use super::model::{AttachmentRecord, Event, Store, TicketRecord, Upload};
use super::page::{Page, paginate};
use crate::clock::{now, random_alnum, uuid_v4};
use crate::error::{ApiError, ApiResult};

/// Ticket sort orders `sort_by` knows; any other value sorts by the default (newest first), since
/// the spec leaves `sort_by` a free string (its values are not documented publicly).
pub(crate) const SORT_ORDERS: &[&str] = &["created_at", "created_at_asc", "updated_at"];

/// A validated create-ticket request.
#[derive(Debug, Default)]
pub(crate) struct NewTicket {
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) category: Option<String>,
    pub(crate) sub_category: Option<String>,
    pub(crate) payment_id: Option<String>,
    pub(crate) transaction_id: Option<String>,
    pub(crate) reference: Option<String>,
    pub(crate) requires_refund: bool,
}

/// Filters of the ticket list.
#[derive(Debug, Default)]
pub(crate) struct TicketFilter {
    pub(crate) statuses: Vec<String>,
    pub(crate) categories: Vec<String>,
    pub(crate) search: Option<String>,
    pub(crate) payment_id: Option<String>,
    pub(crate) created_after: Option<DateTime<Utc>>,
    pub(crate) created_before: Option<DateTime<Utc>>,
    pub(crate) sort_by: Option<String>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, format!("Ticket {id} not found"))
}

fn attachment_not_found(id: &str) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, format!("Attachment {id} not found"))
}

fn comment_not_found(id: &str) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, format!("Comment {id} not found"))
}

impl AttachmentRecord {
    fn render(&self) -> Option<Attachment> {
        let upload = self.upload.as_ref()?;
        Some(Attachment {
            content_type: Some(upload.content_type.clone()),
            created_at: Some(upload.at),
            file_name: Some(self.file_name.clone()),
            id: self.id.clone(),
            size: i64::try_from(upload.bytes.len()).ok(),
        })
    }
}

impl Store {
    fn ticket_index(&self, id: &str) -> ApiResult<usize> {
        self.tickets
            .iter()
            .position(|t| t.ticket.ticket_id == id)
            .ok_or_else(|| not_found(id))
    }

    fn attachments_of(&self, ticket_id: &str, comment_id: Option<&str>) -> Vec<Attachment> {
        self.attachments
            .iter()
            .filter(|a| a.ticket_id == ticket_id && a.comment_id.as_deref() == comment_id)
            .filter_map(AttachmentRecord::render)
            .collect()
    }

    fn render_ticket(&self, record: &TicketRecord) -> Ticket {
        let mut ticket = record.ticket.clone();
        ticket.attachments = self.attachments_of(&ticket.ticket_id, None);
        ticket
    }

    fn render_comment(&self, comment: &TicketComment) -> TicketComment {
        let mut comment = comment.clone();
        let ticket_id = comment.ticket_id.clone().unwrap_or_default();
        comment.attachments = self.attachments_of(&ticket_id, Some(&comment.id));
        comment
    }

    /// A ticket with its attachments.
    pub(crate) fn ticket(&self, id: &str) -> ApiResult<Ticket> {
        let index = self.ticket_index(id)?;
        Ok(self.render_ticket(&self.tickets[index]))
    }

    /// Opens a ticket.
    pub(crate) fn create_ticket(&mut self, input: NewTicket, events: &mut Vec<Event>) -> Ticket {
        let at = now();
        let ticket = Ticket {
            attachments: Vec::new(),
            category: input.category.map(TicketCategory::from),
            closed_at: None,
            created_at: Some(at),
            description: input.description,
            payment_id: input.payment_id,
            reference: input.reference,
            requires_refund: Some(input.requires_refund),
            status: TicketStatus::Open,
            sub_category: input.sub_category,
            ticket_id: uuid_v4(),
            title: input.title,
            transaction_id: input.transaction_id,
            updated_at: Some(at),
        };
        self.tickets.push(TicketRecord {
            ticket: ticket.clone(),
            comments: Vec::new(),
        });
        events.push(Event::new(WebhookEventType::TicketCreated, &ticket));
        ticket
    }

    /// Tickets matching the filter.
    pub(crate) fn list_tickets(
        &self,
        filter: &TicketFilter,
        page: Page,
    ) -> (Vec<Ticket>, i64, luxcore_api::types::Pagination) {
        let search = filter.search.as_ref().map(|s| s.to_lowercase());
        let mut items: Vec<Ticket> = self
            .tickets
            .iter()
            .rev()
            .filter(|r| {
                let t = &r.ticket;
                (filter.statuses.is_empty()
                    || filter.statuses.iter().any(|s| s == t.status.as_str()))
                    && (filter.categories.is_empty()
                        || t.category
                            .as_ref()
                            .is_some_and(|c| filter.categories.iter().any(|f| f == c.as_str())))
                    && search.as_ref().is_none_or(|needle| {
                        t.title.to_lowercase().contains(needle)
                            || t.description
                                .as_ref()
                                .is_some_and(|d| d.to_lowercase().contains(needle))
                    })
                    && filter
                        .payment_id
                        .as_ref()
                        .is_none_or(|p| t.payment_id.as_ref() == Some(p))
                    && filter
                        .created_after
                        .is_none_or(|a| t.created_at.is_some_and(|c| c >= a))
                    && filter
                        .created_before
                        .is_none_or(|b| t.created_at.is_some_and(|c| c <= b))
            })
            .map(|r| self.render_ticket(r))
            .collect();
        match filter.sort_by.as_deref() {
            Some("created_at_asc") => items.reverse(),
            Some("updated_at") => items.sort_by_key(|t| std::cmp::Reverse(t.updated_at)),
            _ => {}
        }
        paginate(items, page, |t| t)
    }

    /// Closes an open ticket.
    pub(crate) fn close_ticket(&mut self, id: &str, events: &mut Vec<Event>) -> ApiResult<Ticket> {
        let index = self.ticket_index(id)?;
        let ticket = &mut self.tickets[index].ticket;
        if ticket.status == TicketStatus::Closed {
            return Err(ApiError::bad_request(
                ErrorCode::TicketAlreadyClosed,
                "Ticket is already closed",
            ));
        }
        let at = now();
        ticket.status = TicketStatus::Closed;
        ticket.closed_at = Some(at);
        ticket.updated_at = Some(at);
        let ticket = self.render_ticket(&self.tickets[index]);
        events.push(Event::new(WebhookEventType::TicketClosed, &ticket));
        Ok(ticket)
    }

    /// Reopens a closed ticket.
    pub(crate) fn reopen_ticket(&mut self, id: &str, events: &mut Vec<Event>) -> ApiResult<Ticket> {
        let index = self.ticket_index(id)?;
        let ticket = &mut self.tickets[index].ticket;
        if ticket.status != TicketStatus::Closed {
            return Err(ApiError::bad_request(
                ErrorCode::TicketNotClosed,
                format!(
                    "Only closed tickets can be reopened (status: {})",
                    ticket.status
                ),
            ));
        }
        ticket.status = TicketStatus::Open;
        ticket.closed_at = None;
        ticket.updated_at = Some(now());
        let ticket = self.render_ticket(&self.tickets[index]);
        events.push(Event::new(WebhookEventType::TicketUpdated, &ticket));
        Ok(ticket)
    }

    /// Adds a comment (by the merchant, or by support from the control API), linking
    /// the given attachments to it.
    pub(crate) fn add_comment(
        &mut self,
        ticket_id: &str,
        content: String,
        attachment_ids: &[String],
        by_support: bool,
        events: &mut Vec<Event>,
    ) -> ApiResult<TicketComment> {
        let index = self.ticket_index(ticket_id)?;
        if let Some(missing) = attachment_ids.iter().find(|id| {
            !self
                .attachments
                .iter()
                .any(|a| a.id == **id && a.ticket_id == ticket_id)
        }) {
            // 400, not 404: the ticket in the path exists; what is missing is named in the body.
            return Err(ApiError::bad_request(
                ErrorCode::ValidationError,
                format!("Attachment {missing} not found"),
            ));
        }
        let at = now();
        let comment = TicketComment {
            attachments: Vec::new(),
            author_type: Some(if by_support { "support" } else { "merchant" }.to_owned()),
            content,
            created_at: Some(at),
            id: format!("cmt_{}", random_alnum(16)),
            ticket_id: Some(ticket_id.to_owned()),
        };
        for attachment in &mut self.attachments {
            if attachment.ticket_id == ticket_id && attachment_ids.contains(&attachment.id) {
                attachment.comment_id = Some(comment.id.clone());
            }
        }
        let record = &mut self.tickets[index];
        record.ticket.updated_at = Some(at);
        record.comments.push(comment.clone());
        let ticket = self.render_ticket(&self.tickets[index]);
        let comment = self.render_comment(&comment);
        if by_support {
            events.push(Event::new(
                WebhookEventType::TicketCommentAdded,
                serde_json::json!({"ticket": ticket, "comment": comment}),
            ));
        } else {
            events.push(Event::new(WebhookEventType::TicketUpdated, &ticket));
        }
        Ok(comment)
    }

    /// A ticket's comments, oldest first.
    pub(crate) fn list_comments(
        &self,
        ticket_id: &str,
        page: Page,
    ) -> ApiResult<(Vec<TicketComment>, i64, luxcore_api::types::Pagination)> {
        let index = self.ticket_index(ticket_id)?;
        let comments = self.tickets[index].comments.iter();
        Ok(paginate(comments, page, |c| self.render_comment(c)))
    }

    /// Creates an attachment slot and its upload URL.
    pub(crate) fn upload_url(
        &mut self,
        ticket_id: &str,
        file_name: String,
        content_type: String,
        comment_id: Option<String>,
    ) -> ApiResult<UploadUrl> {
        let index = self.ticket_index(ticket_id)?;
        if let Some(missing) = comment_id
            .as_ref()
            .filter(|id| !self.tickets[index].comments.iter().any(|c| c.id == **id))
        {
            return Err(comment_not_found(missing));
        }
        let id = format!("att_{}", random_alnum(16));
        let token = random_alnum(40);
        let expires_at = now() + Duration::minutes(15);
        let upload_url = format!("{}/_mock/uploads/{token}", self.base_url);
        self.attachments.push(AttachmentRecord {
            id: id.clone(),
            ticket_id: ticket_id.to_owned(),
            comment_id,
            file_name,
            content_type,
            token,
            expires_at,
            upload: None,
        });
        Ok(UploadUrl {
            attachment_id: id,
            expires_at: Some(expires_at),
            method: Some("PUT".to_owned()),
            upload_url,
        })
    }

    /// Stores uploaded bytes for the slot of `token`.
    pub(crate) fn store_upload(
        &mut self,
        token: &str,
        bytes: Bytes,
        content_type: Option<String>,
    ) -> ApiResult<Attachment> {
        let at = now();
        let Some(record) = self
            .attachments
            .iter_mut()
            .find(|a| a.token == token && a.expires_at >= at)
        else {
            return Err(ApiError::not_found(
                ErrorCode::NotFound,
                "Upload URL not found or expired",
            ));
        };
        let content_type = content_type.unwrap_or_else(|| record.content_type.clone());
        record.upload = Some(Upload {
            bytes,
            content_type,
            at,
        });
        record.render().ok_or_else(|| attachment_not_found(token))
    }

    /// Bytes and content type of an uploaded attachment.
    pub(crate) fn download(
        &self,
        ticket_id: &str,
        comment_id: Option<&str>,
        attachment_id: &str,
    ) -> ApiResult<(Bytes, String, String)> {
        let index = self.ticket_index(ticket_id)?;
        if let Some(missing) =
            comment_id.filter(|id| !self.tickets[index].comments.iter().any(|c| c.id == *id))
        {
            return Err(comment_not_found(missing));
        }
        self.attachments
            .iter()
            .find(|a| {
                a.id == attachment_id
                    && a.ticket_id == ticket_id
                    && a.comment_id.as_deref() == comment_id
            })
            .and_then(|a| {
                a.upload
                    .as_ref()
                    .map(|u| (u.bytes.clone(), u.content_type.clone(), a.file_name.clone()))
            })
            .ok_or_else(|| attachment_not_found(attachment_id))
    }
}
