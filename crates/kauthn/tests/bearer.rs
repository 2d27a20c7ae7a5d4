//! Upstream `bearertoken_test.go` (spec §13.12) and §2.5.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

mod common;

use common::{Answer, Fake};
use kauthn::{
    BearerToken, BearerTokenRef, Context, Error, Header, Outcome, Request, RequestAuthenticator,
    Scratch, UnixTime, extract_bearer_token,
};

fn run(headers: &[Header<'_>], answer: Answer) -> (Outcome<'static>, usize, Vec<u8>) {
    let fake = Fake::new(answer);
    let a = BearerToken::new(&fake);
    let mut buf = [0u8; 64];
    let mut s = Scratch::new(&mut buf);
    let req = Request {
        headers,
        ..Default::default()
    };
    let o = match a.authenticate_request(&req, &Context::at(UnixTime::from_secs(0)), &mut s) {
        Outcome::Authenticated(r) => Outcome::Authenticated(kauthn::Response::new(
            kauthn::User::named(if r.user.name == "myuser" {
                "myuser"
            } else {
                "other"
            }),
        )),
        Outcome::NotMine(e) => Outcome::NotMine(e),
        Outcome::Rejected(e) => Outcome::Rejected(e),
    };
    let seen = fake.seen_token.borrow().clone();
    (o, fake.calls.get(), seen)
}

fn h(v: &'static str) -> Header<'static> {
    Header {
        name: "Authorization",
        value: v.as_bytes(),
    }
}

const MYUSER: Answer = Answer::Auth("myuser", "", &[]);

#[test]
fn no_authorization_header_is_not_mine() {
    assert_eq!(run(&[], MYUSER).0, Outcome::NotMine(None));
}

#[test]
fn empty_header_is_not_mine() {
    let (o, calls, _) = run(&[h("")], MYUSER);
    assert_eq!((o, calls), (Outcome::NotMine(None), 0));
}

#[test]
fn other_scheme_is_not_mine() {
    assert_eq!(run(&[h("Basic 123")], MYUSER).0, Outcome::NotMine(None));
}

#[test]
fn bearer_with_no_token_is_not_mine() {
    assert_eq!(run(&[h("Bearer ")], MYUSER).0, Outcome::NotMine(None));
}

#[test]
fn accepted_token_authenticates() {
    let (o, calls, seen) = run(&[h("Bearer 123")], MYUSER);
    assert!(o.is_authenticated());
    assert_eq!((calls, seen.as_slice()), (1, &b"123"[..]));
}

#[test]
fn token_nobody_claims_is_invalid_bearer_token() {
    let (o, _, _) = run(&[h("Bearer 123")], Answer::NotMine);
    assert_eq!(o, Outcome::rejected(Error::InvalidBearerToken));
    assert_eq!(
        Error::InvalidBearerToken.to_string(),
        "invalid bearer token"
    );
}

#[test]
fn two_spaces_is_not_mine_with_upstreams_warning() {
    let (o, calls, _) = run(&[h("Bearer  token")], MYUSER);
    assert_eq!(
        (o, calls),
        (Outcome::NotMine(Some(Error::BearerTokenExtraSpace)), 0)
    );
    assert_eq!(
        Error::BearerTokenExtraSpace.to_string(),
        "the provided Authorization header contains extra space before the bearer token, and is ignored"
    );
}

#[test]
fn inner_error_passes_through_unchanged() {
    let (o, _, _) = run(
        &[h("Bearer 123")],
        Answer::Err(Error::AudienceAgnosticReturnedAudiences),
    );
    assert_eq!(
        o,
        Outcome::rejected(Error::AudienceAgnosticReturnedAudiences)
    );
}

#[test]
fn words_after_the_token_are_ignored() {
    for v in ["Bearer token a", "Bearer token a b c", "Bearer token   a"] {
        let (o, _, seen) = run(&[h(v)], MYUSER);
        assert!(o.is_authenticated(), "{v}");
        assert_eq!(seen, b"token", "{v}");
    }
}

#[test]
fn malformed_schemes_never_reach_the_token_authenticator() {
    for v in ["Bearer", "bear token", "Bearer: token"] {
        let (o, calls, _) = run(&[h(v)], MYUSER);
        assert_eq!((o, calls), (Outcome::NotMine(None), 0), "{v}");
    }
}

#[test]
fn scheme_is_case_insensitive() {
    for v in ["bearer tok", "BEARER tok", "bEaReR tok"] {
        assert_eq!(
            extract_bearer_token(v.as_bytes()),
            BearerTokenRef::Token(b"tok"),
            "{v}"
        );
    }
}

#[test]
fn only_the_first_authorization_header_counts() {
    let (o, _, seen) = run(&[h("Basic x"), h("Bearer 123")], MYUSER);
    assert_eq!(o, Outcome::NotMine(None));
    assert!(seen.is_empty());
    let (_, _, seen) = run(
        &[Header {
            name: "authorization",
            value: b"Bearer abc",
        }],
        MYUSER,
    );
    assert_eq!(seen, b"abc");
}

#[test]
fn surrounding_whitespace_is_trimmed_but_a_tab_is_not_a_separator() {
    assert_eq!(
        extract_bearer_token(b"  Bearer tok \r\n"),
        BearerTokenRef::Token(b"tok")
    );
    assert_eq!(extract_bearer_token(b"Bearer\ttok"), BearerTokenRef::Absent);
    assert_eq!(
        extract_bearer_token(b"Bearer tok\tx"),
        BearerTokenRef::Token(b"tok\tx")
    );
}
