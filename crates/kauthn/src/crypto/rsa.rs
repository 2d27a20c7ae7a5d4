//! RSA signature verification (RFC 8017) without a heap.
//!
//! The `rsa` crate allocates (its integers are `BoxedUint`), so the public-key operation is
//! done here with crypto-bigint's fixed-width Montgomery arithmetic: the modulus is loaded
//! into a `U2048`, `U3072` or `U4096` picked by its length, and `s^e mod n` is computed with a
//! variable-time exponentiation (the exponent is public, nothing secret is involved).
//!
//! Padding is checked the way ring and BoringSSL check it:
//! * PKCS#1 v1.5: the complete expected encoding `00 01 FF… 00 DigestInfo H` is built and
//!   compared with the whole decrypted block. The block is never parsed, which rules out the
//!   Bleichenbacher-2006 / BERserk class of forgeries (lenient DigestInfo parsing, garbage
//!   after the hash, short padding).
//! * PSS: EMSA-PSS-VERIFY of RFC 8017 §9.1.2, with the salt length pinned to the hash length
//!   (RFC 7518 §3.5 for PS256/384/512) and MGF1 over the same hash.

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U2048, U3072, U4096, Uint};
use sha2::digest::Digest;
use sha2::{Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;

use super::SignatureError;

/// Smallest RSA modulus accepted, in bits. RFC 7518 §3.3 requires 2048 bits for RS256 and
/// NIST SP 800-131A disallows shorter keys for signatures; Kubernetes' own key generation
/// never produces less.
pub const RSA_MIN_MODULUS_BITS: usize = 2048;

/// Largest RSA modulus accepted, in bits. It bounds the verification work an attacker can
/// demand with a large key (the CVE-2023-29409 class) and the size of the fixed stack
/// buffers; 4096 bits covers every key Kubernetes, cloud OIDC providers and common CAs use.
pub const RSA_MAX_MODULUS_BITS: usize = 4096;

/// Largest public exponent accepted, in bits. Larger exponents are not used in practice and
/// would only make verification slower (the catalogue's A-8 asks `e > 2^32` to be rejected).
pub const RSA_MAX_EXPONENT_BITS: usize = 32;

/// Smallest public exponent accepted. `e = 1` makes the "signature" equal to the encoded
/// message; every valid exponent is odd and at least 3 (RFC 8017 §3.1).
pub const RSA_MIN_EXPONENT: u32 = 3;

/// Largest modulus, and so signature and encoded message, in bytes.
const MAX_MODULUS_BYTES: usize = RSA_MAX_MODULUS_BITS / 8;

/// The padding scheme and hash of an RSA algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Padding {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2).
    Pkcs1(Hash),
    /// RSASSA-PSS (RFC 8017 §8.1), MGF1 with the same hash, salt length = hash length.
    Pss(Hash),
}

/// A SHA-2 hash used by RSA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// `DigestInfo` prefixes (RFC 8017 §9.2 note 1), with the NULL parameters that the
/// specification requires; the "MissingNull" variant is deliberately not accepted.
const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
const SHA384_DIGEST_INFO: &[u8] = &[
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
    0x00, 0x04, 0x30,
];
const SHA512_DIGEST_INFO: &[u8] = &[
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];

/// A validated RSA public key, converted once into Montgomery parameters so that repeated
/// verifications skip the set-up (two divisions of modulus size).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RsaKey {
    /// Modulus length in bytes without leading zeros, `k` in RFC 8017.
    len: usize,
    /// Bit length of the modulus, `modBits`.
    bits: usize,
    /// Public exponent.
    exponent: u32,
    /// The modulus in the smallest fixed width that holds it.
    params: Params,
}

/// Montgomery parameters (modulus, R mod n, R² mod n) at one of the supported widths. Every
/// width is a whole number of limbs on 32- and 64-bit targets alike.
#[derive(Clone, Copy, Debug)]
// Boxing the wide variants would need a heap; the widest is 1.5 KiB.
#[allow(clippy::large_enum_variant)]
enum Params {
    W2048(FixedMontyParams<{ U2048::LIMBS }>),
    W3072(FixedMontyParams<{ U3072::LIMBS }>),
    W4096(FixedMontyParams<{ U4096::LIMBS }>),
}

