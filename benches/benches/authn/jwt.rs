//! JWT verification (issue 4 item 8): the same RS256-2048, RS256-4096 and ES256 bound
//! service-account tokens (`benches/data`) verified by kauthn and by jsonwebtoken (both of its
//! crypto providers), jwt-simple and jwt-compact, in the same run.
//!
//! Every row does the same job: split and decode the token, check the header `alg`, verify
//! the signature with a key loaded once at start-up, read the claims and check `iss`, `aud`
//! and `exp` (and read `sub`). The peers deserialise the claims into owned structs, as their
//! APIs require; kauthn reads them in place.
//!
//! kauthn rows (see [`kauthn_cases`]):
//! * `kauthn`: `jose::verify_jws` with an `OwnedKeySet` (which prepares each key once) and
//!   `crypto::RustCrypto`;
//! * `kauthn_unprepared`: the same keys as a plain `[KeyRef]` slice, so the backend checks
//!   and converts the key on every call;
//! * `kauthn_service_account`: the complete bound service-account authentication
//!   (`ServiceAccountAuthenticator::authenticate_token_into`: parse, verify, every claim
//!   check, the user with its groups and extras built into the caller's `Response`), the
//!   row issue 4 judges;
//! * `kauthn_oidc`: the same token through an OIDC `JwtAuthenticator` (issuer and client id
//!   the token's `iss` and `aud`, user from `sub`), the keys given as its JWKS;
//! * `kauthn_aws_lc`, `kauthn_service_account_aws_lc` and `kauthn_oidc_aws_lc`: the same
//!   with the `AwsLc` backend (issue 8);
//! * group `jwt_non_signature`: everything but the signature math, with a verifier that does
//!   nothing (`noop`) or only hashes the signing input (`sha256`), for `verify_jws` plus the
//!   claim checks and for the whole service-account authentication
//!   (`service_account_sha256`).
//!
//! * `aws_lc_signature_only`: no JWT at all: aws-lc-rs verifying the token's signature over
//!   its signing input with a key parsed once (`ParsedPublicKey`), the token split and the
//!   signature decoded before the timing. Every aws-lc-based row (kauthn's `*_aws_lc` and
//!   `jsonwebtoken_aws_lc_rs`) does at least this, so it is the floor of the issue 8 ratios;
//!   for ES256 kauthn does a little less of it (the fixed signature is encoded as DER on the
//!   stack and verified with the DER algorithm, where this row's `ECDSA_P256_SHA256_FIXED`
//!   converts it through heap `BIGNUM`s on each call).
//!
//! jwt-simple is built with its `pure-rust` feature (superboring over the `rsa` 0.9 and
//! `p256` crates): its default `boring` backend needs cmake and Go for BoringSSL.

use core::hint::black_box;
use core::sync::atomic::{AtomicBool, Ordering};
use std::borrow::Cow;
use std::sync::OnceLock;

use crate::Criterion;
use base64ct::{Base64UrlUnpadded, Encoding as _};
use kauthn::crypto::{PublicKey, RustCrypto, SignatureAlgorithm, SignatureError, Verifier};
use kauthn::jose::{AlgorithmSet, JsonObject, KeyRef, KeySource, OwnedKeySet, verify_jws};
use kauthn::{
    AwsLc, Context, JwtAuthenticator, Response, Scratch, ServiceAccountAuthenticator,
    TokenAuthenticator, UnixTime, Verdict,
};
use kauthn_benches::{HashOnly, data};

use crate::paired::{Report, Row, Target};
use serde::Deserialize;

/// Which signature a fixture carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Alg {
    Rs256,
    Es256,
}

struct Fixture {
    name: &'static str,
    alg: Alg,
    token: &'static [u8],
    pem: &'static [u8],
}

