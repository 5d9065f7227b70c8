//! [`LuxCoreBuilder`]: configuration and validation of a [`LuxCore`] client.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;

use super::client::{Inner, LuxCore};
use super::hook::AuthHook;
use super::retry::{RetryBudget, RetryPolicy};
use crate::base::error::{Error, Result};
use crate::base::ids::MerchantId;
use crate::credentials::{ApiKey, Credentials, HmacV2};
use crate::rate_limit::{Limiter, RateLimiter, RateLimits};

/// The production API host (test and production share it; the key decides the mode).
pub const DEFAULT_BASE_URL: &str = "https://api.lux-core.io";
/// The User-Agent sent with every request (`luxcore-rs/<version>`).
pub const USER_AGENT: &str = concat!("luxcore-rs/", env!("CARGO_PKG_VERSION"));

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default deadline of a whole call ([`LuxCoreBuilder::deadline`]).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

/// Configures a [`LuxCore`] client. [`Self::build`] validates everything and returns
/// [`Error::Config`] (never panics) on a bad setting.
///
/// ```
/// use std::time::Duration;
/// use luxcore_ext::client::LuxCore;
/// use luxcore_ext::retry::RetryPolicy;
///
/// let client = LuxCore::builder()
///     .base_url("http://127.0.0.1:8080")
///     .api_key("qp_test_sk_local")
///     .hmac(123, "hmac_test_secret_local")
///     .timeout(Duration::from_secs(20))
///     .retry_policy(RetryPolicy::default().with_max_attempts(3))
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "http://127.0.0.1:8080");
/// ```
pub struct LuxCoreBuilder {
    base_url: String,
    api_key: Option<Result<ApiKey>>,
    hmac: Option<Result<HmacV2>>,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    user_agent_suffix: Option<String>,
    http_client: Option<reqwest::Client>,
    limiting: Option<Limiting>,
    clock_skew: i64,
    deadline: Option<Duration>,
    budget: Option<RetryBudget>,
}

/// The client-side rate limiting chosen on the builder: one choice, the last setter wins.
enum Limiting {
    Local(RateLimits),
    Custom(Arc<dyn RateLimiter>),
    #[cfg(feature = "redis")]
    Shared(crate::rate_limit::SharedLimits),
}

impl fmt::Debug for Limiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limiting::Local(limits) => f.debug_tuple("Local").field(limits).finish(),
            Limiting::Custom(_) => f.write_str("Custom"),
            #[cfg(feature = "redis")]
            Limiting::Shared(_) => f.write_str("Shared"),
        }
    }
}

impl LuxCore {
    /// Starts configuring a client. See [`LuxCoreBuilder`].
    pub fn builder() -> LuxCoreBuilder {
        LuxCoreBuilder::new()
    }
}

