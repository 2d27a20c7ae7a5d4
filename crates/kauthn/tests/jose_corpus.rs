//! Replays every file of `../shared/vectors/corpus/jwt` through the token, JWK/JWKS and PEM
//! entry points: each must return (any verdict) without panicking, in bounded scratch.
#![allow(clippy::std_instead_of_core)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "jose_common/mod.rs"]
mod common;

use common::vectors;
use kauthn::RustCrypto;
use kauthn::Scratch;
use kauthn::jose::{AlgorithmSet, KeySet, UnverifiedJws, verify_jws};

fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out)
        } else {
            out.push(p)
        }
    }
}

/// Quoted values after `key: "` or `key: '` in protobuf text (jwt_verify_lib seeds).
fn quoted<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    for q in ['"', '\''] {
        let pat = format!("{key}: {q}");
        let mut rest = text;
        while let Some(i) = rest.find(&pat) {
            rest = &rest[i + pat.len()..];
            if let Some(end) = rest.find(q) {
                out.push(&rest[..end]);
            }
        }
    }
    out
}

fn exercise(input: &[u8], stats: &mut [usize; 3]) {
    // As a JWK Set / JWK and as PEM, into a fixed scratch.
    let mut buf = vec![0u8; 256 * 1024];
    let mut scratch = Scratch::new(&mut buf);
    let mut set = KeySet::<16>::new();
    if set.add_jwks(input, &mut scratch).is_ok() {
        stats[1] += 1;
    }
    if set.add_pem(input, &mut scratch).is_ok() {
        stats[2] += 1;
    }
    // As a token, against whatever keys loaded.
    let mut tbuf = vec![0u8; 256 * 1024];
    let mut ts = Scratch::new(&mut tbuf);
    if verify_jws(input, &set, AlgorithmSet::ALL, &RustCrypto, &mut ts).is_ok() {
        stats[0] += 1;
    }
    let mut tbuf = vec![0u8; 256 * 1024];
    let mut ts = Scratch::new(&mut tbuf);
    if let Ok(jws) = UnverifiedJws::parse(input, &mut ts) {
        let _ = jws.unverified_claims(&mut ts);
    }
}

#[test]
fn every_jwt_corpus_file_is_handled_without_panic() {
    let Some(dir) = vectors("corpus/jwt") else {
        return;
    };
    let mut all = Vec::new();
    files(&dir, &mut all);
    all.sort();
    let mut stats = [0usize; 3];
    let mut inputs = 0usize;
    for f in &all {
        let bytes = std::fs::read(f).unwrap();
        exercise(&bytes, &mut stats);
        exercise(bytes.trim_ascii(), &mut stats);
        inputs += 2;
        if let Ok(text) = std::str::from_utf8(&bytes) {
            for v in quoted(text, "jwt").into_iter().chain(quoted(text, "jwks")) {
                exercise(v.as_bytes(), &mut stats);
                inputs += 1;
            }
        }
    }
    println!(
        "corpus/jwt: {} files, {inputs} inputs, no panic; verified tokens {}, loaded JWK sets {}, loaded PEM {}",
        all.len(),
        stats[0],
        stats[1],
        stats[2]
    );
    assert!(!all.is_empty());
}
