//! JWS compact serialization (RFC 7515 §3.1, §5.2, §7.1) and signature verification through
//! [`crate::crypto::Verifier`].
//!
//! Order of work, cheapest and least trusting first:
//! 1. size ([`MAX_TOKEN_LEN`](super::MAX_TOKEN_LEN)) and shape: exactly three segments
//!    (five is a JWE, `{` is the JSON serialization), counted without allocating;
//! 2. the protected header: strict base64url, then the JSON reader; `alg` must be one of
//!    the nine public-key algorithms, `crit`/`b64`/`zip`/`enc`/`cty: JWT` are refused, and
//!    key-carrying headers (`jwk`, `jku`, `x5c`, `x5u`) are ignored — never used as keys
//!    (RFC 8725 §3.10, CVE-2018-0114);
//! 3. the allow-list, key selection by `kid` (a named `kid` that matches no key is an error,
//!    never a fallback), and the signature over the encoded `header.payload` bytes;
//! 4. only then the payload is decoded and, for [`verify_jws`], read as a JSON object.

use super::alg::{Algorithm, AlgorithmSet};
use super::error::{JoseError, JoseLimit, KeyProblem, Malformed, Unsupported};
use super::json::{JsonObject, JsonValue, parse_object};
use super::key::{KeyRef, KeySource};
use super::{MAX_KID_LEN, MAX_TOKEN_LEN};
use super::{base64url, bytemask};
use crate::Scratch;
use crate::crypto::{PreparedKey, SignatureError, Verifier};

/// The protected header of a JWS (RFC 7515 §4.1) as kauthn reads it.
#[derive(Clone, Copy, Debug)]
pub struct JwsHeader<'a> {
    /// The algorithm named by `alg`.
    pub alg: Algorithm,
    /// `kid`, when present.
    pub kid: Option<&'a str>,
    /// `typ`, when present (Kubernetes service-account tokens carry none; RFC 8725 §3.11).
    pub typ: Option<&'a str>,
    /// `cty`, when present (any value but `JWT`).
    pub cty: Option<&'a str>,
    /// The whole header object, for members kauthn does not interpret.
    pub json: JsonObject<'a>,
}

/// A header member that must be a string when present.
fn header_str(v: Option<JsonValue<'_>>) -> Result<Option<&str>, JoseError> {
    match v {
        None => Ok(None),
        Some(JsonValue::String(s)) => Ok(Some(s)),
        Some(_) => Err(Malformed::HeaderMember.into()),
    }
}

impl<'a> JwsHeader<'a> {
    /// Interprets a decoded header object.
    pub fn from_json(json: JsonObject<'a>) -> Result<Self, JoseError> {
        // One pass over the members (a header has two or three; names are unique), then the
        // checks in their order.
        let (mut alg, mut kid, mut typ, mut cty) = (None, None, None, None);
        let (mut enc, mut crit, mut b64, mut zip) = (false, false, false, false);
        for (name, value) in json.members() {
            match name {
                "alg" => alg = Some(value),
                "kid" => kid = Some(value),
                "typ" => typ = Some(value),
                "cty" => cty = Some(value),
                "enc" => enc = true,
                "crit" => crit = true,
                "b64" => b64 = true,
                "zip" => zip = true,
                _ => {}
            }
        }
        // Checked before `alg` is interpreted: a JWE header has an `alg` too (key management).
        if enc {
            return Err(Unsupported::Jwe.into());
        }
        let alg = header_str(alg)?.ok_or(Malformed::MissingAlg)?;
        let alg = Algorithm::from_name(alg)?;
        // RFC 7515 §4.1.11: a recipient that does not understand a critical extension must
        // reject; kauthn understands none, so any `crit` (even an empty or malformed one).
        if crit {
            return Err(Unsupported::Critical.into());
        }
        if b64 {
            return Err(Unsupported::UnencodedPayload.into());
        }
        if zip {
            return Err(Unsupported::Compression.into());
        }
        let kid = header_str(kid)?;
        if kid.is_some_and(|k| k.len() > MAX_KID_LEN) {
            return Err(JoseLimit::KidLength.into());
        }
        let typ = header_str(typ)?;
        let cty = header_str(cty)?;
        if cty.is_some_and(|c| c.eq_ignore_ascii_case("JWT")) {
            return Err(Unsupported::NestedJwt.into());
        }
        Ok(JwsHeader {
            alg,
            kid,
            typ,
            cty,
            json,
        })
    }
}

