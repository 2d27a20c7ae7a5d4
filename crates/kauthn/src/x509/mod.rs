//! X.509 client-certificate authentication (kube-apiserver `--client-ca-file`).
//!
//! Upstream: `k8s.io/apiserver/pkg/authentication/request/x509/x509.go` (the authenticator and
//! `CommonNameUserConversion`), `verify_options.go`, and Go's `crypto/x509` (parsing and
//! `Verify`), whose error texts the [`X509Error`] `Display` reproduces.
//!
//! * [`ClientCaPool`]: the trusted roots, parsed once (from PEM under `alloc`, from DER or
//!   PEM into a caller buffer without it).
//! * [`verify_client_chain`]: parses the presented chain (DER, leaf first) with a borrowed,
//!   allocation-free view ([`CertificateRef`], built on `der`'s strict DER header decoding)
//!   and verifies it as Go's `Verify` with `KeyUsages: [ClientAuth]` would, within the named
//!   budgets [`MAX_SIGNATURE_CHECKS`], [`MAX_CANDIDATE_ISSUERS`], [`MAX_PRESENTED_CERTS`] and
//!   [`VerifyOptions::max_intermediates`]. Signatures go only through a [`Verifier`].
//! * [`map_subject`]: upstream's `CommonNameUserConversion`.
//! * [`X509Authenticator`]: both, as a [`RequestAuthenticator`] reading
//!   [`Request::client_chain`].
//!
//! Why `x509-cert` is not used on the request path: it owns its data and needs `alloc`; the
//! view here borrows the request's bytes, so a verification allocates nothing.
//!
//! Not implemented (documented deviations): name constraints are not evaluated — a CA
//! carrying them cannot issue (fail closed); certificate policies are not evaluated (as in
//! Go's default); RSA-PSS, SHA-1 and P-521 signatures are unsupported; revocation is out of
//! scope, as it is in Kubernetes (V-13).

mod cert;
mod pool;
mod reader;
mod strings;
mod time;
mod verify;

use core::fmt;

use sha2::Digest as _;

use crate::authenticator::{Context, Request, RequestAuthenticator, Verdict};
use crate::crypto::Verifier;
use crate::error::Error;
use crate::scratch::Scratch;
use crate::time::UnixTime;
use crate::user::{CREDENTIAL_ID_KEY, Response, User};

pub use cert::{CertificateRef, MAX_CERTIFICATE_LEN, MAX_EXTENSIONS, MAX_SERIAL_LEN};
pub use pool::{ClientCaPool, MAX_BORROWED_CA_CERTS};
pub use verify::{
    DEFAULT_MAX_INTERMEDIATES, KeyPurpose, MAX_CANDIDATE_ISSUERS, MAX_PRESENTED_CERTS,
    MAX_SIGNATURE_CHECKS, MIN_RSA_BITS, VerifyOptions,
};

/// A bound of X.509 verification that was exceeded (each names its constant).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum X509Limit {
    /// [`MAX_PRESENTED_CERTS`] certificates in the presented chain.
    PresentedCertificates,
    /// [`VerifyOptions::max_intermediates`] intermediates between leaf and root.
    Intermediates,
    /// [`MAX_SIGNATURE_CHECKS`] signature verifications.
    SignatureChecks,
    /// [`MAX_CANDIDATE_ISSUERS`] issuer candidates considered.
    CandidateIssuers,
    /// [`MAX_BORROWED_CA_CERTS`] certificates in a pool built without `alloc`.
    CaCertificates,
}

impl fmt::Display for X509Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            X509Limit::PresentedCertificates => "MAX_PRESENTED_CERTS",
            X509Limit::Intermediates => "max_intermediates",
            X509Limit::SignatureChecks => "MAX_SIGNATURE_CHECKS",
            X509Limit::CandidateIssuers => "MAX_CANDIDATE_ISSUERS",
            X509Limit::CaCertificates => "MAX_BORROWED_CA_CERTS",
        })
    }
}

