//! A borrowed, allocation-free view of one X.509 certificate (RFC 5280 §4.1).
//!
//! Parsing validates the whole structure once (strict DER, X-1…X-10 of the attack catalogue)
//! and records where each field is ([`CertIndex`]); accessors then slice the DER. What is
//! checked here is what Go's `crypto/x509.ParseCertificate` checks, with the deviations listed
//! on [`CertificateRef::parse`].
//!
//! Upstream: `crypto/x509/parser.go` (Go), whose error texts are reused where they exist.

use super::X509Error;
use super::reader::{self, Reader, Span, Tlv, tag};
use super::time;

/// Largest certificate accepted, in bytes. Real client certificates are 1–2 KiB; 64 KiB
/// leaves room for large RSA keys and many names while bounding parse work per certificate.
pub const MAX_CERTIFICATE_LEN: usize = 64 * 1024;
/// Most extensions one certificate may carry; more is malformed. Typical certificates carry
/// fewer than 12; the bound keeps the duplicate check (quadratic) cheap.
pub const MAX_EXTENSIONS: usize = 32;
/// Longest serial number accepted, in bytes. RFC 5280 allows 20; Go accepts longer ones for
/// compatibility, and so does this up to a bound that keeps the decimal rendering in
/// [`super::CertificateIdentifier`] on the stack.
pub const MAX_SERIAL_LEN: usize = 64;

pub(crate) mod oid {
    pub(crate) const RSA_ENCRYPTION: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    pub(crate) const SHA256_WITH_RSA: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    pub(crate) const SHA384_WITH_RSA: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    pub(crate) const SHA512_WITH_RSA: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    pub(crate) const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    pub(crate) const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    pub(crate) const ECDSA_WITH_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    pub(crate) const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    pub(crate) const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    pub(crate) const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    pub(crate) const AUTHORITY_INFO_ACCESS: &[u8] =
        &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];
    pub(crate) const EKU_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
    pub(crate) const EKU_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
    pub(crate) const EKU_ANY: &[u8] = &[0x55, 0x1d, 0x25, 0x00];
    pub(crate) const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
    pub(crate) const ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
    /// 1.3.6.1.4.1.57683.2, the Kubernetes user UID attribute.
    pub(crate) const KUBERNETES_UID: &[u8] =
        &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xc2, 0x53, 0x02];
}

/// `id-ce` extension arcs Go's parser handles (`processExtensions`): a critical extension
/// outside this list (and AIA) is an unhandled critical extension.
mod ext {
    pub(super) const SUBJECT_KEY_ID: u8 = 14;
    pub(super) const KEY_USAGE: u8 = 15;
    pub(super) const SUBJECT_ALT_NAME: u8 = 17;
    pub(super) const BASIC_CONSTRAINTS: u8 = 19;
    pub(super) const NAME_CONSTRAINTS: u8 = 30;
    pub(super) const CRL_DISTRIBUTION_POINTS: u8 = 31;
    pub(super) const CERTIFICATE_POLICIES: u8 = 32;
    pub(super) const POLICY_MAPPINGS: u8 = 33;
    pub(super) const AUTHORITY_KEY_ID: u8 = 35;
    pub(super) const POLICY_CONSTRAINTS: u8 = 36;
    pub(super) const EXT_KEY_USAGE: u8 = 37;
    pub(super) const INHIBIT_ANY_POLICY: u8 = 54;
}

/// The certificate's signature algorithm, before the issuer's key says which curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SigAlg {
    RsaSha256,
    RsaSha384,
    RsaSha512,
    EcdsaSha256,
    EcdsaSha384,
    /// Anything else (SHA-1, MD5, PSS, Ed25519, …): the certificate can be parsed, but a
    /// signature over it cannot be verified.
    Unsupported,
}

/// The subject public key's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    EcP256,
    EcP384,
    EcP521,
    /// Another algorithm (Ed25519, DSA, …). Go accepts such leaves; such a certificate cannot
    /// issue in this crate.
    Other,
}

/// Extended key usages present, as flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Eku {
    pub(crate) any: bool,
    pub(crate) client_auth: bool,
    pub(crate) server_auth: bool,
}

/// `basicConstraints`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BasicConstraints {
    pub(crate) ca: bool,
    pub(crate) path_len: Option<u32>,
}

