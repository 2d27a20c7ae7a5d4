//! Bootstrap tokens (`--enable-bootstrap-token-auth`).
//!
//! Upstream: `plugin/pkg/auth/authenticator/token/bootstrap/bootstrap.go` and
//! `k8s.io/cluster-bootstrap` (`token/api`, `token/util`, `util/secrets`).
//!
//! The secret store is the embedder's (an informer cache, a directory of manifests, a
//! test table). It hands the Secret to a callback rather than returning a borrow, so a
//! store behind a lock or a swapped snapshot works; the few strings a user needs are
//! copied into the request's [`Scratch`].

use core::fmt;

use subtle::ConstantTimeEq;

use crate::authenticator::{Context, TokenAuthenticator, Verdict};
use crate::error::{Error, Limit};
use crate::scratch::Scratch;
use crate::time::UnixTime;
use crate::user::{MAX_GROUPS, Response};

/// The namespace bootstrap token Secrets live in.
pub const BOOTSTRAP_NAMESPACE: &str = "kube-system";
/// The prefix of a bootstrap token Secret's name.
pub const SECRET_NAME_PREFIX: &str = "bootstrap-token-";
/// The Secret type.
pub const SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
/// The user name prefix.
pub const USER_PREFIX: &str = "system:bootstrap:";
/// The group every bootstrap token user is in.
pub const DEFAULT_GROUP: &str = "system:bootstrappers";

const GROUP_PREFIX: &str = "system:bootstrappers:";
const MAX_GROUP_SUFFIX: usize = 256;

/// Why a bootstrap token was not accepted. Upstream logs these and answers "not mine".
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootstrapError {
    /// No Secret for the token id.
    SecretNotFound,
    /// The Secret's name or namespace is not the token's.
    WrongSecretName,
    /// The Secret has a deletion timestamp.
    Deleted,
    /// The Secret's type is wrong or it has no data.
    InvalidType,
    /// `token-secret` differs from the presented secret.
    InvalidSecret,
    /// `token-id` differs from the presented id.
    InvalidTokenId,
    /// `expiration` is in the past, at `now`, or unparseable.
    Expired,
    /// `usage-bootstrap-authentication` is not `true`.
    NotForAuthentication,
    /// An `auth-extra-groups` entry does not match the group pattern.
    InvalidExtraGroup,
}

impl fmt::Display for BootstrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BootstrapError::SecretNotFound => "no secret matches the bootstrap bearer token",
            BootstrapError::WrongSecretName => {
                "bootstrap token secret is not kube-system/bootstrap-token-<token id>"
            }
            BootstrapError::Deleted => "bootstrap token secret is deleted and awaiting removal",
            BootstrapError::InvalidType => {
                "bootstrap token secret has invalid type, expected bootstrap.kubernetes.io/token"
            }
            BootstrapError::InvalidSecret => {
                "bootstrap token secret has invalid value for key token-secret"
            }
            BootstrapError::InvalidTokenId => {
                "bootstrap token secret has invalid value for key token-id"
            }
            BootstrapError::Expired => "bootstrap token has expired",
            BootstrapError::NotForAuthentication => {
                "bootstrap token secret not marked usage-bootstrap-authentication=true"
            }
            BootstrapError::InvalidExtraGroup => {
                "bootstrap token secret has invalid value for key auth-extra-groups: bootstrap \
                 group is invalid (must match \\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z)"
            }
        })
    }
}

impl core::error::Error for BootstrapError {}

/// The store could not answer (anything but "not found"). Upstream returns such lister
/// errors as errors, not as "not mine".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupError;

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bootstrap token secret lookup failed")
    }
}

/// The parts of a bootstrap token Secret the authenticator reads. `data` values are the
/// decoded bytes (what `kubectl get secret -o yaml` shows base64-encoded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BootstrapSecret<'s> {
    /// `metadata.namespace`.
    pub namespace: &'s str,
    /// `metadata.name`.
    pub name: &'s str,
    /// `type`.
    pub type_: &'s str,
    /// `metadata.deletionTimestamp` is set.
    pub deleting: bool,
    /// `data` is present (upstream rejects a Secret whose data map is nil).
    pub has_data: bool,
    /// `data["token-id"]`.
    pub token_id: Option<&'s [u8]>,
    /// `data["token-secret"]`.
    pub token_secret: Option<&'s [u8]>,
    /// `data["expiration"]`, RFC 3339.
    pub expiration: Option<&'s [u8]>,
    /// `data["usage-bootstrap-authentication"]`.
    pub usage_bootstrap_authentication: Option<&'s [u8]>,
    /// `data["auth-extra-groups"]`, comma-separated.
    pub auth_extra_groups: Option<&'s [u8]>,
}

