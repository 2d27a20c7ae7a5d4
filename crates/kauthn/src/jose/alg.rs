//! JWS algorithms (RFC 7518 §3) and the configured allow-list.
//!
//! Only the nine public-key algorithms that kube-apiserver accepts for OIDC
//! (`--oidc-signing-algs`: RS256 RS384 RS512 ES256 ES384 ES512 PS256 PS384 PS512) exist
//! here. `none` (any letter case) and HMAC are rejected as [`Unsupported`]: a verifier that
//! holds only public keys must never treat key bytes as an HMAC secret (CVE-2015-9235 class).

use core::fmt;

use super::error::{JoseError, Unsupported};
use crate::crypto::{PublicKey, SignatureAlgorithm};

/// A JWS public-key signature algorithm.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32.
    PS256,
    /// RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48.
    PS384,
    /// RSASSA-PSS with SHA-512, MGF1-SHA-512, salt 64.
    PS512,
    /// ECDSA P-256 with SHA-256, 64-byte `r || s`.
    ES256,
    /// ECDSA P-384 with SHA-384, 96-byte `r || s`.
    ES384,
    /// ECDSA P-521 with SHA-512, 132-byte `r || s`.
    ES512,
}

/// The key a JWS algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// An RSA key (any size within the configured bounds).
    Rsa,
    /// An EC key on P-256.
    P256,
    /// An EC key on P-384.
    P384,
    /// An EC key on P-521.
    P521,
}

impl KeyKind {
    /// The kind of a key.
    pub fn of(key: &PublicKey<'_>) -> Option<KeyKind> {
        match key {
            PublicKey::Rsa { .. } => Some(KeyKind::Rsa),
            PublicKey::EcP256(_) => Some(KeyKind::P256),
            PublicKey::EcP384(_) => Some(KeyKind::P384),
            PublicKey::EcP521(_) => Some(KeyKind::P521),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

impl Algorithm {
    /// Every algorithm, in `--oidc-signing-algs` documentation order.
    pub const ALL: [Algorithm; 9] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ];

    /// The registered `alg` name (RFC 7518 §3.1).
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
        }
    }

    /// Looks up an `alg` value. Names are case-sensitive (RFC 7515 §4.1.1) except that
    /// `none` in any case and the HMAC names are reported as such, so that logs show the
    /// attack rather than "unknown algorithm".
    pub fn from_name(name: &str) -> Result<Algorithm, JoseError> {
        if let Some(a) = Algorithm::ALL.iter().find(|a| a.name() == name) {
            return Ok(*a);
        }
        if name.eq_ignore_ascii_case("none") {
            return Err(Unsupported::AlgNone.into());
        }
        if name.len() == 5 && name.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("HS")) {
            return Err(Unsupported::Hmac.into());
        }
        Err(Unsupported::UnknownAlgorithm.into())
    }

    /// The backend algorithm with every parameter fixed.
    pub const fn signature_algorithm(self) -> SignatureAlgorithm {
        match self {
            Algorithm::RS256 => SignatureAlgorithm::RsaPkcs1Sha256,
            Algorithm::RS384 => SignatureAlgorithm::RsaPkcs1Sha384,
            Algorithm::RS512 => SignatureAlgorithm::RsaPkcs1Sha512,
            Algorithm::PS256 => SignatureAlgorithm::RsaPssSha256,
            Algorithm::PS384 => SignatureAlgorithm::RsaPssSha384,
            Algorithm::PS512 => SignatureAlgorithm::RsaPssSha512,
            Algorithm::ES256 => SignatureAlgorithm::EcdsaP256Sha256Fixed,
            Algorithm::ES384 => SignatureAlgorithm::EcdsaP384Sha384Fixed,
            Algorithm::ES512 => SignatureAlgorithm::EcdsaP521Sha512Fixed,
        }
    }

    /// The key this algorithm verifies with: RSA for RS*/PS*, the matching curve for ES*
    /// (RFC 7518 §3.4: ES256 is P-256 only, and so on).
    pub const fn key_kind(self) -> KeyKind {
        match self {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyKind::Rsa,
            Algorithm::ES256 => KeyKind::P256,
            Algorithm::ES384 => KeyKind::P384,
            Algorithm::ES512 => KeyKind::P521,
        }
    }

    /// For ECDSA, the exact signature length (`r || s`, RFC 7518 §3.4); `None` for RSA, whose
    /// length is the modulus length and is checked by the backend.
    pub const fn fixed_signature_len(self) -> Option<usize> {
        match self {
            Algorithm::ES256 => Some(64),
            Algorithm::ES384 => Some(96),
            Algorithm::ES512 => Some(132),
            _ => None,
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The configured set of allowed algorithms (RFC 8725 §3.1: the verifier, not the token,
/// decides which algorithms are acceptable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct AlgorithmSet(u16);

impl AlgorithmSet {
    /// No algorithm.
    pub const EMPTY: AlgorithmSet = AlgorithmSet(0);
    /// All nine algorithms (the structured `AuthenticationConfiguration` default, spec §8.1).
    pub const ALL: AlgorithmSet = AlgorithmSet(0x01ff);
    /// RS256 only: the `--oidc-signing-algs` default.
    pub const RS256_ONLY: AlgorithmSet = AlgorithmSet(Algorithm::RS256.bit());
    /// What kube-apiserver signs service-account tokens with: RS256 for RSA keys and
    /// ES256/ES384/ES512 for EC keys (spec §7.1).
    pub const SERVICE_ACCOUNT: AlgorithmSet = AlgorithmSet(
        Algorithm::RS256.bit()
            | Algorithm::ES256.bit()
            | Algorithm::ES384.bit()
            | Algorithm::ES512.bit(),
    );

    /// The set with `alg` added.
    pub const fn with(self, alg: Algorithm) -> AlgorithmSet {
        AlgorithmSet(self.0 | alg.bit())
    }

    /// True when `alg` is allowed.
    pub const fn contains(self, alg: Algorithm) -> bool {
        self.0 & alg.bit() != 0
    }

    /// True when nothing is allowed.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses `--oidc-signing-algs` values; an unknown name fails like upstream's
    /// `oidc: unsupported signing alg: "HS256"`.
    pub fn from_names<'n>(names: impl IntoIterator<Item = &'n str>) -> Result<Self, JoseError> {
        let mut set = AlgorithmSet::EMPTY;
        for n in names {
            set = set.with(Algorithm::from_name(n)?);
        }
        Ok(set)
    }

    /// The allowed algorithms in [`Algorithm::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(move |a| self.contains(*a))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn names_round_trip_and_attacks_are_named() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()), Ok(a));
        }
        for n in ["none", "None", "NONE", "nOnE"] {
            assert_eq!(Algorithm::from_name(n), Err(Unsupported::AlgNone.into()));
        }
        assert_eq!(Algorithm::from_name("HS256"), Err(Unsupported::Hmac.into()));
        assert_eq!(
            Algorithm::from_name("rs256"),
            Err(Unsupported::UnknownAlgorithm.into())
        );
        assert_eq!(
            Algorithm::from_name("ES521"),
            Err(Unsupported::UnknownAlgorithm.into())
        );
        assert_eq!(AlgorithmSet::ALL.iter().count(), 9);
    }
}
