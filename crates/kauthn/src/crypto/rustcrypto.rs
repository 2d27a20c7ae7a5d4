//! The default backend: pure RustCrypto, no heap, no `unsafe`.

use super::ecdsa::{Curve, EcKey, Encoding};
use super::rsa::{Hash, Padding, RsaKey};
use super::{PublicKey, SignatureAlgorithm, SignatureError, Verifier};

/// The default [`Verifier`]: RustCrypto's `p256`, `p384` and `p521` for ECDSA, and
/// `crypto-bigint` fixed-width Montgomery arithmetic with `sha2` for RSA.
///
/// It allocates nothing and needs no `std`. Every algorithm of [`SignatureAlgorithm`] is
/// supported. Key policy, checked on every call:
/// * RSA: modulus of [`RSA_MIN_MODULUS_BITS`](super::RSA_MIN_MODULUS_BITS) to
///   [`RSA_MAX_MODULUS_BITS`](super::RSA_MAX_MODULUS_BITS) bits and odd; exponent odd, at
///   least [`RSA_MIN_EXPONENT`](super::RSA_MIN_EXPONENT) and below 2^32; otherwise
///   [`SignatureError::KeyRejected`]. The signature must be exactly as long as the modulus
///   and below it. PKCS#1 v1.5 `DigestInfo` must carry the NULL parameters (Wycheproof's
///   "acceptable" `MissingNull` is rejected). PSS uses MGF1 with the signature hash and a
///   salt as long as the hash (RFC 7518 §3.5).
/// * ECDSA: uncompressed SEC1 points on the algorithm's curve; `r` and `s` in `[1, n-1]`;
///   DER signatures must be strict DER. High-S signatures are accepted (JWS and X.509 do
///   not require low-S).
/// * A key of another type than the algorithm's gives [`SignatureError::KeyMismatch`],
///   checked before the key is parsed.
///
/// Each call of [`Verifier::verify`] checks and converts the key; key holders that made a
/// [`PreparedKey`] once (`jose::OwnedKeySet`, `x509::CaPool`) pass it through
/// [`Verifier::verify_prepared`] instead.
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
        self.verify_prepared(alg, key, None, message, signature)
    }

    fn verify_prepared(
        &self,
        alg: SignatureAlgorithm,
        key: &PublicKey<'_>,
        prepared: Option<&PreparedKey>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        if !fits(alg, key) {
            return Err(SignatureError::KeyMismatch);
        }
        match prepared {
            Some(p) => p.verify(alg, message, signature),
            None => PreparedKey::new(key)?.verify(alg, message, signature),
        }
    }
}

/// A public key checked and converted once, for repeated verification with the
/// [`RustCrypto`] backend: an RSA modulus in Montgomery form, or a validated curve point.
///
/// Build one per configured key (a JWKS entry, a CA certificate) at start-up; it owns its
/// data (no borrow of the input), is `Copy`, and takes at most about 1.6 KiB (a 4096-bit
/// modulus with its Montgomery constants).
#[derive(Clone, Copy, Debug)]
pub struct PreparedKey(Prepared);

// An RSA key is much larger than a curve point; boxing would need a heap.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
enum Prepared {
    Rsa(RsaKey),
    Ec(EcKey),
}

impl PreparedKey {
    /// Checks `key` against the policy described on [`RustCrypto`] and prepares it.
    ///
    /// # Errors
    /// [`SignatureError::KeyRejected`] when the key is malformed or outside the policy.
    pub fn new(key: &PublicKey<'_>) -> Result<Self, SignatureError> {
        Ok(Self(match *key {
            PublicKey::Rsa { modulus, exponent } => Prepared::Rsa(RsaKey::new(modulus, exponent)?),
            PublicKey::EcP256(point) => Prepared::Ec(EcKey::new(Curve::P256, point)?),
            PublicKey::EcP384(point) => Prepared::Ec(EcKey::new(Curve::P384, point)?),
            PublicKey::EcP521(point) => Prepared::Ec(EcKey::new(Curve::P521, point)?),
        }))
    }

    /// Verifies `signature` over `message` under `alg`, exactly as [`RustCrypto`] does.
    ///
    /// # Errors
    /// [`SignatureError::KeyMismatch`] when `alg` is not for this key's type or curve,
    /// [`SignatureError::BadSignature`] when the signature is malformed or does not verify.
    pub fn verify(
        &self,
        alg: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        use SignatureAlgorithm as A;
        match (&self.0, alg) {
            (Prepared::Rsa(key), A::RsaPkcs1Sha256) => {
                key.verify(Padding::Pkcs1(Hash::Sha256), message, signature)
            }
            (Prepared::Rsa(key), A::RsaPkcs1Sha384) => {
                key.verify(Padding::Pkcs1(Hash::Sha384), message, signature)
            }
            (Prepared::Rsa(key), A::RsaPkcs1Sha512) => {
                key.verify(Padding::Pkcs1(Hash::Sha512), message, signature)
            }
            (Prepared::Rsa(key), A::RsaPssSha256) => {
                key.verify(Padding::Pss(Hash::Sha256), message, signature)
            }
            (Prepared::Rsa(key), A::RsaPssSha384) => {
                key.verify(Padding::Pss(Hash::Sha384), message, signature)
            }
            (Prepared::Rsa(key), A::RsaPssSha512) => {
                key.verify(Padding::Pss(Hash::Sha512), message, signature)
            }
            (Prepared::Ec(key), _) => match ec_params(alg) {
                Some((curve, encoding)) if curve == key.curve() => {
                    key.verify(encoding, message, signature)
                }
                _ => Err(SignatureError::KeyMismatch),
            },
            (Prepared::Rsa(_), _) => Err(SignatureError::KeyMismatch),
        }
    }
}

/// The curve and signature encoding of an ECDSA algorithm.
fn ec_params(alg: SignatureAlgorithm) -> Option<(Curve, Encoding)> {
    use SignatureAlgorithm as A;
    match alg {
        A::EcdsaP256Sha256Fixed => Some((Curve::P256, Encoding::Fixed)),
        A::EcdsaP384Sha384Fixed => Some((Curve::P384, Encoding::Fixed)),
        A::EcdsaP521Sha512Fixed => Some((Curve::P521, Encoding::Fixed)),
        A::EcdsaP256Sha256Asn1 => Some((Curve::P256, Encoding::Asn1)),
        A::EcdsaP384Sha384Asn1 => Some((Curve::P384, Encoding::Asn1)),
        A::RsaPkcs1Sha256
        | A::RsaPkcs1Sha384
        | A::RsaPkcs1Sha512
        | A::RsaPssSha256
        | A::RsaPssSha384
        | A::RsaPssSha512 => None,
    }
}

/// Whether `key`'s type (and curve) is the one `alg` needs, without parsing the key.
fn fits(alg: SignatureAlgorithm, key: &PublicKey<'_>) -> bool {
    matches!(
        (ec_params(alg), key),
        (None, PublicKey::Rsa { .. })
            | (Some((Curve::P256, _)), PublicKey::EcP256(_))
            | (Some((Curve::P384, _)), PublicKey::EcP384(_))
            | (Some((Curve::P521, _)), PublicKey::EcP521(_))
    )
}
