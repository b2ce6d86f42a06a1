//! The portable scalar kernel: safe code, any target. It is also the oracle
//! every other path is tested against.

/// Hamming distance of two equal-length slices (extra words of the longer
/// one are ignored; the checked entry point is [`super::Kernel::distance`]).
#[inline]
pub fn distance(a: &[u64], b: &[u64]) -> u32 {
    // A bare-metal device (no OS) runs an in-order core with no popcount
    // instruction, where the unrolled sums below gain little and cost
    // flash: there, the plain loop.
    if cfg!(target_os = "none") {
        return a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum();
    }
    // Four independent sums let the compiler overlap the popcounts.
    let mut sums = [0u32; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for k in 0..4 {
            sums[k] += (x[k] ^ y[k]).count_ones();
        }
    }
    let tail: u32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| (x ^ y).count_ones())
        .sum();
    sums.iter().sum::<u32>() + tail
}

/// Distances from `query` to each row of `arena`.
#[inline]
pub fn distances(query: &[u64], arena: &[u64], out: &mut [u32]) {
    if query.is_empty() {
        return;
    }
    for (row, o) in arena.chunks_exact(query.len()).zip(out.iter_mut()) {
        *o = distance(query, row);
    }
}

// The `Kernel` function-pointer type is `unsafe fn`; these adapters are
// trivially sound wrappers of the safe functions above.
pub(super) unsafe fn distance_raw(a: &[u64], b: &[u64]) -> u32 {
    distance(a, b)
}

pub(super) unsafe fn distances_raw(query: &[u64], arena: &[u64], out: &mut [u32]) {
    distances(query, arena, out)
}

pub(super) unsafe fn screen_raw(ds: &[u32], cut: u32) -> u64 {
    super::screen::groups_at_or_below(ds, cut)
}
