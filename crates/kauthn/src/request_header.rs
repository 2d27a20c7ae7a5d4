//! The authenticating-proxy (front-proxy) authenticator: kube-apiserver's `--requestheader-*`
//! flags.
//!
//! Upstream: `k8s.io/apiserver/pkg/authentication/request/headerrequest/requestheader.go`
//! (headers), `pkg/authentication/request/x509/x509.go` (`Verifier`: the proxy's certificate
//! and the allowed names), `pkg/endpoints/filters/authentication.go` (which headers are
//! removed after success). Spec §5 and §2.2.
//!
//! # Steps (upstream's order)
//! 1. No client certificate: *not mine*. The proxy's chain is verified against the
//!    request-header CA pool — its own pool, not `--client-ca-file`'s — with clientAuth
//!    ([`crate::verify_client_chain`]); a failure is returned as the raw X.509 error, without
//!    the x509 authenticator's `verifying certificate … failed` wrapper.
//! 2. When allowed names are configured, the leaf's CN ([`crate::common_name`]) must be one
//!    of them, compared exactly: otherwise `x509: subject with cn=<cn> is not in the allowed
//!    list`. An empty list allows any certificate the pool verifies.
//! 3. Name: for each username header in flag order, the header's **first** value; the first
//!    non-empty one wins. None: *not mine*.
//! 4. UID: the same rule over the UID headers; `""` when none.
//! 5. Groups: every value of every group header, in flag order, empty values skipped, never
//!    split on commas.
//! 6. Extra: for each prefix in flag order, every header whose name starts with the prefix
//!    (ASCII case-insensitively), in request order: key = the rest of the name lowercased,
//!    then percent-decoded once (Go's `url.PathUnescape`; when an escape is invalid the
//!    lowercased key is kept as is); all values appended, empty ones included.
//!
//! Configured names are trimmed of surrounding whitespace, as upstream's constructor does;
//! an empty one is upstream's `empty header " "` error.
//!
//! # Headers to remove
//! The core does not change the request: after a success the caller removes the headers
//! upstream deletes. [`RequestHeaderAuthenticator::headers_to_strip`] lists the request's
//! configured username, UID and group headers and every header under an extra prefix
//! (upstream's `ClearAuthenticationHeaders`); [`strip_after_authentication`] is the whole
//! rule of kube-apiserver's filter, which after **any** successful authentication also
//! removes `Authorization` and the standard `X-Remote-User`, `X-Remote-Uid`,
//! `X-Remote-Group` and `X-Remote-Extra-*` headers.
//!
//! # Deviations from upstream
//! * Header values must be UTF-8 and free of NUL to become a name, UID, group or extra value,
//!   and a percent-decoded extra key must be UTF-8 and free of NUL; otherwise the request is
//!   rejected with a [`RequestHeaderError`] (Go passes the bytes on).
//! * Header names compare and lowercase as ASCII (HTTP header names are ASCII tokens; Go's
//!   `strings.ToLower` would also fold non-ASCII letters).
//! * Within one prefix, headers are read in request order (Go iterates its header map in
//!   an unspecified order).
//! * The proxy's CN in the allowed-names error is kept as a [`MessageExcerpt`] (its first
//!   bytes), since [`Error`] borrows nothing.
//! * Option validation (the standard-header warnings, the `X-Remote-Uid` requirement, the
//!   overlapping-CA check) belongs to the flag layer.

use core::fmt;

use crate::authenticator::{Context, Request, RequestAuthenticator, Verdict};
use crate::crypto::Verifier;
use crate::error::Error;
use crate::scratch::Scratch;
use crate::user::Response;
use crate::webhook::MessageExcerpt;
use crate::x509::{ClientCaPool, VerifyOptions, common_name, verify_client_chain};

/// The header names and prefixes, and the proxy names allowed (the `--requestheader-*`
/// string lists). Lists are tried in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestHeaderConfig<'c> {
    /// `--requestheader-username-headers`.
    pub username_headers: &'c [&'c str],
    /// `--requestheader-uid-headers`.
    pub uid_headers: &'c [&'c str],
    /// `--requestheader-group-headers`.
    pub group_headers: &'c [&'c str],
    /// `--requestheader-extra-headers-prefix`.
    pub extra_header_prefixes: &'c [&'c str],
    /// `--requestheader-allowed-names`: the proxy certificate CNs accepted; empty accepts
    /// any certificate the pool verifies.
    pub allowed_names: &'c [&'c str],
}

