//! A strict DER reader that records where every value sits in the certificate.
//!
//! Why offsets rather than sub-slices: a parsed certificate ([`super::CertificateRef`]) is a
//! small `Copy` index ([`super::cert::CertIndex`]) plus the DER it indexes, so the CA pool can
//! keep the index next to DER it owns (a `Vec` under `alloc`) or borrows, without a
//! self-referential struct and without re-parsing roots per request.
//!
//! Headers are decoded here with exactly the rules of `der`'s [`der::Header`] (DER: no
//! indefinite lengths, no non-minimal long forms, at most four length octets, `der`'s set of
//! known universal tags), which a differential test in this module checks over every tag octet
//! and every length encoding class. Tags are single identifier octets (every tag a certificate
//! uses); the high-tag-number form is rejected. Why not call `der::Header::decode`: building a
//! `SliceReader` and `der::Error` values per element made it about three quarters of a
//! certificate parse (benches/RESULTS.md), several times rustls-webpki's whole parse.

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
    #[inline]
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
    #[inline]
    pub(crate) fn within(&self, span: Span) -> Reader<'a> {
        Reader {
            der: self.der,
            pos: span.start,
            end: span.end,
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    #[inline]
    pub(crate) fn bytes(&self, span: Span) -> &'a [u8] {
        span.of(self.der)
    }

    #[inline]
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
    #[inline]
    pub(crate) fn any(&mut self, what: &'static str) -> Result<Tlv, X509Error> {
        self.next_tlv().ok_or(X509Error::Malformed(what))
    }

    /// Reads the next element and requires its tag to be `tag`.
    #[inline(always)]
    pub(crate) fn expect(&mut self, tag: u8, what: &'static str) -> Result<Tlv, X509Error> {
        match self.next_tlv() {
            Some(tlv) if tlv.tag == tag => Ok(tlv),
            _ => Err(X509Error::Malformed(what)),
        }
    }

    /// Reads the next element if its tag is `tag`.
    #[inline(always)]
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

    /// The next element, or `None` when it is malformed or overruns this reader. Why an
    /// `Option` under the `Result`-returning methods: it is returned in registers, and every
    /// caller names its own error text anyway.
    #[inline(always)]
    pub(crate) fn next_tlv(&mut self) -> Option<Tlv> {
        let (first, header_len, len) = decode_header(self.rest())?;
        let start = self.pos;
        let value_start = start.checked_add(header_len)?;
        let end = value_start.checked_add(len)?;
        if end > self.end {
            return None;
        }
        self.pos = end;
        Some(Tlv {
            tag: first,
            value: Span {
                start: value_start,
                end,
            },
            whole: Span { start, end },
        })
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

/// [`known_tag`] of every octet, so the check per element is one load rather than a chain of
/// comparisons.
// Evaluated at compile time: an index out of range would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const KNOWN_TAGS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0u8;
    loop {
        table[b as usize] = known_tag(b);
        if b == u8::MAX {
            break;
        }
        b += 1;
    }
    table
};

/// Whether `der` 0.8 knows a single-octet tag (`Tag::decode`): the universal tags it names,
/// and every application, context-specific and private tag in low-tag-number form.
const fn known_tag(first: u8) -> bool {
    first & 0x1f != 0x1f
        && (first >= 0x40
            || matches!(
                first,
                0x01..=0x06
                    | 0x09
                    | 0x0a
                    | 0x0c
                    | 0x0d
                    | 0x12..=0x18
                    | 0x1a
                    | 0x1b
                    | 0x1e
                    | 0x30
                    | 0x31
            ))
}

/// Decodes a DER header at the start of `input`: the tag octet, the header's length and the
/// contents' length (not checked against the input). `None` for an unknown or high-form tag,
/// an indefinite or non-minimal length, more than four length octets, or a truncated header.
#[inline(always)]
fn decode_header(input: &[u8]) -> Option<(u8, u32, u32)> {
    let (&first, rest) = input.split_first()?;
    if !KNOWN_TAGS.get(usize::from(first)).copied().unwrap_or(false) {
        return None;
    }
    let (&l0, rest) = rest.split_first()?;
    if l0 < 0x80 {
        return Some((first, 2, u32::from(l0)));
    }
    long_length(first, l0, rest)
}

/// The long length form, out of line: most elements of a certificate use the short form.
#[inline(never)]
fn long_length(first: u8, l0: u8, rest: &[u8]) -> Option<(u8, u32, u32)> {
    // 0x80 is the indefinite form (BER only); 0x85.. would need more than four octets.
    let n = usize::from(l0 & 0x7f);
    if !(1..=4).contains(&n) {
        return None;
    }
    let mut len = 0u32;
    for &b in rest.get(..n)? {
        len = (len << 8) | u32::from(b);
    }
    // X.690 §10.1: the minimum number of octets; below 0x80 the short form is required.
    let min_octets = match len {
        0..=0x7f => return None,
        0x80..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xff_ffff => 3,
        _ => 4,
    };
    if n != min_octets {
        return None;
    }
    Some((first, 2 + u32::try_from(n).ok()?, len))
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
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

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

    /// `der`'s decoding of the same header, as (tag octet, header length, contents length).
    fn der_header(input: &[u8]) -> Option<(u8, u32, u32)> {
        use der::{Decode, Reader as _, SliceReader};
        let mut r = SliceReader::new(input).ok()?;
        let h = der::Header::decode(&mut r).ok()?;
        Some((
            *input.first()?,
            u32::from(r.position()),
            u32::from(h.length()),
        ))
    }

    #[test]
    fn header_decoding_agrees_with_der_for_every_tag_and_length_class() {
        let mut lengths: Vec<Vec<u8>> = Vec::new();
        for b in 0..=255u8 {
            lengths.push(vec![b]);
            lengths.push(vec![0x81, b]);
            lengths.push(vec![0x82, b, 0x01]);
            lengths.push(vec![0x82, 0x00, b]);
        }
        lengths.extend([
            vec![0x83, 0x01, 0x00, 0x00],
            vec![0x83, 0x00, 0xff, 0xff],
            vec![0x84, 0x01, 0x00, 0x00, 0x00],
            vec![0x84, 0x00, 0xff, 0xff, 0xff],
            vec![0x84, 0xff, 0xff, 0xff, 0xff],
            vec![0x85, 0x01, 0x00, 0x00, 0x00, 0x00],
            vec![0x81],
            vec![0x82, 0x01],
            vec![],
        ]);
        let mut checked = 0usize;
        for tag in 0..=255u8 {
            // The high-tag-number form is refused here and multi-octet in `der`.
            if tag & 0x1f == 0x1f {
                assert_eq!(decode_header(&[tag, 0x01, 0x02, 0x03]), None);
                continue;
            }
            for len in &lengths {
                let mut input = vec![tag];
                input.extend_from_slice(len);
                assert_eq!(decode_header(&input), der_header(&input), "{input:02x?}");
                checked += 1;
            }
        }
        assert!(checked > 200_000);
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
