//! Exact k-nearest search over a [`View`], split across threads.
//!
//! Each shard is a core space, searched by the core's exact search with
//! the run-time-detected kernel. Threads take disjoint runs of shards
//! (balanced by entry count), each keeps its best `k`, and the runs are
//! merged by `(distance, address)`. Because that key is total, the answer
//! is the same whatever the split: ties always go to the lower address.

use super::pool;
use super::view::View;
use bindspace_core::search::{Hit, SearchOptions};
use bindspace_core::space::GrowableSpace;
use core::ops::Range;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::Thread;
use std::time::Instant;

/// A helper's part of a split search, handed to a pool worker: whoever
/// takes it first runs it, the worker or the caller. On a loaded machine
/// a woken worker may wait milliseconds for a processor; the caller, done
/// with its own part, then does the work itself instead of waiting for it
/// (measured with the other core busy: two threads ran at 0.15 to 0.5 of
/// one thread's rate while the caller waited).
///
/// The flags and the answer sit together, and nothing else of the search
/// is written by both threads: each line that passes between the two
/// processors is on the search's path, and on some placements of this
/// project's virtual machine a line takes 0.2-0.25 µs each way (store run
/// Q). A channel per search, as before, moved several lines and a block
/// the worker allocated and the caller freed.
struct HelperPart {
    taken: AtomicBool,
    /// Set once `answer` holds the worker's answer, or the worker's job
    /// ended without one (it panicked).
    done: AtomicBool,
    answer: Mutex<Option<Vec<Hit>>>,
    /// The caller, unparked when `done` is set.
    caller: Thread,
}

impl HelperPart {
    /// A part not yet taken, answering the calling thread.
    fn for_this_thread() -> HelperPart {
        HelperPart {
            taken: AtomicBool::new(false),
            done: AtomicBool::new(false),
            answer: Mutex::new(None),
            caller: std::thread::current(),
        }
    }

    /// Takes the part; false if someone already did.
    fn take(&self) -> bool {
        !self.taken.swap(true, Ordering::AcqRel)
    }

