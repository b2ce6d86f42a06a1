//! The one Hamming algorithm, written once over [`Vector`].
//!
//! Three shapes, all exact (every word of both operands is counted once):
//!
//! - **A row at a time** ([`distance`]): walk the two fingerprints in steps
//!   of [`Vector::UNROLL`] registers, XOR, popcount into as many
//!   accumulators, and finish a last part-filled register with
//!   [`Vector::load_partial`] instead of a scalar tail.
//! - **Query held in registers** (`held`, used by [`distances`] when the
//!   whole query fits in at most 8 registers): the query is loaded once and
//!   each row costs only its own loads, with no inner loop. For short rows
//!   in cache this is most of the gain: half the loads, no loop overhead.
//!   Rows go four at a time, and the four lane sums come out of one
//!   reduction tree ([`Vector::sums4`]); where the popcount counts bytes
//!   (simd128, NEON, AVX2), a row is counted in byte lanes and widened once
//!   ([`Vector::add_popcount_narrow`]). Both matter because at 1,024 bits
//!   the per-row reduction was as costly as the counting: measured on Zen 4
//!   (AVX-512), the one-to-many pass went from ~1.15 to ~1.08 of a plain
//!   read of the same in-cache arena; in Node (simd128), a 1,024-bit
//!   top-10 search from ~850 to ~620 µs. (On x86-64 engines the simd128
//!   kernel now hands queries of up to 1,024 bits to its own `i64.popcnt`
//!   loop instead, through [`Vector::distances_elsewhere`]: that search
//!   takes ~370 µs.)
//! - **Query prefix held** (`held_prefix`, for longer rows): the first 8,
//!   16 or 24 registers of the query (as many as [`Vector::HOLD`] allows)
//!   stay in registers and the rest of each row is walked as in
//!   [`distance`]. Streaming an arena from DRAM, every load of the query
//!   competes with the row's loads: measured on Zen 4 at 8,192 bits, holding
//!   24 of the 32 query registers lifts the scan from ~0.8 to ~0.97 of the
//!   plain-read speed.

// Targets with no vector instruction set (Cortex-M) use only the scalar
// kernel, so nothing here is instantiated there.
#![cfg_attr(
    not(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "wasm32"
    )),
    allow(dead_code)
)]

