//! How the SDK reaches Redis (`redis` feature): one server or a cluster (`redis-cluster`),
//! plain or TLS (`redis-tls`). Used by the webhook store (`webhooks::RedisStore`) and the
//! shared rate limiter (`rate_limit::RedisRateLimiter`), so both connect, time out, report
//! errors and check cluster hash slots the same way.
//!
//! [`RedisEndpoint`] is what the merchant configures (URLs, private CA, client
//! certificate); [`RedisClient`] is the validated form (URLs parsed, PEMs read, features
//! checked: no I/O yet); [`RedisConnection`] is a live, cheap-to-clone, self-reconnecting
//! connection that runs the Lua scripts.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, RedisError, Script};
use secrecy::{ExposeSecret, SecretSlice, SecretString};

/// Where and how to reach Redis: one server (`redis://` or `rediss://`) or the seed nodes
/// of a Redis Cluster, and for TLS a private CA and a client certificate.
///
/// URLs may hold a password (`redis://:password@host:6379/0`) and the client key is a
/// secret: neither is ever shown by `Debug` nor in an error.
///
/// ```
/// # #[cfg(feature = "redis")] {
/// use luxcore_ext::webhooks::RedisEndpoint;
///
/// // One server; `From<&str>` / `From<String>` do the same.
/// let plain = RedisEndpoint::new("redis://127.0.0.1:6379");
/// // A managed Redis with in-transit encryption (`redis-tls` feature), its private CA
/// // and a client certificate.
/// let tls = RedisEndpoint::new("rediss://redis.internal:6380")
///     .ca_pem(b"-----BEGIN CERTIFICATE-----\n...".to_vec())
///     .client_cert_pem(b"...cert...".to_vec(), b"...key...".to_vec());
/// assert!(!format!("{tls:?}").contains("key"));
/// # let _ = plain; }
/// ```
#[derive(Clone)]
pub struct RedisEndpoint {
    nodes: Vec<SecretString>,
    cluster: bool,
    ca_pem: Option<Arc<[u8]>>,
    client_cert: Option<ClientCert>,
}

/// A client certificate chain and its private key (PEM); read with `redis-tls` only.
#[derive(Clone)]
#[cfg_attr(not(feature = "redis-tls"), allow(dead_code))]
struct ClientCert {
    cert: Arc<[u8]>,
    key: Arc<SecretSlice<u8>>,
}

impl RedisEndpoint {
    /// One Redis server: `redis://[[user]:password@]host:port[/db]`, or `rediss://...` for
    /// TLS (`redis-tls` feature). Nothing is checked or connected yet.
    pub fn new(url: impl Into<String>) -> Self {
        RedisEndpoint {
            nodes: vec![SecretString::from(url.into())],
            cluster: false,
            ca_pem: None,
            client_cert: None,
        }
    }

    /// A Redis Cluster (`redis-cluster` feature), found through one or more of its nodes
    /// (`redis://host:port` or, for TLS, `rediss://host:port`; all of one scheme and one
    /// password). The other nodes are discovered (`CLUSTER SLOTS`) and followed through
    /// failovers and resharding (`MOVED` / `ASK`).
    ///
    /// The keys of each script the SDK runs share one hash slot (`{...}` hash tags), so
    /// every operation stays atomic on a cluster.
    #[cfg(feature = "redis-cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis-cluster")))]
    pub fn cluster<I, S>(nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RedisEndpoint {
            nodes: nodes
                .into_iter()
                .map(|n| SecretString::from(n.into()))
                .collect(),
            cluster: true,
            ca_pem: None,
            client_cert: None,
        }
    }

