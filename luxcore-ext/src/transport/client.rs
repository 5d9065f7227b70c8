//! The [`LuxCore`] client and its call runner, and [`ApiCall`], the request every typed
//! method returns.
//!
//! Each call runs as one *logical call*: it waits for the optional client-side rate
//! limiter, opens a `luxcore.request` tracing span (method, path template, status,
//! attempt, latency_ms — never bodies, keys or signatures), sends each attempt through the
//! generated client with an [`AttemptContext`] (the operation's authentication from the
//! generated operation table, the attempt's timeout; the hook records the response there),
//! retries per [`RetryPolicy`] (or the call's own, see [`CallOptions`]), and maps failures
//! to [`Error`].

use std::fmt;
use std::future::IntoFuture;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use luxcore_api::ResponseValue;
use luxcore_api::operations::{Auth, Operation, RateLimitBucket, RetryClass, auth_for_path};
use luxcore_api::types::ErrorResponse;
use reqwest::{Method, StatusCode};
use tracing::Instrument;

use super::decode::{ApiError, from_api_error};
use super::hook::{AttemptHook, AuthHook};
use super::retry::{RetryBudget, RetryPolicy};
use super::telemetry::{self, Server};
use crate::base::context::{AttemptContext, AttemptMeta, Response, ResponseMeta};
use crate::base::error::{Error, ErrorCode, Result};
use crate::base::headers::server_date;
use crate::credentials::Credentials;
use crate::rate_limit::{Limiter, RateBucket};
use luxcore_auth::unix_now;

/// The LuxCore client. Cheap to clone (an `Arc` inside); share one per process.
///
/// Resources hang off it: [`payments()`](Self::payments), [`webhook_endpoints()`](Self::webhook_endpoints),
/// [`balance()`](Self::balance), [`tickets()`](Self::tickets). Every typed method returns an
/// [`ApiCall`]: `.await` it for the value, or `.with_meta().await` for the value and its
/// [`ResponseMeta`].
///
/// # API versions and credentials
///
/// The API version follows the credentials. Operations that exist in API v2 (payment
/// creation, balance reads) go to v2, HMAC-signed, when the client has HMAC credentials,
/// and to v1 with the API key otherwise. Everything else exists only in v1 and needs the
/// API key. So a client holding **both** sends payment creation and balance reads to v2
/// (signed) and every other operation to v1 (with the key); a client with only HMAC
/// credentials can create payments and read balances but gets [`Error::Config`] for
/// v1-only operations.
#[derive(Clone)]
pub struct LuxCore {
    inner: Arc<Inner>,
}

/// What a client shares between its clones (built by the builder).
pub(crate) struct Inner {
    pub(crate) raw: luxcore_api::Client,
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) hook: Arc<AuthHook>,
    pub(crate) retry: RetryPolicy,
    pub(crate) limiter: Option<Limiter>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) budget: Arc<RetryBudget>,
    pub(crate) server: Server,
}

