//! Lowercase hexadecimal digits, for the credential ids and the JSON `\u00XX` escapes.

/// The two lowercase hex digits of every byte value, built at compile time.
// Evaluated at compile time: an index out of range would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut b = 0usize;
    while b < 256 {
        table[b] = [HEX[b >> 4], HEX[b & 0x0f]];
        b += 1;
    }
    table
};

/// The two lowercase hex digits of `byte`: a `u8` indexes the 256-entry table, so no bounds
/// check and no branch is left.
#[inline(always)]
pub(crate) fn hex_pair(byte: u8) -> [u8; 2] {
    HEX_PAIRS
        .get(usize::from(byte))
        .copied()
        .unwrap_or([b'0'; 2])
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_byte_has_its_two_digits() {
        for b in 0..=255u8 {
            let [h, l] = super::hex_pair(b);
            let text = [h, l];
            let s = core::str::from_utf8(&text).ok();
            assert_eq!(s.and_then(|s| u8::from_str_radix(s, 16).ok()), Some(b));
            assert!(!h.is_ascii_uppercase() && !l.is_ascii_uppercase());
        }
    }
}
