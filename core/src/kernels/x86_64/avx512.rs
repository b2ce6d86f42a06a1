//! AVX-512 with VPOPCNTDQ: one `vpopcntq` per 512 bits.

use crate::kernels::generic::Vector;
use core::arch::x86_64::*;

#[derive(Clone, Copy)]
struct V512(__m512i);

// The methods are only called from functions compiled with
// `#[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]`.
impl Vector for V512 {
    const WORDS: usize = 8;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: AVX-512F present (trait contract).
        V512(unsafe { _mm512_setzero_si512() })
    }

    #[inline(always)]
    unsafe fn load(ptr: *const u64) -> Self {
        // SAFETY: 64 readable bytes at `ptr` and AVX-512F present (trait
        // contract); loadu has no alignment requirement.
        V512(unsafe { _mm512_loadu_si512(ptr.cast()) })
    }

    #[inline(always)]
    unsafe fn xor(self, other: Self) -> Self {
        // SAFETY: AVX-512F present (trait contract).
        V512(unsafe { _mm512_xor_si512(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn add_popcount(self, acc: Self) -> Self {
        // SAFETY: AVX-512F and VPOPCNTDQ present (trait contract).
        V512(unsafe { _mm512_add_epi64(acc.0, _mm512_popcnt_epi64(self.0)) })
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: AVX-512F present (trait contract).
        V512(unsafe { _mm512_add_epi64(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sum(self) -> u64 {
        // SAFETY: AVX-512F present (trait contract).
        unsafe { _mm512_reduce_add_epi64(self.0) as u64 }
    }
}

instruction_set! {
    /// The AVX-512 kernel (needs the VPOPCNTDQ extension: Ice Lake, Zen 4).
    Avx512, "avx512", vector = V512, features = "avx512f,avx512vpopcntdq,popcnt",
    cfg = (all(target_feature = "avx512f", target_feature = "avx512vpopcntdq", target_feature = "popcnt"))
}
