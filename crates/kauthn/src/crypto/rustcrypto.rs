//! The default backend: pure RustCrypto, no heap, no `unsafe`.

use super::ecdsa::{self, Curve, Encoding};
use super::rsa::{Hash, Padding, RsaKey};
use super::{PublicKey, SignatureAlgorithm, SignatureError, Verifier};

/// The default [`Verifier`]: RustCrypto's `p256`, `p384` and `p521` for ECDSA, and
/// `crypto-bigint` fixed-width Montgomery arithmetic with `sha2` for RSA.
///
/// It allocates nothing and needs no `std`. Every algorithm of [`SignatureAlgorithm`] is
/// supported. Key policy, checked on every call:
/// * RSA: modulus of [`RSA_MIN_MODULUS_BITS`](super::RSA_MIN_MODULUS_BITS) to
///   [`RSA_MAX_MODULUS_BITS`](super::RSA_MAX_MODULUS_BITS) bits and odd; exponent odd, at
///   least 3 and below 2^32; otherwise [`SignatureError::KeyRejected`]. The signature must be
///   exactly as long as the modulus and below it. PKCS#1 v1.5 `DigestInfo` must carry the
///   NULL parameters (Wycheproof's "acceptable" `MissingNull` is rejected). PSS uses MGF1
///   with the signature hash and a salt as long as the hash (RFC 7518 §3.5).
/// * ECDSA: uncompressed SEC1 points on the algorithm's curve; `r` and `s` in `[1, n-1]`;
///   DER signatures must be strict DER. High-S signatures are accepted (JWS and X.509 do
///   not require low-S).
/// * A key of another type than the algorithm's gives [`SignatureError::KeyMismatch`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RustCrypto;

impl Verifier for RustCrypto {
    fn verify(
        &self,
        alg: SignatureAlgorithm,
        key: &PublicKey<'_>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        use SignatureAlgorithm as A;
        let rsa = |padding| match *key {
            PublicKey::Rsa { modulus, exponent } => {
                RsaKey::new(modulus, exponent)?.verify(padding, message, signature)
            }
            _ => Err(SignatureError::KeyMismatch),
        };
        let ec = |curve, encoding| {
            let point = match (curve, *key) {
                (Curve::P256, PublicKey::EcP256(p))
                | (Curve::P384, PublicKey::EcP384(p))
                | (Curve::P521, PublicKey::EcP521(p)) => p,
                _ => return Err(SignatureError::KeyMismatch),
            };
            ecdsa::verify(curve, encoding, point, message, signature)
        };
        match alg {
            A::RsaPkcs1Sha256 => rsa(Padding::Pkcs1(Hash::Sha256)),
            A::RsaPkcs1Sha384 => rsa(Padding::Pkcs1(Hash::Sha384)),
            A::RsaPkcs1Sha512 => rsa(Padding::Pkcs1(Hash::Sha512)),
            A::RsaPssSha256 => rsa(Padding::Pss(Hash::Sha256)),
            A::RsaPssSha384 => rsa(Padding::Pss(Hash::Sha384)),
            A::RsaPssSha512 => rsa(Padding::Pss(Hash::Sha512)),
            A::EcdsaP256Sha256Fixed => ec(Curve::P256, Encoding::Fixed),
            A::EcdsaP384Sha384Fixed => ec(Curve::P384, Encoding::Fixed),
            A::EcdsaP521Sha512Fixed => ec(Curve::P521, Encoding::Fixed),
            A::EcdsaP256Sha256Asn1 => ec(Curve::P256, Encoding::Asn1),
            A::EcdsaP384Sha384Asn1 => ec(Curve::P384, Encoding::Asn1),
        }
    }
}
