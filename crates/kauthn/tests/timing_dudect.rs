//! dudect-style timing tests (Reparaz, Balasch, Verbauwhede, "Dude, is my code constant
//! time?", 2017): time two classes of wrong guesses, interleaved at random, and compare the
//! distributions with Welch's t-test. Class A differs from the secret in its first byte,
//! class B in its last. A comparison that exits early shows |t| far above 4.5; a
//! constant-time one stays below it.
//!
//! Statistical and load-sensitive, so ignored by default. Run:
//! `cargo test --release -p kauthn --test timing_dudect -- --ignored --nocapture --test-threads 1`
//! A control (a naive early-exit comparison) must be detected, or the run has no power.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss
)]

use std::hint::black_box;
use std::time::Instant;

use kauthn::{
    BootstrapSecret, BootstrapTokenAuthenticator, Context, OwnedTokenFile, Scratch,
    TokenAuthenticator, UnixTime,
};

const SAMPLES: usize = 200_000;
const THRESHOLD: f64 = 4.5;

#[derive(Default)]
struct Welch {
    n: [f64; 2],
    mean: [f64; 2],
    m2: [f64; 2],
}

impl Welch {
    fn push(&mut self, class: usize, x: f64) {
        self.n[class] += 1.0;
        let d = x - self.mean[class];
        self.mean[class] += d / self.n[class];
        self.m2[class] += d * (x - self.mean[class]);
    }
    fn t(&self) -> f64 {
        let var = |c: usize| self.m2[c] / (self.n[c] - 1.0);
        (self.mean[0] - self.mean[1]) / (var(0) / self.n[0] + var(1) / self.n[1]).sqrt()
    }
}

// A small xorshift so the class order is unpredictable without a dependency.
struct Rng(u64);
impl Rng {
    fn bit(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 & 1) as usize
    }
}

/// Times `f` on the two classes (`f(class, sample)`); drops the slowest 5% (interrupts,
/// migrations) by cropping at a percentile, as dudect does.
fn t_statistic(mut f: impl FnMut(usize, usize) -> bool) -> f64 {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut times: [Vec<u64>; 2] = [Vec::with_capacity(SAMPLES), Vec::with_capacity(SAMPLES)];
    for i in 0..1000 {
        black_box(f(rng.bit(), i));
    }
    for i in 0..SAMPLES {
        let class = rng.bit();
        let start = Instant::now();
        black_box(f(class, i));
        times[class].push(start.elapsed().as_nanos() as u64);
    }
    let mut all: Vec<u64> = times.iter().flatten().copied().collect();
    all.sort_unstable();
    let crop = all[all.len() * 95 / 100];
    let mut w = Welch::default();
    for (class, ts) in times.iter().enumerate() {
        for &t in ts.iter().filter(|&&t| t <= crop) {
            w.push(class, t as f64);
        }
    }
    w.t()
}

const POOL: usize = 4096;

/// Wrong guesses: class 0 differs from the secret in its first byte, class 1 in its last,
/// each by a different value. Fresh guesses per sample keep anything that depends on the
/// guess as a whole (its hash, its table slot) equal across the classes, so only *where*
/// it differs from the secret separates them.
fn guesses(secret: &[u8], alphabet: &[u8]) -> [Vec<Vec<u8>>; 2] {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut make = |pos: usize| {
        (0..POOL)
            .map(|_| {
                let mut g = secret.to_vec();
                loop {
                    let mut pick = 0usize;
                    for _ in 0..8 {
                        pick = (pick << 1) | rng.bit();
                    }
                    let c = alphabet[pick % alphabet.len()];
                    if c != secret[pos] {
                        g[pos] = c;
                        break;
                    }
                }
                g
            })
            .collect::<Vec<_>>()
    };
    [make(0), make(secret.len() - 1)]
}

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
// Stored test tokens end in digits: mutating with letters never lands on another stored
// token, which would be a (slower) hit rather than a wrong guess.
const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

#[test]
#[ignore = "statistical timing test; run explicitly in release mode"]
fn naive_comparison_control_is_detected() {
    let secret = vec![b'x'; 64 * 1024];
    let mut first = secret.clone();
    first[0] = b'y';
    let mut last = secret.clone();
    *last.last_mut().unwrap() = b'y';
    let g = [first, last];
    let t = t_statistic(|c, _| black_box(&g[c][..]) == black_box(&secret[..]));
    println!("control (early-exit ==): t = {t:.1}");
    assert!(
        t.abs() > THRESHOLD,
        "the test has no power on this machine (t = {t:.1})"
    );
}

#[test]
#[ignore = "statistical timing test; run explicitly in release mode"]
fn token_file_lookup_time_does_not_depend_on_where_a_guess_differs() {
    // 1000 stored tokens; each sample mutates a random one of them, so both classes cover
    // tens of thousands of distinct guesses and any cost tied to a guess's hash (its table
    // slot) averages out equally. Only the position of the difference separates the classes.
    let mut csv = String::new();
    let secrets: Vec<String> = (0..1000)
        .map(|i| format!("k8s-static-token-{i:032}"))
        .collect();
    for (i, t) in secrets.iter().enumerate() {
        csv.push_str(&format!("{t},u{i},i{i}\n"));
    }
    let file = OwnedTokenFile::parse(csv).unwrap();
    let pools: Vec<[Vec<Vec<u8>>; 2]> = secrets
        .iter()
        .map(|t| guesses(t.as_bytes(), ALPHA).map(|p| p.into_iter().take(35).collect()))
        .collect();
    let ctx = Context::at(UnixTime::from_secs(0));
    let mut pick = Rng(0xdead_beef_cafe_f00d);
    let t = t_statistic(|c, i| {
        let mut k = 0usize;
        for _ in 0..10 {
            k = (k << 1) | pick.bit();
        }
        let guess = &pools[k % pools.len()][c][i % 35];
        let mut buf = [0u8; 256];
        let mut s = Scratch::new(&mut buf);
        file.authenticate_token(guess, &ctx, &mut s)
            .is_authenticated()
    });
    println!("token file: t = {t:.2}");
    assert!(
        t.abs() < THRESHOLD,
        "token file lookup leaks the mismatch position: t = {t:.2}"
    );
}

#[test]
#[ignore = "statistical timing test; run explicitly in release mode"]
fn bootstrap_secret_comparison_time_does_not_depend_on_where_a_guess_differs() {
    let secrets = [BootstrapSecret {
        namespace: "kube-system",
        name: "bootstrap-token-abcdef",
        type_: "bootstrap.kubernetes.io/token",
        has_data: true,
        token_id: Some(b"abcdef"),
        token_secret: Some(b"0123456789abcdef"),
        usage_bootstrap_authentication: Some(b"true"),
        ..BootstrapSecret::default()
    }];
    let a = BootstrapTokenAuthenticator::new(&secrets[..]);
    // Both classes keep the token id, so both reach the secret comparison.
    let g = guesses(b"0123456789abcdef", ALNUM).map(|class| {
        class
            .into_iter()
            .map(|s| [&b"abcdef."[..], &s].concat())
            .collect::<Vec<_>>()
    });
    let ctx = Context::at(UnixTime::from_secs(0));
    let t = t_statistic(|c, i| {
        let mut buf = [0u8; 256];
        let mut s = Scratch::new(&mut buf);
        a.authenticate_token(&g[c][i % POOL], &ctx, &mut s)
            .is_authenticated()
    });
    println!("bootstrap: t = {t:.2}");
    assert!(
        t.abs() < THRESHOLD,
        "bootstrap comparison leaks the mismatch position: t = {t:.2}"
    );
}
