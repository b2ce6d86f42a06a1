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
use std::sync::{mpsc, Arc};

/// Searches `shards` one after another, keeping the best `k`.
fn search_shards(
    shards: &[&GrowableSpace],
    query: &[u64],
    k: usize,
    opts: &SearchOptions,
) -> Vec<Hit> {
    let mut best: Vec<Hit> = Vec::with_capacity(2 * k);
    let mut found = vec![Hit::default(); k];
    for shard in shards {
        // The query width was checked against the view; shards share it.
        let n = shard.nearest(query, opts, &mut found).unwrap_or(0);
        best.extend_from_slice(&found[..n]);
        if best.len() >= 2 * k {
            best.sort_unstable();
            best.truncate(k);
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
    if k == 0 {
        return Vec::new();
    }
    let shards: Vec<&GrowableSpace> = view.shards_in(opts.filter).collect();
    let entries: usize = shards.iter().map(|s| s.len()).sum();
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
        return search_shards(&shards[first.clone()], query, k, opts);
    }
    // Each pool job owns a clone of the view (sharing its shards) and of
    // the query, and finds its run of shards again by index: a view never
    // changes, so it is the same run.
    let shared_query: Arc<[u64]> = Arc::from(query);
    let (tx, rx) = mpsc::channel();
    for (i, run) in rest.iter().enumerate() {
        let (view, query, opts, tx) = (view.clone(), Arc::clone(&shared_query), *opts, tx.clone());
        let range = run.clone();
        let job: Box<dyn FnOnce() + Send> = Box::new(move || {
            let shards: Vec<&GrowableSpace> = view.shards_in(opts.filter).collect();
            let _ = tx.send(search_shards(&shards[range], &query, k, &opts));
        });
        // A job no worker could take is run here; it answers the same way.
        if let Err(job) = pool::run(i, job) {
            job();
        }
    }
    drop(tx);
    let mut all = search_shards(&shards[first.clone()], query, k, opts);
    let mut received = 0;
    while received < rest.len() {
        let Some(part) = pool::receive(&rx) else {
            break;
        };
        all.extend(part);
        received += 1;
    }
    // A job only reads immutable shards; one that did not answer panicked,
    // which is a bug, and an answer without its part would be wrong.
    assert_eq!(received, rest.len(), "a search thread panicked");
    all.sort_unstable();
    all.truncate(k);
    all
}
