//! Strict, unpadded base64url (RFC 7515 §2 and Appendix C; RFC 4648 §5).
//!
//! Decoding goes through `base64ct`'s constant-time `Base64UrlUnpadded`. It already rejects
//! `=`, the standard alphabet, whitespace and non-canonical trailing bits (its
//! `validate_last_block` re-encodes the final block), but the canonical-trailing-bits rule is
//! checked here as well, so the guarantee does not hang on a dependency's internals: an
//! encoding with non-zero unused bits has several spellings for one byte string, and a
//! verifier that accepts them lets one signed token appear under many texts.

use base64ct::{Base64UrlUnpadded, Encoding};

use super::error::{JoseError, JoseLimit, Malformed};
use crate::Scratch;

/// The number of bytes `encoded_len` base64url characters decode to, or `None` when no
/// canonical unpadded encoding has that length (a remainder of 1 character).
pub(crate) fn decoded_len(encoded_len: usize) -> Option<usize> {
    let full = encoded_len / 4;
    match encoded_len % 4 {
        0 => Some(full * 3),
        2 => Some(full * 3 + 1),
        3 => Some(full * 3 + 2),
        _ => None,
    }
}

fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// Independent check of the last character's unused bits (RFC 4648 §3.5).
fn trailing_bits_are_zero(src: &[u8]) -> bool {
    let Some(&last) = src.last() else { return true };
    let Some(v) = value(last) else { return false };
    match src.len() % 4 {
        2 => v & 0x0f == 0,
        3 => v & 0x03 == 0,
        _ => true,
    }
}

/// Decodes `src` into `dst` exactly; `dst.len()` must be `decoded_len(src.len())`.
pub(crate) fn decode_into<'o>(src: &[u8], dst: &'o mut [u8]) -> Result<&'o [u8], JoseError> {
    if decoded_len(src.len()).is_none() || !trailing_bits_are_zero(src) {
        return Err(Malformed::Base64.into());
    }
    Base64UrlUnpadded::decode(src, dst).map_err(|_| Malformed::Base64.into())
}

/// Decodes `src` into the caller's scratch arena; the bytes live as long as the arena's buffer.
pub fn decode<'a>(src: &[u8], scratch: &mut Scratch<'a>) -> Result<&'a [u8], JoseError> {
    let len = decoded_len(src.len()).ok_or(Malformed::Base64)?;
    if len > scratch.remaining() {
        return Err(JoseLimit::Scratch.into());
    }
    let (out, ()) = scratch.fill_with(|buf| {
        let dst = buf
            .get_mut(..len)
            .ok_or(JoseError::LimitExceeded(JoseLimit::Scratch))?;
        let n = decode_into(src, dst)?.len();
        Ok::<_, JoseError>((n, ()))
    })?;
    Ok(out)
}

/// Encodes `src` into `dst` (which must be long enough) and returns the text.
pub(crate) fn encode<'o>(src: &[u8], dst: &'o mut [u8]) -> Result<&'o str, JoseError> {
    Base64UrlUnpadded::encode(src, dst).map_err(|_| JoseLimit::Scratch.into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    fn dec(s: &str) -> Result<([u8; 8], usize), JoseError> {
        let mut buf = [0u8; 8];
        let n = decoded_len(s.len()).ok_or(JoseError::Malformed(Malformed::Base64))?;
        let out = decode_into(s.as_bytes(), buf.get_mut(..n).unwrap())?;
        let len = out.len();
        Ok((buf, len))
    }

    #[test]
    fn accepts_canonical_unpadded_text() {
        assert_eq!(
            dec("Zm9v").map(|(b, n)| b[..n].to_vec()),
            Ok(b"foo".to_vec())
        );
        assert_eq!(dec("YQ").map(|(b, n)| b[..n].to_vec()), Ok(b"a".to_vec()));
        assert_eq!(
            dec("_-8").map(|(b, n)| b[..n].to_vec()),
            Ok(vec![0xff, 0xef])
        );
        assert_eq!(dec("").map(|(_, n)| n), Ok(0));
    }

    #[test]
    fn rejects_padding_alphabet_whitespace_and_trailing_bits() {
        for s in [
            "YQ==", "YQ=", "+/8", "Zm 9v", "Zm9v\n", "YR", "YW", "_-9", "A", "Zm9vA",
        ] {
            assert_eq!(
                dec(s).map(|_| ()),
                Err(JoseError::Malformed(Malformed::Base64)),
                "{s:?}"
            );
        }
    }

    #[test]
    fn base64ct_itself_rejects_non_canonical_trailing_bits() {
        // The library check this module does not rely on, asserted so a regression shows.
        let mut buf = [0u8; 4];
        assert!(Base64UrlUnpadded::decode("YR", &mut buf).is_err());
        assert!(Base64UrlUnpadded::decode("_-9", &mut buf).is_err());
    }
}
