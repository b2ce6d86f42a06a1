//! The one Hamming algorithm, written once over [`Vector`].
//!
//! Two shapes, both exact:
//!
//! - **A row at a time** ([`distance`]): walk the two fingerprints in steps
//!   of [`Vector::UNROLL`] registers, XOR, popcount into as many
//!   accumulators, and finish a last part-filled register with
//!   [`Vector::load_partial`] instead of a scalar tail.
//! - **Query held in registers** (`held`, used by [`distances`] when the
//!   query fits in [`Vector::HOLD`] registers): the query is loaded once and
//!   each row costs only its own loads. For short rows this halves the loads
//!   and removes the inner loop, which is most of the cost when the arena is
//!   in cache.

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
    /// How many registers the one-to-many kernel may keep the query in
    /// (1 to 8); longer queries are reloaded for each row.
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
    /// The sum of all lanes of an accumulator.
    unsafe fn sum(self) -> u64;
    /// Called once per step of the row loop; the default does nothing. An
    /// instruction set may use it to keep the compiler from unrolling the
    /// loop further (see the AVX-512 implementation for why that can matter).
    #[inline(always)]
    unsafe fn end_of_step() {}
}

/// Most accumulators any `Vector::UNROLL` asks for.
const MAX_UNROLL: usize = 4;

/// Hamming distance of two equal-length word slices.
///
/// # Safety
/// `V`'s instruction set must be present and `a.len() == b.len()`.
#[inline(always)]
pub(crate) unsafe fn distance<V: Vector>(a: &[u64], b: &[u64]) -> u32 {
    const { assert!(V::UNROLL >= 1 && V::UNROLL <= MAX_UNROLL) };
    debug_assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let (w, step) = (V::WORDS, V::WORDS * V::UNROLL);
    // SAFETY: (whole function) every `load` reads `w` words at an offset
    // `i` with `i + w <= n`, and `load_partial` reads `n - i < w` words at
    // `i`: all inside both slices (equal lengths, caller's contract); the
    // instruction set is present (caller's contract).
    unsafe {
        let mut acc = [V::zero(); MAX_UNROLL];
        let mut i = 0;
        while i + step <= n {
            for (k, acc) in acc.iter_mut().enumerate().take(V::UNROLL) {
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
                acc[0] = V::load(pa.add(i))
                    .xor(V::load(pb.add(i)))
                    .add_popcount(acc[0]);
                i += w;
            }
        }
        if i < n {
            let (x, y) = (
                V::load_partial(pa.add(i), n - i),
                V::load_partial(pb.add(i), n - i),
            );
            acc[0] = x.xor(y).add_popcount(acc[0]);
        }
        // Spelled out (constant conditions fold away) so the accumulators
        // stay in registers.
        let mut total = acc[0];
        if V::UNROLL > 1 {
            total = total.add(acc[1]);
        }
        if V::UNROLL > 2 {
            total = total.add(acc[2]);
        }
        if V::UNROLL > 3 {
            total = total.add(acc[3]);
        }
        total.sum() as u32
    }
}

/// Distances from `query` to each of the `out.len()` rows of `arena`.
///
/// # Safety
/// `V`'s instruction set must be present and
/// `arena.len() == query.len() * out.len()`, `query.len() > 0`.
#[inline(always)]
pub(crate) unsafe fn distances<V: Vector>(query: &[u64], arena: &[u64], out: &mut [u32]) {
    let w = query.len();
    debug_assert_eq!(arena.len(), w * out.len());
    // SAFETY: forwarded contract; each `held::<V, N>` is chosen only when the
    // query needs exactly N registers (`w.div_ceil(WORDS) == N`) and N is
    // within `V::HOLD`.
    unsafe {
        match w.div_ceil(V::WORDS) {
            1 => held::<V, 1>(query, arena, out),
            2 if V::HOLD >= 2 => held::<V, 2>(query, arena, out),
            3 if V::HOLD >= 3 => held::<V, 3>(query, arena, out),
            4 if V::HOLD >= 4 => held::<V, 4>(query, arena, out),
            5 if V::HOLD >= 5 => held::<V, 5>(query, arena, out),
            6 if V::HOLD >= 6 => held::<V, 6>(query, arena, out),
            7 if V::HOLD >= 7 => held::<V, 7>(query, arena, out),
            8 if V::HOLD >= 8 => held::<V, 8>(query, arena, out),
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
    debug_assert_eq!(w.div_ceil(vw), N);
    // Words in the last register: 1..=WORDS.
    let last = w - (N - 1) * vw;
    // SAFETY: (whole function) register `k < N - 1` of a row (or of the
    // query) is the `vw` words at `k * vw`, and the last one the `last`
    // words at `(N - 1) * vw`, which end exactly at `w`: inside the query
    // and inside each `w`-word row; the instruction set is present
    // (caller's contract).
    unsafe {
        let load_last = |p: *const u64| {
            if last == vw {
                V::load(p.add((N - 1) * vw))
            } else {
                V::load_partial(p.add((N - 1) * vw), last)
            }
        };
        let mut q = [V::zero(); N];
        for (k, q) in q.iter_mut().enumerate().take(N - 1) {
            *q = V::load(query.as_ptr().add(k * vw));
        }
        q[N - 1] = load_last(query.as_ptr());
        for (row, o) in arena.chunks_exact(w).zip(out.iter_mut()) {
            let p = row.as_ptr();
            let mut acc = q[N - 1].xor(load_last(p)).add_popcount(V::zero());
            for (k, &q) in q.iter().enumerate().take(N - 1) {
                acc = q.xor(V::load(p.add(k * vw))).add_popcount(acc);
            }
            *o = acc.sum() as u32;
        }
    }
}
