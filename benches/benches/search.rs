//! Exact search beside a plain read of the same arena, in the same run.
//!
//! For 1,024, 8,192 and 16,384 bits, a space holding all 65,536 addresses
//! (8, 64 and 128 MiB of fingerprints) is searched for its exact top 10:
//!
//! - `top-10`: one query per pass over the arena;
//! - `top-10 batch of 8`: eight queries in one block-major pass (the time
//!   reported is per pass; the table divides by 8);
//! - `distances only`: the one-to-many kernel over the whole arena into a
//!   buffer, with no top-k, no filter, no metadata: what the search costs
//!   beyond its kernel;
//! - `distances per block`: the same kernel called once per block of
//!   [`BLOCK_ROWS`] rows into a buffer of that many, as a single query's
//!   block pass calls it below 8,192 bits (from 8,192 bits up it makes one
//!   call over the arena; where the kernel has a fused pass, as AVX-512
//!   has up to 2,048 bits, the search makes no such calls at all): what
//!   the blocks would cost;
//! - `top-10, no row passes`: the search with a maximum distance of 0, so
//!   no row gets past the cut: the pass without the row walk and the
//!   heap;
//! - the plain memory-read passes of `bindspace_benches::anchor` over the
//!   very slice the search scans (`Space::arena`).
//!
//! Queries are noisy copies (10% of bits flipped) of stored entries, and
//! before anything is timed every result is checked: the original is the
//! first hit, and the batch returns exactly what single queries return.
//!
//! Goals (issue 3): a single-query search takes at most 1.15 times the
//! fastest plain read at every width; with 8 queries per pass, the time per
//! query is at most half the single-query time at 8,192 bits.
//!
//! `BINDSPACE_BENCH_QUICK=1` runs short (CI); `BINDSPACE_BENCH_CRITERION=0`
//! skips criterion's pass; `BINDSPACE_BENCH_ONLY=text` measures only the
//! widths whose group name contains `text` (e.g. `8192`);
//! `BINDSPACE_BENCH_REPORT=path` also writes the tables to `path`.

use bindspace_benches::anchor::PlainRead;
use bindspace_benches::lineup::{Lineup, Measured};
use bindspace_benches::machine;
use bindspace_benches::mode::Mode;
use bindspace_benches::report::{format_ns, throughput_table};
use bindspace_core::kernels::Kernel;
use bindspace_core::prng::SplitMix64;
use bindspace_core::search::{Hit, SearchOptions};
use bindspace_core::space::GrowableSpace;
use bindspace_core::{Addr, Width};
use core::fmt::Write as _;
use core::hint::black_box;

const WIDTHS_BITS: [u32; 3] = [1024, 8192, 16384];
const ENTRIES: usize = 65_536;
const K: usize = 10;
const BATCH: usize = 8;
/// Search time over plain-read time, at most.
const GOAL_VS_READ: f64 = 1.15;
/// Per-query time in a batch over single-query time, at most.
const GOAL_BATCH: f64 = 0.5;
/// The width the batch goal is set at.
const BATCH_GOAL_BITS: u32 = 8192;

const SINGLE: &str = "top-10";
const BATCHED: &str = "top-10 batch of 8";
const KERNEL_ONLY: &str = "distances only";
const KERNEL_BLOCKS: &str = "distances per block";
const SCREEN_ONLY: &str = "top-10, no row passes";
/// Rows per block of a single-query search (`core/src/search/scan.rs`).
const BLOCK_ROWS: usize = 256;

