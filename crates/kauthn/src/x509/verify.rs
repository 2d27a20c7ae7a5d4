//! Chain verification: Go's `(*Certificate).Verify` with `KeyUsages: [ClientAuth]`, bounded.
//!
//! Upstream: `crypto/x509/verify.go` (`Verify`, `buildChains`, `isValid`,
//! `checkChainForKeyUsage`) as used by `k8s.io/apiserver/pkg/authentication/request/x509`.
//!
//! * The leaf is checked first (unhandled critical extensions, then validity), so an expired
//!   leaf reports `certificate has expired or is not yet valid` as Go does.
//! * A leaf that is itself in the pool is a complete chain (Go's `Roots.contains`).
//! * Otherwise a depth-first search links each certificate to an issuer whose subject equals
//!   its issuer byte for byte (AKI/SKI are not used: V-4), trying pool roots before presented
//!   intermediates, verifying the signature through [`Verifier`] and then the issuer's own
//!   rules. A failed candidate is skipped, so an alternative path can still succeed (V-8).
//! * A complete chain must pass Go's EKU rule for the requested usage; when every complete
//!   chain fails it, the error is `incompatible key usage`, otherwise `unknown authority`.
//!
//! Stricter than Go, as the issue asks: every issuer, pool roots included, must assert
//! basicConstraints `cA` (Go exempts v1 roots) and keyCertSign when keyUsage is present; a CA
//! carrying name constraints cannot issue (they are not evaluated, and ignoring them would
//! accept what Go rejects).

use crate::crypto::{PreparedKey, PublicKey, SignatureAlgorithm, Verifier};
use crate::time::UnixTime;

use super::cert::{CertificateRef, KeyKind, SigAlg};
use super::pool::ClientCaPool;
use super::{X509Error, X509Limit};

/// Most certificates accepted in a presented chain, leaf included. TLS stacks send the leaf
/// and one or two intermediates; a longer list is a resource attack.
pub const MAX_PRESENTED_CERTS: usize = 16;
/// Default most intermediates between the leaf and a root. Kubernetes client chains have
/// zero to two; webpki allows six.
pub const DEFAULT_MAX_INTERMEDIATES: usize = 6;
/// Most signature verifications one chain verification performs: Go's
/// `maxChainSignatureChecks`, from its CVE-2018-16875 fix (webpki uses the same 100).
pub const MAX_SIGNATURE_CHECKS: usize = 100;
/// Most issuer candidates (name matches) one verification considers, bounding the search
/// even when candidates fail before their signature is checked (V-3).
pub const MAX_CANDIDATE_ISSUERS: usize = 1_000;
/// Smallest RSA modulus accepted in an issuer key, in bits (Go's `rsa1024min`).
pub const MIN_RSA_BITS: usize = 1024;

/// The extended key usage a chain must allow.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPurpose {
    /// `id-kp-clientAuth`: what kube-apiserver requires of client certificates.
    ClientAuth,
    /// `id-kp-serverAuth`: Go's default when no usage is given (used by conformance suites).
    ServerAuth,
    /// No EKU requirement (Go's `ExtKeyUsageAny` in `VerifyOptions.KeyUsages`).
    Any,
}

/// Options of [`super::verify_client_chain`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The usage every certificate of the chain must allow.
    pub purpose: KeyPurpose,
    /// Most intermediates between leaf and root ([`DEFAULT_MAX_INTERMEDIATES`]); at most
    /// [`MAX_PRESENTED_CERTS`] − 1.
    pub max_intermediates: usize,
}

impl VerifyOptions {
    /// kube-apiserver's options: clientAuth, default depth.
    pub const fn client_auth() -> Self {
        VerifyOptions {
            purpose: KeyPurpose::ClientAuth,
            max_intermediates: DEFAULT_MAX_INTERMEDIATES,
        }
    }

    /// The same options requiring `purpose`.
    pub const fn with_purpose(self, purpose: KeyPurpose) -> Self {
        VerifyOptions { purpose, ..self }
    }

    /// The same options with another depth bound.
    pub const fn with_max_intermediates(self, max_intermediates: usize) -> Self {
        VerifyOptions {
            max_intermediates,
            ..self
        }
    }
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions::client_auth()
    }
}

fn check_validity(c: &CertificateRef<'_>, now: UnixTime) -> Result<(), X509Error> {
    let now = now.as_secs();
    // Both bounds are inclusive (Go: `now.Before(NotBefore)` / `now.After(NotAfter)`).
    if now < c.not_before() {
        return Err(X509Error::NotYetValid {
            now,
            not_before: c.not_before(),
        });
    }
    if now > c.not_after() {
        return Err(X509Error::Expired {
            now,
            not_after: c.not_after(),
        });
    }
    Ok(())
}

