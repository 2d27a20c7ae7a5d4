//! The JOSE layer's error: one `Copy` enum whose classes follow the attack catalogue's verdicts
//! (Malformed, Unsupported, BadSignature, KeyRejected, claim type errors, LimitExceeded).
//!
//! No variant carries token, key or claim bytes: messages name the rule that failed so an
//! operator can act, and a server answers the remote party only `Unauthorized`.

use core::fmt;

/// Why a token, a JSON document or a key was rejected by the JOSE layer.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoseError {
    /// Syntax or encoding error: compact shape, base64url, UTF-8, JSON, PEM, DER, JWK members.
    Malformed(Malformed),
    /// An algorithm, serialization, header or key type that is never accepted.
    Unsupported(Unsupported),
    /// The signature does not verify with any candidate key, or its encoding is invalid for
    /// the algorithm.
    BadSignature,
    /// The header names a `kid` that no configured key has. There is no fallback to other
    /// keys (upstream `invalid signature, no keys found`).
    UnknownKid,
    /// No configured key can verify this algorithm (wrong key type, curve, or JWK `alg`).
    NoMatchingKey,
    /// A key is unusable or the key set is inconsistent.
    KeyRejected(KeyProblem),
    /// A JSON member (claim or header) is present with the wrong type or an invalid value.
    /// Present but malformed is never treated as absent.
    Claim(ClaimError),
    /// A named capacity of the JOSE layer was exceeded.
    LimitExceeded(JoseLimit),
}

/// Kinds of malformed input.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Malformed {
    /// Not three non-empty-header segments separated by `.` (RFC 7515 §7.1).
    Segments,
    /// Invalid base64url: padding, characters outside the URL-safe alphabet, whitespace, or
    /// non-zero unused trailing bits (RFC 7515 §2, App. C; RFC 4648 §3.5).
    Base64,
    /// The JSON text is not UTF-8 (RFC 8259 §8.1).
    Utf8,
    /// Invalid JSON syntax, including trailing data after the top-level value.
    JsonSyntax,
    /// The JSON text is valid but its top-level value is not an object (RFC 7515 §5.2).
    NotAnObject,
    /// An object has the same member name twice, compared after unescaping (RFC 7515 §4).
    DuplicateMember,
    /// An invalid escape sequence in a JSON string.
    InvalidEscape,
    /// A `\uXXXX` escape that is an unpaired UTF-16 surrogate (RFC 8259 §8.2).
    LoneSurrogate,
    /// A JSON string contains U+0000 (rejected: NUL in identities causes truncation bugs).
    NulCharacter,
    /// The JWS header has no `alg` member (RFC 7515 §4.1.1).
    MissingAlg,
    /// A JWS header member (`alg`, `kid`, `typ`, `cty`) is not a string.
    HeaderMember,
    /// A PEM block is not valid RFC 7468 PEM.
    Pem,
    /// DER inside a PEM block does not parse as the structure its label names.
    Der,
    /// A JWK member is missing or has the wrong type (RFC 7517 §4, RFC 7518 §6).
    Jwk,
}

/// Kinds of unsupported input.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unsupported {
    /// `alg: none` in any letter case (RFC 8725 §3.1/§3.2).
    AlgNone,
    /// HMAC algorithms (`HS256`, `HS384`, `HS512`): kauthn verifies public-key signatures only,
    /// which closes the algorithm-confusion class (CVE-2015-9235 and relatives).
    Hmac,
    /// An `alg` value that is not one of the nine JWS public-key algorithms.
    UnknownAlgorithm,
    /// A known algorithm that the configuration does not allow.
    AlgorithmNotAllowed,
    /// A `crit` header: no extension is understood, so none may be critical (RFC 7515 §4.1.11).
    Critical,
    /// `b64` (RFC 7797 unencoded payload).
    UnencodedPayload,
    /// `zip` (compression is defined for JWE only; never honoured).
    Compression,
    /// Five segments or an `enc` header: a JWE (RFC 7516 §9).
    Jwe,
    /// JWS JSON serialization (the token starts with `{`); only the compact form is used for
    /// bearer tokens.
    JsonSerialization,
    /// `cty: "JWT"`: a nested JWT (RFC 7519 §5.2; RFC 8725 §2.8).
    NestedJwt,
    /// A key type or curve that kauthn does not verify with (`oct`, `OKP`, P-192, DSA, …).
    KeyType,
    /// The crypto backend does not implement the algorithm.
    BackendAlgorithm,
}

