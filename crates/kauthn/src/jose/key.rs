//! Verification keys: raw components with an optional `kid` and `alg`, the key-set
//! capacity, Kubernetes key ids, and the load-time checks every key passes.
//!
//! Keys are checked once, when loaded, so that the authentication path only compares bytes:
//! RSA moduli of [`MIN_RSA_MODULUS_BITS`]..=[`MAX_RSA_MODULUS_BITS`] bits (RFC 7518 §3.3
//! requires at least 2048; the upper bound keeps verification cost bounded, the
//! CVE-2023-29409 class), odd exponents in Go's range, and EC points that are uncompressed
//! and on their curve (RFC 8725 §3.4; the curve arithmetic runs at load time only).

use sha2::{Digest, Sha256};

use super::alg::{Algorithm, KeyKind};
use super::base64url;
use super::error::{JoseError, JoseLimit, KeyProblem, Unsupported};
use crate::crypto::{PreparedKey, PublicKey};

/// Default capacity of a [`KeySet`]. A cluster configures a handful of service-account keys
/// and an OIDC provider publishes a few JWKS keys during rotation; 64 covers both with room
/// while keeping a key set a fixed, small value.
pub const MAX_KEYS: usize = 64;
/// Smallest RSA modulus accepted (RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be
/// used").
pub const MIN_RSA_MODULUS_BITS: usize = 2048;
/// Largest RSA modulus accepted: Go's TLS stack caps RSA keys at 8192 bits since
/// CVE-2023-29409, and larger keys only make verification slower.
pub const MAX_RSA_MODULUS_BITS: usize = 8192;
/// Length of a Kubernetes key id: unpadded base64url of a SHA-256 digest.
pub const KUBERNETES_KID_LEN: usize = 43;

/// A verification key: raw public components plus the JWK `kid` and `alg` when known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRef<'a> {
    /// The public key.
    pub key: PublicKey<'a>,
    /// The key id tokens name in their `kid` header.
    pub kid: Option<&'a str>,
    /// The one algorithm this key may be used with, when its JWK says so (RFC 7517 §4.4).
    pub alg: Option<Algorithm>,
}

impl<'a> KeyRef<'a> {
    /// A key with neither `kid` nor `alg`.
    pub const fn new(key: PublicKey<'a>) -> Self {
        KeyRef {
            key,
            kid: None,
            alg: None,
        }
    }

    /// True when this key may verify `alg`: the key type and curve fit, and a JWK `alg`, if
    /// any, is exactly `alg`.
    pub fn fits(&self, alg: Algorithm) -> bool {
        KeyKind::of(&self.key) == Some(alg.key_kind()) && self.alg.is_none_or(|a| a == alg)
    }
}

/// Anything that holds verification keys: a slice of [`KeyRef`], a [`KeySet`], or (with
/// `alloc`) an [`OwnedKeySet`](super::OwnedKeySet).
pub trait KeySource {
    /// How many keys.
    fn key_count(&self) -> usize;
    /// The key at `index`, in configuration order.
    fn key_at(&self, index: usize) -> Option<KeyRef<'_>>;

    /// The key at `index` checked and converted for the RustCrypto backend once, when this
    /// source keeps that (see [`Verifier::verify_prepared`](crate::crypto::Verifier)).
    fn prepared_at(&self, index: usize) -> Option<&PreparedKey> {
        let _ = index;
        None
    }
}

impl KeySource for [KeyRef<'_>] {
    fn key_count(&self) -> usize {
        self.len()
    }

    fn key_at(&self, index: usize) -> Option<KeyRef<'_>> {
        self.get(index).copied()
    }
}

impl<const N: usize> KeySource for [KeyRef<'_>; N] {
    fn key_count(&self) -> usize {
        N
    }

    fn key_at(&self, index: usize) -> Option<KeyRef<'_>> {
        self.get(index).copied()
    }
}

fn strip_zeros(mut b: &[u8]) -> &[u8] {
    while let Some((&0, rest)) = b.split_first() {
        b = rest;
    }
    b
}

