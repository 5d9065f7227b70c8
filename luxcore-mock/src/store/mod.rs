//! The domain: payments, balances, webhooks (with their event logs) and tickets, in memory.
//! One [`Store`] lives behind one mutex, so every operation is atomic. No HTTP here: the
//! operations take validated input and answer records or an `ApiError`.
//!
//! [`model`] holds the records and the `Store`; [`payments`], [`balances`], [`webhooks`] and
//! [`tickets`] each add their operations to it; [`methods`] is the payment method matrix,
//! [`payout`] the checks of a withdrawal's payout details (CLABE, CBU/CVU) and [`page`] the
//! paging of lists.

pub(crate) mod balances;
pub(crate) mod methods;
pub(crate) mod model;
pub(crate) mod page;
pub(crate) mod payments;
pub(crate) mod payout;
pub(crate) mod tickets;
pub(crate) mod webhooks;

pub(crate) use model::{Event, Job, Rules, Store};
