//! A rustls [`ClientConfig`] for the SDK's own connections to a merchant's servers
//! (PostgreSQL; for Redis, whose `redis` crate builds its own configuration, only the
//! [`provider`]): the platform's root certificates or a private CA (PEM), an optional
//! client certificate (PEM), one of three levels of server verification, and the crypto
//! provider of the build's TLS feature, so a `rustls-ring` build never needs aws-lc-rs.
//!
//! Errors are texts meant for a typed error of the caller; none holds key material.
#![cfg_attr(not(feature = "postgres"), allow(dead_code))]

use std::fmt;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use secrecy::{ExposeSecret, SecretBox};

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Nothing: the connection is encrypted but the server is not authenticated (libpq's
    /// `require` without a root certificate). The handshake signature is still checked.
    Nothing,
    /// The chain up to a trusted root, not the host name (libpq's `verify-ca`).
    Chain,
    /// The chain and the host name (libpq's `verify-full`, HTTPS).
    Full,
}

/// A client certificate chain and its private key (PEM), the key zeroed when dropped.
pub(crate) type ClientIdentityPem = (Vec<u8>, Arc<SecretBox<Vec<u8>>>);

/// The trust anchors and the client identity, as PEM.
#[derive(Clone, Default)]
pub(crate) struct TlsSettings {
    /// Trusted CA certificates (PEM) instead of the platform's roots.
    pub(crate) root_ca_pem: Option<Vec<u8>>,
    /// A client certificate chain and its private key (PEM).
    pub(crate) client_identity: Option<ClientIdentityPem>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whether each part is set, never the key.
        f.debug_struct("TlsSettings")
            .field(
                "root_ca",
                &if self.root_ca_pem.is_some() {
                    "private CA"
                } else {
                    "platform roots"
                },
            )
            .field("client_certificate", &self.client_identity.is_some())
            .finish()
    }
}

/// The crypto provider: rustls' process-wide default when one is installed (the
/// application's choice wins), else the one of the build's feature — aws-lc-rs with
/// `rustls`, ring with `rustls-ring`. `None` when neither.
pub(crate) fn provider() -> Option<Arc<CryptoProvider>> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Some(Arc::clone(installed));
    }
    #[cfg(feature = "rustls")]
    return Some(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls")))]
    return Some(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "rustls", feature = "rustls-ring")))]
    None
}

/// PEM certificates; an error when there is none or one is malformed.
fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what}: not valid PEM certificates ({e})"))?;
    if certs.is_empty() {
        return Err(format!("{what}: no PEM certificate found"));
    }
    Ok(certs)
}

/// The root store: the private CA's certificates, or the platform's roots.
fn roots(settings: &TlsSettings) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match &settings.root_ca_pem {
        Some(pem) => {
            for cert in certificates(pem, "root CA")? {
                store
                    .add(cert)
                    .map_err(|e| format!("root CA: unusable certificate ({e})"))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            let (added, _ignored) = store.add_parsable_certificates(native.certs);
            if added == 0 {
                return Err(format!(
                    "no platform root certificate could be loaded{}: configure the server's \
                     CA explicitly",
                    native
                        .errors
                        .first()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    Ok(store)
}

/// A client configuration with `verify` and `settings`, offering `alpn` (e.g.
/// `postgresql`).
pub(crate) fn client_config(
    settings: &TlsSettings,
    verify: Verify,
    alpn: &[&[u8]],
) -> Result<ClientConfig, String> {
    let provider = provider().ok_or(
        "no rustls crypto provider: enable the `rustls` or `rustls-ring` feature, or install \
         one with rustls::crypto::CryptoProvider::install_default",
    )?;
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS protocol versions: {e}"))?;
    let webpki = || -> Result<_, String> {
        WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots(settings)?),
            Arc::clone(&provider),
        )
        .build()
        .map_err(|e| format!("certificate verifier: {e}"))
    };
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        Verify::Full => webpki()?,
        Verify::Chain => Arc::new(Lenient {
            chain: Some(webpki()?),
            provider,
        }),
        Verify::Nothing => Arc::new(Lenient {
            chain: None,
            provider,
        }),
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match &settings.client_identity {
        None => builder.with_no_client_auth(),
        Some((cert_pem, key_pem)) => {
            let chain = certificates(cert_pem, "client certificate")?;
            // The parser's error would not show the key, but says nothing useful either.
            let key = PrivateKeyDer::from_pem_slice(key_pem.expose_secret())
                .map_err(|_| "client key: no PEM private key found (PKCS#8, PKCS#1 or SEC1)")?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate and key: {e}"))?
        }
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The server verification WebPKI's does not offer: none ([`Verify::Nothing`], `chain`
/// unset) or the chain without the host name ([`Verify::Chain`]). Either way the handshake
/// signature is checked: the server holds the key of the certificate it sent.
#[derive(Debug)]
struct Lenient {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // webpki checks the chain first: a name mismatch is only reported for a
        // certificate whose chain is valid.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(any(feature = "rustls", feature = "rustls-ring"))]
    fn malformed_or_empty_pem_is_an_error_without_key_material() {
        let settings = TlsSettings {
            root_ca_pem: Some(b"not a certificate".to_vec()),
            client_identity: None,
        };
        let error = client_config(&settings, Verify::Full, &[]).unwrap_err();
        assert!(error.contains("root CA: no PEM certificate"), "{error}");

        let key =
            b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n";
        let settings = TlsSettings {
            root_ca_pem: None,
            client_identity: Some((
                b"".to_vec(),
                Arc::new(SecretBox::new(Box::new(key.to_vec()))),
            )),
        };
        let error = client_config(&settings, Verify::Nothing, &[]).unwrap_err();
        assert!(error.contains("client certificate: no PEM"), "{error}");
        let debug = format!("{settings:?}");
        assert!(!debug.contains("c2VjcmV0"), "{debug}");
        assert!(debug.contains("client_certificate: true"), "{debug}");
    }

    #[test]
    #[cfg(any(feature = "rustls", feature = "rustls-ring"))]
    fn the_alpn_protocols_are_offered() {
        let config = client_config(&TlsSettings::default(), Verify::Nothing, &[b"postgresql"])
            .expect("a provider in every test build");
        assert_eq!(config.alpn_protocols, [b"postgresql".to_vec()]);
    }

    #[test]
    #[cfg(not(any(feature = "rustls", feature = "rustls-ring")))]
    fn without_a_provider_the_error_says_how_to_get_one() {
        let error = client_config(&TlsSettings::default(), Verify::Full, &[]).unwrap_err();
        assert!(
            error.contains("enable the `rustls` or `rustls-ring` feature"),
            "{error}"
        );
    }
}
