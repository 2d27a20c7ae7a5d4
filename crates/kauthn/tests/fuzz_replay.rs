//! Replays every fuzz corpus and crash file through the fuzz harnesses, so each input the
//! fuzzers found interesting (and every crash once fixed) stays covered by `cargo test`.
//! Sources: `fuzz/seeds/<target>/`, `fuzz/corpus/<target>/`, `fuzz/artifacts/<target>/`,
//! and the shared seed corpora in `../shared/vectors/corpus` (x509 and jwt).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

mod fuzz_targets;

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn every_corpus_and_crash_file_runs_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = root.join("../shared/vectors/corpus");
    let mut total = 0;
    for target in fuzz_targets::TARGETS {
        let mut inputs = Vec::new();
        for sub in ["seeds", "corpus", "artifacts"] {
            files(&root.join("fuzz").join(sub).join(target), &mut inputs);
        }
        let shared_dirs: &[&str] = match *target {
            "x509_chain" | "pem_keys" => &["x509"],
            "jws" | "jwk" | "service_account_token" | "oidc_token" => &["jwt"],
            _ => &[],
        };
        if !shared_dirs.is_empty() && !shared.exists() {
            println!(
                "notice: {} is absent; shared corpora skipped for {target}",
                shared.display()
            );
        }
        for d in shared_dirs {
            files(&shared.join(d), &mut inputs);
        }
        for path in &inputs {
            let data = match std::fs::read(path) {
                Ok(d) => d,
                // A fuzzer running beside the tests prunes its local corpus.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("{}: {e}", path.display()),
            };
            fuzz_targets::run(target, &data);
        }
        println!("{target}: {} inputs replayed", inputs.len());
        assert!(!inputs.is_empty(), "{target} has no seed inputs");
        total += inputs.len();
    }
    println!("{total} inputs replayed in all");
}
