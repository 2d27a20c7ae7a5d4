//! The error enum shared by every strategy, the named limits, and upstream's aggregate.

use core::fmt;

use crate::bootstrap::BootstrapError;

/// Most errors one aggregate keeps. The kube-apiserver chain has at most eight strategies
/// that can fail; further errors are counted and reported as "and N more", not kept.
pub const MAX_AGGREGATED_ERRORS: usize = 8;

/// A fixed capacity of the core. Exceeding one is reported as [`Error::LimitExceeded`] with
/// the limit named, so an operator knows which bound a credential or configuration hit.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// [`crate::MAX_GROUPS`] groups in one user.
    Groups,
    /// [`crate::MAX_EXTRA_VALUES`] extra key/value pairs in one user.
    ExtraValues,
    /// [`crate::MAX_AUDIENCES`] audiences in one response.
    Audiences,
    /// The caller's [`crate::Scratch`] buffer is too small for the strings this credential
    /// needs composed or decoded.
    Scratch,
    /// [`crate::token_file::MAX_RECORD_LEN`] bytes in one token-file record.
    TokenFileRecord,
    /// [`crate::token_file::MAX_TOKENS`] tokens in one token file.
    TokenFileTokens,
    /// The token table given to [`crate::TokenFile::parse_in`] has too few slots.
    TokenFileSlots,
}

impl Limit {
    /// The numeric bound, where one constant defines it.
    pub const fn value(self) -> Option<usize> {
        match self {
            Limit::Groups => Some(crate::user::MAX_GROUPS),
            Limit::ExtraValues => Some(crate::user::MAX_EXTRA_VALUES),
            Limit::Audiences => Some(crate::user::MAX_AUDIENCES),
            Limit::TokenFileRecord => Some(crate::token_file::MAX_RECORD_LEN),
            Limit::TokenFileTokens => Some(crate::token_file::MAX_TOKENS),
            Limit::Scratch | Limit::TokenFileSlots => None,
        }
    }

