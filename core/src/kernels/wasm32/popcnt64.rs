//! The one-to-many pass counted with `i64.popcnt`: the simd128 kernel's
//! path for queries of up to 16 words on x86-64 engines (see
//! [`super::simd128`] for why and when).
//!
//! Its own loop rather than a [`crate::kernels::generic::Vector`]: what the
//! engine is given matters as much as the count. Measured in Node 20 at
//! 1,024 bits (65,536 rows), against ~580 µs for the simd128 pass:
//! - the generic held-query loop over a two-word vector, ~550 µs: LLVM
//!   loads four rows' words ahead of their counts, and the engine spills
//!   them to the stack and back;
//! - one row counted and stored after another, ~355 µs;
//! - the same with the row pointer hidden from LLVM once per four rows,
//!   ~290 µs: otherwise loop strength reduction rewrites each row's word
//!   addresses as an induction variable plus constants without the no-wrap
//!   flag, which the wasm backend may not fold into the loads' `offset`
//!   immediates, so every load costs the engine an extra add;
//! - the same with a row's running sum stored after every 4 words (see
//!   [`row`]): the whole search from ~390 to ~330 µs;
//! - and the search's fused pass over it ([`visit_at_or_below`]), with no
//!   distance stored for rows above the cut and no screen: ~305 µs.

use crate::kernels::Visit;
use core::hint::black_box;

/// Distances from `query` to each row of `arena` when the query is 1 to
/// 16 words; returns false, having done nothing, for wider queries.
///
/// # Safety
/// `arena.len() == query.len() * out.len()`.
// Not inlined into the simd128 kernel's one-to-many function: when the
// generic held-query path there grew (a row loop per last-register shape),
// LLVM compiled this loop differently inside it and the Node search went
// from ~440 to ~540 µs; as a function of its own its code does not depend
// on its caller's size. One call per block of rows costs nothing measurable.
#[inline(never)]
pub(super) unsafe fn distances(query: &[u64], arena: &[u64], out: &mut [u32]) -> bool {
    // SAFETY: forwarded contract, and each arm's `W` is `query.len()`.
    unsafe {
        match query.len() {
            1 => held::<1>(query, arena, out),
            2 => held::<2>(query, arena, out),
            3 => held::<3>(query, arena, out),
            4 => held::<4>(query, arena, out),
            5 => held::<5>(query, arena, out),
            6 => held::<6>(query, arena, out),
            7 => held::<7>(query, arena, out),
            8 => held::<8>(query, arena, out),
            9 => held::<9>(query, arena, out),
            10 => held::<10>(query, arena, out),
            11 => held::<11>(query, arena, out),
            12 => held::<12>(query, arena, out),
            13 => held::<13>(query, arena, out),
            14 => held::<14>(query, arena, out),
            15 => held::<15>(query, arena, out),
            16 => held::<16>(query, arena, out),
            _ => return false,
        }
    }
    true
}

/// [`distances`] for a query of exactly `W` words, held in locals (the
/// engine keeps what does not fit in registers in stack slots, which x86
/// reads as the XOR's memory operand at no extra instruction).
///
/// # Safety
/// `query.len() == W` and `arena.len() == W * out.len()`.
#[inline(always)]
unsafe fn held<const W: usize>(query: &[u64], arena: &[u64], out: &mut [u32]) {
    debug_assert_eq!(query.len(), W);
    debug_assert_eq!(arena.len(), W * out.len());
    let mut q = [0u64; W];
    q.copy_from_slice(query);
    let (fours, rest) = out.as_chunks_mut::<4>();
    let mut p = arena.as_ptr();
    // SAFETY: (whole block) row `r` of the arena is the `W` words at
    // `r * W`; `p` starts at row 0 and moves on by the rows counted, 4 per
    // step of the first loop and 1 of the second, one row per slot of
    // `out`: every row read lies inside the arena.
    unsafe {
        for four in fours {
            for (i, o) in four.iter_mut().enumerate() {
                row(&q, p.add(i * W), o);
            }
            p = black_box(p.add(4 * W));
        }
        for o in rest {
            row(&q, p, o);
            p = p.add(W);
        }
    }
}

