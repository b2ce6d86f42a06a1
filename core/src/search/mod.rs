//! Exact k-nearest and range search by Hamming distance.
//!
//! Results are exact and reproducible: the k stored entries with the
//! smallest `(distance, address)` among those passing the filter, the
//! maximum distance and (when a `now` is given) the expiry check, best
//! first. Ties in distance are broken by the lower address.
//!
//! # How a search runs
//!
//! The space keeps its fingerprints in one dense arena, so a search is one
//! pass over one slice. The pass goes block by block: the one-to-many
//! kernel ([`Kernel::distances`]) writes the distances of a block of rows
//! (256 rows for a single query; about 32 KiB of fingerprints for a batch)
//! into a stack buffer, then integer
//! compares against the current cut (the worst distance kept, once k hits
//! are held) discard almost every row: 64 rows at a time in a branch-free,
//! vectorised screen, then row by row only in a group that has a row at
//! or below the cut. Only rows at or below the
//! cut have their address read (from the 2-byte-a-row copy the growable
//! storage keeps, else from the metadata), are checked against the filter
//! and, with a `now`, their expiry, and enter a bounded heap in the
//! caller's result buffer.
//!
//! A single query with no zone or prefix filter, where the kernel has a
//! fused pass for the width skips the blocks: the kernel compares the
//! distances with the cut as they come and hands on only the rows at or
//! below it. AVX-512 (up to 2,048 bits) does it four rows at a time in
//! registers, reading the arena as two streams (`kernels/fused.rs`);
//! simd128 on x86-64 engines (up to 1,024 bits) in its `i64.popcnt` loop
//! (`kernels/wasm32/popcnt64.rs`).
//!
//! With several queries ([`Space::nearest_batch`]) the pass is block-major:
//! each block is read from memory once and scored against every query
//! while it is still in cache, so the memory traffic of one pass is shared.
//!
//! # Why it is exact
//!
//! Every row's full distance is computed; nothing is estimated. A row is
//! skipped only when its distance is above the cut, and the cut only ever
//! falls: it is the distance of the k-th best hit held so far, which the
//! final k-th best can only equal or beat. A row at the cut is not skipped
//! (its address may still win the tie). Batching changes the order in
//! which (query, row) pairs are scored, not which are scored. The property
//! tests compare every path with a brute-force sort, order included.
//!
//! # Example
//!
//! ```
//! use bindspace_core::search::{Hit, SearchOptions};
//! use bindspace_core::space::{Filter, Lent, RowMeta, SlotPage, Space};
//! use bindspace_core::{Addr, Width, Zone};
//!
//! let width = Width::from_bits(64).unwrap();
//! let (mut arena, mut meta, mut pages) = ([0u64; 8], [RowMeta::EMPTY; 8], [SlotPage::EMPTY; 2]);
//! let mut space = Space::new(width, Lent::new(&mut arena, &mut meta, &mut pages));
//! space.set(Addr::new(0x80, 2), &[0b1111], 1).unwrap();
//! space.set(Addr::new(0x80, 1), &[0b0111], 2).unwrap();
//! space.set(Addr::new(0x10, 9), &[0b0011], 3).unwrap();
//!
//! // The two nearest to 0b0001 in the nodes zone: distances 2 and 3.
//! let opts = SearchOptions::new().filter(Filter::Zone(Zone::Nodes));
//! let mut hits = [Hit::default(); 2];
//! assert_eq!(space.nearest(&[0b0001], &opts, &mut hits), Ok(2));
//! assert_eq!(hits, [
//!     Hit { distance: 2, addr: Addr::new(0x80, 1) },
//!     Hit { distance: 3, addr: Addr::new(0x80, 2) },
//! ]);
//!
//! // Everything within distance 2, anywhere: two entries.
//! let got = space.within(&[0b0001], 2, &SearchOptions::new(), &mut hits).unwrap();
//! assert_eq!((got.returned, got.total), (2, 2));
//! assert_eq!(hits[0], Hit { distance: 1, addr: Addr::new(0x10, 9) });
//! ```

mod scan;
mod topk;

pub(crate) use topk::sort_hits;

#[cfg(test)]
mod tests;

use crate::addr::Addr;
use crate::kernels::Kernel;
use crate::space::{Filter, Space, Storage};
use core::fmt;

/// One search result.
///
/// Ordered by distance, then address: the order results are returned in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hit {
    /// Hamming distance from the query.
    pub distance: u32,
    /// The entry's address.
    pub addr: Addr,
}