    /// The constant's name, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Limit::Groups => "MAX_GROUPS",
            Limit::ExtraValues => "MAX_EXTRA_VALUES",
            Limit::Audiences => "MAX_AUDIENCES",
            Limit::Scratch => "scratch buffer size",
            Limit::TokenFileRecord => "MAX_RECORD_LEN",
            Limit::TokenFileTokens => "MAX_TOKENS",
            Limit::TokenFileSlots => "token table slots",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value() {
            Some(v) => write!(f, "{} ({v})", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// Why a credential was rejected, or why a strategy declined it.
///
/// The `Display` text matches upstream Kubernetes where upstream returns an error. Details
/// are for logs: a server answers the remote party only `Unauthorized`. No variant carries
/// token or secret bytes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The bearer token was not accepted by any token authenticator (upstream's text).
    InvalidBearerToken,
    /// An audience-agnostic wrapper's inner authenticator returned audiences.
    AudienceAgnosticReturnedAudiences,
    /// `Bearer` followed by two spaces: no token (upstream records a warning).
    BearerTokenExtraSpace,
    /// The token table no longer matches its file (an internal invariant; never expected).
    TokenFileCorrupt,
    /// A bootstrap token was declined (kept as the not-mine reason; upstream logs these).
    Bootstrap(BootstrapError),
    /// The bootstrap secret store failed with something other than "not found".
    BootstrapLookup,
    /// A fixed capacity was exceeded.
    LimitExceeded(Limit),
    /// A JWS, JWK or key file was rejected by the JOSE layer.
    Jose(crate::jose::JoseError),
    /// An X.509 client certificate was rejected.
    X509(crate::x509::X509Error),
    /// A service-account token was rejected.
    ServiceAccount(crate::service_account::ServiceAccountError),
    /// An OIDC / JWT-authenticator token was rejected.
    Oidc(crate::oidc::OidcError),
    /// The TokenReview webhook failed, answered malformed JSON, or denied the token with a
    /// message.
    Webhook(crate::webhook::WebhookError),
    /// The authenticating proxy's name or headers were rejected.
    RequestHeader(crate::request_header::RequestHeaderError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidBearerToken => f.write_str("invalid bearer token"),
            Error::AudienceAgnosticReturnedAudiences => f.write_str(
                "audience agnostic authenticator wrapped an authenticator that returned audiences",
            ),
            Error::BearerTokenExtraSpace => f.write_str(crate::bearer::EXTRA_SPACE_WARNING),
            Error::TokenFileCorrupt => f.write_str("token file table is inconsistent"),
            Error::Bootstrap(e) => fmt::Display::fmt(e, f),
            Error::BootstrapLookup => f.write_str("bootstrap token secret lookup failed"),
            Error::LimitExceeded(limit) => write!(f, "limit exceeded: {limit}"),
            Error::Jose(e) => fmt::Display::fmt(e, f),
            Error::X509(e) => fmt::Display::fmt(e, f),
            Error::ServiceAccount(e) => fmt::Display::fmt(e, f),
            Error::Oidc(e) => fmt::Display::fmt(e, f),
            Error::Webhook(e) => fmt::Display::fmt(e, f),
            Error::RequestHeader(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for Error {}

impl From<BootstrapError> for Error {
    fn from(e: BootstrapError) -> Self {
        Error::Bootstrap(e)
    }
}

impl From<crate::jose::JoseError> for Error {
    fn from(e: crate::jose::JoseError) -> Self {
        Error::Jose(e)
    }
}

impl From<crate::x509::X509Error> for Error {
    fn from(e: crate::x509::X509Error) -> Self {
        Error::X509(e)
    }
}

impl From<crate::service_account::ServiceAccountError> for Error {
    fn from(e: crate::service_account::ServiceAccountError) -> Self {
        Error::ServiceAccount(e)
    }
}

impl From<crate::oidc::OidcError> for Error {
    fn from(e: crate::oidc::OidcError) -> Self {
        Error::Oidc(e)
    }
}

/// Upstream's error aggregate (`k8s.io/apimachinery/pkg/util/errors`), without a heap.
///
/// Display: one unique message alone, several as `[a, b]`, deduplicated (upstream
/// deduplicates by message text; equal messages come from equal values here).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Errors {
    list: heapless::Vec<Error, MAX_AGGREGATED_ERRORS>,
    dropped: u32,
}

impl Errors {
    /// An empty aggregate.
    pub const fn new() -> Self {
        Errors {
            list: heapless::Vec::new(),
            dropped: 0,
        }
    }

    /// An aggregate of one error.
    pub fn one(e: Error) -> Self {
        let mut errs = Errors::new();
        errs.push(e);
        errs
    }

    /// Adds an error; past [`MAX_AGGREGATED_ERRORS`] it is counted and reported as
    /// "and N more" rather than silently lost.
    pub fn push(&mut self, e: Error) {
        if self.list.push(e).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// Adds every error of another aggregate (upstream flattens nested aggregates).
    pub fn extend(&mut self, other: &Errors) {
        for e in other.iter() {
            self.push(e);
        }
        self.dropped = self.dropped.saturating_add(other.dropped);
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.dropped == 0
    }

    /// The recorded errors, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = Error> + '_ {
        self.list.iter().copied()
    }

    /// The first recorded error.
    pub fn first(&self) -> Option<Error> {
        self.list.first().copied()
    }

    /// True when `e` is one of the recorded errors.
    pub fn contains(&self, e: Error) -> bool {
        self.list.contains(&e)
    }

    fn unique(&self) -> impl Iterator<Item = Error> + '_ {
        self.list
            .iter()
            .enumerate()
            .filter(|(i, e)| !self.list.iter().take(*i).any(|p| p == *e))
            .map(|(_, e)| *e)
    }
}

impl From<Error> for Errors {
    fn from(e: Error) -> Self {
        Errors::one(e)
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.unique().count();
        if n == 1 && self.dropped == 0 {
            if let Some(e) = self.list.first() {
                return fmt::Display::fmt(e, f);
            }
        }
        f.write_str("[")?;
        for (i, e) in self.unique().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            fmt::Display::fmt(&e, f)?;
        }
        if self.dropped > 0 {
            write!(f, ", and {} more", self.dropped)?;
        }
        f.write_str("]")
    }
}

impl core::error::Error for Errors {}
