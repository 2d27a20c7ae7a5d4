//! Where a JSON string's plain run ends: the bytes that stop it (a quote, a backslash or a
//! control character), found for 64 bytes of text at once.
//!
//! A claims text is mostly strings (URLs, UIDs, names), and the validating parser used to
//! scan each one a word at a time, a loop per string. Here the text is read in 64-byte
//! windows, each turned into a mask with one bit per byte; a string's run is then a shift and
//! a trailing-zero count, and the strings that follow in the same window reuse the mask (made
//! by [`bytemask::string_stops`]).

use super::bytemask::{self, WIDTH};

/// The stop masks of the 64 bytes of a text from `at` (bytes past its end read as zero,
/// which is a control character, so a scan stops exactly at the end).
pub(super) struct Window {
    at: usize,
    stops: u64,
    quotes: u64,
}

impl Window {
    /// The window of `s` from `at`.
    pub(super) fn at(s: &[u8], at: usize) -> Self {
        let (stops, quotes) = masks_at(s, at);
        Window { at, stops, quotes }
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
        Some(Ok(w)) => bytemask::string_stops(w),
        _ => bytemask::string_stops(&bytemask::padded(s, at)),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;

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
                let mut win = Window::at(&t, 0);
                for at in 0..=len {
                    assert_eq!(win.plain_run(&t, at), naive_run(&t, at), "{t:?} from {at}");
                    let mut fresh = Window::at(&t, 0);
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
