//! One counting-allocator test over every authentication path at once: the full
//! kube-apiserver chain (front proxy, x509, token file, legacy and bound service accounts,
//! bootstrap, OIDC, webhook, token cache, group adder, anonymous) asked once per kind of
//! credential, with zero heap allocations for each.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

#[path = "counting_alloc/mod.rs"]
mod counting_alloc;

use kauthn::jose::OwnedKeySet;
use kauthn::{
    Anonymous, AudienceAgnostic, AuthenticatedGroupAdder, BearerToken, BootstrapSecret,
    BootstrapTokenAuthenticator, CacheConfig, CachedTokenAuthenticator, ClientCaPool, Context,
    Header, JwtAuthenticator, OwnedTokenFile, Request, RequestAuthenticator,
    RequestHeaderAuthenticator, RequestHeaderConfig, RequestUnion, Response, RustCrypto, Scratch,
    ServiceAccountAuthenticator, TokenAuthenticator, TokenReviewVersion, TokenUnion,
    TransportError, UnixTime, Verdict, WebhookTokenAuthenticator, WebhookTransport,
    X509Authenticator,
};

const NOW: i64 = 1_800_000_000;
const API: [&str; 1] = ["https://kubernetes.default.svc.cluster.local"];

fn file(rel: &str) -> Vec<u8> {
    let mut b = std::fs::read(format!("{}/../../{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    while b.last() == Some(&b'\n') {
        b.pop();
    }
    b
}

/// A webhook that approves `webhook-token` and knows nothing else.
struct Webhook;

impl WebhookTransport for Webhook {
    fn post(&self, body: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let approved = body.windows(13).any(|w| w == b"webhook-token");
        let answer: &[u8] = if approved {
            br#"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,"user":{"username":"webhook-user","groups":["hooked"]}}}"#
        } else {
            br#"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":false}}"#
        };
        let dst = response
            .get_mut(..answer.len())
            .ok_or(TransportError::ResponseTooLarge)?;
        dst.copy_from_slice(answer);
        Ok(answer.len())
    }
}

#[test]
fn every_authentication_path_in_one_chain_allocates_nothing() {
    // Configuration (allocates freely: this is start-up).
    let ca = file("bindings/c/testdata/ca.pem");
    let leaf = file("bindings/c/testdata/client.der");
    let tokens = OwnedTokenFile::parse("static-token,alice,uid-1,\"dev,ops\"\n").unwrap();
    let secrets = [BootstrapSecret {
        namespace: "kube-system",
        name: "bootstrap-token-abcdef",
        type_: "bootstrap.kubernetes.io/token",
        has_data: true,
        token_id: Some(b"abcdef"),
        token_secret: Some(b"0123456789abcdef"),
        usage_bootstrap_authentication: Some(b"true"),
        ..BootstrapSecret::default()
    }];
    let mut sa_keys = OwnedKeySet::new();
    sa_keys
        .add_pem(&file("crates/kauthn-ffi/tests/data/sa-public.pem"))
        .unwrap();
    let mut jwks = OwnedKeySet::new();
    jwks.add_jwks(&file("crates/kauthn-ffi/tests/data/oidc-jwks.json"))
        .unwrap();

    let rh = RequestHeaderAuthenticator::new(
        ClientCaPool::from_pem(&ca).unwrap(),
        RustCrypto,
        RequestHeaderConfig::STANDARD,
    )
    .unwrap();
    let rh = AudienceAgnostic::new(API, rh);
    let x509 = X509Authenticator::new(ClientCaPool::from_pem(&ca).unwrap(), RustCrypto);
    let token_file = AudienceAgnostic::new(API, &tokens);
    let legacy =
        ServiceAccountAuthenticator::legacy(["kubernetes/serviceaccount"], API, sa_keys.clone())
            .unwrap();
    let bound = ServiceAccountAuthenticator::bound(API, API, sa_keys).unwrap();
    let bootstrap = AudienceAgnostic::new(API, BootstrapTokenAuthenticator::new(&secrets[..]));
    let oidc = JwtAuthenticator::new("https://issuer.example", ["kauthn-client"], "email", jwks)
        .unwrap()
        .groups("groups", Some("oidc:"));
    let oidc_list: [&dyn TokenAuthenticator; 1] = [&oidc];
    let oidc = AudienceAgnostic::new(API, TokenUnion::fail_on_error(&oidc_list[..]));
    let webhook: CachedTokenAuthenticator<_> = CachedTokenAuthenticator::new(
        WebhookTokenAuthenticator::new(Webhook, TokenReviewVersion::V1)
            .with_implicit_audiences(&API),
        [1; 32],
        CacheConfig::webhook(120),
    );
    let token_list: [&dyn TokenAuthenticator; 7] = [
        &token_file,
        &legacy,
        &bound,
        &bootstrap,
        &oidc,
        &webhook,
        &webhook,
    ];
    let tokens_union: CachedTokenAuthenticator<_> = CachedTokenAuthenticator::new(
        TokenUnion::new(&token_list[..]),
        [2; 32],
        CacheConfig::KUBE_APISERVER,
    );
    let bearer = BearerToken::new(&tokens_union);
    let requests: [&dyn RequestAuthenticator; 3] = [&rh, &x509, &bearer];
    let inner = AuthenticatedGroupAdder::new(RequestUnion::new(&requests[..]));
    let anonymous = Anonymous::new();
    let chain_list: [&dyn RequestAuthenticator; 2] = [&inner, &anonymous];
    let chain = RequestUnion::fail_on_error(&chain_list[..]);

    let sa = file("crates/kauthn-ffi/tests/data/sa-bound.jwt");
    let id = file("crates/kauthn-ffi/tests/data/oidc.jwt");
    let bearer_of = |t: &[u8]| [b"Bearer ".as_slice(), t].concat();
    let (sa_h, id_h) = (bearer_of(&sa), bearer_of(&id));
    let chain_of_leaf = [leaf.as_slice()];
    struct Case<'c> {
        what: &'static str,
        headers: Vec<Header<'c>>,
        client_chain: &'c [&'c [u8]],
        want: Option<&'static str>,
    }
    let h = |v: &'static [u8]| Header {
        name: "Authorization",
        value: v,
    };
    let cases = [
        Case {
            what: "front proxy",
            headers: vec![Header {
                name: "X-Remote-User",
                value: b"proxied",
            }],
            client_chain: &chain_of_leaf,
            want: Some("proxied"),
        },
        Case {
            what: "client certificate",
            headers: vec![],
            client_chain: &chain_of_leaf,
            want: Some("jane"),
        },
        Case {
            what: "token file",
            headers: vec![h(b"Bearer static-token")],
            client_chain: &[],
            want: Some("alice"),
        },
        Case {
            what: "bound service account",
            headers: vec![Header {
                name: "Authorization",
                value: &sa_h,
            }],
            client_chain: &[],
            want: Some("system:serviceaccount:default:app"),
        },
        Case {
            what: "bootstrap token",
            headers: vec![h(b"Bearer abcdef.0123456789abcdef")],
            client_chain: &[],
            want: Some("system:bootstrap:abcdef"),
        },
        Case {
            what: "OIDC",
            headers: vec![Header {
                name: "Authorization",
                value: &id_h,
            }],
            client_chain: &[],
            want: Some("alice@example.com"),
        },
        Case {
            what: "webhook",
            headers: vec![h(b"Bearer webhook-token")],
            client_chain: &[],
            want: Some("webhook-user"),
        },
        Case {
            what: "bad token",
            headers: vec![h(b"Bearer nobody-knows-me")],
            client_chain: &[],
            want: None,
        },
        Case {
            what: "anonymous",
            headers: vec![],
            client_chain: &[],
            want: Some("system:anonymous"),
        },
    ];
    let ctx = Context::at(UnixTime::from_secs(NOW)).with_audiences(&API);
    for case in &cases {
        let req = Request {
            headers: &case.headers,
            path: "/api",
            client_chain: case.client_chain,
        };
        // Twice: a miss (filling the token cache) and a hit.
        for round in 0..2 {
            let mut buf = vec![0u8; 64 * 1024];
            let (n, got) = counting_alloc::allocations_during(|| {
                let mut s = Scratch::new(&mut buf);
                let mut out = Response::default();
                let v = chain.authenticate_request_into(&req, &ctx, &mut s, &mut out);
                (v == Verdict::Authenticated).then_some(out.user.name.len())
            });
            assert_eq!(
                got,
                case.want.map(str::len),
                "{} (round {round})",
                case.what
            );
            assert_eq!(n, 0, "{} allocated (round {round})", case.what);
        }
    }
}
