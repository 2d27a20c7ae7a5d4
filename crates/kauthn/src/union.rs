//! Composition: unions, the audience-agnostic wrapper, group adders and anonymous.
//!
//! Upstream: `pkg/authentication/request/union`, `token/union`,
//! `authenticator/audagnostic.go`, `group/*.go`, `request/anonymous/anonymous.go`.

use core::marker::PhantomData;
use core::ops::Deref;

use crate::authenticator::{Context, Request, RequestAuthenticator, TokenAuthenticator, Verdict};
use crate::error::{Error, Errors};
use crate::scratch::Scratch;
use crate::user::{
    ANONYMOUS_USER, AUTHENTICATED_GROUP, Audiences, Response, UNAUTHENTICATED_GROUP,
};

// Upstream `union.New` / `NewFailOnError`: the first success wins and discards earlier
// errors; without fail-on-error every error is collected into one aggregate.
fn run_union<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    fail_on_error: bool,
    mut call: impl FnMut(&'a T) -> Verdict,
) -> Verdict {
    let mut errors = Errors::new();
    for item in items {
        match call(item) {
            Verdict::Authenticated => return Verdict::Authenticated,
            Verdict::Rejected(e) if fail_on_error => return Verdict::Rejected(e),
            Verdict::Rejected(e) => errors.extend(&e),
            Verdict::NotMine(_) => {}
        }
    }
    if errors.is_empty() {
        Verdict::NotMine(None)
    } else {
        Verdict::Rejected(errors)
    }
}

/// Tries token authenticators in order (upstream `token/union`).
///
/// `L` is any list that derefs to a slice: `&[&dyn TokenAuthenticator]` for no-heap
/// embedders, or a `Vec<Box<dyn TokenAuthenticator + Send + Sync>>`.
#[derive(Clone, Debug)]
pub struct TokenUnion<L, A> {
    list: L,
    fail_on_error: bool,
    // Names the element type so that `&'a Self` implies `A: 'a`.
    _element: PhantomData<fn() -> A>,
}

impl<L: Deref<Target = [A]>, A: TokenAuthenticator> TokenUnion<L, A> {
    /// Upstream `New`: every error is collected; the first success wins.
    pub const fn new(list: L) -> Self {
        TokenUnion {
            list,
            fail_on_error: false,
            _element: PhantomData,
        }
    }

    /// Upstream `NewFailOnError`: the first error is returned at once.
    pub const fn fail_on_error(list: L) -> Self {
        TokenUnion {
            list,
            fail_on_error: true,
            _element: PhantomData,
        }
    }
}

impl<L: Deref<Target = [A]>, A: TokenAuthenticator> TokenAuthenticator for TokenUnion<L, A> {
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        run_union(self.list.iter(), self.fail_on_error, |a| {
            a.authenticate_token_into(token, ctx, scratch, out)
        })
    }
}

/// Tries request authenticators in order (upstream `request/union`).
#[derive(Clone, Debug)]
pub struct RequestUnion<L, A> {
    list: L,
    fail_on_error: bool,
    // Names the element type so that `&'a Self` implies `A: 'a`.
    _element: PhantomData<fn() -> A>,
}

impl<L: Deref<Target = [A]>, A: RequestAuthenticator> RequestUnion<L, A> {
    /// Upstream `New`: every error is collected; the first success wins.
    pub const fn new(list: L) -> Self {
        RequestUnion {
            list,
            fail_on_error: false,
            _element: PhantomData,
        }
    }

    /// Upstream `NewFailOnError`: the first error is returned at once.
    pub const fn fail_on_error(list: L) -> Self {
        RequestUnion {
            list,
            fail_on_error: true,
            _element: PhantomData,
        }
    }
}

impl<L: Deref<Target = [A]>, A: RequestAuthenticator> RequestAuthenticator for RequestUnion<L, A> {
    fn authenticate_request_into<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        run_union(self.list.iter(), self.fail_on_error, |a| {
            a.authenticate_request_into(req, ctx, scratch, out)
        })
    }
}

