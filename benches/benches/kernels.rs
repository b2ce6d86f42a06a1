//! Hamming kernels beside their anchors, in the same run.
//!
//! For every kernel path this CPU runs (`bindspace_host::kernels::available`)
//! at 1,024, 8,192 and 16,384 bits:
//!
//! - one-to-one distance, beside `simsimd`'s binary Hamming;
//! - one-to-many over an arena of 65,536 rows (8, 64 and 128 MiB: the two
//!   larger ones do not fit any cache), beside `simsimd` looped over the rows
//!   and beside plain memory-read passes over the same bytes;
//! - one-to-many over a cache-resident arena (1,024 rows of 1,024 bits,
//!   128 KiB), where the kernels are compared with the scalar path.
//!
//! Criterion measures every case (its usual report); then every lineup is
//! measured again in interleaved rounds, and the medians of those rounds
//! make the tables printed at the end. `BINDSPACE_BENCH_QUICK=1` runs short
//! (CI); `BINDSPACE_BENCH_CRITERION=0` skips criterion; with
//! `BINDSPACE_BENCH_REPORT=path` the tables are also written to `path`.
//!
//! Throughput is bytes of fingerprint data read per second (decimal GB):
//! both fingerprints for one-to-one, the arena for one-to-many.

use bindspace_benches::anchor::PlainRead;
use bindspace_benches::arena::{as_bytes, AlignedWords};
use bindspace_benches::clock;
use bindspace_benches::lineup::{Lineup, Measured};
use bindspace_benches::machine;
use bindspace_benches::mode::Mode;
use bindspace_benches::report::{ratio_table, throughput_table, Ratio};
use bindspace_core::kernels::Kernel;
use core::hint::black_box;
use simsimd::BinarySimilarity;

const WIDTHS_BITS: [usize; 3] = [1024, 8192, 16384];
const ARENA_ROWS: usize = 65_536;
const CACHED_ROWS: usize = 1024;
const CACHED_BITS: usize = 1024;

/// Goals from the project's issue 2.
const GOAL_VS_READ: f64 = 0.85;
const GOAL_VS_SCALAR: f64 = 5.0;
const GOAL_VS_SIMSIMD: f64 = 1.0;

fn main() {
    let mode = Mode::from_env();
    let kernels = bindspace_host::kernels::available();
    let best = *kernels.last().expect("scalar is always available");
    let reads = PlainRead::available();
    let mut criterion = mode.criterion().configure_from_args();
    let header = header(&mode, &kernels, &reads);
    println!("{header}");

    let mut measured: Vec<Measured> = Vec::new();
    let mut run = |mut lineup: Lineup<'_>| {
        if mode.criterion {
            lineup.criterion(&mut criterion);
        }
        let m = lineup.rounds(mode.rounds());
        eprintln!(
            "measured {} ({} rounds)",
            lineup.group(),
            m.first().map_or(0, |x| x.samples)
        );
        measured.extend(m);
    };

    for bits in WIDTHS_BITS
        .into_iter()
        .filter(|&b| mode.wants(&one_to_one_group(b)))
    {
        let a = AlignedWords::random(bits / 64, 1);
        let b = AlignedWords::random(bits / 64, 2);
        run(one_to_one(bits, a.as_slice(), b.as_slice(), &kernels));
    }
    if mode.wants(&cached_group()) {
        let (query, arena) = (
            AlignedWords::random(CACHED_BITS / 64, 3),
            AlignedWords::random(CACHED_ROWS * CACHED_BITS / 64, 4),
        );
        let mut out = vec![0u32; CACHED_ROWS];
        run(one_to_many(
            &cached_group(),
            query.as_slice(),
            arena.as_slice(),
            &mut out,
            &kernels,
            &reads,
        ));
    }
    for bits in WIDTHS_BITS
        .into_iter()
        .filter(|&b| mode.wants(&arena_group(b)))
    {
        let (query, arena) = (
            AlignedWords::random(bits / 64, 5),
            AlignedWords::random(ARENA_ROWS * bits / 64, 6),
        );
        let mut out = vec![0u32; ARENA_ROWS];
        run(one_to_many(
            &arena_group(bits),
            query.as_slice(),
            arena.as_slice(),
            &mut out,
            &kernels,
            &reads,
        ));
    }
    if mode.criterion {
        criterion.final_summary();
    }

    let report = format!(
        "{header}\n### Throughput (medians of interleaved rounds)\n\n{}\n### Ratios\n\n{}",
        throughput_table(&measured),
        ratio_table(&ratios(&measured, best, &kernels))
    );
    println!("\n{report}");
    if let Ok(path) = std::env::var("BINDSPACE_BENCH_REPORT") {
        std::fs::write(&path, &report)
            .unwrap_or_else(|e| panic!("cannot write the report to {path}: {e}"));
        eprintln!("report written to {path}");
    }
}

