//! PEM key files as kube-apiserver's `--service-account-key-file` reads them
//! (upstream `k8s.io/client-go/util/keyutil` `PublicKeysFromFile`).
//!
//! Upstream first collects every block that parses as a public key (`PUBLIC KEY` SPKI, or a
//! `CERTIFICATE`'s SPKI), tolerating non-key blocks. Only when none is found does it take the
//! **first** private key (`RSA PRIVATE KEY` PKCS#1, `EC PRIVATE KEY` SEC1, `PRIVATE KEY`
//! PKCS#8) and use its public part. kauthn does the same, and additionally accepts
//! `RSA PUBLIC KEY` (PKCS#1), which Go's loader does not. Each key gets the Kubernetes key id
//! ([`kubernetes_key_id`]), so tokens whose `kid` was computed by kube-apiserver find it.
//!
//! RSA private keys give `(n, e)` straight from the structure. EC private keys give their
//! embedded public key, or, when it is absent, the public key derived from the scalar with
//! the curve crates' arithmetic (load time only).

use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, SliceReader, Tag, Tagged};
use spki::SubjectPublicKeyInfoRef;

use super::error::{JoseError, JoseLimit, KeyProblem, Malformed, Unsupported};
use super::key::{KUBERNETES_KID_LEN, KeyRef, KeySet, LoadReport, kubernetes_key_id};
use crate::Scratch;
use crate::crypto::PublicKey;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

fn der_err<E>(_: E) -> JoseError {
    JoseError::Malformed(Malformed::Der)
}

/// Splits a PEM file into its `-----BEGIN … -----END …-----` blocks, skipping text between
/// blocks as Go's `pem.Decode` does.
struct Blocks<'a> {
    rest: &'a [u8],
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl<'a> Iterator for Blocks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let begin = find(self.rest, b"-----BEGIN ")?;
        let from = self.rest.get(begin..)?;
        let end_marker = find(from, b"-----END ")?;
        let after = from.get(end_marker + 9..)?;
        let close = find(after, b"-----")?;
        let mut len = end_marker + 9 + close + 5;
        // Keep the line break after the footer (RFC 7468 allows it).
        match from.get(len..) {
            Some([b'\r', b'\n', ..]) => len += 2,
            Some([b'\n', ..]) => len += 1,
            _ => {}
        }
        let block = from.get(..len)?;
        self.rest = from.get(len..).unwrap_or_default();
        Some(block)
    }
}

fn decode_block<'a>(
    block: &'a [u8],
    scratch: &mut Scratch<'a>,
) -> Result<(&'a str, &'a [u8]), JoseError> {
    let (der, label) = scratch.fill_with(|buf| match pem_rfc7468::decode(block, buf) {
        Ok((label, der)) => Ok((der.len(), label)),
        Err(pem_rfc7468::Error::Length) => Err(JoseError::LimitExceeded(JoseLimit::Scratch)),
        Err(_) => Err(JoseError::Malformed(Malformed::Pem)),
    })?;
    let der: &'a [u8] = der;
    Ok((label, der))
}

fn curve_key<'a>(curve: ObjectIdentifier, point: &'a [u8]) -> Result<PublicKey<'a>, JoseError> {
    match curve {
        c if c == SECP256R1 => Ok(PublicKey::EcP256(point)),
        c if c == SECP384R1 => Ok(PublicKey::EcP384(point)),
        c if c == SECP521R1 => Ok(PublicKey::EcP521(point)),
        _ => Err(Unsupported::KeyType.into()),
    }
}

fn rsa_public(der: &[u8]) -> Result<PublicKey<'_>, JoseError> {
    let k = pkcs1::RsaPublicKeyRef::from_der(der).map_err(der_err)?;
    Ok(PublicKey::Rsa {
        modulus: k.modulus.as_bytes(),
        exponent: k.public_exponent.as_bytes(),
    })
}

/// The public key of a DER `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7).
pub fn spki_public_key(der: &[u8]) -> Result<PublicKey<'_>, JoseError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(der_err)?;
    spki_to_key(&spki)
}

