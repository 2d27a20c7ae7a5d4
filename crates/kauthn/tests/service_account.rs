//! Service-account tokens: upstream's `jwt_test.go`, `claims_test.go` and `util_test.go`
//! tables (spec §13.5), the claims attacks of the catalogue's C section that apply to
//! service accounts, and the JWT corpus.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

#[path = "jwt_common/mod.rs"]
mod common;

use common::*;
use kauthn::jose::OwnedKeySet;
use kauthn::{
    Context, Error, NoLookup, ObjectKind, ObjectMeta, ObjectRef, Outcome, Scratch,
    ServiceAccountAuthenticator, ServiceAccountError as E, ServiceAccountLookup,
    TokenAuthenticator, UnixTime,
};

const NOW: i64 = 1_514_764_800;
const BOUND_ISSUER: &str = "https://kubernetes.default.svc";

fn keys(files: &[&str]) -> OwnedKeySet {
    let mut set = OwnedKeySet::new();
    for f in files {
        set.add_pem(&data(f)).unwrap();
    }
    set
}

/// A summary of an outcome that outlives the scratch buffer.
#[derive(Debug, PartialEq, Eq)]
enum R {
    Auth {
        name: String,
        uid: String,
        groups: Vec<String>,
        extra: Vec<(String, Vec<String>)>,
        audiences: Vec<String>,
        expires_at: Option<i64>,
    },
    No,
    Err(Vec<Error>),
}

impl R {
    fn err(&self) -> Error {
        match self {
            R::Err(e) => e[0],
            other => panic!("expected an error, got {other:?}"),
        }
    }

    fn name(&self) -> &str {
        match self {
            R::Auth { name, .. } => name,
            other => panic!("expected a user, got {other:?}"),
        }
    }
}

fn summarize(o: Outcome<'_>) -> R {
    match o {
        Outcome::Authenticated(r) => R::Auth {
            name: r.user.name.to_string(),
            uid: r.user.uid.to_string(),
            groups: r.user.groups.iter().map(String::from).collect(),
            extra: r
                .user
                .extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(String::from).collect()))
                .collect(),
            audiences: r
                .audiences
                .as_slice()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            expires_at: r.expires_at.map(UnixTime::as_secs),
        },
        Outcome::NotMine(_) => R::No,
        Outcome::Rejected(e) => R::Err(e.iter().collect()),
    }
}

fn run<A: TokenAuthenticator>(auth: &A, token: &str, now: i64, auds: &[&str]) -> R {
    let mut buf = scratch_buf();
    let ctx = Context::at(UnixTime::from_secs(now)).with_audiences(auds);
    summarize(auth.authenticate_token(token.as_bytes(), &ctx, &mut Scratch::new(&mut buf)))
}

// ---------------------------------------------------------------------------------------
// jwt_test.go TestTokenGenerateAndValidate (legacy tokens)
// ---------------------------------------------------------------------------------------

fn legacy_claims(iss: &str, secret: &str) -> String {
    format!(
        r#"{{"iss":"{iss}","kubernetes.io/serviceaccount/namespace":"test","kubernetes.io/serviceaccount/secret.name":"{secret}","kubernetes.io/serviceaccount/service-account.name":"my-service-account","kubernetes.io/serviceaccount/service-account.uid":"12345","sub":"system:serviceaccount:test:my-service-account"}}"#
    )
}

fn legacy_rsa_token() -> String {
    token(
        &k8s_rsa(),
        K8S_RSA_KID,
        &legacy_claims("kubernetes/serviceaccount", "my-rsa-secret"),
    )
}

fn legacy_ec_token() -> String {
    token(
        &k8s_ec(),
        K8S_EC_KID,
        &legacy_claims("kubernetes/serviceaccount", "my-ecdsa-secret"),
    )
}

fn legacy_auth(k: OwnedKeySet) -> ServiceAccountAuthenticator<OwnedKeySet> {
    ServiceAccountAuthenticator::legacy(["kubernetes/serviceaccount", "bar"], ["api"], k).unwrap()
}

fn legacy_user() -> R {
    R::Auth {
        name: "system:serviceaccount:test:my-service-account".into(),
        uid: "12345".into(),
        groups: vec![
            "system:serviceaccounts".into(),
            "system:serviceaccounts:test".into(),
        ],
        extra: vec![],
        audiences: vec!["api".into()],
        expires_at: None,
    }
}

fn check_legacy<A: TokenAuthenticator>(auth: &A, token: &str) -> R {
    // Every case also checks that a non-JWT is not this authenticator's business.
    assert_eq!(run(auth, "invalid token", NOW, &["api"]), R::No);
    run(auth, token, NOW, &["api"])
}

#[test]
fn legacy_token_with_no_keys_is_rejected_with_no_keys_found() {
    let auth = legacy_auth(OwnedKeySet::new());
    let r = check_legacy(&auth, &legacy_rsa_token());
    assert_eq!(r.err(), Error::ServiceAccount(E::NoKeysFound));
    assert_eq!(r.err().to_string(), "invalid signature, no keys found");
}

