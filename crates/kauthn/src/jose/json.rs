//! A validating, allocation-free JSON reader whose values borrow from the input.
//!
//! [`parse_object`] checks a whole document once — UTF-8 (RFC 8259 §8.1), grammar, escapes
//! (`\uXXXX` including surrogate pairs; lone surrogates and U+0000 are errors, never replaced
//! by U+FFFD, which would let two different names collide), nesting depth
//! ([`MAX_JSON_DEPTH`](super::MAX_JSON_DEPTH)), and duplicate member names compared *after*
//! unescaping (`"\u0061lg"` duplicates `"alg"`; RFC 7515 §4 and RFC 7519 §4 allow rejecting,
//! and rejecting is the only answer that cannot be interpreted two ways).
//!
//! Strings without escapes are borrowed from the input text. Strings with escapes are
//! unescaped once, during validation, into the caller's [`Scratch`]: the table written there
//! maps the string's offset in the text to its unescaped bytes, so a getter returns `&'a str`
//! without needing the arena again.
//!
//! The same table also gets, for each object, its members' name hashes, name positions and
//! value positions (and where each string value ends), recorded during validation. A lookup
//! by name then compares a few hashes instead of re-walking the object (and skipping every
//! nested value before the wanted one), which is what a claims reader does a dozen times per
//! token; `members()` reads the same index. When the arena has no room for an object's
//! index, that object is looked up and iterated by walking its text.
//!
//! Member names are matched exactly. Go's `encoding/json`, which kube-apiserver uses for its
//! unverified issuer pre-check (spec §7.2, §8.4), matches struct fields case-insensitively and
//! lets the last duplicate win (`{"ISS":"x","iss":"y"}` gives `y`); go-jose, which decodes
//! the verified claims, is case-sensitive and rejects duplicates. kauthn follows go-jose for
//! everything: exact names, duplicates rejected.

use core::fmt;

use super::error::{ClaimError, JoseError, JoseLimit, JsonType, Malformed};
use super::stops::Window;
use super::{MAX_JSON_DEPTH, MAX_JSON_LEN, MAX_JSON_MEMBERS, MAX_NUMERIC_DATE};
use crate::{Scratch, UnixTime};

/// The validated text, the unescaped strings and the member indexes of one document.
#[derive(Clone, Copy)]
struct Doc<'a> {
    text: &'a str,
    // Records, each starting with a u32 LE offset into the text:
    // * an escaped string: the offset of its opening quote, u32 LE length, the unescaped bytes;
    // * an object's index: the offset of its `{` with `OBJECT` set, u32 LE member count, then
    //   per member `MEMBER_LEN` bytes: name hash, name quote, name end (with `OBJECT` set when
    //   the name has escapes), value start, and for a string value its closing quote (with
    //   `OBJECT` set when it has escapes), for an object value the offset of its own index
    //   record (with `RECORD` set; 0 when it has none), for a number where it ends (with
    //   `NUMBER` set), 0 for other values, each u32 LE.
    esc: &'a [u8],
}

/// Marks an object-index record (text offsets stay below `MAX_JSON_LEN`, far under 2^31).
const OBJECT: usize = 1 << 31;
/// In a member's value word, marks an object value whose own index record is at the offset
/// in the low bits (a string value's word is its closing quote, below `MAX_JSON_LEN`).
const RECORD: usize = 1 << 30;
/// In a member's value word, marks a number value; the low bits are where it ends.
const NUMBER: usize = 1 << 29;
const MEMBER_LEN: usize = 20;

/// The length of the record at `at`, or `None` past the end or when it is malformed.
fn record_len(table: &[u8], at: usize) -> Option<(usize, usize)> {
    let off = read_u32(table, at)?;
    let n = read_u32(table, at.checked_add(4)?)?;
    let body = if off & OBJECT != 0 {
        n.checked_mul(MEMBER_LEN)?
    } else {
        n
    };
    Some((off, body.checked_add(8)?))
}

fn read_u32(b: &[u8], at: usize) -> Option<usize> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(bytes)).ok()
}

/// Finds the body of the record whose first word is `key`: an escaped string's unescaped
/// bytes (key = its quote's offset) or an object's member index (key = `start | OBJECT`).
fn find_record(table: &[u8], key: usize) -> Option<&[u8]> {
    let mut at = 0usize;
    while at < table.len() {
        let (off, len) = record_len(table, at)?;
        let end = at.checked_add(len)?;
        if off == key {
            return table.get(at.checked_add(8)?..end);
        }
        at = end;
    }
    None
}

impl<'a> Doc<'a> {
    fn unescaped(&self, quote: usize) -> Option<&'a str> {
        core::str::from_utf8(find_record(self.esc, quote)?).ok()
    }

    /// An object whose `{` is at `start`, with its member index (when one was recorded)
    /// looked up once here rather than on each `get`: the index records follow one another
    /// in the arena, the outermost object's last.
    fn object(&self, start: usize) -> JsonObject<'a> {
        JsonObject {
            doc: *self,
            start,
            index: find_record(self.esc, start | OBJECT),
        }
    }

    /// The object whose `{` is at `start` and whose index record, if it has one, is at
    /// `record` in the arena (known to the parser, so not searched for).
    fn object_at(&self, start: usize, record: Option<usize>) -> JsonObject<'a> {
        let index = record.and_then(|at| {
            let (key, len) = record_len(self.esc, at)?;
            let body = self.esc.get(at.checked_add(8)?..at.checked_add(len)?)?;
            (key == start | OBJECT).then_some(body)
        });
        JsonObject {
            doc: *self,
            start,
            index,
        }
    }

    /// The (unescaped) name of the member whose index entry is `e`.
    fn member_name(&self, e: &[u8]) -> Option<&'a str> {
        let quote = read_u32(e, 4)?;
        let end = read_u32(e, 8)?;
        if end & OBJECT != 0 {
            self.unescaped(quote)
        } else {
            self.text.get(quote.checked_add(1)?..end)
        }
    }

    /// The value starting at `pos`, whose index entry recorded `end` (a string's closing
    /// quote, flagged when escaped; an object's index record or a number's end, flagged; or
    /// 0): a string, number or indexed object is taken as recorded, anything else is read at
    /// `pos` without walking past it.
    #[inline(always)]
    fn member_value(&self, pos: usize, end: usize) -> Option<JsonValue<'a>> {
        if end == 0 {
            return self.read_value(pos);
        }
        if end & RECORD != 0 {
            return Some(JsonValue::Object(self.object_at(pos, Some(end & !RECORD))));
        }
        if end & NUMBER != 0 {
            return Some(JsonValue::Number(JsonNumber(
                self.text.get(pos..end & !NUMBER)?,
            )));
        }
        let s = if end & OBJECT != 0 {
            self.unescaped(pos)
        } else {
            self.text.get(pos.checked_add(1)?..end)
        };
        s.map(JsonValue::String)
    }

    /// The value at `pos`, read from the text (an array, a literal, or an object without an
    /// index). Out of line, so that the recorded cases above keep a small stack frame.
    #[inline(never)]
    fn read_value(&self, pos: usize) -> Option<JsonValue<'a>> {
        Reader { doc: *self, pos }.value_shallow()
    }

    /// Where the value of the member named `name` starts (and, for a string, its recorded
    /// end), through an object's member index `entries`: `Some(None)` when the index says it
    /// is absent, `None` when it cannot be read.
    ///
    /// A position rather than a value: the value is built once, by the caller, into its own
    /// result (an enum returned through several frames was copied as a blob, and that copy
    /// stalled on the narrower stores that had just written it).
    fn indexed_find(
        &self,
        entries: &[u8],
        name: &str,
        hash: u32,
    ) -> Option<Option<(usize, usize)>> {
        for e in entries.chunks_exact(MEMBER_LEN) {
            if read_u32(e, 0)? != hash as usize {
                continue;
            }
            let quote = read_u32(e, 4)?;
            let end = read_u32(e, 8)?;
            // Compared as bytes: slicing the text as `str` would test both ends for char
            // boundaries first.
            let found = if end & OBJECT != 0 {
                self.unescaped(quote)?.as_bytes()
            } else {
                self.text.as_bytes().get(quote.checked_add(1)?..end)?
            };
            if same_name(found, name.as_bytes()) {
                return Some(Some((read_u32(e, 12)?, read_u32(e, 16)?)));
            }
        }
        Some(None)
    }
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// One member of an object being validated, already in the form of its member-index entry
/// (see [`Doc`]), so that the finished object's index is one copy of its entries. The value
/// word records a string value's closing quote (flagged when escaped), an object value's
/// index record (`RECORD`) or a number's end (`NUMBER`), so that a lookup returns the value
/// without scanning it again or searching the arena.
type NameEntry = [u8; MEMBER_LEN];