impl RsaKey {
    /// Checks the key's parameters (size bounds, odd modulus, odd exponent in range) and
    /// prepares the modulus.
    pub(crate) fn new(modulus: &[u8], exponent: &[u8]) -> Result<Self, SignatureError> {
        let reject = SignatureError::KeyRejected;
        let CheckedKey {
            modulus,
            bits,
            exponent,
        } = check_key(modulus, exponent)?;
        let params = if modulus.len() <= U2048::BYTES {
            Params::W2048(prepare(modulus).ok_or(reject)?)
        } else if modulus.len() <= U3072::BYTES {
            Params::W3072(prepare(modulus).ok_or(reject)?)
        } else {
            Params::W4096(prepare(modulus).ok_or(reject)?)
        };
        Ok(Self {
            len: modulus.len(),
            bits,
            exponent,
            params,
        })
    }

    /// Verifies `signature` over `message` under `padding`.
    pub(crate) fn verify(
        &self,
        padding: Padding,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let mut em_buf = [0u8; MAX_MODULUS_BYTES];
        let em = em_buf
            .get_mut(..self.len)
            .ok_or(SignatureError::KeyRejected)?;
        self.public_op(signature, em)?;
        match padding {
            Padding::Pkcs1(Hash::Sha256) => pkcs1_verify::<Sha256>(SHA256_DIGEST_INFO, message, em),
            Padding::Pkcs1(Hash::Sha384) => pkcs1_verify::<Sha384>(SHA384_DIGEST_INFO, message, em),
            Padding::Pkcs1(Hash::Sha512) => pkcs1_verify::<Sha512>(SHA512_DIGEST_INFO, message, em),
            Padding::Pss(Hash::Sha256) => pss_verify::<Sha256>(message, em, self.bits - 1),
            Padding::Pss(Hash::Sha384) => pss_verify::<Sha384>(message, em, self.bits - 1),
            Padding::Pss(Hash::Sha512) => pss_verify::<Sha512>(message, em, self.bits - 1),
        }
    }

    /// RSAVP1 (RFC 8017 §5.2.2) followed by I2OSP into `out` (exactly `k` bytes).
    fn public_op(&self, signature: &[u8], out: &mut [u8]) -> Result<(), SignatureError> {
        // RFC 8017 §8.2.2 step 1 / §8.1.2 step 1: the signature is exactly k bytes.
        if signature.len() != self.len {
            return Err(SignatureError::BadSignature);
        }
        match &self.params {
            Params::W2048(p) => public_op_in(p, self.exponent, signature, out),
            Params::W3072(p) => public_op_in(p, self.exponent, signature, out),
            Params::W4096(p) => public_op_in(p, self.exponent, signature, out),
        }
    }
}

/// An RSA public key that passed the key policy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CheckedKey<'a> {
    /// The modulus without leading zero bytes.
    pub(crate) modulus: &'a [u8],
    /// Bit length of the modulus.
    pub(crate) bits: usize,
    /// The public exponent.
    pub(crate) exponent: u32,
}

/// The RSA key policy: modulus of [`RSA_MIN_MODULUS_BITS`]..=[`RSA_MAX_MODULUS_BITS`] bits
/// and odd, exponent odd, at least [`RSA_MIN_EXPONENT`] and below 2^32. Shared by every
/// backend so that they reject exactly the same keys.
pub(crate) fn check_key<'a>(
    modulus: &'a [u8],
    exponent: &[u8],
) -> Result<CheckedKey<'a>, SignatureError> {
    let reject = SignatureError::KeyRejected;
    let modulus = strip_leading_zeros(modulus);
    let (&first, _) = modulus.split_first().ok_or(reject)?;
    // Bound the length before computing with it; the exact bit bound follows.
    if modulus.len() > MAX_MODULUS_BYTES {
        return Err(reject);
    }
    let bits = modulus.len() * 8 - first.leading_zeros() as usize;
    if !(RSA_MIN_MODULUS_BITS..=RSA_MAX_MODULUS_BITS).contains(&bits) {
        return Err(reject);
    }
    // An even modulus is not a product of two odd primes, and Montgomery form needs it odd.
    if modulus.last().is_none_or(|b| b & 1 == 0) {
        return Err(reject);
    }

    let exponent = strip_leading_zeros(exponent);
    if exponent.len() > RSA_MAX_EXPONENT_BITS / 8 {
        return Err(reject);
    }
    let exponent = exponent
        .iter()
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    if exponent < RSA_MIN_EXPONENT || exponent & 1 == 0 {
        return Err(reject);
    }
    Ok(CheckedKey {
        modulus,
        bits,
        exponent,
    })
}