    /// Trust this CA (PEM, one or more certificates) for `rediss://` instead of the
    /// platform's root certificates: for a managed Redis with a private CA. Needs the
    /// `redis-tls` feature and a `rediss://` URL; a bad PEM is an error when the store or
    /// limiter is built.
    #[must_use]
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into().into());
        self
    }

    /// Present this client certificate (PEM chain) and private key (PEM, PKCS#8, PKCS#1
    /// or SEC1) to a server that requires one (`tls-auth-clients yes`). Needs the
    /// `redis-tls` feature and a `rediss://` URL. The key is kept as a secret.
    #[must_use]
    pub fn client_cert_pem(mut self, cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        let key = SecretSlice::from(key.into());
        self.client_cert = Some(ClientCert {
            cert: cert.into().into(),
            key: Arc::new(key),
        });
        self
    }

    /// `true` for a cluster endpoint.
    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// `true` when the URLs use `rediss://` (TLS).
    pub fn is_tls(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| scheme(n.expose_secret()).is_some_and(|s| s == "rediss"))
    }

    /// Validates the endpoint and builds its client: parses the URLs, reads the PEMs,
    /// checks that the needed features are compiled in. No connection is made.
    pub(crate) fn client(&self) -> Result<RedisClient, RedisConnectError> {
        let config =
            |message: String| RedisConnectError::new(RedisConnectErrorKind::Config, message);
        if self.nodes.is_empty() {
            return Err(config("no Redis node given".into()));
        }
        let tls = self.is_tls();
        for node in &self.nodes {
            // The URL itself is never echoed: it may carry a password.
            match scheme(node.expose_secret()).as_deref() {
                Some("redis") if tls => {
                    return Err(config(
                        "the cluster nodes mix redis:// and rediss:// URLs".into(),
                    ));
                }
                Some("redis" | "rediss") => {}
                Some("unix" | "redis+unix") if !self.cluster => {}
                _ => {
                    return Err(config(
                        "the Redis URL must start with redis:// or rediss:// (TLS)".into(),
                    ));
                }
            }
        }
        if !tls && (self.ca_pem.is_some() || self.client_cert.is_some()) {
            return Err(config(
                "a CA or client certificate is set, but the Redis URL is redis:// (plaintext): \
                 use rediss://"
                    .into(),
            ));
        }
        if tls && !cfg!(feature = "redis-tls") {
            return Err(config(
                "rediss:// (TLS) needs luxcore-ext's `redis-tls` feature".into(),
            ));
        }
        let urls = || self.nodes.iter().map(|n| n.expose_secret().to_owned());
        let invalid = |e: RedisError| {
            let mut error = RedisConnectError::from_redis(RedisConnectErrorKind::Config, e);
            error.message = format!("invalid Redis configuration: {}", error.message);
            error
        };
        if self.cluster {
            #[cfg(feature = "redis-cluster")]
            {
                #[allow(unused_mut)]
                let mut builder = redis::cluster::ClusterClient::builder(urls());
                #[cfg(feature = "redis-tls")]
                if let Some(certs) = self.certificates()? {
                    builder = builder.certs(certs);
                }
                return builder
                    .build()
                    .map(|c| RedisClient {
                        kind: ClientKind::Cluster(c),
                        tls,
                    })
                    .map_err(invalid);
            }
            #[cfg(not(feature = "redis-cluster"))]
            return Err(config(
                "a Redis Cluster needs luxcore-ext's `redis-cluster` feature".into(),
            ));
        }
        let url = urls().next().unwrap_or_default();
        #[cfg(feature = "redis-tls")]
        if let Some(certs) = self.certificates()? {
            return redis::Client::build_with_tls(url, certs)
                .map(|c| RedisClient {
                    kind: ClientKind::Single(c),
                    tls,
                })
                .map_err(invalid);
        }
        redis::Client::open(url)
            .map(|c| RedisClient {
                kind: ClientKind::Single(c),
                tls,
            })
            .map_err(invalid)
    }

    /// The private CA and client certificate in the `redis` crate's form, after checking
    /// that the PEMs hold what they should (so a bad PEM fails here, clearly).
    #[cfg(feature = "redis-tls")]
    fn certificates(&self) -> Result<Option<redis::TlsCertificates>, RedisConnectError> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};

        if self.ca_pem.is_none() && self.client_cert.is_none() {
            return Ok(None);
        }
        let bad_pem = |what: &str| {
            RedisConnectError::new(
                RedisConnectErrorKind::Config,
                format!("the {what} is not valid PEM"),
            )
        };
        let certs_in = |pem: &[u8], what: &str| {
            let certs = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| bad_pem(what))?;
            if certs.is_empty() {
                return Err(bad_pem(what));
            }
            Ok(())
        };
        if let Some(ca) = &self.ca_pem {
            certs_in(ca, "CA certificate")?;
        }
        let client_tls = match &self.client_cert {
            Some(ClientCert { cert, key }) => {
                certs_in(cert, "client certificate")?;
                // The parser's error is not kept: it could quote the key's bytes.
                PrivateKeyDer::from_pem_slice(key.expose_secret())
                    .map_err(|_| bad_pem("client key"))?;
                Some(redis::ClientTlsConfig {
                    client_cert: cert.to_vec(),
                    client_key: key.expose_secret().to_vec(),
                })
            }
            None => None,
        };
        Ok(Some(redis::TlsCertificates {
            client_tls,
            root_cert: self.ca_pem.as_deref().map(<[u8]>::to_vec),
        }))
    }
}

impl From<&str> for RedisEndpoint {
    fn from(url: &str) -> Self {
        RedisEndpoint::new(url)
    }
}

