//! Static token file (`--token-auth-file`).
//!
//! Upstream: `k8s.io/apiserver/pkg/authentication/token/tokenfile/tokenfile.go`, parsed with
//! Go's `encoding/csv` at its defaults plus `FieldsPerRecord = -1`.
//!
//! # Layout and lookup
//! The table never copies the file: each [`Slot`] holds the SHA-256 of a token and the byte
//! offset of its record. Slots are grouped in buckets of four; a token may live
//! in one of two buckets chosen by two independent parts of its digest (bucketed cuckoo
//! hashing, at most half full). A lookup hashes the presented token and compares the full
//! digest of **every** slot of both buckets with `subtle` (no early exit, the match picked
//! with a constant-time select), then re-parses the one matching record — bounded by
//! [`MAX_RECORD_LEN`]. So every lookup, hit or miss, does the same eight comparisons whatever
//! the table's size or contents (an open-addressing probe chain would cost more for a token
//! that lands in a long cluster), and its time does not depend on where a guess differs from
//! a real token. Upstream uses a Go map (hash then `memcmp`); kubernetes/kubernetes#81126 and
//! PR #139153 track that timing leak.
//!
//! # Deviations from upstream, on purpose
//! * A NUL byte anywhere is a load error: C and Go callers of the C ABI would see a name
//!   truncated at the NUL (the CVE-2009-2408 pattern). Upstream accepts it.
//! * Invalid UTF-8 is a load error (upstream passes the bytes through into user names that
//!   later fail JSON encoding).
//! * A record longer than [`MAX_RECORD_LEN`], more than [`MAX_TOKENS`] tokens, or a group
//!   column with more than [`crate::MAX_GROUPS`] groups is a load error naming the limit.

use core::fmt;

use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::authenticator::{Context, TokenAuthenticator, Verdict};
use crate::error::{Error, Limit};
use crate::scratch::Scratch;
use crate::user::{MAX_GROUPS, Response, User};

/// Longest record, in bytes. Real token files have records well under 1 KiB; the bound keeps
/// the per-lookup re-parse of a record cheap and lets a 2 MiB garbage line fail at load.
pub const MAX_RECORD_LEN: usize = 64 * 1024;
/// Most tokens in one file: 16 Mi keeps the table within 1.3 GiB even at its largest and
/// record offsets within `u32`.
pub const MAX_TOKENS: usize = 1 << 24;
/// Largest file, so that record offsets fit the `u32` in a [`Slot`].
pub const MAX_FILE_LEN: usize = u32::MAX as usize;

/// One entry of the token table: the SHA-256 of a token and where its record starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    digest: [u8; 32],
    // `EMPTY` for a free slot: a record offset is below the file length, which is below
    // `u32::MAX` (`MAX_FILE_LEN`).
    record: u32,
}

const EMPTY: u32 = u32::MAX;

impl Default for Slot {
    fn default() -> Self {
        Slot {
            digest: [0; 32],
            record: EMPTY,
        }
    }
}

impl Slot {
    fn is_empty(&self) -> bool {
        self.record == EMPTY
    }
}

/// Slots per bucket of the token table. A lookup compares the slots of two buckets.
pub(crate) const BUCKET_SLOTS: usize = 4;

/// Evictions tried when both of a new token's buckets are full before the load gives up
/// (with [`TokenFileErrorKind::TableFull`]). At the table's half load this is not reached in
/// practice; the bound keeps a load on adversarially chosen tokens finite.
const MAX_KICKS: usize = 500;

/// What went wrong loading a token file.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFileErrorKind {
    /// A record has fewer than three columns (upstream's fatal error).
    TooFewColumns {
        /// How many columns the record has.
        found: usize,
    },
    /// Go `csv.ErrBareQuote`: a `"` inside an unquoted field.
    BareQuote,
    /// Go `csv.ErrQuote`: text after a closing quote, or a quote never closed.
    Quote,
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// A NUL byte (see the module docs for why this is refused).
    NulByte,
    /// A record longer than [`MAX_RECORD_LEN`].
    RecordTooLong,
    /// A group column with more than [`crate::MAX_GROUPS`] groups.
    TooManyGroups,
    /// More than [`MAX_TOKENS`] tokens, or a file larger than [`MAX_FILE_LEN`].
    TooManyTokens,
    /// The slot table given to [`TokenFile::parse_in`] is smaller than
    /// [`TokenFile::slots_needed`].
    TooFewSlots,
    /// No room for a token in either of its buckets after `MAX_KICKS` (500) evictions: only
    /// reachable with tokens chosen so that their digests collide.
    TableFull,
}

