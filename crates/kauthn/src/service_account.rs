//! Service-account tokens: legacy (Secret-based, issuer `kubernetes/serviceaccount`) and
//! bound (TokenRequest / projected, issuer in `--service-account-issuer`).
//!
//! Upstream: `pkg/serviceaccount/jwt.go` (the generic `jwtTokenAuthenticator`),
//! `pkg/serviceaccount/legacy.go` (the legacy validator), `pkg/serviceaccount/claims.go` (the
//! bound validator) and `k8s.io/apiserver/pkg/authentication/serviceaccount/util.go`
//! (`UserInfo`, `SplitUsername`). kube-apiserver builds two authenticators, one per validator;
//! so does kauthn: [`ServiceAccountAuthenticator::legacy`] and
//! [`ServiceAccountAuthenticator::bound`].
//!
//! # One pass per token
//! The payload is decoded and parsed once ([`crate::jwt`]); a token whose unverified `iss` is
//! not one of this authenticator's issuers is "not mine" after that single pass. Then the
//! header and signature are decoded, the signature is verified with the key set
//! ([`KeySource`]: PEM keys from `--service-account-key-file` with upstream's key ids), and the
//! already-parsed claims are validated. Composed strings (the user name, the namespace group,
//! `JTI=<jti>`) go into the caller's [`Scratch`]; everything else borrows from the token's
//! decoded payload or the configuration. Nothing is allocated.
//!
//! # Error texts
//! [`ServiceAccountError`] displays upstream's messages with one difference: values that
//! upstream interpolates from the token or from the cluster (a UID, a namespace, the audience
//! lists) are left out, because kauthn's errors are `Copy` values that carry no token bytes.
//! `service account UID (sauid) does not match claim (sauidold)` is therefore
//! `service account UID does not match claim`.
//!
//! # Deliberate differences from upstream
//! * A bound token whose namespace is not a DNS-1123 label or whose service-account name is
//!   not a DNS-1123 subdomain is rejected ([`ServiceAccountError::InvalidName`]; attack C-7):
//!   upstream relies on the live lookup failing, and without a [`ServiceAccountLookup`]
//!   nothing else would stop `system:serviceaccount:a:b:c`.
//! * A token whose payload has a duplicate member is "not mine" (the pre-check cannot read
//!   its issuer); upstream's pre-check lets the last duplicate win and go-jose then rejects it.
//! * A malformed header (bad base64url or JSON) is "not mine", as upstream's `ParseSigned`
//!   failure is; a header that parses but is refused (`alg: none`, HMAC, `crit`, `zip`, a
//!   nested JWT) is a rejection, as go-jose's verification failure is.

use core::fmt;

use subtle::ConstantTimeEq;

use crate::authenticator::{Context, TokenAuthenticator, Verdict};
use crate::crypto::{RustCrypto, Verifier};
use crate::error::{Error, Limit};
use crate::jose::{
    self, AlgorithmSet, CanonicalHeaders, JoseError, JsonObject, KeySource, NumericDate, StrList,
    UnverifiedJws, signing_input, verify_signature,
};
use crate::jwt::{Fail, date_or_none, object_or_none, peek_issuer, str_or_empty};
use crate::scratch::Scratch;
use crate::time::UnixTime;
use crate::user::{CREDENTIAL_ID_KEY, MAX_AUDIENCES, Response};

/// The issuer of legacy (Secret-based) service-account tokens.
pub const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";
/// The user-name prefix of every service account.
pub const USER_PREFIX: &str = "system:serviceaccount:";
/// The group every service account is in.
pub const ALL_SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";
/// The prefix of the per-namespace group (`system:serviceaccounts:<ns>`).
pub const NAMESPACE_GROUP_PREFIX: &str = "system:serviceaccounts:";
/// Extra key of the pod a bound token is bound to.
pub const POD_NAME_KEY: &str = "authentication.kubernetes.io/pod-name";
/// Extra key of the bound pod's UID.
pub const POD_UID_KEY: &str = "authentication.kubernetes.io/pod-uid";
/// Extra key of the node a bound token is bound to (or whose pod it is bound to).
pub const NODE_NAME_KEY: &str = "authentication.kubernetes.io/node-name";
/// Extra key of the bound node's UID.
pub const NODE_UID_KEY: &str = "authentication.kubernetes.io/node-uid";
/// The Secret label that marks a legacy token invalid (any non-empty value).
pub const LEGACY_TOKEN_INVALID_SINCE_LABEL: &str = "kubernetes.io/legacy-token-invalid-since";
/// go-jose's `DefaultLeeway`: bound tokens' `nbf`, `exp` and `iat` are checked with this
/// much tolerance each way, and an object deleted less than this long ago still counts.
pub const LEEWAY_SECS: i64 = 60;
/// Most issuers one authenticator accepts (`--service-account-issuer` is repeatable; clusters
/// use one, or two while migrating).
pub const MAX_ISSUERS: usize = 16;