impl<'s> BootstrapSecret<'s> {
    /// Sets the field for a `data` key; unknown keys are ignored. Handy when walking a
    /// Secret's data map.
    pub fn set_data(&mut self, key: &str, value: &'s [u8]) {
        self.has_data = true;
        let field = match key {
            "token-id" => &mut self.token_id,
            "token-secret" => &mut self.token_secret,
            "expiration" => &mut self.expiration,
            "usage-bootstrap-authentication" => &mut self.usage_bootstrap_authentication,
            "auth-extra-groups" => &mut self.auth_extra_groups,
            _ => return,
        };
        *field = Some(value);
    }
}

/// Where bootstrap token Secrets come from.
pub trait BootstrapSecretStore {
    /// Finds the Secret `kube-system/bootstrap-token-<token_id>` and calls `f` with it.
    /// Returns `Ok(false)` when there is none, without calling `f`.
    fn with_secret(
        &self,
        token_id: &str,
        f: &mut dyn FnMut(&BootstrapSecret<'_>),
    ) -> Result<bool, LookupError>;
}

impl<T: BootstrapSecretStore + ?Sized> BootstrapSecretStore for &T {
    fn with_secret(
        &self,
        token_id: &str,
        f: &mut dyn FnMut(&BootstrapSecret<'_>),
    ) -> Result<bool, LookupError> {
        (**self).with_secret(token_id, f)
    }
}

#[cfg(feature = "alloc")]
impl<T: BootstrapSecretStore + ?Sized> BootstrapSecretStore for alloc::sync::Arc<T> {
    fn with_secret(
        &self,
        token_id: &str,
        f: &mut dyn FnMut(&BootstrapSecret<'_>),
    ) -> Result<bool, LookupError> {
        (**self).with_secret(token_id, f)
    }
}

impl BootstrapSecretStore for [BootstrapSecret<'_>] {
    fn with_secret(
        &self,
        token_id: &str,
        f: &mut dyn FnMut(&BootstrapSecret<'_>),
    ) -> Result<bool, LookupError> {
        match self
            .iter()
            .find(|s| parse_bootstrap_secret_name(s.name) == Some(token_id))
        {
            Some(s) => {
                f(s);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

fn is_id_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `\A[a-z0-9]{6}\z`.
pub fn is_valid_bootstrap_token_id(id: &[u8]) -> bool {
    id.len() == 6 && id.iter().all(|b| is_id_char(*b))
}

/// `\A([a-z0-9]{6})\.([a-z0-9]{16})\z`.
pub fn is_valid_bootstrap_token(token: &[u8]) -> bool {
    split_token(token).is_some()
}

fn split_token(token: &[u8]) -> Option<(&str, &[u8])> {
    if token.len() != 23 || token.get(6) != Some(&b'.') {
        return None;
    }
    let id = token.get(..6)?;
    let secret = token.get(7..)?;
    if !id.iter().chain(secret).all(|b| is_id_char(*b)) {
        return None;
    }
    Some((core::str::from_utf8(id).ok()?, secret))
}

/// The token id in a Secret name `bootstrap-token-<id>`, if the name is one.
pub fn parse_bootstrap_secret_name(name: &str) -> Option<&str> {
    name.strip_prefix(SECRET_NAME_PREFIX)
        .filter(|id| is_valid_bootstrap_token_id(id.as_bytes()))
}

/// `\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z`.
pub fn validate_bootstrap_group_name(group: &[u8]) -> bool {
    let Some(suffix) = group.strip_prefix(GROUP_PREFIX.as_bytes()) else {
        return false;
    };
    let Some((last, body)) = suffix.split_last() else {
        return false;
    };
    suffix.len() <= MAX_GROUP_SUFFIX
        && is_id_char(*last)
        && body
            .iter()
            .all(|b| is_id_char(*b) || *b == b':' || *b == b'-')
}

// Upstream `HasExpired`: absent or empty never expires; unparseable counts as expired; an
// expiry at exactly `now` is expired (`expiration - now <= 0`). On success, returns the
// first whole second at which the token is expired, for caches.
fn check_expiry(
    expiration: Option<&[u8]>,
    now: UnixTime,
) -> Result<Option<UnixTime>, BootstrapError> {
    let Some(exp) = expiration.filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    match UnixTime::parse_rfc3339(exp) {
        Err(_) => Err(BootstrapError::Expired),
        Ok((t, nanos)) if t < now || (t == now && nanos == 0) => Err(BootstrapError::Expired),
        Ok((t, nanos)) => Ok(Some(UnixTime::from_secs(
            t.as_secs().saturating_add(i64::from(nanos > 0)),
        ))),
    }
}

/// The bootstrap token authenticator over an embedder's Secret store.
#[derive(Clone, Debug)]
pub struct BootstrapTokenAuthenticator<S> {
    store: S,
}

impl<S: BootstrapSecretStore> BootstrapTokenAuthenticator<S> {
    /// An authenticator reading Secrets from `store`.
    pub const fn new(store: S) -> Self {
        BootstrapTokenAuthenticator { store }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }
}

fn check<'a>(
    secret: &BootstrapSecret<'_>,
    id: &'a str,
    presented: &[u8],
    now: UnixTime,
    scratch: &mut Scratch<'a>,
    out: &mut Response<'a>,
) -> Result<(), Error> {
    if secret.namespace != BOOTSTRAP_NAMESPACE
        || parse_bootstrap_secret_name(secret.name) != Some(id)
    {
        return Err(BootstrapError::WrongSecretName.into());
    }
    if secret.deleting {
        return Err(BootstrapError::Deleted.into());
    }
    if secret.type_ != SECRET_TYPE || !secret.has_data {
        return Err(BootstrapError::InvalidType.into());
    }
    // subtle's slice comparison returns early only on a length difference; the length of a
    // bootstrap secret (16) is public.
    let stored = secret.token_secret.unwrap_or_default();
    if !bool::from(stored.ct_eq(presented)) {
        return Err(BootstrapError::InvalidSecret.into());
    }
    if secret.token_id.unwrap_or_default() != id.as_bytes() {
        return Err(BootstrapError::InvalidTokenId.into());
    }
    let expires_at = check_expiry(secret.expiration, now)?;
    if secret.usage_bootstrap_authentication != Some(b"true".as_slice()) {
        return Err(BootstrapError::NotForAuthentication.into());
    }
    let mut extra: heapless::Vec<&[u8], MAX_GROUPS> = heapless::Vec::new();
    if let Some(list) = secret.auth_extra_groups.filter(|g| !g.is_empty()) {
        for g in list.split(|b| *b == b',') {
            if !validate_bootstrap_group_name(g) {
                return Err(BootstrapError::InvalidExtraGroup.into());
            }
            // One slot is kept for system:bootstrappers.
            if extra.len() + 1 >= MAX_GROUPS {
                return Err(Error::LimitExceeded(Limit::Groups));
            }
            extra
                .push(g)
                .map_err(|_| Error::LimitExceeded(Limit::Groups))?;
        }
    }
    // Upstream builds a set and lists it sorted by byte order; system:bootstrappers sorts
    // first because it is a prefix of every valid extra group.
    extra.sort_unstable();
    out.clear();
    let groups = &mut out.user.groups;
    groups.push(DEFAULT_GROUP)?;
    let mut prev: Option<&[u8]> = None;
    for g in extra {
        if prev == Some(g) {
            continue;
        }
        prev = Some(g);
        let g = core::str::from_utf8(g).map_err(|_| BootstrapError::InvalidExtraGroup)?;
        groups.push(scratch.copy_str(g)?)?;
    }
    out.user.name = scratch.concat(&[USER_PREFIX, id])?;
    out.expires_at = expires_at;
    Ok(())
}

impl<S: BootstrapSecretStore> TokenAuthenticator for BootstrapTokenAuthenticator<S> {
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let Some((id, secret)) = split_token(token) else {
            return Verdict::NotMine(None);
        };
        let mut result: Option<Result<(), Error>> = None;
        let found = self.store.with_secret(id, &mut |s| {
            result = Some(check(s, id, secret, ctx.now, scratch, out));
        });
        match (found, result) {
            (Err(LookupError), _) => Verdict::rejected(Error::BootstrapLookup),
            (Ok(_), Some(Ok(()))) => Verdict::Authenticated,
            (Ok(_), Some(Err(e))) => Verdict::NotMine(Some(e)),
            (Ok(_), None) => Verdict::NotMine(Some(BootstrapError::SecretNotFound.into())),
        }
    }
}