/// What an instruction set must provide: a register of `WORDS` 64-bit words,
/// XOR, and a popcount that accumulates into integer lanes.
///
/// All methods are `unsafe` because they are only sound where the
/// instruction set is present; implementations are `#[inline(always)]` so
/// they take on the `#[target_feature]` of the function they inline into.
pub(crate) trait Vector: Copy {
    /// 64-bit words per register (at most 8).
    const WORDS: usize;
    /// Registers processed per loop step, each with its own accumulator
    /// (1 to 4): enough independent chains to hide the latency of the
    /// popcount-accumulate on this instruction set.
    const UNROLL: usize;
    /// How many registers the one-to-many kernel may keep the query in:
    /// whole queries of up to `min(HOLD, 8)` registers, and for longer
    /// queries a prefix of 8, 16 or 24 registers (the largest that is at
    /// most `HOLD`). Leave room for the accumulators and temporaries.
    const HOLD: usize;
    /// A register of zeros.
    unsafe fn zero() -> Self;
    /// Loads `WORDS` words from `ptr`, which need not be aligned.
    unsafe fn load(ptr: *const u64) -> Self;
    /// Loads `words` words (`0 < words < WORDS`) from `ptr` and zeros the
    /// rest of the register, reading nothing past `ptr + words`.
    ///
    /// The default goes through a zeroed stack buffer; instruction sets with
    /// masked loads do better.
    #[inline(always)]
    unsafe fn load_partial(ptr: *const u64, words: usize) -> Self {
        const { assert!(Self::WORDS <= 8) };
        let mut buf = [0u64; 8];
        // SAFETY: `words < WORDS <= 8` words are readable at `ptr` (caller's
        // contract) and fit in `buf`; the load then reads `WORDS` words of
        // `buf`, all initialised.
        unsafe {
            core::ptr::copy_nonoverlapping(ptr, buf.as_mut_ptr(), words);
            Self::load(buf.as_ptr())
        }
    }
    /// Bitwise XOR.
    unsafe fn xor(self, other: Self) -> Self;
    /// `acc` plus the population count of `self`, in integer lanes wide
    /// enough for any row of up to 16,384 bits.
    unsafe fn add_popcount(self, acc: Self) -> Self;
    /// Lane-wise integer sum of two accumulators.
    unsafe fn add(self, other: Self) -> Self;
    /// How many popcounts [`Self::add_popcount_narrow`] may add onto a
    /// zero register before [`Self::widen`] must widen it. The default,
    /// with no narrower form, has no limit.
    ///
    /// Where the popcount instruction counts per byte (`i8x16.popcnt`,
    /// `vcnt`, a nibble lookup), widening every register to wide lanes costs
    /// as much again as the count; a row of a few registers can be counted
    /// in bytes and widened once.
    const NARROW_MAX: usize = usize::MAX;
    /// `acc` plus the popcount of `self` in narrow lanes (bytes). The
    /// default, for instruction sets with no narrower form, is
    /// [`Self::add_popcount`].
    #[inline(always)]
    unsafe fn add_popcount_narrow(self, acc: Self) -> Self {
        // SAFETY: the instruction set is present (trait contract).
        unsafe { self.add_popcount(acc) }
    }
    /// A narrow accumulator in the lanes [`Self::add_popcount`] uses (the
    /// default, with no narrower form, returns it as it is).
    #[inline(always)]
    unsafe fn widen(self) -> Self {
        self
    }
    /// The sum of all lanes of an accumulator.
    unsafe fn sum(self) -> u64;
    /// The lane sums of four accumulators (each as [`Self::sum`] gives it,
    /// below 2^32), written to `out` in order.
    ///
    /// For short rows the per-row reduction is a large part of a row's
    /// cost; instruction sets with cheap shuffles override this to reduce
    /// four rows in one tree (fewer operations than four separate sums).
    #[inline(always)]
    unsafe fn sums4(accs: [Self; 4], out: &mut [u32; 4]) {
        for (o, acc) in out.iter_mut().zip(accs) {
            // SAFETY: the instruction set is present (trait contract).
            *o = unsafe { acc.sum() } as u32;
        }
    }
    /// [`Self::sums4`] for the fused pass ([`super::fused`]): true when
    /// some sum is at or below `cut`, and then the sums are in `out`;
    /// false when none is (and `out` may hold anything). Instruction sets
    /// with a vector compare override it to decide before anything is
    /// written: measured on Zen 4 (AVX-512), a 1,024-bit pass with nothing
    /// getting through took 89 µs with the compare in registers against 93
    /// µs with the sums stored and compared one by one (docs/BENCHMARKS.md
    /// search run K).
    // Used by the two-stream pass, which only AVX-512 takes.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    #[inline(always)]
    unsafe fn sums4_at_or_below(accs: [Self; 4], cut: u32, out: &mut [u32; 4]) -> bool {
        // SAFETY: the instruction set is present (trait contract).
        unsafe { Self::sums4(accs, out) };
        out[0].min(out[1]).min(out[2].min(out[3])) <= cut
    }
    /// Whether the one-to-many pass over long rows (a query prefix held,
    /// `held_prefix`) reads the rows as two streams, the first and second
    /// halves side by side, instead of one, when the call covers more than
    /// [`TWO_STREAMS_MIN_ROWS`] rows. Measured on Zen 4 (AVX-512, 65,536
    /// rows streaming from memory): the bare kernel over 16,384-bit rows
    /// went from 1.04-1.07 of a plain read to 0.93-0.98 (a scratch
    /// program), and a single top-10 from 1.08-1.12 of the read to
    /// 0.85-0.88, at 8,192 bits from 1.01-1.03 to 0.96-0.99
    /// (docs/BENCHMARKS.md search run K).
    const TWO_STREAMS: bool = false;
    /// Called once per step of the row loop; the default does nothing. An
    /// instruction set may use it to keep the compiler from unrolling the
    /// loop further (see the AVX-512 implementation for why that can matter).
    #[inline(always)]
    unsafe fn end_of_step() {}
    /// Runs the one-to-many pass ([`distances`]) by another route and
    /// returns true, when this instruction set knows that is faster on the
    /// machine it runs on; the default returns false, having run nothing.
    ///
    /// wasm simd128 uses it: an engine on x86-64 emulates `i8x16.popcnt`
    /// but runs `i64.popcnt` as one instruction.
    ///
    /// # Safety
    /// As [`distances`].
    /// The fused pass of a single query's search: hands `visit` each row at
    /// or below the cut it keeps lowering (as
    /// [`super::Kernel::visit_at_or_below`] describes) and returns true;
    /// or returns false, having visited nothing, so that the search takes
    /// its block pass. The default takes no fused pass: an instruction set
    /// overrides it only where it measured faster than the block pass
    /// (AVX-512, with [`super::fused`]'s two streams; simd128 on x86-64
    /// engines, with its own `i64.popcnt` loop). Measured and not taken:
    /// AVX2 on Zen 4 (1.5% slower: its nibble-lookup count is bound by
    /// instructions).
    ///
    /// # Safety
    /// As [`distances`], with `arena` whole rows of `query.len()` words.
    #[inline(always)]
    unsafe fn visit_at_or_below(
        _query: &[u64],
        _arena: &[u64],
        _cut: u32,
        _visit: super::Visit<'_>,
    ) -> bool {
        false
    }
    #[inline(always)]
    unsafe fn distances_elsewhere(_query: &[u64], _arena: &[u64], _out: &mut [u32]) -> bool {
        false
    }
}