    /// The worker's answer, once it is done: spins for [`pool::SPIN`],
    /// then parks. `None` if the job ended without one.
    fn wait(&self) -> Option<Vec<Hit>> {
        let start = Instant::now();
        while !self.done.load(Ordering::Acquire) {
            if start.elapsed() < pool::SPIN {
                core::hint::spin_loop();
            } else {
                // Unparked when `done` is set; a spurious wake looks again.
                std::thread::park();
            }
        }
        self.answer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// Marks a worker's part done when dropped, with or without an answer,
/// so a job that panics cannot leave its caller waiting.
struct Reply(Arc<HelperPart>);

impl Drop for Reply {
    fn drop(&mut self) {
        self.0.done.store(true, Ordering::Release);
        self.0.caller.unpark();
    }
}

/// How many shards at the start of each run are bounded by the cut the
/// runs share (see [`search_shards`]); after them a run uses its own.
///
/// Sharing pays at the start, where a run has no `k`-th best of its own
/// yet; later its own is nearly as tight. But every read of the shared
/// line just after the other processor wrote it waits for the line to
/// cross over, and on some placements of this project's virtual machine a
/// word takes 0.4-0.5 µs to cross and come back (0.06 µs on others; the
/// bench prints it). At 2 MiB, in five alternating pairs of runs on the
/// slow placement, 2 threads / 1 went from 1.58-1.61 (shared throughout)
/// to 1.62-1.68 with 16 shards; 8 gave 1.52-1.66 (docs/BENCHMARKS.md,
/// store run Q).
const SHARED_CUT_SHARDS: usize = 16;

/// Searches `shards` one after another, keeping the best `k`.
///
/// Each shard is a search of its own, which would rank its rows from
/// scratch; instead the best `k`-th distance known so far bounds it (as
/// its maximum distance, so the core screens the rows above it out). That
/// bound is the lower of this run's own `k`-th best and, for its first
/// [`SHARED_CUT_SHARDS`] shards, `cut`, the lowest any run of the same
/// search has published: either way `k` hits at or below it exist, so no
/// row above it can be in the answer, and an equal distance is still
/// searched (it may win its tie by address). Measured on 256 shards of 64
/// entries: 162 µs a search unbounded, 42 µs bounded by the run's own cut;
/// sharing the cut keeps two threads' total work near one thread's.
fn search_shards<'a>(
    shards: impl IntoIterator<Item = &'a GrowableSpace>,
    query: &[u64],
    k: usize,
    opts: &SearchOptions,
    cut: &AtomicU32,
) -> Vec<Hit> {
    let mut best: Vec<Hit> = Vec::with_capacity(2 * k);
    let mut found = vec![Hit::default(); k];
    let mut bounded = *opts;
    // The lowest bound this run knows: the caller's, its own k-th best or
    // a shared one.
    let mut known = opts.max_distance.unwrap_or(u32::MAX);
    for (i, shard) in shards.into_iter().enumerate() {
        let sharing = i < SHARED_CUT_SHARDS;
        if sharing {
            known = known.min(cut.load(Ordering::Relaxed));
        }
        bounded.max_distance = (known != u32::MAX).then_some(known);
        // The query width was checked against the view and shards share
        // it, so an error here is a bug: reading it as "no hits" would
        // answer a wrong search silently.
        let n = shard
            .nearest(query, &bounded, &mut found)
            .expect("a query of the view's width searches every shard");
        if n == 0 {
            continue;
        }
        best.extend_from_slice(&found[..n]);
        if best.len() >= k {
            best.sort_unstable();
            best.truncate(k);
            let mine = best[k - 1].distance;
            if mine < known {
                known = mine;
                // Published only when it improves on what every run
                // already uses: a read-modify-write takes the cache line
                // for itself even when it changes nothing, so an
                // unconditional one per shard moved the line between the
                // two processors all through the search (2 threads / 1 at
                // 2 MiB from 1.42-1.45 to 1.57 in the bench's slower runs,
                // docs/BENCHMARKS.md store run P).
                if sharing {
                    cut.fetch_min(mine, Ordering::Relaxed);
                }
            }
        }
    }
    best.sort_unstable();
    best.truncate(k);
    best
}

/// Splits `shards` into at most `parts` contiguous runs of about equal
/// entry counts, as index ranges.
fn split(shards: &[&GrowableSpace], parts: usize) -> Vec<Range<usize>> {
    let total: usize = shards.iter().map(|s| s.len()).sum();
    let per_part = total.div_ceil(parts.max(1)).max(1);
    let mut runs = Vec::with_capacity(parts);
    let (mut start, mut acc) = (0, 0);
    for (i, s) in shards.iter().enumerate() {
        acc += s.len();
        if acc >= per_part && runs.len() + 1 < parts {
            runs.push(start..i + 1);
            start = i + 1;
            acc = 0;
        }
    }
    if start < shards.len() {
        runs.push(start..shards.len());
    }
    runs
}

/// Below this many 64-bit words of fingerprints in the searched shards,
/// a search stays on the calling thread: handing half to a pool thread
/// (wake it, wait for its answer, merge) costs more than it saves.
/// Measured with `benches/benches/store.rs` (search part, which prints
/// 1 vs 2 threads for arenas from 32 KiB to 4 MiB) on a 2-core AMD EPYC
/// with AVX-512 VPOPCNTDQ: 2 threads lose below 128 KiB and gain from
/// 256 KiB, so the cut is at 256 KiB (see docs/BENCHMARKS.md).
pub(crate) const PARALLEL_MIN_WORDS: usize = 256 * 1024 / 8;

/// The `k` entries nearest to `query`, best first, using up to `threads`
/// threads (the caller and pool threads). The caller has checked the
/// query width.
pub(crate) fn search(
    view: &View,
    query: &[u64],
    k: usize,
    opts: &SearchOptions,
    threads: usize,
) -> Vec<Hit> {
    let shards: Vec<&GrowableSpace> = view.shards_in(opts.filter).collect();
    let entries: usize = shards.iter().map(|s| s.len()).sum();
    // No answer holds more than every entry: a `k` of `usize::MAX` ("all
    // of them") must not size the runs' buffers.
    let k = k.min(entries);
    if k == 0 {
        return Vec::new();
    }
    let words = entries * view.width().words();
    let threads = if words < PARALLEL_MIN_WORDS {
        1
    } else {
        threads.clamp(1, pool::workers() + 1)
    };
    let runs = split(&shards, threads);
    let Some((first, rest)) = runs.split_first() else {
        return Vec::new();
    };
    if rest.is_empty() {
        return search_shards(
            shards[first.clone()].iter().copied(),
            query,
            k,
            opts,
            &AtomicU32::new(u32::MAX),
        );
    }
    // Each pool job owns a clone of the view (sharing its shards), of the
    // query and of the shared cut, and finds its run of shards again by
    // index: a view never changes, so it is the same run.
    let shared_query: Arc<[u64]> = Arc::from(query);
    let cut = Arc::new(AtomicU32::new(u32::MAX));
    let mut parts: Vec<Arc<HelperPart>> = Vec::with_capacity(rest.len());
    for (i, run) in rest.iter().enumerate() {
        let part = Arc::new(HelperPart::for_this_thread());
        let (view, query, opts) = (view.clone(), Arc::clone(&shared_query), *opts);
        let (range, cut, reply) = (run.clone(), Arc::clone(&cut), Reply(Arc::clone(&part)));
        let job: Box<dyn FnOnce() + Send> = Box::new(move || {
            if !reply.0.take() {
                return;
            }
            // Walked again rather than collected: no allocation per job.
            let run = view
                .shards_in(opts.filter)
                .skip(range.start)
                .take(range.len());
            let answer = search_shards(run, &query, k, &opts, &cut);
            *reply
                .0
                .answer
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(answer);
        });
        // A job no worker could take is run here; it answers the same way.
        if let Err(job) = pool::run(i, job) {
            job();
        }
        parts.push(part);
    }
    let mut all = search_shards(shards[first.clone()].iter().copied(), query, k, opts, &cut);
    for (part, run) in parts.iter().zip(rest) {
        if part.take() {
            // Not started by its worker: searched here instead.
            all.extend(search_shards(
                shards[run.clone()].iter().copied(),
                query,
                k,
                opts,
                &cut,
            ));
        } else {
            // A job only reads immutable shards; one that did not answer
            // panicked, which is a bug, and an answer without its part
            // would be wrong.
            all.extend(part.wait().expect("a search thread panicked"));
        }
    }
    all.sort_unstable();
    all.truncate(k);
    all
}

#[cfg(test)]
mod tests {
    //! The split and bounded search against brute force over the view's
    //! entries: random views spread over many prefixes, clustered
    //! fingerprints (so distances tie), every filter kind, maximum
    //! distances, k from 1 to past the entry count, 1 and 2 threads.