/// What a search looks at, and with which kernel.
#[derive(Clone, Copy, Debug)]
pub struct SearchOptions {
    /// The Hamming kernel: [`Kernel::best`] by default; the host passes its
    /// run-time-detected one.
    pub kernel: Kernel,
    /// Which addresses may be returned.
    pub filter: Filter,
    /// Hits farther than this are never returned.
    pub max_distance: Option<u32>,
    /// If given, entries expired at this tick are invisible.
    pub now: Option<u64>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions::new()
    }
}

impl SearchOptions {
    /// Every address, no maximum distance, no clock, the best kernel this
    /// build was compiled for.
    pub fn new() -> Self {
        SearchOptions {
            kernel: Kernel::best(),
            filter: Filter::All,
            max_distance: None,
            now: None,
        }
    }

    /// With this kernel.
    pub fn kernel(self, kernel: Kernel) -> Self {
        SearchOptions { kernel, ..self }
    }

    /// Only addresses passing `filter`.
    pub fn filter(self, filter: Filter) -> Self {
        SearchOptions { filter, ..self }
    }

    /// Only hits at most `d` away.
    pub fn max_distance(self, d: u32) -> Self {
        SearchOptions {
            max_distance: Some(d),
            ..self
        }
    }

    /// Hiding entries expired at tick `now`.
    pub fn now(self, now: u64) -> Self {
        SearchOptions {
            now: Some(now),
            ..self
        }
    }
}

/// How many hits a range search returned, and how many matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeCount {
    /// Hits written to the buffer (the best ones, sorted).
    pub returned: usize,
    /// Entries within the radius (and passing the options); more than
    /// `returned` when the buffer was too small.
    pub total: usize,
}

/// Why a search was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchError {
    /// A query does not have the space's width.
    WidthMismatch {
        /// Words the space's fingerprints have.
        expected: usize,
        /// Words in the query.
        got: usize,
    },
    /// The buffers of a batched search do not fit the batch.
    BatchBuffers {
        /// Queries in the batch.
        queries: usize,
        /// Hits asked for per query.
        k: usize,
        /// Hit slots given (at least `queries * k` needed).
        hits: usize,
        /// Length slots given (at least `queries` needed).
        lens: usize,
    },
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SearchError::WidthMismatch { expected, got } => write!(
                f,
                "query width mismatch: the space holds {} bits, the query has {} bits",
                expected * 64,
                got * 64
            ),
            SearchError::BatchBuffers {
                queries,
                k,
                hits,
                lens,
            } => write!(
                f,
                "a batch of {queries} queries with k = {k} needs {} hit slots and {queries} lengths, got {hits} and {lens}",
                queries.saturating_mul(k)
            ),
        }
    }
}

impl<S: Storage> Space<S> {
    /// The `out.len()` nearest entries to `query`, best first, written to
    /// `out`; returns how many were found (fewer when fewer entries pass).
    pub fn nearest(
        &self,
        query: &[u64],
        opts: &SearchOptions,
        out: &mut [Hit],
    ) -> Result<usize, SearchError> {
        let mut len = [0usize];
        scan::scan(self, &[query], opts, out.len(), out, &mut len, None)?;
        Ok(len[0])
    }

    /// Every entry within `radius` of `query` (and within the options'
    /// maximum distance, if lower). The best `out.len()` of them are
    /// written to `out`, best first; the count says how many there were.
    pub fn within(
        &self,
        query: &[u64],
        radius: u32,
        opts: &SearchOptions,
        out: &mut [Hit],
    ) -> Result<RangeCount, SearchError> {
        let bound = opts.max_distance.map_or(radius, |d| d.min(radius));
        let opts = SearchOptions {
            max_distance: Some(bound),
            ..*opts
        };
        let mut len = [0usize];
        let mut total = [0usize];
        scan::scan(
            self,
            &[query],
            &opts,
            out.len(),
            out,
            &mut len,
            Some(&mut total),
        )?;
        Ok(RangeCount {
            returned: len[0],
            total: total[0],
        })
    }

    /// The `k` nearest entries to each of `queries` in one pass over the
    /// arena. Query `q`'s hits go to `out[q * k..(q + 1) * k]`, best first,
    /// and their number to `lens[q]`. Results equal those of
    /// [`Self::nearest`] for each query alone.
    pub fn nearest_batch(
        &self,
        queries: &[&[u64]],
        opts: &SearchOptions,
        k: usize,
        out: &mut [Hit],
        lens: &mut [usize],
    ) -> Result<(), SearchError> {
        scan::scan(self, queries, opts, k, out, lens, None)
    }
}
