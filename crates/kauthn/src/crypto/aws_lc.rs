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
//! Parsing a key into AWS-LC's `EVP_PKEY` costs about as much as a whole RSA-2048
//! verification, so parsed keys are kept in a small process-wide cache ([`KEY_CACHE_ENTRIES`]
//! keys, oldest dropped first) keyed by the algorithm and the exact key bytes: the handful of
//! configured service-account, OIDC and CA keys are parsed once. A cache hit takes a read
//! lock and clones an `Arc`. JOSE's fixed-size ECDSA signatures are encoded as DER on the
//! stack and verified with the DER algorithm (one cached key per curve serves both
//! encodings): aws-lc-rs's `*_FIXED` algorithms convert through heap `BIGNUM`s on every call,
//! which measured about one percent of an ES256 verification. Unlike `RustCrypto`, this
//! backend allocates (AWS-LC's verification contexts on the C heap, and each newly cached
//! key), so it is not part of the zero-allocation guarantee, and needs `std`. AWS-LC is built from source by `aws-lc-sys`
//! with the system C compiler (no CMake, Go or NASM on x86-64 Linux).

use std::collections::VecDeque;
use std::sync::{Arc, PoisonError, RwLock};
use std::vec::Vec;

use aws_lc_rs::signature::{
    self as lc, EcdsaVerificationAlgorithm, ParsedPublicKey, RsaParameters,
};

use super::ecdsa::{Curve, check_uncompressed};
use super::rsa::{CheckedKey, check_key, strip_leading_zeros};
use super::{PublicKey, SignatureAlgorithm, SignatureError, Verifier};
#[cfg(doc)]
use super::{RSA_MAX_EXPONENT_BITS, RSA_MAX_MODULUS_BITS, RSA_MIN_EXPONENT, RSA_MIN_MODULUS_BITS};

/// A [`Verifier`] over aws-lc-rs (AWS-LC), enabled by the `aws-lc` feature.
///
/// It gives the same verdict and the same [`SignatureError`] as
/// [`RustCrypto`](super::RustCrypto) for every input, and is faster, at the price of C code,
/// `std`, and heap allocation (AWS-LC's per-call contexts; keys are parsed once and cached,
/// see the module docs). Every
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
    /// The curve, aws-lc-rs's DER algorithm, and whether the signature comes as JOSE's fixed
    /// `r || s` (which is encoded as DER here first; see [`fixed_to_der`]).
    Ec(Curve, &'static EcdsaVerificationAlgorithm, bool),
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
        A::EcdsaP256Sha256Fixed => Params::Ec(Curve::P256, &lc::ECDSA_P256_SHA256_ASN1, true),
        A::EcdsaP384Sha384Fixed => Params::Ec(Curve::P384, &lc::ECDSA_P384_SHA384_ASN1, true),
        A::EcdsaP521Sha512Fixed => Params::Ec(Curve::P521, &lc::ECDSA_P521_SHA512_ASN1, true),
        A::EcdsaP256Sha256Asn1 => Params::Ec(Curve::P256, &lc::ECDSA_P256_SHA256_ASN1, false),
        A::EcdsaP384Sha384Asn1 => Params::Ec(Curve::P384, &lc::ECDSA_P384_SHA384_ASN1, false),
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
                verify_rsa(alg, params, modulus, exponent, message, signature)
            }
            (Params::Ec(curve, ec_alg, fixed), _) => match (curve, *key) {
                (Curve::P256, PublicKey::EcP256(point))
                | (Curve::P384, PublicKey::EcP384(point))
                | (Curve::P521, PublicKey::EcP521(point)) => {
                    verify_ecdsa(curve, ec_alg, fixed, point, message, signature)
                }
                _ => Err(SignatureError::KeyMismatch),
            },
            _ => Err(SignatureError::KeyMismatch),
        }
    }
}

