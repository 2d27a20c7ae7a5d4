//! Fixtures shared by the criterion benches in `benches/benches/` (the benches themselves
//! are the point of this crate; see `benches/RESULTS.md`).

use kauthn::crypto::{PublicKey, SignatureAlgorithm, SignatureError, Verifier};
use sha2::Digest as _;

/// A verifier that hashes the signing input with SHA-256, as a real verification must, and
/// checks nothing: what it leaves to measure is everything but the signature math.
#[derive(Clone, Copy, Debug)]
pub struct HashOnly;

impl Verifier for HashOnly {
    fn verify(
        &self,
        _: SignatureAlgorithm,
        _: &PublicKey<'_>,
        message: &[u8],
        _: &[u8],
    ) -> Result<(), SignatureError> {
        core::hint::black_box(sha2::Sha256::digest(message));
        Ok(())
    }
}

/// A token file with `n` entries, in the upstream CSV format.
pub fn token_file_csv(n: usize) -> String {
    let mut csv = String::with_capacity(n * 48);
    for i in 0..n {
        csv.push_str(&format!(
            "token-{i:016x},user{i},uid-{i},\"group-a,group-b\"\n"
        ));
    }
    csv
}

/// The token of entry `i` in [`token_file_csv`].
pub fn token(i: usize) -> String {
    format!("token-{i:016x}")
}

/// The checked-in fixtures of `benches/data` (made by `benches/data/make.py`; see
/// `benches/data/README.md`), so that kauthn and every peer measure the same bytes.
pub mod data {
    macro_rules! fixture {
        ($($(#[$doc:meta])* $name:ident = $file:literal;)*) => {$(
            $(#[$doc])*
            pub const $name: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/", $file));
        )*};
    }

    fixture! {
        /// RSA-2048 self-signed client CA, DER.
        RSA2048_CA_DER = "rsa2048-ca.der";
        /// The same CA, PEM (a `--client-ca-file`).
        RSA2048_CA_PEM = "rsa2048-ca.pem";
        /// RSA-2048 client leaf issued by [`RSA2048_CA_DER`] (sha256WithRSAEncryption):
        /// `O=system:masters, O=dev, CN=kubernetes-admin`, EKU clientAuth.
        RSA2048_LEAF_DER = "rsa2048-leaf.der";
        /// P-256 self-signed client CA, DER.
        P256_CA_DER = "p256-ca.der";
        /// The same CA, PEM.
        P256_CA_PEM = "p256-ca.pem";
        /// P-256 client leaf issued by [`P256_CA_DER`] (ecdsa-with-SHA256), same subject.
        P256_LEAF_DER = "p256-leaf.der";
        /// A bound service-account token signed RS256 with an RSA-2048 key (1153 bytes).
        SA_RS256_2048_JWT = "sa-rs256-2048.jwt";
        /// Its verification key, SPKI PEM (a `--service-account-key-file`).
        SA_RS256_2048_PUB = "sa-rs256-2048.pub.pem";
        /// The same claims signed RS256 with an RSA-4096 key.
        SA_RS256_4096_JWT = "sa-rs256-4096.jwt";
        /// Its verification key, SPKI PEM.
        SA_RS256_4096_PUB = "sa-rs256-4096.pub.pem";
        /// The same claims signed ES256 with a P-256 key.
        SA_ES256_JWT = "sa-es256.jwt";
        /// Its verification key, SPKI PEM.
        SA_ES256_PUB = "sa-es256.pub.pem";
    }

    /// The issuer and audience of the service-account fixtures (kube-apiserver's default).
    pub const SA_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
    /// The subject of the service-account fixtures.
    pub const SA_SUBJECT: &str = "system:serviceaccount:default:app";
    /// The benches' fixed clock, Unix seconds (2027-01-15): inside every fixture's validity.
    pub const NOW: i64 = 1_800_000_000;
}