impl From<String> for RedisEndpoint {
    fn from(url: String) -> Self {
        RedisEndpoint::new(url)
    }
}

impl From<&String> for RedisEndpoint {
    fn from(url: &String) -> Self {
        RedisEndpoint::new(url.as_str())
    }
}

impl fmt::Debug for RedisEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // URLs may hold a password; only their count and the TLS mode are shown.
        f.debug_struct("RedisEndpoint")
            .field("nodes", &self.nodes.len())
            .field("cluster", &self.cluster)
            .field("tls", &self.is_tls())
            .field("private_ca", &self.ca_pem.is_some())
            .field("client_cert", &self.client_cert.is_some())
            .finish()
    }
}

/// The scheme of a URL, lower-cased (`None` when there is none).
fn scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once("://")?;
    Some(scheme.to_ascii_lowercase())
}

/// What went wrong reaching Redis; see [`RedisConnectError::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisConnectErrorKind {
    /// The configuration is unusable: a malformed URL, a bad PEM, a mix of schemes,
    /// or a feature that is not compiled in (`redis-tls`, `redis-cluster`).
    Config,
    /// The TLS handshake failed: a certificate from an unknown CA, a name that does not
    /// match, or a client certificate the server requires and did not get (or refused).
    Tls,
    /// A plaintext (`redis://`) connection was closed by the server as soon as it spoke:
    /// what a TLS-only port does. Use `rediss://`.
    NotTls,
    /// Nothing answered in time, the connection was refused, or it broke.
    Unreachable,
    /// The server refused the credentials (`AUTH`).
    Auth,
    /// Any other failure (a server or cluster error while connecting).
    Other,
}

/// Why Redis could not be reached: kept as the `source()` of the webhook store's
/// [`StoreError`](crate::webhooks::StoreError) and of the shared limiter's
/// [`LimiterError`](crate::error::LimiterError). The text never holds a URL, password or
/// key; the `redis` crate's own error, where there is one, is its `source()`.
#[derive(Debug)]
pub struct RedisConnectError {
    kind: RedisConnectErrorKind,
    message: String,
    source: Option<RedisError>,
}

impl RedisConnectError {
    fn new(kind: RedisConnectErrorKind, message: String) -> Self {
        RedisConnectError {
            kind,
            message,
            source: None,
        }
    }

    fn from_redis(kind: RedisConnectErrorKind, error: RedisError) -> Self {
        RedisConnectError {
            kind,
            message: describe(&error),
            source: Some(error),
        }
    }

    /// A connection failure, classified. `tls`: whether the connection used TLS.
    fn connecting(error: RedisError, tls: bool) -> Self {
        let text = error.to_string();
        let mut kind = if error.is_timeout() {
            RedisConnectErrorKind::Unreachable
        } else if matches!(
            error.kind(),
            redis::ErrorKind::AuthenticationFailed
                | redis::ErrorKind::Server(redis::ServerErrorKind::NoPerm)
        ) || text.contains("WRONGPASS")
            || text.contains("NOAUTH")
        {
            RedisConnectErrorKind::Auth
        } else if error.kind() == redis::ErrorKind::InvalidClientConfig {
            RedisConnectErrorKind::Config
        } else if tls && is_tls_failure(&text) {
            RedisConnectErrorKind::Tls
        } else if error.is_connection_refusal()
            || error.is_io_error()
            || error.is_connection_dropped()
        {
            RedisConnectErrorKind::Unreachable
        } else {
            RedisConnectErrorKind::Other
        };
        // A TLS port answers a plaintext client by closing the connection.
        if !tls && kind == RedisConnectErrorKind::Unreachable && closed_by_peer(&error) {
            kind = RedisConnectErrorKind::NotTls;
        }
        let mut this = RedisConnectError::from_redis(kind, error);
        match kind {
            RedisConnectErrorKind::NotTls => {
                this.message = format!(
                    "the server closed the plaintext connection at once (a TLS-only port? \
                     use rediss://): {}",
                    this.message
                );
            }
            RedisConnectErrorKind::Tls => {
                this.message = format!("TLS handshake failed: {}", this.message);
            }
            _ => {}
        }
        this
    }

    fn timed_out() -> Self {
        RedisConnectError::new(
            RedisConnectErrorKind::Unreachable,
            "connecting timed out".into(),
        )
    }

    /// What went wrong.
    pub fn kind(&self) -> RedisConnectErrorKind {
        self.kind
    }
}

