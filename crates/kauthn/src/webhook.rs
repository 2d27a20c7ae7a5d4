//! Webhook token authentication: the TokenReview codec and an authenticator over an
//! embedder-supplied HTTP transport (kube-apiserver `--authentication-token-webhook-*`).
//!
//! Upstream: `k8s.io/apiserver/plugin/pkg/authenticator/token/webhook/webhook.go` (the
//! authenticator), `k8s.io/apiserver/pkg/util/webhook` (client and retries),
//! `k8s.io/api/authentication/{v1,v1beta1}/types.go` (the wire shape). Spec §9.
//!
//! # Division of work
//! The core encodes the request and decodes the answer; the embedder does the HTTP. Its
//! [`WebhookTransport`] POSTs the body the core gives it (`Content-Type: application/json`)
//! to the kubeconfig's server URL with the kubeconfig's TLS and credentials, and writes the
//! response body into the buffer the core gives it. Everything about the connection is the
//! transport's job, as it is `rest.Client`'s upstream:
//! * retries with upstream's backoff (500 ms × 1.5, jitter 0.2, 5 steps) on connection resets,
//!   HTTP 500, 504, 429 and `Retry-After`, and no retry on other statuses;
//! * the 30 s timeout, TLS (mutual TLS, server trust: upstream's `TestV1TLSConfig`);
//! * turning a non-2xx answer into [`TransportError::Status`].
//!
//! Any transport error makes the authenticator reject the token (upstream: every transport
//! or HTTP error is an ERROR, never "not mine"). So of upstream's
//! `TestV1WebhookCacheAndRetry` (§13.9) the call counts (5 for 500 and 429, 1 for 404) belong
//! to the transport; the error/ok results and the caching of them are tested here.
//!
//! # The request
//! [`encode_token_review`] writes exactly what Go's `json.Encoder` writes for the
//! `TokenReview` upstream sends (HEAD apimachinery, which omits `creationTimestamp`):
//! `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"spec":{"token":"…","audiences":[…]},"status":{"user":{}}}`
//! followed by the newline `Encoder.Encode` appends. Strings are escaped as `encoding/json`
//! does by default: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as
//! `\u00XX`, `<`, `>`, `&` and U+2028/U+2029 as `\uXXXX`, and each byte of invalid UTF-8 as
//! `\ufffd`. `token` and `audiences` are omitted when empty (`omitempty`).
//!
//! # The response
//! [`decode_token_review`] reads `kind`, `apiVersion` and `status` with upstream's rules:
//! `null` is the zero value, unknown members are ignored, a member of the wrong type is an
//! error (`json: cannot unmarshal … into Go struct field …`). The authenticator then applies
//! §9's semantics in upstream's order:
//! 1. when the request context carries audiences, `auds` = the status audiences (or, when
//!    the status has none, the implicit API audiences) that are among the context's, in the
//!    status's order (`wantAuds.Intersect(gotAuds)`); none: *not mine*, whatever the status
//!    says;
//! 2. `authenticated: false`: rejected with `status.error` when it is non-empty (see
//!    [`WebhookError::Denied`]), otherwise *not mine*; user info is ignored;
//! 3. otherwise the user (name, uid, groups, extra) with `auds` as the audiences.
//!
//! # The denial message
//! [`Error`] is `Copy` and borrows nothing, and aggregates of it travel through unions and
//! caches, so it cannot hold the webhook's free-form `status.error`. Two channels carry it:
//! * [`WebhookTokenAuthenticator::review_into`] returns the full text, borrowed from the
//!   caller's [`Scratch`] (the response body lives there), next to the verdict;
//! * the error itself keeps a [`MessageExcerpt`]: the first [`MESSAGE_EXCERPT_LEN`] bytes,
//!   cut at a character boundary, so an aggregate logged after a union still says what the
//!   webhook said (exactly, for short messages such as `token expired`; with `…` appended
//!   when cut). This keeps [`Error`] at its size (24 bytes), which every verdict carries.
//!
//! # Deviations from upstream
//! * Member names are matched exactly, as `sigs.k8s.io/json` (which apimachinery decodes
//!   with) does, but a duplicate member is an error (the shared JSON reader rejects them;
//!   Go lets the last one win), as are `\u0000` escapes and unpaired surrogates.
//! * `apiVersion`, when present, must be the requested one and `kind`, when present,
//!   `TokenReview` (upstream's codec fails to convert a response of another version).
//! * The decoded user is bounded by [`crate::MAX_GROUPS`], [`crate::MAX_EXTRA_VALUES`] and
//!   [`crate::MAX_AUDIENCES`]; more is [`Error::LimitExceeded`]. Responses larger than the
//!   free scratch space (at most [`crate::jose::MAX_JSON_LEN`]) are rejected.
//! * A transport error's text is the transport's classification ([`TransportError`]), not
//!   client-go's message.
//! * The default version is `v1beta1`, the flag default in the upstream version read (spec
//!   §15); kube-apiserver will move to `v1`.

