//! Unix time and RFC 3339 parsing with Go's `time.Parse(time.RFC3339, …)` semantics.
//!
//! The core reads no clock: every check takes `now` as a [`UnixTime`].

use core::fmt;

/// Seconds since the Unix epoch (UTC). Negative values are before 1970.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(i64);

impl UnixTime {
    /// The instant `secs` seconds after the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        UnixTime(secs)
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 timestamp as Go's `time.Parse(time.RFC3339, s)` does and returns
    /// the instant with its sub-second nanoseconds.
    pub fn parse_rfc3339(s: &[u8]) -> Result<(UnixTime, u32), TimeError> {
        parse_rfc3339(s)
    }
}

/// Why a timestamp did not parse.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// The text is not of the form `2006-01-02T15:04:05Z07:00`.
    Syntax,
    /// A field is out of range (month 13, February 30, hour 24, …).
    Range,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeError::Syntax => "timestamp is not RFC 3339 (2006-01-02T15:04:05Z07:00)",
            TimeError::Range => "timestamp field out of range",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TimeError {}

struct Cursor<'a> {
    rest: &'a [u8],
}

impl Cursor<'_> {
    fn byte(&mut self, b: u8) -> Result<(), TimeError> {
        match self.rest.split_first() {
            Some((&c, rest)) if c == b => {
                self.rest = rest;
                Ok(())
            }
            _ => Err(TimeError::Syntax),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn digit(&mut self) -> Option<u32> {
        match self.rest.split_first() {
            Some((&c, rest)) if c.is_ascii_digit() => {
                self.rest = rest;
                Some(u32::from(c - b'0'))
            }
            _ => None,
        }
    }

    fn fixed(&mut self, n: usize) -> Result<u32, TimeError> {
        let mut v = 0u32;
        for _ in 0..n {
            v = v * 10 + self.digit().ok_or(TimeError::Syntax)?;
        }
        Ok(v)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// Go tries a strict fast path, then its general layout parser, which additionally accepts a
// one-digit hour, `,` before the fraction and a zone hour of 24. Both are merged here.
fn parse_rfc3339(s: &[u8]) -> Result<(UnixTime, u32), TimeError> {
    let mut c = Cursor { rest: s };
    let year = i64::from(c.fixed(4)?);
    c.byte(b'-')?;
    let month = c.fixed(2)?;
    c.byte(b'-')?;
    let day = c.fixed(2)?;
    c.byte(b'T')?;
    let h1 = c.digit().ok_or(TimeError::Syntax)?;
    let hour = match c.digit() {
        Some(h2) => h1 * 10 + h2,
        None => h1,
    };
    c.byte(b':')?;
    let min = c.fixed(2)?;
    c.byte(b':')?;
    let sec = c.fixed(2)?;
    let mut nanos = 0u32;
    if matches!(c.peek(), Some(b'.' | b',')) {
        let save = c.rest;
        c.rest = c.rest.get(1..).unwrap_or_default();
        let mut digits = 0;
        while let Some(d) = c.digit() {
            if digits < 9 {
                nanos = nanos * 10 + d;
            }
            digits += 1;
        }
        if digits == 0 {
            c.rest = save;
        } else {
            for _ in digits..9 {
                nanos *= 10;
            }
        }
    }
    let offset: i64 = match c.rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let mut oc = Cursor { rest: &[*h1, *h2, *m1, *m2] };
            let oh = oc.fixed(2)?;
            let om = oc.fixed(2)?;
            if oh > 24 || om > 59 {
                return Err(TimeError::Range);
            }
            let off = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' { -off } else { off }
        }
        _ => return Err(TimeError::Syntax),
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return Err(TimeError::Range);
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + min * 60 + sec) - offset;
    Ok((UnixTime(secs), nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<(i64, u32), TimeError> {
        parse_rfc3339(s.as_bytes()).map(|(t, n)| (t.as_secs(), n))
    }

    #[test]
    fn parses_utc_and_offsets() {
        assert_eq!(p("1970-01-01T00:00:00Z"), Ok((0, 0)));
        assert_eq!(p("2009-11-10T23:00:00Z"), Ok((1_257_894_000, 0)));
        assert_eq!(p("2009-11-10T23:00:00+01:00"), Ok((1_257_890_400, 0)));
        assert_eq!(p("2009-11-10T23:00:00-01:30"), Ok((1_257_899_400, 0)));
        assert_eq!(p("2000-02-29T12:00:00.5Z"), Ok((951_825_600, 500_000_000)));
        assert_eq!(p("1969-12-31T23:59:59Z"), Ok((-1, 0)));
    }

    #[test]
    fn accepts_what_gos_general_parser_accepts() {
        assert_eq!(p("2009-11-10T3:00:00Z"), Ok((1_257_822_000, 0)));
        assert_eq!(p("2009-11-10T23:00:00,25Z"), Ok((1_257_894_000, 250_000_000)));
    }

    #[test]
    fn rejects_malformed_and_out_of_range() {
        for s in [
            "",
            "2009-11-10 23:00:00Z",
            "2009-11-10t23:00:00Z",
            "2009-11-10T23:00:00z",
            "2009-11-10T23:00:00",
            "2009-11-10T23:00:00+0100",
            "09-11-10T23:00:00Z",
            "2009-11-10T23:00:00Z ",
            "2009-11-10T23:00:00.Z",
        ] {
            assert_eq!(p(s), Err(TimeError::Syntax), "{s}");
        }
        for s in ["2009-13-10T23:00:00Z", "2009-02-29T23:00:00Z", "2009-11-10T24:00:00Z"] {
            assert_eq!(p(s), Err(TimeError::Range), "{s}");
        }
    }
}
