//! The header kube-apiserver writes on every service-account token a key signs, kept per
//! configured key in its base64url form.
//!
//! kube-apiserver's signer (go-jose, which marshals the header as a map, so its members
//! come sorted) writes `{"alg":"RS256","kid":"<kid>"}`: these two members, in this order, no
//! whitespace, the same text for every token of a key. A token
//! whose header segment is exactly one of the texts kept here decodes to that JSON, which
//! parses to that algorithm and kid and nothing else; so the service-account authenticator
//! takes the two from here instead of decoding and parsing the same header for every token
//! (about a tenth of a token's non-signature work). Any other header, including the same
//! members in another order or with other spellings, goes the whole way. This keeps the
//! result of parsing, nothing about the keys: a key source whose keys change later only
//! misses here, it cannot be answered wrongly. The segment is compared with `==`: a
//! header is not secret (its `alg` and `kid` name a public key).

use base64ct::{Base64UrlUnpadded, Encoding};

use super::{Algorithm, KeySource};
use crate::crypto::PublicKey;

/// How many keys' headers are kept; tokens of further keys go the whole way.
pub(crate) const CANONICAL_HEADERS: usize = 4;
/// Longest `kid` kept (Kubernetes key ids are 43 bytes).
const MAX_KID: usize = 64;
/// `{"alg":"ES512","kid":""}` with the longest kid.
const MAX_JSON: usize = 24 + MAX_KID;
/// Its base64url length, unpadded.
const MAX_B64: usize = (MAX_JSON * 4).div_ceil(3);

#[derive(Clone)]
struct Entry {
    b64: heapless::Vec<u8, MAX_B64>,
    alg: Algorithm,
    kid: heapless::String<MAX_KID>,
}

/// The canonical header segments of the first [`CANONICAL_HEADERS`] keys that have a `kid`.
#[derive(Clone)]
pub(crate) struct CanonicalHeaders {
    entries: heapless::Vec<Entry, CANONICAL_HEADERS>,
}

impl core::fmt::Debug for CanonicalHeaders {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| (e.alg, e.kid.as_str())))
            .finish()
    }
}

/// The `alg` kube-apiserver signs with for `key`: the JWK's `alg` when it names one, else
/// RS256 for RSA keys and ES256, ES384 or ES512 for the curves.
fn signing_alg(key: &PublicKey<'_>, jwk_alg: Option<Algorithm>) -> Algorithm {
    jwk_alg.unwrap_or(match key {
        PublicKey::Rsa { .. } => Algorithm::RS256,
        PublicKey::EcP256(_) => Algorithm::ES256,
        PublicKey::EcP384(_) => Algorithm::ES384,
        PublicKey::EcP521(_) => Algorithm::ES512,
    })
}

/// The header segment for `alg` and `kid`, or `None` when the kid is too long or needs
/// escaping in JSON (such keys are not kept).
fn segment(alg: Algorithm, kid: &str) -> Option<heapless::Vec<u8, MAX_B64>> {
    if kid.len() > MAX_KID
        || !kid
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        return None;
    }
    let mut json: heapless::Vec<u8, MAX_JSON> = heapless::Vec::new();
    for part in [r#"{"alg":""#, alg.name(), r#"","kid":""#, kid, r#""}"#] {
        json.extend_from_slice(part.as_bytes()).ok()?;
    }
    let mut b64 = [0u8; MAX_B64];
    let text = Base64UrlUnpadded::encode(&json, &mut b64).ok()?;
    heapless::Vec::from_slice(text.as_bytes()).ok()
}

impl CanonicalHeaders {
    /// The headers of `keys` (the first [`CANONICAL_HEADERS`] with a kid that needs no
    /// escaping and is at most 64 bytes).
    pub(crate) fn for_keys<K: KeySource + ?Sized>(keys: &K) -> Self {
        let mut entries = heapless::Vec::new();
        for i in 0..keys.key_count() {
            let Some(key) = keys.key_at(i) else { continue };
            let Some(kid) = key.kid else { continue };
            let alg = signing_alg(&key.key, key.alg);
            let (Some(b64), Ok(kid)) = (segment(alg, kid), heapless::String::try_from(kid)) else {
                continue;
            };
            if entries.push(Entry { b64, alg, kid }).is_err() {
                break;
            }
        }
        CanonicalHeaders { entries }
    }