fn bit_len(b: &[u8]) -> usize {
    let b = strip_zeros(b);
    match b.first() {
        None => 0,
        Some(&top) => (b.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}

/// Checks a key as every loader does (see the module docs). Returns the key unchanged.
pub fn check_public_key(key: &PublicKey<'_>) -> Result<(), JoseError> {
    match key {
        PublicKey::Rsa { modulus, exponent } => {
            let bits = bit_len(modulus);
            let odd = |b: &[u8]| b.last().is_some_and(|l| l & 1 == 1);
            if !(MIN_RSA_MODULUS_BITS..=MAX_RSA_MODULUS_BITS).contains(&bits) || !odd(modulus) {
                return Err(KeyProblem::RsaModulus.into());
            }
            let e = strip_zeros(exponent);
            if e.len() > 4 || !odd(e) {
                return Err(KeyProblem::RsaExponent.into());
            }
            let v = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            // Go's crypto/rsa: e >= 2 and e <= 2^31 - 1; e = 1 makes every signature its own
            // message.
            if !(3..=0x7fff_ffff).contains(&v) {
                return Err(KeyProblem::RsaExponent.into());
            }
            Ok(())
        }
        PublicKey::EcP256(p) => check_point::<p256::NistP256>(p, 65),
        PublicKey::EcP384(p) => check_point::<p384::NistP384>(p, 97),
        PublicKey::EcP521(p) => check_point::<p521::NistP521>(p, 133),
        #[allow(unreachable_patterns)]
        _ => Err(Unsupported::KeyType.into()),
    }
}

fn check_point<C>(point: &[u8], len: usize) -> Result<(), JoseError>
where
    C: p256::elliptic_curve::CurveArithmetic,
    p256::elliptic_curve::FieldBytesSize<C>: p256::elliptic_curve::sec1::ModulusSize,
    p256::elliptic_curve::AffinePoint<C>:
        p256::elliptic_curve::sec1::FromSec1Point<C> + p256::elliptic_curve::sec1::ToSec1Point<C>,
{
    // Uncompressed only: Go's x509 parser rejects compressed points, and the Kubernetes key id
    // hashes the uncompressed form.
    if point.len() != len || point.first() != Some(&0x04) {
        return Err(KeyProblem::EcPoint.into());
    }
    p256::elliptic_curve::PublicKey::<C>::from_sec1_bytes(point)
        .map(|_| ())
        .map_err(|_| KeyProblem::EcPoint.into())
}

// --- Kubernetes key ids -----------------------------------------------------------------

fn len_octets(len: usize) -> ([u8; 9], usize) {
    let mut out = [0u8; 9];
    if let Ok(short @ 0..=0x7f) = u8::try_from(len) {
        out[0] = short;
        return (out, 1);
    }
    let bytes = u64::try_from(len).unwrap_or(u64::MAX).to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let n = bytes.len() - skip; // 1..=8
    out[0] = 0x80 | u8::try_from(n).unwrap_or(8);
    for (slot, b) in out.iter_mut().skip(1).zip(bytes.iter().skip(skip)) {
        *slot = *b;
    }
    (out, n + 1)
}

fn tlv_len(content: usize) -> usize {
    1 + len_octets(content).1 + content
}

fn put_header(h: &mut Sha256, tag: u8, len: usize) {
    let (l, n) = len_octets(len);
    h.update([tag]);
    h.update(l.get(..n).unwrap_or_default());
}

fn int_content(x: &[u8]) -> (bool, &[u8]) {
    let x = strip_zeros(x);
    let pad = x.first().is_none_or(|b| b & 0x80 != 0);
    (pad, x)
}

fn put_int(h: &mut Sha256, x: &[u8]) {
    let (pad, x) = int_content(x);
    put_header(h, 0x02, x.len() + usize::from(pad));
    if pad {
        h.update([0u8]);
    }
    h.update(x);
}

fn int_tlv_len(x: &[u8]) -> usize {
    let (pad, x) = int_content(x);
    tlv_len(x.len() + usize::from(pad))
}

const RSA_ALG_ID: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];
const EC_PUBLIC_KEY_OID: [u8; 9] = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const P521_OID: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

/// The key id kube-apiserver gives a service-account key:
/// `base64url_nopad(SHA-256(DER(PKIX SubjectPublicKeyInfo)))` (spec §7.1;
/// upstream `pkg/serviceaccount/jwt.go` `keyIDFromPublicKey`). The SPKI is re-encoded the way
/// Go's `x509.MarshalPKIXPublicKey` writes it (RSA with NULL parameters, minimal INTEGERs;
/// EC with the named-curve OID and the uncompressed point), streamed into the hash.
pub fn kubernetes_key_id(key: &PublicKey<'_>) -> Result<[u8; KUBERNETES_KID_LEN], JoseError> {
    let mut h = Sha256::new();
    match key {
        PublicKey::Rsa { modulus, exponent } => {
            let seq = int_tlv_len(modulus) + int_tlv_len(exponent);
            let bits = 1 + tlv_len(seq);
            put_header(&mut h, 0x30, RSA_ALG_ID.len() + tlv_len(bits));
            h.update(RSA_ALG_ID);
            put_header(&mut h, 0x03, bits);
            h.update([0u8]);
            put_header(&mut h, 0x30, seq);
            put_int(&mut h, modulus);
            put_int(&mut h, exponent);
        }
        PublicKey::EcP256(p) | PublicKey::EcP384(p) | PublicKey::EcP521(p) => {
            let curve: &[u8] = match key {
                PublicKey::EcP256(_) => &P256_OID,
                PublicKey::EcP384(_) => &P384_OID,
                _ => &P521_OID,
            };
            let alg = EC_PUBLIC_KEY_OID.len() + curve.len();
            let bits = 1 + p.len();
            put_header(&mut h, 0x30, tlv_len(alg) + tlv_len(bits));
            put_header(&mut h, 0x30, alg);
            h.update(EC_PUBLIC_KEY_OID);
            h.update(curve);
            put_header(&mut h, 0x03, bits);
            h.update([0u8]);
            h.update(p);
        }
        #[allow(unreachable_patterns)]
        _ => return Err(Unsupported::KeyType.into()),
    }
    let digest = h.finalize();
    let mut out = [0u8; KUBERNETES_KID_LEN];
    base64url::encode(&digest, &mut out)?;
    Ok(out)
}

/// True when `a` and `b` would compete for the same token: same `kid` and same key kind.
pub(crate) fn same_slot(a: &KeyRef<'_>, b: &KeyRef<'_>) -> bool {
    a.kid.is_some() && a.kid == b.kid && KeyKind::of(&a.key) == KeyKind::of(&b.key)
}

// --- Key sets --------------------------------------------------------------------------

/// What a loader did: keys added and inputs skipped (unsupported key types, `use: enc`,
/// non-key PEM blocks), so that a configuration report can say why a key is missing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Keys added to the set.
    pub added: usize,
    /// JWKs or PEM blocks ignored.
    pub skipped: usize,
}