use core::fmt;

use crate::authenticator::{Context, TokenAuthenticator, Verdict};
use crate::error::{Error, Limit};
use crate::jose::{JoseError, JsonObject, JsonType, JsonValue, parse_object};
use crate::scratch::Scratch;
use crate::user::{Audiences, Response, User};

/// The API group of TokenReview.
pub const TOKEN_REVIEW_GROUP: &str = "authentication.k8s.io";
/// The kind name of TokenReview.
pub const TOKEN_REVIEW_KIND: &str = "TokenReview";

/// Which `authentication.k8s.io` version the webhook speaks
/// (`--authentication-token-webhook-version`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TokenReviewVersion {
    /// `authentication.k8s.io/v1`.
    V1,
    /// `authentication.k8s.io/v1beta1`, the flag's default in the upstream version read.
    #[default]
    V1Beta1,
}

impl TokenReviewVersion {
    /// The `apiVersion` string (`authentication.k8s.io/v1`).
    pub const fn api_version(self) -> &'static str {
        match self {
            TokenReviewVersion::V1 => "authentication.k8s.io/v1",
            TokenReviewVersion::V1Beta1 => "authentication.k8s.io/v1beta1",
        }
    }

    /// The flag value (`v1`, `v1beta1`).
    pub const fn flag_value(self) -> &'static str {
        match self {
            TokenReviewVersion::V1 => "v1",
            TokenReviewVersion::V1Beta1 => "v1beta1",
        }
    }

    /// Parses `--authentication-token-webhook-version`; anything but `v1` and `v1beta1` is
    /// upstream's error.
    pub fn from_flag(value: &str) -> Result<Self, UnsupportedWebhookVersion<'_>> {
        match value {
            "v1" => Ok(TokenReviewVersion::V1),
            "v1beta1" => Ok(TokenReviewVersion::V1Beta1),
            other => Err(UnsupportedWebhookVersion(other)),
        }
    }
}

/// A `--authentication-token-webhook-version` value other than `v1` and `v1beta1`; displays
/// upstream's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsupportedWebhookVersion<'s>(pub &'s str);

impl fmt::Display for UnsupportedWebhookVersion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unsupported authentication webhook version {:?}, supported versions are \"v1\", \"v1beta1\"",
            self.0
        )
    }
}

impl core::error::Error for UnsupportedWebhookVersion<'_> {}

// ---------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------

