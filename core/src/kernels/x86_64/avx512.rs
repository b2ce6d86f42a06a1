//! AVX-512 with VPOPCNTDQ, on 256-bit registers (AVX-512VL): one `vpopcntq`
//! per 256 bits.
//!
//! Why 256-bit and not 512-bit registers: measured on Zen 4 (AMD EPYC,
//! family 25; `benches/benches/kernels.rs`, docs/BENCHMARKS.md), the same
//! algorithm scanning a 128 MiB arena from DRAM ran at 0.79 of the
//! plain-read speed over 512-bit registers and at 0.96 over 256-bit ones
//! (same run): with twice the loads per 64-byte line, fewer lines are in
//! flight at once, and this CPU streams faster that way (its plain reads
//! show the same: 128- and 256-bit loads beat 512-bit ones). In cache the
//! 512-bit form is ~13% faster (Zen 4 runs a 512-bit operation as two
//! 256-bit halves, so the gain is fewer instructions); a full-space search
//! is a DRAM scan, so the 256-bit form is the one kept. 256-bit registers
//! also spare Intel CPUs their 512-bit frequency drop.

use crate::kernels::generic::Vector;
use crate::kernels::Visit;
use core::arch::x86_64::*;

#[derive(Clone, Copy)]
struct V256(__m256i);

// The methods are only called from functions compiled with
// `#[target_feature(enable = "avx512f,avx512vl,avx512vpopcntdq,avx2,popcnt")]`
// (see `instruction_set!` below).
impl Vector for V256 {
    const WORDS: usize = 4;
    // Two registers (one 64-byte line) per step; the accumulate is a 1-cycle
    // add, so two chains keep up with the loads.
    const UNROLL: usize = 2;
    // Of the 32 registers, 24 may hold the query (6,144 bits; for longer
    // queries, their first 6,144 bits), 8 stay for accumulators and rows.
    const HOLD: usize = 24;
    // Measured here (see the trait); the other instruction sets were not.
    const TWO_STREAMS: bool = true;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: AVX present (trait contract).
        V256(unsafe { _mm256_setzero_si256() })
    }

    #[inline(always)]
    unsafe fn load(ptr: *const u64) -> Self {
        // SAFETY: 32 readable bytes at `ptr` and AVX present (trait
        // contract); loadu has no alignment requirement.
        V256(unsafe { _mm256_loadu_si256(ptr.cast()) })
    }

    #[inline(always)]
    unsafe fn load_partial(ptr: *const u64, words: usize) -> Self {
        let mask: __mmask8 = (1u8 << words) - 1;
        // SAFETY: masked-off words are neither read nor able to fault, and
        // the `words < 4` words kept are readable (trait contract);
        // AVX-512F and VL present (trait contract).
        V256(unsafe { _mm256_maskz_loadu_epi64(mask, ptr.cast()) })
    }

    #[inline(always)]
    unsafe fn xor(self, other: Self) -> Self {
        // SAFETY: AVX2 present (trait contract).
        V256(unsafe { _mm256_xor_si256(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn add_popcount(self, acc: Self) -> Self {
        // SAFETY: AVX-512VL and VPOPCNTDQ present (trait contract).
        V256(unsafe { _mm256_add_epi64(acc.0, _mm256_popcnt_epi64(self.0)) })
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

    /// The two-stream fused pass ([`crate::kernels::fused`]). Measured on
    /// Zen 4: a 1,024-bit top-10 went from 1.28-1.30 of the plain read to
    /// 1.10-1.11 (docs/BENCHMARKS.md search run K). AVX2 measured slightly
    /// slower with it here (its nibble-lookup count keeps that kernel bound
    /// by its instructions), so it keeps the block pass.
    #[inline(always)]
    unsafe fn visit_at_or_below(query: &[u64], arena: &[u64], cut: u32, visit: Visit<'_>) -> bool {
        // SAFETY: forwarded contract.
        unsafe { crate::kernels::fused::visit_at_or_below::<Self>(query, arena, cut, visit) }
    }

    #[inline(always)]
    unsafe fn sums4_at_or_below(accs: [Self; 4], cut: u32, out: &mut [u32; 4]) -> bool {
        // SAFETY: AVX2 present (trait contract).
        unsafe {
            super::sums4_u64x4_at_or_below([accs[0].0, accs[1].0, accs[2].0, accs[3].0], cut, out)
        }
    }

    /// An empty `asm!` statement: the compiler does not unroll a loop that
    /// contains one, so the row loop stays one 64-byte line per step.
    /// Measured on Zen 4: with the loop unrolled further, more lines are in
    /// flight and an arena streams from DRAM measurably slower. Data in
    /// cache is bound by the loads either way.
    #[inline(always)]
    unsafe fn end_of_step() {
        // SAFETY: an empty statement: no instructions, no memory, no stack,
        // flags preserved.
        unsafe { core::arch::asm!("", options(nomem, nostack, preserves_flags)) }
    }
}

instruction_set! {
    /// The AVX-512 kernel: VPOPCNTDQ on 256-bit registers (needs AVX-512F,
    /// VL and VPOPCNTDQ: Ice Lake and later, Zen 4 and later).
    Avx512, "avx512", vector = V256, features = "avx512f,avx512vl,avx512vpopcntdq,avx2,popcnt",
    cfg = (all(
        target_feature = "avx512f",
        target_feature = "avx512vl",
        target_feature = "avx512vpopcntdq",
        target_feature = "popcnt"
    ))
}
