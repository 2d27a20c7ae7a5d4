//! A counting global allocator proves that authentication allocates nothing: loading may
//! use the heap, every authentication path must not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation,
    unsafe_code
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use kauthn::{
    Anonymous, AudienceAgnostic, AuthenticatedGroupAdder, BearerToken, BootstrapSecret,
    BootstrapTokenAuthenticator, Context, Header, OwnedTokenFile, Request, RequestAuthenticator,
    RequestUnion, Scratch, TokenAuthenticator, TokenUnion, UnixTime, extract_bearer_token,
};

struct Counting;

thread_local! {
    // Const-initialised and without a destructor, so touching it never allocates.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls on this thread.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (ALLOCATIONS.with(Cell::get) - before, out)
}

fn secrets() -> [BootstrapSecret<'static>; 1] {
    [BootstrapSecret {
        namespace: "kube-system",
        name: "bootstrap-token-abcdef",
        type_: "bootstrap.kubernetes.io/token",
        has_data: true,
        token_id: Some(b"abcdef"),
        token_secret: Some(b"0123456789abcdef"),
        usage_bootstrap_authentication: Some(b"true"),
        auth_extra_groups: Some(b"system:bootstrappers:b,system:bootstrappers:a"),
        expiration: Some(b"2100-01-01T00:00:00Z"),
        ..BootstrapSecret::default()
    }]
}

#[test]
fn the_counter_sees_allocations() {
    let (n, v) = allocations_during(|| vec![1u8; 10]);
    assert_eq!((n, v.len()), (1, 10));
}

#[test]
fn token_file_lookup_allocates_nothing() {
    let f = OwnedTokenFile::parse("tok,\"us\"\"er\",uid,\"g1,g2\"\nother,u,i\n").unwrap();
    let ctx = Context::at(UnixTime::from_secs(0));
    let mut buf = [0u8; 256];
    let (n, name) = allocations_during(|| {
        let mut s = Scratch::new(&mut buf);
        let hit = f
            .authenticate_token(b"tok", &ctx, &mut s)
            .into_response()
            .unwrap();
        let miss = f.authenticate_token(b"tol", &ctx, &mut s);
        assert!(!miss.is_authenticated());
        assert_eq!(hit.user.groups.len(), 2);
        hit.user.name.len()
    });
    assert_eq!(name, "us\"er".len());
    assert_eq!(n, 0, "token file lookup allocated");
}

#[test]
fn bootstrap_authentication_allocates_nothing() {
    let secrets = secrets();
    let a = BootstrapTokenAuthenticator::new(&secrets[..]);
    let ctx = Context::at(UnixTime::from_secs(1_800_000_000));
    let mut buf = [0u8; 256];
    let (n, groups) = allocations_during(|| {
        let mut s = Scratch::new(&mut buf);
        let r = a
            .authenticate_token(b"abcdef.0123456789abcdef", &ctx, &mut s)
            .into_response()
            .unwrap();
        assert!(
            !a.authenticate_token(b"abcdef.0123456789abcdeX", &ctx, &mut s)
                .is_authenticated()
        );
        r.user.groups.len()
    });
    assert_eq!(groups, 3);
    assert_eq!(n, 0, "bootstrap authentication allocated");
}

#[test]
fn bearer_extraction_allocates_nothing() {
    let (n, ()) = allocations_during(|| {
        for v in [
            &b"Bearer abc"[..],
            b"  bearer  x",
            b"Basic y",
            b"\xff Bearer z \xc2\xa0",
        ] {
            let _ = extract_bearer_token(v);
        }
    });
    assert_eq!(n, 0, "bearer extraction allocated");
}

#[test]
fn the_whole_union_allocates_nothing() {
    let f = OwnedTokenFile::parse("tok,user,uid,g1\n").unwrap();
    let secrets = secrets();
    let boot = BootstrapTokenAuthenticator::new(&secrets[..]);
    let api = ["https://kubernetes.default.svc"];
    let tf = AudienceAgnostic::new(&api, &f);
    let bt = AudienceAgnostic::new(&api, &boot);
    let tokens: [&dyn TokenAuthenticator; 2] = [&tf, &bt];
    let bearer = BearerToken::new(TokenUnion::new(&tokens[..]));
    let requests: [&dyn RequestAuthenticator; 1] = [&bearer];
    let inner = AuthenticatedGroupAdder::new(RequestUnion::new(&requests[..]));
    let anon = Anonymous::new();
    let chain: [&dyn RequestAuthenticator; 2] = [&inner, &anon];
    let chain = RequestUnion::fail_on_error(&chain[..]);
    let ctx = Context::at(UnixTime::from_secs(1_800_000_000)).with_audiences(&api);
    let cases: [(&[u8], Option<&str>); 4] = [
        (b"Bearer tok", Some("user")),
        (
            b"Bearer abcdef.0123456789abcdef",
            Some("system:bootstrap:abcdef"),
        ),
        (b"Bearer nope", None),
        (b"Basic x", Some("system:anonymous")),
    ];
    for (value, want) in cases {
        let headers = [Header {
            name: "Authorization",
            value,
        }];
        let req = Request {
            headers: &headers,
            path: "/",
            client_chain: &[],
        };
        let mut buf = [0u8; 512];
        let (n, got) = allocations_during(|| {
            let mut s = Scratch::new(&mut buf);
            let o = chain.authenticate_request(&req, &ctx, &mut s);
            o.response()
                .map(|r| (r.user.name.len(), r.audiences.len(), r.user.groups.len()))
        });
        assert_eq!(
            n,
            0,
            "union allocated for {:?}",
            String::from_utf8_lossy(value)
        );
        assert_eq!(got.map(|g| g.0), want.map(str::len));
        if let Some((_, auds, _)) = got {
            assert_eq!(auds, 1);
        }
    }
}

#[test]
fn token_cache_hits_and_misses_allocate_nothing() {
    let f = OwnedTokenFile::parse("tok,user,uid,\"g1,g2\"\n").unwrap();
    let c: kauthn::CachedTokenAuthenticator<_> =
        kauthn::CachedTokenAuthenticator::new(&f, [7; 32], kauthn::CacheConfig::KUBE_APISERVER);
    let ctx = Context::at(UnixTime::from_secs(100)).with_audiences(&["api"]);
    for round in 0..3 {
        let mut buf = [0u8; 512];
        let (n, name) = allocations_during(|| {
            let mut s = Scratch::new(&mut buf);
            assert!(
                !c.authenticate_token(b"nope", &ctx, &mut s)
                    .is_authenticated()
            );
            c.authenticate_token(b"tok", &ctx, &mut s)
                .into_response()
                .map(|r| r.user.name.len())
        });
        assert_eq!(name, Some(4));
        assert_eq!(n, 0, "cache round {round} allocated");
    }
}