/// How many parsed keys the process keeps (see the module docs).
pub const KEY_CACHE_ENTRIES: usize = 64;

// A cached key is found by its algorithm (an AWS-LC parsed key is bound to one) and its exact
// bytes: for RSA the modulus without leading zeros and the exponent, for EC the SEC1 point.
struct Cached {
    alg: SignatureAlgorithm,
    a: Vec<u8>,
    b: u64,
    key: Arc<ParsedPublicKey>,
}

static KEY_CACHE: RwLock<VecDeque<Cached>> = RwLock::new(VecDeque::new());

/// The parsed key for `(alg, a, b)`, from the cache or made by `parse` and cached.
fn cached_key(
    alg: SignatureAlgorithm,
    a: &[u8],
    b: u64,
    parse: impl FnOnce() -> Result<ParsedPublicKey, SignatureError>,
) -> Result<Arc<ParsedPublicKey>, SignatureError> {
    let hit = |c: &Cached| c.alg == alg && c.b == b && c.a == a;
    {
        // A poisoned lock only means another thread panicked mid-insert; the entries are
        // whole values, so the cache stays usable.
        let cache = KEY_CACHE.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = cache.iter().find(|c| hit(c)) {
            return Ok(Arc::clone(&c.key));
        }
    }
    let key = Arc::new(parse()?);
    let mut cache = KEY_CACHE.write().unwrap_or_else(PoisonError::into_inner);
    if !cache.iter().any(hit) {
        if cache.len() >= KEY_CACHE_ENTRIES {
            cache.pop_front();
        }
        cache.push_back(Cached {
            alg,
            a: a.to_vec(),
            b,
            key: Arc::clone(&key),
        });
    }
    Ok(key)
}

/// Where the DER writers below append: a `Vec` for the rare RSA key (parsed once and cached)
/// and [`StackDer`] for the per-call ECDSA signature.
trait DerOut {
    fn put(&mut self, bytes: &[u8]) -> Result<(), SignatureError>;
}

impl DerOut for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), SignatureError> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// A DER value built on the stack; it holds the longest signature [`fixed_to_der`] makes.
struct StackDer {
    buf: [u8; MAX_DER_SIG_LEN],
    len: usize,
}