    use super::super::view::Working;
    use super::*;
    use bindspace_core::mutation::Mutation;
    use bindspace_core::prng::SplitMix64;
    use bindspace_core::space::Filter;
    use bindspace_core::{Addr, Width, Zone};

    fn brute_force(view: &View, query: &[u64], k: usize, opts: &SearchOptions) -> Vec<Hit> {
        let mut all: Vec<Hit> = view
            .iter(opts.filter)
            .map(|e| Hit {
                distance: e
                    .fp
                    .iter()
                    .zip(query)
                    .map(|(a, b)| (a ^ b).count_ones())
                    .sum(),
                addr: e.addr,
            })
            .filter(|h| opts.max_distance.is_none_or(|d| h.distance <= d))
            .collect();
        all.sort_unstable();
        all.truncate(k);
        all
    }

    /// A view of `entries` random 1,024-bit entries spread over every
    /// prefix: large enough to split.
    fn random_view(entries: usize, seed: u64) -> View {
        let width = Width::from_words(16).unwrap();
        let mut rng = SplitMix64::new(seed);
        let mut working = Working::new(width);
        for (seq, i) in (1..).zip(0..entries) {
            let fp: Vec<u64> = (0..16).map(|_| rng.next()).collect();
            let addr = Addr((i * (65_536 / entries)) as u16);
            working
                .apply(&Mutation::Set { addr, fp: &fp }, seq)
                .unwrap();
        }
        working.freeze()
    }

