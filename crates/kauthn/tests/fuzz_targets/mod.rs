//! The fuzz harnesses, shared by the cargo-fuzz targets in `fuzz/fuzz_targets/` and the
//! replay test `tests/fuzz_replay.rs`, so every corpus and crash file is also an ordinary
//! test. Each harness must never panic, whatever the input; results are exercised (user
//! fields read, errors formatted) so lazily computed paths run too.
#![allow(dead_code, missing_docs, unreachable_pub, clippy::std_instead_of_core)]

use core::fmt::Write as _;

use kauthn::jose::{AlgorithmSet, OwnedKeySet};
use kauthn::{
    BearerToken, BootstrapSecret, BootstrapTokenAuthenticator, ClientCaPool, Context, Header,
    Outcome, OwnedTokenFile, Request, RequestAuthenticator, Response, RustCrypto, Scratch,
    TokenAuthenticator, UnixTime, VerifyOptions, X509Authenticator, extract_bearer_token,
};

const NOW: i64 = 1_800_000_000;

/// Names of every harness, as `fuzz/fuzz_targets/<name>.rs` and corpus folders use them.
pub const TARGETS: &[&str] = &[
    "token_file",
    "bootstrap_secret",
    "bearer_header",
    "jws",
    "jwk",
    "pem_keys",
    "x509_chain",
    "request_headers",
    "tokenreview_response",
    "authentication_config",
    "service_account_token",
    "oidc_token",
];

/// Runs harness `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "token_file" => token_file(data),
        "bootstrap_secret" => bootstrap_secret(data),
        "bearer_header" => bearer_header(data),
        "jws" => jws(data),
        "jwk" => jwk(data),
        "pem_keys" => pem_keys(data),
        "x509_chain" => x509_chain(data),
        "request_headers" => request_headers(data),
        "tokenreview_response" => tokenreview_response(data),
        "authentication_config" => authentication_config(data),
        "service_account_token" => service_account_token(data),
        "oidc_token" => oidc_token(data),
        _ => {}
    }
}

fn sink(o: &Outcome<'_>) -> usize {
    let mut s = String::new();
    match o {
        Outcome::Authenticated(r) => touch(r),
        Outcome::NotMine(e) => {
            let _ = write!(s, "{e:?}");
            s.len()
        }
        Outcome::Rejected(e) => {
            let _ = write!(s, "{e} {e:?}");
            s.len()
        }
    }
}

fn touch(r: &Response<'_>) -> usize {
    let u = &r.user;
    let mut n = u.name.len() + u.uid.len() + u.groups.iter().map(str::len).sum::<usize>();
    for (k, v) in u.extra.iter() {
        n += k.len() + v.iter().map(str::len).sum::<usize>();
    }
    n + r.audiences.len()
}

/// The token file loader, then lookups of the first field of each line.
pub fn token_file(data: &[u8]) {
    let Ok(file) = OwnedTokenFile::parse(data.to_vec()) else {
        return;
    };
    let ctx = Context::at(UnixTime::from_secs(NOW));
    for line in data.split(|b| *b == b'\n').take(64) {
        let token = line.split(|b| *b == b',').next().unwrap_or_default();
        let mut buf = [0u8; 4096];
        let mut s = Scratch::new(&mut buf);
        let o = file.authenticate_token(token, &ctx, &mut s);
        sink(&o);
    }
}

/// A bootstrap Secret whose fields come from the input (split on 0xff), then the token
/// that the first field names.
pub fn bootstrap_secret(data: &[u8]) {
    let mut parts = data.split(|b| *b == 0xff);
    let token = parts.next().unwrap_or_default();
    let name = parts
        .next()
        .and_then(|n| core::str::from_utf8(n).ok())
        .unwrap_or("bootstrap-token-abcdef");
    let secret = BootstrapSecret {
        namespace: "kube-system",
        name,
        type_: "bootstrap.kubernetes.io/token",
        has_data: true,
        token_id: parts.next(),
        token_secret: parts.next(),
        expiration: parts.next(),
        usage_bootstrap_authentication: parts.next(),
        auth_extra_groups: parts.next(),
        deleting: false,
    };
    let secrets = [secret];
    let a = BootstrapTokenAuthenticator::new(&secrets[..]);
    let mut buf = [0u8; 16 * 1024];
    let mut s = Scratch::new(&mut buf);
    let o = a.authenticate_token(token, &Context::at(UnixTime::from_secs(NOW)), &mut s);
    sink(&o);
}

