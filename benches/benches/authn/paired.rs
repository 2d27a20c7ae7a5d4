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
//! The absolute targets (issue 4's non-signature time, issue 5's cache hit) cannot be
//! paired; each is sampled the same way, one block per round over the whole run, and judged
//! on the median of its rounds. Each round also times [`core_probe`], a fixed piece of
//! register-only work, so that the line shows how fast the core was in the rounds sampled:
//! what slows this machine is not the clock (a chain of dependent multiplies runs at the
//! same speed throughout) but the core's throughput, presumably shared with another guest
//! on the KVM host; the probe's six independent chains slow with the rows, if more loosely.
//! The line also gives the row's time over the probe's, round by round, which divides out a
//! change of the core's speed as far as the probe feels it as the row does; the verdict is
//! on the time itself.

use core::fmt::Write as _;
use core::hint::black_box;

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
    /// The second row, when there is one, is [`core_probe`].
    TimeAtMost(f64),
    /// The first row's time over the second's, for reference.
    Info,
}

/// The row of a fixed piece of throughput-bound work: six independent chains of adds, xors
/// and rotates in registers, 4 096 steps per call (no memory, no branch but the loop's).
/// Its time per call depends on nothing kauthn or a peer does, only on the share of the
/// core's throughput this thread gets.
pub(crate) fn core_probe() -> Row<'static> {
    Row::new("core_probe", || {
        let mut x = black_box([1u64, 2, 3, 4, 5, 6]);
        for i in 0..4096u64 {
            let [a, b, c, d, e, f] = &mut x;
            *a = a.wrapping_add(i) ^ b.rotate_left(3);
            *b = b.wrapping_add(*a) ^ *c;
            *c = c.rotate_left(5).wrapping_add(*d);
            *d ^= e.wrapping_add(i);
            *e = e.wrapping_add(*f) ^ *a;
            *f = f.rotate_left(7) ^ i;
        }
        black_box(x);
    })
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

/// The median and quartiles over rounds of the first row's time over [`core_probe`]'s in
/// the same round (`times[1]`), when there is a probe row.
fn over_probe(times: &[Vec<f64>]) -> Option<(f64, f64, f64)> {
    let [row, probe, ..] = times else {
        return None;
    };
    let mut r: Vec<f64> = row.iter().zip(probe).map(|(t, p)| t / p).collect();
    Some((
        median(&mut r),
        quantile(&mut r, 0.25),
        quantile(&mut r, 0.75),
    ))
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
        // Before any sorting below: the ratio pairs the rows' times round by round.
        let probe_ratio = match target {
            Target::TimeAtMost(_) => over_probe(&times),
            _ => None,
        };
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
        // For the probe, its quartiles too: they show the phases the rounds fell in.
        let rows_text: Vec<String> = rows
            .iter()
            .zip(times.iter_mut())
            .enumerate()
            .map(|(i, (r, t))| {
                let mut text = format!("`{}` {}", r.name, fmt_ns(median(t)));
                if i == 1 && probe_ratio.is_some() {
                    let (q1, q3) = (quantile(t, 0.25), quantile(t, 0.75));
                    let _ = write!(text, " ({}–{})", fmt_ns(q1), fmt_ns(q3));
                }
                text
            })
            .collect();
        let verdict = match verdict {
            None => "–",
            Some(true) => "yes",
            Some(false) => "**no**",
        };
        let value = match target {
            Target::TimeAtMost(_) => {
                let mut v = format!("{} ({}–{})", fmt_ns(m), fmt_ns(q1), fmt_ns(q3));
                if let Some((pm, pq1, pq3)) = probe_ratio {
                    let _ = write!(v, "; over `core_probe`: {pm:.3} ({pq1:.3}–{pq3:.3})");
                }
                v
            }
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