/// Options of one call, overriding the client's for it alone (see [`ApiCall::with_options`]).
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// Timeout of each attempt of this call (default: the client's).
    pub timeout: Option<Duration>,
    /// Retry policy of this call (default: the client's).
    pub retry: Option<RetryPolicy>,
    /// Deadline of the whole call, from when it is sent: rate-limiter waits, every attempt
    /// and every backoff sleep (default: the client's, see
    /// [`LuxCoreBuilder::deadline`](crate::LuxCoreBuilder::deadline)). A limiter slot
    /// later than the deadline, or a retry whose wait would pass it, ends the call; each
    /// attempt's timeout is cut to the time left. [`Error::DeadlineExceeded`] when it
    /// passes before any answer.
    pub deadline: Option<Duration>,
    /// The `merchant_reference` of a payment creation, for its span (set by the SDK).
    pub(crate) merchant_reference: Option<Arc<str>>,
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl CallOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`Self::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets [`Self::retry`].
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets [`Self::deadline`].
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }
}

/// The attempt closure of a typed call: it clones the listed captures for each attempt and
/// sends `$send` with the attempt's generated client:
/// `attempt!(id => |c| c.get_payment().id(id).send())`. Not boxed: [`ApiCall::plan`] is
/// generic over it, so a call's attempts live inside the call's one future.
macro_rules! attempt {
    ($($v:ident),* => |$c:ident| $send:expr) => {
        move |$c: luxcore_api::Client| {
            $(let $v = $v.clone();)*
            async move { $send.await }
        }
    };
}
pub(crate) use attempt;

/// What one attempt of a typed call resolves to.
type AttemptResult<T> = std::result::Result<ResponseValue<T>, ApiError>;

/// A typed call being assembled by a resource method ([`ApiCall::plan`]): the operation
/// and its attempt closure, waiting for the conversion of the answer
/// ([`map`](Self::map), [`and_then`](Self::and_then) or [`unchanged`](Self::unchanged)), which
/// seals it into an [`ApiCall`].
pub(crate) struct CallPlan<A> {
    client: LuxCore,
    operation: Operation,
    attempt: A,
}

impl<A> CallPlan<A> {
    /// Converts the value once it arrived.
    pub(crate) fn map<R, F, T>(self, f: impl FnOnce(R) -> T + Send + 'static) -> ApiCall<T>
    where
        A: FnMut(luxcore_api::Client) -> F + Send + 'static,
        F: Future<Output = AttemptResult<R>> + Send + 'static,
        R: Send + 'static,
        T: Send + 'static,
    {
        self.and_then(|value, _| Ok(f(value)))
    }

    /// The value as it arrived.
    pub(crate) fn unchanged<R, F>(self) -> ApiCall<R>
    where
        A: FnMut(luxcore_api::Client) -> F + Send + 'static,
        F: Future<Output = AttemptResult<R>> + Send + 'static,
        R: Send + 'static,
    {
        self.and_then(|value, _| Ok(value))
    }

    /// Converts the value once it arrived (`f` may reject it; that is not retried).
    pub(crate) fn and_then<R, F, T>(
        self,
        f: impl FnOnce(R, &ResponseMeta) -> Result<T> + Send + 'static,
    ) -> ApiCall<T>
    where
        A: FnMut(luxcore_api::Client) -> F + Send + 'static,
        F: Future<Output = AttemptResult<R>> + Send + 'static,
        R: Send + 'static,
        T: Send + 'static,
    {
        let CallPlan {
            client,
            operation,
            mut attempt,
        } = self;
        ApiCall::from_fn(move |options: CallOptions| async move {
            let send = |hook| attempt(client.generated_for(hook));
            let answer = client
                .run(operation, Some(operation.auth), &options, send)
                .await?;
            let (value, meta) = answer.into_parts();
            let value = f(value, &meta)?;
            Ok(Response::new(value, meta))
        })
    }
}

/// The sealed request of an [`ApiCall`]: from its [`CallOptions`] to the future of its
/// value with the [`ResponseMeta`].
type Sealed<T> = Box<dyn FnOnce(CallOptions) -> BoxFuture<'static, Result<Response<T>>> + Send>;

/// One API call, not sent yet: the request is the builder. Every network method of the
/// SDK returns one.
///
/// `.await` it for the value; [`with_meta`](Self::with_meta) for the value with its
/// [`ResponseMeta`] (request id, status, attempts, `X-RateLimit-*`);
/// [`with_options`](Self::with_options) (or [`timeout`](Self::timeout),
/// [`deadline`](Self::deadline), [`retry`](Self::retry)) to change the per-attempt
/// timeout, the whole call's deadline or the retry policy of this call alone. `ApiCall<T>`
/// is a plain type: store it in a struct field or put calls of different methods in one
/// `Vec`.
///
/// ```no_run
/// # async fn demo(client: luxcore_ext::LuxCore) -> luxcore_ext::Result<()> {
/// use std::time::Duration;
/// use luxcore_ext::prelude::*;
/// use luxcore_ext::types::Payment;
///
/// let payment = client.payments().get("pay_123").await?;
/// let answer = client
///     .payments()
///     .get("pay_123")
///     .with_options(CallOptions::new().deadline(Duration::from_secs(5)).retry(RetryPolicy::none()))
///     .with_meta()
///     .await?;
/// println!("{:?} after {} attempt(s), request id {:?}", answer.status, answer.meta().attempts, answer.meta().request_id);
///
/// // Calls of different methods, kept together.
/// let calls: Vec<ApiCall<Payment>> = vec![client.payments().get("pay_1"), client.payments().cancel("pay_2")];
/// # let _ = (payment, calls); Ok(()) }
/// ```
#[must_use = "an ApiCall does nothing until awaited"]
pub struct ApiCall<T> {
    options: CallOptions,
    /// The request, or why it was rejected before sending.
    run: std::result::Result<Sealed<T>, Error>,
}

