//! Upstream `bootstrap_test.go` and `k8s.io/cluster-bootstrap` tests (spec §13.4).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

use kauthn::{
    BootstrapError, BootstrapSecret, BootstrapSecretStore, BootstrapTokenAuthenticator, Context,
    Error, LookupError, Outcome, Scratch, TokenAuthenticator, UnixTime, is_valid_bootstrap_token,
    is_valid_bootstrap_token_id, parse_bootstrap_secret_name, validate_bootstrap_group_name,
};

const TOKEN: &[u8] = b"foobar.circumnavigation";
// 2026-11-29T00:00:00Z
const NOW: i64 = 1_795_910_400;

fn base() -> BootstrapSecret<'static> {
    BootstrapSecret {
        namespace: "kube-system",
        name: "bootstrap-token-foobar",
        type_: "bootstrap.kubernetes.io/token",
        has_data: true,
        token_id: Some(b"foobar"),
        token_secret: Some(b"circumnavigation"),
        usage_bootstrap_authentication: Some(b"true"),
        ..BootstrapSecret::default()
    }
}

fn run(secret: BootstrapSecret<'_>, token: &[u8]) -> Result<(String, Vec<String>), Option<Error>> {
    run_at(secret, token, NOW)
}

fn run_at(
    secret: BootstrapSecret<'_>,
    token: &[u8],
    now: i64,
) -> Result<(String, Vec<String>), Option<Error>> {
    let secrets = [secret];
    let a = BootstrapTokenAuthenticator::new(&secrets[..]);
    let mut buf = [0u8; 512];
    let mut s = Scratch::new(&mut buf);
    let ctx = Context::at(UnixTime::from_secs(now));
    match a.authenticate_token(token, &ctx, &mut s) {
        Outcome::Authenticated(r) => {
            assert_eq!(r.user.uid, "");
            assert!(r.user.extra.is_empty());
            Ok((
                r.user.name.to_string(),
                r.user.groups.iter().map(String::from).collect(),
            ))
        }
        Outcome::NotMine(reason) => Err(reason),
        Outcome::Rejected(e) => panic!("bootstrap never rejects: {e}"),
    }
}

fn ok(groups: &[&str]) -> Result<(String, Vec<String>), Option<Error>> {
    Ok((
        "system:bootstrap:foobar".into(),
        groups.iter().map(|s| s.to_string()).collect(),
    ))
}

fn declined(e: BootstrapError) -> Result<(String, Vec<String>), Option<Error>> {
    Err(Some(Error::Bootstrap(e)))
}

#[test]
fn valid_token_authenticates_as_bootstrap_user() {
    assert_eq!(run(base(), TOKEN), ok(&["system:bootstrappers"]));
}

#[test]
fn valid_token_with_extra_group_lists_it_after_the_default() {
    let s = BootstrapSecret {
        auth_extra_groups: Some(b"system:bootstrappers:foo"),
        ..base()
    };
    assert_eq!(
        run(s, TOKEN),
        ok(&["system:bootstrappers", "system:bootstrappers:foo"])
    );
}

#[test]
fn invalid_extra_group_is_not_mine() {
    let s = BootstrapSecret {
        auth_extra_groups: Some(b"foo"),
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::InvalidExtraGroup));
}

#[test]
fn secret_with_invalid_name_is_not_mine() {
    let s = BootstrapSecret {
        name: "bad-name",
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::SecretNotFound));
}

