//! The strategies that need outside parties, each exercised against `kauthn serve` on
//! loopback with real clients (curl, kubectl, the official Python client) and with the
//! outside parties served by the test itself: an HTTPS OIDC provider (discovery and JWKS),
//! service-account tokens signed with a key file, a TokenReview webhook, and a front proxy
//! holding a request-header CA's client certificate. Every external command has a deadline.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

#[path = "cli_common/mod.rs"]
mod common;
#[allow(dead_code, unreachable_pub)]
#[path = "../src/testutil.rs"]
mod testutil;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64ct::{Base64UrlUnpadded, Encoding};
use hyper::StatusCode;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

use common::{Server, TempDir, curl, dev_state, have, have_python_module, run_timeout};

const TOOL_TIMEOUT: Duration = Duration::from_secs(30);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A P-256 key that signs ES256 JWS, with its PEM forms and its JWK.
struct Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    private_pem: String,
    public_pem: String,
}

impl Signer {
    fn new() -> Signer {
        let kp = rcgen::KeyPair::generate().unwrap();
        let rng = SystemRandom::new();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &kp.serialize_der(), &rng)
                .unwrap();
        Signer {
            key,
            rng,
            private_pem: kp.serialize_pem(),
            public_pem: kp.public_key_pem(),
        }
    }

    fn jwt(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
            Base64UrlUnpadded::encode_string(claims.to_string().as_bytes())
        );
        let sig = self.key.sign(&self.rng, input.as_bytes()).unwrap();
        format!("{input}.{}", Base64UrlUnpadded::encode_string(sig.as_ref()))
    }

    fn jwk(&self, kid: &str) -> Value {
        let p = self.key.public_key().as_ref(); // 0x04 || X || Y
        json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": Base64UrlUnpadded::encode_string(&p[1..33]),
            "y": Base64UrlUnpadded::encode_string(&p[33..65]),
        })
    }
}

/// A loopback HTTPS server run by the test (OIDC provider, webhook), on its own runtime.
struct Outside {
    _rt: tokio::runtime::Runtime,
    url: String,
    ca_file: PathBuf,
}

fn serve_outside(dir: &TempDir, name: &str, handler: testutil::Handler) -> Outside {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (tls, ca) = testutil::self_signed();
    let addr = rt.block_on(testutil::serve(Some(tls), handler));
    let ca_file = dir.join(&format!("{name}-ca.crt"));
    std::fs::write(&ca_file, ca).unwrap();
    Outside {
        _rt: rt,
        url: format!("https://127.0.0.1:{}", addr.port()),
        ca_file,
    }
}

fn tls_flags(state: &Path) -> Vec<String> {
    vec![
        "--tls-cert-file".into(),
        state.join("apiserver.crt").display().to_string(),
        "--tls-private-key-file".into(),
        state.join("apiserver.key").display().to_string(),
    ]
}

fn start(dir: &TempDir, args: &[String]) -> Server {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&refs, dir.path())
}

/// POSTs a SelfSubjectReview with curl; returns (status, userInfo or the body).
fn whoami_curl(srv: &Server, state: &Path, extra: &[&str]) -> (u16, Value) {
    let mut args = vec![
        "--cacert".to_string(),
        state.join("ca.crt").display().to_string(),
        "-X".into(),
        "POST".into(),
        "-H".into(),
        "Content-Type: application/json".into(),
        "-d".into(),
        r#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(format!(
        "{}/apis/authentication.k8s.io/v1/selfsubjectreviews",
        srv.url
    ));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, body) = curl(&refs);
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let ui = v["status"]["userInfo"].clone();
    (code, if ui.is_null() { v } else { ui })
}

fn kubectl_whoami(kubeconfig: &str) -> Value {
    let (ok, out, err) = run_timeout(
        "kubectl",
        &[
            "--kubeconfig",
            kubeconfig,
            "--request-timeout=20s",
            "auth",
            "whoami",
            "-o",
            "json",
        ],
        TOOL_TIMEOUT,
    );
    assert!(ok, "kubectl failed: {err}");
    serde_json::from_str::<Value>(&out).unwrap()["status"]["userInfo"].clone()
}