/// Where every field of a parsed certificate is, and the scalars derived from it. `Copy`
/// and without a lifetime, so the CA pool can store it beside DER it owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CertIndex {
    pub(crate) tbs: Span,
    pub(crate) sig_alg: SigAlg,
    pub(crate) signature: Span,
    pub(crate) serial: Span,
    pub(crate) issuer: Span,
    pub(crate) subject: Span,
    pub(crate) subject_value: Span,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    pub(crate) spki: Span,
    pub(crate) key: KeyKind,
    /// RSA modulus (leading zeros stripped) or EC point.
    pub(crate) key_a: Span,
    /// RSA exponent.
    pub(crate) key_b: Span,
    pub(crate) basic_constraints: Option<BasicConstraints>,
    /// `keyCertSign` asserted, when a keyUsage extension is present.
    pub(crate) key_cert_sign: Option<bool>,
    pub(crate) eku: Option<Eku>,
    pub(crate) skid: Option<Span>,
    pub(crate) akid: Option<Span>,
    pub(crate) name_constraints: bool,
    pub(crate) unhandled_critical: bool,
}

/// A parsed certificate borrowing its DER.
///
/// Obtain one with [`CertificateRef::parse`]; every accessor returns bytes of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CertificateRef<'a> {
    der: &'a [u8],
    pub(crate) ix: CertIndex,
}

impl<'a> CertificateRef<'a> {
    /// Parses one DER certificate.
    ///
    /// Strict DER throughout (definite minimal lengths, minimal INTEGERs, canonical BOOLEANs,
    /// no trailing bytes anywhere, zero padding bits in BIT STRINGs), plus Go's structural
    /// checks: inner and outer signature algorithms equal, non-negative serial, no duplicate
    /// extensions, well-formed key usage, basic constraints, EKU, SAN, AKI, SKI and AIA,
    /// supported named curves only (no explicit parameters, X-12).
    ///
    /// Deliberate differences from Go, each on the strict side unless noted:
    /// * an explicitly encoded `version` v1 (a DEFAULT value) is malformed;
    /// * an empty EKU SEQUENCE is malformed (RFC 5280 `SIZE (1..MAX)`);
    /// * an explicit `critical FALSE` is accepted, as Go does, though DER forbids it;
    /// * subject attribute values that are not strings are kept (Go rejects the
    ///   certificate); [`super::map_subject`] skips them for CN and O and rejects them for
    ///   the UID, as upstream's conversion does.
    pub fn parse(der: &'a [u8]) -> Result<Self, X509Error> {
        if der.len() > MAX_CERTIFICATE_LEN {
            return Err(X509Error::Malformed("x509: certificate too large"));
        }
        let ix = parse_index(der)?;
        Ok(CertificateRef { der, ix })
    }

    pub(crate) fn from_index(der: &'a [u8], ix: CertIndex) -> Self {
        CertificateRef { der, ix }
    }

    /// The whole certificate, DER.
    pub fn der(&self) -> &'a [u8] {
        self.der
    }

    /// The signed `TBSCertificate`, DER.
    pub fn tbs(&self) -> &'a [u8] {
        self.ix.tbs.of(self.der)
    }

    /// The serial number's INTEGER contents (big-endian two's complement, non-negative).
    pub fn serial(&self) -> &'a [u8] {
        self.ix.serial.of(self.der)
    }

    /// The issuer Name, DER (tag and length included).
    pub fn issuer(&self) -> &'a [u8] {
        self.ix.issuer.of(self.der)
    }

    /// The subject Name, DER (tag and length included).
    pub fn subject(&self) -> &'a [u8] {
        self.ix.subject.of(self.der)
    }

    /// The SubjectPublicKeyInfo, DER.
    pub fn spki(&self) -> &'a [u8] {
        self.ix.spki.of(self.der)
    }

    /// `notBefore` as Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.ix.not_before
    }

    /// `notAfter` as Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.ix.not_after
    }

    /// The subject key identifier, when present.
    pub fn subject_key_id(&self) -> Option<&'a [u8]> {
        self.ix.skid.map(|s| s.of(self.der))
    }

    /// The authority key identifier's `keyIdentifier`, when present.
    pub fn authority_key_id(&self) -> Option<&'a [u8]> {
        self.ix.akid.map(|s| s.of(self.der))
    }

    pub(crate) fn bytes(&self, span: Span) -> &'a [u8] {
        span.of(self.der)
    }

    /// The subject's attributes in DN order, multi-valued RDNs flattened (Go's
    /// `FillFromRDNSequence` order).
    pub(crate) fn subject_attributes(&self) -> Attributes<'a> {
        let r = Reader::new(self.der).map(|r| r.within(self.ix.subject_value));
        Attributes {
            outer: r.ok(),
            set: None,
        }
    }
}

