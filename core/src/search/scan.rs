//! The one pass: blocks of rows, distances into a stack buffer, a screen
//! against the cut (the kernel's, vectorised for its instruction set), and
//! the heap for the few rows that pass.

use super::topk::TopK;
use super::{Hit, SearchError, SearchOptions};
use crate::kernels::screen;
use crate::space::{Space, Storage};

/// Bytes of fingerprints per block: small enough that a block stays in the
/// first- or second-level cache while every query of a batch scores it.
const BLOCK_BYTES: usize = 32 * 1024;
/// Rows per block at most (the size of the stack distance buffer).
const BLOCK_ROWS_MAX: usize = 256;

// Every block is screened by one call.
const _: () = assert!(BLOCK_ROWS_MAX <= screen::MAX_DISTANCES);

/// Rows per block for rows of `row_words` words.
pub(crate) const fn block_rows(row_words: usize) -> usize {
    let rows = BLOCK_BYTES / (row_words * 8);
    if rows == 0 {
        1
    } else if rows > BLOCK_ROWS_MAX {
        BLOCK_ROWS_MAX
    } else {
        rows
    }
}

/// Runs `queries` over the space: query `q` keeps its best `k` hits in
/// `out[q * k..]` and their count in `lens[q]`; with `totals`, also counts
/// every row within the maximum distance (a range search).
pub(super) fn scan<S: Storage>(
    space: &Space<S>,
    queries: &[&[u64]],
    opts: &SearchOptions,
    k: usize,
    out: &mut [Hit],
    lens: &mut [usize],
    mut totals: Option<&mut [usize]>,
) -> Result<(), SearchError> {
    let w = space.width().words();
    let needed = queries.len().checked_mul(k);
    if needed.is_none_or(|n| n > out.len()) || lens.len() < queries.len() {
        return Err(SearchError::BatchBuffers {
            queries: queries.len(),
            k,
            hits: out.len(),
            lens: lens.len(),
        });
    }
    if let Some(q) = queries.iter().find(|q| q.len() != w) {
        return Err(SearchError::WidthMismatch {
            expected: w,
            got: q.len(),
        });
    }
    lens[..queries.len()].fill(0);
    if let Some(t) = totals.as_deref_mut() {
        t.fill(0);
    }
    let counting = totals.is_some();
    let bound = opts.max_distance.unwrap_or(u32::MAX);
    let (arena, meta) = space.rows();
    // A block is sized so a batch's queries share it in cache. A single
    // query shares nothing, so it takes the most rows the buffer holds:
    // for long rows that is far fewer kernel calls and longer unbroken
    // streams from memory (measured at 16,384 bits, 65,536 rows: search
    // over plain read from 1.17 to 1.09 in the same run).
    let rows_per_block = if queries.len() == 1 {
        BLOCK_ROWS_MAX
    } else {
        block_rows(w)
    };
    let mut dist = [0u32; BLOCK_ROWS_MAX];

    for (fps, metas) in arena
        .chunks(rows_per_block * w)
        .zip(meta.chunks(rows_per_block))
    {
        let dist = &mut dist[..metas.len()];
        for (q, query) in queries.iter().enumerate() {
            if opts.kernel.distances(query, fps, dist).is_err() {
                // Shapes were checked above; a refusal here would be a bug
                // in the space's bookkeeping, and is reported as the width
                // problem it would be.
                return Err(SearchError::WidthMismatch {
                    expected: w,
                    got: query.len(),
                });
            }
            let mut top = TopK::resume(&mut out[q * k..(q + 1) * k], lens[q], bound);
            let mut cut = if counting { bound } else { top.cut() };
            // Only groups of rows with a distance at or below the cut are
            // walked row by row; the cut only falls while they are.
            let mut groups = opts.kernel.groups_at_or_below(dist, cut);
            while groups != 0 {
                let start = groups.trailing_zeros() as usize * screen::GROUP;
                groups &= groups - 1;
                let end = dist.len().min(start + screen::GROUP);
                for (&d, m) in dist[start..end].iter().zip(&metas[start..end]) {
                    if d > cut {
                        continue;
                    }
                    if !opts.filter.matches(m.addr()) || !opts.now.is_none_or(|now| m.is_live(now))
                    {
                        continue;
                    }
                    if let Some(t) = totals.as_deref_mut() {
                        t[q] += 1;
                    }
                    top.offer(Hit {
                        distance: d,
                        addr: m.addr(),
                    });
                    if !counting {
                        cut = top.cut();
                    }
                }
            }
            lens[q] = top.len();
        }
    }

    for (q, len) in lens[..queries.len()].iter_mut().enumerate() {
        *len = TopK::resume(&mut out[q * k..(q + 1) * k], *len, bound).finish();
    }
    Ok(())
}
