//! Differential test: signatures made by the `rsa` crate (an independent, allocating
//! implementation) verify with [`kauthn::RustCrypto`], and corrupted ones are rejected by both.
//! Covers all six RSA algorithms, including SHA-384/512 for which no Wycheproof file is kept.
#![allow(clippy::std_instead_of_core)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use kauthn::RustCrypto;
use kauthn::crypto::{PublicKey, SignatureAlgorithm, SignatureError, Verifier as _};
use rand::rngs::ChaCha8Rng;
use rand::{Rng, SeedableRng};
use rsa::sha2::{Sha256, Sha384, Sha512};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey, PublicKey as RsaPublicKey, pkcs1v15, pss};

/// Signs with the `rsa` crate under `alg`.
fn sign(alg: SignatureAlgorithm, key: &PrivateKey, rng: &mut ChaCha8Rng, msg: &[u8]) -> Vec<u8> {
    use SignatureAlgorithm as A;
    let key = key.clone();
    match alg {
        A::RsaPkcs1Sha256 => pkcs1v15::SigningKey::<Sha256>::new(key).sign(msg).to_vec(),
        A::RsaPkcs1Sha384 => pkcs1v15::SigningKey::<Sha384>::new(key).sign(msg).to_vec(),
        A::RsaPkcs1Sha512 => pkcs1v15::SigningKey::<Sha512>::new(key).sign(msg).to_vec(),
        // `pss::SigningKey::new` uses a salt as long as the hash, as JOSE requires.
        A::RsaPssSha256 => pss::SigningKey::<Sha256>::new(key)
            .sign_with_rng(rng, msg)
            .to_vec(),
        A::RsaPssSha384 => pss::SigningKey::<Sha384>::new(key)
            .sign_with_rng(rng, msg)
            .to_vec(),
        A::RsaPssSha512 => pss::SigningKey::<Sha512>::new(key)
            .sign_with_rng(rng, msg)
            .to_vec(),
        _ => unreachable!(),
    }
}

/// Verifies with the `rsa` crate under `alg`.
fn rsa_crate_accepts(alg: SignatureAlgorithm, key: &RsaPublicKey, msg: &[u8], sig: &[u8]) -> bool {
    use SignatureAlgorithm as A;
    let key = key.clone();
    match alg {
        A::RsaPkcs1Sha256 | A::RsaPkcs1Sha384 | A::RsaPkcs1Sha512 => {
            let Ok(sig) = pkcs1v15::Signature::try_from(sig) else {
                return false;
            };
            match alg {
                A::RsaPkcs1Sha256 => pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(msg, &sig),
                A::RsaPkcs1Sha384 => pkcs1v15::VerifyingKey::<Sha384>::new(key).verify(msg, &sig),
                _ => pkcs1v15::VerifyingKey::<Sha512>::new(key).verify(msg, &sig),
            }
            .is_ok()
        }
        _ => {
            let Ok(sig) = pss::Signature::try_from(sig) else {
                return false;
            };
            match alg {
                A::RsaPssSha256 => pss::VerifyingKey::<Sha256>::new(key).verify(msg, &sig),
                A::RsaPssSha384 => pss::VerifyingKey::<Sha384>::new(key).verify(msg, &sig),
                _ => pss::VerifyingKey::<Sha512>::new(key).verify(msg, &sig),
            }
            .is_ok()
        }
    }
}

const ALGORITHMS: [SignatureAlgorithm; 6] = [
    SignatureAlgorithm::RsaPkcs1Sha256,
    SignatureAlgorithm::RsaPkcs1Sha384,
    SignatureAlgorithm::RsaPkcs1Sha512,
    SignatureAlgorithm::RsaPssSha256,
    SignatureAlgorithm::RsaPssSha384,
    SignatureAlgorithm::RsaPssSha512,
];

#[test]
fn signatures_from_the_rsa_crate_verify_and_corruptions_are_rejected_by_both() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x6b61_7574_686e);
    let mut checked = 0;
    // 2049 bits: emLen = k - 1 in PSS (the extra leading byte path); 2056 bits: a modulus
    // that does not fill its fixed width (U3072).
    for bits in [2048, 2049, 2056, 3072] {
        let private = PrivateKey::new(&mut rng, bits).unwrap();
        let public = private.to_public_key();
        let (n, e) = (public.n_bytes(), public.e_bytes());
        assert_eq!(
            n.len() * 8 - n[0].leading_zeros() as usize,
            bits,
            "modulus size"
        );
        let key = PublicKey::Rsa {
            modulus: &n,
            exponent: &e,
        };
        for round in 0..2 {
            let mut msg = vec![0u8; (rng.next_u32() % 200) as usize + round];
            rng.fill_bytes(&mut msg);
            for alg in ALGORITHMS {
                let sig = sign(alg, &private, &mut rng, &msg);
                assert!(rsa_crate_accepts(alg, &public, &msg, &sig));
                assert_eq!(
                    RustCrypto.verify(alg, &key, &msg, &sig),
                    Ok(()),
                    "{alg:?} {bits}"
                );

                // One flipped bit anywhere in the signature.
                let mut bad_sig = sig.clone();
                let bit = rng.next_u32() as usize % (bad_sig.len() * 8);
                bad_sig[bit / 8] ^= 1 << (bit % 8);
                assert!(!rsa_crate_accepts(alg, &public, &msg, &bad_sig));
                assert_eq!(
                    RustCrypto.verify(alg, &key, &msg, &bad_sig),
                    Err(SignatureError::BadSignature),
                    "{alg:?} {bits} signature bit {bit}"
                );

                // One flipped bit in the message (or one byte appended to an empty one).
                let mut bad_msg = msg.clone();
                if bad_msg.is_empty() {
                    bad_msg.push(0);
                } else {
                    let bit = rng.next_u32() as usize % (bad_msg.len() * 8);
                    bad_msg[bit / 8] ^= 1 << (bit % 8);
                }
                assert!(!rsa_crate_accepts(alg, &public, &bad_msg, &sig));
                assert_eq!(
                    RustCrypto.verify(alg, &key, &bad_msg, &sig),
                    Err(SignatureError::BadSignature)
                );

                // The same signature under the other padding or another hash never verifies.
                for other in ALGORITHMS.into_iter().filter(|&o| o != alg) {
                    assert_eq!(
                        RustCrypto.verify(other, &key, &msg, &sig),
                        Err(SignatureError::BadSignature),
                        "{alg:?} signature accepted as {other:?}"
                    );
                }
                checked += 1;
            }
        }
    }
    println!("rsa differential: {checked} signatures checked against the rsa crate");
}