fn header(mode: &Mode, kernels: &[Kernel], reads: &[PlainRead]) -> String {
    let names = |it: &mut dyn Iterator<Item = &str>| it.collect::<Vec<_>>().join(", ");
    format!(
        "## Hamming kernels ({} mode, {} interleaved rounds, medians of {})\n\n\
         - machine: {}\n- bindspace kernels: {}\n- plain reads: {}\n- simsimd: {}\n",
        mode.name(),
        mode.rounds().rounds,
        clock::name(),
        machine::describe(),
        names(&mut kernels.iter().map(|k| k.name())),
        names(&mut reads.iter().map(|r| r.name())),
        simsimd_path(),
    )
}

/// Which of simsimd's binary kernels its dispatch picks on this CPU.
fn simsimd_path() -> &'static str {
    use simsimd::capabilities as cap;
    if cap::uses_ice() {
        "6.x, b8 Hamming, AVX-512 VPOPCNTDQ path (`ice`)"
    } else if cap::uses_haswell() {
        "6.x, b8 Hamming, `haswell` path (scalar popcnt)"
    } else if cap::uses_neon() {
        "6.x, b8 Hamming, NEON path"
    } else {
        "6.x, b8 Hamming, serial path"
    }
}

fn one_to_one_group(bits: usize) -> String {
    format!("one-to-one/{bits}-bit")
}
fn arena_group(bits: usize) -> String {
    format!("one-to-many/{bits}-bit x {ARENA_ROWS}")
}
fn cached_group() -> String {
    format!("one-to-many/{CACHED_BITS}-bit x {CACHED_ROWS} (cache-resident)")
}

fn one_to_one<'a>(bits: usize, a: &'a [u64], b: &'a [u64], kernels: &[Kernel]) -> Lineup<'a> {
    let expect = Kernel::scalar().distance(a, b).expect("equal widths");
    let mut lineup = Lineup::new(one_to_one_group(bits), 2 * (bits as u64 / 8));
    for &k in kernels {
        assert_eq!(
            k.distance(a, b),
            Ok(expect),
            "{} disagrees with scalar",
            k.name()
        );
        lineup.add(k.name(), move |reps| {
            (0..reps)
                .map(|_| k.distance(black_box(a), black_box(b)).unwrap_or(0) as u64)
                .sum()
        });
    }
    let (a8, b8) = (as_bytes(a), as_bytes(b));
    assert_eq!(
        simsimd_hamming(a8, b8),
        expect,
        "simsimd disagrees with scalar"
    );
    lineup.add("simsimd", move |reps| {
        (0..reps)
            .map(|_| simsimd_hamming(black_box(a8), black_box(b8)) as u64)
            .sum()
    });
    lineup
}

fn one_to_many<'a>(
    group: &str,
    query: &'a [u64],
    arena: &'a [u64],
    out: &'a mut [u32],
    kernels: &[Kernel],
    reads: &[PlainRead],
) -> Lineup<'a> {
    let mut lineup = Lineup::new(group, arena.len() as u64 * 8);
    let mut expect = vec![0u32; out.len()];
    Kernel::scalar()
        .distances(query, arena, &mut expect)
        .expect("shapes");
    for &k in kernels {
        k.distances(query, arena, out).expect("shapes");
        assert_eq!(out, &expect[..], "{} disagrees with scalar", k.name());
    }
    let (q8, arena8) = (as_bytes(query), as_bytes(arena));
    simsimd_distances(q8, arena8, out);
    assert_eq!(out, &expect[..], "simsimd disagrees with scalar");

    // The cases share `out`; they run one at a time, so a RefCell is enough.
    let out = std::rc::Rc::new(core::cell::RefCell::new(out));
    for &k in kernels {
        let out = out.clone();
        lineup.add(k.name(), move |reps| {
            let mut out = out.borrow_mut();
            (0..reps)
                .map(|_| {
                    k.distances(black_box(query), black_box(arena), &mut out)
                        .expect("shapes");
                    out[out.len() - 1] as u64
                })
                .sum()
        });
    }
    lineup.add("simsimd", move |reps| {
        let mut out = out.borrow_mut();
        (0..reps)
            .map(|_| {
                simsimd_distances(black_box(q8), black_box(arena8), &mut out);
                out[out.len() - 1] as u64
            })
            .sum()
    });
    for &r in reads {
        lineup.add(r.name(), move |reps| {
            (0..reps)
                .map(|_| r.read(black_box(arena)))
                .fold(0, |a, x| a ^ x)
        });
    }
    lineup
}