impl Default for LuxCoreBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LuxCoreBuilder {
    /// Defaults: [`DEFAULT_BASE_URL`], no credentials, 10 s connect timeout, 30 s
    /// per-attempt timeout, [`RetryPolicy::default`], no client-side rate limiting.
    pub fn new() -> Self {
        LuxCoreBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            hmac: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            user_agent_suffix: None,
            http_client: None,
            limiting: None,
            clock_skew: 0,
            deadline: Some(DEFAULT_DEADLINE),
            budget: None,
        }
    }

    /// The API host (`http` or `https`; a path prefix is allowed, a trailing slash is
    /// removed). Default [`DEFAULT_BASE_URL`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The API v1 key (`qp_test_sk_...` or `qp_prod_sk_...`). Validated by [`Self::build`].
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// The API v2 merchant id and payment HMAC secret. Validated by [`Self::build`].
    pub fn hmac(mut self, merchant_id: impl Into<MerchantId>, secret: impl Into<String>) -> Self {
        self.hmac = Some(HmacV2::new(merchant_id, secret));
        self
    }

    /// Replaces the credentials (both the API key and the HMAC credentials).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.api_key = credentials.api_key().cloned().map(Ok);
        self.hmac = credentials.hmac().cloned().map(Ok);
        self
    }

    /// Timeout for establishing a connection (default 10 s). Ignored with a custom
    /// [`Self::http_client`] (configure it there).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Total timeout of one attempt, from sending to the end of the body (default 30 s).
    /// Retries are bounded separately by [`RetryPolicy::max_elapsed`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]; [`RetryPolicy::none`] to turn
    /// retries off).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Appended to the User-Agent: `luxcore-rs/<version> <suffix>`.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Uses this `reqwest::Client` (proxies, custom TLS, ...). The SDK still sets
    /// User-Agent, the per-attempt timeout and authentication per request. Disable
    /// redirects on it: a redirect to another host would carry the `X-API-Key` header.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Turns on client-side rate limiting with these quotas, counted in this process
    /// (off by default; see [`crate::rate_limit`]). The client has one rate limiter:
    /// this replaces an earlier [`Self::rate_limiter`] or `shared_rate_limits`.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.limiting = Some(Limiting::Local(limits));
        self
    }

    /// Uses this client-side [`RateLimiter`] (your own, or a shared one built by hand).
    /// Replaces an earlier [`Self::rate_limits`] or `shared_rate_limits`.
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiting = Some(Limiting::Custom(limiter));
        self
    }

    /// Turns on client-side rate limiting shared by every process that uses the same
    /// credentials, through Redis (see [`crate::rate_limit::RedisRateLimiter`]): the
    /// quotas are counted per API key (or, without one, per v2 merchant id), under a
    /// hashed key. Replaces an earlier [`Self::rate_limits`] or [`Self::rate_limiter`].
    ///
    /// ```
    /// use luxcore_ext::client::LuxCore;
    /// use luxcore_ext::rate_limit::{OnUnavailable, RateLimits, SharedLimits};
    ///
    /// let client = LuxCore::builder()
    ///     .api_key("qp_test_sk_local")
    ///     .shared_rate_limits(
    ///         SharedLimits::new("redis://127.0.0.1:6379", RateLimits::documented())
    ///             .on_unavailable(OnUnavailable::FailOpen), // the default
    ///     )
    ///     .build()
    ///     .unwrap();
    /// ```
    #[cfg(feature = "redis")]
    pub fn shared_rate_limits(mut self, shared: crate::rate_limit::SharedLimits) -> Self {
        self.limiting = Some(Limiting::Shared(shared));
        self
    }

    /// Deadline of every call (default [`DEFAULT_DEADLINE`], 2 minutes): rate-limiter
    /// waits, attempts and backoff sleeps together. A call's own
    /// [`CallOptions::deadline`](crate::CallOptions::deadline) replaces it.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The retry budget shared by this client and its clones (default
    /// [`RetryBudget::standard`]; [`RetryBudget::unlimited`] turns it off).
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Starts with the v2 clock off by `offset_secs` (tests of the clock-skew correction).
    #[doc(hidden)]
    pub fn clock_skew_for_tests(mut self, offset_secs: i64) -> Self {
        self.clock_skew = offset_secs;
        self
    }

    /// Validates the configuration and builds the client.
    ///
    /// Fails with [`Error::Config`] on: an invalid or non-http(s) base URL, an empty or
    /// malformed API key or HMAC secret, no credentials at all, a zero timeout, an
    /// `https` base URL without TLS support (none of the `rustls`, `rustls-ring` and
    /// `native-tls` features is on and no [`Self::http_client`] was given), or a User-Agent
    /// suffix that is not a valid header value.
    ///
    /// With the `rustls-ring` feature, building the default HTTP client installs ring as
    /// rustls' process-wide default crypto provider, unless one is installed already.
    pub fn build(self) -> Result<LuxCore> {
        let mut credentials = Credentials::new();
        if let Some(key) = self.api_key {
            credentials = credentials.with_api_key(key?);
        }
        if let Some(hmac) = self.hmac {
            credentials = credentials.with_hmac(hmac?);
        }
        if credentials.is_empty() {
            return Err(Error::Config(
                "no credentials: set an API key (api_key) and/or HMAC v2 credentials (hmac)".into(),
            ));
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::Config("timeouts must be greater than zero".into()));
        }
        let base = BaseUrl::parse(&self.base_url)?;
        let http = match self.http_client {
            Some(client) => client,
            None => default_http_client(&base, self.connect_timeout)?,
        };
        let user_agent = match &self.user_agent_suffix {
            Some(suffix) => format!("{USER_AGENT} {suffix}"),
            None => USER_AGENT.to_owned(),
        };
        let user_agent = HeaderValue::from_str(&user_agent).map_err(|_| {
            Error::Config("the User-Agent suffix is not a valid header value".into())
        })?;
        let hook = Arc::new(AuthHook::new(
            credentials,
            user_agent,
            Some(self.timeout),
            base.path.clone(),
            self.clock_skew,
        ));
        let raw = luxcore_api::Client::new_with_client(
            &base.url,
            http.clone(),
            luxcore_api::Hooks::new(hook.clone()),
        );
        let limiter = match self.limiting {
            None => None,
            Some(Limiting::Local(limits)) => Some(Limiter::new(&limits)),
            Some(Limiting::Custom(limiter)) => Some(Limiter::from_dyn(limiter)),
            #[cfg(feature = "redis")]
            Some(Limiting::Shared(shared)) => Some(Limiter::from_dyn(Arc::new(
                crate::rate_limit::RedisRateLimiter::for_credentials(shared, hook.credentials())
                    .map_err(|e| Error::Config(e.to_string()))?,
            ))),
        };
        let server = super::telemetry::Server::of(&base.url);
        Ok(LuxCore::from(Inner {
            raw,
            http,
            base_url: base.url,
            hook,
            retry: self.retry,
            limiter,
            deadline: self.deadline,
            budget: Arc::new(self.budget.unwrap_or_default()),
            server,
        }))
    }
}

