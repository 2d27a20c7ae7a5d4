//! `AuthenticationConfiguration` validation: upstream's `validation_test.go` cases (spec
//! §13.7) with their messages, the `--oidc-*` flag mapping, CEL rejection, and (with
//! `serde`) strict decoding.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

use kauthn::jose::{Algorithm, AlgorithmSet};
use kauthn::oidc::config::{
    AnonymousCondition, AnonymousConfig, AuthenticationConfiguration, ClaimMappings,
    ClaimOrExpression, ClaimValidationRule, ExtraMapping, FlagError, Issuer,
    JwtAuthenticatorConfig, OidcFlags, PrefixedClaimOrExpression, UserValidationRule,
};

fn claim(c: &str, prefix: Option<&str>) -> PrefixedClaimOrExpression {
    PrefixedClaimOrExpression {
        claim: c.into(),
        prefix: prefix.map(String::from),
        expression: String::new(),
    }
}

fn valid() -> JwtAuthenticatorConfig {
    JwtAuthenticatorConfig {
        issuer: Issuer {
            url: "https://issuer-url".into(),
            audiences: vec!["audience".into()],
            ..Issuer::default()
        },
        claim_mappings: ClaimMappings {
            username: claim("sub", Some("")),
            ..ClaimMappings::default()
        },
        ..JwtAuthenticatorConfig::default()
    }
}

/// The messages of `c.validate(&[])`, or an empty list.
fn errors(c: &JwtAuthenticatorConfig) -> Vec<String> {
    c.validate(&[])
        .err()
        .map(|e| e.messages().collect())
        .unwrap_or_default()
}

fn with_url(url: &str) -> JwtAuthenticatorConfig {
    let mut c = valid();
    c.issuer.url = url.into();
    c
}

#[test]
fn a_valid_authenticator_and_an_empty_configuration_pass() {
    assert!(errors(&valid()).is_empty());
    assert!(AuthenticationConfiguration::default().validate(&[]).is_ok());
}

