//! An `https` base URL through the TLS backend the features chose: `rustls` (the default,
//! aws-lc-rs), `rustls-ring` or `native-tls` (which reqwest prefers when several are on).
//!
//! A local TLS front (tokio-rustls with ring, the certificate in `tests/fixtures/tls`, signed
//! by a test CA) forwards to luxcore-mock. The SDK's own HTTP client, built by
//! `LuxCoreBuilder::build`, trusts the test CA through `SSL_CERT_FILE`, which every backend
//! reads on Linux (rustls through rustls-platform-verifier and rustls-native-certs, native-tls
//! through OpenSSL's default paths). `harness = false`: `main` sets the variable while this
//! process has one thread.
//!
//! Run it with each backend:
//!
//! ```sh
//! cargo test -p luxcore-ext --test tls                                              # rustls, aws-lc-rs
//! cargo test -p luxcore-ext --test tls --no-default-features --features rustls-ring # rustls, ring
//! cargo test -p luxcore-ext --test tls --no-default-features --features native-tls  # OpenSSL
//! ```

fn main() {
    #[cfg(all(
        target_os = "linux",
        any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")
    ))]
    https::main();
    #[cfg(not(all(
        target_os = "linux",
        any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")
    )))]
    println!("tls: skipped (no TLS feature, or not Linux)");
}

#[cfg(all(
    target_os = "linux",
    any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")
))]
mod https {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use luxcore_ext::prelude::*;
    use luxcore_mock::{DEFAULT_API_KEY, MockConfig, MockServer};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::TlsAcceptor;
    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::rustls::crypto::ring;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");

    pub fn main() {
        // SAFETY: no other thread exists yet (no runtime, no test harness).
        unsafe {
            std::env::set_var("SSL_CERT_FILE", format!("{FIXTURES}/ca.pem"));
            std::env::remove_var("SSL_CERT_DIR");
        }
        // luxcore-mock builds a reqwest client (for webhook deliveries) before the SDK does.
        #[cfg(feature = "rustls-ring")]
        luxcore_ext::client::install_ring_crypto_provider();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(https_base_url());
        println!("test https_base_url ({}) ... ok", backend());
    }

    /// The backend reqwest uses with these features.
    fn backend() -> &'static str {
        if cfg!(feature = "native-tls") {
            "native-tls"
        } else if cfg!(feature = "rustls-ring") {
            "rustls with ring"
        } else {
            "rustls with aws-lc-rs"
        }
    }

    async fn https_base_url() {
        let mock = MockServer::start(MockConfig::default().without_rate_limits())
            .await
            .unwrap();
        mock.set_balance("ARS", 150_000, 0).await.unwrap();
        let client = |host: SocketAddr| {
            LuxCore::builder()
                .base_url(format!("https://{host}"))
                .api_key(DEFAULT_API_KEY)
                .retry_policy(RetryPolicy::none())
                .build()
                .unwrap()
        };

        // The certificate names 127.0.0.1 (and localhost): the call goes through.
        let front = tls_front("127.0.0.1:0", mock.addr()).await;
        let balance = client(front).balance().money(Currency::ARS).await.unwrap();
        assert_eq!(balance.available, Money::new(150_000, Currency::ARS));

        // Another loopback address is not in the certificate: the handshake must fail, so
        // the call above was verified, not accepted blindly.
        let wrong_name = tls_front("127.0.0.2:0", mock.addr()).await;
        match client(wrong_name).balance().money(Currency::ARS).await {
            Err(Error::Transport { .. }) => {}
            other => panic!("expected a TLS (transport) error, got {other:?}"),
        }
    }

    /// A TLS listener on `bind` that forwards every connection to `backend` (plain TCP).
    async fn tls_front(bind: &str, backend: SocketAddr) -> SocketAddr {
        let chain = CertificateDer::pem_file_iter(format!("{FIXTURES}/server.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(format!("{FIXTURES}/server.key")).unwrap();
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind(bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut upstream) = TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                });
            }
        });
        addr
    }
}