fn name_entry(hash: u32, quote: u32, end_flagged: u32, value: u32, value_end: u32) -> NameEntry {
    let mut e = [0u8; MEMBER_LEN];
    for (d, w) in e
        .chunks_exact_mut(4)
        .zip([hash, quote, end_flagged, value, value_end])
    {
        d.copy_from_slice(&w.to_le_bytes());
    }
    e
}

struct StrTok {
    quote: usize,
    end: usize,
    escaped: bool,
    hash: u32,
}

/// The eight bytes of `s` at `at` as a little-endian word (0 past the end).
#[inline(always)]
fn word_at(s: &[u8], at: usize) -> u64 {
    s.get(at..at.wrapping_add(8))
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

/// The four bytes of `s` at `at` as a little-endian word (0 past the end).
#[inline(always)]
fn half_at(s: &[u8], at: usize) -> u64 {
    s.get(at..at.wrapping_add(4))
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
}

/// The hash of a member name, for duplicate detection and lookups (equal hashes are then
/// compared byte for byte). Eight bytes per multiply: claim names are short, and a byte-wise
/// hash such as FNV-1a is a chain of dependent multiplies, one per byte.
#[inline(always)]
fn name_hash(bytes: &[u8]) -> u32 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, w: u64| (h.rotate_left(23) ^ w).wrapping_mul(K);
    let (word, half) = (|at| word_at(bytes, at), |at| half_at(bytes, at));
    let byte = |at: usize| bytes.get(at).map_or(0, |&b| u64::from(b));
    let n = bytes.len();
    let mut h = (n as u64).wrapping_mul(K);
    // Every byte is read (the last word, or the last half-word, may overlap the one
    // before), so names of one length hash from all of their bytes.
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            h = mix(h, word(at));
            at += 8;
        }
        h = mix(h, word(n - 8));
    } else if n >= 4 {
        h = mix(h, half(0) | (half(n - 4) << 32));
    } else if n > 0 {
        h = mix(h, byte(0) | (byte(n / 2) << 8) | (byte(n - 1) << 16));
    }
    (h >> 32) as u32
}