/// Upstream's audience-agnostic wrapper (`WrapAudienceAgnosticToken`/`Request`) for
/// strategies whose credentials carry no audience (token file, bootstrap, front proxy).
///
/// With no request audiences the inner result passes unchanged. Otherwise the response is
/// given the request audiences that are also in `implicit` (the server's API audiences);
/// when none are, the inner strategy is not asked at all.
///
/// `L` is any list of strings: `&[&str]`, an array, or an owned `Vec<String>`.
#[derive(Clone, Debug)]
pub struct AudienceAgnostic<L, T, S = &'static str> {
    implicit: L,
    inner: T,
    _item: PhantomData<fn() -> S>,
}

impl<L: AsRef<[S]>, S: AsRef<str>, T> AudienceAgnostic<L, T, S> {
    /// Wraps `inner`, which must not return audiences itself.
    pub const fn new(implicit: L, inner: T) -> Self {
        AudienceAgnostic {
            implicit,
            inner,
            _item: PhantomData,
        }
    }

    fn wrap<'a>(
        &self,
        ctx: &Context<'a>,
        out: &mut Response<'a>,
        inner: impl FnOnce(&mut Response<'a>) -> Verdict,
    ) -> Verdict {
        if ctx.audiences.is_empty() {
            return inner(out);
        }
        let auds = match Audiences::intersect(self.implicit.as_ref(), ctx.audiences) {
            Ok(a) => a,
            Err(e) => return Verdict::rejected(e),
        };
        if auds.is_empty() {
            return Verdict::NotMine(None);
        }
        match inner(out) {
            Verdict::Authenticated => {
                if !out.audiences.is_empty() {
                    return Verdict::rejected(Error::AudienceAgnosticReturnedAudiences);
                }
                out.audiences = auds;
                Verdict::Authenticated
            }
            other => other,
        }
    }
}

impl<L: AsRef<[S]>, S: AsRef<str>, T: TokenAuthenticator> TokenAuthenticator
    for AudienceAgnostic<L, T, S>
{
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        self.wrap(ctx, out, |out| {
            self.inner.authenticate_token_into(token, ctx, scratch, out)
        })
    }
}

impl<L: AsRef<[S]>, S: AsRef<str>, T: RequestAuthenticator> RequestAuthenticator
    for AudienceAgnostic<L, T, S>
{
    fn authenticate_request_into<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        self.wrap(ctx, out, |out| {
            self.inner.authenticate_request_into(req, ctx, scratch, out)
        })
    }
}

/// Upstream `AuthenticatedGroupAdder`: appends `system:authenticated` last, unless the user
/// is anonymous or already in `system:authenticated` or `system:unauthenticated`.
#[derive(Clone, Debug)]
pub struct AuthenticatedGroupAdder<T> {
    inner: T,
}

impl<T> AuthenticatedGroupAdder<T> {
    /// Wraps `inner`.
    pub const fn new(inner: T) -> Self {
        AuthenticatedGroupAdder { inner }
    }

    /// Applies the rule to one response.
    pub fn add(r: &mut Response<'_>) -> Result<(), Error> {
        let u = &r.user;
        if u.name == ANONYMOUS_USER
            || u.groups.contains(AUTHENTICATED_GROUP)
            || u.groups.contains(UNAUTHENTICATED_GROUP)
        {
            return Ok(());
        }
        r.user.groups.push(AUTHENTICATED_GROUP)
    }
}

fn add_authenticated(v: Verdict, out: &mut Response<'_>) -> Verdict {
    match v {
        Verdict::Authenticated => match AuthenticatedGroupAdder::<()>::add(out) {
            Ok(()) => Verdict::Authenticated,
            Err(e) => Verdict::rejected(e),
        },
        other => other,
    }
}

impl<T: TokenAuthenticator> TokenAuthenticator for AuthenticatedGroupAdder<T> {
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let v = self.inner.authenticate_token_into(token, ctx, scratch, out);
        add_authenticated(v, out)
    }
}

