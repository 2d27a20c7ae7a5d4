//! Differential test of the two verification backends: [`kauthn::RustCrypto`] and
//! `kauthn::AwsLc` must return the very same `Result` (verdict *and* error variant) for every
//! input, so that choosing a backend never changes who is authenticated.
//!
//! Inputs: every Wycheproof RSA and ECDSA case under its own algorithm and under neighbouring
//! ones (other padding or encoding, another curve, another key type) with key-encoding
//! variants; the JWS vectors (Wycheproof JWS/JWK, RFC 7515 Appendix A, RFC 7520) through
//! `verify_jws_payload`; the x509-limbo chains through `verify_client_chain`; signatures made
//! by AWS-LC itself and by the `rsa`/`p256`/`p384`/`p521` crates, with corruptions; and the
//! key-policy edges the backends' unit tests cover. Run with
//! `cargo test -p kauthn --features aws-lc --test backend_differential -- --nocapture`.
#![allow(clippy::std_instead_of_core)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

#[cfg(feature = "aws-lc")]
#[path = "jose_common/mod.rs"]
mod common;

/// Without the feature there is nothing to compare: say so instead of passing silently.
#[cfg(not(feature = "aws-lc"))]
#[test]
fn without_the_aws_lc_feature_nothing_is_compared() {
    println!(
        "SKIP: backend_differential needs `--features aws-lc` (the AwsLc backend is not built)"
    );
}

/// Everything that compares the backends.
#[cfg(feature = "aws-lc")]
mod with_aws_lc {
    use super::common::{SCRATCH, vectors};
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
    use kauthn::crypto::{PublicKey, SignatureAlgorithm, SignatureError, Verifier};
    use kauthn::jose::{AlgorithmSet, JoseError, KeySet, verify_jws_payload};
    use kauthn::{AwsLc, ClientCaPool, KeyPurpose, RustCrypto, Scratch, UnixTime, VerifyOptions};
    use serde_json::Value;

    use SignatureAlgorithm as A;

    const RSA_ALGORITHMS: [A; 6] = [
        A::RsaPkcs1Sha256,
        A::RsaPkcs1Sha384,
        A::RsaPkcs1Sha512,
        A::RsaPssSha256,
        A::RsaPssSha384,
        A::RsaPssSha512,
    ];

    const EC_ALGORITHMS: [A; 5] = [
        A::EcdsaP256Sha256Fixed,
        A::EcdsaP256Sha256Asn1,
        A::EcdsaP384Sha384Fixed,
        A::EcdsaP384Sha384Asn1,
        A::EcdsaP521Sha512Fixed,
    ];

    /// Compares the backends on each input, keeping the disagreements for one report.
    #[derive(Default)]
    struct Differ {
        compared: usize,
        verified: usize,
        disagreements: Vec<String>,
    }

    impl Differ {
        fn check(
            &mut self,
            what: &dyn Fn() -> String,
            alg: A,
            key: &PublicKey<'_>,
            msg: &[u8],
            sig: &[u8],
        ) -> Result<(), SignatureError> {
            let rc = RustCrypto.verify(alg, key, msg, sig);
            let lc = AwsLc.verify(alg, key, msg, sig);
            self.compared += 1;
            if rc.is_ok() {
                self.verified += 1;
            }
            if rc != lc {
                self.disagreements.push(format!(
                    "{} {alg:?}: RustCrypto {rc:?}, AwsLc {lc:?}",
                    what()
                ));
            }
            rc
        }

        fn finish(self, name: &str) {
            println!(
                "{name}: backends compared on {} inputs ({} verified), {} disagreements",
                self.compared,
                self.verified,
                self.disagreements.len()
            );
            assert!(
                self.disagreements.is_empty(),
                "{name}: the backends disagree:\n{}",
                self.disagreements.join("\n")
            );
            assert!(self.compared > 0, "{name}: nothing compared");
        }
    }

