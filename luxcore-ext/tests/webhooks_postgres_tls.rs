//! `PostgresStore` over TLS against the real PostgreSQL of `cargo xtask test`, which runs
//! with `ssl = on` and the run's test CA (xtask/src/servers.rs):
//!
//! * `LUXCORE_TEST_POSTGRES_TLS_URL`: a role that `pg_hba.conf` admits over TLS only,
//!   `sslmode=verify-full`, host 127.0.0.1;
//! * `LUXCORE_TEST_POSTGRES_CERT_URL`: a role that must present the test client certificate;
//! * `LUXCORE_TEST_POSTGRES_URL`: the `postgres` user, plaintext or TLS;
//! * `LUXCORE_TEST_TLS_CA` / `_CLIENT_CERT` / `_CLIENT_KEY`: the test CA's PEM files.
//!
//! Each `sslmode` is checked on the server's side too (`pg_stat_ssl`). The tests fail, never
//! skip, when a variable is unset.

mod test_ca;

mod support;
use support::required_env;

use std::time::{Duration, Instant};

use luxcore_ext::webhooks::{PostgresStore, PostgresTls, StoreError};

fn tls_url() -> url::Url {
    url::Url::parse(&required_env("LUXCORE_TEST_POSTGRES_TLS_URL")).unwrap()
}

/// `url` with `sslmode` (and any other query) replaced by `query`.
fn with_query(mut url: url::Url, query: &str) -> String {
    url.set_query(Some(query));
    url.to_string()
}

fn with_ca() -> PostgresTls {
    PostgresTls::new().root_ca_pem(test_ca::ca())
}

