//! Every file of `shared/vectors/corpus/x509` goes through parse, subject mapping and
//! verification without a panic (catalogue K-6, X-1…, N-5), as x509-parser's
//! `run_all_fuzz_files.rs` replays its corpus. PEM files are split into their blocks; other
//! files are taken as DER. Each certificate is verified as a leaf against a generated pool,
//! against a pool made of itself (the leaf-in-pool path) and with itself as an intermediate.
#![allow(clippy::std_instead_of_core)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

#[path = "x509_common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::*;
use kauthn::{CertificateRef, ClientCaPool, Scratch, UidFromCertificate, UnixTime, VerifyOptions};

fn vectors_dir() -> PathBuf {
    match std::env::var_os("KAUTHN_VECTORS") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The DER blobs of a file: each PEM block (any label), or the whole file.
fn blobs(bytes: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    if !text.contains("-----BEGIN ") {
        return vec![bytes.to_vec()];
    }
    let mut out = vec![];
    let mut rest = text.as_ref();
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let Some(end) = block.find("-----END ") else {
            break;
        };
        let Some(close) = block[end + 9..].find("-----") else {
            break;
        };
        let len = end + 9 + close + 5;
        let mut buf = vec![0u8; len];
        if let Ok((_, der)) = pem_rfc7468::decode(&block.as_bytes()[..len], &mut buf) {
            out.push(der.to_vec());
        }
        rest = &block[len..];
    }
    out
}

#[test]
fn every_corpus_file_is_processed_without_a_panic() {
    let dir = vectors_dir().join("corpus/x509");
    if !dir.is_dir() {
        println!("SKIP: {} not found (set KAUTHN_VECTORS)", dir.display());
        return;
    }
    let mut paths = vec![];
    files(&dir, &mut paths);
    let root_key = TestKey::p256(1);
    let root = CertBuilder::new(&[cn("corpus root")])
        .ca()
        .build(&root_key, &root_key);
    let pool = ClientCaPool::from_der(&[&root]).unwrap();
    let now = UnixTime::from_secs(1_735_689_600);
    let opts = VerifyOptions::client_auth();
    let (mut inputs, mut parsed, mut mapped, mut verified) = (0usize, 0usize, 0usize, 0usize);
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        for der in blobs(&bytes) {
            inputs += 1;
            let Ok(cert) = CertificateRef::parse(&der) else {
                continue;
            };
            parsed += 1;
            let mut buf = [0u8; 4096];
            let mut scratch = Scratch::new(&mut buf);
            if let Ok(Some(_)) =
                kauthn::map_subject(&cert, &mut scratch, UidFromCertificate::Enabled)
            {
                mapped += 1;
            }
            let _ = kauthn::CertificateIdentifier(cert).to_string();
            if kauthn::verify_client_chain(&pool, &[&der], now, &TestVerifier, &opts).is_ok() {
                verified += 1;
            }
            let _ = kauthn::verify_client_chain(&pool, &[&root, &der], now, &TestVerifier, &opts);
            if let Ok(own) = ClientCaPool::from_der(&[&der]) {
                let _ = kauthn::verify_client_chain(&own, &[&der], now, &TestVerifier, &opts);
                let _ =
                    kauthn::verify_client_chain(&own, &[&root, &der], now, &TestVerifier, &opts);
            }
        }
    }
    println!(
        "x509 corpus: {} files, {inputs} inputs, {parsed} parsed, {mapped} mapped to a user, {verified} verified against the test root",
        paths.len()
    );
    assert!(inputs > 0);
}