/// A token file load error with its position (1-based line and byte column, as Go reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenFileError {
    /// What went wrong.
    pub kind: TokenFileErrorKind,
    /// The line the record starts on.
    pub start_line: u32,
    /// The line of the error.
    pub line: u32,
    /// The byte column of the error.
    pub column: u32,
}

impl TokenFileError {
    /// The error with the file's path, as upstream words it
    /// (`token file '<path>' must have at least 3 columns …`).
    pub fn with_path<'p>(&'p self, path: &'p str) -> impl fmt::Display + 'p {
        WithPath {
            err: self,
            path: Some(path),
        }
    }

    /// The named limit behind this error, if it is one.
    pub fn limit(&self) -> Option<Limit> {
        match self.kind {
            TokenFileErrorKind::RecordTooLong => Some(Limit::TokenFileRecord),
            TokenFileErrorKind::TooManyGroups => Some(Limit::Groups),
            TokenFileErrorKind::TooManyTokens => Some(Limit::TokenFileTokens),
            TokenFileErrorKind::TooFewSlots => Some(Limit::TokenFileSlots),
            _ => None,
        }
    }
}

struct WithPath<'p> {
    err: &'p TokenFileError,
    path: Option<&'p str>,
}

impl fmt::Display for WithPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.err;
        let (line, col) = (e.line, e.column);
        let csv_error = |f: &mut fmt::Formatter<'_>, what: &str| {
            if e.start_line != e.line {
                write!(f, "record on line {}; ", e.start_line)?;
            }
            write!(f, "parse error on line {line}, column {col}: {what}")
        };
        match e.kind {
            TokenFileErrorKind::TooFewColumns { found } => {
                match self.path {
                    Some(p) => write!(f, "token file '{p}'")?,
                    None => f.write_str("token file")?,
                }
                write!(
                    f,
                    " must have at least 3 columns (token, user name, user uid), found {found} \
                     (line {line}, column {col})"
                )
            }
            TokenFileErrorKind::BareQuote => csv_error(f, "bare \" in non-quoted-field"),
            TokenFileErrorKind::Quote => csv_error(f, "extraneous or missing \" in quoted-field"),
            TokenFileErrorKind::InvalidUtf8 => {
                write!(f, "invalid UTF-8 on line {line}, column {col}")
            }
            TokenFileErrorKind::NulByte => write!(f, "NUL byte on line {line}, column {col}"),
            TokenFileErrorKind::RecordTooLong => write!(
                f,
                "record on line {} is longer than {}",
                e.start_line,
                Limit::TokenFileRecord
            ),
            TokenFileErrorKind::TooManyGroups => write!(
                f,
                "record on line {} has more groups than {}",
                e.start_line,
                Limit::Groups
            ),
            TokenFileErrorKind::TooManyTokens => write!(
                f,
                "token file has more tokens than {} or is larger than 4 GiB (line {})",
                Limit::TokenFileTokens,
                e.start_line
            ),
            TokenFileErrorKind::TooFewSlots => write!(
                f,
                "token table too small at line {} (use TokenFile::slots_needed)",
                e.start_line
            ),
            TokenFileErrorKind::TableFull => write!(
                f,
                "no room in the token table for the token on line {}: too many tokens whose \
                 SHA-256 digests share table buckets",
                e.start_line
            ),
        }
    }
}

impl fmt::Display for TokenFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(
            &WithPath {
                err: self,
                path: None,
            },
            f,
        )
    }
}

impl core::error::Error for TokenFileError {}

// A field as a byte range of the file. Quoted fields cover the text between the quotes,
// which may still hold `""` and CRLF line breaks that Go's reader rewrites.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
    quoted: bool,
}

