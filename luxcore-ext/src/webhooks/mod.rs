//! Webhook deliveries from LuxCore: signature verification and related helpers.

pub mod signature;