    /// The algorithm and kid of the header segment `h64`, when it is one of the kept texts.
    pub(crate) fn find(&self, h64: &[u8]) -> Option<(Algorithm, &str)> {
        self.entries
            .iter()
            .find(|e| e.b64.as_slice() == h64)
            .map(|e| (e.alg, e.kid.as_str()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;

    use super::*;
    use crate::Scratch;
    use crate::jose::{JwsHeader, KeyRef, base64url, parse_object};

    const N: [u8; 4] = [0xc5, 1, 2, 3];
    const P256: [u8; 3] = [4, 1, 2];

    fn rsa(kid: Option<&'static str>) -> KeyRef<'static> {
        KeyRef {
            kid,
            ..KeyRef::new(PublicKey::Rsa {
                modulus: &N,
                exponent: &[1, 0, 1],
            })
        }
    }

    /// What the whole path makes of a header segment.
    fn parsed(h64: &[u8]) -> (Algorithm, Option<std::string::String>) {
        let mut buf = [0u8; 1024];
        let mut scratch = Scratch::new(&mut buf);
        let bytes = base64url::decode(h64, &mut scratch).unwrap();
        let header = JwsHeader::from_json(parse_object(bytes, &mut scratch).unwrap()).unwrap();
        assert_eq!(header.json.len(), 2, "only alg and kid");
        assert!(header.typ.is_none() && header.cty.is_none());
        (header.alg, header.kid.map(std::string::String::from))
    }

    #[test]
    fn every_kept_segment_parses_to_its_alg_and_kid() {
        let kid43 = "lc7BRYGORP1tr5XX0gciUJZCzJu9fek8tjmL0FRZddo";
        let keys = [
            rsa(Some(kid43)),
            KeyRef {
                kid: Some("p-256 key/1 ~!@#$%^&*()"),
                ..KeyRef::new(PublicKey::EcP256(&P256))
            },
            KeyRef {
                kid: Some("x"),
                alg: Some(Algorithm::PS384),
                ..rsa(None)
            },
            KeyRef {
                kid: Some("k"),
                ..KeyRef::new(PublicKey::EcP521(&P256))
            },
        ];
        let kept = CanonicalHeaders::for_keys(&keys[..]);
        assert_eq!(kept.entries.len(), 4);
        let wanted = [
            (Algorithm::RS256, kid43),
            (Algorithm::ES256, "p-256 key/1 ~!@#$%^&*()"),
            (Algorithm::PS384, "x"),
            (Algorithm::ES512, "k"),
        ];
        for (e, (alg, kid)) in kept.entries.iter().zip(wanted) {
            assert_eq!((e.alg, e.kid.as_str()), (alg, kid));
            assert_eq!(parsed(&e.b64), (alg, Some(kid.into())));
            assert_eq!(kept.find(&e.b64), Some((alg, kid)));
        }
        // The fixture token's header, as kube-apiserver wrote it.
        let h64 = b"eyJhbGciOiJSUzI1NiIsImtpZCI6ImxjN0JSWUdPUlAxdHI1WFgwZ2NpVUpaQ3pKdTlmZWs4dGptTDBGUlpkZG8ifQ";
        assert_eq!(kept.find(h64), Some((Algorithm::RS256, kid43)));
    }

    #[test]
    fn other_spellings_of_the_same_header_are_not_found() {
        let kept = CanonicalHeaders::for_keys(&[rsa(Some("k1"))][..]);
        let enc = |json: &str| {
            let mut b = [0u8; 256];
            std::vec::Vec::from(
                Base64UrlUnpadded::encode(json.as_bytes(), &mut b)
                    .unwrap()
                    .as_bytes(),
            )
        };
        assert!(kept.find(&enc(r#"{"alg":"RS256","kid":"k1"}"#)).is_some());
        for other in [
            r#"{"kid":"k1","alg":"RS256"}"#,
            r#"{"alg":"RS256", "kid":"k1"}"#,
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            r#"{"alg":"RS256","kid":"k\u0031"}"#,
            r#"{"alg":"RS384","kid":"k1"}"#,
            r#"{"alg":"RS256","kid":"k2"}"#,
            r#"{"alg":"RS256"}"#,
        ] {
            assert_eq!(kept.find(&enc(other)), None, "{other}");
        }
        assert_eq!(kept.find(b""), None);
    }

    #[test]
    fn keys_without_a_plain_short_kid_are_not_kept_and_the_rest_are_capped() {
        let long: &'static str = std::boxed::Box::leak("k".repeat(MAX_KID + 1).into_boxed_str());
        let at_limit: &'static str = std::boxed::Box::leak("k".repeat(MAX_KID).into_boxed_str());
        let keys = [
            rsa(None),
            rsa(Some("quote\"")),
            rsa(Some("back\\slash")),
            rsa(Some("tab\t")),
            rsa(Some("é")),
            rsa(Some(long)),
            rsa(Some(at_limit)),
        ];
        let kept = CanonicalHeaders::for_keys(&keys[..]);
        assert_eq!(kept.entries.len(), 1);
        assert_eq!(
            parsed(&kept.entries[0].b64),
            (Algorithm::RS256, Some(at_limit.into()))
        );
        let many = [
            rsa(Some("a")),
            rsa(Some("b")),
            rsa(Some("c")),
            rsa(Some("d")),
            rsa(Some("e")),
        ];
        let kept = CanonicalHeaders::for_keys(&many[..]);
        assert_eq!(kept.entries.len(), CANONICAL_HEADERS);
        assert!(kept.entries.iter().all(|e| e.kid.as_str() != "e"));
    }
}