/// Why the embedder's transport could not get a TokenReview answer. Whatever the cause, the
/// token is rejected (upstream returns every transport and HTTP error as an ERROR).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportError {
    /// The webhook answered with this non-2xx HTTP status (after the transport's retries).
    Status(u16),
    /// The response body does not fit the buffer the core lent (size the [`Scratch`] for
    /// the largest answer expected).
    ResponseTooLarge,
    /// No answer in time.
    Timeout,
    /// The connection failed or was reset.
    Connection,
    /// The TLS handshake failed (server not trusted, or the server refused the client).
    Tls,
    /// Any other failure.
    Other,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Status(code) => {
                write!(f, "webhook answered with HTTP status {code}")
            }
            TransportError::ResponseTooLarge => {
                f.write_str("webhook response does not fit the response buffer")
            }
            TransportError::Timeout => f.write_str("webhook request timed out"),
            TransportError::Connection => f.write_str("webhook connection failed"),
            TransportError::Tls => f.write_str("webhook TLS handshake failed"),
            TransportError::Other => f.write_str("webhook request failed"),
        }
    }
}

/// The HTTP client of a webhook, implemented by the embedder (see the module docs for what
/// it must do).
pub trait WebhookTransport {
    /// POSTs `body` (`Content-Type: application/json`) to the webhook and writes the 2xx
    /// response's body into `response`, returning its length. A body longer than
    /// `response` is [`TransportError::ResponseTooLarge`]; a final non-2xx status is
    /// [`TransportError::Status`].
    fn post(&self, body: &[u8], response: &mut [u8]) -> Result<usize, TransportError>;
}

impl<T: WebhookTransport + ?Sized> WebhookTransport for &T {
    fn post(&self, body: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        (**self).post(body, response)
    }
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// Bytes of the webhook's `status.error` an [`Error`] keeps (see the module docs).
pub const MESSAGE_EXCERPT_LEN: usize = 20;

/// The start of a message, inline and `Copy`: at most [`MESSAGE_EXCERPT_LEN`] bytes cut at a
/// character boundary. `Display` writes it, followed by `…` when it was cut.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageExcerpt {
    bytes: [u8; MESSAGE_EXCERPT_LEN],
    // Bytes used; the top bit records that the message was longer.
    len: u8,
}

const CUT: u8 = 0x80;

impl MessageExcerpt {
    /// The excerpt of `message`.
    pub fn new(message: &str) -> Self {
        let mut end = message.len().min(MESSAGE_EXCERPT_LEN);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; MESSAGE_EXCERPT_LEN];
        let head = message.as_bytes().get(..end).unwrap_or_default();
        if let Some(dst) = bytes.get_mut(..end) {
            dst.copy_from_slice(head);
        }
        // end <= MESSAGE_EXCERPT_LEN < 0x80.
        let mut len = u8::try_from(end).unwrap_or(0);
        if end < message.len() {
            len |= CUT;
        }
        MessageExcerpt { bytes, len }
    }

    /// The kept text.
    pub fn as_str(&self) -> &str {
        let n = usize::from(self.len & !CUT);
        // Cut at a character boundary of a str, so always UTF-8.
        core::str::from_utf8(self.bytes.get(..n).unwrap_or_default()).unwrap_or_default()
    }

    /// True when the message was longer than the excerpt.
    pub fn is_cut(&self) -> bool {
        self.len & CUT != 0
    }
}

impl fmt::Display for MessageExcerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.is_cut() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl fmt::Debug for MessageExcerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MessageExcerpt")
            .field(&self.as_str())
            .field(&self.is_cut())
            .finish()
    }
}

/// A member of the TokenReview response, for type errors.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReviewField {
    /// `kind`
    Kind,
    /// `apiVersion`
    ApiVersion,
    /// `status`
    Status,
    /// `status.authenticated`
    Authenticated,
    /// `status.user`
    User,
    /// `status.user.username`
    Username,
    /// `status.user.uid`
    Uid,
    /// `status.user.groups`
    Groups,
    /// An element of `status.user.groups`.
    Group,
    /// `status.user.extra`
    Extra,
    /// The value list of one `status.user.extra` key.
    ExtraValues,
    /// An element of an extra value list.
    ExtraValue,
    /// `status.audiences`
    Audiences,
    /// An element of `status.audiences`.
    Audience,
    /// `status.error`
    Error,
}