impl<T> fmt::Debug for ApiCall<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiCall")
            .field("options", &self.options)
            .field("rejected", &self.run.as_ref().err())
            .finish_non_exhaustive()
    }
}

impl ApiCall<()> {
    /// Starts a typed call of `operation` whose attempts are sent by `attempt` (see
    /// [`attempt!`]); finish it with [`CallPlan::map`], [`CallPlan::and_then`] or
    /// [`CallPlan::unchanged`].
    pub(crate) fn plan<A>(client: &LuxCore, operation: Operation, attempt: A) -> CallPlan<A> {
        CallPlan {
            client: client.clone(),
            operation,
            attempt,
        }
    }
}

impl<T: Send + 'static> ApiCall<T> {
    /// A call that runs `run` with its options when sent (one or several requests).
    pub(crate) fn from_fn<F>(run: impl FnOnce(CallOptions) -> F + Send + 'static) -> Self
    where
        F: Future<Output = Result<Response<T>>> + Send + 'static,
    {
        ApiCall {
            options: CallOptions::default(),
            run: Ok(Box::new(move |options| Box::pin(run(options)))),
        }
    }

    /// A call that fails at once (a request rejected before sending).
    pub(crate) fn fail(error: Error) -> Self {
        ApiCall {
            options: CallOptions::default(),
            run: Err(error),
        }
    }

    /// Replaces this call's options.
    pub fn with_options(mut self, mut options: CallOptions) -> Self {
        options.merchant_reference = self.options.merchant_reference.take();
        self.options = options;
        self
    }

    /// Labels the call's span with the payment's `merchant_reference`.
    pub(crate) fn merchant_reference(mut self, reference: &str) -> Self {
        self.options.merchant_reference = Some(Arc::from(reference));
        self
    }

    /// Sets the timeout of each attempt of this call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Sets the deadline of the whole call: rate-limiter waits, attempts and backoff
    /// sleeps together (see [`CallOptions::deadline`]).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.options.deadline = Some(deadline);
        self
    }

    /// Sets the retry policy of this call.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.options.retry = Some(retry);
        self
    }

    /// Sends the call; the value comes with its [`ResponseMeta`].
    pub fn with_meta(self) -> MetaFuture<T> {
        match self.run {
            Ok(run) => MetaFuture {
                sent: Some(run(self.options)),
                rejected: None,
            },
            Err(error) => MetaFuture {
                sent: None,
                rejected: Some(error),
            },
        }
    }

    /// Converts the value once it arrived.
    pub(crate) fn map<U: Send + 'static>(
        self,
        f: impl FnOnce(T) -> U + Send + 'static,
    ) -> ApiCall<U> {
        self.and_then(|value, _| Ok(f(value)))
    }

    /// Converts the value once it arrived (`f` may reject it). Wraps the call's future:
    /// resource methods convert in their [`CallPlan`] instead.
    pub(crate) fn and_then<U: Send + 'static>(
        self,
        f: impl FnOnce(T, &ResponseMeta) -> Result<U> + Send + 'static,
    ) -> ApiCall<U> {
        self.wrap(|answer| {
            let (value, meta) = answer?.into_parts();
            let value = f(value, &meta)?;
            Ok(Response::new(value, meta))
        })
    }

    /// Converts the error of a failed call.
    pub(crate) fn map_err(self, f: impl FnOnce(Error) -> Error + Send + 'static) -> ApiCall<T> {
        self.wrap(|answer| answer.map_err(f))
    }

    fn wrap<U: Send + 'static>(
        self,
        f: impl FnOnce(Result<Response<T>>) -> Result<Response<U>> + Send + 'static,
    ) -> ApiCall<U> {
        ApiCall {
            options: self.options,
            run: self.run.map(|run| -> Sealed<U> {
                Box::new(move |options| Box::pin(async move { f(run(options).await) }))
            }),
        }
    }
}

