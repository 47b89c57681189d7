//! Cost of one Argon2id hash and one verification at the default (OWASP) parameters:
//! m = 19 MiB, t = 2, p = 1. This is the CPU time a login (verify) or a password
//! change (hash) costs the gateway, per request, on one core.
//!
//! Run: `cargo bench -p centinela-bench --bench password_hashing`
#![forbid(unsafe_code)]

use std::hint::black_box;

use centinela_core::password::{HashParams, PasswordHasher, Verification};
use criterion::{criterion_group, criterion_main, Criterion};

const PASSWORD: &str = "correct horse battery staple 42";

fn password_hashing(c: &mut Criterion) {
    let hasher = PasswordHasher::new(HashParams::default()).expect("default parameters");
    let stored = hasher.hash(PASSWORD).expect("hash");
    assert_eq!(
        hasher.verify(PASSWORD, &stored),
        Verification::Match {
            needs_rehash: false
        }
    );

    let mut g = c.benchmark_group("password_hashing");
    g.sample_size(10);
    g.bench_function("argon2id_hash_owasp", |b| {
        b.iter(|| black_box(hasher.hash(black_box(PASSWORD)).expect("hash")));
    });
    g.bench_function("argon2id_verify_owasp", |b| {
        b.iter(|| black_box(hasher.verify(black_box(PASSWORD), black_box(&stored))));
    });
    g.finish();
}

criterion_group!(benches, password_hashing);
criterion_main!(benches);