const FIXTURES: [Fixture; 3] = [
    Fixture {
        name: "rs256_2048",
        alg: Alg::Rs256,
        token: data::SA_RS256_2048_JWT,
        pem: data::SA_RS256_2048_PUB,
    },
    Fixture {
        name: "rs256_4096",
        alg: Alg::Rs256,
        token: data::SA_RS256_4096_JWT,
        pem: data::SA_RS256_4096_PUB,
    },
    Fixture {
        name: "es256",
        alg: Alg::Es256,
        token: data::SA_ES256_JWT,
        pem: data::SA_ES256_PUB,
    },
];

/// Scratch for one verification: decoded header, payload and signature fit in the token's
/// length; the rest is room for unescaped strings.
const SCRATCH_LEN: usize = 4096;

// --- kauthn ----------------------------------------------------------------------------

/// The claim checks every row makes: `iss` and `aud` are the expected issuer, `exp` is after
/// the clock, `sub` is present.
fn claims_ok(claims: &JsonObject<'_>) -> bool {
    let (Ok(Some(iss)), Ok(Some(sub)), Ok(Some(aud)), Ok(Some(exp))) = (
        claims.get_str("iss"),
        claims.get_str("sub"),
        claims.get_audiences(),
        claims.get_numeric_date("exp"),
    ) else {
        return false;
    };
    iss == data::SA_ISSUER
        && !sub.is_empty()
        && aud.contains(data::SA_ISSUER)
        && exp.as_secs() > data::NOW
}

/// `verify_jws` plus the claim checks, with the service-account algorithm allow-list.
fn kauthn_verify<K, V>(token: &[u8], keys: &K, verifier: &V, buf: &mut [u8]) -> bool
where
    K: KeySource + ?Sized,
    V: Verifier + ?Sized,
{
    let mut scratch = Scratch::new(buf);
    verify_jws(
        token,
        keys,
        AlgorithmSet::SERVICE_ACCOUNT,
        verifier,
        &mut scratch,
    )
    .is_ok_and(|v| claims_ok(&v.claims))
}

/// The bound service-account authenticator of the fixtures' issuer over `keys`, with
/// `verifier`; `--api-audiences` defaults to the issuer, as in kube-apiserver.
fn service_account<V: Verifier>(
    keys: &OwnedKeySet,
    verifier: V,
) -> ServiceAccountAuthenticator<OwnedKeySet, &'static str, kauthn::NoLookup, V> {
    ServiceAccountAuthenticator::bound([data::SA_ISSUER], [data::SA_ISSUER], keys.clone())
        .unwrap()
        .with_verifier(verifier)
}

/// An OIDC authenticator (`--oidc-issuer-url` = the fixtures' issuer, `--oidc-client-id` = its
/// audience, user from `sub`, no prefix) over the same keys as a JWKS, with `verifier`.
fn oidc<V: Verifier>(
    keys: &OwnedKeySet,
    verifier: V,
) -> JwtAuthenticator<OwnedKeySet, &'static str, V> {
    JwtAuthenticator::new(data::SA_ISSUER, [data::SA_ISSUER], "sub", keys.clone())
        .unwrap()
        .with_verifier(verifier)
}

/// One complete token authentication (service account or OIDC). The `Response` (about
/// 6 KiB, zeroed) is made per call, as a server does per request; that is part of the
/// row's time.
fn authenticate<A: TokenAuthenticator>(sa: &A, token: &[u8], buf: &mut [u8]) -> bool {
    let ctx = Context::at(UnixTime::from_secs(data::NOW));
    let mut scratch = Scratch::new(buf);
    let mut out = Response::default();
    sa.authenticate_token_into(token, &ctx, &mut scratch, &mut out) == Verdict::Authenticated
        && out.user.name == data::SA_SUBJECT
}

/// A verifier that accepts every signature without looking at it: what remains is the cost
/// of everything but the signature math.
struct NoSignatureMath;

impl Verifier for NoSignatureMath {
    fn verify(
        &self,
        _: SignatureAlgorithm,
        _: &PublicKey<'_>,
        _: &[u8],
        _: &[u8],
    ) -> Result<(), SignatureError> {
        Ok(())
    }
}

