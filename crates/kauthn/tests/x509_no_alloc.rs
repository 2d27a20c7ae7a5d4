//! A counting global allocator shows that verifying a chain and mapping its subject allocate
//! nothing: the pool, certificates and verifier are set up first, then the request path is
//! measured, signatures included (the core's `RustCrypto` backend is allocation-free).
//!
//! One test per binary: the allocator counts process-wide.
#![allow(clippy::std_instead_of_core)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

#[path = "x509_common/mod.rs"]
mod common;

#[path = "counting_alloc/mod.rs"]
mod counting_alloc;

use common::*;
use kauthn::{
    ClientCaPool, Context, Outcome, Request, RequestAuthenticator, Scratch, UnixTime,
    X509Authenticator,
};

#[test]
fn verifying_and_mapping_a_three_level_chain_allocates_nothing() {
    let root_key = TestKey::p384(1);
    let root_b = CertBuilder::new(&[cn("root")]).ca();
    let root = root_b.build(&root_key, &root_key);
    let inter_key = TestKey::p256(2);
    let inter_b = CertBuilder::new(&[cn("inter")])
        .issuer_name(&root_b.subject)
        .ca();
    let inter = inter_b.build(&inter_key, &root_key);
    let leaf = CertBuilder::new(&[
        o("g1"),
        (oids::O, tlv(0x1e, b"\x00g\x00\xe9")),
        cn("alice"),
        uid("u-1"),
    ])
    .issuer_name(&inter_b.subject)
    .ext(eku(&[oids::CLIENT_AUTH]))
    .build(&TestKey::p256(3), &inter_key);
    let pem_text = pem(&[&root]);
    let pool = ClientCaPool::from_pem(pem_text.as_bytes()).unwrap();
    let auth = X509Authenticator::new(pool, kauthn::RustCrypto);
    let chain: [&[u8]; 2] = [&leaf, &inter];
    let mut buf = [0u8; 512];
    let ctx = Context::at(UnixTime::from_secs(1_735_689_600));

    let before = counting_alloc::count();
    let mut scratch = Scratch::new(&mut buf);
    let req = Request {
        client_chain: &chain,
        ..Request::default()
    };
    let outcome = auth.authenticate_request(&req, &ctx, &mut scratch);
    let name = match &outcome {
        Outcome::Authenticated(r) => (r.user.name, r.user.uid, r.user.groups.len()),
        other => panic!("{other:?}"),
    };
    let allocations = counting_alloc::count() - before;
    assert_eq!(name, ("alice", "u-1", 2));
    assert_eq!(allocations, 0, "verification allocated");
}
