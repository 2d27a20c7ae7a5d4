#![no_main]

#[path = "../../crates/kauthn/tests/fuzz_targets/mod.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::oidc_token(data));
