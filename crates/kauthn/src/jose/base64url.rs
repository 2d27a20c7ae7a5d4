//! Strict, unpadded base64url (RFC 7515 §2 and Appendix C; RFC 4648 §5).
//!
//! A bearer token is a secret, so it is decoded in constant time: no table lookups indexed by
//! its characters and no branches on them. `base64ct`'s `Base64UrlUnpadded` does that one
//! character at a time, with five range checks each, which for a 1 KB token cost more than
//! the rest of the token's non-signature work together. So the whole 32-character blocks are
//! decoded here, with branch-free range masks written on byte lanes (which the compiler
//! vectorizes with SSE2, present on every x86-64) and the 6-bit values packed within 64-bit
//! words. The last 1 to 32 characters, which always include the final block where the length
//! and trailing-bits rules live, go through `base64ct` itself. 4-character groups decode
//! independently, so the split changes no result; the unit tests below and the `jws` fuzz
//! target check every input against `base64ct` alone.
//!
//! `base64ct` already rejects `=`, the standard alphabet, whitespace and non-canonical
//! trailing bits (its `validate_last_block` re-encodes the final block), but the
//! canonical-trailing-bits rule is checked here as well, so the guarantee does not hang on a
//! dependency's internals: an encoding with non-zero unused bits has several spellings for
//! one byte string, and a verifier that accepts them lets one signed token appear under many
//! texts.

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

/// Characters per block of the bulk decoder (a multiple of 4, so blocks split no group).
const BLOCK: usize = 32;

/// The 6-bit value of a base64url character, or a byte with bit 7 set for any other byte,
/// with no branch on `c` and no lookup indexed by it: each range contributes its value under
/// an all-ones mask when `c` is inside it and nothing otherwise. Written on bytes, so that a
/// loop over a block can be vectorized.
#[inline(always)]
fn value_ct(c: u8) -> u8 {
    // 0xff when lo <= c < lo + n, else 0 (an unsigned compare of the distance from lo).
    let inside = |lo: u8, n: u8| 0u8.wrapping_sub(u8::from(c.wrapping_sub(lo) < n));
    let (upper, lower, digit) = (inside(b'A', 26), inside(b'a', 26), inside(b'0', 10));
    let (dash, underscore) = (inside(b'-', 1), inside(b'_', 1));
    (upper & c.wrapping_sub(b'A'))
        | (lower & c.wrapping_sub(b'a' - 26))
        | (digit & c.wrapping_add(52 - b'0'))
        | (dash & 62)
        | (underscore & 63)
        | (!(upper | lower | digit | dash | underscore) & 0x80)
}

/// Decodes one block; the result has bit 7 set when any character is outside the alphabet.
#[inline(always)]
fn decode_block(src: &[u8; BLOCK], dst: &mut [u8; BLOCK / 4 * 3]) -> u8 {
    let mut v = [0u8; BLOCK];
    for (v, &c) in v.iter_mut().zip(src) {
        *v = value_ct(c);
    }
    let mut bad = 0u8;
    for &x in &v {
        bad |= x;
    }
    // Eight 6-bit values per word, packed in two steps within the word (pairs into 12-bit
    // lanes, then into 24-bit lanes), instead of shifting each output byte out of its lanes.
    const SIX: u64 = 0x003f_003f_003f_003f;
    const TWELVE: u64 = 0x0000_0fff_0000_0fff;
    for (out, w) in dst.chunks_exact_mut(6).zip(v.chunks_exact(8)) {
        let Ok(w) = <[u8; 8]>::try_from(w) else {
            continue;
        };
        let w = u64::from_le_bytes(w);
        let pairs = ((w & SIX) << 6) | ((w >> 8) & SIX);
        let groups = ((pairs & TWELVE) << 12) | ((pairs >> 16) & TWELVE);
        // Each 32-bit lane holds one group's 24 bits; its top byte is zero.
        let [g0, g1, g2, _, h0, h1, h2, _] = groups.to_le_bytes();
        if let [o0, o1, o2, o3, o4, o5] = out {
            (*o0, *o1, *o2, *o3, *o4, *o5) = (g2, g1, g0, h2, h1, h0);
        }
    }
    bad
}