impl RequestHeaderConfig<'static> {
    /// The standard headers API aggregation relies on (`X-Remote-User`, `X-Remote-Uid`,
    /// `X-Remote-Group`, `X-Remote-Extra-`), with no name restriction. kube-apiserver's
    /// filter removes these after every successful authentication.
    pub const STANDARD: RequestHeaderConfig<'static> = RequestHeaderConfig {
        username_headers: &["X-Remote-User"],
        uid_headers: &["X-Remote-Uid"],
        group_headers: &["X-Remote-Group"],
        extra_header_prefixes: &["X-Remote-Extra-"],
        allowed_names: &[],
    };
}

/// A configured header name that is empty after trimming; displays upstream's
/// `empty header " "`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmptyHeaderName<'c>(pub &'c str);

impl fmt::Display for EmptyHeaderName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "empty header {:?}", self.0)
    }
}

impl core::error::Error for EmptyHeaderName<'_> {}

fn header_lists<'s, 'c>(c: &'s RequestHeaderConfig<'c>) -> impl Iterator<Item = &'c str> + 's {
    c.username_headers
        .iter()
        .chain(c.uid_headers)
        .chain(c.group_headers)
        .copied()
}

fn has_prefix_ignore_case(name: &str, prefix: &str) -> bool {
    name.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

impl<'c> RequestHeaderConfig<'c> {
    /// Upstream's constructor check: every configured header name and prefix must be
    /// non-empty after trimming whitespace.
    pub fn validate(&self) -> Result<(), EmptyHeaderName<'c>> {
        match header_lists(self)
            .chain(self.extra_header_prefixes.iter().copied())
            .find(|n| n.trim().is_empty())
        {
            Some(n) => Err(EmptyHeaderName(n)),
            None => Ok(()),
        }
    }

    /// True when a request header called `name` is one this configuration authenticates
    /// from: a username, UID or group header, or a name under an extra prefix (compared
    /// ASCII case-insensitively). Such headers are removed after success.
    /// Empty names and prefixes (which [`Self::validate`] refuses) match nothing.
    pub fn must_strip(&self, name: &str) -> bool {
        let configured = |h: &&str| !h.trim().is_empty();
        header_lists(self)
            .filter(configured)
            .any(|h| name.eq_ignore_ascii_case(h.trim()))
            || self
                .extra_header_prefixes
                .iter()
                .copied()
                .filter(configured)
                .any(|p| has_prefix_ignore_case(name, p.trim()))
    }
}

/// kube-apiserver's rule for the headers removed after **any** successful authentication
/// (`pkg/endpoints/filters/authentication.go`): `Authorization`, the
/// [standard](RequestHeaderConfig::STANDARD) front-proxy headers, and the configured ones
/// when request-header authentication is configured.
pub fn strip_after_authentication(
    name: &str,
    configured: Option<&RequestHeaderConfig<'_>>,
) -> bool {
    name.eq_ignore_ascii_case("Authorization")
        || RequestHeaderConfig::STANDARD.must_strip(name)
        || configured.is_some_and(|c| c.must_strip(name))
}

/// Why the request-header layer rejected a request. Values carry no header bytes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestHeaderError {
    /// The proxy certificate's CN is not in the allowed names (upstream's text; the CN is
    /// kept as an excerpt).
    NameNotAllowed(MessageExcerpt),
    /// A header value that would become part of the user is not UTF-8.
    NonUtf8Value(HeaderRole),
    /// A header value that would become part of the user contains NUL.
    NulInValue(HeaderRole),
    /// A percent-decoded extra key is not UTF-8 (`%ff`).
    NonUtf8ExtraKey,
    /// A percent-decoded extra key contains NUL (`%00`).
    NulInExtraKey,
}

/// Which configured header a value came from.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeaderRole {
    /// A username header.
    Username,
    /// A UID header.
    Uid,
    /// A group header.
    Group,
    /// An extra header.
    Extra,
}

impl fmt::Display for HeaderRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeaderRole::Username => "username",
            HeaderRole::Uid => "uid",
            HeaderRole::Group => "group",
            HeaderRole::Extra => "extra",
        })
    }
}

impl fmt::Display for RequestHeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestHeaderError::NameNotAllowed(cn) => {
                write!(f, "x509: subject with cn={cn} is not in the allowed list")
            }
            RequestHeaderError::NonUtf8Value(role) => {
                write!(f, "requestheader: {role} header value is not valid UTF-8")
            }
            RequestHeaderError::NulInValue(role) => {
                write!(
                    f,
                    "requestheader: {role} header value contains a NUL character"
                )
            }
            RequestHeaderError::NonUtf8ExtraKey => {
                f.write_str("requestheader: percent-decoded extra key is not valid UTF-8")
            }
            RequestHeaderError::NulInExtraKey => {
                f.write_str("requestheader: percent-decoded extra key contains a NUL character")
            }
        }
    }
}