    fn unhex(s: &str) -> Vec<u8> {
        assert!(s.len().is_multiple_of(2), "odd-length hex");
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn hash_index(sha: &str) -> Option<usize> {
        match sha {
            "SHA-256" => Some(0),
            "SHA-384" => Some(1),
            "SHA-512" => Some(2),
            _ => None,
        }
    }

    /// One Wycheproof RSA file: each case under the file's padding with the group's hash (all
    /// three hashes when the group's is not SHA-2/256..512) and under the other padding, plus an
    /// EC algorithm (key mismatch); the first cases of each group also with a leading zero on
    /// the modulus and exponent (DER's sign byte), which both must ignore.
    fn rsa_file(d: &mut Differ, name: &str, doc: &Value) {
        let pss = name.starts_with("rsa_pss");
        for group in doc["testGroups"].as_array().unwrap() {
            let n = unhex(group["publicKey"]["modulus"].as_str().unwrap());
            let e = unhex(group["publicKey"]["publicExponent"].as_str().unwrap());
            let padded = ([&[0u8][..], &n].concat(), [&[0u8][..], &e].concat());
            let key = PublicKey::Rsa {
                modulus: &n,
                exponent: &e,
            };
            let padded_key = PublicKey::Rsa {
                modulus: &padded.0,
                exponent: &padded.1,
            };
            let hashes = match hash_index(group["sha"].as_str().unwrap()) {
                Some(h) => vec![h],
                None => vec![0, 1, 2],
            };
            for (i, case) in group["tests"].as_array().unwrap().iter().enumerate() {
                let (msg, sig) = (
                    unhex(case["msg"].as_str().unwrap()),
                    unhex(case["sig"].as_str().unwrap()),
                );
                let what = || format!("{name} tc {}", case["tcId"]);
                for &h in &hashes {
                    let (own, other) = if pss {
                        (RSA_ALGORITHMS[3 + h], RSA_ALGORITHMS[h])
                    } else {
                        (RSA_ALGORITHMS[h], RSA_ALGORITHMS[3 + h])
                    };
                    d.check(&what, own, &key, &msg, &sig).ok();
                    d.check(&what, other, &key, &msg, &sig).ok();
                    if i < 3 {
                        let padded_what = || format!("{} (zero-padded key)", what());
                        d.check(&padded_what, own, &padded_key, &msg, &sig).ok();
                    }
                }
                d.check(&what, A::EcdsaP256Sha256Fixed, &key, &msg, &sig)
                    .ok();
            }
        }
    }

    /// One Wycheproof ECDSA file: each case under both encodings on its curve, and under an
    /// algorithm of another curve and an RSA one (key mismatch); the first cases of each group
    /// also with the compressed form of the key and with the point declared on another curve.
    fn ecdsa_file(d: &mut Differ, name: &str, doc: &Value) {
        for group in doc["testGroups"].as_array().unwrap() {
            let point = unhex(group["publicKey"]["uncompressed"].as_str().unwrap());
            let mut compressed = point[..1 + (point.len() - 1) / 2].to_vec();
            compressed[0] = 2 | (point[point.len() - 1] & 1);
            let (key, compressed_key, wrong_curve, algs, foreign) =
                match group["publicKey"]["curve"].as_str().unwrap() {
                    "secp256r1" => (
                        PublicKey::EcP256(&point),
                        PublicKey::EcP256(&compressed),
                        PublicKey::EcP384(&point),
                        [A::EcdsaP256Sha256Fixed, A::EcdsaP256Sha256Asn1],
                        A::EcdsaP384Sha384Asn1,
                    ),
                    "secp384r1" => (
                        PublicKey::EcP384(&point),
                        PublicKey::EcP384(&compressed),
                        PublicKey::EcP521(&point),
                        [A::EcdsaP384Sha384Fixed, A::EcdsaP384Sha384Asn1],
                        A::EcdsaP521Sha512Fixed,
                    ),
                    other => panic!("{name}: unexpected curve {other}"),
                };
            for (i, case) in group["tests"].as_array().unwrap().iter().enumerate() {
                let (msg, sig) = (
                    unhex(case["msg"].as_str().unwrap()),
                    unhex(case["sig"].as_str().unwrap()),
                );
                let what = || format!("{name} tc {}", case["tcId"]);
                for alg in algs {
                    d.check(&what, alg, &key, &msg, &sig).ok();
                }
                d.check(&what, foreign, &key, &msg, &sig).ok();
                d.check(&what, A::RsaPssSha256, &key, &msg, &sig).ok();
                if i < 3 {
                    let alg = algs[usize::from(name.contains("p1363"))];
                    let variant = || format!("{} (compressed key)", what());
                    d.check(&variant, alg, &compressed_key, &msg, &sig).ok();
                    let variant = || format!("{} (point given for another curve)", what());
                    d.check(&variant, foreign, &wrong_curve, &msg, &sig).ok();
                }
            }
        }
    }

    #[test]
    fn backends_agree_on_every_wycheproof_signature_case() {
        let Some(dir) = vectors("wycheproof") else {
            return;
        };
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| (n.starts_with("rsa_") || n.starts_with("ecdsa_")) && n.ends_with(".json"))
            .collect();
        names.sort();
        assert!(names.len() >= 14, "signature files: {names:?}");
        let mut total = Differ::default();
        for name in &names {
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
            let mut d = Differ::default();
            if name.starts_with("rsa_") {
                rsa_file(&mut d, name, &doc);
            } else {
                ecdsa_file(&mut d, name, &doc);
            }
            println!(
                "{name}: {} inputs, {} verified, {} disagreements",
                d.compared,
                d.verified,
                d.disagreements.len()
            );
            total.compared += d.compared;
            total.verified += d.verified;
            total.disagreements.extend(d.disagreements);
        }
        total.finish(&format!("wycheproof ({} files)", names.len()));
    }

