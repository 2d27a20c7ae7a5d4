//! Test-only helpers: a signature [`Verifier`] on the `rsa`, `p256` and `p384` crates (until
//! the core's own backend lands), and a small certificate generator.
//!
//! How fixtures are made: every certificate in the x509 tests is built at test time by
//! [`CertBuilder`] from a hand-written DER encoder, so odd encodings (non-string UIDs, BER
//! lengths, duplicate attributes) are as easy to make as normal ones. EC keys come from fixed
//! scalars; the RSA root key is `tests/data/x509/rsa2048-root-key.pk8.der`, made once with
//! `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -outform DER` then
//! `openssl pkcs8 -topk8 -nocrypt -inform DER -outform DER` (PKCS#8). Signatures
//! (RFC 6979 ECDSA, PKCS#1 v1.5) are deterministic, so every certificate is reproducible.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![allow(clippy::cast_possible_truncation, unreachable_pub, missing_docs)]

use kauthn::crypto::{PublicKey, SignatureAlgorithm, SignatureError, Verifier};

/// A [`Verifier`] over the RustCrypto crates, for tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct TestVerifier;

impl Verifier for TestVerifier {
    fn verify(
        &self,
        alg: SignatureAlgorithm,
        key: &PublicKey<'_>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        use rsa::signature::Verifier as _;
        match (alg, key) {
            (
                SignatureAlgorithm::RsaPkcs1Sha256
                | SignatureAlgorithm::RsaPkcs1Sha384
                | SignatureAlgorithm::RsaPkcs1Sha512,
                PublicKey::Rsa { modulus, exponent },
            ) => {
                let n = rsa::BoxedUint::from_be_slice_vartime(modulus);
                let e = rsa::BoxedUint::from_be_slice_vartime(exponent);
                let pk = rsa::PublicKey::new_with_size_limits(n, e, 1024..=8192)
                    .map_err(|_| SignatureError::KeyRejected)?;
                let sig = rsa::pkcs1v15::Signature::try_from(signature)
                    .map_err(|_| SignatureError::BadSignature)?;
                let r = match alg {
                    SignatureAlgorithm::RsaPkcs1Sha256 => {
                        rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk).verify(message, &sig)
                    }
                    SignatureAlgorithm::RsaPkcs1Sha384 => {
                        rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(pk).verify(message, &sig)
                    }
                    _ => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(pk).verify(message, &sig),
                };
                r.map_err(|_| SignatureError::BadSignature)
            }
            (SignatureAlgorithm::EcdsaP256Sha256Asn1, PublicKey::EcP256(point)) => {
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                    .map_err(|_| SignatureError::KeyRejected)?;
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .map_err(|_| SignatureError::BadSignature)?;
                vk.verify(message, &sig)
                    .map_err(|_| SignatureError::BadSignature)
            }
            (SignatureAlgorithm::EcdsaP384Sha384Asn1, PublicKey::EcP384(point)) => {
                let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                    .map_err(|_| SignatureError::KeyRejected)?;
                let sig = p384::ecdsa::Signature::from_der(signature)
                    .map_err(|_| SignatureError::BadSignature)?;
                vk.verify(message, &sig)
                    .map_err(|_| SignatureError::BadSignature)
            }
            (
                SignatureAlgorithm::RsaPkcs1Sha256
                | SignatureAlgorithm::RsaPkcs1Sha384
                | SignatureAlgorithm::RsaPkcs1Sha512
                | SignatureAlgorithm::EcdsaP256Sha256Asn1
                | SignatureAlgorithm::EcdsaP384Sha384Asn1,
                _,
            ) => Err(SignatureError::KeyMismatch),
            _ => Err(SignatureError::UnsupportedAlgorithm),
        }
    }
}