// ------------------------------------------------------------------------------------
// OIDC
// ------------------------------------------------------------------------------------

struct Provider {
    outside: Outside,
    kids: Arc<Mutex<Vec<(String, Value)>>>,
    jwks_calls: Arc<AtomicUsize>,
}

fn oidc_provider(dir: &TempDir) -> Provider {
    let kids: Arc<Mutex<Vec<(String, Value)>>> = Arc::new(Mutex::new(Vec::new()));
    let jwks_calls = Arc::new(AtomicUsize::new(0));
    let issuer = Arc::new(Mutex::new(String::new()));
    let (k, c, i) = (
        Arc::clone(&kids),
        Arc::clone(&jwks_calls),
        Arc::clone(&issuer),
    );
    let handler: testutil::Handler = Arc::new(move |_method, path, _body| {
        let issuer = i.lock().unwrap().clone();
        match path {
            "/.well-known/openid-configuration" => (
                StatusCode::OK,
                vec![("content-type", "application/json".to_string())],
                json!({"issuer": issuer, "jwks_uri": format!("{issuer}/keys")}).to_string(),
            ),
            "/keys" => {
                c.fetch_add(1, Ordering::SeqCst);
                let keys: Vec<Value> = k.lock().unwrap().iter().map(|(_, j)| j.clone()).collect();
                (
                    StatusCode::OK,
                    vec![("content-type", "application/json".to_string())],
                    json!({ "keys": keys }).to_string(),
                )
            }
            _ => (StatusCode::NOT_FOUND, vec![], String::new()),
        }
    });
    let outside = serve_outside(dir, "oidc", handler);
    *issuer.lock().unwrap() = outside.url.clone();
    Provider {
        outside,
        kids,
        jwks_calls,
    }
}

fn id_token(signer: &Signer, kid: &str, issuer: &str, sub: &str) -> String {
    signer.jwt(
        &json!({"alg": "ES256", "typ": "JWT", "kid": kid}),
        &json!({
            "iss": issuer, "aud": "kauthn", "sub": sub, "groups": ["oidc-devs"],
            "iat": now(), "exp": now() + 600, "jti": "id-1",
        }),
    )
}