    fn jws_with(jwks: &str, token: &str, backend: &dyn Verifier) -> Result<(), JoseError> {
        let mut buf = vec![0u8; SCRATCH];
        let mut scratch = Scratch::new(&mut buf);
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

    /// `(label, JWKS, token)` of every JWS vector; a missing file is a printed skip.
    fn jws_cases() -> Vec<(String, String, String)> {
        let mut cases = vec![];
        for file in [
            "wycheproof/json_web_signature_test.json",
            "wycheproof/json_web_key_test.json",
        ] {
            let Some(path) = vectors(file) else { continue };
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            for g in doc["testGroups"].as_array().unwrap() {
                let key = g.get("public").or_else(|| g.get("private")).unwrap();
                let jwks = serde_json::to_string(key).unwrap();
                for tc in g["tests"].as_array().unwrap() {
                    let label = format!("{file} tc {}", tc["tcId"]);
                    cases.push((label, jwks.clone(), token_text(&tc["jws"])));
                }
            }
        }
        if let Some(path) = vectors("jose/rfc7515_appendix_a.json") {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            for c in doc["cases"].as_array().unwrap() {
                let jwk = &c["public_jwk"];
                let jwks = if jwk.is_object() {
                    serde_json::to_string(jwk).unwrap()
                } else {
                    r#"{"keys":[]}"#.to_string()
                };
                let label = format!("RFC 7515 {}", c["section"]);
                cases.push((label, jwks, c["compact"].as_str().unwrap().to_string()));
            }
        }
        if let Some(dir) = vectors("jose/rfc7520") {
            for sub in ["jws", "rfc7797"] {
                let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                files.sort();
                for f in files {
                    let doc: Value =
                        serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
                    let key = &doc["input"]["key"];
                    let jwks = if key.is_array() {
                        serde_json::json!({ "keys": key }).to_string()
                    } else {
                        serde_json::to_string(key).unwrap()
                    };
                    for form in ["compact", "json", "json_flat"] {
                        if let Some(token) = doc["output"].get(form) {
                            let label = format!("RFC 7520 {} {form}", f.display());
                            cases.push((label, jwks.clone(), token_text(token)));
                        }
                    }
                }
            }
        }
        cases
    }

    #[test]
    fn backends_agree_on_every_jws_vector() {
        let cases = jws_cases();
        if cases.is_empty() {
            println!("SKIP: no JWS vectors found");
            return;
        }
        let (mut verified, mut disagreements) = (0, vec![]);
        for (label, jwks, token) in &cases {
            let rc = jws_with(jwks, token, &RustCrypto);
            let lc = jws_with(jwks, token, &AwsLc);
            verified += usize::from(rc.is_ok());
            if rc != lc {
                disagreements.push(format!("{label}: RustCrypto {rc:?}, AwsLc {lc:?}"));
            }
        }
        println!(
            "JWS vectors: backends compared on {} tokens ({verified} verified), {} disagreements",
            cases.len(),
            disagreements.len()
        );
        assert!(verified > 0, "no JWS vector verified");
        assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    }

    fn pem_to_der(pem: &str) -> Vec<u8> {
        let mut buf = vec![0u8; pem.len()];
        let (_, der) = pem_rfc7468::decode(pem.as_bytes(), &mut buf).unwrap();
        der.to_vec()
    }

    /// One x509-limbo case through `verify_client_chain`, as `tests/x509_limbo.rs` runs it; the
    /// error text is compared, so a different failure reason counts as a disagreement.
    fn limbo_case(case: &Value, verifier: &dyn Verifier) -> Result<(), String> {
        let trusted: String = case["trusted_certs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let pool = ClientCaPool::from_pem(trusted.as_bytes()).map_err(|e| format!("pool: {e}"))?;
        let leaf = pem_to_der(case["peer_certificate"].as_str().unwrap());
        let inters: Vec<Vec<u8>> = case["untrusted_intermediates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| pem_to_der(v.as_str().unwrap()))
            .collect();
        let mut chain: Vec<&[u8]> = vec![&leaf];
        chain.extend(inters.iter().map(Vec::as_slice));
        // A fixed instant for cases without one: both backends see the same clock.
        let now = match case["validation_time"].as_str() {
            Some(t) => UnixTime::parse_rfc3339(t.as_bytes()).unwrap().0,
            None => UnixTime::from_secs(1_800_000_000),
        };
        let purpose = match case["validation_kind"].as_str().unwrap() {
            "CLIENT" => KeyPurpose::ClientAuth,
            _ => KeyPurpose::ServerAuth,
        };
        let mut opts = VerifyOptions::client_auth().with_purpose(purpose);
        if let Some(depth) = case["max_chain_depth"].as_u64() {
            opts = opts.with_max_intermediates(usize::try_from(depth).unwrap());
        }
        kauthn::verify_client_chain(&pool, &chain, now, verifier, &opts)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn backends_agree_on_every_x509_limbo_chain() {
        let Some(path) = vectors("x509-limbo/limbo-client-relevant.json") else {
            return;
        };
        let suite: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let (mut n, mut verified, mut disagreements) = (0, 0, vec![]);
        for case in suite["testcases"].as_array().unwrap() {
            let rc = limbo_case(case, &RustCrypto);
            let lc = limbo_case(case, &AwsLc);
            n += 1;
            verified += usize::from(rc.is_ok());
            if rc != lc {
                disagreements.push(format!("{}: RustCrypto {rc:?}, AwsLc {lc:?}", case["id"]));
            }
        }
        println!(
            "x509-limbo: backends compared on {n} chains ({verified} verified), {} disagreements",
            disagreements.len()
        );
        assert!(verified > 0);
        assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    }

    /// `point` as a key of `alg`'s curve.
    fn ec_key(alg: A, point: &[u8]) -> PublicKey<'_> {
        match alg {
            A::EcdsaP256Sha256Fixed | A::EcdsaP256Sha256Asn1 => PublicKey::EcP256(point),
            A::EcdsaP384Sha384Fixed | A::EcdsaP384Sha384Asn1 => PublicKey::EcP384(point),
            _ => PublicKey::EcP521(point),
        }
    }

    /// Flips one bit of `bytes` at a position derived from `seed`.
    fn flip(bytes: &[u8], seed: usize) -> Vec<u8> {
        let mut out = bytes.to_vec();
        let bit = seed.wrapping_mul(2_654_435_761) % (out.len() * 8);
        out[bit / 8] ^= 1 << (bit % 8);
        out
    }

    /// A valid signature, then the corruptions: a flipped signature bit, a flipped message
    /// bit, every other algorithm of the same key type, a truncated and an extended signature.
    fn signature_and_corruptions(
        d: &mut Differ,
        label: &str,
        alg: A,
        key: &PublicKey<'_>,
        msg: &[u8],
        sig: &[u8],
        seed: usize,
    ) {
        let what = || format!("{label} {alg:?}");
        assert_eq!(d.check(&what, alg, key, msg, sig), Ok(()), "{}", what());
        d.check(&what, alg, key, msg, &flip(sig, seed)).ok();
        d.check(&what, alg, key, &flip(msg, seed), sig).ok();
        d.check(&what, alg, key, msg, &sig[..sig.len() - 1]).ok();
        d.check(&what, alg, key, msg, &[sig, &[0]].concat()).ok();
        let family: &[A] = if RSA_ALGORITHMS.contains(&alg) {
            &RSA_ALGORITHMS
        } else {
            &EC_ALGORITHMS
        };
        for &other in family.iter().filter(|&&o| o != alg) {
            d.check(&what, other, key, msg, sig).ok();
        }
    }

    /// Encodes `r || s` as a DER `Ecdsa-Sig-Value` (test-side helper, lengths below 128).
    fn der(fixed: &[u8]) -> Vec<u8> {
        let int = |mut v: &[u8]| {
            while v.len() > 1 && v[0] == 0 {
                v = &v[1..];
            }
            let sign = if v[0] & 0x80 != 0 { &[0u8][..] } else { &[] };
            let len = u8::try_from(sign.len() + v.len()).unwrap();
            [&[0x02, len][..], sign, v].concat()
        };
        let (r, s) = fixed.split_at(fixed.len() / 2);
        let body = [int(r), int(s)].concat();
        [vec![0x30, u8::try_from(body.len()).unwrap()], body].concat()
    }

    /// A DER `RSAPublicKey` (as AWS-LC exports it) as `(n, e)`, keeping DER's sign byte.
    fn rsa_public_key_der(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
        fn tlv(input: &[u8]) -> (&[u8], &[u8]) {
            let (len, header) = match input[1] {
                l if l < 0x80 => (usize::from(l), 2),
                0x81 => (usize::from(input[2]), 3),
                0x82 => (usize::from(u16::from_be_bytes([input[2], input[3]])), 4),
                other => panic!("length form {other:#x}"),
            };
            (&input[header..header + len], &input[header + len..])
        }
        let (seq, _) = tlv(der);
        let (n, rest) = tlv(seq);
        let (e, _) = tlv(rest);
        (n.to_vec(), e.to_vec())
    }

    #[test]
    fn signatures_made_by_aws_lc_verify_with_both_backends_and_corruptions_fail_alike() {
        let rng = SystemRandom::new();
        let mut d = Differ::default();
        let msg = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ";
        let rsa_encodings: [(A, &'static dyn lc::RsaEncoding); 6] = [
            (A::RsaPkcs1Sha256, &lc::RSA_PKCS1_SHA256),
            (A::RsaPkcs1Sha384, &lc::RSA_PKCS1_SHA384),
            (A::RsaPkcs1Sha512, &lc::RSA_PKCS1_SHA512),
            (A::RsaPssSha256, &lc::RSA_PSS_SHA256),
            (A::RsaPssSha384, &lc::RSA_PSS_SHA384),
            (A::RsaPssSha512, &lc::RSA_PSS_SHA512),
        ];
        for size in [
            aws_lc_rs::rsa::KeySize::Rsa2048,
            aws_lc_rs::rsa::KeySize::Rsa3072,
            aws_lc_rs::rsa::KeySize::Rsa4096,
        ] {
            let pair = RsaKeyPair::generate(size).unwrap();
            let (n, e) = rsa_public_key_der(pair.public_key().as_ref());
            let key = PublicKey::Rsa {
                modulus: &n,
                exponent: &e,
            };
            for (i, (alg, encoding)) in rsa_encodings.iter().enumerate() {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(*encoding, &rng, msg, &mut sig).unwrap();
                signature_and_corruptions(&mut d, &format!("{size:?}"), *alg, &key, msg, &sig, i);
            }
        }
        let ec: [(A, &'static lc::EcdsaSigningAlgorithm); 5] = [
            (
                A::EcdsaP256Sha256Fixed,
                &lc::ECDSA_P256_SHA256_FIXED_SIGNING,
            ),
            (A::EcdsaP256Sha256Asn1, &lc::ECDSA_P256_SHA256_ASN1_SIGNING),
            (
                A::EcdsaP384Sha384Fixed,
                &lc::ECDSA_P384_SHA384_FIXED_SIGNING,
            ),
            (A::EcdsaP384Sha384Asn1, &lc::ECDSA_P384_SHA384_ASN1_SIGNING),
            (
                A::EcdsaP521Sha512Fixed,
                &lc::ECDSA_P521_SHA512_FIXED_SIGNING,
            ),
        ];
        for (alg, signing) in ec {
            for round in 0..8 {
                let pair = EcdsaKeyPair::generate(signing).unwrap();
                let point = pair.public_key().as_ref().to_vec();
                let sig = pair.sign(&rng, msg).unwrap();
                signature_and_corruptions(
                    &mut d,
                    "aws-lc ECDSA",
                    alg,
                    &ec_key(alg, &point),
                    msg,
                    sig.as_ref(),
                    round,
                );
            }
        }
        d.finish("signatures made by AWS-LC");
    }

    #[test]
    fn signatures_made_by_the_rustcrypto_crates_verify_with_both_backends() {
        use rand::SeedableRng;
        use rand::rngs::ChaCha8Rng;
        use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
        use rsa::traits::PublicKeyParts;

        let mut rng = ChaCha8Rng::seed_from_u64(0x0061_7773_6c63);
        let mut d = Differ::default();
        let msg = b"eyJhbGciOiJQUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIn0";
        // 2049 bits: PSS's emLen = k - 1 path; the rsa crate signs independently of both backends.
        for bits in [2048, 2049] {
            let private = rsa::PrivateKey::new(&mut rng, bits).unwrap();
            let (n, e) = (private.n_bytes(), private.e_bytes());
            let key = PublicKey::Rsa {
                modulus: &n,
                exponent: &e,
            };
            use rsa::sha2::{Sha256, Sha384, Sha512};
            use rsa::{pkcs1v15, pss};
            let p = private.clone();
            let sigs: [(A, Vec<u8>); 6] = [
                (
                    A::RsaPkcs1Sha256,
                    pkcs1v15::SigningKey::<Sha256>::new(p.clone())
                        .sign(msg)
                        .to_vec(),
                ),
                (
                    A::RsaPkcs1Sha384,
                    pkcs1v15::SigningKey::<Sha384>::new(p.clone())
                        .sign(msg)
                        .to_vec(),
                ),
                (
                    A::RsaPkcs1Sha512,
                    pkcs1v15::SigningKey::<Sha512>::new(p.clone())
                        .sign(msg)
                        .to_vec(),
                ),
                (
                    A::RsaPssSha256,
                    pss::SigningKey::<Sha256>::new(p.clone())
                        .sign_with_rng(&mut rng, msg)
                        .to_vec(),
                ),
                (
                    A::RsaPssSha384,
                    pss::SigningKey::<Sha384>::new(p.clone())
                        .sign_with_rng(&mut rng, msg)
                        .to_vec(),
                ),
                (
                    A::RsaPssSha512,
                    pss::SigningKey::<Sha512>::new(p)
                        .sign_with_rng(&mut rng, msg)
                        .to_vec(),
                ),
            ];
            for (i, (alg, sig)) in sigs.iter().enumerate() {
                signature_and_corruptions(&mut d, &format!("rsa {bits}"), *alg, &key, msg, sig, i);
            }
        }
        for seed in 1..=4u8 {
            let k256 = p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap();
            let point = k256.verifying_key().to_sec1_point(false);
            let sig: p256::ecdsa::Signature = k256.sign(msg);
            let key = PublicKey::EcP256(point.as_bytes());
            let label = "p256 crate";
            let fixed = sig.to_bytes().to_vec();
            let asn1 = der(&fixed);
            signature_and_corruptions(&mut d, label, A::EcdsaP256Sha256Fixed, &key, msg, &fixed, 1);
            signature_and_corruptions(&mut d, label, A::EcdsaP256Sha256Asn1, &key, msg, &asn1, 2);

            let k384 = p384::ecdsa::SigningKey::from_slice(&[seed; 48]).unwrap();
            let point = k384.verifying_key().to_sec1_point(false);
            let sig: p384::ecdsa::Signature = k384.sign(msg);
            let key = PublicKey::EcP384(point.as_bytes());
            let label = "p384 crate";
            let fixed = sig.to_bytes().to_vec();
            let asn1 = der(&fixed);
            signature_and_corruptions(&mut d, label, A::EcdsaP384Sha384Fixed, &key, msg, &fixed, 3);
            signature_and_corruptions(&mut d, label, A::EcdsaP384Sha384Asn1, &key, msg, &asn1, 4);

            let mut secret = [seed; 66];
            secret[0] = 0x01;
            let k521 = p521::ecdsa::SigningKey::from_slice(&secret).unwrap();
            let point = k521.verifying_key().to_sec1_point(false);
            let sig: p521::ecdsa::Signature = k521.sign(msg);
            let key = PublicKey::EcP521(point.as_bytes());
            let fixed = sig.to_bytes().to_vec();
            signature_and_corruptions(
                &mut d,
                "p521 crate",
                A::EcdsaP521Sha512Fixed,
                &key,
                msg,
                &fixed,
                5,
            );
        }
        d.finish("signatures made by the rsa/p256/p384/p521 crates");
    }

    /// RFC 7515 Appendix A.4 (ES512 over P-521), the P-521 known answer of `crypto/ecdsa.rs`'s
    /// unit tests, with its corruptions: zero and out-of-range scalars, wrong widths.
    #[test]
    fn rfc7515_es512_example_and_its_corruptions_get_the_same_verdicts() {
        let point = unhex(concat!(
            "04",
            "01e929050f124fc6bc55c7d5393365df9def4ab0c22cb25798f934eb04e3c6bae3701a57a7910e9d81bf",
            "363159e8ebcb155d6349f4bdb6ccf8a94c5c59c7aac101a4",
            "0034a6440e376750d2371fd1bdc2c8f3b71d2f4ee5ea3432c815cca31560fe5d9387ec774b55838630e5",
            "cbbf5a8cbe0a91dd0064c6999a1f6e6e67faddede4c8c8f6"
        ));
        let sig = unhex(concat!(
            "01dc0c81e7abc2d1e887e975f7697ad21a7dc001d915525b2df0ff531322ef47309d93986912356ca3d6",
            "44e73e99966ac2a4f6488f8a183281df85ced1ac3fed776d",
            "006f06692c0529d0803d98285c3d980496423c45f7c4aa51c1c74e3bc2a9107c098f2a8e8330ceee22af",
            "53cbdc9f036b9b161b496f444415ee90e5e894bcde3bf267"
        ));
        let msg = b"eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA";
        let key = PublicKey::EcP521(&point);
        let mut d = Differ::default();
        signature_and_corruptions(
            &mut d,
            "RFC 7515 A.4",
            A::EcdsaP521Sha512Fixed,
            &key,
            msg,
            &sig,
            7,
        );
        let mut zero_r = sig.clone();
        zero_r[..66].fill(0);
        let mut zero_s = sig.clone();
        zero_s[66..].fill(0);
        let mut big_r = sig.clone();
        big_r[..66].fill(0xff);
        big_r[0] = 0x01;
        for (label, bad) in [
            ("r = 0", zero_r),
            ("s = 0", zero_s),
            ("r >= n", big_r),
            ("all zero", vec![0; 132]),
        ] {
            let got = d.check(
                &|| label.to_string(),
                A::EcdsaP521Sha512Fixed,
                &key,
                msg,
                &bad,
            );
            assert_eq!(got, Err(SignatureError::BadSignature), "{label}");
        }
        d.finish("RFC 7515 A.4");
    }

    /// The EC key policy: uncompressed points of the exact size, on the curve.
    #[test]
    fn malformed_and_compressed_points_are_rejected_alike() {
        let mut d = Differ::default();
        for (alg, len) in [
            (A::EcdsaP256Sha256Fixed, 65),
            (A::EcdsaP384Sha384Asn1, 97),
            (A::EcdsaP521Sha512Fixed, 133),
        ] {
            // A real point of the curve, to derive the malformed variants from.
            let point = match len {
                65 => p256::ecdsa::SigningKey::from_slice(&[7; 32])
                    .unwrap()
                    .verifying_key()
                    .to_sec1_point(false)
                    .as_bytes()
                    .to_vec(),
                97 => p384::ecdsa::SigningKey::from_slice(&[7; 48])
                    .unwrap()
                    .verifying_key()
                    .to_sec1_point(false)
                    .as_bytes()
                    .to_vec(),
                _ => {
                    let mut s = [7; 66];
                    s[0] = 1;
                    p521::ecdsa::SigningKey::from_slice(&s)
                        .unwrap()
                        .verifying_key()
                        .to_sec1_point(false)
                        .as_bytes()
                        .to_vec()
                }
            };
            let mut compressed = point[..1 + len / 2].to_vec();
            compressed[0] = 2 | (point[len - 1] & 1);
            let mut off_curve = point.clone();
            off_curve[len - 1] ^= 1;
            let mut hybrid = point.clone();
            hybrid[0] = 6 | (point[len - 1] & 1);
            let variants: [(&str, Vec<u8>); 8] = [
                ("compressed", compressed),
                ("off the curve", off_curve),
                ("hybrid", hybrid),
                ("one byte short", point[..len - 1].to_vec()),
                ("one byte long", [&point[..], &[0]].concat()),
                ("identity", vec![0]),
                ("empty", vec![]),
                ("x = y = 0", [&[4u8][..], &vec![0; len - 1]].concat()),
            ];
            let sig = vec![1u8; 2 * (len / 2)];
            for (label, bytes) in &variants {
                let what = || format!("{alg:?} {label}");
                let got = d.check(&what, alg, &ec_key(alg, bytes), b"m", &sig);
                assert_eq!(got, Err(SignatureError::KeyRejected), "{}", what());
            }
            // The valid point itself is accepted and the bogus signature fails.
            let got = d.check(
                &|| format!("{alg:?} valid point"),
                alg,
                &ec_key(alg, &point),
                b"m",
                &sig,
            );
            assert_eq!(got, Err(SignatureError::BadSignature));
        }
        d.finish("EC key policy");
    }

    /// The RSA key policy (size bounds, exponent rules, odd modulus) and the signature length
    /// and range rules of `crypto/rsa.rs`'s unit tests, including aws-lc-rs's own wider limits
    /// (8192-bit moduli, 33-bit exponents) that the shared policy narrows.
    #[test]
    fn rsa_key_policy_and_signature_range_give_the_same_verdicts() {
        fn modulus(bits: usize) -> Vec<u8> {
            let mut n = vec![0xffu8; bits.div_ceil(8)];
            if !bits.is_multiple_of(8) {
                n[0] = 0xff >> (8 - bits % 8);
            }
            n
        }
        let mut d = Differ::default();
        let e = [1u8, 0, 1];
        for bits in [
            1024, 2040, 2047, 2048, 2049, 3072, 4095, 4096, 4097, 4104, 8192,
        ] {
            let n = modulus(bits);
            let key = PublicKey::Rsa {
                modulus: &n,
                exponent: &e,
            };
            let sig = vec![1u8; n.len()];
            for alg in RSA_ALGORITHMS {
                let got = d.check(&|| format!("{bits}-bit modulus"), alg, &key, b"m", &sig);
                let expected = if (2048..=4096).contains(&bits) {
                    SignatureError::BadSignature
                } else {
                    SignatureError::KeyRejected
                };
                assert_eq!(got, Err(expected), "{bits} bits {alg:?}");
            }
        }
        let n = modulus(2048);
        let exponents: [(&[u8], bool); 12] = [
            (&[], false),
            (&[0], false),
            (&[1], false),
            (&[2], false),
            (&[3], true),
            (&[0, 0, 1, 0, 1], true),
            (&[0x01, 0x00, 0x00], false),
            (&[0xff, 0xff, 0xff, 0xff], true),
            // 2^32 + 1 and 2^33 - 1: AWS-LC alone would take them (33 bits), the policy does not.
            (&[1, 0, 0, 0, 1], false),
            (&[1, 0xff, 0xff, 0xff, 0xff], false),
            (&[0x80, 0, 0, 1], true),
            (&[0x7f, 0xff, 0xff, 0xfe], false),
        ];
        for (e, ok) in exponents {
            let key = PublicKey::Rsa {
                modulus: &n,
                exponent: e,
            };
            let got = d.check(
                &|| format!("exponent {e:02x?}"),
                A::RsaPkcs1Sha256,
                &key,
                b"m",
                &[1; 256],
            );
            let expected = if ok {
                SignatureError::BadSignature
            } else {
                SignatureError::KeyRejected
            };
            assert_eq!(got, Err(expected), "exponent {e:02x?}");
        }
        let mut even = n.clone();
        even[255] = 0xfe;
        let key = PublicKey::Rsa {
            modulus: &even,
            exponent: &e,
        };
        let got = d.check(
            &|| "even modulus".into(),
            A::RsaPssSha256,
            &key,
            b"m",
            &[1; 256],
        );
        assert_eq!(got, Err(SignatureError::KeyRejected));
        // Signature length and range: k - 1, k + 1 bytes, s = n, s = 0.
        let key = PublicKey::Rsa {
            modulus: &n,
            exponent: &e,
        };
        for (label, sig) in [
            ("short", vec![1u8; 255]),
            ("long", vec![1u8; 257]),
            ("s = n", n.clone()),
            ("s = 0", vec![0u8; 256]),
            ("zero-padded s", [&[0u8][..], &[1u8; 256]].concat()),
        ] {
            for alg in RSA_ALGORITHMS {
                let got = d.check(&|| label.to_string(), alg, &key, b"m", &sig);
                assert_eq!(got, Err(SignatureError::BadSignature), "{label} {alg:?}");
            }
        }
        d.finish("RSA key policy");
    }
}