/// Calls over more rows than this take two streams where the instruction
/// set asks for them ([`Vector::TWO_STREAMS`]): a search's whole pass over
/// an arena, not its blocks (a batch's block of 32 KiB is in cache, and
/// split in two it measured slower).
const TWO_STREAMS_MIN_ROWS: usize = 256;

/// Most accumulators any `Vector::UNROLL` asks for.
const MAX_UNROLL: usize = 4;

/// Hamming distance of two equal-length word slices.
///
/// # Safety
/// `V`'s instruction set must be present and `a.len() == b.len()`.
#[inline(always)]
pub(crate) unsafe fn distance<V: Vector>(a: &[u64], b: &[u64]) -> u32 {
    debug_assert_eq!(a.len(), b.len());
    // SAFETY: forwarded contract; `0 <= a.len()`.
    unsafe { accumulate::<V>(a.as_ptr(), b.as_ptr(), 0, a.len(), V::zero()).sum() as u32 }
}

/// `acc` plus the popcounts of `a[from..n] ^ b[from..n]`, in one register
/// (not yet summed across lanes).
///
/// # Safety
/// `V`'s instruction set must be present, `from <= n`, and `n` words are
/// readable at both `pa` and `pb`.
#[inline(always)]
unsafe fn accumulate<V: Vector>(
    pa: *const u64,
    pb: *const u64,
    from: usize,
    n: usize,
    acc: V,
) -> V {
    const { assert!(V::UNROLL >= 1 && V::UNROLL <= MAX_UNROLL) };
    let (w, step) = (V::WORDS, V::WORDS * V::UNROLL);
    // SAFETY: (whole function) every `load` reads `w` words at an offset
    // `i` with `i + w <= n`, and `load_partial` reads `n - i < w` words at
    // `i`: all readable (caller's contract); the instruction set is present
    // (caller's contract).
    unsafe {
        let mut accs = [V::zero(); MAX_UNROLL];
        accs[0] = acc;
        let mut i = from;
        while i + step <= n {
            for (k, acc) in accs.iter_mut().enumerate().take(V::UNROLL) {
                let at = i + k * w;
                *acc = V::load(pa.add(at))
                    .xor(V::load(pb.add(at)))
                    .add_popcount(*acc);
            }
            V::end_of_step();
            i += step;
        }
        // Whole registers left over from the unrolled loop (none when
        // UNROLL is 1: the loop above already took them all).
        if V::UNROLL > 1 {
            while i + w <= n {
                accs[0] = V::load(pa.add(i))
                    .xor(V::load(pb.add(i)))
                    .add_popcount(accs[0]);
                i += w;
            }
        }
        if i < n {
            let (x, y) = (
                V::load_partial(pa.add(i), n - i),
                V::load_partial(pb.add(i), n - i),
            );
            accs[0] = x.xor(y).add_popcount(accs[0]);
        }
        // Spelled out (constant conditions fold away) so the accumulators
        // stay in registers.
        let mut total = accs[0];
        if V::UNROLL > 1 {
            total = total.add(accs[1]);
        }
        if V::UNROLL > 2 {
            total = total.add(accs[2]);
        }
        if V::UNROLL > 3 {
            total = total.add(accs[3]);
        }
        total
    }
}

