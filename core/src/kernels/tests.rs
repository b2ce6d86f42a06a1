//! Every kernel path against a one-line oracle, over every length from 1 to
//! 256 words and every word offset within a 64-byte line.

use super::*;
use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

// wasm-bindgen-test cannot run plain `#[test]` functions: on wasm32 this
// import turns every `#[test]` below (proptest's too) into a
// `#[wasm_bindgen_test]`, so one test body serves every target.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The oracle: one line, obviously right (the wasm32 kernel tests use it
/// too).
pub(super) fn oracle(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// Every kernel this CPU can run: compile-time ones, plus (on x86_64 with
/// std in tests) the ones found at run time, each forced in turn.
pub(crate) fn available() -> Vec<Kernel> {
    let mut ks = vec![Kernel::scalar(), Kernel::best()];
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("popcnt") {
            // SAFETY: detected just above.
            ks.push(unsafe { x86_64::Avx2::new_unchecked() }.kernel());
        }
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512vpopcntdq")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("popcnt")
        {
            // SAFETY: detected just above.
            ks.push(unsafe { x86_64::Avx512::new_unchecked() }.kernel());
        }
    }
    ks.sort_by_key(|k| k.name());
    ks.dedup_by_key(|k| k.name());
    ks
}

/// A buffer of `words` random words whose element `0` sits on a 64-byte line.
struct Aligned {
    buf: Vec<u64>,
    start: usize,
}

impl Aligned {
    fn random(words: usize, seed: u64) -> Self {
        let mut g = crate::prng::SplitMix64::new(seed);
        let buf: Vec<u64> = (0..words + 8).map(|_| g.next()).collect();
        let start = buf.as_ptr().align_offset(64);
        assert!(start < 8);
        Aligned { buf, start }
    }
    fn at(&self, offset: usize, len: usize) -> &[u64] {
        &self.buf[self.start + offset..self.start + offset + len]
    }
}

#[test]
fn report_exercised_kernels() {
    let names: Vec<&str> = available().iter().map(|k| k.name()).collect();
    let line = std::format!(
        "bindspace kernels exercised on {}: {}",
        std::env::consts::ARCH,
        names.join(", ")
    );
    // std's stdout goes nowhere on wasm32-unknown-unknown; the test runner
    // shows `console.log` instead (with `--nocapture`).
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::console_log!("{line}");
    #[cfg(not(target_arch = "wasm32"))]
    std::println!("{line}");
    #[cfg(target_arch = "aarch64")]
    assert!(names.contains(&"neon"), "NEON must be exercised on aarch64");
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    assert!(
        names.contains(&"simd128"),
        "simd128 build must exercise simd128"
    );
}

#[test]
fn one_to_one_every_length_and_offset() {
    let a = Aligned::random(256 + 8, 1);
    let b = Aligned::random(256 + 8, 2);
    for k in available() {
        for len in 1..=256 {
            for off in 0..8 {
                let (x, y) = (a.at(off, len), b.at((off * 5 + 3) % 8, len));
                assert_eq!(
                    k.distance(x, y),
                    Ok(oracle(x, y)),
                    "{} len={len} off={off}",
                    k.name()
                );
            }
        }
    }
}

#[test]
fn one_to_many_every_length_and_offset() {
    let rows = 5;
    let q = Aligned::random(256 + 8, 3);
    let arena = Aligned::random(256 * rows + 8, 4);
    for k in available() {
        for len in 1..=256 {
            for off in 0..8 {
                let query = q.at((off + 1) % 8, len);
                let a = arena.at(off, len * rows);
                let mut out = vec![u32::MAX; rows];
                k.distances(query, a, &mut out).unwrap();
                let expect: Vec<u32> = a.chunks(len).map(|r| oracle(query, r)).collect();
                assert_eq!(out, expect, "{} len={len} off={off}", k.name());
            }
        }
    }
}

#[test]
fn one_to_many_over_many_long_rows() {
    // Calls over more than 256 rows of more than 32 words: the AVX-512
    // kernel reads such an arena as two streams (`Vector::TWO_STREAMS`),
    // with an odd last row when the count is odd.
    for len in [33usize, 40, 64, 130] {
        for rows in [257usize, 258, 301] {
            let q = Aligned::random(len, 7);
            let arena = Aligned::random(len * rows, 8);
            let (query, a) = (q.at(0, len), arena.at(0, len * rows));
            let expect: Vec<u32> = a.chunks(len).map(|r| oracle(query, r)).collect();
            for k in available() {
                let mut out = vec![u32::MAX; rows];
                k.distances(query, a, &mut out).unwrap();
                assert_eq!(out, expect, "{} len={len} rows={rows}", k.name());
            }
        }
    }
}