impl ReviewField {
    /// The path Go's decoder names (`TokenReview.status.user.groups`).
    pub const fn path(self) -> &'static str {
        match self {
            ReviewField::Kind => "TokenReview.kind",
            ReviewField::ApiVersion => "TokenReview.apiVersion",
            ReviewField::Status => "TokenReview.status",
            ReviewField::Authenticated => "TokenReview.status.authenticated",
            ReviewField::User => "TokenReview.status.user",
            ReviewField::Username => "TokenReview.status.user.username",
            ReviewField::Uid => "TokenReview.status.user.uid",
            ReviewField::Groups | ReviewField::Group => "TokenReview.status.user.groups",
            ReviewField::Extra | ReviewField::ExtraValues | ReviewField::ExtraValue => {
                "TokenReview.status.user.extra"
            }
            ReviewField::Audiences | ReviewField::Audience => "TokenReview.status.audiences",
            ReviewField::Error => "TokenReview.status.error",
        }
    }

    /// The Go type of the field.
    pub const fn go_type(self) -> &'static str {
        match self {
            ReviewField::Status => "v1.TokenReviewStatus",
            ReviewField::Authenticated => "bool",
            ReviewField::User => "v1.UserInfo",
            ReviewField::Groups | ReviewField::Audiences => "[]string",
            ReviewField::Extra => "map[string]v1.ExtraValue",
            ReviewField::ExtraValues => "v1.ExtraValue",
            ReviewField::Kind
            | ReviewField::ApiVersion
            | ReviewField::Username
            | ReviewField::Uid
            | ReviewField::Group
            | ReviewField::ExtraValue
            | ReviewField::Audience
            | ReviewField::Error => "string",
        }
    }

    const fn expected(self) -> JsonType {
        match self {
            ReviewField::Status | ReviewField::User | ReviewField::Extra => JsonType::Object,
            ReviewField::Authenticated => JsonType::Bool,
            ReviewField::Groups | ReviewField::Audiences | ReviewField::ExtraValues => {
                JsonType::Array
            }
            _ => JsonType::String,
        }
    }
}

fn go_value_name(t: JsonType) -> &'static str {
    // encoding/json's UnmarshalTypeError.Value words.
    match t {
        JsonType::Bool => "bool",
        JsonType::Number => "number",
        JsonType::String => "string",
        JsonType::Array => "array",
        JsonType::Object => "object",
        _ => "value",
    }
}

/// Why the webhook layer did not authenticate a token. `Display` follows upstream where it
/// has a text; no variant carries token bytes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookError {
    /// The transport failed; see [`TransportError`].
    Transport(TransportError),
    /// The webhook answered `authenticated: false` with a non-empty `status.error`
    /// (upstream returns that text as the error). The excerpt keeps its start; the full text
    /// is [`Review::status_error`].
    Denied(MessageExcerpt),
    /// The response is not a JSON object, or exceeds a JSON limit (size, depth, members).
    Json(JoseError),
    /// A response member has the wrong JSON type.
    WrongType {
        /// Which member.
        field: ReviewField,
        /// The type found.
        found: JsonType,
    },
    /// The response's `apiVersion` is not the version requested.
    UnexpectedApiVersion,
    /// The response's `kind` is not `TokenReview`.
    UnexpectedKind,
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookError::Transport(e) => fmt::Display::fmt(e, f),
            WebhookError::Denied(m) => fmt::Display::fmt(m, f),
            WebhookError::Json(e) => write!(f, "webhook response: {e}"),
            WebhookError::WrongType { field, found } => write!(
                f,
                "json: cannot unmarshal {} into Go struct field {} of type {}",
                go_value_name(*found),
                field.path(),
                field.go_type()
            ),
            WebhookError::UnexpectedApiVersion => {
                f.write_str("webhook response has an unexpected apiVersion")
            }
            WebhookError::UnexpectedKind => f.write_str("webhook response kind is not TokenReview"),
        }
    }
}

impl core::error::Error for WebhookError {}