/// Distances from `query` to each of the `out.len()` rows of `arena`.
///
/// # Safety
/// `V`'s instruction set must be present and
/// `arena.len() == query.len() * out.len()`, `query.len() > 0`.
#[inline(always)]
pub(crate) unsafe fn distances<V: Vector>(query: &[u64], arena: &[u64], out: &mut [u32]) {
    // SAFETY: forwarded contract.
    unsafe {
        if !V::distances_elsewhere(query, arena, out) {
            distances_with::<V>(query, arena, out);
        }
    }
}

/// [`distances`] with `V` itself, whatever [`Vector::distances_elsewhere`]
/// would choose.
///
/// # Safety
/// As [`distances`].
#[inline(always)]
pub(crate) unsafe fn distances_with<V: Vector>(query: &[u64], arena: &[u64], out: &mut [u32]) {
    let w = query.len();
    debug_assert_eq!(arena.len(), w * out.len());
    let registers = w.div_ceil(V::WORDS);
    // SAFETY: forwarded contract; `held::<V, N>` is chosen only when the
    // query needs exactly N registers, `held_prefix::<V, K>` only when it
    // has more than K whole registers; both within `V::HOLD`.
    unsafe {
        match registers {
            1 => held::<V, 1>(query, arena, out),
            2 if V::HOLD >= 2 => held::<V, 2>(query, arena, out),
            3 if V::HOLD >= 3 => held::<V, 3>(query, arena, out),
            4 if V::HOLD >= 4 => held::<V, 4>(query, arena, out),
            5 if V::HOLD >= 5 => held::<V, 5>(query, arena, out),
            6 if V::HOLD >= 6 => held::<V, 6>(query, arena, out),
            7 if V::HOLD >= 7 => held::<V, 7>(query, arena, out),
            8 if V::HOLD >= 8 => held::<V, 8>(query, arena, out),
            r if r > 24 && V::HOLD >= 24 => held_prefix::<V, 24>(query, arena, out),
            r if r > 16 && V::HOLD >= 16 => held_prefix::<V, 16>(query, arena, out),
            r if r > 8 && V::HOLD >= 8 => held_prefix::<V, 8>(query, arena, out),
            _ => {
                for (row, o) in arena.chunks_exact(w).zip(out.iter_mut()) {
                    *o = distance::<V>(query, row);
                }
            }
        }
    }
}

