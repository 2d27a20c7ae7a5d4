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
//! # Features
//! * `alloc`: owned loaders (for example [`TokenFile::parse`]) for embedders with a heap. No
//!   authentication path allocates, with or without it.
//! * `std` (default): `std::error::Error` impls; implies `alloc`.
//! * `serde`: serialising users as the TokenReview `UserInfo` JSON shape.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod authenticator;
pub mod crypto;
mod error;
mod scratch;
mod time;
mod user;
mod x509;

pub use authenticator::{Context, Header, Outcome, Request, RequestAuthenticator, TokenAuthenticator};
pub use crypto::RustCrypto;
pub use error::{Error, Errors, Limit, MAX_AGGREGATED_ERRORS};
pub use scratch::Scratch;
pub use time::{TimeError, UnixTime};
pub use user::{
    ANONYMOUS_USER, AUTHENTICATED_GROUP, Audiences, CREDENTIAL_ID_KEY, Extra, ExtraValues, Groups,
    MAX_AUDIENCES, MAX_EXTRA_VALUES, MAX_GROUPS, Response, UNAUTHENTICATED_GROUP, User,
};
pub use x509::{
    CertificateIdentifier, CertificateRef, ClientCaPool, DEFAULT_MAX_INTERMEDIATES, KeyPurpose,
    MAX_BORROWED_CA_CERTS, MAX_CANDIDATE_ISSUERS, MAX_CERTIFICATE_LEN, MAX_EXTENSIONS,
    MAX_PRESENTED_CERTS, MAX_SERIAL_LEN, MAX_SIGNATURE_CHECKS, MIN_RSA_BITS, UidFromCertificate,
    VerificationFailure, VerifyOptions, X509Authenticator, X509Error, X509Limit, common_name,
    credential_id, map_subject, verify_client_chain,
};
