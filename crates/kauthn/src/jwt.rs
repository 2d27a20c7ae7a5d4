//! What the service-account and OIDC authenticators share: upstream's unverified issuer
//! pre-check, done so that the payload is decoded and parsed exactly once per call, and the
//! small claim readers with Go's `null` semantics.
//!
//! Upstream: `pkg/serviceaccount/jwt.go` (`jwtTokenAuthenticator.hasCorrectIssuer`) and
//! `plugin/pkg/authenticator/token/oidc/oidc.go` (`untrustedIssuer`).

use core::fmt;

use crate::error::Error;
use crate::jose::{self, JoseError, JsonObject, JsonValue, NumericDate};
use crate::scratch::Scratch;

/// Why an authenticator did not authenticate: a small stand-in for [`Verdict`]'s failure
/// variants (whose error aggregate is a few hundred bytes) on internal paths.
pub(crate) enum Fail {
    /// Upstream's "not mine", with the reason for logs.
    NotMine(Option<Error>),
    /// Upstream's error.
    Reject(Error),
}

impl From<Fail> for crate::authenticator::Verdict {
    fn from(f: Fail) -> Self {
        match f {
            Fail::NotMine(e) => crate::authenticator::Verdict::NotMine(e),
            Fail::Reject(e) => crate::authenticator::Verdict::rejected(e),
        }
    }
}

/// A compact token whose payload was decoded and parsed, with the issuer it claims. Nothing
/// in it is verified yet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peeked<'a> {
    /// The payload as a JSON object.
    pub(crate) claims: JsonObject<'a>,
    /// The `iss` member.
    pub(crate) iss: &'a str,
    /// The three segments, still base64url: header, payload, signature.
    pub(crate) segments: [&'a [u8]; 3],
}

/// Upstream's pre-check, in its order: a token whose trimmed text starts with `{` (the JWS
/// JSON serialization) is not a JWT; it must have exactly three `.`-separated parts; the
/// payload must be strict base64url of a JSON object whose `iss` is a string. Any failure is
/// "not mine" upstream, so it is returned as the reason for logs, never as a rejection.
///
/// Only the payload is decoded here (into `scratch`, and kept: the caller verifies and reads
/// the same bytes), so a token of another issuer costs one base64 pass and one JSON pass.
pub(crate) fn peek_issuer<'a>(
    token: &'a [u8],
    scratch: &mut Scratch<'a>,
) -> Result<Peeked<'a>, Option<Error>> {
    if token.len() > jose::MAX_TOKEN_LEN {
        return Err(Some(
            JoseError::LimitExceeded(jose::JoseLimit::TokenSize).into(),
        ));
    }
    if token.trim_ascii_start().first() == Some(&b'{') {
        return Err(Some(
            JoseError::Unsupported(jose::Unsupported::JsonSerialization).into(),
        ));
    }
    // Exactly three segments; the payload is the middle one.
    let segments = match jose::find_dots(token) {
        (2, [a, b]) => token
            .get(..a)
            .zip(token.get(a + 1..b))
            .zip(token.get(b + 1..))
            .map(|((h, p), s)| [h, p, s]),
        _ => None,
    }
    .ok_or(Some(JoseError::Malformed(jose::Malformed::Segments).into()))?;
    let [_, payload, _] = segments;
    let bytes = jose::decode_base64url(payload, scratch).map_err(|e| Some(e.into()))?;
    let claims = jose::parse_object(bytes, scratch).map_err(|e| Some(e.into()))?;
    match claims.get("iss") {
        Some(JsonValue::String(iss)) => Ok(Peeked {
            claims,
            iss,
            segments,
        }),
        _ => Err(None),
    }
}

/// A string member read as Go's `encoding/json` reads it into a `string` field: absent and
/// `null` are `""`, any other non-string type is an error.
#[inline(always)]
pub(crate) fn str_or_empty<'a>(obj: &JsonObject<'a>, name: &str) -> Result<&'a str, JoseError> {
    match obj.get(name) {
        None | Some(JsonValue::Null) => Ok(""),
        Some(v) => v.as_str(),
    }
}

/// An object member read into a Go pointer field: absent and `null` are `None`.
#[inline(always)]
pub(crate) fn object_or_none<'a>(
    obj: &JsonObject<'a>,
    name: &str,
) -> Result<Option<JsonObject<'a>>, JoseError> {
    match obj.get(name) {
        None | Some(JsonValue::Null) => Ok(None),
        Some(v) => v.as_object().map(Some),
    }
}

/// A NumericDate member read into a Go `*NumericDate` field: absent and `null` are `None`.
#[inline(always)]
pub(crate) fn date_or_none(
    obj: &JsonObject<'_>,
    name: &str,
) -> Result<Option<NumericDate>, JoseError> {
    match obj.get(name) {
        None | Some(JsonValue::Null) => Ok(None),
        Some(v) => v.as_numeric_date().map(Some),
    }
}

/// Go's `time.Time.String()` for a UTC instant: `2009-11-10 23:00:00 +0000 UTC`, the form
/// go-oidc prints in its expiry and not-before errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GoTime(pub(crate) i64);

impl fmt::Display for GoTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        // Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} +0000 UTC",
            secs / 3600,
            (secs % 3600) / 60,
            secs % 60
        )
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::GoTime;

    #[test]
    fn go_time_string_matches_go() {
        assert_eq!(
            GoTime(1_257_894_000).to_string(),
            "2009-11-10 23:00:00 +0000 UTC"
        );
        assert_eq!(GoTime(0).to_string(), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(GoTime(-1).to_string(), "1969-12-31 23:59:59 +0000 UTC");
    }
}
