//! The optional aws-lc-rs backend (feature `aws-lc`): AWS-LC's assembly-optimised RSA and
//! ECDSA, for servers that want the fastest verification and can link C.
//!
//! # Same verdicts as [`RustCrypto`](super::RustCrypto)
//!
//! Both backends must accept and reject exactly the same `(algorithm, key, message,
//! signature)` inputs with the same [`SignatureError`], so that switching backends never
//! changes who is authenticated. aws-lc-rs has limits and leniencies of its own; each is
//! closed here by running the *shared* key policy of `crypto/rsa.rs` and `crypto/ecdsa.rs`
//! (the very functions `RustCrypto` calls) before aws-lc-rs sees the key:
//!
//! | | aws-lc-rs / AWS-LC on its own | kauthn (both backends) |
//! |---|---|---|
//! | RSA modulus | 2048..=8192 bits (the `RSA_*_2048_8192_*` parameters); AWS-LC also wants it odd | [`RSA_MIN_MODULUS_BITS`]..=[`RSA_MAX_MODULUS_BITS`] (2048..=4096), odd; otherwise `KeyRejected` |
//! | RSA exponent | odd, at least 3, at most 33 bits | odd, at least [`RSA_MIN_EXPONENT`], below 2^32 ([`RSA_MAX_EXPONENT_BITS`]) |
//! | RSA component encoding | `RsaPublicKeyComponents` refuses leading zero bytes | leading zeros allowed (DER and some JWKs carry them) and stripped here |
//! | EC public key | SPKI DER, compressed or uncompressed SEC1 | uncompressed SEC1 of exactly the curve's size only, else `KeyRejected` |
//! | Errors | one opaque `Unspecified` / `KeyRejected` | a failed EC point parse is `KeyRejected`; once the key passed the policy, every RSA failure and every ECDSA verification failure is `BadSignature` |
//! | Key type | chosen by the algorithm value | checked first: another type or curve is `KeyMismatch` |
//!
//! Everything else already agrees, and `tests/backend_differential.rs` checks it on every
//! Wycheproof case, the JWS vectors and signatures made by independent implementations:
//! the RSA signature must be exactly as long as the modulus and below it; PKCS#1 v1.5 is
//! checked by re-encoding (so Wycheproof's "acceptable" `MissingNull` is rejected by both);
//! PSS uses MGF1 with the signature hash and a salt as long as the hash (aws-lc-rs's
//! `RsaPssSaltLength::Digest`, RFC 7518 §3.5); ECDSA `r` and `s` must lie in `[1, n-1]`,
//! DER signatures must be strict DER (AWS-LC's `ECDSA_SIG_from_bytes`), and high-S signatures
//! are accepted. Because AWS-LC's own RSA key checks (`is_public_component_of_rsa_key_good`
//! in `crypto/fipsmodule/rsa/rsa.c`: odd `n` of at most 16384 bits, odd `e` of 2 to 33 bits)
//! are strictly looser than the shared policy, a key that passed the policy is never refused by AWS-LC; were it ever, the error
//! would read `BadSignature` instead of `KeyRejected`, and the differential test would say so.
//!
//! # Cost
//! Unlike `RustCrypto`, this backend allocates: AWS-LC builds a `BIGNUM`/`EVP_PKEY` per call
//! (C heap) and aws-lc-rs keeps a boxed copy of an EC point (Rust heap). It is therefore not
//! part of the zero-allocation guarantee, and needs `std`. AWS-LC is built from source by
//! `aws-lc-sys` with the system C compiler (no CMake, Go or NASM on x86-64 Linux).

use aws_lc_rs::signature::{
    self as lc, EcdsaVerificationAlgorithm, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents,
};

use super::ecdsa::{Curve, check_uncompressed};
use super::rsa::{CheckedKey, check_key};
use super::{PublicKey, SignatureAlgorithm, SignatureError, Verifier};
#[cfg(doc)]
use super::{RSA_MAX_EXPONENT_BITS, RSA_MAX_MODULUS_BITS, RSA_MIN_EXPONENT, RSA_MIN_MODULUS_BITS};

/// A [`Verifier`] over aws-lc-rs (AWS-LC), enabled by the `aws-lc` feature.
///
/// It gives the same verdict and the same [`SignatureError`] as
/// [`RustCrypto`](super::RustCrypto) for every input, and is faster, at the price of C code,
/// `std`, and heap allocation per call (AWS-LC builds a key object each time). Every
/// algorithm of [`SignatureAlgorithm`] is supported.
///
/// The key policy is the one described on `RustCrypto`, run by the same code before AWS-LC
/// sees the key. It is narrower than aws-lc-rs's own limits, which it therefore hides:
/// * RSA moduli of 2048 to [`RSA_MAX_MODULUS_BITS`] (4096) bits, where aws-lc-rs's
///   `RSA_*_2048_8192_*` parameters would take 8192;
/// * RSA exponents below 2^32, where AWS-LC takes up to 33 bits;
/// * EC keys as uncompressed SEC1 points only, where aws-lc-rs also takes compressed points
///   and SPKI DER;
/// * RSA components with leading zero bytes are accepted (stripped), where aws-lc-rs's
///   `RsaPublicKeyComponents` refuses them.
///
/// `tests/backend_differential.rs` checks that both backends return the same `Result` on
/// every Wycheproof case, the JWS and x509-limbo vectors, and independently made signatures.
///
/// ```
/// use kauthn::AwsLc;
/// use kauthn::crypto::{PublicKey, SignatureAlgorithm, SignatureError, Verifier};
///
/// // An EC key given for RS256 is refused before anything is parsed.
/// let key = PublicKey::EcP256(&[4; 65]);
/// let verdict = AwsLc.verify(SignatureAlgorithm::RsaPkcs1Sha256, &key, b"m", &[0; 256]);
/// assert_eq!(verdict, Err(SignatureError::KeyMismatch));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AwsLc;