/// A validated base URL.
struct BaseUrl {
    /// Without a trailing slash.
    url: String,
    /// Its path without a trailing slash (`""` for a bare host).
    path: String,
    https: bool,
}

impl BaseUrl {
    fn parse(raw: &str) -> Result<Self> {
        // The URL is not echoed in errors: it could carry userinfo.
        let url = url::Url::parse(raw.trim())
            .map_err(|e| Error::Config(format!("invalid base URL: {e}")))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            other => {
                return Err(Error::Config(format!(
                    "the base URL must use http or https, not {other:?}"
                )));
            }
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::Config("the base URL has no host".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::Config(
                "the base URL must not contain a user name or password".into(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::Config(
                "the base URL must not have a query or fragment".into(),
            ));
        }
        Ok(BaseUrl {
            url: url.as_str().trim_end_matches('/').to_owned(),
            path: url.path().trim_end_matches('/').to_owned(),
            https,
        })
    }
}

/// Whether the built-in HTTP client can speak TLS (one of the TLS features is on).
const HAS_TLS: bool = cfg!(any(
    feature = "rustls",
    feature = "rustls-ring",
    feature = "native-tls"
));

fn default_http_client(base: &BaseUrl, connect_timeout: Duration) -> Result<reqwest::Client> {
    if base.https && !HAS_TLS {
        return Err(Error::Config(
            "the base URL uses https, but luxcore-ext was built without a TLS feature, so the \
             built-in HTTP client has no TLS: enable `rustls` (on by default), `rustls-ring` or \
             `native-tls`, or pass a TLS-capable reqwest::Client with LuxCoreBuilder::http_client"
                .into(),
        ));
    }
    #[cfg(feature = "rustls-ring")]
    install_ring_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        // Never follow redirects: X-API-Key is not a header reqwest strips on redirect.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))
}

/// Installs ring as rustls' process-wide default crypto provider, unless one is installed
/// already (then nothing changes). Idempotent and cheap.
///
/// With the `rustls-ring` feature, reqwest is built without a provider of its own
/// (`rustls-no-provider`) and takes this default: [`LuxCoreBuilder::build`] calls this function,
/// but any other `reqwest::Client` built in the process *before* it panics ("No rustls crypto
/// provider is configured"). Call it first thing in `main` when you build other clients.
#[cfg(feature = "rustls-ring")]
pub fn install_ring_crypto_provider() {
    use rustls::crypto::{CryptoProvider, ring};
    if CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one first: that one is used.
        let _ = ring::default_provider().install_default();
    }
}