impl From<WebhookError> for Error {
    fn from(e: WebhookError) -> Self {
        Error::Webhook(e)
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Webhook(WebhookError::Transport(e))
    }
}

// ---------------------------------------------------------------------------------------
// Request encoding
// ---------------------------------------------------------------------------------------

trait Sink {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error>;
}

struct Counter(usize);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.0 = self
            .0
            .checked_add(bytes.len())
            .ok_or(Error::LimitExceeded(Limit::Scratch))?;
        Ok(())
    }
}

struct Writer<'b> {
    out: &'b mut [u8],
    at: usize,
}

impl Sink for Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self
            .at
            .checked_add(bytes.len())
            .ok_or(Error::LimitExceeded(Limit::Scratch))?;
        self.out
            .get_mut(self.at..end)
            .ok_or(Error::LimitExceeded(Limit::Scratch))?
            .copy_from_slice(bytes);
        self.at = end;
        Ok(())
    }
}

/// Writes `bytes` as a JSON string the way Go's `encoding/json` does with HTML escaping on.
fn json_string<S: Sink>(s: &mut S, bytes: &[u8]) -> Result<(), Error> {
    s.put(b"\"")?;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut start = 0usize;
        for (i, c) in valid.char_indices() {
            let mut u = [b'\\', b'u', b'0', b'0', b'0', b'0'];
            let esc: &[u8] = match c {
                '"' => b"\\\"",
                '\\' => b"\\\\",
                '\u{8}' => b"\\b",
                '\u{c}' => b"\\f",
                '\n' => b"\\n",
                '\r' => b"\\r",
                '\t' => b"\\t",
                '\u{2028}' => b"\\u2028",
                '\u{2029}' => b"\\u2029",
                '\0'..='\u{1f}' | '<' | '>' | '&' => {
                    // Every character of this arm is below U+0080, so one byte holds it.
                    let [.., h, l] = &mut u;
                    [*h, *l] = crate::hex::hex_pair(u8::try_from(c).unwrap_or(0));
                    &u
                }
                _ => continue,
            };
            s.put(valid.as_bytes().get(start..i).unwrap_or_default())?;
            s.put(esc)?;
            start = i + c.len_utf8();
        }
        s.put(valid.as_bytes().get(start..).unwrap_or_default())?;
        for _ in chunk.invalid() {
            s.put(b"\\ufffd")?;
        }
    }
    s.put(b"\"")
}

fn write_review<S: Sink>(
    s: &mut S,
    version: TokenReviewVersion,
    token: &[u8],
    audiences: &[&str],
) -> Result<(), Error> {
    s.put(b"{\"kind\":\"TokenReview\",\"apiVersion\":\"")?;
    s.put(version.api_version().as_bytes())?;
    s.put(b"\",\"metadata\":{},\"spec\":{")?;
    if !token.is_empty() {
        s.put(b"\"token\":")?;
        json_string(s, token)?;
    }
    if !audiences.is_empty() {
        if !token.is_empty() {
            s.put(b",")?;
        }
        s.put(b"\"audiences\":[")?;
        for (i, aud) in audiences.iter().enumerate() {
            if i > 0 {
                s.put(b",")?;
            }
            json_string(s, aud.as_bytes())?;
        }
        s.put(b"]")?;
    }
    s.put(b"},\"status\":{\"user\":{}}}\n")
}

/// The length of the request [`encode_token_review`] writes.
pub fn token_review_len(
    version: TokenReviewVersion,
    token: &[u8],
    audiences: &[&str],
) -> Result<usize, Error> {
    let mut c = Counter(0);
    write_review(&mut c, version, token, audiences)?;
    Ok(c.0)
}