/// Authorization header parsing, and the bearer authenticator over a small token file.
pub fn bearer_header(data: &[u8]) {
    let _ = extract_bearer_token(data);
    let Ok(file) = OwnedTokenFile::parse("tok,user,uid,\"a,b\"\n") else {
        return;
    };
    let bearer = BearerToken::new(&file);
    let headers = [Header {
        name: "Authorization",
        value: data,
    }];
    let req = Request {
        headers: &headers,
        path: "/",
        client_chain: &[],
    };
    let mut buf = [0u8; 1024];
    let mut s = Scratch::new(&mut buf);
    let o = bearer.authenticate_request(&req, &Context::at(UnixTime::from_secs(NOW)), &mut s);
    sink(&o);
}

fn keys() -> OwnedKeySet {
    let mut set = OwnedKeySet::new();
    let _ = set.add_pem(include_bytes!("../data/k8s-rsa-public.pem"));
    let _ = set.add_pem(include_bytes!("../data/k8s-ec-public.pem"));
    set
}

/// A compact JWS verified against fixed RSA and EC keys, with its claims walked.
pub fn jws(data: &[u8]) {
    let keys = keys();
    let mut buf = vec![0u8; 128 * 1024];
    let mut s = Scratch::new(&mut buf);
    match kauthn::verify_jws(data, &keys, AlgorithmSet::ALL, &RustCrypto, &mut s) {
        Ok(v) => {
            let c = &v.claims;
            let _ = c.get_str("iss");
            let _ = c.get_str("sub");
            let _ = c.get_audiences();
            let _ = c.get_numeric_date("exp");
            let _ = c.get_object("kubernetes.io");
        }
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
    let mut buf = vec![0u8; 128 * 1024];
    let mut s = Scratch::new(&mut buf);
    let _ = kauthn::jose::UnverifiedJws::parse(data, &mut s);
    for segment in data.split(|&c| c == b'.') {
        base64url_agrees_with_base64ct(segment);
    }
    json_agrees_with_serde_json(data);
}

/// kauthn's JSON reader (`jose/json.rs`) against serde_json, on the input read as a JSON
/// document: what kauthn accepts, serde_json must accept with the same members and values,
/// and every member must be found by name as the member walk gives it. kauthn rejects more
/// (duplicate names, `\u0000`, nesting past 32), so the converse is not asserted.
fn json_agrees_with_serde_json(text: &[u8]) {
    use kauthn::jose::JsonValue;
    use serde_json::Value;
    fn to_value(v: JsonValue<'_>) -> Value {
        match v {
            JsonValue::Null => Value::Null,
            JsonValue::Bool(b) => Value::Bool(b),
            JsonValue::Number(n) => serde_json::from_str(n.as_str())
                .unwrap_or_else(|e| Value::String(format!("number {:?}: {e}", n.as_str()))),
            JsonValue::String(s) => Value::String(s.to_owned()),
            JsonValue::Array(a) => Value::Array(a.iter().map(to_value).collect()),
            JsonValue::Object(o) => {
                let mut map = serde_json::Map::new();
                for (name, value) in o.members() {
                    let found = o.get(name).map(to_value);
                    let value = to_value(value);
                    assert_eq!(found.as_ref(), Some(&value), "lookup of {name:?}");
                    map.insert(name.to_owned(), value);
                }
                Value::Object(map)
            }
        }
    }
    let mut buf = vec![0u8; 2 * text.len() + 4096];
    let mut s = Scratch::new(&mut buf);
    let Ok(ours) = kauthn::jose::parse_object(text, &mut s) else {
        return;
    };
    let ours = to_value(JsonValue::Object(ours));
    match serde_json::from_slice::<Value>(text) {
        Ok(theirs) => {
            // serde_json reads numbers into f64, i64 or u64 and refuses those out of f64's
            // range, which kauthn keeps as text; compare such documents without numbers.
            if !format!("{ours}").contains("\"number ") {
                assert_eq!(ours, theirs, "JSON readers disagree on {text:?}");
            }
        }
        Err(e) => assert!(
            e.to_string().contains("number out of range"),
            "kauthn accepted JSON that serde_json rejects ({e}): {text:?}"
        ),
    }
}

/// kauthn decodes base64url itself (`jose/base64url.rs`), with base64ct as the reference: on
/// every input it must accept exactly what base64ct accepts, with the same bytes.
fn base64url_agrees_with_base64ct(text: &[u8]) {
    use base64ct::Encoding as _;
    let mut buf = vec![0u8; text.len() + 8];
    let mut s = Scratch::new(&mut buf);
    let ours = kauthn::jose::decode_base64url(text, &mut s).ok();
    let mut theirs = vec![0u8; text.len()];
    let theirs = base64ct::Base64UrlUnpadded::decode(text, &mut theirs).ok();
    assert_eq!(ours, theirs, "base64url decoders disagree on {text:?}");
}

/// A JWK or JWK Set.
pub fn jwk(data: &[u8]) {
    let mut set = OwnedKeySet::new();
    match set.add_jwks(data) {
        Ok(r) => {
            let _ = format!("{r:?} {}", set.len());
        }
        Err(e) => {
            let _ = format!("{e}");
        }
    }
}

/// PEM as service-account keys and as a client CA bundle.
pub fn pem_keys(data: &[u8]) {
    let mut set = OwnedKeySet::new();
    let _ = set.add_pem(data);
    if let Ok(pool) = ClientCaPool::from_pem(data) {
        let _ = format!("{pool:?}");
    }
}

fn pool() -> Option<ClientCaPool<'static>> {
    ClientCaPool::from_pem(include_bytes!("../../../../bindings/c/testdata/ca.pem")).ok()
}