impl fmt::Display for RedisConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RedisConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Whether an error's text is a TLS handshake failure (rustls' errors reach us as I/O
/// errors with their text only).
fn is_tls_failure(text: &str) -> bool {
    [
        "certificate",
        "UnknownIssuer",
        "HandshakeFailure",
        "CertificateRequired",
        "peer sent",
        "received fatal alert",
        "NotValidForName",
        "InvalidCertificate",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// The peer closed or reset the connection (EOF, reset, broken pipe).
fn closed_by_peer(error: &RedisError) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    if error.is_connection_dropped() && !error.is_connection_refusal() {
        return true;
    }
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                BrokenPipe | ConnectionAborted | ConnectionReset | UnexpectedEof
            );
        }
        source = inner.source();
    }
    false
}

/// A Redis error as text without anything from the connection URL.
pub(crate) fn describe(error: &RedisError) -> String {
    match error.detail() {
        Some(detail) => format!("{} ({detail})", error.category()),
        // An I/O error's text is the socket's or TLS library's (no URL in it).
        None if error.is_io_error() => format!("{} ({error})", error.category()),
        None => error.category().to_owned(),
    }
}

/// A validated endpoint, ready to connect.
#[derive(Clone)]
pub(crate) struct RedisClient {
    kind: ClientKind,
    tls: bool,
}

#[derive(Clone)]
// Built once per store or limiter: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
enum ClientKind {
    Single(redis::Client),
    #[cfg(feature = "redis-cluster")]
    Cluster(redis::cluster::ClusterClient),
}

/// Time limits of a connection: to connect, and for each answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) response: Duration,
}

impl RedisClient {
    /// Connects (at most `timeouts.connect`, twice that for a cluster's discovery).
    pub(crate) async fn connect(
        &self,
        timeouts: Timeouts,
    ) -> Result<RedisConnection, RedisConnectError> {
        let tls = self.tls;
        if tls {
            ensure_crypto_provider()?;
        }
        let fail = |e: RedisError| RedisConnectError::connecting(e, tls);
        let connecting = async {
            match &self.kind {
                ClientKind::Single(client) => {
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(timeouts.connect))
                        .set_response_timeout(Some(timeouts.response))
                        .set_number_of_retries(1)
                        .set_max_delay(Duration::from_millis(500));
                    ConnectionManager::new_with_config(client.clone(), config)
                        .await
                        .map(RedisConnection::Single)
                        .map_err(fail)
                }
                #[cfg(feature = "redis-cluster")]
                ClientKind::Cluster(client) => {
                    let config = redis::cluster::ClusterConfig::new()
                        .set_connection_timeout(timeouts.connect)
                        .set_response_timeout(timeouts.response);
                    client
                        .get_async_connection_with_config(config)
                        .await
                        .map(|c| RedisConnection::Cluster(Box::new(c)))
                        .map_err(fail)
                }
            }
        };
        tokio::time::timeout(timeouts.connect.saturating_mul(2), connecting)
            .await
            .map_err(|_| RedisConnectError::timed_out())?
    }
}

/// rustls needs a process-wide crypto provider for the `redis` crate's TLS: the one
/// already installed, else the build's (`base::tls::provider`: aws-lc-rs with `rustls`,
/// ring with `rustls-ring`), the same one PostgreSQL connections and the HTTP client use.
fn ensure_crypto_provider() -> Result<(), RedisConnectError> {
    #[cfg(feature = "redis-tls")]
    {
        use rustls::crypto::CryptoProvider;
        if CryptoProvider::get_default().is_none()
            && let Some(provider) = super::tls::provider()
        {
            // Err only when another thread installed one first: that one is used.
            let _ = std::sync::Arc::unwrap_or_clone(provider).install_default();
        }
        if CryptoProvider::get_default().is_some() {
            return Ok(());
        }
    }
    Err(RedisConnectError::new(
        RedisConnectErrorKind::Config,
        "TLS to Redis needs a rustls crypto provider: enable luxcore-ext's `rustls` or \
         `rustls-ring` feature, or install one (rustls::crypto::CryptoProvider::install_default)"
            .into(),
    ))
}

/// A live connection: one server (a self-reconnecting multiplexed connection) or a
/// cluster (one per node, following `MOVED` / `ASK`). Cheap to clone.
#[derive(Clone)]
pub(crate) enum RedisConnection {
    Single(ConnectionManager),
    #[cfg(feature = "redis-cluster")]
    Cluster(Box<redis::cluster_async::ClusterConnection>),
}