impl core::error::Error for RequestHeaderError {}

impl From<RequestHeaderError> for Error {
    fn from(e: RequestHeaderError) -> Self {
        Error::RequestHeader(e)
    }
}

fn value_str(v: &[u8], role: HeaderRole) -> Result<&str, Error> {
    let s = core::str::from_utf8(v).map_err(|_| RequestHeaderError::NonUtf8Value(role))?;
    if s.contains('\0') {
        return Err(RequestHeaderError::NulInValue(role).into());
    }
    Ok(s)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Go's `url.PathUnescape` well-formedness: every `%` is followed by two hex digits.
fn escapes_are_valid(s: &[u8]) -> bool {
    let mut i = 0usize;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            let ok = s.get(i + 1).copied().and_then(hex_value).is_some()
                && s.get(i + 2).copied().and_then(hex_value).is_some();
            if !ok {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// Upstream's `unescapeExtraKey(strings.ToLower(suffix))`, writing into `scratch` only when
/// the key changes.
pub(crate) fn extra_key<'a>(suffix: &'a str, scratch: &mut Scratch<'a>) -> Result<&'a str, Error> {
    let raw = suffix.as_bytes();
    let has_upper = raw.iter().any(u8::is_ascii_uppercase);
    let decode = raw.contains(&b'%') && escapes_are_valid(raw);
    if !has_upper && !decode {
        return Ok(suffix);
    }
    let out = scratch.alloc(raw.len())?;
    let mut n = 0usize;
    let mut i = 0usize;
    while let Some(&b) = raw.get(i) {
        let byte = match (decode && b == b'%', raw.get(i + 1), raw.get(i + 2)) {
            (true, Some(&h), Some(&l)) => {
                i += 3;
                (hex_value(h).unwrap_or(0) << 4) | hex_value(l).unwrap_or(0)
            }
            _ => {
                i += 1;
                b.to_ascii_lowercase()
            }
        };
        if let Some(slot) = out.get_mut(n) {
            *slot = byte;
        }
        n += 1;
    }
    let out: &'a [u8] = out.get(..n).unwrap_or_default();
    let key = core::str::from_utf8(out).map_err(|_| RequestHeaderError::NonUtf8ExtraKey)?;
    if key.contains('\0') {
        return Err(RequestHeaderError::NulInExtraKey.into());
    }
    Ok(key)
}

/// kube-apiserver's request-header authenticator: the proxy certificate check
/// (`x509.Verifier`) in front of the header authenticator (`headerrequest`). See the module
/// docs for the steps. Generic over the signature [`Verifier`].
#[derive(Clone, Debug)]
pub struct RequestHeaderAuthenticator<'c, 'p, V> {
    pool: ClientCaPool<'p>,
    verifier: V,
    options: VerifyOptions,
    config: RequestHeaderConfig<'c>,
}

impl<'c, 'p, V: Verifier> RequestHeaderAuthenticator<'c, 'p, V> {
    /// An authenticator trusting proxies whose certificates `pool`
    /// (`--requestheader-client-ca-file`) verifies for clientAuth. Fails when a configured
    /// header name is empty after trimming.
    pub fn new(
        pool: ClientCaPool<'p>,
        verifier: V,
        config: RequestHeaderConfig<'c>,
    ) -> Result<Self, EmptyHeaderName<'c>> {
        config.validate()?;
        Ok(RequestHeaderAuthenticator {
            pool,
            verifier,
            options: VerifyOptions::client_auth(),
            config,
        })
    }

    /// The same authenticator with other verification options.
    pub fn with_options(self, options: VerifyOptions) -> Self {
        RequestHeaderAuthenticator { options, ..self }
    }

    /// The configuration.
    pub fn config(&self) -> &RequestHeaderConfig<'c> {
        &self.config
    }

    /// True when the caller must remove a header called `name` after this authenticator
    /// succeeded ([`RequestHeaderConfig::must_strip`]).
    pub fn must_strip(&self, name: &str) -> bool {
        self.config.must_strip(name)
    }

    /// The names of the headers of `req` to remove after this authenticator succeeded, in
    /// request order (a name repeats when the header has several values).
    pub fn headers_to_strip<'s, 'r>(
        &'s self,
        req: &'s Request<'r>,
    ) -> impl Iterator<Item = &'r str> + 's {
        req.headers
            .iter()
            .filter(|h| self.config.must_strip(h.name))
            .map(|h| h.name)
    }

    /// The header step alone (upstream `headerrequest.New`), for an embedder that has
    /// already verified the proxy's certificate and name itself. Never call it on a request
    /// whose sender is not a verified proxy: the headers are taken on trust.
    pub fn authenticate_headers_into<'a>(
        &'a self,
        req: &Request<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        out.clear();
        match self.headers(req, scratch, out) {
            Ok(true) => Verdict::Authenticated,
            Ok(false) => {
                out.clear();
                Verdict::NotMine(None)
            }
            Err(e) => {
                out.clear();
                Verdict::rejected(e)
            }
        }
    }

    fn first_non_empty<'a>(
        req: &Request<'a>,
        names: &[&str],
        role: HeaderRole,
    ) -> Result<Option<&'a str>, Error> {
        for name in names {
            if let Some(v) = req.header(name.trim()) {
                if !v.is_empty() {
                    return value_str(v, role).map(Some);
                }
            }
        }
        Ok(None)
    }

    fn headers<'a>(
        &'a self,
        req: &Request<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Result<bool, Error> {
        let c = &self.config;
        let Some(name) = Self::first_non_empty(req, c.username_headers, HeaderRole::Username)?
        else {
            return Ok(false);
        };
        let user = &mut out.user;
        user.name = name;
        user.uid = Self::first_non_empty(req, c.uid_headers, HeaderRole::Uid)?.unwrap_or("");
        for h in c.group_headers {
            for v in req.header_values(h.trim()) {
                if !v.is_empty() {
                    user.groups.push(value_str(v, HeaderRole::Group)?)?;
                }
            }
        }
        for prefix in c.extra_header_prefixes {
            let prefix = prefix.trim();
            for h in req.headers {
                if !has_prefix_ignore_case(h.name, prefix) {
                    continue;
                }
                // The prefix matched byte for byte outside ASCII letters, so its end is a
                // character boundary of the name too.
                let Some(suffix) = h.name.get(prefix.len()..) else {
                    continue;
                };
                let value = value_str(h.value, HeaderRole::Extra)?;
                let key = extra_key(suffix, scratch)?;
                user.extra.push(key, value)?;
            }
        }
        Ok(true)
    }
}

