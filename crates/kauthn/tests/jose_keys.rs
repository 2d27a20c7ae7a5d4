//! Key loading: PEM forms `--service-account-key-file` accepts, Kubernetes key ids, JWK
//! checks (A-4, A-5, A-8, A-9) and the owned key set.
#![allow(clippy::std_instead_of_core)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "jose_common/mod.rs"]
mod common;

use kauthn::Scratch;
use kauthn::crypto::PublicKey;
use kauthn::jose::{
    JoseError, KeyProblem, KeySet, KeySource, Malformed, OwnedKeySet, Unsupported,
    kubernetes_key_id,
};

const RSA_KID: &str = "JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU";
const EC_KID: &str = "SoABiieYuNx4UdqYvZRVeuC6SihxgLrhLy9peHMHpTc";

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn load_pem(pem: &[u8]) -> Result<Vec<(String, PublicKey<'static>)>, JoseError> {
    let pem: &'static [u8] = Box::leak(pem.to_vec().into_boxed_slice());
    let buf: &'static mut [u8] = Box::leak(vec![0u8; 64 * 1024].into_boxed_slice());
    let mut scratch = Scratch::new(buf);
    let mut set = KeySet::<8>::new();
    set.add_pem(pem, &mut scratch)?;
    Ok(set
        .as_slice()
        .iter()
        .map(|k| (k.kid.unwrap().to_string(), k.key))
        .collect())
}