/// Why a key was rejected.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyProblem {
    /// The JWK `use` is not `sig` (RFC 7517 §4.2).
    Use,
    /// The JWK `key_ops` does not contain `verify` (RFC 7517 §4.3).
    KeyOps,
    /// The JWK `alg` is not a JWS public-key algorithm or does not fit the key (RFC 7517 §4.4).
    Alg,
    /// The RSA modulus is outside [`super::MIN_RSA_MODULUS_BITS`, `super::MAX_RSA_MODULUS_BITS`],
    /// even, or has leading zero octets in a JWK (RFC 7518 §6.3.1.1).
    RsaModulus,
    /// The RSA public exponent is even, below 3, or above 2^31 - 1 (Go's bound).
    RsaExponent,
    /// The EC point is not an uncompressed point on the named curve, or a JWK coordinate does
    /// not have the curve's exact length (RFC 7518 §6.2.1.2).
    EcPoint,
    /// Two different keys in one set have the same `kid` (RFC 7517 §4.5: ambiguous).
    DuplicateKid,
    /// A PEM input holds no usable RSA or ECDSA key (upstream: `data does not contain any
    /// valid RSA or ECDSA public keys`).
    NoKeys,
    /// The crypto backend rejected the key (size, parameters).
    Backend,
}

/// A claim or header member with the wrong JSON type or an invalid value.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClaimError {
    /// The member has a different JSON type than the one asked for.
    WrongType {
        /// The type the caller asked for.
        expected: JsonType,
        /// The type present in the document.
        found: JsonType,
    },
    /// An array that must hold strings (`aud`, groups) holds something else.
    NonStringElement,
    /// A NumericDate that is not a finite number within ±[`super::MAX_NUMERIC_DATE`] seconds.
    NumericDateOutOfRange,
    /// A number that is not an integer where one is required, or outside `i64`.
    NotAnInteger,
}

/// The JSON value types, for error messages.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonType {
    /// `null`
    Null,
    /// `true` / `false`
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
    /// A string or an array of strings (`aud`, groups).
    StringOrArray,
}

/// A named capacity of the JOSE layer.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoseLimit {
    /// [`super::MAX_TOKEN_LEN`] bytes in one compact token.
    TokenSize,
    /// [`super::MAX_JSON_LEN`] bytes in one JSON document (JWKS, header, claims).
    JsonSize,
    /// [`super::MAX_JSON_DEPTH`] nested arrays/objects.
    JsonDepth,
    /// [`super::MAX_JSON_MEMBERS`] members in the objects open at one time.
    JsonMembers,
    /// [`super::MAX_KID_LEN`] bytes in a `kid`.
    KidLength,
    /// The key set's capacity ([`super::MAX_KEYS`] by default).
    KeySetCapacity,
    /// The caller's [`crate::Scratch`] is too small for the decoded bytes.
    Scratch,
}

impl JoseLimit {
    /// The numeric bound, where one constant defines it.
    pub const fn value(self) -> Option<usize> {
        match self {
            JoseLimit::TokenSize => Some(super::MAX_TOKEN_LEN),
            JoseLimit::JsonSize => Some(super::MAX_JSON_LEN),
            JoseLimit::JsonDepth => Some(super::MAX_JSON_DEPTH),
            JoseLimit::JsonMembers => Some(super::MAX_JSON_MEMBERS),
            JoseLimit::KidLength => Some(super::MAX_KID_LEN),
            JoseLimit::KeySetCapacity | JoseLimit::Scratch => None,
        }
    }