/// One way kauthn handles a token, measured in every JWT group.
type KauthnCase<'k> = (&'static str, Box<dyn Fn(&[u8], &mut [u8]) -> bool + 'k>);

/// The kauthn rows of a JWT group (see the module docs).
fn kauthn_cases<'k>(keys: &'k OwnedKeySet, unprepared: &'k [KeyRef<'k>]) -> Vec<KauthnCase<'k>> {
    let sa = service_account(keys, RustCrypto);
    let sa_aws = service_account(keys, AwsLc);
    let oidc_rc = oidc(keys, RustCrypto);
    let oidc_aws = oidc(keys, AwsLc);
    vec![
        (
            "kauthn",
            Box::new(move |t, buf| kauthn_verify(t, keys, &RustCrypto, buf)),
        ),
        (
            "kauthn_unprepared",
            Box::new(move |t, buf| kauthn_verify(t, unprepared, &RustCrypto, buf)),
        ),
        (
            "kauthn_service_account",
            Box::new(move |t, buf| authenticate(&sa, t, buf)),
        ),
        (
            "kauthn_aws_lc",
            Box::new(move |t, buf| kauthn_verify(t, keys, &AwsLc, buf)),
        ),
        (
            "kauthn_service_account_aws_lc",
            Box::new(move |t, buf| authenticate(&sa_aws, t, buf)),
        ),
        (
            "kauthn_oidc",
            Box::new(move |t, buf| authenticate(&oidc_rc, t, buf)),
        ),
        (
            "kauthn_oidc_aws_lc",
            Box::new(move |t, buf| authenticate(&oidc_aws, t, buf)),
        ),
    ]
}

/// The keys of `set` as a plain slice, which carries no prepared keys.
fn key_refs(set: &OwnedKeySet) -> Vec<KeyRef<'_>> {
    (0..set.key_count()).filter_map(|i| set.key_at(i)).collect()
}

fn kauthn_keys(pem: &[u8]) -> OwnedKeySet {
    let mut keys = OwnedKeySet::new();
    keys.add_pem(pem).unwrap();
    keys
}

// --- peers -----------------------------------------------------------------------------

/// The claims the peers deserialise.
#[derive(Deserialize)]
#[allow(dead_code)] // read by serde; the values are what a caller would use
struct SaClaims {
    iss: String,
    sub: String,
    aud: Vec<String>,
    exp: i64,
}

/// jsonwebtoken chooses its crypto provider once per process. To measure both in one run,
/// the bench installs a provider whose verifier factory calls rust_crypto's or aws-lc-rs's
/// own factory as [`JSONWEBTOKEN_AWS`] says (one relaxed atomic load per token).
static JSONWEBTOKEN_AWS: AtomicBool = AtomicBool::new(false);

fn switching_verifier(
    alg: &jsonwebtoken::Algorithm,
    key: &jsonwebtoken::DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn jsonwebtoken::crypto::JwtVerifier>> {
    use jsonwebtoken::crypto::{aws_lc, rust_crypto};
    if JSONWEBTOKEN_AWS.load(Ordering::Relaxed) {
        (aws_lc::DEFAULT_PROVIDER.verifier_factory)(alg, key)
    } else {
        (rust_crypto::DEFAULT_PROVIDER.verifier_factory)(alg, key)
    }
}

fn install_jsonwebtoken_provider() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let provider = jsonwebtoken::crypto::CryptoProvider {
            verifier_factory: switching_verifier,
            ..jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.clone()
        };
        Box::leak(Box::new(provider)).install_default().unwrap();
    });
}