/// [`distances`] with the query kept in `N` registers, the last one
/// part-filled when the width is not a whole number of registers.
///
/// # Safety
/// As [`distances`], and `query.len().div_ceil(V::WORDS) == N`.
#[inline(always)]
unsafe fn held<V: Vector, const N: usize>(query: &[u64], arena: &[u64], out: &mut [u32]) {
    let (w, vw) = (query.len(), V::WORDS);
    // SAFETY: (whole function) the query needs `N` registers (caller's
    // contract); the rows are `w`-word rows, laid out as the query; the
    // instruction set is present (caller's contract).
    unsafe {
        let (q, last) = held_query::<V, N>(query);
        // Whether the last register is whole is decided once here, not
        // per row: the compiler did not hoist it, and at 1,024 bits the
        // per-row test was ~7% of the pass's instructions (callgrind,
        // AVX2).
        if last == vw {
            held_rows::<V, N, true>(&q, w, arena, out, last);
        } else {
            held_rows::<V, N, false>(&q, w, arena, out, last);
        }
    }
}

/// The query in `N` registers: `N - 1` whole ones, then the last, which
/// holds the `last` (returned) words left, 1 to `V::WORDS`, zeros after.
/// A row's registers are laid out the same way ([`held_row`]).
///
/// # Safety
/// `V`'s instruction set must be present and
/// `query.len().div_ceil(V::WORDS) == N`.
#[inline(always)]
pub(super) unsafe fn held_query<V: Vector, const N: usize>(query: &[u64]) -> ([V; N], usize) {
    let (w, vw) = (query.len(), V::WORDS);
    debug_assert_eq!(w.div_ceil(vw), N);
    let last = w - (N - 1) * vw;
    // SAFETY: register `k < N - 1` is the `vw` words at `k * vw`, and the
    // last one the `last` words at `(N - 1) * vw`, which end exactly at
    // `w`: all inside the query; the instruction set is present (caller's
    // contract).
    unsafe {
        let mut q = [V::zero(); N];
        for (k, q) in q.iter_mut().enumerate().take(N - 1) {
            *q = V::load(query.as_ptr().add(k * vw));
        }
        q[N - 1] = load_register::<V>(query.as_ptr().add((N - 1) * vw), last);
        (q, last)
    }
}

/// The `w`-word rows of [`held`], with `WHOLE` telling whether the last
/// register of a row is whole (`last == V::WORDS`).
///
/// # Safety
/// As [`held`]; `q` holds the query as [`held`] lays it out, `w` words.
#[inline(always)]
unsafe fn held_rows<V: Vector, const N: usize, const WHOLE: bool>(
    q: &[V; N],
    w: usize,
    arena: &[u64],
    out: &mut [u32],
    last: usize,
) {
    // SAFETY: every row pointer is the start of a `w`-word row inside
    // `arena`; the rest is `held`'s contract.
    unsafe {
        // Four rows at a time: four independent chains, and one reduction
        // tree for the four sums.
        let (fours, rest) = out.as_chunks_mut::<4>();
        let mut rows = arena.chunks_exact(4 * w);
        for (o, four) in fours.iter_mut().zip(&mut rows) {
            let p = four.as_ptr();
            let accs = [
                held_row::<V, N, WHOLE>(q, p, last),
                held_row::<V, N, WHOLE>(q, p.add(w), last),
                held_row::<V, N, WHOLE>(q, p.add(2 * w), last),
                held_row::<V, N, WHOLE>(q, p.add(3 * w), last),
            ];
            V::sums4(accs, o);
        }
        for (o, row) in rest.iter_mut().zip(rows.remainder().chunks_exact(w)) {
            *o = held_row::<V, N, WHOLE>(q, row.as_ptr(), last).sum() as u32;
        }
    }
}

/// A register of `words` words (`0 < words <= WORDS`) at `p`.
///
/// # Safety
/// `V`'s instruction set must be present and `words` words readable at `p`.
// A function, not a closure: closures do not take on the caller's
// `#[target_feature]`, and an outlined one would call every vector method
// out of line.
#[inline(always)]
unsafe fn load_register<V: Vector>(p: *const u64, words: usize) -> V {
    // SAFETY: forwarded contract.
    unsafe {
        if words == V::WORDS {
            V::load(p)
        } else {
            V::load_partial(p, words)
        }
    }
}

