//! A single query's pass with the screen fused in: the distances of a
//! row group are compared with the search's cut while still in
//! registers, and only rows at or below it are handed on. Nothing is
//! written per row, there are no blocks and no screen pass, and the arena
//! is read as two streams (its first and second halves, side by side).
//!
//! Why two streams: measured on Zen 4 (AVX-512, a 1,024-bit arena of
//! 65,536 rows, 8 MiB, in the L3) by a scratch program over 4 to 7 runs,
//! the one-to-many kernel over one stream took 1.07-1.15 of a plain read
//! of the same arena and over two streams 1.00-1.10, the gap widest when
//! the other processor loaded the L3 too; a top-10 with the compare fused
//! into the one-stream loop took 1.22-1.27 of the read, with two streams
//! 1.09-1.16. In the search benchmark the top-10 went from 1.28-1.30 of
//! the read to 1.10-1.11 (docs/BENCHMARKS.md search run K). Only
//! instruction sets that measured a gain use it
//! ([`Vector::visit_at_or_below`]).

// Only the AVX-512 kernel instantiates the two-stream pass (wasm's fused
// pass is its own loop, in wasm32/popcnt64.rs), so elsewhere it goes
// unused.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use super::generic::{held_query, held_row, Vector};
use super::Visit;

/// Hands `visit` every row of `arena` whose distance to `query` is at or
/// below the cut: `cut` at first, then whatever `visit` last returned (its
/// new cut). Rows come in no particular order. Returns false, having
/// visited nothing, when the query does not fit in `V`'s registers (the
/// caller then takes another pass).
///
/// # Safety
/// `V`'s instruction set must be present, `query.len() > 0` and
/// `arena.len()` a multiple of `query.len()`.
#[inline(always)]
pub(crate) unsafe fn visit_at_or_below<V: Vector>(
    query: &[u64],
    arena: &[u64],
    cut: u32,
    visit: Visit<'_>,
) -> bool {
    // SAFETY: forwarded contract; `held::<V, N>` only when the query needs
    // exactly N registers, within `V::HOLD`.
    unsafe {
        match query.len().div_ceil(V::WORDS) {
            1 => held::<V, 1>(query, arena, cut, visit),
            2 if V::HOLD >= 2 => held::<V, 2>(query, arena, cut, visit),
            3 if V::HOLD >= 3 => held::<V, 3>(query, arena, cut, visit),
            4 if V::HOLD >= 4 => held::<V, 4>(query, arena, cut, visit),
            5 if V::HOLD >= 5 => held::<V, 5>(query, arena, cut, visit),
            6 if V::HOLD >= 6 => held::<V, 6>(query, arena, cut, visit),
            7 if V::HOLD >= 7 => held::<V, 7>(query, arena, cut, visit),
            8 if V::HOLD >= 8 => held::<V, 8>(query, arena, cut, visit),
            _ => return false,
        }
    }
    true
}

/// [`visit_at_or_below`] with the query in `N` registers, laid out as the
/// one-to-many kernel's `held` lays it out.
///
/// # Safety
/// As [`visit_at_or_below`], and `query.len().div_ceil(V::WORDS) == N`.
#[inline(always)]
unsafe fn held<V: Vector, const N: usize>(
    query: &[u64],
    arena: &[u64],
    cut: u32,
    visit: Visit<'_>,
) {
    let (w, vw) = (query.len(), V::WORDS);
    // SAFETY: the query needs `N` registers and the instruction set is
    // present (caller's contract).
    unsafe {
        let (q, last) = held_query::<V, N>(query);
        if last == vw {
            two_streams::<V, N, true>(&q, w, arena, last, cut, visit);
        } else {
            two_streams::<V, N, false>(&q, w, arena, last, cut, visit);
        }
    }
}

/// The row loop: rows `r, r + 1` of the first half and `half + r,
/// half + r + 1` of the second, four sums from one reduction tree, one
/// compare of their least with the cut.
///
/// # Safety
/// As [`held`]; `q` holds the query, `w` words, last register `last`
/// words (all of it when `WHOLE`).
#[inline(always)]
unsafe fn two_streams<V: Vector, const N: usize, const WHOLE: bool>(
    q: &[V; N],
    w: usize,
    arena: &[u64],
    last: usize,
    mut cut: u32,
    visit: Visit<'_>,
) {
    let rows = arena.len() / w;
    let half = rows / 2;
    let p = arena.as_ptr();
    // SAFETY: (whole block) every row pointer is `p + row * w` with
    // `row < rows`: the start of a whole row inside `arena`; the rest is
    // the caller's contract.
    unsafe {
        let mut r = 0;
        while r + 2 <= half {
            let (a, b) = (p.add(r * w), p.add((half + r) * w));
            let accs = [
                held_row::<V, N, WHOLE>(q, a, last),
                held_row::<V, N, WHOLE>(q, a.add(w), last),
                held_row::<V, N, WHOLE>(q, b, last),
                held_row::<V, N, WHOLE>(q, b.add(w), last),
            ];
            let mut d = [0u32; 4];
            if V::sums4_at_or_below(accs, cut, &mut d) {
                cut = offer4(d, [r, r + 1, half + r, half + r + 1], cut, visit);
            }
            r += 2;
        }
        // What the pairs left: at most one row of the first half and two
        // of the second.
        for row in (r..half).chain(half + r..rows) {
            let d = held_row::<V, N, WHOLE>(q, p.add(row * w), last).sum() as u32;
            if d <= cut {
                cut = visit(row, d);
            }
        }
    }
}

/// Offers the rows of a group of four that are at or below the cut, each
/// against the cut the one before it left; returns the last cut. Out of
/// line: few groups get here, and the loop stays small.
#[inline(never)]
fn offer4(d: [u32; 4], rows: [usize; 4], mut cut: u32, visit: Visit<'_>) -> u32 {
    for (d, row) in d.into_iter().zip(rows) {
        if d <= cut {
            cut = visit(row, d);
        }
    }
    cut
}
