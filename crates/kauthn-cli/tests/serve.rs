//! `kauthn serve` on loopback, exercised with real clients: curl, kubectl and the official
//! Kubernetes Python client.
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

use common::{Server, TempDir, curl, have, run};

fn dev_server(dir: &TempDir, extra: &[&str]) -> Server {
    let state = dir.s("state");
    let mut args = vec!["--state-dir", state.as_str()];
    args.extend_from_slice(extra);
    Server::start(&args, dir.path())
}

fn token_of(dir: &TempDir, user: &str) -> String {
    let csv = std::fs::read_to_string(dir.join("state/tokens.csv")).unwrap();
    csv.lines()
        .find(|l| l.split(',').nth(1) == Some(user))
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn curl_with_the_development_client_certificate_gets_kube_apiservers_403() {
    if !have("curl", "curl test") {
        return;
    }
    let dir = TempDir::new("curl403");
    let srv = dev_server(&dir, &[]);
    assert!(
        srv.stdout.contains("kubectl --kubeconfig"),
        "{}",
        srv.stdout
    );
    assert!(srv.stdout.contains("curl --cacert"), "{}", srv.stdout);
    let (code, body) = curl(&[
        "--cacert",
        &dir.s("state/ca.crt"),
        "--cert",
        &dir.s("state/myuser.crt"),
        "--key",
        &dir.s("state/myuser.key"),
        &format!("{}/", srv.url),
    ]);
    assert_eq!(code, 403, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["kind"], "Status");
    assert_eq!(v["apiVersion"], "v1");
    assert_eq!(v["status"], "Failure");
    assert_eq!(v["reason"], "Forbidden");
    assert_eq!(v["code"], 403);
    assert_eq!(
        v["message"],
        "forbidden: User \"myuser\" cannot get path \"/\""
    );
    assert_eq!(v["details"], serde_json::json!({}));
}

#[test]
fn the_state_directory_is_reused_on_the_next_start() {
    let dir = TempDir::new("reuse");
    let first = dev_server(&dir, &[]);
    assert!(first.stdout.contains("created a development CA"));
    let ca = std::fs::read(dir.join("state/ca.crt")).unwrap();
    let tokens = std::fs::read(dir.join("state/tokens.csv")).unwrap();
    drop(first);
    let second = dev_server(&dir, &[]);
    assert!(!second.stdout.contains("created a development CA"));
    assert_eq!(std::fs::read(dir.join("state/ca.crt")).unwrap(), ca);
    assert_eq!(std::fs::read(dir.join("state/tokens.csv")).unwrap(), tokens);
}

#[test]
fn kubectl_auth_whoami_works_with_a_client_certificate_and_with_a_token() {
    if !have("kubectl", "kubectl test") {
        return;
    }
    let dir = TempDir::new("whoami");
    let _srv = dev_server(&dir, &[]);
    let kc = dir.s("state/kubeconfig");
    let (ok, out, err) = run(
        "kubectl",
        &["--kubeconfig", &kc, "auth", "whoami", "-o", "json"],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ui = &v["status"]["userInfo"];
    assert_eq!(ui["username"], "myuser");
    assert_eq!(
        ui["groups"],
        serde_json::json!(["developers", "system:authenticated"])
    );
    assert!(
        ui["extra"]["authentication.kubernetes.io/credential-id"][0]
            .as_str()
            .unwrap()
            .starts_with("X509SHA256=")
    );

    let (ok, out, err) = run(
        "kubectl",
        &["--kubeconfig", &kc, "--context", "alice", "auth", "whoami"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("alice"), "{out}");
    assert!(
        out.contains("[developers viewers system:authenticated]"),
        "{out}"
    );
}

#[test]
fn an_untrusted_client_certificate_gets_401_not_a_handshake_failure() {
    if !have("curl", "curl test") {
        return;
    }
    let dir = TempDir::new("untrusted");
    let other = TempDir::new("other-ca");
    // A second development setup: its CA is not trusted by the first server.
    drop(dev_server(&other, &[]));
    let srv = dev_server(&dir, &[]);
    let (code, body) = curl(&[
        "--cacert",
        &dir.s("state/ca.crt"),
        "--cert",
        &other.s("state/myuser.crt"),
        "--key",
        &other.s("state/myuser.key"),
        &format!("{}/", srv.url),
    ]);
    assert_eq!(code, 401, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["reason"].as_str(), v["message"].as_str()),
        (Some("Unauthorized"), Some("Unauthorized"))
    );
    // The log says why, and never prints a credential.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let logs = srv.logs();
    assert!(
        logs.contains("certificate signed by unknown authority"),
        "{logs}"
    );
}

#[test]
fn bearer_tokens_anonymous_and_failed_credentials_answer_like_kube_apiserver() {
    if !have("curl", "curl test") {
        return;
    }
    let dir = TempDir::new("tokens");
    let srv = dev_server(&dir, &[]);
    let ca = dir.s("state/ca.crt");
    let alice = token_of(&dir, "alice");
    let auth = format!("Authorization: Bearer {alice}");
    let (code, body) = curl(&[
        "--cacert",
        &ca,
        "-H",
        &auth,
        &format!("{}/api/v1/namespaces/default/pods", srv.url),
    ]);
    assert_eq!(code, 403);
    assert!(body.contains(r#"pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""#), "{body}");

    let bad = "Authorization: Bearer not-a-real-token-value";
    let (code, body) = curl(&["--cacert", &ca, "-H", bad, &format!("{}/", srv.url)]);
    assert_eq!(code, 401, "{body}");

    // No credential: anonymous is on by default, so 403 for system:anonymous.
    let (code, body) = curl(&["--cacert", &ca, "-X", "POST", &format!("{}/", srv.url)]);
    assert_eq!(code, 403);
    assert!(
        body.contains(r#"forbidden: User \"system:anonymous\" cannot post path \"/\""#),
        "{body}"
    );

    std::thread::sleep(std::time::Duration::from_millis(100));
    let logs = srv.logs();
    assert!(logs.contains("invalid bearer token"), "{logs}");
    assert!(
        !logs.contains("not-a-real-token-value"),
        "a token reached the logs"
    );
    assert!(!logs.contains(&alice), "a token reached the logs");
}

#[test]
fn with_anonymous_auth_off_no_credentials_get_401() {
    if !have("curl", "curl test") {
        return;
    }
    let dir = TempDir::new("anon-off");
    // Explicit flags (not the development defaults) with the development files.
    drop(dev_server(&dir, &[]));
    let srv = Server::start(
        &[
            "--client-ca-file",
            &dir.s("state/ca.crt"),
            "--tls-cert-file",
            &dir.s("state/apiserver.crt"),
            "--tls-private-key-file",
            &dir.s("state/apiserver.key"),
            "--anonymous-auth=false",
        ],
        dir.path(),
    );
    let (code, _) = curl(&["--cacert", &dir.s("state/ca.crt"), &format!("{}/", srv.url)]);
    assert_eq!(code, 401);
}

#[test]
fn health_version_and_metrics_endpoints_answer_anyone() {
    if !have("curl", "curl test") {
        return;
    }
    let dir = TempDir::new("health");
    let srv = dev_server(&dir, &[]);
    let ca = dir.s("state/ca.crt");
    for p in ["/healthz", "/livez", "/readyz"] {
        assert_eq!(
            curl(&["--cacert", &ca, &format!("{}{p}", srv.url)]),
            (200, "ok".to_string())
        );
    }
    let (code, body) = curl(&["--cacert", &ca, &format!("{}/version", srv.url)]);
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["major"], "1");
    // One success (client certificate) and one error (bad token), then the counters.
    curl(&[
        "--cacert",
        &ca,
        "--cert",
        &dir.s("state/myuser.crt"),
        "--key",
        &dir.s("state/myuser.key"),
        &format!("{}/", srv.url),
    ]);
    curl(&[
        "--cacert",
        &ca,
        "-H",
        "Authorization: Bearer nope",
        &format!("{}/", srv.url),
    ]);
    let (code, body) = curl(&["--cacert", &ca, &format!("{}/metrics", srv.url)]);
    assert_eq!(code, 200);
    assert!(
        body.contains("authentication_attempts{result=\"success\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("authentication_attempts{result=\"error\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("# TYPE authentication_duration_seconds histogram"),
        "{body}"
    );
}

#[test]
fn http2_is_served() {
    if !have("curl", "curl test") {
        return;
    }
    let dir = TempDir::new("h2");
    let srv = dev_server(&dir, &[]);
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--http2",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
            "--cacert",
            &dir.s("state/ca.crt"),
        ])
        .arg(format!("{}/healthz", srv.url))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2");
}

fn review_body(token: &str) -> String {
    serde_json::json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}).to_string()
}

#[test]
fn token_reviews_are_answered_for_system_masters_and_forbidden_to_others() {
    if !have("curl", "curl test") {
        return;
    }
    let dir = TempDir::new("tokenreview");
    let srv = dev_server(&dir, &[]);
    let ca = dir.s("state/ca.crt");
    let url = format!("{}/apis/authentication.k8s.io/v1/tokenreviews", srv.url);
    let admin = [
        "--cert",
        &dir.s("state/admin.crt"),
        "--key",
        &dir.s("state/admin.key"),
    ]
    .map(String::from);
    let post = |who: &[String], ct: &str, body: &str| {
        let mut args: Vec<String> = vec!["--cacert".into(), ca.clone()];
        args.extend(who.iter().cloned());
        args.extend([
            "-H".into(),
            format!("Content-Type: {ct}"),
            "--data-binary".into(),
            body.into(),
            url.clone(),
        ]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&refs)
    };
    let (code, body) = post(
        &admin,
        "application/json",
        &review_body(&token_of(&dir, "alice")),
    );
    assert_eq!(code, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["kind"], "TokenReview");
    assert_eq!(v["status"]["authenticated"], true);
    assert_eq!(v["status"]["user"]["username"], "alice");
    assert_eq!(v["status"]["user"]["uid"], "alice-uid");
    assert_eq!(
        v["status"]["user"]["groups"],
        serde_json::json!(["developers", "viewers", "system:authenticated"])
    );

    let (code, body) = post(&admin, "application/json", &review_body("wrong"));
    assert_eq!(code, 201);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"]["authenticated"], false);
    assert_eq!(v["status"]["error"], "invalid bearer token");

    // Bad bodies.
    assert_eq!(post(&admin, "application/json", "{not json").0, 400);
    assert_eq!(post(&admin, "application/json", &review_body("")).0, 400);
    let garbage = dir.join("garbage.pb");
    std::fs::write(&garbage, b"k8s\x00\xff\xffgarbage").unwrap();
    assert_eq!(
        post(
            &admin,
            "application/vnd.kubernetes.protobuf",
            &format!("@{}", garbage.display())
        )
        .0,
        400
    );
    assert_eq!(post(&admin, "text/plain", "hello").0, 415);

    // myuser is not in system:masters.
    let me = [
        "--cert",
        &dir.s("state/myuser.crt"),
        "--key",
        &dir.s("state/myuser.key"),
    ]
    .map(String::from);
    let (code, body) = post(&me, "application/json", &review_body("x"));
    assert_eq!(code, 403);
    assert!(body.contains(r#"tokenreviews.authentication.k8s.io is forbidden: User \"myuser\" cannot create resource \"tokenreviews\" in API group \"authentication.k8s.io\" at the cluster scope"#), "{body}");
}

#[test]
fn oversized_bodies_are_refused() {
    if !have("curl", "curl test") {
        return;
    }
    let dir = TempDir::new("big");
    let srv = dev_server(&dir, &[]);
    let big = dir.join("big.json");
    std::fs::write(&big, vec![b' '; 2 * 1024 * 1024]).unwrap();
    // HTTP/1.1: over HTTP/2 the early answer is followed by RST_STREAM(NO_ERROR), which
    // RFC 9113 allows but curl 7.x reports as a framing error instead of the 413.
    let (code, _) = curl(&[
        "--http1.1",
        "--cacert",
        &dir.s("state/ca.crt"),
        "--cert",
        &dir.s("state/admin.crt"),
        "--key",
        &dir.s("state/admin.key"),
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &format!("@{}", big.display()),
        &format!("{}/apis/authentication.k8s.io/v1/tokenreviews", srv.url),
    ]);
    assert_eq!(code, 413);
}

#[test]
fn the_official_python_client_creates_a_token_review() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import kubernetes"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIP python client test: the `kubernetes` module is missing (pip install kubernetes)"
        );
        return;
    }
    let dir = TempDir::new("python");
    let srv = dev_server(&dir, &[]);
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
out = api.create_token_review(review)
print(out.status.authenticated, out.status.user.username, ",".join(out.status.user.groups))
"#;
    let admin = token_of(&dir, "token-admin");
    let alice = token_of(&dir, "alice");
    let (ok, out, err) = run(
        "python3",
        &[
            "-c",
            script,
            &srv.url,
            &dir.s("state/ca.crt"),
            &admin,
            &alice,
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "True alice developers,viewers,system:authenticated"
    );
}

#[test]
fn bootstrap_tokens_come_from_the_secrets_directory_and_new_files_are_picked_up() {
    if !have("curl", "curl test") {
        return;
    }
    let dir = TempDir::new("bootstrap");
    drop(dev_server(&dir, &[]));
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let secret = |id: &str, secret: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bootstrap-token-{id}\n  namespace: kube-system\ntype: bootstrap.kubernetes.io/token\nstringData:\n  token-id: {id}\n  token-secret: {secret}\n  usage-bootstrap-authentication: \"true\"\n  auth-extra-groups: system:bootstrappers:worker\n"
        )
    };
    std::fs::write(secrets.join("a.yaml"), secret("abcdef", "0123456789abcdef")).unwrap();
    let srv = Server::start(
        &[
            "--enable-bootstrap-token-auth",
            "--bootstrap-token-secrets-dir",
            &secrets.display().to_string(),
            "--tls-cert-file",
            &dir.s("state/apiserver.crt"),
            "--tls-private-key-file",
            &dir.s("state/apiserver.key"),
            "--tokenreview-allowed-groups",
            "system:bootstrappers",
        ],
        dir.path(),
    );
    let ca = dir.s("state/ca.crt");
    let get = |token: &str| {
        curl(&[
            "--cacert",
            &ca,
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            "{}",
            &format!(
                "{}/apis/authentication.k8s.io/v1/selfsubjectreviews",
                srv.url
            ),
        ])
    };
    let (code, body) = get("abcdef.0123456789abcdef");
    assert_eq!(code, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["status"]["userInfo"]["username"],
        "system:bootstrap:abcdef"
    );
    assert_eq!(
        v["status"]["userInfo"]["groups"],
        serde_json::json!([
            "system:bootstrappers",
            "system:bootstrappers:worker",
            "system:authenticated"
        ])
    );
    let (code, body) = get("zzzzzz.0123456789abcdef");
    assert_eq!(code, 401, "{body}\n{}", srv.logs());
    // A new Secret file is read within the reload interval.
    std::fs::write(secrets.join("b.json"), serde_json::to_string(&serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "bootstrap-token-zzzzzz", "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "data": {"token-id": "enp6enp6", "token-secret": "MDEyMzQ1Njc4OWFiY2RlZg==", "usage-bootstrap-authentication": "dHJ1ZQ=="}
    })).unwrap()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if get("zzzzzz.0123456789abcdef").0 == 201 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the new Secret was not picked up:\n{}",
            srv.logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[test]