struct JsonWebToken {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

impl JsonWebToken {
    fn new(fx: &Fixture) -> Self {
        install_jsonwebtoken_provider();
        let (key, alg) = match fx.alg {
            Alg::Rs256 => (
                jsonwebtoken::DecodingKey::from_rsa_pem(fx.pem).unwrap(),
                jsonwebtoken::Algorithm::RS256,
            ),
            Alg::Es256 => (
                jsonwebtoken::DecodingKey::from_ec_pem(fx.pem).unwrap(),
                jsonwebtoken::Algorithm::ES256,
            ),
        };
        let mut validation = jsonwebtoken::Validation::new(alg);
        validation.set_issuer(&[data::SA_ISSUER]);
        validation.set_audience(&[data::SA_ISSUER]);
        JsonWebToken { key, validation }
    }

    fn verify(&self, token: &[u8]) -> bool {
        jsonwebtoken::decode::<SaClaims>(token, &self.key, &self.validation).is_ok()
    }
}

#[allow(clippy::large_enum_variant)] // one per fixture, built once
enum JwtSimpleKey {
    Rs256(jwt_simple::prelude::RS256PublicKey),
    Es256(jwt_simple::prelude::ES256PublicKey),
}

struct JwtSimple {
    key: JwtSimpleKey,
    options: jwt_simple::prelude::VerificationOptions,
}

impl JwtSimple {
    fn new(fx: &Fixture) -> Self {
        use jwt_simple::prelude::*;
        let pem = core::str::from_utf8(fx.pem).unwrap();
        let key = match fx.alg {
            Alg::Rs256 => JwtSimpleKey::Rs256(RS256PublicKey::from_pem(pem).unwrap()),
            Alg::Es256 => JwtSimpleKey::Es256(ES256PublicKey::from_pem(pem).unwrap()),
        };
        let options = VerificationOptions {
            allowed_issuers: Some(HashSet::from([data::SA_ISSUER.to_owned()])),
            allowed_audiences: Some(HashSet::from([data::SA_ISSUER.to_owned()])),
            ..VerificationOptions::default()
        };
        JwtSimple { key, options }
    }

    fn verify(&self, token: &str) -> bool {
        use jwt_simple::prelude::*;
        // The options are taken by value, so a caller clones its configured set per token.
        let options = Some(self.options.clone());
        let claims = match &self.key {
            JwtSimpleKey::Rs256(k) => k.verify_token::<NoCustomClaims>(token, options),
            JwtSimpleKey::Es256(k) => k.verify_token::<NoCustomClaims>(token, options),
        };
        claims.is_ok_and(|c| c.subject.is_some())
    }
}

/// jwt-compact's custom claims (its `Claims` holds the time claims).
#[derive(Deserialize)]
struct CompactClaims {
    iss: String,
    sub: String,
    aud: Vec<String>,
}

enum JwtCompact {
    Rs256(jwt_compact::alg::Rsa, jwt_compact::alg::RsaPublicKey),
    Es256(
        jwt_compact::alg::Es256,
        <jwt_compact::alg::Es256 as jwt_compact::Algorithm>::VerifyingKey,
    ),
}

impl JwtCompact {
    fn new(fx: &Fixture) -> Self {
        use jwt_compact::jwk::JsonWebKey;
        // The key's components, read with kauthn's PEM loader (jwt-compact takes JWKs).
        let keys = kauthn_keys(fx.pem);
        match keys.key_at(0).unwrap().key {
            PublicKey::Rsa { modulus, exponent } => {
                let jwk = JsonWebKey::Rsa {
                    modulus: Cow::Borrowed(modulus),
                    public_exponent: Cow::Borrowed(exponent),
                    private_parts: None,
                };
                let key = jwt_compact::alg::RsaPublicKey::try_from(&jwk).unwrap();
                JwtCompact::Rs256(jwt_compact::alg::Rsa::rs256(), key)
            }
            PublicKey::EcP256(point) => {
                let (x, y) = point[1..].split_at(32);
                let jwk = JsonWebKey::EllipticCurve {
                    curve: Cow::Borrowed("P-256"),
                    x: Cow::Borrowed(x),
                    y: Cow::Borrowed(y),
                    secret: None,
                };
                let key = TryFrom::try_from(&jwk).unwrap();
                JwtCompact::Es256(jwt_compact::alg::Es256, key)
            }
            _ => unreachable!("fixtures are RSA or P-256"),
        }
    }