fn spki_to_key<'a>(spki: &SubjectPublicKeyInfoRef<'a>) -> Result<PublicKey<'a>, JoseError> {
    let bits = spki.subject_public_key.as_bytes().ok_or(Malformed::Der)?;
    let oid = spki.algorithm.oid;
    if oid == RSA_ENCRYPTION {
        // RFC 3279 §2.3.1: parameters are NULL (absent is tolerated).
        if let Some(p) = spki.algorithm.parameters {
            if p.tag() != Tag::Null {
                return Err(Malformed::Der.into());
            }
        }
        rsa_public(bits)
    } else if oid == EC_PUBLIC_KEY {
        let params = spki.algorithm.parameters.ok_or(Malformed::Der)?;
        let curve: ObjectIdentifier = params.decode_as().map_err(der_err)?;
        curve_key(curve, bits)
    } else {
        Err(Unsupported::KeyType.into())
    }
}

/// The SPKI of a DER X.509 certificate, found by skipping the TBSCertificate fields before
/// it (RFC 5280 §4.1); nothing else of the certificate is interpreted.
pub fn certificate_public_key(der: &[u8]) -> Result<PublicKey<'_>, JoseError> {
    let cert = AnyRef::from_der(der).map_err(der_err)?;
    if cert.tag() != Tag::Sequence {
        return Err(Malformed::Der.into());
    }
    let mut r = SliceReader::new(cert.value()).map_err(der_err)?;
    let tbs = AnyRef::decode(&mut r).map_err(der_err)?;
    if tbs.tag() != Tag::Sequence {
        return Err(Malformed::Der.into());
    }
    let mut t = SliceReader::new(tbs.value()).map_err(der_err)?;
    let mut first = AnyRef::decode(&mut t).map_err(der_err)?;
    if first.tag().is_context_specific() {
        // [0] EXPLICIT version: the serial number follows.
        first = AnyRef::decode(&mut t).map_err(der_err)?;
    }
    let _serial = first;
    for _ in 0..4 {
        // signature, issuer, validity, subject
        AnyRef::decode(&mut t).map_err(der_err)?;
    }
    let spki = SubjectPublicKeyInfoRef::decode(&mut t).map_err(der_err)?;
    spki_to_key(&spki)
}

fn derive_point<'a>(
    curve: ObjectIdentifier,
    scalar: &[u8],
    scratch: &mut Scratch<'a>,
) -> Result<PublicKey<'a>, JoseError> {
    use p256::elliptic_curve::sec1::ToSec1Point;
    fn put<'a>(bytes: &[u8], scratch: &mut Scratch<'a>) -> Result<&'a [u8], JoseError> {
        let out = scratch.alloc(bytes.len()).map_err(|_| JoseLimit::Scratch)?;
        out.copy_from_slice(bytes);
        Ok(out)
    }
    let bad = |_| JoseError::KeyRejected(KeyProblem::EcPoint);
    if curve == SECP256R1 {
        let sk = p256::SecretKey::from_slice(scalar).map_err(bad)?;
        let p = sk.public_key().to_sec1_point(false);
        Ok(PublicKey::EcP256(put(p.as_bytes(), scratch)?))
    } else if curve == SECP384R1 {
        let sk = p384::SecretKey::from_slice(scalar).map_err(bad)?;
        let p = sk.public_key().to_sec1_point(false);
        Ok(PublicKey::EcP384(put(p.as_bytes(), scratch)?))
    } else if curve == SECP521R1 {
        let sk = p521::SecretKey::from_slice(scalar).map_err(bad)?;
        let p = sk.public_key().to_sec1_point(false);
        Ok(PublicKey::EcP521(put(p.as_bytes(), scratch)?))
    } else {
        Err(Unsupported::KeyType.into())
    }
}

fn sec1_public<'a>(
    der: &'a [u8],
    outer_curve: Option<ObjectIdentifier>,
    scratch: &mut Scratch<'a>,
) -> Result<PublicKey<'a>, JoseError> {
    let k = sec1::EcPrivateKey::from_der(der).map_err(der_err)?;
    let inner = k.parameters.and_then(|p| p.named_curve());
    let curve = match (outer_curve, inner) {
        (Some(a), Some(b)) if a != b => return Err(Malformed::Der.into()),
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(Malformed::Der.into()),
    };
    match k.public_key {
        Some(point) => curve_key(curve, point),
        None => derive_point(curve, k.private_key, scratch),
    }
}

