//! The host store's must-show numbers, each beside its anchor in one run:
//!
//! - durable single-writer commits/s vs a raw append + fdatasync loop on
//!   the same file system (and vs writes into prefilled space, as the
//!   store's segments are), and vs redb committing the same writes with
//!   its immediate durability;
//! - group commit with 16 committing threads vs one, writing entries at
//!   fresh addresses (the goal's case: every commit adds an entry, and
//!   the memory it lands in is new) and, 16 and 1 alike, over stored
//!   entries (no new memory), beside what two groups of 8 syncing back to
//!   back would reach (a raw write of 8 commits' bytes + fdatasync, times
//!   8), beside
//!   a bare group commit of 16 threads that share fdatasyncs and do
//!   nothing else (`bindspace_benches::bare_group`), and the store's
//!   tally of its syncs (commits per sync, time per sync, share of time
//!   syncing);
//! - the same pair, one writer and 16, in a recycled segment (a covered
//!   segment's file written again after a checkpoint: the store's steady
//!   state once it checkpoints, whose commits need no prefill), with the
//!   one writer's slowest commits beside a fresh segment's;
//! - recovery (open) of a directory of N records, in MB/s of files read;
//! - compaction of N records down to 65,536 live entries, with reader p99
//!   latency while it runs;
//! - parallel search with 2 threads vs 1 on a cache-resident arena.
//!
//! The commit measurements run in interleaved rounds (7; quick mode 3),
//! each round every case once, one writer both first and last; the table
//! gives each rate's and each ratio's median over the rounds and its
//! range, every ratio taken within its round. This disk's sync time
//! drifts by a third within a minute: one-shot ratios of 16 writers to
//! one ranged from 4.4 to 10.8 (19 runs, docs/BENCHMARKS.md).
//!
//! `BINDSPACE_BENCH_QUICK=1` runs small sizes (CI, well under 3 minutes);
//! the run fails only if something crashes. `BINDSPACE_BENCH_ONLY` picks
//! parts (commits, recovery, compaction, search; comma-separated);
//! `BINDSPACE_BENCH_KEEP=1` keeps the filled recovery directory between
//! runs (use it with `ONLY=recovery`: compaction rewrites it). Files go under
//! `BINDSPACE_BENCH_DIR` (default: `target/bench-store`), on the file
//! system being measured.

use bindspace_benches::bare_group::bare_group_commit;
use bindspace_benches::handoff::round_trip;
use bindspace_benches::lineup::median;
use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::search::SearchOptions;
use bindspace_core::{Addr, Width};
use bindspace_host::store::{Durability, Options, Store, SyncStats};
use core::time::Duration;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn quick() -> bool {
    std::env::var("BINDSPACE_BENCH_QUICK").is_ok_and(|v| v == "1")
}

/// Whether part `name` runs: all of them unless `BINDSPACE_BENCH_ONLY`
/// names a comma-separated subset (commits, recovery, compaction, search).
fn part(name: &str) -> bool {
    std::env::var("BINDSPACE_BENCH_ONLY").map_or(true, |only| only.split(',').any(|p| p == name))
}

fn base_dir() -> PathBuf {
    std::env::var("BINDSPACE_BENCH_DIR")
        .map_or_else(|_| PathBuf::from("target/bench-store"), PathBuf::from)
}

