//! Test helpers for the service-account and OIDC suites: fixed keys from `tests/data`, token
//! signing with the `rsa`, `p256` and `p521` crates, JWKS documents, and a scratch buffer.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rsa::pkcs8::DecodePrivateKey;
use rsa::sha2::{Sha256, Sha384, Sha512};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer as _};
use rsa::traits::PublicKeyParts;

/// The DER inside the first PEM block of `tests/data/<name>`.
pub fn pem_der(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(data_path(name)).unwrap();
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    Base64::decode_vec(&body).unwrap()
}

/// `tests/data/<name>`.
pub fn data_path(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The bytes of `tests/data/<name>`.
pub fn data(name: &str) -> Vec<u8> {
    std::fs::read(data_path(name)).unwrap()
}

/// A private key that signs test tokens.
#[derive(Clone)]
pub enum Key {
    /// RSA.
    Rsa(rsa::PrivateKey),
    /// ECDSA P-256.
    P256(p256::ecdsa::SigningKey),
    /// ECDSA P-521.
    P521(p521::ecdsa::SigningKey),
}

/// The upstream `jwt_test.go` RSA key (kid `JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU`).
pub fn k8s_rsa() -> Key {
    Key::Rsa(rsa::PrivateKey::from_pkcs8_der(&pem_der("k8s-rsa-pkcs8.pem")).unwrap())
}

/// The upstream `jwt_test.go` P-256 key (kid `SoABiieYuNx4UdqYvZRVeuC6SihxgLrhLy9peHMHpTc`).
pub fn k8s_ec() -> Key {
    Key::P256(p256::ecdsa::SigningKey::from_pkcs8_der(&pem_der("k8s-ec-pkcs8.pem")).unwrap())
}

/// A second RSA key (generated with OpenSSL for these tests).
pub fn other_rsa() -> Key {
    Key::Rsa(rsa::PrivateKey::from_pkcs8_der(&pem_der("jwt-rsa-2.pem")).unwrap())
}

/// A second P-256 key.
pub fn other_ec() -> Key {
    Key::P256(p256::ecdsa::SigningKey::from_pkcs8_der(&pem_der("jwt-p256-2.pem")).unwrap())
}

/// A P-521 key.
pub fn p521_key() -> Key {
    Key::P521(p521::ecdsa::SigningKey::from_pkcs8_der(&pem_der("jwt-p521.pem")).unwrap())
}

/// The `kid` kube-apiserver gives the upstream RSA key.
pub const K8S_RSA_KID: &str = "JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU";
/// The `kid` kube-apiserver gives the upstream P-256 key.
pub const K8S_EC_KID: &str = "SoABiieYuNx4UdqYvZRVeuC6SihxgLrhLy9peHMHpTc";

pub fn b64(b: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(b)
}

impl Key {
    /// The algorithm kube-apiserver would sign with.
    pub fn default_alg(&self) -> &'static str {
        match self {
            Key::Rsa(_) => "RS256",
            Key::P256(_) => "ES256",
            Key::P521(_) => "ES512",
        }
    }

    /// Signs `input` under `alg`.
    pub fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        match (self, alg) {
            (Key::Rsa(k), "RS256") => rsa::pkcs1v15::SigningKey::<Sha256>::new(k.clone())
                .sign(input)
                .to_vec(),
            (Key::Rsa(k), "RS384") => rsa::pkcs1v15::SigningKey::<Sha384>::new(k.clone())
                .sign(input)
                .to_vec(),
            (Key::Rsa(k), "RS512") => rsa::pkcs1v15::SigningKey::<Sha512>::new(k.clone())
                .sign(input)
                .to_vec(),
            (Key::Rsa(k), "PS256") => rsa::pss::SigningKey::<Sha256>::new(k.clone())
                .sign_with_rng(&mut rng, input)
                .to_vec(),
            (Key::P256(k), "ES256") => {
                let s: p256::ecdsa::Signature = k.sign(input);
                s.to_bytes().to_vec()
            }
            (Key::P521(k), "ES512") => {
                let s: p521::ecdsa::Signature = k.sign(input);
                s.to_bytes().to_vec()
            }
            (_, alg) => panic!("test helper cannot sign {alg} with this key"),
        }
    }

    /// The public key as a JWK with `kid`.
    pub fn jwk(&self, kid: &str) -> String {
        match self {
            Key::Rsa(k) => {
                let p = k.to_public_key();
                format!(
                    r#"{{"kty":"RSA","kid":"{kid}","n":"{}","e":"{}"}}"#,
                    b64(&p.n_bytes()),
                    b64(&p.e_bytes())
                )
            }
            Key::P256(k) => {
                let pt = k.verifying_key().to_sec1_point(false);
                let b = pt.as_bytes();
                format!(
                    r#"{{"kty":"EC","crv":"P-256","kid":"{kid}","x":"{}","y":"{}"}}"#,
                    b64(&b[1..33]),
                    b64(&b[33..65])
                )
            }
            Key::P521(k) => {
                let pt = k.verifying_key().to_sec1_point(false);
                let b = pt.as_bytes();
                format!(
                    r#"{{"kty":"EC","crv":"P-521","kid":"{kid}","x":"{}","y":"{}"}}"#,
                    b64(&b[1..67]),
                    b64(&b[67..133])
                )
            }
        }
    }
}

/// A JWK Set of `(key, kid)` pairs.
pub fn jwks(keys: &[(&Key, &str)]) -> String {
    let ks: Vec<String> = keys.iter().map(|(k, kid)| k.jwk(kid)).collect();
    format!(r#"{{"keys":[{}]}}"#, ks.join(","))
}

/// A compact JWS over `header` and `claims` (both JSON text), signed with `key` under the
/// header's `alg`.
pub fn token_with_header(key: &Key, header: &str, claims: &str) -> String {
    let alg = header
        .split("\"alg\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or(key.default_alg());
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let sig = key.sign(alg, input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

/// A compact JWS with header `{"alg":<default>,"kid":<kid>}` (no kid when empty).
pub fn token(key: &Key, kid: &str, claims: &str) -> String {
    let header = if kid.is_empty() {
        format!(r#"{{"alg":"{}"}}"#, key.default_alg())
    } else {
        format!(r#"{{"alg":"{}","kid":"{kid}"}}"#, key.default_alg())
    };
    token_with_header(key, &header, claims)
}

/// A scratch buffer generous for any test token.
pub fn scratch_buf() -> Vec<u8> {
    vec![0u8; 64 * 1024]
}

/// `../shared/vectors/<rel>`, or `None` with a printed skip notice.
pub fn vectors(rel: &str) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors"
    ))
    .join(rel);
    if p.exists() {
        Some(p)
    } else {
        println!("SKIP: {} not found; tests over it did not run", p.display());
        None
    }
}