/// Why a service-account token was rejected. `Display` is upstream's text without the values
/// upstream interpolates (see the module docs).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceAccountError {
    /// The token names a `kid` no key has, or there are no keys (upstream's exact text).
    NoKeysFound,
    /// No key verified the signature (go-jose's text for a failed verification).
    InvalidSignature,
    /// No intersection between the token's audiences and the requested ones.
    InvalidAudience,
    /// `now + 60s < nbf`.
    NotValidYet,
    /// `now - 60s > exp`.
    Expired,
    /// `now + 60s < iat`.
    IssuedInTheFuture,
    /// Legacy: `sub` is empty.
    SubMissing,
    /// Legacy: the namespace claim is empty.
    NamespaceMissing,
    /// Legacy: the secret-name claim is empty.
    SecretNameMissing,
    /// Legacy: the service-account-name claim is empty.
    ServiceAccountNameMissing,
    /// Legacy: the service-account-UID claim is empty.
    ServiceAccountUidMissing,
    /// Legacy: `sub` is not `system:serviceaccount:<ns>:<name>` for the claimed namespace
    /// and name.
    SubInvalid,
    /// Legacy: the token's Secret is gone or being deleted.
    LegacyTokenInvalidated,
    /// Legacy: the Secret's `token` differs from the presented token.
    LegacyTokenMismatch,
    /// Legacy: the service account is being deleted.
    LegacyServiceAccountDeleted,
    /// Legacy: the service account's UID differs from the claim.
    LegacyServiceAccountUidMismatch,
    /// Legacy: the Secret carries `kubernetes.io/legacy-token-invalid-since`.
    LegacyTokenMarkedInvalid,
    /// The service account does not exist (upstream passes the getter's error through).
    ServiceAccountNotFound,
    /// Bound: the service account's UID differs from the claim.
    ServiceAccountUidMismatch,
    /// Bound: the service account was deleted more than 60 s ago.
    ServiceAccountDeleted,
    /// Bound: the Secret, pod or node the token is bound to is gone or was deleted.
    TokenInvalidated,
    /// Bound: the Secret's UID differs from the claim.
    SecretUidMismatch,
    /// Bound: the pod's UID differs from the claim.
    PodUidMismatch,
    /// Bound: the node's UID differs from the claim.
    NodeUidMismatch,
    /// The embedder's lookup failed for another reason than "not found".
    LookupFailed,
    /// Bound: the namespace or service-account name claim is not a valid Kubernetes name
    /// (kauthn hardening, see the module docs).
    InvalidName,
    /// More than [`MAX_ISSUERS`] issuers were configured.
    TooManyIssuers,
}

impl fmt::Display for ServiceAccountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ServiceAccountError as E;
        f.write_str(match self {
            E::NoKeysFound => "invalid signature, no keys found",
            E::InvalidSignature => "go-jose/go-jose: error in cryptographic primitive",
            E::InvalidAudience => "token audiences is invalid for the target audiences",
            E::NotValidYet => "service account token is not valid yet",
            E::Expired => "service account token has expired",
            E::IssuedInTheFuture => "service account token is issued in the future",
            E::SubMissing => "sub claim is missing",
            E::NamespaceMissing => "namespace claim is missing",
            E::SecretNameMissing => "secretName claim is missing",
            E::ServiceAccountNameMissing => "serviceAccountName claim is missing",
            E::ServiceAccountUidMissing => "serviceAccountUID claim is missing",
            E::SubInvalid => "sub claim is invalid",
            E::LegacyTokenInvalidated => "Token has been invalidated",
            E::LegacyTokenMismatch => "Token does not match server's copy",
            E::LegacyServiceAccountDeleted => "ServiceAccount has been deleted",
            E::LegacyServiceAccountUidMismatch => "ServiceAccount UID does not match claim",
            E::LegacyTokenMarkedInvalid => {
                "the token in secret for service account has been marked invalid. Use tokens \
                 from the TokenRequest API or manually created secret-based tokens, or remove \
                 the 'kubernetes.io/legacy-token-invalid-since' label from the secret to \
                 temporarily allow use of this token"
            }
            E::ServiceAccountNotFound => "serviceaccounts not found",
            E::ServiceAccountUidMismatch => "service account UID does not match claim",
            E::ServiceAccountDeleted => "service account has been deleted",
            E::TokenInvalidated => "service account token has been invalidated",
            E::SecretUidMismatch => "secret UID does not match service account secret ref claim",
            E::PodUidMismatch => "pod UID does not match service account pod ref claim",
            E::NodeUidMismatch => "node UID does not match service account node ref claim",
            E::LookupFailed => "service account token lookup failed",
            E::InvalidName => {
                "service account token namespace or name claim is not a valid Kubernetes name"
            }
            E::TooManyIssuers => "limit exceeded: MAX_ISSUERS (16)",
        })
    }
}