fn fresh(name: &str) -> PathBuf {
    let dir = base_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn options(width_bits: u32, durability: Durability) -> Options {
    Options {
        width: Width::from_bits(width_bits).unwrap(),
        durability,
        ..Options::default()
    }
}

fn fp(rng: &mut SplitMix64, words: usize) -> Vec<u64> {
    (0..words).map(|_| rng.next()).collect()
}

/// Raw append of `payload` bytes then fdatasync, `n` times: the anchor the
/// issue names. Each append also changes the file's length, which the
/// sync must write too; the store writes into prefilled space and so beats
/// it. The tighter limit is [`raw_prefilled_fdatasync`]'s, printed beside it.
fn raw_append_fdatasync(n: usize, payload: usize) -> f64 {
    let dir = fresh("raw");
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("raw.log"))
        .unwrap();
    let buf = vec![0x5Au8; payload];
    let start = Instant::now();
    for _ in 0..n {
        f.write_all(&buf).unwrap();
        f.sync_data().unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Raw write + fdatasync into a file prefilled with `0xFF` a MiB ahead,
/// as the store's segments are: the physical limit for overwrites, which
/// need no journaled change of the file's length.
fn raw_prefilled_fdatasync(n: usize, payload: usize) -> f64 {
    use std::os::unix::fs::FileExt;
    const STEP: usize = 1 << 20;
    let dir = fresh("raw-prefilled");
    let f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(dir.join("raw.log"))
        .unwrap();
    let buf = vec![0x5Au8; payload];
    let erased = vec![0xFFu8; STEP];
    let (mut at, mut filled) = (0usize, 0usize);
    let start = Instant::now();
    for _ in 0..n {
        if at + payload > filled {
            f.write_all_at(&erased, filled as u64).unwrap();
            filled += STEP;
        }
        f.write_all_at(&buf, at as u64).unwrap();
        at += payload;
        f.sync_data().unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// What the 16 committers write: entries at fresh addresses (each commit
/// adds an entry, so the space grows), or over entries already stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Writes {
    Fresh,
    Overwrite,
}

/// Where the timed commits land: a new segment file, prefilled ahead of
/// them, or a covered segment's file written again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Segments {
    Fresh,
    Recycled,
}

/// Segment size of the recycled runs: more than the 16 writers' 16,000
/// commits of full mode (17.6 MB), so they stay in the recycled file.
const RECYCLED_SEGMENT: u64 = 24 << 20;

/// Prepares `dir` so that the store's next segment is a recycled file of
/// [`RECYCLED_SEGMENT`] bytes: one address set until a segment is full
/// (not durable on each commit, not timed), then a checkpoint, which keeps
/// the covered segment for reuse.
fn leave_a_recyclable_segment(dir: &Path, words: usize) {
    let opts = Options {
        segment_bytes: RECYCLED_SEGMENT,
        ..options(words as u32 * 64, Durability::Never)
    };
    let store = Store::open(dir, opts).unwrap();
    let f = vec![0x5A5A_5A5A_5A5A_5A5Au64; words];
    let per_commit = words * 8 + 2 * 24;
    for _ in 0..RECYCLED_SEGMENT as usize / per_commit + 16 {
        store
            .commit(&[Mutation::Set {
                addr: Addr(65535),
                fp: &f,
            }])
            .unwrap();
    }
    store.checkpoint().unwrap();
    store.close().unwrap();
}

/// Whether the newest segment in `dir` is a recycled one.
fn writes_a_recycled_segment(dir: &Path) -> bool {
    let newest = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("wal-"))
        .max()
        .unwrap();
    let image = std::fs::read(newest).unwrap();
    bindspace_core::log::Reader::open(&image).is_ok_and(|(h, _)| h.recycled)
}

/// One timed run of commits.
struct CommitRun {
    rate: f64,
    stats: SyncStats,
    took: Duration,
    /// The slowest commit in a thousand, and the slowest, over all threads.
    p999: Duration,
    max: Duration,
}

/// Committer `t`'s `i`-th address: each committer has its own run of
/// 4,096 addresses (16 prefixes).
fn committer_addr(t: usize, i: usize) -> Addr {
    Addr(((t * 4096 + i) % 65536) as u16)
}

/// `threads` committers making `n` single-set commits durable between
/// them, with the store's tally of its syncs and the time the commits
/// took. For [`Writes::Overwrite`], every address is stored first (not
/// timed), so no commit adds an entry.
fn store_commits(
    n: usize,
    words: usize,
    threads: usize,
    writes: Writes,
    segments: Segments,
) -> CommitRun {
    let name = match (writes, segments) {
        (Writes::Fresh, Segments::Fresh) => format!("commits-{threads}"),
        (Writes::Overwrite, _) => format!("overwrites-{threads}"),
        (Writes::Fresh, Segments::Recycled) => format!("recycled-{threads}"),
    };
    let dir = fresh(&name);
    let mut opts = options(words as u32 * 64, Durability::Always);
    if segments == Segments::Recycled {
        leave_a_recyclable_segment(&dir, words);
        opts.segment_bytes = RECYCLED_SEGMENT;
    }
    if writes == Writes::Overwrite {
        let store = Store::open(&dir, options(words as u32 * 64, Durability::Never)).unwrap();
        let mut rng = SplitMix64::new(99);
        for t in 0..threads {
            for i in 0..n / threads {
                let f = fp(&mut rng, words);
                let addr = committer_addr(t, i);
                store.commit(&[Mutation::Set { addr, fp: &f }]).unwrap();
            }
        }
        store.close().unwrap();
    }
    let store = Store::open(&dir, opts).unwrap();
    if segments == Segments::Recycled {
        assert!(writes_a_recycled_segment(&dir), "no recycled segment");
    }
    let start = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let store = &store;
                s.spawn(move || {
                    let mut rng = SplitMix64::new(t as u64);
                    let mut took = Vec::with_capacity(n / threads);
                    for i in 0..n / threads {
                        let f = fp(&mut rng, words);
                        let addr = committer_addr(t, i);
                        let one = Instant::now();
                        store.commit(&[Mutation::Set { addr, fp: &f }]).unwrap();
                        took.push(one.elapsed());
                    }
                    took
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let took = start.elapsed();
    if segments == Segments::Recycled {
        assert!(
            writes_a_recycled_segment(&dir),
            "the timed commits left the recycled segment"
        );
    }
    latencies.sort();
    let rate = (n / threads * threads) as f64 / took.as_secs_f64();
    CommitRun {
        rate,
        // The tally starts at zero when the store opens.
        stats: store.sync_stats(),
        took,
        p999: latencies[latencies.len() * 999 / 1000],
        max: *latencies.last().unwrap(),
    }
}

fn redb_commits(n: usize, words: usize) -> f64 {
    const TABLE: redb::TableDefinition<u16, &[u8]> = redb::TableDefinition::new("fps");
    let dir = fresh("redb");
    let db = redb::Database::create(dir.join("db.redb")).unwrap();
    let mut rng = SplitMix64::new(1);
    let start = Instant::now();
    for i in 0..n {
        let bytes: Vec<u8> = fp(&mut rng, words)
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn.open_table(TABLE).unwrap();
            table.insert((i % 65536) as u16, bytes.as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Writes `records` single-set commits (Never durability, then one sync).
fn fill(dir: &Path, records: usize, words: usize, live: usize) {
    // No automatic checkpoints: the directory is to hold all the records.
    let opts = Options {
        checkpoint_after_segments: 0,
        ..options(words as u32 * 64, Durability::Never)
    };
    let store = Store::open(dir, opts).unwrap();
    let mut rng = SplitMix64::new(7);
    for i in 0..records {
        let f = fp(&mut rng, words);
        store
            .commit(&[Mutation::Set {
                addr: Addr((i % live) as u16),
                fp: &f,
            }])
            .unwrap();
    }
    store.close().unwrap();
}

/// `median (min to max)` of `v`, to `digits` decimals.
fn spread(mut v: Vec<f64>, digits: usize) -> String {
    let mid = median(&mut v);
    // `median` sorted `v`.
    let (lo, hi) = (v[0], v[v.len() - 1]);
    format!("{mid:.digits$} ({lo:.digits$} to {hi:.digits$})")
}

/// One round of the commit measurements, each run back to back so every
/// ratio compares runs a few seconds apart on the same disk.
struct Round {
    raw: f64,
    prefilled: f64,
    single: f64,
    group: f64,
    single_overwrite: f64,
    overwrite: f64,
    bare: f64,
    stats: SyncStats,
    /// The syncs of the round's two one-writer runs at fresh addresses.
    single_stats: SyncStats,
    took: Duration,
    /// One writer and 16 in a recycled segment, and the one writer's
    /// slowest commits there and in a fresh segment (µs, p99.9 and max).
    single_recycled: f64,
    group_recycled: f64,
    stats_recycled: SyncStats,
    took_recycled: Duration,
    tail_fresh: (f64, f64),
    tail_recycled: (f64, f64),
}

fn commits_round(q: bool, words: usize, payload: usize) -> Round {
    let n = if q { 150 } else { 1000 };
    // 16,000 commits in full mode: runs of 3,200 measured lower and
    // noisier, their first milliseconds weighing more than a steady state
    // does. One writer makes 2,000, so that each of its runs lasts about
    // as long as one of 16 writers (a fifth of a second here).
    let group_n = if q { 16 * 40 } else { 16 * n };
    let single_n = 2 * n;
    let raw = raw_append_fdatasync(n, payload);
    let prefilled = raw_prefilled_fdatasync(n, payload);
    let before = store_commits(single_n, words, 1, Writes::Fresh, Segments::Fresh);
    let group = store_commits(group_n, words, 16, Writes::Fresh, Segments::Fresh);
    // The same pair over stored entries, one writer first: the store's
    // steady state, since a space holds at most 65,536 entries and every
    // set after the ones that fill it lands on a stored entry.
    let single_overwrite =
        store_commits(single_n, words, 1, Writes::Overwrite, Segments::Fresh).rate;
    let overwrite = store_commits(group_n, words, 16, Writes::Overwrite, Segments::Fresh).rate;
    // And in recycled segments, one writer on both sides.
    let recycled_before = store_commits(single_n, words, 1, Writes::Fresh, Segments::Recycled);
    let group_recycled = store_commits(group_n, words, 16, Writes::Fresh, Segments::Recycled);
    let recycled_after = store_commits(single_n, words, 1, Writes::Fresh, Segments::Recycled);
    // 16 committers sharing fdatasyncs with nothing else to do, the leader
    // waiting for all of them: what the disk and the wake-ups allow any
    // group commit of 16 synchronous committers here.
    let bare = bare_group_commit(&fresh("bare-group"), 16, group_n / 16, payload)
        .unwrap()
        .rate();
    // One writer again: the round's single-writer rate is the mean of the
    // runs before and after the group runs, so a disk that speeds up or
    // slows down during the round does not tilt its ratios.
    let after = store_commits(single_n, words, 1, Writes::Fresh, Segments::Fresh);
    let single = (before.rate + after.rate) / 2.0;
    let single_stats = add_stats(before.stats, after.stats);
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let tail =
        |a: &CommitRun, b: &CommitRun| (micros(a.p999.max(b.p999)), micros(a.max.max(b.max)));
    Round {
        raw,
        prefilled,
        single,
        group: group.rate,
        single_overwrite,
        overwrite,
        bare,
        stats: group.stats,
        single_stats,
        took: group.took,
        single_recycled: (recycled_before.rate + recycled_after.rate) / 2.0,
        group_recycled: group_recycled.rate,
        stats_recycled: group_recycled.stats,
        took_recycled: group_recycled.took,
        tail_fresh: tail(&before, &after),
        tail_recycled: tail(&recycled_before, &recycled_after),
    }
}

fn add_stats(a: SyncStats, b: SyncStats) -> SyncStats {
    SyncStats {
        syncs: a.syncs + b.syncs,
        commits: a.commits + b.commits,
        sync_time: a.sync_time + b.sync_time,
        gather_time: a.gather_time + b.gather_time,
    }
}

fn commits_part(q: bool, words: usize) {
    let n = if q { 150 } else { 1000 };
    // One set record and its commit.
    let payload = words * 8 + 2 * 24;
    // Medians of interleaved rounds (see the module docs).
    let rounds: Vec<Round> = (0..if q { 3 } else { 7 })
        .map(|_| commits_round(q, words, payload))
        .collect();
    let col = |f: fn(&Round) -> f64| rounds.iter().map(f).collect::<Vec<f64>>();
    let redb = redb_commits(n, words);
    let single = median(&mut col(|r| r.single));
    // Two alternating groups of 8 (one syncing while the other appends),
    // with no time between syncs: each sync writes 8 commits' bytes. One
    // arrangement of 16 synchronous committers; groups of 16 with a short
    // gap between syncs do better (the bare group commit). The median of
    // five shorter runs.
    let mut raw_groups: Vec<f64> = (0..5)
        .map(|_| raw_prefilled_fdatasync(n / 5, GROUP_OF * payload) * GROUP_OF as f64)
        .collect();
    println!();
    println!(
        "{} interleaved rounds; each cell: median (lowest to highest); each ratio taken within its round",
        rounds.len()
    );
    println!();
    println!("| durable commits (8,192-bit set) | commits/s | ratio |");
    println!("|---|---:|---:|");
    println!(
        "| raw append + fdatasync | {} | 1.00 |",
        spread(col(|r| r.raw), 0)
    );
    println!(
        "| raw write into prefilled space + fdatasync | {} | {} |",
        spread(col(|r| r.prefilled), 0),
        spread(col(|r| r.prefilled / r.raw), 2)
    );
    println!(
        "| store, 1 writer, Always | {} | {} vs raw (goal >= 0.9); {} vs prefilled raw |",
        spread(col(|r| r.single), 0),
        spread(col(|r| r.single / r.raw), 2),
        spread(col(|r| r.single / r.prefilled), 2)
    );
    println!(
        "| redb, immediate durability (one run, after the rounds) | {redb:.0} | store (median) / redb {:.2} (goal >= 1.0) |",
        single / redb
    );
    println!(
        "| store, 16 writers, Always, fresh addresses | {} | {} vs 1 writer (goal >= 8) |",
        spread(col(|r| r.group), 0),
        spread(col(|r| r.group / r.single), 2)
    );
    println!(
        "| store, 1 writer, Always, over stored entries | {} | {} vs 1 writer at fresh addresses |",
        spread(col(|r| r.single_overwrite), 0),
        spread(col(|r| r.single_overwrite / r.single), 2)
    );
    println!(
        "| store, 16 writers, Always, over stored entries (no new memory) | {} | {} vs 1 writer over stored entries; {} vs 1 writer at fresh addresses |",
        spread(col(|r| r.overwrite), 0),
        spread(col(|r| r.overwrite / r.single_overwrite), 2),
        spread(col(|r| r.overwrite / r.single), 2)
    );
    println!(
        "| store, 1 writer, Always, recycled segment | {} | {} vs 1 writer in a fresh segment |",
        spread(col(|r| r.single_recycled), 0),
        spread(col(|r| r.single_recycled / r.single), 2)
    );
    println!(
        "| store, 16 writers, Always, recycled segment, fresh addresses | {} | {} vs 1 writer in a recycled segment (goal >= 8); {} vs 16 writers in a fresh segment |",
        spread(col(|r| r.group_recycled), 0),
        spread(col(|r| r.group_recycled / r.single_recycled), 2),
        spread(col(|r| r.group_recycled / r.group), 2)
    );
    println!(
        "| raw write of {GROUP_OF} commits' bytes + fdatasync, x {GROUP_OF} (median of 5 short runs, after the rounds) | {:.0} | {:.2} vs 1 writer (median): two groups of {GROUP_OF} syncing back to back |",
        median(&mut raw_groups),
        median(&mut raw_groups) / single
    );
    println!(
        "| bare group commit, 16 threads (all 16 gathered, no store work) | {} | {} vs 1 writer; store 16 writers (fresh) / bare {} |",
        spread(col(|r| r.bare), 0),
        spread(col(|r| r.bare / r.single), 2),
        spread(col(|r| r.group / r.bare), 2)
    );
    // The bare group commit writes into a prefilled, synced file, as a
    // recycled segment is: over the store's one writer there, it is the
    // most the recycled 16 / 1 ratio could reach on this disk with no
    // store work at all.
    println!(
        "| the same, over 1 writer in a recycled segment (the ceiling of the recycled 16 / 1 ratio here) | | {} vs 1 writer in a recycled segment; store 16 writers (recycled) / bare {} |",
        spread(col(|r| r.bare / r.single_recycled), 2),
        spread(col(|r| r.group_recycled / r.bare), 2)
    );
    let all = rounds
        .iter()
        .fold(SyncStats::default(), |all, r| add_stats(all, r.stats));
    let all_single = rounds.iter().fold(SyncStats::default(), |all, r| {
        add_stats(all, r.single_stats)
    });
    let took: Duration = rounds.iter().map(|r| r.took).sum();
    let all_recycled = rounds.iter().fold(SyncStats::default(), |all, r| {
        add_stats(all, r.stats_recycled)
    });
    let took_recycled: Duration = rounds.iter().map(|r| r.took_recycled).sum();
    println!();
    println!(
        "1 writer's slowest commits, µs (the slower of a round's two runs): fresh segment p99.9 {}, max {}; recycled segment p99.9 {}, max {}",
        spread(col(|r| r.tail_fresh.0), 0),
        spread(col(|r| r.tail_fresh.1), 0),
        spread(col(|r| r.tail_recycled.0), 0),
        spread(col(|r| r.tail_recycled.1), 0)
    );
    println!(
        "16 writers, fresh addresses, all rounds: {} syncs, {:.1} commits per sync, {:.1} µs per sync, the disk syncing {:.0}% of the time; the leaders gathering {:.1} µs before a sync ({:.0}% of the time)",
        all.syncs,
        all.commits_per_sync(),
        all.mean_sync().as_secs_f64() * 1e6,
        all.sync_time.as_secs_f64() / took.as_secs_f64() * 100.0,
        all.gather_time.as_secs_f64() * 1e6 / all.syncs.max(1) as f64,
        all.gather_time.as_secs_f64() / took.as_secs_f64() * 100.0
    );
    println!(
        "16 writers, recycled segment, all rounds: {:.1} commits per sync, {:.1} µs per sync ({:.0}% of the time), the leaders gathering {:.1} µs before a sync ({:.0}% of the time)",
        all_recycled.commits_per_sync(),
        all_recycled.mean_sync().as_secs_f64() * 1e6,
        all_recycled.sync_time.as_secs_f64() / took_recycled.as_secs_f64() * 100.0,
        all_recycled.gather_time.as_secs_f64() * 1e6 / all_recycled.syncs.max(1) as f64,
        all_recycled.gather_time.as_secs_f64() / took_recycled.as_secs_f64() * 100.0
    );
    // A group's sync writes about 16 commits' bytes, one writer's one
    // commit's: on the project disk the larger sync is the slower one,
    // which no arrangement of the committers changes.
    println!(
        "1 writer, fresh addresses, all rounds: {:.1} µs per sync; a 16-writer sync takes {:.2} times as long",
        all_single.mean_sync().as_secs_f64() * 1e6,
        all.mean_sync().as_secs_f64() / all_single.mean_sync().as_secs_f64()
    );
}

/// Committers per group when 16 alternate in two.
const GROUP_OF: usize = 8;

/// CRC-32C alone over the segment files in `dir` (read first), in MB/s:
/// the core's (on x86_64 with SSE4.2, one stream of the `crc32`
/// instruction; elsewhere its table) and the `crc32c` crate's (several
/// streams of the instruction).
fn crc_alone(dir: &Path) -> (f64, f64) {
    let files: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("wal-"))
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    let bytes: usize = files.iter().map(Vec::len).sum();
    let start = Instant::now();
    let core: u32 = files
        .iter()
        .map(|f| bindspace_core::crc32c::checksum(core::hint::black_box(f)))
        .fold(0, |a, c| a ^ c);
    let core_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let hw: u32 = files
        .iter()
        .map(|f| crc32c::crc32c(core::hint::black_box(f)))
        .fold(0, |a, c| a ^ c);
    let hw_s = start.elapsed().as_secs_f64();
    assert_eq!(core, hw, "the two CRC-32Cs agree");
    (bytes as f64 / 1e6 / core_s, bytes as f64 / 1e6 / hw_s)
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() * 99 / 100).copied().unwrap_or_default()
}

fn main() {
    let q = quick();
    let words = 128; // 8,192-bit fingerprints, the default width
    println!(
        "# bindspace host store benchmark ({} mode)",
        if q { "quick" } else { "full" }
    );
    println!("files under {}", base_dir().display());

    if part("commits") {
        commits_part(q, words);
    }
    let records = if q { 100_000 } else { 1_000_000 };
    if part("recovery") || part("compaction") {
        recovery_and_compaction(records, words);
    }
    if part("search") {
        search_part(q);
    }
    if std::env::var("BINDSPACE_BENCH_KEEP").is_err() {
        let _ = std::fs::remove_dir_all(base_dir());
    }
}

fn recovery_and_compaction(records: usize, words: usize) {
    // BINDSPACE_BENCH_KEEP=1 keeps the filled directory between runs
    // (profiling); the part refills it only if it is missing.
    let dir = base_dir().join(format!("recovery-{records}"));
    let keep = std::env::var("BINDSPACE_BENCH_KEEP").is_ok();
    if !(keep && dir.exists()) {
        let dir = fresh(&format!("recovery-{records}"));
        fill(&dir, records, words, 65_536);
    }
    let start = Instant::now();
    let store = Store::open(&dir, options(8192, Durability::Always)).unwrap();
    let took = start.elapsed();
    let bytes = store.recovery().bytes_read;
    println!();
    let (core_crc, hw_crc) = crc_alone(&dir);
    let mbps = bytes as f64 / 1e6 / took.as_secs_f64();
    println!();
    println!("| recovery | records | MB read | seconds | MB/s | vs CRC-32C alone (core / crc32c crate) |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| open = replay of {records} records, files in the page cache (goal >= 500 MB/s) | {records} | {:.0} | {:.2} | {mbps:.0} | {:.2} of {core_crc:.0} MB/s / {:.2} of {hw_crc:.0} MB/s |",
        bytes as f64 / 1e6,
        took.as_secs_f64(),
        mbps / core_crc,
        mbps / hw_crc,
    );

    if !part("compaction") {
        return;
    }
    // Compaction of the same directory (records over 65,536 live
    // addresses) while a reader loops on get + view.
    let stop = core::sync::atomic::AtomicBool::new(false);
    let (report, latencies) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut lat = Vec::new();
            let mut i = 0u16;
            while !stop.load(core::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                let view = store.view();
                core::hint::black_box(view.get(Addr(i)).map(|e| e.fp[0]));
                lat.push(t.elapsed());
                i = i.wrapping_add(1);
            }
            lat
        });
        std::thread::sleep(Duration::from_millis(20));
        let report = store.compact().unwrap();
        stop.store(true, core::sync::atomic::Ordering::Relaxed);
        (report, reader.join().unwrap())
    });
    println!();
    println!("| compaction | records before | live kept | MB before | MB after | seconds (goal < 2) | reader p99 (goal < 1 ms) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| compact() | {records} | {} | {:.0} | {:.0} | {:.2} | {:.1} µs over {} reads |",
        report.records_kept,
        report.bytes_before as f64 / 1e6,
        report.bytes_after as f64 / 1e6,
        report.elapsed.as_secs_f64(),
        p99(latencies.clone()).as_secs_f64() * 1e6,
        latencies.len()
    );
    drop(store);
}