// ---------------------------------------------------------------------------------------
// A minimal DER encoder.

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else if n < 0x10000 {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    } else {
        out.extend([0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub fn set(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}

pub fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

/// A non-negative INTEGER from big-endian magnitude bytes, minimally encoded.
pub fn uint(bytes: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = bytes.iter().copied().skip_while(|x| *x == 0).collect();
    if b.is_empty() {
        b.push(0);
    }
    if b[0] & 0x80 != 0 {
        b.insert(0, 0);
    }
    tlv(0x02, &b)
}

pub fn utf8(s: &str) -> Vec<u8> {
    tlv(0x0c, s.as_bytes())
}

pub fn printable(s: &str) -> Vec<u8> {
    tlv(0x13, s.as_bytes())
}

pub fn octets(b: &[u8]) -> Vec<u8> {
    tlv(0x04, b)
}

pub fn bits(b: &[u8]) -> Vec<u8> {
    let mut c = vec![0u8];
    c.extend_from_slice(b);
    tlv(0x03, &c)
}

pub fn generalized_time(s: &str) -> Vec<u8> {
    tlv(0x18, s.as_bytes())
}

pub mod oids {
    pub const CN: &[u8] = &[0x55, 0x04, 0x03];
    pub const O: &[u8] = &[0x55, 0x04, 0x0a];
    pub const OU: &[u8] = &[0x55, 0x04, 0x0b];
    pub const UID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xc2, 0x53, 0x02];
    pub const CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
    pub const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
    pub const ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];
}

/// One attribute: its OID and its complete DER value (any tag).
pub type Attr = (&'static [u8], Vec<u8>);

pub fn cn(s: &str) -> Attr {
    (oids::CN, utf8(s))
}

pub fn o(s: &str) -> Attr {
    (oids::O, utf8(s))
}

pub fn uid(s: &str) -> Attr {
    (oids::UID, utf8(s))
}

/// A Name with one attribute per RDN, in order.
pub fn name(attrs: &[Attr]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attrs
        .iter()
        .map(|(t, v)| set(&[&seq(&[&oid(t), v])]))
        .collect();
    let refs: Vec<&[u8]> = rdns.iter().map(|v| v.as_slice()).collect();
    seq(&refs)
}

pub fn extension(id_ce_or_oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let id = oid(id_ce_or_oid);
    let v = octets(value);
    if critical {
        seq(&[&id, &tlv(0x01, &[0xff]), &v])
    } else {
        seq(&[&id, &v])
    }
}

pub fn basic_constraints(ca: bool, path_len: Option<u8>) -> Vec<u8> {
    let mut parts: Vec<Vec<u8>> = vec![];
    if ca {
        parts.push(tlv(0x01, &[0xff]));
    }
    if let Some(p) = path_len {
        parts.push(uint(&[p]));
    }
    let refs: Vec<&[u8]> = parts.iter().map(|v| v.as_slice()).collect();
    extension(&[0x55, 0x1d, 0x13], true, &seq(&refs))
}

pub fn eku(usages: &[&[u8]]) -> Vec<u8> {
    let items: Vec<Vec<u8>> = usages.iter().map(|u| oid(u)).collect();
    let refs: Vec<&[u8]> = items.iter().map(|v| v.as_slice()).collect();
    extension(&[0x55, 0x1d, 0x25], false, &seq(&refs))
}

/// keyUsage with the given first octet (0x80 digitalSignature, 0x04 keyCertSign, …).
pub fn key_usage(first: u8) -> Vec<u8> {
    let unused = first.trailing_zeros().min(7) as u8;
    extension(&[0x55, 0x1d, 0x0f], true, &tlv(0x03, &[unused, first]))
}

pub fn skid(id: &[u8]) -> Vec<u8> {
    extension(&[0x55, 0x1d, 0x0e], false, &octets(id))
}

pub fn akid(id: &[u8]) -> Vec<u8> {
    extension(&[0x55, 0x1d, 0x23], false, &seq(&[&tlv(0x80, id)]))
}

// ---------------------------------------------------------------------------------------
// Keys and certificates.

pub enum TestKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(Box<rsa::PrivateKey>),
}

impl TestKey {
    /// A P-256 key from a fixed scalar.
    pub fn p256(seed: u8) -> Self {
        let mut s = [0x11u8; 32];
        s[31] = seed;
        TestKey::P256(p256::ecdsa::SigningKey::from_slice(&s).unwrap())
    }

    /// A P-384 key from a fixed scalar.
    pub fn p384(seed: u8) -> Self {
        let mut s = [0x22u8; 48];
        s[47] = seed;
        TestKey::P384(p384::ecdsa::SigningKey::from_slice(&s).unwrap())
    }

    /// The checked-in 2048-bit RSA key.
    pub fn rsa() -> Self {
        use rsa::pkcs8::DecodePrivateKey;
        let der = include_bytes!("../data/x509/rsa2048-root-key.pk8.der");
        TestKey::Rsa(Box::new(rsa::PrivateKey::from_pkcs8_der(der).unwrap()))
    }

    pub fn spki(&self) -> Vec<u8> {
        match self {
            TestKey::P256(k) => {
                let point = k.verifying_key().to_sec1_point(false);
                seq(&[
                    &seq(&[
                        &oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
                        &oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
                    ]),
                    &bits(point.as_bytes()),
                ])
            }
            TestKey::P384(k) => {
                let point = k.verifying_key().to_sec1_point(false);
                seq(&[
                    &seq(&[
                        &oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
                        &oid(&[0x2b, 0x81, 0x04, 0x00, 0x22]),
                    ]),
                    &bits(point.as_bytes()),
                ])
            }
            TestKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                let n = k.n().to_be_bytes();
                let e = k.e().to_be_bytes();
                let key = seq(&[&uint(&n), &uint(&e)]);
                seq(&[
                    &seq(&[
                        &oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]),
                        &tlv(0x05, &[]),
                    ]),
                    &bits(&key),
                ])
            }
        }
    }

    /// The AlgorithmIdentifier this key signs with.
    pub fn sig_alg(&self) -> Vec<u8> {
        match self {
            TestKey::P256(_) => seq(&[&oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])]),
            TestKey::P384(_) => seq(&[&oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03])]),
            TestKey::Rsa(_) => seq(&[
                &oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
                &tlv(0x05, &[]),
            ]),
        }
    }

    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        use rsa::signature::{SignatureEncoding, Signer};
        match self {
            TestKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            TestKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            TestKey::Rsa(k) => {
                let sk = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new((**k).clone());
                sk.sign(msg).to_vec()
            }
        }
    }
}

