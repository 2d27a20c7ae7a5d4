//! Wycheproof signature vectors against every backend: the default [`kauthn::RustCrypto`]
//! always, and `kauthn::AwsLc` too when the `aws-lc` feature is on
//! (`cargo test -p kauthn --features aws-lc --test wycheproof_signatures`).
//!
//! Verdicts: `valid` must verify, `invalid` must not. `acceptable` cases (only RSA's
//! `MissingNull`, a DigestInfo without the NULL parameters) may go either way per
//! Wycheproof; both backends reject them and the test asserts that choice. Every file prints
//! how many cases ran and passed, per backend; a missing vector folder is a printed skip.
//! `tests/backend_differential.rs` additionally checks that the backends return the very
//! same `Result` on every case.
#![allow(clippy::std_instead_of_core)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::PathBuf;

use kauthn::RustCrypto;
use kauthn::crypto::{PreparedKey, PublicKey, SignatureAlgorithm, SignatureError, Verifier};
use serde::Deserialize;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/wycheproof"
);

#[derive(Deserialize)]
struct File {
    #[serde(rename = "testGroups")]
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    #[serde(rename = "publicKey")]
    key: Key,
    sha: Option<String>,
    #[serde(rename = "mgfSha")]
    mgf_sha: Option<String>,
    #[serde(rename = "sLen")]
    salt_len: Option<usize>,
    tests: Vec<Case>,
}

#[derive(Deserialize)]
struct Key {
    // RSA.
    modulus: Option<String>,
    #[serde(rename = "publicExponent")]
    exponent: Option<String>,
    // EC.
    uncompressed: Option<String>,
}

#[derive(Deserialize)]
struct Case {
    #[serde(rename = "tcId")]
    id: u32,
    comment: String,
    msg: String,
    sig: String,
    result: String,
    flags: Vec<String>,
}

/// Decodes lowercase or uppercase hex; Wycheproof strings are always well formed.
fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd-length hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn load(name: &str) -> Option<File> {
    let path = PathBuf::from(VECTORS).join(name);
    match fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).unwrap()),
        Err(e) => {
            println!("SKIP {name}: {} not readable ({e})", path.display());
            None
        }
    }
}

/// A backend under test.
#[derive(Clone, Copy)]
struct Backend {
    name: &'static str,
    verifier: &'static dyn Verifier,
    /// Whether [`PreparedKey`] (RustCrypto's prepared path) must agree with `verifier`.
    check_prepared: bool,
}

/// `RustCrypto` always; `AwsLc` with the `aws-lc` feature.
fn backends() -> Vec<Backend> {
    #[allow(unused_mut)]
    let mut all = vec![Backend {
        name: "RustCrypto",
        verifier: &RustCrypto,
        check_prepared: true,
    }];
    #[cfg(feature = "aws-lc")]
    all.push(Backend {
        name: "AwsLc",
        verifier: &kauthn::AwsLc,
        check_prepared: false,
    });
    all
}

/// What a group expects of every case.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The file's own verdicts.
    FileVerdicts,
    /// Every case fails with this error, whatever the file says (a key policy or a pinned
    /// parameter set differs from the group's).
    AllFail(Option<SignatureError>),
}

#[derive(Default)]
struct Stats {
    ran: usize,
    passed: usize,
    /// Cases whose (file or overridden) verdict is "verifies".
    accepted: usize,
    failures: Vec<String>,
}

