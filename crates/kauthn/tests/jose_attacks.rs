//! Named tests for the attack catalogue's J- and A- entries (and the JOSE side of C-3/C-5):
//! each builds a hostile token or key and checks the verdict class.
#![allow(clippy::std_instead_of_core)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "jose_common/mod.rs"]
mod common;

use base64ct::{Base64UrlUnpadded, Encoding};
use common::AcceptAll;
use kauthn::RustCrypto;
use kauthn::Scratch;
use kauthn::jose::{
    AlgorithmSet, ClaimError, JoseError, JoseLimit, JsonType, KeyRef, KeySet, Malformed,
    Unsupported, VerifiedJws, parse_object, verify_jws,
};
use p256::ecdsa::signature::Signer;

const EC_D: &str = "yy49oPcINGK2ps0LmtxpB6UTEOiITghHBif6wDqmJ3c"; // Wycheproof es256 key
const EC_X: &str = "04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY";
const EC_Y: &str = "UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw";

fn b64(b: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(b)
}

fn sign_es256(header: &str, payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload));
    let sk =
        p256::ecdsa::SigningKey::from_slice(&Base64UrlUnpadded::decode_vec(EC_D).unwrap()).unwrap();
    let sig: p256::ecdsa::Signature = sk.sign(input.as_bytes());
    format!("{input}.{}", b64(&sig.to_bytes()))
}