/// Input split into DER certificates (two-byte big-endian length prefixes; a bare input is
/// one certificate), verified and mapped against a fixed pool, and as its own pool.
pub fn x509_chain(data: &[u8]) {
    let mut certs: Vec<&[u8]> = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 && certs.len() < 8 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        if n == 0 || rest.len() < 2 + n {
            break;
        }
        certs.push(&rest[2..2 + n]);
        rest = &rest[2 + n..];
    }
    if certs.is_empty() {
        certs.push(data);
    }
    let ctx = Context::at(UnixTime::from_secs(NOW));
    if let Some(pool) = pool() {
        let a = X509Authenticator::new(pool, RustCrypto);
        let req = Request {
            headers: &[],
            path: "/",
            client_chain: &certs,
        };
        let mut buf = [0u8; 16 * 1024];
        let mut s = Scratch::new(&mut buf);
        sink(&a.authenticate_request(&req, &ctx, &mut s));
    }
    if let Ok(own) = ClientCaPool::from_der(&certs) {
        let _ = kauthn::verify_client_chain(
            &own,
            &certs,
            ctx.now,
            &RustCrypto,
            &VerifyOptions::client_auth(),
        );
        let a = X509Authenticator::new(own, RustCrypto);
        let req = Request {
            headers: &[],
            path: "/",
            client_chain: &certs,
        };
        let mut buf = [0u8; 16 * 1024];
        let mut s = Scratch::new(&mut buf);
        sink(&a.authenticate_request(&req, &ctx, &mut s));
    }
}