#[test]
fn an_oidc_id_token_from_a_loopback_https_provider_is_kubectls_and_curls_user() {
    if !have("curl", "OIDC test") {
        return;
    }
    let dir = TempDir::new("oidc");
    let state = dev_state(&dir);
    let provider = oidc_provider(&dir);
    let k1 = Signer::new();
    provider
        .kids
        .lock()
        .unwrap()
        .push(("k1".into(), k1.jwk("k1")));
    let issuer = provider.outside.url.clone();
    let mut args = tls_flags(&state);
    args.extend([
        "--oidc-issuer-url".into(),
        issuer.clone(),
        "--oidc-client-id".into(),
        "kauthn".into(),
        "--oidc-ca-file".into(),
        provider.outside.ca_file.display().to_string(),
        "--oidc-signing-algs=ES256".into(),
        "--oidc-username-prefix=oidc:".into(),
        "--oidc-groups-claim=groups".into(),
        "--oidc-groups-prefix=oidc:".into(),
    ]);
    let srv = start(&dir, &args);
    let started = std::time::Instant::now();

    let token = id_token(&k1, "k1", &issuer, "alice-oidc");
    let (code, ui) = whoami_curl(
        &srv,
        &state,
        &["-H", &format!("Authorization: Bearer {token}")],
    );
    assert_eq!(code, 201, "{ui}\n{}", srv.logs());
    assert_eq!(ui["username"], "oidc:alice-oidc");
    assert_eq!(
        ui["groups"],
        json!(["oidc:oidc-devs", "system:authenticated"])
    );
    assert_eq!(
        ui["extra"]["authentication.kubernetes.io/credential-id"],
        json!(["JTI=id-1"])
    );

    if have("kubectl", "OIDC kubectl check") {
        let kc = common::token_kubeconfig(&dir, "oidc", &srv.url, &state.join("ca.crt"), &token);
        let ui = kubectl_whoami(&kc);
        assert_eq!(ui["username"], "oidc:alice-oidc");
    }

    // A token from another issuer, and one signed by an unknown key within the refetch
    // rate limit, are 401.
    let stranger = Signer::new();
    let forged = id_token(&stranger, "k1", &issuer, "mallory");
    let (code, _) = whoami_curl(
        &srv,
        &state,
        &["-H", &format!("Authorization: Bearer {forged}")],
    );
    assert_eq!(code, 401);

    // Key rotation: a token with a new kid is accepted once the rate limit allows a
    // refetch (10 s after the last fetch), with one JWKS request; a flood of made-up kids
    // then causes none.
    let k2 = Signer::new();
    provider
        .kids
        .lock()
        .unwrap()
        .push(("k2".into(), k2.jwk("k2")));
    std::thread::sleep(Duration::from_millis(10_500).saturating_sub(started.elapsed()));
    let calls_before = provider.jwks_calls.load(Ordering::SeqCst);
    let rotated = id_token(&k2, "k2", &issuer, "bob-oidc");
    let (code, ui) = whoami_curl(
        &srv,
        &state,
        &["-H", &format!("Authorization: Bearer {rotated}")],
    );
    assert_eq!(code, 201, "{ui}\n{}", srv.logs());
    assert_eq!(ui["username"], "oidc:bob-oidc");
    assert_eq!(provider.jwks_calls.load(Ordering::SeqCst), calls_before + 1);
    for i in 0..5 {
        let bogus = id_token(&stranger, &format!("bogus-{i}"), &issuer, "mallory");
        let (code, _) = whoami_curl(
            &srv,
            &state,
            &["-H", &format!("Authorization: Bearer {bogus}")],
        );
        assert_eq!(code, 401);
    }
    assert_eq!(provider.jwks_calls.load(Ordering::SeqCst), calls_before + 1);
    let logs = srv.logs();
    assert!(!logs.contains(&token), "a token reached the logs");
}

#[test]
fn an_authentication_config_jwt_entry_authenticates_with_its_certificate_authority() {
    if !have("curl", "authentication-config JWT test") {
        return;
    }
    let dir = TempDir::new("authn-config-jwt");
    let state = dev_state(&dir);
    let provider = oidc_provider(&dir);
    let key = Signer::new();
    provider
        .kids
        .lock()
        .unwrap()
        .push(("main".into(), key.jwk("main")));
    let issuer = provider.outside.url.clone();
    let ca_pem = std::fs::read_to_string(&provider.outside.ca_file).unwrap();
    let config = json!({
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthenticationConfiguration",
        "jwt": [{
            "issuer": {"url": issuer, "audiences": ["kauthn", "other"], "audienceMatchPolicy": "MatchAny", "certificateAuthority": ca_pem},
            "claimValidationRules": [{"claim": "hd", "requiredValue": "example.com"}],
            "claimMappings": {"username": {"claim": "email", "prefix": ""}, "groups": {"claim": "groups", "prefix": "jwt:"}, "uid": {"claim": "sub"}},
        }],
        "anonymous": {"enabled": false},
    });
    let file = dir.join("authn.json");
    std::fs::write(&file, config.to_string()).unwrap();
    let mut args = tls_flags(&state);
    args.extend(["--authentication-config".into(), file.display().to_string()]);
    let srv = start(&dir, &args);
    let mint = |hd: &str| {
        key.jwt(
            &json!({"alg": "ES256", "kid": "main"}),
            &json!({
                "iss": issuer, "aud": ["other"], "sub": "u-42", "email": "jane@example.com",
                "email_verified": true, "hd": hd, "groups": "admins", "exp": now() + 600,
            }),
        )
    };
    let (code, ui) = whoami_curl(
        &srv,
        &state,
        &[
            "-H",
            &format!("Authorization: Bearer {}", mint("example.com")),
        ],
    );
    assert_eq!(code, 201, "{ui}\n{}", srv.logs());
    assert_eq!(ui["username"], "jane@example.com");
    assert_eq!(ui["uid"], "u-42");
    assert_eq!(ui["groups"], json!(["jwt:admins", "system:authenticated"]));
    let (code, _) = whoami_curl(
        &srv,
        &state,
        &["-H", &format!("Authorization: Bearer {}", mint("evil.com"))],
    );
    assert_eq!(code, 401);
    // anonymous is off in the file.
    assert_eq!(whoami_curl(&srv, &state, &[]).0, 401);
    // `kauthn authenticate` fetches the keys once and runs the same chain.
    let (ok, out, err) = run_timeout(
        common::bin(),
        &[
            "authenticate",
            "--authentication-config",
            &file.display().to_string(),
            "--token",
            &mint("example.com"),
        ],
        TOOL_TIMEOUT,
    );
    assert!(ok, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["user"]["username"], "jane@example.com");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        srv.logs()
            .contains("required claim hd value does not match"),
        "{}",
        srv.logs()
    );
}