impl<V: Verifier> RequestAuthenticator for RequestHeaderAuthenticator<'_, '_, V> {
    fn authenticate_request_into<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        out.clear();
        if req.client_chain.is_empty() {
            return Verdict::NotMine(None);
        }
        let leaf = match verify_client_chain(
            &self.pool,
            req.client_chain,
            ctx.now,
            &self.verifier,
            &self.options,
        ) {
            Ok(leaf) => leaf,
            Err(e) => return Verdict::rejected(Error::X509(e)),
        };
        if !self.config.allowed_names.is_empty() {
            let cn = match common_name(&leaf, scratch) {
                Ok(cn) => cn,
                Err(e) => return Verdict::rejected(e),
            };
            if !self.config.allowed_names.contains(&cn) {
                return Verdict::rejected(
                    RequestHeaderError::NameNotAllowed(MessageExcerpt::new(cn)).into(),
                );
            }
        }
        self.authenticate_headers_into(req, scratch, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Result<String, Error> {
        let mut buf = [0u8; 256];
        let mut scratch = Scratch::new(&mut buf);
        extra_key(s, &mut scratch).map(|k| k.to_owned())
    }

    extern crate std;
    use std::borrow::ToOwned;
    use std::string::String;

    #[test]
    fn extra_keys_are_lowercased_then_unescaped_once() {
        assert_eq!(key("Percent%20encoded").unwrap(), "percent encoded");
        assert_eq!(
            key("Almost%zzpercent%xxencoded").unwrap(),
            "almost%zzpercent%xxencoded"
        );
        assert_eq!(
            key("Example.com%2fpercent%2520encoded").unwrap(),
            "example.com/percent%20encoded"
        );
        assert_eq!(key("A%4A").unwrap(), "aJ");
        assert_eq!(key("trailing%4").unwrap(), "trailing%4");
        assert_eq!(key("%").unwrap(), "%");
        assert_eq!(key("plain").unwrap(), "plain");
    }

    #[test]
    fn decoded_keys_that_are_not_utf8_or_hold_nul_are_errors() {
        assert_eq!(
            key("bad%ff"),
            Err(Error::RequestHeader(RequestHeaderError::NonUtf8ExtraKey))
        );
        assert_eq!(
            key("nul%00"),
            Err(Error::RequestHeader(RequestHeaderError::NulInExtraKey))
        );
    }
}
