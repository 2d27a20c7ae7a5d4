//! kauthn: Kubernetes request authentication as a small, allocation-free core.
//!
//! The core answers the question kube-apiserver's authentication chain answers — *who sent
//! this request?* — for the same inputs and with the same answers, without I/O, without a
//! clock (time is an argument) and without heap allocation on any authentication path.
//!
//! # Shape
//! * Every strategy implements [`TokenAuthenticator`] (bearer tokens) or
//!   [`RequestAuthenticator`] (whole requests: headers and the client certificate chain).
//! * Each returns an [`Outcome`] that mirrors upstream's `(response, ok, err)` triple:
//!   [`Outcome::Authenticated`], [`Outcome::NotMine`] (let the next strategy try) or
//!   [`Outcome::Rejected`].
//! * Strings an authenticator must compose or decode (a prefixed user name, an unescaped
//!   claim) are written into a caller-owned [`Scratch`] arena; the returned [`User`] borrows
//!   from it, from the configuration and from the credential. Nothing is copied twice.
//! * Capacities are fixed and named ([`Limit`]); exceeding one is an error, never a
//!   truncation.
//!
//! # Example
//! ```
//! use kauthn::{
//!     BearerToken, Context, Header, OwnedTokenFile, Request, RequestAuthenticator, Scratch,
//!     UnixTime,
//! };
//!
//! let tokens = OwnedTokenFile::parse("s3cret,alice,uid-1,\"dev,ops\"\n")?;
//! let auth = BearerToken::new(&tokens);
//! let headers = [Header { name: "Authorization", value: b"Bearer s3cret" }];
//! let req = Request { headers: &headers, path: "/api", client_chain: &[] };
//! let mut buf = [0u8; 4096]; // strings the strategies compose live here
//! let ctx = Context::at(UnixTime::from_secs(1_800_000_000));
//! let outcome = auth.authenticate_request(&req, &ctx, &mut Scratch::new(&mut buf));
//! let user = outcome.into_response().ok_or("not authenticated")?.user;
//! assert_eq!((user.name, user.groups.as_slice()), ("alice", &["dev", "ops"][..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//! * `alloc`: owned loaders (for example [`TokenFile::parse`]) for embedders with a heap. No
//!   authentication path allocates, with or without it.
//! * `std` (default): `std::error::Error` impls; implies `alloc`.
//! * `serde`: serialising users as the TokenReview `UserInfo` JSON shape.
//! * `aws-lc`: the `AwsLc` signature backend over aws-lc-rs (C, allocating, fastest); same
//!   verdicts as the default [`RustCrypto`]. Implies `std`.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod authenticator;
mod bearer;
mod bootstrap;
#[cfg(feature = "alloc")]
mod cache;
pub mod crypto;
mod error;
mod hex;
pub mod jose;
mod jwt;
pub mod oidc;
mod request_header;
mod scratch;
mod service_account;
mod time;
mod token_file;
mod union;
mod user;
mod webhook;
mod x509;