fn search_part(q: bool) {
    // Parallel search on cache-resident arenas of 1,024-bit entries, from
    // 32 KiB (where a second thread cannot pay) to 4 MiB (L3); the goal
    // row is 2 MiB (16,384 entries). Addresses are spread over every
    // prefix, as hashed homes are.
    let sizes: &[usize] = if q {
        &[1024, 16_384]
    } else {
        &[256, 1024, 2048, 4096, 16_384, 32_768]
    };
    let dir = fresh("search");
    let store = Store::open(&dir, options(1024, Durability::Never)).unwrap();
    let mut rng = SplitMix64::new(3);
    let opts = SearchOptions::new();
    println!();
    println!("| search, 1,024-bit entries | arena | 1 thread searches/s | 2 threads searches/s | 2 vs 1 | 2 whole searches side by side / 1 (this work's ceiling now) | a word to the other thread and back, µs |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for &entries in sizes {
        let step = 65_536 / entries;
        // Refill: every entry of this size at `i * step`.
        for i in 0..entries {
            let f = fp(&mut rng, 16);
            store
                .commit(&[Mutation::Set {
                    addr: Addr((i * step) as u16),
                    fp: &f,
                }])
                .unwrap();
        }
        let keep: Vec<Mutation<'_>> = (0..65_536usize)
            .filter(|a| a % step != 0)
            .map(|a| Mutation::Delete {
                addr: Addr(a as u16),
            })
            .collect();
        store.commit(&keep).unwrap();
        let view = store.view();
        assert_eq!(view.len(), entries);
        let query = fp(&mut rng, 16);
        // About 0.5 s of scanning per measurement in full mode.
        let rounds = (if q { 20_000_000 } else { 400_000_000 }) / (entries * 16) + 10;
        let mut per = [0f64; 2];
        for (slot, threads) in [1usize, 2].iter().enumerate() {
            let reference = view.search(&query, 10, &opts, 1).unwrap();
            assert_eq!(view.search(&query, 10, &opts, *threads).unwrap(), reference);
            let mut best = 0f64;
            for _ in 0..3 {
                let start = Instant::now();
                for _ in 0..rounds {
                    core::hint::black_box(view.search(&query, 10, &opts, *threads).unwrap());
                }
                best = best.max(rounds as f64 / start.elapsed().as_secs_f64());
            }
            per[slot] = best;
        }
        let side_by_side = side_by_side_searches(&view, &query, &opts, rounds);
        let trip = round_trip(200);
        let goal = if entries == 16_384 {
            " (goal >= 1.6)"
        } else {
            ""
        };
        println!(
            "| {entries} entries | {} KiB | {:.0} | {:.0} | {:.2}{goal} | {:.2} | {:.2} |",
            entries * 128 / 1024,
            per[0],
            per[1],
            per[1] / per[0],
            side_by_side / per[0],
            trip.as_secs_f64() * 1e6
        );
    }
    let ceiling = parallel_ceiling(q);
    println!(
        "| anchor: pure integer work, 2 threads vs 1 (this machine's ceiling now) | | | | {ceiling:.2} | | |"
    );
}

