//! Where a JSON string's plain run ends: the bytes that stop it (a quote, a backslash or a
//! control character), found for 64 bytes of text at once.
//!
//! A claims text is mostly strings (URLs, UIDs, names), and the validating parser used to
//! scan each one a word at a time, a loop per string. Here the text is read in 64-byte
//! windows, each turned into a mask with one bit per byte; a string's run is then a shift and
//! a trailing-zero count, and the strings that follow in the same window reuse the mask. On
//! x86-64 a window is four SSE2 compares and byte-mask extractions; elsewhere the same masks
//! come from exact per-byte tests on 64-bit words. A test holds the two to each other and to
//! a byte-by-byte scan.

/// Bytes per window (one mask bit each).
const WIDTH: usize = 64;

/// The stop masks of the 64 bytes of a text from `at` (bytes past its end read as zero,
/// which is a control character, so a scan stops exactly at the end).
pub(super) struct Window {
    at: usize,
    stops: u64,
    quotes: u64,
}

impl Window {
    /// The window at the start of `s`.
    pub(super) fn new(s: &[u8]) -> Self {
        let (stops, quotes) = masks_at(s, 0);
        Window {
            at: 0,
            stops,
            quotes,
        }
    }

    /// The length of the run of plain string bytes of `s` from `at`, and whether the byte
    /// that ends it is a quote (known from the masks: the parser's position is a chain of
    /// dependent loads, and reading the stop byte back would add one for every string).
    /// `s` must be the text this window was made for.
    #[inline(always)]
    pub(super) fn plain_run(&mut self, s: &[u8], at: usize) -> (usize, bool) {
        let mut from = at;
        loop {
            let off = from.wrapping_sub(self.at);
            if off >= WIDTH {
                (self.stops, self.quotes) = masks_at(s, from);
                self.at = from;
                continue;
            }
            let m = self.stops >> off;
            if m != 0 {
                let k = m.trailing_zeros() as usize;
                let quote = (self.quotes >> (off + k)) & 1 != 0;
                return (from + k - at, quote);
            }
            // Nothing stops in the rest of this window: the next one starts where it ends.
            // Past the end the bytes are zeros, so `from` never passes `s.len()`.
            from = self.at + WIDTH;
        }
    }
}

/// The masks of `s[at..at + 64]`, zero-padded past the end.
#[inline(never)]
fn masks_at(s: &[u8], at: usize) -> (u64, u64) {
    match s
        .get(at..at.wrapping_add(WIDTH))
        .map(<&[u8; WIDTH]>::try_from)
    {
        Some(Ok(w)) => masks(w),
        _ => {
            let mut padded = [0u8; WIDTH];
            let rest = s.get(at..).unwrap_or_default();
            if let Some(d) = padded.get_mut(..rest.len()) {
                d.copy_from_slice(rest);
            }
            masks(&padded)
        }
    }
}

/// Bit `i` of the first mask is set when `w[i]` is a quote, a backslash or below 0x20; of the
/// second, when it is a quote.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn masks(w: &[u8; WIDTH]) -> (u64, u64) {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let splat = |b: u8| set_splat_i8_m128i(i8::from_ne_bytes([b]));
    let (mut stops, mut quotes) = (0u64, 0u64);
    for (i, chunk) in w.chunks_exact(16).enumerate() {
        let Ok(chunk) = <&[u8; 16]>::try_from(chunk) else {
            continue;
        };
        let v = load_unaligned_m128i(chunk);
        let quote = cmp_eq_mask_i8_m128i(v, splat(b'"'));
        let backslash = cmp_eq_mask_i8_m128i(v, splat(b'\\'));
        // Unsigned v <= 0x1f: the smaller of the two is v itself.
        let control = cmp_eq_mask_i8_m128i(min_u8_m128i(v, splat(0x1f)), v);
        let stop = bitor_m128i(bitor_m128i(quote, backslash), control);
        // Each mask's 16 bits (the sign bits of its lanes, in the low half of the result).
        let bits = |m| {
            let [lo, hi, _, _] = move_mask_i8_m128i(m).to_le_bytes();
            u64::from(u16::from_le_bytes([lo, hi]))
        };
        stops |= bits(stop) << (16 * i);
        quotes |= bits(quote) << (16 * i);
    }
    (stops, quotes)
}