/// Why a client certificate was not accepted. `Display` is Go's / Kubernetes' text where one
/// exists. Values carry no certificate bytes; [`CertificateIdentifier`] and
/// [`VerificationFailure`] render upstream's `verifying certificate SN=…` log line.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum X509Error {
    /// A certificate or PEM block is not valid DER / X.509; the text says what (Go's text
    /// where Go has one).
    Malformed(&'static str),
    /// No PEM certificate in a CA bundle, or no certificate in a chain.
    NoCertificates,
    /// No chain to a pool certificate was found.
    UnknownAuthority,
    /// Every chain found excludes the required extended key usage.
    IncompatibleUsage,
    /// A certificate's `notAfter` is before `now` (Unix seconds).
    Expired {
        /// The verification time.
        now: i64,
        /// The certificate's `notAfter`.
        not_after: i64,
    },
    /// A certificate's `notBefore` is after `now` (Unix seconds).
    NotYetValid {
        /// The verification time.
        now: i64,
        /// The certificate's `notBefore`.
        not_before: i64,
    },
    /// A critical extension Go does not handle.
    UnhandledCriticalExtension,
    /// An issuer is not a CA (basicConstraints) or may not sign certificates (keyUsage).
    NotAuthorizedToSign,
    /// An issuer's path length constraint is exceeded.
    TooManyIntermediates,
    /// An issuer carries name constraints, which this crate does not evaluate.
    NameConstraintsUnsupported,
    /// A signature algorithm or issuer key type the crate does not verify.
    UnsupportedAlgorithm,
    /// An issuer's RSA key is under [`MIN_RSA_BITS`].
    WeakKey,
    /// A signature does not verify.
    BadSignature,
    /// A verification bound was hit.
    LimitExceeded(X509Limit),
    /// Upstream: the UID attribute is present with an empty value.
    EmptyUid,
    /// Upstream: several UID attributes (the values are not repeated here: they are
    /// attacker-chosen text).
    MultipleUids,
    /// Upstream: the UID attribute is not a string.
    NonStringUid,
    /// A CN, O or UID value contains U+0000 (N-4: such a name must never reach an authorizer
    /// or a C string; Go would pass it through).
    NulInName,
}

impl fmt::Display for X509Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            X509Error::Malformed(what) => f.write_str(what),
            X509Error::NoCertificates => {
                f.write_str("data does not contain any valid RSA or ECDSA certificates")
            }
            X509Error::UnknownAuthority => {
                f.write_str("x509: certificate signed by unknown authority")
            }
            X509Error::IncompatibleUsage => {
                f.write_str("x509: certificate specifies an incompatible key usage")
            }
            X509Error::Expired { now, not_after } => write!(
                f,
                "x509: certificate has expired or is not yet valid: current time {} is after {}",
                time::Rfc3339(*now),
                time::Rfc3339(*not_after)
            ),
            X509Error::NotYetValid { now, not_before } => write!(
                f,
                "x509: certificate has expired or is not yet valid: current time {} is before {}",
                time::Rfc3339(*now),
                time::Rfc3339(*not_before)
            ),
            X509Error::UnhandledCriticalExtension => {
                f.write_str("x509: unhandled critical extension")
            }
            X509Error::NotAuthorizedToSign => {
                f.write_str("x509: certificate is not authorized to sign other certificates")
            }
            X509Error::TooManyIntermediates => {
                f.write_str("x509: too many intermediates for path length constraint")
            }
            X509Error::NameConstraintsUnsupported => {
                f.write_str("x509: issuer carries name constraints, which are not supported")
            }
            X509Error::UnsupportedAlgorithm => {
                f.write_str("x509: cannot verify signature: algorithm unimplemented")
            }
            X509Error::WeakKey => f.write_str("x509: RSA key is smaller than 1024 bits"),
            X509Error::BadSignature => f.write_str("x509: invalid signature"),
            X509Error::LimitExceeded(X509Limit::SignatureChecks) => f.write_str(
                "x509: signature check attempts limit reached while verifying certificate chain",
            ),
            X509Error::LimitExceeded(limit) => write!(f, "x509: limit exceeded: {limit}"),
            X509Error::EmptyUid => f.write_str("UID cannot be an empty string"),
            X509Error::MultipleUids => f.write_str("expected 1 UID, but found multiple"),
            X509Error::NonStringUid => f.write_str("unable to parse UID into a string"),
            X509Error::NulInName => f.write_str("x509: subject attribute contains a NUL character"),
        }
    }
}