impl core::error::Error for ServiceAccountError {}

// ---------------------------------------------------------------------------------------
// Lookup (upstream `ServiceAccountTokenGetter`, `--service-account-lookup`)
// ---------------------------------------------------------------------------------------

/// The kind of object a token refers to.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A ServiceAccount (namespaced).
    ServiceAccount,
    /// A Secret (namespaced).
    Secret,
    /// A Pod (namespaced).
    Pod,
    /// A Node (cluster-scoped: the namespace is empty).
    Node,
}

/// The object a lookup asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectRef<'r> {
    /// What kind of object.
    pub kind: ObjectKind,
    /// Its namespace; empty for nodes.
    pub namespace: &'r str,
    /// Its name.
    pub name: &'r str,
}

/// What the authenticator needs to know about an object that exists. The authenticator, not
/// the embedder, compares UIDs and applies the deletion rules, so they stay upstream's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectMeta<'s> {
    /// `metadata.uid`.
    pub uid: &'s str,
    /// `metadata.deletionTimestamp`, when set.
    pub deletion_timestamp: Option<UnixTime>,
    /// Secrets only: `data["token"]` (decoded bytes), compared in constant time with a
    /// presented legacy token.
    pub token: Option<&'s [u8]>,
    /// Secrets only: the `kubernetes.io/legacy-token-invalid-since` label is present with a
    /// non-empty value.
    pub legacy_token_invalid: bool,
}

/// The lookup failed for another reason than "not found" (the store is unavailable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupFailed;

/// Confirms that the objects a token names still exist (upstream's
/// `ServiceAccountTokenGetter`; for legacy tokens, `--service-account-lookup`).
///
/// The store (an informer cache, a snapshot behind a lock, a test table) hands the object to
/// a callback rather than returning a borrow, so it can hold a lock for the call.
pub trait ServiceAccountLookup {
    /// False for [`NoLookup`]: no object is checked.
    fn enabled(&self) -> bool {
        true
    }

    /// Finds `object` and calls `f` with it. Returns `Ok(false)` without calling `f` when it
    /// does not exist.
    fn with_object(
        &self,
        object: &ObjectRef<'_>,
        f: &mut dyn FnMut(&ObjectMeta<'_>),
    ) -> Result<bool, LookupFailed>;
}

impl<T: ServiceAccountLookup + ?Sized> ServiceAccountLookup for &T {
    fn enabled(&self) -> bool {
        (**self).enabled()
    }

    fn with_object(
        &self,
        object: &ObjectRef<'_>,
        f: &mut dyn FnMut(&ObjectMeta<'_>),
    ) -> Result<bool, LookupFailed> {
        (**self).with_object(object, f)
    }
}

/// No lookup: tokens are accepted on signature and claims alone (`--service-account-lookup
/// =false` for legacy tokens; for bound tokens, an embedder without access to the cluster).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoLookup;

impl ServiceAccountLookup for NoLookup {
    fn enabled(&self) -> bool {
        false
    }

