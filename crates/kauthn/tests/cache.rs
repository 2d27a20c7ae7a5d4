//! Upstream `cached_token_authenticator_test.go` (spec §13.11) plus the expiry cap, the
//! webhook rules, capacity and concurrent use.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kauthn::{
    CacheConfig, CachedTokenAuthenticator, Context, Error, Groups, Outcome, Response, Scratch,
    TokenAuthenticator, UnixTime, User,
};

const KEY: [u8; 32] = {
    let mut k = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        k[i] = i as u8;
        i += 1;
    }
    k
};

/// A thread-safe backend: tokens starting with "user" succeed (user name = token),
/// "bad" fail with an error, others are not mine. `failing` makes everything an error.
#[derive(Default)]
struct Backend {
    calls: AtomicUsize,
    failing: AtomicBool,
    expires_at: Option<i64>,
}

impl TokenAuthenticator for Backend {
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> kauthn::Verdict {
        match self.answer(token, ctx, scratch) {
            Outcome::Authenticated(r) => {
                *out = r;
                kauthn::Verdict::Authenticated
            }
            Outcome::NotMine(e) => kauthn::Verdict::NotMine(e),
            Outcome::Rejected(e) => kauthn::Verdict::Rejected(e),
        }
    }
}

impl Backend {
    fn answer<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
    ) -> Outcome<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) || token.starts_with(b"bad") {
            return Outcome::rejected(Error::InvalidBearerToken);
        }
        if !token.starts_with(b"user") {
            return Outcome::NotMine(None);
        }
        // The name is composed into scratch, as real strategies do, so a hit must rebuild
        // it from the cache entry rather than point at the backend's memory.
        let name = scratch
            .copy_str(std::str::from_utf8(token).unwrap())
            .unwrap();
        let suffix = if ctx.audiences.first() == Some(&"audB") {
            "-different"
        } else {
            ""
        };
        let name = scratch.concat(&[name, suffix]).unwrap();
        let mut r = Response::new(User {
            name,
            uid: "uid",
            groups: Groups::from_slice(&["g1", "g2"]).unwrap(),
            ..User::default()
        });
        r.user.extra.push("k", "v").unwrap();
        r.expires_at = self.expires_at.map(UnixTime::from_secs);
        Outcome::Authenticated(r)
    }
}

fn run<T: TokenAuthenticator>(
    a: &T,
    token: &str,
    now: i64,
    auds: &[&str],
) -> Result<String, String> {
    let mut buf = [0u8; 4096];
    let mut s = Scratch::new(&mut buf);
    let ctx = Context::at(UnixTime::from_secs(now)).with_audiences(auds);
    match a.authenticate_token(token.as_bytes(), &ctx, &mut s) {
        Outcome::Authenticated(r) => {
            assert_eq!(r.user.uid, "uid");
            assert_eq!(r.user.groups.as_slice(), &["g1", "g2"]);
            assert_eq!(r.user.extra.get("k").collect::<Vec<_>>(), ["v"]);
            Ok(r.user.name.to_string())
        }
        Outcome::NotMine(_) => Err("not mine".into()),
        Outcome::Rejected(e) => Err(e.to_string()),
    }
}

fn cached(backend: Backend, config: CacheConfig) -> CachedTokenAuthenticator<Backend> {
    CachedTokenAuthenticator::new(backend, KEY, config)
}

const UPSTREAM: CacheConfig = CacheConfig {
    success_ttl: 60,
    failure_ttl: 0,
    cache_errors: true,
    capacity: 1024,
};

#[test]
fn key_is_upstreams_length_prefixed_hmac() {
    // Expected values computed independently with Python's hmac module.
    let c = cached(Backend::default(), UPSTREAM);
    let hex = |k: [u8; 32]| k.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        hex(c.key(b"token", &[])),
        "00a9f03092b4e5f1cc0869fcef0d03a54f842a525febb512017e768a475b568a"
    );
    assert_eq!(
        hex(c.key(b"token", &["api", "other"])),
        "711485f6b5f1fe72a566c813cf01db912c7f65538fbc08b463fa9cf9128c6d80"
    );
    assert_eq!(
        hex(c.key(b"", &[])),
        "9f0cd9b94097fe4929918d2b8942b34439574261a35dc50163f06c67d4e48899"
    );
}