#[test]
fn cel_in_the_authentication_config_stops_the_start_with_the_field() {
    let dir = TempDir::new("cel");
    let file = dir.join("authn.yaml");
    std::fs::write(&file, "apiVersion: apiserver.config.k8s.io/v1beta1\nkind: AuthenticationConfiguration\njwt:\n- issuer: {url: 'https://issuer.example', audiences: [a]}\n  claimMappings:\n    username: {expression: 'claims.sub'}\n").unwrap();
    let (ok, _, err) = run_timeout(
        common::bin(),
        &[
            "authenticate",
            "--authentication-config",
            &file.display().to_string(),
            "--token",
            "x",
        ],
        TOOL_TIMEOUT,
    );
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "{}: jwt[0].claimMappings.username.expression: Invalid value: \"claims.sub\": CEL expressions are not supported",
            file.display()
        )),
        "{err}"
    );
}

// ------------------------------------------------------------------------------------
// Service accounts
// ------------------------------------------------------------------------------------

const SA_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

fn sa_files(dir: &TempDir, signer: &Signer) -> String {
    let private = dir.join("sa.key");
    let public = dir.join("sa.pub");
    std::fs::write(&private, &signer.private_pem).unwrap();
    std::fs::write(&public, &signer.public_pem).unwrap();
    format!("{},{}", private.display(), public.display())
}

fn bound_token(signer: &Signer, ns: &str, name: &str) -> String {
    signer.jwt(
        &json!({"alg": "ES256", "typ": "JWT"}),
        &json!({
            "iss": SA_ISSUER, "aud": [SA_ISSUER], "sub": format!("system:serviceaccount:{ns}:{name}"),
            "iat": now(), "nbf": now(), "exp": now() + 3600, "jti": "sa-jti",
            "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": name, "uid": "sa-uid-1"},
                              "pod": {"name": "web-0", "uid": "pod-uid-1"}},
        }),
    )
}