    /// The constant's name, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            JoseLimit::TokenSize => "MAX_TOKEN_LEN",
            JoseLimit::JsonSize => "MAX_JSON_LEN",
            JoseLimit::JsonDepth => "MAX_JSON_DEPTH",
            JoseLimit::JsonMembers => "MAX_JSON_MEMBERS",
            JoseLimit::KidLength => "MAX_KID_LEN",
            JoseLimit::KeySetCapacity => "key set capacity",
            JoseLimit::Scratch => "scratch buffer size",
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonType::Null => "null",
            JsonType::Bool => "boolean",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
            JsonType::StringOrArray => "string or array of strings",
        })
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::Segments => {
                "token is not a compact JWS (expected header.payload.signature with a non-empty header)"
            }
            Malformed::Base64 => {
                "invalid base64url (padding, characters outside the URL-safe alphabet, whitespace or non-zero trailing bits)"
            }
            Malformed::Utf8 => "JSON is not valid UTF-8",
            Malformed::JsonSyntax => "invalid JSON",
            Malformed::NotAnObject => "JSON value is not an object",
            Malformed::DuplicateMember => "JSON object has a duplicate member name",
            Malformed::InvalidEscape => "invalid escape sequence in a JSON string",
            Malformed::LoneSurrogate => "JSON string has an unpaired UTF-16 surrogate escape",
            Malformed::NulCharacter => "JSON string contains U+0000",
            Malformed::MissingAlg => "JWS header has no \"alg\"",
            Malformed::HeaderMember => "JWS header member alg, kid, typ or cty is not a string",
            Malformed::Pem => "invalid PEM",
            Malformed::Der => "PEM block does not contain the DER structure its label names",
            Malformed::Jwk => "JWK member missing or of the wrong type",
        })
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unsupported::AlgNone => "unsecured JWS (alg \"none\") is never accepted",
            Unsupported::Hmac => "HMAC algorithms (HS256/HS384/HS512) are not supported",
            Unsupported::UnknownAlgorithm => "unknown JWS algorithm",
            Unsupported::AlgorithmNotAllowed => "JWS algorithm is not in the configured allow-list",
            Unsupported::Critical => "JWS header has \"crit\"; no critical extension is supported",
            Unsupported::UnencodedPayload => "JWS unencoded payload (\"b64\") is not supported",
            Unsupported::Compression => "\"zip\" is not supported",
            Unsupported::Jwe => "token is a JWE; only JWS is supported",
            Unsupported::JsonSerialization => {
                "JWS JSON serialization is not supported; only the compact form"
            }
            Unsupported::NestedJwt => "nested JWT (cty \"JWT\") is not supported",
            Unsupported::KeyType => "key type or curve is not supported",
            Unsupported::BackendAlgorithm => "the crypto backend does not implement the algorithm",
        })
    }
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyProblem::Use => "JWK \"use\" is not \"sig\"",
            KeyProblem::KeyOps => "JWK \"key_ops\" does not allow \"verify\"",
            KeyProblem::Alg => {
                "JWK \"alg\" does not fit the key or is not a JWS signature algorithm"
            }
            KeyProblem::RsaModulus => {
                "RSA modulus must be odd, 2048 to 8192 bits, without leading zero octets"
            }
            KeyProblem::RsaExponent => "RSA public exponent must be odd and between 3 and 2^31-1",
            KeyProblem::EcPoint => "EC public key is not a valid uncompressed point on its curve",
            KeyProblem::DuplicateKid => "two different keys have the same kid",
            KeyProblem::NoKeys => "data does not contain any valid RSA or ECDSA public keys",
            KeyProblem::Backend => "the crypto backend rejected the key",
        })
    }
}

impl fmt::Display for ClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimError::WrongType { expected, found } => {
                write!(f, "wrong JSON type: expected {expected}, found {found}")
            }
            ClaimError::NonStringElement => f.write_str("array element is not a string"),
            ClaimError::NumericDateOutOfRange => {
                f.write_str("NumericDate is not a finite number of seconds in range")
            }
            ClaimError::NotAnInteger => f.write_str("number is not an integer in range"),
        }
    }
}

impl fmt::Display for JoseLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value() {
            Some(v) => write!(f, "{} ({v})", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

impl fmt::Display for JoseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoseError::Malformed(m) => write!(f, "malformed: {m}"),
            JoseError::Unsupported(u) => write!(f, "unsupported: {u}"),
            JoseError::BadSignature => f.write_str("invalid signature"),
            JoseError::UnknownKid => f.write_str("invalid signature, no keys found"),
            JoseError::NoMatchingKey => {
                f.write_str("no configured key fits the token's algorithm (key type, curve or alg)")
            }
            JoseError::KeyRejected(k) => write!(f, "key rejected: {k}"),
            JoseError::Claim(c) => write!(f, "invalid claim: {c}"),
            JoseError::LimitExceeded(l) => write!(f, "limit exceeded: {l}"),
        }
    }
}

impl core::error::Error for JoseError {}

impl From<Malformed> for JoseError {
    fn from(m: Malformed) -> Self {
        JoseError::Malformed(m)
    }
}

impl From<Unsupported> for JoseError {
    fn from(u: Unsupported) -> Self {
        JoseError::Unsupported(u)
    }
}

impl From<ClaimError> for JoseError {
    fn from(c: ClaimError) -> Self {
        JoseError::Claim(c)
    }
}

impl From<KeyProblem> for JoseError {
    fn from(k: KeyProblem) -> Self {
        JoseError::KeyRejected(k)
    }
}

impl From<JoseLimit> for JoseError {
    fn from(l: JoseLimit) -> Self {
        JoseError::LimitExceeded(l)
    }
}