#[test]
fn secret_in_another_namespace_is_not_mine() {
    struct Store(BootstrapSecret<'static>);
    impl BootstrapSecretStore for Store {
        fn with_secret(
            &self,
            _id: &str,
            f: &mut dyn FnMut(&BootstrapSecret<'_>),
        ) -> Result<bool, LookupError> {
            f(&self.0);
            Ok(true)
        }
    }
    let a = BootstrapTokenAuthenticator::new(Store(BootstrapSecret {
        namespace: "default",
        ..base()
    }));
    let mut buf = [0u8; 64];
    let o = a.authenticate_token(
        TOKEN,
        &Context::at(UnixTime::from_secs(NOW)),
        &mut Scratch::new(&mut buf),
    );
    assert_eq!(
        o,
        Outcome::NotMine(Some(Error::Bootstrap(BootstrapError::WrongSecretName)))
    );
}

#[test]
fn secret_without_usage_key_is_not_mine() {
    let s = BootstrapSecret {
        usage_bootstrap_authentication: None,
        ..base()
    };
    assert_eq!(
        run(s, TOKEN),
        declined(BootstrapError::NotForAuthentication)
    );
    let s = BootstrapSecret {
        usage_bootstrap_authentication: Some(b"True"),
        ..base()
    };
    assert_eq!(
        run(s, TOKEN),
        declined(BootstrapError::NotForAuthentication)
    );
}

#[test]
fn wrong_token_is_not_mine() {
    assert_eq!(
        run(base(), b"barfoo.circumnavigation"),
        declined(BootstrapError::SecretNotFound)
    );
    assert_eq!(
        run(base(), b"foobar.circumnavigatiom"),
        declined(BootstrapError::InvalidSecret)
    );
}

#[test]
fn deleted_token_is_not_mine() {
    let s = BootstrapSecret {
        deleting: true,
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::Deleted));
}

#[test]
fn wrong_type_or_missing_data_is_not_mine() {
    let s = BootstrapSecret {
        type_: "Opaque",
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::InvalidType));
    let s = BootstrapSecret {
        has_data: false,
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::InvalidType));
}

#[test]
fn token_id_mismatch_in_data_is_not_mine() {
    let s = BootstrapSecret {
        token_id: Some(b"foobaz"),
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::InvalidTokenId));
}

#[test]
fn expired_token_is_not_accepted() {
    let s = BootstrapSecret {
        expiration: Some(b"2009-11-10T23:00:00Z"),
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::Expired));
}

#[test]
fn not_yet_expired_token_is_accepted() {
    let s = BootstrapSecret {
        expiration: Some(b"2109-11-10T23:00:00Z"),
        ..base()
    };
    assert_eq!(run(s, TOKEN), ok(&["system:bootstrappers"]));
}

#[test]
fn expiry_exactly_at_now_is_expired_and_a_nanosecond_later_is_not() {
    let s = BootstrapSecret {
        expiration: Some(b"2026-11-29T00:00:00Z"),
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::Expired));
    let s = BootstrapSecret {
        expiration: Some(b"2026-11-29T00:00:00.000000001Z"),
        ..base()
    };
    assert_eq!(run(s, TOKEN), ok(&["system:bootstrappers"]));
    let s = BootstrapSecret {
        expiration: Some(b"2026-11-29T01:00:00+01:00"),
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::Expired));
}

#[test]
fn response_carries_the_first_expired_second_for_caches() {
    let secrets = [BootstrapSecret {
        expiration: Some(b"2026-11-29T00:00:10.5Z"),
        ..base()
    }];
    let a = BootstrapTokenAuthenticator::new(&secrets[..]);
    let mut buf = [0u8; 128];
    let o = a.authenticate_token(
        TOKEN,
        &Context::at(UnixTime::from_secs(NOW)),
        &mut Scratch::new(&mut buf),
    );
    assert_eq!(
        o.response().unwrap().expires_at,
        Some(UnixTime::from_secs(NOW + 11))
    );
}

#[test]
fn unparseable_expiration_counts_as_expired_and_empty_never_expires() {
    let s = BootstrapSecret {
        expiration: Some(b"tomorrow"),
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::Expired));
    let s = BootstrapSecret {
        expiration: Some(b""),
        ..base()
    };
    assert_eq!(run(s, TOKEN), ok(&["system:bootstrappers"]));
}

#[test]
fn token_id_of_wrong_length_is_not_mine_without_a_lookup() {
    let s = BootstrapSecret {
        name: "bootstrap-token-foo",
        ..base()
    };
    assert_eq!(run(s, b"foo.circumnavigation"), Err(None));
}

#[test]
fn extra_groups_are_deduplicated_and_byte_sorted() {
    let s = BootstrapSecret {
        auth_extra_groups: Some(
            b"system:bootstrappers:foo,system:bootstrappers:bar,system:bootstrappers:bar",
        ),
        ..base()
    };
    assert_eq!(
        run(s, TOKEN),
        ok(&[
            "system:bootstrappers",
            "system:bootstrappers:bar",
            "system:bootstrappers:foo"
        ])
    );
}

#[test]
fn empty_extra_groups_give_the_default_group_and_a_trailing_comma_is_invalid() {
    let s = BootstrapSecret {
        auth_extra_groups: Some(b""),
        ..base()
    };
    assert_eq!(run(s, TOKEN), ok(&["system:bootstrappers"]));
    let s = BootstrapSecret {
        auth_extra_groups: Some(b"system:bootstrappers:foo,"),
        ..base()
    };
    assert_eq!(run(s, TOKEN), declined(BootstrapError::InvalidExtraGroup));
}

