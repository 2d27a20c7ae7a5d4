//! The Kubernetes API objects kauthn reads and writes, their JSON and protobuf encodings,
//! content negotiation, and kube-apiserver's 401/403 `Status` texts.
//!
//! JSON goes through k8s-openapi's types; protobuf through k8s-pb's generated messages
//! inside the `k8s\0` + `runtime.Unknown` envelope (upstream
//! `k8s.io/apimachinery/pkg/runtime/serializer/protobuf`). kubectl sends its
//! SelfSubjectReview as protobuf and accepts protobuf or JSON back.

use bytes::Bytes;
use k8s_openapi::api::authentication::v1 as authn;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use prost::Message;

use crate::chain::AuthUser;

/// `application/json`.
pub const JSON: &str = "application/json";
/// `application/vnd.kubernetes.protobuf`.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
/// The protobuf envelope's magic prefix.
pub const PROTOBUF_MAGIC: &[u8] = b"k8s\x00";
/// What kube-apiserver lists when it cannot decode or produce a media type.
pub const ACCEPTED_MEDIA_TYPES: &str =
    "application/json, application/yaml, application/vnd.kubernetes.protobuf";

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// Kubernetes protobuf.
    Protobuf,
}

impl Format {
    /// The Content-Type of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => JSON,
            Format::Protobuf => PROTOBUF,
        }
    }
}

fn media_type(s: &str) -> (String, f32) {
    let mut parts = s.split(';');
    let mt = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let mut q = 1.0f32;
    for p in parts {
        if let Some(v) = p.trim().strip_prefix("q=") {
            q = v.trim().parse().unwrap_or(0.0);
        }
    }
    (mt, q)
}

/// The response format for an `Accept` header: the highest-quality supported type, the
/// first on ties; `None` when nothing offered is supported (406). No header means JSON.
pub fn negotiate_accept(accept: Option<&str>) -> Option<Format> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Format::Json);
    };
    let mut best: Option<(Format, f32)> = None;
    for item in accept.split(',') {
        let (mt, q) = media_type(item);
        let f = match mt.as_str() {
            JSON | "*/*" | "application/*" => Format::Json,
            PROTOBUF => Format::Protobuf,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(_, bq)| q > bq) {
            best = Some((f, q));
        }
    }
    best.map(|(f, _)| f)
}

/// The request body format for a `Content-Type` (none means JSON); `None` when
/// unsupported (415).
pub fn content_type_format(ct: Option<&str>) -> Option<Format> {
    let Some(ct) = ct.filter(|c| !c.trim().is_empty()) else {
        return Some(Format::Json);
    };
    match media_type(ct).0.as_str() {
        JSON => Some(Format::Json),
        PROTOBUF => Some(Format::Protobuf),
        _ => None,
    }
}

/// Go's `%q` for a string: what kube-apiserver's messages quote names and paths with.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What kube-apiserver's request-info factory makes of a request, as far as the 403
/// message needs it. Upstream: `k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// A resource request (under `/api/<v>/…` or `/apis/<g>/<v>/…`).
    pub is_resource: bool,
    /// The verb (`get`, `list`, `create`, … for resources; the lower-cased method else).
    pub verb: String,
    /// The API group.
    pub group: String,
    /// The namespace.
    pub namespace: String,
    /// The resource.
    pub resource: String,
    /// The subresource.
    pub subresource: String,
    /// The object name.
    pub name: String,
}