/// Loads an odd modulus and computes its Montgomery parameters.
fn prepare<const LIMBS: usize>(modulus: &[u8]) -> Option<FixedMontyParams<LIMBS>> {
    let n = Odd::new(load::<LIMBS>(modulus)?).into_option()?;
    // The modulus is public: variable-time set-up leaks nothing secret.
    Some(FixedMontyParams::new_vartime(n))
}

/// `s^e mod n` written big-endian into `out`, whose length is the modulus length.
fn public_op_in<const LIMBS: usize>(
    params: &FixedMontyParams<LIMBS>,
    exponent: u32,
    signature: &[u8],
    out: &mut [u8],
) -> Result<(), SignatureError> {
    let s = load::<LIMBS>(signature).ok_or(SignatureError::BadSignature)?;
    // RFC 8017 §5.2.2 step 1: the representative must be below n. Without this check s and
    // s + n would both verify (signature malleability).
    if s >= *params.modulus().as_ref() {
        return Err(SignatureError::BadSignature);
    }
    let m = pow_public(FixedMontyForm::new(&s, params), exponent).retrieve();
    let encoded = m.to_be_bytes();
    let bytes = encoded.as_slice();
    // m < n < 2^(8k), so the bytes above the last k are zero; only the tail is copied.
    let tail = bytes
        .get(bytes.len().saturating_sub(out.len())..)
        .ok_or(SignatureError::BadSignature)?;
    if tail.len() != out.len() {
        return Err(SignatureError::BadSignature);
    }
    out.copy_from_slice(tail);
    Ok(())
}

/// `base^exponent` by left-to-right square-and-multiply, variable time in the exponent.
///
/// The exponent is public. For `e = 65537` this is 16 squarings and one multiplication,
/// about half the work of crypto-bigint's windowed `pow_vartime`, whose table set-up is
/// meant for long exponents.
fn pow_public<const LIMBS: usize>(
    base: FixedMontyForm<LIMBS>,
    exponent: u32,
) -> FixedMontyForm<LIMBS> {
    let mut acc = base;
    // The key check guarantees exponent >= 3, so the top bit exists; the loop covers the bits
    // below it (an exponent of 0 would return `base`, never reached).
    let top = (u32::BITS - 1).saturating_sub(exponent.leading_zeros());
    for bit in (0..top).rev() {
        acc = acc.square();
        if (exponent >> bit) & 1 == 1 {
            acc = acc.mul(&base);
        }
    }
    acc
}

/// Loads a big-endian number of at most `Uint::<LIMBS>::BYTES` bytes, zero-extended.
fn load<const LIMBS: usize>(bytes: &[u8]) -> Option<Uint<LIMBS>> {
    let mut buf = [0u8; MAX_MODULUS_BYTES];
    let width = Uint::<LIMBS>::BYTES;
    let start = width.checked_sub(bytes.len())?;
    let window = buf.get_mut(..width)?;
    window.get_mut(start..)?.copy_from_slice(bytes);
    // `window` has exactly the width `from_be_slice` requires, so it does not panic.
    Some(Uint::from_be_slice(window))
}

pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.get(zeros..).unwrap_or_default()
}