#[test]
fn store_failure_is_an_error_not_a_decline() {
    struct Broken;
    impl BootstrapSecretStore for Broken {
        fn with_secret(
            &self,
            _: &str,
            _: &mut dyn FnMut(&BootstrapSecret<'_>),
        ) -> Result<bool, LookupError> {
            Err(LookupError)
        }
    }
    let a = BootstrapTokenAuthenticator::new(Broken);
    let mut buf = [0u8; 64];
    let o = a.authenticate_token(
        TOKEN,
        &Context::at(UnixTime::from_secs(NOW)),
        &mut Scratch::new(&mut buf),
    );
    assert_eq!(o, Outcome::rejected(Error::BootstrapLookup));
}

#[test]
fn secret_name_parsing_matches_cluster_bootstrap() {
    assert_eq!(
        parse_bootstrap_secret_name("bootstrap-token-abc123"),
        Some("abc123")
    );
    for bad in [
        "",
        "abc123",
        "bootstrap-token-",
        "bootstrap-token-abc",
        "bootstrap-token-abc123ghi",
        "bootstrap-token-ABC123",
    ] {
        assert_eq!(parse_bootstrap_secret_name(bad), None, "{bad}");
    }
}

#[test]
fn token_format_matches_cluster_bootstrap() {
    for bad in [
        "",
        ".",
        "1234567890123456789012",
        "12345.1234567890123456",
        ".1234567890123456",
        "123456.",
        "123456:1234567890.123456",
        "abcdef:1234567890123456",
        "Abcdef.1234567890123456",
        "123456.AABBCCDDEEFFGGHH",
        "123456.AABBCCD-EEFFGGHH",
        "abc*ef.1234567890123456",
        "ABCDEF.abcdef0123456789",
    ] {
        assert!(!is_valid_bootstrap_token(bad.as_bytes()), "{bad}");
    }
    for good in [
        "abcdef.1234567890123456",
        "123456.aabbccddeeffgghh",
        "abcdef.abcdef0123456789",
        "123456.1234560123456789",
    ] {
        assert!(is_valid_bootstrap_token(good.as_bytes()), "{good}");
    }
}

#[test]
fn token_id_format_matches_cluster_bootstrap() {
    assert!(is_valid_bootstrap_token_id(b"abcdef"));
    assert!(is_valid_bootstrap_token_id(b"123456"));
    for bad in [
        "",
        "1234567890123456789012",
        "12345",
        "Abcdef",
        "ABCDEF",
        "abcdef.",
    ] {
        assert!(!is_valid_bootstrap_token_id(bad.as_bytes()), "{bad}");
    }
}

#[test]
fn group_name_validation_matches_cluster_bootstrap() {
    for good in [
        "system:bootstrappers:foo",
        "system:bootstrappers:foo:bar:baz",
        "system:bootstrappers:foo-bar-42",
    ] {
        assert!(validate_bootstrap_group_name(good.as_bytes()), "{good}");
    }
    let long = format!("system:bootstrappers:{}", "x".repeat(300));
    let max = format!("system:bootstrappers:{}", "x".repeat(256));
    let over = format!("system:bootstrappers:{}", "x".repeat(257));
    assert!(validate_bootstrap_group_name(max.as_bytes()));
    for bad in [
        "system:bootstrappers:Foo",
        "foo",
        "system:bootstrappers:",
        "system:bootstrappers: ",
        "system:bootstrappers:*",
        "system:bootstrappers:foo:",
        "system:bootstrappers:foo-",
        "system:bootstrappers:<script> alert(\"scary?!\") </script>",
        &long,
        &over,
    ] {
        assert!(!validate_bootstrap_group_name(bad.as_bytes()), "{bad}");
    }
}

#[test]
fn set_data_fills_known_keys_from_a_data_map() {
    let mut s = BootstrapSecret {
        namespace: "kube-system",
        name: "bootstrap-token-foobar",
        type_: "bootstrap.kubernetes.io/token",
        ..Default::default()
    };
    for (k, v) in [
        ("token-id", &b"foobar"[..]),
        ("token-secret", b"circumnavigation"),
        ("usage-bootstrap-authentication", b"true"),
        ("description", b"x"),
    ] {
        s.set_data(k, v);
    }
    assert_eq!(run(s, TOKEN), ok(&["system:bootstrappers"]));
}
