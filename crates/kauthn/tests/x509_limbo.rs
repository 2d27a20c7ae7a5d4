//! The client-relevant x509-limbo cases (`shared/vectors/x509-limbo/limbo-client-relevant.json`).
//!
//! CLIENT cases require clientAuth; SERVER cases are run for chain validity with serverAuth
//! (Go's default usage) and their peer name ignored, as the vectors README advises.
//! `max_chain_depth` maps to [`VerifyOptions::max_intermediates`]. Every disagreement must be
//! listed, with its reason, in `tests/data/limbo-exceptions.txt` (`id: reason`), as webpki
//! keeps `third-party/x509-limbo/exceptions.json`; an exception that no longer disagrees
//! fails the test too, so the list stays exact.
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

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::TestVerifier;
use kauthn::crypto::Verifier;
use kauthn::{ClientCaPool, KeyPurpose, UnixTime, VerifyOptions, verify_client_chain};

fn vectors_dir() -> PathBuf {
    match std::env::var_os("KAUTHN_VECTORS") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
    }
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let mut buf = vec![0u8; pem.len()];
    let (_, der) = pem_rfc7468::decode(pem.as_bytes(), &mut buf).unwrap();
    der.to_vec()
}

/// Runs one case; `Ok` means the chain verified.
fn run_case(case: &serde_json::Value, verifier: &dyn Verifier) -> Result<(), String> {
    let trusted: Vec<&str> = case["trusted_certs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let pool =
        ClientCaPool::from_pem(trusted.concat().as_bytes()).map_err(|e| format!("pool: {e}"))?;
    let leaf = pem_to_der(case["peer_certificate"].as_str().unwrap());
    let inters: Vec<Vec<u8>> = case["untrusted_intermediates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| pem_to_der(v.as_str().unwrap()))
        .collect();
    let mut chain: Vec<&[u8]> = vec![&leaf];
    chain.extend(inters.iter().map(|v| v.as_slice()));
    let now = match case["validation_time"].as_str() {
        Some(t) => kauthn::UnixTime::parse_rfc3339(t.as_bytes()).unwrap().0,
        None => UnixTime::from_secs(
            i64::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs(),
            )
            .unwrap(),
        ),
    };
    let purpose = match case["validation_kind"].as_str().unwrap() {
        "CLIENT" => KeyPurpose::ClientAuth,
        _ => KeyPurpose::ServerAuth,
    };
    let mut opts = VerifyOptions::client_auth().with_purpose(purpose);
    if let Some(depth) = case["max_chain_depth"].as_u64() {
        opts = opts.with_max_intermediates(usize::try_from(depth).unwrap());
    }
    verify_client_chain(&pool, &chain, now, verifier, &opts)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn limbo_client_relevant_cases_agree_except_for_the_listed_exceptions() {
    let path = vectors_dir().join("x509-limbo/limbo-client-relevant.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP: {} not found (set KAUTHN_VECTORS)", path.display());
        return;
    };
    let exceptions: BTreeMap<String, String> = include_str!("data/limbo-exceptions.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once(": ").expect("`id: reason`");
            (id.to_string(), reason.to_string())
        })
        .collect();
    let suite: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (mut pass, mut fail, mut excepted) = (0, 0, 0);
    let mut unexpected = vec![];
    let mut stale = vec![];
    let mut backend_differences = vec![];
    for case in suite["testcases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let expected_ok = case["expected_result"].as_str().unwrap() == "SUCCESS";
        let got = run_case(case, &kauthn::RustCrypto);
        // Differential check: the test-only verifier on the `rsa`/`p256`/`p384` crates.
        let other = run_case(case, &TestVerifier);
        if other.is_ok() != got.is_ok() {
            backend_differences.push(format!("{id}: RustCrypto {got:?}, rsa/p256/p384 {other:?}"));
        }
        let agrees = got.is_ok() == expected_ok;
        if agrees {
            pass += 1;
        } else {
            fail += 1;
        }
        match (agrees, exceptions.contains_key(id)) {
            (true, true) => stale.push(id.to_string()),
            (false, true) => excepted += 1,
            (false, false) => unexpected.push(format!(
                "{id}: expected {}, got {got:?}",
                case["expected_result"]
            )),
            (true, false) => {}
        }
    }
    println!(
        "x509-limbo: {} cases, {pass} agree, {fail} disagree ({excepted} listed exceptions)",
        pass + fail
    );
    for d in &backend_differences {
        println!("verifier backends differ (key policy): {d}");
    }
    assert!(
        unexpected.is_empty(),
        "disagreements not in limbo-exceptions.txt:\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "exceptions that now agree (remove them): {stale:?}"
    );
}