impl Span {
    fn raw<'c>(&self, csv: &'c [u8]) -> &'c [u8] {
        csv.get(self.start..self.end).unwrap_or_default()
    }

    fn needs_rewrite(&self, csv: &[u8]) -> bool {
        self.quoted && self.raw(csv).iter().any(|b| *b == b'"' || *b == b'\r')
    }

    // Calls `out` with the decoded field in pieces: `""` becomes `"`, CRLF becomes LF.
    fn decode(&self, csv: &[u8], mut out: impl FnMut(&[u8])) {
        let raw = self.raw(csv);
        if !self.quoted {
            out(raw);
            return;
        }
        let mut rest = raw;
        while let Some(i) = rest.iter().position(|b| *b == b'"' || *b == b'\r') {
            let (head, tail) = rest.split_at(i);
            out(head);
            match tail {
                [b'"', b'"', more @ ..] => {
                    out(b"\"");
                    rest = more;
                }
                [b'\r', b'\n', more @ ..] => {
                    out(b"\n");
                    rest = more;
                }
                [b, more @ ..] => {
                    out(core::slice::from_ref(b));
                    rest = more;
                }
                [] => rest = tail,
            }
        }
        out(rest);
    }

    fn decoded_len(&self, csv: &[u8]) -> usize {
        let mut n = 0;
        self.decode(csv, |p| n += p.len());
        n
    }
}

const MAX_KEPT_FIELDS: usize = 4;

#[derive(Debug, Default)]
struct Record {
    start: usize,
    start_line: u32,
    fields: [Span; MAX_KEPT_FIELDS],
    count: usize,
    // Position just after the record's last field, for the column-count error.
    end_line: u32,
    end_column: u32,
}

impl Record {
    fn field(&self, i: usize) -> Option<Span> {
        if i < self.count {
            self.fields.get(i).copied()
        } else {
            None
        }
    }
}

// Go's csv.Reader over the file, one record at a time.
struct Reader<'c> {
    csv: &'c [u8],
    pos: usize,
    line: u32,
}

struct Line {
    start: usize,
    // Content without the line break; CRLF and a CR before EOF are dropped as Go does.
    end: usize,
    newline: bool,
}