/// Request headers (`Name: value` lines) from a proxy whose certificate verifies, through
/// the request-header authenticator with the standard header names.
pub fn request_headers(data: &[u8]) {
    let Some(pool) = pool() else {
        return;
    };
    let Ok(a) = kauthn::RequestHeaderAuthenticator::new(
        pool,
        RustCrypto,
        kauthn::RequestHeaderConfig::STANDARD,
    ) else {
        return;
    };
    let mut headers = Vec::new();
    for line in data.split(|b| *b == b'\n').take(256) {
        let mut parts = line.splitn(2, |b| *b == b':');
        let name = parts.next().and_then(|n| core::str::from_utf8(n).ok());
        let value = parts.next().unwrap_or_default();
        if let Some(name) = name {
            headers.push(Header {
                name,
                value: value.strip_prefix(b" ").unwrap_or(value),
            });
        }
    }
    let leaf: &[u8] = include_bytes!("../../../../bindings/c/testdata/client.der");
    let chain = [leaf];
    let req = Request {
        headers: &headers,
        path: "/",
        client_chain: &chain,
    };
    let ctx = Context::at(UnixTime::from_secs(NOW));
    let mut buf = vec![0u8; 64 * 1024];
    let mut s = Scratch::new(&mut buf);
    sink(&a.authenticate_request(&req, &ctx, &mut s));
    let _ = a.headers_to_strip(&req).count();
}

/// A TokenReview response body, decoded as v1 and as v1beta1.
pub fn tokenreview_response(data: &[u8]) {
    for version in [
        kauthn::TokenReviewVersion::V1,
        kauthn::TokenReviewVersion::V1Beta1,
    ] {
        let mut buf = vec![0u8; 2 * data.len() + 1024];
        let mut s = Scratch::new(&mut buf);
        let mut user = kauthn::User::default();
        match kauthn::decode_token_review(version, data, &mut s, &mut user) {
            Ok(status) => {
                let _ = (
                    status.authenticated,
                    status.audiences.len(),
                    status.error.len(),
                );
                let _ = user.groups.len() + user.extra.len();
            }
            Err(e) => {
                let _ = format!("{e}");
            }
        }
    }
}

/// An `AuthenticationConfiguration` (JSON form), validated, each `jwt` entry built.
#[cfg(feature = "serde")]
pub fn authentication_config(data: &[u8]) {
    use kauthn::oidc::config::AuthenticationConfiguration;
    let Ok(config) = serde_json::from_slice::<AuthenticationConfiguration>(data) else {
        return;
    };
    if let Err(e) = config.validate(&["kubernetes/serviceaccount"]) {
        let _ = format!("{e}");
        return;
    }
    for jwt in &config.jwt {
        let _ = jwt.build(&[], OwnedKeySet::new()).map(|a| a.issuer().len());
    }
}

/// Without serde there is no configuration decoder to fuzz.
#[cfg(not(feature = "serde"))]
pub fn authentication_config(_data: &[u8]) {}

/// A token through the legacy and bound service-account authenticators.
pub fn service_account_token(data: &[u8]) {
    let keys = keys();
    let issuers = ["https://kubernetes.default.svc.cluster.local"];
    let auds = ["https://kubernetes.default.svc.cluster.local", "api"];
    let ctx = Context::at(UnixTime::from_secs(NOW)).with_audiences(&auds);
    let legacy = kauthn::ServiceAccountAuthenticator::legacy(
        ["kubernetes/serviceaccount"],
        auds,
        keys.clone(),
    );
    let bound = kauthn::ServiceAccountAuthenticator::bound(issuers, auds, keys);
    for a in [legacy, bound].into_iter().flatten() {
        let mut buf = vec![0u8; 128 * 1024];
        let mut s = Scratch::new(&mut buf);
        sink(&a.authenticate_token(data, &ctx, &mut s));
    }
}

/// A token through an OIDC authenticator with prefixes, groups and a required claim.
pub fn oidc_token(data: &[u8]) {
    let Ok(a) =
        kauthn::JwtAuthenticator::new("https://issuer.example", ["kauthn-client"], "email", keys())
    else {
        return;
    };
    let Ok(a) = a
        .username_prefix("oidc:")
        .groups("groups", Some("oidc:"))
        .uid_claim("sub")
        .required_claim("hd", "example.com")
    else {
        return;
    };
    let ctx = Context::at(UnixTime::from_secs(NOW));
    let mut buf = vec![0u8; 128 * 1024];
    let mut s = Scratch::new(&mut buf);
    sink(&a.authenticate_token(data, &ctx, &mut s));
}
