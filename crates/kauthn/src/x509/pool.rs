//! The client CA pool (`--client-ca-file`), parsed once at load.
//!
//! Upstream: `k8s.io/client-go/util/cert/pem.go` (`ParseCertsPEM`) and
//! `k8s.io/apiserver/pkg/server/dynamiccertificates`. Only `CERTIFICATE` blocks without
//! headers are taken; other blocks are skipped; a CERTIFICATE block that does not decode or
//! parse is an error; a bundle without certificates is an error with upstream's text.

use super::X509Error;
use super::cert::{CertIndex, CertificateRef};
use crate::crypto::PreparedKey;

/// Most certificates a pool built without `alloc` ([`ClientCaPool::from_der`]) holds. Client
/// CA bundles carry one to a few roots; 32 covers CA rotation overlaps with room to spare.
pub const MAX_BORROWED_CA_CERTS: usize = 32;

// The borrowed form is inline on purpose (a no-alloc pool has nowhere else to live); a pool is
// built once per configuration, so its size does not matter on the request path.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Storage<'a> {
    Borrowed(heapless::Vec<(&'a [u8], CertIndex), MAX_BORROWED_CA_CERTS>),
    // Each CA's key is prepared once for the RustCrypto backend (`None` when that backend's
    // policy refuses it: verification then reports it per call, as unprepared).
    #[cfg(feature = "alloc")]
    Owned(alloc::vec::Vec<(alloc::vec::Vec<u8>, CertIndex, Option<PreparedKey>)>),
}

/// Trusted client CA certificates, each parsed once when the pool is built.
///
/// Roots are trusted as given: their own signatures are not checked (as in Go). A root that
/// issues must still be a CA (basicConstraints `cA`, keyCertSign when keyUsage is present),
/// be within its validity period and carry no unhandled critical extension.
#[derive(Clone, Debug)]
pub struct ClientCaPool<'a> {
    certs: Storage<'a>,
}

impl<'a> ClientCaPool<'a> {
    /// A pool over DER certificates the caller keeps alive; no allocation. At most
    /// [`MAX_BORROWED_CA_CERTS`] certificates.
    pub fn from_der(certs: &[&'a [u8]]) -> Result<Self, X509Error> {
        let mut out = heapless::Vec::new();
        for der in certs {
            let c = CertificateRef::parse(der)?;
            out.push((*der, c.ix))
                .map_err(|_| X509Error::LimitExceeded(super::X509Limit::CaCertificates))?;
        }
        if out.is_empty() {
            return Err(X509Error::NoCertificates);
        }
        Ok(ClientCaPool {
            certs: Storage::Borrowed(out),
        })
    }

    /// A pool from a PEM bundle, decoding into `buf` (no allocation); `buf` needs about three
    /// quarters of the PEM's size.
    pub fn from_pem_in(pem: &[u8], buf: &'a mut [u8]) -> Result<Self, X509Error> {
        let mut out = heapless::Vec::new();
        let mut rest = buf;
        for block in PemBlocks::new(pem) {
            let block = block?;
            let free = core::mem::take(&mut rest);
            let der_len = match pem_rfc7468::decode(block, free) {
                Ok(("CERTIFICATE", der)) => der.len(),
                Ok(_) | Err(pem_rfc7468::Error::HeaderDisallowed) => {
                    rest = free;
                    continue;
                }
                Err(pem_rfc7468::Error::UnexpectedTypeLabel { .. } | pem_rfc7468::Error::Label) => {
                    rest = free;
                    continue;
                }
                Err(_) => return Err(X509Error::Malformed("x509: malformed PEM block")),
            };
            let (der, tail) = free.split_at_mut(der_len);
            rest = tail;
            let der: &'a [u8] = der;
            let c = CertificateRef::parse(der)?;
            out.push((der, c.ix))
                .map_err(|_| X509Error::LimitExceeded(super::X509Limit::CaCertificates))?;
        }
        if out.is_empty() {
            return Err(X509Error::NoCertificates);
        }
        Ok(ClientCaPool {
            certs: Storage::Borrowed(out),
        })
    }

    /// How many certificates the pool holds.
    pub fn len(&self) -> usize {
        match &self.certs {
            Storage::Borrowed(v) => v.len(),
            #[cfg(feature = "alloc")]
            Storage::Owned(v) => v.len(),
        }
    }

    /// True when the pool is empty (never, for a pool built by this crate).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pool's certificates, in bundle order.
    pub fn iter(&self) -> impl Iterator<Item = CertificateRef<'_>> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }

    fn get(&self, i: usize) -> Option<CertificateRef<'_>> {
        self.get_prepared(i).map(|(c, _)| c)
    }