    fn with_object(
        &self,
        _: &ObjectRef<'_>,
        _: &mut dyn FnMut(&ObjectMeta<'_>),
    ) -> Result<bool, LookupFailed> {
        Ok(false)
    }
}

/// A fixed table of objects, for tests and static configurations.
impl ServiceAccountLookup for [(ObjectRef<'_>, ObjectMeta<'_>)] {
    fn with_object(
        &self,
        object: &ObjectRef<'_>,
        f: &mut dyn FnMut(&ObjectMeta<'_>),
    ) -> Result<bool, LookupFailed> {
        match self.iter().find(|(r, _)| r == object) {
            Some((_, meta)) => {
                f(meta);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// What a lookup found, reduced to the facts the validators need (no borrow of the store).
#[derive(Clone, Copy)]
struct Found {
    uid_matches: bool,
    deletion: Option<UnixTime>,
    token_matches: bool,
    legacy_token_invalid: bool,
}

fn lookup<L: ServiceAccountLookup + ?Sized>(
    l: &L,
    kind: ObjectKind,
    namespace: &str,
    name: &str,
    claimed_uid: &str,
    token: &[u8],
) -> Result<Option<Found>, LookupFailed> {
    let mut found = None;
    let object = ObjectRef {
        kind,
        namespace,
        name,
    };
    l.with_object(&object, &mut |m| {
        found = Some(Found {
            uid_matches: m.uid == claimed_uid,
            deletion: m.deletion_timestamp,
            // subtle returns early only on a length difference; a token's length is public.
            token_matches: m.token.is_some_and(|t| bool::from(t.ct_eq(token))),
            legacy_token_invalid: m.legacy_token_invalid,
        });
    })?;
    Ok(found)
}

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

fn is_label(s: &[u8], max: usize) -> bool {
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !s.is_empty()
        && s.len() <= max
        && s.first().is_some_and(alnum)
        && s.last().is_some_and(alnum)
        && s.iter().all(|b| alnum(b) || *b == b'-')
}

/// A DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 bytes): a valid namespace.
pub fn is_dns1123_label(s: &str) -> bool {
    is_label(s.as_bytes(), 63)
}

/// A DNS-1123 subdomain (dot-separated labels, at most 253 bytes): a valid service-account
/// name.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.as_bytes().split(|b| *b == b'.').all(|l| is_label(l, 253))
}

/// Upstream `SplitUsername`: `system:serviceaccount:<ns>:<name>` with a valid namespace and
/// name, else `None`.
pub fn split_username(username: &str) -> Option<(&str, &str)> {
    let (ns, name) = username_parts(username)?;
    if name.contains(':') || !is_dns1123_label(ns) || !is_dns1123_subdomain(name) {
        return None;
    }
    Some((ns, name))
}

/// The namespace and name of `system:serviceaccount:<ns>:<name>` (split at the first `:` after
/// the prefix), not validated.
fn username_parts(username: &str) -> Option<(&str, &str)> {
    username.strip_prefix(USER_PREFIX)?.split_once(':')
}

// ---------------------------------------------------------------------------------------
// The authenticator
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Legacy,
    Bound,
}

/// A service-account token authenticator: one issuer list, one key set, one validator
/// (legacy or bound), mirroring upstream's `JWTTokenAuthenticator`.
///
/// `S` is the string type of the configuration (`&str`, or `String` with `alloc`), `K` the
/// key set, `L` the optional [`ServiceAccountLookup`], `V` the signature backend.
#[derive(Clone, Debug)]
pub struct ServiceAccountAuthenticator<K, S = &'static str, L = NoLookup, V = RustCrypto> {
    mode: Mode,
    issuers: heapless::Vec<S, MAX_ISSUERS>,
    implicit_audiences: heapless::Vec<S, MAX_AUDIENCES>,
    keys: K,
    // The header segments kube-apiserver writes for these keys, so that a token carrying one
    // skips decoding and parsing it (see `jose::CanonicalHeaders`).
    headers: CanonicalHeaders,
    lookup: L,
    verifier: V,
}

impl<K: KeySource, S: AsRef<str>> ServiceAccountAuthenticator<K, S> {
    fn with_mode(
        mode: Mode,
        issuers: impl IntoIterator<Item = S>,
        api_audiences: impl IntoIterator<Item = S>,
        keys: K,
    ) -> Result<Self, Error> {
        let mut iss = heapless::Vec::new();
        for i in issuers {
            iss.push(i)
                .map_err(|_| sa(ServiceAccountError::TooManyIssuers))?;
        }
        let mut auds = heapless::Vec::new();
        for a in api_audiences {
            auds.push(a)
                .map_err(|_| Error::LimitExceeded(Limit::Audiences))?;
        }
        Ok(ServiceAccountAuthenticator {
            mode,
            issuers: iss,
            implicit_audiences: auds,
            headers: CanonicalHeaders::for_keys(&keys),
            keys,
            lookup: NoLookup,
            verifier: RustCrypto,
        })
    }

    /// The bound-token authenticator: `issuers` is `--service-account-issuer` (all are
    /// accepted; the first is the one kube-apiserver signs with), `api_audiences` is
    /// `--api-audiences` (kube-apiserver defaults it to the issuers), `keys` the public keys
    /// of `--service-account-key-file`.
    ///
    /// # Errors
    /// [`ServiceAccountError::TooManyIssuers`] or [`Limit::Audiences`] when a list is longer
    /// than its capacity.
    pub fn bound(
        issuers: impl IntoIterator<Item = S>,
        api_audiences: impl IntoIterator<Item = S>,
        keys: K,
    ) -> Result<Self, Error> {
        Self::with_mode(Mode::Bound, issuers, api_audiences, keys)
    }

    /// The legacy (Secret-based) token authenticator. kube-apiserver gives it the single
    /// issuer [`LEGACY_ISSUER`]; upstream's unit tests give it more.
    ///
    /// # Errors
    /// As [`ServiceAccountAuthenticator::bound`].
    pub fn legacy(
        issuers: impl IntoIterator<Item = S>,
        api_audiences: impl IntoIterator<Item = S>,
        keys: K,
    ) -> Result<Self, Error> {
        Self::with_mode(Mode::Legacy, issuers, api_audiences, keys)
    }
}

impl<K, S, L, V> ServiceAccountAuthenticator<K, S, L, V> {
    /// The same authenticator confirming objects through `lookup` (for legacy tokens this is
    /// `--service-account-lookup=true`).
    pub fn with_lookup<L2: ServiceAccountLookup>(
        self,
        lookup: L2,
    ) -> ServiceAccountAuthenticator<K, S, L2, V> {
        ServiceAccountAuthenticator {
            mode: self.mode,
            issuers: self.issuers,
            implicit_audiences: self.implicit_audiences,
            keys: self.keys,
            headers: self.headers,
            lookup,
            verifier: self.verifier,
        }
    }

    /// The same authenticator verifying signatures with another backend.
    pub fn with_verifier<V2: Verifier>(
        self,
        verifier: V2,
    ) -> ServiceAccountAuthenticator<K, S, L, V2> {
        ServiceAccountAuthenticator {
            mode: self.mode,
            issuers: self.issuers,
            implicit_audiences: self.implicit_audiences,
            keys: self.keys,
            headers: self.headers,
            lookup: self.lookup,
            verifier,
        }
    }

    /// The key set.
    pub fn keys(&self) -> &K {
        &self.keys
    }

    /// The key set, to replace keys in place. The header texts kube-apiserver writes for the
    /// keys were taken when this authenticator was built: tokens of keys added here are
    /// verified the same, with their headers decoded and parsed each time.
    pub fn keys_mut(&mut self) -> &mut K {
        &mut self.keys
    }
}

fn sa(e: ServiceAccountError) -> Error {
    Error::ServiceAccount(e)
}

/// Maps the JOSE layer's verification result onto upstream's texts.
fn verify_error(e: JoseError, no_keys: bool) -> Error {
    match e {
        JoseError::UnknownKid => sa(ServiceAccountError::NoKeysFound),
        JoseError::NoMatchingKey if no_keys => sa(ServiceAccountError::NoKeysFound),
        JoseError::BadSignature => sa(ServiceAccountError::InvalidSignature),
        e => e.into(),
    }
}

/// The identity a validator extracts, borrowed from the claims.
#[derive(Default)]
struct Info<'a> {
    namespace: &'a str,
    name: &'a str,
    uid: &'a str,
    pod_name: &'a str,
    pod_uid: &'a str,
    node_name: &'a str,
    node_uid: &'a str,
    jti: &'a str,
}

/// The registered claims go-jose's `jwt.Claims` decodes (`iss` was read by the issuer
/// pre-check), each read and type-checked once.
struct Public<'a> {
    sub: &'a str,
    aud: Option<StrList<'a>>,
    exp: Option<NumericDate>,
    nbf: Option<NumericDate>,
    iat: Option<NumericDate>,
    jti: &'a str,
}

impl<'a> Public<'a> {
    fn read(claims: &JsonObject<'a>) -> Result<Self, JoseError> {
        Ok(Public {
            sub: str_or_empty(claims, "sub")?,
            aud: claims.get("aud").map(|v| v.as_str_or_array()).transpose()?,
            exp: date_or_none(claims, "exp")?,
            nbf: date_or_none(claims, "nbf")?,
            iat: date_or_none(claims, "iat")?,
            jti: str_or_empty(claims, "jti")?,
        })
    }
}

struct Ref<'a> {
    name: &'a str,
    uid: &'a str,
}

#[inline(always)]
fn read_ref<'a>(obj: &JsonObject<'a>, member: &str) -> Result<Option<Ref<'a>>, JoseError> {
    object_or_none(obj, member)?
        .map(|o| {
            Ok(Ref {
                name: str_or_empty(&o, "name")?,
                uid: str_or_empty(&o, "uid")?,
            })
        })
        .transpose()
}