fn col(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'c> Reader<'c> {
    fn new(csv: &'c [u8], pos: usize) -> Self {
        Reader { csv, pos, line: 0 }
    }

    fn read_line(&mut self) -> Option<Line> {
        if self.pos >= self.csv.len() {
            return None;
        }
        let start = self.pos;
        let rest = self.csv.get(start..).unwrap_or_default();
        let (mut end, newline, next) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (start + i, true, start + i + 1),
            None => (self.csv.len(), false, self.csv.len()),
        };
        if end > start && self.csv.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        self.pos = next;
        self.line = self.line.saturating_add(1);
        Some(Line {
            start,
            end,
            newline,
        })
    }

    fn err(
        &self,
        kind: TokenFileErrorKind,
        start_line: u32,
        line: u32,
        column: usize,
    ) -> TokenFileError {
        TokenFileError {
            kind,
            start_line,
            line,
            column: col(column),
        }
    }

    // Go's readRecord: skip empty lines, then split fields with RFC 4180 quoting.
    fn next_record(&mut self) -> Result<Option<Record>, TokenFileError> {
        let mut line = loop {
            match self.read_line() {
                None => return Ok(None),
                Some(l) if l.start == l.end => continue,
                Some(l) => break l,
            }
        };
        let mut rec = Record {
            start: line.start,
            start_line: self.line,
            ..Record::default()
        };
        let mut at = line.start; // the unconsumed part of the line is at..line.end
        let mut column = 1usize;
        let push = |rec: &mut Record, span: Span| {
            if let Some(slot) = rec.fields.get_mut(rec.count) {
                *slot = span;
            }
            rec.count += 1;
        };
        loop {
            let rest = self.csv.get(at..line.end).unwrap_or_default();
            if rest.first() != Some(&b'"') {
                let i = rest.iter().position(|b| *b == b',');
                let field = rest.get(..i.unwrap_or(rest.len())).unwrap_or_default();
                if let Some(j) = field.iter().position(|b| *b == b'"') {
                    return Err(self.err(
                        TokenFileErrorKind::BareQuote,
                        rec.start_line,
                        self.line,
                        column + j,
                    ));
                }
                push(
                    &mut rec,
                    Span {
                        start: at,
                        end: at + field.len(),
                        quoted: false,
                    },
                );
                match i {
                    Some(i) => {
                        at += i + 1;
                        column += i + 1;
                    }
                    None => {
                        column += field.len();
                        break;
                    }
                }
            } else {
                at += 1;
                column += 1;
                let start = at;
                loop {
                    let rest = self.csv.get(at..line.end).unwrap_or_default();
                    if let Some(i) = rest.iter().position(|b| *b == b'"') {
                        let quote = at + i;
                        at = quote + 1;
                        column += i + 1;
                        match self.csv.get(at..line.end).unwrap_or_default().first() {
                            Some(b'"') => {
                                at += 1;
                                column += 1;
                            }
                            Some(b',') => {
                                push(
                                    &mut rec,
                                    Span {
                                        start,
                                        end: quote,
                                        quoted: true,
                                    },
                                );
                                at += 1;
                                column += 1;
                                break;
                            }
                            None => {
                                push(
                                    &mut rec,
                                    Span {
                                        start,
                                        end: quote,
                                        quoted: true,
                                    },
                                );
                                rec.end_line = self.line;
                                rec.end_column = col(column);
                                return self.finish(rec, line);
                            }
                            Some(_) => {
                                return Err(self.err(
                                    TokenFileErrorKind::Quote,
                                    rec.start_line,
                                    self.line,
                                    column - 1,
                                ));
                            }
                        }
                    } else if !rest.is_empty() || line.newline {
                        // The field runs on past this line; its break is part of the value.
                        column += rest.len() + usize::from(line.newline);
                        let err_line = self.line;
                        match self.read_line() {
                            Some(next) => {
                                line = next;
                                at = line.start;
                                column = 1;
                            }
                            None => {
                                return Err(self.err(
                                    TokenFileErrorKind::Quote,
                                    rec.start_line,
                                    err_line,
                                    column,
                                ));
                            }
                        }
                    } else {
                        return Err(self.err(
                            TokenFileErrorKind::Quote,
                            rec.start_line,
                            self.line,
                            column,
                        ));
                    }
                }
            }
        }
        rec.end_line = self.line;
        rec.end_column = col(column);
        self.finish(rec, line)
    }

    fn finish(&self, rec: Record, line: Line) -> Result<Option<Record>, TokenFileError> {
        let end = if line.newline { line.end + 1 } else { line.end };
        if end.saturating_sub(rec.start) > MAX_RECORD_LEN {
            return Err(self.err(
                TokenFileErrorKind::RecordTooLong,
                rec.start_line,
                rec.start_line,
                1,
            ));
        }
        Ok(Some(rec))
    }
}

fn position_of(csv: &[u8], offset: usize) -> (u32, usize) {
    let before = csv.get(..offset).unwrap_or_default();
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    (col(line), offset - line_start + 1)
}

fn check_bytes(csv: &[u8]) -> Result<(), TokenFileError> {
    let at = |kind, offset| {
        let (line, column) = position_of(csv, offset);
        TokenFileError {
            kind,
            start_line: line,
            line,
            column: col(column),
        }
    };
    if csv.len() > MAX_FILE_LEN {
        return Err(TokenFileError {
            kind: TokenFileErrorKind::TooManyTokens,
            start_line: 0,
            line: 0,
            column: 0,
        });
    }
    if let Err(e) = core::str::from_utf8(csv) {
        return Err(at(TokenFileErrorKind::InvalidUtf8, e.valid_up_to()));
    }
    if let Some(i) = csv.iter().position(|b| *b == 0) {
        return Err(at(TokenFileErrorKind::NulByte, i));
    }
    Ok(())
}

