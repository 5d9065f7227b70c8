//! Configuration of a [`MockServer`](crate::MockServer): credentials, rate limits,
//! fault injection, the answer to duplicate creations, switched-off methods, the
//! per-transaction limit and webhook retry timing.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use luxcore_api::enums::ErrorCode;
use secrecy::SecretString;

/// Default API key with every scope.
pub const DEFAULT_API_KEY: &str = "qp_test_sk_local";
/// Default read-only API key (`payments.read`, `balance.read`, `webhooks.read`,
/// `tickets.read`).
pub const READONLY_API_KEY: &str = "qp_test_sk_readonly";
/// The mock merchant id; every credential acts on this merchant's account.
pub const DEFAULT_MERCHANT_ID: u64 = 123;
/// Payment HMAC secret of the default v2 merchant ([`DEFAULT_MERCHANT_ID`]).
pub const DEFAULT_HMAC_SECRET: &str = "hmac_test_secret_local";

/// Every API key scope the mock knows.
pub const ALL_SCOPES: &[&str] = &[
    "payments.create",
    "payments.read",
    "payments.cancel",
    "payments.methods",
    "webhooks.create",
    "webhooks.read",
    "webhooks.update",
    "webhooks.delete",
    "balance.read",
    "tickets.create",
    "tickets.read",
    "tickets.update",
];

/// Scopes of [`READONLY_API_KEY`].
pub const READONLY_SCOPES: &[&str] = &[
    "payments.read",
    "balance.read",
    "webhooks.read",
    "tickets.read",
];

/// Default maximum number of delivery attempts of one webhook event.
pub const WEBHOOK_MAX_ATTEMPTS: u32 = 5;

/// How the mock server is set up. Start from [`MockConfig::default`] and chain the
/// `with_*` methods.
///
/// `Debug` never shows API keys or HMAC secrets.
#[derive(Clone)]
pub struct MockConfig {
    pub(crate) addr: SocketAddr,
    pub(crate) api_keys: Vec<(String, Vec<String>)>,
    pub(crate) hmac_merchants: Vec<(u64, SecretString)>,
    pub(crate) rate_limits: Option<RateLimitConfig>,
    pub(crate) faults: FaultConfig,
    pub(crate) webhook_retry_base: Duration,
    pub(crate) webhook_timeout: Duration,
    pub(crate) duplicates: DuplicateAnswer,
    pub(crate) unavailable_methods: Vec<String>,
    pub(crate) unconfigured_methods: Vec<String>,
    pub(crate) transaction_limit: Option<i64>,
}

impl Default for MockConfig {
    /// `127.0.0.1`, a free port, the default credentials, the documented rate limits
    /// and no faults; webhook retries start at 1 s; duplicate creations answer 200
    /// ([`DuplicateAnswer::Ok200`]); every method on, no per-transaction limit.
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            api_keys: vec![
                (DEFAULT_API_KEY.to_owned(), to_strings(ALL_SCOPES)),
                (READONLY_API_KEY.to_owned(), to_strings(READONLY_SCOPES)),
            ],
            hmac_merchants: vec![(DEFAULT_MERCHANT_ID, SecretString::from(DEFAULT_HMAC_SECRET))],
            rate_limits: Some(RateLimitConfig::default()),
            faults: FaultConfig::default(),
            webhook_retry_base: Duration::from_secs(1),
            webhook_timeout: Duration::from_secs(10),
            duplicates: DuplicateAnswer::default(),
            unavailable_methods: Vec::new(),
            unconfigured_methods: Vec::new(),
            transaction_limit: None,
        }
    }
}

fn to_strings(scopes: &[&str]) -> Vec<String> {
    scopes.iter().map(|s| (*s).to_owned()).collect()
}