/// Decodes `src` into `dst` exactly; `dst.len()` must be `decoded_len(src.len())`.
pub(crate) fn decode_into<'o>(src: &[u8], dst: &'o mut [u8]) -> Result<&'o [u8], JoseError> {
    let Some(len) = decoded_len(src.len()) else {
        return Err(Malformed::Base64.into());
    };
    if dst.len() != len || !trailing_bits_are_zero(src) {
        return Err(Malformed::Base64.into());
    }
    // Leave at least one character (the last group, which carries the trailing-bits and
    // length rules) to base64ct, and every error decision to after the whole input is read.
    let blocks = src.len().saturating_sub(1) / BLOCK;
    let (bulk_src, tail_src) = src
        .split_at_checked(blocks * BLOCK)
        .ok_or(Malformed::Base64)?;
    let (bulk_dst, tail_dst) = dst
        .split_at_mut_checked(blocks * (BLOCK / 4 * 3))
        .ok_or(Malformed::Base64)?;
    let mut bad = 0u8;
    for (s, d) in bulk_src
        .chunks_exact(BLOCK)
        .zip(bulk_dst.chunks_exact_mut(BLOCK / 4 * 3))
    {
        if let (Ok(s), Ok(d)) = (
            <&[u8; BLOCK]>::try_from(s),
            <&mut [u8; BLOCK / 4 * 3]>::try_from(d),
        ) {
            bad |= decode_block(s, d);
        }
    }
    let want = tail_dst.len();
    match Base64UrlUnpadded::decode(tail_src, tail_dst) {
        Ok(t) if bad & 0x80 == 0 && t.len() == want => Ok(dst),
        _ => Err(Malformed::Base64.into()),
    }
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

    /// This module against `base64ct` alone, which it must match on every input: the same
    /// accepted set and the same bytes.
    fn agrees_with_base64ct(src: &[u8]) {
        let mut ours = vec![0u8; src.len()];
        let ours = match decoded_len(src.len()) {
            Some(n) => decode_into(src, &mut ours[..n]).map(<[u8]>::to_vec).ok(),
            None => None,
        };
        let mut theirs = vec![0u8; src.len()];
        let theirs = Base64UrlUnpadded::decode(src, &mut theirs)
            .map(<[u8]>::to_vec)
            .ok();
        assert_eq!(
            ours,
            theirs,
            "{:?}",
            std::string::String::from_utf8_lossy(src)
        );
    }

    #[test]
    fn block_decoder_agrees_with_base64ct_on_every_byte_at_every_position() {
        // Long enough for three whole blocks and a tail; each of its 100 positions (bulk,
        // block edges, last group) is replaced by each of the 256 byte values.
        let data: std::vec::Vec<u8> = (0u8..75).map(|i| i.wrapping_mul(37)).collect();
        let mut text = vec![0u8; 100];
        Base64UrlUnpadded::encode(&data, &mut text).unwrap();
        agrees_with_base64ct(&text);
        for pos in 0..text.len() {
            for b in 0..=255u8 {
                let mut t = text.clone();
                t[pos] = b;
                agrees_with_base64ct(&t);
            }
        }
    }

    #[test]
    fn block_decoder_agrees_with_base64ct_at_every_length() {
        let data: std::vec::Vec<u8> = (0u8..200).map(|i| i.wrapping_mul(101) ^ 0x5a).collect();
        for n in 0..data.len() {
            let mut text = vec![0u8; 4 * n.div_ceil(3)];
            let text = Base64UrlUnpadded::encode(&data[..n], &mut text).unwrap();
            agrees_with_base64ct(text.as_bytes());
            let mut b = [0u8; 200];
            let out = decode_into(text.as_bytes(), &mut b[..n]).unwrap();
            assert_eq!(out, &data[..n]);
            // One character more or less is a wrong length or a different text.
            agrees_with_base64ct(&text.as_bytes()[..text.len().saturating_sub(1)]);
            let mut longer = text.as_bytes().to_vec();
            longer.push(b'A');
            agrees_with_base64ct(&longer);
        }
    }
}
