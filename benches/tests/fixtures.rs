//! The bench rows' inputs are valid for kauthn and for every peer, and forgeries are not: a
//! row that timed an error path would compare nothing. Runs in `cargo test`, so CI keeps the
//! checked-in fixtures and the peer set-ups honest without running the benches.
#![allow(
    dead_code,
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core
)]

/// The bench modules name the suite's criterion type; any measurement does here.
type Criterion = criterion::Criterion;

#[path = "../benches/authn/jwt.rs"]
mod jwt;
#[path = "../benches/authn/paired.rs"]
mod paired;
#[path = "../benches/authn/x509.rs"]
mod x509;

#[test]
fn every_x509_row_accepts_the_fixture_chains() {
    x509::check_fixtures();
}

#[test]
fn every_jwt_row_accepts_its_token_and_rejects_a_forgery() {
    jwt::check_fixtures();
}