impl MockConfig {
    /// Listens on `addr` (port 0 picks a free port). Default `127.0.0.1:0`.
    #[must_use]
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Adds an API key with the given scopes (replacing the scopes if the key exists).
    /// Scope aliases (`payments.view`, `webhooks.view`, `balance.view`) are accepted,
    /// and `*` grants every scope.
    #[must_use]
    pub fn with_api_key(mut self, key: impl Into<String>, scopes: &[&str]) -> Self {
        let key = key.into();
        let scopes = to_strings(scopes);
        match self.api_keys.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = scopes,
            None => self.api_keys.push((key, scopes)),
        }
        self
    }

    /// Adds an API v2 merchant id with its payment HMAC secret (replacing the secret
    /// if the id exists). Every credential acts on the one mock merchant account.
    #[must_use]
    pub fn with_hmac_merchant(mut self, merchant_id: u64, secret: impl Into<String>) -> Self {
        let secret = SecretString::from(secret.into());
        match self
            .hmac_merchants
            .iter_mut()
            .find(|(id, _)| *id == merchant_id)
        {
            Some(entry) => entry.1 = secret,
            None => self.hmac_merchants.push((merchant_id, secret)),
        }
        self
    }

    /// Turns rate limiting off (no 429s and no `X-RateLimit-*` headers).
    #[must_use]
    pub fn without_rate_limits(mut self) -> Self {
        self.rate_limits = None;
        self
    }

    /// Uses these rate limits instead of the documented ones.
    #[must_use]
    pub fn with_rate_limits(mut self, limits: RateLimitConfig) -> Self {
        self.rate_limits = Some(limits);
        self
    }

    /// Injects faults into `/api` requests (see [`FaultConfig`]).
    #[must_use]
    pub fn with_faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    /// First webhook retry delay; each further retry doubles it (default 1 s).
    #[must_use]
    pub fn with_webhook_retry_base(mut self, base: Duration) -> Self {
        self.webhook_retry_base = base;
        self
    }

    /// Timeout of one webhook delivery attempt (default 10 s).
    #[must_use]
    pub fn with_webhook_timeout(mut self, timeout: Duration) -> Self {
        self.webhook_timeout = timeout;
        self
    }

    /// How a creation whose `merchant_reference` is taken is answered (default
    /// [`DuplicateAnswer::Ok200`]). `/_mock/reset` and
    /// [`MockServer::reset`](crate::MockServer::reset) come back to this one.
    #[must_use]
    pub fn with_duplicates(mut self, answer: DuplicateAnswer) -> Self {
        self.duplicates = answer;
        self
    }

    /// Switches a method off for the moment: creating a payment with it answers 400
    /// `METHOD_NOT_AVAILABLE` (it stays in the methods list; validate answers
    /// `valid: false` with that code). `method` is a method code (`spei`, `card`, ...).
    #[must_use]
    pub fn with_unavailable_method(mut self, method: impl Into<String>) -> Self {
        self.unavailable_methods.push(method.into());
        self
    }

    /// Leaves a method out of the merchant's configuration: creating a payment with it
    /// answers 400 `METHOD_NOT_CONFIGURED`, the methods list leaves it out and validate
    /// answers `valid: false` with that code.
    #[must_use]
    pub fn with_unconfigured_method(mut self, method: impl Into<String>) -> Self {
        self.unconfigured_methods.push(method.into());
        self
    }

    /// Per-transaction limit, in minor units: a creation with a larger `amount` answers
    /// 400 `LIMIT_EXCEEDED` (default: no limit).
    #[must_use]
    pub fn with_transaction_limit(mut self, max_amount: i64) -> Self {
        self.transaction_limit = Some(max_amount);
        self
    }
}

impl fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<_> = self
            .api_keys
            .iter()
            .map(|(_, scopes)| ("[REDACTED]", scopes))
            .collect();
        let merchants: Vec<_> = self
            .hmac_merchants
            .iter()
            .map(|(id, _)| (id, "[REDACTED]"))
            .collect();
        f.debug_struct("MockConfig")
            .field("addr", &self.addr)
            .field("api_keys", &keys)
            .field("hmac_merchants", &merchants)
            .field("rate_limits", &self.rate_limits)
            .field("faults", &self.faults)
            .field("webhook_retry_base", &self.webhook_retry_base)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("duplicates", &self.duplicates)
            .field("unavailable_methods", &self.unavailable_methods)
            .field("unconfigured_methods", &self.unconfigured_methods)
            .field("transaction_limit", &self.transaction_limit)
            .finish()
    }
}

