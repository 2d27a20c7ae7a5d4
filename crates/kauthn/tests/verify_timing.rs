//! Rough per-verification timings of [`kauthn::RustCrypto`]; not a benchmark (benches/ has
//! those). Ignored by default, run with
//! `cargo test --release -p kauthn --test verify_timing -- --ignored --nocapture`.
#![allow(clippy::std_instead_of_core)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use kauthn::RustCrypto;
use kauthn::crypto::{PreparedKey, PublicKey, SignatureAlgorithm, Verifier as _};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rsa::sha2::Sha256;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;

fn time(name: &str, alg: SignatureAlgorithm, key: &PublicKey<'_>, msg: &[u8], sig: &[u8]) {
    assert_eq!(RustCrypto.verify(alg, key, msg, sig), Ok(()));
    let rounds = 200;
    let start = Instant::now();
    for _ in 0..rounds {
        RustCrypto
            .verify(alg, core::hint::black_box(key), msg, sig)
            .unwrap();
    }
    let each = start.elapsed() / rounds;
    let prepared = PreparedKey::new(key).unwrap();
    let start = Instant::now();
    for _ in 0..rounds {
        core::hint::black_box(&prepared)
            .verify(alg, msg, sig)
            .unwrap();
    }
    let each_prepared = start.elapsed() / rounds;
    println!(
        "{name:<12} {:>8.1} µs one-shot {:>8.1} µs prepared",
        each.as_secs_f64() * 1e6,
        each_prepared.as_secs_f64() * 1e6
    );
}

#[test]
#[ignore = "timing only; run with --release --ignored"]
fn rough_verification_timings() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let msg = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ";
    for bits in [2048, 3072, 4096] {
        let private = rsa::PrivateKey::new(&mut rng, bits).unwrap();
        let (n, e) = (private.n_bytes(), private.e_bytes());
        let key = PublicKey::Rsa {
            modulus: &n,
            exponent: &e,
        };
        let rs = rsa::pkcs1v15::SigningKey::<Sha256>::new(private.clone())
            .sign(msg)
            .to_vec();
        let ps = rsa::pss::SigningKey::<Sha256>::new(private)
            .sign_with_rng(&mut rng, msg)
            .to_vec();
        time(
            &format!("RS256 {bits}"),
            SignatureAlgorithm::RsaPkcs1Sha256,
            &key,
            msg,
            &rs,
        );
        time(
            &format!("PS256 {bits}"),
            SignatureAlgorithm::RsaPssSha256,
            &key,
            msg,
            &ps,
        );
    }
    let k256 = p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap();
    let p = k256.verifying_key().to_sec1_point(false);
    let s: p256::ecdsa::Signature = k256.sign(msg);
    let key = PublicKey::EcP256(p.as_bytes());
    time(
        "ES256",
        SignatureAlgorithm::EcdsaP256Sha256Fixed,
        &key,
        msg,
        &s.to_bytes(),
    );
    let k384 = p384::ecdsa::SigningKey::from_slice(&[0x22; 48]).unwrap();
    let p = k384.verifying_key().to_sec1_point(false);
    let s: p384::ecdsa::Signature = k384.sign(msg);
    let key = PublicKey::EcP384(p.as_bytes());
    time(
        "ES384",
        SignatureAlgorithm::EcdsaP384Sha384Fixed,
        &key,
        msg,
        &s.to_bytes(),
    );
    let mut secret = [0x33; 66];
    secret[0] = 1;
    let k521 = p521::ecdsa::SigningKey::from_slice(&secret).unwrap();
    let p = k521.verifying_key().to_sec1_point(false);
    let s: p521::ecdsa::Signature = k521.sign(msg);
    let key = PublicKey::EcP521(p.as_bytes());
    time(
        "ES512",
        SignatureAlgorithm::EcdsaP521Sha512Fixed,
        &key,
        msg,
        &s.to_bytes(),
    );
}