#[test]
fn failures_are_asked_again_and_successes_come_from_the_cache() {
    let c = cached(Backend::default(), UPSTREAM);
    for t in ["bad1", "bad2", "bad3"] {
        assert!(run(&c, t, 1000, &[]).is_err());
    }
    assert_eq!(c.inner().calls.load(Ordering::SeqCst), 3);
    for t in ["bad1", "bad2", "bad3"] {
        assert!(run(&c, t, 1000, &[]).is_err());
    }
    assert_eq!(
        c.inner().calls.load(Ordering::SeqCst),
        6,
        "failure TTL 0 caches nothing"
    );

    for t in ["usertoken1", "usertoken2", "usertoken3"] {
        assert_eq!(run(&c, t, 1000, &[]).unwrap(), t);
    }
    assert_eq!(c.inner().calls.load(Ordering::SeqCst), 9);
    c.inner().failing.store(true, Ordering::SeqCst);
    for t in ["usertoken1", "usertoken2", "usertoken3"] {
        assert_eq!(
            run(&c, t, 1059, &[]).unwrap(),
            t,
            "served from cache while the backend fails"
        );
    }
    assert_eq!(c.inner().calls.load(Ordering::SeqCst), 9);
    assert!(
        run(&c, "usertoken1", 1120, &[]).is_err(),
        "after the TTL the backend is asked again"
    );
    assert_eq!(c.inner().calls.load(Ordering::SeqCst), 10);
}

#[test]
fn audiences_are_part_of_the_key() {
    let c = cached(Backend::default(), UPSTREAM);
    assert_eq!(run(&c, "user1", 0, &["audA"]).unwrap(), "user1");
    assert_eq!(run(&c, "user1", 0, &["audB"]).unwrap(), "user1-different");
    assert_eq!(run(&c, "user1", 0, &["audA"]).unwrap(), "user1");
    assert_eq!(c.inner().calls.load(Ordering::SeqCst), 2);
}

#[test]
fn cached_success_never_outlives_the_credential() {
    let c = cached(
        Backend {
            expires_at: Some(1005),
            ..Backend::default()
        },
        UPSTREAM,
    );
    assert!(run(&c, "user1", 1000, &[]).is_ok());
    assert!(run(&c, "user1", 1004, &[]).is_ok());
    assert_eq!(c.inner().calls.load(Ordering::SeqCst), 1);
    assert!(run(&c, "user1", 1005, &[]).is_ok());
    assert_eq!(
        c.inner().calls.load(Ordering::SeqCst),
        2,
        "the entry expired with the credential"
    );
}

#[test]
fn webhook_cache_keeps_not_mine_but_never_errors() {
    let c = cached(Backend::default(), CacheConfig::webhook(120));
    assert!(run(&c, "other", 0, &[]).is_err());
    assert!(run(&c, "other", 1, &[]).is_err());
    assert_eq!(
        c.inner().calls.load(Ordering::SeqCst),
        1,
        "not mine is cached"
    );
    assert!(run(&c, "bad", 0, &[]).is_err());
    assert!(run(&c, "bad", 1, &[]).is_err());
    assert_eq!(
        c.inner().calls.load(Ordering::SeqCst),
        3,
        "errors are not cached"
    );
}

#[test]
fn errors_are_cached_as_failures_when_asked_to() {
    let c = cached(
        Backend::default(),
        CacheConfig {
            failure_ttl: 30,
            ..UPSTREAM
        },
    );
    assert_eq!(run(&c, "bad", 0, &[]).unwrap_err(), "invalid bearer token");
    assert_eq!(run(&c, "bad", 29, &[]).unwrap_err(), "invalid bearer token");
    assert_eq!(c.inner().calls.load(Ordering::SeqCst), 1);
}

