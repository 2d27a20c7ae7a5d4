//! OIDC / JWT authenticators: the `--oidc-*` flags and the `jwt` entries of
//! `AuthenticationConfiguration`, without CEL.
//!
//! Upstream: `k8s.io/apiserver/plugin/pkg/authenticator/token/oidc/oidc.go` (the
//! authenticator), `github.com/coreos/go-oidc` v2 `verify.go` (ID-token verification),
//! `pkg/kubeapiserver/options/authentication.go` (flags), `pkg/apis/apiserver` (the
//! configuration types and their validation, in [`config`] with `alloc`).
//!
//! # Shape
//! * [`JwtAuthenticator`] is one issuer: its URL, audiences, claim mappings and required
//!   claims, an [`AlgorithmSet`], and a [`JwksProvider`] for its keys. Several issuers are
//!   several authenticators in a [`TokenUnion`](crate::TokenUnion); each declines ("not
//!   mine") a token of another issuer after one pass over its payload.
//! * Keys come through [`JwksProvider`], so an embedder can replace them at runtime (the CLI
//!   refetches the JWKS; the C ABI swaps JWKS bytes): any [`KeySource`] is a fixed provider,
//!   and with `std`, [`SwappableKeys`] is a provider whose key set is replaced atomically.
//!   A provider with no keys yet answers "not initialized", as upstream does before
//!   discovery completes.
//! * With `alloc`, [`config`] holds the `AuthenticationConfiguration` model (serde-ready
//!   under `serde`), upstream's validation messages, the `--oidc-*` flag mapping, and the
//!   conversion into a [`JwtAuthenticator`]. Configurations that use CEL are rejected there.
//!
//! Per token nothing is allocated: claims are read from the decoded payload in the caller's
//! [`Scratch`], and prefixed names, prefixed groups and `JTI=<jti>` are composed there.
//!
//! # Time
//! go-oidc semantics: `exp` has **no** leeway (`exp < now` is expired, `exp == now` is not)
//! and a missing `exp` is expired; `nbf`, when present, has 60 s leeway; `iat` is decoded but
//! not checked. [`Response::expires_at`] is `exp + 1`, so a cached success never outlives
//! the token.
//!
//! # Error texts
//! [`OidcError`] displays upstream's messages. Values upstream interpolates but a `Copy`
//! error cannot carry are written `...`: configured values (claim names, audiences) and
//! token values (the audiences a token names, a claim's value). Configured values are filled
//! in by [`JwtAuthenticator::explain`].
//!
//! # Deliberate differences from upstream
//! * The signature is verified before any claim is checked (RFC 8725 §3.3; attack K-5);
//!   go-oidc checks audience and expiry first, so an expired token with a bad signature
//!   reports the signature here and the expiry upstream. Both reject.
//! * A NumericDate outside ±[`MAX_NUMERIC_DATE`](crate::jose::MAX_NUMERIC_DATE) is an
//!   unmarshal error (Go's float-to-int conversion would silently wrap it; attack C-3).
//! * Duplicate member names in the payload are refused by the JSON reader (so the token is
//!   "not mine": its issuer cannot be read unambiguously); Go's `encoding/json` keeps the
//!   last one.
//! * Distributed claims with an `endpoint` are not fetched (the core does no I/O):
//!   [`OidcError::DistributedClaimsUnsupported`]. The aggregated form is ignored, as upstream
//!   ignores it.
//! * No CEL: username, groups and uid mappings by claim and prefix; `claimValidationRules`
//!   by claim and required value; no extra mappings, no user validation rules.

#[cfg(feature = "alloc")]
pub mod config;

use core::fmt;

use crate::authenticator::{Context, TokenAuthenticator, Verdict};
use crate::crypto::{RustCrypto, Verifier};
use crate::error::{Error, Limit};
use crate::jose::{
    Algorithm, AlgorithmSet, ClaimError, JoseError, JsonObject, JsonType, JsonValue, KeySource,
    NumericDate, Unsupported, UnverifiedJws,
};
use crate::jwt::{Fail, GoTime, peek_issuer};
use crate::scratch::Scratch;
use crate::time::UnixTime;
use crate::user::{CREDENTIAL_ID_KEY, MAX_AUDIENCES, Response};