pub use authenticator::{
    Context, Header, Outcome, Request, RequestAuthenticator, TokenAuthenticator, Verdict,
};
pub use bearer::{BearerToken, BearerTokenRef, EXTRA_SPACE_WARNING, extract_bearer_token};
pub use bootstrap::{
    BOOTSTRAP_NAMESPACE, BootstrapError, BootstrapSecret, BootstrapSecretStore,
    BootstrapTokenAuthenticator, DEFAULT_GROUP as BOOTSTRAP_DEFAULT_GROUP, LookupError,
    SECRET_NAME_PREFIX as BOOTSTRAP_SECRET_NAME_PREFIX, SECRET_TYPE as BOOTSTRAP_SECRET_TYPE,
    USER_PREFIX as BOOTSTRAP_USER_PREFIX, is_valid_bootstrap_token, is_valid_bootstrap_token_id,
    parse_bootstrap_secret_name, validate_bootstrap_group_name,
};
#[cfg(feature = "std")]
pub use cache::SyncStripe;
#[cfg(feature = "alloc")]
pub use cache::{
    CACHE_ENTRY_BYTES, CACHE_WAYS, CacheConfig, CachedTokenAuthenticator, DefaultStripeLock,
    Stripe, StripeLock,
};
#[cfg(feature = "aws-lc")]
pub use crypto::AwsLc;
pub use crypto::RustCrypto;
pub use error::{Error, Errors, Limit, MAX_AGGREGATED_ERRORS};
pub use jose::{JoseError, verify_jws};
pub use oidc::{JwksProvider, JwtAuthenticator, OidcError};
pub use request_header::{
    EmptyHeaderName, HeaderRole, RequestHeaderAuthenticator, RequestHeaderConfig,
    RequestHeaderError, strip_after_authentication,
};
pub use scratch::Scratch;
pub use service_account::{
    ALL_SERVICE_ACCOUNTS_GROUP, LEEWAY_SECS as SERVICE_ACCOUNT_LEEWAY_SECS,
    LEGACY_ISSUER as SERVICE_ACCOUNT_LEGACY_ISSUER, LEGACY_TOKEN_INVALID_SINCE_LABEL,
    LookupFailed as ServiceAccountLookupFailed, MAX_ISSUERS,
    NAMESPACE_GROUP_PREFIX as SERVICE_ACCOUNT_NAMESPACE_GROUP_PREFIX, NODE_NAME_KEY, NODE_UID_KEY,
    NoLookup, ObjectKind, ObjectMeta, ObjectRef, POD_NAME_KEY, POD_UID_KEY,
    ServiceAccountAuthenticator, ServiceAccountError, ServiceAccountLookup,
    USER_PREFIX as SERVICE_ACCOUNT_USER_PREFIX, is_dns1123_label, is_dns1123_subdomain,
    split_username as split_service_account_username,
};
pub use time::{TimeError, UnixTime};
#[cfg(feature = "alloc")]
pub use token_file::OwnedTokenFile;
pub use token_file::{
    MAX_FILE_LEN, MAX_RECORD_LEN, MAX_TOKENS, Slot, TokenFile, TokenFileError, TokenFileErrorKind,
};
pub use union::{
    Anonymous, AudienceAgnostic, AuthenticatedGroupAdder, GroupAdder, RequestUnion, TokenUnion,
};
pub use user::{
    ANONYMOUS_USER, AUTHENTICATED_GROUP, Audiences, CREDENTIAL_ID_KEY, Extra, ExtraValues, Groups,
    MAX_AUDIENCES, MAX_EXTRA_VALUES, MAX_GROUPS, Response, UNAUTHENTICATED_GROUP, User,
};
pub use webhook::{
    MESSAGE_EXCERPT_LEN, MessageExcerpt, Review, ReviewField, ReviewStatus, TOKEN_REVIEW_GROUP,
    TOKEN_REVIEW_KIND, TokenReviewVersion, TransportError, UnsupportedWebhookVersion, WebhookError,
    WebhookTokenAuthenticator, WebhookTransport, decode_token_review, encode_token_review,
    token_review_len,
};
pub use x509::{
    CertificateIdentifier, CertificateRef, ClientCaPool, DEFAULT_MAX_INTERMEDIATES, KeyPurpose,
    MAX_BORROWED_CA_CERTS, MAX_CANDIDATE_ISSUERS, MAX_CERTIFICATE_LEN, MAX_EXTENSIONS,
    MAX_PRESENTED_CERTS, MAX_SERIAL_LEN, MAX_SIGNATURE_CHECKS, MIN_RSA_BITS, UidFromCertificate,
    VerificationFailure, VerifyOptions, X509Authenticator, X509Error, X509Limit, common_name,
    credential_id, map_subject, map_subject_into, verify_client_chain,
};