/// A compact JWS whose header is parsed and whose signature is decoded, but which is not yet
/// verified. Use it for upstream's unverified issuer pre-check, then call
/// [`UnverifiedJws::verify`].
#[derive(Clone, Copy, Debug)]
pub struct UnverifiedJws<'a> {
    /// The protected header.
    pub header: JwsHeader<'a>,
    signing_input: &'a [u8],
    payload_b64: &'a [u8],
    signature: &'a [u8],
}

/// The three segments of a compact JWS: header, payload, signature (still base64url).
type Segments<'t> = (&'t [u8], &'t [u8], &'t [u8]);

/// The number of `.` in `token` and the positions of the first two, in one pass: a byte-wise
/// scan of a 1 KiB token was a tenth of the non-signature work. Dots are rare (two per
/// token), so each 64-byte block is one mask ([`bytemask::equal`]), nearly always empty.
pub(crate) fn find_dots(token: &[u8]) -> (usize, [usize; 2]) {
    let mut count = 0usize;
    let mut found = [0usize; 2];
    let mut record_all = |mut m: u64, at: usize| {
        while m != 0 {
            if let Some(slot) = found.get_mut(count) {
                *slot = at + m.trailing_zeros() as usize;
            }
            count += 1;
            m &= m - 1;
        }
    };
    let blocks = token.chunks_exact(bytemask::WIDTH);
    let tail = blocks.remainder();
    let mut base = 0usize;
    for block in blocks {
        if let Ok(block) = <&[u8; bytemask::WIDTH]>::try_from(block) {
            record_all(bytemask::equal(block, b'.'), base);
        }
        base += bytemask::WIDTH;
    }
    // The last bytes, padded with zeros (not dots).
    record_all(bytemask::equal(&bytemask::padded(tail, 0), b'.'), base);
    (count, found)
}

/// Splits a compact token into its three segments.
fn split_compact(token: &[u8]) -> Result<Segments<'_>, JoseError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JoseLimit::TokenSize.into());
    }
    let first = token.iter().position(|b| !b.is_ascii_whitespace());
    if first.and_then(|i| token.get(i)) == Some(&b'{') {
        return Err(Unsupported::JsonSerialization.into());
    }
    let (dots, [a, b]) = find_dots(token);
    match dots {
        2 => {}
        4 => return Err(Unsupported::Jwe.into()),
        _ => return Err(Malformed::Segments.into()),
    }
    let header = token.get(..a).ok_or(Malformed::Segments)?;
    let payload = token.get(a + 1..b).ok_or(Malformed::Segments)?;
    let signature = token.get(b + 1..).ok_or(Malformed::Segments)?;
    Ok((header, payload, signature))
}

impl<'a> UnverifiedJws<'a> {
    /// Parses a compact JWS: shape, header, and signature bytes (decoded into `scratch`).
    pub fn parse(token: &'a [u8], scratch: &mut Scratch<'a>) -> Result<Self, JoseError> {
        let (h64, payload_b64, s64) = split_compact(token)?;
        Self::parse_segments(token, h64, payload_b64, s64, scratch)
    }

    /// [`parse`](Self::parse) for a token already split at its two dots (the issuer pre-check
    /// splits it first, and a second scan for the dots would find the same ones).
    pub(crate) fn parse_segments(
        token: &'a [u8],
        h64: &'a [u8],
        payload_b64: &'a [u8],
        s64: &'a [u8],
        scratch: &mut Scratch<'a>,
    ) -> Result<Self, JoseError> {
        if h64.is_empty() {
            return Err(Malformed::Segments.into());
        }
        let header_bytes = base64url::decode(h64, scratch)?;
        let header = JwsHeader::from_json(parse_object(header_bytes, scratch)?)?;
        let signature = base64url::decode(s64, scratch)?;
        let signing_input = signing_input(token, h64, payload_b64)?;
        Ok(UnverifiedJws {
            header,
            signing_input,
            payload_b64,
            signature,
        })
    }