/// One attribute of a Name: its type OID, value tag and value contents.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attribute<'a> {
    pub(crate) oid: &'a [u8],
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
}

/// Iterator over a Name already validated by [`parse_name`].
pub(crate) struct Attributes<'a> {
    outer: Option<Reader<'a>>,
    set: Option<Reader<'a>>,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attribute<'a>;

    #[inline(always)]
    fn next(&mut self) -> Option<Attribute<'a>> {
        loop {
            if let Some(set) = self.set.as_mut() {
                if !set.is_empty() {
                    let atav = set.expect(tag::SEQUENCE, "name").ok()?;
                    let mut a = set.within(atav.value);
                    let oid = a.expect(tag::OID, "name").ok()?;
                    let value = a.any("name").ok()?;
                    return Some(Attribute {
                        oid: a.bytes(oid.value),
                        tag: value.tag,
                        value: a.bytes(value.value),
                    });
                }
            }
            let outer = self.outer.as_mut()?;
            if outer.is_empty() {
                return None;
            }
            let rdn = outer.expect(tag::SET, "name").ok()?;
            self.set = Some(outer.within(rdn.value));
        }
    }
}

fn malformed(what: &'static str) -> X509Error {
    X509Error::Malformed(what)
}

fn parse_index(der: &[u8]) -> Result<CertIndex, X509Error> {
    const BAD: &str = "x509: malformed certificate";
    let mut top = Reader::new(der)?;
    let cert = top.expect(tag::SEQUENCE, BAD)?;
    top.finish("x509: trailing data after certificate")?;
    let mut c = top.within(cert.value);
    let tbs = c.expect(tag::SEQUENCE, "x509: malformed tbs certificate")?;
    let outer_alg = c.expect(tag::SEQUENCE, "x509: malformed algorithm identifier")?;
    let sig = c.expect(tag::BIT_STRING, "x509: malformed signature")?;
    c.finish(BAD)?;
    let signature = bit_string_bytes(&c, sig, "x509: malformed signature")?;

    let mut t = c.within(tbs.value);
    let mut version = 0u32;
    if let Some(v) = t.optional(tag::CONTEXT_0_CONSTRUCTED, "x509: malformed version")? {
        let mut vr = t.within(v.value);
        let int = vr.expect(tag::INTEGER, "x509: malformed version")?;
        vr.finish("x509: malformed version")?;
        version = reader::small_uint(t.bytes(int.value), "x509: malformed version")?;
        // Explicit v1 is a DEFAULT value, which DER forbids; v4+ does not exist.
        if version == 0 || version > 2 {
            return Err(malformed("x509: invalid version"));
        }
    }
    let serial = t.expect(tag::INTEGER, "x509: malformed serial number")?;
    let serial_bytes = t.bytes(serial.value);
    if !reader::check_integer(serial_bytes) {
        return Err(malformed("x509: malformed serial number"));
    }
    if serial_bytes.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(malformed("x509: negative serial number"));
    }
    if serial_bytes.len() > MAX_SERIAL_LEN {
        return Err(malformed("x509: serial number too long"));
    }
    let inner_alg = t.expect(
        tag::SEQUENCE,
        "x509: malformed signature algorithm identifier",
    )?;
    if t.bytes(inner_alg.whole) != t.bytes(outer_alg.whole) {
        return Err(malformed(
            "x509: inner and outer signature algorithm identifiers don't match",
        ));
    }
    let sig_alg = signature_algorithm(&t, inner_alg)?;
    let issuer = t.expect(tag::SEQUENCE, "x509: malformed issuer")?;
    parse_name(&t, issuer, "x509: malformed issuer")?;
    let validity = t.expect(tag::SEQUENCE, "x509: malformed validity")?;
    let (not_before, not_after) = parse_validity(&t, validity)?;
    let subject = t.expect(tag::SEQUENCE, "x509: malformed subject")?;
    parse_name(&t, subject, "x509: malformed subject")?;
    let spki = t.expect(tag::SEQUENCE, "x509: malformed spki")?;
    let (key, key_a, key_b) = parse_spki(&t, spki)?;

    let mut ix = CertIndex {
        tbs: tbs.whole,
        sig_alg,
        signature,
        serial: serial.value,
        issuer: issuer.whole,
        subject: subject.whole,
        subject_value: subject.value,
        not_before,
        not_after,
        spki: spki.whole,
        key,
        key_a,
        key_b,
        basic_constraints: None,
        key_cert_sign: None,
        eku: None,
        skid: None,
        akid: None,
        name_constraints: false,
        unhandled_critical: false,
    };

    if version >= 1 {
        for (unique_id, what) in [
            (tag::CONTEXT_1_PRIMITIVE, "x509: malformed issuerUniqueID"),
            (tag::CONTEXT_2_PRIMITIVE, "x509: malformed subjectUniqueID"),
        ] {
            if let Some(u) = t.optional(unique_id, what)? {
                bit_string_bytes(&t, u, what)?;
            }
        }
    }
    if version == 2 {
        if let Some(exts) = t.optional(tag::CONTEXT_3_CONSTRUCTED, "x509: malformed extensions")? {
            parse_extensions(&t, exts, &mut ix)?;
        }
    }
    t.finish("x509: malformed tbs certificate")?;
    Ok(ix)
}