// The records that name a token, with their digest, in file order. Calls `f` for each.
fn for_each_token(
    csv: &[u8],
    mut f: impl FnMut(&Record, [u8; 32]) -> Result<(), TokenFileError>,
) -> Result<Stats, TokenFileError> {
    check_bytes(csv)?;
    let mut reader = Reader::new(csv, 0);
    let mut stats = Stats::default();
    while let Some(rec) = reader.next_record()? {
        if rec.count < 3 {
            return Err(TokenFileError {
                kind: TokenFileErrorKind::TooFewColumns { found: rec.count },
                start_line: rec.start_line,
                line: rec.end_line,
                column: rec.end_column,
            });
        }
        let token = rec.field(0).unwrap_or_default();
        if token.start == token.end {
            stats.empty_tokens += 1;
            continue;
        }
        if let Some(groups) = rec.field(3) {
            let mut commas = 0usize;
            groups.decode(csv, |p| commas += p.iter().filter(|b| **b == b',').count());
            if commas >= MAX_GROUPS {
                return Err(TokenFileError {
                    kind: TokenFileErrorKind::TooManyGroups,
                    start_line: rec.start_line,
                    line: rec.start_line,
                    column: 1,
                });
            }
        }
        stats.records += 1;
        if stats.records > MAX_TOKENS {
            return Err(TokenFileError {
                kind: TokenFileErrorKind::TooManyTokens,
                start_line: rec.start_line,
                line: rec.start_line,
                column: 1,
            });
        }
        let mut h = Sha256::new();
        token.decode(csv, |p| h.update(p));
        f(&rec, h.finalize().into())?;
    }
    Ok(stats)
}

#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    records: usize,
    empty_tokens: usize,
}

fn table_size(tokens: usize) -> usize {
    // At most half full, so cuckoo insertion almost never has to evict.
    tokens
        .saturating_mul(2)
        .max(2 * BUCKET_SLOTS)
        .next_power_of_two()
}

// The two buckets a digest may live in, from two independent 8-byte parts of it (the
// digest is uniform). `mask` is the bucket count minus one.
fn buckets_of(digest: &[u8; 32], mask: usize) -> (usize, usize) {
    let part = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(digest.get(at..at + 8).unwrap_or(&[0; 8]));
        // Truncation is fine: only the bits under `mask` are used.
        #[allow(clippy::cast_possible_truncation)]
        let v = u64::from_le_bytes(b) as usize;
        v & mask
    };
    let (first, second) = (part(0), part(8));
    if first == second && mask > 0 {
        (first, first ^ 1)
    } else {
        (first, second)
    }
}

// Zero exactly when the digests are equal. Word-wise and branch-free: `subtle`'s byte-slice
// `ct_eq` costs a barrier per byte, which made eight slot comparisons dearer than the SHA-256.
fn digest_difference(a: &[u8; 32], b: &[u8; 32]) -> u64 {
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_ne_bytes(w)
    };
    a.chunks_exact(8)
        .zip(b.chunks_exact(8))
        .fold(0, |d, (x, y)| d | (word(x) ^ word(y)))
}

fn bucket(table: &[Slot], b: usize) -> &[Slot] {
    table
        .get(b * BUCKET_SLOTS..(b + 1) * BUCKET_SLOTS)
        .unwrap_or_default()
}

fn bucket_mut(table: &mut [Slot], b: usize) -> &mut [Slot] {
    table
        .get_mut(b * BUCKET_SLOTS..(b + 1) * BUCKET_SLOTS)
        .unwrap_or_default()
}