/// A fixed-capacity set of borrowed keys, built once at start-up from caller-owned bytes
/// (PEM or JWKS text and a [`Scratch`](crate::Scratch) for decoded components).
#[derive(Clone, Debug, Default)]
pub struct KeySet<'a, const N: usize = MAX_KEYS> {
    keys: heapless::Vec<KeyRef<'a>, N>,
}

impl<'a, const N: usize> KeySet<'a, N> {
    /// An empty set.
    pub const fn new() -> Self {
        KeySet {
            keys: heapless::Vec::new(),
        }
    }

    /// Adds a key after the load-time checks. An identical key with the same `kid` is added
    /// once; a *different* key of the same kind (RSA, or the same curve) with a `kid` already
    /// present is [`KeyProblem::DuplicateKid`]: the lookup would be ambiguous. Keys of
    /// different kinds may share a `kid` (RFC 7517 §4.5 names this case), because the
    /// header `alg` then selects exactly one of them.
    pub fn push(&mut self, key: KeyRef<'a>) -> Result<(), JoseError> {
        check_public_key(&key.key)?;
        if let Some(kid) = key.kid {
            if kid.len() > super::MAX_KID_LEN {
                return Err(JoseLimit::KidLength.into());
            }
            if let Some(existing) = self.keys.iter().find(|k| same_slot(k, &key)) {
                if *existing == key {
                    return Ok(());
                }
                return Err(KeyProblem::DuplicateKid.into());
            }
        }
        self.keys
            .push(key)
            .map_err(|_| JoseError::LimitExceeded(JoseLimit::KeySetCapacity))
    }

    /// The keys in load order.
    pub fn as_slice(&self) -> &[KeyRef<'a>] {
        &self.keys
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl<const N: usize> KeySource for KeySet<'_, N> {
    fn key_count(&self) -> usize {
        self.keys.len()
    }

    fn key_at(&self, index: usize) -> Option<KeyRef<'_>> {
        self.keys.get(index).copied()
    }
}
