//! A lineup: several ways of doing the same work over the same bytes,
//! measured against each other.
//!
//! Each case is a closure that runs its operation `reps` times and returns a
//! checksum (so the work cannot be optimised away). A lineup is measured two
//! ways, from the same closures:
//!
//! - [`Lineup::criterion`] registers every case with criterion, for its
//!   usual report and saved baselines;
//! - [`Lineup::rounds`] measures the cases **interleaved**: each round takes
//!   one sample of every case in turn (starting from a different case each
//!   round), and the result is the median over rounds. On a shared machine a
//!   burst of load from another process then lands on all cases alike
//!   instead of on whichever case criterion happened to be running, which
//!   is what makes the ratios between cases trustworthy. Samples are timed
//!   on [`crate::clock`] (thread CPU time where the OS has it).

use crate::clock::Tick;
use core::hint::black_box;
use core::time::Duration;
use criterion::{measurement::WallTime, BenchmarkGroup, Criterion, SamplingMode, Throughput};
use std::time::Instant;

/// Runs an operation `reps` times; returns a checksum of the results.
type CaseFn<'a> = Box<dyn FnMut(u64) -> u64 + 'a>;

struct Case<'a> {
    name: String,
    run: CaseFn<'a>,
}

/// Cases doing the same work over the same `bytes`.
pub struct Lineup<'a> {
    group: String,
    bytes: u64,
    cases: Vec<Case<'a>>,
}

/// How interleaved rounds are taken.
#[derive(Clone, Copy, Debug)]
pub struct Rounds {
    /// Samples per case (one per round); the median is reported.
    pub rounds: usize,
    /// A sample repeats its operation until it lasts at least this long,
    /// so the clock's resolution is negligible.
    pub min_sample: Duration,
}

/// The median of one case over interleaved rounds.
#[derive(Clone, Debug)]
pub struct Measured {
    /// The lineup's name, e.g. `one-to-many/16384-bit x 65536`.
    pub group: String,
    /// The case's name, e.g. `avx512`.
    pub case: String,
    /// Bytes one operation reads.
    pub bytes: u64,
    /// Median nanoseconds per operation.
    pub median_ns: f64,
    /// Rounds the median was taken over.
    pub samples: usize,
}

impl Measured {
    /// Decimal gigabytes (10^9 bytes) per second.
    pub fn gb_per_s(&self) -> f64 {
        self.bytes as f64 / self.median_ns
    }
}

impl<'a> Lineup<'a> {
    /// An empty lineup named `group`, whose operations each read `bytes`.
    pub fn new(group: impl Into<String>, bytes: u64) -> Self {
        Lineup {
            group: group.into(),
            bytes,
            cases: Vec::new(),
        }
    }

    /// Adds a case: `run(reps)` does the operation `reps` times and returns
    /// a checksum of what it computed.
    pub fn add(&mut self, name: impl Into<String>, run: impl FnMut(u64) -> u64 + 'a) -> &mut Self {
        self.cases.push(Case {
            name: name.into(),
            run: Box::new(run),
        });
        self
    }

    /// The lineup's name.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Registers every case with criterion as one benchmark group, with
    /// throughput in decimal bytes. Operations longer than a millisecond use
    /// flat sampling (criterion's linear sampling would need minutes).
    pub fn criterion(&mut self, c: &mut Criterion) {
        let mut group: BenchmarkGroup<'_, WallTime> = c.benchmark_group(&self.group);
        group.throughput(Throughput::BytesDecimal(self.bytes));
        let slow = self
            .cases
            .first_mut()
            .map(|case| time_once(&mut case.run) > Duration::from_millis(1))
            .unwrap_or(false);
        if slow {
            group.sampling_mode(SamplingMode::Flat);
        }
        for case in &mut self.cases {
            let run = &mut case.run;
            group.bench_function(&case.name, |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    black_box(run(iters));
                    start.elapsed()
                })
            });
        }
        group.finish();
    }

    /// Measures every case in interleaved rounds and returns their medians,
    /// in the order the cases were added.
    pub fn rounds(&mut self, how: Rounds) -> Vec<Measured> {
        let reps: Vec<u64> = self
            .cases
            .iter_mut()
            .map(|case| calibrate(&mut case.run, how.min_sample))
            .collect();
        let n = self.cases.len();
        let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(how.rounds); n];
        for round in 0..how.rounds.max(1) {
            for k in 0..n {
                let i = (round + k) % n;
                let run = &mut self.cases[i].run;
                if reps[i] > 1 {
                    // Short operations: one untimed call first, so data the
                    // previous case evicted is back where it normally lives.
                    black_box(run(1));
                }
                let start = Tick::now();
                black_box(run(reps[i]));
                samples[i].push(start.elapsed().as_nanos() as f64 / reps[i] as f64);
            }
        }
        self.cases
            .iter()
            .zip(samples)
            .map(|(case, mut s)| Measured {
                group: self.group.clone(),
                case: case.name.clone(),
                bytes: self.bytes,
                samples: s.len(),
                median_ns: median(&mut s),
            })
            .collect()
    }
}

fn time_once(run: &mut CaseFn<'_>) -> Duration {
    let start = Instant::now();
    black_box(run(1));
    start.elapsed()
}

/// Repetitions that make one sample last at least `min_sample`.
fn calibrate(run: &mut CaseFn<'_>, min_sample: Duration) -> u64 {
    black_box(run(1)); // warm: page faults, caches, lazy dispatch
    let mut reps = 1u64;
    loop {
        let start = Tick::now();
        black_box(run(reps));
        let took = start.elapsed();
        if took >= min_sample || reps >= 1 << 30 {
            return reps;
        }
        // Aim a little past the target from what this try measured.
        let per = took.as_nanos().max(1) as f64 / reps as f64;
        let want = (min_sample.as_nanos() as f64 * 1.2 / per).ceil() as u64;
        reps = want.clamp(reps * 2, reps * 100);
    }
}

/// The median of `values` (the mean of the two middle ones for an even
/// count); `NaN` for none.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn rounds_measure_every_case_and_see_which_is_slower() {
        let data: Vec<u64> = (0..4096).collect();
        let mut lineup = Lineup::new("test", 4096 * 8);
        lineup.add("once", |reps| {
            (0..reps)
                .map(|_| black_box(&data).iter().sum::<u64>())
                .sum()
        });
        lineup.add("four-times", |reps| {
            (0..reps * 4)
                .map(|_| black_box(&data).iter().sum::<u64>())
                .sum()
        });
        let how = Rounds {
            rounds: 5,
            min_sample: Duration::from_micros(200),
        };
        let m = lineup.rounds(how);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].case.as_str(), m[1].case.as_str()),
            ("once", "four-times")
        );
        assert!(m.iter().all(|x| x.samples == 5 && x.median_ns > 0.0));
        // Four times the work is measurably slower, whatever the noise.
        assert!(m[1].median_ns > 2.0 * m[0].median_ns, "{m:?}");
        assert!((m[0].gb_per_s() - 4096.0 * 8.0 / m[0].median_ns).abs() < 1e-9);
    }
}