#[test]
fn all_zeros_and_all_ones() {
    for k in available() {
        for len in [1usize, 2, 3, 7, 8, 9, 16, 128, 255, 256] {
            let zeros = vec![0u64; len];
            let ones = vec![u64::MAX; len];
            assert_eq!(k.distance(&zeros, &zeros), Ok(0));
            assert_eq!(k.distance(&ones, &ones), Ok(0));
            assert_eq!(
                k.distance(&zeros, &ones),
                Ok(64 * len as u32),
                "{}",
                k.name()
            );
            let arena: Vec<u64> = [zeros.clone(), ones.clone(), zeros.clone()].concat();
            let mut out = [0u32; 3];
            k.distances(&ones, &arena, &mut out).unwrap();
            assert_eq!(out, [64 * len as u32, 0, 64 * len as u32]);
        }
    }
}

#[test]
fn bad_shapes_are_errors() {
    let k = Kernel::best();
    assert_eq!(
        k.distance(&[0; 2], &[0; 3]),
        Err(ShapeError::WidthMismatch {
            expected: 2,
            got: 3
        })
    );
    assert_eq!(
        k.distances(&[], &[0; 4], &mut []),
        Err(ShapeError::EmptyQuery)
    );
    assert_eq!(
        k.distances(&[0; 3], &[0; 4], &mut [0; 1]),
        Err(ShapeError::RaggedArena {
            arena_words: 4,
            row_words: 3
        })
    );
    assert_eq!(
        k.distances(&[0; 2], &[0; 4], &mut [0; 3]),
        Err(ShapeError::OutputLength { rows: 2, got: 3 })
    );
    let mut out: [u32; 0] = [];
    assert_eq!(k.distances(&[0; 2], &[], &mut out), Ok(()));
}

proptest! {
    #[test]
    fn random_data_matches_oracle(
        a in proptest::collection::vec(any::<u64>(), 1..300),
        seed: u64,
        rows in 0usize..6,
    ) {
        let mut g = crate::prng::SplitMix64::new(seed);
        let b: Vec<u64> = a.iter().map(|_| g.next()).collect();
        let arena: Vec<u64> = (0..a.len() * rows).map(|_| g.next()).collect();
        for k in available() {
            prop_assert_eq!(k.distance(&a, &b).unwrap(), oracle(&a, &b));
            let mut out = vec![0; rows];
            k.distances(&a, &arena, &mut out).unwrap();
            let expect: Vec<u32> = arena.chunks(a.len()).map(|r| oracle(&a, r)).collect();
            prop_assert_eq!(out, expect);
        }
    }
}

#[test]
fn the_fused_pass_hands_on_exactly_the_rows_at_or_below_the_cut() {
    let q = Aligned::random(64 + 8, 5);
    let arena = Aligned::random(64 * 41 + 8, 6);
    for k in available() {
        let mut fused = 0;
        for len in 1..=64 {
            // Every row count from none to 41: the pairs of each half and
            // every remainder.
            for rows in 0..=41 {
                let query = q.at(len % 8, len);
                let a = arena.at((len * 3) % 8, len * rows);
                let dists: Vec<u32> = a.chunks(len).map(|r| oracle(query, r)).collect();
                // A fixed cut about in the middle: exactly those rows.
                let cut = 32 * len as u32;
                let mut seen = Vec::new();
                let took = k
                    .visit_at_or_below(query, a, cut, &mut |row, d| {
                        seen.push((row, d));
                        cut
                    })
                    .unwrap();
                if !took {
                    assert!(seen.is_empty(), "{} len={len}", k.name());
                    continue;
                }
                fused += 1;
                seen.sort();
                let want: Vec<(usize, u32)> = dists
                    .iter()
                    .copied()
                    .enumerate()
                    .filter(|&(_, d)| d <= cut)
                    .collect();
                assert_eq!(seen, want, "{} len={len} rows={rows}", k.name());
                // A cut the visitor lowers to each row's distance minus one:
                // every row handed on must be at or below the cut it was
                // given, and a row is skipped only when above it.
                let mut cut = u32::MAX;
                let mut handed = 0;
                k.visit_at_or_below(query, a, cut, &mut |row, d| {
                    assert!(d <= cut && dists[row] == d, "{} len={len}", k.name());
                    handed += 1;
                    cut = d.saturating_sub(1);
                    cut
                })
                .unwrap();
                assert!(handed >= rows.min(1), "{} len={len}", k.name());
            }
        }
        // Every row count takes the pass on the kernels that have one: the
        // AVX-512 kernel for queries of up to 8 registers of 256 bits (32
        // words), simd128 on x86-64 engines for up to 16 words.
        let want = match k.name() {
            "avx512" => 32 * 42,
            #[cfg(target_arch = "wasm32")]
            "simd128" if wasm32::engine_on_x86() => 16 * 42,
            _ => 0,
        };
        assert_eq!(fused, want, "fused passes taken by {}", k.name());
    }
}

#[test]
fn the_fused_pass_checks_shapes() {
    for k in available() {
        let mut visit = |_: usize, _: u32| 0;
        assert_eq!(
            k.visit_at_or_below(&[], &[0; 4], 9, &mut visit),
            Err(ShapeError::EmptyQuery)
        );
        assert_eq!(
            k.visit_at_or_below(&[0; 3], &[0; 4], 9, &mut visit),
            Err(ShapeError::RaggedArena {
                arena_words: 4,
                row_words: 3
            })
        );
    }
}
