//! Paired measurement of the issue targets that are ratios (`KAUTHN_BENCH_PAIRED=1`).
//!
//! criterion measures one row after another, a few seconds each. On this machine the speed
//! of a core drifts by 20–45% over seconds to minutes (other guests of the KVM host), so two
//! rows measured a minute apart can differ by more than the 10–20% a target asks about, and
//! the same ratio read from two whole-suite runs has come out on both sides of its limit.
//! Here the rows of one comparison take turns instead: each round times one block of about
//! `BLOCK_NS` of every row (the thread's CPU time, as the suite does), the first row of a
//! round rotating, and a ratio is computed within each round. A drift slower than a round
//! (well under a second) then moves both sides of a ratio alike. The table gives the median
//! of the per-round ratios, their quartiles, and every row's median time per call.
//!
//! The one absolute target (issue 4's non-signature time) cannot be paired; it is sampled the
//! same way, one block per round over the whole run, and judged on the median of its rounds.

use core::fmt::Write as _;

/// About how long one block of one row runs, in nanoseconds of thread CPU time.
const BLOCK_NS: f64 = 25e6;
/// Rounds per comparison.
const ROUNDS: usize = 41;

/// One row of a comparison: a name and one call of the work it times.
pub(crate) struct Row<'a> {
    pub(crate) name: &'static str,
    pub(crate) call: Box<dyn FnMut() + 'a>,
}

impl<'a> Row<'a> {
    pub(crate) fn new(name: &'static str, call: impl FnMut() + 'a) -> Self {
        Row {
            name,
            call: Box::new(call),
        }
    }
}

/// What a comparison's per-round number is, and the limit it is judged against.
pub(crate) enum Target {
    /// The first row's time over the second's, at most this.
    RatioAtMost(f64),
    /// The second row's time over the first's (how many times faster the first is), at least
    /// this.
    FasterAtLeast(f64),
    /// The slowest row's time over the fastest's, at most this.
    FlatWithin(f64),
    /// The first row's time less the second's, over the third's, at most this (a part of
    /// the first row's work, timed alone by the second row, left out).
    WithoutSecondAtMost(f64),
    /// The third row's time over the first's less the second's, at least this.
    WithoutSecondFasterAtLeast(f64),
    /// The first row's time itself, in nanoseconds per call, at most this. Nothing is
    /// paired: the per-round median and quartiles of one row, sampled over the whole run,
    /// say more about an absolute time than one criterion measurement taken at one moment.
    TimeAtMost(f64),
    /// The first row's time over the second's, for reference.
    Info,
}

/// Nanoseconds per call of `call` over `n` calls, in thread CPU time.
fn block(call: &mut dyn FnMut(), n: u64) -> f64 {
    let start = cpu_time::ThreadTime::now();
    for _ in 0..n {
        call();
    }
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}

/// Calls per block, so that one block lasts about `BLOCK_NS`.
// The count is a positive float far below 2^53, so the conversion is exact enough.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn calibrate(call: &mut dyn FnMut()) -> u64 {
    let mut n = 1u64;
    loop {
        let per = block(call, n);
        if per * n as f64 >= BLOCK_NS / 10.0 || n >= 1 << 30 {
            return ((BLOCK_NS / per.max(1.0)) as u64).max(1);
        }
        n *= 4;
    }
}

fn median(v: &mut [f64]) -> f64 {
    quantile(v, 0.5)
}

// The index is in 0..len, so the conversion neither truncates nor loses a sign.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i]
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The Markdown table the comparisons are appended to.
pub(crate) struct Report {
    table: String,
}

impl Report {
    pub(crate) fn new() -> Self {
        let mut table = String::new();
        table.push_str("| issue | target | per-round value: median (quartiles) | rows, median per call | met? |\n");
        table.push_str("| --- | --- | --- | --- | --- |\n");
        Report { table }
    }

    /// Runs one comparison of `rows` and adds its line.
    pub(crate) fn compare(
        &mut self,
        issue: &str,
        what: &str,
        target: Target,
        rows: &mut [Row<'_>],
    ) {
        eprintln!("paired: {what}");
        let n: Vec<u64> = rows.iter_mut().map(|r| calibrate(&mut *r.call)).collect();
        let mut times = vec![Vec::with_capacity(ROUNDS); rows.len()];
        for round in 0..ROUNDS {
            for k in 0..rows.len() {
                let i = (round + k) % rows.len();
                let t = block(&mut *rows[i].call, n[i]);
                times[i].push(t);
            }
        }
        let mut values: Vec<f64> = (0..ROUNDS)
            .map(|r| {
                let t: Vec<f64> = times.iter().map(|row| row[r]).collect();
                match target {
                    Target::RatioAtMost(_) | Target::Info => t[0] / t[1],
                    Target::TimeAtMost(_) => t[0],
                    Target::FasterAtLeast(_) => t[1] / t[0],
                    Target::WithoutSecondAtMost(_) => (t[0] - t[1]) / t[2],
                    Target::WithoutSecondFasterAtLeast(_) => t[2] / (t[0] - t[1]),
                    Target::FlatWithin(_) => {
                        let max = t.iter().copied().fold(f64::MIN, f64::max);
                        let min = t.iter().copied().fold(f64::MAX, f64::min);
                        max / min
                    }
                }
            })
            .collect();
        let (q1, q3) = (quantile(&mut values, 0.25), quantile(&mut values, 0.75));
        let m = median(&mut values);
        let verdict = match target {
            Target::RatioAtMost(l)
            | Target::FlatWithin(l)
            | Target::WithoutSecondAtMost(l)
            | Target::TimeAtMost(l) => Some(m <= l),
            Target::FasterAtLeast(l) | Target::WithoutSecondFasterAtLeast(l) => Some(m >= l),
            Target::Info => None,
        };
        let rows_text: Vec<String> = rows
            .iter()
            .zip(times.iter_mut())
            .map(|(r, t)| format!("`{}` {}", r.name, fmt_ns(median(t))))
            .collect();
        let verdict = match verdict {
            None => "–",
            Some(true) => "yes",
            Some(false) => "**no**",
        };
        let value = match target {
            Target::TimeAtMost(_) => format!("{} ({}–{})", fmt_ns(m), fmt_ns(q1), fmt_ns(q3)),
            _ => format!("{m:.2} ({q1:.2}–{q3:.2})"),
        };
        let _ = writeln!(
            self.table,
            "| {issue} | {what} | {value} | {} | {verdict} |",
            rows_text.join(", ")
        );
    }

    pub(crate) fn print(&self) {
        println!(
            "\n{ROUNDS} rounds per comparison, blocks of about {} ms per row per round\n",
            BLOCK_NS / 1e6
        );
        print!("{}", self.table);
    }
}
