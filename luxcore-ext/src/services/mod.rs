//! Typed access to every operation, grouped by tag: [`Payments`], [`Webhooks`],
//! [`Balances`] and [`Tickets`], obtained from [`LuxCore`](crate::client::LuxCore).
//!
//! Each method is one logical call (rate limit, retries per [`crate::retry`], tracing,
//! [`Error`](crate::error::Error) mapping) and unwraps the `{success, data}` envelope.
//! Listing and streaming methods live in [`crate::pagination`]; money helpers on
//! [`Balances`] in [`crate::balance`].

pub mod balance;
pub mod payments;
pub mod tickets;
pub mod webhooks;

pub use balance::Balances;
pub use payments::{Created, PaymentRequest, Payments};
pub use tickets::Tickets;
pub use webhooks::Webhooks;
