//! Authenticating service-account and OIDC tokens performs no heap allocation with the
//! default backend (`kauthn::RustCrypto`), proven with a counting global allocator. Keys,
//! tokens, authenticators and buffers are made first; only `authenticate_token_into` calls
//! are measured.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

#[path = "jwt_common/mod.rs"]
mod common;

#[path = "counting_alloc/mod.rs"]
mod counting_alloc;

use common::*;
use kauthn::jose::{AlgorithmSet, OwnedKeySet};
use kauthn::oidc::SwappableKeys;
use kauthn::{
    Context, JwtAuthenticator, Response, Scratch, ServiceAccountAuthenticator, TokenAuthenticator,
    UnixTime, Verdict,
};

const NOW: i64 = 1_700_000_000;

/// Runs `f` and returns how many allocations and reallocations happened meanwhile. The
/// counters are process-wide and the test harness's own thread can allocate at any moment
/// (seen under load), so `f` runs three times and the fewest is reported: the measured paths
/// are deterministic, so one clean run proves the path allocates nothing.
fn allocations_during(mut f: impl FnMut()) -> usize {
    (0..3)
        .map(|_| {
            let before = counting_alloc::count();
            f();
            counting_alloc::count() - before
        })
        .min()
        .unwrap_or(usize::MAX)
}

fn authenticate<A: TokenAuthenticator>(auth: &A, token: &[u8], buf: &mut [u8], audiences: &[&str]) {
    let mut scratch = Scratch::new(buf);
    let mut out = Response::default();
    let ctx = Context::at(UnixTime::from_secs(NOW)).with_audiences(audiences);
    let v = auth.authenticate_token_into(token, &ctx, &mut scratch, &mut out);
    assert_eq!(v, Verdict::Authenticated);
    assert!(
        out.user.name.starts_with("system:serviceaccount:") || out.user.name.starts_with("oidc:")
    );
    assert!(
        out.user
            .extra
            .contains_key("authentication.kubernetes.io/credential-id")
    );
}

#[test]
fn service_account_and_oidc_tokens_authenticate_without_allocating() {
    // The counter must see an allocation, or a zero below would prove nothing.
    assert!(allocations_during(|| drop(std::hint::black_box(Vec::<u8>::with_capacity(8)))) > 0);

    let (rsa, ec) = (k8s_rsa(), k8s_ec());
    let mut sa_keys = OwnedKeySet::new();
    sa_keys.add_pem(&data("k8s-rsa-public.pem")).unwrap();
    sa_keys.add_pem(&data("k8s-ec-public.pem")).unwrap();
    let issuer = "https://kubernetes.default.svc";
    let sa = ServiceAccountAuthenticator::bound([issuer], ["api"], sa_keys).unwrap();
    let sa_claims = format!(
        r#"{{"aud":["api"],"exp":{},"iat":{NOW},"iss":"{issuer}","jti":"0b2c7a1e","kubernetes.io":{{"namespace":"default","node":{{"name":"node-1","uid":"n-uid"}},"pod":{{"name":"app-7d4b9","uid":"p-uid"}},"serviceaccount":{{"name":"app","uid":"sa-uid"}},"warnafter":{}}},"nbf":{NOW},"sub":"system:serviceaccount:default:app"}}"#,
        NOW + 3600,
        NOW + 3000
    );
    let sa_rs256 = token(&rsa, K8S_RSA_KID, &sa_claims);
    let sa_es256 = token(&ec, K8S_EC_KID, &sa_claims);

    let oidc_issuer = "https://auth.example.com";
    let jwks_doc = jwks(&[(&rsa, "rsa"), (&ec, "ec")]);
    let mut oidc_keys = OwnedKeySet::new();
    oidc_keys.add_jwks(jwks_doc.as_bytes()).unwrap();
    let oidc = JwtAuthenticator::new(oidc_issuer, ["my-client"], "sub", oidc_keys)
        .unwrap()
        .username_prefix("oidc:")
        .groups("groups", Some("oidc:"))
        .required_claim("hd", "example.com")
        .unwrap()
        .algorithms(AlgorithmSet::ALL);
    let swappable = SwappableKeys::new();
    swappable.replace_jwks(jwks_doc.as_bytes()).unwrap();
    let oidc_swappable = JwtAuthenticator::new(oidc_issuer, ["my-client"], "sub", swappable)
        .unwrap()
        .username_prefix("oidc:")
        .groups("groups", Some("oidc:"));
    let oidc_claims = format!(
        r#"{{"iss":"{oidc_issuer}","aud":["my-client","other"],"exp":{},"iat":{NOW},"sub":"jane","email":"jane@example.com","email_verified":true,"groups":["team1","team2"],"hd":"example.com","jti":"1234"}}"#,
        NOW + 3600
    );
    let oidc_rs256 = token(&rsa, "rsa", &oidc_claims);
    let oidc_es256 = token(&ec, "ec", &oidc_claims);

    let mut buf = vec![0u8; 16 * 1024];
    // Warm up (lazy statics in the allocator, the test harness's output capture).
    authenticate(&sa, sa_rs256.as_bytes(), &mut buf, &["api"]);

    for (what, n) in [
        (
            "SA RS256",
            allocations_during(|| authenticate(&sa, sa_rs256.as_bytes(), &mut buf, &["api"])),
        ),
        (
            "SA ES256",
            allocations_during(|| authenticate(&sa, sa_es256.as_bytes(), &mut buf, &[])),
        ),
        (
            "OIDC RS256",
            allocations_during(|| authenticate(&oidc, oidc_rs256.as_bytes(), &mut buf, &[])),
        ),
        (
            "OIDC ES256",
            allocations_during(|| authenticate(&oidc, oidc_es256.as_bytes(), &mut buf, &[])),
        ),
        (
            "OIDC RS256 with swappable keys",
            allocations_during(|| {
                authenticate(&oidc_swappable, oidc_rs256.as_bytes(), &mut buf, &[])
            }),
        ),
    ] {
        assert_eq!(n, 0, "{what}: {n} allocations");
    }

    // Declining a token of another issuer does not allocate either.
    let n = allocations_during(|| {
        let mut scratch = Scratch::new(&mut buf);
        let mut out = Response::default();
        let ctx = Context::at(UnixTime::from_secs(NOW));
        let v = sa.authenticate_token_into(oidc_rs256.as_bytes(), &ctx, &mut scratch, &mut out);
        assert_eq!(v, Verdict::NotMine(None));
    });
    assert_eq!(n, 0, "not-mine path: {n} allocations");
}