impl RequestInfo {
    /// Parses `method`, `path` and `query` as `RequestInfoFactory.NewRequestInfo` does.
    pub fn new(method: &str, path: &str, query: &str) -> Self {
        let non_resource = RequestInfo {
            verb: method.to_ascii_lowercase(),
            ..RequestInfo::default()
        };
        let trimmed = path.trim_matches('/');
        let parts: Vec<&str> = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('/').collect()
        };
        let Some((&prefix, rest)) = parts.split_first().filter(|_| parts.len() >= 3) else {
            return non_resource;
        };
        let mut info = RequestInfo {
            is_resource: true,
            ..RequestInfo::default()
        };
        let rest = match prefix {
            "api" => rest,
            "apis" => match rest {
                [group, tail @ ..] if tail.len() >= 2 => {
                    info.group = (*group).to_string();
                    tail
                }
                _ => return non_resource,
            },
            _ => return non_resource,
        };
        // rest = [version, ...]
        let mut rest = match rest.split_first() {
            Some((_, tail)) if !tail.is_empty() => tail,
            _ => return non_resource,
        };
        match rest {
            [verb @ ("proxy" | "watch"), tail @ ..] if !tail.is_empty() => {
                info.verb = (*verb).to_string();
                rest = tail;
            }
            ["proxy" | "watch"] => return non_resource,
            _ => {
                info.verb = match method {
                    "POST" => "create",
                    "GET" | "HEAD" => "get",
                    "PUT" => "update",
                    "PATCH" => "patch",
                    "DELETE" => "delete",
                    _ => "",
                }
                .to_string();
            }
        }
        if let ["namespaces", ns, tail @ ..] = rest {
            info.namespace = (*ns).to_string();
            if let Some(sub) = tail.first()
                && *sub != "status"
                && *sub != "finalize"
            {
                rest = tail;
            }
        }
        info.resource = rest.first().map(|s| (*s).to_string()).unwrap_or_default();
        info.name = rest.get(1).map(|s| (*s).to_string()).unwrap_or_default();
        if rest.len() >= 3 {
            info.subresource = rest.get(2).map(|s| (*s).to_string()).unwrap_or_default();
        }
        let watch = query
            .split('&')
            .any(|kv| kv == "watch=true" || kv == "watch=1" || kv == "watch");
        if info.name.is_empty() && info.verb == "get" {
            info.verb = if watch { "watch" } else { "list" }.to_string();
        }
        if info.name.is_empty() && info.verb == "delete" {
            info.verb = "deletecollection".to_string();
        }
        info
    }

    /// The message and details of kube-apiserver's 403 for `user` (there is no authorizer,
    /// so every authenticated request that reaches here is denied). Upstream:
    /// `pkg/endpoints/handlers/responsewriters/errors.go` `forbiddenMessage` and
    /// apimachinery's `NewForbidden`.
    pub fn forbidden(&self, user: &str, path: &str) -> (String, meta::StatusDetails) {
        let user = go_quote(user);
        if !self.is_resource {
            let msg = format!(
                "forbidden: User {user} cannot {} path {}",
                self.verb,
                go_quote(path)
            );
            return (msg, meta::StatusDetails::default());
        }
        let mut resource = self.resource.clone();
        if !self.subresource.is_empty() {
            resource = format!("{resource}/{}", self.subresource);
        }
        let reason = if self.namespace.is_empty() {
            format!(
                "User {user} cannot {} resource {} in API group {} at the cluster scope",
                self.verb,
                go_quote(&resource),
                go_quote(&self.group)
            )
        } else {
            format!(
                "User {user} cannot {} resource {} in API group {} in the namespace {}",
                self.verb,
                go_quote(&resource),
                go_quote(&self.group),
                go_quote(&self.namespace)
            )
        };
        let qualified = if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        let msg = if qualified.is_empty() {
            format!("forbidden: {reason}")
        } else if self.name.is_empty() {
            format!("{qualified} is forbidden: {reason}")
        } else {
            format!(
                "{qualified} {} is forbidden: {reason}",
                go_quote(&self.name)
            )
        };
        let details = meta::StatusDetails {
            name: Some(self.name.clone()).filter(|s| !s.is_empty()),
            group: Some(self.group.clone()).filter(|s| !s.is_empty()),
            kind: Some(self.resource.clone()).filter(|s| !s.is_empty()),
            ..meta::StatusDetails::default()
        };
        (msg, details)
    }
}

/// A failure `Status` (`"status":"Failure"`).
pub fn failure_status(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<meta::StatusDetails>,
) -> meta::Status {
    meta::Status {
        code: Some(i32::from(code)),
        details,
        message: Some(message.to_string()),
        metadata: meta::ListMeta::default(),
        reason: Some(reason.to_string()).filter(|r| !r.is_empty()),
        status: Some("Failure".to_string()),
    }
}

fn json_bytes<T: serde::Serialize>(v: &T, pretty: bool) -> Bytes {
    let mut out = if pretty {
        serde_json::to_vec_pretty(v)
    } else {
        serde_json::to_vec(v)
    }
    .unwrap_or_default();
    out.push(b'\n');
    Bytes::from(out)
}

fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Bytes {
    use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.to_string()),
            kind: Some(kind.to_string()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut out = PROTOBUF_MAGIC.to_vec();
    out.extend_from_slice(&unknown.encode_to_vec());
    Bytes::from(out)
}

/// Opens the protobuf envelope and checks its type; returns the raw message bytes.
fn open_envelope(body: &[u8], api_version: &str, kind: &str) -> Result<Vec<u8>, String> {
    use k8s_pb::apimachinery::pkg::runtime::Unknown;
    let rest = body.strip_prefix(PROTOBUF_MAGIC).ok_or(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]",
    )?;
    let u =
        Unknown::decode(rest).map_err(|e| format!("unable to decode protobuf envelope: {e}"))?;
    if u.content_encoding.as_deref().is_some_and(|e| !e.is_empty()) {
        return Err("unsupported content encoding in protobuf envelope".into());
    }
    let tm = u.type_meta.unwrap_or_default();
    let (got_v, got_k) = (
        tm.api_version.unwrap_or_default(),
        tm.kind.unwrap_or_default(),
    );
    if (!got_k.is_empty() && got_k != kind) || (!got_v.is_empty() && got_v != api_version) {
        return Err(format!(
            "the body of the request has kind {got_k:?} in {got_v:?}, expected {kind:?} in {api_version:?}"
        ));
    }
    Ok(u.raw.unwrap_or_default())
}

/// Encodes a `Status`.
pub fn encode_status(status: &meta::Status, format: Format, pretty: bool) -> Bytes {
    match format {
        Format::Json => json_bytes(status, pretty),
        Format::Protobuf => {
            use k8s_pb::apimachinery::pkg::apis::meta::v1 as pb;
            let details = status.details.as_ref().map(|d| pb::StatusDetails {
                name: d.name.clone(),
                group: d.group.clone(),
                kind: d.kind.clone(),
                uid: d.uid.clone(),
                causes: Vec::new(),
                retry_after_seconds: d.retry_after_seconds,
            });
            let msg = pb::Status {
                metadata: Some(pb::ListMeta::default()),
                status: status.status.clone(),
                message: status.message.clone(),
                reason: status.reason.clone(),
                details,
                code: status.code,
            };
            envelope("v1", "Status", msg.encode_to_vec())
        }
    }
}

fn check_json_type(v: &serde_json::Value, api_version: &str, kind: &str) -> Result<(), String> {
    let got_k = v.get("kind").and_then(|k| k.as_str()).unwrap_or_default();
    let got_v = v
        .get("apiVersion")
        .and_then(|k| k.as_str())
        .unwrap_or_default();
    if (!got_k.is_empty() && got_k != kind) || (!got_v.is_empty() && got_v != api_version) {
        return Err(format!(
            "the body of the request has kind {got_k:?} in {got_v:?}, expected {kind:?} in {api_version:?}"
        ));
    }
    Ok(())
}

const AUTHN_V1: &str = "authentication.k8s.io/v1";

/// Checks a SelfSubjectReview request body (its content is not used: the answer is
/// about the caller).
pub fn decode_self_subject_review(body: &[u8], format: Format) -> Result<(), String> {
    match format {
        Format::Json => {
            let v: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| format!("json parse error: {e}"))?;
            check_json_type(&v, AUTHN_V1, "SelfSubjectReview")?;
            let _: authn::SelfSubjectReview = serde_json::from_value(v)
                .map_err(|e| format!("decoding SelfSubjectReview: {e}"))?;
            Ok(())
        }
        Format::Protobuf => {
            let raw = open_envelope(body, AUTHN_V1, "SelfSubjectReview")?;
            k8s_pb::api::authentication::v1::SelfSubjectReview::decode(raw.as_slice())
                .map_err(|e| format!("decoding SelfSubjectReview: {e}"))?;
            Ok(())
        }
    }
}

/// A decoded TokenReview request: the spec's token and audiences.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenReviewRequest {
    /// `spec.token`.
    pub token: String,
    /// `spec.audiences`.
    pub audiences: Vec<String>,
}

