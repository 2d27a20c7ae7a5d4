//! ASN.1 `UTCTime` / `GeneralizedTime` as certificates use them, and the RFC 3339 text Go
//! prints in validity errors.
//!
//! Why not `der`'s time types: they cannot represent instants before 1970, which Go accepts
//! (`UTCTime` covers 1950–2049), and the conversion here is a few lines.

use core::fmt;

use super::X509Error;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
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

/// The civil date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // Both are in range by construction (1..=31, 1..=12).
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
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

fn digits(bytes: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

/// Parses a DER `UTCTime` (`YYMMDDHHMMSSZ`, RFC 5280 §4.1.2.5.1: seconds and `Z` required,
/// `YY >= 50` means 19YY) or `GeneralizedTime` (`YYYYMMDDHHMMSSZ`, no fraction) into Unix
/// seconds. Anything else is malformed.
pub(crate) fn parse(tag: u8, bytes: &[u8]) -> Result<i64, X509Error> {
    const BAD: X509Error = X509Error::Malformed("x509: malformed validity time");
    let (year, rest) = match (tag, bytes.len()) {
        (super::reader::tag::UTC_TIME, 13) => {
            let yy = digits(bytes.get(..2).ok_or(BAD)?).ok_or(BAD)?;
            let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
            (year, bytes.get(2..).ok_or(BAD)?)
        }
        (super::reader::tag::GENERALIZED_TIME, 15) => (
            digits(bytes.get(..4).ok_or(BAD)?).ok_or(BAD)?,
            bytes.get(4..).ok_or(BAD)?,
        ),
        _ => return Err(BAD),
    };
    let (fields, z) = rest.split_at_checked(10).ok_or(BAD)?;
    if z != b"Z" {
        return Err(BAD);
    }
    let field = |i: usize| fields.get(i..i + 2).and_then(digits).ok_or(BAD);
    let (month, day, hour, min, sec) = (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    let year = i64::from(year);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return Err(BAD);
    }
    Ok(days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + min * 60 + sec))
}

/// Unix seconds printed as Go prints `time.Time.Format(time.RFC3339)` in UTC.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rfc3339(pub(crate) i64);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            (secs % 3600) / 60,
            secs % 60
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;
    use crate::x509::reader::tag;

    #[test]
    fn utc_time_pivots_at_1950() {
        assert_eq!(parse(tag::UTC_TIME, b"700101000001Z"), Ok(1));
        assert_eq!(parse(tag::UTC_TIME, b"491231235959Z"), Ok(2_524_607_999));
        assert_eq!(parse(tag::UTC_TIME, b"500101000000Z"), Ok(-631_152_000));
        assert_eq!(
            parse(tag::GENERALIZED_TIME, b"29690503000001Z"),
            Ok(31_536_000_001)
        );
    }

    #[test]
    fn non_conforming_times_are_malformed() {
        for (t, s) in [
            (tag::UTC_TIME, &b"7001010000Z"[..]),
            (tag::UTC_TIME, b"700101000000+0100"),
            (tag::UTC_TIME, b"700230000000Z"),
            (tag::UTC_TIME, b"700101240000Z"),
            (tag::UTC_TIME, b"700101000060Z"),
            (tag::GENERALIZED_TIME, b"20240301000000.5Z"),
            (tag::GENERALIZED_TIME, b"20240301000000"),
            (tag::OCTET_STRING, b"20240301000000Z"),
        ] {
            assert!(parse(t, s).is_err(), "{}", core::str::from_utf8(s).unwrap());
        }
    }

    #[test]
    fn rfc3339_matches_go() {
        assert_eq!(Rfc3339(4_102_444_800).to_string(), "2100-01-01T00:00:00Z");
        assert_eq!(Rfc3339(1_798_517_770).to_string(), "2026-12-29T04:16:10Z");
        assert_eq!(Rfc3339(-1).to_string(), "1969-12-31T23:59:59Z");
    }
}
