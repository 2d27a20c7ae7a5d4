//! Strict, unpadded base64url (RFC 7515 §2 and Appendix C; RFC 4648 §5).
//!
//! A bearer token is a secret, so it is decoded in constant time: no table lookups indexed by
//! its characters and no branches on them. `base64ct`'s `Base64UrlUnpadded` does that one
//! character at a time, with five range checks each, which for a 1 KB token cost more than
//! the rest of the token's non-signature work together. So texts are decoded here in
//! 16-character blocks, with branch-free masks: written on byte lanes and packed within
//! 64-bit words (portable; the compiler vectorizes the masks), or on x86-64 with SSE2
//! compares and multiply-adds (the `sse2` module; the tests hold the two to each other, and
//! `--cfg kauthn_portable` selects the portable code on x86-64 for CI's second run). The
//! last partial block is padded with `A` (value 0) and decoded as a whole one; its real
//! bytes do not depend on the padding. The length rule (`decoded_len`) and the trailing-bits
//! rule (below) are checked here, after the whole text was read.
//!
//! `base64ct` stays the reference: the unit tests below try every byte value at every
//! position and every length against it, and the `jws` fuzz target asserts on every input
//! that both accept the same texts and return the same bytes.
//!
//! Like `base64ct`, the decoder rejects `=`, the standard alphabet, whitespace and
//! non-canonical trailing bits: an encoding with non-zero unused bits has several spellings
//! for one byte string, and a verifier that accepts them lets one signed token appear under
//! many texts.

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

/// Characters per block of the decoder (a multiple of 4, so blocks split no group).
const BLOCK: usize = 16;
/// Bytes one block decodes to.
const BLOCK_OUT: usize = BLOCK / 4 * 3;

/// `d` as a wrapping byte addend (the offsets below are differences of ASCII codes, some
/// negative).
#[inline(always)]
const fn low_byte(d: i16) -> u8 {
    let [low, _] = d.to_le_bytes();
    low
}

/// The 6-bit value of a base64url character (in the low six bits; for a character outside
/// the alphabet the value is garbage) and 0xff when `c` is in the alphabet, else 0, with no
/// branch on `c` and no lookup indexed by it. Written on bytes, so that a loop over a block
/// can be vectorized (SSE2 has signed byte compares, so the thresholds are signed: a byte
/// of 0x80 or more is below all of them, as it is outside the alphabet).
///
/// Three thresholds split the alphabet's ASCII range into the digits' range, the upper
/// case's and the lower case's; each threshold passed adds its step to the offset that
/// takes a character to its value, and to the bound its value must stay under (so `:` to
/// `@`, `[` to `` ` `` and `{` to DEL land at or over their range's bound). `-` and `_`, one
/// character each, are matched exactly.
#[inline(always)]
fn value_ct(c: u8) -> (u8, u8) {
    let over = |k: u8| 0u8.wrapping_sub(u8::from(c as i8 > k as i8));
    let is = |k: u8| 0u8.wrapping_sub(u8::from(c == k));
    let (digits, upper, lower) = (over(b'/'), over(b'@'), over(b'`'));
    let (dash, underscore) = (is(b'-'), is(b'_'));
    // Offsets, as wrapping additions: '0' -> 52; 'A' -> 0 (52 - '0' then 0 - 'A' + '0' - 52);
    // 'a' -> 26; '-' -> 62; '_' -> 63 (from the upper case's offset, '_' being over '@').
    let step = |m: u8, d: i16| m & low_byte(d);
    let offset = step(digits, 52 - 48)
        .wrapping_add(step(upper, -65 - (52 - 48)))
        .wrapping_add(step(lower, (26 - 97) - (-65)))
        .wrapping_add(step(dash, 62 - 45))
        .wrapping_add(step(underscore, (63 - 95) - (-65)));
    let value = c.wrapping_add(offset);
    // The bound of each range's values: 0 below '0', 62 from '0', 26 from 'A', 52 from 'a'.
    let bound = step(digits, 62)
        .wrapping_add(step(upper, 26 - 62))
        .wrapping_add(step(lower, 52 - 26));
    let in_range = 0u8.wrapping_sub(u8::from(value < bound));
    (value, in_range | dash | underscore)
}

