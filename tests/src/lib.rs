//! Workspace-level tests live in `tests/tests/`. This library only compiles the root README's
//! code blocks as doctests (`cargo test -p luxcore-tests --doc`; the `redis` and `axum` features
//! turn on the blocks that need them): the root README is no published crate's doc.

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RootReadme;
