//! OIDC / JWT authenticators: upstream's `oidc_test.go` `TestToken` cases that do not need
//! CEL or HTTP (spec §13.6), the catalogue's C-section attacks for ID tokens, key
//! replacement, and the JWT corpus.
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
use kauthn::jose::{AlgorithmSet, OwnedKeySet};
use kauthn::oidc::config::{
    ClaimMappings, ClaimValidationRule, Issuer, JwtAuthenticatorConfig, OidcFlags,
    PrefixedClaimOrExpression,
};
use kauthn::oidc::{JwksProvider, SwappableKeys};
use kauthn::{
    Context, Error, JwtAuthenticator, Limit, OidcError, Outcome, Scratch, TokenAuthenticator,
    UnixTime,
};

// oidc_test.go: now = 2009-11-10T23:00:00Z, valid = now + 1h, expired = now - 1h.
const NOW: i64 = 1_257_894_000;
const VALID: i64 = NOW + 3600;
const EXPIRED: i64 = NOW - 3600;
const ISSUER: &str = "https://auth.example.com";

#[derive(Debug, PartialEq, Eq)]
enum R {
    Auth {
        name: String,
        uid: String,
        groups: Vec<String>,
        extra: Vec<(String, Vec<String>)>,
        expires_at: Option<i64>,
    },
    No,
    Err(Error, String),
}