/// Decodes one block into `dst` and ANDs its characters' membership of the alphabet into
/// `valid`, whose lanes all stay 0xff while every character is in it (one reduction per
/// text, not per block). A block with a character outside decodes to garbage, which the
/// caller discards.
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable)),
    allow(dead_code)
)]
#[inline(always)]
fn decode_block(src: &[u8; BLOCK], dst: &mut [u8; BLOCK_OUT], valid: &mut [u8; BLOCK]) {
    let mut v = [0u8; BLOCK];
    for ((v, &c), ok) in v.iter_mut().zip(src).zip(valid.iter_mut()) {
        let (value, in_alphabet) = value_ct(c);
        *v = value;
        *ok &= in_alphabet;
    }
    // Eight 6-bit values per word, packed in two steps within the word (pairs into 12-bit
    // lanes, then into 24-bit lanes); one byte swap then puts both groups' bytes in order.
    const SIX: u64 = 0x003f_003f_003f_003f;
    const TWELVE: u64 = 0x0000_0fff_0000_0fff;
    for (out, w) in dst.chunks_exact_mut(6).zip(v.chunks_exact(8)) {
        let Ok(w) = <[u8; 8]>::try_from(w) else {
            continue;
        };
        let w = u64::from_le_bytes(w);
        let pairs = ((w & SIX) << 6) | ((w >> 8) & SIX);
        // Little-endian bytes g0 g1 g2 0 h0 h1 h2 0, each 32-bit lane one group's 24 bits.
        let groups = ((pairs & TWELVE) << 12) | ((pairs >> 16) & TWELVE);
        // Swapped: 0 h2 h1 h0 0 g2 g1 g0; wanted: g2 g1 g0 h2 h1 h0.
        let s = groups.swap_bytes();
        let six = (s >> 40) | ((s << 16) & 0x0000_ffff_ff00_0000);
        if let Some(bytes) = six.to_le_bytes().get(..6) {
            out.copy_from_slice(bytes);
        }
    }
}

/// The whole blocks' decoder on x86-64: the same classification as [`value_ct`], and the
/// packing done with SSE2 multiply-adds (`pmaddwd`). The compiler vectorizes the
/// classification written on bytes, but not the packing: it turned every lane-wise form of
/// it back into scalar shifts. `core::arch`'s intrinsics need `unsafe` at the call here, so
/// they come through `safe_arch`, which exposes each one as a safe function exactly when its
/// target feature is enabled at build time (SSE2 is part of the x86-64 baseline).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable)))]
mod sse2 {
    use safe_arch::{
        add_i8_m128i, bitand_m128i, bitor_m128i, byte_shr_imm_u128_m128i, cmp_eq_mask_i8_m128i,
        cmp_gt_mask_i8_m128i, load_unaligned_m128i, m128i, mul_i16_horizontal_add_m128i,
        pack_i32_to_i16_m128i, set_i64_m128i, set_splat_i8_m128i, set_splat_i32_m128i,
        set_splat_i64_m128i, shl_imm_u32_m128i, shr_imm_u32_m128i, shr_imm_u64_m128i,
        store_unaligned_m128i, unpack_high_i8_m128i, unpack_low_i8_m128i, zeroed_m128i,
    };

    use super::super::bytemask::splat;
    use super::{BLOCK, BLOCK_OUT};

