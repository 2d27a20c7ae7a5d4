//! X.509 client certificates (issue 3 item 6): subject extraction and full chain verification,
//! kauthn beside x509-parser, x509-cert (+ the `rsa`/`p256` crates) and rustls-webpki (ring),
//! on the checked-in chains of `benches/data`.
//!
//! What each peer does per request, so the rows can be read fairly:
//! * subject: x509-parser and x509-cert parse the leaf and read the last CN and every O;
//!   webpki cannot read a subject, so its row is parse only (`EndEntityCert::try_from`).
//!   kauthn's `map_subject` row is upstream's whole `CommonNameUserConversion`: CN, O, the UID
//!   attribute and the credential id, which hashes the leaf with SHA-256 (the
//!   `sha256_of_leaf` row shows that part alone).
//! * verify: webpki's `verify_for_usage` with clientAuth is a complete path validation like
//!   kauthn's. The x509-cert row is the least a user of that crate must write: parse, issuer
//!   name = CA subject, validity, leaf EKU allows clientAuth, re-encode the TBS and check its
//!   signature with a verifying key built once from the CA; it checks no key usage, critical
//!   extensions or basic constraints, so it is the cheaper job. kauthn's `kauthn` and
//!   `kauthn_authenticator` rows use a pool read from PEM (what `--client-ca-file` gives),
//!   which prepares each CA key once; `kauthn_der_pool` uses the no-heap pool borrowed from
//!   DER, which keeps no prepared keys, so the key is converted on every call (as ring does).

use core::hint::black_box;
use core::time::Duration;

use crate::Criterion;
use crate::paired::{Report, Row, Target};
use kauthn::crypto::RustCrypto;
use kauthn::{
    CertificateRef, ClientCaPool, Context, Request, RequestAuthenticator, Response, Scratch,
    UidFromCertificate, UnixTime, User, Verdict, VerifyOptions, X509Authenticator,
    map_subject_into, verify_client_chain,
};
use kauthn_benches::data;
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor};
use sha2::Digest as _;
use x509_cert::der::{Decode as _, Encode as _, oid::ObjectIdentifier};

/// id-kp-clientAuth (RFC 5280 §4.2.1.12).
const CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
/// id-at-commonName and id-at-organizationName (RFC 4519).
const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");

/// The signature algorithms rustls offers webpki with its ring provider.
static WEBPKI_ALGS: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

struct Chain {
    name: &'static str,
    ca: &'static [u8],
    ca_pem: &'static [u8],
    leaf: &'static [u8],
}

const CHAINS: [Chain; 2] = [
    Chain {
        name: "rsa2048",
        ca: data::RSA2048_CA_DER,
        ca_pem: data::RSA2048_CA_PEM,
        leaf: data::RSA2048_LEAF_DER,
    },
    Chain {
        name: "p256",
        ca: data::P256_CA_DER,
        ca_pem: data::P256_CA_PEM,
        leaf: data::P256_LEAF_DER,
    },
];

fn now() -> UnixTime {
    UnixTime::from_secs(data::NOW)
}