    fn verify(&self, token: &str, time: &jwt_compact::TimeOptions) -> bool {
        use jwt_compact::{AlgorithmExt as _, Token, UntrustedToken};
        let Ok(untrusted) = UntrustedToken::new(token) else {
            return false;
        };
        let token: Result<Token<CompactClaims>, _> = match self {
            JwtCompact::Rs256(alg, key) => alg.validator(key).validate(&untrusted),
            JwtCompact::Es256(alg, key) => alg.validator(key).validate(&untrusted),
        };
        let Ok(token) = token else {
            return false;
        };
        let claims = token.claims();
        claims.validate_expiration(time).is_ok()
            && claims.custom.iss == data::SA_ISSUER
            && !claims.custom.sub.is_empty()
            && claims.custom.aud.iter().any(|a| a == data::SA_ISSUER)
    }
}

/// aws-lc-rs's signature verification alone (see the module docs).
struct AwsLcSignatureOnly {
    key: aws_lc_rs::signature::ParsedPublicKey,
    message: &'static [u8],
    signature: Vec<u8>,
}

impl AwsLcSignatureOnly {
    fn new(fx: &Fixture) -> Self {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
        };
        let pem = core::str::from_utf8(fx.pem).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let spki = base64ct::Base64::decode_vec(&b64).unwrap();
        let key = match fx.alg {
            Alg::Rs256 => ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki),
            Alg::Es256 => ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, spki),
        }
        .unwrap();
        let dot = fx.token.iter().rposition(|&b| b == b'.').unwrap();
        let (message, sig) = fx.token.split_at(dot);
        let signature =
            Base64UrlUnpadded::decode_vec(core::str::from_utf8(&sig[1..]).unwrap()).unwrap();
        let floor = AwsLcSignatureOnly {
            key,
            message,
            signature,
        };
        assert!(floor.verify(), "aws-lc-rs rejects the {} fixture", fx.name);
        floor
    }

    fn verify(&self) -> bool {
        self.key
            .verify_sig(black_box(self.message), black_box(&self.signature))
            .is_ok()
    }
}

// --- benches ---------------------------------------------------------------------------

pub(crate) fn verify(c: &mut Criterion) {
    for fx in &FIXTURES {
        let mut g = c.benchmark_group(format!("jwt_{}", fx.name));
        let keys = kauthn_keys(fx.pem);
        let unprepared = key_refs(&keys);
        let mut buf = vec![0u8; SCRATCH_LEN];
        for (name, case) in kauthn_cases(&keys, &unprepared) {
            g.bench_function(name, |b| {
                b.iter(|| black_box(case(black_box(fx.token), &mut buf)))
            });
        }
        let token = core::str::from_utf8(fx.token).unwrap();
        let jwt = JsonWebToken::new(fx);
        for (name, aws) in [
            ("jsonwebtoken_rust_crypto", false),
            ("jsonwebtoken_aws_lc_rs", true),
        ] {
            JSONWEBTOKEN_AWS.store(aws, Ordering::Relaxed);
            g.bench_function(name, |b| {
                b.iter(|| black_box(jwt.verify(black_box(fx.token))))
            });
        }
        JSONWEBTOKEN_AWS.store(false, Ordering::Relaxed);
        let floor = AwsLcSignatureOnly::new(fx);
        g.bench_function("aws_lc_signature_only", |b| {
            b.iter(|| black_box(floor.verify()))
        });
        let simple = JwtSimple::new(fx);
        g.bench_function("jwt-simple_pure_rust", |b| {
            b.iter(|| black_box(simple.verify(black_box(token))))
        });
        let compact = JwtCompact::new(fx);
        let time = jwt_compact::TimeOptions::default();
        g.bench_function("jwt-compact", |b| {
            b.iter(|| black_box(compact.verify(black_box(token), &time)))
        });
        g.finish();
    }
}

