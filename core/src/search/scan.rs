//! The one pass: blocks of rows, distances into a stack buffer, a screen
//! against the cut (the kernel's, vectorised for its instruction set), and
//! the heap for the few rows that pass. With a heap (`alloc`), a single
//! query over long rows scores every row in one kernel call first
//! ([`WHOLE_PASS_MIN_WORDS`]). A single unfiltered top-k whose kernel has
//! a fused pass for its width (AVX-512 up to 2,048 bits; simd128 on
//! x86-64 engines up to 1,024) takes that instead: no blocks, no buffer,
//! the cut compared as the distances come ([`fused`]).

#[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
use super::topk::HitOrder;
use super::topk::TopK;
use super::{Hit, SearchError, SearchOptions};
use crate::addr::Addr;
use crate::kernels::screen;
#[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
use crate::space::Filter;
use crate::space::{RowMeta, Space, Storage};

/// Bytes of fingerprints per block: small enough that a block stays in the
/// first- or second-level cache while every query of a batch scores it.
const BLOCK_BYTES: usize = 32 * 1024;
/// Rows per block at most (the size of the stack distance buffer).
const BLOCK_ROWS_MAX: usize = 256;

// Every block is screened by one call.
const _: () = assert!(BLOCK_ROWS_MAX <= screen::MAX_DISTANCES);

/// From this row length (in words: 8,192 bits) up, a single query's
/// distances are computed by one kernel call over the whole arena into a
/// heap buffer, then screened block by block, instead of one kernel call
/// per block. Measured at 65,536 rows (AVX-512, interleaved, medians): the
/// same kernel called per 256-row block took 1.20-1.31 times one call
/// over the arena at 16,384 bits, and 8 calls of 8,192 rows already
/// 1.10-1.20 (at 8,192 bits, 1.02; at 1,024 bits the block stays in the
/// first-level cache and a whole pass would write and read back 256 KiB).
/// The cost is not in the calls (the instructions are the same, and the
/// two halves timed alone add up to one call); why consecutive calls
/// stream more slowly is not known. The buffer is 4 bytes a row.
#[cfg(feature = "alloc")]
const WHOLE_PASS_MIN_WORDS: usize = 128;

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
    let addrs = space.row_addrs();
    // A block is sized so a batch's queries share it in cache. A single
    // query shares nothing, so it takes the most rows the buffer holds:
    // for long rows that is far fewer kernel calls and longer unbroken
    // streams from memory (measured at 16,384 bits, 65,536 rows: search
    // over plain read from 1.17 to 1.09 in the same run). With a heap,
    // long rows go further still: one call over the arena (below).
    let rows_per_block = if queries.len() == 1 {
        BLOCK_ROWS_MAX
    } else {
        block_rows(w)
    };
    let mut pass = Pass {
        opts,
        k,
        bound,
        counting,
        out,
        lens,
        totals,
    };

    // Only x86-64 (AVX-512) and wasm32 (simd128 on x86-64 engines) have a
    // kernel with a fused pass; elsewhere the path is left out, which keeps
    // it off a device's flash (about 1 KB on the Cortex-M4 footprint build).
    #[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
    if queries.len() == 1 && k > 0 && !pass.counting && opts.filter == Filter::All {
        let rows = Rows::block(meta, addrs, 0, meta.len());
        if fused(opts, w, queries[0], arena, &rows, &mut pass)? {
            return Ok(());
        }
    }

    // An arena of one block is one kernel call either way: no buffer.
    #[cfg(feature = "alloc")]
    if queries.len() == 1 && w >= WHOLE_PASS_MIN_WORDS && meta.len() > BLOCK_ROWS_MAX {
        let mut all = alloc::vec![0u32; meta.len()];
        distances(opts, w, queries[0], arena, &mut all)?;
        for (block, dist) in all.chunks(BLOCK_ROWS_MAX).enumerate() {
            let rows = Rows::block(meta, addrs, block * BLOCK_ROWS_MAX, dist.len());
            pass.offer_block(0, dist, &rows);
        }
        pass.finish(1);
        return Ok(());
    }

    let mut dist = [0u32; BLOCK_ROWS_MAX];
    for (block, fps) in arena.chunks(rows_per_block * w).enumerate() {
        let rows = Rows::block(meta, addrs, block * rows_per_block, fps.len() / w);
        let dist = &mut dist[..rows.metas.len()];
        for (q, query) in queries.iter().enumerate() {
            distances(opts, w, query, fps, dist)?;
            pass.offer_block(q, dist, &rows);
        }
    }
    pass.finish(queries.len());
    Ok(())
}

