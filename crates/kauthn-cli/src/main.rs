//! The `kauthn` binary; everything lives in the library (see its docs).

fn main() -> std::process::ExitCode {
    kauthn_cli::main()
}