impl<K, S, L, V> ServiceAccountAuthenticator<K, S, L, V>
where
    K: KeySource,
    S: AsRef<str>,
    L: ServiceAccountLookup,
    V: Verifier,
{
    fn is_issuer(&self, iss: &str) -> bool {
        self.issuers.iter().any(|i| i.as_ref() == iss)
    }

    fn legacy_validate<'a>(
        &self,
        token: &[u8],
        claims: &JsonObject<'a>,
        sub: &'a str,
    ) -> Result<Info<'a>, Error> {
        let namespace = str_or_empty(claims, "kubernetes.io/serviceaccount/namespace")?;
        let secret = str_or_empty(claims, "kubernetes.io/serviceaccount/secret.name")?;
        let name = str_or_empty(claims, "kubernetes.io/serviceaccount/service-account.name")?;
        let uid = str_or_empty(claims, "kubernetes.io/serviceaccount/service-account.uid")?;
        use ServiceAccountError as E;
        let missing = [
            (sub, E::SubMissing),
            (namespace, E::NamespaceMissing),
            (secret, E::SecretNameMissing),
            (name, E::ServiceAccountNameMissing),
            (uid, E::ServiceAccountUidMissing),
        ];
        if let Some((_, e)) = missing.iter().find(|(v, _)| v.is_empty()) {
            return Err(sa(*e));
        }
        if split_username(sub) != Some((namespace, name)) {
            return Err(sa(E::SubInvalid));
        }
        if self.lookup.enabled() {
            let l = &self.lookup;
            let failed = |_| sa(E::LookupFailed);
            let s = lookup(l, ObjectKind::Secret, namespace, secret, "", token)
                .map_err(|_| sa(E::LegacyTokenInvalidated))?;
            let Some(s) = s.filter(|s| s.deletion.is_none()) else {
                return Err(sa(E::LegacyTokenInvalidated));
            };
            if !s.token_matches {
                return Err(sa(E::LegacyTokenMismatch));
            }
            let acct = lookup(l, ObjectKind::ServiceAccount, namespace, name, uid, token)
                .map_err(failed)?
                .ok_or(sa(E::ServiceAccountNotFound))?;
            if acct.deletion.is_some() {
                return Err(sa(E::LegacyServiceAccountDeleted));
            }
            if !acct.uid_matches {
                return Err(sa(E::LegacyServiceAccountUidMismatch));
            }
            if s.legacy_token_invalid {
                return Err(sa(E::LegacyTokenMarkedInvalid));
            }
        }
        Ok(Info {
            namespace,
            name,
            uid,
            ..Info::default()
        })
    }

    fn bound_validate<'a>(
        &self,
        token: &[u8],
        claims: &JsonObject<'a>,
        public: &Public<'a>,
        now: UnixTime,
    ) -> Result<Info<'a>, Error> {
        use ServiceAccountError as E;
        let now_s = now.as_secs();
        // go-jose's ValidateWithLeeway, in its order.
        if let Some(nbf) = public.nbf {
            if now_s.saturating_add(LEEWAY_SECS) < nbf.as_secs() {
                return Err(sa(E::NotValidYet));
            }
        }
        if let Some(exp) = public.exp {
            if now_s.saturating_sub(LEEWAY_SECS) > exp.as_secs() {
                return Err(sa(E::Expired));
            }
        }
        if let Some(iat) = public.iat {
            if now_s.saturating_add(LEEWAY_SECS) < iat.as_secs() {
                return Err(sa(E::IssuedInTheFuture));
            }
        }
        let k8s = object_or_none(claims, "kubernetes.io")?;
        let (namespace, sa_ref, pod, secret, node) = match &k8s {
            Some(k) => {
                // Type-checked like go-jose's decode, though only an audit annotation uses it.
                date_or_none(k, "warnafter")?;
                (
                    str_or_empty(k, "namespace")?,
                    read_ref(k, "serviceaccount")?,
                    read_ref(k, "pod")?,
                    read_ref(k, "secret")?,
                    read_ref(k, "node")?,
                )
            }
            None => ("", None, None, None, None),
        };
        let (name, uid) = sa_ref.map_or(("", ""), |r| (r.name, r.uid));
        if !is_dns1123_label(namespace) || !is_dns1123_subdomain(name) {
            return Err(sa(if self.lookup.enabled() {
                E::ServiceAccountNotFound
            } else {
                E::InvalidName
            }));
        }
        let mut info = Info {
            namespace,
            name,
            uid,
            jti: public.jti,
            ..Info::default()
        };
        if let Some(p) = &pod {
            (info.pod_name, info.pod_uid) = (p.name, p.uid);
        }
        if let Some(n) = &node {
            (info.node_name, info.node_uid) = (n.name, n.uid);
        }
        if !self.lookup.enabled() {
            return Ok(info);
        }
        // Objects deleted before now - 60 s are gone; one deleted exactly then still counts.
        let gone = |f: &Found| {
            f.deletion
                .is_some_and(|d| d.as_secs() < now_s - LEEWAY_SECS)
        };
        let l = &self.lookup;
        let acct = lookup(l, ObjectKind::ServiceAccount, namespace, name, uid, token)
            .map_err(|_| sa(E::LookupFailed))?
            .ok_or(sa(E::ServiceAccountNotFound))?;
        if !acct.uid_matches {
            return Err(sa(E::ServiceAccountUidMismatch));
        }
        if gone(&acct) {
            return Err(sa(E::ServiceAccountDeleted));
        }
        let check = |kind, ns, r: &Ref<'_>, mismatch| -> Result<(), Error> {
            let found = lookup(l, kind, ns, r.name, r.uid, token)
                .ok()
                .flatten()
                .ok_or(sa(E::TokenInvalidated))?;
            if !found.uid_matches {
                return Err(sa(mismatch));
            }
            if gone(&found) {
                return Err(sa(E::TokenInvalidated));
            }
            Ok(())
        };
        if let Some(s) = &secret {
            check(ObjectKind::Secret, namespace, s, E::SecretUidMismatch)?;
        }
        if let Some(p) = &pod {
            check(ObjectKind::Pod, namespace, p, E::PodUidMismatch)?;
        }
        // A node next to a pod is copied without a lookup (upstream's pod-node-info).
        if let (Some(n), None) = (&node, &pod) {
            check(ObjectKind::Node, "", n, E::NodeUidMismatch)?;
        }
        Ok(info)
    }

    fn authenticate<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Result<(), Fail> {
        let peeked = peek_issuer(token, scratch).map_err(Fail::NotMine)?;
        if !self.is_issuer(peeked.iss) {
            return Err(Fail::NotMine(None));
        }
        let [h64, p64, s64] = peeked.segments;
        // Errors in a token's shape say it is not a JWT this authenticator reads; the rest
        // reject it.
        let shape = |e: JoseError| match e {
            JoseError::Malformed(_) => Fail::NotMine(Some(e.into())),
            _ => Fail::Reject(e.into()),
        };
        let no_keys = self.keys.key_count() == 0;
        let verified = match self.headers.find(h64) {
            // The header kube-apiserver writes for one of the keys: its algorithm and kid
            // are known without decoding it (the same answer the parse below would give).
            Some((alg, kid)) => {
                let signature = jose::decode_base64url(s64, scratch).map_err(shape)?;
                let signing_input = signing_input(token, h64, p64).map_err(shape)?;
                verify_signature(
                    &self.keys,
                    AlgorithmSet::ALL,
                    &self.verifier,
                    alg,
                    Some(kid),
                    signing_input,
                    signature,
                )
            }
            None => UnverifiedJws::parse_segments(token, h64, p64, s64, scratch)
                .map_err(shape)?
                .verify(&self.keys, AlgorithmSet::ALL, &self.verifier),
        };
        verified.map_err(|e| Fail::Reject(verify_error(e, no_keys)))?;
        let r = Fail::Reject;
        let claims = peeked.claims;

        // Public claims are decoded (and so type-checked) as go-jose's jwt.Claims does, all
        // before the audience check, as upstream decodes them before it compares audiences.
        let public = Public::read(&claims).map_err(|e| r(e.into()))?;
        let token_auds = public.aud;

        out.clear();
        // Audiences: the token's, or the API's own for legacy tokens; intersected with the
        // request's (or the API's own when the request names none), in the request's order.
        let implicit = &self.implicit_audiences;
        let has_token_aud = |a: &str| match &token_auds {
            Some(list) if !list.is_empty() => list.contains(a),
            _ => implicit.iter().any(|i| i.as_ref() == a),
        };
        if ctx.audiences.is_empty() {
            for a in implicit.iter().map(AsRef::as_ref) {
                if has_token_aud(a) {
                    out.audiences.push(a).map_err(r)?;
                }
            }
        } else {
            for a in ctx.audiences {
                if has_token_aud(a) {
                    out.audiences.push(a).map_err(r)?;
                }
            }
        }
        if out.audiences.is_empty() && !implicit.is_empty() {
            return Err(r(sa(ServiceAccountError::InvalidAudience)));
        }

        let info = match self.mode {
            // Legacy tokens are issued without time claims; theirs were decoded, not checked.
            Mode::Legacy => self.legacy_validate(token, &claims, public.sub),
            Mode::Bound => self.bound_validate(token, &claims, &public, ctx.now),
        }
        .map_err(r)?;

        fill_user(&info, public.sub, scratch, out).map_err(r)?;
        // Valid while now - 60 <= exp: the first invalid second is exp + 61.
        if self.mode == Mode::Bound {
            out.expires_at = public
                .exp
                .map(|e| UnixTime::from_secs(e.as_secs().saturating_add(LEEWAY_SECS + 1)));
        }
        Ok(())
    }
}