/// Byte equality of two member names, inline for names of up to 16 bytes (claim names are
/// short, and a call to `memcmp` per candidate was a visible share of a lookup).
fn same_name(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n > 16 {
        return a == b;
    }
    // Overlapping reads cover every byte: the first and last 8 (or 4) bytes of each.
    if n >= 8 {
        word_at(a, 0) == word_at(b, 0) && word_at(a, n - 8) == word_at(b, n - 8)
    } else if n >= 4 {
        half_at(a, 0) == half_at(b, 0) && half_at(a, n - 4) == half_at(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

/// The high bit of each byte of `w` that is not an ASCII digit, and the digits' values (each
/// byte XOR `'0'`, meaningful where no bit is set). A digit XOR '0' is 0..=9; any other byte
/// gives 10 or more (or has its high bit), which adding 0x76 to its low seven bits carries
/// into bit 7, never across a byte.
#[inline(always)]
fn non_digits(w: u64) -> (u64, u64) {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let t = w ^ u64::from_le_bytes([b'0'; 8]);
    ((((t & LOW7) + 0x7676_7676_7676_7676) | t) & HIGH, t)
}

/// The eight bytes of `s` at `at` as a little-endian word, zero-padded past the end (a zero
/// byte is a non-digit, so a digit scan stops exactly at the end of `s`).
#[inline(always)]
fn padded_word(s: &[u8], at: usize) -> u64 {
    match s.get(at..at.wrapping_add(8)) {
        Some(w) => word_at(w, 0),
        None => {
            let mut last = [0u8; 8];
            let rest = s.get(at..).unwrap_or_default();
            if let Some(d) = last.get_mut(..rest.len()) {
                d.copy_from_slice(rest);
            }
            u64::from_le_bytes(last)
        }
    }
}

/// The number of ASCII digits at the start of `s[at..]`, a word at a time (NumericDates are
/// ten digits); bytes past the end count as non-digits.
#[inline(always)]
fn digit_run(s: &[u8], at: usize) -> usize {
    let mut n = 0usize;
    loop {
        let (other, _) = non_digits(padded_word(s, at.wrapping_add(n)));
        if other != 0 {
            return n + (other.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
}

fn syntax() -> JoseError {
    JoseError::Malformed(Malformed::JsonSyntax)
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(..4)? {
        let d = char::from(c).to_digit(16)?;
        v = (v << 4) | d;
    }
    Some(v)
}

/// Unescapes the raw content of a JSON string into `out`; returns the length written.
/// Unescaped text is never longer than the escaped text, so `out.len() >= src.len()` suffices.
fn unescape(src: &[u8], out: &mut [u8]) -> Result<usize, JoseError> {
    let mut i = 0usize;
    let mut o = 0usize;
    let put = |out: &mut [u8], o: &mut usize, bytes: &[u8]| -> Result<(), JoseError> {
        let end = o.checked_add(bytes.len()).ok_or(JoseLimit::Scratch)?;
        out.get_mut(*o..end)
            .ok_or(JoseLimit::Scratch)?
            .copy_from_slice(bytes);
        *o = end;
        Ok(())
    };
    while let Some(&b) = src.get(i) {
        if b != b'\\' {
            put(out, &mut o, &[b])?;
            i += 1;
            continue;
        }
        let e = *src.get(i + 1).ok_or(Malformed::InvalidEscape)?;
        i += 2;
        let simple = match e {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'u' => None,
            _ => return Err(Malformed::InvalidEscape.into()),
        };
        if let Some(c) = simple {
            put(out, &mut o, &[c])?;
            continue;
        }
        let hi = hex4(src.get(i..).unwrap_or_default()).ok_or(Malformed::InvalidEscape)?;
        i += 4;
        let code = match hi {
            0xD800..=0xDBFF => {
                // A high surrogate must be followed by an escaped low surrogate.
                if src.get(i..i + 2) != Some(b"\\u") {
                    return Err(Malformed::LoneSurrogate.into());
                }
                let lo =
                    hex4(src.get(i + 2..).unwrap_or_default()).ok_or(Malformed::InvalidEscape)?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(Malformed::LoneSurrogate.into());
                }
                i += 6;
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(Malformed::LoneSurrogate.into()),
            0 => return Err(Malformed::NulCharacter.into()),
            c => c,
        };
        let ch = char::from_u32(code).ok_or(Malformed::InvalidEscape)?;
        let mut buf = [0u8; 4];
        put(out, &mut o, ch.encode_utf8(&mut buf).as_bytes())?;
    }
    Ok(o)
}

struct Parser<'t, 'o> {
    s: &'t [u8],
    pos: usize,
    out: &'o mut [u8],
    out_len: usize,
    // The members of the objects being validated, innermost last. A heapless `Vec` rather
    // than an array: an array of `MAX_JSON_MEMBERS` entries (5 KB) was zeroed on every call.
    names: heapless::Vec<NameEntry, MAX_JSON_MEMBERS>,
    // The stop masks of the 64 bytes the last string scan read.
    win: Window,
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) -> Result<u8, JoseError> {
        let b = self.peek().ok_or_else(syntax)?;
        self.pos += 1;
        Ok(b)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn lit(&mut self, word: &[u8]) -> Result<(), JoseError> {
        let end = self.pos.checked_add(word.len()).ok_or_else(syntax)?;
        if self.s.get(self.pos..end) != Some(word) {
            return Err(syntax());
        }
        self.pos = end;
        Ok(())
    }

    fn digits(&mut self) -> Result<(), JoseError> {
        match digit_run(self.s, self.pos) {
            0 => Err(syntax()),
            n => {
                self.pos += n;
                Ok(())
            }
        }
    }

    fn number(&mut self) -> Result<(), JoseError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.bump()? {
            b'0' => {}
            b'1'..=b'9' => self.pos += digit_run(self.s, self.pos),
            _ => return Err(syntax()),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits()?;
        }
        Ok(())
    }

    /// Validates a string (unescaping it into the table when it has escapes). Only member
    /// names need the hash used for duplicate detection: hashing every value cost about a
    /// microsecond per service-account token (a serial multiply per byte).
    ///
    /// Every caller has just seen the opening quote at `pos` (it chose this reader by it).
    #[inline(always)]
    fn string(&mut self, name: bool) -> Result<StrTok, JoseError> {
        let quote = self.pos;
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Skip the run of plain characters in one tight scan; the match below sees only
            // the quote, a backslash or a control character (or the end of input).
            let (n, quote) = self.win.plain_run(self.s, self.pos);
            self.pos += n;
            if quote {
                self.pos += 1;
                break;
            }
            match self.bump()? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    match self.bump()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let h = self.s.get(self.pos..).unwrap_or_default();
                            hex4(h).ok_or(Malformed::InvalidEscape)?;
                            self.pos += 4;
                        }
                        _ => return Err(Malformed::InvalidEscape.into()),
                    }
                }
                // RFC 8259 §7: control characters must be escaped.
                0x00..=0x1f => return Err(syntax()),
                _ => {}
            }
        }
        let end = self.pos - 1;
        let raw = self.s.get(start..end).ok_or_else(syntax)?;
        let hash = if escaped {
            let quote32 = u32::try_from(quote).map_err(|_| JoseLimit::JsonSize)?;
            let body = self.out_len.checked_add(8).ok_or(JoseLimit::Scratch)?;
            let out = self.out.get_mut(body..).ok_or(JoseLimit::Scratch)?;
            let n = unescape(raw, out)?;
            let decoded = out.get(..n).ok_or(JoseLimit::Scratch)?;
            let hash = if name { name_hash(decoded) } else { 0 };
            let n32 = u32::try_from(n).map_err(|_| JoseLimit::JsonSize)?;
            let hdr = self
                .out
                .get_mut(self.out_len..body)
                .ok_or(JoseLimit::Scratch)?;
            let (a, b) = hdr.split_at_mut(4);
            a.copy_from_slice(&quote32.to_le_bytes());
            b.copy_from_slice(&n32.to_le_bytes());
            self.out_len = body + n;
            hash
        } else if name {
            name_hash(raw)
        } else {
            0
        };
        Ok(StrTok {
            quote,
            end,
            escaped,
            hash,
        })
    }

    fn name_bytes(&self, quote: usize, end: usize, escaped: bool) -> Option<&[u8]> {
        if escaped {
            find_record(self.out.get(..self.out_len)?, quote)
        } else {
            self.s.get(quote + 1..end)
        }
    }

    fn check_duplicate(&self, mark: usize, tok: &StrTok) -> Result<(), JoseError> {
        let new = self
            .name_bytes(tok.quote, tok.end, tok.escaped)
            .ok_or_else(syntax)?;
        for e in self.names.get(mark..).unwrap_or_default() {
            if read_u32(e, 0) != Some(tok.hash as usize) {
                continue;
            }
            let (q, end) = (
                read_u32(e, 4).ok_or_else(syntax)?,
                read_u32(e, 8).ok_or_else(syntax)?,
            );
            if self.name_bytes(q, end & !OBJECT, end & OBJECT != 0) == Some(new) {
                return Err(Malformed::DuplicateMember.into());
            }
        }
        Ok(())
    }

    /// Skips whitespace and returns the next byte without consuming it; the end of the
    /// text is a syntax error. Tokens usually follow each other without whitespace, so that
    /// case is one bounds check and one compare.
    #[inline(always)]
    fn token(&mut self) -> Result<u8, JoseError> {
        match self.peek() {
            Some(b) if b > b' ' => Ok(b),
            _ => {
                self.ws();
                self.peek().ok_or_else(syntax)
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), JoseError> {
        let b = self.token()?;
        self.value_at(b, depth)
    }

    /// The value whose first byte, `b`, is at `pos`.
    fn value_at(&mut self, b: u8, depth: usize) -> Result<(), JoseError> {
        match b {
            b'{' => self.object(depth + 1).map(|_| ()),
            b'[' => self.array(depth + 1),
            b'"' => self.string(false).map(|_| ()),
            b't' => self.lit(b"true"),
            b'f' => self.lit(b"false"),
            b'n' => self.lit(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(syntax()),
        }
    }

    /// The array whose `[` is at `pos`.
    fn array(&mut self, depth: usize) -> Result<(), JoseError> {
        if depth > MAX_JSON_DEPTH {
            return Err(JoseLimit::JsonDepth.into());
        }
        self.pos += 1;
        let mut b = self.token()?;
        if b == b']' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.value_at(b, depth)?;
            let sep = self.token()?;
            self.pos += 1;
            match sep {
                b',' => b = self.token()?,
                b']' => return Ok(()),
                _ => return Err(syntax()),
            }
        }
    }

    /// Appends the index of the object at `start`, whose members are `names[mark..]`. When
    /// the arena is too small the object goes unindexed (lookups walk it); that is not an
    /// error, so the arena size never changes which documents are accepted.
    fn index_members(&mut self, start: usize, mark: usize) -> Option<usize> {
        let members = self.names.get(mark..).unwrap_or_default();
        let len = members.len().checked_mul(MEMBER_LEN)?.checked_add(8)?;
        let at = self.out_len;
        let dst = self.out.get_mut(at..).and_then(|o| o.get_mut(..len))?;
        let (Ok(key), Ok(count)) = (u32::try_from(start | OBJECT), u32::try_from(members.len()))
        else {
            return None;
        };
        let (head, body) = dst.split_at_mut(8.min(dst.len()));
        let mut hdr = [0u8; 8];
        let (k, c) = hdr.split_at_mut(4);
        k.copy_from_slice(&key.to_le_bytes());
        c.copy_from_slice(&count.to_le_bytes());
        head.copy_from_slice(hdr.get(..head.len()).unwrap_or_default());
        let entries = members.as_flattened();
        body.get_mut(..entries.len())?.copy_from_slice(entries);
        self.out_len += len;
        Some(at)
    }

    /// The object whose `{` is at `pos`; returns where its member index was recorded (none
    /// for an empty object or when the arena had no room).
    fn object(&mut self, depth: usize) -> Result<Option<usize>, JoseError> {
        if depth > MAX_JSON_DEPTH {
            return Err(JoseLimit::JsonDepth.into());
        }
        let start = self.pos;
        self.pos += 1;
        let mark = self.names.len();
        let mut seen = 0u64;
        let mut b = self.token()?;
        if b == b'}' {
            self.pos += 1;
            return Ok(None);
        }
        loop {
            if b != b'"' {
                return Err(syntax());
            }
            let tok = self.string(true)?;
            // A name whose hash bit is not yet set in this object's 64-bit filter cannot
            // repeat an earlier name; only a set bit (a likely repeat or a collision) costs the
            // search of the object's names.
            let bit = 1u64 << (tok.hash & 63);
            if seen & bit != 0 {
                self.check_duplicate(mark, &tok)?;
            }
            seen |= bit;
            if self.token()? != b':' {
                return Err(syntax());
            }
            self.pos += 1;
            let first = self.token()?;
            let value = u32::try_from(self.pos).map_err(|_| JoseLimit::JsonSize)?;
            // A nested object's members are pushed and popped while its value is read, so
            // this member is pushed after its value.
            let mut value_end = 0;
            if first == b'"' {
                let v = self.string(false)?;
                let flag = if v.escaped { OBJECT } else { 0 };
                value_end = u32::try_from(v.end | flag).map_err(|_| JoseLimit::JsonSize)?;
            } else if first == b'{' {
                // An object value records where its index is, so that a lookup does not
                // search the arena for it.
                let record = self.object(depth + 1)?;
                value_end = record
                    .filter(|&r| r < RECORD)
                    .and_then(|r| u32::try_from(r | RECORD).ok())
                    .unwrap_or(0);
            } else if matches!(first, b'-' | b'0'..=b'9') {
                self.number()?;
                value_end = u32::try_from(self.pos | NUMBER).map_err(|_| JoseLimit::JsonSize)?;
            } else {
                self.value_at(first, depth)?;
            }
            let flag = if tok.escaped { OBJECT } else { 0 };
            let entry = name_entry(
                tok.hash,
                u32::try_from(tok.quote).map_err(|_| JoseLimit::JsonSize)?,
                u32::try_from(tok.end | flag).map_err(|_| JoseLimit::JsonSize)?,
                value,
                value_end,
            );
            self.names.push(entry).map_err(|_| JoseLimit::JsonMembers)?;
            let sep = self.token()?;
            self.pos += 1;
            match sep {
                b',' => b = self.token()?,
                b'}' => break,
                _ => return Err(syntax()),
            }
        }
        let record = self.index_members(start, mark);
        self.names.truncate(mark);
        Ok(record)
    }
}

/// Validates `text` as one JSON object and returns a borrowed view of it. Strings with
/// escapes are unescaped into `scratch` (at most `text.len()` bytes plus 8 per such string).
pub fn parse_object<'a>(
    text: &'a [u8],
    scratch: &mut Scratch<'a>,
) -> Result<JsonObject<'a>, JoseError> {
    if text.len() > MAX_JSON_LEN {
        return Err(JoseLimit::JsonSize.into());
    }
    let text_str = core::str::from_utf8(text).map_err(|_| Malformed::Utf8)?;
    let mut start = 0usize;
    let (esc, record) = scratch.fill_with(|buf| {
        let mut p = Parser {
            s: text,
            pos: 0,
            out: buf,
            out_len: 0,
            names: heapless::Vec::new(),
            win: Window::at(text, 0),
        };
        p.ws();
        start = p.pos;
        let is_object = p.peek() == Some(b'{');
        let record = if is_object {
            p.object(1)?
        } else {
            p.value(0)?;
            None
        };
        p.ws();
        if p.pos != text.len() {
            return Err(syntax());
        }
        if !is_object {
            return Err(Malformed::NotAnObject.into());
        }
        Ok::<_, JoseError>((p.out_len, record))
    })?;
    let esc: &'a [u8] = esc;
    Ok(Doc {
        text: text_str,
        esc,
    }
    .object_at(start, record))
}