fn eku_allows(c: &CertificateRef<'_>, purpose: KeyPurpose) -> bool {
    match (c.ix.eku, purpose) {
        (None, _) | (_, KeyPurpose::Any) => true,
        (Some(e), _) if e.any => true,
        (Some(e), KeyPurpose::ClientAuth) => e.client_auth,
        (Some(e), KeyPurpose::ServerAuth) => e.server_auth,
    }
}

fn same_entity(a: &CertificateRef<'_>, b: &CertificateRef<'_>) -> bool {
    // Go's `alreadyInChain`: same subject and key means the same CA, whatever the DER.
    a.subject() == b.subject() && a.spki() == b.spki()
}

/// The `SignatureAlgorithm` for `child`'s signature made with `issuer`'s key, and the key.
fn algorithm_and_key<'k>(
    child: &CertificateRef<'_>,
    issuer: &CertificateRef<'k>,
) -> Result<(SignatureAlgorithm, PublicKey<'k>), X509Error> {
    let a = issuer.bytes(issuer.ix.key_a);
    let alg = match (child.ix.sig_alg, issuer.ix.key) {
        (SigAlg::RsaSha256, KeyKind::Rsa) => SignatureAlgorithm::RsaPkcs1Sha256,
        (SigAlg::RsaSha384, KeyKind::Rsa) => SignatureAlgorithm::RsaPkcs1Sha384,
        (SigAlg::RsaSha512, KeyKind::Rsa) => SignatureAlgorithm::RsaPkcs1Sha512,
        (SigAlg::EcdsaSha256, KeyKind::EcP256) => SignatureAlgorithm::EcdsaP256Sha256Asn1,
        (SigAlg::EcdsaSha384, KeyKind::EcP384) => SignatureAlgorithm::EcdsaP384Sha384Asn1,
        (SigAlg::Unsupported, _) | (_, KeyKind::Other | KeyKind::EcP521) => {
            return Err(X509Error::UnsupportedAlgorithm);
        }
        _ => return Err(X509Error::BadSignature),
    };
    if issuer.ix.key == KeyKind::Rsa {
        let bits = a
            .len()
            .saturating_mul(8)
            .saturating_sub(a.first().map_or(8, |b| b.leading_zeros() as usize));
        if bits < MIN_RSA_BITS {
            return Err(X509Error::WeakKey);
        }
    }
    let key = public_key(issuer).ok_or(X509Error::UnsupportedAlgorithm)?;
    Ok((alg, key))
}

/// A certificate's subject public key as the signature backend takes it.
pub(crate) fn public_key<'k>(c: &CertificateRef<'k>) -> Option<PublicKey<'k>> {
    let a = c.bytes(c.ix.key_a);
    match c.ix.key {
        KeyKind::Rsa => Some(PublicKey::Rsa {
            modulus: a,
            exponent: c.bytes(c.ix.key_b),
        }),
        KeyKind::EcP256 => Some(PublicKey::EcP256(a)),
        KeyKind::EcP384 => Some(PublicKey::EcP384(a)),
        KeyKind::EcP521 | KeyKind::Other => None,
    }
}

/// Go's `isValid` for an issuer, plus the stricter rules listed in the module docs.
/// `intermediates_below` counts the non-leaf certificates already in the path.
fn check_issuer(
    c: &CertificateRef<'_>,
    now: UnixTime,
    intermediates_below: usize,
) -> Result<(), X509Error> {
    if c.ix.unhandled_critical {
        return Err(X509Error::UnhandledCriticalExtension);
    }
    check_validity(c, now)?;
    if c.ix.name_constraints {
        return Err(X509Error::NameConstraintsUnsupported);
    }
    let bc =
        c.ix.basic_constraints
            .ok_or(X509Error::NotAuthorizedToSign)?;
    if !bc.ca || c.ix.key_cert_sign == Some(false) {
        return Err(X509Error::NotAuthorizedToSign);
    }
    if let Some(max) = bc.path_len {
        if usize::try_from(max).is_ok_and(|max| intermediates_below > max) {
            return Err(X509Error::TooManyIntermediates);
        }
    }
    Ok(())
}

struct Search<'x, V: ?Sized> {
    pool: &'x ClientCaPool<'x>,
    intermediates: &'x [CertificateRef<'x>],
    verifier: &'x V,
    now: UnixTime,
    opts: VerifyOptions,
    path: heapless::Vec<CertificateRef<'x>, MAX_PRESENTED_CERTS>,
    signatures: usize,
    candidates: usize,
    eku_failed: bool,
    depth_hit: bool,
}

