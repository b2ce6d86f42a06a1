//! The one Hamming algorithm, written once over [`Vector`].

/// What an instruction set must provide: a register of `WORDS` 64-bit words,
/// XOR, and a popcount that accumulates into integer lanes.
///
/// All methods are `unsafe` because they are only sound where the
/// instruction set is present; implementations are `#[inline(always)]` so
/// they take on the `#[target_feature]` of the function they inline into.
pub(crate) trait Vector: Copy {
    /// 64-bit words per register.
    const WORDS: usize;
    /// A register of zeros.
    unsafe fn zero() -> Self;
    /// Loads `WORDS` words from `ptr`, which need not be aligned.
    unsafe fn load(ptr: *const u64) -> Self;
    /// Bitwise XOR.
    unsafe fn xor(self, other: Self) -> Self;
    /// `acc` plus the population count of `self`, in integer lanes wide
    /// enough for any row of up to 16,384 bits.
    unsafe fn add_popcount(self, acc: Self) -> Self;
    /// Lane-wise integer sum of two accumulators.
    unsafe fn add(self, other: Self) -> Self;
    /// The sum of all lanes of an accumulator.
    unsafe fn sum(self) -> u64;
}

/// Hamming distance of two equal-length word slices.
///
/// # Safety
/// `V`'s instruction set must be present and `a.len() == b.len()`.
#[inline(always)]
pub(crate) unsafe fn distance<V: Vector>(a: &[u64], b: &[u64]) -> u32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len();
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let step = V::WORDS;
    // SAFETY (whole function): every load reads `step` words at offset `i`
    // with `i + step <= n`, inside both slices (equal lengths, caller's
    // contract); the instruction set is present (caller's contract).
    unsafe {
        // Two accumulators keep two popcount chains in flight.
        let mut acc0 = V::zero();
        let mut acc1 = V::zero();
        let mut i = 0;
        while i + 2 * step <= n {
            acc0 = V::load(pa.add(i)).xor(V::load(pb.add(i))).add_popcount(acc0);
            acc1 = V::load(pa.add(i + step))
                .xor(V::load(pb.add(i + step)))
                .add_popcount(acc1);
            i += 2 * step;
        }
        if i + step <= n {
            acc0 = V::load(pa.add(i)).xor(V::load(pb.add(i))).add_popcount(acc0);
            i += step;
        }
        let mut total = acc0.add(acc1).sum();
        while i < n {
            total += (*pa.add(i) ^ *pb.add(i)).count_ones() as u64;
            i += 1;
        }
        total as u32
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
    for (row, o) in arena.chunks_exact(w).zip(out.iter_mut()) {
        // SAFETY: every row has the query's length (caller's contract);
        // the instruction set is present (caller's contract).
        *o = unsafe { distance::<V>(query, row) };
    }
}