/// simsimd's binary Hamming of two byte strings, as a bit count.
fn simsimd_hamming(a: &[u8], b: &[u8]) -> u32 {
    // simsimd returns the count as an f64; it is exact below 2^53.
    u8::hamming(a, b).expect("equal lengths") as u32
}

/// simsimd one-to-many: its one-to-one looped over the rows.
fn simsimd_distances(query: &[u8], arena: &[u8], out: &mut [u32]) {
    for (row, o) in arena.chunks_exact(query.len()).zip(out.iter_mut()) {
        *o = simsimd_hamming(query, row);
    }
}

fn ratios(measured: &[Measured], best: Kernel, kernels: &[Kernel]) -> Vec<Ratio> {
    let find = |group: &str, case: &str| {
        measured
            .iter()
            .find(|m| m.group == group && m.case == case)
            .cloned()
    };
    let fastest_read = |group: &str| {
        measured
            .iter()
            .filter(|m| m.group == group && m.case.starts_with("read-"))
            .min_by(|a, b| a.median_ns.total_cmp(&b.median_ns))
            .cloned()
    };
    // An arena counts as "larger than the caches" at twice the last level.
    let cache = machine::largest_cache_bytes().unwrap_or(32 << 20);
    let mut out = Vec::new();
    let mut push =
        |label: String, num: Option<Measured>, den: Option<Measured>, goal: Option<f64>| {
            if let (Some(numerator), Some(denominator)) = (num, den) {
                out.push(Ratio {
                    label,
                    numerator,
                    denominator,
                    goal,
                });
            }
        };
    for bits in WIDTHS_BITS {
        let g = arena_group(bits);
        let bytes = (ARENA_ROWS * bits / 8) as u64;
        let beyond_cache = bytes >= 2 * cache;
        let note = if beyond_cache {
            ""
        } else {
            " (fits the last-level cache: information only)"
        };
        push(
            format!(
                "{} one-to-many, {bits}-bit x {ARENA_ROWS} ({} MiB) / fastest plain read{note}",
                best.name(),
                bytes >> 20
            ),
            find(&g, best.name()),
            fastest_read(&g),
            beyond_cache.then_some(GOAL_VS_READ),
        );
    }
    let g = cached_group();
    for k in kernels.iter().filter(|k| k.name() != "scalar") {
        let goal = (k.name() == best.name()).then_some(GOAL_VS_SCALAR);
        push(
            format!("{} / scalar, one-to-many cache-resident ({CACHED_ROWS} x {CACHED_BITS}-bit, 128 KiB)", k.name()),
            find(&g, k.name()),
            find(&g, "scalar"),
            goal,
        );
    }
    for bits in WIDTHS_BITS {
        push(
            format!("{} / simsimd, one-to-one {bits}-bit", best.name()),
            find(&one_to_one_group(bits), best.name()),
            find(&one_to_one_group(bits), "simsimd"),
            Some(GOAL_VS_SIMSIMD),
        );
    }
    push(
        format!("{} / simsimd, one-to-many cache-resident", best.name()),
        find(&g, best.name()),
        find(&g, "simsimd"),
        Some(GOAL_VS_SIMSIMD),
    );
    for bits in WIDTHS_BITS {
        push(
            format!(
                "{} / simsimd, one-to-many {bits}-bit x {ARENA_ROWS}",
                best.name()
            ),
            find(&arena_group(bits), best.name()),
            find(&arena_group(bits), "simsimd"),
            Some(GOAL_VS_SIMSIMD),
        );
    }
    out
}