/// Decodes a TokenReview request body.
pub fn decode_token_review(body: &[u8], format: Format) -> Result<TokenReviewRequest, String> {
    match format {
        Format::Json => {
            let v: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| format!("json parse error: {e}"))?;
            check_json_type(&v, AUTHN_V1, "TokenReview")?;
            let tr: authn::TokenReview =
                serde_json::from_value(v).map_err(|e| format!("decoding TokenReview: {e}"))?;
            Ok(TokenReviewRequest {
                token: tr.spec.token.unwrap_or_default(),
                audiences: tr.spec.audiences.unwrap_or_default(),
            })
        }
        Format::Protobuf => {
            let raw = open_envelope(body, AUTHN_V1, "TokenReview")?;
            let tr = k8s_pb::api::authentication::v1::TokenReview::decode(raw.as_slice())
                .map_err(|e| format!("decoding TokenReview: {e}"))?;
            let spec = tr.spec.unwrap_or_default();
            Ok(TokenReviewRequest {
                token: spec.token.unwrap_or_default(),
                audiences: spec.audiences,
            })
        }
    }
}

/// The k8s-openapi `UserInfo` of a user.
pub fn user_info(u: &AuthUser) -> authn::UserInfo {
    authn::UserInfo {
        username: Some(u.name.clone()),
        uid: Some(u.uid.clone()).filter(|s| !s.is_empty()),
        groups: Some(u.groups.clone()).filter(|g| !g.is_empty()),
        extra: Some(u.extra.clone()).filter(|e| !e.is_empty()),
    }
}

fn pb_user_info(u: &AuthUser) -> k8s_pb::api::authentication::v1::UserInfo {
    use k8s_pb::api::authentication::v1 as pb;
    pb::UserInfo {
        username: Some(u.name.clone()),
        uid: Some(u.uid.clone()),
        groups: u.groups.clone(),
        extra: u
            .extra
            .iter()
            .map(|(k, v)| (k.clone(), pb::ExtraValue { items: v.clone() }))
            .collect(),
    }
}

/// Encodes the SelfSubjectReview answer for `user`.
pub fn encode_self_subject_review(user: &AuthUser, format: Format, pretty: bool) -> Bytes {
    match format {
        Format::Json => {
            let r = authn::SelfSubjectReview {
                metadata: meta::ObjectMeta::default(),
                status: Some(authn::SelfSubjectReviewStatus {
                    user_info: Some(user_info(user)),
                }),
            };
            json_bytes(&r, pretty)
        }
        Format::Protobuf => {
            use k8s_pb::api::authentication::v1 as pb;
            let r = pb::SelfSubjectReview {
                metadata: Some(Default::default()),
                status: Some(pb::SelfSubjectReviewStatus {
                    user_info: Some(pb_user_info(user)),
                }),
            };
            envelope(AUTHN_V1, "SelfSubjectReview", r.encode_to_vec())
        }
    }
}

/// A TokenReview's status as kauthn computed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewResult {
    /// The user, when authenticated.
    pub user: Option<AuthUser>,
    /// The error text, when an authenticator rejected the token.
    pub error: Option<String>,
}

/// The k8s-openapi `TokenReviewStatus` of a result.
pub fn token_review_status(r: &ReviewResult) -> authn::TokenReviewStatus {
    authn::TokenReviewStatus {
        authenticated: Some(r.user.is_some()),
        audiences: r
            .user
            .as_ref()
            .map(|u| u.audiences.clone())
            .filter(|a| !a.is_empty()),
        error: r.error.clone(),
        user: Some(r.user.as_ref().map(user_info).unwrap_or_default()),
    }
}

