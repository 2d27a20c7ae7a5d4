//! 64-byte masks of byte classes, one bit per byte (bit i for byte i), for the scans of the
//! JOSE path: the bytes that stop a JSON string (a quote, a backslash or a control
//! character) and the dots of a compact token. On x86-64 a mask is four SSE2 compares and
//! byte-mask extractions each (through `safe_arch`, as the core forbids `unsafe`); elsewhere
//! the same masks come from exact per-byte tests on 64-bit words. Tests hold the two to each
//! other and to byte-by-byte scans, and `--cfg kauthn_portable` builds the word code on
//! x86-64 too, so that CI runs the whole core suite over it (`.ci/test`).

/// Bytes per mask.
pub(super) const WIDTH: usize = 64;

/// The first `WIDTH` bytes of `s` from `at`, zero-padded past its end.
#[inline(always)]
pub(super) fn padded(s: &[u8], at: usize) -> [u8; WIDTH] {
    let mut w = [0u8; WIDTH];
    let rest = s.get(at..).unwrap_or_default();
    let n = rest.len().min(WIDTH);
    if let (Some(d), Some(r)) = (w.get_mut(..n), rest.get(..n)) {
        d.copy_from_slice(r);
    }
    w
}

/// Bit `i` of the first mask is set when `w[i]` is a quote, a backslash or below 0x20; of the
/// second, when it is a quote.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable)))]
#[inline(always)]
pub(super) fn string_stops(w: &[u8; WIDTH]) -> (u64, u64) {
    use safe_arch::{bitor_m128i, min_u8_m128i};
    let (mut stops, mut quotes) = (0u64, 0u64);
    for (i, v) in sse2::lanes(w).into_iter().enumerate() {
        let quote = sse2::equal(v, b'"');
        // Unsigned v <= 0x1f: the smaller of the two is v itself.
        let control = safe_arch::cmp_eq_mask_i8_m128i(min_u8_m128i(v, sse2::splat(0x1f)), v);
        let stop = bitor_m128i(bitor_m128i(quote, sse2::equal(v, b'\\')), control);
        stops |= sse2::bits(stop) << (16 * i);
        quotes |= sse2::bits(quote) << (16 * i);
    }
    (stops, quotes)
}

/// Bit `i` is set when `w[i] == b`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable)))]
#[inline(always)]
pub(super) fn equal(w: &[u8; WIDTH], b: u8) -> u64 {
    let mut m = 0u64;
    for (i, v) in sse2::lanes(w).into_iter().enumerate() {
        m |= sse2::bits(sse2::equal(v, b)) << (16 * i);
    }
    m
}

/// The byte in every lane of an SSE2 register (shared with the base64url decoder).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable)))]
pub(super) use sse2::splat;

#[cfg(all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable)))]
mod sse2 {
    use safe_arch::{
        cmp_eq_mask_i8_m128i, load_unaligned_m128i, m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };

    use super::WIDTH;

    /// The four 16-byte lanes of `w`.
    #[inline(always)]
    pub(super) fn lanes(w: &[u8; WIDTH]) -> [m128i; 4] {
        let lane = |i: usize| {
            w.get(16 * i..16 * i + 16)
                .and_then(|c| <&[u8; 16]>::try_from(c).ok())
                .map_or(set_splat_i8_m128i(0), load_unaligned_m128i)
        };
        [lane(0), lane(1), lane(2), lane(3)]
    }

    #[inline(always)]
    pub(in crate::jose) fn splat(b: u8) -> m128i {
        set_splat_i8_m128i(i8::from_ne_bytes([b]))
    }

    #[inline(always)]
    pub(super) fn equal(v: m128i, b: u8) -> m128i {
        cmp_eq_mask_i8_m128i(v, splat(b))
    }

    /// A compare mask's 16 bits (the sign bits of its lanes).
    #[inline(always)]
    pub(super) fn bits(m: m128i) -> u64 {
        let [lo, hi, _, _] = move_mask_i8_m128i(m).to_le_bytes();
        u64::from(u16::from_le_bytes([lo, hi]))
    }
}

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of each zero byte of `x`, exactly: no carry crosses a byte, as
/// `(x & 0x7f) + 0x7f <= 0xfe` (a borrow-based test can flag the byte above a real hit,
/// which a mask read from several starts cannot allow).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7) + LOW7) | x) & HIGH
}