// ---------------------------------------------------------------------------------------
// Borrowed views over a validated document
// ---------------------------------------------------------------------------------------

struct Reader<'a> {
    doc: Doc<'a>,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.doc.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// At an opening quote: returns the end quote's index and whether escapes occur.
    fn scan_string(&self, quote: usize) -> Option<(usize, bool)> {
        let b = self.bytes();
        let mut i = quote.checked_add(1)?;
        let mut escaped = false;
        let mut win = Window::at(b, i);
        loop {
            // The document was validated: the run ends at a quote or a backslash.
            let (n, _) = win.plain_run(b, i);
            i += n;
            match *b.get(i)? {
                b'"' => return Some((i, escaped)),
                _ => {
                    escaped = true;
                    i = i.checked_add(2)?;
                }
            }
        }
    }

    fn string(&mut self) -> Option<&'a str> {
        let quote = self.pos;
        let (end, escaped) = self.scan_string(quote)?;
        self.pos = end + 1;
        if escaped {
            self.doc.unescaped(quote)
        } else {
            self.doc.text.get(quote + 1..end)
        }
    }

    fn skip_container(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            // Jump to the next character that matters: a getter skips whole nested claims
            // (`kubernetes.io`) on every lookup that passes them.
            let rest = self.bytes().get(self.pos..)?;
            self.pos += rest
                .iter()
                .position(|&c| matches!(c, b'"' | b'{' | b'[' | b'}' | b']'))?;
            match self.peek()? {
                b'"' => {
                    let (end, _) = self.scan_string(self.pos)?;
                    self.pos = end + 1;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        self.pos += 1;
                        return Some(());
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// The value here, without walking past a container (a lookup needs only its start).
    #[inline(always)]
    fn value_shallow(&mut self) -> Option<JsonValue<'a>> {
        self.ws();
        let start = self.pos;
        match self.peek()? {
            b'{' => Some(JsonValue::Object(self.doc.object(start))),
            b'[' => Some(JsonValue::Array(JsonArray {
                doc: self.doc,
                start,
            })),
            _ => self.value(),
        }
    }

    #[inline(always)]
    fn value(&mut self) -> Option<JsonValue<'a>> {
        self.ws();
        let start = self.pos;
        let v = match self.peek()? {
            b'{' => {
                self.skip_container()?;
                JsonValue::Object(self.doc.object(start))
            }
            b'[' => {
                self.skip_container()?;
                JsonValue::Array(JsonArray {
                    doc: self.doc,
                    start,
                })
            }
            b'"' => JsonValue::String(self.string()?),
            b't' => {
                self.pos += 4;
                JsonValue::Bool(true)
            }
            b'f' => {
                self.pos += 5;
                JsonValue::Bool(false)
            }
            b'n' => {
                self.pos += 4;
                JsonValue::Null
            }
            _ => {
                while matches!(
                    self.peek(),
                    Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                ) {
                    self.pos += 1;
                }
                JsonValue::Number(JsonNumber(self.doc.text.get(start..self.pos)?))
            }
        };
        Some(v)
    }
}