/// Writes the TokenReview request for `token` and `audiences` (the request context's, empty
/// when it has none) into `out` and returns its length. Too small a buffer is
/// [`Error::LimitExceeded`] with [`Limit::Scratch`]; [`token_review_len`] gives the size.
pub fn encode_token_review(
    version: TokenReviewVersion,
    token: &[u8],
    audiences: &[&str],
    out: &mut [u8],
) -> Result<usize, Error> {
    let mut w = Writer { out, at: 0 };
    write_review(&mut w, version, token, audiences)?;
    Ok(w.at)
}

// ---------------------------------------------------------------------------------------
// Response decoding
// ---------------------------------------------------------------------------------------

/// The parts of a decoded `TokenReviewStatus` other than the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewStatus<'a> {
    /// `status.authenticated`.
    pub authenticated: bool,
    /// `status.audiences`, in order.
    pub audiences: Audiences<'a>,
    /// `status.error`; empty when absent.
    pub error: &'a str,
}

fn wrong(field: ReviewField, found: &JsonValue<'_>) -> Error {
    Error::Webhook(WebhookError::WrongType {
        field,
        found: found.json_type(),
    })
}

/// A member with `null` read as absent (Go leaves the zero value).
fn member<'a>(obj: &JsonObject<'a>, name: &str) -> Option<JsonValue<'a>> {
    obj.get(name).filter(|v| !matches!(v, JsonValue::Null))
}

fn typed<'a>(v: Option<JsonValue<'a>>, field: ReviewField) -> Result<Option<JsonValue<'a>>, Error> {
    match v {
        None => Ok(None),
        Some(v) if v.json_type() == field.expected() => Ok(Some(v)),
        Some(v) => Err(wrong(field, &v)),
    }
}

fn string<'a>(obj: &JsonObject<'a>, name: &str, field: ReviewField) -> Result<&'a str, Error> {
    Ok(match typed(member(obj, name), field)? {
        Some(JsonValue::String(s)) => s,
        _ => "",
    })
}

/// An element of a string list: `null` is `""`, as Go decodes it.
fn element<'a>(v: JsonValue<'a>, field: ReviewField) -> Result<&'a str, Error> {
    match v {
        JsonValue::String(s) => Ok(s),
        JsonValue::Null => Ok(""),
        other => Err(wrong(field, &other)),
    }
}

fn decode_user<'a>(user_obj: &JsonObject<'a>, mut out: Option<&mut User<'a>>) -> Result<(), Error> {
    let name = string(user_obj, "username", ReviewField::Username)?;
    let uid = string(user_obj, "uid", ReviewField::Uid)?;
    if let Some(u) = out.as_deref_mut() {
        u.name = name;
        u.uid = uid;
    }
    if let Some(JsonValue::Array(groups)) = typed(member(user_obj, "groups"), ReviewField::Groups)?
    {
        for g in groups.iter() {
            let g = element(g, ReviewField::Group)?;
            if let Some(u) = out.as_deref_mut() {
                u.groups.push(g)?;
            }
        }
    }
    if let Some(JsonValue::Object(extra)) = typed(member(user_obj, "extra"), ReviewField::Extra)? {
        for (key, values) in extra.members() {
            let values = match values {
                JsonValue::Null => None,
                JsonValue::Array(a) => Some(a),
                other => return Err(wrong(ReviewField::ExtraValues, &other)),
            };
            if let Some(u) = out.as_deref_mut() {
                u.extra.push_key(key)?;
            }
            for v in values.iter().flat_map(|a| a.iter()) {
                let v = element(v, ReviewField::ExtraValue)?;
                if let Some(u) = out.as_deref_mut() {
                    u.extra.push(key, v)?;
                }
            }
        }
    }
    Ok(())
}

