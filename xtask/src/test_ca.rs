//! The test run's certificate authority (`cargo xtask test`): a CA made fresh for each run,
//! a server certificate for `localhost` and `127.0.0.1`, and a client certificate, all
//! signed by it, written as PEM files into the run's temporary directory. The TLS servers
//! (redis-server's `--tls-port`, PostgreSQL's `ssl = on`) present the server certificate;
//! the tests trust the CA as a merchant trusts a managed service's private CA, and send the
//! client certificate where a server requires one.
//!
//! The keys exist only for the run (they are removed with its directory) and protect
//! nothing but loopback test servers.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// `ca.crt`: the test CA's certificate (PEM), for the tests to trust.
pub const TLS_CA_ENV: &str = "LUXCORE_TEST_TLS_CA";
/// `client.crt`: a client certificate signed by the test CA (PEM).
pub const TLS_CLIENT_CERT_ENV: &str = "LUXCORE_TEST_TLS_CLIENT_CERT";
/// `client.key`: the client certificate's private key (PKCS#8 PEM).
pub const TLS_CLIENT_KEY_ENV: &str = "LUXCORE_TEST_TLS_CLIENT_KEY";

/// The names the server certificate is valid for.
pub const SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];
/// The client certificate's common name.
pub const CLIENT_NAME: &str = "luxcore-test-client";

/// The files of a generated test CA.
#[derive(Clone, Debug)]
pub struct TestCa {
    /// The CA certificate.
    pub ca_cert: PathBuf,
    /// The server certificate (SAN: [`SERVER_NAMES`]).
    pub server_cert: PathBuf,
    /// The server certificate's key (mode 0600).
    pub server_key: PathBuf,
    /// The client certificate (CN [`CLIENT_NAME`], client authentication).
    pub client_cert: PathBuf,
    /// The client certificate's key (mode 0600).
    pub client_key: PathBuf,
}

impl TestCa {
    /// The variables the tests read.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (TLS_CA_ENV, self.ca_cert.display().to_string()),
            (TLS_CLIENT_CERT_ENV, self.client_cert.display().to_string()),
            (TLS_CLIENT_KEY_ENV, self.client_key.display().to_string()),
        ]
    }
}

fn rcgen_error(what: &str) -> impl Fn(rcgen::Error) -> String + '_ {
    move |e| format!("test CA: {what}: {e}")
}

/// A leaf certificate's parameters: `names` as SANs (IP addresses become IP SANs), the
/// common name, and what the key may be used for.
fn leaf(
    names: &[&str],
    common_name: &str,
    usage: ExtendedKeyUsagePurpose,
) -> Result<CertificateParams, String> {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .map_err(rcgen_error("certificate names"))?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![usage];
    Ok(params)
}

fn write(path: &Path, contents: &str, mode: u32) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Generates a CA, a server and a client certificate into `dir` (created if missing).
pub fn generate(dir: &Path) -> Result<TestCa, String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(rcgen_error("CA parameters"))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "luxcore-rs test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().map_err(rcgen_error("CA key"))?;
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(rcgen_error("CA"))?;

    let server_key = KeyPair::generate().map_err(rcgen_error("server key"))?;
    let server = leaf(
        &SERVER_NAMES,
        "localhost",
        ExtendedKeyUsagePurpose::ServerAuth,
    )?
    .signed_by(&server_key, &ca)
    .map_err(rcgen_error("server certificate"))?;

    let client_key = KeyPair::generate().map_err(rcgen_error("client key"))?;
    let client = leaf(&[], CLIENT_NAME, ExtendedKeyUsagePurpose::ClientAuth)?
        .signed_by(&client_key, &ca)
        .map_err(rcgen_error("client certificate"))?;

    let files = TestCa {
        ca_cert: dir.join("ca.crt"),
        server_cert: dir.join("server.crt"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.crt"),
        client_key: dir.join("client.key"),
    };
    write(&files.ca_cert, &ca.pem(), 0o644)?;
    write(&files.server_cert, &server.pem(), 0o644)?;
    write(&files.server_key, &server_key.serialize_pem(), 0o600)?;
    write(&files.client_cert, &client.pem(), 0o644)?;
    write(&files.client_key, &client_key.serialize_pem(), 0o600)?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem_blocks(path: &Path) -> Vec<String> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("-----BEGIN "))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn writes_a_ca_and_two_signed_certificates_with_private_keys_kept_private() {
        let dir = std::env::temp_dir().join(format!("luxcore-test-ca-{}", std::process::id()));
        let ca = generate(&dir).unwrap();
        for cert in [&ca.ca_cert, &ca.server_cert, &ca.client_cert] {
            assert_eq!(pem_blocks(cert), ["-----BEGIN CERTIFICATE-----"]);
        }
        for key in [&ca.server_key, &ca.client_key] {
            assert_eq!(pem_blocks(key), ["-----BEGIN PRIVATE KEY-----"]);
            let mode = fs::metadata(key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
        // Each run's CA is new.
        let first = fs::read(&ca.ca_cert).unwrap();
        generate(&dir).unwrap();
        assert_ne!(first, fs::read(&ca.ca_cert).unwrap());
        let env = ca.env();
        assert_eq!(
            env.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            [TLS_CA_ENV, TLS_CLIENT_CERT_ENV, TLS_CLIENT_KEY_ENV]
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