/// Rate limits, per API key (or per v2 merchant), in fixed windows that start with
/// the first request of the window.
///
/// Payment creation (`POST /api/v1/payments`, `POST /api/v2/payments`) has its own
/// bucket with two windows (sustained and burst); every other `/api` request counts
/// against the standard bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Payment creations per [`Self::creation_window`] (documented: 5000).
    pub creation_limit: u32,
    /// Window of [`Self::creation_limit`] (documented: 60 s).
    pub creation_window: Duration,
    /// Payment creations per [`Self::creation_burst_window`] (documented: 500).
    pub creation_burst_limit: u32,
    /// Window of [`Self::creation_burst_limit`] (documented: 10 s).
    pub creation_burst_window: Duration,
    /// Other requests per [`Self::standard_window`] (documented: 100).
    pub standard_limit: u32,
    /// Window of [`Self::standard_limit`] (documented: 60 s).
    pub standard_window: Duration,
}

impl Default for RateLimitConfig {
    /// The documented limits: 5000/min with a burst of 500 per 10 s for payment
    /// creation, 100/min for everything else.
    fn default() -> Self {
        Self {
            creation_limit: 5000,
            creation_window: Duration::from_secs(60),
            creation_burst_limit: 500,
            creation_burst_window: Duration::from_secs(10),
            standard_limit: 100,
            standard_window: Duration::from_secs(60),
        }
    }
}

/// How a payment creation whose `merchant_reference` is still taken is answered (the
/// payment with that reference is `pending`, `processing`, `completed` or refunded; a
/// `failed`, `expired` or `cancelled` one frees its reference). The request is never
/// processed again: no second payment, no money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DuplicateAnswer {
    /// HTTP 200 with the existing payment, plus `error_code: MERCHANT_REFERENCE_DUPLICATE`
    /// and `message` (the documented answer). Name: `ok`.
    #[default]
    Ok200,
    /// 400 `PAYMENT_ALREADY_EXISTS` ("returns existing"), the existing payment in the error
    /// body's `data` object. Name: `payment_already_exists`.
    AlreadyExists400,
    /// 400 `DUPLICATE_REFERENCE`, no `data`. Name: `duplicate_reference`.
    DuplicateReference400,
}

impl DuplicateAnswer {
    /// Every answer, in declaration order.
    pub const ALL: [Self; 3] = [
        Self::Ok200,
        Self::AlreadyExists400,
        Self::DuplicateReference400,
    ];

    /// The name used by `PUT /_mock/duplicates` and `--duplicates`: `ok`,
    /// `payment_already_exists` or `duplicate_reference`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok200 => "ok",
            Self::AlreadyExists400 => "payment_already_exists",
            Self::DuplicateReference400 => "duplicate_reference",
        }
    }
}

impl fmt::Display for DuplicateAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DuplicateAnswer {
    type Err = String;

    /// A name of [`Self::as_str`], case-insensitive; also the codes themselves
    /// (`MERCHANT_REFERENCE_DUPLICATE`, `PAYMENT_ALREADY_EXISTS`, `DUPLICATE_REFERENCE`)
    /// and `200`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ok" | "ok_200" | "200" | "merchant_reference_duplicate" => Ok(Self::Ok200),
            "payment_already_exists" | "already_exists" => Ok(Self::AlreadyExists400),
            "duplicate_reference" => Ok(Self::DuplicateReference400),
            _ => Err(
                "duplicates answer must be one of ok, payment_already_exists, duplicate_reference"
                    .to_owned(),
            ),
        }
    }
}

