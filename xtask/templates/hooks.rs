//! The extension point through which a hand-written layer (luxcore-ext) adds per-request behaviour
//! (authentication headers, HMAC v2 signing, tracing, response metadata) without editing generated code.
//!
//! Every generated operation calls [`pre`] on the fully built `reqwest::Request` just before sending
//! it (JSON bodies are buffered, so `request.body().and_then(|b| b.as_bytes())` is exactly the bytes
//! sent) and [`post`] with the transport result right after.

use std::sync::Arc;

/// Behaviour run around every request of the generated [`Client`](crate::Client).
pub trait RequestHook: Send + Sync + 'static {
    /// Called with the request about to be sent; may add or change headers.
    /// An `Err` aborts the call with `Error::Custom(message)`.
    fn before_send(&self, request: &mut reqwest::Request) -> Result<(), String>;

    /// Called with the transport result before the response body is read.
    fn after_response(&self, result: &reqwest::Result<reqwest::Response>) {
        let _ = result;
    }
}

/// The generated client's inner value: an optional [`RequestHook`].
#[derive(Clone, Default)]
pub struct Hooks(Option<Arc<dyn RequestHook>>);

impl Hooks {
    /// No per-request behaviour: requests are sent as generated.
    pub fn none() -> Self {
        Self(None)
    }

    /// Runs `hook` around every request.
    pub fn new(hook: Arc<dyn RequestHook>) -> Self {
        Self(Some(hook))
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Hooks(Some(..))" } else { "Hooks(None)" })
    }
}

/// Pre-send hook wired into every generated operation.
pub async fn pre(hooks: &Hooks, request: &mut reqwest::Request) -> Result<(), String> {
    match &hooks.0 {
        Some(hook) => hook.before_send(request),
        None => Ok(()),
    }
}

/// Post-send hook wired into every generated operation.
pub fn post(hooks: &Hooks, result: &reqwest::Result<reqwest::Response>) {
    if let Some(hook) = &hooks.0 {
        hook.after_response(result);
    }
}
