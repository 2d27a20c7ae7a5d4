//! A strict DER reader that records where every value sits in the certificate.
//!
//! Why offsets rather than sub-slices: a parsed certificate ([`super::CertificateRef`]) is a
//! small `Copy` index ([`super::cert::CertIndex`]) plus the DER it indexes, so the CA pool can
//! keep the index next to DER it owns (a `Vec` under `alloc`) or borrows, without a
//! self-referential struct and without re-parsing roots per request.
//!
//! Lengths are decoded by `der`'s [`der::Header`], which enforces DER: no indefinite lengths,
//! no non-minimal long forms. Tags are single identifier octets (every tag a certificate uses);
//! the high-tag-number form is rejected.

use der::{Decode, Reader as _, SliceReader};

use super::X509Error;

/// A half-open byte range `start..end` into the certificate DER.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) const EMPTY: Span = Span { start: 0, end: 0 };

    pub(crate) fn len(self) -> usize {
        usize::try_from(self.end.saturating_sub(self.start)).unwrap_or(0)
    }

    pub(crate) fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// The bytes of this span in `der`; an out-of-range span (impossible for spans made by
    /// the reader over the same `der`) yields an empty slice rather than a panic.
    pub(crate) fn of(self, der: &[u8]) -> &[u8] {
        match (usize::try_from(self.start), usize::try_from(self.end)) {
            (Ok(s), Ok(e)) => der.get(s..e).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// One decoded TLV: its identifier octet, where its contents are and where the whole
/// element (header included) is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv {
    pub(crate) tag: u8,
    pub(crate) value: Span,
    pub(crate) whole: Span,
}

/// Universal and context tags used by certificates.
pub(crate) mod tag {
    pub(crate) const BOOLEAN: u8 = 0x01;
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const BIT_STRING: u8 = 0x03;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const NULL: u8 = 0x05;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const UTF8_STRING: u8 = 0x0c;
    pub(crate) const NUMERIC_STRING: u8 = 0x12;
    pub(crate) const PRINTABLE_STRING: u8 = 0x13;
    pub(crate) const T61_STRING: u8 = 0x14;
    pub(crate) const IA5_STRING: u8 = 0x16;
    pub(crate) const UTC_TIME: u8 = 0x17;
    pub(crate) const GENERALIZED_TIME: u8 = 0x18;
    pub(crate) const BMP_STRING: u8 = 0x1e;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
    /// `[0]` constructed (explicit): the version and the AKI key identifier context.
    pub(crate) const CONTEXT_0_CONSTRUCTED: u8 = 0xa0;
    /// `[3]` constructed (explicit): the extensions.
    pub(crate) const CONTEXT_3_CONSTRUCTED: u8 = 0xa3;
    /// `[0]` primitive (implicit): AKI keyIdentifier.
    pub(crate) const CONTEXT_0_PRIMITIVE: u8 = 0x80;
    /// `[1]` primitive: issuerUniqueID.
    pub(crate) const CONTEXT_1_PRIMITIVE: u8 = 0x81;
    /// `[2]` primitive: subjectUniqueID.
    pub(crate) const CONTEXT_2_PRIMITIVE: u8 = 0x82;
}

/// A cursor over `der[pos..end]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    der: &'a [u8],
    pos: u32,
    end: u32,
}

impl<'a> Reader<'a> {
    /// A reader over all of `der`; certificates larger than 4 GiB are refused by the caller's
    /// size limit long before this matters.
    pub(crate) fn new(der: &'a [u8]) -> Result<Self, X509Error> {
        let end = u32::try_from(der.len())
            .map_err(|_| X509Error::Malformed("x509: certificate too large"))?;
        Ok(Reader { der, pos: 0, end })
    }

    /// A reader over the contents of `span` (which must come from this DER).
    pub(crate) fn within(&self, span: Span) -> Reader<'a> {
        Reader {
            der: self.der,
            pos: span.start,
            end: span.end,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    pub(crate) fn bytes(&self, span: Span) -> &'a [u8] {
        span.of(self.der)
    }

