//! The checked-in `include/kauthn.h` must equal what the pinned cbindgen generates now.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core
)]

use std::path::Path;

#[test]
fn checked_in_header_matches_a_fresh_generation() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    // The version macros come from Cargo.toml, so a release bump regenerates them.
    config.after_includes = Some(format!(
        "\n#define KAUTHN_VERSION \"{}\"\n#define KAUTHN_VERSION_MAJOR {}\n#define KAUTHN_VERSION_MINOR {}\n#define KAUTHN_VERSION_PATCH {}",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    ));
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut fresh);
    let path = crate_dir.join("../../include/kauthn.h");
    if std::env::var_os("KAUTHN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "include/kauthn.h is stale: run `KAUTHN_BLESS=1 cargo test -p kauthn-ffi --test header` and commit it"
    );
}