/// go-oidc's leeway for `nbf` (`exp` has none).
pub const NBF_LEEWAY_SECS: i64 = 60;
/// Most `claimValidationRules` (`--oidc-required-claim`) one authenticator holds; real
/// configurations use one or two.
pub const MAX_REQUIRED_CLAIMS: usize = 16;
/// Google's issuer as its ID tokens spell it; go-oidc reads it as `https://accounts.google.com`.
pub const GOOGLE_ISSUER_WITHOUT_SCHEME: &str = "accounts.google.com";
const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// Go's zero `time.Time` in Unix seconds, which go-oidc reports as the expiry of a token
/// without `exp`.
pub const GO_ZERO_TIME: i64 = -62_135_596_800;

/// A claim an error is about.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimUse {
    /// The username claim.
    Username,
    /// The groups claim.
    Groups,
    /// The uid claim.
    Uid,
    /// The required claim at this index of the configuration's rules.
    Required(u16),
}

/// Why an OIDC token was rejected. See the module docs for the texts.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OidcError {
    /// The key provider has no keys yet (upstream: discovery has not completed).
    NotInitialized,
    /// The compact JWS did not parse.
    MalformedJwt(JoseError),
    /// A registered claim has the wrong type (`aud`, `exp`, `iat`, `nbf`, `sub`,
    /// `_claim_names`, `_claim_sources`).
    UnmarshalClaims(JoseError),
    /// A `_claim_names` entry names an empty source.
    ClaimSourceName,
    /// A `_claim_names` entry names a source missing from `_claim_sources`.
    ClaimSourceMissing,
    /// With one configured audience: the token's `aud` does not contain it.
    AudienceMismatch,
    /// None of the token's audiences is a configured one.
    AudienceNotInSet,
    /// `exp < now`, or no `exp` (`None`).
    Expired {
        /// The token's `exp`, in Unix seconds; Go's zero time (`0001-01-01T00:00:00Z`,
        /// [`GO_ZERO_TIME`]) when the token has none, as go-oidc reports it. Not an
        /// `Option`, so `Error` stays 24 bytes.
        expiry: i64,
    },
    /// `now + 60s < nbf`.
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// How far `nbf` is ahead of the verification time, in seconds (saturating). Kept
        /// instead of the time itself so `Error` stays 24 bytes.
        ahead_secs: u32,
    },
    /// The header `alg` is not allowed (`got` is `None` for names that are not one of the
    /// nine JWS public-key algorithms, such as `none` or `HS256`).
    UnsupportedAlgorithm {
        /// The configured algorithms.
        allowed: AlgorithmSet,
        /// The token's algorithm.
        got: Option<Algorithm>,
    },
    /// No key verified the signature.
    InvalidSignature,
    /// A mapped claim is absent.
    ClaimNotPresent(ClaimUse),
    /// A mapped claim has the wrong JSON type (must be a string, or for groups a string or
    /// an array of strings).
    ClaimType {
        /// Which claim.
        claim: ClaimUse,
        /// The type found.
        found: JsonType,
    },
    /// `email_verified` is not a boolean.
    EmailVerifiedType {
        /// The type found.
        found: JsonType,
    },
    /// `email_verified` is false while `email` is the username claim.
    EmailNotVerified,
    /// A required claim has another value than the configured one.
    RequiredClaimMismatch(u16),
    /// The groups claim is distributed to an endpoint, which the core cannot fetch.
    DistributedClaimsUnsupported,
}

/// Go's name for a JSON type in `json: cannot unmarshal <type> into Go value of type …`.
fn go_json_type(t: JsonType) -> &'static str {
    match t {
        JsonType::Bool => "bool",
        JsonType::Number => "number",
        JsonType::String => "string",
        JsonType::Array => "array",
        JsonType::Object => "object",
        _ => "null",
    }
}