/// Upstream `ServiceAccountInfo.UserInfo()`; `sub` is the token's subject.
fn fill_user<'a>(
    info: &Info<'a>,
    sub: &'a str,
    scratch: &mut Scratch<'a>,
    out: &mut Response<'a>,
) -> Result<(), Error> {
    let user = &mut out.user;
    // The name is `sub` itself whenever `sub` spells it (tokens kube-apiserver issues always
    // do; legacy tokens must): borrowed, not built again in the scratch arena. The namespace
    // and name were validated (no `:` in either), so equal parts mean equal strings.
    user.name = if username_parts(sub) == Some((info.namespace, info.name)) {
        sub
    } else {
        scratch.concat(&[USER_PREFIX, info.namespace, ":", info.name])?
    };
    user.uid = info.uid;
    user.groups.push(ALL_SERVICE_ACCOUNTS_GROUP)?;
    user.groups
        .push(scratch.concat(&[NAMESPACE_GROUP_PREFIX, info.namespace])?)?;
    if !info.pod_name.is_empty() && !info.pod_uid.is_empty() {
        user.extra.push(POD_NAME_KEY, info.pod_name)?;
        user.extra.push(POD_UID_KEY, info.pod_uid)?;
    }
    if !info.jti.is_empty() {
        user.extra
            .push(CREDENTIAL_ID_KEY, scratch.concat(&["JTI=", info.jti])?)?;
    }
    if !info.node_name.is_empty() {
        user.extra.push(NODE_NAME_KEY, info.node_name)?;
        if !info.node_uid.is_empty() {
            user.extra.push(NODE_UID_KEY, info.node_uid)?;
        }
    }
    Ok(())
}

impl<K, S, L, V> TokenAuthenticator for ServiceAccountAuthenticator<K, S, L, V>
where
    K: KeySource,
    S: AsRef<str>,
    L: ServiceAccountLookup,
    V: Verifier,
{
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        match self.authenticate(token, ctx, scratch, out) {
            Ok(()) => Verdict::Authenticated,
            Err(f) => f.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_split_like_upstream() {
        assert_eq!(
            split_username("system:serviceaccount:foo:bar"),
            Some(("foo", "bar"))
        );
        for bad in [
            "",
            "system:serviceaccount::bar",
            "system:serviceaccount:foo:",
            "system:serviceaccount:foo:bar:baz",
            "system:serviceaccount:foo :bar",
            "system:serviceaccount:foo:bar ",
            "system:serviceaccount:Foo:bar",
        ] {
            assert_eq!(split_username(bad), None, "{bad:?}");
        }
        assert!(is_dns1123_subdomain("a.b-c.d"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(!is_dns1123_label("a.b"));
    }
}