/// Searches per second of two threads each running whole one-thread
/// searches of `view` at once (best of 3): what two processors give this
/// very work right now, the ceiling a split search is read against.
/// Integer work alone can scale where scanning an arena does not.
fn side_by_side_searches(
    view: &bindspace_host::store::View,
    query: &[u64],
    opts: &SearchOptions,
    rounds: usize,
) -> f64 {
    let half = rounds.div_ceil(2);
    let mut best = 0f64;
    for _ in 0..3 {
        let took = on_two_threads_at_once(|_| {
            for _ in 0..half {
                core::hint::black_box(view.search(query, 10, opts, 1).unwrap());
            }
        });
        best = best.max((2 * half) as f64 / took.as_secs_f64());
    }
    best
}

/// Runs `work(0)` on this thread and `work(1)` on a second one at the
/// same time; returns how long both took.
fn on_two_threads_at_once(work: impl Fn(usize) + Sync) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        let other = s.spawn(|| work(1));
        work(0);
        other.join().expect("the second thread panicked");
    });
    start.elapsed()
}

/// What two threads can give on this machine right now: the same
/// integer work on one thread, then on two at once. A shared or loaded
/// machine gives less than 2.
fn parallel_ceiling(q: bool) -> f64 {
    let work = if q { 20_000_000u64 } else { 200_000_000 };
    let spin = |seed: u64| {
        let mut rng = SplitMix64::new(seed);
        (0..work).fold(0u64, |a, _| a ^ rng.next())
    };
    let start = Instant::now();
    core::hint::black_box(spin(1));
    let one = start.elapsed().as_secs_f64();
    let two = on_two_threads_at_once(|i| {
        core::hint::black_box(spin(3 - i as u64));
    });
    2.0 * one / two.as_secs_f64()
}