/// The contents of a BIT STRING whose unused-bit count is zero (signatures, keys).
fn bit_string_bytes(r: &Reader<'_>, tlv: Tlv, what: &'static str) -> Result<Span, X509Error> {
    match r.bytes(tlv.value).first() {
        Some(0) => Ok(Span {
            start: tlv.value.start.saturating_add(1),
            end: tlv.value.end,
        }),
        _ => Err(malformed(what)),
    }
}

fn signature_algorithm(r: &Reader<'_>, alg: Tlv) -> Result<SigAlg, X509Error> {
    const BAD: &str = "x509: malformed algorithm identifier";
    let mut a = r.within(alg.value);
    let oid = a.expect(tag::OID, BAD)?;
    let oid = r.bytes(oid.value);
    if !reader::check_oid(oid) {
        return Err(malformed(BAD));
    }
    let params = if a.is_empty() {
        None
    } else {
        Some(a.any(BAD)?)
    };
    a.finish(BAD)?;
    let null_or_absent = match params {
        None => true,
        Some(p) => p.tag == tag::NULL && p.value.is_empty(),
    };
    // RFC 4055 §5: RSA algorithms carry NULL (absence tolerated, as Go does); RFC 5758 §3.2:
    // ECDSA algorithms carry no parameters. Anything else is not a supported algorithm.
    Ok(match oid {
        o if o == oid::SHA256_WITH_RSA && null_or_absent => SigAlg::RsaSha256,
        o if o == oid::SHA384_WITH_RSA && null_or_absent => SigAlg::RsaSha384,
        o if o == oid::SHA512_WITH_RSA && null_or_absent => SigAlg::RsaSha512,
        o if o == oid::ECDSA_WITH_SHA256 && params.is_none() => SigAlg::EcdsaSha256,
        o if o == oid::ECDSA_WITH_SHA384 && params.is_none() => SigAlg::EcdsaSha384,
        _ => SigAlg::Unsupported,
    })
}

/// Validates a Name: SEQUENCE OF SET OF SEQUENCE { OID, ANY }. String values must be valid
/// for their type (Go's `parseASN1String`); other values are kept as raw elements.
fn parse_name(r: &Reader<'_>, name: Tlv, what: &'static str) -> Result<(), X509Error> {
    let mut rdns = r.within(name.value);
    while !rdns.is_empty() {
        let set = rdns.expect(tag::SET, what)?;
        let mut atavs = rdns.within(set.value);
        while !atavs.is_empty() {
            let atav = atavs.expect(tag::SEQUENCE, what)?;
            let mut a = atavs.within(atav.value);
            let oid = a.expect(tag::OID, what)?;
            if !reader::check_oid(a.bytes(oid.value)) {
                return Err(malformed(what));
            }
            let value = a.any(what)?;
            a.finish(what)?;
            super::strings::validate(value.tag, a.bytes(value.value))?;
        }
    }
    Ok(())
}