// Puts the token in a free slot of bucket `b`; false when the bucket is full.
fn place(table: &mut [Slot], b: usize, digest: [u8; 32], record: u32) -> bool {
    match bucket_mut(table, b).iter_mut().find(|s| s.is_empty()) {
        Some(slot) => {
            *slot = Slot { digest, record };
            true
        }
        None => false,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Inserted {
    New,
    // Upstream lets the later record of a repeated token win.
    Replaced,
    Full,
}

// Inserts or, for a repeated token, replaces. `table.len()` is a power of two, at least
// one bucket.
fn insert(table: &mut [Slot], digest: [u8; 32], record: u32) -> Inserted {
    let mask = (table.len() / BUCKET_SLOTS).saturating_sub(1);
    let (b1, b2) = buckets_of(&digest, mask);
    for b in [b1, b2] {
        if let Some(slot) = bucket_mut(table, b)
            .iter_mut()
            .find(|s| !s.is_empty() && s.digest == digest)
        {
            slot.record = record;
            return Inserted::Replaced;
        }
    }
    if place(table, b1, digest, record) || place(table, b2, digest, record) {
        return Inserted::New;
    }
    // Both buckets full: evict a resident to its other bucket, and so on (cuckoo).
    let mut carried = Slot { digest, record };
    let mut b = b1;
    for kick in 0..MAX_KICKS {
        let Some(victim) = bucket_mut(table, b).get_mut(kick % BUCKET_SLOTS) else {
            break;
        };
        core::mem::swap(victim, &mut carried);
        let (x, y) = buckets_of(&carried.digest, mask);
        b = if b == x { y } else { x };
        if place(table, b, carried.digest, carried.record) {
            return Inserted::New;
        }
    }
    Inserted::Full
}

/// A loaded token file: the file's bytes `C` and its token table `S`.
///
/// Build one with [`TokenFile::parse_in`] (no heap: you supply the slot table) or, with the
/// `alloc` feature, [`OwnedTokenFile::parse`].
#[derive(Clone, Debug)]
pub struct TokenFile<C, S> {
    csv: C,
    slots: S,
    tokens: usize,
    duplicates: usize,
    empty_tokens: usize,
}

/// A token file that owns its bytes and table.
#[cfg(feature = "alloc")]
pub type OwnedTokenFile = TokenFile<alloc::vec::Vec<u8>, alloc::vec::Vec<Slot>>;

impl TokenFile<(), ()> {
    /// How many [`Slot`]s [`TokenFile::parse_in`] needs for this file; also validates it.
    pub fn slots_needed(csv: &[u8]) -> Result<usize, TokenFileError> {
        let stats = for_each_token(csv, |_, _| Ok(()))?;
        Ok(table_size(stats.records))
    }
}

// The largest power of two of slots that fits in `len`, if it holds a bucket.
fn usable_slots(len: usize) -> usize {
    let size = if len.is_power_of_two() {
        len
    } else {
        len.checked_next_power_of_two().map_or(0, |p| p / 2)
    };
    if size < BUCKET_SLOTS { 0 } else { size }
}

fn fill(csv: &[u8], slots: &mut [Slot]) -> Result<(usize, usize, usize), TokenFileError> {
    let size = usable_slots(slots.len());
    let table = slots.get_mut(..size).unwrap_or_default();
    table.fill(Slot::default());
    let (mut used, mut duplicates) = (0usize, 0usize);
    let stats = for_each_token(csv, |rec, digest| {
        let at = |kind| TokenFileError {
            kind,
            start_line: rec.start_line,
            line: rec.start_line,
            column: 1,
        };
        if (used + 1) * 2 > size {
            return Err(at(TokenFileErrorKind::TooFewSlots));
        }
        let offset = u32::try_from(rec.start).unwrap_or(EMPTY);
        match insert(table, digest, offset) {
            Inserted::New => used += 1,
            Inserted::Replaced => duplicates += 1,
            Inserted::Full => return Err(at(TokenFileErrorKind::TableFull)),
        }
        Ok(())
    })?;
    Ok((used, duplicates, stats.empty_tokens))
}

impl<'c> TokenFile<&'c [u8], &'c [Slot]> {
    /// Loads a token file without a heap, borrowing `csv` and using `slots` as the table
    /// (at least [`TokenFile::slots_needed`] of them).
    pub fn parse_in(csv: &'c [u8], slots: &'c mut [Slot]) -> Result<Self, TokenFileError> {
        let (tokens, duplicates, empty_tokens) = fill(csv, slots)?;
        let size = usable_slots(slots.len());
        let slots: &'c [Slot] = slots;
        Ok(TokenFile {
            csv,
            slots: slots.get(..size).unwrap_or_default(),
            tokens,
            duplicates,
            empty_tokens,
        })
    }
}

#[cfg(feature = "alloc")]
impl OwnedTokenFile {
    /// Loads a token file, taking ownership of its bytes.
    pub fn parse(csv: impl Into<alloc::vec::Vec<u8>>) -> Result<Self, TokenFileError> {
        let csv = csv.into();
        let mut slots = alloc::vec![Slot::default(); TokenFile::slots_needed(&csv)?];
        let (tokens, duplicates, empty_tokens) = fill(&csv, &mut slots)?;
        Ok(TokenFile {
            csv,
            slots,
            tokens,
            duplicates,
            empty_tokens,
        })
    }
}

impl<C: AsRef<[u8]>, S: AsRef<[Slot]>> TokenFile<C, S> {
    /// Distinct tokens in the table.
    pub fn len(&self) -> usize {
        self.tokens
    }

    /// True when the file named no token.
    pub fn is_empty(&self) -> bool {
        self.tokens == 0
    }

    /// Records whose token repeated an earlier one (upstream warns; the later one wins).
    pub fn duplicates(&self) -> usize {
        self.duplicates
    }

    /// Records with an empty token, which upstream skips with a warning.
    pub fn empty_tokens(&self) -> usize {
        self.empty_tokens
    }

    // The offset of the record for `token`: the same comparisons for every token, in
    // constant time.
    fn find(&self, token: &[u8]) -> Option<usize> {
        let slots = self.slots.as_ref();
        let mask = (slots.len() / BUCKET_SLOTS).checked_sub(1)?;
        let digest: [u8; 32] = Sha256::digest(token).into();
        let (b1, b2) = buckets_of(&digest, mask);
        let mut found = subtle::Choice::from(0);
        let mut record = 0u32;
        for b in [b1, b2] {
            for slot in bucket(slots, b) {
                // A free slot counts as a difference; one `subtle` barrier per slot.
                let free = u64::from(slot.record == EMPTY);
                let eq = (digest_difference(&slot.digest, &digest) | free).ct_eq(&0);
                record.conditional_assign(&slot.record, eq);
                found |= eq;
            }
        }
        if bool::from(found) {
            Some(record as usize)
        } else {
            None
        }
    }

    fn fill_user<'a>(
        &'a self,
        offset: usize,
        scratch: &mut Scratch<'a>,
        user: &mut User<'a>,
    ) -> Result<(), Error> {
        let csv = self.csv.as_ref();
        let rec = Reader::new(csv, offset)
            .next_record()
            .ok()
            .flatten()
            .filter(|r| r.start == offset)
            .ok_or(Error::TokenFileCorrupt)?;
        let field = |i: usize, scratch: &mut Scratch<'a>| -> Result<&'a str, Error> {
            let span = rec.field(i).ok_or(Error::TokenFileCorrupt)?;
            let bytes: &'a [u8] = if span.needs_rewrite(csv) {
                let out = scratch.alloc(span.decoded_len(csv))?;
                let mut at = 0;
                span.decode(csv, |p| {
                    if let Some(dst) = out.get_mut(at..at + p.len()) {
                        dst.copy_from_slice(p);
                    }
                    at += p.len();
                });
                out
            } else {
                span.raw(csv)
            };
            core::str::from_utf8(bytes).map_err(|_| Error::TokenFileCorrupt)
        };
        user.clear();
        user.name = field(1, scratch)?;
        user.uid = field(2, scratch)?;
        if rec.count >= 4 {
            for group in field(3, scratch)?.split(',') {
                user.groups.push(group)?;
            }
        }
        Ok(())
    }
}

