//! Typed access to every operation, grouped by tag (in progress).