#[test]
fn service_account_tokens_signed_with_a_key_file_are_kubectls_user() {
    if !have("curl", "service-account test") {
        return;
    }
    let dir = TempDir::new("sa");
    let state = dev_state(&dir);
    let signer = Signer::new();
    let mut args = tls_flags(&state);
    args.extend([
        "--service-account-key-file".into(),
        sa_files(&dir, &signer),
        "--service-account-issuer".into(),
        SA_ISSUER.into(),
        "--service-account-lookup=false".into(),
    ]);
    let srv = start(&dir, &args);

    let bound = bound_token(&signer, "team-a", "builder");
    let (code, ui) = whoami_curl(
        &srv,
        &state,
        &["-H", &format!("Authorization: Bearer {bound}")],
    );
    assert_eq!(code, 201, "{ui}\n{}", srv.logs());
    assert_eq!(ui["username"], "system:serviceaccount:team-a:builder");
    assert_eq!(ui["uid"], "sa-uid-1");
    assert_eq!(
        ui["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:team-a",
            "system:authenticated"
        ])
    );
    assert_eq!(
        ui["extra"]["authentication.kubernetes.io/pod-name"],
        json!(["web-0"])
    );

    // Legacy (Secret-based) token: the flat claims, issuer kubernetes/serviceaccount.
    let legacy = signer.jwt(
        &json!({"alg": "ES256"}),
        &json!({
            "iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:kube-system:old",
            "kubernetes.io/serviceaccount/namespace": "kube-system",
            "kubernetes.io/serviceaccount/secret.name": "old-token-x1",
            "kubernetes.io/serviceaccount/service-account.name": "old",
            "kubernetes.io/serviceaccount/service-account.uid": "old-uid",
        }),
    );
    let (code, ui) = whoami_curl(
        &srv,
        &state,
        &["-H", &format!("Authorization: Bearer {legacy}")],
    );
    assert_eq!(code, 201, "{ui}\n{}", srv.logs());
    assert_eq!(ui["username"], "system:serviceaccount:kube-system:old");

    // Another key, or another audience, is 401.
    let other = Signer::new();
    let (code, _) = whoami_curl(
        &srv,
        &state,
        &[
            "-H",
            &format!(
                "Authorization: Bearer {}",
                bound_token(&other, "team-a", "builder")
            ),
        ],
    );
    assert_eq!(code, 401);

    if have("kubectl", "service-account kubectl check") {
        let kc = common::token_kubeconfig(&dir, "sa", &srv.url, &state.join("ca.crt"), &bound);
        let ui = kubectl_whoami(&kc);
        assert_eq!(ui["username"], "system:serviceaccount:team-a:builder");
    }
}

#[test]
fn authenticate_checks_a_service_account_token_offline_at_a_given_time() {
    let dir = TempDir::new("sa-offline");
    let signer = Signer::new();
    let keys = sa_files(&dir, &signer);
    let token = bound_token(&signer, "team-a", "builder");
    let check = |at: &str| {
        run_timeout(
            common::bin(),
            &[
                "authenticate",
                "--service-account-key-file",
                &keys,
                "--service-account-issuer",
                SA_ISSUER,
                "--token",
                &token,
                "--now",
                at,
            ],
            TOOL_TIMEOUT,
        )
    };
    let at = |offset: i64| {
        let t = i64::try_from(now()).unwrap() + offset;
        // RFC 3339 from Unix seconds, without a date crate.
        let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    };
    let (ok, out, err) = check(&at(0));
    assert!(ok, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["user"]["username"],
        "system:serviceaccount:team-a:builder"
    );
    assert_eq!(v["audiences"], json!([SA_ISSUER]));
    // Two hours later the token (one hour, 60 s leeway) has expired.
    let (ok, out, _) = check(&at(7200));
    assert!(!ok);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["error"], "service account token has expired");
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[test]
fn the_official_python_client_reviews_a_service_account_token_as_system_masters() {
    if !have_python_module("kubernetes", "python client service-account review") {
        return;
    }
    let dir = TempDir::new("sa-python");
    let state = dev_state(&dir);
    let signer = Signer::new();
    let mut args = tls_flags(&state);
    args.extend([
        "--token-auth-file".into(),
        state.join("tokens.csv").display().to_string(),
        "--service-account-key-file".into(),
        sa_files(&dir, &signer),
        "--service-account-issuer".into(),
        SA_ISSUER.into(),
    ]);
    let srv = start(&dir, &args);
    let admin = std::fs::read_to_string(state.join("tokens.csv"))
        .unwrap()
        .lines()
        .find(|l| l.contains(",token-admin,"))
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let script = r#"
import sys
from kubernetes import client
cfg = client.Configuration()
cfg.host = sys.argv[1]
cfg.ssl_ca_cert = sys.argv[2]
cfg.api_key = {"authorization": sys.argv[3]}
cfg.api_key_prefix = {"authorization": "Bearer"}
api = client.AuthenticationV1Api(client.ApiClient(cfg))
review = client.V1TokenReview(spec=client.V1TokenReviewSpec(token=sys.argv[4]))
out = api.create_token_review(review, _request_timeout=20)
print(out.status.authenticated, out.status.user.username, ",".join(out.status.user.groups), ",".join(out.status.audiences or []))
"#;
    let (ok, out, err) = run_timeout(
        "python3",
        &[
            "-c",
            script,
            &srv.url,
            &state.join("ca.crt").display().to_string(),
            &admin,
            &bound_token(&signer, "ci", "deployer"),
        ],
        TOOL_TIMEOUT,
    );
    assert!(ok, "{err}\n{}", srv.logs());
    assert_eq!(
        out.trim(),
        format!(
            "True system:serviceaccount:ci:deployer system:serviceaccounts,system:serviceaccounts:ci,system:authenticated {SA_ISSUER}"
        )
    );
}