impl Stats {
    fn finish(self, name: &str, backend: &Backend) {
        let name = format!("{name} [{}]", backend.name);
        println!(
            "{name}: ran {} / passed {} ({} verified, {} rejected)",
            self.ran,
            self.passed,
            self.accepted,
            self.ran - self.accepted
        );
        assert!(
            self.failures.is_empty(),
            "{name}: {} failures:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
        assert!(self.ran > 0, "{name}: no case ran");
    }
}

fn run_group(
    backend: &Backend,
    stats: &mut Stats,
    alg: SignatureAlgorithm,
    key: &PublicKey<'_>,
    group: &Group,
    expect: Expect,
) {
    // The prepared-key path must agree with the one-shot path on every case.
    let prepared = backend.check_prepared.then(|| PreparedKey::new(key));
    // What key holders pass to `verify_prepared`: the RustCrypto preparation, when it exists.
    let held = PreparedKey::new(key).ok();
    for case in &group.tests {
        let (msg, sig) = (unhex(&case.msg), unhex(&case.sig));
        let got = backend.verifier.verify(alg, key, &msg, &sig);
        assert_eq!(
            got,
            backend
                .verifier
                .verify_prepared(alg, key, held.as_ref(), &msg, &sig),
            "tc {}: verify_prepared disagrees with verify",
            case.id
        );
        if let Some(prepared) = prepared {
            let via_prepared = prepared.and_then(|p| p.verify(alg, &msg, &sig));
            assert_eq!(got, via_prepared, "tc {}: prepared key disagrees", case.id);
        }
        let ok = match (expect, case.result.as_str()) {
            (Expect::AllFail(None), _) => got.is_err(),
            (Expect::AllFail(Some(e)), _) => got == Err(e),
            (Expect::FileVerdicts, "valid") => got.is_ok(),
            (Expect::FileVerdicts, "invalid") => got.is_err(),
            // Our documented choice: strict, so "acceptable" (MissingNull) is rejected.
            (Expect::FileVerdicts, "acceptable") => got.is_err(),
            (_, other) => panic!("unknown result {other}"),
        };
        stats.ran += 1;
        if expect == Expect::FileVerdicts && case.result == "valid" {
            stats.accepted += 1;
        }
        if ok {
            stats.passed += 1;
        } else {
            stats.failures.push(format!(
                "  tc {} ({}; {:?}; {}): got {got:?}",
                case.id, case.result, case.flags, case.comment
            ));
        }
    }
}

fn rsa_key(group: &Group) -> (Vec<u8>, Vec<u8>) {
    (
        unhex(group.key.modulus.as_deref().unwrap()),
        unhex(group.key.exponent.as_deref().unwrap()),
    )
}

fn run_rsa(name: &str, alg: SignatureAlgorithm, expect: Expect) {
    let Some(file) = load(name) else { return };
    for backend in &backends() {
        let mut stats = Stats::default();
        for group in &file.groups {
            assert_eq!(
                group.sha.as_deref(),
                Some("SHA-256"),
                "{name}: unexpected group"
            );
            let (modulus, exponent) = rsa_key(group);
            let key = PublicKey::Rsa {
                modulus: &modulus,
                exponent: &exponent,
            };
            run_group(backend, &mut stats, alg, &key, group, expect);
        }
        stats.finish(name, backend);
    }
}

fn run_ecdsa(name: &str, alg: SignatureAlgorithm, sha: &str) {
    let Some(file) = load(name) else { return };
    for backend in &backends() {
        let mut stats = Stats::default();
        for group in &file.groups {
            assert_eq!(group.sha.as_deref(), Some(sha), "{name}: unexpected group");
            let point = unhex(group.key.uncompressed.as_deref().unwrap());
            let key = match alg {
                SignatureAlgorithm::EcdsaP256Sha256Fixed
                | SignatureAlgorithm::EcdsaP256Sha256Asn1 => PublicKey::EcP256(&point),
                _ => PublicKey::EcP384(&point),
            };
            run_group(backend, &mut stats, alg, &key, group, Expect::FileVerdicts);
        }
        stats.finish(name, backend);
    }
}

#[test]
fn rsa_pkcs1_sha256_2048_vectors() {
    run_rsa(
        "rsa_signature_2048_sha256_test.json",
        SignatureAlgorithm::RsaPkcs1Sha256,
        Expect::FileVerdicts,
    );
}

#[test]
fn rsa_pkcs1_sha256_3072_vectors() {
    run_rsa(
        "rsa_signature_3072_sha256_test.json",
        SignatureAlgorithm::RsaPkcs1Sha256,
        Expect::FileVerdicts,
    );
}

#[test]
fn rsa_pkcs1_sha256_4096_vectors() {
    run_rsa(
        "rsa_signature_4096_sha256_test.json",
        SignatureAlgorithm::RsaPkcs1Sha256,
        Expect::FileVerdicts,
    );
}

#[test]
fn rsa_8192_bit_keys_are_rejected_as_too_large() {
    run_rsa(
        "rsa_signature_8192_sha256_test.json",
        SignatureAlgorithm::RsaPkcs1Sha256,
        Expect::AllFail(Some(SignatureError::KeyRejected)),
    );
}

#[test]
fn rsa_pss_sha256_2048_vectors() {
    run_rsa(
        "rsa_pss_2048_sha256_mgf1_32_test.json",
        SignatureAlgorithm::RsaPssSha256,
        Expect::FileVerdicts,
    );
}

#[test]
fn rsa_pss_sha256_3072_vectors() {
    run_rsa(
        "rsa_pss_3072_sha256_mgf1_32_test.json",
        SignatureAlgorithm::RsaPssSha256,
        Expect::FileVerdicts,
    );
}

#[test]
fn rsa_pss_sha256_4096_vectors() {
    run_rsa(
        "rsa_pss_4096_sha256_mgf1_32_test.json",
        SignatureAlgorithm::RsaPssSha256,
        Expect::FileVerdicts,
    );
}

/// `rsa_pss_misc_test.json` mixes hashes, MGF hashes and salt lengths. PS256/384/512 pin
/// MGF1 to the signature hash and the salt to the hash length (RFC 7518 §3.5), so only the
/// groups with exactly those parameters keep their verdicts; every other group with a
/// SHA-2 signature hash must be rejected, although the file marks it valid for a
/// parameterised verifier. SHA-1 and SHA-224 groups have no algorithm here.
#[test]
fn rsa_pss_misc_vectors_follow_the_pinned_jose_parameters() {
    let name = "rsa_pss_misc_test.json";
    let Some(file) = load(name) else { return };
    for backend in &backends() {
        let mut stats = Stats::default();
        let mut pinned = 0;
        for group in &file.groups {
            let sha = group.sha.as_deref().unwrap();
            let (alg, h_len) = match sha {
                "SHA-256" => (SignatureAlgorithm::RsaPssSha256, 32),
                "SHA-384" => (SignatureAlgorithm::RsaPssSha384, 48),
                "SHA-512" => (SignatureAlgorithm::RsaPssSha512, 64),
                _ => continue,
            };
            let (modulus, exponent) = rsa_key(group);
            let key = PublicKey::Rsa {
                modulus: &modulus,
                exponent: &exponent,
            };
            let expect = if group.mgf_sha.as_deref() == Some(sha) && group.salt_len == Some(h_len) {
                pinned += 1;
                Expect::FileVerdicts
            } else {
                Expect::AllFail(Some(SignatureError::BadSignature))
            };
            run_group(backend, &mut stats, alg, &key, group, expect);
        }
        assert_eq!(pinned, 3, "one pinned group per hash");
        stats.finish(name, backend);
    }
}

#[test]
fn ecdsa_p256_fixed_vectors() {
    run_ecdsa(
        "ecdsa_secp256r1_sha256_p1363_test.json",
        SignatureAlgorithm::EcdsaP256Sha256Fixed,
        "SHA-256",
    );
}

#[test]
fn ecdsa_p256_der_vectors() {
    run_ecdsa(
        "ecdsa_secp256r1_sha256_test.json",
        SignatureAlgorithm::EcdsaP256Sha256Asn1,
        "SHA-256",
    );
}

#[test]
fn ecdsa_p384_fixed_vectors() {
    run_ecdsa(
        "ecdsa_secp384r1_sha384_p1363_test.json",
        SignatureAlgorithm::EcdsaP384Sha384Fixed,
        "SHA-384",
    );
}

#[test]
fn ecdsa_p384_der_vectors() {
    run_ecdsa(
        "ecdsa_secp384r1_sha384_test.json",
        SignatureAlgorithm::EcdsaP384Sha384Asn1,
        "SHA-384",
    );
}

/// Key/algorithm confusion (catalogue A-2): every algorithm with a key of another type or
/// curve is `KeyMismatch`, before any signature work.
#[test]
fn key_of_another_type_is_a_mismatch() {
    let rsa = PublicKey::Rsa {
        modulus: &[0xff; 256],
        exponent: &[1, 0, 1],
    };
    let p256 = PublicKey::EcP256(&[4; 65]);
    let p384 = PublicKey::EcP384(&[4; 97]);
    let p521 = PublicKey::EcP521(&[4; 133]);
    use SignatureAlgorithm as A;
    let cases: &[(A, &[&PublicKey<'_>])] = &[
        (A::RsaPkcs1Sha256, &[&p256, &p384, &p521]),
        (A::RsaPkcs1Sha384, &[&p256, &p384, &p521]),
        (A::RsaPkcs1Sha512, &[&p256, &p384, &p521]),
        (A::RsaPssSha256, &[&p256, &p384, &p521]),
        (A::RsaPssSha384, &[&p256, &p384, &p521]),
        (A::RsaPssSha512, &[&p256, &p384, &p521]),
        (A::EcdsaP256Sha256Fixed, &[&rsa, &p384, &p521]),
        (A::EcdsaP256Sha256Asn1, &[&rsa, &p384, &p521]),
        (A::EcdsaP384Sha384Fixed, &[&rsa, &p256, &p521]),
        (A::EcdsaP384Sha384Asn1, &[&rsa, &p256, &p521]),
        (A::EcdsaP521Sha512Fixed, &[&rsa, &p256, &p384]),
    ];
    for backend in &backends() {
        for (alg, keys) in cases {
            for key in *keys {
                assert_eq!(
                    backend.verifier.verify(*alg, key, b"m", &[0; 64]),
                    Err(SignatureError::KeyMismatch),
                    "{}: {alg:?} with {key:?}",
                    backend.name
                );
            }
        }
    }

    // The same through prepared keys (valid ones, so that preparing succeeds).
    let file = load("ecdsa_secp256r1_sha256_p1363_test.json");
    let Some(file) = file else { return };
    let point = unhex(file.groups[0].key.uncompressed.as_deref().unwrap());
    let prepared = PreparedKey::new(&PublicKey::EcP256(&point)).unwrap();
    for alg in [
        A::RsaPkcs1Sha256,
        A::RsaPssSha512,
        A::EcdsaP384Sha384Fixed,
        A::EcdsaP384Sha384Asn1,
        A::EcdsaP521Sha512Fixed,
    ] {
        assert_eq!(
            prepared.verify(alg, b"m", &[1; 64]),
            Err(SignatureError::KeyMismatch),
            "{alg:?}"
        );
    }
}