fn main() {
    let mode = Mode::from_env();
    let kernel = bindspace_host::kernels::detected();
    let reads = PlainRead::available();
    let mut criterion = mode.criterion().configure_from_args();
    let header = format!(
        "## Exact search ({} mode, {} interleaved rounds)\n\n\
         - machine: {}\n- kernel: {} (run-time detected)\n- plain reads: {}\n\
         - space: {ENTRIES} entries, exact top-{K}, queries are stored entries with 10% of bits flipped\n",
        mode.name(),
        mode.rounds().rounds,
        machine::describe(),
        kernel.name(),
        reads.iter().map(|r| r.name()).collect::<Vec<_>>().join(", "),
    );
    println!("{header}");

    let mut measured: Vec<Measured> = Vec::new();
    for bits in WIDTHS_BITS {
        if !mode.wants(&group(bits)) {
            continue;
        }
        let width = Width::from_bits(bits).expect("a valid width");
        let (space, queries) = build(width, u64::from(bits));
        check_results(&space, &queries, kernel);
        let mut lineup = lineup(&space, &queries, kernel, &reads);
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
    }
    if mode.criterion {
        criterion.final_summary();
    }

    let report = format!(
        "{header}\n### Medians of interleaved rounds (per pass)\n\n{}\n### Ratios\n\n{}",
        throughput_table(&measured),
        ratio_table(&measured)
    );
    println!("\n{report}");
    if let Ok(path) = std::env::var("BINDSPACE_BENCH_REPORT") {
        std::fs::write(&path, &report)
            .unwrap_or_else(|e| panic!("cannot write the report to {path}: {e}"));
        eprintln!("report written to {path}");
    }
}

fn group(bits: u32) -> String {
    format!("search/{bits}-bit x {ENTRIES}")
}

/// A space holding every address, and `BATCH` queries: noisy copies of
/// stored entries, each paired with the address of its original.
fn build(width: Width, seed: u64) -> (GrowableSpace, Vec<(Addr, Vec<u64>)>) {
    let mut space = GrowableSpace::growable(width);
    let mut g = SplitMix64::new(seed);
    let mut fp = vec![0u64; width.words()];
    for raw in 0..ENTRIES {
        fp.iter_mut().for_each(|w| *w = g.next());
        space
            .set(Addr(raw as u16), &fp, 1)
            .expect("a growable space holds every address");
    }
    let queries = (0..BATCH)
        .map(|_| {
            let addr = Addr(g.below(ENTRIES as u64) as u16);
            let mut q = space
                .get(addr)
                .expect("every address is stored")
                .fp
                .to_vec();
            for _ in 0..width.bits() / 10 {
                let b = g.below(u64::from(width.bits()));
                q[(b / 64) as usize] ^= 1 << (b % 64);
            }
            (addr, q)
        })
        .collect();
    (space, queries)
}

/// Refuses to time anything that gives wrong answers.
fn check_results(space: &GrowableSpace, queries: &[(Addr, Vec<u64>)], kernel: Kernel) {
    let opts = SearchOptions::new().kernel(kernel);
    let refs: Vec<&[u64]> = queries.iter().map(|(_, q)| &q[..]).collect();
    let mut batch = vec![Hit::default(); BATCH * K];
    let mut lens = [0usize; BATCH];
    space
        .nearest_batch(&refs, &opts, K, &mut batch, &mut lens)
        .expect("shapes");
    for (i, (addr, q)) in queries.iter().enumerate() {
        let mut single = [Hit::default(); K];
        let mut scalar = [Hit::default(); K];
        assert_eq!(space.nearest(q, &opts, &mut single), Ok(K));
        let scalar_opts = opts.kernel(Kernel::scalar());
        assert_eq!(space.nearest(q, &scalar_opts, &mut scalar), Ok(K));
        assert_eq!(single[0].addr, *addr, "the original is the nearest");
        assert_eq!(single, scalar, "the detected kernel agrees with scalar");
        assert_eq!(
            &batch[i * K..(i + 1) * K],
            &single[..],
            "the batch agrees with single queries"
        );
        assert_eq!(lens[i], K);
    }
}