pub(crate) fn non_signature(c: &mut Criterion) {
    let mut g = c.benchmark_group("jwt_non_signature");
    for fx in &FIXTURES {
        let keys = kauthn_keys(fx.pem);
        let mut buf = vec![0u8; SCRATCH_LEN];
        g.bench_function(format!("{}_noop", fx.name), |b| {
            b.iter(|| {
                black_box(kauthn_verify(
                    black_box(fx.token),
                    &keys,
                    &NoSignatureMath,
                    &mut buf,
                ))
            })
        });
        g.bench_function(format!("{}_sha256", fx.name), |b| {
            b.iter(|| {
                black_box(kauthn_verify(
                    black_box(fx.token),
                    &keys,
                    &HashOnly,
                    &mut buf,
                ))
            })
        });
        let sa = service_account(&keys, HashOnly);
        g.bench_function(format!("{}_service_account_sha256", fx.name), |b| {
            b.iter(|| black_box(authenticate(&sa, black_box(fx.token), &mut buf)))
        });
        // The part of the above that is kauthn's constant-time decoding of the three segments
        // (the payload once: the service-account path decodes it only once). The token is
        // split before the timing: a byte-wise `split` cost more than the decoding itself.
        let segments: Vec<&[u8]> = fx.token.split(|c| *c == b'.').collect();
        g.bench_function(format!("{}_base64url_only", fx.name), |b| {
            b.iter(|| {
                let mut total = 0;
                let mut s = Scratch::new(&mut buf);
                for segment in black_box(&segments) {
                    total += kauthn::jose::decode_base64url(segment, &mut s).map_or(0, <[u8]>::len);
                }
                black_box(total)
            })
        });
        // The same with base64ct alone, which decodes one character at a time.
        g.bench_function(format!("{}_base64ct_only", fx.name), |b| {
            b.iter(|| {
                let mut total = 0;
                for segment in black_box(&segments) {
                    total += Base64UrlUnpadded::decode(segment, &mut buf).map_or(0, <[u8]>::len);
                }
                black_box(total)
            })
        });
    }
    g.finish();
}

/// Every row must accept its token: a bench of a failing path would measure an error.
pub(crate) fn check_fixtures() {
    for fx in &FIXTURES {
        let keys = kauthn_keys(fx.pem);
        let unprepared = key_refs(&keys);
        let mut buf = vec![0u8; SCRATCH_LEN];
        // A wrong signature must fail, or the kauthn rows would prove nothing.
        let mut forged = fx.token.to_vec();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        for (name, case) in kauthn_cases(&keys, &unprepared) {
            assert!(case(fx.token, &mut buf), "{name} rejects {}", fx.name);
            assert!(!case(&forged, &mut buf), "{name} accepts a forgery");
        }
        assert!(kauthn_verify(fx.token, &keys, &NoSignatureMath, &mut buf));
        assert!(kauthn_verify(fx.token, &keys, &HashOnly, &mut buf));
        let sa = service_account(&keys, HashOnly);
        assert!(authenticate(&sa, fx.token, &mut buf));
        let jwt = JsonWebToken::new(fx);
        for aws in [false, true] {
            JSONWEBTOKEN_AWS.store(aws, Ordering::Relaxed);
            assert!(
                jwt.verify(fx.token),
                "jsonwebtoken (aws: {aws}) rejects {}",
                fx.name
            );
            assert!(
                !jwt.verify(&forged),
                "jsonwebtoken (aws: {aws}) accepts a forgery"
            );
        }
        JSONWEBTOKEN_AWS.store(false, Ordering::Relaxed);
        let token = core::str::from_utf8(fx.token).unwrap();
        let forged = core::str::from_utf8(&forged).unwrap();
        let simple = JwtSimple::new(fx);
        assert!(simple.verify(token), "jwt-simple rejects {}", fx.name);
        assert!(!simple.verify(forged), "jwt-simple accepts a forgery");
        let compact = JwtCompact::new(fx);
        let time = jwt_compact::TimeOptions::default();
        assert!(
            compact.verify(token, &time),
            "jwt-compact rejects {}",
            fx.name
        );
        assert!(
            !compact.verify(forged, &time),
            "jwt-compact accepts a forgery"
        );
    }
}