/// [`masks`] without SIMD: exact per-byte tests on words (a borrow-based zero test can flag
/// the byte above a real hit, which a mask read from several starts cannot allow).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline(always)]
fn masks_portable(w: &[u8; WIDTH]) -> (u64, u64) {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // The high bit of each zero byte of x, with no carry between bytes.
    let zero = |x: u64| !(((x & LOW7) + LOW7) | x) & HIGH;
    // The high bits (7, 15, ..., 63) gathered into the low eight bits, byte i to bit i.
    let gather = |f: u64| ((f >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
    let (mut stops, mut quotes) = (0u64, 0u64);
    for (i, chunk) in w.chunks_exact(8).enumerate() {
        let Ok(chunk) = <[u8; 8]>::try_from(chunk) else {
            continue;
        };
        let x = u64::from_le_bytes(chunk);
        let quote = zero(x ^ (ONES * u64::from(b'"')));
        let stop = quote | zero(x ^ (ONES * u64::from(b'\\'))) | zero(x & (ONES * 0xe0));
        stops |= gather(stop) << (8 * i);
        quotes |= gather(quote) << (8 * i);
    }
    (stops, quotes)
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn masks(w: &[u8; WIDTH]) -> (u64, u64) {
    masks_portable(w)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;

    fn naive(w: &[u8; WIDTH]) -> (u64, u64) {
        let (mut stops, mut quotes) = (0u64, 0u64);
        for (i, &b) in w.iter().enumerate() {
            if b == b'"' || b == b'\\' || b < 0x20 {
                stops |= 1 << i;
            }
            if b == b'"' {
                quotes |= 1 << i;
            }
        }
        (stops, quotes)
    }

    #[test]
    fn masks_agree_with_a_byte_scan_for_every_byte_at_every_position() {
        // Backgrounds of plain bytes that sit beside the stop values (so a carry or borrow
        // between bytes would show), then each byte value at each position, with a stop or
        // a '#' (a quote XOR 1) just above it.
        for fill in [b'!', b'#', b']', b'[', 0x20, 0x7f, 0x80, 0xff, b'A'] {
            let base = [fill; WIDTH];
            assert_eq!(masks(&base), naive(&base));
            assert_eq!(masks_portable(&base), naive(&base));
            for pos in 0..WIDTH {
                for b in 0..=255u8 {
                    for above in [None, Some(b'"'), Some(b'#'), Some(0x01), Some(b']')] {
                        let mut w = base;
                        w[pos] = b;
                        if let (Some(a), Some(slot)) = (above, w.get_mut(pos + 1)) {
                            *slot = a;
                        }
                        let want = naive(&w);
                        assert_eq!(masks(&w), want, "{w:?}");
                        assert_eq!(masks_portable(&w), want, "{w:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn runs_agree_with_a_byte_scan_from_every_start() {
        // Texts of 0..=150 bytes (windows whole, cut by the end, or empty), a stop every few
        // bytes or none, every start, and one window reused across starts in order, as the
        // parser does.
        let naive_run = |t: &[u8], at: usize| {
            let n = t[at..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(t.len() - at);
            (n, t.get(at + n) == Some(&b'"'))
        };
        for len in 0..=150usize {
            for every in [0usize, 3, 17, 64, 70] {
                let t: std::vec::Vec<u8> = (0..len)
                    .map(|i| match i % 5 {
                        _ if every > 0 && i % every == every - 1 => [b'"', b'\\', 0x1f][i % 3],
                        0 => b'#',
                        1 => 0x80,
                        _ => b'a',
                    })
                    .collect();
                let mut win = Window::new(&t);
                for at in 0..=len {
                    assert_eq!(win.plain_run(&t, at), naive_run(&t, at), "{t:?} from {at}");
                    let mut fresh = Window::new(&t);
                    assert_eq!(
                        fresh.plain_run(&t, at),
                        naive_run(&t, at),
                        "{t:?} from {at}"
                    );
                }
            }
        }
    }
}