/// x509-parser: the last CN and every O, as `&str`.
fn x509_parser_subject(der: &[u8]) -> Option<(String, Vec<String>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let cn = subject.iter_common_name().last()?.as_str().ok()?.to_owned();
    let groups = subject
        .iter_organization()
        .map(|a| a.as_str().map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some((cn, groups))
}

/// x509-cert: the last CN and every O.
fn x509_cert_subject(cert: &x509_cert::Certificate) -> Option<(String, Vec<String>)> {
    let subject = cert.tbs_certificate().subject();
    let mut cn = None;
    let mut groups = Vec::new();
    for atv in subject.iter() {
        if atv.oid == CN || atv.oid == O {
            let s = x509_cert::ext::pkix::name::DirectoryString::try_from(&atv.value).ok()?;
            if atv.oid == CN {
                cn = Some(s.value().into_owned());
            } else {
                groups.push(s.value().into_owned());
            }
        }
    }
    Some((cn?, groups))
}

/// kauthn's subject extraction of one leaf: parse, then upstream's whole
/// `CommonNameUserConversion` into a fresh user (the `kauthn_map_subject` rows).
fn kauthn_map_subject(der: &[u8]) -> (usize, usize) {
    let mut buf = [0u8; 256];
    let mut s = Scratch::new(&mut buf);
    let leaf = CertificateRef::parse(der).unwrap();
    let mut user = User::default();
    let ok = map_subject_into(&leaf, &mut s, UidFromCertificate::Enabled, &mut user);
    assert!(ok.unwrap(), "the fixture leaf has a CN");
    (user.name.len(), user.groups.len())
}

pub(crate) fn subject(c: &mut Criterion) {
    for chain in &CHAINS {
        let mut g = c.benchmark_group(format!("x509_subject_{}", chain.name));
        g.bench_function("kauthn_map_subject", |b| {
            b.iter(|| black_box(kauthn_map_subject(black_box(chain.leaf))))
        });
        g.bench_function("kauthn_parse_only", |b| {
            b.iter(|| black_box(CertificateRef::parse(black_box(chain.leaf)).is_ok()))
        });
        g.bench_function("sha256_of_leaf", |b| {
            b.iter(|| black_box(sha2::Sha256::digest(black_box(chain.leaf))))
        });
        g.bench_function("x509-parser", |b| {
            b.iter(|| black_box(x509_parser_subject(black_box(chain.leaf)).unwrap()))
        });
        g.bench_function("x509-cert", |b| {
            b.iter(|| {
                let cert = x509_cert::Certificate::from_der(black_box(chain.leaf)).unwrap();
                black_box(x509_cert_subject(&cert).unwrap())
            })
        });
        g.bench_function("x509-cert_parse_only", |b| {
            b.iter(|| black_box(x509_cert::Certificate::from_der(black_box(chain.leaf)).is_ok()))
        });
        g.bench_function("webpki_parse_only", |b| {
            let der = CertificateDer::from(chain.leaf);
            b.iter(|| black_box(webpki::EndEntityCert::try_from(black_box(&der)).is_ok()))
        });
        g.finish();
    }
}

/// The x509-cert + RustCrypto verifier of one CA: its subject and a verifying key, built once.
enum CaKey {
    Rsa(rsa::pkcs1v15::VerifyingKey<sha2::Sha256>),
    P256(p256::ecdsa::VerifyingKey),
}

struct X509CertPool {
    subject: x509_cert::name::Name,
    key: CaKey,
}

impl X509CertPool {
    fn new(ca_der: &[u8]) -> Self {
        use p256::pkcs8::DecodePublicKey as _;
        let ca = x509_cert::Certificate::from_der(ca_der).unwrap();
        let spki = ca
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap();
        let key = match rsa::PublicKey::from_public_key_der(&spki) {
            Ok(k) => CaKey::Rsa(rsa::pkcs1v15::VerifyingKey::new(k)),
            Err(_) => CaKey::P256(p256::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap()),
        };
        X509CertPool {
            subject: ca.tbs_certificate().subject().clone(),
            key,
        }
    }

    fn verify(&self, leaf_der: &[u8], now: Duration) -> bool {
        use rsa::signature::Verifier as _;
        let Ok(leaf) = x509_cert::Certificate::from_der(leaf_der) else {
            return false;
        };
        let tbs = leaf.tbs_certificate();
        if tbs.issuer() != &self.subject {
            return false;
        }
        let validity = tbs.validity();
        if now < validity.not_before.to_unix_duration()
            || now > validity.not_after.to_unix_duration()
        {
            return false;
        }
        match tbs.get_extension::<x509_cert::ext::pkix::ExtendedKeyUsage>() {
            Ok(Some((_, eku))) if !eku.0.contains(&CLIENT_AUTH) => return false,
            Ok(_) => {}
            Err(_) => return false,
        }
        let Ok(tbs_der) = tbs.to_der() else {
            return false;
        };
        let Some(sig) = leaf.signature().as_bytes() else {
            return false;
        };
        match &self.key {
            CaKey::Rsa(k) => rsa::pkcs1v15::Signature::try_from(sig)
                .is_ok_and(|s| k.verify(&tbs_der, &s).is_ok()),
            CaKey::P256(k) => p256::ecdsa::DerSignature::try_from(sig)
                .is_ok_and(|s| k.verify(&tbs_der, &s).is_ok()),
        }
    }
}

pub(crate) fn verify(c: &mut Criterion) {
    for chain in &CHAINS {
        let mut g = c.benchmark_group(format!("x509_verify_{}", chain.name));
        let pool = ClientCaPool::from_pem(chain.ca_pem).unwrap();
        let der_pool = ClientCaPool::from_der(&[chain.ca]).unwrap();
        let opts = VerifyOptions::client_auth();
        for (name, pool) in [("kauthn", &pool), ("kauthn_der_pool", &der_pool)] {
            g.bench_function(name, |b| {
                b.iter(|| {
                    let leaf = [black_box(chain.leaf)];
                    let v = verify_client_chain(pool, &leaf, now(), &RustCrypto, &opts);
                    black_box(v.is_ok())
                })
            });
        }
        // The whole authenticator: verify, then map the subject into the caller's response.
        let auth = X509Authenticator::new(pool.clone(), RustCrypto);
        let leaf = [chain.leaf];
        let req = Request {
            headers: &[],
            path: "/api",
            client_chain: &leaf,
        };
        let ctx = Context::at(now());
        g.bench_function("kauthn_authenticator", |b| {
            b.iter(|| {
                let mut buf = [0u8; 256];
                let mut s = Scratch::new(&mut buf);
                let mut out = Response::default();
                let v = auth.authenticate_request_into(black_box(&req), &ctx, &mut s, &mut out);
                black_box(v == Verdict::Authenticated)
            })
        });
        let ca = CertificateDer::from(chain.ca);
        let anchors: [TrustAnchor<'_>; 1] = [webpki::anchor_from_trusted_cert(&ca).unwrap()];
        let leaf_der = CertificateDer::from(chain.leaf);
        let time = rustls_pki_types::UnixTime::since_unix_epoch(Duration::from_secs(
            data::NOW.unsigned_abs(),
        ));
        g.bench_function("webpki_ring", |b| {
            b.iter(|| {
                let ee = webpki::EndEntityCert::try_from(black_box(&leaf_der)).unwrap();
                let v = ee.verify_for_usage(
                    WEBPKI_ALGS,
                    &anchors,
                    &[],
                    time,
                    webpki::KeyUsage::client_auth(),
                    None,
                    None,
                );
                black_box(v.is_ok())
            })
        });
        let x509_cert_pool = X509CertPool::new(chain.ca);
        let peer = if chain.name == "rsa2048" {
            "x509-cert+rsa"
        } else {
            "x509-cert+p256"
        };
        let now = Duration::from_secs(data::NOW.unsigned_abs());
        g.bench_function(peer, |b| {
            b.iter(|| black_box(x509_cert_pool.verify(black_box(chain.leaf), now)))
        });
        g.finish();
    }
}

/// Every bench's inputs must be accepted: a bench of a failing path would measure an error.
pub(crate) fn check_fixtures() {
    let time =
        rustls_pki_types::UnixTime::since_unix_epoch(Duration::from_secs(data::NOW.unsigned_abs()));
    for chain in &CHAINS {
        let pool = ClientCaPool::from_pem(chain.ca_pem).unwrap();
        assert_eq!(
            ClientCaPool::from_der(&[chain.ca])
                .unwrap()
                .iter()
                .next()
                .map(|c| c.der().to_vec()),
            pool.iter().next().map(|c| c.der().to_vec()),
            "the {} CA's PEM and DER differ",
            chain.name
        );
        let leaf = [chain.leaf];
        let ok = verify_client_chain(
            &pool,
            &leaf,
            now(),
            &RustCrypto,
            &VerifyOptions::client_auth(),
        );
        assert!(
            ok.is_ok(),
            "kauthn rejects the {} chain: {ok:?}",
            chain.name
        );
        let mut buf = [0u8; 256];
        let mut s = Scratch::new(&mut buf);
        let mut user = User::default();
        let mapped = map_subject_into(&ok.unwrap(), &mut s, UidFromCertificate::Enabled, &mut user);
        assert!(mapped.unwrap());
        assert_eq!(user.name, "kubernetes-admin");
        assert_eq!(user.groups.as_slice(), ["system:masters", "dev"]);
        let expected = Some((
            "kubernetes-admin".to_owned(),
            vec!["system:masters".to_owned(), "dev".to_owned()],
        ));
        assert_eq!(x509_parser_subject(chain.leaf), expected);
        let cert = x509_cert::Certificate::from_der(chain.leaf).unwrap();
        assert_eq!(x509_cert_subject(&cert), expected);
        let ca = CertificateDer::from(chain.ca);
        let anchors = [webpki::anchor_from_trusted_cert(&ca).unwrap()];
        let leaf_der = CertificateDer::from(chain.leaf);
        let ee = webpki::EndEntityCert::try_from(&leaf_der).unwrap();
        ee.verify_for_usage(
            WEBPKI_ALGS,
            &anchors,
            &[],
            time,
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .unwrap();
        assert!(
            X509CertPool::new(chain.ca)
                .verify(chain.leaf, Duration::from_secs(data::NOW.unsigned_abs())),
            "x509-cert rejects the {} chain",
            chain.name
        );
    }
}

/// The ratios of issue 3, measured in turns (see `paired.rs`).
pub(crate) fn paired(report: &mut Report) {
    let rsa = &CHAINS[0];
    let pool = ClientCaPool::from_pem(rsa.ca_pem).unwrap();
    let opts = VerifyOptions::client_auth();
    let x509_cert_pool = X509CertPool::new(rsa.ca);
    let at = Duration::from_secs(data::NOW.unsigned_abs());
    report.compare(
        "3",
        "full RSA-2048 chain verification <= 0.6x x509-cert+rsa",
        Target::RatioAtMost(0.6),
        &mut [
            Row::new("kauthn", || {
                let leaf = [black_box(rsa.leaf)];
                let v = verify_client_chain(&pool, &leaf, now(), &RustCrypto, &opts);
                black_box(v.is_ok());
            }),
            Row::new("x509-cert+rsa", || {
                black_box(x509_cert_pool.verify(black_box(rsa.leaf), at));
            }),
        ],
    );
    for chain in &CHAINS {
        let map = || {
            Row::new("kauthn_map_subject", || {
                black_box(kauthn_map_subject(black_box(chain.leaf)));
            })
        };
        let der = CertificateDer::from(chain.leaf);
        let der = &der;
        let webpki = || {
            Row::new("webpki_parse_only", move || {
                black_box(webpki::EndEntityCert::try_from(black_box(der)).is_ok());
            })
        };
        let x509_parser = || {
            Row::new("x509-parser", || {
                black_box(x509_parser_subject(black_box(chain.leaf)).unwrap());
            })
        };
        let leaf = if chain.name == "p256" { "P-256" } else { "RSA" };
        report.compare(
            "3",
            &format!("subject extraction within 2x of webpki parse-only ({leaf} leaf)"),
            Target::RatioAtMost(2.0),
            &mut [map(), webpki()],
        );
        let sha = || {
            Row::new("sha256_of_leaf", || {
                black_box(sha2::Sha256::digest(black_box(chain.leaf)));
            })
        };
        report.compare(
            "3",
            &format!(
                "subject extraction without the credential id's SHA-256 within 2x of webpki \
                 parse-only ({leaf} leaf; map_subject - sha256_of_leaf)"
            ),
            Target::WithoutSecondAtMost(2.0),
            &mut [map(), sha(), webpki()],
        );
        report.compare(
            "3",
            &format!("kauthn parse alone within 2x of webpki parse-only ({leaf} leaf)"),
            Target::RatioAtMost(2.0),
            &mut [
                Row::new("kauthn_parse_only", || {
                    black_box(CertificateRef::parse(black_box(chain.leaf)).is_ok());
                }),
                webpki(),
            ],
        );
        report.compare(
            "3",
            &format!("subject extraction >= 5x faster than x509-parser ({leaf} leaf)"),
            Target::FasterAtLeast(5.0),
            &mut [map(), x509_parser()],
        );
        report.compare(
            "3",
            &format!(
                "subject extraction without the credential id's SHA-256 >= 5x faster than \
                 x509-parser ({leaf} leaf; map_subject - sha256_of_leaf)"
            ),
            Target::WithoutSecondFasterAtLeast(5.0),
            &mut [map(), sha(), x509_parser()],
        );
    }
}