fn lineup<'a>(
    space: &'a GrowableSpace,
    queries: &'a [(Addr, Vec<u64>)],
    kernel: Kernel,
    reads: &[PlainRead],
) -> Lineup<'a> {
    let arena = space.arena();
    let mut lineup = Lineup::new(group(space.width().bits()), arena.len() as u64 * 8);
    let opts = SearchOptions::new().kernel(kernel);
    let mut next = 0usize;
    lineup.add(SINGLE, move |reps| {
        let mut out = [Hit::default(); K];
        (0..reps)
            .map(|_| {
                // Rotate through the queries so no single answer is favoured.
                let q = &queries[next % BATCH].1;
                next += 1;
                space
                    .nearest(black_box(q), &opts, &mut out)
                    .expect("shapes");
                u64::from(out[K - 1].distance)
            })
            .sum()
    });
    // A maximum distance of 0 lets no row through the screen: the pass
    // without the row walk and the heap.
    let none_pass = opts.max_distance(0);
    lineup.add(SCREEN_ONLY, move |reps| {
        let mut out = [Hit::default(); K];
        (0..reps)
            .map(|_| {
                let q = &queries[0].1;
                space
                    .nearest(black_box(q), &none_pass, &mut out)
                    .expect("shapes") as u64
            })
            .sum()
    });
    let refs: Vec<&[u64]> = queries.iter().map(|(_, q)| &q[..]).collect();
    lineup.add(BATCHED, move |reps| {
        let mut out = [Hit::default(); BATCH * K];
        let mut lens = [0usize; BATCH];
        (0..reps)
            .map(|_| {
                space
                    .nearest_batch(black_box(&refs), &opts, K, &mut out, &mut lens)
                    .expect("shapes");
                u64::from(out[BATCH * K - 1].distance)
            })
            .sum()
    });
    let mut dist = vec![0u32; space.len()];
    lineup.add(KERNEL_ONLY, move |reps| {
        (0..reps)
            .map(|_| {
                kernel
                    .distances(black_box(&queries[0].1), arena, &mut dist)
                    .expect("shapes");
                u64::from(dist[0])
            })
            .sum()
    });
    let w = space.width().words();
    lineup.add(KERNEL_BLOCKS, move |reps| {
        let mut dist = [0u32; BLOCK_ROWS];
        (0..reps)
            .map(|_| {
                let q = black_box(&queries[0].1[..]);
                let mut sum = 0u64;
                for block in arena.chunks(BLOCK_ROWS * w) {
                    let dist = &mut dist[..block.len() / w];
                    kernel.distances(q, block, dist).expect("shapes");
                    sum += u64::from(dist[0]);
                }
                sum
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

/// Time ratios, as the goals are stated: search over the fastest plain
/// read, and batched per-query time over single-query time.
fn ratio_table(measured: &[Measured]) -> String {
    let mut t = String::from(
        "| width | arena | fastest plain read | top-10 | top-10 / read | goal | met | \
         batch of 8, per query | per query / single | goal | met | distances only / read |\n\
         |---:|---:|---|---:|---:|---:|:---:|---:|---:|---:|:---:|---:|\n",
    );
    for bits in WIDTHS_BITS {
        let g = group(bits);
        let in_group = || measured.iter().filter(|m| m.group == g);
        let (Some(read), Some(single), Some(batch), Some(kernel_only)) = (
            in_group()
                .filter(|m| m.case.starts_with("read-"))
                .min_by(|a, b| a.median_ns.total_cmp(&b.median_ns)),
            in_group().find(|m| m.case == SINGLE),
            in_group().find(|m| m.case == BATCHED),
            in_group().find(|m| m.case == KERNEL_ONLY),
        ) else {
            continue;
        };
        let vs_read = single.median_ns / read.median_ns;
        let per_query = batch.median_ns / BATCH as f64;
        let vs_single = per_query / single.median_ns;
        let met = |ok: bool| if ok { "yes" } else { "**no**" };
        let (batch_goal, batch_met) = if bits == BATCH_GOAL_BITS {
            (format!("<= {GOAL_BATCH:.2}"), met(vs_single <= GOAL_BATCH))
        } else {
            ("-".into(), "-")
        };
        let _ = writeln!(
            t,
            "| {bits} | {} MiB | {} {} | {} | {vs_read:.3} | <= {GOAL_VS_READ:.2} | {} | {} | {vs_single:.3} | {batch_goal} | {batch_met} | {:.3} |",
            read.bytes >> 20,
            read.case,
            format_ns(read.median_ns),
            format_ns(single.median_ns),
            met(vs_read <= GOAL_VS_READ),
            format_ns(per_query),
            kernel_only.median_ns / read.median_ns,
        );
    }
    t
}
