//! Data-driven JOSE suites over `../shared/vectors`: Wycheproof `json_web_signature_test.json`
//! and `json_web_key_test.json`, RFC 7515 Appendix A, and the RFC 7520 cookbook.
//!
//! Every case must either match the expected verdict or be listed with its reason in
//! `tests/data/jose-deviations.txt`. HMAC and `alg: none` cases marked valid upstream are
//! counted as *expected rejections*: kauthn has no HMAC and never accepts `none`, and such a
//! case must be rejected as `Unsupported`. Counts are printed (`cargo test -- --nocapture`).
#![allow(clippy::std_instead_of_core)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "jose_common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use common::{SCRATCH, TestVerifier, vectors};
use kauthn::RustCrypto;
use kauthn::Scratch;
use kauthn::jose::{AlgorithmSet, JoseError, KeySet, Unsupported, verify_jws_payload};
use serde_json::Value;

/// `file id -> reason` from the deviations file.
fn deviations() -> BTreeMap<(String, String), String> {
    let text = include_str!("data/jose-deviations.txt");
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let file = parts.next().unwrap().to_string();
        let id = parts.next().unwrap().to_string();
        let reason = parts.next().unwrap_or("").to_string();
        map.insert((file, id), reason);
    }
    map
}

#[derive(Default)]
struct Tally {
    ran: usize,
    passed: usize,
    expected_unsupported: usize,
    deviations: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    fn report(&self, name: &str) {
        println!(
            "{name}: ran {}, passed {} (of which {} expected Unsupported: HMAC / none), deviations {}",
            self.ran,
            self.passed,
            self.expected_unsupported,
            self.deviations.len()
        );
        for d in &self.deviations {
            println!("  deviation: {d}");
        }
        assert!(
            self.failures.is_empty(),
            "{name}: unlisted deviations:\n{}",
            self.failures.join("\n")
        );
    }

    fn record(
        &mut self,
        file: &str,
        id: &str,
        expect_valid: bool,
        got: &Result<(), JoseError>,
        devs: &BTreeMap<(String, String), String>,
    ) {
        self.ran += 1;
        let agrees = expect_valid == got.is_ok();
        let hmac_or_none = matches!(
            got,
            Err(JoseError::Unsupported(
                Unsupported::Hmac | Unsupported::AlgNone | Unsupported::KeyType
            ))
        );
        let listed = devs.get(&(file.to_string(), id.to_string()));
        if agrees {
            if listed.is_some() {
                self.failures.push(format!(
                    "{file} {id}: listed as a deviation but now agrees; remove it"
                ));
            }
            self.passed += 1;
        } else if expect_valid && hmac_or_none {
            self.passed += 1;
            self.expected_unsupported += 1;
        } else if let Some(reason) = listed {
            self.deviations
                .push(format!("{file} {id}: got {got:?}: {reason}"));
        } else {
            self.failures.push(format!(
                "{file} {id}: expected {}, got {got:?}",
                if expect_valid { "valid" } else { "invalid" }
            ));
        }
    }
}

/// Verifies with `RustCrypto`; with the `aws-lc` feature every suite also runs through
/// `AwsLc`, which must return exactly the same result.
fn verify_with_jwks(jwks: &str, token: &str) -> Result<(), JoseError> {
    let got = verify_with(jwks, token, &RustCrypto);
    #[cfg(feature = "aws-lc")]
    assert_eq!(
        verify_with(jwks, token, &kauthn::AwsLc),
        got,
        "AwsLc and RustCrypto disagree on {token}"
    );
    got
}

fn verify_with(
    jwks: &str,
    token: &str,
    backend: &dyn kauthn::crypto::Verifier,
) -> Result<(), JoseError> {
    let mut buf = vec![0u8; SCRATCH];
    let mut scratch = Scratch::new(&mut buf);
    let jwks: &str = jwks;
    let mut set = KeySet::<8>::new();
    set.add_jwks(jwks.as_bytes(), &mut scratch)?;
    verify_jws_payload(
        token.as_bytes(),
        &set,
        AlgorithmSet::ALL,
        backend,
        &mut scratch,
    )
    .map(|_| ())
}

fn token_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap(),
    }
}

#[test]
fn wycheproof_json_web_signature() {
    let Some(path) = vectors("wycheproof/json_web_signature_test.json") else {
        return;
    };
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let devs = deviations();
    let mut t = Tally::default();
    for g in doc["testGroups"].as_array().unwrap() {
        // The verification key is the public JWK, or the private JWK's public part.
        let key = g.get("public").or_else(|| g.get("private")).unwrap();
        let jwks = serde_json::to_string(key).unwrap();
        for tc in g["tests"].as_array().unwrap() {
            let id = tc["tcId"].to_string();
            let token = token_text(&tc["jws"]);
            let got = verify_with_jwks(&jwks, &token);
            t.record(
                "json_web_signature_test.json",
                &id,
                tc["result"] == "valid",
                &got,
                &devs,
            );
        }
    }
    t.report("wycheproof json_web_signature_test.json");
}

