//! Exact k-nearest search over a [`View`], split across threads.
//!
//! Each shard is a core space, searched by the core's exact search with
//! the run-time-detected kernel. Threads take disjoint runs of shards
//! (balanced by entry count), each keeps its best `k`, and the runs are
//! merged by `(distance, address)`. Because that key is total, the answer
//! is the same whatever the split: ties always go to the lower address.

use super::view::View;
use bindspace_core::search::{Hit, SearchOptions};
use bindspace_core::space::GrowableSpace;

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
/// entry counts.
fn split<'a>(shards: &'a [&'a GrowableSpace], parts: usize) -> Vec<&'a [&'a GrowableSpace]> {
    let total: usize = shards.iter().map(|s| s.len()).sum();
    let per_part = total.div_ceil(parts.max(1)).max(1);
    let mut runs = Vec::with_capacity(parts);
    let (mut start, mut acc) = (0, 0);
    for (i, s) in shards.iter().enumerate() {
        acc += s.len();
        if acc >= per_part && runs.len() + 1 < parts {
            runs.push(&shards[start..=i]);
            start = i + 1;
            acc = 0;
        }
    }
    if start < shards.len() {
        runs.push(&shards[start..]);
    }
    runs
}

/// Below this many entries a search stays on the calling thread: starting
/// a thread costs more than scanning them.
const PARALLEL_MIN_ENTRIES: usize = 1024;

/// The `k` entries nearest to `query`, best first, using up to `threads`
/// threads. The caller has checked the query width.
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
    let threads = if entries < PARALLEL_MIN_ENTRIES {
        1
    } else {
        threads.max(1)
    };
    let runs = split(&shards, threads);
    let Some((first, rest)) = runs.split_first() else {
        return Vec::new();
    };
    if rest.is_empty() {
        return search_shards(first, query, k, opts);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter()
            .map(|run| scope.spawn(move || search_shards(run, query, k, opts)))
            .collect();
        let mut all = search_shards(first, query, k, opts);
        for handle in handles {
            // A search thread only reads immutable shards; a panic there is
            // a bug, and passing it on is right.
            let part = handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            all.extend(part);
        }
        all.sort_unstable();
        all.truncate(k);
        all
    })
}