/// Configuration values an error message can mention.
trait Names {
    fn claim(&self, c: ClaimUse) -> Option<&str>;
    fn required_value(&self, i: u16) -> Option<&str>;
    fn audiences(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    fn single_audience(&self) -> Option<&str>;
}

struct NoNames;

impl Names for NoNames {
    fn claim(&self, _: ClaimUse) -> Option<&str> {
        None
    }
    fn required_value(&self, _: u16) -> Option<&str> {
        None
    }
    fn audiences(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[...]")
    }
    fn single_audience(&self) -> Option<&str> {
        None
    }
}

/// Writes `s` as Go's `%q` does for printable text.
fn go_quote(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

fn fmt_oidc(e: &OidcError, n: &dyn Names, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    const VERIFY: &str = "oidc: verify token: ";
    let claim = |c| n.claim(c).unwrap_or("...");
    match e {
        OidcError::NotInitialized => f.write_str("oidc: authenticator not initialized"),
        OidcError::MalformedJwt(j) => write!(f, "{VERIFY}oidc: malformed jwt: {j}"),
        OidcError::UnmarshalClaims(j) => write!(f, "{VERIFY}oidc: failed to unmarshal claims: {j}"),
        OidcError::ClaimSourceName => {
            write!(f, "{VERIFY}oidc: failed to obtain source from claim name")
        }
        OidcError::ClaimSourceMissing => write!(f, "{VERIFY}oidc: source does not exist"),
        OidcError::AudienceMismatch => {
            write!(f, "{VERIFY}oidc: expected audience ")?;
            go_quote(f, n.single_audience().unwrap_or("..."))?;
            f.write_str(" got [...]")
        }
        OidcError::AudienceNotInSet => {
            write!(f, "{VERIFY}oidc: expected audience in ")?;
            n.audiences(f)?;
            f.write_str(" got [...]")
        }
        OidcError::Expired { expiry } => write!(
            f,
            "{VERIFY}oidc: token is expired (Token Expiry: {})",
            GoTime(*expiry)
        ),
        OidcError::NotYetValid { nbf, ahead_secs } => write!(
            f,
            "{VERIFY}oidc: current time {} before the nbf (not before) time: {}",
            GoTime(nbf.saturating_sub(i64::from(*ahead_secs))),
            GoTime(*nbf)
        ),
        OidcError::UnsupportedAlgorithm { allowed, got } => {
            write!(
                f,
                "{VERIFY}oidc: id token signed with unsupported algorithm, expected ["
            )?;
            for (i, a) in sorted_algorithms(*allowed).enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                go_quote(f, a.name())?;
            }
            f.write_str("] got ")?;
            go_quote(f, got.map_or("...", Algorithm::name))
        }
        OidcError::InvalidSignature => write!(
            f,
            "{VERIFY}failed to verify signature: failed to verify id token signature"
        ),
        OidcError::ClaimNotPresent(c) => match c {
            ClaimUse::Username => write!(
                f,
                "oidc: parse username claims \"{}\": claim not present",
                claim(*c)
            ),
            ClaimUse::Groups => {
                write!(f, "oidc: parse groups claim \"{}\": claim not present", claim(*c))
            }
            ClaimUse::Uid => write!(f, "oidc: parse uid claim \"{}\": claim not present", claim(*c)),
            ClaimUse::Required(_) => {
                write!(f, "oidc: required claim {} not present in ID token", claim(*c))
            }
        },
        OidcError::ClaimType { claim: c, found } => {
            let json = go_json_type(*found);
            match c {
                ClaimUse::Username => write!(f, "oidc: parse username claims \"{}\": ", claim(*c)),
                ClaimUse::Groups => write!(f, "oidc: parse groups claim \"{}\": ", claim(*c)),
                ClaimUse::Uid => write!(f, "oidc: parse uid claim \"{}\": ", claim(*c)),
                ClaimUse::Required(_) => write!(f, "oidc: parse claim {}: ", claim(*c)),
            }?;
            write!(f, "json: cannot unmarshal {json} into Go value of type string")
        }
        OidcError::EmailVerifiedType { found } => write!(
            f,
            "oidc: parse 'email_verified' claim: json: cannot unmarshal {} into Go value of type bool",
            go_json_type(*found)
        ),
        OidcError::EmailNotVerified => f.write_str("oidc: email not verified"),
        OidcError::RequiredClaimMismatch(i) => write!(
            f,
            "oidc: required claim {} value does not match. Got = ..., want = {}",
            claim(ClaimUse::Required(*i)),
            n.required_value(*i).unwrap_or("...")
        ),
        OidcError::DistributedClaimsUnsupported => f.write_str(
            "oidc: could not expand distributed claims: fetching distributed claims is not supported",
        ),
    }
}

impl fmt::Display for OidcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_oidc(self, &NoNames, f)
    }
}

impl core::error::Error for OidcError {}

/// The allowed algorithms in Go's `sets.List` (sorted) order, as upstream prints them.
fn sorted_algorithms(set: AlgorithmSet) -> impl Iterator<Item = Algorithm> {
    const SORTED: [Algorithm; 9] = [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
    ];
    SORTED.into_iter().filter(move |a| set.contains(*a))
}