/// Connects (one connection), and returns whether the session is encrypted, with which
/// TLS version, and as which role.
async fn session(
    url: &str,
    tls: PostgresTls,
) -> Result<(bool, Option<String>, String), StoreError> {
    let store = PostgresStore::connect_with(url, 1, tls)?;
    let client = store.pool().get().await.map_err(|e| {
        StoreError::Unavailable(luxcore_ext::webhooks::Cause::with_source(
            format!("postgres pool: {e}"),
            e,
        ))
    })?;
    let row = client
        .query_one(
            "SELECT ssl, version, current_user::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    Ok((row.get(0), row.get(1), row.get(2)))
}

/// The error of the first call of a store that cannot connect: a typed `Unavailable` that
/// comes quickly (no hang) and whose text and chain are returned.
async fn refused(url: &str, tls: PostgresTls) -> String {
    let started = Instant::now();
    let store = PostgresStore::connect_with(url, 1, tls).expect("a valid configuration");
    let error = store
        .migrate()
        .await
        .expect_err("the connection is refused");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let mut text = format!("{error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(&format!(" / {cause}"));
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn verify_full_with_the_test_ca_is_encrypted_and_migrates() {
    let url = tls_url();
    let store = PostgresStore::connect_with(url.as_str(), 2, with_ca()).unwrap();
    store.migrate().await.expect("TLS-only role over TLS");
    let (ssl, version, user) = session(url.as_str(), with_ca()).await.unwrap();
    assert!(ssl);
    assert_eq!(version.as_deref(), Some("TLSv1.3"));
    assert_eq!(user, "luxcore_tls");
    // By DNS name too: the server certificate is valid for localhost as well.
    let mut by_name = url.clone();
    by_name.set_host(Some("localhost")).unwrap();
    assert!(session(by_name.as_str(), with_ca()).await.unwrap().0);
}

#[tokio::test]
async fn verify_full_without_the_ca_fails_with_a_certificate_error() {
    // Only the platform's roots: the test CA is not among them.
    let text = refused(tls_url().as_str(), PostgresTls::new()).await;
    assert!(text.contains("TLS handshake"), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
}

/// verify-full checks the host name; verify-ca does not. The address is 127.0.0.1
/// (`hostaddr`), the name the certificate is checked against another.
#[tokio::test]
async fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let mut url = tls_url();
    let port = url.port().unwrap();
    url.set_host(Some("db.example.invalid")).unwrap();
    let text = refused(
        &with_query(url.clone(), "hostaddr=127.0.0.1&sslmode=verify-full"),
        with_ca(),
    )
    .await;
    assert!(
        text.contains("not valid for name \"db.example.invalid\""),
        "{text}"
    );
    let (ssl, _, _) = session(
        &with_query(url.clone(), "hostaddr=127.0.0.1&sslmode=verify-ca"),
        with_ca(),
    )
    .await
    .unwrap();
    assert!(ssl, "verify-ca over port {port}");
    // verify-ca still checks the chain.
    let text = refused(
        &with_query(url, "hostaddr=127.0.0.1&sslmode=verify-ca"),
        PostgresTls::new(),
    )
    .await;
    assert!(text.contains("UnknownIssuer"), "{text}");
}

#[tokio::test]
async fn plaintext_to_the_tls_only_role_is_refused_by_the_server() {
    let text = refused(&with_query(tls_url(), "sslmode=disable"), with_ca()).await;
    assert!(text.contains("pg_hba.conf rejects connection"), "{text}");
    assert!(text.contains("no encryption"), "{text}");
}

/// libpq's `require`: encrypted, the certificate not verified — unless a root CA is set,
/// then the chain is (here: a CA that did not sign the server's certificate).
#[tokio::test]
async fn require_encrypts_without_the_ca_and_verifies_the_chain_with_one() {
    let url = with_query(tls_url(), "sslmode=require");
    let (ssl, _, user) = session(&url, PostgresTls::new()).await.unwrap();
    assert!(ssl);
    assert_eq!(user, "luxcore_tls");
    assert!(session(&url, with_ca()).await.unwrap().0);
    let (other_ca, _) = test_ca::client();
    let text = refused(&url, PostgresTls::new().root_ca_pem(other_ca)).await;
    assert!(text.contains("UnknownIssuer"), "{text}");
}

/// No `sslmode`: libpq's `prefer`, TLS since the server offers it; `disable` is plaintext.
#[tokio::test]
async fn prefer_is_the_default_and_disable_is_plaintext() {
    let url = url::Url::parse(&required_env("LUXCORE_TEST_POSTGRES_URL")).unwrap();
    let mut bare = url.clone();
    bare.set_query(None);
    assert!(session(bare.as_str(), PostgresTls::new()).await.unwrap().0);
    let prefer = with_query(url.clone(), "sslmode=prefer");
    assert!(session(&prefer, PostgresTls::new()).await.unwrap().0);
    let disable = with_query(url, "sslmode=disable");
    let (ssl, version, _) = session(&disable, PostgresTls::new()).await.unwrap();
    assert!(!ssl);
    assert_eq!(version, None);
}

#[tokio::test]
async fn a_client_certificate_authenticates_the_role_that_requires_one() {
    let url = required_env("LUXCORE_TEST_POSTGRES_CERT_URL");
    let (cert, key) = test_ca::client();
    let tls = with_ca().client_certificate_pem(cert, key.clone());
    let (ssl, _, user) = session(&url, tls.clone()).await.unwrap();
    assert!(ssl);
    assert_eq!(user, "luxcore_cert");
    // The key is never shown.
    let key_line = String::from_utf8(key)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(!format!("{tls:?}").contains(&key_line), "{tls:?}");
    // Without the certificate, the server refuses.
    let text = refused(&url, with_ca()).await;
    assert!(text.contains("certificate"), "{text}");
}

#[tokio::test]
async fn bad_settings_are_typed_errors_without_secrets() {
    let mut url = tls_url();
    url.set_password(Some("hunter2-secret")).unwrap();
    for (query, expected) in [
        ("sslmode=verify", "unknown sslmode"),
        ("sslmode=VERIFY-FULL", "unknown sslmode"),
        ("sslmode=allow", "sslmode=allow is not supported"),
        (
            "sslmode=verify-full&sslrootcert=/ca.pem",
            "sslrootcert is not read",
        ),
    ] {
        let error =
            PostgresStore::connect_with(&with_query(url.clone(), query), 1, with_ca()).unwrap_err();
        assert!(matches!(error, StoreError::Unexpected(_)), "{error:?}");
        let text = format!("{error} {error:?}");
        assert!(text.contains(expected), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
    let error = PostgresStore::connect_with(
        url.as_str(),
        1,
        PostgresTls::new()
            .client_certificate_pem("no certificate", "-----BEGIN PRIVATE KEY-----\nhunter2\n"),
    )
    .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(text.contains("client certificate"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    // A refused TLS connection does not show the password either.
    let text = refused(url.as_str(), PostgresTls::new()).await;
    assert!(!text.contains("hunter2"), "{text}");
}
