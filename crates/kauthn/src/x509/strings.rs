//! Directory strings decoded as Go's `crypto/x509.parseASN1String` decodes them (N-5).
//!
//! * UTF8String: valid UTF-8, borrowed.
//! * PrintableString: Go's set (RFC 5280's plus `*` and `&`, which Go allows for
//!   compatibility), borrowed.
//! * IA5String: ASCII, borrowed. NumericString: digits and space, borrowed.
//! * T61String: decoded as Latin-1 (what Go and BoringSSL do); borrowed when ASCII, otherwise
//!   re-encoded into the scratch arena.
//! * BMPString: UCS-2; odd lengths, surrogates and the noncharacters U+FFFE, U+FFFF and
//!   U+FDD0–U+FDEF are invalid; one trailing U+0000 terminator is stripped; re-encoded into
//!   the scratch arena.
//!
//! Any other tag is "not a string" (`Ok(None)`), which the subject mapping treats as upstream
//! treats a non-string `interface{}` value.

use crate::error::Error;
use crate::scratch::Scratch;

use super::X509Error;
use super::reader::tag;

fn is_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || (b'\''..=b')').contains(&b)
        || (b'+'..=b'/').contains(&b)
        || matches!(b, b' ' | b':' | b'=' | b'?' | b'*' | b'&')
}

fn invalid(kind: &'static str) -> X509Error {
    X509Error::Malformed(kind)
}

fn bmp_units(bytes: &[u8]) -> Result<impl Iterator<Item = u16> + Clone + '_, X509Error> {
    const BAD: &str = "x509: invalid RDNSequence: invalid attribute value: invalid BMPString";
    if !bytes.len().is_multiple_of(2) {
        return Err(invalid(BAD));
    }
    let bytes = match bytes {
        [head @ .., 0, 0] => head,
        _ => bytes,
    };
    let units = bytes.chunks_exact(2).map(|c| match c {
        [hi, lo] => u16::from_be_bytes([*hi, *lo]),
        _ => 0,
    });
    for u in units.clone() {
        if u == 0xfffe
            || u == 0xffff
            || (0xfdd0..=0xfdef).contains(&u)
            || (0xd800..=0xdfff).contains(&u)
        {
            return Err(invalid(BAD));
        }
    }
    Ok(units)
}

/// True for the tags Go's `parseASN1String` decodes.
pub(crate) fn is_string_tag(value_tag: u8) -> bool {
    matches!(
        value_tag,
        tag::UTF8_STRING
            | tag::PRINTABLE_STRING
            | tag::IA5_STRING
            | tag::NUMERIC_STRING
            | tag::T61_STRING
            | tag::BMP_STRING
    )
}

/// Checks that a string-typed value is valid for its type; other tags pass.
pub(crate) fn validate(value_tag: u8, bytes: &[u8]) -> Result<(), X509Error> {
    match value_tag {
        // ASCII first: it is what names almost always are, and it skips the call.
        tag::UTF8_STRING if !bytes.is_ascii() && core::str::from_utf8(bytes).is_err() => Err(
            invalid("x509: invalid RDNSequence: invalid attribute value: invalid UTF-8 string"),
        ),
        tag::PRINTABLE_STRING if !bytes.iter().all(|b| is_printable(*b)) => Err(invalid(
            "x509: invalid RDNSequence: invalid attribute value: invalid PrintableString",
        )),
        tag::IA5_STRING if !bytes.is_ascii() => Err(invalid(
            "x509: invalid RDNSequence: invalid attribute value: invalid IA5String",
        )),
        tag::NUMERIC_STRING if !bytes.iter().all(|b| b.is_ascii_digit() || *b == b' ') => Err(
            invalid("x509: invalid RDNSequence: invalid attribute value: invalid NumericString"),
        ),
        tag::BMP_STRING => bmp_units(bytes).map(|_| ()),
        _ => Ok(()),
    }
}