/// EMSA-PKCS1-v1_5 verification by re-encoding (RFC 8017 §8.2.2 step 3 and 4, §9.2).
fn pkcs1_verify<D: Digest>(
    digest_info: &[u8],
    message: &[u8],
    em: &[u8],
) -> Result<(), SignatureError> {
    let hash = D::digest(message);
    let t_len = digest_info.len() + hash.len();
    // §9.2 step 3: at least 8 bytes of 0xFF padding (always so for k >= 256 bytes; checked so
    // that the function stands on its own).
    let ps_len = em
        .len()
        .checked_sub(t_len + 3)
        .filter(|&n| n >= 8)
        .ok_or(SignatureError::BadSignature)?;

    let mut expected_buf = [0u8; MAX_MODULUS_BYTES];
    let expected = expected_buf
        .get_mut(..em.len())
        .ok_or(SignatureError::BadSignature)?;
    let (header, rest) = expected
        .split_at_mut_checked(2)
        .ok_or(SignatureError::BadSignature)?;
    header.copy_from_slice(&[0x00, 0x01]);
    let (ps, rest) = rest
        .split_at_mut_checked(ps_len)
        .ok_or(SignatureError::BadSignature)?;
    ps.fill(0xff);
    let (separator, t) = rest
        .split_at_mut_checked(1)
        .ok_or(SignatureError::BadSignature)?;
    separator.fill(0x00);
    let (t_prefix, t_hash) = t
        .split_at_mut_checked(digest_info.len())
        .ok_or(SignatureError::BadSignature)?;
    t_prefix.copy_from_slice(digest_info);
    t_hash.copy_from_slice(&hash);

    // The inputs are public, so constant time is not required; it costs nothing either.
    if bool::from(expected.ct_eq(em)) {
        Ok(())
    } else {
        Err(SignatureError::BadSignature)
    }
}

/// EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with MGF1 over `D` and `sLen = hLen`.
///
/// `k_em` is the decrypted block as `k` bytes; `em_bits` is `modBits - 1`.
fn pss_verify<D: Digest>(
    message: &[u8],
    k_em: &[u8],
    em_bits: usize,
) -> Result<(), SignatureError> {
    let bad = SignatureError::BadSignature;
    // RSAVP1's output is converted to emLen = ceil(emBits / 8) bytes (§8.1.2 step 2c). When
    // modBits - 1 is a multiple of 8, emLen = k - 1 and the extra leading byte must be zero.
    let em_len = em_bits.div_ceil(8);
    let extra = k_em.len().checked_sub(em_len).ok_or(bad)?;
    let (leading, em) = k_em.split_at_checked(extra).ok_or(bad)?;
    if leading.iter().any(|&b| b != 0) {
        return Err(bad);
    }

    let h_len = <D as Digest>::output_size();
    let s_len = h_len;
    // Step 2: mHash = Hash(M).
    let m_hash = D::digest(message);
    // Step 3.
    if em_len < h_len + s_len + 2 {
        return Err(bad);
    }
    // Step 4: the trailer field is 0xbc.
    let (body, trailer) = em.split_at_checked(em_len - 1).ok_or(bad)?;
    if trailer != [0xbc] {
        return Err(bad);
    }
    // Step 5.
    let db_len = em_len - h_len - 1;
    let (masked_db, h) = body.split_at_checked(db_len).ok_or(bad)?;
    // Step 6: the bits above emBits must be zero.
    let top_bits = 8 * em_len - em_bits;
    let top_mask = 0xffu8
        .checked_shr(u32::try_from(top_bits).map_err(|_| bad)?)
        .unwrap_or(0);
    let (&first, _) = masked_db.split_first().ok_or(bad)?;
    if first & !top_mask != 0 {
        return Err(bad);
    }
    // Steps 7 and 8: DB = maskedDB xor MGF1(H, emLen - hLen - 1), in a fixed buffer.
    let mut db_buf = [0u8; MAX_MODULUS_BYTES];
    let db = db_buf.get_mut(..db_len).ok_or(bad)?;
    db.copy_from_slice(masked_db);
    mgf1_xor::<D>(h, db);
    // Step 9.
    if let Some(b) = db.first_mut() {
        *b &= top_mask;
    }
    // Step 10: DB = PS (zeros) || 0x01 || salt.
    let ps_len = db_len - s_len - 1;
    let (ps, rest) = db.split_at_checked(ps_len).ok_or(bad)?;
    let (one, salt) = rest.split_at_checked(1).ok_or(bad)?;
    if ps.iter().any(|&b| b != 0) || one != [0x01] {
        return Err(bad);
    }
    // Steps 12 and 13: H' = Hash(00 x 8 || mHash || salt).
    let h_prime = D::new()
        .chain_update([0u8; 8])
        .chain_update(&m_hash)
        .chain_update(salt)
        .finalize();
    // Step 14.
    if bool::from(h_prime.as_slice().ct_eq(h)) {
        Ok(())
    } else {
        Err(bad)
    }
}