/// Builds a v3 certificate. Defaults: serial 1, valid 2020-01-01..2099-12-31.
pub struct CertBuilder {
    pub serial: Vec<u8>,
    pub issuer: Vec<u8>,
    pub subject: Vec<u8>,
    pub not_before: String,
    pub not_after: String,
    pub extensions: Vec<Vec<u8>>,
}

impl CertBuilder {
    pub fn new(subject: &[Attr]) -> Self {
        let subject = name(subject);
        CertBuilder {
            serial: vec![1],
            issuer: subject.clone(),
            subject,
            not_before: "20200101000000Z".into(),
            not_after: "20991231235959Z".into(),
            extensions: vec![],
        }
    }

    pub fn issuer_name(mut self, issuer: &[u8]) -> Self {
        self.issuer = issuer.to_vec();
        self
    }

    pub fn serial(mut self, serial: &[u8]) -> Self {
        self.serial = serial.to_vec();
        self
    }

    pub fn validity(mut self, not_before: &str, not_after: &str) -> Self {
        self.not_before = not_before.into();
        self.not_after = not_after.into();
        self
    }

    pub fn ext(mut self, e: Vec<u8>) -> Self {
        self.extensions.push(e);
        self
    }

    /// A CA: basicConstraints cA (critical) and keyUsage keyCertSign.
    pub fn ca(self) -> Self {
        self.ext(basic_constraints(true, None)).ext(key_usage(0x04))
    }

    /// The TBSCertificate for `subject_key`, to be signed by `signer`.
    pub fn tbs(&self, subject_key: &TestKey, signer: &TestKey) -> Vec<u8> {
        let version = tlv(0xa0, &uint(&[2]));
        let validity = seq(&[
            &generalized_time(&self.not_before),
            &generalized_time(&self.not_after),
        ]);
        let mut parts: Vec<Vec<u8>> = vec![
            version,
            uint(&self.serial),
            signer.sig_alg(),
            self.issuer.clone(),
            validity,
            self.subject.clone(),
            subject_key.spki(),
        ];
        if !self.extensions.is_empty() {
            let refs: Vec<&[u8]> = self.extensions.iter().map(|v| v.as_slice()).collect();
            parts.push(tlv(0xa3, &seq(&refs)));
        }
        let refs: Vec<&[u8]> = parts.iter().map(|v| v.as_slice()).collect();
        seq(&refs)
    }

    /// The certificate for `subject_key`, signed by `signer`.
    pub fn build(&self, subject_key: &TestKey, signer: &TestKey) -> Vec<u8> {
        let tbs = self.tbs(subject_key, signer);
        let sig = signer.sign(&tbs);
        seq(&[&tbs, &signer.sig_alg(), &bits(&sig)])
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// PEM text of DER certificates.
pub fn pem(ders: &[&[u8]]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let encode = |der: &[u8]| {
        let mut s = String::new();
        for chunk in der.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    s.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    s.push('=');
                }
            }
        }
        s
    };
    let mut out = String::new();
    for der in ders {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let b64 = encode(der);
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}
