//! HMAC v2 signing of a 1 KiB body: canonical string + HMAC-SHA256 + the five headers.
//! Target: <= 2 µs per request.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use luxcore_ext::credentials::HmacV2;
use std::hint::black_box;

fn signing(c: &mut Criterion) {
    let hmac = HmacV2::new(123, "hmac_test_secret_local").expect("a secret");
    let credentials = hmac.signer();
    let body = vec![b'x'; 1024];
    let mut group = c.benchmark_group("hmac_v2");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("sign_1kib_body_and_headers", |b| {
        b.iter(|| {
            let signed = credentials.sign(
                black_box("POST"),
                black_box("/api/v2/payments"),
                black_box(&body),
                black_box(1_700_000_000),
                black_box("0123456789abcdef0123456789abcdef"),
            );
            let mut headers = http::HeaderMap::with_capacity(8);
            signed.apply(&mut headers);
            headers
        })
    });
    // Reference: the SHA-256 of the body alone, the floor under any scheme that hashes it.
    group.bench_function("sha256_1kib_body_only", |b| {
        b.iter(|| <sha2::Sha256 as sha2::Digest>::digest(black_box(&body)))
    });
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