/// The accumulator of one row at `p` against the query held in `q` (as
/// [`held`] lays it out: `N - 1` whole registers, then `last` words, which
/// is all of a register when `WHOLE`).
///
/// # Safety
/// As [`held`]; `p` is the start of a row.
#[inline(always)]
pub(super) unsafe fn held_row<V: Vector, const N: usize, const WHOLE: bool>(
    q: &[V; N],
    p: *const u64,
    last: usize,
) -> V {
    // A row's `N` counts share one narrow accumulator.
    const { assert!(V::NARROW_MAX >= N) };
    let vw = V::WORDS;
    // SAFETY: the registers read lie inside the row (see `held`); the
    // instruction set is present (forwarded contract).
    unsafe {
        let tail = if WHOLE {
            V::load(p.add((N - 1) * vw))
        } else {
            V::load_partial(p.add((N - 1) * vw), last)
        };
        let mut acc = q[N - 1].xor(tail).add_popcount_narrow(V::zero());
        for (k, &q) in q.iter().enumerate().take(N - 1) {
            acc = q.xor(V::load(p.add(k * vw))).add_popcount_narrow(acc);
        }
        acc.widen()
    }
}

/// [`distances`] with the first `K` registers of the query kept in
/// registers and the rest of each row walked as in [`distance`].
///
/// # Safety
/// As [`distances`], and `query.len() > K * V::WORDS`.
#[inline(always)]
unsafe fn held_prefix<V: Vector, const K: usize>(query: &[u64], arena: &[u64], out: &mut [u32]) {
    let (w, vw) = (query.len(), V::WORDS);
    debug_assert!(w > K * vw);
    // SAFETY: (whole function) the held registers are the `vw` words at
    // `k * vw` for `k < K`, inside the query and each row (`K * vw < w`);
    // `accumulate` covers `K * vw..w` of both, also inside; the instruction
    // set is present (caller's contract).
    unsafe {
        let mut q = [V::zero(); K];
        for (k, q) in q.iter_mut().enumerate() {
            *q = V::load(query.as_ptr().add(k * vw));
        }
        if V::TWO_STREAMS && out.len() > TWO_STREAMS_MIN_ROWS {
            // Row `r` of each half in turn (and the odd last row alone).
            let half = out.len() / 2;
            let (first, second) = out.split_at_mut(half);
            let p = arena.as_ptr();
            for (r, (a, b)) in first.iter_mut().zip(second.iter_mut()).enumerate() {
                *a = prefix_row::<V, K>(&q, query, p.add(r * w));
                *b = prefix_row::<V, K>(&q, query, p.add((half + r) * w));
            }
            if let Some(last) = second.get_mut(half) {
                *last = prefix_row::<V, K>(&q, query, p.add(2 * half * w));
            }
        } else {
            for (r, o) in arena.chunks_exact(w).zip(out.iter_mut()) {
                *o = prefix_row::<V, K>(&q, query, r.as_ptr());
            }
        }
    }
}

/// The distance from `query` (its first `K` registers held in `q`) to the
/// row at `p`.
///
/// # Safety
/// As [`held_prefix`]; `p` is the start of a row.
#[inline(always)]
unsafe fn prefix_row<V: Vector, const K: usize>(q: &[V; K], query: &[u64], p: *const u64) -> u32 {
    let (w, vw) = (query.len(), V::WORDS);
    // SAFETY: the held registers and `accumulate`'s words lie inside the
    // query and the row (see `held_prefix`).
    unsafe {
        let mut acc = V::zero();
        for (k, &q) in q.iter().enumerate() {
            acc = q.xor(V::load(p.add(k * vw))).add_popcount(acc);
        }
        accumulate::<V>(query.as_ptr(), p, K * vw, w, acc).sum() as u32
    }
}
