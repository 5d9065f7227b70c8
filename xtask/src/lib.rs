//! Build tasks of the luxcore-rs workspace: code generation, the drift check, spec fetching,
//! the MSRV check (`cargo xtask msrv`) and the full test run with real servers
//! (`cargo xtask test`).
//! The binary (`cargo xtask`) is a thin CLI over these modules; `tests/` reuses [`surface`].
//!
//! Code generation runs in one direction: [`regen`] → [`codegen`] → its steps ([`api_version`],
//! [`error_catalogue`], [`open_enums`], [`operations`], [`redact`]) → [`error`] (no step imports [`codegen`] back).

pub mod api_version;
pub mod codegen;
pub mod drift;
pub mod error;
pub mod error_catalogue;
pub mod fetch;
pub mod msrv;
pub mod open_enums;
pub mod operations;
pub mod redact;
pub mod regen;
pub mod servers;
pub mod surface;
pub mod test_ca;
pub mod test_run;
