//! Upstream union, group adder, anonymous and audience-agnostic tests (spec §13.8, §13.10,
//! §13.13, §2.4, §12).
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
    Anonymous, AudienceAgnostic, AuthenticatedGroupAdder, Context, Error, Errors, GroupAdder,
    Outcome, Request, RequestAuthenticator, RequestUnion, Response, Scratch, TokenAuthenticator,
    TokenUnion, UnixTime, User,
};

const USER1: Answer = Answer::Auth("fresh_ferret", "alfa", &[]);
const USER2: Answer = Answer::Auth("elegant_sheep", "bravo", &[]);

fn name(o: &Outcome<'_>) -> Option<String> {
    o.response().map(|r| r.user.name.to_string())
}

fn token_union(list: &[&dyn TokenAuthenticator], fail: bool) -> Outcome<'static> {
    let u = if fail {
        TokenUnion::fail_on_error(list)
    } else {
        TokenUnion::new(list)
    };
    let mut buf = [0u8; 16];
    let mut s = Scratch::new(&mut buf);
    let o = u.authenticate_token(b"t", &Context::at(UnixTime::from_secs(0)), &mut s);
    detach(o)
}

fn request_union(list: &[&dyn RequestAuthenticator], fail: bool) -> Outcome<'static> {
    let u = if fail {
        RequestUnion::fail_on_error(list)
    } else {
        RequestUnion::new(list)
    };
    let mut buf = [0u8; 16];
    let mut s = Scratch::new(&mut buf);
    let o = u.authenticate_request(
        &Request::default(),
        &Context::at(UnixTime::from_secs(0)),
        &mut s,
    );
    detach(o)
}

// Fakes answer with 'static strings, so their outcomes can outlive the union.
fn detach(o: Outcome<'_>) -> Outcome<'static> {
    match o {
        Outcome::Authenticated(r) => {
            let n: &'static str = match r.user.name {
                "fresh_ferret" => "fresh_ferret",
                "elegant_sheep" => "elegant_sheep",
                other => panic!("{other}"),
            };
            Outcome::Authenticated(Response::new(User::named(n)))
        }
        Outcome::NotMine(e) => Outcome::NotMine(e),
        Outcome::Rejected(e) => Outcome::Rejected(e),
    }
}

const FIRST: Error = Error::InvalidBearerToken;
const SECOND: Error = Error::AudienceAgnosticReturnedAudiences;

#[test]
fn second_passes_when_first_declines() {
    let (h1, h2) = (Fake::new(Answer::NotMine), Fake::new(USER2));
    let o = token_union(&[&h1, &h2], false);
    assert_eq!(name(&o).as_deref(), Some("elegant_sheep"));
    let o = request_union(&[&h1, &h2], false);
    assert_eq!(name(&o).as_deref(), Some("elegant_sheep"));
}

#[test]
fn first_passes_and_second_is_not_asked() {
    let (h1, h2) = (Fake::new(USER1), Fake::new(Answer::NotMine));
    let o = token_union(&[&h1, &h2], false);
    assert_eq!(name(&o).as_deref(), Some("fresh_ferret"));
    assert_eq!(h2.calls.get(), 0);
}

#[test]
fn success_suppresses_earlier_errors() {
    let (h1, h2) = (Fake::new(Answer::Err(FIRST)), Fake::new(USER2));
    assert!(token_union(&[&h1, &h2], false).is_authenticated());
    assert!(request_union(&[&h1, &h2], false).is_authenticated());
}

#[test]
fn no_authenticators_is_not_mine() {
    assert_eq!(token_union(&[], false), Outcome::NotMine(None));
    assert_eq!(request_union(&[], false), Outcome::NotMine(None));
}

#[test]
fn none_pass_is_not_mine_without_error() {
    let (h1, h2) = (Fake::new(Answer::NotMine), Fake::new(Answer::NotMine));
    assert_eq!(token_union(&[&h1, &h2], false), Outcome::NotMine(None));
}

#[test]
fn errors_are_aggregated_in_order() {
    let (h1, h2) = (
        Fake::new(Answer::Err(FIRST)),
        Fake::new(Answer::Err(SECOND)),
    );
    let Outcome::Rejected(e) = token_union(&[&h1, &h2], false) else {
        panic!()
    };
    assert_eq!(e.iter().collect::<Vec<_>>(), vec![FIRST, SECOND]);
    assert_eq!(
        e.to_string(),
        "[invalid bearer token, audience agnostic authenticator wrapped an authenticator that returned audiences]"
    );
}

