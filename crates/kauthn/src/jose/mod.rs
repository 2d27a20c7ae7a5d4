//! JOSE: strict base64url, a borrowing JSON reader, JWS compact verification, JWK/JWKS and
//! PEM key loading — the base of the service-account (spec §7) and OIDC (spec §8)
//! authenticators.
//!
//! Nothing on the verification path allocates: decoded header, payload, signature and
//! unescaped strings are written into the caller's [`Scratch`](crate::Scratch) and everything
//! returned borrows from it, the token, or the key configuration. Signatures are checked only
//! through [`crate::crypto::Verifier`].
//!
//! ```text
//! token ──► UnverifiedJws::parse ──► verify(keys, allowed algs, verifier) ──► payload ──► claims
//!           shape, header,            kid lookup, key/alg fit,                 base64url    JsonObject
//!           signature bytes           signature                                             getters
//! ```
//!
//! Deliberate differences from upstream Go are listed where they arise: exact (not
//! case-insensitive) member names and duplicate rejection in `json`; `RSA PUBLIC KEY`
//! accepted in `pem`; unusable JWKs skipped in `jwk`.

mod alg;
mod base64url;
mod bytemask;
mod canonical_header;
mod error;
mod json;
mod jwk;
mod jws;
mod key;
#[cfg(feature = "alloc")]
mod owned;
mod pem;
mod stops;

pub use alg::{Algorithm, AlgorithmSet, KeyKind};
pub use base64url::decode as decode_base64url;
pub(crate) use canonical_header::CanonicalHeaders;
pub use error::{ClaimError, JoseError, JoseLimit, JsonType, KeyProblem, Malformed, Unsupported};
pub use json::{
    Elements, JsonArray, JsonNumber, JsonObject, JsonValue, Members, NumericDate, StrList,
    parse_object,
};
pub use jwk::parse_jwk;
pub use jws::{
    JwsHeader, UnverifiedJws, VerifiedJws, VerifiedPayload, verify_jws, verify_jws_payload,
};
pub(crate) use jws::{find_dots, signing_input, verify_signature};
pub use key::{
    KUBERNETES_KID_LEN, KeyRef, KeySet, KeySource, LoadReport, MAX_KEYS, MAX_RSA_MODULUS_BITS,
    MIN_RSA_MODULUS_BITS, check_public_key, kubernetes_key_id,
};
#[cfg(feature = "alloc")]
pub use owned::{OwnedKey, OwnedKeySet};
pub use pem::{certificate_public_key, spki_public_key};

/// The claims of a verified JWT: a JSON object view with typed getters.
pub type Claims<'a> = JsonObject<'a>;

/// Largest compact token accepted, in bytes. OIDC providers cap group claims near 200
/// entries (larger sets become an overage reference), which keeps real ID tokens under
/// 16 KiB; Go's HTTP server accepts 1 MiB of headers, so 64 KiB leaves four times the largest
/// real token while bounding the work an unauthenticated request can cause (go-jose
/// CVE-2025-27144 and golang-jwt CVE-2025-30204 were unbounded splits of huge tokens).
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Largest JSON document accepted (a JWKS, or a token's header or payload). Real JWKS
/// documents are a few KiB; 1 MiB bounds configuration input without refusing any.
pub const MAX_JSON_LEN: usize = 1024 * 1024;

/// Deepest nesting of arrays and objects. JWT claims nest three levels
/// (`kubernetes.io.pod.name`); 32 leaves room for custom claims while bounding the reader's
/// recursion, and so its stack, in `no_std` (CVE-2020-36518 class).
pub const MAX_JSON_DEPTH: usize = 32;

/// Most members of the objects open at one time (an object plus the objects enclosing it).
/// Duplicate detection keeps one 24-byte entry per open member on the stack; real claim sets
/// have a few dozen members.
pub const MAX_JSON_MEMBERS: usize = 256;

/// Longest `kid` accepted. Kubernetes key ids are 43 bytes and provider kids are UUIDs or
/// short hashes; anything this long is an attack (RFC 8725 §3.10), reported as a limit.
pub const MAX_KID_LEN: usize = 256;

/// Largest NumericDate magnitude, in seconds: 9999-12-31T23:59:59Z, the last instant RFC 3339
/// (and Go's time formatting) can write with a four-digit year. Values beyond are errors, so
/// `exp: 1e300` can never mean "never expires".
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;