// ------------------------------------------------------------------------------------
// Webhook
// ------------------------------------------------------------------------------------

#[test]
fn a_tokenreview_webhook_decides_and_its_answers_are_cached() {
    if !have("curl", "webhook test") {
        return;
    }
    let dir = TempDir::new("webhook");
    let state = dev_state(&dir);
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::<Value>::new()));
    let (c, s) = (Arc::clone(&calls), Arc::clone(&seen));
    let handler: testutil::Handler = Arc::new(move |method, path, body| {
        c.fetch_add(1, Ordering::SeqCst);
        let review: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        s.lock().unwrap().push(review.clone());
        assert_eq!((method, path), ("POST", "/authenticate"));
        let version = review["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let status = match review["spec"]["token"].as_str() {
            Some("webhook-good-token") => json!({
                "authenticated": true,
                "user": {"username": "webhook-user", "uid": "w-1", "groups": ["webhook-group"],
                         "extra": {"example.org/team": ["blue"]}},
            }),
            Some("webhook-broken-token") => {
                return (StatusCode::NOT_FOUND, vec![], "no".into());
            }
            _ => json!({"authenticated": false, "error": "token denied by the test webhook"}),
        };
        (
            StatusCode::OK,
            vec![("content-type", "application/json".to_string())],
            json!({"apiVersion": version, "kind": "TokenReview", "status": status}).to_string(),
        )
    });
    let hook = serve_outside(&dir, "webhook", handler);
    let kubeconfig = dir.join("webhook.kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: hook\n  cluster:\n    server: {}/authenticate\n    certificate-authority: {}\nusers:\n- name: kauthn\n  user:\n    token: webhook-credential\ncontexts:\n- name: hook\n  context: {{cluster: hook, user: kauthn}}\ncurrent-context: hook\n",
            hook.url,
            hook.ca_file.display()
        ),
    )
    .unwrap();
    let mut args = tls_flags(&state);
    args.extend([
        "--authentication-token-webhook-config-file".into(),
        kubeconfig.display().to_string(),
        "--authentication-token-webhook-version=v1".into(),
        "--authentication-token-webhook-cache-ttl=5m".into(),
    ]);
    let srv = start(&dir, &args);
    let bearer = |t: &str| format!("Authorization: Bearer {t}");

    let (code, ui) = whoami_curl(&srv, &state, &["-H", &bearer("webhook-good-token")]);
    assert_eq!(code, 201, "{ui}\n{}", srv.logs());
    assert_eq!(ui["username"], "webhook-user");
    assert_eq!(ui["uid"], "w-1");
    assert_eq!(
        ui["groups"],
        json!(["webhook-group", "system:authenticated"])
    );
    assert_eq!(ui["extra"]["example.org/team"], json!(["blue"]));
    assert_eq!(
        seen.lock().unwrap()[0]["apiVersion"],
        "authentication.k8s.io/v1"
    );
    assert_eq!(
        seen.lock().unwrap()[0]["spec"]["token"],
        "webhook-good-token"
    );

    // Cached: the same token again does not call the webhook.
    assert_eq!(
        whoami_curl(&srv, &state, &["-H", &bearer("webhook-good-token")]).0,
        201
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // A denial is a 401 (and its message reaches the log); a failing webhook too.
    assert_eq!(
        whoami_curl(&srv, &state, &["-H", &bearer("some-other-token")]).0,
        401
    );
    assert_eq!(
        whoami_curl(&srv, &state, &["-H", &bearer("webhook-broken-token")]).0,
        401
    );
    std::thread::sleep(Duration::from_millis(100));
    let logs = srv.logs();
    assert!(logs.contains("token denied by the test webhook"), "{logs}");
    assert!(logs.contains("404"), "{logs}");
    assert!(
        !logs.contains("webhook-good-token"),
        "a token reached the logs"
    );

    if have("kubectl", "webhook kubectl check") {
        let kc = common::token_kubeconfig(
            &dir,
            "hook",
            &srv.url,
            &state.join("ca.crt"),
            "webhook-good-token",
        );
        assert_eq!(kubectl_whoami(&kc)["username"], "webhook-user");
    }
}

