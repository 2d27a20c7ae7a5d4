//! Signature verification: the backend trait shared by X.509 and JWS verification.
//!
//! Algorithms are values whose names carry every parameter (ring's convention): the caller
//! picks one from its configuration, never from the untrusted input alone, and the backend
//! checks that the key is of the matching type.
//!
//! The default backend is [`RustCrypto`] (pure Rust, no heap, no `unsafe`); [`PreparedKey`]
//! does its key checks and conversions once per configured key. Its RSA key policy is named
//! by [`RSA_MIN_MODULUS_BITS`], [`RSA_MAX_MODULUS_BITS`], [`RSA_MIN_EXPONENT`] and
//! [`RSA_MAX_EXPONENT_BITS`].
//!
//! With the `aws-lc` feature (which implies `std`), `AwsLc` verifies with aws-lc-rs instead:
//! faster, C code, allocating, and with exactly the same verdicts (its module docs say how).

use core::fmt;

#[cfg(feature = "aws-lc")]
mod aws_lc;
mod ecdsa;
mod rsa;
mod rustcrypto;

#[cfg(feature = "aws-lc")]
pub use aws_lc::{AwsLc, KEY_CACHE_ENTRIES};
pub use rsa::{
    RSA_MAX_EXPONENT_BITS, RSA_MAX_MODULUS_BITS, RSA_MIN_EXPONENT, RSA_MIN_MODULUS_BITS,
};
pub use rustcrypto::{PreparedKey, RustCrypto};

/// A signature algorithm with all of its parameters.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (JWS `RS256`, X.509 `sha256WithRSAEncryption`).
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (`RS384`).
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (`RS512`).
    RsaPkcs1Sha512,
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt (JWS `PS256`).
    RsaPssSha256,
    /// RSASSA-PSS, SHA-384, MGF1-SHA-384, 48-byte salt (JWS `PS384`).
    RsaPssSha384,
    /// RSASSA-PSS, SHA-512, MGF1-SHA-512, 64-byte salt (JWS `PS512`).
    RsaPssSha512,
    /// ECDSA P-256 with SHA-256, signature as fixed-width `r || s` (JWS `ES256`).
    EcdsaP256Sha256Fixed,
    /// ECDSA P-384 with SHA-384, `r || s` (JWS `ES384`).
    EcdsaP384Sha384Fixed,
    /// ECDSA P-521 with SHA-512, `r || s` (JWS `ES512`).
    EcdsaP521Sha512Fixed,
    /// ECDSA P-256 with SHA-256, DER `Ecdsa-Sig-Value` (X.509 `ecdsa-with-SHA256`).
    EcdsaP256Sha256Asn1,
    /// ECDSA P-384 with SHA-384, DER `Ecdsa-Sig-Value` (X.509 `ecdsa-with-SHA384`).
    EcdsaP384Sha384Asn1,
}

/// A public key as raw components, borrowed from a certificate, a PEM file or a JWK.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicKey<'a> {
    /// RSA: big-endian modulus and public exponent (leading zero bytes allowed).
    Rsa {
        /// The modulus `n`.
        modulus: &'a [u8],
        /// The public exponent `e`.
        exponent: &'a [u8],
    },
    /// A P-256 point in SEC1 encoding.
    EcP256(&'a [u8]),
    /// A P-384 point in SEC1 encoding.
    EcP384(&'a [u8]),
    /// A P-521 point in SEC1 encoding.
    EcP521(&'a [u8]),
}

/// Why a signature did not verify. Deliberately coarse: finer reasons would be an oracle.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// The signature is malformed or does not match the message and key.
    BadSignature,
    /// The key's type does not fit the algorithm (an EC key for RS256, …).
    KeyMismatch,
    /// The key is unusable: malformed, too small, too large, or with bad parameters.
    KeyRejected,
    /// The backend does not implement the algorithm.
    UnsupportedAlgorithm,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::BadSignature => "invalid signature",
            SignatureError::KeyMismatch => "key type does not match the signature algorithm",
            SignatureError::KeyRejected => "public key rejected",
            SignatureError::UnsupportedAlgorithm => "unsupported signature algorithm",
        })
    }
}

impl core::error::Error for SignatureError {}

/// A signature verification backend. Implementations hash `message` themselves.
pub trait Verifier: Send + Sync {
    /// Verifies `signature` over `message` with `key` under `alg`.
    fn verify(
        &self,
        alg: SignatureAlgorithm,
        key: &PublicKey<'_>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError>;

    /// Like [`verify`](Verifier::verify), given the key's [`PreparedKey`] when its holder
    /// made one at load time (an `OwnedKeySet`, a CA pool), so that a backend that can use
    /// it skips the per-call key checks and conversions. `prepared` must have been made from
    /// `key`. The verdict is the same either way; the default ignores `prepared`.
    fn verify_prepared(
        &self,
        alg: SignatureAlgorithm,
        key: &PublicKey<'_>,
        prepared: Option<&PreparedKey>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let _ = prepared;
        self.verify(alg, key, message, signature)
    }
}

impl<T: Verifier + ?Sized> Verifier for &T {
    fn verify(
        &self,
        alg: SignatureAlgorithm,
        key: &PublicKey<'_>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        (**self).verify(alg, key, message, signature)
    }

    fn verify_prepared(
        &self,
        alg: SignatureAlgorithm,
        key: &PublicKey<'_>,
        prepared: Option<&PreparedKey>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        (**self).verify_prepared(alg, key, prepared, message, signature)
    }
}