impl R {
    fn text(&self) -> &str {
        match self {
            R::Err(_, t) => t,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    fn error(&self) -> Error {
        match self {
            R::Err(e, _) => *e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    fn user(name: &str, groups: &[&str]) -> R {
        R::Auth {
            name: name.into(),
            uid: String::new(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            extra: vec![],
            expires_at: Some(VALID + 1),
        }
    }
}

fn run<P: JwksProvider>(auth: &JwtAuthenticator<P, String>, token: &str, now: i64) -> R {
    let mut buf = scratch_buf();
    let ctx = Context::at(UnixTime::from_secs(now));
    match auth.authenticate_token(token.as_bytes(), &ctx, &mut Scratch::new(&mut buf)) {
        Outcome::Authenticated(r) => {
            assert!(r.audiences.is_empty(), "OIDC responses carry no audiences");
            R::Auth {
                name: r.user.name.to_string(),
                uid: r.user.uid.to_string(),
                groups: r.user.groups.iter().map(String::from).collect(),
                extra: r
                    .user
                    .extra
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.iter().map(String::from).collect()))
                    .collect(),
                expires_at: r.expires_at.map(UnixTime::as_secs),
            }
        }
        Outcome::NotMine(_) => R::No,
        Outcome::Rejected(e) => {
            let first = e.first().unwrap();
            R::Err(first, auth.explain(&first).to_string())
        }
    }
}

fn claim(claim: &str, prefix: &str) -> PrefixedClaimOrExpression {
    PrefixedClaimOrExpression {
        claim: claim.into(),
        prefix: Some(prefix.into()),
        expression: String::new(),
    }
}

fn config(username: PrefixedClaimOrExpression) -> JwtAuthenticatorConfig {
    JwtAuthenticatorConfig {
        issuer: Issuer {
            url: ISSUER.into(),
            audiences: vec!["my-client".into()],
            ..Issuer::default()
        },
        claim_mappings: ClaimMappings {
            username,
            ..ClaimMappings::default()
        },
        ..JwtAuthenticatorConfig::default()
    }
}

fn rsa_keys() -> OwnedKeySet {
    let mut k = OwnedKeySet::new();
    k.add_jwks(jwks(&[(&k8s_rsa(), "rsa_1")]).as_bytes())
        .unwrap();
    k
}

fn build(c: &JwtAuthenticatorConfig) -> JwtAuthenticator<OwnedKeySet, String> {
    c.build(&[], rsa_keys()).unwrap()
}

fn sign(claims: &str) -> String {
    token(&k8s_rsa(), "rsa_1", claims)
}

/// `iss`, `aud:"my-client"`, `exp:valid`, plus `more`.
fn claims(more: &str) -> String {
    let sep = if more.is_empty() { "" } else { "," };
    format!(r#"{{"iss":"{ISSUER}","aud":"my-client","exp":{VALID}{sep}{more}}}"#)
}

fn username_auth() -> JwtAuthenticator<OwnedKeySet, String> {
    build(&config(claim("username", "")))
}

#[test]
fn token_with_a_username_claim_authenticates() {
    let r = run(
        &username_auth(),
        &sign(&claims(r#""username":"jane""#)),
        NOW,
    );
    assert_eq!(r, R::user("jane", &[]));
}

#[test]
fn missing_username_claim_is_an_error_naming_the_claim() {
    let auth = build(&config(claim("username", "prefix:")));
    let r = run(&auth, &sign(&claims("")), NOW);
    assert_eq!(
        r.text(),
        r#"oidc: parse username claims "username": claim not present"#
    );
    assert_eq!(
        r.error().to_string(),
        r#"oidc: parse username claims "...": claim not present"#
    );
}

#[test]
fn email_username_needs_email_verified_to_be_true_when_present() {
    // C-8.
    let auth = build(&config(claim("email", "")));
    let t = |more: &str| sign(&claims(&format!(r#""email":"jane@example.com"{more}"#)));
    assert_eq!(
        run(&auth, &t(r#","email_verified":true"#), NOW),
        R::user("jane@example.com", &[])
    );
    assert_eq!(run(&auth, &t(""), NOW), R::user("jane@example.com", &[]));
    assert_eq!(
        run(&auth, &t(r#","email_verified":false"#), NOW).text(),
        "oidc: email not verified"
    );
    assert_eq!(
        run(&auth, &t(r#","email_verified":"false""#), NOW).text(),
        "oidc: parse 'email_verified' claim: json: cannot unmarshal string into Go value of type bool"
    );
}

fn groups_auth(uprefix: &str, gprefix: &str) -> JwtAuthenticator<OwnedKeySet, String> {
    let mut c = config(claim("username", uprefix));
    c.claim_mappings.groups = claim("groups", gprefix);
    build(&c)
}

#[test]
fn groups_claim_maps_arrays_and_single_strings() {
    // C-10: a string is one group.
    let auth = groups_auth("", "");
    let r = run(
        &auth,
        &sign(&claims(r#""username":"jane","groups":["team1","team2"]"#)),
        NOW,
    );
    assert_eq!(r, R::user("jane", &["team1", "team2"]));
    let r = run(
        &auth,
        &sign(&claims(r#""username":"jane","groups":"team1""#)),
        NOW,
    );
    assert_eq!(r, R::user("jane", &["team1"]));
    let r = run(&auth, &sign(&claims(r#""username":"jane""#)), NOW);
    assert_eq!(r, R::user("jane", &[]));
    let r = run(
        &auth,
        &sign(&claims(r#""username":"jane","groups":null"#)),
        NOW,
    );
    assert_eq!(r, R::user("jane", &[]));
}

#[test]
fn groups_claim_of_another_type_is_an_error() {
    // C-10: non-string members.
    let auth = groups_auth("", "");
    for g in ["42", "[1]", r#"["a",true]"#, "{}"] {
        let r = run(
            &auth,
            &sign(&claims(&format!(r#""username":"jane","groups":{g}"#))),
            NOW,
        );
        assert!(
            r.text()
                .starts_with(r#"oidc: parse groups claim "groups": json: cannot unmarshal "#),
            "{g}: {}",
            r.text()
        );
    }
    let r = run(
        &auth,
        &sign(&claims(r#""username":"jane","groups":42"#)),
        NOW,
    );
    assert_eq!(
        r.text(),
        r#"oidc: parse groups claim "groups": json: cannot unmarshal number into Go value of type string"#
    );
}

#[test]
fn thousands_of_groups_hit_the_group_limit() {
    // C-10.
    let auth = groups_auth("", "");
    let many: Vec<String> = (0..1000).map(|i| format!("\"g{i}\"")).collect();
    let t = sign(&claims(&format!(
        r#""username":"jane","groups":[{}]"#,
        many.join(",")
    )));
    assert_eq!(
        run(&auth, &t, NOW).error(),
        Error::LimitExceeded(Limit::Groups)
    );
}

#[test]
fn username_and_groups_prefixes_are_prepended() {
    // C-9: prefixes keep external identities out of built-in names.
    let auth = groups_auth("oidc:", "groups:");
    let t = sign(&claims(
        r#""username":"system:admin","groups":["system:masters","team2"]"#,
    ));
    assert_eq!(
        run(&auth, &t, NOW),
        R::user(
            "oidc:system:admin",
            &["groups:system:masters", "groups:team2"]
        )
    );
}

#[test]
fn distributed_groups_are_not_fetched_and_the_aggregated_form_is_ignored() {
    let auth = groups_auth("", "");
    let dist = r#""username":"jane","_claim_names":{"groups":"src1"},"_claim_sources":{"src1":{"endpoint":"https://example.com/groups","access_token":"t"}}"#;
    let r = run(&auth, &sign(&claims(dist)), NOW);
    assert_eq!(
        r.error(),
        Error::Oidc(OidcError::DistributedClaimsUnsupported)
    );
    // A present groups claim wins over the distributed one.
    let both = format!(r#"{dist},"groups":"team1""#);
    assert_eq!(
        run(&auth, &sign(&claims(&both)), NOW),
        R::user("jane", &["team1"])
    );
    // Aggregated (JWT) sources are ignored.
    let agg = r#""username":"jane","_claim_names":{"groups":"src1"},"_claim_sources":{"src1":{"JWT":"some.jwt.token"}}"#;
    assert_eq!(run(&auth, &sign(&claims(agg)), NOW), R::user("jane", &[]));
}

#[test]
fn malformed_distributed_claim_names_are_rejected_for_any_claim() {
    let auth = username_auth();
    let r = run(
        &auth,
        &sign(&claims(
            r#""username":"jane","_claim_names":{"groups":"nonexistent-claim-source"},"_claim_sources":{}"#,
        )),
        NOW,
    );
    assert_eq!(r.text(), "oidc: verify token: oidc: source does not exist");
    let r = run(
        &auth,
        &sign(&claims(
            r#""username":"jane","_claim_names":{"groups":"src1"}"#,
        )),
        NOW,
    );
    assert_eq!(r.text(), "oidc: verify token: oidc: source does not exist");
    let r = run(
        &auth,
        &sign(&claims(r#""username":"jane","_claim_names":{"x":""}"#)),
        NOW,
    );
    assert_eq!(
        r.text(),
        "oidc: verify token: oidc: failed to obtain source from claim name"
    );
}

fn required_auth(rules: &[(&str, &str)]) -> JwtAuthenticator<OwnedKeySet, String> {
    let mut c = config(claim("username", ""));
    c.claim_validation_rules = rules
        .iter()
        .map(|(k, v)| ClaimValidationRule {
            claim: k.to_string(),
            required_value: v.to_string(),
            ..ClaimValidationRule::default()
        })
        .collect();
    build(&c)
}

#[test]
fn required_claims_must_be_present_and_equal() {
    // C-4.
    let auth = required_auth(&[("hd", "example.com"), ("sub", "test")]);
    let ok = sign(&claims(
        r#""username":"jane","hd":"example.com","sub":"test""#,
    ));
    assert_eq!(run(&auth, &ok, NOW), R::user("jane", &[]));
    let auth = required_auth(&[("hd", "example.com")]);
    let r = run(&auth, &sign(&claims(r#""username":"jane""#)), NOW);
    assert_eq!(r.text(), "oidc: required claim hd not present in ID token");
    let r = run(
        &auth,
        &sign(&claims(r#""username":"jane","hd":"example.org""#)),
        NOW,
    );
    assert_eq!(
        r.text(),
        "oidc: required claim hd value does not match. Got = ..., want = example.com"
    );
    let r = run(&auth, &sign(&claims(r#""username":"jane","hd":1"#)), NOW);
    assert_eq!(
        r.text(),
        "oidc: parse claim hd: json: cannot unmarshal number into Go value of type string"
    );
}

#[test]
fn signature_by_a_key_outside_the_set_is_rejected() {
    let c = config(claim("username", ""));
    let mut other = OwnedKeySet::new();
    other
        .add_jwks(jwks(&[(&other_rsa(), "rsa_2")]).as_bytes())
        .unwrap();
    let auth = c.build(&[], other).unwrap();
    let r = run(&auth, &sign(&claims(r#""username":"jane""#)), NOW);
    assert_eq!(
        r.text(),
        "oidc: verify token: failed to verify signature: failed to verify id token signature"
    );
}

#[test]
fn exp_has_no_leeway_and_a_missing_exp_is_expired() {
    // C-1, C-4.
    let auth = username_auth();
    let at = |exp: &str| {
        let c = format!(r#"{{"iss":"{ISSUER}","aud":"my-client","username":"jane"{exp}}}"#);
        run(&auth, &sign(&c), NOW)
    };
    assert_eq!(
        at(&format!(r#","exp":{EXPIRED}"#)).text(),
        "oidc: verify token: oidc: token is expired (Token Expiry: 2009-11-10 22:00:00 +0000 UTC)"
    );
    assert_eq!(
        at(&format!(r#","exp":{}"#, NOW - 1)).error(),
        Error::Oidc(OidcError::Expired { expiry: NOW - 1 })
    );
    assert!(
        matches!(at(&format!(r#","exp":{NOW}"#)), R::Auth { expires_at: Some(e), .. } if e == NOW + 1)
    );
    assert_eq!(
        at("").text(),
        "oidc: verify token: oidc: token is expired (Token Expiry: 0001-01-01 00:00:00 +0000 UTC)"
    );
    // go-oidc's jsonTime reads a JSON string holding a number (json.Number).
    assert!(matches!(
        at(&format!(r#","exp":"{VALID}""#)),
        R::Auth { .. }
    ));
    // C-3: non-numbers and out-of-range values are errors, never "no expiry".
    for bad in [r#""soon""#, "true", "[1]", "1e300", "null"] {
        let r = at(&format!(r#","exp":{bad}"#));
        assert!(
            r.text()
                .starts_with("oidc: verify token: oidc: failed to unmarshal claims: "),
            "{bad}: {r:?}"
        );
    }
}

#[test]
fn nbf_has_sixty_seconds_of_leeway_and_iat_is_not_checked() {
    // C-2.
    let auth = username_auth();
    let at = |more: &str| {
        run(
            &auth,
            &sign(&claims(&format!(r#""username":"jane",{more}"#))),
            NOW,
        )
    };
    assert!(matches!(
        at(&format!(r#""nbf":{}"#, NOW + 60)),
        R::Auth { .. }
    ));
    assert_eq!(
        at(&format!(r#""nbf":{}"#, NOW + 61)).text(),
        "oidc: verify token: oidc: current time 2009-11-10 23:00:00 +0000 UTC before the nbf (not before) time: 2009-11-10 23:01:01 +0000 UTC"
    );
    assert!(matches!(
        at(&format!(r#""iat":{}"#, NOW + 86_400)),
        R::Auth { .. }
    ));
    assert!(
        at(r#""iat":"x""#)
            .text()
            .contains("failed to unmarshal claims")
    );
}

#[test]
fn single_audience_must_be_in_the_token() {
    // C-5.
    let auth = username_auth();
    let t = |aud: &str| {
        sign(&format!(
            r#"{{"iss":"{ISSUER}","aud":{aud},"exp":{VALID},"username":"jane"}}"#
        ))
    };
    assert_eq!(
        run(&auth, &t(r#""not-my-client""#), NOW).text(),
        r#"oidc: verify token: oidc: expected audience "my-client" got [...]"#
    );
    assert_eq!(
        run(&auth, &t(r#"["not-my-client","my-client"]"#), NOW),
        R::user("jane", &[])
    );
    assert_eq!(
        run(&auth, &t(r#""my-client ""#), NOW).error(),
        Error::Oidc(OidcError::AudienceMismatch)
    );
    assert!(
        run(&auth, &t("[1]"), NOW)
            .text()
            .contains("failed to unmarshal claims")
    );
    let no_aud = sign(&format!(
        r#"{{"iss":"{ISSUER}","exp":{VALID},"username":"jane"}}"#
    ));
    assert_eq!(
        run(&auth, &no_aud, NOW).error(),
        Error::Oidc(OidcError::AudienceMismatch)
    );
}

#[test]
fn several_audiences_match_any() {
    let mut c = config(claim("username", ""));
    c.issuer.audiences = vec!["random-client".into(), "my-client".into()];
    c.issuer.audience_match_policy = "MatchAny".into();
    let auth = build(&c);
    let t = |aud: &str| {
        sign(&format!(
            r#"{{"iss":"{ISSUER}","aud":{aud},"exp":{VALID},"username":"jane"}}"#
        ))
    };
    assert_eq!(
        run(&auth, &t(r#"["not-my-client","my-client"]"#), NOW),
        R::user("jane", &[])
    );
    assert_eq!(
        run(&auth, &t(r#"["not-my-client"]"#), NOW).text(),
        r#"oidc: verify token: oidc: expected audience in ["my-client" "random-client"] got [...]"#
    );
}

#[test]
fn token_of_another_issuer_is_not_mine() {
    // C-6: near misses of the issuer are other issuers.
    let auth = username_auth();
    for iss in [
        "https://example.com",
        "https://auth.example.com/",
        "http://auth.example.com",
        "https://AUTH.example.com",
    ] {
        let t = sign(&format!(
            r#"{{"iss":"{iss}","aud":"my-client","exp":{VALID},"username":"jane"}}"#
        ));
        assert_eq!(run(&auth, &t, NOW), R::No, "{iss}");
    }
    let no_iss = sign(&format!(
        r#"{{"aud":"my-client","exp":{VALID},"username":"jane"}}"#
    ));
    assert_eq!(run(&auth, &no_iss, NOW), R::No);
}

#[test]
fn signing_algorithm_outside_the_allow_list_is_rejected() {
    let auth = username_auth().algorithms(AlgorithmSet::RS256_ONLY);
    let t = token_with_header(
        &k8s_rsa(),
        r#"{"alg":"PS256","kid":"rsa_1"}"#,
        &claims(r#""username":"jane""#),
    );
    assert_eq!(
        run(&auth, &t, NOW).text(),
        r#"oidc: verify token: oidc: id token signed with unsupported algorithm, expected ["RS256"] got "PS256""#
    );
    let auth = username_auth().algorithms(AlgorithmSet::EMPTY.with(kauthn::jose::Algorithm::PS256));
    assert_eq!(run(&auth, &t, NOW), R::user("jane", &[]));
    // A1/A2 for ID tokens: none and HS256 never verify.
    let c = claims(r#""username":"jane""#);
    for h in [r#"{"alg":"none"}"#, r#"{"alg":"HS256","kid":"rsa_1"}"#] {
        let t = format!("{}.{}.{}", b64(h.as_bytes()), b64(c.as_bytes()), b64(b"x"));
        assert!(
            run(&username_auth(), &t, NOW).text().starts_with(
                "oidc: verify token: oidc: id token signed with unsupported algorithm"
            )
        );
    }
}

#[test]
fn es512_token_verifies_with_the_matching_key_of_several() {
    let mut keys = OwnedKeySet::new();
    keys.add_jwks(jwks(&[(&k8s_ec(), "ecdsa_1"), (&p521_key(), "ecdsa_2")]).as_bytes())
        .unwrap();
    let auth = config(claim("username", ""))
        .build(&[], keys)
        .unwrap()
        .algorithms(AlgorithmSet::EMPTY.with(kauthn::jose::Algorithm::ES512));
    let t = token(&p521_key(), "ecdsa_2", &claims(r#""username":"jane""#));
    assert_eq!(run(&auth, &t, NOW), R::user("jane", &[]));
}

#[test]
fn accounts_google_com_issuer_is_read_with_https() {
    let mut c = config(claim("email", ""));
    c.issuer.url = "https://accounts.google.com".into();
    let auth = build(&c);
    let t = sign(&format!(
        r#"{{"iss":"accounts.google.com","aud":"my-client","exp":{VALID},"email":"thomas.jefferson@gmail.com"}}"#
    ));
    assert_eq!(
        run(&auth, &t, NOW),
        R::user("thomas.jefferson@gmail.com", &[])
    );
}

#[test]
fn empty_username_through_a_claim_is_allowed() {
    let r = run(&username_auth(), &sign(&claims(r#""username":"""#)), NOW);
    assert_eq!(r, R::user("", &[]));
    let r = run(&username_auth(), &sign(&claims(r#""username":null"#)), NOW);
    assert_eq!(r, R::user("", &[]));
    let r = run(&username_auth(), &sign(&claims(r#""username":7"#)), NOW);
    assert_eq!(
        r.text(),
        r#"oidc: parse username claims "username": json: cannot unmarshal number into Go value of type string"#
    );
}

#[test]
fn uid_claim_maps_the_uid() {
    let mut c = config(claim("username", ""));
    c.claim_mappings.uid.claim = "uid".into();
    let auth = build(&c);
    let R::Auth { uid, .. } = run(
        &auth,
        &sign(&claims(r#""username":"jane","uid":"1234""#)),
        NOW,
    ) else {
        panic!()
    };
    assert_eq!(uid, "1234");
    let r = run(&auth, &sign(&claims(r#""username":"jane""#)), NOW);
    assert_eq!(
        r.text(),
        r#"oidc: parse uid claim "uid": claim not present"#
    );
}

#[test]
fn string_jti_becomes_the_credential_id() {
    let auth = username_auth();
    let R::Auth { extra, .. } = run(
        &auth,
        &sign(&claims(r#""username":"jane","jti":"1234""#)),
        NOW,
    ) else {
        panic!()
    };
    assert_eq!(
        extra,
        vec![(
            "authentication.kubernetes.io/credential-id".to_string(),
            vec!["JTI=1234".to_string()]
        )]
    );
    for jti in [r#","jti":1234"#, r#","jti":"""#, ""] {
        let R::Auth { extra, .. } = run(
            &auth,
            &sign(&claims(&format!(r#""username":"jane"{jti}"#))),
            NOW,
        ) else {
            panic!()
        };
        assert!(extra.is_empty(), "{jti}");
    }
}

#[test]
fn confusable_usernames_are_distinct_identities() {
    // C-11: bytes are compared and passed through exactly, never normalised.
    let auth = username_auth();
    for name in ["\u{0430}dmin", "ａｄｍｉｎ", "e\u{0301}", "\u{00e9}"] {
        let r = run(
            &auth,
            &sign(&claims(&format!(r#""username":"{name}""#))),
            NOW,
        );
        assert_eq!(r, R::user(name, &[]));
    }
}

#[test]
fn flag_configuration_prefixes_usernames_with_the_issuer() {
    // C-9: with no --oidc-username-prefix, a non-email claim is prefixed by "<issuer>#".
    let flags = OidcFlags {
        issuer_url: ISSUER.into(),
        client_id: "my-client".into(),
        username_claim: "username".into(),
        ..OidcFlags::default()
    };
    let (c, algs) = flags.to_config().unwrap().unwrap();
    let auth = c.build(&[], rsa_keys()).unwrap().algorithms(algs);
    let r = run(&auth, &sign(&claims(r#""username":"system:admin""#)), NOW);
    assert_eq!(r, R::user("https://auth.example.com#system:admin", &[]));
}

#[test]
fn swappable_keys_start_uninitialized_and_replace_atomically() {
    let c = config(claim("username", ""));
    let auth = c.build(&[], SwappableKeys::new()).unwrap();
    let t = sign(&claims(r#""username":"jane""#));
    assert_eq!(
        run(&auth, &t, NOW).text(),
        "oidc: authenticator not initialized"
    );
    auth.keys()
        .replace_jwks(jwks(&[(&other_rsa(), "rsa_2")]).as_bytes())
        .unwrap();
    assert_eq!(
        run(&auth, &t, NOW).error(),
        Error::Oidc(OidcError::InvalidSignature)
    );
    auth.keys()
        .replace_jwks(jwks(&[(&k8s_rsa(), "rsa_1")]).as_bytes())
        .unwrap();
    assert_eq!(run(&auth, &t, NOW), R::user("jane", &[]));
    // A broken document leaves the previous keys in place.
    assert!(auth.keys().replace_jwks(b"{not json").is_err());
    assert_eq!(run(&auth, &t, NOW), R::user("jane", &[]));
}

#[test]
fn no_token_bytes_appear_in_errors() {
    // K-4.
    let auth = required_auth(&[("hd", "example.com")]);
    let t = sign(&claims(r#""username":"jane","hd":"secret-domain.example""#));
    let r = run(&auth, &t, NOW);
    let text = format!("{} {:?} {}", r.error(), r.error(), r.text());
    assert!(!text.contains("secret-domain") && !text.contains("jane"));
    for part in t.split('.') {
        assert!(!text.contains(part));
    }
}

#[test]
fn every_jwt_corpus_file_is_handled_without_panic() {
    let Some(dir) = vectors("corpus/jwt") else {
        return;
    };
    let mut c = config(claim("username", "oidc:"));
    c.claim_mappings.groups = claim("groups", "g:");
    c.claim_mappings.uid.claim = "sub".into();
    let auth = build(&c);
    let mut n = 0usize;
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let mut inputs = vec![bytes.clone()];
            inputs.extend(bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec));
            for input in inputs {
                let mut buf = scratch_buf();
                let ctx = Context::at(UnixTime::from_secs(NOW));
                let _ = auth.authenticate_token(&input, &ctx, &mut Scratch::new(&mut buf));
                n += 1;
            }
        }
    }
    println!("OIDC authenticator handled {n} corpus inputs");
    assert!(n > 0);
}