#[test]
fn fail_on_error_stops_at_the_first_error() {
    let (h1, h2) = (
        Fake::new(Answer::Err(FIRST)),
        Fake::new(Answer::Err(SECOND)),
    );
    let Outcome::Rejected(e) = token_union(&[&h1, &h2], true) else {
        panic!()
    };
    assert_eq!(e.iter().collect::<Vec<_>>(), vec![FIRST]);
    assert_eq!(h2.calls.get(), 0);
    let Outcome::Rejected(e) = request_union(&[&h1, &h2], true) else {
        panic!()
    };
    assert_eq!(e.to_string(), "invalid bearer token");
}

#[test]
fn aggregate_deduplicates_and_prints_one_message_without_brackets() {
    let mut e = Errors::new();
    e.push(FIRST);
    e.push(FIRST);
    assert_eq!(e.to_string(), "invalid bearer token");
    e.push(SECOND);
    e.push(FIRST);
    assert_eq!(
        e.to_string(),
        "[invalid bearer token, audience agnostic authenticator wrapped an authenticator that returned audiences]"
    );
}

#[test]
fn aggregate_counts_errors_beyond_its_capacity() {
    let mut e = Errors::new();
    for _ in 0..kauthn::MAX_AGGREGATED_ERRORS + 3 {
        e.push(FIRST);
    }
    assert_eq!(e.to_string(), "[invalid bearer token, and 3 more]");
}