/// The JWT ratios of issues 4 and 8, measured in turns (see `paired.rs`). The fastest peer
/// of every JWT group in every criterion run is jsonwebtoken with aws-lc-rs, by 3x or more,
/// so the AwsLc rows are paired with it.
pub(crate) fn paired(report: &mut Report) {
    for fx in &FIXTURES {
        let keys = kauthn_keys(fx.pem);
        let unprepared = key_refs(&keys);
        let jwt = JsonWebToken::new(fx);
        let floor = AwsLcSignatureOnly::new(fx);
        let case = |wanted: &str| {
            kauthn_cases(&keys, &unprepared)
                .into_iter()
                .find(|(name, _)| *name == wanted)
                .map(|(_, c)| c)
                .unwrap()
        };
        let kauthn_row = |name: &'static str| {
            let c = case(name);
            let mut buf = vec![0u8; SCRATCH_LEN];
            Row::new(name, move || {
                black_box(c(black_box(fx.token), &mut buf));
            })
        };
        let jwt = &jwt;
        let peer = |aws: bool| {
            let name = if aws {
                "jsonwebtoken_aws_lc_rs"
            } else {
                "jsonwebtoken_rust_crypto"
            };
            Row::new(name, move || {
                JSONWEBTOKEN_AWS.store(aws, Ordering::Relaxed);
                black_box(jwt.verify(black_box(fx.token)));
            })
        };
        let label = fx.name.to_uppercase().replace('_', "-");
        for (row, path) in [
            ("kauthn_service_account_aws_lc", "service_account"),
            ("kauthn_oidc_aws_lc", "oidc"),
        ] {
            report.compare(
                "8",
                &format!("AwsLc: {path} {label} <= 0.9x the fastest peer"),
                Target::RatioAtMost(0.9),
                &mut [kauthn_row(row), peer(true)],
            );
        }
        report.compare(
            "8",
            &format!(
                "(floor) aws-lc-rs verifying the {label} signature alone, against the fastest peer"
            ),
            Target::Info,
            &mut [
                Row::new("aws_lc_signature_only", || {
                    black_box(floor.verify());
                }),
                peer(true),
            ],
        );
        let (issue, what, limit) = match fx.alg {
            Alg::Rs256 => ("4, 8", "<= 0.6x", 0.6),
            Alg::Es256 => ("4", "no slower than", 1.0),
        };
        report.compare(
            issue,
            &format!("service-account {label} {what} jsonwebtoken[rust_crypto]"),
            Target::RatioAtMost(limit),
            &mut [kauthn_row("kauthn_service_account"), peer(false)],
        );
        JSONWEBTOKEN_AWS.store(false, Ordering::Relaxed);
        // The `jwt_non_signature/*_service_account_sha256` row: the whole service-account
        // authentication with a verifier that only hashes the signing input.
        let sa = service_account(&keys, HashOnly);
        let mut buf = vec![0u8; SCRATCH_LEN];
        report.compare(
            "4",
            &format!(
                "non-signature work <= 2.5 µs (service account, {label} token, SHA-256 included)"
            ),
            Target::TimeAtMost(2500.0),
            &mut [
                Row::new("service_account_sha256", || {
                    black_box(authenticate(&sa, black_box(fx.token), &mut buf));
                }),
                crate::paired::core_probe(),
            ],
        );
    }
}