impl core::error::Error for X509Error {}

/// Verifies a presented client chain (DER, leaf first, then intermediates in any order)
/// against `pool` at `now` and returns the parsed leaf.
///
/// This is Go's `leaf.Verify(VerifyOptions{Roots, Intermediates, KeyUsages})` as kube-apiserver
/// calls it; see the module docs for the rules and deviations. The front-proxy authenticator
/// uses it with its own pool and [`VerifyOptions::client_auth`], then reads the CN with
/// [`common_name`].
pub fn verify_client_chain<'c, V: Verifier + ?Sized>(
    pool: &ClientCaPool<'_>,
    chain: &[&'c [u8]],
    now: UnixTime,
    verifier: &V,
    opts: &VerifyOptions,
) -> Result<CertificateRef<'c>, X509Error> {
    verify::verify(pool, chain, now, verifier, opts)
}

fn reject_nul(s: &str) -> Result<&str, Error> {
    if s.as_bytes().contains(&0) {
        Err(Error::X509(X509Error::NulInName))
    } else {
        Ok(s)
    }
}

/// The leaf's subject common name as Go's `pkix.Name.CommonName` holds it: the last CN
/// attribute with a string value; empty when there is none.
pub fn common_name<'a>(
    leaf: &CertificateRef<'a>,
    scratch: &mut Scratch<'a>,
) -> Result<&'a str, Error> {
    let last = leaf
        .subject_attributes()
        .filter(|a| a.oid == cert::oid::COMMON_NAME && strings::is_string_tag(a.tag))
        .last();
    match last {
        Some(a) => strings::decode(a.tag, a.value, scratch)
            .map(|s| s.unwrap_or_default())
            .and_then(reject_nul),
        None => Ok(""),
    }
}

/// Whether [`map_subject`] reads the user UID from the subject: upstream's feature gate
/// `AllowParsingUserUIDFromCertAuth` (beta, on by default since Kubernetes 1.33).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UidFromCertificate {
    /// Read attribute 1.3.6.1.4.1.57683.2 (the default).
    #[default]
    Enabled,
    /// Leave the UID empty.
    Disabled,
}

/// Upstream's `CommonNameUserConversion` applied to a verified leaf: user name = the last CN
/// (empty CN: `Ok(None)`, upstream's "not mine"), groups = every O value in DN order, UID
/// from attribute 1.3.6.1.4.1.57683.2, and extra `authentication.kubernetes.io/credential-id`
/// = `X509SHA256=<lowercase hex SHA-256 of the leaf DER>`. Decoded strings (T61String,
/// BMPString) and the credential id are written into `scratch`.
pub fn map_subject<'a>(
    leaf: &CertificateRef<'a>,
    scratch: &mut Scratch<'a>,
    uid_mode: UidFromCertificate,
) -> Result<Option<User<'a>>, Error> {
    let mut user = User::default();
    Ok(map_subject_into(leaf, scratch, uid_mode, &mut user)?.then_some(user))
}

