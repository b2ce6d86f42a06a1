//! wasm simd128: `i8x16.popcnt`, widened by extending pairwise adds; on
//! x86-64 engines the one-to-many pass counts with `i64.popcnt` instead.
//!
//! x86-64 has no byte-wise popcount below AVX-512 BITALG, so V8 lowers
//! `i8x16.popcnt` to a nibble-table sequence of about ten instructions
//! (constant loads included) for 16 bytes, where `i64.popcnt` is one
//! `popcnt` for 8. Measured in Node 20 (V8 11.3) on Zen 4, one 1,024-bit
//! query against 65,536 rows: ~580 µs through this type, ~290 µs through
//! [`popcnt64`], which takes queries of up to 16 words (wider ones stay
//! here). On ARM the opposite holds (`i8x16.popcnt` is one `cnt`,
//! `i64.popcnt` a move to a vector register and back), so the choice is
//! made by the engine's architecture, read from the sign of a NaN.

use super::popcnt64;
use crate::kernels::generic::Vector;
use crate::kernels::Visit;
use core::arch::wasm32::*;

#[derive(Clone, Copy)]
pub(super) struct V128(v128);

// Only called from functions compiled with `#[target_feature(enable = "simd128")]`.
impl Vector for V128 {
    const WORDS: usize = 2;
    // Two chains; engines map v128 onto 16 SSE or 32 NEON registers.
    const UNROLL: usize = 2;
    // Queries of up to 1,024 bits stay in registers (engines have at least
    // 16 vector registers: 8 for the query, the rest for a row and its count).
    const HOLD: usize = 8;
    // Byte lanes count up to 255: 31 registers of at most 8 per byte.
    const NARROW_MAX: usize = 31;

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
    unsafe fn add_popcount_narrow(self, acc: Self) -> Self {
        V128(i8x16_add(acc.0, u8x16_popcnt(self.0)))
    }

    #[inline(always)]
    unsafe fn widen(self) -> Self {
        V128(u32x4_extadd_pairwise_u16x8(u16x8_extadd_pairwise_u8x16(
            self.0,
        )))
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

    #[inline(always)]
    unsafe fn sums4(accs: [Self; 4], out: &mut [u32; 4]) {
        let [a, b, c, d] = accs.map(|v| v.0);
        // [a0+a2, b0+b2, a1+a3, b1+b3], the same for c and d, then low
        // halves plus high halves: [a, b, c, d].
        let ab = i32x4_add(
            i32x4_shuffle::<0, 4, 1, 5>(a, b),
            i32x4_shuffle::<2, 6, 3, 7>(a, b),
        );
        let cd = i32x4_add(
            i32x4_shuffle::<0, 4, 1, 5>(c, d),
            i32x4_shuffle::<2, 6, 3, 7>(c, d),
        );
        let sums = i32x4_add(
            i32x4_shuffle::<0, 1, 4, 5>(ab, cd),
            i32x4_shuffle::<2, 3, 6, 7>(ab, cd),
        );
        // SAFETY: `out` is 16 writable bytes; wasm stores have no
        // alignment requirement.
        unsafe { v128_store(out.as_mut_ptr().cast(), sums) }
    }

    #[inline(always)]
    unsafe fn distances_elsewhere(query: &[u64], arena: &[u64], out: &mut [u32]) -> bool {
        // SAFETY: forwarded contract (plain integer code).
        engine_on_x86() && unsafe { popcnt64::distances(query, arena, out) }
    }

    /// On x86-64 engines, the fused pass over the `i64.popcnt` loop
    /// ([`popcnt64::visit_at_or_below`]); on ARM engines the block pass
    /// (not measured there).
    #[inline(always)]
    unsafe fn visit_at_or_below(query: &[u64], arena: &[u64], cut: u32, visit: Visit<'_>) -> bool {
        // SAFETY: forwarded contract (plain integer code).
        engine_on_x86() && unsafe { popcnt64::visit_at_or_below(query, arena, cut, visit) }
    }
}

/// Whether the engine runs on x86, judged by the NaN that `0.0 / 0.0`
/// gives: wasm leaves its sign to the machine, x86 sets it, ARM and RISC-V
/// clear it. Only speed depends on the answer; both paths are exact.
#[inline(always)]
pub(crate) fn engine_on_x86() -> bool {
    // Opaque, or LLVM would fold the division to its own (positive) NaN.
    let (zero, also_zero) = core::hint::black_box((0.0f32, 0.0f32));
    (zero / also_zero).is_sign_negative()
}

instruction_set! {
    /// The wasm simd128 kernel (every current browser and Node).
    Simd128, "simd128", vector = V128, features = "simd128",
    cfg = (target_feature = "simd128")
}