/// Decodes a string-typed value, or returns `None` for a non-string value. Strings that must
/// be re-encoded are written into `scratch` and live as long as it.
pub(crate) fn decode<'a>(
    value_tag: u8,
    bytes: &'a [u8],
    scratch: &mut Scratch<'a>,
) -> Result<Option<&'a str>, Error> {
    // Each arm checks its type once: `from_utf8` is the UTF8String check itself, and the
    // BMPString units are checked by the same pass that decodes them.
    match value_tag {
        tag::UTF8_STRING => core::str::from_utf8(bytes).map(Some).map_err(|_| {
            Error::from(invalid(
                "x509: invalid RDNSequence: invalid attribute value: invalid UTF-8 string",
            ))
        }),
        tag::PRINTABLE_STRING | tag::IA5_STRING | tag::NUMERIC_STRING => {
            validate(value_tag, bytes)?;
            let s = core::str::from_utf8(bytes).map_err(|_| {
                invalid("x509: invalid RDNSequence: invalid attribute value: invalid UTF-8 string")
            })?;
            Ok(Some(s))
        }
        tag::T61_STRING => {
            if bytes.is_ascii() {
                if let Ok(s) = core::str::from_utf8(bytes) {
                    return Ok(Some(s));
                }
            }
            let chars = bytes.iter().map(|b| char::from(*b));
            encode_chars(chars, scratch).map(Some)
        }
        tag::BMP_STRING => {
            let units = bmp_units(bytes)?;
            // Surrogates were rejected, so every unit is a scalar value.
            let chars =
                units.map(|u| char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER));
            encode_chars(chars, scratch).map(Some)
        }
        _ => Ok(None),
    }
}

fn encode_chars<'a>(
    chars: impl Iterator<Item = char> + Clone,
    scratch: &mut Scratch<'a>,
) -> Result<&'a str, Error> {
    let len = chars.clone().map(char::len_utf8).sum();
    let out = scratch.alloc(len)?;
    let mut at = 0usize;
    for c in chars {
        let n = c.len_utf8();
        if let Some(dst) = out.get_mut(at..at + n) {
            c.encode_utf8(dst);
        }
        at += n;
    }
    let out: &'a [u8] = out;
    core::str::from_utf8(out).map_err(|_| {
        Error::from(invalid(
            "x509: invalid RDNSequence: invalid attribute value",
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn dec(t: u8, b: &[u8]) -> Result<Option<heapless::String<64>>, Error> {
        let mut buf = [0u8; 64];
        let mut s = Scratch::new(&mut buf);
        decode(t, b, &mut s).map(|o| o.map(|s| heapless::String::try_from(s).unwrap()))
    }

    #[test]
    fn printable_string_allows_what_go_allows() {
        assert_eq!(
            dec(tag::PRINTABLE_STRING, b"A-Z *&").unwrap().unwrap(),
            "A-Z *&"
        );
        assert!(dec(tag::PRINTABLE_STRING, b"a@b").is_err());
        assert!(dec(tag::PRINTABLE_STRING, b"a_b").is_err());
    }

    #[test]
    fn t61_is_latin1() {
        assert_eq!(
            dec(tag::T61_STRING, b"caf\xe9").unwrap().unwrap(),
            "caf\u{e9}"
        );
        assert_eq!(dec(tag::T61_STRING, b"plain").unwrap().unwrap(), "plain");
    }

    #[test]
    fn bmp_string_rules_match_go() {
        assert_eq!(
            dec(tag::BMP_STRING, b"\x00a\x00\xe9").unwrap().unwrap(),
            "a\u{e9}"
        );
        assert_eq!(
            dec(tag::BMP_STRING, b"\x00a\x00\x00").unwrap().unwrap(),
            "a"
        );
        assert!(dec(tag::BMP_STRING, b"\x00a\x00").is_err());
        assert!(dec(tag::BMP_STRING, b"\xd8\x00").is_err());
        assert!(dec(tag::BMP_STRING, b"\xff\xfe").is_err());
    }

    #[test]
    fn invalid_utf8_and_ia5_are_errors_and_other_tags_are_not_strings() {
        assert!(dec(tag::UTF8_STRING, b"\xff").is_err());
        assert!(dec(tag::IA5_STRING, b"\x80").is_err());
        assert!(dec(tag::NUMERIC_STRING, b"12a").is_err());
        assert_eq!(dec(tag::SEQUENCE, b"").unwrap(), None);
        assert_eq!(dec(tag::INTEGER, b"\x01").unwrap(), None);
    }
}
