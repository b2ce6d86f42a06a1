//! Both one-to-many paths of the simd128 kernel against the oracle, each
//! forced: the engine running the tests takes only one of them through
//! [`crate::kernels::Kernel`].

use super::popcnt64;
use super::simd128::{engine_on_x86, V128};
use crate::kernels::generic::distances_with;
use crate::kernels::tests::oracle;
use std::vec;
use std::vec::Vec;

use wasm_bindgen_test::wasm_bindgen_test as test;

/// Every query length the `i64.popcnt` path takes and a few past it, every
/// word offset, and row counts that leave every remainder of four.
#[test]
fn both_paths_every_length_offset_and_row_count() {
    let mut g = crate::prng::SplitMix64::new(7);
    let words: Vec<u64> = (0..20 * 11 + 8).map(|_| g.next()).collect();
    let query: Vec<u64> = (0..20 + 8).map(|_| g.next()).collect();
    for len in 1..=20 {
        for off in 0..8 {
            for rows in 0..=11 {
                let q = &query[(off + 3) % 8..][..len];
                let arena = &words[off..][..len * rows];
                let expect: Vec<u32> = arena.chunks(len).map(|r| oracle(q, r)).collect();
                let mut out = vec![u32::MAX; rows];
                // SAFETY: simd128 is enabled (this module's cfg); shapes fit.
                unsafe { distances_with::<V128>(q, arena, &mut out) };
                assert_eq!(out, expect, "simd128 len={len} off={off} rows={rows}");
                let mut out = vec![u32::MAX; rows];
                // SAFETY: shapes fit.
                let done = unsafe { popcnt64::distances(q, arena, &mut out) };
                assert_eq!(done, len <= 16, "popcnt64 takes up to 16 words");
                if done {
                    assert_eq!(out, expect, "popcnt64 len={len} off={off} rows={rows}");
                }
            }
        }
    }
}

#[test]
fn report_engine_architecture() {
    // Informational: which one-to-many path `Kernel` takes here.
    wasm_bindgen_test::console_log!(
        "simd128 one-to-many path on this engine: {}",
        if engine_on_x86() {
            "i64.popcnt (x86)"
        } else {
            "i8x16.popcnt"
        }
    );
}
