//! AVX-512 with VPOPCNTDQ: one `vpopcntq` per 512 bits.

use crate::kernels::generic::Vector;
use core::arch::x86_64::*;

#[derive(Clone, Copy)]
struct V512(__m512i);

// The methods are only called from functions compiled with
// `#[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]`.
impl Vector for V512 {
    const WORDS: usize = 8;
    // One 512-bit register per step: the accumulate is a 1-cycle add, so a
    // single chain keeps up with the loads.
    const UNROLL: usize = 1;
    // Queries of up to 2,048 bits stay in registers.
    const HOLD: usize = 4;

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
    unsafe fn load_partial(ptr: *const u64, words: usize) -> Self {
        let mask: __mmask8 = (1u8 << words) - 1;
        // SAFETY: masked-off words are neither read nor able to fault, and
        // the `words < 8` words kept are readable (trait contract); AVX-512F
        // present (trait contract).
        V512(unsafe { _mm512_maskz_loadu_epi64(mask, ptr.cast()) })
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

    /// An empty `asm!` statement: the compiler does not unroll a loop that
    /// contains one, so the row loop stays one 64-byte line per step.
    /// Measured on Zen 4 (benches/benches/kernels.rs): an arena streamed
    /// from DRAM with the loop unrolled four times (about 4 instructions per
    /// line) runs at ~75% of the plain-read speed; one line per step puts
    /// fewer lines in flight and runs at the read speed. Data in cache is
    /// bound by the loads either way.
    #[inline(always)]
    unsafe fn end_of_step() {
        // SAFETY: an empty statement: no instructions, no memory, no stack,
        // flags preserved.
        unsafe { core::arch::asm!("", options(nomem, nostack, preserves_flags)) }
    }
}

instruction_set! {
    /// The AVX-512 kernel (needs the VPOPCNTDQ extension: Ice Lake, Zen 4).
    Avx512, "avx512", vector = V512, features = "avx512f,avx512vpopcntdq,popcnt",
    cfg = (all(target_feature = "avx512f", target_feature = "avx512vpopcntdq", target_feature = "popcnt"))
}