#[test]
fn pem_public_and_private_keys_get_upstream_key_ids() {
    for (file, kid) in [
        ("k8s-rsa-public.pem", RSA_KID),
        ("k8s-rsa-private.pem", RSA_KID),
        ("k8s-rsa-pkcs8.pem", RSA_KID),
        ("k8s-rsa-pkcs1-public.pem", RSA_KID),
        ("k8s-ec-public.pem", EC_KID),
        ("k8s-ec-private.pem", EC_KID),
        ("k8s-ec-pkcs8.pem", EC_KID),
        ("k8s-ec-private-nopub.pem", EC_KID),
        ("k8s-ec-cert.pem", EC_KID),
    ] {
        let keys = load_pem(&data(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(keys.len(), 1, "{file}");
        assert_eq!(keys[0].0, kid, "{file}");
    }
}

#[test]
fn ec_private_key_without_public_part_derives_the_same_point() {
    let a = load_pem(&data("k8s-ec-private.pem")).unwrap();
    let b = load_pem(&data("k8s-ec-private-nopub.pem")).unwrap();
    assert_eq!(a[0].1, b[0].1);
}

#[test]
fn public_keys_win_over_private_keys_and_non_key_blocks_are_tolerated() {
    let mut pem = b"garbage before\n-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n".to_vec();
    pem.extend(data("k8s-rsa-private.pem"));
    pem.extend(data("k8s-ec-public.pem"));
    pem.extend(data("k8s-rsa-public.pem"));
    let keys = load_pem(&pem).unwrap();
    // Upstream: public keys are collected; the private key is used only when there are none.
    assert_eq!(
        keys.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
        [EC_KID, RSA_KID]
    );
}

#[test]
fn file_without_keys_is_rejected_with_the_upstream_reason() {
    assert_eq!(
        load_pem(b"nothing here"),
        Err(JoseError::KeyRejected(KeyProblem::NoKeys))
    );
    let e = load_pem(b"").unwrap_err();
    assert_eq!(
        e.to_string(),
        "key rejected: data does not contain any valid RSA or ECDSA public keys"
    );
}

#[test]
fn kubernetes_key_ids_match_the_upstream_jwks() {
    // The JWKS kube-apiserver publishes for the jwt_test.go keys
    // (pkg/serviceaccount/openidmetadata_test.go), with its kids.
    let jwks = br#"{"keys":[{"use":"sig","kty":"RSA","kid":"JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU","alg":"RS256","n":"249XwEo9k4tM8fMxV7zxOhcrP-WvXn917koM5Qr2ZXs4vo26e4ytdlrV0bQ9SlcLpQVSYjIxNfhTZdDt-ecIzshKuv1gKIxbbLQMOuK1eA_4HALyEkFgmS_tleLJrhc65tKPMGD-pKQ_xhmzRuCG51RoiMgbQxaCyYxGfNLpLAZK9L0Tctv9a0mJmGIYnIOQM4kC1A1I1n3EsXMWmeJUj7OTh_AjjCnMnkgvKT2tpKxYQ59PgDgU8Ssc7RDSmSkLxnrv-OrN80j6xrw0OjEiB4Ycr0PqfzZcvy8efTtFQ_Jnc4Bp1zUtFXt7-QeevePtQ2EcyELXE0i63T1CujRMWw","e":"AQAB"},{"use":"sig","kty":"EC","kid":"SoABiieYuNx4UdqYvZRVeuC6SihxgLrhLy9peHMHpTc","crv":"P-256","alg":"ES256","x":"H6cuzP8XuD5wal6wf9M6xDljTOPLX2i8uIp_C_ASqiI","y":"BlHnikLV9PyEd6gl8k4T_3Wwoh6xd79XLoQTh2PAi1Y"}]}"#;
    let mut buf = vec![0u8; 8192];
    let mut scratch = Scratch::new(&mut buf);
    let mut set = KeySet::<4>::new();
    let report = set.add_jwks(jwks, &mut scratch).unwrap();
    assert_eq!((report.added, report.skipped), (2, 0));
    for k in set.as_slice() {
        let kid = kubernetes_key_id(&k.key).unwrap();
        assert_eq!(std::str::from_utf8(&kid).unwrap(), k.kid.unwrap());
    }
}

fn jwk(json: &str) -> Result<usize, JoseError> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut scratch = Scratch::new(&mut buf);
    let json: &str = json;
    let mut set = KeySet::<8>::new();
    set.add_jwks(json.as_bytes(), &mut scratch).map(|r| r.added)
}

const N2048: &str = "249XwEo9k4tM8fMxV7zxOhcrP-WvXn917koM5Qr2ZXs4vo26e4ytdlrV0bQ9SlcLpQVSYjIxNfhTZdDt-ecIzshKuv1gKIxbbLQMOuK1eA_4HALyEkFgmS_tleLJrhc65tKPMGD-pKQ_xhmzRuCG51RoiMgbQxaCyYxGfNLpLAZK9L0Tctv9a0mJmGIYnIOQM4kC1A1I1n3EsXMWmeJUj7OTh_AjjCnMnkgvKT2tpKxYQ59PgDgU8Ssc7RDSmSkLxnrv-OrN80j6xrw0OjEiB4Ycr0PqfzZcvy8efTtFQ_Jnc4Bp1zUtFXt7-QeevePtQ2EcyELXE0i63T1CujRMWw";
const EC_X: &str = "H6cuzP8XuD5wal6wf9M6xDljTOPLX2i8uIp_C_ASqiI";
const EC_Y: &str = "BlHnikLV9PyEd6gl8k4T_3Wwoh6xd79XLoQTh2PAi1Y";

#[test]
fn jwk_for_encryption_or_without_verify_op_is_rejected() {
    let rsa = |extra: &str| format!(r#"{{"kty":"RSA","n":"{N2048}","e":"AQAB"{extra}}}"#);
    assert_eq!(jwk(&rsa("")), Ok(1));
    assert_eq!(
        jwk(&rsa(r#","use":"enc""#)),
        Err(JoseError::KeyRejected(KeyProblem::Use))
    );
    assert_eq!(
        jwk(&rsa(r#","key_ops":["encrypt"]"#)),
        Err(JoseError::KeyRejected(KeyProblem::KeyOps))
    );
    assert_eq!(jwk(&rsa(r#","key_ops":["sign","verify"]"#)), Ok(1));
    assert_eq!(
        jwk(&rsa(r#","alg":"ES256""#)),
        Err(JoseError::KeyRejected(KeyProblem::Alg))
    );
    assert_eq!(
        jwk(&rsa(r#","alg":"RSA-OAEP""#)),
        Err(JoseError::KeyRejected(KeyProblem::Alg))
    );
    // In a set, unusable keys are skipped (RFC 7517 §5), not fatal.
    let set = format!(
        r#"{{"keys":[{},{},{{"kty":"oct","k":"AAAA"}}]}}"#,
        rsa(r#","use":"enc""#),
        rsa(r#","kid":"a""#)
    );
    assert_eq!(jwk(&set), Ok(1));
}

#[test]
fn duplicate_kid_of_the_same_key_kind_is_rejected() {
    let ec = format!(r#"{{"kty":"EC","crv":"P-256","kid":"k","x":"{EC_X}","y":"{EC_Y}"}}"#);
    let rsa = format!(r#"{{"kty":"RSA","kid":"k","n":"{N2048}","e":"AQAB"}}"#);
    let rsa3 = format!(r#"{{"kty":"RSA","kid":"k","n":"{N2048}","e":"Aw"}}"#);
    // Identical keys collapse; RSA and EC may share a kid (RFC 7517 §4.5); two RSA may not.
    assert_eq!(jwk(&format!(r#"{{"keys":[{ec},{ec}]}}"#)), Ok(2));
    assert_eq!(jwk(&format!(r#"{{"keys":[{ec},{rsa}]}}"#)), Ok(2));
    assert_eq!(
        jwk(&format!(r#"{{"keys":[{rsa},{rsa3}]}}"#)),
        Err(JoseError::KeyRejected(KeyProblem::DuplicateKid))
    );
}

#[test]
fn weak_or_odd_rsa_keys_are_rejected() {
    let rsa = |n: &str, e: &str| jwk(&format!(r#"{{"kty":"RSA","n":"{n}","e":"{e}"}}"#));
    let modulus = JoseError::KeyRejected(KeyProblem::RsaModulus);
    let exponent = JoseError::KeyRejected(KeyProblem::RsaExponent);
    assert_eq!(rsa(N2048, "AQ"), Err(exponent)); // e = 1
    assert_eq!(rsa(N2048, "Ag"), Err(exponent)); // e = 2
    assert_eq!(rsa(N2048, "AQAAAAE"), Err(exponent)); // e > 2^32
    assert_eq!(rsa(N2048, "AAEAAQ"), Err(exponent)); // leading zero octet
    assert!(rsa(&format!("AA{N2048}"), "AQAB").is_err()); // leading zero octet in n
    assert_eq!(rsa(&N2048[..172], "AQAB"), Err(modulus)); // 1032 bits
    let even = format!("{}A", &N2048[..N2048.len() - 1]); // low bits cleared
    assert!(rsa(&even, "AQAB").is_err());
}

#[test]
fn invalid_ec_points_are_rejected() {
    let ec = |crv: &str, x: &str, y: &str| {
        jwk(&format!(
            r#"{{"kty":"EC","crv":"{crv}","x":"{x}","y":"{y}"}}"#
        ))
    };
    let point = JoseError::KeyRejected(KeyProblem::EcPoint);
    assert_eq!(ec("P-256", EC_X, EC_Y), Ok(1));
    // Not on the curve (y changed), wrong coordinate length, wrong curve, unknown curve.
    assert_eq!(
        ec("P-256", EC_X, "BlHnikLV9PyEd6gl8k4T_3Wwoh6xd79XLoQTh2PAi1Z"),
        Err(JoseError::Malformed(Malformed::Base64))
    );
    assert_eq!(
        ec("P-256", EC_X, "BlHnikLV9PyEd6gl8k4T_3Wwoh6xd79XLoQTh2PAi1c"),
        Err(point)
    );
    assert_eq!(ec("P-256", EC_X, &EC_Y[..42]), Err(point));
    assert_eq!(ec("P-384", EC_X, EC_Y), Err(point));
    assert_eq!(
        ec("P-192", EC_X, EC_Y),
        Err(JoseError::Unsupported(Unsupported::KeyType))
    );
    assert_eq!(
        ec(
            "P-256",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        ),
        Err(point)
    );
}

#[test]
fn private_jwk_members_are_ignored() {
    let with_d =
        format!(r#"{{"kty":"EC","crv":"P-256","x":"{EC_X}","y":"{EC_Y}","d":"not even base64!"}}"#);
    assert_eq!(jwk(&with_d), Ok(1));
}

#[test]
fn owned_key_set_outlives_its_input() {
    let mut set = OwnedKeySet::new();
    {
        let pem = data("k8s-rsa-public.pem");
        set.add_pem(&pem).unwrap();
        let pem = data("k8s-ec-public.pem");
        set.add_pem(&pem).unwrap();
    }
    assert_eq!(set.key_count(), 2);
    assert_eq!(set.key_at(0).unwrap().kid, Some(RSA_KID));
    assert_eq!(set.key_at(1).unwrap().kid, Some(EC_KID));
    // Loading the same file twice adds nothing new.
    set.add_pem(&data("k8s-ec-public.pem")).unwrap();
    assert_eq!(set.key_count(), 2);
}