impl fmt::Debug for LuxCoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LuxCoreBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("hmac", &self.hmac)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("custom_http_client", &self.http_client.is_some())
            .field("rate_limiting", &self.limiting)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "qp_test_sk_buildertest";

    fn config_error(builder: LuxCoreBuilder) -> String {
        match builder.build() {
            Err(Error::Config(message)) => message,
            other => panic!("expected a Config error, got {other:?}"),
        }
    }

    #[test]
    fn base_url_is_validated_and_normalised() {
        for (input, expected) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
            ("http://localhost/proxy/", "http://localhost/proxy"),
            ("  http://Example.COM  ", "http://example.com"),
        ] {
            let client = LuxCore::builder()
                .base_url(input)
                .api_key(KEY)
                .build()
                .unwrap();
            assert_eq!(client.base_url(), expected);
        }
        for bad in [
            "",
            "not a url",
            "ftp://example.com",
            "file:///etc/passwd",
            "http://user:pass@example.com",
            "http://example.com/?q=1",
            "http://example.com/#frag",
        ] {
            let message = config_error(LuxCore::builder().base_url(bad).api_key(KEY));
            assert!(!message.contains("pass@"), "{message}");
        }
    }

    #[test]
    fn credentials_are_required_and_validated() {
        assert!(config_error(LuxCore::builder().base_url("http://x")).contains("no credentials"));
        assert!(
            config_error(LuxCore::builder().base_url("http://x").api_key("")).contains("empty")
        );
        assert!(
            config_error(LuxCore::builder().base_url("http://x").hmac(1, "")).contains("empty")
        );
        // A later valid value replaces an invalid one.
        let client = LuxCore::builder()
            .base_url("http://x")
            .api_key("")
            .api_key(KEY)
            .build()
            .unwrap();
        assert!(client.credentials().api_key().is_some_and(ApiKey::is_test));
        let client = LuxCore::builder()
            .base_url("http://x")
            .hmac(123, "s3cr3t_hmac")
            .build()
            .unwrap();
        assert_eq!(
            client.credentials().hmac().map(|h| h.merchant_id().get()),
            Some(123)
        );
    }

    #[test]
    fn zero_timeouts_and_bad_user_agent() {
        let base = || LuxCore::builder().base_url("http://x").api_key(KEY);
        config_error(base().timeout(Duration::ZERO));
        config_error(base().connect_timeout(Duration::ZERO));
        config_error(base().user_agent_suffix("bad\nsuffix"));
    }

    #[test]
    fn https_without_tls() {
        let result = LuxCore::builder().api_key(KEY).build();
        if HAS_TLS {
            assert_eq!(result.unwrap().base_url(), DEFAULT_BASE_URL);
        } else {
            let Err(Error::Config(message)) = result else {
                panic!("expected a Config error")
            };
            assert!(message.contains("rustls"), "{message}");
            // A custom client is trusted to handle TLS.
            let client = LuxCore::builder()
                .api_key(KEY)
                .http_client(reqwest::Client::new())
                .build()
                .unwrap();
            assert_eq!(client.base_url(), DEFAULT_BASE_URL);
        }
    }

    #[test]
    fn debug_redacts() {
        let builder = LuxCore::builder()
            .base_url("http://x")
            .api_key(KEY)
            .hmac(123, "hmac_secret_xyz");
        let text = format!("{builder:?}");
        assert!(
            !text.contains(KEY) && !text.contains("hmac_secret_xyz"),
            "{text}"
        );
        let client = builder.build().unwrap();
        for text in [format!("{client:?}"), format!("{client:#?}")] {
            assert!(
                !text.contains(KEY) && !text.contains("hmac_secret_xyz"),
                "{text}"
            );
            assert!(text.contains("REDACTED"));
        }
    }

    #[test]
    fn user_agent() {
        assert!(USER_AGENT.starts_with("luxcore-rs/"));
        assert_eq!(
            USER_AGENT,
            format!("luxcore-rs/{}", env!("CARGO_PKG_VERSION"))
        );
    }

    /// Refuses every permit (nothing is sent).
    struct Refusing;

    impl RateLimiter for Refusing {
        fn acquire(
            &self,
            _: crate::rate_limit::RateBucket,
        ) -> futures::future::BoxFuture<'_, std::result::Result<(), crate::error::LimiterError>>
        {
            Box::pin(async { Err(crate::error::LimiterError::Unavailable("refused".into())) })
        }
    }

    #[tokio::test]
    async fn the_last_rate_limiter_setter_wins() {
        // Nothing listens on port 9: a request that is sent fails to connect.
        let base = LuxCore::builder()
            .base_url("http://127.0.0.1:9")
            .api_key(KEY);
        let custom_last = base
            .rate_limits(RateLimits::documented())
            .rate_limiter(Arc::new(Refusing))
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let err = custom_last.payments().get("pay_1").await.unwrap_err();
        assert!(matches!(err, Error::RateLimiter(_)), "{err:?}");

        let local_last = LuxCore::builder()
            .base_url("http://127.0.0.1:9")
            .api_key(KEY)
            .rate_limiter(Arc::new(Refusing))
            .rate_limits(RateLimits::documented())
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let err = local_last.payments().get("pay_1").await.unwrap_err();
        assert!(
            err.is_connect(),
            "the local limiter let it through: {err:?}"
        );
    }
}