/// XORs MGF1(seed) (RFC 8017 §B.2.1) into `out`, one hash block at a time.
fn mgf1_xor<D: Digest>(seed: &[u8], out: &mut [u8]) {
    let h_len = <D as Digest>::output_size();
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(h_len)) {
        let block = D::new()
            .chain_update(seed)
            .chain_update(counter.to_be_bytes())
            .finalize();
        for (o, m) in chunk.iter_mut().zip(block.iter()) {
            *o ^= m;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn modulus(bits: usize) -> [u8; 600] {
        let mut n = [0xffu8; 600];
        let len = bits.div_ceil(8);
        n[..600 - len].fill(0);
        n
    }

    #[test]
    fn square_and_multiply_matches_crypto_bigint_pow() {
        let mut n = [0xabu8; 256];
        n[0] = 0xc3;
        n[255] = 0x35;
        let n = Odd::new(load::<{ U2048::LIMBS }>(&n).unwrap())
            .into_option()
            .unwrap();
        let params = FixedMontyParams::new_vartime(n);
        let base = FixedMontyForm::new(&load::<{ U2048::LIMBS }>(&[0x12; 255]).unwrap(), &params);
        for e in [3u32, 5, 17, 65537, 0x8000_0001, u32::MAX] {
            let expected = base.pow_vartime(&crypto_bigint::U64::from_u32(e));
            assert_eq!(
                pow_public(base, e).retrieve(),
                expected.retrieve(),
                "e = {e}"
            );
        }
    }

    #[test]
    fn key_size_bounds_are_enforced() {
        let e = [0x01, 0x00, 0x01];
        assert_eq!(
            RsaKey::new(&modulus(2040), &e).unwrap_err(),
            SignatureError::KeyRejected
        );
        assert!(RsaKey::new(&modulus(2048), &e).is_ok());
        assert!(RsaKey::new(&modulus(4096), &e).is_ok());
        assert_eq!(
            RsaKey::new(&modulus(4104), &e).unwrap_err(),
            SignatureError::KeyRejected
        );
        // 2047 bits: one bit short.
        let mut n = modulus(2048);
        n[600 - 256] = 0x7f;
        assert_eq!(
            RsaKey::new(&n, &e).unwrap_err(),
            SignatureError::KeyRejected
        );
    }

    #[test]
    fn bad_exponents_and_even_moduli_are_rejected() {
        let n = modulus(2048);
        for e in [
            &[][..],
            &[0],
            &[1],
            &[2],
            &[0x01, 0x00, 0x00],
            &[1, 0, 0, 0, 1],
        ] {
            assert_eq!(
                RsaKey::new(&n, e).unwrap_err(),
                SignatureError::KeyRejected,
                "{e:?}"
            );
        }
        assert!(RsaKey::new(&n, &[3]).is_ok());
        assert!(RsaKey::new(&n, &[0, 0, 1, 0, 1]).is_ok());
        let mut even = n;
        even[599] = 0xfe;
        assert_eq!(
            RsaKey::new(&even, &[1, 0, 1]).unwrap_err(),
            SignatureError::KeyRejected
        );
    }

    #[test]
    fn signature_of_wrong_length_or_not_below_modulus_is_rejected() {
        let n = modulus(2048);
        let key = RsaKey::new(&n, &[1, 0, 1]).unwrap();
        let pkcs1 = Padding::Pkcs1(Hash::Sha256);
        assert_eq!(
            key.verify(pkcs1, b"m", &[1u8; 255]),
            Err(SignatureError::BadSignature)
        );
        assert_eq!(
            key.verify(pkcs1, b"m", &[1u8; 257]),
            Err(SignatureError::BadSignature)
        );
        // s = n and s > n.
        assert_eq!(
            key.verify(pkcs1, b"m", &n[600 - 256..]),
            Err(SignatureError::BadSignature)
        );
        // s = 0 and s = 1 are below n: they run and fail the padding check.
        assert_eq!(
            key.verify(pkcs1, b"m", &[0u8; 256]),
            Err(SignatureError::BadSignature)
        );
    }
}