/// A single unfiltered top-k by the kernel's fused pass
/// ([`crate::kernels::Kernel::visit_at_or_below`]), when it has one for
/// this width: every row the pass hands on is at or below the cut, and
/// only the rows' liveness is left to check. False, having done nothing,
/// when the kernel has no such pass. With a filter the cut falls only
/// once k rows match, so many rows would be handed on one call at a time;
/// the caller keeps filtered searches, ranges and batches on the block
/// pass.
///
/// While the pass runs, a kept hit names its row, not its address
/// ([`ByRow`]): the address is read only to break a tie, and once for
/// each hit at the end. Read for every row handed on, it missed the
/// caches (the arena streaming through evicts it), and measured as a
/// large part of what the offers cost (docs/BENCHMARKS.md search run K).
#[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
fn fused(
    opts: &SearchOptions,
    w: usize,
    query: &[u64],
    arena: &[u64],
    rows: &Rows<'_>,
    pass: &mut Pass<'_, '_>,
) -> Result<bool, SearchError> {
    // A row number fits where an address goes: a space has at most one
    // row per address.
    debug_assert!(rows.metas.len() <= 1 << 16);
    let k = pass.k;
    let heap = &mut pass.out[..k];
    let mut top = TopK::resume_in(&mut *heap, 0, pass.bound, ByRow { rows });
    let cut = top.cut();
    let mut visit = |i: usize, d: u32| {
        if opts.now.is_none_or(|now| rows.metas[i].is_live(now)) {
            top.offer(Hit {
                distance: d,
                addr: Addr(i as u16),
            });
        }
        top.cut()
    };
    let took = opts
        .kernel
        .visit_at_or_below(query, arena, cut, &mut visit)
        .map_err(|_| SearchError::WidthMismatch {
            expected: w,
            got: query.len(),
        })?;
    if took {
        let len = top.len();
        // Rows to addresses: the heap's order is unchanged (it already
        // compared by address), so it is a heap of plain hits now.
        for hit in &mut heap[..len] {
            hit.addr = rows.addr(usize::from(hit.addr.0));
        }
        pass.lens[0] = TopK::resume(heap, len, pass.bound).finish();
    }
    Ok(took)
}

/// The order of hits whose `addr` holds a row number of `rows`: by
/// distance, then by the rows' addresses.
#[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
struct ByRow<'r, 'a> {
    rows: &'r Rows<'a>,
}

#[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
impl HitOrder for ByRow<'_, '_> {
    #[inline]
    fn less(&self, a: &Hit, b: &Hit) -> bool {
        a.distance < b.distance
            || (a.distance == b.distance
                && self.rows.addr(usize::from(a.addr.0)) < self.rows.addr(usize::from(b.addr.0)))
    }
}

/// The kernel's distances; shapes were checked by the caller, so a refusal
/// would be a bug in the space's bookkeeping, and is reported as the width
/// problem it would be.
fn distances(
    opts: &SearchOptions,
    w: usize,
    query: &[u64],
    fps: &[u64],
    dist: &mut [u32],
) -> Result<(), SearchError> {
    opts.kernel
        .distances(query, fps, dist)
        .map_err(|_| SearchError::WidthMismatch {
            expected: w,
            got: query.len(),
        })
}

/// The rows of one block: their metadata, and their addresses apart from
/// it when the storage keeps them ([`Storage::row_addrs`]).
struct Rows<'a> {
    metas: &'a [RowMeta],
    addrs: Option<&'a [Addr]>,
}

impl<'a> Rows<'a> {
    /// Rows `start..start + len`.
    fn block(metas: &'a [RowMeta], addrs: Option<&'a [Addr]>, start: usize, len: usize) -> Self {
        let range = start..start + len;
        Rows {
            metas: &metas[range.clone()],
            addrs: addrs.map(|a| &a[range]),
        }
    }

    /// The address of row `i` of the block. A row that passes the screen
    /// needs it (for the filter and to enter the heap); read from the
    /// addresses apart, it does not touch the row's 64 bytes of metadata.
    #[inline]
    fn addr(&self, i: usize) -> Addr {
        match self.addrs {
            Some(addrs) => addrs[i],
            None => self.metas[i].addr(),
        }
    }
}

/// What a pass keeps between blocks: each query's hits and counts.
struct Pass<'a, 'o> {
    opts: &'a SearchOptions,
    k: usize,
    bound: u32,
    counting: bool,
    out: &'o mut [Hit],
    lens: &'o mut [usize],
    totals: Option<&'o mut [usize]>,
}

impl Pass<'_, '_> {
    /// Offers query `q` the rows of one block, given their distances: only
    /// groups of rows at or below the cut are walked row by row, and the
    /// cut only falls while they are.
    fn offer_block(&mut self, q: usize, dist: &[u32], rows: &Rows<'_>) {
        let (k, opts) = (self.k, self.opts);
        let mut top = TopK::resume(&mut self.out[q * k..(q + 1) * k], self.lens[q], self.bound);
        let mut cut = if self.counting { self.bound } else { top.cut() };
        let mut groups = opts.kernel.groups_at_or_below(dist, cut);
        while groups != 0 {
            let start = groups.trailing_zeros() as usize * screen::GROUP;
            groups &= groups - 1;
            let end = dist.len().min(start + screen::GROUP);
            for (i, &d) in (start..end).zip(&dist[start..end]) {
                if d > cut {
                    continue;
                }
                let addr = rows.addr(i);
                if !opts.filter.matches(addr)
                    || !opts.now.is_none_or(|now| rows.metas[i].is_live(now))
                {
                    continue;
                }
                if let Some(t) = self.totals.as_deref_mut() {
                    t[q] += 1;
                }
                top.offer(Hit { distance: d, addr });
                if !self.counting {
                    cut = top.cut();
                }
            }
        }
        self.lens[q] = top.len();
    }

    /// Puts each of the first `queries` queries' hits in order.
    fn finish(self, queries: usize) {
        for (q, len) in self.lens[..queries].iter_mut().enumerate() {
            *len = TopK::resume(
                &mut self.out[q * self.k..(q + 1) * self.k],
                *len,
                self.bound,
            )
            .finish();
        }
    }
}