/// A JSON value borrowed from a validated document.
#[derive(Clone, Copy, Debug)]
pub enum JsonValue<'a> {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, kept as its text so that it can be read exactly.
    Number(JsonNumber<'a>),
    /// A string, unescaped.
    String(&'a str),
    /// An array.
    Array(JsonArray<'a>),
    /// An object.
    Object(JsonObject<'a>),
}

fn wrong(expected: JsonType, found: &JsonValue<'_>) -> JoseError {
    JoseError::Claim(ClaimError::WrongType {
        expected,
        found: found.json_type(),
    })
}

impl<'a> JsonValue<'a> {
    /// The value's JSON type.
    pub fn json_type(&self) -> JsonType {
        match self {
            JsonValue::Null => JsonType::Null,
            JsonValue::Bool(_) => JsonType::Bool,
            JsonValue::Number(_) => JsonType::Number,
            JsonValue::String(_) => JsonType::String,
            JsonValue::Array(_) => JsonType::Array,
            JsonValue::Object(_) => JsonType::Object,
        }
    }

    /// The string, or a type error.
    pub fn as_str(&self) -> Result<&'a str, JoseError> {
        match self {
            JsonValue::String(s) => Ok(s),
            v => Err(wrong(JsonType::String, v)),
        }
    }

    /// The boolean, or a type error.
    pub fn as_bool(&self) -> Result<bool, JoseError> {
        match self {
            JsonValue::Bool(b) => Ok(*b),
            v => Err(wrong(JsonType::Bool, v)),
        }
    }

    /// The object, or a type error.
    pub fn as_object(&self) -> Result<JsonObject<'a>, JoseError> {
        match self {
            JsonValue::Object(o) => Ok(*o),
            v => Err(wrong(JsonType::Object, v)),
        }
    }

    /// The array, or a type error.
    pub fn as_array(&self) -> Result<JsonArray<'a>, JoseError> {
        match self {
            JsonValue::Array(a) => Ok(*a),
            v => Err(wrong(JsonType::Array, v)),
        }
    }

    /// The number, or a type error.
    pub fn as_number(&self) -> Result<JsonNumber<'a>, JoseError> {
        match self {
            JsonValue::Number(n) => Ok(*n),
            v => Err(wrong(JsonType::Number, v)),
        }
    }

    /// A NumericDate (RFC 7519 §2): a JSON number, see [`NumericDate::parse`]. A string
    /// holding digits is a type error (go-jose: `expected number value to unmarshal
    /// NumericDate`).
    pub fn as_numeric_date(&self) -> Result<NumericDate, JoseError> {
        NumericDate::parse(self.as_number()?.as_str())
    }

    /// A string or an array of strings (`aud`, RFC 7519 §4.1.3; OIDC groups). Every array
    /// element must be a string.
    pub fn as_str_or_array(&self) -> Result<StrList<'a>, JoseError> {
        match self {
            JsonValue::String(s) => Ok(StrList(StrListInner::One(s))),
            JsonValue::Array(a) => {
                let (mut count, mut first) = (0usize, "");
                for v in a.iter() {
                    let JsonValue::String(s) = v else {
                        return Err(ClaimError::NonStringElement.into());
                    };
                    if count == 0 {
                        first = s;
                    }
                    count += 1;
                }
                Ok(StrList(if count == 1 {
                    StrListInner::OneInArray(first)
                } else {
                    StrListInner::Many(*a)
                }))
            }
            v => Err(wrong(JsonType::StringOrArray, v)),
        }
    }
}

/// A JSON number's text; read it with the exact readers below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonNumber<'a>(&'a str);

impl<'a> JsonNumber<'a> {
    /// The number as written.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// The number as an `i64` when it is written as an integer (no fraction, no exponent)
    /// within range.
    pub fn as_i64(&self) -> Result<i64, JoseError> {
        let (neg, digits) = match self.0.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, self.0),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ClaimError::NotAnInteger.into());
        }
        let mut v: i64 = 0;
        for b in digits.bytes() {
            let d = i64::from(b - b'0');
            v = v
                .checked_mul(10)
                .and_then(|v| {
                    if neg {
                        v.checked_sub(d)
                    } else {
                        v.checked_add(d)
                    }
                })
                .ok_or(ClaimError::NotAnInteger)?;
        }
        Ok(v)
    }
}

/// A JSON object borrowed from a validated document. Member names are unique (duplicates
/// were rejected), so a lookup by name is unambiguous.
#[derive(Clone, Copy)]
pub struct JsonObject<'a> {
    doc: Doc<'a>,
    start: usize,
    /// The member index recorded by the validating pass, or `None` when the arena had no
    /// room for it (then lookups walk the object).
    index: Option<&'a [u8]>,
}

/// A JSON array borrowed from a validated document.
#[derive(Clone, Copy)]
pub struct JsonArray<'a> {
    doc: Doc<'a>,
    start: usize,
}

impl fmt::Debug for JsonObject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Member names only: values may be personal data.
        f.debug_set()
            .entries(self.members().map(|(k, _)| k))
            .finish()
    }
}

impl fmt::Debug for JsonArray<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonArray(len {})", self.len())
    }
}

/// Iterator over an object's members in document order.
pub struct Members<'a> {
    r: Reader<'a>,
    done: bool,
    /// The object's member index, when it has one: then the members are read from it
    /// rather than by walking the text.
    entries: Option<core::slice::ChunksExact<'a, u8>>,
}

impl<'a> Members<'a> {
    fn step(&mut self) -> Option<(&'a str, JsonValue<'a>)> {
        if let Some(entries) = &mut self.entries {
            let e = entries.next()?;
            let doc = self.r.doc;
            return Some((
                doc.member_name(e)?,
                doc.member_value(read_u32(e, 12)?, read_u32(e, 16)?)?,
            ));
        }
        self.r.ws();
        match self.r.peek()? {
            b'}' => return None,
            b',' | b'{' => {
                self.r.pos += 1;
                self.r.ws();
                if self.r.peek()? == b'}' {
                    return None;
                }
            }
            _ => {}
        }
        let name = self.r.string()?;
        self.r.ws();
        if self.r.peek()? != b':' {
            return None;
        }
        self.r.pos += 1;
        let value = self.r.value()?;
        Some((name, value))
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, JsonValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

/// Iterator over an array's elements.
pub struct Elements<'a> {
    r: Reader<'a>,
    done: bool,
}

impl<'a> Elements<'a> {
    fn step(&mut self) -> Option<JsonValue<'a>> {
        self.r.ws();
        match self.r.peek()? {
            b']' => return None,
            b',' | b'[' => {
                self.r.pos += 1;
                self.r.ws();
                if self.r.peek()? == b']' {
                    return None;
                }
            }
            _ => {}
        }
        self.r.value()
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = JsonValue<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

impl<'a> JsonArray<'a> {
    /// The elements in order.
    pub fn iter(&self) -> Elements<'a> {
        Elements {
            r: Reader {
                doc: self.doc,
                pos: self.start,
            },
            done: false,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when the array is empty.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl<'a> JsonObject<'a> {
    /// The members in document order.
    pub fn members(&self) -> Members<'a> {
        Members {
            r: Reader {
                doc: self.doc,
                pos: self.start,
            },
            done: false,
            entries: self.index.map(|e| e.chunks_exact(MEMBER_LEN)),
        }
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members().count()
    }

    /// True when the object has no members.
    pub fn is_empty(&self) -> bool {
        self.members().next().is_none()
    }

    /// True when a member of this exact name is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The member named exactly `name` (after unescaping), if present.
    ///
    /// Inlined for its hash alone: the claim readers ask for literal names, whose hash then
    /// folds to a constant; the search itself is not inlined.
    #[inline(always)]
    pub fn get(&self, name: &str) -> Option<JsonValue<'a>> {
        self.get_hashed(name, name_hash(name.as_bytes()))
    }