impl<T: Send + 'static> IntoFuture for ApiCall<T> {
    type Output = Result<T>;
    type IntoFuture = CallFuture<T>;

    fn into_future(self) -> Self::IntoFuture {
        CallFuture {
            call: self.with_meta(),
        }
    }
}

/// The future of [`ApiCall::with_meta`]: the value with its [`ResponseMeta`]. Polled again
/// after it completed, it answers [`Error::InvalidRequest`] (it does not panic).
#[must_use = "futures do nothing unless polled"]
pub struct MetaFuture<T> {
    sent: Option<BoxFuture<'static, Result<Response<T>>>>,
    rejected: Option<Error>,
}

impl<T> Future for MetaFuture<T> {
    type Output = Result<Response<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(sent) = self.sent.as_mut() {
            let answer = std::task::ready!(sent.as_mut().poll(cx));
            self.sent = None;
            return Poll::Ready(answer);
        }
        Poll::Ready(Err(self.rejected.take().unwrap_or_else(|| {
            Error::InvalidRequest("the call was polled again after it completed".into())
        })))
    }
}

impl<T> fmt::Debug for MetaFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetaFuture")
    }
}

/// The future of an awaited [`ApiCall`]: its value without the [`ResponseMeta`].
#[must_use = "futures do nothing unless polled"]
pub struct CallFuture<T> {
    call: MetaFuture<T>,
}

impl<T> Future for CallFuture<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        Pin::new(&mut self.call)
            .poll(cx)
            .map(|answer| answer.map(Response::into_inner))
    }
}

impl<T> fmt::Debug for CallFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallFuture")
    }
}

