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
    let [a, b, c, d] = accs;
    // SAFETY: AVX2 present (caller's contract); the store writes the 16
    // bytes of `out`.
    unsafe {
        // [a0+a1, b0+b1 | a2+a3, b2+b3] and the same for c, d.
        let ab = _mm256_add_epi64(_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b));
        let cd = _mm256_add_epi64(_mm256_unpacklo_epi64(c, d), _mm256_unpackhi_epi64(c, d));
        // [a, b, c, d]: low halves plus high halves.
        let sums = _mm256_add_epi64(
            _mm256_permute2x128_si256::<0x20>(ab, cd),
            _mm256_permute2x128_si256::<0x31>(ab, cd),
        );
        // The low 32 bits of each 64-bit lane, packed into the low 128 bits.
        let packed = _mm256_permutevar8x32_epi32(sums, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
        _mm_storeu_si128(out.as_mut_ptr().cast(), _mm256_castsi256_si128(packed));
    }
}