impl<C: AsRef<[u8]>, S: AsRef<[Slot]>> TokenAuthenticator for TokenFile<C, S> {
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        _ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let Some(offset) = self.find(token) else {
            return Verdict::NotMine(None);
        };
        out.clear();
        match self.fill_user(offset, scratch, &mut out.user) {
            Ok(()) => Verdict::Authenticated,
            Err(e) => Verdict::rejected(e),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;

    fn load<'c>(
        csv: &'c [u8],
        slots: &'c mut [Slot],
    ) -> Result<TokenFile<&'c [u8], &'c [Slot]>, TokenFileError> {
        TokenFile::parse_in(csv, slots)
    }

    fn digest(n: u32) -> [u8; 32] {
        Sha256::digest(n.to_le_bytes()).into()
    }

    #[test]
    fn a_full_bucket_pair_is_an_error_and_repeats_replace() {
        // One bucket: both choices are the same four slots.
        let mut table = [Slot::default(); BUCKET_SLOTS];
        for n in 0..4 {
            assert_eq!(insert(&mut table, digest(n), n), Inserted::New);
        }
        assert_eq!(insert(&mut table, digest(2), 20), Inserted::Replaced);
        assert_eq!(insert(&mut table, digest(9), 9), Inserted::Full);
        assert!(
            table
                .iter()
                .any(|s| s.digest == digest(2) && s.record == 20)
        );
    }