#[test]
fn wycheproof_json_web_key() {
    let Some(path) = vectors("wycheproof/json_web_key_test.json") else {
        return;
    };
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let devs = deviations();
    let mut t = Tally::default();
    for g in doc["testGroups"].as_array().unwrap() {
        // Key sets are given as `public` (or, when absent, `private`, whose `d` etc. are
        // ignored: only public members are read).
        let key = g.get("public").or_else(|| g.get("private")).unwrap();
        let jwks = serde_json::to_string(key).unwrap();
        for tc in g["tests"].as_array().unwrap() {
            let id = tc["tcId"].to_string();
            let got = verify_with_jwks(&jwks, tc["jws"].as_str().unwrap());
            t.record(
                "json_web_key_test.json",
                &id,
                tc["result"] == "valid",
                &got,
                &devs,
            );
        }
    }
    t.report("wycheproof json_web_key_test.json");
}

#[test]
fn rfc7515_appendix_a() {
    let Some(path) = vectors("jose/rfc7515_appendix_a.json") else {
        return;
    };
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let devs = deviations();
    let mut t = Tally::default();
    for c in doc["cases"].as_array().unwrap() {
        let id = c["section"].as_str().unwrap();
        let jwk = &c["public_jwk"];
        let got = if jwk.is_object() {
            verify_with_jwks(
                &serde_json::to_string(jwk).unwrap(),
                c["compact"].as_str().unwrap(),
            )
        } else {
            // A.5 (alg none) has no key: an empty key set must not matter.
            verify_with_jwks(r#"{"keys":[]}"#, c["compact"].as_str().unwrap())
        };
        if id == "A.5" {
            assert_eq!(got, Err(JoseError::Unsupported(Unsupported::AlgNone)));
        }
        t.record(
            "rfc7515_appendix_a.json",
            id,
            c["expected"] == "signature_valid",
            &got,
            &devs,
        );
    }
    t.report("rfc7515_appendix_a.json");
}

#[test]
fn rfc7520_cookbook() {
    let Some(dir) = vectors("jose/rfc7520") else {
        return;
    };
    let devs = deviations();
    let mut t = Tally::default();
    let mut files: Vec<_> = ["jws", "rfc7797"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(dir.join(d))
                .unwrap()
                .map(|e| e.unwrap().path())
        })
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let key = &doc["input"]["key"];
        // 4.8 (multiple signatures) lists several keys: give them as a JWK Set.
        let jwks = if key.is_array() {
            serde_json::json!({ "keys": key }).to_string()
        } else {
            serde_json::to_string(key).unwrap()
        };
        // Verdicts for a compact-only verifier without HMAC (vectors README §2): 4.1-4.3 verify
        // (the allow-list holds all nine public-key algorithms); HMAC, detached content,
        // unprotected headers, JSON serialization and b64:false must be rejected.
        let verifies =
            name.starts_with("4_1") || name.starts_with("4_2") || name.starts_with("4_3");
        let out = &doc["output"];
        if let Some(compact) = out.get("compact").and_then(Value::as_str) {
            let got = verify_with_jwks(&jwks, compact);
            t.record("rfc7520", &format!("{name}#compact"), verifies, &got, &devs);
        }
        for form in ["json", "json_flat"] {
            if let Some(j) = out.get(form) {
                let got = verify_with_jwks(&jwks, &token_text(j));
                // The HMAC examples' `oct` key is refused before the token is looked at.
                assert!(
                    matches!(
                        got,
                        Err(JoseError::Unsupported(
                            Unsupported::JsonSerialization | Unsupported::KeyType
                        ))
                    ),
                    "{name} {form}: {got:?}"
                );
                t.record("rfc7520", &format!("{name}#{form}"), false, &got, &devs);
            }
        }
    }
    t.report("rfc7520 cookbook");
}

#[test]
fn rustcrypto_and_the_reference_test_verifier_agree_on_wycheproof_jws() {
    // The JOSE layer reaches signatures only through `Verifier`; the reference verifier built
    // on the `rsa`/`p256`/`p384`/`p521` crates must give the same verdict for every case.
    let Some(path) = vectors("wycheproof/json_web_signature_test.json") else {
        return;
    };
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut n = 0;
    for g in doc["testGroups"].as_array().unwrap() {
        let key = g.get("public").or_else(|| g.get("private")).unwrap();
        let jwks = serde_json::to_string(key).unwrap();
        for tc in g["tests"].as_array().unwrap() {
            let token = token_text(&tc["jws"]);
            let a = verify_with(&jwks, &token, &RustCrypto);
            let b = verify_with(&jwks, &token, &TestVerifier);
            assert_eq!(a, b, "tc {}", tc["tcId"]);
            n += 1;
        }
    }
    println!("RustCrypto and the reference verifier agree on {n} Wycheproof JWS cases");
}