fn invalid_configuration_stops_the_start_with_file_field_and_reason() {
    let dir = TempDir::new("invalid");
    let tokens = dir.join("tokens.csv");
    std::fs::write(&tokens, "only,two\n").unwrap();
    let (ok, _, err) = run(
        common::bin(),
        &[
            "serve",
            "--secure-port",
            "0",
            "--state-dir",
            &dir.s("state"),
            "--token-auth-file",
            &tokens.display().to_string(),
        ],
    );
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "token file '{}' must have at least 3 columns",
            tokens.display()
        )),
        "{err}"
    );

    let cfg = dir.join("authn.yaml");
    std::fs::write(&cfg, "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\nanonymous: {enabled: true}\n").unwrap();
    let (ok, _, err) = run(
        common::bin(),
        &[
            "serve",
            "--secure-port",
            "0",
            "--state-dir",
            &dir.s("state"),
            "--authentication-config",
            &cfg.display().to_string(),
            "--anonymous-auth=true",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "{}: anonymous: Forbidden: --anonymous-auth flag cannot be set",
            cfg.display()
        )),
        "{err}"
    );

    let (ok, _, err) = run(
        common::bin(),
        &[
            "serve",
            "--secure-port",
            "0",
            "--state-dir",
            &dir.s("state"),
            "--oidc-issuer-url",
            "http://issuer.example",
            "--oidc-client-id",
            "kauthn",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("--oidc-issuer-url: issuer.url: Invalid value: \"http://issuer.example\": URL scheme must be https"),
        "{err}"
    );
}

