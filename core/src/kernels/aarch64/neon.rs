//! NEON: `cnt` per byte, widened by pairwise add-and-accumulate.

use crate::kernels::generic::Vector;
use core::arch::aarch64::*;

#[derive(Clone, Copy)]
struct V128(uint64x2_t);

// Only called from functions compiled with `#[target_feature(enable = "neon")]`.
impl Vector for V128 {
    const WORDS: usize = 2;
    // The pairwise add-accumulate (`uadalp`) has a latency of several
    // cycles: four chains keep the pipes busy.
    const UNROLL: usize = 4;
    // Queries of up to 1,024 bits stay in registers (32 registers).
    const HOLD: usize = 8;
    // Byte lanes count up to 255: 31 registers of at most 8 per byte.
    const NARROW_MAX: usize = 31;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: NEON present (trait contract).
        V128(unsafe { vdupq_n_u64(0) })
    }

    #[inline(always)]
    unsafe fn load(ptr: *const u64) -> Self {
        // SAFETY: 16 readable bytes at `ptr` (trait contract); `ld1` does
        // not need alignment beyond the element's, which `*const u64` has.
        V128(unsafe { vld1q_u64(ptr) })
    }

    #[inline(always)]
    unsafe fn xor(self, other: Self) -> Self {
        // SAFETY: NEON present (trait contract).
        V128(unsafe { veorq_u64(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn add_popcount(self, acc: Self) -> Self {
        // SAFETY: NEON present (trait contract).
        unsafe {
            let bytes = vcntq_u8(vreinterpretq_u8_u64(self.0));
            let halves = vpaddlq_u16(vpaddlq_u8(bytes));
            V128(vpadalq_u32(acc.0, halves))
        }
    }

    #[inline(always)]
    unsafe fn add_popcount_narrow(self, acc: Self) -> Self {
        // SAFETY: NEON present (trait contract).
        unsafe {
            let bytes = vcntq_u8(vreinterpretq_u8_u64(self.0));
            V128(vreinterpretq_u64_u8(vaddq_u8(
                vreinterpretq_u8_u64(acc.0),
                bytes,
            )))
        }
    }

    #[inline(always)]
    unsafe fn widen(self) -> Self {
        // SAFETY: NEON present (trait contract).
        unsafe {
            let bytes = vreinterpretq_u8_u64(self.0);
            V128(vpaddlq_u32(vpaddlq_u16(vpaddlq_u8(bytes))))
        }
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: NEON present (trait contract).
        V128(unsafe { vaddq_u64(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sum(self) -> u64 {
        // SAFETY: NEON present (trait contract).
        unsafe { vaddvq_u64(self.0) }
    }
}

instruction_set! {
    /// The NEON kernel (every aarch64 CPU, Raspberry Pi 3 and later).
    Neon, "neon", vector = V128, features = "neon",
    cfg = (target_feature = "neon")
}