/// [`map_subject`] writing into `user` in place (no copy of the user); returns `false` for
/// an empty CN ("not mine").
pub fn map_subject_into<'a>(
    leaf: &CertificateRef<'a>,
    scratch: &mut Scratch<'a>,
    uid_mode: UidFromCertificate,
    user: &mut User<'a>,
) -> Result<bool, Error> {
    /// O values remembered by the single walk; a subject with more is walked again for them.
    const INLINE_GROUPS: usize = 8;
    // One walk of the subject finds the last string CN, the UIDs and the O values. Decoding
    // then runs in upstream's order (CN, UID, O), so scratch use, the first error and the
    // "empty CN leaves `user` untouched" result are those of one walk per attribute type.
    let mut cn = None;
    let mut first_uid = None;
    let mut uids = 0usize;
    let mut orgs: heapless::Vec<cert::Attribute<'a>, INLINE_GROUPS> = heapless::Vec::new();
    let mut orgs_overflow = false;
    for a in leaf.subject_attributes() {
        match a.oid {
            cert::oid::COMMON_NAME if strings::is_string_tag(a.tag) => cn = Some(a),
            cert::oid::KUBERNETES_UID => {
                uids += 1;
                first_uid = first_uid.or(Some(a));
            }
            cert::oid::ORGANIZATION => orgs_overflow |= orgs.push(a).is_err(),
            _ => {}
        }
    }
    let name = match cn {
        Some(a) => strings::decode(a.tag, a.value, scratch)
            .map(|s| s.unwrap_or_default())
            .and_then(reject_nul)?,
        None => "",
    };
    if name.is_empty() {
        return Ok(false);
    }
    user.clear();
    user.name = name;
    if uid_mode == UidFromCertificate::Enabled {
        if uids > 1 {
            // Several UIDs are an error, but decoding each in turn first decides which.
            for a in leaf
                .subject_attributes()
                .filter(|a| a.oid == cert::oid::KUBERNETES_UID)
            {
                strings::decode(a.tag, a.value, scratch)?
                    .ok_or(Error::X509(X509Error::NonStringUid))?;
            }
            return Err(Error::X509(X509Error::MultipleUids));
        }
        if let Some(a) = first_uid {
            let uid = strings::decode(a.tag, a.value, scratch)?
                .ok_or(Error::X509(X509Error::NonStringUid))?;
            if uid.is_empty() {
                return Err(Error::X509(X509Error::EmptyUid));
            }
            user.uid = reject_nul(uid)?;
        }
    }
    if orgs_overflow {
        for a in leaf
            .subject_attributes()
            .filter(|a| a.oid == cert::oid::ORGANIZATION)
        {
            push_group(user, a, scratch)?;
        }
    } else {
        for a in orgs.iter() {
            push_group(user, *a, scratch)?;
        }
    }
    user.extra
        .push(CREDENTIAL_ID_KEY, credential_id(leaf.der(), scratch)?)?;
    Ok(true)
}

/// Appends an O value to the groups; a non-string value is skipped, as upstream skips it.
fn push_group<'a>(
    user: &mut User<'a>,
    a: cert::Attribute<'a>,
    scratch: &mut Scratch<'a>,
) -> Result<(), Error> {
    match strings::decode(a.tag, a.value, scratch)? {
        Some(group) => user.groups.push(reject_nul(group)?),
        None => Ok(()),
    }
}

/// `X509SHA256=<64 lowercase hex digits>` of `der`, written into `scratch`.
pub fn credential_id<'a>(der: &[u8], scratch: &mut Scratch<'a>) -> Result<&'a str, Error> {
    const PREFIX: &[u8] = b"X509SHA256=";
    let digest = sha2::Sha256::digest(der);
    let out = scratch.alloc(PREFIX.len() + 64)?;
    let (prefix, hex) = out.split_at_mut(PREFIX.len());
    prefix.copy_from_slice(PREFIX);
    for (pair, byte) in hex.chunks_exact_mut(2).zip(digest.iter()) {
        pair.copy_from_slice(&crate::hex::hex_pair(*byte));
    }
    let out: &'a [u8] = out;
    core::str::from_utf8(out).map_err(|_| Error::X509(X509Error::Malformed("credential id")))
}

/// Upstream's certificate identifier for logs:
/// `SN=<decimal serial>, SKID=<AA:BB:…>, AKID=<AA:BB:…>` (empty identifiers print empty).
#[derive(Clone, Copy, Debug)]
pub struct CertificateIdentifier<'a>(pub CertificateRef<'a>);

fn write_hex_colon(f: &mut fmt::Formatter<'_>, bytes: Option<&[u8]>) -> fmt::Result {
    for (i, b) in bytes.unwrap_or_default().iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(f, "{b:02X}")?;
    }
    Ok(())
}