#[test]
fn authenticate_runs_the_chain_offline_at_a_given_time() {
    let dir = TempDir::new("offline");
    let state = dir.s("state");
    let (ok, out, err) = run(
        common::bin(),
        &[
            "authenticate",
            "--state-dir",
            &state,
            "--client-cert",
            &dir.s("state/myuser.crt"),
            "--now",
            "2030-01-01T00:00:00Z",
        ],
    );
    // The state is created on first use, so the certificate exists only now: run again.
    let _ = (ok, out, err);
    let (ok, out, err) = run(
        common::bin(),
        &[
            "authenticate",
            "--state-dir",
            &state,
            "--client-cert",
            &dir.s("state/myuser.crt"),
            "--now",
            "2030-01-01T00:00:00Z",
        ],
    );
    assert!(ok, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["authenticated"], true);
    assert_eq!(v["user"]["username"], "myuser");

    let (ok, out, _) = run(
        common::bin(),
        &[
            "authenticate",
            "--state-dir",
            &state,
            "--client-cert",
            &dir.s("state/myuser.crt"),
            "--now",
            "1970-01-02T00:00:00Z",
        ],
    );
    assert!(!ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["authenticated"], false);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("certificate has expired or is not yet valid"),
        "{out}"
    );

    let alice = token_of(&dir, "alice");
    let (ok, out, _) = run(
        common::bin(),
        &["authenticate", "--state-dir", &state, "--token", &alice],
    );
    assert!(ok, "{out}");
    assert!(out.contains("\"username\": \"alice\""), "{out}");
}
