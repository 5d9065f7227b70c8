//! The test run's CA (`cargo xtask test` generates one, xtask/src/test_ca.rs): the PEM files
//! named by `LUXCORE_TEST_TLS_CA` / `_CLIENT_CERT` / `_CLIENT_KEY`. A test that needs them
//! fails (never skips) when a variable is unset.

#![allow(dead_code)] // each test file uses a part

/// The contents of the file named by the variable `name`.
pub fn pem(name: &str) -> Vec<u8> {
    let path = std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: this test needs the test CA (run `cargo xtask test`, which \
             generates one, or set {name})"
        )
    });
    std::fs::read(&path).unwrap_or_else(|e| panic!("{name}={path}: {e}"))
}

/// The CA certificate.
pub fn ca() -> Vec<u8> {
    pem("LUXCORE_TEST_TLS_CA")
}

/// The client certificate and its key.
pub fn client() -> (Vec<u8>, Vec<u8>) {
    (
        pem("LUXCORE_TEST_TLS_CLIENT_CERT"),
        pem("LUXCORE_TEST_TLS_CLIENT_KEY"),
    )
}