    /// The bytes the signature covers: `BASE64URL(header) || '.' || BASE64URL(payload)`.
    pub fn signing_input(&self) -> &'a [u8] {
        self.signing_input
    }

    /// The decoded signature.
    pub fn signature(&self) -> &'a [u8] {
        self.signature
    }

    /// Decodes the payload into `scratch`. Before [`verify`](Self::verify) these bytes are
    /// untrusted.
    pub fn decode_payload(&self, scratch: &mut Scratch<'a>) -> Result<&'a [u8], JoseError> {
        base64url::decode(self.payload_b64, scratch)
    }

    /// Decodes the payload and reads it as a JSON object, **without** verifying anything —
    /// for upstream's issuer pre-check that decides which authenticator a token belongs to.
    pub fn unverified_claims(
        &self,
        scratch: &mut Scratch<'a>,
    ) -> Result<JsonObject<'a>, JoseError> {
        parse_object(self.decode_payload(scratch)?, scratch)
    }

    /// Verifies the signature with the configured keys and returns the index of the key that
    /// verified it.
    ///
    /// Key selection follows upstream (spec §7.2 step 3, go-jose/go-oidc): with a `kid`, only
    /// keys with that exact `kid` are candidates and none is [`JoseError::UnknownKid`];
    /// without a `kid`, every key is a candidate. Candidates whose type, curve or JWK `alg`
    /// do not fit the header `alg` are never tried (no key is ever used with two
    /// algorithms' semantics); when none fits, [`JoseError::NoMatchingKey`]. The first
    /// candidate that verifies wins.
    pub fn verify<K, V>(
        &self,
        keys: &K,
        allowed: AlgorithmSet,
        verifier: &V,
    ) -> Result<usize, JoseError>
    where
        K: KeySource + ?Sized,
        V: Verifier + ?Sized,
    {
        verify_signature(
            keys,
            allowed,
            verifier,
            self.header.alg,
            self.header.kid,
            self.signing_input,
            self.signature,
        )
    }
}

/// The bytes a signature covers: `token` up to the end of its payload segment `p64`, which
/// follows the header segment `h64` and a dot (both sub-slices of `token`, from its split).
pub(crate) fn signing_input<'t>(
    token: &'t [u8],
    h64: &[u8],
    p64: &[u8],
) -> Result<&'t [u8], JoseError> {
    h64.len()
        .checked_add(1)
        .and_then(|n| n.checked_add(p64.len()))
        .and_then(|end| token.get(..end))
        .ok_or(Malformed::Segments.into())
}

/// [`UnverifiedJws::verify`] from the header's `alg` and `kid`, the signing input and the
/// decoded signature (the service-account authenticator calls it directly when it knows the
/// header without parsing it; see [`CanonicalHeaders`](super::CanonicalHeaders)).
pub(crate) fn verify_signature<K, V>(
    keys: &K,
    allowed: AlgorithmSet,
    verifier: &V,
    alg: Algorithm,
    kid: Option<&str>,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<usize, JoseError>
where
    K: KeySource + ?Sized,
    V: Verifier + ?Sized,
{
    if !allowed.contains(alg) {
        return Err(Unsupported::AlgorithmNotAllowed.into());
    }
    let mut named = false;
    let mut tried = false;
    let mut err: Option<JoseError> = None;
    for i in 0..keys.key_count() {
        let Some(key) = keys.key_at(i) else { continue };
        if let Some(kid) = kid {
            if key.kid != Some(kid) {
                continue;
            }
            named = true;
        }
        if !key.fits(alg) {
            continue;
        }
        tried = true;
        let prepared = keys.prepared_at(i);
        match try_key(&key, prepared, alg, signing_input, signature, verifier) {
            Ok(()) => return Ok(i),
            // A signature failure outranks a key problem in the report.
            Err(e) if err.is_none() || e == JoseError::BadSignature => err = Some(e),
            Err(_) => {}
        }
    }
    if kid.is_some() && !named {
        return Err(JoseError::UnknownKid);
    }
    if !tried {
        return Err(JoseError::NoMatchingKey);
    }
    Err(err.unwrap_or(JoseError::BadSignature))
}

fn try_key<V: Verifier + ?Sized>(
    key: &KeyRef<'_>,
    prepared: Option<&PreparedKey>,
    alg: Algorithm,
    message: &[u8],
    signature: &[u8],
    verifier: &V,
) -> Result<(), JoseError> {
    // RFC 7518 §3.4: an ECDSA JWS signature is exactly r || s; a DER signature or one of
    // another width is invalid whatever the backend would make of it.
    if alg
        .fixed_signature_len()
        .is_some_and(|n| n != signature.len())
        || signature.is_empty()
    {
        return Err(JoseError::BadSignature);
    }
    verifier
        .verify_prepared(
            alg.signature_algorithm(),
            &key.key,
            prepared,
            message,
            signature,
        )
        .map_err(|e| match e {
            SignatureError::BadSignature => JoseError::BadSignature,
            SignatureError::KeyMismatch => JoseError::NoMatchingKey,
            SignatureError::KeyRejected => JoseError::KeyRejected(KeyProblem::Backend),
            _ => JoseError::Unsupported(Unsupported::BackendAlgorithm),
        })
}

/// A JWS whose signature verified, with its payload bytes (any content).
#[derive(Clone, Copy, Debug)]
pub struct VerifiedPayload<'a> {
    /// The protected header.
    pub header: JwsHeader<'a>,
    /// The decoded payload.
    pub payload: &'a [u8],
    /// Index of the key that verified the signature.
    pub key_index: usize,
}

