//! `RustCrypto::verify` performs no heap allocation, proven with a counting global allocator.
//!
//! Keys and signatures are made first (that allocates freely); only the `verify` calls are
//! measured.
#![allow(clippy::std_instead_of_core)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[path = "counting_alloc/mod.rs"]
mod counting_alloc;

use kauthn::RustCrypto;
use kauthn::crypto::{PreparedKey, PublicKey, SignatureAlgorithm, SignatureError, Verifier as _};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rsa::sha2::Sha256;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;

/// Runs `f` and returns how many allocations and reallocations happened meanwhile. The
/// counters are process-wide; this binary has a single test, so while it runs the harness's
/// main thread only waits for it.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = counting_alloc::count();
    f();
    counting_alloc::count() - before
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

#[test]
fn verification_allocates_nothing() {
    // The counter itself must see an allocation, or a zero below would prove nothing.
    assert!(allocations_during(|| drop(core::hint::black_box(Vec::<u8>::with_capacity(8)))) > 0);

    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let msg = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ";

    let rsa_key = rsa::PrivateKey::new(&mut rng, 2048).unwrap();
    let (n, e) = (rsa_key.n_bytes(), rsa_key.e_bytes());
    let rs256 = rsa::pkcs1v15::SigningKey::<Sha256>::new(rsa_key.clone())
        .sign(msg)
        .to_vec();
    let ps256 = rsa::pss::SigningKey::<Sha256>::new(rsa_key)
        .sign_with_rng(&mut rng, msg)
        .to_vec();

    let p256_key = p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap();
    let p256_point = p256_key.verifying_key().to_sec1_point(false);
    let es256: p256::ecdsa::Signature = p256_key.sign(msg);
    let es256 = es256.to_bytes().to_vec();
    let es256_der = der(&es256);

    let p384_key = p384::ecdsa::SigningKey::from_slice(&[0x22; 48]).unwrap();
    let p384_point = p384_key.verifying_key().to_sec1_point(false);
    let es384: p384::ecdsa::Signature = p384_key.sign(msg);
    let es384 = es384.to_bytes().to_vec();

    let mut p521_secret = [0x33; 66];
    p521_secret[0] = 0x01;
    let p521_key = p521::ecdsa::SigningKey::from_slice(&p521_secret).unwrap();
    let p521_point = p521_key.verifying_key().to_sec1_point(false);
    let es512: p521::ecdsa::Signature = p521_key.sign(msg);
    let es512 = es512.to_bytes().to_vec();

    let rsa = PublicKey::Rsa {
        modulus: &n,
        exponent: &e,
    };
    use SignatureAlgorithm as A;
    let cases: [(A, PublicKey<'_>, &[u8]); 6] = [
        (A::RsaPkcs1Sha256, rsa, &rs256),
        (A::RsaPssSha256, rsa, &ps256),
        (
            A::EcdsaP256Sha256Fixed,
            PublicKey::EcP256(p256_point.as_bytes()),
            &es256,
        ),
        (
            A::EcdsaP256Sha256Asn1,
            PublicKey::EcP256(p256_point.as_bytes()),
            &es256_der,
        ),
        (
            A::EcdsaP384Sha384Fixed,
            PublicKey::EcP384(p384_point.as_bytes()),
            &es384,
        ),
        (
            A::EcdsaP521Sha512Fixed,
            PublicKey::EcP521(p521_point.as_bytes()),
            &es512,
        ),
    ];
    for (alg, key, sig) in &cases {
        let mut result = Err(SignatureError::UnsupportedAlgorithm);
        let count = allocations_during(|| result = RustCrypto.verify(*alg, key, msg, sig));
        assert_eq!(result, Ok(()), "{alg:?} must verify");
        assert_eq!(count, 0, "{alg:?}: verify allocated {count} times");

        // Preparing a key and verifying with it.
        let count = allocations_during(|| {
            result = PreparedKey::new(key).and_then(|p| p.verify(*alg, msg, sig));
        });
        assert_eq!(result, Ok(()), "{alg:?} must verify with a prepared key");
        assert_eq!(count, 0, "{alg:?}: prepared path allocated {count} times");

        // Rejections must not allocate either.
        let mut bad = sig.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let count = allocations_during(|| result = RustCrypto.verify(*alg, key, msg, &bad));
        assert!(result.is_err(), "{alg:?}: corrupted signature verified");
        assert_eq!(count, 0, "{alg:?}: rejection allocated {count} times");
    }
    println!(
        "alloc_crypto: {} algorithms verified with 0 allocations",
        cases.len()
    );
}
