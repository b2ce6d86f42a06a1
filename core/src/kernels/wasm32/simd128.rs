//! wasm simd128: `i8x16.popcnt`, widened by extending pairwise adds.

use crate::kernels::generic::Vector;
use core::arch::wasm32::*;

#[derive(Clone, Copy)]
struct V128(v128);

// Only called from functions compiled with `#[target_feature(enable = "simd128")]`.
impl Vector for V128 {
    const WORDS: usize = 2;
    // Two chains; engines map v128 onto 16 SSE or 32 NEON registers.
    const UNROLL: usize = 2;
    // Queries of up to 512 bits stay in registers; fewer instantiations keep
    // the `.wasm` small.
    const HOLD: usize = 4;

    #[inline(always)]
    unsafe fn zero() -> Self {
        V128(u64x2_splat(0))
    }

    #[inline(always)]
    unsafe fn load(ptr: *const u64) -> Self {
        // SAFETY: 16 readable bytes at `ptr` (trait contract); wasm loads
        // have no alignment requirement.
        V128(unsafe { v128_load(ptr.cast()) })
    }

    #[inline(always)]
    unsafe fn xor(self, other: Self) -> Self {
        V128(v128_xor(self.0, other.0))
    }

    #[inline(always)]
    unsafe fn add_popcount(self, acc: Self) -> Self {
        // u32 lanes: a 16,384-bit row adds at most 4,096 to each.
        let per_u16 = u16x8_extadd_pairwise_u8x16(u8x16_popcnt(self.0));
        V128(i32x4_add(acc.0, u32x4_extadd_pairwise_u16x8(per_u16)))
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        V128(i32x4_add(self.0, other.0))
    }

    #[inline(always)]
    unsafe fn sum(self) -> u64 {
        let v = self.0;
        (u32x4_extract_lane::<0>(v) as u64)
            + (u32x4_extract_lane::<1>(v) as u64)
            + (u32x4_extract_lane::<2>(v) as u64)
            + (u32x4_extract_lane::<3>(v) as u64)
    }
}

instruction_set! {
    /// The wasm simd128 kernel (every current browser and Node).
    Simd128, "simd128", vector = V128, features = "simd128",
    cfg = (target_feature = "simd128")
}
