//! Parsing and verifying RS256 and ES256 tokens performs no heap allocation, proven with a
//! counting global allocator over the real backend (`kauthn::RustCrypto`). Key sets are
//! loaded first (into a caller buffer, which needs no heap either); only `verify_jws` and the
//! claim getters are measured.
#![allow(clippy::std_instead_of_core)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "counting_alloc/mod.rs"]
mod counting_alloc;

use kauthn::jose::{AlgorithmSet, KeySet, verify_jws};
use kauthn::{RustCrypto, Scratch};

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = counting_alloc::count();
    f();
    counting_alloc::count() - before
}

// RFC 7515 A.2 (RS256) and the Wycheproof es256 group's valid token (ES256).
const RS256_JWK: &str = r#"{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#;
const RS256_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const ES256_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"kid-ec-sign","x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}"#;
const ES256_TOKEN: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtpZC1lYy1zaWduIn0.Zm9v.5cA0OHyMP7ezamUd5c9kV-FrGxdx4hbGXOdplQkutrqWrte5P-pAvsE3Ve6xSyU3YDQwUHjVVOtvcrEbbnZ8yA";

#[test]
fn verifying_rs256_and_es256_tokens_does_not_allocate() {
    // Key material, loaded up front into caller-owned buffers.
    let mut key_buf = [0u8; 4096];
    let mut key_scratch = Scratch::new(&mut key_buf);
    let mut keys = KeySet::<4>::new();
    keys.add_jwks(RS256_JWK.as_bytes(), &mut key_scratch)
        .unwrap();
    keys.add_jwks(ES256_JWK.as_bytes(), &mut key_scratch)
        .unwrap();
    let mut buf = [0u8; 4096];

    let n = allocations_during(|| {
        let mut scratch = Scratch::new(&mut buf);
        let v = verify_jws(
            RS256_TOKEN.as_bytes(),
            &keys,
            AlgorithmSet::ALL,
            &RustCrypto,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(v.claims.get_str("iss"), Ok(Some("joe")));
        assert_eq!(
            v.claims.get_numeric_date("exp").unwrap().unwrap().as_secs(),
            1_300_819_380
        );
        assert_eq!(
            v.claims.get_bool("http://example.com/is_root"),
            Ok(Some(true))
        );
    });
    assert_eq!(n, 0, "RS256 parse + verify + claims allocated {n} times");

    let mut buf = [0u8; 1024];
    let n = allocations_during(|| {
        let mut scratch = Scratch::new(&mut buf);
        // The ES256 vector's payload is "foo", not JSON: verify the JWS and read the payload.
        let v = kauthn::jose::verify_jws_payload(
            ES256_TOKEN.as_bytes(),
            &keys,
            AlgorithmSet::ALL,
            &RustCrypto,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(v.payload, b"foo");
        assert_eq!(v.header.kid, Some("kid-ec-sign"));
    });
    assert_eq!(n, 0, "ES256 parse + verify allocated {n} times");
}
