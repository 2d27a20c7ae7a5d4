//! Hostile inputs for the token file, bootstrap tokens and bearer extraction: each gives a
//! clear error or a plain "not mine", never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

use kauthn::{
    BearerTokenRef, BootstrapSecret, BootstrapTokenAuthenticator, Context, Limit, Outcome,
    OwnedTokenFile, Scratch, TokenAuthenticator, TokenFileErrorKind, UnixTime,
    extract_bearer_token,
};

#[test]
fn two_mebibyte_line_is_a_record_length_error() {
    let mut csv = vec![b'a'; 2 << 20];
    csv.extend_from_slice(b",u,i\n");
    let e = OwnedTokenFile::parse(csv).unwrap_err();
    assert_eq!(e.kind, TokenFileErrorKind::RecordTooLong);
    assert_eq!(e.limit(), Some(Limit::TokenFileRecord));
    assert_eq!(
        e.to_string(),
        "record on line 1 is longer than MAX_RECORD_LEN (65536)"
    );
}

#[test]
fn nul_byte_in_token_file_is_an_error_with_position() {
    let e = OwnedTokenFile::parse(&b"a,u,i\nb,us\0er,i\n"[..]).unwrap_err();
    assert_eq!(e.kind, TokenFileErrorKind::NulByte);
    assert_eq!((e.line, e.column), (2, 5));
}

#[test]
fn invalid_utf8_in_token_file_is_an_error_with_position() {
    let e = OwnedTokenFile::parse(&b"a,u,i\nb,\xff,i\n"[..]).unwrap_err();
    assert_eq!(e.kind, TokenFileErrorKind::InvalidUtf8);
    assert_eq!((e.line, e.column), (2, 3));
    assert_eq!(e.to_string(), "invalid UTF-8 on line 2, column 3");
}

#[test]
fn hundred_thousand_groups_is_a_named_limit_error() {
    // 100 000 groups overflow the record bound first; 300 short ones the group bound.
    let groups = vec!["g"; 100_000].join(",");
    let e = OwnedTokenFile::parse(format!("a,u,i,\"{groups}\"\n")).unwrap_err();
    assert_eq!(e.limit(), Some(Limit::TokenFileRecord));
    let groups = vec!["g"; 300].join(",");
    let e = OwnedTokenFile::parse(format!("a,u,i,\"{groups}\"\n")).unwrap_err();
    assert_eq!(e.kind, TokenFileErrorKind::TooManyGroups);
    assert_eq!(e.limit(), Some(Limit::Groups));
    assert!(e.to_string().contains("MAX_GROUPS (256)"), "{e}");
}

#[test]
fn unterminated_quote_at_end_of_file_is_an_error() {
    let e = OwnedTokenFile::parse("a,u,\"i\n\n").unwrap_err();
    assert_eq!(e.kind, TokenFileErrorKind::Quote);
}

fn secret_with_groups(groups: &[u8]) -> BootstrapSecret<'_> {
    BootstrapSecret {
        namespace: "kube-system",
        name: "bootstrap-token-abcdef",
        type_: "bootstrap.kubernetes.io/token",
        has_data: true,
        token_id: Some(b"abcdef"),
        token_secret: Some(b"0123456789abcdef"),
        usage_bootstrap_authentication: Some(b"true"),
        auth_extra_groups: Some(groups),
        ..BootstrapSecret::default()
    }
}

#[test]
fn hundred_thousand_bootstrap_groups_are_declined_with_the_limit() {
    let groups = vec!["system:bootstrappers:g"; 100_000].join(",");
    let secrets = [secret_with_groups(groups.as_bytes())];
    let a = BootstrapTokenAuthenticator::new(&secrets[..]);
    let mut buf = [0u8; 256];
    let mut s = Scratch::new(&mut buf);
    let ctx = Context::at(UnixTime::from_secs(0));
    let o = a.authenticate_token(b"abcdef.0123456789abcdef", &ctx, &mut s);
    assert_eq!(
        o,
        Outcome::NotMine(Some(kauthn::Error::LimitExceeded(Limit::Groups)))
    );
}

#[test]
fn hostile_bootstrap_tokens_are_not_mine() {
    let secrets = [secret_with_groups(b"")];
    let a = BootstrapTokenAuthenticator::new(&secrets[..]);
    let ctx = Context::at(UnixTime::from_secs(0));
    let long = vec![b'a'; 2 << 20];
    for token in [
        &b"abcdef.0123456789abcde\0"[..],
        b"abcdef\0.0123456789abcdef",
        b"abcdef.0123456789abcdef\n",
        b"\xffbcdef.0123456789abcdef",
        &long,
    ] {
        let mut buf = [0u8; 64];
        let mut s = Scratch::new(&mut buf);
        assert_eq!(
            a.authenticate_token(token, &ctx, &mut s),
            Outcome::NotMine(None)
        );
    }
}

#[test]
fn hostile_authorization_headers_never_panic() {
    let long = [b"Bearer ".as_slice(), &vec![b'x'; 2 << 20]].concat();
    assert!(matches!(extract_bearer_token(&long), BearerTokenRef::Token(t) if t.len() == 2 << 20));
    assert_eq!(
        extract_bearer_token(b"Bearer a\0b"),
        BearerTokenRef::Token(b"a\0b")
    );
    assert_eq!(
        extract_bearer_token(b"Bearer \xff\xfe"),
        BearerTokenRef::Token(b"\xff\xfe")
    );
    assert_eq!(
        extract_bearer_token(b"\xffBearer x"),
        BearerTokenRef::Absent
    );
    assert_eq!(
        extract_bearer_token(&[b' '; 100_000]),
        BearerTokenRef::Absent
    );
}

#[test]
fn errors_never_contain_the_token() {
    let f = OwnedTokenFile::parse("s3cr3t-t0ken,u,i\n").unwrap();
    let mut buf = [0u8; 64];
    let mut s = Scratch::new(&mut buf);
    let ctx = Context::at(UnixTime::from_secs(0));
    let bearer = kauthn::BearerToken::new(&f);
    let headers = [kauthn::Header {
        name: "Authorization",
        value: b"Bearer s3cr3t-t0kem",
    }];
    let req = kauthn::Request {
        headers: &headers,
        ..Default::default()
    };
    let o = kauthn::RequestAuthenticator::authenticate_request(&bearer, &req, &ctx, &mut s);
    let Outcome::Rejected(e) = o else {
        panic!("{o:?}")
    };
    let text = format!("{e} {e:?}");
    assert!(!text.contains("s3cr3t"), "{text}");
}
