//! Service-account and OIDC tokens through the C ABI, including replacing the OIDC keys at
//! runtime. Tokens in `tests/data` are signed once with openssl (see its README).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    unsafe_code
)]

use kauthn_ffi::*;

const NOW: i64 = 1_800_000_000;

fn data(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut b = std::fs::read(p).unwrap();
    while b.last() == Some(&b'\n') {
        b.pop();
    }
    b
}

fn bytes(b: &[u8]) -> kauthn_bytes {
    kauthn_bytes {
        data: b.as_ptr(),
        len: b.len(),
    }
}

const NONE: kauthn_bytes = kauthn_bytes {
    data: core::ptr::null(),
    len: 0,
};

struct Handles {
    cfg: *mut Config,
    auth: *mut Authenticator,
    result: *mut AuthResult,
}

impl Drop for Handles {
    fn drop(&mut self) {
        // SAFETY: handles from the matching _new functions, freed once.
        unsafe {
            kauthn_auth_result_free(self.result);
            kauthn_authenticator_free(self.auth);
            kauthn_config_free(self.cfg);
        }
    }
}

fn build(jwks: Option<&[u8]>) -> Handles {
    let mut h = Handles {
        cfg: core::ptr::null_mut(),
        auth: core::ptr::null_mut(),
        result: core::ptr::null_mut(),
    };
    let key = data("sa-public.pem");
    let issuer = b"https://kubernetes.default.svc.cluster.local";
    let oidc = kauthn_oidc_settings {
        issuer_url: bytes(b"https://issuer.example"),
        client_id: bytes(b"kauthn-client"),
        username_claim: bytes(b"email"),
        username_prefix: NONE,
        groups_claim: bytes(b"groups"),
        groups_prefix: bytes(b"oidc:"),
        signing_algs: NONE,
    };
    // SAFETY: valid pointers for each call, as the header documents.
    unsafe {
        assert_eq!(kauthn_config_new(&mut h.cfg), KauthnResult::Ok);
        assert_eq!(
            kauthn_config_add_service_account_key_pem(h.cfg, key.as_ptr(), key.len()),
            KauthnResult::Ok
        );
        assert_eq!(
            kauthn_config_add_service_account_issuer(h.cfg, issuer.as_ptr(), issuer.len()),
            KauthnResult::Ok
        );
        assert_eq!(kauthn_config_set_oidc(h.cfg, &oidc), KauthnResult::Ok);
        if let Some(j) = jwks {
            assert_eq!(
                kauthn_config_set_oidc_jwks(h.cfg, j.as_ptr(), j.len()),
                KauthnResult::Ok
            );
        }
        let code = kauthn_authenticator_new(h.cfg, &mut h.auth);
        if code != KauthnResult::Ok {
            let mut buf = [0u8; 512];
            let mut n = 0;
            kauthn_config_error_message(h.cfg, buf.as_mut_ptr(), buf.len(), &mut n);
            panic!("{}", String::from_utf8_lossy(&buf[..n]));
        }
        assert_eq!(kauthn_auth_result_new(&mut h.result), KauthnResult::Ok);
    }
    h
}

#[derive(Debug, PartialEq)]
struct Seen {
    status: KauthnStatus,
    name: String,
    groups: Vec<String>,
    extra: Vec<(String, Vec<String>)>,
    message: String,
}

