//! TLS of [`PostgresStore`](super::PostgresStore)'s connections: libpq's `sslmode` read
//! from the connection string, and [`PostgresTls`] for a private CA and a client certificate.
//!
//! tokio-postgres knows `disable`, `prefer` and `require` only, and verifies nothing itself:
//! the mode is taken out of the string here, handed over as one of those three, and the
//! verification it asks for is built into the rustls configuration (`base::tls`).

use std::sync::Arc;

use secrecy::SecretBox;
use tokio_postgres::config::SslMode as PgSslMode;

use super::store::StoreError;
use crate::base::tls::{self, TlsSettings, Verify};

/// TLS settings of [`PostgresStore::connect_with`](super::PostgresStore::connect_with)
/// (`postgres` feature): which CA to trust and an optional client certificate. How TLS is
/// used is the connection string's `sslmode`, as with libpq:
///
/// | `sslmode` | TLS | the server's certificate |
/// | --- | --- | --- |
/// | `disable` | never | — |
/// | `prefer` (the default) | when the server offers it, else plaintext | as `require` |
/// | `require` | always | **not verified** — unless a [root CA](Self::root_ca_pem) is set, then as `verify-ca` |
/// | `verify-ca` | always | chain up to a trusted CA |
/// | `verify-full` | always | chain up to a trusted CA, and the host name |
///
/// **Use `verify-full` in production.** `require` and `prefer` encrypt, but without a root
/// CA they accept any certificate, so they do not stop an attacker on the network path from
/// posing as the database (libpq behaves the same way; it is kept for compatibility).
/// `prefer` stays the default, as in libpq, because it also connects to a server without
/// TLS (a local database); it never falls back to plaintext once the server agreed to TLS.
/// `allow` is not supported (tokio-postgres cannot try plaintext first).
///
/// The trusted CAs are the platform's root certificates (read with `rustls-native-certs`), or
/// only the [private CA](Self::root_ca_pem) when one is set (libpq's `sslrootcert`). Managed
/// databases usually need it: RDS and Cloud SQL sign with CAs of their own. libpq's
/// `sslrootcert`, `sslcert` and `sslkey` URL parameters are not read (files are the
/// caller's to load): an error says to use this type.
///
/// TLS is rustls with the crypto provider installed as rustls' process-wide default, else
/// aws-lc-rs (`rustls` feature) or ring (`rustls-ring` feature). Built with neither and with
/// no provider installed, `prefer` connects in plaintext and the modes that need TLS fail.
///
/// ```no_run
/// # fn demo(ca_pem: Vec<u8>) -> Result<(), luxcore_ext::webhooks::StoreError> {
/// use luxcore_ext::webhooks::{PostgresStore, PostgresTls};
///
/// let store = PostgresStore::connect_with(
///     "postgres://app@db.internal:5432/app?sslmode=verify-full",
///     8,
///     PostgresTls::new().root_ca_pem(ca_pem),
/// )?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct PostgresTls {
    settings: TlsSettings,
}

impl PostgresTls {
    /// The platform's root certificates, no client certificate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the CA certificates in `pem` (one or more `CERTIFICATE` blocks) instead of the
    /// platform's roots, and makes `require` and `prefer` verify the chain (as libpq does
    /// when it has a root certificate). Checked by `connect_with`.
    #[must_use]
    pub fn root_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.settings.root_ca_pem = Some(pem.into());
        self
    }

    /// Presents this client certificate (`cert_chain_pem`: the certificate, then any
    /// intermediates) with its private key (`key_pem`: PKCS#8, PKCS#1 or SEC1), for servers
    /// that authenticate clients by certificate (`pg_hba.conf`'s `cert` method or
    /// `clientcert=verify-full`). The key is kept in memory that is zeroed when dropped and
    /// never shown by `Debug` or in errors. Checked by `connect_with`.
    #[must_use]
    pub fn client_certificate_pem(
        mut self,
        cert_chain_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        let key = Arc::new(SecretBox::new(Box::new(key_pem.into())));
        self.settings.client_identity = Some((cert_chain_pem.into(), key));
        self
    }
}

/// libpq's `sslmode` values that tokio-postgres can honour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, StoreError> {
        Ok(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            "allow" => {
                return Err(config_error(
                    "sslmode=allow is not supported: use prefer (TLS when the server offers it)",
                ));
            }
            _ => {
                // The value is shown (it is not a secret), shortened.
                let shown: String = value.chars().take(24).collect();
                return Err(config_error(&format!(
                    "unknown sslmode {shown:?}: use disable, prefer, require, verify-ca or \
                     verify-full"
                )));
            }
        })
    }

    /// What tokio-postgres is told: it only decides whether TLS is tried and required.
    pub(super) fn for_tokio_postgres(self) -> PgSslMode {
        match self {
            Self::Disable => PgSslMode::Disable,
            Self::Prefer => PgSslMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => PgSslMode::Require,
        }
    }
}