impl<T: RequestAuthenticator> RequestAuthenticator for AuthenticatedGroupAdder<T> {
    fn authenticate_request_into<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let v = self.inner.authenticate_request_into(req, ctx, scratch, out);
        add_authenticated(v, out)
    }
}

/// Upstream `GroupAdder`/`TokenGroupAdder`: appends fixed groups after the user's own.
#[derive(Clone, Debug)]
pub struct GroupAdder<L, T, S = &'static str> {
    groups: L,
    inner: T,
    _item: PhantomData<fn() -> S>,
}

impl<L: AsRef<[S]>, S: AsRef<str>, T> GroupAdder<L, T, S> {
    /// Wraps `inner`, appending `groups` to every authenticated user.
    pub const fn new(groups: L, inner: T) -> Self {
        GroupAdder {
            groups,
            inner,
            _item: PhantomData,
        }
    }

    fn add<'a>(&'a self, v: Verdict, out: &mut Response<'a>) -> Verdict {
        if v != Verdict::Authenticated {
            return v;
        }
        for g in self.groups.as_ref() {
            if let Err(e) = out.user.groups.push(g.as_ref()) {
                return Verdict::rejected(e);
            }
        }
        Verdict::Authenticated
    }
}

impl<L: AsRef<[S]>, S: AsRef<str>, T: TokenAuthenticator> TokenAuthenticator
    for GroupAdder<L, T, S>
{
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let v = self.inner.authenticate_token_into(token, ctx, scratch, out);
        self.add(v, out)
    }
}

impl<L: AsRef<[S]>, S: AsRef<str>, T: RequestAuthenticator> RequestAuthenticator
    for GroupAdder<L, T, S>
{
    fn authenticate_request_into<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let v = self.inner.authenticate_request_into(req, ctx, scratch, out);
        self.add(v, out)
    }
}

/// The anonymous authenticator (upstream `request/anonymous`): `system:anonymous` in
/// `system:unauthenticated`, with the request's audiences.
///
/// With conditions, only requests whose path equals one of them exactly (case-sensitive,
/// no prefix or trailing-slash match) are anonymous; others are "not mine". Place it after
/// the other strategies in a fail-on-error union, as kube-apiserver does, so a bad
/// credential is an error rather than anonymous.
#[derive(Clone, Debug)]
pub struct Anonymous<L = &'static [&'static str], S = &'static str> {
    paths: L,
    _item: PhantomData<fn() -> S>,
}

impl Anonymous {
    /// Anonymous for every path.
    pub const fn new() -> Self {
        Anonymous {
            paths: &[],
            _item: PhantomData,
        }
    }
}

impl Default for Anonymous {
    fn default() -> Self {
        Anonymous::new()
    }
}

impl<L: AsRef<[S]>, S: AsRef<str>> Anonymous<L, S> {
    /// Anonymous only for these exact paths (`anonymous.conditions[].path`).
    pub const fn with_paths(paths: L) -> Self {
        Anonymous {
            paths,
            _item: PhantomData,
        }
    }
}

impl<L: AsRef<[S]>, S: AsRef<str>> RequestAuthenticator for Anonymous<L, S> {
    fn authenticate_request_into<'a>(
        &'a self,
        req: &Request<'a>,
        ctx: &Context<'a>,
        _scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let paths = self.paths.as_ref();
        if !paths.is_empty() && !paths.iter().any(|p| p.as_ref() == req.path) {
            return Verdict::NotMine(None);
        }
        out.clear();
        out.user.name = ANONYMOUS_USER;
        let built = out
            .user
            .groups
            .push(UNAUTHENTICATED_GROUP)
            .and_then(|()| ctx.audiences.iter().try_for_each(|a| out.audiences.push(a)));
        match built {
            Ok(()) => Verdict::Authenticated,
            Err(e) => Verdict::rejected(e),
        }
    }
}
