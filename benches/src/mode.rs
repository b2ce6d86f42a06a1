//! Full and quick measurement settings.
//!
//! `BINDSPACE_BENCH_QUICK=1` selects the quick mode CI uses: the same cases
//! and the same tables, with shorter criterion runs and fewer interleaved
//! rounds, so a run ends in well under three minutes. Its ratios are
//! noisier; it exists to prove the benchmarks run, not to publish numbers.
//! `BINDSPACE_BENCH_CRITERION=0` skips the criterion pass and measures only
//! the interleaved rounds the tables come from. `BINDSPACE_BENCH_ONLY=text`
//! measures only the lineups whose name contains `text`.

use crate::lineup::Rounds;
use core::time::Duration;
use criterion::Criterion;

/// How long to measure.
#[derive(Clone, Debug)]
pub struct Mode {
    /// Short runs for CI.
    pub quick: bool,
    /// Whether criterion's own pass runs (the tables never need it).
    pub criterion: bool,
    /// Only lineups whose name contains this.
    pub only: Option<String>,
}

impl Mode {
    /// Reads `BINDSPACE_BENCH_QUICK`, `BINDSPACE_BENCH_CRITERION` and
    /// `BINDSPACE_BENCH_ONLY`.
    pub fn from_env() -> Self {
        let set = |name: &str| std::env::var(name).ok().map(|v| v != "0" && !v.is_empty());
        Mode {
            quick: set("BINDSPACE_BENCH_QUICK").unwrap_or(false),
            criterion: set("BINDSPACE_BENCH_CRITERION").unwrap_or(true),
            only: std::env::var("BINDSPACE_BENCH_ONLY")
                .ok()
                .filter(|s| !s.is_empty()),
        }
    }

    /// Whether the lineup named `group` is to be measured.
    pub fn wants(&self, group: &str) -> bool {
        self.only.as_deref().is_none_or(|only| group.contains(only))
    }

    /// A criterion configured for this mode; command-line arguments
    /// (filters, `--save-baseline`, ...) still apply on top.
    pub fn criterion(&self) -> Criterion {
        let c = Criterion::default().without_plots();
        if self.quick {
            c.warm_up_time(Duration::from_millis(100))
                .measurement_time(Duration::from_millis(300))
                .sample_size(10)
                .nresamples(1_000)
        } else {
            c.warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(2))
                .sample_size(30)
        }
    }

    /// The interleaved rounds the tables are computed from.
    pub fn rounds(&self) -> Rounds {
        if self.quick {
            Rounds {
                rounds: 11,
                min_sample: Duration::from_millis(1),
            }
        } else {
            Rounds {
                rounds: 101,
                min_sample: Duration::from_millis(2),
            }
        }
    }

    /// `quick` or `full`, for the report.
    pub fn name(&self) -> &'static str {
        if self.quick {
            "quick"
        } else {
            "full"
        }
    }
}