    #[test]
    fn a_part_no_worker_starts_is_searched_by_the_caller() {
        let view = random_view(4096, 7);
        assert!(view.len() * 16 >= PARALLEL_MIN_WORDS);
        let query: Vec<u64> = (0..16).map(|i| i * 0x9E37_79B9).collect();
        let opts = SearchOptions::new();
        let expected = brute_force(&view, &query, 10, &opts);
        // Every worker busy until released: the helper's part waits in
        // its worker's queue, so the caller takes it and searches it.
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let blocked = Arc::new(Mutex::new(blocked));
        let (started_tx, started) = std::sync::mpsc::channel();
        for i in 0..pool::workers() {
            let (blocked, started_tx) = (Arc::clone(&blocked), started_tx.clone());
            let job: Box<dyn FnOnce() + Send> = Box::new(move || {
                started_tx.send(()).unwrap();
                let _ = blocked.lock().unwrap().recv();
            });
            assert!(pool::run(i, job).is_ok(), "a pool thread takes jobs");
        }
        assert!(pool::workers() > 0, "the pool has a thread");
        for _ in 0..pool::workers() {
            started.recv().unwrap();
        }
        // On a thread of its own, so a caller that waited for the busy
        // worker instead fails the test rather than hanging it.
        let (answer_tx, answer) = std::sync::mpsc::channel();
        let (v, q) = (view.clone(), query.clone());
        std::thread::spawn(move || answer_tx.send(search(&v, &q, 10, &opts, 2)).unwrap());
        let got = answer.recv_timeout(core::time::Duration::from_secs(30));
        drop(release);
        assert_eq!(got.expect("the caller searched the part itself"), expected);
        // The workers, freed, find the queued part taken; the next split
        // search runs on them as usual.
        assert_eq!(search(&view, &query, 10, &opts, 2), expected);
    }

    #[test]
    fn a_k_past_every_entry_asks_for_no_more_memory_than_the_entries() {
        // usize::MAX overflowed the runs' buffers (capacity 2k) and 1 << 40
        // asked for terabytes before k was limited to the entry count.
        let view = random_view(4096, 11);
        let query: Vec<u64> = (0..16).map(|i| i * 0x51_7CC1).collect();
        let opts = SearchOptions::new();
        let every = brute_force(&view, &query, view.len(), &opts);
        assert_eq!(every.len(), view.len());
        for threads in [1, 2] {
            for k in [usize::MAX, 1 << 40, view.len() + 1] {
                assert_eq!(search(&view, &query, k, &opts, threads), every);
            }
        }
    }

    #[test]
    fn a_worker_that_ends_without_an_answer_still_wakes_its_caller() {
        let part = Arc::new(HelperPart::for_this_thread());
        let reply = Reply(Arc::clone(&part));
        assert!(reply.0.take(), "the first take wins");
        assert!(!part.take(), "the second loses");
        // As when the job panics: the reply is dropped unanswered.
        std::thread::spawn(move || drop(reply)).join().unwrap();
        assert_eq!(part.wait(), None);
    }

    #[test]
    fn equals_brute_force_over_random_views() {
        // 16 words a row, so views of 2,048 entries and more reach
        // PARALLEL_MIN_WORDS and really split across threads.
        const WORDS: usize = 16;
        let width = Width::from_words(WORDS).unwrap();
        let mut split_searches = 0;
        for seed in 0..30 {
            let mut rng = SplitMix64::new(seed);
            let mut working = Working::new(width);
            // A few centres; every entry is a centre with a few bits
            // flipped, so many distances are equal across shards.
            let centres: Vec<Vec<u64>> = (0..3)
                .map(|_| (0..WORDS).map(|_| rng.next()).collect())
                .collect();
            let entries = 1 + rng.below(5000) as usize;
            for seq in 1..=entries as u64 {
                let mut fp = centres[rng.below(3) as usize].clone();
                for _ in 0..rng.below(4) {
                    fp[rng.below(WORDS as u64) as usize] ^= 1 << rng.below(64);
                }
                let addr = Addr(rng.below(65_536) as u16);
                working
                    .apply(&Mutation::Set { addr, fp: &fp }, seq)
                    .unwrap();
            }
            let view = working.freeze();
            for _ in 0..20 {
                let mut query = centres[rng.below(3) as usize].clone();
                query[rng.below(WORDS as u64) as usize] ^= rng.next() & rng.next();
                let k = 1 + rng.below(view.len() as u64 + 5) as usize;
                let mut opts = SearchOptions::new().filter(match rng.below(4) {
                    0 => Filter::All,
                    1 => Filter::Prefix(rng.below(256) as u8),
                    2 => Filter::Zone(Zone::ALL[rng.below(3) as usize]),
                    _ => Filter::All,
                });
                if rng.below(3) == 0 {
                    opts = opts.max_distance(rng.below(40) as u32);
                }
                let expected = brute_force(&view, &query, k, &opts);
                if view.count(opts.filter) * WORDS >= PARALLEL_MIN_WORDS {
                    split_searches += 1;
                }
                for threads in [1, 2] {
                    assert_eq!(
                        search(&view, &query, k, &opts, threads),
                        expected,
                        "seed {seed}, k {k}, {threads} threads"
                    );
                }
            }
        }
        assert!(
            split_searches >= 20,
            "only {split_searches} searches were split"
        );
    }
}