    /// Decodes one block into the low twelve bytes of the result and ANDs its characters'
    /// membership of the alphabet into `valid` (all lanes stay 0xff while every character
    /// is in it), as the portable `decode_block` does.
    #[inline(always)]
    fn decode_lanes(src: &[u8; BLOCK], valid: &mut m128i) -> m128i {
        let c = load_unaligned_m128i(src);
        let and = bitand_m128i;
        let add = add_i8_m128i;
        // Signed compares: a byte of 0x80 or more is negative, below every threshold.
        let digits = cmp_gt_mask_i8_m128i(c, splat(b'/'));
        let upper = cmp_gt_mask_i8_m128i(c, splat(b'@'));
        let lower = cmp_gt_mask_i8_m128i(c, splat(b'`'));
        let dash = cmp_eq_mask_i8_m128i(c, splat(b'-'));
        let underscore = cmp_eq_mask_i8_m128i(c, splat(b'_'));
        // `value_ct`'s offsets, as wrapping byte additions.
        let step = |m: m128i, d: i16| and(m, splat(super::low_byte(d)));
        let offset = add(
            add(step(digits, 52 - 48), step(upper, -65 - (52 - 48))),
            add(
                add(step(lower, (26 - 97) - (-65)), step(dash, 62 - 45)),
                step(underscore, (63 - 95) - (-65)),
            ),
        );
        let v = add(c, offset);
        // In a range when under its end: ':' from '0', '[' from 'A', '{' from 'a'. Below
        // '0' the end is 0, which a negative byte is under too, so the digits' mask (clear
        // below '0' and for negative bytes) is ANDed in.
        let end = add(
            add(step(digits, 0x3a), step(upper, 0x5b - 0x3a)),
            step(lower, 0x7b - 0x5b),
        );
        let in_range = and(cmp_gt_mask_i8_m128i(end, c), digits);
        *valid = and(*valid, bitor_m128i(bitor_m128i(in_range, dash), underscore));

        // Values to 12-bit pairs (v0 * 64 + v1) in 32-bit lanes, narrowed to 16-bit lanes,
        // then pairs of those to 24-bit groups (p0 * 4096 + p1), one per 32-bit lane.
        let zero = zeroed_m128i();
        let pair = set_splat_i32_m128i(0x0001_0040);
        let pairs = pack_i32_to_i16_m128i(
            mul_i16_horizontal_add_m128i(unpack_low_i8_m128i(v, zero), pair),
            mul_i16_horizontal_add_m128i(unpack_high_i8_m128i(v, zero), pair),
        );
        let g = mul_i16_horizontal_add_m128i(pairs, set_splat_i32_m128i(0x0001_1000));
        // Each group's three bytes in output order (high byte first) at the bottom of its
        // lane: g >> 16, g's middle byte, g's low byte moved up two bytes.
        let swapped = bitor_m128i(
            bitor_m128i(
                shr_imm_u32_m128i::<16>(g),
                and(g, set_splat_i32_m128i(0xff00)),
            ),
            shr_imm_u32_m128i::<8>(shl_imm_u32_m128i::<24>(g)),
        );
        // Two groups per 64-bit half, side by side: six bytes at the bottom of each half.
        let six = bitor_m128i(
            and(swapped, set_splat_i64_m128i(0x00ff_ffff)),
            and(
                shr_imm_u64_m128i::<8>(swapped),
                set_splat_i64_m128i(0xffff_ff00_0000),
            ),
        );
        // Both halves' six bytes side by side: twelve bytes at the bottom.
        bitor_m128i(
            and(six, set_i64_m128i(0, -1)),
            and(
                byte_shr_imm_u128_m128i::<2>(six),
                set_i64_m128i(0xffff_ffff, -0x0001_0000_0000_0000),
            ),
        )
    }

    /// Decodes one block into `dst` (as the portable `decode_block` does).
    #[inline(always)]
    pub(super) fn decode_block(src: &[u8; BLOCK], dst: &mut [u8; BLOCK_OUT], valid: &mut m128i) {
        let mut out = [0u8; BLOCK];
        store_unaligned_m128i(&mut out, decode_lanes(src, valid));
        if let Some(o) = out.get(..BLOCK_OUT) {
            dst.copy_from_slice(o);
        }
    }

    /// Decodes one block into the first twelve bytes of `dst`, with one 16-byte store: the
    /// last four bytes are overwritten with garbage (the next block's output, written next,
    /// starts there).
    #[inline(always)]
    pub(super) fn decode_block_wide(src: &[u8; BLOCK], dst: &mut [u8; BLOCK], valid: &mut m128i) {
        store_unaligned_m128i(dst, decode_lanes(src, valid));
    }

    /// The block decoder's `valid` accumulator, all ones.
    #[inline(always)]
    pub(super) fn all_valid() -> m128i {
        set_splat_i8_m128i(-1)
    }

    /// The accumulator's lanes as bytes.
    #[inline(always)]
    pub(super) fn lanes(valid: m128i) -> [u8; BLOCK] {
        let mut out = [0u8; BLOCK];
        store_unaligned_m128i(&mut out, valid);
        out
    }
}

/// Decodes the last partial block `src` (shorter than a block) into `dst` with `block`, as a
/// whole block padded with `A` (value 0), which changes none of its real bytes.
#[inline(always)]
fn decode_tail(src: &[u8], dst: &mut [u8], block: impl FnOnce(&[u8; BLOCK], &mut [u8; BLOCK_OUT])) {
    if src.is_empty() {
        return;
    }
    let mut padded = [b'A'; BLOCK];
    if let Some(p) = padded.get_mut(..src.len()) {
        p.copy_from_slice(src);
    }
    let mut out = [0u8; BLOCK_OUT];
    block(&padded, &mut out);
    if let Some(o) = out.get(..dst.len()) {
        dst.copy_from_slice(o);
    }
}

