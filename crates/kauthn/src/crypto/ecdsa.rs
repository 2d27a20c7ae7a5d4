//! ECDSA verification over P-256, P-384 and P-521 with the RustCrypto curve crates.
//!
//! The curve crates do the arithmetic and the range checks: `Signature::from_slice` rejects
//! `r` or `s` equal to zero or not below the group order `n` (CVE-2022-21449, the "psychic
//! signature"), and `VerifyingKey::from_sec1_bytes` rejects points off the curve and the
//! point at infinity. This module only decodes the two signature forms into the fixed
//! `r || s` form the crates take:
//! * JOSE (RFC 7518 §3.4): exactly `2 × field size` bytes;
//! * X.509 (RFC 5480 / RFC 3279 `Ecdsa-Sig-Value`): strict DER, see [`der_to_fixed`].
//!
//! Public keys must be uncompressed SEC1 points (`04 || x || y`). JWKs carry both
//! coordinates and RFC 5480 §2.2 makes the uncompressed form the one every implementation
//! must support; ring and rustls-webpki accept only this form too.

use p256::ecdsa::signature::Verifier as _;

use super::SignatureError;

/// The curves this module verifies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// Size of a field element and of each of `r` and `s`, in bytes.
    pub(crate) const fn scalar_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
}

/// How the signature is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `r || s`, each left-padded to the scalar size (JWS).
    Fixed,
    /// DER `SEQUENCE { r INTEGER, s INTEGER }` (X.509).
    Asn1,
}

/// Largest fixed-form signature: two P-521 scalars.
const MAX_FIXED_LEN: usize = 2 * 66;

/// A validated public point on one of the curves, ready for repeated verification.
#[derive(Clone, Copy, Debug)]
pub(crate) enum EcKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

impl EcKey {
    /// Checks that `point` is an uncompressed SEC1 point on `curve`, not the identity.
    pub(crate) fn new(curve: Curve, point: &[u8]) -> Result<Self, SignatureError> {
        let reject = |_| SignatureError::KeyRejected;
        check_uncompressed(curve, point)?;
        Ok(match curve {
            Curve::P256 => {
                EcKey::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(reject)?)
            }
            Curve::P384 => {
                EcKey::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(reject)?)
            }
            Curve::P521 => {
                EcKey::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(reject)?)
            }
        })
    }

    /// The key's curve.
    pub(crate) fn curve(&self) -> Curve {
        match self {
            EcKey::P256(_) => Curve::P256,
            EcKey::P384(_) => Curve::P384,
            EcKey::P521(_) => Curve::P521,
        }
    }

    /// Verifies a signature; the hash is the curve's (SHA-256, SHA-384, SHA-512).
    pub(crate) fn verify(
        &self,
        encoding: Encoding,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let mut fixed_buf = [0u8; MAX_FIXED_LEN];
        let fixed = match encoding {
            Encoding::Fixed => signature,
            Encoding::Asn1 => {
                let out = fixed_buf
                    .get_mut(..2 * self.curve().scalar_len())
                    .ok_or(SignatureError::BadSignature)?;
                der_to_fixed(signature, out)?;
                out
            }
        };
        // `from_slice` checks the length and 0 < r, s < n; `verify` hashes the message.
        let bad = |_| SignatureError::BadSignature;
        match self {
            EcKey::P256(key) => key.verify(
                message,
                &p256::ecdsa::Signature::from_slice(fixed).map_err(bad)?,
            ),
            EcKey::P384(key) => key.verify(
                message,
                &p384::ecdsa::Signature::from_slice(fixed).map_err(bad)?,
            ),
            EcKey::P521(key) => key.verify(
                message,
                &p521::ecdsa::Signature::from_slice(fixed).map_err(bad)?,
            ),
        }
        .map_err(bad)
    }
}

/// The encoding half of the EC key policy, shared by every backend: an uncompressed SEC1
/// point, `0x04` then x and y of exactly the field size (catalogue A-9). Whether the point is
/// on the curve is left to the curve implementation.
pub(crate) fn check_uncompressed(curve: Curve, point: &[u8]) -> Result<(), SignatureError> {
    match point.split_first() {
        Some((0x04, xy)) if xy.len() == 2 * curve.scalar_len() => Ok(()),
        _ => Err(SignatureError::KeyRejected),
    }
}

/// Checks the key and verifies in one step.
#[cfg(test)]
fn verify(
    curve: Curve,
    encoding: Encoding,
    point: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    EcKey::new(curve, point)?.verify(encoding, message, signature)
}