impl RedisConnection {
    /// Runs `script` with `keys` and `args` (`EVALSHA`, loading the script on `NOSCRIPT`).
    /// On a cluster, keys in different hash slots are refused before anything is sent.
    pub(crate) async fn invoke<T, A>(
        &self,
        script: &Script,
        keys: &[&str],
        args: &[A],
    ) -> Result<T, InvokeError>
    where
        T: FromRedisValue,
        A: redis::ToRedisArgs,
    {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        match self {
            RedisConnection::Single(conn) => {
                let mut conn = conn.clone();
                invocation
                    .invoke_async(&mut conn)
                    .await
                    .map_err(InvokeError::Redis)
            }
            #[cfg(feature = "redis-cluster")]
            RedisConnection::Cluster(conn) => {
                check_one_slot(keys)?;
                let mut conn = (**conn).clone();
                invocation
                    .invoke_async(&mut conn)
                    .await
                    .map_err(InvokeError::Redis)
            }
        }
    }
}

/// A script call that failed.
#[derive(Debug)]
pub(crate) enum InvokeError {
    /// Redis (or the connection) failed.
    Redis(RedisError),
    /// The keys of one call are in different cluster hash slots: nothing was sent.
    #[cfg_attr(not(feature = "redis-cluster"), allow(dead_code))]
    CrossSlot(String),
}

/// The hash slot of each key must be the same (Redis Cluster runs a script on one node).
#[cfg(feature = "redis-cluster")]
pub(crate) fn check_one_slot(keys: &[&str]) -> Result<(), InvokeError> {
    use redis::cluster_routing::Slot;
    let mut slots = keys.iter().map(Slot::for_key);
    if let Some(first) = slots.next()
        && slots.any(|slot| slot != first)
    {
        return Err(InvokeError::CrossSlot(format!(
            "the {} keys of one script are in different cluster hash slots (a key prefix \
             with `{{` or `}}` changes the hash tag)",
            keys.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_errors_never_show_secrets() {
        let endpoint = RedisEndpoint::new("rediss://:hunter2@127.0.0.1:1")
            .client_cert_pem(b"cert".to_vec(), b"PRIVATEKEYBYTES".to_vec());
        let debug = format!("{endpoint:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("PRIVATE"),
            "{debug}"
        );
        let bad = RedisEndpoint::new("http://:hunter2@127.0.0.1:1");
        let error = bad.client().err().expect("http:// is refused");
        assert_eq!(error.kind(), RedisConnectErrorKind::Config);
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
    }

    #[test]
    fn tls_options_need_a_rediss_url() {
        let error = RedisEndpoint::new("redis://127.0.0.1:1")
            .ca_pem(b"x".to_vec())
            .client()
            .err()
            .expect("a CA with redis:// is refused");
        assert_eq!(error.kind(), RedisConnectErrorKind::Config);
        assert!(error.to_string().contains("rediss://"), "{error}");
    }

    #[cfg(not(feature = "redis-tls"))]
    #[test]
    fn rediss_without_the_feature_is_a_config_error() {
        let error = RedisEndpoint::new("rediss://127.0.0.1:1")
            .client()
            .err()
            .unwrap();
        assert_eq!(error.kind(), RedisConnectErrorKind::Config);
        assert!(error.to_string().contains("redis-tls"), "{error}");
    }

    #[cfg(feature = "redis-tls")]
    #[test]
    fn bad_pem_is_a_config_error_naming_the_part() {
        let error = RedisEndpoint::new("rediss://127.0.0.1:1")
            .ca_pem(b"not a pem".to_vec())
            .client()
            .err()
            .unwrap();
        assert_eq!(error.kind(), RedisConnectErrorKind::Config);
        assert!(error.to_string().contains("CA certificate"), "{error}");
        let error = RedisEndpoint::new("rediss://127.0.0.1:1")
            .client_cert_pem(b"nope".to_vec(), b"SECRETKEYTEXT".to_vec())
            .client()
            .err()
            .unwrap();
        assert!(error.to_string().contains("client certificate"), "{error}");
        assert!(!format!("{error:?}").contains("SECRETKEYTEXT"));
    }

    #[cfg(feature = "redis-cluster")]
    #[test]
    fn cross_slot_keys_are_refused_before_sending() {
        assert!(check_one_slot(&["a{x}:1", "b{x}:2", "{x}"]).is_ok());
        assert!(matches!(
            check_one_slot(&["a{x}:1", "a{y}:1"]),
            Err(InvokeError::CrossSlot(_))
        ));
        let error = RedisEndpoint::cluster(["redis://127.0.0.1:1", "rediss://127.0.0.1:2"])
            .client()
            .err()
            .unwrap();
        assert_eq!(error.kind(), RedisConnectErrorKind::Config);
    }
}
