//! A counting global allocator shows that the webhook (request encoding, transport call,
//! response decoding, through the token cache) and the request-header authenticator (proxy
//! chain verification, headers, percent-decoded extra keys) allocate nothing per call.
//! Set-up (certificates, pools, the cache table) may allocate and is done first.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation,
    unsafe_code
)]

#[path = "x509_common/mod.rs"]
mod x509_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use kauthn::{
    CacheConfig, CachedTokenAuthenticator, ClientCaPool, Context, Header, Request,
    RequestAuthenticator, RequestHeaderAuthenticator, RequestHeaderConfig, Response, RustCrypto,
    Scratch, TokenAuthenticator, TokenReviewVersion, TransportError, UnixTime, Verdict,
    WebhookTokenAuthenticator, WebhookTransport,
};
use x509_common::*;

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

/// Answers with a fixed body, counting calls; allocation-free.
struct Fixed {
    body: &'static [u8],
    calls: Cell<u32>,
}

impl WebhookTransport for Fixed {
    fn post(&self, body: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        assert!(body.starts_with(b"{\"kind\":\"TokenReview\""));
        self.calls.set(self.calls.get() + 1);
        let dst = response
            .get_mut(..self.body.len())
            .ok_or(TransportError::ResponseTooLarge)?;
        dst.copy_from_slice(self.body);
        Ok(self.body.len())
    }
}

const ALLOW: &[u8] = br#"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,"user":{"username":"j\u00f6rg@example.com","uid":"42","groups":["developers","qa"],"extra":{"scopes":["read","write"]}},"audiences":["api"]}}"#;
const DENY: &[u8] = br#"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":false,"error":"token \"revoked\""}}"#;

#[test]
fn the_counter_sees_allocations() {
    let (n, v) = allocations_during(|| vec![1u8; 10]);
    assert_eq!((n, v.len()), (1, 10));
}

#[test]
fn webhook_authentication_allocates_nothing() {
    let allow = Fixed {
        body: ALLOW,
        calls: Cell::new(0),
    };
    let deny = Fixed {
        body: DENY,
        calls: Cell::new(0),
    };
    let a = WebhookTokenAuthenticator::new(&allow, TokenReviewVersion::V1)
        .with_implicit_audiences(&["api"]);
    let d = WebhookTokenAuthenticator::new(&deny, TokenReviewVersion::V1);
    let ctx = Context::at(UnixTime::from_secs(1_800_000_000)).with_audiences(&["api"]);
    let mut buf = [0u8; 4096];
    let (n, (name, groups, message)) = allocations_during(|| {
        let mut scratch = Scratch::new(&mut buf);
        let mut out = Response::default();
        let v = a.authenticate_token_into(b"tok<en>\"\xff", &ctx, &mut scratch, &mut out);
        assert_eq!(v, Verdict::Authenticated);
        let mut denied = Response::default();
        let r = d.review_into(b"tok", &Context::at(ctx.now), &mut scratch, &mut denied);
        assert!(matches!(r.verdict, Verdict::Rejected(_)));
        (out.user.name, out.user.groups.len(), r.status_error)
    });
    assert_eq!(
        (name, groups, message),
        ("jörg@example.com", 2, Some("token \"revoked\""))
    );
    assert_eq!(n, 0, "webhook authentication allocated");
}

#[test]
fn the_cached_webhook_allocates_nothing_on_misses_and_hits() {
    let allow = Fixed {
        body: ALLOW,
        calls: Cell::new(0),
    };
    let c: CachedTokenAuthenticator<_> = CachedTokenAuthenticator::new(
        WebhookTokenAuthenticator::new(&allow, TokenReviewVersion::V1),
        [9; 32],
        CacheConfig::webhook(120),
    );
    let ctx = Context::at(UnixTime::from_secs(1_800_000_000)).with_audiences(&["api"]);
    let mut buf = [0u8; 8192];
    let (n, ()) = allocations_during(|| {
        let mut scratch = Scratch::new(&mut buf);
        for _ in 0..3 {
            let mut out = Response::default();
            let v = c.authenticate_token_into(b"token", &ctx, &mut scratch, &mut out);
            assert_eq!(v, Verdict::Authenticated);
            assert_eq!(out.audiences.as_slice(), &["api"]);
        }
    });
    assert_eq!(allow.calls.get(), 1, "the second and third calls are hits");
    assert_eq!(n, 0, "the cached webhook allocated");
}

#[test]
fn request_header_authentication_allocates_nothing() {
    let ca_key = TestKey::p256(30);
    let ca_b = CertBuilder::new(&[cn("front-proxy-ca")]).ca();
    let ca = ca_b.build(&ca_key, &ca_key);
    let proxy = CertBuilder::new(&[cn("front-proxy-client")])
        .issuer_name(&ca_b.subject)
        .serial(&[2])
        .ext(eku(&[oids::CLIENT_AUTH]))
        .build(&TestKey::p256(31), &ca_key);
    let pool = ClientCaPool::from_der(&[&ca]).unwrap();
    let a = RequestHeaderAuthenticator::new(
        pool,
        RustCrypto,
        RequestHeaderConfig {
            allowed_names: &["front-proxy-client"],
            ..RequestHeaderConfig::STANDARD
        },
    )
    .unwrap();
    let headers = [
        Header {
            name: "x-remote-user",
            value: b"alice",
        },
        Header {
            name: "X-Remote-Group",
            value: b"devs",
        },
        Header {
            name: "X-Remote-Extra-Example.com%2F%E4%BB%8A",
            value: b"v",
        },
        Header {
            name: "X-Remote-Extra-Scopes",
            value: b"read",
        },
        Header {
            name: "Accept",
            value: b"*/*",
        },
    ];
    let chain: [&[u8]; 1] = [&proxy];
    let req = Request {
        headers: &headers,
        path: "/api",
        client_chain: &chain,
    };
    let ctx = Context::at(UnixTime::from_secs(1_735_689_600));
    let mut buf = [0u8; 1024];
    let (n, (name, keys, stripped)) = allocations_during(|| {
        let mut scratch = Scratch::new(&mut buf);
        let mut out = Response::default();
        let v = a.authenticate_request_into(&req, &ctx, &mut scratch, &mut out);
        assert_eq!(v, Verdict::Authenticated);
        let stripped = a.headers_to_strip(&req).count();
        (out.user.name, out.user.extra.len(), stripped)
    });
    assert_eq!((name, keys, stripped), ("alice", 2, 4));
    assert_eq!(n, 0, "request-header authentication allocated");
}
