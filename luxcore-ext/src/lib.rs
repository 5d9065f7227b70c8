//! luxcore-ext: the hand-written LuxCore SDK layer on top of the generated `luxcore-api` client.
#![deny(missing_docs)]

pub mod signing;
