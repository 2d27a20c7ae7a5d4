//! The cost of the C ABI: one bound service-account RS256 token (token cache off),
//! authenticated through `kauthn_authenticator_authenticate_token` with a reused result
//! handle, beside the same chain called directly in Rust (issue 7: at most 5% more).
#![allow(unsafe_code)]

use core::hint::black_box;

use crate::Criterion;
use kauthn::jose::OwnedKeySet;
use kauthn::{
    AuthenticatedGroupAdder, Context, Response, Scratch, ServiceAccountAuthenticator,
    TokenAuthenticator, TokenUnion, UnixTime, Verdict,
};
use kauthn_ffi::{
    KauthnResult, KauthnStatus, kauthn_auth_result_free, kauthn_auth_result_new,
    kauthn_auth_result_status, kauthn_authenticator_authenticate_token, kauthn_authenticator_free,
    kauthn_authenticator_new, kauthn_config_add_service_account_issuer,
    kauthn_config_add_service_account_key_pem, kauthn_config_free, kauthn_config_new,
    kauthn_config_set_cache_ttls,
};

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

fn data(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/../crates/kauthn-ffi/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut b = std::fs::read(p).expect("C ABI test data");
    while b.last() == Some(&b'\n') {
        b.pop();
    }
    b
}

pub(crate) fn service_account_rs256(c: &mut Criterion) {
    let key = data("sa-public.pem");
    let token = data("sa-bound.jwt");
    let mut g = c.benchmark_group("sa_rs256_ffi_overhead");

    // Rust: the chain the C ABI builds for these settings (legacy and bound service
    // accounts in a union, the authenticated-group adder), called directly.
    let mut keys = OwnedKeySet::new();
    keys.add_pem(&key).expect("key");
    let legacy = ServiceAccountAuthenticator::legacy(
        [kauthn::SERVICE_ACCOUNT_LEGACY_ISSUER],
        [ISSUER],
        keys.clone(),
    )
    .expect("legacy");
    let bound = ServiceAccountAuthenticator::bound([ISSUER], [ISSUER], keys).expect("bound");
    let list: Vec<Box<dyn TokenAuthenticator + Send + Sync>> =
        vec![Box::new(legacy), Box::new(bound)];
    let chain = AuthenticatedGroupAdder::new(TokenUnion::new(list));
    // The C ABI was given no --api-audiences, so its requests carry none either.
    let ctx = Context::at(UnixTime::from_secs(NOW));
    let mut buf = vec![0u8; 64 * 1024];
    g.bench_function("rust", |b| {
        b.iter(|| {
            let mut s = Scratch::new(&mut buf);
            let mut out = Response::default();
            let v = chain.authenticate_token_into(black_box(&token), &ctx, &mut s, &mut out);
            assert_eq!(v, Verdict::Authenticated);
            black_box(out.user.name.len())
        })
    });

    // C ABI: the same settings through the exported functions.
    let mut cfg = core::ptr::null_mut();
    let mut auth = core::ptr::null_mut();
    let mut result = core::ptr::null_mut();
    // SAFETY: every pointer is valid for its call, as include/kauthn.h documents.
    unsafe {
        assert_eq!(kauthn_config_new(&mut cfg), KauthnResult::Ok);
        kauthn_config_add_service_account_key_pem(cfg, key.as_ptr(), key.len());
        kauthn_config_add_service_account_issuer(cfg, ISSUER.as_ptr(), ISSUER.len());
        kauthn_config_set_cache_ttls(cfg, 0, 0);
        assert_eq!(kauthn_authenticator_new(cfg, &mut auth), KauthnResult::Ok);
        assert_eq!(kauthn_auth_result_new(&mut result), KauthnResult::Ok);
    }
    g.bench_function("c_abi", |b| {
        b.iter(|| {
            // SAFETY: as above; the result handle is reused, one thread at a time.
            unsafe {
                let code = kauthn_authenticator_authenticate_token(
                    auth,
                    black_box(token.as_ptr()),
                    token.len(),
                    NOW,
                    result,
                );
                assert_eq!(code, KauthnResult::Ok);
                assert_eq!(
                    kauthn_auth_result_status(result),
                    KauthnStatus::Authenticated
                );
            }
        })
    });
    g.finish();
    // SAFETY: handles from the matching _new calls, freed once.
    unsafe {
        kauthn_auth_result_free(result);
        kauthn_authenticator_free(auth);
        kauthn_config_free(cfg);
    }
}