// ---------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------

/// Where an OIDC authenticator gets its keys, per token.
///
/// The keys are lent to a callback so that a provider can hold a lock or a reference count
/// only for the verification. Providers must not allocate in `with_keys`.
pub trait JwksProvider {
    /// Calls `f` with the current keys and returns true, or returns false without calling it
    /// when there are no keys yet ("authenticator not initialized").
    fn with_keys(&self, f: &mut dyn FnMut(&dyn KeySource)) -> bool;
}

/// Any key set is a fixed provider.
impl<T: KeySource> JwksProvider for T {
    fn with_keys(&self, f: &mut dyn FnMut(&dyn KeySource)) -> bool {
        f(self);
        true
    }
}

#[cfg(feature = "std")]
pub use swappable::SwappableKeys;

#[cfg(feature = "std")]
mod swappable {
    use std::sync::{Arc, RwLock};

    use super::JwksProvider;
    use crate::jose::{JoseError, KeySource, LoadReport, OwnedKeySet};

    /// A key set that can be replaced while authenticators use it: the CLI swaps in a
    /// refetched JWKS, the C ABI new JWKS bytes. Readers take the lock only to clone an
    /// `Arc` (no allocation) and verify outside it; a replacement never blocks on a
    /// verification in progress, and a verification in progress keeps the keys it started
    /// with.
    #[derive(Debug, Default)]
    pub struct SwappableKeys {
        current: RwLock<Option<Arc<OwnedKeySet>>>,
    }

    impl SwappableKeys {
        /// A provider with no keys yet: authenticators answer "not initialized" until
        /// [`SwappableKeys::replace`] is called.
        pub fn new() -> Self {
            SwappableKeys::default()
        }

        /// A provider holding `keys`.
        pub fn with(keys: OwnedKeySet) -> Self {
            SwappableKeys {
                current: RwLock::new(Some(Arc::new(keys))),
            }
        }

        /// Replaces the keys.
        pub fn replace(&self, keys: OwnedKeySet) {
            let new = Some(Arc::new(keys));
            match self.current.write() {
                Ok(mut g) => *g = new,
                Err(poisoned) => *poisoned.into_inner() = new,
            }
        }

        /// Parses a JWKS document and, when it is valid, replaces the keys with its keys. On
        /// error the previous keys stay.
        ///
        /// # Errors
        /// Whatever [`OwnedKeySet::add_jwks`] reports.
        pub fn replace_jwks(&self, jwks: &[u8]) -> Result<LoadReport, JoseError> {
            let mut set = OwnedKeySet::new();
            let report = set.add_jwks(jwks)?;
            self.replace(set);
            Ok(report)
        }

        /// The current keys, if any.
        pub fn current(&self) -> Option<Arc<OwnedKeySet>> {
            match self.current.read() {
                Ok(g) => g.clone(),
                Err(poisoned) => poisoned.into_inner().clone(),
            }
        }
    }