/// Decodes a DER `Ecdsa-Sig-Value` into `r || s`, each right-aligned in half of `out`.
///
/// Strict DER (X.690 §10) as rustls-webpki and BoringSSL enforce it: definite minimal
/// lengths, minimal positive INTEGERs (one leading zero only when the next byte has its top
/// bit set, never a negative number), and no bytes after the SEQUENCE or inside it after `s`.
/// Wycheproof's `BerEncodedSignature`, `MissingZero` and `InvalidEncoding` groups are exactly
/// these cases. Range checks (`0 < r, s < n`) are left to the curve crate.
pub(crate) fn der_to_fixed(der: &[u8], out: &mut [u8]) -> Result<(), SignatureError> {
    let bad = SignatureError::BadSignature;
    let (seq, rest) = read_tlv(der, 0x30)?;
    if !rest.is_empty() {
        return Err(bad);
    }
    let (r, seq) = read_tlv(seq, 0x02)?;
    let (s, seq) = read_tlv(seq, 0x02)?;
    if !seq.is_empty() {
        return Err(bad);
    }
    let half = out.len() / 2;
    let (out_r, out_s) = out.split_at_mut_checked(half).ok_or(bad)?;
    write_scalar(positive_integer(r)?, out_r)?;
    write_scalar(positive_integer(s)?, out_s)
}

/// Reads one TLV with the expected single-byte tag and a minimally encoded definite length;
/// returns its value and what follows.
fn read_tlv(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), SignatureError> {
    let bad = SignatureError::BadSignature;
    let (&t, rest) = input.split_first().ok_or(bad)?;
    if t != tag {
        return Err(bad);
    }
    let (&first, rest) = rest.split_first().ok_or(bad)?;
    let (len, rest) = match first {
        // Short form.
        0x00..=0x7f => (usize::from(first), rest),
        // One length byte: only for lengths the short form cannot express.
        0x81 => {
            let (&l, rest) = rest.split_first().ok_or(bad)?;
            if l < 0x80 {
                return Err(bad);
            }
            (usize::from(l), rest)
        }
        // Indefinite length (0x80) is BER only; longer length forms never fit a signature of
        // the curves supported here (a P-521 Ecdsa-Sig-Value is at most 141 bytes).
        _ => return Err(bad),
    };
    rest.split_at_checked(len).ok_or(bad)
}

/// The magnitude bytes of a DER INTEGER that must be positive, without its sign byte.
fn positive_integer(value: &[u8]) -> Result<&[u8], SignatureError> {
    let bad = SignatureError::BadSignature;
    match value {
        // An INTEGER has at least one content byte.
        [] => Err(bad),
        // Negative.
        [first, ..] if first & 0x80 != 0 => Err(bad),
        // A leading zero is allowed only to keep the next byte's top bit from reading as a
        // sign; `[0]` alone (zero) is well formed and rejected later as out of range.
        [0, second, ..] if second & 0x80 == 0 => Err(bad),
        [0, magnitude @ ..] if !magnitude.is_empty() => Ok(magnitude),
        _ => Ok(value),
    }
}