fn add(name: &'static str, groups: &'static [&'static str]) -> Vec<String> {
    let fake = Fake::new(Answer::Auth(name, "", groups));
    let a = AuthenticatedGroupAdder::new(&fake);
    let mut buf = [0u8; 8];
    let o = a.authenticate_token(
        b"t",
        &Context::at(UnixTime::from_secs(0)),
        &mut Scratch::new(&mut buf),
    );
    o.response()
        .unwrap()
        .user
        .groups
        .iter()
        .map(String::from)
        .collect()
}

#[test]
fn authenticated_group_is_appended_last() {
    assert_eq!(
        add("user", &["some-group"]),
        ["some-group", "system:authenticated"]
    );
}

#[test]
fn authenticated_group_is_not_added_twice_or_to_anonymous_or_unauthenticated() {
    assert_eq!(
        add("user", &["system:authenticated", "some-group"]),
        ["system:authenticated", "some-group"]
    );
    assert_eq!(add("system:anonymous", &["some-group"]), ["some-group"]);
    assert_eq!(
        add("user", &["system:unauthenticated", "some-group"]),
        ["system:unauthenticated", "some-group"]
    );
}

#[test]
fn group_adder_appends_after_the_original_groups() {
    let fake = Fake::new(Answer::Auth("user", "", &["original"]));
    let a = GroupAdder::new(&["added"], &fake);
    let mut buf = [0u8; 8];
    let o = a.authenticate_token(
        b"t",
        &Context::at(UnixTime::from_secs(0)),
        &mut Scratch::new(&mut buf),
    );
    assert_eq!(
        o.response().unwrap().user.groups.as_slice(),
        &["original", "added"]
    );
}

#[test]
fn group_adder_passes_failures_through() {
    let fake = Fake::new(Answer::Err(FIRST));
    let a = AuthenticatedGroupAdder::new(&fake);
    let mut buf = [0u8; 8];
    let o = a.authenticate_token(
        b"t",
        &Context::at(UnixTime::from_secs(0)),
        &mut Scratch::new(&mut buf),
    );
    assert_eq!(o, Outcome::rejected(FIRST));
}

fn anonymous(
    paths: &[&str],
    path: &str,
    auds: &[&str],
) -> Option<(String, Vec<String>, Vec<String>)> {
    let a = Anonymous::with_paths(paths);
    let mut buf = [0u8; 8];
    let req = Request {
        path,
        ..Default::default()
    };
    let ctx = Context::at(UnixTime::from_secs(0)).with_audiences(auds);
    let o = a.authenticate_request(&req, &ctx, &mut Scratch::new(&mut buf));
    o.response().map(|r| {
        (
            r.user.name.to_string(),
            r.user.groups.iter().map(String::from).collect(),
            r.audiences
                .as_slice()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        )
    })
}

#[test]
fn anonymous_user_is_unauthenticated_with_request_audiences() {
    let got = anonymous(&[], "/anything", &["api"]).unwrap();
    assert_eq!(
        got,
        (
            "system:anonymous".into(),
            vec!["system:unauthenticated".into()],
            vec!["api".into()]
        )
    );
}

#[test]
fn anonymous_conditions_match_paths_exactly() {
    let paths = ["/healthz", "/readyz", "/livez"];
    for p in paths {
        assert!(anonymous(&paths, p, &[]).is_some(), "{p}");
    }
    for p in ["/api", "/healthz/", "/Healthz", "/healthz/x", ""] {
        assert!(anonymous(&paths, p, &[]).is_none(), "{p}");
    }
}

#[test]
fn anonymous_is_never_given_the_authenticated_group() {
    let anon = Anonymous::new();
    let a = AuthenticatedGroupAdder::new(&anon);
    let mut buf = [0u8; 8];
    let o = a.authenticate_request(
        &Request::default(),
        &Context::at(UnixTime::from_secs(0)),
        &mut Scratch::new(&mut buf),
    );
    assert_eq!(
        o.response().unwrap().user.groups.as_slice(),
        &["system:unauthenticated"]
    );
}

#[test]
fn bad_credential_is_an_error_even_with_anonymous_enabled() {
    let bad = Fake::new(Answer::Err(Error::InvalidBearerToken));
    let anon = Anonymous::new();
    let chain: [&dyn RequestAuthenticator; 2] = [&bad, &anon];
    let u = RequestUnion::fail_on_error(&chain[..]);
    let mut buf = [0u8; 8];
    let o = u.authenticate_request(
        &Request::default(),
        &Context::at(UnixTime::from_secs(0)),
        &mut Scratch::new(&mut buf),
    );
    assert_eq!(o, Outcome::rejected(Error::InvalidBearerToken));
    let none = Fake::new(Answer::NotMine);
    let chain: [&dyn RequestAuthenticator; 2] = [&none, &anon];
    let u = RequestUnion::fail_on_error(&chain[..]);
    let mut buf2 = [0u8; 8];
    let o = u.authenticate_request(
        &Request::default(),
        &Context::at(UnixTime::from_secs(0)),
        &mut Scratch::new(&mut buf2),
    );
    assert_eq!(o.response().unwrap().user.name, "system:anonymous");
}

fn agnostic(
    implicit: &[&str],
    auds: &[&str],
    answer: Answer,
) -> (Outcome<'static>, usize, Vec<String>) {
    let fake = Fake::new(answer);
    let a = AudienceAgnostic::new(implicit, &fake);
    let mut buf = [0u8; 8];
    let ctx = Context::at(UnixTime::from_secs(0)).with_audiences(auds);
    let o = a.authenticate_token(b"t", &ctx, &mut Scratch::new(&mut buf));
    let auds = o
        .response()
        .map(|r| {
            r.audiences
                .as_slice()
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
        .unwrap_or_default();
    (detach(o), fake.calls.get(), auds)
}

#[test]
fn audience_agnostic_without_request_audiences_passes_through() {
    let (o, calls, auds) = agnostic(&["api"], &[], USER1);
    assert!(o.is_authenticated());
    assert_eq!((calls, auds.len()), (1, 0));
}

#[test]
fn audience_agnostic_sets_the_intersection_in_request_order() {
    let (o, _, auds) = agnostic(&["a", "b"], &["b", "x", "a"], USER1);
    assert!(o.is_authenticated());
    assert_eq!(auds, ["b", "a"]);
}

#[test]
fn audience_agnostic_with_no_common_audience_does_not_ask_the_inner_strategy() {
    let (o, calls, _) = agnostic(&["a"], &["x"], USER1);
    assert_eq!((o, calls), (Outcome::NotMine(None), 0));
}

#[test]
fn audience_agnostic_rejects_an_inner_strategy_that_returns_audiences() {
    let (o, _, _) = agnostic(
        &["a"],
        &["a"],
        Answer::AuthWithAudiences("fresh_ferret", &["a"]),
    );
    assert_eq!(
        o,
        Outcome::rejected(Error::AudienceAgnosticReturnedAudiences)
    );
}

#[test]
fn audience_agnostic_passes_failures_through() {
    let (o, _, _) = agnostic(&["a"], &["a"], Answer::NotMine);
    assert_eq!(o, Outcome::NotMine(None));
    let (o, _, _) = agnostic(&["a"], &["a"], Answer::Err(FIRST));
    assert_eq!(o, Outcome::rejected(FIRST));
}

#[test]
fn boxed_strategies_form_a_union() {
    let list: Vec<Box<dyn TokenAuthenticator>> = vec![
        Box::new(Fake::new(Answer::NotMine)),
        Box::new(Fake::new(USER2)),
    ];
    let u = TokenUnion::new(list);
    let mut buf = [0u8; 8];
    let o = u.authenticate_token(
        b"t",
        &Context::at(UnixTime::from_secs(0)),
        &mut Scratch::new(&mut buf),
    );
    assert_eq!(o.response().unwrap().user.name, "elegant_sheep");
}