#[test]
fn legacy_tokens_with_only_other_keys_are_rejected() {
    let auth = legacy_auth(keys(&["jwt-rsa-2.pem", "k8s-ec-public.pem"]));
    assert_eq!(
        check_legacy(&auth, &legacy_rsa_token()).err(),
        Error::ServiceAccount(E::NoKeysFound)
    );
    let auth = legacy_auth(keys(&["jwt-rsa-2.pem", "k8s-rsa-public.pem"]));
    assert_eq!(
        check_legacy(&auth, &legacy_ec_token()).err(),
        Error::ServiceAccount(E::NoKeysFound)
    );
}

#[test]
fn legacy_rsa_and_ecdsa_tokens_authenticate_with_their_keys() {
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"]));
    assert_eq!(check_legacy(&auth, &legacy_rsa_token()), legacy_user());
    let auth = legacy_auth(keys(&["k8s-ec-public.pem"]));
    assert_eq!(check_legacy(&auth, &legacy_ec_token()), legacy_user());
}

#[test]
fn legacy_token_of_an_unknown_issuer_is_not_mine_and_a_second_issuer_is_accepted() {
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"]));
    let foo = token(
        &k8s_rsa(),
        K8S_RSA_KID,
        &legacy_claims("foo", "my-rsa-secret"),
    );
    assert_eq!(check_legacy(&auth, &foo), R::No);
    let bar = token(
        &k8s_rsa(),
        K8S_RSA_KID,
        &legacy_claims("bar", "my-rsa-secret"),
    );
    assert_eq!(check_legacy(&auth, &bar), legacy_user());
}

#[test]
fn rotated_keys_in_any_order_authenticate() {
    for order in [
        ["jwt-rsa-2.pem", "k8s-ec-public.pem", "k8s-rsa-public.pem"],
        ["k8s-rsa-public.pem", "jwt-rsa-2.pem", "k8s-ec-public.pem"],
        ["k8s-ec-public.pem", "k8s-rsa-public.pem", "jwt-rsa-2.pem"],
    ] {
        let auth = legacy_auth(keys(&order));
        assert_eq!(check_legacy(&auth, &legacy_rsa_token()), legacy_user());
        assert_eq!(check_legacy(&auth, &legacy_ec_token()), legacy_user());
    }
}

fn sa_object(uid: &str) -> (ObjectRef<'static>, ObjectMeta<'_>) {
    (
        ObjectRef {
            kind: ObjectKind::ServiceAccount,
            namespace: "test",
            name: "my-service-account",
        },
        ObjectMeta {
            uid,
            ..ObjectMeta::default()
        },
    )
}

fn secret_object<'s>(name: &'static str, token: &'s [u8]) -> (ObjectRef<'static>, ObjectMeta<'s>) {
    (
        ObjectRef {
            kind: ObjectKind::Secret,
            namespace: "test",
            name,
        },
        ObjectMeta {
            uid: "secret-uid",
            token: Some(token),
            ..ObjectMeta::default()
        },
    )
}

#[test]
fn legacy_lookup_accepts_a_token_matching_its_secret_and_service_account() {
    let t = legacy_rsa_token();
    let ec = legacy_ec_token();
    let objects = [
        sa_object("12345"),
        secret_object("my-rsa-secret", t.as_bytes()),
        secret_object("my-ecdsa-secret", ec.as_bytes()),
    ];
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"])).with_lookup(&objects[..]);
    assert_eq!(check_legacy(&auth, &t), legacy_user());
}

#[test]
fn legacy_lookup_without_the_secret_says_token_has_been_invalidated() {
    let objects = [sa_object("12345")];
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"])).with_lookup(&objects[..]);
    let r = check_legacy(&auth, &legacy_rsa_token());
    assert_eq!(r.err(), Error::ServiceAccount(E::LegacyTokenInvalidated));
    assert_eq!(r.err().to_string(), "Token has been invalidated");
}

#[test]
fn legacy_lookup_without_the_service_account_is_rejected() {
    let t = legacy_rsa_token();
    let objects = [secret_object("my-rsa-secret", t.as_bytes())];
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"])).with_lookup(&objects[..]);
    assert_eq!(
        check_legacy(&auth, &t).err(),
        Error::ServiceAccount(E::ServiceAccountNotFound)
    );
}

#[test]
fn legacy_secret_marked_invalid_is_rejected() {
    let t = legacy_rsa_token();
    let mut secret = secret_object("my-rsa-secret", t.as_bytes());
    secret.1.legacy_token_invalid = true;
    let objects = [sa_object("12345"), secret];
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"])).with_lookup(&objects[..]);
    let r = check_legacy(&auth, &t);
    assert_eq!(r.err(), Error::ServiceAccount(E::LegacyTokenMarkedInvalid));
    assert!(
        r.err()
            .to_string()
            .contains("kubernetes.io/legacy-token-invalid-since")
    );
}

