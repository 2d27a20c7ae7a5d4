//! Test-only helpers shared by the integration tests: a signature `Verifier` built on the
//! RustCrypto `rsa`, `p256`, `p384` and `p521` crates (allocation is fine here), the vector
//! paths, and small assertions.
//!
//! This stands in for `kauthn::crypto::RustCrypto`, which is written on another branch; the
//! JOSE layer only ever calls the `Verifier` trait, so the tests do not change when it lands.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kauthn::crypto::{PublicKey, SignatureAlgorithm, SignatureError, Verifier};
use rsa::sha2::{Sha256, Sha384, Sha512};
use rsa::signature::Verifier as _;

/// A verifier over RustCrypto primitives, for tests.
pub struct TestVerifier;

fn rsa_key(modulus: &[u8], exponent: &[u8]) -> Result<rsa::PublicKey, SignatureError> {
    let n = rsa::BoxedUint::from_be_slice_vartime(modulus);
    let e = rsa::BoxedUint::from_be_slice_vartime(exponent);
    rsa::PublicKey::new(n, e).map_err(|_| SignatureError::KeyRejected)
}

fn bad<E>(_: E) -> SignatureError {
    SignatureError::BadSignature
}

impl Verifier for TestVerifier {
    fn verify(
        &self,
        alg: SignatureAlgorithm,
        key: &PublicKey<'_>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        use SignatureAlgorithm as A;
        match (alg, key) {
            (
                A::RsaPkcs1Sha256
                | A::RsaPkcs1Sha384
                | A::RsaPkcs1Sha512
                | A::RsaPssSha256
                | A::RsaPssSha384
                | A::RsaPssSha512,
                PublicKey::Rsa { modulus, exponent },
            ) => {
                let k = rsa_key(modulus, exponent)?;
                match alg {
                    A::RsaPkcs1Sha256 | A::RsaPkcs1Sha384 | A::RsaPkcs1Sha512 => {
                        let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(bad)?;
                        match alg {
                            A::RsaPkcs1Sha256 => {
                                rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k).verify(message, &sig)
                            }
                            A::RsaPkcs1Sha384 => {
                                rsa::pkcs1v15::VerifyingKey::<Sha384>::new(k).verify(message, &sig)
                            }
                            _ => {
                                rsa::pkcs1v15::VerifyingKey::<Sha512>::new(k).verify(message, &sig)
                            }
                        }
                        .map_err(bad)
                    }
                    _ => {
                        let sig = rsa::pss::Signature::try_from(signature).map_err(bad)?;
                        // JWS pins the salt length to the hash length (RFC 7518 §3.5).
                        match alg {
                            A::RsaPssSha256 => {
                                rsa::pss::VerifyingKey::<Sha256>::new(k).verify(message, &sig)
                            }
                            A::RsaPssSha384 => {
                                rsa::pss::VerifyingKey::<Sha384>::new(k).verify(message, &sig)
                            }
                            _ => rsa::pss::VerifyingKey::<Sha512>::new(k).verify(message, &sig),
                        }
                        .map_err(bad)
                    }
                }
            }
            (A::EcdsaP256Sha256Fixed, PublicKey::EcP256(p)) => {
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(p)
                    .map_err(|_| SignatureError::KeyRejected)?;
                let sig = p256::ecdsa::Signature::from_slice(signature).map_err(bad)?;
                vk.verify(message, &sig).map_err(bad)
            }
            (A::EcdsaP384Sha384Fixed, PublicKey::EcP384(p)) => {
                let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(p)
                    .map_err(|_| SignatureError::KeyRejected)?;
                let sig = p384::ecdsa::Signature::from_slice(signature).map_err(bad)?;
                vk.verify(message, &sig).map_err(bad)
            }
            (A::EcdsaP521Sha512Fixed, PublicKey::EcP521(p)) => {
                let vk = p521::ecdsa::VerifyingKey::from_sec1_bytes(p)
                    .map_err(|_| SignatureError::KeyRejected)?;
                let sig = p521::ecdsa::Signature::from_slice(signature).map_err(bad)?;
                vk.verify(message, &sig).map_err(bad)
            }
            (
                A::RsaPkcs1Sha256
                | A::RsaPkcs1Sha384
                | A::RsaPkcs1Sha512
                | A::RsaPssSha256
                | A::RsaPssSha384
                | A::RsaPssSha512
                | A::EcdsaP256Sha256Fixed
                | A::EcdsaP384Sha384Fixed
                | A::EcdsaP521Sha512Fixed,
                _,
            ) => Err(SignatureError::KeyMismatch),
            _ => Err(SignatureError::UnsupportedAlgorithm),
        }
    }
}

/// A verifier that accepts everything: for measuring parsing alone.
pub struct AcceptAll;

impl Verifier for AcceptAll {
    fn verify(
        &self,
        _: SignatureAlgorithm,
        _: &PublicKey<'_>,
        _: &[u8],
        _: &[u8],
    ) -> Result<(), SignatureError> {
        Ok(())
    }
}

/// `../shared/vectors/<rel>` from the crate, or `None` (with a printed skip notice) when the
/// folder is absent.
pub fn vectors(rel: &str) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors"
    ))
    .join(rel);
    if p.exists() {
        Some(p)
    } else {
        println!(
            "SKIP: {} not found; vector tests for it did not run",
            p.display()
        );
        None
    }
}

/// A `Vec`-backed scratch buffer size generous for any test token.
pub const SCRATCH: usize = 256 * 1024;