#[test]
fn issuer_url_rules_match_upstream() {
    assert_eq!(errors(&with_url("")), ["issuer.url: Required value"]);
    assert_eq!(
        errors(&with_url("https://issuer-url:invalid-port")),
        [
            r#"issuer.url: Invalid value: "https://issuer-url:invalid-port": parse "https://issuer-url:invalid-port": invalid port ":invalid-port" after host"#
        ]
    );
    assert_eq!(
        errors(&with_url("http://issuer-url")),
        [r#"issuer.url: Invalid value: "http://issuer-url": URL scheme must be https"#]
    );
    assert_eq!(
        errors(&with_url("https://user:pass@issuer-url")),
        [
            r#"issuer.url: Invalid value: "https://user:pass@issuer-url": URL must not contain a username or password"#
        ]
    );
    assert_eq!(
        errors(&with_url("https://issuer-url?query")),
        [r#"issuer.url: Invalid value: "https://issuer-url?query": URL must not contain a query"#]
    );
    assert_eq!(
        errors(&with_url("https://issuer-url#fragment")),
        [
            r#"issuer.url: Invalid value: "https://issuer-url#fragment": URL must not contain a fragment"#
        ]
    );
    // Several rules can fire together.
    assert_eq!(errors(&with_url("http://u@issuer-url?q#f")).len(), 4);
}

#[test]
fn issuer_overlapping_a_service_account_issuer_is_disallowed() {
    let e = valid()
        .validate(&["c", "a", "https://issuer-url", "b"])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"issuer.url: Invalid value: "https://issuer-url": URL must not overlap with disallowed issuers: [a b c https://issuer-url]"#
    );
}

#[test]
fn discovery_url_is_checked_like_the_url_and_must_differ_from_it() {
    let mut c = valid();
    c.issuer.discovery_url = Some("https://oidc.oidc-namespace.svc/path".into());
    assert!(errors(&c).is_empty());
    for (url, d) in [
        ("https://issuer-url", "https://issuer-url"),
        ("https://issuer-url", "https://issuer-url/"),
        ("https://issuer-url", "https://issuer-url///"),
        ("https://issuer-url/", "https://issuer-url"),
    ] {
        let mut c = with_url(url);
        c.issuer.discovery_url = Some(d.into());
        assert_eq!(
            errors(&c),
            [format!(
                r#"issuer.discoveryURL: Invalid value: "{d}": discoveryURL must be different from URL"#
            )]
        );
    }
    let mut c = valid();
    c.issuer.discovery_url = Some("http://discovery".into());
    assert_eq!(
        errors(&c),
        [r#"issuer.discoveryURL: Invalid value: "http://discovery": URL scheme must be https"#]
    );
    c.issuer.discovery_url = Some(String::new());
    assert!(errors(&c).is_empty());
}

#[test]
fn audience_rules_match_upstream() {
    let with = |auds: &[&str], policy: &str| {
        let mut c = valid();
        c.issuer.audiences = auds.iter().map(|s| s.to_string()).collect();
        c.issuer.audience_match_policy = policy.into();
        errors(&c)
    };
    assert_eq!(
        with(&[], ""),
        ["issuer.audiences: Required value: at least one issuer.audiences is required"]
    );
    assert_eq!(with(&[""], ""), ["issuer.audiences[0]: Required value"]);
    assert_eq!(
        with(&["audience"], "MatchExact"),
        [
            r#"issuer.audienceMatchPolicy: Invalid value: "MatchExact": audienceMatchPolicy must be empty or MatchAny for single audience"#
        ]
    );
    assert!(with(&["audience"], "MatchAny").is_empty());
    assert_eq!(
        with(&["audience", "audience"], "MatchAny"),
        [r#"issuer.audiences[1]: Duplicate value: "audience""#]
    );
    assert_eq!(
        with(&["audience", "other"], ""),
        [
            r#"issuer.audienceMatchPolicy: Invalid value: "": audienceMatchPolicy must be MatchAny for multiple audiences"#
        ]
    );
    assert!(with(&["audience", "other"], "MatchAny").is_empty());
}

#[test]
fn certificate_authority_must_hold_certificates() {
    let mut c = valid();
    c.issuer.certificate_authority = "invalid".into();
    assert_eq!(
        errors(&c),
        [
            r#"issuer.certificateAuthority: Invalid value: "<omitted>": data does not contain any valid RSA or ECDSA certificates"#
        ]
    );
    c.issuer.certificate_authority = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/k8s-ec-cert.pem"
    ))
    .unwrap();
    assert!(errors(&c).is_empty());
}

#[test]
fn egress_selector_type_must_be_controlplane_or_cluster() {
    let mut c = valid();
    c.issuer.egress_selector_type = "panda".into();
    assert_eq!(
        errors(&c),
        [
            r#"issuer.egressSelectorType: Invalid value: "panda": egress selector must be either controlplane or cluster"#
        ]
    );
    for ok in ["controlplane", "cluster"] {
        c.issuer.egress_selector_type = ok.into();
        assert!(errors(&c).is_empty());
    }
}

fn rule(claim: &str, value: &str, expression: &str, message: &str) -> ClaimValidationRule {
    ClaimValidationRule {
        claim: claim.into(),
        required_value: value.into(),
        expression: expression.into(),
        message: message.into(),
    }
}

#[test]
fn claim_validation_rule_messages_match_upstream() {
    let with = |rules: Vec<ClaimValidationRule>| {
        let mut c = valid();
        c.claim_validation_rules = rules;
        errors(&c)
    };
    assert_eq!(
        with(vec![rule("foo", "bar", "", ""), rule("foo", "baz", "", "")]),
        [r#"claimValidationRules[1].claim: Duplicate value: "foo""#]
    );
    assert_eq!(
        with(vec![rule("", "", "", "")]),
        ["claimValidationRules[0]: Required value: claim or expression is required"]
    );
    assert_eq!(
        with(vec![rule("claim", "", "expr", "")]),
        [
            r#"claimValidationRules[0]: Invalid value: "claim": claim and expression can't both be set"#
        ]
    );
    assert_eq!(
        with(vec![rule("claim", "", "", "message")]),
        [
            r#"claimValidationRules[0].message: Invalid value: "message": may not be specified when claim is set"#
        ]
    );
    assert_eq!(
        with(vec![rule("", "value", "claims.x", "")]),
        [
            r#"claimValidationRules[0].requiredValue: Invalid value: "value": may not be specified when expression is set"#,
            r#"claimValidationRules[0].expression: Invalid value: "claims.x": CEL expressions are not supported"#
        ]
    );
}

#[test]
fn claim_mapping_messages_match_upstream() {
    let with = |m: ClaimMappings| {
        let mut c = valid();
        c.claim_mappings = m;
        errors(&c)
    };
    assert_eq!(
        with(ClaimMappings {
            username: PrefixedClaimOrExpression {
                prefix: Some(String::new()),
                ..PrefixedClaimOrExpression::default()
            },
            ..ClaimMappings::default()
        }),
        ["claimMappings.username: Required value: claim or expression is required"]
    );
    assert_eq!(
        with(ClaimMappings {
            username: claim("sub", None),
            ..ClaimMappings::default()
        }),
        [
            "claimMappings.username.prefix: Required value: prefix is required when claim is set. It can be set to an empty string to disable prefixing"
        ]
    );
    assert_eq!(
        with(ClaimMappings {
            username: claim("sub", Some("")),
            groups: claim("groups", None),
            ..ClaimMappings::default()
        }),
        [
            "claimMappings.groups.prefix: Required value: prefix is required when claim is set. It can be set to an empty string to disable prefixing"
        ]
    );
    assert_eq!(
        with(ClaimMappings {
            username: PrefixedClaimOrExpression {
                claim: "sub".into(),
                prefix: Some(String::new()),
                expression: "claims.sub".into(),
            },
            ..ClaimMappings::default()
        })[0],
        r#"claimMappings.username: Invalid value: "": claim and expression can't both be set"#
    );
    assert_eq!(
        with(ClaimMappings {
            username: claim("sub", Some("")),
            uid: ClaimOrExpression {
                claim: "uid".into(),
                expression: "claims.uid".into(),
            },
            ..ClaimMappings::default()
        })[0],
        r#"claimMappings.uid: Invalid value: "": claim and expression can't both be set"#
    );
}

fn extra(key: &str) -> Vec<String> {
    let mut c = valid();
    c.claim_mappings.extra = vec![ExtraMapping {
        key: key.into(),
        value_expression: "claims.foo".into(),
    }];
    errors(&c)
        .into_iter()
        .filter(|e| !e.contains("CEL expressions are not supported"))
        .collect()
}

#[test]
fn extra_keys_are_lowercase_domain_prefixed_paths_outside_kubernetes_domains() {
    assert_eq!(
        extra("foo"),
        [
            r#"claimMappings.extra[0].key: Invalid value: "foo": must be a domain-prefixed path (such as "acme.io/foo")"#
        ]
    );
    for reserved in [
        "k8s.io/foo",
        "example.k8s.io/foo",
        "kubernetes.io/foo",
        "example.kubernetes.io/foo",
    ] {
        assert_eq!(
            extra(reserved),
            [format!(
                r#"claimMappings.extra[0].key: Invalid value: "{reserved}": k8s.io, kubernetes.io and their subdomains are reserved for Kubernetes use"#
            )]
        );
    }
    assert!(extra("ak8s.io/foo").is_empty());
    assert!(extra("bkubernetes.io/foo").is_empty());
    assert_eq!(
        extra("example.org/Foo"),
        [r#"claimMappings.extra[0].key: Invalid value: "example.org/Foo": must be lowercase"#]
    );
    assert_eq!(extra(""), ["claimMappings.extra[0].key: Required value"]);
    let mut c = valid();
    let x = |k: &str| ExtraMapping {
        key: k.into(),
        value_expression: "claims.foo".into(),
    };
    c.claim_mappings.extra = vec![
        x("example.org/foo"),
        x("example.org/bar"),
        x("example.org/foo"),
    ];
    assert!(errors(&c).contains(
        &r#"claimMappings.extra[2].key: Duplicate value: "example.org/foo""#.to_string()
    ));
}

#[test]
fn every_cel_expression_is_rejected_with_a_clear_error() {
    let mut c = valid();
    c.claim_mappings.username = PrefixedClaimOrExpression {
        expression: "claims.email".into(),
        ..PrefixedClaimOrExpression::default()
    };
    c.claim_mappings.groups.expression = "claims.roles".into();
    c.claim_mappings.uid.expression = "claims.sub".into();
    c.claim_validation_rules = vec![rule("", "", "claims.hd == \"example.com\"", "hd")];
    c.user_validation_rules = vec![UserValidationRule {
        expression: "!user.username.startsWith('system:')".into(),
        message: "m".into(),
    }];
    c.claim_mappings.extra = vec![ExtraMapping {
        key: "example.org/foo".into(),
        value_expression: "claims.foo".into(),
    }];
    let e = errors(&c);
    let cel: Vec<&String> = e
        .iter()
        .filter(|m| m.ends_with(": CEL expressions are not supported"))
        .collect();
    assert_eq!(cel.len(), 6, "{e:#?}");
    assert!(e.contains(&r#"claimMappings.username.expression: Invalid value: "claims.email": CEL expressions are not supported"#.to_string()));
    // build refuses what validate refuses.
    assert!(c.build(&[], kauthn::jose::OwnedKeySet::new()).is_err());
}

#[test]
fn user_validation_rule_messages_match_upstream() {
    let mut c = valid();
    let r = |e: &str| UserValidationRule {
        expression: e.into(),
        message: String::new(),
    };
    c.user_validation_rules = vec![
        r("user.username == 'foo'"),
        r("user.username == 'foo'"),
        r(""),
    ];
    let e = errors(&c);
    assert!(
        e.contains(
            &r#"userValidationRules[1].expression: Duplicate value: "user.username == 'foo'""#
                .to_string()
        )
    );
    assert!(e.contains(&"userValidationRules[2].expression: Required value".to_string()));
}

#[test]
fn configuration_level_rules_use_jwt_index_paths() {
    let mut second = valid();
    second.issuer.discovery_url = Some("https://discovery".into());
    let mut first = valid();
    first.issuer.discovery_url = Some("https://discovery".into());
    let config = AuthenticationConfiguration {
        jwt: vec![first, second],
        ..AuthenticationConfiguration::default()
    };
    let e = config.validate(&[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"[jwt[1].issuer.url: Duplicate value: "https://issuer-url", jwt[1].issuer.discoveryURL: Duplicate value: "https://discovery"]"#
    );
    let config = AuthenticationConfiguration {
        jwt: vec![with_url("invalid-url")],
        ..AuthenticationConfiguration::default()
    };
    assert_eq!(
        config.validate(&[]).unwrap_err().to_string(),
        r#"jwt[0].issuer.url: Invalid value: "invalid-url": URL scheme must be https"#
    );
    let config = AuthenticationConfiguration {
        jwt: (0..65)
            .map(|i| with_url(&format!("https://issuer-{i}")))
            .collect(),
        ..AuthenticationConfiguration::default()
    };
    assert_eq!(
        config.validate(&[]).unwrap_err().to_string(),
        "jwt: Too many: 65: must have at most 64 items"
    );
}

#[test]
fn anonymous_conditions_need_enabled() {
    let config = AuthenticationConfiguration {
        anonymous: Some(AnonymousConfig {
            enabled: false,
            conditions: vec![AnonymousCondition {
                path: "/healthz".into(),
            }],
        }),
        ..AuthenticationConfiguration::default()
    };
    assert_eq!(
        config.validate(&[]).unwrap_err().to_string(),
        r#"anonymous.conditions: Invalid value: [{"Path":"/healthz"}]: enabled should be set to true when conditions are defined"#
    );
}

#[test]
fn oidc_flags_map_to_one_authenticator() {
    let flags = OidcFlags {
        issuer_url: "https://issuer-url".into(),
        client_id: "client".into(),
        groups_claim: "groups".into(),
        groups_prefix: "g:".into(),
        signing_algs: vec!["RS256".into(), "ES256".into()],
        required_claims: vec![
            ("hd".into(), "example.com".into()),
            ("hd".into(), "example.org".into()),
        ],
        ..OidcFlags::default()
    };
    let (c, algs) = flags.to_config().unwrap().unwrap();
    assert!(c.validate(&[]).is_ok());
    assert_eq!(c.issuer.audiences, ["client"]);
    assert_eq!(c.claim_mappings.username.claim, "sub");
    assert_eq!(
        c.claim_mappings.username.prefix.as_deref(),
        Some("https://issuer-url#")
    );
    assert_eq!(c.claim_mappings.groups.prefix.as_deref(), Some("g:"));
    assert_eq!(c.claim_validation_rules.len(), 1);
    assert_eq!(c.claim_validation_rules[0].required_value, "example.org");
    assert_eq!(
        algs,
        AlgorithmSet::EMPTY
            .with(Algorithm::RS256)
            .with(Algorithm::ES256)
    );
}

#[test]
fn username_prefix_defaulting_follows_kube_apiserver() {
    let prefix = |claim: &str, prefix: &str| {
        let flags = OidcFlags {
            issuer_url: "https://issuer-url".into(),
            client_id: "client".into(),
            username_claim: claim.into(),
            username_prefix: prefix.into(),
            ..OidcFlags::default()
        };
        flags
            .to_config()
            .unwrap()
            .unwrap()
            .0
            .claim_mappings
            .username
            .prefix
            .unwrap()
    };
    assert_eq!(prefix("sub", ""), "https://issuer-url#");
    assert_eq!(prefix("email", ""), "");
    assert_eq!(prefix("sub", "-"), "");
    assert_eq!(prefix("email", "oidc:"), "oidc:");
}

#[test]
fn oidc_flag_errors_match_upstream() {
    let flags = OidcFlags {
        issuer_url: "https://issuer-url".into(),
        ..OidcFlags::default()
    };
    assert_eq!(
        flags.to_config().unwrap_err().to_string(),
        "oidc-issuer-url and oidc-client-id must be specified together when any oidc-* flags are set"
    );
    let flags = OidcFlags {
        issuer_url: "https://issuer-url".into(),
        client_id: "c".into(),
        signing_algs: vec!["HS256".into()],
        ..OidcFlags::default()
    };
    assert_eq!(
        flags.to_config().unwrap_err(),
        FlagError::UnsupportedSigningAlg("HS256".into())
    );
    assert_eq!(
        flags.to_config().unwrap_err().to_string(),
        r#"oidc: unsupported signing alg: "HS256""#
    );
    assert!(OidcFlags::default().to_config().unwrap().is_none());
    // An http issuer from flags fails the same validation as the file.
    let flags = OidcFlags {
        issuer_url: "http://auth.example.com".into(),
        client_id: "c".into(),
        ..OidcFlags::default()
    };
    let (c, _) = flags.to_config().unwrap().unwrap();
    assert_eq!(
        c.validate(&[]).unwrap_err().to_string(),
        r#"issuer.url: Invalid value: "http://auth.example.com": URL scheme must be https"#
    );
}

#[cfg(feature = "serde")]
#[test]
fn configuration_decodes_with_upstream_field_names_and_refuses_unknown_fields() {
    let json = r#"{
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthenticationConfiguration",
        "jwt": [{
            "issuer": {"url": "https://issuer-url", "discoveryURL": "https://d", "audiences": ["a", "b"], "audienceMatchPolicy": "MatchAny"},
            "claimValidationRules": [{"claim": "hd", "requiredValue": "example.com"}],
            "claimMappings": {"username": {"claim": "sub", "prefix": ""}, "groups": {"claim": "groups", "prefix": "g:"}, "uid": {"claim": "uid"}}
        }]
    }"#;
    let c: AuthenticationConfiguration = serde_json::from_str(json).unwrap();
    assert!(c.validate(&[]).is_ok());
    assert_eq!(c.jwt[0].issuer.discovery_url.as_deref(), Some("https://d"));
    assert_eq!(
        c.jwt[0].claim_validation_rules[0].required_value,
        "example.com"
    );
    let bad =
        r#"{"jwt":[{"issuer":{"url":"https://x","audiences":["a"],"audienceMatchPolicyy":""}}]}"#;
    assert!(serde_json::from_str::<AuthenticationConfiguration>(bad).is_err());
}
