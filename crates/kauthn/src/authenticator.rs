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
        Context {
            now,
            audiences: &[],
        }
    }

    /// The same context with `audiences`.
    pub const fn with_audiences(self, audiences: &'a [&'a str]) -> Self {
        Context {
            now: self.now,
            audiences,
        }
    }
}

/// The result of one authentication attempt, mirroring upstream's `(response, ok, err)`.
// The user is held inline (no heap), so the success variant is large by design.
#[allow(clippy::large_enum_variant)]
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

/// What an authentication concluded; on [`Verdict::Authenticated`] the user is in the
/// caller's [`Response`]. The three cases mirror upstream's `(response, ok, err)`.
// The aggregate is kept inline (no heap); a few hundred bytes by design.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Verdict {
    /// `ok = true`: the response the caller passed in holds the user.
    Authenticated,
    /// `ok = false, err = nil`; see [`Outcome::NotMine`].
    NotMine(Option<Error>),
    /// `ok = false, err != nil`.
    Rejected(Errors),
}

impl Verdict {
    /// A rejection with one error.
    pub fn rejected(e: Error) -> Self {
        Verdict::Rejected(Errors::one(e))
    }

    /// Pairs the verdict with the response it filled.
    pub fn into_outcome(self, response: Response<'_>) -> Outcome<'_> {
        match self {
            Verdict::Authenticated => Outcome::Authenticated(response),
            Verdict::NotMine(e) => Outcome::NotMine(e),
            Verdict::Rejected(e) => Outcome::Rejected(e),
        }
    }
}

/// A strategy that authenticates a bearer token (upstream `authenticator.Token`).
///
/// Implementors write the user into the caller's `out` (a user is several KiB inline, so
/// returning it through every layer of a chain would copy it again and again);
/// [`TokenAuthenticator::authenticate_token`] is the convenient form.
pub trait TokenAuthenticator {
    /// Authenticates `token`, writing the user into `out` on success (on any other verdict
    /// `out` holds nothing meaningful). Strings the strategy composes are written into
    /// `scratch`; the user borrows from `self`, `token` and `scratch`.
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict;

    /// Authenticates `token` and returns the outcome by value.
    fn authenticate_token<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
    ) -> Outcome<'a> {
        let mut out = Response::default();
        let v = self.authenticate_token_into(token, ctx, scratch, &mut out);
        v.into_outcome(out)
    }
}

/// Both authenticator traits for a pointer type to an authenticator (`&T`, `Box<T>`,
/// `Arc<T>`), so a union can hold authenticators however the embedder owns them.
macro_rules! forward_authenticators {
    ($($ptr:ty),+) => {$(
        impl<T: TokenAuthenticator + ?Sized> TokenAuthenticator for $ptr {
            fn authenticate_token_into<'a>(
                &'a self,
                token: &'a [u8],
                ctx: &Context<'a>,
                scratch: &mut Scratch<'a>,
                out: &mut Response<'a>,
            ) -> Verdict {
                (**self).authenticate_token_into(token, ctx, scratch, out)
            }
        }

        impl<T: RequestAuthenticator + ?Sized> RequestAuthenticator for $ptr {
            fn authenticate_request_into<'a>(
                &'a self,
                req: &Request<'a>,
                ctx: &Context<'a>,
                scratch: &mut Scratch<'a>,
                out: &mut Response<'a>,
            ) -> Verdict {
                (**self).authenticate_request_into(req, ctx, scratch, out)
            }
        }
    )+};
}

forward_authenticators!(&T);
#[cfg(feature = "alloc")]
forward_authenticators!(alloc::boxed::Box<T>, alloc::sync::Arc<T>);

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
    /// Authenticates `req`, writing the user into `out` on success. See
    /// [`TokenAuthenticator::authenticate_token_into`].
    fn authenticate_request_into<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict;

    /// Authenticates `req` and returns the outcome by value.
    fn authenticate_request<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
    ) -> Outcome<'a> {
        let mut out = Response::default();
        let v = self.authenticate_request_into(req, ctx, scratch, &mut out);
        v.into_outcome(out)
    }
}