    fn get_hashed(&self, name: &str, hash: u32) -> Option<JsonValue<'a>> {
        match self
            .index
            .and_then(|idx| self.doc.indexed_find(idx, name, hash))
        {
            Some(Some((pos, end))) => self.doc.member_value(pos, end),
            Some(None) => None,
            None => self.get_walking(name),
        }
    }

    /// [`get`](Self::get) for an object without an index (the arena had no room). Kept out
    /// of line: inlined, the walk's state made every indexed lookup save and restore a
    /// large stack frame.
    #[cold]
    #[inline(never)]
    fn get_walking(&self, name: &str) -> Option<JsonValue<'a>> {
        self.members().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The value at a path of member names (`["kubernetes.io", "pod", "name"]`). Absent at any
    /// step is `Ok(None)`; an intermediate value that is not an object is a type error.
    pub fn at(&self, path: &[&str]) -> Result<Option<JsonValue<'a>>, JoseError> {
        let Some((last, init)) = path.split_last() else {
            return Ok(Some(JsonValue::Object(*self)));
        };
        let mut obj = *self;
        for name in init {
            match obj.get(name) {
                None => return Ok(None),
                Some(v) => obj = v.as_object()?,
            }
        }
        Ok(obj.get(last))
    }

    /// A string member: absent is `Ok(None)`, another type (including `null`) is an error.
    pub fn get_str(&self, name: &str) -> Result<Option<&'a str>, JoseError> {
        self.get(name).map(|v| v.as_str()).transpose()
    }

    /// A boolean member.
    pub fn get_bool(&self, name: &str) -> Result<Option<bool>, JoseError> {
        self.get(name).map(|v| v.as_bool()).transpose()
    }

    /// An object member.
    pub fn get_object(&self, name: &str) -> Result<Option<JsonObject<'a>>, JoseError> {
        self.get(name).map(|v| v.as_object()).transpose()
    }

    /// An array member.
    pub fn get_array(&self, name: &str) -> Result<Option<JsonArray<'a>>, JoseError> {
        self.get(name).map(|v| v.as_array()).transpose()
    }

    /// An integer member (written without fraction or exponent, within `i64`).
    pub fn get_i64(&self, name: &str) -> Result<Option<i64>, JoseError> {
        self.get(name)
            .map(|v| v.as_number().and_then(|n| n.as_i64()))
            .transpose()
    }

    /// A NumericDate member (`exp`, `nbf`, `iat`, `warnafter`).
    pub fn get_numeric_date(&self, name: &str) -> Result<Option<NumericDate>, JoseError> {
        self.get(name).map(|v| v.as_numeric_date()).transpose()
    }

    /// A member that is a string or an array of strings.
    pub fn get_str_or_array(&self, name: &str) -> Result<Option<StrList<'a>>, JoseError> {
        self.get(name).map(|v| v.as_str_or_array()).transpose()
    }

    /// The `aud` claim (RFC 7519 §4.1.3): a string or an array of strings.
    pub fn get_audiences(&self) -> Result<Option<StrList<'a>>, JoseError> {
        self.get_str_or_array("aud")
    }

    /// A string at a path of member names.
    pub fn get_str_at(&self, path: &[&str]) -> Result<Option<&'a str>, JoseError> {
        self.at(path)?.map(|v| v.as_str()).transpose()
    }
}

#[derive(Clone, Copy, Debug)]
enum StrListInner<'a> {
    One(&'a str),
    /// An array of exactly one string, the usual `aud`: kept as the string, so that each
    /// test of the list does not walk the array's text again.
    OneInArray(&'a str),
    Many(JsonArray<'a>),
}

/// A claim that was a string or an array of strings, checked to hold only strings.
#[derive(Clone, Copy, Debug)]
pub struct StrList<'a>(StrListInner<'a>);

impl<'a> StrList<'a> {
    /// The strings in order (a single string yields itself).
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (one, many) = match self.0 {
            StrListInner::One(s) | StrListInner::OneInArray(s) => (Some(s), None),
            StrListInner::Many(a) => (None, Some(a.iter())),
        };
        one.into_iter()
            .chain(many.into_iter().flatten().filter_map(|v| v.as_str().ok()))
    }

    /// True when `s` is one of the strings (exact byte comparison).
    pub fn contains(&self, s: &str) -> bool {
        match self.0 {
            StrListInner::One(x) | StrListInner::OneInArray(x) => x == s,
            StrListInner::Many(_) => self.iter().any(|x| x == s),
        }
    }

    /// How many strings.
    pub fn len(&self) -> usize {
        match self.0 {
            StrListInner::One(_) | StrListInner::OneInArray(_) => 1,
            StrListInner::Many(_) => self.iter().count(),
        }
    }

    /// True when there are none (an empty array).
    pub fn is_empty(&self) -> bool {
        match self.0 {
            StrListInner::One(_) | StrListInner::OneInArray(_) => false,
            StrListInner::Many(_) => self.iter().next().is_none(),
        }
    }

    /// True when the claim was a single string rather than an array.
    pub fn is_single_string(&self) -> bool {
        matches!(self.0, StrListInner::One(_))
    }
}

/// A JWT NumericDate (RFC 7519 §2): whole seconds since the epoch, fraction truncated toward
/// zero (go-jose's behaviour). Negative values are allowed and lie in the past.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NumericDate(i64);

/// The value of `b` when it is all ASCII digits (at most 16 of them), else `None`. Eight
/// digits are converted at once (SWAR: pairs, then fours, then the eight, each one multiply),
/// which a ten-digit NumericDate would otherwise spend a chain of ten multiply-adds on.
fn small_integer(b: &[u8]) -> Option<i64> {
    let digit_fold = |v: i64, rest: &[u8]| {
        rest.iter().try_fold(v, |v, &d| {
            d.is_ascii_digit().then(|| v * 10 + i64::from(d - b'0'))
        })
    };
    if b.len() < 8 || b.len() > 16 {
        return if b.len() > 16 { None } else { digit_fold(0, b) };
    }
    let (other, t) = non_digits(word_at(b, 0));
    if other != 0 {
        return None;
    }
    // `t` holds the eight digit values, the first (most significant) in the low byte.
    let pairs = (t.wrapping_mul(10) + (t >> 8)) & 0x00ff_00ff_00ff_00ff;
    let fours = (pairs.wrapping_mul(100) + (pairs >> 16)) & 0x0000_ffff_0000_ffff;
    let eight = (fours.wrapping_mul(10_000) + (fours >> 32)) & 0xffff_ffff;
    digit_fold(i64::try_from(eight).ok()?, b.get(8..)?)
}