fn parse_validity(r: &Reader<'_>, v: Tlv) -> Result<(i64, i64), X509Error> {
    const BAD: &str = "x509: malformed validity";
    let mut vr = r.within(v.value);
    let nb = vr.any(BAD)?;
    let na = vr.any(BAD)?;
    vr.finish(BAD)?;
    Ok((
        time::parse(nb.tag, r.bytes(nb.value))?,
        time::parse(na.tag, r.bytes(na.value))?,
    ))
}

fn parse_spki(r: &Reader<'_>, spki: Tlv) -> Result<(KeyKind, Span, Span), X509Error> {
    const BAD: &str = "x509: malformed spki";
    let mut s = r.within(spki.value);
    let alg = s.expect(tag::SEQUENCE, BAD)?;
    let key = s.expect(tag::BIT_STRING, BAD)?;
    s.finish(BAD)?;
    let key = bit_string_bytes(r, key, BAD)?;
    let mut a = r.within(alg.value);
    let oid = a.expect(tag::OID, BAD)?;
    let oid = r.bytes(oid.value);
    if !reader::check_oid(oid) {
        return Err(malformed(BAD));
    }
    let params = if a.is_empty() {
        None
    } else {
        Some(a.any(BAD)?)
    };
    a.finish(BAD)?;
    if oid == oid::RSA_ENCRYPTION {
        if !params.is_some_and(|p| p.tag == tag::NULL && p.value.is_empty()) {
            return Err(malformed("x509: RSA key missing NULL parameters"));
        }
        let mut k = r.within(key);
        let seq = k.expect(tag::SEQUENCE, "x509: invalid RSA public key")?;
        k.finish("x509: invalid RSA public key")?;
        let mut k = r.within(seq.value);
        let n = k.expect(tag::INTEGER, "x509: invalid RSA modulus")?;
        let e = k.expect(tag::INTEGER, "x509: invalid RSA public exponent")?;
        k.finish("x509: invalid RSA public key")?;
        for (int, what) in [
            (n, "x509: RSA modulus is not a positive number"),
            (e, "x509: RSA public exponent is not a positive number"),
        ] {
            let b = r.bytes(int.value);
            if !reader::check_integer(b)
                || b.first().is_some_and(|x| x & 0x80 != 0)
                || b.iter().all(|x| *x == 0)
            {
                return Err(malformed(what));
            }
        }
        // Strip the sign octet so the modulus length is the key size in bytes.
        let mut n = n.value;
        if r.bytes(n).first() == Some(&0) {
            n.start = n.start.saturating_add(1);
        }
        return Ok((KeyKind::Rsa, n, e.value));
    }
    if oid == oid::EC_PUBLIC_KEY {
        let curve = match params {
            Some(p) if p.tag == tag::OID => r.bytes(p.value),
            _ => return Err(malformed("x509: unsupported elliptic curve")),
        };
        let (kind, coord) = match curve {
            c if c == oid::P256 => (KeyKind::EcP256, 32),
            c if c == oid::P384 => (KeyKind::EcP384, 48),
            c if c == oid::P521 => (KeyKind::EcP521, 66),
            _ => return Err(malformed("x509: unsupported elliptic curve")),
        };
        let point = key.len();
        // Uncompressed points only, as Go's `elliptic.Unmarshal`.
        if point != 1 + 2 * coord || r.bytes(key).first() != Some(&0x04) {
            return Err(malformed("x509: failed to unmarshal elliptic curve point"));
        }
        return Ok((kind, key, Span::EMPTY));
    }
    Ok((KeyKind::Other, key, Span::EMPTY))
}