    fn rest(&self) -> &'a [u8] {
        Span {
            start: self.pos,
            end: self.end,
        }
        .of(self.der)
    }

    /// The identifier octet of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    /// Reads the next element, whatever its tag.
    pub(crate) fn any(&mut self, what: &'static str) -> Result<Tlv, X509Error> {
        let rest = self.rest();
        let first = *rest.first().ok_or(X509Error::Malformed(what))?;
        if first & 0x1f == 0x1f {
            return Err(X509Error::Malformed(what));
        }
        let mut r = SliceReader::new(rest).map_err(|_| X509Error::Malformed(what))?;
        let header = der::Header::decode(&mut r).map_err(|_| X509Error::Malformed(what))?;
        let header_len = u32::from(r.position());
        let len = u32::from(header.length());
        let start = self.pos;
        let value_start = start
            .checked_add(header_len)
            .ok_or(X509Error::Malformed(what))?;
        let end = value_start
            .checked_add(len)
            .ok_or(X509Error::Malformed(what))?;
        if end > self.end {
            return Err(X509Error::Malformed(what));
        }
        self.pos = end;
        Ok(Tlv {
            tag: first,
            value: Span {
                start: value_start,
                end,
            },
            whole: Span { start, end },
        })
    }

    /// Reads the next element and requires its tag to be `tag`.
    pub(crate) fn expect(&mut self, tag: u8, what: &'static str) -> Result<Tlv, X509Error> {
        let tlv = self.any(what)?;
        if tlv.tag == tag {
            Ok(tlv)
        } else {
            Err(X509Error::Malformed(what))
        }
    }

    /// Reads the next element if its tag is `tag`.
    pub(crate) fn optional(
        &mut self,
        tag: u8,
        what: &'static str,
    ) -> Result<Option<Tlv>, X509Error> {
        if self.peek_tag() == Some(tag) {
            self.expect(tag, what).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless every byte was consumed (X-1: no trailing data anywhere).
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), X509Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(X509Error::Malformed(what))
        }
    }
}

/// Checks an OBJECT IDENTIFIER's contents: non-empty, minimal base-128 arcs, each arc at most
/// 63 bits (Go's `ReadASN1ObjectIdentifier` limit), the last octet terminating an arc.
pub(crate) fn check_oid(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let mut arc_bits = 0u32;
    let mut at_arc_start = true;
    for &b in bytes {
        if at_arc_start && b == 0x80 {
            return false;
        }
        arc_bits += 7;
        if arc_bits > 63 {
            return false;
        }
        at_arc_start = b & 0x80 == 0;
        if at_arc_start {
            arc_bits = 0;
        }
    }
    at_arc_start
}

/// Checks a DER INTEGER's contents: non-empty and minimally encoded.
pub(crate) fn check_integer(bytes: &[u8]) -> bool {
    match bytes {
        [] => false,
        [0x00, next, ..] => next & 0x80 != 0,
        [0xff, next, ..] => next & 0x80 == 0,
        _ => true,
    }
}

/// A DER BOOLEAN's contents (exactly `00` or `ff`).
pub(crate) fn boolean(bytes: &[u8], what: &'static str) -> Result<bool, X509Error> {
    match bytes {
        [0x00] => Ok(false),
        [0xff] => Ok(true),
        _ => Err(X509Error::Malformed(what)),
    }
}

/// A non-negative INTEGER that fits a `u32` (path lengths).
pub(crate) fn small_uint(bytes: &[u8], what: &'static str) -> Result<u32, X509Error> {
    if !check_integer(bytes) || bytes.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(X509Error::Malformed(what));
    }
    let mut v = 0u32;
    for &b in bytes {
        v = v
            .checked_mul(256)
            .and_then(|v| v.checked_add(u32::from(b)))
            .ok_or(X509Error::Malformed(what))?;
    }
    Ok(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_and_non_minimal_lengths_are_malformed() {
        for der in [
            &[0x30, 0x80, 0x00, 0x00][..],
            &[0x30, 0x81, 0x01, 0x00],
            &[0x04, 0x82, 0x00, 0x05, 1, 2, 3, 4, 5],
        ] {
            let mut r = Reader::new(der).unwrap();
            assert!(r.any("t").is_err(), "{der:02x?}");
        }
    }

    #[test]
    fn a_length_past_the_input_is_malformed() {
        let der = [0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00];
        let mut r = Reader::new(&der).unwrap();
        assert!(r.any("t").is_err());
        let der = [0x04, 0x03, 0x00];
        let mut r = Reader::new(&der).unwrap();
        assert!(r.any("t").is_err());
    }

    #[test]
    fn spans_point_into_the_input() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05, 0xff];
        let mut r = Reader::new(&der).unwrap();
        let seq = r.expect(tag::SEQUENCE, "t").unwrap();
        assert_eq!(seq.whole, Span { start: 0, end: 5 });
        let mut inner = r.within(seq.value);
        let int = inner.expect(tag::INTEGER, "t").unwrap();
        assert_eq!(inner.bytes(int.value), &[5]);
        assert!(inner.finish("t").is_ok());
        assert!(r.finish("t").is_err());
    }

    #[test]
    fn oids_and_integers_must_be_minimal() {
        assert!(check_oid(&[0x2a, 0x86, 0x48]));
        assert!(!check_oid(&[]));
        assert!(!check_oid(&[0x2a, 0x80, 0x01]));
        assert!(!check_oid(&[0x2a, 0x86]));
        assert!(!check_oid(&[0x81; 10]));
        assert!(check_integer(&[0x00, 0x80]));
        assert!(!check_integer(&[0x00, 0x7f]));
        assert!(!check_integer(&[0xff, 0x80]));
        assert!(!check_integer(&[]));
    }
}
