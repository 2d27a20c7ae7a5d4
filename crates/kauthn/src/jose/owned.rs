//! Owned key sets for embedders with a heap (`alloc`): the same loaders as [`KeySet`], with
//! components copied into `Vec`s so the set outlives the input bytes, and each key prepared
//! once for the RustCrypto backend ([`PreparedKey`]), so that verification skips the
//! per-call key conversion (for RSA, the Montgomery constants of the modulus).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::alg::Algorithm;
use super::error::JoseError;
use super::key::{KeyRef, KeySet, KeySource, LoadReport, MAX_KEYS};
use crate::Scratch;
use crate::crypto::{PreparedKey, PublicKey};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Components {
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    P256(Vec<u8>),
    P384(Vec<u8>),
    P521(Vec<u8>),
}

/// A key with owned components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedKey {
    components: Components,
    kid: Option<String>,
    alg: Option<Algorithm>,
}

impl OwnedKey {
    /// Copies a borrowed key.
    pub fn from_ref(k: &KeyRef<'_>) -> Option<Self> {
        let components = match k.key {
            PublicKey::Rsa { modulus, exponent } => Components::Rsa {
                modulus: modulus.to_vec(),
                exponent: exponent.to_vec(),
            },
            PublicKey::EcP256(p) => Components::P256(p.to_vec()),
            PublicKey::EcP384(p) => Components::P384(p.to_vec()),
            PublicKey::EcP521(p) => Components::P521(p.to_vec()),
            #[allow(unreachable_patterns)]
            _ => return None,
        };
        Some(OwnedKey {
            components,
            kid: k.kid.map(String::from),
            alg: k.alg,
        })
    }

    /// A borrowed view of this key.
    pub fn as_ref(&self) -> KeyRef<'_> {
        let key = match &self.components {
            Components::Rsa { modulus, exponent } => PublicKey::Rsa { modulus, exponent },
            Components::P256(p) => PublicKey::EcP256(p),
            Components::P384(p) => PublicKey::EcP384(p),
            Components::P521(p) => PublicKey::EcP521(p),
        };
        KeyRef {
            key,
            kid: self.kid.as_deref(),
            alg: self.alg,
        }
    }
}

/// A growable set of owned keys.
#[derive(Clone, Default)]
pub struct OwnedKeySet {
    keys: Vec<OwnedKey>,
    // `prepared[i]` is made from `keys[i]`; `None` when the RustCrypto policy refuses the
    // key (verification then reports that per call, as without preparation).
    prepared: Vec<Option<PreparedKey>>,
}

// Equality and debug output are those of the keys; the prepared forms follow from them.
impl PartialEq for OwnedKeySet {
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys
    }
}

impl Eq for OwnedKeySet {}

impl core::fmt::Debug for OwnedKeySet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OwnedKeySet")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl OwnedKeySet {
    /// An empty set.
    pub fn new() -> Self {
        OwnedKeySet::default()
    }

    fn load(
        &mut self,
        input: &[u8],
        f: impl for<'a> FnOnce(
            &mut KeySet<'a, MAX_KEYS>,
            &'a [u8],
            &mut Scratch<'a>,
        ) -> Result<LoadReport, JoseError>,
    ) -> Result<LoadReport, JoseError> {
        // Decoded components are never longer than their encoding; derived EC points and key
        // ids need a little more.
        let mut buf = vec![0u8; input.len().saturating_mul(2).saturating_add(8192)];
        let mut scratch = Scratch::new(&mut buf);
        let mut set = KeySet::<MAX_KEYS>::new();
        let report = f(&mut set, input, &mut scratch)?;
        for k in set.as_slice() {
            if let Some(owned) = OwnedKey::from_ref(k) {
                self.push(owned)?;
            }
        }
        Ok(report)
    }

    /// Adds a key, with the same checks as [`KeySet::push`].
    pub fn push(&mut self, key: OwnedKey) -> Result<(), JoseError> {
        super::key::check_public_key(&key.as_ref().key)?;
        if key
            .kid
            .as_deref()
            .is_some_and(|k| k.len() > super::MAX_KID_LEN)
        {
            return Err(super::JoseLimit::KidLength.into());
        }
        if let Some(existing) = self
            .keys
            .iter()
            .find(|k| super::key::same_slot(&k.as_ref(), &key.as_ref()))
        {
            if *existing == key {
                return Ok(());
            }
            return Err(super::KeyProblem::DuplicateKid.into());
        }
        self.prepared.push(PreparedKey::new(&key.as_ref().key).ok());
        self.keys.push(key);
        Ok(())
    }

    /// Adds the keys of a PEM file (see [`KeySet::add_pem`]).
    pub fn add_pem(&mut self, pem: &[u8]) -> Result<LoadReport, JoseError> {
        self.load(pem, |set, input, scratch| set.add_pem(input, scratch))
    }

    /// Adds the keys of a JWK or JWK Set (see [`KeySet::add_jwks`]).
    pub fn add_jwks(&mut self, json: &[u8]) -> Result<LoadReport, JoseError> {
        self.load(json, |set, input, scratch| set.add_jwks(input, scratch))
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl KeySource for OwnedKeySet {
    fn key_count(&self) -> usize {
        self.keys.len()
    }

    fn key_at(&self, index: usize) -> Option<KeyRef<'_>> {
        self.keys.get(index).map(OwnedKey::as_ref)
    }

    fn prepared_at(&self, index: usize) -> Option<&PreparedKey> {
        self.prepared.get(index)?.as_ref()
    }
}