#[test]
fn legacy_lookup_rejects_another_token_uid_mismatch_and_deletion() {
    let t = legacy_rsa_token();
    let other = b"some other token".as_slice();
    let objects = [sa_object("12345"), secret_object("my-rsa-secret", other)];
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"])).with_lookup(&objects[..]);
    assert_eq!(
        run(&auth, &t, NOW, &["api"]).err(),
        Error::ServiceAccount(E::LegacyTokenMismatch)
    );
    let objects = [
        sa_object("54321"),
        secret_object("my-rsa-secret", t.as_bytes()),
    ];
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"])).with_lookup(&objects[..]);
    assert_eq!(
        run(&auth, &t, NOW, &["api"]).err(),
        Error::ServiceAccount(E::LegacyServiceAccountUidMismatch)
    );
    let mut sa = sa_object("12345");
    sa.1.deletion_timestamp = Some(UnixTime::from_secs(NOW + 3600));
    let objects = [sa, secret_object("my-rsa-secret", t.as_bytes())];
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"])).with_lookup(&objects[..]);
    assert_eq!(
        run(&auth, &t, NOW, &["api"]).err(),
        Error::ServiceAccount(E::LegacyServiceAccountDeleted)
    );
}

#[test]
fn jws_json_serialization_with_a_malformed_iss_member_is_not_mine() {
    // Upstream's "malformed iss" case: the ECDSA token re-encoded as a JWS JSON serialization
    // with a member a naive split on '.' would read as three parts with iss "bar".
    let t = token(
        &k8s_ec(),
        K8S_EC_KID,
        &legacy_claims("panda", "my-ecdsa-secret"),
    );
    let parts: Vec<&str> = t.split('.').collect();
    let json = format!(
        r#"{{"payload":"{}","protected":"{}","signature":"{}","malformed_iss":".{}."}}"#,
        parts[1],
        parts[0],
        parts[2],
        b64(br#"{"iss":"bar"}"#)
    );
    let auth = legacy_auth(keys(&["k8s-ec-public.pem"]));
    assert_eq!(check_legacy(&auth, &json), R::No);
}

#[test]
fn legacy_claims_are_checked_in_upstreams_order() {
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"]));
    let full = [
        (
            "sub",
            "system:serviceaccount:test:my-service-account",
            E::SubMissing,
        ),
        (
            "kubernetes.io/serviceaccount/namespace",
            "test",
            E::NamespaceMissing,
        ),
        (
            "kubernetes.io/serviceaccount/secret.name",
            "s",
            E::SecretNameMissing,
        ),
        (
            "kubernetes.io/serviceaccount/service-account.name",
            "my-service-account",
            E::ServiceAccountNameMissing,
        ),
        (
            "kubernetes.io/serviceaccount/service-account.uid",
            "12345",
            E::ServiceAccountUidMissing,
        ),
    ];
    for (i, (_, _, want)) in full.iter().enumerate() {
        let members: Vec<String> = full
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, (k, v, _))| format!(r#""{k}":"{v}""#))
            .collect();
        let claims = format!(
            r#"{{"iss":"kubernetes/serviceaccount",{}}}"#,
            members.join(",")
        );
        let t = token(&k8s_rsa(), K8S_RSA_KID, &claims);
        assert_eq!(
            run(&auth, &t, NOW, &["api"]).err(),
            Error::ServiceAccount(*want)
        );
    }
}

#[test]
fn legacy_sub_that_disagrees_with_the_claims_is_invalid() {
    // C-7: the user name is built only from validated parts that agree with `sub`.
    let auth = legacy_auth(keys(&["k8s-rsa-public.pem"]));
    for (sub, ns) in [
        (
            "system:serviceaccount:kube-system:my-service-account",
            "test",
        ),
        ("system:serviceaccount:test:my-service-account:x", "test"),
        ("system:serviceaccount:Test:my-service-account", "Test"),
        ("system:serviceaccount:a:b:my-service-account", "a:b"),
    ] {
        let claims = format!(
            r#"{{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"{ns}","kubernetes.io/serviceaccount/secret.name":"s","kubernetes.io/serviceaccount/service-account.name":"my-service-account","kubernetes.io/serviceaccount/service-account.uid":"1","sub":"{sub}"}}"#
        );
        let t = token(&k8s_rsa(), K8S_RSA_KID, &claims);
        assert_eq!(
            run(&auth, &t, NOW, &["api"]).err(),
            Error::ServiceAccount(E::SubInvalid),
            "{sub}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// claims_test.go TestValidatePrivateClaims (bound tokens)
// ---------------------------------------------------------------------------------------

fn bound_claims(exp: i64, k8s: &str, extra: &str) -> String {
    format!(
        r#"{{"iss":"{BOUND_ISSUER}","aud":["api"],"sub":"system:serviceaccount:ns:saname","exp":{exp},"iat":{NOW},"nbf":{NOW},"jti":"fixed","kubernetes.io":{k8s}{extra}}}"#
    )
}

const SA_ONLY: &str = r#"{"namespace":"ns","serviceaccount":{"name":"saname","uid":"sauid"}}"#;
const WITH_SECRET: &str = r#"{"namespace":"ns","serviceaccount":{"name":"saname","uid":"sauid"},"secret":{"name":"secretname","uid":"secretuid"}}"#;
const WITH_POD: &str = r#"{"namespace":"ns","serviceaccount":{"name":"saname","uid":"sauid"},"pod":{"name":"podname","uid":"poduid"}}"#;
const WITH_NODE: &str = r#"{"namespace":"ns","serviceaccount":{"name":"saname","uid":"sauid"},"node":{"name":"nodename","uid":"nodeuid"}}"#;

fn bound_token(k8s: &str) -> String {
    token(&k8s_rsa(), K8S_RSA_KID, &bound_claims(NOW, k8s, ""))
}

fn bound_auth() -> ServiceAccountAuthenticator<OwnedKeySet> {
    ServiceAccountAuthenticator::bound([BOUND_ISSUER], ["api"], keys(&["k8s-rsa-public.pem"]))
        .unwrap()
}

#[derive(Clone, Copy)]
struct Obj {
    kind: ObjectKind,
    namespace: &'static str,
    name: &'static str,
    uid: &'static str,
    deleted: Option<i64>,
}

struct Cluster(Vec<Obj>);

impl ServiceAccountLookup for Cluster {
    fn with_object(
        &self,
        object: &ObjectRef<'_>,
        f: &mut dyn FnMut(&ObjectMeta<'_>),
    ) -> Result<bool, kauthn::ServiceAccountLookupFailed> {
        match self.0.iter().find(|o| {
            o.kind == object.kind && o.namespace == object.namespace && o.name == object.name
        }) {
            Some(o) => {
                f(&ObjectMeta {
                    uid: o.uid,
                    deletion_timestamp: o.deleted.map(UnixTime::from_secs),
                    ..ObjectMeta::default()
                });
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

fn cluster() -> Cluster {
    use ObjectKind::*;
    let o = |kind, namespace, name, uid| Obj {
        kind,
        namespace,
        name,
        uid,
        deleted: None,
    };
    Cluster(vec![
        o(ServiceAccount, "ns", "saname", "sauid"),
        o(Secret, "ns", "secretname", "secretuid"),
        o(Pod, "ns", "podname", "poduid"),
        o(Node, "", "nodename", "nodeuid"),
    ])
}

fn without(kind: ObjectKind) -> Cluster {
    let mut c = cluster();
    c.0.retain(|o| o.kind != kind);
    c
}

fn with(kind: ObjectKind, f: impl Fn(&mut Obj)) -> Cluster {
    let mut c = cluster();
    c.0.iter_mut().filter(|o| o.kind == kind).for_each(f);
    c
}

fn bound_with(c: Cluster, token: &str) -> R {
    let auth = bound_auth().with_lookup(c);
    run(&auth, token, NOW, &["api"])
}

#[test]
fn good_bound_token_authenticates_with_lookup() {
    for k8s in [SA_ONLY, WITH_SECRET, WITH_POD, WITH_NODE] {
        let r = bound_with(cluster(), &bound_token(k8s));
        assert_eq!(r.name(), "system:serviceaccount:ns:saname", "{k8s}");
    }
}

#[test]
fn expired_and_not_yet_valid_bound_tokens_are_rejected() {
    let expired = token(
        &k8s_rsa(),
        K8S_RSA_KID,
        &bound_claims(NOW - 1000 * 3600, SA_ONLY, ""),
    );
    assert_eq!(
        bound_with(cluster(), &expired).err().to_string(),
        "service account token has expired"
    );
    let claims = bound_claims(NOW, SA_ONLY, "").replace(
        &format!(r#""nbf":{NOW}"#),
        &format!(r#""nbf":{}"#, NOW + 1000 * 3600),
    );
    let t = token(&k8s_rsa(), K8S_RSA_KID, &claims);
    assert_eq!(
        bound_with(cluster(), &t).err().to_string(),
        "service account token is not valid yet"
    );
}

#[test]
fn missing_objects_invalidate_bound_tokens() {
    use ObjectKind::*;
    assert_eq!(
        bound_with(without(ServiceAccount), &bound_token(SA_ONLY)).err(),
        Error::ServiceAccount(E::ServiceAccountNotFound)
    );
    for (kind, k8s) in [(Secret, WITH_SECRET), (Pod, WITH_POD), (Node, WITH_NODE)] {
        let r = bound_with(without(kind), &bound_token(k8s));
        assert_eq!(
            r.err().to_string(),
            "service account token has been invalidated"
        );
    }
}

#[test]
fn uid_mismatches_name_the_object() {
    use ObjectKind::*;
    for (kind, k8s, want) in [
        (ServiceAccount, SA_ONLY, E::ServiceAccountUidMismatch),
        (Secret, WITH_SECRET, E::SecretUidMismatch),
        (Pod, WITH_POD, E::PodUidMismatch),
        (Node, WITH_NODE, E::NodeUidMismatch),
    ] {
        let c = with(kind, |o| o.uid = "old");
        assert_eq!(
            bound_with(c, &bound_token(k8s)).err(),
            Error::ServiceAccount(want)
        );
    }
    assert_eq!(
        Error::ServiceAccount(E::PodUidMismatch).to_string(),
        "pod UID does not match service account pod ref claim"
    );
}

#[test]
fn objects_deleted_up_to_sixty_seconds_ago_still_count() {
    use ObjectKind::*;
    for (kind, k8s) in [
        (ServiceAccount, SA_ONLY),
        (Secret, WITH_SECRET),
        (Pod, WITH_POD),
        (Node, WITH_NODE),
    ] {
        for deleted in [
            None,
            Some(NOW),
            Some(NOW - 1),
            Some(NOW + 1),
            Some(NOW - 60),
        ] {
            let c = with(kind, |o| o.deleted = deleted);
            let r = bound_with(c, &bound_token(k8s));
            assert_eq!(
                r.name(),
                "system:serviceaccount:ns:saname",
                "{kind:?} {deleted:?}"
            );
        }
        let c = with(kind, |o| o.deleted = Some(NOW - 61));
        let want = if kind == ServiceAccount {
            E::ServiceAccountDeleted
        } else {
            E::TokenInvalidated
        };
        assert_eq!(
            bound_with(c, &bound_token(k8s)).err(),
            Error::ServiceAccount(want)
        );
    }
}

#[test]
fn node_next_to_a_pod_is_copied_without_a_lookup() {
    let k8s = r#"{"namespace":"ns","serviceaccount":{"name":"saname","uid":"sauid"},"pod":{"name":"podname","uid":"poduid"},"node":{"name":"nodename","uid":"nodeuid"}}"#;
    let r = bound_with(without(ObjectKind::Node), &bound_token(k8s));
    let R::Auth { extra, .. } = r else {
        panic!("{r:?}")
    };
    let keys: Vec<&str> = extra.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "authentication.kubernetes.io/pod-name",
            "authentication.kubernetes.io/pod-uid",
            "authentication.kubernetes.io/credential-id",
            "authentication.kubernetes.io/node-name",
            "authentication.kubernetes.io/node-uid",
        ]
    );
}

// ---------------------------------------------------------------------------------------
// util_test.go TestUserInfo and the complete bound user
// ---------------------------------------------------------------------------------------

#[test]
fn bound_user_has_groups_uid_extras_credential_id_and_audiences() {
    let r = run(&bound_auth(), &bound_token(WITH_POD), NOW, &["api"]);
    assert_eq!(
        r,
        R::Auth {
            name: "system:serviceaccount:ns:saname".into(),
            uid: "sauid".into(),
            groups: vec![
                "system:serviceaccounts".into(),
                "system:serviceaccounts:ns".into()
            ],
            extra: vec![
                (
                    "authentication.kubernetes.io/pod-name".into(),
                    vec!["podname".into()]
                ),
                (
                    "authentication.kubernetes.io/pod-uid".into(),
                    vec!["poduid".into()]
                ),
                (
                    "authentication.kubernetes.io/credential-id".into(),
                    vec!["JTI=fixed".into()]
                ),
            ],
            audiences: vec!["api".into()],
            expires_at: Some(NOW + 61),
        }
    );
}

#[test]
fn bound_user_name_comes_from_the_private_claims_whatever_sub_says() {
    // Upstream builds a bound token's user from `kubernetes.io` alone; kauthn borrows `sub`
    // when it spells the same name, and must build the name whenever it does not.
    for sub in [
        "system:serviceaccount:ns:saname",
        "system:serviceaccount:ns:sanam",
        "system:serviceaccount:ns:saname2",
        "system:serviceaccount:ns:",
        "system:serviceaccount:other:saname",
        "system:serviceaccount:nssaname",
        "system:serviceaccounts:ns:saname",
        "",
    ] {
        let claims = bound_claims(NOW, SA_ONLY, "").replace(
            r#""sub":"system:serviceaccount:ns:saname""#,
            &format!(r#""sub":"{sub}""#),
        );
        let token = token(&k8s_rsa(), K8S_RSA_KID, &claims);
        let r = run(&bound_auth(), &token, NOW, &["api"]);
        assert_eq!(r.name(), "system:serviceaccount:ns:saname", "sub {sub:?}");
    }
}

fn extras_for(k8s: &str, jti: &str) -> Vec<(String, Vec<String>)> {
    let claims =
        bound_claims(NOW, k8s, "").replace(r#""jti":"fixed""#, &format!(r#""jti":"{jti}""#));
    match run(
        &bound_auth(),
        &token(&k8s_rsa(), K8S_RSA_KID, &claims),
        NOW,
        &[],
    ) {
        R::Auth { extra, .. } => extra,
        r => panic!("{r:?}"),
    }
}

#[test]
fn user_info_extras_follow_upstream_rules() {
    let sa = r#""namespace":"ns","serviceaccount":{"name":"saname","uid":"sauid"}"#;
    let pod_uid_only = format!(r#"{{{sa},"pod":{{"uid":"u"}}}}"#);
    assert!(extras_for(&pod_uid_only, "").is_empty());
    let node_name_only = format!(r#"{{{sa},"node":{{"name":"n"}}}}"#);
    assert_eq!(
        extras_for(&node_name_only, ""),
        vec![(
            "authentication.kubernetes.io/node-name".to_string(),
            vec!["n".to_string()]
        )]
    );
    let node_uid_only = format!(r#"{{{sa},"node":{{"uid":"u"}}}}"#);
    assert!(extras_for(&node_uid_only, "").is_empty());
    let both = format!(r#"{{{sa},"node":{{"name":"n","uid":"u"}}}}"#);
    assert_eq!(extras_for(&both, "").len(), 2);
    assert_eq!(
        extras_for(SA_ONLY, "abc"),
        vec![(
            "authentication.kubernetes.io/credential-id".to_string(),
            vec!["JTI=abc".to_string()]
        )]
    );
}

// ---------------------------------------------------------------------------------------
// Audiences (jwt.go) and time (go-jose DefaultLeeway)
// ---------------------------------------------------------------------------------------

#[test]
fn audiences_intersect_in_the_requests_order() {
    let auth = ServiceAccountAuthenticator::bound(
        [BOUND_ISSUER],
        ["api", "other"],
        keys(&["k8s-rsa-public.pem"]),
    )
    .unwrap();
    let claims =
        bound_claims(NOW, SA_ONLY, "").replace(r#""aud":["api"]"#, r#""aud":["x","other","api"]"#);
    let t = token(&k8s_rsa(), K8S_RSA_KID, &claims);
    let R::Auth { audiences, .. } = run(&auth, &t, NOW, &["api", "x", "other"]) else {
        panic!()
    };
    assert_eq!(audiences, ["api", "x", "other"]);
    // No request audiences: the API's own.
    let R::Auth { audiences, .. } = run(&auth, &t, NOW, &[]) else {
        panic!()
    };
    assert_eq!(audiences, ["api", "other"]);
}

#[test]
fn token_audience_outside_the_target_audiences_is_rejected() {
    let claims = bound_claims(NOW, SA_ONLY, "").replace(r#""aud":["api"]"#, r#""aud":["foo"]"#);
    let t = token(&k8s_rsa(), K8S_RSA_KID, &claims);
    let r = run(&bound_auth(), &t, NOW, &["api"]);
    assert_eq!(r.err(), Error::ServiceAccount(E::InvalidAudience));
    // C-5 near miss: "api " is not "api".
    let claims = bound_claims(NOW, SA_ONLY, "").replace(r#""aud":["api"]"#, r#""aud":"api ""#);
    let t = token(&k8s_rsa(), K8S_RSA_KID, &claims);
    assert_eq!(
        run(&bound_auth(), &t, NOW, &["api"]).err(),
        Error::ServiceAccount(E::InvalidAudience)
    );
}

#[test]
fn token_without_audiences_is_held_to_the_apis_own() {
    // Legacy-style (no aud) bound token: tokenAuds = implicit.
    let claims = bound_claims(NOW, SA_ONLY, "").replace(r#""aud":["api"],"#, "");
    let t = token(&k8s_rsa(), K8S_RSA_KID, &claims);
    assert_eq!(
        run(&bound_auth(), &t, NOW, &["api"]).name(),
        "system:serviceaccount:ns:saname"
    );
    assert_eq!(
        run(&bound_auth(), &t, NOW, &["elsewhere"]).err(),
        Error::ServiceAccount(E::InvalidAudience)
    );
}

#[test]
fn time_claims_have_sixty_seconds_of_leeway_each_way() {
    // C-1 and C-2.
    let auth = bound_auth();
    let at = |exp: i64, nbf: i64, iat: i64| {
        let claims = format!(
            r#"{{"iss":"{BOUND_ISSUER}","aud":"api","exp":{exp},"nbf":{nbf},"iat":{iat},"kubernetes.io":{SA_ONLY}}}"#
        );
        run(
            &auth,
            &token(&k8s_rsa(), K8S_RSA_KID, &claims),
            NOW,
            &["api"],
        )
    };
    assert!(matches!(at(NOW - 60, NOW, NOW), R::Auth { .. }));
    assert_eq!(
        at(NOW - 61, NOW, NOW).err(),
        Error::ServiceAccount(E::Expired)
    );
    assert!(matches!(at(NOW + 10, NOW + 60, NOW), R::Auth { .. }));
    assert_eq!(
        at(NOW + 100, NOW + 61, NOW).err(),
        Error::ServiceAccount(E::NotValidYet)
    );
    assert!(matches!(at(NOW + 100, NOW, NOW + 60), R::Auth { .. }));
    assert_eq!(
        at(NOW + 100, NOW, NOW + 61).err(),
        Error::ServiceAccount(E::IssuedInTheFuture)
    );
    // A negative exp is long expired.
    assert_eq!(at(-1, NOW, NOW).err(), Error::ServiceAccount(E::Expired));
}

#[test]
fn bound_token_without_time_claims_is_not_time_checked() {
    let claims = format!(r#"{{"iss":"{BOUND_ISSUER}","aud":"api","kubernetes.io":{SA_ONLY}}}"#);
    let r = run(
        &bound_auth(),
        &token(&k8s_rsa(), K8S_RSA_KID, &claims),
        NOW,
        &["api"],
    );
    let R::Auth { expires_at, .. } = r else {
        panic!("{r:?}")
    };
    assert_eq!(expires_at, None);
}

#[test]
fn numeric_date_attacks_are_rejected_never_absent() {
    // C-3: strings, booleans, arrays and out-of-range values are errors; 1e300 cannot mean
    // "never expires"; a fraction is truncated.
    let auth = bound_auth();
    for exp in [
        r#""1600000000""#,
        "true",
        "[1]",
        "{}",
        "1e300",
        "9223372036854775808",
    ] {
        let claims = format!(
            r#"{{"iss":"{BOUND_ISSUER}","aud":"api","exp":{exp},"kubernetes.io":{SA_ONLY}}}"#
        );
        let r = run(
            &auth,
            &token(&k8s_rsa(), K8S_RSA_KID, &claims),
            NOW,
            &["api"],
        );
        assert!(matches!(r.err(), Error::Jose(_)), "{exp}: {r:?}");
    }
    let claims = format!(
        r#"{{"iss":"{BOUND_ISSUER}","aud":"api","exp":{}.9,"kubernetes.io":{SA_ONLY}}}"#,
        NOW - 61
    );
    let r = run(
        &auth,
        &token(&k8s_rsa(), K8S_RSA_KID, &claims),
        NOW,
        &["api"],
    );
    assert_eq!(r.err(), Error::ServiceAccount(E::Expired));
    // null is Go's nil pointer: absent.
    let claims =
        format!(r#"{{"iss":"{BOUND_ISSUER}","aud":"api","exp":null,"kubernetes.io":{SA_ONLY}}}"#);
    let r = run(
        &auth,
        &token(&k8s_rsa(), K8S_RSA_KID, &claims),
        NOW,
        &["api"],
    );
    assert!(matches!(r, R::Auth { .. }), "{r:?}");
}

#[test]
fn audience_of_the_wrong_type_is_rejected() {
    // C-5.
    for aud in ["1", "[1]", r#"["api",null]"#, "{}"] {
        let claims = format!(r#"{{"iss":"{BOUND_ISSUER}","aud":{aud},"kubernetes.io":{SA_ONLY}}}"#);
        let r = run(
            &bound_auth(),
            &token(&k8s_rsa(), K8S_RSA_KID, &claims),
            NOW,
            &["api"],
        );
        assert!(matches!(r.err(), Error::Jose(_)), "{aud}: {r:?}");
    }
}

#[test]
fn bound_identity_injection_through_names_is_rejected() {
    // C-7: ':' or uppercase in the namespace or name could forge another user's name.
    for k8s in [
        r#"{"namespace":"a:b","serviceaccount":{"name":"c","uid":"u"}}"#,
        r#"{"namespace":"ns","serviceaccount":{"name":"x:y","uid":"u"}}"#,
        r#"{"namespace":"NS","serviceaccount":{"name":"sa","uid":"u"}}"#,
        r#"{"namespace":"","serviceaccount":{"name":"sa","uid":"u"}}"#,
        r#"{"namespace":"ns"}"#,
    ] {
        let r = run(&bound_auth(), &bound_token(k8s), NOW, &["api"]);
        assert_eq!(r.err(), Error::ServiceAccount(E::InvalidName), "{k8s}");
    }
    let claims = format!(r#"{{"iss":"{BOUND_ISSUER}","aud":"api","exp":{NOW}}}"#);
    let r = run(
        &bound_auth(),
        &token(&k8s_rsa(), K8S_RSA_KID, &claims),
        NOW,
        &["api"],
    );
    assert_eq!(r.err(), Error::ServiceAccount(E::InvalidName));
}

#[test]
fn malformed_private_claims_are_rejected() {
    for k8s in [
        r#""ns""#,
        r#"{"namespace":1,"serviceaccount":{"name":"sa","uid":"u"}}"#,
        r#"{"namespace":"ns","serviceaccount":"sa"}"#,
        r#"{"namespace":"ns","serviceaccount":{"name":"sa","uid":"u"},"warnafter":"soon"}"#,
    ] {
        let r = run(&bound_auth(), &bound_token(k8s), NOW, &["api"]);
        assert!(matches!(r.err(), Error::Jose(_)), "{k8s}: {r:?}");
    }
    let k8s = r#"{"namespace":"ns","serviceaccount":{"name":"sa","uid":"u"},"warnafter":1}"#;
    assert!(matches!(
        run(&bound_auth(), &bound_token(k8s), NOW, &["api"]),
        R::Auth { .. }
    ));
}

#[test]
fn tokens_for_another_authenticator_are_not_mine() {
    // The legacy authenticator declines bound tokens and the bound one declines legacy ones.
    let legacy = legacy_auth(keys(&["k8s-rsa-public.pem"]));
    assert_eq!(run(&legacy, &bound_token(SA_ONLY), NOW, &["api"]), R::No);
    assert_eq!(
        run(&bound_auth(), &legacy_rsa_token(), NOW, &["api"]),
        R::No
    );
    // C-6: issuer near misses.
    for iss in [
        "https://kubernetes.default.svc/",
        "https://Kubernetes.default.svc",
        "http://kubernetes.default.svc",
    ] {
        let claims = bound_claims(NOW, SA_ONLY, "").replace(BOUND_ISSUER, iss);
        let t = token(&k8s_rsa(), K8S_RSA_KID, &claims);
        assert_eq!(run(&bound_auth(), &t, NOW, &["api"]), R::No, "{iss}");
    }
}

#[test]
fn signature_and_header_problems_of_our_tokens_are_rejections() {
    let auth = bound_auth();
    let good = bound_token(SA_ONLY);
    // A flipped signature byte.
    let mut bad = good.clone().into_bytes();
    let n = bad.len() - 5;
    bad[n] = if bad[n] == b'A' { b'B' } else { b'A' };
    let r = run(&auth, std::str::from_utf8(&bad).unwrap(), NOW, &["api"]);
    assert_eq!(
        r.err().to_string(),
        "go-jose/go-jose: error in cryptographic primitive"
    );
    // alg none, HS256 signed with the public key bytes: rejected, never verified.
    let claims = bound_claims(NOW, SA_ONLY, "");
    for header in [r#"{"alg":"none"}"#, r#"{"alg":"HS256"}"#] {
        let t = format!(
            "{}.{}.{}",
            b64(header.as_bytes()),
            b64(claims.as_bytes()),
            b64(b"sig")
        );
        assert!(
            matches!(run(&auth, &t, NOW, &["api"]), R::Err(_)),
            "{header}"
        );
    }
    // A kid that matches no key has no fallback.
    let t = token(&k8s_rsa(), "some-other-kid", &claims);
    assert_eq!(
        run(&auth, &t, NOW, &["api"]).err(),
        Error::ServiceAccount(E::NoKeysFound)
    );
    // No kid: every key is tried.
    let t = token(&k8s_rsa(), "", &claims);
    assert!(matches!(run(&auth, &t, NOW, &["api"]), R::Auth { .. }));
}

#[test]
fn no_token_bytes_appear_in_errors() {
    // K-4.
    let claims = bound_claims(NOW - 3600, SA_ONLY, "");
    let t = token(&k8s_rsa(), K8S_RSA_KID, &claims);
    let r = run(&bound_auth(), &t, NOW, &["api"]);
    let text = format!("{} {:?}", r.err(), r.err());
    for part in t.split('.') {
        assert!(!text.contains(part));
    }
    assert!(!text.contains("saname") && !text.contains("sauid"));
}

#[test]
fn no_lookup_accepts_bound_tokens_on_signature_and_claims() {
    let auth = bound_auth().with_lookup(NoLookup);
    assert!(matches!(
        run(&auth, &bound_token(WITH_SECRET), NOW, &["api"]),
        R::Auth { .. }
    ));
}

#[test]
fn every_jwt_corpus_file_is_handled_without_panic() {
    let Some(dir) = vectors("corpus/jwt") else {
        return;
    };
    let legacy = legacy_auth(keys(&["k8s-rsa-public.pem", "k8s-ec-public.pem"]));
    let bound = bound_auth().with_lookup(cluster());
    let mut n = 0usize;
    for entry in walk(&dir) {
        let bytes = std::fs::read(&entry).unwrap();
        let mut inputs = vec![bytes.clone()];
        inputs.extend(bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec));
        for input in inputs {
            let mut buf = scratch_buf();
            let ctx = Context::at(UnixTime::from_secs(NOW));
            let _ = legacy.authenticate_token(&input, &ctx, &mut Scratch::new(&mut buf));
            let mut buf = scratch_buf();
            let _ = bound.authenticate_token(&input, &ctx, &mut Scratch::new(&mut buf));
            n += 1;
        }
    }
    println!("service-account authenticators handled {n} corpus inputs");
    assert!(n > 0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------
// The header kube-apiserver writes, known without parsing (`jose::CanonicalHeaders`)
// ---------------------------------------------------------------------------------------

/// A token's signature segment with one of the mutations a verifier must survive.
fn mutated(t: &str, how: usize) -> String {
    let (input, sig) = t.rsplit_once('.').unwrap();
    let sig = match how {
        0 => sig.to_string(),
        // A flipped character.
        1 => {
            let mut s = sig.as_bytes().to_vec();
            s[3] = if s[3] == b'A' { b'B' } else { b'A' };
            String::from_utf8(s).unwrap()
        }
        // Outside the alphabet, a length no encoding has, and nothing.
        2 => format!("{}*", &sig[1..]),
        3 => format!("{sig}A"),
        4 => String::new(),
        _ => unreachable!(),
    };
    format!("{input}.{sig}")
}

#[test]
fn tokens_with_kube_apiservers_header_answer_as_with_any_other_spelling_of_it() {
    // `{"alg":..,"kid":..}` is taken from the authenticator's kept headers; the same members
    // in the other order go through the header's decoding and parsing. Both must answer
    // alike for every claim set and every damage to the signature.
    let auth = ServiceAccountAuthenticator::bound(
        [BOUND_ISSUER],
        ["api"],
        keys(&["k8s-rsa-public.pem", "k8s-ec-public.pem"]),
    )
    .unwrap();
    let claim_sets = [
        bound_claims(NOW, SA_ONLY, ""),
        bound_claims(NOW, WITH_POD, ""),
        bound_claims(NOW - 3600, SA_ONLY, ""),
        bound_claims(NOW, SA_ONLY, "").replace(BOUND_ISSUER, "https://elsewhere"),
        bound_claims(
            NOW,
            r#"{"namespace":"ns","serviceaccount":{"name":"saname","uid":7}}"#,
            "",
        ),
    ];
    let mut authenticated = 0;
    for (key, kid) in [(k8s_rsa(), K8S_RSA_KID), (k8s_ec(), K8S_EC_KID)] {
        let alg = key.default_alg();
        let kept = format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#);
        let parsed = format!(r#"{{"kid":"{kid}","alg":"{alg}"}}"#);
        for claims in &claim_sets {
            for how in 0..5 {
                let a = mutated(&token_with_header(&key, &kept, claims), how);
                let b = mutated(&token_with_header(&key, &parsed, claims), how);
                let (ra, rb) = (run(&auth, &a, NOW, &["api"]), run(&auth, &b, NOW, &["api"]));
                assert_eq!(ra, rb, "{alg} {claims} mutation {how}");
                authenticated += usize::from(matches!(ra, R::Auth { .. }));
            }
        }
    }
    // The two valid claim sets, unmutated, for each key.
    assert_eq!(authenticated, 4);
}