/// Encodes the TokenReview answer: the request's spec echoed (as kube-apiserver does)
/// and the status.
pub fn encode_token_review(
    req: &TokenReviewRequest,
    result: &ReviewResult,
    format: Format,
    pretty: bool,
) -> Bytes {
    match format {
        Format::Json => {
            let r = authn::TokenReview {
                metadata: meta::ObjectMeta::default(),
                spec: authn::TokenReviewSpec {
                    token: Some(req.token.clone()),
                    audiences: Some(req.audiences.clone()).filter(|a| !a.is_empty()),
                },
                status: Some(token_review_status(result)),
            };
            json_bytes(&r, pretty)
        }
        Format::Protobuf => {
            use k8s_pb::api::authentication::v1 as pb;
            let r = pb::TokenReview {
                metadata: Some(Default::default()),
                spec: Some(pb::TokenReviewSpec {
                    token: Some(req.token.clone()),
                    audiences: req.audiences.clone(),
                }),
                status: Some(pb::TokenReviewStatus {
                    authenticated: Some(result.user.is_some()),
                    user: Some(result.user.as_ref().map(pb_user_info).unwrap_or_default()),
                    audiences: result
                        .user
                        .as_ref()
                        .map(|u| u.audiences.clone())
                        .unwrap_or_default(),
                    error: Some(result.error.clone().unwrap_or_default()),
                }),
            };
            envelope(AUTHN_V1, "TokenReview", r.encode_to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_resource_requests_use_the_lower_cased_method() {
        let i = RequestInfo::new("GET", "/", "");
        assert_eq!(
            i.forbidden("myuser", "/").0,
            "forbidden: User \"myuser\" cannot get path \"/\""
        );
        let i = RequestInfo::new("POST", "/healthz/x", "");
        assert_eq!(
            i.forbidden("a", "/healthz/x").0,
            "forbidden: User \"a\" cannot post path \"/healthz/x\""
        );
        let i = RequestInfo::new("GET", "/apis", "");
        assert!(!i.is_resource);
    }

    #[test]
    fn resource_requests_get_kube_apiservers_messages() {
        let i = RequestInfo::new("GET", "/api/v1/namespaces/default/pods", "");
        assert_eq!(
            i.forbidden("alice", "").0,
            "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        let i = RequestInfo::new("GET", "/apis/apps/v1/deployments", "watch=true");
        assert_eq!(
            i.forbidden("alice", "").0,
            "deployments.apps is forbidden: User \"alice\" cannot watch resource \"deployments\" in API group \"apps\" at the cluster scope"
        );
        let i = RequestInfo::new("POST", "/api/v1/namespaces/ns/pods/p1/eviction", "");
        assert_eq!(
            i.forbidden("bob", "").0,
            "pods \"p1\" is forbidden: User \"bob\" cannot create resource \"pods/eviction\" in API group \"\" in the namespace \"ns\""
        );
        let i = RequestInfo::new("DELETE", "/api/v1/nodes", "");
        assert_eq!(i.verb, "deletecollection");
        let i = RequestInfo::new("GET", "/api/v1/namespaces/kube-system", "");
        assert_eq!(
            (i.resource.as_str(), i.name.as_str()),
            ("namespaces", "kube-system")
        );
    }

    #[test]
    fn accept_negotiation_prefers_quality_then_order() {
        assert_eq!(negotiate_accept(None), Some(Format::Json));
        assert_eq!(
            negotiate_accept(Some(
                "application/vnd.kubernetes.protobuf, application/json"
            )),
            Some(Format::Protobuf)
        );
        assert_eq!(
            negotiate_accept(Some(
                "application/vnd.kubernetes.protobuf;q=0.5, application/json"
            )),
            Some(Format::Json)
        );
        assert_eq!(negotiate_accept(Some("text/html")), None);
        assert_eq!(negotiate_accept(Some("*/*")), Some(Format::Json));
    }

    #[test]
    fn go_quote_escapes_like_go() {
        assert_eq!(go_quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\x01\"");
    }

    #[test]
    fn protobuf_self_subject_review_round_trips() {
        let u = AuthUser {
            name: "myuser".into(),
            groups: vec!["system:authenticated".into()],
            ..AuthUser::default()
        };
        let b = encode_self_subject_review(&u, Format::Protobuf, false);
        let raw = open_envelope(&b, AUTHN_V1, "SelfSubjectReview").unwrap();
        let r = k8s_pb::api::authentication::v1::SelfSubjectReview::decode(raw.as_slice()).unwrap();
        assert_eq!(
            r.status.unwrap().user_info.unwrap().username.as_deref(),
            Some("myuser")
        );
        assert!(decode_self_subject_review(b"k8s\x00\xff\xff", Format::Protobuf).is_err());
        assert!(decode_self_subject_review(b"{", Format::Json).is_err());
    }
}