/// Right-aligns `magnitude` into `out`; a value wider than the scalar cannot be below `n`.
fn write_scalar(magnitude: &[u8], out: &mut [u8]) -> Result<(), SignatureError> {
    let start = out
        .len()
        .checked_sub(magnitude.len())
        .ok_or(SignatureError::BadSignature)?;
    let (zeros, tail) = out
        .split_at_mut_checked(start)
        .ok_or(SignatureError::BadSignature)?;
    zeros.fill(0);
    tail.copy_from_slice(magnitude);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    extern crate std;
    use super::*;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 7515 Appendix A.4: ES512 (P-521, SHA-512), the only P-521 known answer kept here.
    const A4_POINT: &str = "04
        01e929050f124fc6bc55c7d5393365df9def4ab0c22cb25798f934eb04e3c6bae3701a57a7910e9d81bf
        363159e8ebcb155d6349f4bdb6ccf8a94c5c59c7aac101a4
        0034a6440e376750d2371fd1bdc2c8f3b71d2f4ee5ea3432c815cca31560fe5d9387ec774b55838630e5
        cbbf5a8cbe0a91dd0064c6999a1f6e6e67faddede4c8c8f6";
    const A4_MESSAGE: &[u8] = b"eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA";
    const A4_SIGNATURE: &str = "
        01dc0c81e7abc2d1e887e975f7697ad21a7dc001d915525b2df0ff531322ef47309d93986912356ca3d6
        44e73e99966ac2a4f6488f8a183281df85ced1ac3fed776d
        006f06692c0529d0803d98285c3d980496423c45f7c4aa51c1c74e3bc2a9107c098f2a8e8330ceee22af
        53cbdc9f036b9b161b496f444415ee90e5e894bcde3bf267";

    #[test]
    fn rfc7515_es512_example_verifies() {
        let point = unhex(A4_POINT);
        let sig = unhex(A4_SIGNATURE);
        assert_eq!(
            verify(Curve::P521, Encoding::Fixed, &point, A4_MESSAGE, &sig),
            Ok(())
        );
        assert_eq!(
            verify(
                Curve::P521,
                Encoding::Fixed,
                &point,
                b"eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZB",
                &sig
            ),
            Err(SignatureError::BadSignature)
        );
        // 131 or 133 bytes: not the fixed width.
        assert_eq!(
            verify(Curve::P521, Encoding::Fixed, &point, A4_MESSAGE, &sig[1..]),
            Err(SignatureError::BadSignature)
        );
        let mut long = sig.clone();
        long.push(0);
        assert_eq!(
            verify(Curve::P521, Encoding::Fixed, &point, A4_MESSAGE, &long),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn zero_and_out_of_range_scalars_are_rejected() {
        let point = unhex(A4_POINT);
        let sig = unhex(A4_SIGNATURE);
        // r = 0, s = 0 (CVE-2022-21449), and r = all ones (>= n).
        let mut zero_r = sig.clone();
        zero_r[..66].fill(0);
        let mut zero_s = sig.clone();
        zero_s[66..].fill(0);
        let mut big_r = sig.clone();
        big_r[..66].fill(0xff);
        big_r[0] = 0x01;
        for bad in [zero_r, zero_s, big_r, vec![0; 132]] {
            assert_eq!(
                verify(Curve::P521, Encoding::Fixed, &point, A4_MESSAGE, &bad),
                Err(SignatureError::BadSignature)
            );
        }
    }

    #[test]
    fn malformed_and_compressed_points_are_rejected() {
        let point = unhex(A4_POINT);
        let sig = unhex(A4_SIGNATURE);
        let reject = |p: &[u8]| {
            assert_eq!(
                verify(Curve::P521, Encoding::Fixed, p, A4_MESSAGE, &sig),
                Err(SignatureError::KeyRejected),
                "{p:02x?}"
            );
        };
        // Compressed form of the same point (y is even).
        let mut compressed = point[..67].to_vec();
        compressed[0] = 0x02;
        reject(&compressed);
        // Not on the curve.
        let mut off_curve = point.clone();
        off_curve[132] ^= 1;
        reject(&off_curve);
        // Coordinates one byte short, the identity, wrong tag, empty.
        reject(&point[..132]);
        reject(&[0x00]);
        let mut hybrid = point.clone();
        hybrid[0] = 0x06;
        reject(&hybrid);
        reject(&[]);
        // A P-256-sized point given as P-521.
        reject(&[0x04; 65]);
    }

    fn decode(der: &[u8]) -> Result<[u8; 64], SignatureError> {
        let mut out = [0u8; 64];
        der_to_fixed(der, &mut out).map(|()| out)
    }

    #[test]
    fn minimal_der_signature_is_decoded_right_aligned() {
        let out = decode(&[0x30, 0x07, 0x02, 0x01, 0x05, 0x02, 0x02, 0x00, 0x80]).unwrap();
        assert_eq!(out[31], 5);
        assert_eq!(out[62..], [0x00, 0x80]);
        assert!(out[..31].iter().all(|&b| b == 0));
    }

    #[test]
    fn non_canonical_der_is_rejected() {
        let cases: &[&[u8]] = &[
            // Trailing byte after the SEQUENCE.
            &[0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07, 0x00],
            // Trailing byte inside the SEQUENCE.
            &[0x30, 0x07, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07, 0x00],
            // Long-form length for a short value.
            &[0x30, 0x81, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07],
            // Indefinite length.
            &[0x30, 0x80, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07, 0x00, 0x00],
            // Unneeded leading zero.
            &[0x30, 0x07, 0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x07],
            // Negative s (missing zero).
            &[0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x80],
            // Empty INTEGER.
            &[0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x07],
            // Wrong tag.
            &[0x31, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07],
            // Truncated.
            &[0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01],
            &[],
        ];
        for der in cases {
            assert_eq!(decode(der), Err(SignatureError::BadSignature), "{der:02x?}");
        }
        // r wider than 32 bytes.
        let mut wide = [0u8; 41];
        wide[..4].copy_from_slice(&[0x30, 0x27, 0x02, 0x22]);
        wide[4] = 0x00;
        wide[5] = 0x80;
        wide[38..].copy_from_slice(&[0x02, 0x01, 0x01]);
        assert_eq!(decode(&wide), Err(SignatureError::BadSignature));
    }
}
