//! Shared test doubles.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::cell::Cell;

use kauthn::{
    Context, Error, Groups, Outcome, Request, RequestAuthenticator, Response, Scratch,
    TokenAuthenticator, User, Verdict,
};

/// A scripted strategy: answers the same thing every time and counts calls.
pub struct Fake {
    pub answer: Answer,
    pub calls: Cell<usize>,
    pub seen_token: std::cell::RefCell<Vec<u8>>,
}

#[derive(Clone)]
pub enum Answer {
    Auth(&'static str, &'static str, &'static [&'static str]),
    AuthWithAudiences(&'static str, &'static [&'static str]),
    NotMine,
    Err(Error),
}

impl Fake {
    pub fn new(answer: Answer) -> Self {
        Fake {
            answer,
            calls: Cell::new(0),
            seen_token: Default::default(),
        }
    }

    fn outcome(&self) -> Outcome<'static> {
        self.calls.set(self.calls.get() + 1);
        match &self.answer {
            Answer::Auth(name, uid, groups) => Outcome::Authenticated(Response::new(User {
                name,
                uid,
                groups: Groups::from_slice(groups).unwrap(),
                ..User::default()
            })),
            Answer::AuthWithAudiences(name, auds) => Outcome::Authenticated(Response {
                user: User::named(name),
                audiences: kauthn::Audiences::from_slice(auds).unwrap(),
                expires_at: None,
            }),
            Answer::NotMine => Outcome::NotMine(None),
            Answer::Err(e) => Outcome::rejected(*e),
        }
    }
}

fn into_verdict(o: Outcome<'static>, out: &mut Response<'_>) -> Verdict {
    match o {
        Outcome::Authenticated(r) => {
            *out = r;
            Verdict::Authenticated
        }
        Outcome::NotMine(e) => Verdict::NotMine(e),
        Outcome::Rejected(e) => Verdict::Rejected(e),
    }
}

impl TokenAuthenticator for Fake {
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        _: &Context<'a>,
        _: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        *self.seen_token.borrow_mut() = token.to_vec();
        into_verdict(self.outcome(), out)
    }
}

impl RequestAuthenticator for Fake {
    fn authenticate_request_into<'a>(
        &'a self,
        _: &Request<'a>,
        _: &Context<'a>,
        _: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        into_verdict(self.outcome(), out)
    }
}
