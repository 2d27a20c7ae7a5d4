//! The two authenticator traits, their inputs and the outcome triple.
//!
//! Upstream: `k8s.io/apiserver/pkg/authentication/authenticator/interfaces.go`.

use crate::error::{Error, Errors};
use crate::scratch::Scratch;
use crate::time::UnixTime;
use crate::user::Response;

/// What every authentication is given besides the credential.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The current time; every expiry and validity check uses it.
    pub now: UnixTime,
    /// The audiences the server identifies as (kube-apiserver's `--api-audiences`, placed
    /// in the request context). Empty means the request carries no audiences.
    pub audiences: &'a [&'a str],
}

impl<'a> Context<'a> {
    /// A context at `now` with no audiences.
    pub const fn at(now: UnixTime) -> Self {
        Context { now, audiences: &[] }
    }

    /// The same context with `audiences`.
    pub const fn with_audiences(self, audiences: &'a [&'a str]) -> Self {
        Context { now: self.now, audiences }
    }
}

/// The result of one authentication attempt, mirroring upstream's `(response, ok, err)`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Outcome<'a> {
    /// `ok = true`: the credential identifies this user.
    Authenticated(Response<'a>),
    /// `ok = false, err = nil`: the credential is not this strategy's business, so the next
    /// one is tried. Upstream logs a reason for some of these (bootstrap tokens); it is kept
    /// here for the caller's logs and never changes the verdict.
    NotMine(Option<Error>),
    /// `ok = false, err != nil`: the credential is of this kind and invalid.
    Rejected(Errors),
}

impl<'a> Outcome<'a> {
    /// A rejection with one error.
    pub fn rejected(e: Error) -> Self {
        Outcome::Rejected(Errors::one(e))
    }

    /// The response, when authenticated.
    pub fn response(&self) -> Option<&Response<'a>> {
        match self {
            Outcome::Authenticated(r) => Some(r),
            _ => None,
        }
    }

    /// The response, when authenticated.
    pub fn into_response(self) -> Option<Response<'a>> {
        match self {
            Outcome::Authenticated(r) => Some(r),
            _ => None,
        }
    }

    /// True when authenticated.
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Outcome::Authenticated(_))
    }
}

/// A strategy that authenticates a bearer token (upstream `authenticator.Token`).
pub trait TokenAuthenticator {
    /// Authenticates `token`. Strings the strategy composes are written into `scratch`; the
    /// returned user borrows from `self`, `token` and `scratch`.
    fn authenticate_token<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
    ) -> Outcome<'a>;
}

impl<T: TokenAuthenticator + ?Sized> TokenAuthenticator for &T {
    fn authenticate_token<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
    ) -> Outcome<'a> {
        (**self).authenticate_token(token, ctx, scratch)
    }
}

/// One request header. Names compare case-insensitively; several entries with one name are
/// that header's values in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The header name.
    pub name: &'a str,
    /// The raw value bytes.
    pub value: &'a [u8],
}

/// What a request authenticator sees of an HTTP request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request<'a> {
    /// Every header, in the order received.
    pub headers: &'a [Header<'a>],
    /// The URL path, without the query (anonymous conditions compare it exactly).
    pub path: &'a str,
    /// The TLS client certificate chain as presented, DER, leaf first; empty when none.
    pub client_chain: &'a [&'a [u8]],
}

impl<'a> Request<'a> {
    /// The values of header `name`, in order (case-insensitive name match).
    pub fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// The first value of header `name` (Go's `Header.Get`).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.header_values(name).next()
    }
}

/// A strategy that authenticates a whole request (upstream `authenticator.Request`).
pub trait RequestAuthenticator {
    /// Authenticates `req`. See [`TokenAuthenticator::authenticate_token`] for `scratch`.
    fn authenticate_request<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
    ) -> Outcome<'a>;
}

impl<T: RequestAuthenticator + ?Sized> RequestAuthenticator for &T {
    fn authenticate_request<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
    ) -> Outcome<'a> {
        (**self).authenticate_request(req, ctx, scratch)
    }
}