/// The high bits (7, 15, ..., 63) of `f` gathered into its low eight bits, byte i to bit i
/// (every partial product of the multiply lands on its own bit, so none carries).
#[inline(always)]
fn gather(f: u64) -> u64 {
    ((f >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// The words of `w`, little-endian.
#[inline(always)]
fn words(w: &[u8; WIDTH]) -> impl Iterator<Item = u64> + '_ {
    w.chunks_exact(8)
        .map(|c| <[u8; 8]>::try_from(c).map_or(0, u64::from_le_bytes))
}

/// [`string_stops`] without SIMD.
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable)),
    allow(dead_code)
)]
#[inline(always)]
fn string_stops_portable(w: &[u8; WIDTH]) -> (u64, u64) {
    let (mut stops, mut quotes) = (0u64, 0u64);
    for (i, x) in words(w).enumerate() {
        let quote = zero_bytes(x ^ (ONES * u64::from(b'"')));
        let stop =
            quote | zero_bytes(x ^ (ONES * u64::from(b'\\'))) | zero_bytes(x & (ONES * 0xe0));
        stops |= gather(stop) << (8 * i);
        quotes |= gather(quote) << (8 * i);
    }
    (stops, quotes)
}

/// [`equal`] without SIMD.
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable)),
    allow(dead_code)
)]
#[inline(always)]
fn equal_portable(w: &[u8; WIDTH], b: u8) -> u64 {
    let mut m = 0u64;
    for (i, x) in words(w).enumerate() {
        m |= gather(zero_bytes(x ^ (ONES * u64::from(b)))) << (8 * i);
    }
    m
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable))))]
#[inline(always)]
pub(super) fn string_stops(w: &[u8; WIDTH]) -> (u64, u64) {
    string_stops_portable(w)
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2", not(kauthn_portable))))]
#[inline(always)]
pub(super) fn equal(w: &[u8; WIDTH], b: u8) -> u64 {
    equal_portable(w, b)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn naive(w: &[u8; WIDTH]) -> (u64, u64, u64) {
        let (mut stops, mut quotes, mut dots) = (0u64, 0u64, 0u64);
        for (i, &b) in w.iter().enumerate() {
            if b == b'"' || b == b'\\' || b < 0x20 {
                stops |= 1 << i;
            }
            if b == b'"' {
                quotes |= 1 << i;
            }
            if b == b'.' {
                dots |= 1 << i;
            }
        }
        (stops, quotes, dots)
    }

    #[test]
    fn masks_agree_with_a_byte_scan_for_every_byte_at_every_position() {
        // Backgrounds of bytes that sit beside the tested values (so a carry or borrow
        // between bytes would show), then each byte value at each position, with a tested
        // value or a neighbour of one (a quote XOR 1 is '#', a dot XOR 1 is '/') just above.
        for fill in [
            b'!', b'#', b']', b'[', b'/', b'-', 0x20, 0x7f, 0x80, 0xff, b'A',
        ] {
            for pos in 0..WIDTH {
                for b in 0..=255u8 {
                    for above in [
                        None,
                        Some(b'"'),
                        Some(b'#'),
                        Some(b'.'),
                        Some(b'/'),
                        Some(1),
                    ] {
                        let mut w = [fill; WIDTH];
                        w[pos] = b;
                        if let (Some(a), Some(slot)) = (above, w.get_mut(pos + 1)) {
                            *slot = a;
                        }
                        let (stops, quotes, dots) = naive(&w);
                        assert_eq!(string_stops(&w), (stops, quotes), "{w:?}");
                        assert_eq!(string_stops_portable(&w), (stops, quotes), "{w:?}");
                        assert_eq!(equal(&w, b'.'), dots, "{w:?}");
                        assert_eq!(equal_portable(&w, b'.'), dots, "{w:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn padding_copies_what_is_there_and_zeros_the_rest() {
        let s: [u8; 100] = core::array::from_fn(|i| u8::try_from(i + 1).unwrap_or(0));
        for at in 0..=110 {
            let w = padded(&s, at);
            for (i, &b) in w.iter().enumerate() {
                assert_eq!(b, s.get(at + i).copied().unwrap_or(0), "at {at}, byte {i}");
            }
        }
    }
}