/// Decodes a TokenReview response of `version`. The user is written into `user` (cleared
/// first) only when `status.authenticated` is true: upstream ignores user info in a negative
/// answer, though its types are still checked. Strings borrow from `body`, or from
/// `scratch` when they had escapes.
pub fn decode_token_review<'a>(
    version: TokenReviewVersion,
    body: &'a [u8],
    scratch: &mut Scratch<'a>,
    user: &mut User<'a>,
) -> Result<ReviewStatus<'a>, Error> {
    user.clear();
    let doc = parse_object(body, scratch).map_err(|e| match e {
        JoseError::LimitExceeded(crate::jose::JoseLimit::Scratch) => {
            Error::LimitExceeded(Limit::Scratch)
        }
        e => Error::Webhook(WebhookError::Json(e)),
    })?;
    let api_version = string(&doc, "apiVersion", ReviewField::ApiVersion)?;
    if !api_version.is_empty() && api_version != version.api_version() {
        return Err(WebhookError::UnexpectedApiVersion.into());
    }
    let kind = string(&doc, "kind", ReviewField::Kind)?;
    if !kind.is_empty() && kind != TOKEN_REVIEW_KIND {
        return Err(WebhookError::UnexpectedKind.into());
    }
    let mut status = ReviewStatus::default();
    let Some(JsonValue::Object(st)) = typed(member(&doc, "status"), ReviewField::Status)? else {
        return Ok(status);
    };
    if let Some(JsonValue::Bool(b)) =
        typed(member(&st, "authenticated"), ReviewField::Authenticated)?
    {
        status.authenticated = b;
    }
    if let Some(JsonValue::Object(u)) = typed(member(&st, "user"), ReviewField::User)? {
        decode_user(&u, status.authenticated.then_some(&mut *user))?;
    }
    if let Some(JsonValue::Array(auds)) = typed(member(&st, "audiences"), ReviewField::Audiences)? {
        for a in auds.iter() {
            status.audiences.push(element(a, ReviewField::Audience)?)?;
        }
    }
    status.error = string(&st, "error", ReviewField::Error)?;
    Ok(status)
}

// ---------------------------------------------------------------------------------------
// The authenticator
// ---------------------------------------------------------------------------------------

/// A webhook's verdict with the full `status.error` text.
// The verdict is a few hundred bytes inline by design (no heap).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Review<'a> {
    /// The verdict [`TokenAuthenticator::authenticate_token_into`] returns.
    pub verdict: Verdict,
    /// The webhook's `status.error` when it denied the token with a message (the verdict is
    /// then [`WebhookError::Denied`]); borrowed from the caller's [`Scratch`].
    pub status_error: Option<&'a str>,
}

/// kube-apiserver's webhook token authenticator (`--authentication-token-webhook-config-file`).
///
/// ```
/// use kauthn::{
///     Context, Scratch, TokenAuthenticator, TokenReviewVersion, TransportError, UnixTime,
///     WebhookTokenAuthenticator, WebhookTransport,
/// };
///
/// /// The embedder's HTTP client (here: a canned answer).
/// struct Client;
/// impl WebhookTransport for Client {
///     fn post(&self, _body: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
///         let answer = br#"{"status":{"authenticated":true,"user":{"username":"jane"}}}"#;
///         let dst = response.get_mut(..answer.len()).ok_or(TransportError::ResponseTooLarge)?;
///         dst.copy_from_slice(answer);
///         Ok(answer.len())
///     }
/// }
///
/// let webhook = WebhookTokenAuthenticator::new(Client, TokenReviewVersion::V1);
/// let mut buf = [0u8; 4096];
/// let ctx = Context::at(UnixTime::from_secs(1_800_000_000));
/// let outcome = webhook.authenticate_token(b"opaque-token", &ctx, &mut Scratch::new(&mut buf));
/// assert_eq!(outcome.into_response().map(|r| r.user.name), Some("jane"));
/// ```
///
/// Each call borrows the free space of the caller's [`Scratch`]: the request body is written
/// at its end for the duration of the call, the response body at its start and kept (the
/// user borrows from it), and escaped strings after that. Size the scratch for the token
/// (up to six bytes per byte when escaped), the largest response expected and its escapes.
/// Nothing is allocated. kube-apiserver wraps it in a cache
/// ([`crate::CacheConfig::webhook`]): successes and "not mine" kept for the TTL, errors never.
#[derive(Clone, Debug)]
pub struct WebhookTokenAuthenticator<'c, T> {
    transport: T,
    version: TokenReviewVersion,
    implicit_audiences: &'c [&'c str],
}

