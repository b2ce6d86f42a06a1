//! x86_64 kernels: AVX2 and AVX-512 (VPOPCNTDQ).

mod avx2;
mod avx512;

pub use avx2::Avx2;
pub use avx512::Avx512;

use core::arch::x86_64::*;

/// The lane sums of four 256-bit accumulators of 64-bit lanes, each below
/// 2^32, written as four `u32` to `out`: one reduction tree (unpack, add;
/// swap halves, add; narrow) instead of four separate horizontal sums.
///
/// # Safety
/// AVX2 must be present.
#[inline(always)]
unsafe fn sums4_u64x4(accs: [__m256i; 4], out: &mut [u32; 4]) {
    // SAFETY: AVX2 present (caller's contract).
    unsafe { store_u64x4(lane_sums_u64x4(accs), out) }
}

/// [`sums4_u64x4`] only when some sum is at or below `cut` (then true);
/// the compare is made on the 64-bit sums in the register, and nothing is
/// written when every sum is above the cut.
///
/// # Safety
/// AVX2 must be present.
#[inline(always)]
unsafe fn sums4_u64x4_at_or_below(accs: [__m256i; 4], cut: u32, out: &mut [u32; 4]) -> bool {
    // SAFETY: AVX2 present (caller's contract).
    unsafe {
        let sums = lane_sums_u64x4(accs);
        // Sums are below 2^32 and so is the cut: a signed 64-bit compare
        // is exact.
        let above = _mm256_cmpgt_epi64(sums, _mm256_set1_epi64x(i64::from(cut)));
        if _mm256_movemask_pd(_mm256_castsi256_pd(above)) == 0b1111 {
            return false;
        }
        store_u64x4(sums, out);
        true
    }
}

/// `[sum(a), sum(b), sum(c), sum(d)]` in the four 64-bit lanes.
///
/// # Safety
/// AVX2 must be present.
#[inline(always)]
unsafe fn lane_sums_u64x4(accs: [__m256i; 4]) -> __m256i {
    let [a, b, c, d] = accs;
    // SAFETY: AVX2 present (caller's contract).
    unsafe {
        // [a0+a1, b0+b1 | a2+a3, b2+b3] and the same for c, d.
        let ab = _mm256_add_epi64(_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b));
        let cd = _mm256_add_epi64(_mm256_unpacklo_epi64(c, d), _mm256_unpackhi_epi64(c, d));
        // [a, b, c, d]: low halves plus high halves.
        _mm256_add_epi64(
            _mm256_permute2x128_si256::<0x20>(ab, cd),
            _mm256_permute2x128_si256::<0x31>(ab, cd),
        )
    }
}

/// The low 32 bits of each 64-bit lane of `sums`, to `out`.
///
/// # Safety
/// AVX2 must be present.
#[inline(always)]
unsafe fn store_u64x4(sums: __m256i, out: &mut [u32; 4]) {
    // SAFETY: AVX2 present (caller's contract); the store writes the 16
    // bytes of `out`.
    unsafe {
        let packed = _mm256_permutevar8x32_epi32(sums, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
        _mm_storeu_si128(out.as_mut_ptr().cast(), _mm256_castsi256_si128(packed));
    }
}