/// Decodes `src` into `dst` exactly; `dst.len()` must be `decoded_len(src.len())`.
///
/// The length rule is `decoded_len`'s; the last partial block is decoded as a whole block
/// padded with `A` (value 0), which changes none of its real bytes; its unused trailing bits
/// must be zero. Every decision is taken after the whole text was read.
pub(crate) fn decode_into<'o>(src: &[u8], dst: &'o mut [u8]) -> Result<&'o [u8], JoseError> {
    let Some(len) = decoded_len(src.len()) else {
        return Err(Malformed::Base64.into());
    };
    if dst.len() != len {
        return Err(Malformed::Base64.into());
    }
    let mut src_blocks = src.chunks_exact(BLOCK);
    let Some((body, tail_dst)) = dst.split_at_mut_checked(src.len() / BLOCK * BLOCK_OUT) else {
        return Err(Malformed::Base64.into());
    };
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable)))]
    let valid = {
        let mut valid = sse2::all_valid();
        let mut at = 0usize;
        for s in src_blocks.by_ref() {
            let Ok(s) = <&[u8; BLOCK]>::try_from(s) else {
                continue;
            };
            // Sixteen bytes stored where the output has room for them, else twelve.
            match body
                .get_mut(at..at + BLOCK)
                .map(<&mut [u8; BLOCK]>::try_from)
            {
                Some(Ok(d)) => sse2::decode_block_wide(s, d, &mut valid),
                _ => {
                    if let Some(Ok(d)) = body
                        .get_mut(at..at + BLOCK_OUT)
                        .map(<&mut [u8; BLOCK_OUT]>::try_from)
                    {
                        sse2::decode_block(s, d, &mut valid);
                    }
                }
            }
            at += BLOCK_OUT;
        }
        decode_tail(src_blocks.remainder(), tail_dst, |s, d| {
            sse2::decode_block(s, d, &mut valid);
        });
        sse2::lanes(valid)
    };
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable))))]
    let valid = {
        let mut valid = [0xffu8; BLOCK];
        for (s, d) in src_blocks.by_ref().zip(body.chunks_exact_mut(BLOCK_OUT)) {
            if let (Ok(s), Ok(d)) = (
                <&[u8; BLOCK]>::try_from(s),
                <&mut [u8; BLOCK_OUT]>::try_from(d),
            ) {
                decode_block(s, d, &mut valid);
            }
        }
        decode_tail(src_blocks.remainder(), tail_dst, |s, d| {
            decode_block(s, d, &mut valid);
        });
        valid
    };
    // RFC 4648 §3.5: the last character's unused low bits (4 of them after 2 characters of a
    // group, 2 after 3) must be zero; otherwise one byte string has several spellings, and a
    // verifier that accepts them lets one signed token appear under many texts.
    let unused = match src.len() % 4 {
        2 => 0x0f,
        3 => 0x03,
        _ => 0,
    };
    let last = src.last().map_or(0, |&c| value_ct(c).0);
    let mut all = !(last & unused);
    for v in valid {
        all &= v;
    }
    if all == 0xff {
        Ok(dst)
    } else {
        Err(Malformed::Base64.into())
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
        // The reference's own rule, asserted so the differential tests below keep meaning it.
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
        // Long enough for six whole blocks and a tail; each of its 100 positions (bulk,
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

    /// The portable block decoder and the SSE2 one, which `decode_into` uses for whole
    /// blocks and the last one on x86-64 (so the portable one runs there only in tests):
    /// the same alphabet flags for every byte value at every position, and the same bytes
    /// wherever every character is in the alphabet.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable)))]
    #[test]
    fn sse2_block_decoder_agrees_with_the_portable_one() {
        let check = |src: &[u8; BLOCK]| {
            let (mut ours, mut theirs) = ([0u8; BLOCK_OUT], [0u8; BLOCK_OUT]);
            let mut valid = [0xffu8; BLOCK];
            decode_block(src, &mut ours, &mut valid);
            let mut valid_sse2 = sse2::all_valid();
            sse2::decode_block(src, &mut theirs, &mut valid_sse2);
            let mut wide = [0u8; BLOCK];
            let mut valid_wide = sse2::all_valid();
            sse2::decode_block_wide(src, &mut wide, &mut valid_wide);
            assert_eq!(sse2::lanes(valid_wide), sse2::lanes(valid_sse2));
            assert_eq!(wide[..BLOCK_OUT], theirs, "{src:?}");
            assert_eq!(valid, sse2::lanes(valid_sse2), "{src:?}");
            // A block with a character outside the alphabet decodes to garbage, which differs
            // (the portable packing masks each value to six bits) and is never used.
            if valid == [0xff; BLOCK] {
                assert_eq!(ours, theirs, "{src:?}");
            }
        };
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (start, _) in alphabet.iter().enumerate().step_by(BLOCK) {
            let mut src = [0u8; BLOCK];
            for (i, s) in src.iter_mut().enumerate() {
                *s = alphabet[(start + i * 5) % alphabet.len()];
            }
            check(&src);
            for pos in 0..BLOCK {
                for b in 0..=255u8 {
                    let mut t = src;
                    t[pos] = b;
                    check(&t);
                }
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