fn parse_extensions(r: &Reader<'_>, exts: Tlv, ix: &mut CertIndex) -> Result<(), X509Error> {
    const BAD: &str = "x509: malformed extensions";
    let mut outer = r.within(exts.value);
    let seq = outer.expect(tag::SEQUENCE, BAD)?;
    outer.finish(BAD)?;
    let mut list = r.within(seq.value);
    // Duplicates: an `id-ce` OID (three octets, `55 1d arc`) can only equal another with the
    // same arc, so those are one bit each; any other OID is compared with the other such OIDs.
    let mut seen_id_ce = [0u64; 4];
    let mut seen_other: heapless::Vec<Span, MAX_EXTENSIONS> = heapless::Vec::new();
    let mut count = 0usize;
    while !list.is_empty() {
        let e = list.expect(tag::SEQUENCE, BAD)?;
        let mut er = r.within(e.value);
        let oid = er.expect(tag::OID, "x509: malformed extension OID field")?;
        let oid_bytes = r.bytes(oid.value);
        if !reader::check_oid(oid_bytes) {
            return Err(malformed("x509: malformed extension OID field"));
        }
        let critical =
            match er.optional(tag::BOOLEAN, "x509: malformed extension critical field")? {
                Some(b) => {
                    reader::boolean(r.bytes(b.value), "x509: malformed extension critical field")?
                }
                None => false,
            };
        let value = er.expect(tag::OCTET_STRING, "x509: malformed extension value field")?;
        er.finish(BAD)?;

        if count >= MAX_EXTENSIONS {
            return Err(malformed("x509: too many extensions"));
        }
        count += 1;
        let duplicate = match oid_bytes {
            [0x55, 0x1d, arc] => {
                let (word, bit) = (usize::from(arc >> 6), 1u64 << (arc & 63));
                match seen_id_ce.get_mut(word) {
                    Some(w) => {
                        let dup = *w & bit != 0;
                        *w |= bit;
                        dup
                    }
                    // Unreachable: `arc >> 6` is below 4.
                    None => true,
                }
            }
            _ => {
                let dup = seen_other.iter().any(|s| r.bytes(*s) == oid_bytes);
                // Cannot fail: at most MAX_EXTENSIONS extensions reach this point.
                let _ = seen_other.push(oid.value);
                dup
            }
        };
        if duplicate {
            return Err(malformed("x509: certificate contains duplicate extensions"));
        }

        let handled = match oid_bytes {
            [0x55, 0x1d, arc] => handle_id_ce(r, *arc, value.value, ix)?,
            o if o == oid::AUTHORITY_INFO_ACCESS => {
                check_aia(r, value.value)?;
                true
            }
            _ => false,
        };
        if critical && !handled {
            ix.unhandled_critical = true;
        }
    }
    Ok(())
}