impl StackDer {
    fn new() -> Self {
        StackDer {
            buf: [0; MAX_DER_SIG_LEN],
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl DerOut for StackDer {
    fn put(&mut self, bytes: &[u8]) -> Result<(), SignatureError> {
        let end = self.len + bytes.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(SignatureError::BadSignature)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// A DER INTEGER of the unsigned big-endian `v`, appended to `out`: leading zero bytes are
/// dropped (zero is `02 01 00`) and a sign octet is added when the top bit is set.
fn push_der_uint(out: &mut impl DerOut, v: &[u8]) -> Result<(), SignatureError> {
    let v = match strip_leading_zeros(v) {
        [] => &[0u8][..],
        v => v,
    };
    let pad = v.first().is_some_and(|b| b & 0x80 != 0);
    push_der_header(out, 0x02, v.len() + usize::from(pad))?;
    if pad {
        out.put(&[0])?;
    }
    out.put(v)
}

fn push_der_header(out: &mut impl DerOut, tag: u8, len: usize) -> Result<(), SignatureError> {
    match u8::try_from(len) {
        Ok(short @ 0..=0x7f) => out.put(&[tag, short]),
        Ok(one) => out.put(&[tag, 0x81, one]),
        // Moduli are at most 4096 bits (policy), so two length octets always suffice.
        Err(_) => {
            let [hi, lo] = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
            out.put(&[tag, 0x82, hi, lo])
        }
    }
}

/// RFC 8017 `RSAPublicKey` DER, which AWS-LC parses.
fn rsa_public_key_der(modulus: &[u8], exponent: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let mut body = Vec::with_capacity(modulus.len() + 16);
    push_der_uint(&mut body, modulus)?;
    push_der_uint(&mut body, exponent)?;
    let mut out = Vec::with_capacity(body.len() + 4);
    push_der_header(&mut out, 0x30, body.len())?;
    out.put(&body)?;
    Ok(out)
}

/// RSA: the shared key policy, then AWS-LC with the components stripped of leading zeros.
fn verify_rsa(
    alg: SignatureAlgorithm,
    params: &'static RsaParameters,
    modulus: &[u8],
    exponent: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let CheckedKey {
        modulus, exponent, ..
    } = check_key(modulus, exponent)?;
    // AWS-LC accepts every key the policy accepts (its checks are looser; see the module
    // docs), so what remains is the signature: wrong length, not below n, bad padding.
    let key = cached_key(alg, modulus, u64::from(exponent), || {
        ParsedPublicKey::new(
            params,
            rsa_public_key_der(modulus, &exponent.to_be_bytes())?,
        )
        .map_err(|_| SignatureError::BadSignature)
    })?;
    key.verify_sig(message, signature)
        .map_err(|_| SignatureError::BadSignature)
}

/// ECDSA: the shared encoding policy, then AWS-LC's point validation (on the curve, not the
/// identity) and verification. Keys are parsed for the DER algorithm of their curve (one
/// cached key serves both encodings); a fixed `r || s` signature is encoded as DER first.
fn verify_ecdsa(
    curve: Curve,
    ec_alg: &'static EcdsaVerificationAlgorithm,
    fixed: bool,
    point: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    check_uncompressed(curve, point)?;
    let cache_alg = match curve {
        Curve::P256 => SignatureAlgorithm::EcdsaP256Sha256Asn1,
        Curve::P384 => SignatureAlgorithm::EcdsaP384Sha384Asn1,
        // No DER algorithm of P-521 in kauthn's set; its own value keys the cache.
        Curve::P521 => SignatureAlgorithm::EcdsaP521Sha512Fixed,
    };
    let key = cached_key(cache_alg, point, 0, || {
        ParsedPublicKey::new(ec_alg, point).map_err(|_| SignatureError::KeyRejected)
    })?;
    let der;
    let signature = if fixed {
        der = fixed_to_der(curve, signature)?;
        der.bytes()
    } else {
        signature
    };
    key.verify_sig(message, signature)
        .map_err(|_| SignatureError::BadSignature)
}

/// The longest DER `Ecdsa-Sig-Value` of [`fixed_to_der`]: P-521's two 66-byte integers, each
/// with a sign octet and a two-octet header, inside a three-octet sequence header.
const MAX_DER_SIG_LEN: usize = 3 + 2 * (2 + 1 + 66);

/// JOSE's fixed `r || s` (RFC 7518 §3.4) as the DER `Ecdsa-Sig-Value` AWS-LC parses.
/// aws-lc-rs's own `*_FIXED` algorithms do the same conversion through heap `BIGNUM`s and an
/// allocated buffer on every call, about one percent of an ES256 verification; this is the
/// same encoding on the stack, with the same rule: the signature must be exactly twice the
/// curve's scalar length, and each half is encoded as an unsigned integer (zero too, which
/// AWS-LC then rejects as it rejects every value outside `[1, n-1]`).
fn fixed_to_der(curve: Curve, signature: &[u8]) -> Result<StackDer, SignatureError> {
    let n = curve.scalar_len();
    if signature.len() != 2 * n {
        return Err(SignatureError::BadSignature);
    }
    let (r, s) = signature.split_at(n);
    let mut body = StackDer::new();
    push_der_uint(&mut body, r)?;
    push_der_uint(&mut body, s)?;
    let mut der = StackDer::new();
    push_der_header(&mut der, 0x30, body.len)?;
    der.put(body.bytes())?;
    Ok(der)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    // The P-256 base point, uncompressed.
    const G: [u8; 65] = [
        0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4,
        0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8,
        0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a,
        0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40,
        0x68, 0x37, 0xbf, 0x51, 0xf5,
    ];

    #[test]
    fn fixed_signatures_become_the_strict_der_that_decodes_back_to_them() {
        // Edge values of each half (zero, one, leading zeros, the top bit set, all ones) on
        // every curve: the DER must be what the strict decoder of `ecdsa.rs` (the RustCrypto
        // backend's) accepts and turns back into the same `r || s`.
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            let n = curve.scalar_len();
            let mut halves: std::vec::Vec<std::vec::Vec<u8>> = std::vec![
                std::vec![0; n],
                std::vec![0xff; n],
                std::vec![0x80; n],
                std::vec![0x7f; n],
            ];
            for k in [1usize, 2, n - 1] {
                let mut v = std::vec![0u8; n];
                v[k] = 0x80;
                halves.push(v.clone());
                v[k] = 0x01;
                halves.push(v);
            }
            let mut one = std::vec![0u8; n];
            one[n - 1] = 1;
            halves.push(one);
            for r in &halves {
                for s in &halves {
                    let fixed = [r.as_slice(), s.as_slice()].concat();
                    let der = fixed_to_der(curve, &fixed).unwrap();
                    let mut back = std::vec![0u8; 2 * n];
                    crate::crypto::ecdsa::der_to_fixed(der.bytes(), &mut back).unwrap();
                    assert_eq!(back, fixed, "{:02x?}", der.bytes());
                }
            }
            for len in [0, 1, 2 * n - 1, 2 * n + 1] {
                assert!(matches!(
                    fixed_to_der(curve, &std::vec![1u8; len]),
                    Err(SignatureError::BadSignature)
                ));
            }
        }
    }

    #[test]
    fn parsed_keys_are_cached_and_the_cache_is_bounded() {
        let alg = SignatureAlgorithm::EcdsaP256Sha256Fixed;
        let parse = || {
            ParsedPublicKey::new(&lc::ECDSA_P256_SHA256_FIXED, G)
                .map_err(|_| SignatureError::KeyRejected)
        };
        let first = cached_key(alg, &G, 7777, parse).unwrap();
        // A hit does not parse again.
        let again = cached_key(alg, &G, 7777, || Err(SignatureError::UnsupportedAlgorithm));
        assert!(Arc::ptr_eq(&first, &again.unwrap()));
        // Another algorithm is another entry.
        let other = cached_key(SignatureAlgorithm::EcdsaP256Sha256Asn1, &G, 7777, || {
            Err(SignatureError::UnsupportedAlgorithm)
        });
        assert_eq!(other.err(), Some(SignatureError::UnsupportedAlgorithm));
        for b in 0..3 * KEY_CACHE_ENTRIES as u64 {
            cached_key(alg, &G, b, parse).unwrap();
        }
        assert!(KEY_CACHE.read().unwrap().len() <= KEY_CACHE_ENTRIES);
    }

    #[test]
    fn rsa_public_keys_are_encoded_as_der() {
        assert_eq!(
            rsa_public_key_der(&[0x80, 0x01], &[0x01, 0x00, 0x01]).unwrap(),
            [
                0x30, 0x0a, 0x02, 0x03, 0x00, 0x80, 0x01, 0x02, 0x03, 0x01, 0x00, 0x01
            ]
        );
        let der = rsa_public_key_der(&[0xff; 256], &[3]).unwrap();
        assert_eq!(
            &der[..9],
            &[0x30, 0x82, 0x01, 0x08, 0x02, 0x82, 0x01, 0x01, 0x00]
        );
        assert_eq!(&der[der.len() - 3..], &[0x02, 0x01, 0x03]);
        assert_eq!(der.len(), 4 + 0x108);
        let der = rsa_public_key_der(&[0x7f; 200], &[3]).unwrap();
        assert_eq!(&der[..6], &[0x30, 0x81, 0xce, 0x02, 0x81, 0xc8]);
    }
}