fn rsa_private(der: &[u8]) -> Result<PublicKey<'_>, JoseError> {
    let k = pkcs1::RsaPrivateKeyRef::from_der(der).map_err(der_err)?;
    Ok(PublicKey::Rsa {
        modulus: k.modulus.as_bytes(),
        exponent: k.public_exponent.as_bytes(),
    })
}

fn pkcs8_public<'a>(der: &'a [u8], scratch: &mut Scratch<'a>) -> Result<PublicKey<'a>, JoseError> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(der_err)?;
    let inner: &'a [u8] = info.private_key.as_bytes();
    if info.algorithm.oid == RSA_ENCRYPTION {
        rsa_private(inner)
    } else if info.algorithm.oid == EC_PUBLIC_KEY {
        let params = info.algorithm.parameters.ok_or(Malformed::Der)?;
        let curve: ObjectIdentifier = params.decode_as().map_err(der_err)?;
        sec1_public(inner, Some(curve), scratch)
    } else {
        Err(Unsupported::KeyType.into())
    }
}

fn with_kid<'a>(key: PublicKey<'a>, scratch: &mut Scratch<'a>) -> Result<KeyRef<'a>, JoseError> {
    super::key::check_public_key(&key)?;
    let kid = kubernetes_key_id(&key)?;
    let out = scratch
        .alloc(KUBERNETES_KID_LEN)
        .map_err(|_| JoseLimit::Scratch)?;
    out.copy_from_slice(&kid);
    let out: &'a [u8] = out;
    let kid = core::str::from_utf8(out).map_err(|_| Malformed::Der)?;
    Ok(KeyRef {
        key,
        kid: Some(kid),
        alg: None,
    })
}

const PRIVATE_LABELS: [&str; 3] = ["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"];

impl<'a, const N: usize> KeySet<'a, N> {
    /// Adds the keys of a PEM file the way `--service-account-key-file` reads it (module
    /// docs). Decoded DER, derived EC points and key ids go into `scratch`. A file with no
    /// usable key is [`KeyProblem::NoKeys`].
    pub fn add_pem(
        &mut self,
        pem: &'a [u8],
        scratch: &mut Scratch<'a>,
    ) -> Result<LoadReport, JoseError> {
        let mut report = LoadReport::default();
        for block in (Blocks { rest: pem }) {
            let label = pem_rfc7468::decode_label(block).unwrap_or_default();
            if PRIVATE_LABELS.contains(&label) {
                continue;
            }
            let parsed = decode_block(block, scratch).and_then(|(label, der)| match label {
                "RSA PUBLIC KEY" => rsa_public(der),
                _ => spki_public_key(der).or_else(|_| certificate_public_key(der)),
            });
            match parsed.and_then(|k| with_kid(k, scratch)) {
                Ok(key) => {
                    self.push(key)?;
                    report.added += 1;
                }
                Err(JoseError::LimitExceeded(l)) => return Err(l.into()),
                Err(_) => report.skipped += 1,
            }
        }
        if report.added > 0 {
            return Ok(report);
        }
        // No public key: the first private key that parses (upstream ParsePrivateKeyPEM).
        let mut last_err = JoseError::KeyRejected(KeyProblem::NoKeys);
        for block in (Blocks { rest: pem }) {
            let label = pem_rfc7468::decode_label(block).unwrap_or_default();
            if !PRIVATE_LABELS.contains(&label) {
                continue;
            }
            let parsed = decode_block(block, scratch).and_then(|(label, der)| match label {
                "RSA PRIVATE KEY" => rsa_private(der),
                "EC PRIVATE KEY" => sec1_public(der, None, scratch),
                _ => pkcs8_public(der, scratch),
            });
            match parsed.and_then(|k| with_kid(k, scratch)) {
                Ok(key) => {
                    self.push(key)?;
                    report.added += 1;
                    return Ok(report);
                }
                Err(JoseError::LimitExceeded(l)) => return Err(l.into()),
                Err(e) => {
                    report.skipped += 1;
                    last_err = e;
                }
            }
        }
        Err(match last_err {
            JoseError::KeyRejected(KeyProblem::NoKeys) => last_err,
            // A key was found but is unusable: say why rather than "no keys".
            e => e,
        })
    }
}