// ------------------------------------------------------------------------------------
// Request header (front proxy)
// ------------------------------------------------------------------------------------

/// A request-header CA and client certificates it signs, as PEM files in `dir`.
fn proxy_ca(dir: &TempDir) -> (PathBuf, impl Fn(&str) -> (String, String)) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "front-proxy-ca");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let ca_file = dir.join("front-proxy-ca.crt");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let d = dir.path().to_path_buf();
    let mint = move |cn: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = p.signed_by(&key, &issuer).unwrap();
        let (c, k) = (d.join(format!("{cn}.crt")), d.join(format!("{cn}.key")));
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c.display().to_string(), k.display().to_string())
    };
    (ca_file, mint)
}

#[test]
fn a_front_proxy_with_a_requestheader_client_certificate_names_the_user() {
    if !have("curl", "request-header test") {
        return;
    }
    let dir = TempDir::new("front-proxy");
    let state = dev_state(&dir);
    let (ca_file, mint) = proxy_ca(&dir);
    let (proxy_cert, proxy_key) = mint("front-proxy-client");
    let (other_cert, other_key) = mint("someone-else");
    let mut args = tls_flags(&state);
    args.extend([
        "--client-ca-file".into(),
        state.join("ca.crt").display().to_string(),
        "--requestheader-client-ca-file".into(),
        ca_file.display().to_string(),
        "--requestheader-allowed-names=front-proxy-client".into(),
    ]);
    let srv = start(&dir, &args);
    let headers = [
        "-H",
        "X-Remote-User: proxied-jane",
        "-H",
        "X-Remote-Group: proxied-devs",
        "-H",
        "X-Remote-Group: proxied-ops",
        "-H",
        "X-Remote-Extra-Acme.com%2Fproject: apollo",
    ];
    let mut with_proxy = vec!["--cert", &proxy_cert, "--key", &proxy_key];
    with_proxy.extend(headers);
    let (code, ui) = whoami_curl(&srv, &state, &with_proxy);
    assert_eq!(code, 201, "{ui}\n{}", srv.logs());
    assert_eq!(ui["username"], "proxied-jane");
    assert_eq!(
        ui["groups"],
        json!(["proxied-devs", "proxied-ops", "system:authenticated"])
    );
    assert_eq!(ui["extra"]["acme.com/project"], json!(["apollo"]));

    // A certificate from the same CA with a name not in --requestheader-allowed-names.
    let mut wrong_name = vec!["--cert", other_cert.as_str(), "--key", other_key.as_str()];
    wrong_name.extend(headers);
    assert_eq!(whoami_curl(&srv, &state, &wrong_name).0, 401);
    // Headers without the proxy's certificate are not trusted: the dev user's certificate
    // authenticates as itself (x509), the headers are ignored.
    let user_cert = state.join("myuser.crt").display().to_string();
    let user_key = state.join("myuser.key").display().to_string();
    let mut no_proxy = vec!["--cert", user_cert.as_str(), "--key", user_key.as_str()];
    no_proxy.extend(headers);
    let (code, ui) = whoami_curl(&srv, &state, &no_proxy);
    assert_eq!(code, 201);
    assert_eq!(ui["username"], "myuser");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        srv.logs()
            .contains("x509: subject with cn=someone-else is not in the allowed list"),
        "{}",
        srv.logs()
    );
}