fn auth(h: &Handles, token: &[u8]) -> Seen {
    // SAFETY: valid handles and buffers; views are read before the handle is reused.
    unsafe {
        assert_eq!(
            kauthn_authenticator_authenticate_token(
                h.auth,
                token.as_ptr(),
                token.len(),
                NOW,
                h.result
            ),
            KauthnResult::Ok
        );
        let r = h.result;
        let view = |f: &dyn Fn(*mut *const u8, *mut usize) -> KauthnResult| {
            let (mut p, mut n) = (core::ptr::null(), 0usize);
            if f(&mut p, &mut n) != KauthnResult::Ok {
                return String::new();
            }
            String::from_utf8(core::slice::from_raw_parts(p, n).to_vec()).unwrap()
        };
        let mut seen = Seen {
            status: kauthn_auth_result_status(r),
            name: view(&|p, n| kauthn_auth_result_name(r, p, n)),
            groups: (0..kauthn_auth_result_groups_len(r))
                .map(|i| view(&|p, n| kauthn_auth_result_group(r, i, p, n)))
                .collect(),
            extra: Vec::new(),
            message: String::new(),
        };
        for k in 0..kauthn_auth_result_extra_len(r) {
            let key = view(&|p, n| kauthn_auth_result_extra_key(r, k, p, n));
            let values = (0..kauthn_auth_result_extra_values_len(r, k))
                .map(|j| view(&|p, n| kauthn_auth_result_extra_value(r, k, j, p, n)))
                .collect();
            seen.extra.push((key, values));
        }
        let mut buf = [0u8; 512];
        let mut n = 0;
        kauthn_auth_result_message(r, buf.as_mut_ptr(), buf.len(), &mut n);
        seen.message = String::from_utf8_lossy(&buf[..n]).into_owned();
        seen
    }
}

#[test]
fn bound_service_account_token_authenticates_through_the_c_abi() {
    let h = build(Some(&data("oidc-jwks.json")));
    let seen = auth(&h, &data("sa-bound.jwt"));
    assert_eq!(seen.status, KauthnStatus::Authenticated, "{}", seen.message);
    assert_eq!(seen.name, "system:serviceaccount:default:app");
    assert_eq!(
        seen.groups,
        [
            "system:serviceaccounts",
            "system:serviceaccounts:default",
            "system:authenticated"
        ]
    );
    assert!(seen.extra.contains(&(
        "authentication.kubernetes.io/credential-id".into(),
        vec!["JTI=8e9a4c4b-7b1b-4a7e-9c53-0d4b1d2c3e4f".into()]
    )));
}

#[test]
fn oidc_token_authenticates_with_prefixes_through_the_c_abi() {
    let h = build(Some(&data("oidc-jwks.json")));
    let seen = auth(&h, &data("oidc.jwt"));
    assert_eq!(seen.status, KauthnStatus::Authenticated, "{}", seen.message);
    assert_eq!(seen.name, "alice@example.com");
    assert_eq!(
        seen.groups,
        ["oidc:dev", "oidc:ops", "system:authenticated"]
    );
}

#[test]
fn oidc_keys_are_replaced_at_runtime_without_rebuilding() {
    let h = build(None);
    let token = data("oidc.jwt");
    assert_eq!(
        auth(&h, &token).status,
        KauthnStatus::Rejected,
        "no keys yet"
    );
    let other = data("oidc-jwks-other.json");
    let good = data("oidc-jwks.json");
    // SAFETY: valid handle and buffers.
    unsafe {
        assert_eq!(
            kauthn_authenticator_set_oidc_jwks(h.auth, other.as_ptr(), other.len()),
            KauthnResult::Ok
        );
    }
    assert_eq!(
        auth(&h, &token).status,
        KauthnStatus::Rejected,
        "kid does not match"
    );
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            kauthn_authenticator_set_oidc_jwks(h.auth, good.as_ptr(), good.len()),
            KauthnResult::Ok
        );
        assert_eq!(
            kauthn_authenticator_set_oidc_jwks(h.auth, b"{".as_ptr(), 1),
            KauthnResult::InvalidConfig
        );
    }
    assert_eq!(
        auth(&h, &token).status,
        KauthnStatus::Authenticated,
        "bad JWKS kept the good keys"
    );
}

#[test]
fn tampered_token_is_rejected_with_a_reason() {
    let h = build(Some(&data("oidc-jwks.json")));
    let mut token = data("sa-bound.jwt");
    let n = token.len();
    token[n - 5] ^= 1;
    let seen = auth(&h, &token);
    assert_eq!(seen.status, KauthnStatus::Rejected);
    assert!(!seen.message.is_empty());
}