fn config_error(message: &str) -> StoreError {
    StoreError::Unexpected(format!("postgres: {message}").into())
}

/// The parameters of a connection string that are read here, not by tokio-postgres.
const UNSUPPORTED: [&str; 4] = ["sslrootcert", "sslcert", "sslkey", "sslpassword"];

/// `conn` without its `sslmode` parameter, and the mode (libpq's default `prefer` when
/// absent; the last one wins, as in libpq). Both forms: `postgres[ql]://...?sslmode=...` and
/// `key=value` pairs. A string that does not parse is returned as it is, for tokio-postgres
/// to reject.
pub(super) fn take_sslmode(conn: &str) -> Result<(String, SslMode), StoreError> {
    let mut mode = None;
    let mut check = |key: &str, value: &str| -> Result<bool, StoreError> {
        if key == "sslmode" {
            mode = Some(SslMode::parse(value)?);
            return Ok(true);
        }
        if UNSUPPORTED.contains(&key) {
            return Err(config_error(&format!(
                "the connection string's {key} is not read: load the PEM yourself and pass \
                 it with PostgresTls (PostgresStore::connect_with)"
            )));
        }
        Ok(false)
    };
    let rest = if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        match conn.split_once('?') {
            None => conn.to_owned(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&') {
                    let (key, value) = url::form_urlencoded::parse(pair.as_bytes())
                        .next()
                        .unwrap_or_default();
                    if !check(&key, &value)? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let Some(pairs) = key_value_pairs(conn) else {
            return Ok((conn.to_owned(), SslMode::Prefer));
        };
        let mut rest = String::with_capacity(conn.len());
        let mut from = 0;
        for (key, value, span) in pairs {
            if check(&key, &value)? {
                rest.push_str(&conn[from..span.start]);
                from = span.end;
            }
        }
        rest.push_str(&conn[from..]);
        rest
    };
    Ok((rest, mode.unwrap_or(SslMode::Prefer)))
}

/// The `key = value` pairs of a libpq key/value string with their byte ranges; values may
/// be single-quoted, `\` escapes the next character. `None` when it does not parse.
fn key_value_pairs(conn: &str) -> Option<Vec<(String, String, std::ops::Range<usize>)>> {
    let mut pairs = Vec::new();
    let mut chars = conn.char_indices().peekable();
    let skip_space = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_space(&mut chars);
        let Some(&(start, _)) = chars.peek() else {
            return Some(pairs);
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        skip_space(&mut chars);
        chars.next_if(|(_, c)| *c == '=')?;
        skip_space(&mut chars);
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        let mut value = String::new();
        let end = loop {
            match chars.next() {
                None if quoted => return None,
                None => break conn.len(),
                Some((i, '\'')) if quoted => break i + 1,
                Some((i, c)) if c.is_whitespace() && !quoted => break i,
                Some((_, '\\')) => value.push(chars.next()?.1),
                Some((_, c)) => value.push(c),
            }
        };
        pairs.push((key, value, start..end));
    }
}

/// The rustls configuration `mode` and `tls` ask for; `None` when no TLS is to be tried
/// (`disable`, or `prefer` in a build with no crypto provider).
pub(super) fn client_config(
    mode: SslMode,
    tls: &PostgresTls,
) -> Result<Option<rustls::ClientConfig>, StoreError> {
    let has_root_ca = tls.settings.root_ca_pem.is_some();
    let verify = match mode {
        SslMode::Disable => return Ok(None),
        SslMode::Prefer if tls::provider().is_none() => {
            tracing::debug!(
                "luxcore: no rustls crypto provider, sslmode=prefer connects in plaintext"
            );
            return Ok(None);
        }
        SslMode::Prefer | SslMode::Require if has_root_ca => Verify::Chain,
        SslMode::Prefer | SslMode::Require => Verify::Nothing,
        SslMode::VerifyCa => Verify::Chain,
        SslMode::VerifyFull => Verify::Full,
    };
    // ALPN `postgresql`, as libpq 17 sends (and `sslnegotiation=direct` needs).
    tls::client_config(&tls.settings, verify, &[b"postgresql"])
        .map(Some)
        .map_err(|e| config_error(&format!("TLS: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(conn: &str) -> (String, SslMode) {
        take_sslmode(conn).unwrap()
    }

    #[test]
    fn sslmode_is_taken_out_of_urls() {
        let base = "postgres://u:p%40ss@db:5432/app";
        assert_eq!(mode(base), (base.into(), SslMode::Prefer));
        assert_eq!(
            mode(&format!("{base}?sslmode=verify-full")),
            (base.into(), SslMode::VerifyFull)
        );
        assert_eq!(
            mode(&format!(
                "{base}?application_name=x&sslmode=verify-ca&connect_timeout=3"
            )),
            (
                format!("{base}?application_name=x&connect_timeout=3"),
                SslMode::VerifyCa
            )
        );
        // Percent-encoded, and the last one wins (libpq).
        assert_eq!(
            mode("postgresql://h/db?ssl%6Dode=disable&sslmode=verify%2Dfull"),
            ("postgresql://h/db".into(), SslMode::VerifyFull)
        );
        // What is left parses for tokio-postgres.
        let (rest, _) = mode(&format!("{base}?sslmode=require&application_name=x"));
        rest.parse::<tokio_postgres::Config>().unwrap();
    }

    #[test]
    fn sslmode_is_taken_out_of_key_value_strings() {
        assert_eq!(
            mode("host=db sslmode=verify-full user=app"),
            ("host=db  user=app".into(), SslMode::VerifyFull)
        );
        assert_eq!(
            mode("host=db password='a b\\' sslmode=disable' sslmode = 'require'"),
            (
                "host=db password='a b\\' sslmode=disable' ".into(),
                SslMode::Require
            )
        );
        assert_eq!(mode("host=db"), ("host=db".into(), SslMode::Prefer));
        // Malformed: left for tokio-postgres to reject.
        assert_eq!(mode("host"), ("host".into(), SslMode::Prefer));
        let (rest, _) = mode("host=db sslmode=verify-ca user=app");
        rest.parse::<tokio_postgres::Config>().unwrap();
    }

    #[test]
    fn unknown_or_unsupported_parameters_are_typed_errors_without_the_password() {
        for (conn, expected) in [
            (
                "postgres://u:hunter2@h/db?sslmode=verify",
                "unknown sslmode \"verify\"",
            ),
            (
                "postgres://u:hunter2@h/db?sslmode=allow",
                "sslmode=allow is not supported",
            ),
            (
                "user=u password=hunter2 sslmode=bogus",
                "unknown sslmode \"bogus\"",
            ),
            (
                "postgres://u:hunter2@h/db?sslrootcert=/ca.pem",
                "sslrootcert is not read",
            ),
        ] {
            let error = take_sslmode(conn).unwrap_err();
            assert!(matches!(error, StoreError::Unexpected(_)), "{error:?}");
            let text = format!("{error} {error:?}");
            assert!(text.contains(expected), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn tokio_postgres_is_told_whether_tls_is_required() {
        assert_eq!(SslMode::Disable.for_tokio_postgres(), PgSslMode::Disable);
        assert_eq!(SslMode::Prefer.for_tokio_postgres(), PgSslMode::Prefer);
        for mode in [SslMode::Require, SslMode::VerifyCa, SslMode::VerifyFull] {
            assert_eq!(mode.for_tokio_postgres(), PgSslMode::Require);
        }
    }

    #[test]
    #[cfg(any(feature = "rustls", feature = "rustls-ring"))]
    fn disable_builds_no_tls_and_bad_pem_is_reported_by_the_modes_that_use_it() {
        let bad = PostgresTls::new().root_ca_pem("nope");
        assert!(client_config(SslMode::Disable, &bad).unwrap().is_none());
        let error = client_config(SslMode::VerifyFull, &bad).unwrap_err();
        assert!(error.to_string().contains("root CA"), "{error}");
    }

    /// Built with neither `rustls` nor `rustls-ring` (and no provider installed): `prefer`
    /// is plaintext, the modes that need TLS are a typed error.
    #[test]
    #[cfg(not(any(feature = "rustls", feature = "rustls-ring")))]
    fn without_a_provider_prefer_is_plaintext_and_require_an_error() {
        let tls = PostgresTls::new();
        assert!(client_config(SslMode::Prefer, &tls).unwrap().is_none());
        for mode in [SslMode::Require, SslMode::VerifyCa, SslMode::VerifyFull] {
            let error = client_config(mode, &tls).unwrap_err();
            assert!(matches!(error, StoreError::Unexpected(_)), "{error:?}");
            assert!(error.to_string().contains("crypto provider"), "{error}");
        }
    }
}
