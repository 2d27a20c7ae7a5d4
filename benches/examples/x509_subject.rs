//! Subject extraction of one client leaf, repeated N times, for counting instructions
//! (valgrind) where the `x509_subject_*` rows are too noisy to compare two builds:
//!
//! ```text
//! cargo build --release -p kauthn-benches --example x509_subject
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/x509_subject <what> <leaf> 1000
//! ```
//!
//! `<what>` is `parse`, `subject`, `map` or `webpki`; `<leaf>` is `rsa2048` or `p256`.

// A measuring tool over checked-in fixtures: a fixture that fails to load is a broken
// checkout, and stopping there is right.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use core::hint::black_box;

use kauthn::{CertificateRef, Scratch, UidFromCertificate, User, map_subject_into};
use kauthn_benches::data;
use rustls_pki_types::CertificateDer;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map_or("map", String::as_str).to_owned();
    let leaf = match args.get(2).map_or("rsa2048", String::as_str) {
        "p256" => data::P256_LEAF_DER,
        _ => data::RSA2048_LEAF_DER,
    };
    let n: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let der = CertificateDer::from(leaf);
    let start = std::time::Instant::now();
    for _ in 0..n {
        match what.as_str() {
            "parse" => {
                black_box(CertificateRef::parse(black_box(leaf)).is_ok());
            }
            "webpki" => {
                black_box(webpki::EndEntityCert::try_from(black_box(&der)).is_ok());
            }
            _ => {
                let mut buf = [0u8; 256];
                let mut s = Scratch::new(&mut buf);
                let cert = CertificateRef::parse(black_box(leaf)).unwrap();
                let mut user = User::default();
                map_subject_into(&cert, &mut s, UidFromCertificate::Enabled, &mut user).unwrap();
                black_box(&user);
            }
        }
    }
    eprintln!(
        "{what}: {n} leaves, {:?} per leaf (wall time)",
        start.elapsed() / n
    );
}