/// The fused pass ([`crate::kernels::fused`]) over this loop: hands
/// `visit` each row whose distance is at or below the cut (`cut`, then
/// what `visit` last returned), in row order, with no distance stored
/// for the rest and no screen afterwards. Returns false, having visited
/// nothing, for queries wider than 16 words.
///
/// # Safety
/// `arena.len()` is a multiple of `query.len()`, which is not 0.
// Not inlined, for the reason `distances` gives.
#[inline(never)]
pub(super) unsafe fn visit_at_or_below(
    query: &[u64],
    arena: &[u64],
    cut: u32,
    visit: Visit<'_>,
) -> bool {
    // SAFETY: forwarded contract, and each arm's `W` is `query.len()`.
    unsafe {
        match query.len() {
            1 => visit_held::<1>(query, arena, cut, visit),
            2 => visit_held::<2>(query, arena, cut, visit),
            3 => visit_held::<3>(query, arena, cut, visit),
            4 => visit_held::<4>(query, arena, cut, visit),
            5 => visit_held::<5>(query, arena, cut, visit),
            6 => visit_held::<6>(query, arena, cut, visit),
            7 => visit_held::<7>(query, arena, cut, visit),
            8 => visit_held::<8>(query, arena, cut, visit),
            9 => visit_held::<9>(query, arena, cut, visit),
            10 => visit_held::<10>(query, arena, cut, visit),
            11 => visit_held::<11>(query, arena, cut, visit),
            12 => visit_held::<12>(query, arena, cut, visit),
            13 => visit_held::<13>(query, arena, cut, visit),
            14 => visit_held::<14>(query, arena, cut, visit),
            15 => visit_held::<15>(query, arena, cut, visit),
            16 => visit_held::<16>(query, arena, cut, visit),
            _ => return false,
        }
    }
    true
}

/// [`visit_at_or_below`] for a query of exactly `W` words: runs of rows
/// above the cut are counted by [`next_at_or_below`], and `visit` is
/// called between them.
///
/// # Safety
/// `query.len() == W` and `arena.len()` a multiple of `W`.
#[inline(always)]
unsafe fn visit_held<const W: usize>(query: &[u64], arena: &[u64], mut cut: u32, visit: Visit<'_>) {
    debug_assert_eq!(query.len(), W);
    let mut q = [0u64; W];
    q.copy_from_slice(query);
    let rows = arena.len() / W;
    let mut from = 0;
    let mut d = 0;
    while from < rows {
        // SAFETY: `from < rows`, and `arena` is `rows` rows of `W` words.
        let r = unsafe { next_at_or_below(&q, arena.as_ptr(), from, rows, cut, &mut d) };
        if r == rows {
            break;
        }
        cut = visit(r, d);
        from = r + 1;
    }
}

/// The first row from `from` on (of `rows` rows of `W` words at `arena`)
/// whose distance to `q` is at or below `cut`, with that distance in `d`;
/// `rows` when there is none. A loop with no call in it: with `visit`
/// called inside the loop, V8 compiled it so that a 1,024-bit top-10 took
/// 430-830 µs (several shapes), against ~305 µs this way and ~335 µs for
/// the block pass (docs/BENCHMARKS.md search run K).
///
/// # Safety
/// `from < rows`, and `rows * W` words readable at `arena`.
#[inline(never)]
unsafe fn next_at_or_below<const W: usize>(
    q: &[u64; W],
    arena: *const u64,
    from: usize,
    rows: usize,
    cut: u32,
    d: &mut u32,
) -> usize {
    let mut r = from;
    // SAFETY: (whole block) `p` is row `r`; the first loop reads rows
    // `r..r + 4` only while `r + 4 <= rows`, the second row `r` only while
    // `r < rows`: every row read lies inside the arena.
    unsafe {
        let mut p = arena.add(from * W);
        while r + 4 <= rows {
            for i in 0..4 {
                row(q, p.add(i * W), d);
                if *d <= cut {
                    return r + i;
                }
            }
            // Hidden from LLVM, as in `held`.
            p = black_box(p.add(4 * W));
            r += 4;
        }
        while r < rows {
            row(q, p, d);
            if *d <= cut {
                return r;
            }
            p = p.add(W);
            r += 1;
        }
    }
    rows
}

/// Words counted between two stores of a row's running sum.
const PART: usize = 4;

/// Writes to `o` the distance from `q` to the `W` words at `p`, storing
/// the running sum after every [`PART`] words.
///
/// Why the stores: V8's optimising compiler places a pure operation (the
/// XOR, the count, the add) as late as it can, just before its first use,
/// while loads keep their order among the effects. With one store per row,
/// all of a row's loads came first and their counts after, and V8 spilled
/// half the row to the stack and read it back (seen in its code with
/// `--print-wasm-code`). A store is an effect too, so storing the sum so
/// far pins each part's counting before the next part's loads.
/// `write_volatile`, so that LLVM keeps every store. Measured in Node 20,
/// a 1,024-bit top-10 over 65,536 rows (docs/BENCHMARKS.md search run K):
/// ~390 µs with one store per row; 360-365 µs with a store after each half
/// (in two chains); 357 after every 4 words, 367 after every 2; and
/// 347-353 after every 4 words with one chain of adds (with two chains
/// or after every 8 words, slower).
///
/// # Safety
/// `W` words readable at `p`.
#[inline(always)]
unsafe fn row<const W: usize>(q: &[u64; W], p: *const u64, o: &mut u32) {
    let mut total = 0u32;
    for (j, &q) in q.iter().enumerate() {
        // SAFETY: `j < W` (caller's contract).
        total += (q ^ unsafe { p.add(j).read() }).count_ones();
        if j % PART == PART - 1 || j == W - 1 {
            // SAFETY: `o` is a valid, aligned `u32` (a `&mut`).
            unsafe { core::ptr::write_volatile(o, total) };
        }
    }
}