impl<'c, T: WebhookTransport> WebhookTokenAuthenticator<'c, T> {
    /// An authenticator speaking `version` through `transport`, with no implicit audiences.
    pub fn new(transport: T, version: TokenReviewVersion) -> Self {
        WebhookTokenAuthenticator {
            transport,
            version,
            implicit_audiences: &[],
        }
    }

    /// The same authenticator with the API server's audiences (`--api-audiences`), which
    /// upstream assumes a webhook answering without `status.audiences` was checking.
    pub fn with_implicit_audiences(self, implicit_audiences: &'c [&'c str]) -> Self {
        WebhookTokenAuthenticator {
            implicit_audiences,
            ..self
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The TokenReview version spoken.
    pub fn version(&self) -> TokenReviewVersion {
        self.version
    }

    /// Authenticates `token` like [`TokenAuthenticator::authenticate_token_into`] and also
    /// returns the webhook's full `status.error` when it denied the token.
    pub fn review_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Review<'a> {
        out.clear();
        match self.review(token, ctx, scratch, out) {
            Ok(review) => review,
            Err(e) => {
                out.clear();
                Review {
                    verdict: Verdict::rejected(e),
                    status_error: None,
                }
            }
        }
    }

    fn review<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Result<Review<'a>, Error> {
        let want = ctx.audiences;
        let body_len = token_review_len(self.version, token, want)?;
        // The request goes at the end of the free space and is released after the call; the
        // response fills the start and is kept.
        let (body, ()) = scratch.fill_with(|free| {
            let split = free
                .len()
                .checked_sub(body_len)
                .ok_or(Error::LimitExceeded(Limit::Scratch))?;
            let (response, request) = free.split_at_mut(split);
            encode_token_review(self.version, token, want, request)?;
            let n = self.transport.post(request, response)?;
            if n > response.len() {
                return Err(TransportError::ResponseTooLarge.into());
            }
            Ok::<_, Error>((n, ()))
        })?;
        let body: &'a [u8] = body;
        let status = decode_token_review(self.version, body, scratch, &mut out.user)?;

        // Upstream checks audiences before looking at `authenticated`.
        if !want.is_empty() {
            let got: &[&'a str] = if status.audiences.is_empty() {
                self.implicit_audiences
            } else {
                status.audiences.as_slice()
            };
            out.audiences = Audiences::intersect(want, got)?;
            if out.audiences.is_empty() {
                out.clear();
                return Ok(Review {
                    verdict: Verdict::NotMine(None),
                    status_error: None,
                });
            }
        }
        if !status.authenticated {
            out.clear();
            if status.error.is_empty() {
                return Ok(Review {
                    verdict: Verdict::NotMine(None),
                    status_error: None,
                });
            }
            return Ok(Review {
                verdict: Verdict::rejected(
                    WebhookError::Denied(MessageExcerpt::new(status.error)).into(),
                ),
                status_error: Some(status.error),
            });
        }
        Ok(Review {
            verdict: Verdict::Authenticated,
            status_error: None,
        })
    }
}

impl<T: WebhookTransport> TokenAuthenticator for WebhookTokenAuthenticator<'_, T> {
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        self.review_into(token, ctx, scratch, out).verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_at_a_character_boundary() {
        let e = MessageExcerpt::new("token expired");
        assert_eq!((e.as_str(), e.is_cut()), ("token expired", false));
        let long = "ééééééééééééé"; // 26 bytes
        let e = MessageExcerpt::new(long);
        assert_eq!(e.as_str(), "éééééééééé");
        assert!(e.is_cut());
    }

    #[test]
    fn the_error_enum_keeps_its_size() {
        assert!(core::mem::size_of::<Error>() <= 24);
    }
}
