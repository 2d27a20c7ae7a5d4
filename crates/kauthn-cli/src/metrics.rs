//! Prometheus metrics in the text exposition format, with upstream's authentication
//! metric names. Upstream: `k8s.io/apiserver/pkg/endpoints/filters/metrics.go`
//! (`authentication_attempts{result}`, `authentication_duration_seconds{result}` with
//! `ExponentialBuckets(0.001, 2, 15)`; result is `success`, `failure` or `error`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Histogram upper bounds in seconds: 1 ms doubling 15 times, as upstream.
pub const BUCKETS: [f64; 15] = [
    0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096,
    8.192, 16.384,
];

/// An authentication result label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthResult {
    /// A user was authenticated (anonymous included).
    Success,
    /// No authenticator recognised the credentials.
    Failure,
    /// An authenticator returned an error.
    Error,
}

impl AuthResult {
    fn index(self) -> usize {
        match self {
            AuthResult::Success => 0,
            AuthResult::Failure => 1,
            AuthResult::Error => 2,
        }
    }
    const LABELS: [&'static str; 3] = ["success", "failure", "error"];
}

#[derive(Default)]
struct Series {
    attempts: AtomicU64,
    buckets: [AtomicU64; 15],
    // Sum in nanoseconds, so it can be an integer atomic.
    sum_nanos: AtomicU64,
}

/// The process's metrics.
#[derive(Default)]
pub struct Metrics {
    series: [Series; 3],
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Records one authentication.
    pub fn record(&self, result: AuthResult, elapsed: Duration) {
        let Some(s) = self.series.get(result.index()) else {
            return;
        };
        s.attempts.fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&s.buckets) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        s.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// How many attempts had `result`.
    pub fn attempts(&self, result: AuthResult) -> u64 {
        self.series
            .get(result.index())
            .map_or(0, |s| s.attempts.load(Ordering::Relaxed))
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP authentication_attempts [ALPHA] Counter of authenticated attempts.\n");
        out.push_str("# TYPE authentication_attempts counter\n");
        for (label, s) in AuthResult::LABELS.iter().zip(&self.series) {
            let _ = writeln!(
                out,
                "authentication_attempts{{result=\"{label}\"}} {}",
                s.attempts.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP authentication_duration_seconds [ALPHA] Authentication duration in seconds broken out by result.\n");
        out.push_str("# TYPE authentication_duration_seconds histogram\n");
        for (label, s) in AuthResult::LABELS.iter().zip(&self.series) {
            for (bound, count) in BUCKETS.iter().zip(&s.buckets) {
                let _ = writeln!(
                    out,
                    "authentication_duration_seconds_bucket{{result=\"{label}\",le=\"{bound}\"}} {}",
                    count.load(Ordering::Relaxed)
                );
            }
            let total = s.attempts.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "authentication_duration_seconds_bucket{{result=\"{label}\",le=\"+Inf\"}} {total}"
            );
            let sum = Duration::from_nanos(s.sum_nanos.load(Ordering::Relaxed)).as_secs_f64();
            let _ = writeln!(
                out,
                "authentication_duration_seconds_sum{{result=\"{label}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "authentication_duration_seconds_count{{result=\"{label}\"}} {total}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_has_upstream_names_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record(AuthResult::Success, Duration::from_micros(1500));
        m.record(AuthResult::Error, Duration::from_micros(100));
        let text = m.render();
        assert!(text.contains("authentication_attempts{result=\"success\"} 1\n"));
        assert!(text.contains("authentication_attempts{result=\"failure\"} 0\n"));
        assert!(text.contains(
            "authentication_duration_seconds_bucket{result=\"success\",le=\"0.001\"} 0\n"
        ));
        assert!(text.contains(
            "authentication_duration_seconds_bucket{result=\"success\",le=\"0.002\"} 1\n"
        ));
        assert!(text.contains("authentication_duration_seconds_count{result=\"error\"} 1\n"));
    }
}
