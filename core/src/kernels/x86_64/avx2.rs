//! AVX2: popcount by nibble lookup (`vpshufb`) summed per 64-bit lane with
//! `vpsadbw`.

use crate::kernels::generic::Vector;
use core::arch::x86_64::*;

#[derive(Clone, Copy)]
struct V256(__m256i);

// The methods are only called from functions compiled with
// `#[target_feature(enable = "avx2,popcnt")]` (see `instruction_set!`).
impl Vector for V256 {
    const WORDS: usize = 4;
    // Two 256-bit registers (one 64-byte line) per step.
    const UNROLL: usize = 2;
    // Queries of up to 1,024 bits stay in registers (16 registers in all;
    // the popcount needs four of them).
    const HOLD: usize = 4;
    // Byte lanes count up to 255: 31 registers of at most 8 per byte.
    const NARROW_MAX: usize = 31;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: AVX2 present (trait contract).
        V256(unsafe { _mm256_setzero_si256() })
    }

    #[inline(always)]
    unsafe fn load(ptr: *const u64) -> Self {
        // SAFETY: 32 readable bytes at `ptr` and AVX2 present (trait contract);
        // loadu has no alignment requirement.
        V256(unsafe { _mm256_loadu_si256(ptr.cast()) })
    }

    #[inline(always)]
    unsafe fn load_partial(ptr: *const u64, words: usize) -> Self {
        // SAFETY: AVX2 present (trait contract); lanes with a clear mask
        // sign bit are neither read nor able to fault, and the `words < 4`
        // words kept are readable (trait contract).
        unsafe {
            let lane = _mm256_setr_epi64x(0, 1, 2, 3);
            let mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(words as i64), lane);
            V256(_mm256_maskload_epi64(ptr.cast(), mask))
        }
    }

    #[inline(always)]
    unsafe fn xor(self, other: Self) -> Self {
        // SAFETY: AVX2 present (trait contract).
        V256(unsafe { _mm256_xor_si256(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn add_popcount(self, acc: Self) -> Self {
        // SAFETY: AVX2 present (trait contract).
        unsafe { V256(_mm256_add_epi64(acc.0, self.popcount_bytes().widen().0)) }
    }

    #[inline(always)]
    unsafe fn add_popcount_narrow(self, acc: Self) -> Self {
        // SAFETY: AVX2 present (trait contract).
        unsafe { V256(_mm256_add_epi8(acc.0, self.popcount_bytes().0)) }
    }

    #[inline(always)]
    unsafe fn widen(self) -> Self {
        // SAFETY: AVX2 present (trait contract).
        V256(unsafe { _mm256_sad_epu8(self.0, _mm256_setzero_si256()) })
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: AVX2 present (trait contract).
        V256(unsafe { _mm256_add_epi64(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sum(self) -> u64 {
        // SAFETY: AVX2 present (trait contract).
        unsafe {
            let lanes = _mm_add_epi64(
                _mm256_castsi256_si128(self.0),
                _mm256_extracti128_si256::<1>(self.0),
            );
            (_mm_cvtsi128_si64(lanes) + _mm_extract_epi64::<1>(lanes)) as u64
        }
    }

    #[inline(always)]
    unsafe fn sums4(accs: [Self; 4], out: &mut [u32; 4]) {
        // SAFETY: AVX2 present (trait contract).
        unsafe { super::sums4_u64x4([accs[0].0, accs[1].0, accs[2].0, accs[3].0], out) }
    }
}

impl V256 {
    /// The popcount of each byte, by nibble lookup (`vpshufb`).
    ///
    /// # Safety
    /// AVX2 must be present.
    #[inline(always)]
    unsafe fn popcount_bytes(self) -> Self {
        // SAFETY: AVX2 present (caller's contract).
        unsafe {
            let lookup = _mm256_setr_epi8(
                0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, //
                0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
            );
            let low = _mm256_set1_epi8(0x0f);
            let lo = _mm256_and_si256(self.0, low);
            let hi = _mm256_and_si256(_mm256_srli_epi16(self.0, 4), low);
            V256(_mm256_add_epi8(
                _mm256_shuffle_epi8(lookup, lo),
                _mm256_shuffle_epi8(lookup, hi),
            ))
        }
    }
}

instruction_set! {
    /// The AVX2 kernel (Haswell and later, Zen and later).
    Avx2, "avx2", vector = V256, features = "avx2,popcnt",
    cfg = (all(target_feature = "avx2", target_feature = "popcnt"))
}