/// What aws-lc-rs needs for one [`SignatureAlgorithm`].
enum Params {
    Rsa(&'static RsaParameters),
    Ec(Curve, &'static EcdsaVerificationAlgorithm),
}

/// The aws-lc-rs algorithm of each [`SignatureAlgorithm`]. The `2048_8192` RSA parameter
/// sets are aws-lc-rs's widest without legacy sizes; the shared policy narrows them to 4096.
fn params(alg: SignatureAlgorithm) -> Params {
    use SignatureAlgorithm as A;
    match alg {
        A::RsaPkcs1Sha256 => Params::Rsa(&lc::RSA_PKCS1_2048_8192_SHA256),
        A::RsaPkcs1Sha384 => Params::Rsa(&lc::RSA_PKCS1_2048_8192_SHA384),
        A::RsaPkcs1Sha512 => Params::Rsa(&lc::RSA_PKCS1_2048_8192_SHA512),
        // The PSS parameter sets use a salt as long as the digest (`RsaPssSaltLength::Digest`).
        A::RsaPssSha256 => Params::Rsa(&lc::RSA_PSS_2048_8192_SHA256),
        A::RsaPssSha384 => Params::Rsa(&lc::RSA_PSS_2048_8192_SHA384),
        A::RsaPssSha512 => Params::Rsa(&lc::RSA_PSS_2048_8192_SHA512),
        A::EcdsaP256Sha256Fixed => Params::Ec(Curve::P256, &lc::ECDSA_P256_SHA256_FIXED),
        A::EcdsaP384Sha384Fixed => Params::Ec(Curve::P384, &lc::ECDSA_P384_SHA384_FIXED),
        A::EcdsaP521Sha512Fixed => Params::Ec(Curve::P521, &lc::ECDSA_P521_SHA512_FIXED),
        A::EcdsaP256Sha256Asn1 => Params::Ec(Curve::P256, &lc::ECDSA_P256_SHA256_ASN1),
        A::EcdsaP384Sha384Asn1 => Params::Ec(Curve::P384, &lc::ECDSA_P384_SHA384_ASN1),
    }
}

impl Verifier for AwsLc {
    fn verify(
        &self,
        alg: SignatureAlgorithm,
        key: &PublicKey<'_>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        // Key type first, before anything is parsed, exactly as `RustCrypto` orders it.
        match (params(alg), *key) {
            (Params::Rsa(params), PublicKey::Rsa { modulus, exponent }) => {
                verify_rsa(params, modulus, exponent, message, signature)
            }
            (Params::Ec(curve, ec_alg), _) => match (curve, *key) {
                (Curve::P256, PublicKey::EcP256(point))
                | (Curve::P384, PublicKey::EcP384(point))
                | (Curve::P521, PublicKey::EcP521(point)) => {
                    verify_ecdsa(curve, ec_alg, point, message, signature)
                }
                _ => Err(SignatureError::KeyMismatch),
            },
            _ => Err(SignatureError::KeyMismatch),
        }
    }
}

/// RSA: the shared key policy, then AWS-LC with the components stripped of leading zeros.
fn verify_rsa(
    params: &'static RsaParameters,
    modulus: &[u8],
    exponent: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let CheckedKey {
        modulus, exponent, ..
    } = check_key(modulus, exponent)?;
    // `RsaPublicKeyComponents` wants both numbers without leading zero bytes.
    let e_bytes = exponent.to_be_bytes();
    let zeros = e_bytes.iter().take_while(|&&b| b == 0).count();
    let e = e_bytes.get(zeros..).unwrap_or_default();
    RsaPublicKeyComponents { n: modulus, e }
        .verify(params, message, signature)
        // AWS-LC accepts every key the policy accepts (its checks are looser; see the module
        // docs), so what remains is the signature: wrong length, not below n, bad padding.
        .map_err(|_| SignatureError::BadSignature)
}

/// ECDSA: the shared encoding policy, then AWS-LC's point validation (on the curve, not the
/// identity) and verification.
fn verify_ecdsa(
    curve: Curve,
    alg: &'static EcdsaVerificationAlgorithm,
    point: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    check_uncompressed(curve, point)?;
    ParsedPublicKey::new(alg, point)
        .map_err(|_| SignatureError::KeyRejected)?
        .verify_sig(message, signature)
        .map_err(|_| SignatureError::BadSignature)
}