#[test]
fn more_tokens_than_capacity_evict_without_harm() {
    let c = cached(
        Backend::default(),
        CacheConfig {
            capacity: 64,
            ..UPSTREAM
        },
    );
    for i in 0..1000 {
        assert_eq!(
            run(&c, &format!("user{i}"), 0, &[]).unwrap(),
            format!("user{i}")
        );
    }
    let before = c.inner().calls.load(Ordering::SeqCst);
    assert_eq!(run(&c, "user999", 1, &[]).unwrap(), "user999");
    assert_eq!(
        c.inner().calls.load(Ordering::SeqCst),
        before,
        "the newest entry is still cached"
    );
}

#[test]
fn concurrent_use_from_many_threads_gives_right_answers() {
    let c = Arc::new(cached(Backend::default(), UPSTREAM));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let c = Arc::clone(&c);
            std::thread::spawn(move || {
                for i in 0..2000 {
                    let token = format!("user{}", (i * 7 + t) % 50);
                    assert_eq!(run(&*c, &token, 0, &[]).unwrap(), token);
                    assert!(run(&*c, "bad", 0, &[]).is_err());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // 16 000 successful lookups of 50 tokens: all but the first few per token are hits.
    let calls = c.inner().calls.load(Ordering::SeqCst);
    assert!(calls < 50 * 8 + 16_000 + 1, "{calls}");
    assert!(calls >= 16_000 + 50, "{calls}");
}

/// A backend slow enough that concurrent callers overlap.
struct Slow {
    calls: AtomicUsize,
}

impl TokenAuthenticator for Slow {
    fn authenticate_token_into<'a>(
        &'a self,
        _token: &'a [u8],
        _ctx: &Context<'a>,
        _scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> kauthn::Verdict {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(50));
        out.clear();
        out.user.name = "shared";
        kauthn::Verdict::Authenticated
    }
}

#[test]
fn concurrent_misses_for_one_token_share_one_backend_call() {
    // Upstream TestSharedLookup: 10 concurrent callers of one token, at most 3 backend calls.
    let c: Arc<CachedTokenAuthenticator<Slow>> = Arc::new(CachedTokenAuthenticator::new(
        Slow {
            calls: AtomicUsize::new(0),
        },
        KEY,
        UPSTREAM,
    ));
    let start = Arc::new(std::sync::Barrier::new(10));
    let threads: Vec<_> = (0..10)
        .map(|_| {
            let (c, start) = (Arc::clone(&c), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                let mut buf = [0u8; 512];
                let mut s = Scratch::new(&mut buf);
                let o = c.authenticate_token(
                    b"same-token",
                    &Context::at(UnixTime::from_secs(0)),
                    &mut s,
                );
                assert_eq!(o.response().unwrap().user.name, "shared");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let calls = c.inner().calls.load(Ordering::SeqCst);
    assert!(calls <= 3, "{calls} backend calls");
}

/// A backend that panics, to show waiters are released.
struct Panics;

impl TokenAuthenticator for Panics {
    fn authenticate_token_into<'a>(
        &'a self,
        _token: &'a [u8],
        _ctx: &Context<'a>,
        _scratch: &mut Scratch<'a>,
        _out: &mut Response<'a>,
    ) -> kauthn::Verdict {
        panic!("backend crashed");
    }
}

#[test]
fn a_panicking_backend_does_not_strand_later_callers() {
    let c: Arc<CachedTokenAuthenticator<Panics>> =
        Arc::new(CachedTokenAuthenticator::new(Panics, KEY, UPSTREAM));
    for _ in 0..2 {
        let c = Arc::clone(&c);
        let r = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            let mut s = Scratch::new(&mut buf);
            let _ = c.authenticate_token(b"t", &Context::at(UnixTime::from_secs(0)), &mut s);
        })
        .join();
        assert!(r.is_err(), "the backend's panic reaches the caller");
    }
}