    impl JwksProvider for SwappableKeys {
        fn with_keys(&self, f: &mut dyn FnMut(&dyn KeySource)) -> bool {
            match self.current() {
                Some(keys) => {
                    f(&*keys);
                    true
                }
                None => false,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The authenticator
// ---------------------------------------------------------------------------------------

/// One JWT authenticator (one issuer), as upstream's `oidc.New` builds it from a validated
/// `JWTAuthenticator` configuration.
///
/// `P` provides the keys, `S` is the configuration's string type (`&str`, or `String` with
/// `alloc`), `V` the signature backend. With `alloc`, build it from
/// [`config::JwtAuthenticatorConfig`], which validates first.
#[derive(Clone, Debug)]
pub struct JwtAuthenticator<P, S = &'static str, V = RustCrypto> {
    issuer: S,
    audiences: heapless::Vec<S, MAX_AUDIENCES>,
    algorithms: AlgorithmSet,
    username_claim: S,
    username_prefix: Option<S>,
    groups: Option<(S, Option<S>)>,
    uid_claim: Option<S>,
    required: heapless::Vec<(S, S), MAX_REQUIRED_CLAIMS>,
    keys: P,
    verifier: V,
}

impl<P: JwksProvider, S: AsRef<str>> JwtAuthenticator<P, S> {
    /// An authenticator for tokens issued by `issuer` (compared exactly) for one of
    /// `audiences`, naming the user by `username_claim` without prefix, with all nine
    /// algorithms allowed (the structured configuration's default). The configuration is
    /// not validated here; see [`config`].
    ///
    /// # Errors
    /// [`Limit::Audiences`] when there are more than [`MAX_AUDIENCES`] audiences.
    pub fn new(
        issuer: S,
        audiences: impl IntoIterator<Item = S>,
        username_claim: S,
        keys: P,
    ) -> Result<Self, Error> {
        let mut auds = heapless::Vec::new();
        for a in audiences {
            auds.push(a)
                .map_err(|_| Error::LimitExceeded(Limit::Audiences))?;
        }
        Ok(JwtAuthenticator {
            issuer,
            audiences: auds,
            algorithms: AlgorithmSet::ALL,
            username_claim,
            username_prefix: None,
            groups: None,
            uid_claim: None,
            required: heapless::Vec::new(),
            keys,
            verifier: RustCrypto,
        })
    }
}

impl<P, S: AsRef<str>, V> JwtAuthenticator<P, S, V> {
    /// Prepends `prefix` to every user name (an empty prefix is no prefix).
    #[must_use]
    pub fn username_prefix(mut self, prefix: S) -> Self {
        self.username_prefix = Some(prefix);
        self
    }

    /// Maps groups from `claim`, each prefixed by `prefix` when given and non-empty.
    #[must_use]
    pub fn groups(mut self, claim: S, prefix: Option<S>) -> Self {
        self.groups = Some((claim, prefix));
        self
    }

    /// Maps the UID from `claim`.
    #[must_use]
    pub fn uid_claim(mut self, claim: S) -> Self {
        self.uid_claim = Some(claim);
        self
    }

    /// Allows only these algorithms (`--oidc-signing-algs`; RS256 alone by default there).
    #[must_use]
    pub fn algorithms(mut self, algorithms: AlgorithmSet) -> Self {
        self.algorithms = algorithms;
        self
    }

    /// Requires claim `name` to be the string `value` (`claimValidationRules[].claim`,
    /// `--oidc-required-claim`).
    ///
    /// # Errors
    /// [`OidcConfigLimit::RequiredClaims`] past [`MAX_REQUIRED_CLAIMS`].
    pub fn required_claim(mut self, name: S, value: S) -> Result<Self, OidcConfigLimit> {
        self.required
            .push((name, value))
            .map_err(|_| OidcConfigLimit::RequiredClaims)?;
        Ok(self)
    }

    /// Verifies signatures with another backend.
    pub fn with_verifier<V2: Verifier>(self, verifier: V2) -> JwtAuthenticator<P, S, V2> {
        JwtAuthenticator {
            issuer: self.issuer,
            audiences: self.audiences,
            algorithms: self.algorithms,
            username_claim: self.username_claim,
            username_prefix: self.username_prefix,
            groups: self.groups,
            uid_claim: self.uid_claim,
            required: self.required,
            keys: self.keys,
            verifier,
        }
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        self.issuer.as_ref()
    }

    /// The key provider (for example to replace [`SwappableKeys`]' keys).
    pub fn keys(&self) -> &P {
        &self.keys
    }

    /// The allowed algorithms.
    pub fn allowed_algorithms(&self) -> AlgorithmSet {
        self.algorithms
    }

    /// An error's message with this authenticator's configured values (claim names,
    /// audiences, required values) filled in: upstream's text, except that values taken from
    /// the token stay `...`.
    pub fn explain<'s>(&'s self, error: &'s Error) -> impl fmt::Display + 's {
        Explained { auth: self, error }
    }

    fn claim_name(&self, c: ClaimUse) -> Option<&str> {
        match c {
            ClaimUse::Username => Some(self.username_claim.as_ref()),
            ClaimUse::Groups => self.groups.as_ref().map(|(g, _)| g.as_ref()),
            ClaimUse::Uid => self.uid_claim.as_ref().map(AsRef::as_ref),
            ClaimUse::Required(i) => self.required.get(usize::from(i)).map(|(k, _)| k.as_ref()),
        }
    }
}

/// A capacity of the OIDC configuration.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OidcConfigLimit {
    /// More than [`MAX_REQUIRED_CLAIMS`] required claims.
    RequiredClaims,
}

impl fmt::Display for OidcConfigLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OidcConfigLimit::RequiredClaims => write!(
                f,
                "limit exceeded: MAX_REQUIRED_CLAIMS ({MAX_REQUIRED_CLAIMS})"
            ),
        }
    }
}