/// A JWT whose signature verified and whose payload is a JSON object (RFC 7519 §7.2).
#[derive(Clone, Copy, Debug)]
pub struct VerifiedJws<'a> {
    /// The protected header.
    pub header: JwsHeader<'a>,
    /// The claims object, with typed getters (see [`JsonObject`]).
    pub claims: JsonObject<'a>,
    /// The decoded payload bytes.
    pub payload: &'a [u8],
    /// Index of the key that verified the signature.
    pub key_index: usize,
}

/// Verifies a compact JWS and returns its payload without interpreting it.
pub fn verify_jws_payload<'a, K, V>(
    token: &'a [u8],
    keys: &K,
    allowed: AlgorithmSet,
    verifier: &V,
    scratch: &mut Scratch<'a>,
) -> Result<VerifiedPayload<'a>, JoseError>
where
    K: KeySource + ?Sized,
    V: Verifier + ?Sized,
{
    let jws = UnverifiedJws::parse(token, scratch)?;
    let key_index = jws.verify(keys, allowed, verifier)?;
    let payload = jws.decode_payload(scratch)?;
    Ok(VerifiedPayload {
        header: jws.header,
        payload,
        key_index,
    })
}

/// Verifies a compact JWS whose payload is a JWT claims set and returns the header and a
/// borrowed view of the claims. Nothing is allocated: decoded bytes go into `scratch`
/// (about the token's length plus the length of escaped strings suffices).
///
/// Claims are *read* here, not *validated*: `exp`, `iss`, `aud` and the profile rules belong
/// to the service-account and OIDC authenticators built on this.
pub fn verify_jws<'a, K, V>(
    token: &'a [u8],
    keys: &K,
    allowed: AlgorithmSet,
    verifier: &V,
    scratch: &mut Scratch<'a>,
) -> Result<VerifiedJws<'a>, JoseError>
where
    K: KeySource + ?Sized,
    V: Verifier + ?Sized,
{
    let v = verify_jws_payload(token, keys, allowed, verifier, scratch)?;
    let claims = parse_object(v.payload, scratch)?;
    Ok(VerifiedJws {
        header: v.header,
        claims,
        payload: v.payload,
        key_index: v.key_index,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::find_dots;
    use std::vec::Vec;

    fn naive(token: &[u8]) -> (usize, [usize; 2]) {
        let dots: Vec<usize> = (0..token.len()).filter(|&i| token[i] == b'.').collect();
        let first = |k: usize| dots.get(k).copied().unwrap_or(0);
        (dots.len(), [first(0), first(1)])
    }

    #[test]
    fn dot_search_agrees_with_a_byte_scan_at_every_position() {
        // Every placement of up to three dots in tokens of 0..=80 bytes (two 32-byte blocks
        // and every tail), with bytes that differ from '.' in one bit (0x2f, 0x6e, 0xae) as
        // neighbours.
        for len in 0..=80usize {
            for i in 0..=len {
                for j in i..=len {
                    for k in [0, len / 2, len] {
                        let mut t: Vec<u8> =
                            (0..len).map(|n| [b'/', b'n', 0xae, b'a'][n % 4]).collect();
                        for p in [i, j, k] {
                            if p < len {
                                t[p] = b'.';
                            }
                        }
                        assert_eq!(find_dots(&t), naive(&t), "{t:?}");
                    }
                }
            }
        }
    }
}