impl NumericDate {
    /// Parses the text of a JSON number exactly — no floating point, so `1e300` cannot
    /// saturate into "never expires" (Rust's `f64 as i64` would). Integers and finite
    /// decimals, with or without exponent, are accepted when within ±[`MAX_NUMERIC_DATE`];
    /// anything else is [`ClaimError::NumericDateOutOfRange`].
    pub fn parse(text: &str) -> Result<NumericDate, JoseError> {
        let err = || JoseError::Claim(ClaimError::NumericDateOutOfRange);
        let b = text.as_bytes();
        // The common case, a plain non-negative integer of at most 12 digits without a
        // leading zero (within MAX_NUMERIC_DATE's digits), read directly; everything else
        // takes the general path below.
        if (1..=12).contains(&b.len()) && (b.len() == 1 || b.first() != Some(&b'0')) {
            if let Some(v) = small_integer(b) {
                return if v <= MAX_NUMERIC_DATE {
                    Ok(NumericDate(v))
                } else {
                    Err(err())
                };
            }
        }
        let mut i = 0usize;
        let neg = b.first() == Some(&b'-');
        if neg {
            i += 1;
        }
        let int_start = i;
        while matches!(b.get(i), Some(b'0'..=b'9')) {
            i += 1;
        }
        let int_digits = b.get(int_start..i).ok_or_else(err)?;
        if int_digits.is_empty() || (int_digits.len() > 1 && int_digits.first() == Some(&b'0')) {
            return Err(err());
        }
        let mut frac_digits: &[u8] = &[];
        if b.get(i) == Some(&b'.') {
            i += 1;
            let s = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            frac_digits = b.get(s..i).ok_or_else(err)?;
            if frac_digits.is_empty() {
                return Err(err());
            }
        }
        let mut exp: i64 = 0;
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            let eneg = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let s = i;
            while let Some(&d @ b'0'..=b'9') = b.get(i) {
                // Saturate: any exponent beyond a billion is out of range either way.
                exp = exp
                    .saturating_mul(10)
                    .saturating_add(i64::from(d - b'0'))
                    .min(1 << 40);
                i += 1;
            }
            if i == s {
                return Err(err());
            }
            if eneg {
                exp = -exp;
            }
        }
        if i != b.len() {
            return Err(err());
        }
        // value = 0.D × 10^point, with D the significant digits.
        let digits = int_digits.iter().chain(frac_digits.iter()).copied();
        let lead = digits.clone().take_while(|&d| d == b'0').count();
        let point = i64::try_from(int_digits.len())
            .map_err(|_| err())?
            .saturating_add(exp)
            .saturating_sub(i64::try_from(lead).map_err(|_| err())?);
        let mut sig = digits.skip(lead).peekable();
        if sig.peek().is_none() || point <= 0 {
            return Ok(NumericDate(0)); // zero, or |value| < 1 truncates to 0
        }
        // MAX_NUMERIC_DATE has 12 digits; more integer digits are out of range.
        if point > 12 {
            return Err(err());
        }
        let mut v: i64 = 0;
        for _ in 0..point {
            let d = sig.next().unwrap_or(b'0');
            v = v * 10 + i64::from(d - b'0');
        }
        if v > MAX_NUMERIC_DATE {
            return Err(err());
        }
        Ok(NumericDate(if neg { -v } else { v }))
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// The instant as [`UnixTime`].
    pub const fn as_unix_time(self) -> UnixTime {
        UnixTime::from_secs(self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn same_name_compares_every_byte() {
        for len in 0..=40usize {
            let name: std::vec::Vec<u8> = (b'a'..=b'z').cycle().take(len).collect();
            assert!(same_name(&name, &name.clone()));
            assert!(!same_name(&name, &name[..len.saturating_sub(1)]) || len == 0);
            for i in 0..len {
                let mut other = name.clone();
                other[i] ^= 0x20;
                assert!(!same_name(&name, &other), "length {len}, byte {i}");
            }
        }
    }

    #[test]
    fn name_hash_reads_every_byte_of_a_name() {
        // Lengths around the half-word and word edges, where the reads overlap or stop.
        for len in 1..=40usize {
            let name: std::vec::Vec<u8> = (b'a'..=b'z').cycle().take(len).collect();
            for i in 0..len {
                let mut other = name.clone();
                other[i] ^= 0x01;
                assert_ne!(
                    name_hash(&name),
                    name_hash(&other),
                    "length {len}, byte {i}"
                );
            }
        }
        assert_ne!(name_hash(b""), name_hash(b"\0"));
    }

    #[test]
    fn digit_runs_and_small_integers_agree_with_byte_scans() {
        let naive_run =
            |t: &[u8], at: usize| t[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        let naive_int = |t: &[u8]| -> Option<i64> {
            if t.len() > 16 || !t.iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(t.iter().fold(0i64, |v, &d| v * 10 + i64::from(d - b'0')))
        };
        // Digits of every value at every place, and each neighbour of the digit range
        // ('/', ':', and bytes with the high bit) at every position, in texts of 0..=20 bytes.
        for len in 0..=20usize {
            let base: std::vec::Vec<u8> = (0..len).map(|i| b"9081726354"[i % 10]).collect();
            for pos in 0..=len {
                for b in [
                    None,
                    Some(b'/'),
                    Some(b':'),
                    Some(0xb0),
                    Some(0xb9),
                    Some(0u8),
                ] {
                    let mut t = base.clone();
                    if let (Some(b), Some(slot)) = (b, t.get_mut(pos)) {
                        *slot = b;
                    }
                    for at in 0..=len {
                        assert_eq!(digit_run(&t, at), naive_run(&t, at), "{t:?} at {at}");
                    }
                    assert_eq!(small_integer(&t), naive_int(&t), "{t:?}");
                }
            }
        }
        for v in [
            0i64,
            7,
            10,
            99_999_999,
            100_000_000,
            4_102_444_800,
            9_999_999_999_999_999,
        ] {
            let t = std::format!("{v}");
            assert_eq!(small_integer(t.as_bytes()), Some(v));
        }
    }

    fn with_doc<R>(text: &str, f: impl FnOnce(Result<JsonObject<'_>, JoseError>) -> R) -> R {
        let mut buf = [0u8; 4096];
        let mut s = Scratch::new(&mut buf);
        f(parse_object(text.as_bytes(), &mut s))
    }

    // Every lookup, rendered; nested objects by their own lookups.
    fn lookups(o: &JsonObject<'_>) -> std::vec::Vec<std::string::String> {
        const NAMES: [&str; 9] = ["iss", "sub", "aud", "k", "pod", "name", "uid", "x", "nbf"];
        let mut out = std::vec::Vec::new();
        for n in NAMES {
            let v = o.get(n);
            out.push(std::format!("{n}={v:?}"));
            if let Some(JsonValue::Object(inner)) = v {
                out.extend(lookups(&inner).into_iter().map(|l| std::format!("{n}.{l}")));
            }
        }
        out
    }

    #[test]
    fn indexed_lookups_match_walking_lookups_at_every_arena_size() {
        let text = br#" {"aud":["a","b"],"k":{"pod":{"name":"p\u0031","uid":"u"},"x":[{"uid":1}],
            "n\u0061me":"esc"},"iss":"https://i","sub":"s","nbf":12,"x":{}} "#;
        let mut big = [0u8; 4096];
        let mut s = Scratch::new(&mut big);
        let o = parse_object(text, &mut s).unwrap();
        assert!(o.index.is_some(), "no index with a large arena");
        let walked: std::vec::Vec<_> = {
            // The same lookups by walking, as without an index.
            let mut out = std::vec::Vec::new();
            fn walk(
                o: &JsonObject<'_>,
                prefix: &str,
                out: &mut std::vec::Vec<std::string::String>,
            ) {
                // Without its index, `members` walks the text.
                let o = JsonObject { index: None, ..*o };
                for n in ["iss", "sub", "aud", "k", "pod", "name", "uid", "x", "nbf"] {
                    let v = o.members().find(|(m, _)| *m == n).map(|(_, v)| v);
                    out.push(std::format!("{prefix}{n}={v:?}"));
                    if let Some(JsonValue::Object(inner)) = v {
                        walk(&inner, &std::format!("{prefix}{n}."), out);
                    }
                }
            }
            walk(&o, "", &mut out);
            out
        };
        assert_eq!(lookups(&o), walked);
        assert!(walked.iter().any(|l| l == "k.name=Some(String(\"esc\"))"));
        assert!(
            walked
                .iter()
                .any(|l| l == "k.pod.name=Some(String(\"p1\"))")
        );
        // Every member of every object, in order, through `members` (which reads an index
        // when there is one) against the text walk.
        fn all_members(o: &JsonObject<'_>, walk: bool) -> std::vec::Vec<std::string::String> {
            let o = if walk {
                JsonObject { index: None, ..*o }
            } else {
                *o
            };
            let mut out = std::vec::Vec::new();
            for (n, v) in o.members() {
                out.push(std::format!("{n}={v:?}"));
                if let JsonValue::Object(inner) = v {
                    let inner = all_members(&inner, walk);
                    out.extend(inner.into_iter().map(|l| std::format!("{n}.{l}")));
                }
            }
            out
        }
        let all_members_walked = all_members(&o, true);
        assert_eq!(all_members(&o, false), all_members_walked);
        assert_eq!(all_members_walked.len(), 11, "{all_members_walked:?}");
        let mut unindexed = 0;
        for size in 0..1024 {
            let mut buf = std::vec![0u8; size];
            let mut s = Scratch::new(&mut buf);
            let Ok(o) = parse_object(text, &mut s) else {
                continue;
            };
            if o.index.is_none() {
                unindexed += 1;
            }
            assert_eq!(lookups(&o), walked, "arena of {size} bytes");
            assert_eq!(
                all_members(&o, false),
                all_members_walked,
                "arena of {size} bytes"
            );
        }
        assert!(unindexed > 0, "no arena size left the top object unindexed");
    }

    #[test]
    fn numeric_dates_are_read_exactly() {
        let ok = |t: &str| NumericDate::parse(t).map(|d| d.as_secs());
        assert_eq!(ok("1300819380"), Ok(1_300_819_380));
        assert_eq!(ok("1.5"), Ok(1));
        assert_eq!(ok("-1.9"), Ok(-1));
        assert_eq!(ok("-0"), Ok(0));
        assert_eq!(ok("1E3"), Ok(1000));
        assert_eq!(ok("1.5e1"), Ok(15));
        assert_eq!(ok("12345e-2"), Ok(123));
        assert_eq!(ok("0.000e999999999999"), Ok(0));
        assert_eq!(ok("253402300799"), Ok(253_402_300_799));
        let bad = JoseError::Claim(ClaimError::NumericDateOutOfRange);
        for t in [
            "1e300",
            "9223372036854775808",
            "253402300800",
            "-1e13",
            "",
            "1.",
            "01",
            "+1",
        ] {
            assert_eq!(ok(t), Err(bad), "{t}");
        }
    }

    #[test]
    fn duplicates_are_found_among_many_members_whatever_the_hash_filter_holds() {
        // 150 distinct names set every bit of the per-object hash filter many times over, so
        // both the filter's "maybe" and its "no" are exercised; a repeat of any name at any
        // later place, in an outer or a nested object, is a duplicate, and no distinct name is.
        let names: std::vec::Vec<std::string::String> =
            (0..150).map(|i| std::format!("m{i}")).collect();
        let doc = |members: &[&str]| {
            let body: std::vec::Vec<std::string::String> =
                members.iter().map(|n| std::format!("\"{n}\":1")).collect();
            std::format!("{{{}}}", body.join(","))
        };
        let all: std::vec::Vec<&str> = names.iter().map(std::string::String::as_str).collect();
        let mut big = std::vec![0u8; 1 << 16];
        let text = doc(&all);
        assert!(parse_object(text.as_bytes(), &mut Scratch::new(&mut big)).is_ok());
        for (i, j) in [(0, 1), (0, 149), (63, 64), (64, 128), (148, 149), (7, 100)] {
            let mut m = all.clone();
            m.insert(j + 1, all[i]);
            for text in [doc(&m), std::format!("{{\"o\":{}}}", doc(&m))] {
                let r = parse_object(text.as_bytes(), &mut Scratch::new(&mut big));
                assert_eq!(
                    r.map(|_| ()),
                    Err(Malformed::DuplicateMember.into()),
                    "{i} {j}"
                );
            }
        }
    }

    #[test]
    fn string_lists_answer_alike_for_a_string_and_arrays_of_every_size() {
        let text = br#"{"s":"a","one":["a"],"two":["a","b"],"none":[],"bad":["a",1]}"#;
        let mut buf = [0u8; 1024];
        let o = parse_object(text, &mut Scratch::new(&mut buf)).unwrap();
        let list = |n: &str| o.get(n).unwrap().as_str_or_array();
        for (name, items, single) in [
            ("s", &["a"][..], true),
            ("one", &["a"][..], false),
            ("two", &["a", "b"][..], false),
            ("none", &[][..], false),
        ] {
            let l = list(name).unwrap();
            assert_eq!(l.iter().collect::<std::vec::Vec<_>>(), items, "{name}");
            assert_eq!(l.len(), items.len(), "{name}");
            assert_eq!(l.is_empty(), items.is_empty(), "{name}");
            assert_eq!(l.is_single_string(), single, "{name}");
            for probe in ["a", "b", "c", ""] {
                assert_eq!(l.contains(probe), items.contains(&probe), "{name} {probe}");
            }
        }
        assert_eq!(
            list("bad").map(|_| ()),
            Err(ClaimError::NonStringElement.into())
        );
    }

    #[test]
    fn escapes_and_duplicates() {
        with_doc(r#"{"a\u00e9":"x\ud83d\ude00","b":"plain"}"#, |o| {
            let o = o.unwrap();
            assert_eq!(o.get_str("aé"), Ok(Some("x\u{1F600}")));
            assert_eq!(o.get_str("b"), Ok(Some("plain")));
        });
        with_doc(r#"{"alg":"a","\u0061lg":"b"}"#, |o| {
            assert_eq!(o.map(|_| ()), Err(Malformed::DuplicateMember.into()));
        });
        with_doc(r#"{"a":"\ud800"}"#, |o| {
            assert_eq!(o.map(|_| ()), Err(Malformed::LoneSurrogate.into()));
        });
        with_doc(r#"{"a":"\u0000"}"#, |o| {
            assert_eq!(o.map(|_| ()), Err(Malformed::NulCharacter.into()));
        });
    }

    #[test]
    fn nested_lookup_and_types() {
        with_doc(
            r#"{"k":{"p":{"n":"x"}},"aud":["a","b"],"s":"c","e":true}"#,
            |o| {
                let o = o.unwrap();
                assert_eq!(o.get_str_at(&["k", "p", "n"]), Ok(Some("x")));
                assert_eq!(o.get_str_at(&["k", "q", "n"]), Ok(None));
                assert!(o.get_str_at(&["s", "x"]).is_err());
                let aud = o.get_audiences().unwrap().unwrap();
                assert_eq!(aud.len(), 2);
                assert!(aud.contains("b"));
                assert_eq!(o.get_bool("e"), Ok(Some(true)));
                assert!(o.get_str("e").is_err());
                assert_eq!(o.len(), 4);
            },
        );
    }
}