impl core::error::Error for OidcConfigLimit {}

struct Explained<'s, P, S, V> {
    auth: &'s JwtAuthenticator<P, S, V>,
    error: &'s Error,
}

impl<P, S: AsRef<str>, V> Names for JwtAuthenticator<P, S, V> {
    fn claim(&self, c: ClaimUse) -> Option<&str> {
        self.claim_name(c)
    }

    fn required_value(&self, i: u16) -> Option<&str> {
        self.required.get(usize::from(i)).map(|(_, v)| v.as_ref())
    }

    fn audiences(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Go prints the configured set sorted, as a %q slice.
        let mut sorted: heapless::Vec<&str, MAX_AUDIENCES> =
            self.audiences.iter().map(AsRef::as_ref).collect();
        sorted.sort_unstable();
        f.write_str("[")?;
        for (i, a) in sorted.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            go_quote(f, a)?;
        }
        f.write_str("]")
    }

    fn single_audience(&self) -> Option<&str> {
        match self.audiences.as_slice() {
            [one] => Some(one.as_ref()),
            _ => None,
        }
    }
}

impl<P, S: AsRef<str>, V> fmt::Display for Explained<'_, P, S, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.error {
            Error::Oidc(e) => fmt_oidc(e, self.auth, f),
            e => fmt::Display::fmt(e, f),
        }
    }
}

fn oidc(e: OidcError) -> Fail {
    Fail::Reject(Error::Oidc(e))
}

fn unmarshal(e: JoseError) -> Fail {
    oidc(OidcError::UnmarshalClaims(e))
}

/// go-oidc's `jsonTime`: a JSON number, or a string holding one (Go's `json.Number`).
fn json_time(v: &JsonValue<'_>) -> Result<NumericDate, JoseError> {
    match v {
        JsonValue::String(s) => NumericDate::parse(s),
        v => v.as_numeric_date(),
    }
}

/// A claim decoded into a Go `string`: `null` is `""`, other non-strings are type errors.
fn go_string<'a>(v: &JsonValue<'a>, claim: ClaimUse) -> Result<&'a str, OidcError> {
    match v {
        JsonValue::String(s) => Ok(s),
        JsonValue::Null => Ok(""),
        v => Err(OidcError::ClaimType {
            claim,
            found: v.json_type(),
        }),
    }
}

/// The registered claims go-oidc decodes before it verifies, type-checked the same way.
struct IdToken<'a> {
    aud: Option<JsonValue<'a>>,
    exp: Option<NumericDate>,
    nbf: Option<NumericDate>,
    claim_names: Option<JsonObject<'a>>,
    claim_sources: Option<JsonObject<'a>>,
}

fn type_err(expected: JsonType, found: &JsonValue<'_>) -> JoseError {
    JoseError::Claim(ClaimError::WrongType {
        expected,
        found: found.json_type(),
    })
}

fn read_id_token<'a>(claims: &JsonObject<'a>) -> Result<IdToken<'a>, JoseError> {
    // `sub` is a string (null is ""); `iat` is a jsonTime (present: must be a number).
    if let Some(v) = claims.get("sub") {
        if !matches!(v, JsonValue::String(_) | JsonValue::Null) {
            return Err(type_err(JsonType::String, &v));
        }
    }
    if let Some(v) = claims.get("iat") {
        json_time(&v)?;
    }
    let aud = claims.get("aud");
    match &aud {
        None | Some(JsonValue::String(_) | JsonValue::Null) => {}
        Some(v @ JsonValue::Array(a)) => {
            if a.iter()
                .any(|e| !matches!(e, JsonValue::String(_) | JsonValue::Null))
            {
                return Err(type_err(JsonType::StringOrArray, v));
            }
        }
        Some(v) => return Err(type_err(JsonType::StringOrArray, v)),
    }
    let exp = claims.get("exp").map(|v| json_time(&v)).transpose()?;
    let nbf = match claims.get("nbf") {
        None | Some(JsonValue::Null) => None,
        Some(v) => Some(json_time(&v)?),
    };
    let object = |name: &str| match claims.get(name) {
        None | Some(JsonValue::Null) => Ok(None),
        Some(JsonValue::Object(o)) => Ok(Some(o)),
        Some(v) => Err(type_err(JsonType::Object, &v)),
    };
    let claim_names = object("_claim_names")?;
    let claim_sources = object("_claim_sources")?;
    if let Some(names) = &claim_names {
        for (_, v) in names.members() {
            if !matches!(v, JsonValue::String(_) | JsonValue::Null) {
                return Err(type_err(JsonType::String, &v));
            }
        }
    }
    if let Some(sources) = &claim_sources {
        for (_, v) in sources.members() {
            let JsonValue::Object(src) = v else {
                return Err(type_err(JsonType::Object, &v));
            };
            for m in ["endpoint", "access_token"] {
                if let Some(v) = src.get(m) {
                    if !matches!(v, JsonValue::String(_) | JsonValue::Null) {
                        return Err(type_err(JsonType::String, &v));
                    }
                }
            }
        }
    }
    Ok(IdToken {
        aud,
        exp,
        nbf,
        claim_names,
        claim_sources,
    })
}

