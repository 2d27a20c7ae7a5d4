//! Fixtures shared by the criterion benches in `benches/benches/` (the benches themselves
//! are the point of this crate; see `benches/RESULTS.md`).

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