impl<'x, V: Verifier + ?Sized> Search<'x, V> {
    /// `prepared` is the issuer's key prepared by the pool, for pool certificates.
    fn link(
        &mut self,
        child: &CertificateRef<'x>,
        issuer: &CertificateRef<'x>,
        prepared: Option<&PreparedKey>,
    ) -> Result<bool, X509Error> {
        self.candidates += 1;
        if self.candidates > MAX_CANDIDATE_ISSUERS {
            return Err(X509Error::LimitExceeded(X509Limit::CandidateIssuers));
        }
        if self.path.iter().any(|p| same_entity(p, issuer)) {
            return Ok(false);
        }
        let Ok((alg, key)) = algorithm_and_key(child, issuer) else {
            return Ok(false);
        };
        self.signatures += 1;
        if self.signatures > MAX_SIGNATURE_CHECKS {
            return Err(X509Error::LimitExceeded(X509Limit::SignatureChecks));
        }
        if self
            .verifier
            .verify_prepared(
                alg,
                &key,
                prepared,
                child.tbs(),
                child.bytes(child.ix.signature),
            )
            .is_err()
        {
            return Ok(false);
        }
        let below = self.path.len().saturating_sub(1);
        Ok(check_issuer(issuer, self.now, below).is_ok())
    }

    fn chain_allows_purpose(&self, root: &CertificateRef<'_>) -> bool {
        self.path.iter().all(|c| eku_allows(c, self.opts.purpose))
            && eku_allows(root, self.opts.purpose)
    }

    /// Extends the path ending in `child`; true when a complete, acceptable chain was found.
    fn extend(&mut self, child: CertificateRef<'x>) -> Result<bool, X509Error> {
        for i in 0..self.pool.len() {
            let Some((root, prepared)) = self.pool.get_prepared(i) else {
                break;
            };
            if root.subject() != child.issuer() {
                continue;
            }
            if self.link(&child, &root, prepared)? {
                if self.chain_allows_purpose(&root) {
                    return Ok(true);
                }
                self.eku_failed = true;
            }
        }
        let intermediates_so_far = self.path.len().saturating_sub(1);
        for i in 0..self.intermediates.len() {
            let Some(cand) = self.intermediates.get(i).copied() else {
                break;
            };
            if cand.subject() != child.issuer() {
                continue;
            }
            if intermediates_so_far >= self.opts.max_intermediates {
                self.depth_hit = true;
                continue;
            }
            if self.link(&child, &cand, None)? {
                if self.path.push(cand).is_err() {
                    self.depth_hit = true;
                    continue;
                }
                let found = self.extend(cand)?;
                self.path.pop();
                if found {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

/// See [`super::verify_client_chain`].
pub(crate) fn verify<'c, V: Verifier + ?Sized>(
    pool: &ClientCaPool<'_>,
    chain: &[&'c [u8]],
    now: UnixTime,
    verifier: &V,
    opts: &VerifyOptions,
) -> Result<CertificateRef<'c>, X509Error> {
    let (leaf_der, rest) = chain.split_first().ok_or(X509Error::NoCertificates)?;
    if chain.len() > MAX_PRESENTED_CERTS {
        return Err(X509Error::LimitExceeded(X509Limit::PresentedCertificates));
    }
    let leaf = CertificateRef::parse(leaf_der)?;
    let mut intermediates: heapless::Vec<CertificateRef<'c>, MAX_PRESENTED_CERTS> =
        heapless::Vec::new();
    for der in rest {
        let c = CertificateRef::parse(der)?;
        intermediates
            .push(c)
            .map_err(|_| X509Error::LimitExceeded(X509Limit::PresentedCertificates))?;
    }

    if leaf.ix.unhandled_critical {
        return Err(X509Error::UnhandledCriticalExtension);
    }
    check_validity(&leaf, now)?;

    if pool.contains(leaf.der()) {
        return if eku_allows(&leaf, opts.purpose) {
            Ok(leaf)
        } else {
            Err(X509Error::IncompatibleUsage)
        };
    }

    let mut search = Search {
        pool,
        intermediates: &intermediates,
        verifier,
        now,
        opts: VerifyOptions {
            max_intermediates: opts.max_intermediates.min(MAX_PRESENTED_CERTS - 1),
            ..*opts
        },
        path: heapless::Vec::new(),
        signatures: 0,
        candidates: 0,
        eku_failed: false,
        depth_hit: false,
    };
    // The leaf is the first element of the path; capacity is at least one.
    let _ = search.path.push(leaf);
    if search.extend(leaf)? {
        return Ok(leaf);
    }
    if search.eku_failed {
        Err(X509Error::IncompatibleUsage)
    } else if search.depth_hit {
        Err(X509Error::LimitExceeded(X509Limit::Intermediates))
    } else {
        Err(X509Error::UnknownAuthority)
    }
}
