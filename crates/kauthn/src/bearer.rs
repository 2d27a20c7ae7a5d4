//! Bearer token extraction from an `Authorization` header.
//!
//! Upstream: `k8s.io/apiserver/pkg/authentication/request/bearertoken/bearertoken.go`.

use crate::authenticator::{Context, Request, RequestAuthenticator, TokenAuthenticator, Verdict};
use crate::error::Error;
use crate::scratch::Scratch;
use crate::user::Response;

/// Upstream's warning for `Bearer  token` (two spaces), which yields no token.
pub const EXTRA_SPACE_WARNING: &str = "the provided Authorization header contains extra space before the bearer token, and is ignored";

/// What an `Authorization` header value holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BearerTokenRef<'a> {
    /// A bearer token.
    Token(&'a [u8]),
    /// No bearer token (empty value, another scheme, no token).
    Absent,
    /// `Bearer` followed by two spaces: no token, and upstream records
    /// [`EXTRA_SPACE_WARNING`].
    ExtraSpace,
}

/// Extracts the bearer token from an `Authorization` header value exactly as upstream does:
/// surrounding white space trimmed (Go's `strings.TrimSpace`), split on single ASCII spaces
/// into at most three parts, scheme matched case-insensitively, anything after the token
/// ignored.
pub fn extract_bearer_token(value: &[u8]) -> BearerTokenRef<'_> {
    let auth = trim_space(value);
    if auth.is_empty() {
        return BearerTokenRef::Absent;
    }
    let mut parts = auth.splitn(3, |b| *b == b' ');
    let scheme = parts.next().unwrap_or_default();
    let Some(token) = parts.next() else {
        return BearerTokenRef::Absent;
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return BearerTokenRef::Absent;
    }
    if token.is_empty() {
        return match parts.next() {
            Some(_) => BearerTokenRef::ExtraSpace,
            None => BearerTokenRef::Absent,
        };
    }
    BearerTokenRef::Token(token)
}

// Go's TrimSpace trims Unicode white space, decoding UTF-8 from each end and stopping at
// the first rune that is not white space; an invalid byte decodes to U+FFFD and stops it.
fn trim_space(v: &[u8]) -> &[u8] {
    let start = match v.utf8_chunks().next() {
        Some(chunk) => chunk.valid().len() - chunk.valid().trim_start().len(),
        None => 0,
    };
    let v = v.get(start..).unwrap_or_default();
    let end = match v.utf8_chunks().last() {
        Some(chunk) if chunk.invalid().is_empty() => {
            v.len() - (chunk.valid().len() - chunk.valid().trim_end().len())
        }
        _ => v.len(),
    };
    v.get(..end).unwrap_or_default()
}

/// A request authenticator that reads the `Authorization: Bearer` header and asks a token
/// authenticator (upstream `bearertoken.New`).
///
/// A token no strategy claims becomes the error `invalid bearer token`, so the chain never
/// falls through to anonymous with a bad credential. On success the caller should remove
/// the `Authorization` header before passing the request on, as upstream does.
#[derive(Clone, Debug)]
pub struct BearerToken<T> {
    inner: T,
}

impl<T> BearerToken<T> {
    /// Wraps a token authenticator.
    pub const fn new(inner: T) -> Self {
        BearerToken { inner }
    }
}

impl<T: TokenAuthenticator> RequestAuthenticator for BearerToken<T> {
    fn authenticate_request_into<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let Some(value) = req.header("Authorization") else {
            return Verdict::NotMine(None);
        };
        let token = match extract_bearer_token(value) {
            BearerTokenRef::Token(t) => t,
            BearerTokenRef::Absent => return Verdict::NotMine(None),
            BearerTokenRef::ExtraSpace => {
                return Verdict::NotMine(Some(Error::BearerTokenExtraSpace));
            }
        };
        match self.inner.authenticate_token_into(token, ctx, scratch, out) {
            Verdict::NotMine(_) => Verdict::rejected(Error::InvalidBearerToken),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_unicode_space_but_stops_at_invalid_utf8() {
        assert_eq!(trim_space(b" \t\xc2\xa0x y\xe3\x80\x80\n"), b"x y");
        assert_eq!(trim_space(b" \xffx \xff "), b"\xffx \xff");
        assert_eq!(trim_space(b"   "), b"");
    }
}