fn handle_id_ce(
    r: &Reader<'_>,
    arc: u8,
    value: Span,
    ix: &mut CertIndex,
) -> Result<bool, X509Error> {
    let mut v = r.within(value);
    match arc {
        ext::KEY_USAGE => {
            const BAD: &str = "x509: invalid key usage";
            let bits = v.expect(tag::BIT_STRING, BAD)?;
            v.finish(BAD)?;
            let b = r.bytes(bits.value);
            let (unused, data) = b.split_first().ok_or(malformed(BAD))?;
            // DER: at most 7 padding bits, none without data, and padding bits zero.
            let last = data.last().copied();
            if *unused > 7
                || (data.is_empty() && *unused != 0)
                || last.is_some_and(|l| l & ((1u8 << *unused) - 1) != 0)
                || last == Some(0)
            {
                return Err(malformed(BAD));
            }
            // keyCertSign is bit 5: 0x04 in the first octet.
            ix.key_cert_sign = Some(data.first().is_some_and(|f| f & 0x04 != 0));
        }
        ext::BASIC_CONSTRAINTS => {
            const BAD: &str = "x509: invalid basic constraints";
            let seq = v.expect(tag::SEQUENCE, BAD)?;
            v.finish(BAD)?;
            let mut s = r.within(seq.value);
            let ca = match s.optional(tag::BOOLEAN, BAD)? {
                Some(b) => reader::boolean(r.bytes(b.value), BAD)?,
                None => false,
            };
            let path_len = match s.optional(tag::INTEGER, BAD)? {
                Some(i) => Some(reader::small_uint(r.bytes(i.value), BAD)?),
                None => None,
            };
            s.finish(BAD)?;
            ix.basic_constraints = Some(BasicConstraints { ca, path_len });
        }
        ext::EXT_KEY_USAGE => {
            const BAD: &str = "x509: invalid extended key usages";
            let seq = v.expect(tag::SEQUENCE, BAD)?;
            v.finish(BAD)?;
            let mut s = r.within(seq.value);
            if s.is_empty() {
                return Err(malformed(BAD));
            }
            let mut eku = Eku::default();
            while !s.is_empty() {
                let o = s.expect(tag::OID, BAD)?;
                let o = r.bytes(o.value);
                if !reader::check_oid(o) {
                    return Err(malformed(BAD));
                }
                eku.any |= o == oid::EKU_ANY;
                eku.client_auth |= o == oid::EKU_CLIENT_AUTH;
                eku.server_auth |= o == oid::EKU_SERVER_AUTH;
            }
            ix.eku = Some(eku);
        }
        ext::SUBJECT_KEY_ID => {
            const BAD: &str = "x509: invalid subject key identifier";
            let id = v.expect(tag::OCTET_STRING, BAD)?;
            v.finish(BAD)?;
            ix.skid = Some(id.value);
        }
        ext::AUTHORITY_KEY_ID => {
            const BAD: &str = "x509: invalid authority key identifier";
            let seq = v.expect(tag::SEQUENCE, BAD)?;
            v.finish(BAD)?;
            let mut s = r.within(seq.value);
            if let Some(id) = s.optional(tag::CONTEXT_0_PRIMITIVE, BAD)? {
                ix.akid = Some(id.value);
            }
            // authorityCertIssuer [1] and authorityCertSerialNumber [2] are structure only.
            let _issuer = s.optional(0xa1, BAD)?;
            let _serial = s.optional(tag::CONTEXT_2_PRIMITIVE, BAD)?;
            s.finish(BAD)?;
        }
        ext::SUBJECT_ALT_NAME => {
            check_general_names(r, value, "x509: malformed subject alternative name")?;
        }
        ext::NAME_CONSTRAINTS => {
            // Name constraints are not evaluated by this crate. A CA carrying them cannot
            // issue here (see `verify`): failing closed is safe, ignoring them is not.
            let seq = v.expect(tag::SEQUENCE, "x509: invalid NameConstraints extension")?;
            v.finish("x509: invalid NameConstraints extension")?;
            let _ = seq;
            ix.name_constraints = true;
        }
        ext::CRL_DISTRIBUTION_POINTS
        | ext::CERTIFICATE_POLICIES
        | ext::POLICY_MAPPINGS
        | ext::POLICY_CONSTRAINTS
        | ext::INHIBIT_ANY_POLICY => {
            // Handled by Go (so not "unhandled critical"); unused for client authentication.
            let _ = v.any("x509: malformed extension value")?;
            v.finish("x509: malformed extension value")?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `GeneralNames`: SEQUENCE OF GeneralName with Go's checks on the name forms it reads
/// (IA5 DNS/email/URI, 4- or 16-byte IP addresses).
fn check_general_names(r: &Reader<'_>, value: Span, what: &'static str) -> Result<(), X509Error> {
    let mut v = r.within(value);
    let seq = v.expect(tag::SEQUENCE, what)?;
    v.finish(what)?;
    let mut s = r.within(seq.value);
    while !s.is_empty() {
        let name = s.any(what)?;
        let bytes = r.bytes(name.value);
        match name.tag {
            // rfc822Name [1], dNSName [2], URI [6]: IA5String.
            0x81 | 0x82 | 0x86 if !bytes.is_ascii() => return Err(malformed(what)),
            // iPAddress [7].
            0x87 if bytes.len() != 4 && bytes.len() != 16 => return Err(malformed(what)),
            _ => {}
        }
    }
    Ok(())
}

/// AuthorityInfoAccess: SEQUENCE OF SEQUENCE { accessMethod OID, accessLocation GeneralName }.
fn check_aia(r: &Reader<'_>, value: Span) -> Result<(), X509Error> {
    const BAD: &str = "x509: malformed authority info access";
    let mut v = r.within(value);
    let seq = v.expect(tag::SEQUENCE, BAD)?;
    v.finish(BAD)?;
    let mut s = r.within(seq.value);
    while !s.is_empty() {
        let ad = s.expect(tag::SEQUENCE, BAD)?;
        let mut a = r.within(ad.value);
        let method = a.expect(tag::OID, BAD)?;
        if !reader::check_oid(r.bytes(method.value)) {
            return Err(malformed(BAD));
        }
        let location = a.any(BAD)?;
        if location.tag & 0xc0 != 0x80 {
            return Err(malformed(BAD));
        }
        a.finish(BAD)?;
    }
    Ok(())
}