impl fmt::Display for CertificateIdentifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SN=")?;
        // Decimal by repeated division of a big-endian copy; the serial is at most
        // MAX_SERIAL_LEN bytes, so 2.41 digits per byte fit 160 digits.
        let serial = self.0.serial();
        let mut num = [0u8; MAX_SERIAL_LEN];
        let start = MAX_SERIAL_LEN.saturating_sub(serial.len());
        if let Some(dst) = num.get_mut(start..) {
            if dst.len() == serial.len() {
                dst.copy_from_slice(serial);
            }
        }
        let mut digits = [0u8; 160];
        let mut n = 0usize;
        loop {
            let mut rem = 0u16;
            for b in num.iter_mut() {
                let cur = (rem << 8) | u16::from(*b);
                *b = u8::try_from(cur / 10).unwrap_or(0);
                rem = cur % 10;
            }
            if let Some(d) = digits.get_mut(n) {
                *d = b'0' + u8::try_from(rem).unwrap_or(0);
            }
            n += 1;
            if num.iter().all(|b| *b == 0) || n >= digits.len() {
                break;
            }
        }
        for d in digits.iter().take(n).rev() {
            write!(f, "{}", char::from(*d))?;
        }
        f.write_str(", SKID=")?;
        write_hex_colon(f, self.0.subject_key_id())?;
        f.write_str(", AKID=")?;
        write_hex_colon(f, self.0.authority_key_id())
    }
}

/// Upstream's error line for a failed verification:
/// `verifying certificate <identifier> failed: <error>`.
#[derive(Clone, Copy, Debug)]
pub struct VerificationFailure<'a> {
    /// The leaf that failed.
    pub leaf: CertificateRef<'a>,
    /// Why.
    pub error: X509Error,
}

impl fmt::Display for VerificationFailure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "verifying certificate {} failed: {}",
            CertificateIdentifier(self.leaf),
            self.error
        )
    }
}

/// kube-apiserver's x509 request authenticator (`--client-ca-file`).
///
/// No client chain: not mine. Chain invalid: rejected with the [`X509Error`]. Empty CN: not
/// mine. Otherwise the user of [`map_subject`]. Generic over the [`Verifier`]; pass `&dyn
/// Verifier` to erase the backend type.
#[derive(Clone, Debug)]
pub struct X509Authenticator<'p, V> {
    pool: ClientCaPool<'p>,
    verifier: V,
    options: VerifyOptions,
    uid_mode: UidFromCertificate,
}

impl<'p, V: Verifier> X509Authenticator<'p, V> {
    /// An authenticator trusting `pool`, verifying signatures with `verifier`, with
    /// kube-apiserver's defaults (clientAuth, UID parsing on).
    pub fn new(pool: ClientCaPool<'p>, verifier: V) -> Self {
        X509Authenticator {
            pool,
            verifier,
            options: VerifyOptions::client_auth(),
            uid_mode: UidFromCertificate::Enabled,
        }
    }

    /// The same authenticator with other verification options.
    pub fn with_options(self, options: VerifyOptions) -> Self {
        X509Authenticator { options, ..self }
    }

    /// The same authenticator with the UID feature gate set.
    pub fn with_uid_mode(self, uid_mode: UidFromCertificate) -> Self {
        X509Authenticator { uid_mode, ..self }
    }

    /// The trusted pool.
    pub fn pool(&self) -> &ClientCaPool<'p> {
        &self.pool
    }
}

impl<V: Verifier> RequestAuthenticator for X509Authenticator<'_, V> {
    fn authenticate_request_into<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        if req.client_chain.is_empty() {
            return Verdict::NotMine(None);
        }
        let leaf = match verify_client_chain(
            &self.pool,
            req.client_chain,
            ctx.now,
            &self.verifier,
            &self.options,
        ) {
            Ok(leaf) => leaf,
            Err(e) => return Verdict::rejected(Error::X509(e)),
        };
        out.clear();
        match map_subject_into(&leaf, scratch, self.uid_mode, &mut out.user) {
            Ok(true) => Verdict::Authenticated,
            Ok(false) => Verdict::NotMine(None),
            Err(e) => Verdict::rejected(e),
        }
    }
}