/// One scheduled fault for one `/api` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and the error body (429 adds `Retry-After: 1`)
    /// without processing the request.
    Status(u16),
    /// Answer with this error code, with the HTTP status the error catalogue gives it
    /// (`luxcore_api::errors`; 500 for a code without an error status there), a business
    /// error body and, for a 429, `Retry-After: 1`, without processing the request.
    Error(ErrorCode),
    /// Process the request fully (e.g. create the payment), then answer this error code
    /// as [`Fault::Error`] does instead of the real answer: a `TIMEOUT` or
    /// `PROVIDER_ERROR` after the work was done.
    ErrorAfterCommit(ErrorCode),
    /// Process the request fully, then close the connection before sending any
    /// response byte.
    DropAfterCommit,
    /// No fault.
    Pass,
}

/// The catalogue code named `name` (case-insensitive), if the catalogue answers it with an
/// error status (4xx/5xx).
fn error_code(name: &str) -> Option<ErrorCode> {
    let upper = name.trim().to_ascii_uppercase();
    let info = luxcore_api::errors::find(&upper)?;
    (400..=599)
        .contains(&info.status)
        .then(|| ErrorCode::from(info.code))
}

impl FromStr for Fault {
    type Err = String;

    /// The text form of a fault, as `--fault-schedule` and `PUT /_mock/faults` take it: an
    /// HTTP status (`503`), `drop` (or `drop_after_commit`), `pass` (or `ok`, `none`), an
    /// error code of the catalogue (`LOCK_TIMEOUT`, case-insensitive) for [`Fault::Error`],
    /// or `after_commit:CODE` for [`Fault::ErrorAfterCommit`]. A code must be in the
    /// catalogue with an error status (`MERCHANT_REFERENCE_DUPLICATE`, a 200, is refused).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "drop" | "drop_after_commit" => return Ok(Self::DropAfterCommit),
            "pass" | "ok" | "none" => return Ok(Self::Pass),
            _ => {}
        }
        if let Ok(status) = text.parse::<u16>() {
            return Ok(Self::Status(status));
        }
        if let Some(code) = lower.strip_prefix("after_commit:") {
            return error_code(code)
                .map(Self::ErrorAfterCommit)
                .ok_or_else(|| unknown_code(code));
        }
        error_code(text).map(Self::Error).ok_or_else(|| {
            format!(
                "a fault is an HTTP status, drop, pass, an error code of the catalogue or after_commit:CODE (got {:?})",
                truncate(text)
            )
        })
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}

fn unknown_code(code: &str) -> String {
    format!(
        "{:?} is not an error code of the catalogue with an error status",
        truncate(code.trim())
    )
}

/// Fault injection for `/api` requests (never `/_mock`).
///
/// For each `/api` request the mock first waits [`Self::latency`], then takes the
/// next entry of [`Self::schedule`]; once the schedule is used up it draws from a
/// seeded RNG: with [`Self::probability`] one of [`Self::statuses`], otherwise with
/// [`Self::drop_after_commit`] a dropped connection. The same seed and the same
/// sequence of requests give the same faults.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Seed of the RNG (`StdRng::seed_from_u64`).
    pub seed: u64,
    /// Probability (0.0–1.0) that a request gets an error status.
    pub probability: f64,
    /// Statuses to pick from (uniformly) when a status fault fires; default 429, 500
    /// and 503.
    pub statuses: Vec<u16>,
    /// Probability (0.0–1.0) that a request is processed and its connection then
    /// closed without any response.
    pub drop_after_commit: f64,
    /// Delay added to every `/api` request.
    pub latency: Duration,
    /// Faults consumed in order, one per `/api` request, before the probabilities.
    pub schedule: Vec<Fault>,
}

impl Default for FaultConfig {
    /// No faults (probabilities 0, empty schedule, no latency).
    fn default() -> Self {
        Self {
            seed: 0,
            probability: 0.0,
            statuses: vec![429, 500, 503],
            drop_after_commit: 0.0,
            latency: Duration::ZERO,
            schedule: Vec::new(),
        }
    }
}

impl FaultConfig {
    /// Only the given schedule (no random faults).
    pub fn scheduled(schedule: impl IntoIterator<Item = Fault>) -> Self {
        Self {
            schedule: schedule.into_iter().collect(),
            ..Self::default()
        }
    }
}
