//! The non-signature work of one bound service-account authentication (the
//! `jwt_non_signature/rs256_2048_service_account_sha256` row), repeated N times, for counting
//! instructions where timings are too noisy to compare two builds (this machine's benchmark
//! noise is ±15–30%; instruction counts repeat exactly):
//!
//! ```text
//! cargo build --release -p kauthn-benches --example sa_non_signature
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/sa_non_signature 1000
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/sa_non_signature 3000
//! ```
//!
//! (the difference of the two totals / 2000 = instructions per token). Under valgrind, sha2
//! runs its portable code (valgrind hides SHA-NI), so subtract `compress` for the rest.

// A measuring tool over checked-in fixtures: a fixture that fails to load is a broken
// checkout, and stopping there is right.
#![allow(clippy::expect_used)]

use core::hint::black_box;

use kauthn::jose::OwnedKeySet;
use kauthn::{
    Context, Response, Scratch, ServiceAccountAuthenticator, TokenAuthenticator, UnixTime, Verdict,
};
use kauthn_benches::{HashOnly, data};

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut keys = OwnedKeySet::new();
    keys.add_pem(data::SA_RS256_2048_PUB).expect("fixture key");
    let sa = ServiceAccountAuthenticator::bound([data::SA_ISSUER], [data::SA_ISSUER], keys)
        .expect("authenticator")
        .with_verifier(HashOnly);
    let ctx = Context::at(UnixTime::from_secs(data::NOW));
    let mut buf = vec![0u8; 4096];
    let start = std::time::Instant::now();
    for _ in 0..n {
        let mut scratch = Scratch::new(&mut buf);
        let mut out = Response::default();
        let v = sa.authenticate_token_into(
            black_box(data::SA_RS256_2048_JWT),
            &ctx,
            &mut scratch,
            &mut out,
        );
        assert_eq!(v, Verdict::Authenticated);
        black_box(&out);
    }
    eprintln!(
        "{n} tokens, {:?} per token (wall time)",
        start.elapsed() / n
    );
}
