//! Build tasks of the luxcore-rs workspace: code generation, the drift check, spec fetching.
//! The binary (`cargo xtask`) is a thin CLI over these modules; `tests/` reuses [`surface`].

pub mod codegen;
pub mod drift;
pub mod fetch;
pub mod open_enums;
pub mod operations;
pub mod redact;
pub mod regen;
pub mod surface;
