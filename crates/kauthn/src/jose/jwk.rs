//! JWK and JWK Set parsing (RFC 7517, RFC 7518 §6) into borrowed [`KeyRef`]s.
//!
//! Choices, per RFC 7517:
//! * `use` other than `"sig"` (§4.2) and `key_ops` without `"verify"` (§4.3) make a key
//!   unusable. In a JWK *Set* such keys are **skipped** (§5: implementations SHOULD ignore
//!   JWKs they cannot use; OIDC providers publish `enc` keys beside `sig` keys), so a token
//!   whose `kid` names one gets [`JoseError::UnknownKid`]. A single JWK that is unusable is an
//!   error ([`KeyProblem::Use`], [`KeyProblem::KeyOps`]).
//! * `alg` (§4.4), when present, must be a JWS public-key algorithm that fits the key; the key
//!   is then used with that algorithm only (RFC 8725 §3.1).
//! * Private members (`d`, `p`, `q`, `dp`, `dq`, `qi`) are ignored and never read: only the
//!   public part is used. `x5c`/`x5t`/`x5u` are ignored too.
//! * `kty` `oct` and `OKP` are [`Unsupported::KeyType`] (skipped in a set).

use super::MAX_KID_LEN;
use super::alg::{Algorithm, KeyKind};
use super::base64url;
use super::error::{JoseError, JoseLimit, KeyProblem, Malformed, Unsupported};
use super::json::{JsonObject, JsonValue, parse_object};
use super::key::{KeyRef, KeySet, LoadReport};
use crate::Scratch;
use crate::crypto::PublicKey;

fn jwk_err() -> JoseError {
    JoseError::Malformed(Malformed::Jwk)
}

fn member_str<'a>(jwk: &JsonObject<'a>, name: &str) -> Result<Option<&'a str>, JoseError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(JsonValue::String(s)) => Ok(Some(s)),
        Some(_) => Err(jwk_err()),
    }
}

fn required_b64<'a>(
    jwk: &JsonObject<'a>,
    name: &str,
    scratch: &mut Scratch<'a>,
) -> Result<&'a [u8], JoseError> {
    let text = member_str(jwk, name)?.ok_or_else(jwk_err)?;
    base64url::decode(text.as_bytes(), scratch)
}

/// Parses one JWK object into a key (components decoded into `scratch`) and checks it.
pub fn parse_jwk<'a>(
    jwk: &JsonObject<'a>,
    scratch: &mut Scratch<'a>,
) -> Result<KeyRef<'a>, JoseError> {
    let kty = member_str(jwk, "kty")?.ok_or_else(jwk_err)?;
    // Key type first: an `oct` key is unsupported whatever its other members say.
    if kty != "RSA" && kty != "EC" {
        return Err(Unsupported::KeyType.into());
    }
    if let Some(u) = member_str(jwk, "use")? {
        if u != "sig" {
            return Err(KeyProblem::Use.into());
        }
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops.as_array().map_err(|_| jwk_err())?;
        let mut verify = false;
        for op in ops.iter() {
            let JsonValue::String(op) = op else {
                return Err(jwk_err());
            };
            verify |= op == "verify";
        }
        if !verify {
            return Err(KeyProblem::KeyOps.into());
        }
    }
    let kid = member_str(jwk, "kid")?;
    if kid.is_some_and(|k| k.len() > MAX_KID_LEN) {
        return Err(JoseLimit::KidLength.into());
    }
    let alg = match member_str(jwk, "alg")? {
        None => None,
        Some(name) => Some(Algorithm::from_name(name).map_err(|_| KeyProblem::Alg)?),
    };
    let key = match kty {
        "RSA" => {
            let modulus = required_b64(jwk, "n", scratch)?;
            let exponent = required_b64(jwk, "e", scratch)?;
            // RFC 7518 §6.3.1.1/§6.3.1.2: minimal octets, no leading zero.
            if modulus.first() == Some(&0) {
                return Err(KeyProblem::RsaModulus.into());
            }
            if exponent.first() == Some(&0) {
                return Err(KeyProblem::RsaExponent.into());
            }
            PublicKey::Rsa { modulus, exponent }
        }
        "EC" => {
            let crv = member_str(jwk, "crv")?.ok_or_else(jwk_err)?;
            let coord = match crv {
                "P-256" => 32,
                "P-384" => 48,
                "P-521" => 66,
                _ => return Err(Unsupported::KeyType.into()),
            };
            let x = member_str(jwk, "x")?.ok_or_else(jwk_err)?;
            let y = member_str(jwk, "y")?.ok_or_else(jwk_err)?;
            let point = scratch
                .alloc(1 + 2 * coord)
                .map_err(|_| JoseLimit::Scratch)?;
            let (head, xy) = point.split_at_mut(1);
            head.copy_from_slice(&[0x04]);
            let (xd, yd) = xy.split_at_mut(coord);
            // RFC 7518 §6.2.1.2: each coordinate is exactly the field size; a wrong length
            // decodes to the wrong number of bytes and is rejected here.
            let ok = base64url::decoded_len(x.len()) == Some(coord)
                && base64url::decoded_len(y.len()) == Some(coord);
            if !ok {
                return Err(KeyProblem::EcPoint.into());
            }
            base64url::decode_into(x.as_bytes(), xd)?;
            base64url::decode_into(y.as_bytes(), yd)?;
            let point: &'a [u8] = point;
            match crv {
                "P-256" => PublicKey::EcP256(point),
                "P-384" => PublicKey::EcP384(point),
                _ => PublicKey::EcP521(point),
            }
        }
        _ => return Err(Unsupported::KeyType.into()),
    };
    if let Some(a) = alg {
        if KeyKind::of(&key) != Some(a.key_kind()) {
            return Err(KeyProblem::Alg.into());
        }
    }
    super::key::check_public_key(&key)?;
    Ok(KeyRef { key, kid, alg })
}

impl<'a, const N: usize> KeySet<'a, N> {
    /// Adds the keys of a JWK Set (`{"keys":[…]}`) or of a single JWK. In a set, keys that are
    /// unsupported or unusable are skipped and counted (RFC 7517 §5); a malformed document,
    /// two different keys with one `kid`, or a full set are errors. A single JWK's problem is
    /// returned as is.
    pub fn add_jwks(
        &mut self,
        json: &'a [u8],
        scratch: &mut Scratch<'a>,
    ) -> Result<LoadReport, JoseError> {
        let doc = parse_object(json, scratch)?;
        let mut report = LoadReport::default();
        let Some(keys) = doc.get("keys") else {
            self.push(parse_jwk(&doc, scratch)?)?;
            report.added += 1;
            return Ok(report);
        };
        let keys = keys.as_array().map_err(|_| jwk_err())?;
        for k in keys.iter() {
            let JsonValue::Object(k) = k else {
                report.skipped += 1;
                continue;
            };
            match parse_jwk(&k, scratch) {
                Ok(key) => {
                    self.push(key)?;
                    report.added += 1;
                }
                Err(JoseError::LimitExceeded(l)) => return Err(l.into()),
                Err(_) => report.skipped += 1,
            }
        }
        Ok(report)
    }
}