    /// The certificate at `i` and its prepared key, when the pool keeps one.
    pub(crate) fn get_prepared(
        &self,
        i: usize,
    ) -> Option<(CertificateRef<'_>, Option<&PreparedKey>)> {
        match &self.certs {
            Storage::Borrowed(v) => v
                .get(i)
                .map(|(der, ix)| (CertificateRef::from_index(der, *ix), None)),
            #[cfg(feature = "alloc")]
            Storage::Owned(v) => v
                .get(i)
                .map(|(der, ix, p)| (CertificateRef::from_index(der, *ix), p.as_ref())),
        }
    }

    /// True when `der` is byte-for-byte one of the pool's certificates.
    pub fn contains(&self, der: &[u8]) -> bool {
        self.iter().any(|c| c.der() == der)
    }
}

#[cfg(feature = "alloc")]
impl ClientCaPool<'static> {
    /// A pool from a PEM bundle (the contents of `--client-ca-file`), owning its DER.
    pub fn from_pem(pem: &[u8]) -> Result<Self, X509Error> {
        use alloc::vec;
        use alloc::vec::Vec;
        let mut out = Vec::new();
        for block in PemBlocks::new(pem) {
            let block = block?;
            let mut buf = vec![0u8; block.len()];
            let der = match pem_rfc7468::decode(block, &mut buf) {
                Ok(("CERTIFICATE", der)) => der.to_vec(),
                Ok(_)
                | Err(
                    pem_rfc7468::Error::HeaderDisallowed
                    | pem_rfc7468::Error::UnexpectedTypeLabel { .. }
                    | pem_rfc7468::Error::Label,
                ) => continue,
                Err(_) => return Err(X509Error::Malformed("x509: malformed PEM block")),
            };
            let cert = CertificateRef::parse(&der)?;
            let prepared = super::verify::public_key(&cert).and_then(|k| PreparedKey::new(&k).ok());
            let ix = cert.ix;
            out.push((der, ix, prepared));
        }
        if out.is_empty() {
            return Err(X509Error::NoCertificates);
        }
        Ok(ClientCaPool {
            certs: Storage::Owned(out),
        })
    }
}

/// Splits a bundle into `-----BEGIN …-----` … `-----END …-----` blocks; text between blocks
/// is ignored, as Go's `pem.Decode` ignores it.
struct PemBlocks<'p> {
    rest: &'p [u8],
}

impl<'p> PemBlocks<'p> {
    fn new(pem: &'p [u8]) -> Self {
        PemBlocks { rest: pem }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl<'p> Iterator for PemBlocks<'p> {
    type Item = Result<&'p [u8], X509Error>;

    fn next(&mut self) -> Option<Self::Item> {
        const BEGIN: &[u8] = b"-----BEGIN ";
        const END: &[u8] = b"-----END ";
        const DASHES: &[u8] = b"-----";
        let start = find(self.rest, BEGIN)?;
        let from_begin = self.rest.get(start..).unwrap_or_default();
        let Some(end_at) = find(from_begin, END) else {
            self.rest = &[];
            return Some(Err(X509Error::Malformed("x509: malformed PEM block")));
        };
        let after_end = from_begin.get(end_at + END.len()..).unwrap_or_default();
        let Some(close) = find(after_end, DASHES) else {
            self.rest = &[];
            return Some(Err(X509Error::Malformed("x509: malformed PEM block")));
        };
        let block_len = end_at + END.len() + close + DASHES.len();
        let (block, rest) = from_begin
            .split_at_checked(block_len)
            .unwrap_or((from_begin, &[]));
        self.rest = rest;
        Some(Ok(block))
    }
}