impl LuxCore {
    /// The generated client, with this client's hook installed (authentication by path,
    /// User-Agent, timeout). Calls through it get no retries, rate limiting or error
    /// mapping.
    pub fn raw(&self) -> &luxcore_api::Client {
        &self.inner.raw
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The configured credentials (`Debug` redacts them).
    pub fn credentials(&self) -> &Credentials {
        self.inner.hook.credentials()
    }

    /// The operation of a call that exists in API v1 and v2: `v2` when the client has
    /// HMAC credentials, else `v1` (see [the type documentation](Self)).
    pub(crate) fn versioned(&self, v1: Operation, v2: Operation) -> Operation {
        if self.credentials().hmac().is_some() {
            v2
        } else {
            v1
        }
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Seconds added to the local clock for v2 timestamps (server clock minus local
    /// clock, learned from a `TIMESTAMP_OUT_OF_WINDOW` answer; 0 until then).
    pub fn clock_offset_secs(&self) -> i64 {
        self.inner.hook.clock_offset()
    }

    /// Runs one logical call of `operation`: client-side rate limit wait, tracing spans
    /// (see [`telemetry`](super::telemetry)), retries per policy and budget within the
    /// deadline, error mapping. `send` sends one attempt.
    pub(crate) async fn run<T, S, F>(
        &self,
        operation: Operation,
        auth: Option<Auth>,
        options: &CallOptions,
        mut send: S,
    ) -> Result<Response<T>>
    where
        S: FnMut(Arc<AttemptHook>) -> F,
        F: Future<Output = AttemptResult<T>>,
    {
        let span = telemetry::call_span(&operation, options.merchant_reference.as_deref());
        self.run_attempts(operation, auth, options, &mut send)
            .instrument(span)
            .await
    }

    async fn run_attempts<T, S, F>(
        &self,
        operation: Operation,
        auth: Option<Auth>,
        options: &CallOptions,
        send: &mut S,
    ) -> Result<Response<T>>
    where
        S: FnMut(Arc<AttemptHook>) -> F,
        F: Future<Output = AttemptResult<T>>,
    {
        let inner = &*self.inner;
        let policy = options.retry.as_ref().unwrap_or(&inner.retry);
        let started = Instant::now();
        let deadline = options.deadline.or(inner.deadline);
        let deadline_at = deadline.map(|d| tokio::time::Instant::now() + d);
        let past_deadline = || Error::DeadlineExceeded {
            deadline: deadline.unwrap_or_default(),
        };
        let fail = |attempt: u32, status: Option<StatusCode>, err: Error| {
            telemetry::call_ended(&operation, attempt, status, Some(&err), started);
            Err(err.with_attempts(attempt))
        };
        let mut clock_corrected = false;
        let mut attempt: u32 = 0;
        // The cost of the retry being made (given back if it succeeds).
        let mut spent: u32 = 0;
        loop {
            attempt += 1;
            if let Some(limiter) = &inner.limiter {
                let waiting = Instant::now();
                let wait = limiter.until_ready(bucket(operation.bucket));
                let ready = match deadline_at {
                    // Cancelled at the deadline, the wait takes no slot.
                    Some(at) => tokio::time::timeout_at(at, wait)
                        .await
                        .unwrap_or_else(|_| Err(past_deadline())),
                    None => wait.await,
                };
                telemetry::limiter_waited(bucket_name(operation.bucket), waiting.elapsed());
                if let Err(err) = ready {
                    return fail(attempt, None, err);
                }
            }
            let timeout = match deadline_at {
                Some(at) => {
                    let left = at.saturating_duration_since(tokio::time::Instant::now());
                    if left.is_zero() {
                        return fail(attempt, None, past_deadline());
                    }
                    let own = options.timeout.or(inner.hook.default_timeout());
                    Some(own.map_or(left, |own| own.min(left)))
                }
                None => options.timeout,
            };
            let hook = Arc::new(AttemptHook {
                shared: Arc::clone(&inner.hook),
                context: AttemptContext::new(operation, auth, attempt, timeout),
            });
            let attempt_span = telemetry::attempt_span(&operation, &inner.server, attempt);
            let attempt_started = Instant::now();
            // In a block of its own: the answer (up to a whole payment, ~1 KiB) is not kept in
            // this future's state across the awaits below.
            let (failure, meta) = {
                let sent = send(Arc::clone(&hook)).instrument(attempt_span.clone());
                let result = match deadline_at {
                    // The attempt's timeout is cut to the deadline; this bounds what the
                    // timeout does not cover (e.g. a hook or body read past it).
                    Some(at) => match tokio::time::timeout_at(at, sent).await {
                        Ok(result) => result,
                        Err(_) => {
                            let err = past_deadline();
                            let meta = hook.context.take_meta();
                            telemetry::attempt_ended(
                                &attempt_span,
                                &operation,
                                meta.status,
                                None,
                                Some(&err),
                                attempt_started,
                            );
                            return fail(attempt, meta.status, err);
                        }
                    },
                    None => sent.await,
                };
                let meta = hook.context.take_meta();
                match result {
                    Ok(value) => {
                        inner.budget.refill(if spent > 0 {
                            spent
                        } else {
                            inner.budget.success_refill()
                        });
                        let meta = ResponseMeta::new(value.status(), value.headers(), attempt);
                        let status = StatusCode::from_u16(meta.status).ok();
                        telemetry::attempt_ended(
                            &attempt_span,
                            &operation,
                            status,
                            meta.request_id.as_deref(),
                            None,
                            attempt_started,
                        );
                        telemetry::call_ended(&operation, attempt, status, None, started);
                        return Ok(Response::new(value.into_inner(), meta));
                    }
                    Err(failure) => (failure, meta),
                }
            };
            let status = meta.status;
            let err = from_api_error(failure, &meta).await;
            telemetry::attempt_ended(
                &attempt_span,
                &operation,
                status,
                err.request_id(),
                Some(&err),
                attempt_started,
            );
            drop(attempt_span);
            if !clock_corrected && self.correct_clock(auth, &err, &meta) {
                clock_corrected = true;
                continue;
            }
            match policy.next_delay(operation.retry, &err, &meta, attempt, started.elapsed()) {
                Some(delay) => {
                    let late =
                        deadline_at.is_some_and(|at| tokio::time::Instant::now() + delay >= at);
                    let cost = inner.budget.cost_of(&err);
                    if late || !inner.budget.try_spend(cost) {
                        tracing::debug!(
                            attempt,
                            error = err.kind(),
                            reason = if late { "deadline" } else { "retry budget" },
                            "luxcore: not retrying"
                        );
                        return fail(attempt, status, err);
                    }
                    spent = cost;
                    telemetry::retrying(&operation, &err, status);
                    tracing::debug!(
                        attempt,
                        delay_ms = millis(delay),
                        error = err.kind(),
                        status = status.map(|s| s.as_u16()),
                        "luxcore: retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                None => {
                    tracing::debug!(
                        error = err.kind(),
                        status = status.map(|s| s.as_u16()),
                        "luxcore: call failed"
                    );
                    return fail(attempt, status, err);
                }
            }
        }
    }

    /// On a v2 `TIMESTAMP_OUT_OF_WINDOW` with a `Date` header, adopts the server clock.
    /// Returns `true` when the request should be sent again at once.
    fn correct_clock(&self, auth: Option<Auth>, err: &Error, meta: &AttemptMeta) -> bool {
        if auth != Some(Auth::HmacV2) || err.code() != Some(&ErrorCode::TimestampOutOfWindow) {
            return false;
        }
        let Some(server_now) = server_date(&meta.headers) else {
            return false;
        };
        let offset = server_now.saturating_sub(unix_now());
        self.inner.hook.set_clock_offset(offset);
        tracing::info!(
            offset_secs = offset,
            "luxcore: v2 timestamp rejected; adopted the server clock from its Date header"
        );
        true
    }

    /// A generated client whose requests go through `hook` (one attempt's).
    fn generated_for(&self, hook: Arc<AttemptHook>) -> luxcore_api::Client {
        luxcore_api::Client::new_with_client(
            &self.inner.base_url,
            self.inner.http.clone(),
            luxcore_api::Hooks::new(hook),
        )
    }

    /// Sends a hand-built request through the hook of its attempt (authentication as the
    /// context says), mapping the answer like generated operations do.
    async fn send_manual(
        &self,
        mut request: reqwest::Request,
        hook: Arc<AttemptHook>,
    ) -> AttemptResult<Bytes> {
        use luxcore_api::RequestHook;
        hook.before_send(&mut request).map_err(ApiError::Custom)?;
        let result = self.inner.http.execute(request).await;
        hook.after_response(&result);
        let response = result?;
        let status = response.status();
        if !(status.is_success() || status.is_client_error() || status.is_server_error()) {
            return Err(ApiError::UnexpectedResponse(response));
        }
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(ApiError::ResponseBodyError)?;
        if status.is_success() {
            return Ok(ResponseValue::new(body, status, headers));
        }
        match serde_json::from_slice::<ErrorResponse>(&body) {
            Ok(parsed) => Err(ApiError::ErrorResponse(ResponseValue::new(
                parsed, status, headers,
            ))),
            Err(e) => Err(ApiError::InvalidResponsePayload(body, e)),
        }
    }

    /// Runs a hand-built request (`build` makes each attempt's request) as a logical call
    /// of `operation`, authenticated per `auth`.
    pub(crate) async fn run_manual(
        &self,
        operation: Operation,
        auth: Option<Auth>,
        options: &CallOptions,
        build: impl Fn() -> reqwest::Request + Send + 'static,
    ) -> Result<Response<Bytes>> {
        let send = |hook| self.send_manual(build(), hook);
        self.run(operation, auth, options, send).await
    }

    /// Escape hatch for endpoints the SDK does not wrap: sends `method path_and_query`
    /// (relative to the base URL, query exactly as it should go on the wire) with an
    /// optional JSON body. The request is authenticated like any other (by its API prefix:
    /// the API key for v1, a fresh HMAC signature over the exact bytes for v2), retried per
    /// policy as the operation table classifies it (unknown paths: `GET`/`PUT`/`DELETE`
    /// only) and error-mapped. Returns the status and the JSON body (`Null` when empty) of
    /// a 2xx answer.
    pub fn signed_request(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> ApiCall<(StatusCode, serde_json::Value)> {
        if !path_and_query.starts_with('/') {
            return ApiCall::fail(Error::InvalidRequest(
                "path_and_query must start with '/'".into(),
            ));
        }
        let url = match reqwest::Url::parse(&format!("{}{path_and_query}", self.base_url())) {
            Ok(url) => url,
            Err(e) => {
                return ApiCall::fail(Error::InvalidRequest(format!(
                    "invalid path_and_query: {e}"
                )));
            }
        };
        let body = match body.map(serde_json::to_vec).transpose() {
            Ok(body) => body,
            Err(e) => {
                return ApiCall::fail(Error::InvalidRequest(format!(
                    "body is not serializable: {e}"
                )));
            }
        };
        let path = url.path();
        let relative = path
            .strip_prefix(self.inner.hook.base_path())
            .unwrap_or(path);
        let operation = Operation::find(method.as_str(), relative)
            .copied()
            .unwrap_or_else(|| dynamic_operation(&method));
        let auth = auth_for_path(relative);
        let client = self.clone();
        ApiCall::from_fn(move |options: CallOptions| async move {
            let response = client
                .run_manual(operation, auth, &options, move || {
                    let mut request = reqwest::Request::new(method.clone(), url.clone());
                    if let Some(body) = &body {
                        request.headers_mut().insert(
                            reqwest::header::CONTENT_TYPE,
                            reqwest::header::HeaderValue::from_static("application/json"),
                        );
                        *request.body_mut() = Some(body.clone().into());
                    }
                    request
                })
                .await?;
            let (bytes, meta) = response.into_parts();
            let status = StatusCode::from_u16(meta.status).unwrap_or(StatusCode::OK);
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Response::new((status, serde_json::Value::Null), meta));
            }
            let value = serde_json::from_slice(&bytes).map_err(|e| {
                Error::decode(
                    Some(status.as_u16()),
                    e.to_string(),
                    &bytes,
                    meta.request_id.clone(),
                )
            })?;
            Ok(Response::new((status, value), meta))
        })
    }
}

/// A request to a path the operation table does not know (`signed_request`, uploads).
pub(crate) fn dynamic_operation(method: &Method) -> Operation {
    let retry = match *method {
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS => {
            RetryClass::Idempotent
        }
        _ => RetryClass::NotRetryableAfterSend,
    };
    Operation {
        id: "dynamic",
        method: static_method(method),
        path: "{dynamic}",
        auth: Auth::ApiKey,
        retry,
        bucket: RateLimitBucket::Standard,
    }
}

fn bucket_name(bucket: RateLimitBucket) -> &'static str {
    match bucket {
        RateLimitBucket::Create => "create",
        RateLimitBucket::Standard => "standard",
    }
}

fn bucket(bucket: RateLimitBucket) -> RateBucket {
    match bucket {
        RateLimitBucket::Create => RateBucket::Create,
        RateLimitBucket::Standard => RateBucket::Standard,
    }
}

fn static_method(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl fmt::Debug for LuxCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LuxCore")
            .field("base_url", &self.inner.base_url)
            .field("credentials", self.credentials())
            .field("retry", &self.inner.retry)
            .field("rate_limited", &self.inner.limiter.is_some())
            .field("clock_offset_secs", &self.clock_offset_secs())
            .finish()
    }
}

impl From<Inner> for LuxCore {
    fn from(inner: Inner) -> Self {
        LuxCore {
            inner: Arc::new(inner),
        }
    }
}