fn ec_jwks(extra: &str) -> String {
    format!(r#"{{"kty":"EC","crv":"P-256","x":"{EC_X}","y":"{EC_Y}"{extra}}}"#)
}

/// Verifies `token` against `jwks` and hands the result to `f` (the scratch must outlive it).
fn check<R>(
    jwks: &str,
    token: &str,
    algs: AlgorithmSet,
    f: impl FnOnce(Result<VerifiedJws<'_>, JoseError>) -> R,
) -> R {
    let mut buf = vec![0u8; 512 * 1024];
    let mut scratch = Scratch::new(&mut buf);
    let mut set = KeySet::<8>::new();
    set.add_jwks(jwks.as_bytes(), &mut scratch).unwrap();
    f(verify_jws(
        token.as_bytes(),
        &set,
        algs,
        &RustCrypto,
        &mut scratch,
    ))
}

fn verdict(jwks: &str, token: &str) -> Result<(), JoseError> {
    check(jwks, token, AlgorithmSet::ALL, |r| r.map(|_| ()))
}

const ES256: &str = r#"{"alg":"ES256"}"#;
const CLAIMS: &[u8] = br#"{"iss":"https://issuer.example","sub":"alice","exp":1700000000}"#;

#[test]
fn a_valid_es256_token_verifies_and_exposes_claims() {
    let token = sign_es256(r#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#, CLAIMS);
    check(&ec_jwks(r#","kid":"k1""#), &token, AlgorithmSet::ALL, |r| {
        let v = r.unwrap();
        assert_eq!(v.header.kid, Some("k1"));
        assert_eq!(v.header.typ, Some("JWT"));
        assert_eq!(v.claims.get_str("iss"), Ok(Some("https://issuer.example")));
        assert_eq!(
            v.claims.get_numeric_date("exp").unwrap().unwrap().as_secs(),
            1_700_000_000
        );
    });
}

// ---- J: structure and encoding --------------------------------------------------------

#[test]
fn wrong_segment_counts_are_malformed() {
    let good = sign_es256(ES256, CLAIMS);
    let parts: Vec<&str> = good.split('.').collect();
    for t in [
        String::new(),
        parts[0].to_string(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.x"),
        format!(".{}.{}", parts[1], parts[2]),
        "..".to_string(),
    ] {
        assert_eq!(
            verdict(&ec_jwks(""), &t),
            Err(JoseError::Malformed(Malformed::Segments)),
            "{t:?}"
        );
    }
}

#[test]
fn five_segments_are_a_jwe_and_unsupported() {
    assert_eq!(
        verdict(&ec_jwks(""), "a.b.c.d.e"),
        Err(JoseError::Unsupported(Unsupported::Jwe))
    );
    let enc = sign_es256(r#"{"alg":"ES256","enc":"A128GCM"}"#, CLAIMS);
    assert_eq!(
        verdict(&ec_jwks(""), &enc),
        Err(JoseError::Unsupported(Unsupported::Jwe))
    );
}

#[test]
fn empty_or_truncated_signature_is_a_bad_signature() {
    let good = sign_es256(ES256, CLAIMS);
    let (input, sig) = good.rsplit_once('.').unwrap();
    assert_eq!(
        verdict(&ec_jwks(""), &format!("{input}.")),
        Err(JoseError::BadSignature)
    );
    let sig = Base64UrlUnpadded::decode_vec(sig).unwrap();
    let truncated = format!("{input}.{}", b64(&sig[..63]));
    assert_eq!(
        verdict(&ec_jwks(""), &truncated),
        Err(JoseError::BadSignature)
    );
    // A DER-encoded ECDSA signature is not the JWS form (RFC 7518 §3.4).
    let der = p256::ecdsa::Signature::from_slice(&sig).unwrap().to_der();
    assert_eq!(
        verdict(&ec_jwks(""), &format!("{input}.{}", b64(der.as_bytes()))),
        Err(JoseError::BadSignature)
    );
}

#[test]
fn non_canonical_base64url_is_malformed() {
    let good = sign_es256(ES256, CLAIMS);
    let (h, rest) = good.split_once('.').unwrap();
    let base64 = Err(JoseError::Malformed(Malformed::Base64));
    assert_eq!(verdict(&ec_jwks(""), &format!("{h}=.{rest}")), base64);
    assert_eq!(verdict(&ec_jwks(""), &format!("{h} .{rest}")), base64);
    assert_eq!(
        verdict(&ec_jwks(""), &format!("{}.{rest}", h.replace('J', "+"))),
        base64
    );
    // A 16-byte header leaves 4 unused bits in its last character; setting one of them
    // changes the text but not the decoded bytes — a second spelling, which must be refused.
    let t = sign_es256("{\"alg\":\"ES256\"} ", CLAIMS);
    let (h, rest) = t.split_once('.').unwrap();
    assert_eq!(h.len() % 4, 2);
    assert_eq!(verdict(&ec_jwks(""), &t), Ok(()));
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = ALPHABET.find(h.chars().last().unwrap()).unwrap();
    let tweaked = format!("{}{}", &h[..h.len() - 1], &ALPHABET[last + 1..last + 2]);
    assert_eq!(verdict(&ec_jwks(""), &format!("{tweaked}.{rest}")), base64);
}

fn token_with_header_bytes(header: &[u8]) -> String {
    format!("{}.{}.AAAA", b64(header), b64(CLAIMS))
}

#[test]
fn non_utf8_and_bom_json_are_malformed() {
    let v = |h: &[u8]| verdict(&ec_jwks(""), &token_with_header_bytes(h));
    assert_eq!(
        v(b"{\"alg\":\"ES256\",\"x\":\"\xff\"}"),
        Err(JoseError::Malformed(Malformed::Utf8))
    );
    assert_eq!(
        v(b"\xef\xbb\xbf{\"alg\":\"ES256\"}"),
        Err(JoseError::Malformed(Malformed::JsonSyntax))
    );
    // UTF-16 JSON is not UTF-8 JSON.
    assert!(v(b"{\0\"\0a\0l\0g\0\"\0:\0\"\0E\0S\x002\x005\x006\0\"\0}\0").is_err());
}

#[test]
fn non_object_json_or_trailing_data_is_malformed() {
    let v = |h: &str| verdict(&ec_jwks(""), &token_with_header_bytes(h.as_bytes()));
    for h in [r#"["ES256"]"#, r#""ES256""#, "1", "null"] {
        assert_eq!(
            v(h),
            Err(JoseError::Malformed(Malformed::NotAnObject)),
            "{h}"
        );
    }
    for h in [
        r#"{"alg":"ES256"}x"#,
        r#"{"alg":"ES256"}{}"#,
        r#"{"alg":"ES256"/*c*/}"#,
        r#"{"alg":"ES256",}"#,
        "{'alg':'ES256'}",
    ] {
        assert_eq!(
            v(h),
            Err(JoseError::Malformed(Malformed::JsonSyntax)),
            "{h}"
        );
    }
}

#[test]
fn duplicate_alg_member_is_malformed() {
    let t = sign_es256(r#"{"alg":"ES256","alg":"none"}"#, CLAIMS);
    assert_eq!(
        verdict(&ec_jwks(""), &t),
        Err(JoseError::Malformed(Malformed::DuplicateMember))
    );
}

#[test]
fn escaped_duplicate_member_name_is_malformed() {
    let t = sign_es256(r#"{"alg":"ES256","\u0061lg":"ES256"}"#, CLAIMS);
    assert_eq!(
        verdict(&ec_jwks(""), &t),
        Err(JoseError::Malformed(Malformed::DuplicateMember))
    );
}

#[test]
fn duplicate_claim_is_malformed_after_the_signature_verifies() {
    let t = sign_es256(ES256, br#"{"sub":"alice","sub":"admin"}"#);
    assert_eq!(
        verdict(&ec_jwks(""), &t),
        Err(JoseError::Malformed(Malformed::DuplicateMember))
    );
}

#[test]
fn lone_surrogates_nul_and_bad_escapes_are_malformed() {
    for (claims, want) in [
        (r#"{"sub":"\ud800"}"#, Malformed::LoneSurrogate),
        (r#"{"sub":"\udc00x"}"#, Malformed::LoneSurrogate),
        (r#"{"sub":"\ud800\u0041"}"#, Malformed::LoneSurrogate),
        (r#"{"sub":"a\u0000b"}"#, Malformed::NulCharacter),
        (r#"{"sub":"\x41"}"#, Malformed::InvalidEscape),
        (r#"{"sub":"\u12G4"}"#, Malformed::InvalidEscape),
    ] {
        let t = sign_es256(ES256, claims.as_bytes());
        assert_eq!(
            verdict(&ec_jwks(""), &t),
            Err(JoseError::Malformed(want)),
            "{claims}"
        );
    }
    // A raw control character in a string is a syntax error (RFC 8259 §7).
    let t = sign_es256(ES256, b"{\"sub\":\"a\x01\"}");
    assert_eq!(
        verdict(&ec_jwks(""), &t),
        Err(JoseError::Malformed(Malformed::JsonSyntax))
    );
}

#[test]
fn whitespace_inside_the_header_json_is_accepted() {
    let t = sign_es256("{ \"alg\" :\t\"ES256\"\r\n}", CLAIMS);
    assert_eq!(verdict(&ec_jwks(""), &t), Ok(()));
}

#[test]
fn json_serialization_is_unsupported() {
    let t =
        r#"{"payload":"e30","signatures":[{"protected":"eyJhbGciOiJFUzI1NiJ9","signature":"AA"}]}"#;
    assert_eq!(
        verdict(&ec_jwks(""), t),
        Err(JoseError::Unsupported(Unsupported::JsonSerialization))
    );
    assert_eq!(
        verdict(&ec_jwks(""), &format!("  {t}")),
        Err(JoseError::Unsupported(Unsupported::JsonSerialization))
    );
}

#[test]
fn nested_jwt_is_unsupported() {
    for cty in ["JWT", "jwt"] {
        let t = sign_es256(&format!(r#"{{"alg":"ES256","cty":"{cty}"}}"#), CLAIMS);
        assert_eq!(
            verdict(&ec_jwks(""), &t),
            Err(JoseError::Unsupported(Unsupported::NestedJwt))
        );
    }
}

#[test]
fn crit_b64_and_zip_headers_are_unsupported() {
    for (h, want) in [
        (
            r#"{"alg":"ES256","crit":["exp"],"exp":1}"#,
            Unsupported::Critical,
        ),
        (r#"{"alg":"ES256","crit":[]}"#, Unsupported::Critical),
        (
            r#"{"alg":"ES256","b64":false,"crit":["b64"]}"#,
            Unsupported::Critical,
        ),
        (
            r#"{"alg":"ES256","b64":true}"#,
            Unsupported::UnencodedPayload,
        ),
        (r#"{"alg":"ES256","zip":"DEF"}"#, Unsupported::Compression),
    ] {
        let t = sign_es256(h, CLAIMS);
        assert_eq!(
            verdict(&ec_jwks(""), &t),
            Err(JoseError::Unsupported(want)),
            "{h}"
        );
    }
}

#[test]
fn typ_is_reported_and_an_absent_typ_passes() {
    let t = sign_es256(r#"{"alg":"ES256","typ":"at+jwt"}"#, CLAIMS);
    check(&ec_jwks(""), &t, AlgorithmSet::ALL, |r| {
        assert_eq!(r.unwrap().header.typ, Some("at+jwt"))
    });
    let t = sign_es256(ES256, CLAIMS);
    check(&ec_jwks(""), &t, AlgorithmSet::ALL, |r| {
        assert_eq!(r.unwrap().header.typ, None)
    });
}

#[test]
fn missing_or_non_string_alg_is_malformed() {
    let v = |h: &str| verdict(&ec_jwks(""), &token_with_header_bytes(h.as_bytes()));
    assert_eq!(
        v(r#"{"kid":"x"}"#),
        Err(JoseError::Malformed(Malformed::MissingAlg))
    );
    assert_eq!(
        v(r#"{"alg":256}"#),
        Err(JoseError::Malformed(Malformed::HeaderMember))
    );
    assert_eq!(
        v(r#"{"alg":null}"#),
        Err(JoseError::Malformed(Malformed::HeaderMember))
    );
}

// ---- A: algorithms and keys -----------------------------------------------------------

#[test]
fn alg_none_in_any_case_is_unsupported() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = format!(
            "{}.{}.",
            b64(format!(r#"{{"alg":"{alg}"}}"#).as_bytes()),
            b64(CLAIMS)
        );
        assert_eq!(
            verdict(&ec_jwks(""), &t),
            Err(JoseError::Unsupported(Unsupported::AlgNone)),
            "{alg}"
        );
        let with_sig = format!("{t}AAAA");
        assert_eq!(
            verdict(&ec_jwks(""), &with_sig),
            Err(JoseError::Unsupported(Unsupported::AlgNone))
        );
    }
}

#[test]
fn hs256_signed_with_the_public_key_bytes_is_unsupported() {
    // The classic confusion: HMAC keyed with the verifier's public key. There is no HMAC path.
    let t = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"HS256"}"#),
        b64(CLAIMS),
        b64(&[7u8; 32])
    );
    assert_eq!(
        verdict(&ec_jwks(""), &t),
        Err(JoseError::Unsupported(Unsupported::Hmac))
    );
}

#[test]
fn header_alg_that_does_not_fit_the_key_finds_no_matching_key() {
    let good = sign_es256(ES256, CLAIMS);
    let (_, rest) = good.split_once('.').unwrap();
    for alg in ["RS256", "PS256", "ES384", "ES512"] {
        let t = format!("{}.{rest}", b64(format!(r#"{{"alg":"{alg}"}}"#).as_bytes()));
        assert_eq!(
            verdict(&ec_jwks(""), &t),
            Err(JoseError::NoMatchingKey),
            "{alg}"
        );
    }
}

#[test]
fn algorithm_outside_the_allow_list_is_unsupported() {
    let t = sign_es256(ES256, CLAIMS);
    check(&ec_jwks(""), &t, AlgorithmSet::RS256_ONLY, |r| {
        assert_eq!(
            r.map(|_| ()),
            Err(JoseError::Unsupported(Unsupported::AlgorithmNotAllowed))
        );
    });
    for alg in ["EdDSA", "ES256K", "RS1", "rs256"] {
        let t = token_with_header_bytes(format!(r#"{{"alg":"{alg}"}}"#).as_bytes());
        assert_eq!(
            verdict(&ec_jwks(""), &t),
            Err(JoseError::Unsupported(Unsupported::UnknownAlgorithm))
        );
    }
}

#[test]
fn jwk_alg_conflicting_with_the_header_is_never_used() {
    // A key pinned to ES384 by its JWK alg cannot be on P-256 at all: rejected at load.
    let jwk = ec_jwks(r#","alg":"ES384""#);
    let mut buf = vec![0u8; 4096];
    let mut s = Scratch::new(&mut buf);
    let mut set = KeySet::<2>::new();
    assert!(set.add_jwks(jwk.as_bytes(), &mut s).is_err());
}

#[test]
fn kid_that_matches_no_key_is_an_error_without_fallback() {
    let t = sign_es256(r#"{"alg":"ES256","kid":"other"}"#, CLAIMS);
    // The only key would verify, but its kid differs: upstream's "no keys found".
    assert_eq!(
        verdict(&ec_jwks(r#","kid":"k1""#), &t),
        Err(JoseError::UnknownKid)
    );
    assert_eq!(
        JoseError::UnknownKid.to_string(),
        "invalid signature, no keys found"
    );
}

#[test]
fn token_without_kid_tries_each_key_of_a_fitting_type() {
    let other = r#"{"kty":"EC","crv":"P-256","kid":"a","x":"H6cuzP8XuD5wal6wf9M6xDljTOPLX2i8uIp_C_ASqiI","y":"BlHnikLV9PyEd6gl8k4T_3Wwoh6xd79XLoQTh2PAi1Y"}"#;
    let rsa = r#"{"kty":"RSA","kid":"r","n":"249XwEo9k4tM8fMxV7zxOhcrP-WvXn917koM5Qr2ZXs4vo26e4ytdlrV0bQ9SlcLpQVSYjIxNfhTZdDt-ecIzshKuv1gKIxbbLQMOuK1eA_4HALyEkFgmS_tleLJrhc65tKPMGD-pKQ_xhmzRuCG51RoiMgbQxaCyYxGfNLpLAZK9L0Tctv9a0mJmGIYnIOQM4kC1A1I1n3EsXMWmeJUj7OTh_AjjCnMnkgvKT2tpKxYQ59PgDgU8Ssc7RDSmSkLxnrv-OrN80j6xrw0OjEiB4Ycr0PqfzZcvy8efTtFQ_Jnc4Bp1zUtFXt7-QeevePtQ2EcyELXE0i63T1CujRMWw","e":"AQAB"}"#;
    let set = format!(r#"{{"keys":[{rsa},{other},{}]}}"#, ec_jwks(r#","kid":"b""#));
    let t = sign_es256(ES256, CLAIMS);
    check(&set, &t, AlgorithmSet::ALL, |r| {
        assert_eq!(r.unwrap().key_index, 2)
    });
    // No key of the right type: nothing is tried.
    let t = sign_es256(r#"{"alg":"ES256"}"#, CLAIMS);
    assert_eq!(
        verdict(&format!(r#"{{"keys":[{rsa}]}}"#), &t),
        Err(JoseError::NoMatchingKey)
    );
}

#[test]
fn kid_injection_is_a_plain_lookup() {
    let v = |h: &str| verdict(&ec_jwks(r#","kid":"k1""#), &sign_es256(h, CLAIMS));
    for kid in ["../../dev/null", "' OR 1=1 --", "k1\\u0000", "K1", "k1 "] {
        let h = format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#);
        assert!(
            matches!(v(&h), Err(JoseError::UnknownKid | JoseError::Malformed(_))),
            "{kid}"
        );
    }
    for kid in ["1", "null", "{}", "[\"k1\"]"] {
        let h = format!(r#"{{"alg":"ES256","kid":{kid}}}"#);
        assert_eq!(
            v(&h),
            Err(JoseError::Malformed(Malformed::HeaderMember)),
            "{kid}"
        );
    }
    let h = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, "k".repeat(10_0000));
    assert_eq!(v(&h), Err(JoseError::LimitExceeded(JoseLimit::TokenSize)));
    let h = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, "k".repeat(1000));
    assert_eq!(v(&h), Err(JoseError::LimitExceeded(JoseLimit::KidLength)));
}

#[test]
fn embedded_key_headers_are_never_used() {
    // The attacker signs with their own key and embeds it (jwk), points at it (jku/x5u) or
    // ships a certificate (x5c). Only configured keys count: the signature does not verify.
    let attacker = p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap();
    let pt = attacker.verifying_key().to_sec1_point(false);
    let (x, y) = (b64(&pt.as_bytes()[1..33]), b64(&pt.as_bytes()[33..]));
    for extra in [
        format!(r#""jwk":{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}"}}"#),
        r#""jku":"https://attacker.example/jwks""#.to_string(),
        r#""x5u":"https://attacker.example/cert""#.to_string(),
        r#""x5c":["MIIB"]"#.to_string(),
    ] {
        let header = format!(r#"{{"alg":"ES256",{extra}}}"#);
        let input = format!("{}.{}", b64(header.as_bytes()), b64(CLAIMS));
        let sig: p256::ecdsa::Signature = attacker.sign(input.as_bytes());
        let t = format!("{input}.{}", b64(&sig.to_bytes()));
        assert_eq!(
            verdict(&ec_jwks(""), &t),
            Err(JoseError::BadSignature),
            "{extra}"
        );
    }
}

#[test]
fn ecdsa_high_s_signature_is_accepted() {
    let good = sign_es256(ES256, CLAIMS);
    let (input, sig) = good.rsplit_once('.').unwrap();
    let sig =
        p256::ecdsa::Signature::from_slice(&Base64UrlUnpadded::decode_vec(sig).unwrap()).unwrap();
    let (r, s) = sig.split_scalars();
    let high = p256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
    let t = format!("{input}.{}", b64(&high.to_bytes()));
    assert_eq!(verdict(&ec_jwks(""), &t), Ok(()));
}

// ---- Limits ---------------------------------------------------------------------------

#[test]
fn deeply_nested_json_hits_the_depth_limit() {
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let t = sign_es256(ES256, deep.as_bytes());
    assert_eq!(
        verdict(&ec_jwks(""), &t),
        Err(JoseError::LimitExceeded(JoseLimit::JsonDepth))
    );
    let ok = format!("{{\"a\":{}1{}}}", "[".repeat(31), "]".repeat(31));
    assert_eq!(
        verdict(&ec_jwks(""), &sign_es256(ES256, ok.as_bytes())),
        Ok(())
    );
}

#[test]
fn huge_tokens_hit_the_size_limit_fast() {
    let dots = ".".repeat(1_000_000);
    let start = std::time::Instant::now();
    assert_eq!(
        verdict(&ec_jwks(""), &dots),
        Err(JoseError::LimitExceeded(JoseLimit::TokenSize))
    );
    assert!(start.elapsed().as_millis() < 500);
}

#[test]
fn too_many_members_hit_the_member_limit() {
    let members: Vec<String> = (0..300).map(|i| format!("\"m{i}\":1")).collect();
    let t = sign_es256(ES256, format!("{{{}}}", members.join(",")).as_bytes());
    assert_eq!(
        verdict(&ec_jwks(""), &t),
        Err(JoseError::LimitExceeded(JoseLimit::JsonMembers))
    );
}

#[test]
fn too_small_scratch_is_a_named_limit() {
    let t = sign_es256(ES256, CLAIMS);
    let jwk = ec_jwks("");
    let mut keybuf = vec![0u8; 4096];
    let mut ks = Scratch::new(&mut keybuf);
    let mut set = KeySet::<1>::new();
    set.add_jwks(jwk.as_bytes(), &mut ks).unwrap();
    let mut buf = [0u8; 40];
    let mut s = Scratch::new(&mut buf);
    let r = verify_jws(t.as_bytes(), &set, AlgorithmSet::ALL, &AcceptAll, &mut s).map(|_| ());
    assert_eq!(r, Err(JoseError::LimitExceeded(JoseLimit::Scratch)));
}

// ---- Claims views (C-3, C-5) -----------------------------------------------------------

fn claims<R>(json: &str, f: impl FnOnce(kauthn::jose::Claims<'_>) -> R) -> R {
    let mut buf = vec![0u8; 8192];
    let mut s = Scratch::new(&mut buf);
    f(parse_object(json.as_bytes(), &mut s).unwrap())
}

#[test]
fn numeric_date_attacks_are_errors_never_absent() {
    let range = Err(JoseError::Claim(ClaimError::NumericDateOutOfRange));
    for v in ["1e300", "9223372036854775808", "-1e300", "1E400"] {
        claims(&format!(r#"{{"exp":{v}}}"#), |c| {
            assert_eq!(
                c.get_numeric_date("exp").map(|d| d.map(|d| d.as_secs())),
                range,
                "{v}"
            )
        });
    }
    for (v, found) in [
        (r#""123""#, JsonType::String),
        ("true", JsonType::Bool),
        ("null", JsonType::Null),
        ("[1]", JsonType::Array),
        ("{}", JsonType::Object),
    ] {
        claims(&format!(r#"{{"exp":{v}}}"#), |c| {
            assert_eq!(
                c.get_numeric_date("exp").map(|_| ()),
                Err(JoseError::Claim(ClaimError::WrongType {
                    expected: JsonType::Number,
                    found
                })),
                "{v}"
            );
        });
    }
    for (v, secs) in [
        ("1.5", 1),
        ("-1", -1),
        ("-0", 0),
        ("1E3", 1000),
        ("1300819380.999", 1_300_819_380),
    ] {
        claims(&format!(r#"{{"exp":{v}}}"#), |c| {
            assert_eq!(
                c.get_numeric_date("exp").unwrap().unwrap().as_secs(),
                secs,
                "{v}"
            )
        });
    }
    claims("{}", |c| assert_eq!(c.get_numeric_date("exp"), Ok(None)));
}

#[test]
fn audiences_are_a_string_or_an_array_of_strings() {
    claims(r#"{"aud":"api"}"#, |c| {
        let a = c.get_audiences().unwrap().unwrap();
        assert!(a.is_single_string() && a.contains("api") && !a.contains("api "));
    });
    claims(r#"{"aud":["a","b"]}"#, |c| {
        assert_eq!(
            c.get_audiences()
                .unwrap()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            ["a", "b"]
        )
    });
    claims(r#"{"aud":[]}"#, |c| {
        assert!(c.get_audiences().unwrap().unwrap().is_empty())
    });
    claims(r#"{"aud":["a",1]}"#, |c| {
        assert_eq!(
            c.get_audiences().map(|_| ()),
            Err(JoseError::Claim(ClaimError::NonStringElement))
        )
    });
    claims(r#"{"aud":1}"#, |c| assert!(c.get_audiences().is_err()));
}

#[test]
fn bound_service_account_claims_read_naturally() {
    let json = r#"{"iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:ns:sa",
        "kubernetes.io":{"namespace":"ns","serviceaccount":{"name":"sa","uid":"u1"},
        "pod":{"name":"p","uid":"u2"},"warnafter":1700081020}}"#;
    claims(json, |c| {
        let k = c.get_object("kubernetes.io").unwrap().unwrap();
        assert_eq!(
            k.get_object("pod").unwrap().unwrap().get_str("name"),
            Ok(Some("p"))
        );
        assert_eq!(
            c.get_str_at(&["kubernetes.io", "serviceaccount", "uid"]),
            Ok(Some("u1"))
        );
        assert_eq!(c.get_str_at(&["kubernetes.io", "node", "name"]), Ok(None));
        assert_eq!(
            k.get_numeric_date("warnafter").unwrap().unwrap().as_secs(),
            1_700_081_020
        );
        let names: Vec<&str> = c.members().map(|(n, _)| n).collect();
        assert_eq!(names, ["iss", "sub", "kubernetes.io"]);
    });
}

#[test]
fn member_names_are_matched_exactly_unlike_go_encoding_json() {
    // Go's encoding/json would fill an `iss` field from either spelling (last wins: "y").
    claims(r#"{"ISS":"x","iss":"y"}"#, |c| {
        assert_eq!(c.get_str("iss"), Ok(Some("y")));
        assert_eq!(c.get_str("ISS"), Ok(Some("x")));
    });
}

#[test]
fn keys_from_a_slice_work_too() {
    let t = sign_es256(ES256, CLAIMS);
    let point = {
        let mut p = vec![4u8];
        p.extend(Base64UrlUnpadded::decode_vec(EC_X).unwrap());
        p.extend(Base64UrlUnpadded::decode_vec(EC_Y).unwrap());
        p
    };
    let keys = [KeyRef::new(kauthn::crypto::PublicKey::EcP256(&point))];
    let mut buf = vec![0u8; 4096];
    let mut s = Scratch::new(&mut buf);
    assert!(
        verify_jws(
            t.as_bytes(),
            &keys[..],
            AlgorithmSet::ALL,
            &RustCrypto,
            &mut s
        )
        .is_ok()
    );
}