    #[test]
    fn evicted_tokens_stay_findable_beyond_half_load() {
        // 60 tokens in 64 slots (far past the table's half-load ceiling) need
        // evictions; every token must still sit in one of its two buckets with its record.
        let mut table = [Slot::default(); 64];
        let mask = 64 / BUCKET_SLOTS - 1;
        let mut in_both_full = 0;
        for n in 0..60 {
            let (b1, b2) = buckets_of(&digest(n), mask);
            let full = |b: usize| table[b * 4..b * 4 + 4].iter().all(|s| !s.is_empty());
            if full(b1) && full(b2) {
                in_both_full += 1;
            }
            assert_eq!(insert(&mut table, digest(n), n), Inserted::New, "token {n}");
        }
        assert!(in_both_full > 0, "no insertion needed an eviction");
        for n in 0..60 {
            let (b1, b2) = buckets_of(&digest(n), mask);
            let hits = [b1, b2]
                .iter()
                .flat_map(|b| &table[b * BUCKET_SLOTS..(b + 1) * BUCKET_SLOTS])
                .filter(|s| s.digest == digest(n) && s.record == n)
                .count();
            assert_eq!(hits, 1, "token {n} lost or doubled after evictions");
        }
    }

    #[test]
    fn lookups_compare_two_buckets_whatever_the_table_size() {
        use core::fmt::Write as _;
        let mut csv = std::string::String::new();
        for n in 0..5000 {
            writeln!(csv, "tok{n},user{n},{n}").unwrap();
        }
        let mut slots =
            std::vec![Slot::default(); TokenFile::slots_needed(csv.as_bytes()).unwrap()];
        assert_eq!(slots.len(), 16384);
        let f = load(csv.as_bytes(), &mut slots).unwrap();
        assert_eq!(f.len(), 5000);
        for n in [0, 1, 2499, 4999] {
            let off = f.find(std::format!("tok{n}").as_bytes()).unwrap();
            assert!(csv[off..].starts_with(&std::format!("tok{n},")));
        }
        assert_eq!(f.find(b"tok5000"), None);
        assert_eq!(f.find(b""), None);
    }

    #[test]
    fn column_positions_match_go() {
        let mut slots = [Slot::default(); 8];
        let e = load(b"a\"b,u,i\n", &mut slots).unwrap_err();
        assert_eq!(
            e.to_string(),
            "parse error on line 1, column 2: bare \" in non-quoted-field"
        );
        let e = load(b"a,\"u\"x,i\n", &mut slots).unwrap_err();
        assert_eq!(
            e.to_string(),
            "parse error on line 1, column 5: extraneous or missing \" in quoted-field"
        );
        let e = load(b"a,\"bc", &mut slots).unwrap_err();
        assert_eq!(
            e.to_string(),
            "parse error on line 1, column 6: extraneous or missing \" in quoted-field"
        );
        let e = load(b"x,y,z\na,\"b\nc\"d,e\n", &mut slots).unwrap_err();
        assert_eq!(
            e.to_string(),
            "record on line 2; parse error on line 3, column 2: extraneous or missing \" in quoted-field"
        );
    }

    #[test]
    fn decoding_rewrites_doubled_quotes_and_crlf() {
        let csv = b"\"a\"\"b\r\nc\"";
        let span = Span {
            start: 1,
            end: csv.len() - 1,
            quoted: true,
        };
        let mut out = heapless::Vec::<u8, 16>::new();
        span.decode(csv, |p| out.extend_from_slice(p).unwrap());
        assert_eq!(out.as_slice(), b"a\"b\nc");
        assert_eq!(span.decoded_len(csv), 5);
    }
}