/// The token's audiences (go-oidc's `audience`: a string is one audience, `null` is `""`).
fn token_audiences<'a>(aud: Option<JsonValue<'a>>) -> impl Iterator<Item = &'a str> + 'a {
    let (one, many) = match aud {
        None => (None, None),
        Some(JsonValue::Array(a)) => (None, Some(a.iter())),
        Some(JsonValue::String(s)) => (Some(s), None),
        Some(_) => (Some(""), None),
    };
    one.into_iter().chain(
        many.into_iter()
            .flatten()
            .map(|v| if let JsonValue::String(s) = v { s } else { "" }),
    )
}

impl<P, S, V> JwtAuthenticator<P, S, V>
where
    P: JwksProvider,
    S: AsRef<str>,
    V: Verifier,
{
    fn authenticate<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Result<(), Fail> {
        let peeked = peek_issuer(token, scratch).map_err(Fail::NotMine)?;
        let iss = if peeked.iss == GOOGLE_ISSUER_WITHOUT_SCHEME {
            GOOGLE_ISSUER
        } else {
            peeked.iss
        };
        if iss != self.issuer.as_ref() {
            return Err(Fail::NotMine(None));
        }
        let allowed = self.algorithms;
        let [h64, p64, s64] = peeked.segments;
        let jws = match UnverifiedJws::parse_segments(token, h64, p64, s64, scratch) {
            Ok(j) => j,
            Err(JoseError::Unsupported(
                Unsupported::AlgNone | Unsupported::Hmac | Unsupported::UnknownAlgorithm,
            )) => return Err(oidc(OidcError::UnsupportedAlgorithm { allowed, got: None })),
            Err(e) => return Err(oidc(OidcError::MalformedJwt(e))),
        };
        if !allowed.contains(jws.header.alg) {
            return Err(oidc(OidcError::UnsupportedAlgorithm {
                allowed,
                got: Some(jws.header.alg),
            }));
        }
        let mut verified = None;
        let ready = self.keys.with_keys(&mut |keys| {
            verified = Some(jws.verify(keys, allowed, &self.verifier));
        });
        match verified {
            _ if !ready => return Err(oidc(OidcError::NotInitialized)),
            Some(Ok(_)) => {}
            _ => return Err(oidc(OidcError::InvalidSignature)),
        }

        let claims = peeked.claims;
        let id = read_id_token(&claims).map_err(unmarshal)?;
        if let Some(names) = &id.claim_names {
            for (_, src) in names.members() {
                let src = if let JsonValue::String(s) = src {
                    s
                } else {
                    ""
                };
                if src.is_empty() {
                    return Err(oidc(OidcError::ClaimSourceName));
                }
                if !id.claim_sources.is_some_and(|s| s.contains(src)) {
                    return Err(oidc(OidcError::ClaimSourceMissing));
                }
            }
        }
        let has_aud = |want: &str| token_audiences(id.aud).any(|a| a == want);
        if let [one] = self.audiences.as_slice() {
            if !has_aud(one.as_ref()) {
                return Err(oidc(OidcError::AudienceMismatch));
            }
        }
        let now = ctx.now.as_secs();
        let exp = match id.exp {
            Some(exp) if exp.as_secs() >= now => exp.as_secs(),
            exp => {
                return Err(oidc(OidcError::Expired {
                    expiry: exp.map_or(GO_ZERO_TIME, NumericDate::as_secs),
                }));
            }
        };
        if let Some(nbf) = id.nbf {
            if now.saturating_add(NBF_LEEWAY_SECS) < nbf.as_secs() {
                let ahead = nbf.as_secs().saturating_sub(now);
                return Err(oidc(OidcError::NotYetValid {
                    nbf: nbf.as_secs(),
                    ahead_secs: u32::try_from(ahead).unwrap_or(u32::MAX),
                }));
            }
        }
        if !self.audiences.iter().any(|a| has_aud(a.as_ref())) {
            return Err(oidc(OidcError::AudienceNotInSet));
        }

        out.clear();
        self.map_claims(&claims, &id, scratch, out)
            .map_err(Fail::Reject)?;
        out.expires_at = Some(UnixTime::from_secs(exp.saturating_add(1)));
        Ok(())
    }

    fn map_claims<'a>(
        &'a self,
        claims: &JsonObject<'a>,
        id: &IdToken<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Result<(), Error> {
        // Username: present, a string; `email` as the claim needs `email_verified` not false.
        let claim = self.username_claim.as_ref();
        let v = claims
            .get(claim)
            .ok_or(OidcError::ClaimNotPresent(ClaimUse::Username))?;
        let name = go_string(&v, ClaimUse::Username)?;
        if claim == "email" {
            match claims.get("email_verified") {
                None | Some(JsonValue::Bool(true)) => {}
                Some(JsonValue::Bool(false) | JsonValue::Null) => {
                    return Err(OidcError::EmailNotVerified.into());
                }
                Some(v) => {
                    return Err(OidcError::EmailVerifiedType {
                        found: v.json_type(),
                    }
                    .into());
                }
            }
        }
        out.user.name = match self.username_prefix.as_ref().map(AsRef::as_ref) {
            Some(p) if !p.is_empty() => scratch.concat(&[p, name])?,
            _ => name,
        };

        // Groups: a string or an array of strings, when present.
        if let Some((gclaim, prefix)) = &self.groups {
            let prefix = prefix.as_ref().map_or("", AsRef::as_ref);
            let mut push = |g: &'a str| -> Result<(), Error> {
                let g = if prefix.is_empty() {
                    g
                } else {
                    scratch.concat(&[prefix, g])?
                };
                out.user.groups.push(g)
            };
            match claims.get(gclaim.as_ref()) {
                Some(JsonValue::Null) => {}
                Some(JsonValue::Array(a)) => {
                    for e in a.iter() {
                        push(go_string(&e, ClaimUse::Groups)?)?;
                    }
                }
                Some(v) => push(go_string(&v, ClaimUse::Groups)?)?,
                None => self.distributed_groups(gclaim.as_ref(), id)?,
            }
        }

        if let Some(uclaim) = &self.uid_claim {
            let v = claims
                .get(uclaim.as_ref())
                .ok_or(OidcError::ClaimNotPresent(ClaimUse::Uid))?;
            out.user.uid = go_string(&v, ClaimUse::Uid)?;
        }

        if let Some(JsonValue::String(jti)) = claims.get("jti") {
            if !jti.is_empty() {
                out.user
                    .extra
                    .push(CREDENTIAL_ID_KEY, scratch.concat(&["JTI=", jti])?)?;
            }
        }

        for (i, (k, want)) in self.required.iter().enumerate() {
            let i = u16::try_from(i).unwrap_or(u16::MAX);
            let c = ClaimUse::Required(i);
            let v = claims
                .get(k.as_ref())
                .ok_or(OidcError::ClaimNotPresent(c))?;
            if go_string(&v, c)? != want.as_ref() {
                return Err(OidcError::RequiredClaimMismatch(i).into());
            }
        }
        Ok(())
    }

    /// Upstream resolves a groups claim that is absent but named in `_claim_names` from its
    /// source: an `endpoint` is fetched (not possible here), the aggregated form ignored.
    fn distributed_groups(&self, claim: &str, id: &IdToken<'_>) -> Result<(), Error> {
        let Some(JsonValue::String(src)) = id.claim_names.and_then(|n| n.get(claim)) else {
            return Ok(());
        };
        let endpoint = id
            .claim_sources
            .and_then(|s| s.get(src))
            .and_then(|s| s.as_object().ok())
            .and_then(|s| s.get("endpoint"));
        match endpoint {
            Some(JsonValue::String(e)) if !e.is_empty() => {
                Err(OidcError::DistributedClaimsUnsupported.into())
            }
            _ => Ok(()),
        }
    }
}

impl<P, S, V> TokenAuthenticator for JwtAuthenticator<P, S, V>
where
    P: JwksProvider,
    S: AsRef<str>,
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
