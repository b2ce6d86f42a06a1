//! bind, bundle, permute and generation from a seed.

use super::{check_same, check_width, FpError};
use crate::prng::stream_word;

/// The seed of the tie-break fingerprint used by [`bundle`].
///
/// When an even number of inputs splits a bit evenly, the output bit is that
/// bit of `from_seed(TIE_SEED)`. The rule is deterministic, the same on every
/// platform, and unbiased: it favours neither input nor 0 or 1.
pub const TIE_SEED: u64 = 0xB1D5_0000_0000_7713;

/// `out = a XOR b`. Binding is its own inverse: `bind(bind(a, b), b) == a`.
pub fn bind(out: &mut [u64], a: &[u64], b: &[u64]) -> Result<(), FpError> {
    check_width(out.len())?;
    check_same(out.len(), a.len())?;
    check_same(out.len(), b.len())?;
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x ^ y;
    }
    Ok(())
}

/// `out` = the bitwise majority of `inputs`; ties go to [`TIE_SEED`]'s bits.
///
/// Works one word at a time with 64 counters on the stack, so memory stays
/// bounded whatever the number of inputs.
pub fn bundle(out: &mut [u64], inputs: &[&[u64]]) -> Result<(), FpError> {
    check_width(out.len())?;
    if inputs.is_empty() {
        return Err(FpError::NoInputs);
    }
    if inputs.len() > u16::MAX as usize {
        return Err(FpError::TooManyInputs);
    }
    for input in inputs {
        check_same(out.len(), input.len())?;
    }
    let n = inputs.len() as u32;
    for (w, o) in out.iter_mut().enumerate() {
        let mut counts = [0u32; 64];
        for input in inputs {
            add_bits(&mut counts, input[w]);
        }
        *o = majority_word(&counts, n, tie_word(w));
    }
    Ok(())
}

/// Adds the bits of `word` into per-bit counters.
#[inline]
pub(crate) fn add_bits(counts: &mut [u32; 64], word: u64) {
    for (bit, c) in counts.iter_mut().enumerate() {
        *c += ((word >> bit) & 1) as u32;
    }
}

/// The majority word of `n` inputs whose per-bit counts are `counts`.
#[inline]
pub(crate) fn majority_word(counts: &[u32; 64], n: u32, tie: u64) -> u64 {
    let mut out = 0u64;
    for (bit, &c) in counts.iter().enumerate() {
        let set = match (2 * c).cmp(&n) {
            core::cmp::Ordering::Greater => true,
            core::cmp::Ordering::Less => false,
            core::cmp::Ordering::Equal => (tie >> bit) & 1 == 1,
        };
        out |= (set as u64) << bit;
    }
    out
}

/// Word `w` of the tie-break fingerprint.
#[inline]
pub(crate) fn tie_word(w: usize) -> u64 {
    stream_word(TIE_SEED, w as u64)
}

/// `out` = `src` rotated towards higher bit positions by `n` bits:
/// bit `i` of `src` becomes bit `(i + n) mod width` of `out`. Negative `n`
/// rotates the other way; [`unpermute`] undoes `permute` with the same `n`.
pub fn permute(out: &mut [u64], src: &[u64], n: i64) -> Result<(), FpError> {
    check_width(out.len())?;
    check_same(out.len(), src.len())?;
    let words = out.len();
    let shift = rotation(n, (words * 64) as u32) as usize;
    let (word_shift, bit_shift) = (shift / 64, (shift % 64) as u32);
    for (i, o) in out.iter_mut().enumerate() {
        // out word i takes its low bits from src word (i - word_shift) and
        // the rest from the word below it.
        let hi = src[(i + words - word_shift) % words];
        let lo = src[(i + 2 * words - word_shift - 1) % words];
        *o = if bit_shift == 0 {
            hi
        } else {
            (hi << bit_shift) | (lo >> (64 - bit_shift))
        };
    }
    Ok(())
}

/// `n.rem_euclid(bits)` for a width of at most 16,384 bits, in 32-bit
/// arithmetic: `i64 % i64` links a 64-bit division routine (about 1 KiB)
/// into the image of a 32-bit device.
fn rotation(n: i64, bits: u32) -> u32 {
    // Every product below stays under m^2 <= 2^28.
    let m = bits.clamp(1, 16_384);
    let u = n as u64;
    let (hi, lo) = ((u >> 32) as u32, u as u32);
    // 2^32 mod m and 2^64 mod m.
    let p32 = (u32::MAX % m + 1) % m;
    let p64 = p32 * p32 % m;
    // u = hi * 2^32 + lo; a negative n is u - 2^64.
    let r = ((hi % m) * p32 + lo % m) % m;
    if n < 0 {
        (r + m - p64) % m
    } else {
        r
    }
}

/// The inverse of [`permute`]: `unpermute(permute(x, n), n) == x`.
pub fn unpermute(out: &mut [u64], src: &[u64], n: i64) -> Result<(), FpError> {
    // Negating i64::MIN overflows; rotating by it equals rotating by any
    // multiple of the width away from it, so reduce first (in 32-bit
    // arithmetic, as `permute` does; a width `rotation` cannot reduce is
    // one `permute` refuses).
    let bits = (src.len().max(1) * 64) as u32;
    permute(out, src, -i64::from(rotation(n, bits)))
}

/// Fills `out` with the fingerprint generated from `seed`: word `i` is
/// [`stream_word`]`(seed, i)`. Same seed, same bits, on every platform.
pub fn from_seed(out: &mut [u64], seed: u64) -> Result<(), FpError> {
    check_width(out.len())?;
    for (i, o) in out.iter_mut().enumerate() {
        *o = stream_word(seed, i as u64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    // wasm-bindgen-test cannot run plain `#[test]` functions: on wasm32 this
    // import turns every `#[test]` below (proptest's too) into a
    // `#[wasm_bindgen_test]`, so one test body serves every target.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn get_bit(fp: &[u64], i: usize) -> bool {
        (fp[i / 64] >> (i % 64)) & 1 == 1
    }

    fn seeded(words: usize, seed: u64) -> Vec<u64> {
        let mut v = vec![0; words];
        from_seed(&mut v, seed).unwrap();
        v
    }

    #[test]
    fn from_seed_is_pinned() {
        // The first word for seed 0 is SplitMix64's first output for state 0.
        let fp = seeded(2, 0);
        assert_eq!(fp[0], 0xE220_A839_7B1D_CDAF);
        assert_eq!(fp, seeded(2, 0));
        assert_ne!(fp, seeded(2, 1));
    }

    #[test]
    fn bind_is_self_inverse() {
        let a = seeded(4, 1);
        let b = seeded(4, 2);
        let mut ab = vec![0; 4];
        let mut back = vec![0; 4];
        bind(&mut ab, &a, &b).unwrap();
        bind(&mut back, &ab, &b).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn bundle_of_three_is_bitwise_majority() {
        let x = [0b1100u64];
        let y = [0b1010u64];
        let z = [0b1001u64];
        let mut out = [0u64];
        bundle(&mut out, &[&x, &y, &z]).unwrap();
        assert_eq!(out[0], 0b1000);
    }

    #[test]
    fn bundle_ties_follow_the_tie_seed() {
        let zeros = [0u64; 3];
        let ones = [u64::MAX; 3];
        let mut out = [0u64; 3];
        bundle(&mut out, &[&zeros, &ones]).unwrap();
        assert_eq!(out.to_vec(), seeded(3, TIE_SEED));
        // Order of inputs does not matter.
        let mut swapped = [0u64; 3];
        bundle(&mut swapped, &[&ones, &zeros]).unwrap();
        assert_eq!(out, swapped);
    }

    #[test]
    fn permute_moves_single_bits() {
        for words in [1usize, 2, 3, 128] {
            let bits = words * 64;
            for i in [0usize, 1, 63, 64 % bits, bits - 1] {
                for n in [
                    0i64,
                    1,
                    63,
                    64,
                    65,
                    bits as i64,
                    -1,
                    -65,
                    i64::MIN,
                    i64::MAX,
                ] {
                    let mut src = vec![0u64; words];
                    src[i / 64] |= 1 << (i % 64);
                    let mut out = vec![0u64; words];
                    permute(&mut out, &src, n).unwrap();
                    let j = (i as i64 + n.rem_euclid(bits as i64)) as usize % bits;
                    assert!(get_bit(&out, j), "words={words} i={i} n={n}");
                    assert_eq!(out.iter().map(|w| w.count_ones()).sum::<u32>(), 1);
                }
            }
        }
    }

    #[test]
    fn rotation_equals_rem_euclid() {
        let ns = [
            0i64,
            1,
            -1,
            63,
            -64,
            1 << 40,
            -(1 << 40),
            i64::MIN,
            i64::MAX,
        ];
        for words in 1..=256u32 {
            let bits = words * 64;
            for n in ns
                .into_iter()
                .chain((-3..=3).map(|k| k * i64::from(bits) + 5))
            {
                let want = n.rem_euclid(i64::from(bits)) as u32;
                assert_eq!(rotation(n, bits), want, "n={n} bits={bits}");
            }
        }
    }

    #[test]
    fn mismatched_widths_are_errors() {
        let mut out = [0u64; 2];
        assert_eq!(
            bind(&mut out, &[0; 2], &[0; 3]),
            Err(FpError::WidthMismatch {
                expected: 2,
                got: 3
            })
        );
        assert_eq!(
            bundle(&mut out, &[&[0; 2], &[0; 1]]),
            Err(FpError::WidthMismatch {
                expected: 2,
                got: 1
            })
        );
        assert_eq!(bundle(&mut out, &[]), Err(FpError::NoInputs));
        assert!(permute(&mut out, &[0; 1], 3).is_err());
        assert_eq!(from_seed(&mut [], 1), Err(FpError::BadWidth { words: 0 }));
        let mut big = vec![0u64; 257];
        assert_eq!(
            from_seed(&mut big, 1),
            Err(FpError::BadWidth { words: 257 })
        );
    }

    proptest! {
        #[test]
        fn unpermute_inverts_permute(words in 1usize..8, seed: u64, n: i64) {
            let src = seeded(words, seed);
            let mut p = vec![0; words];
            let mut back = vec![0; words];
            permute(&mut p, &src, n).unwrap();
            unpermute(&mut back, &p, n).unwrap();
            prop_assert_eq!(back, src);
        }

        #[test]
        fn permute_matches_bit_by_bit_oracle(words in 1usize..5, seed: u64, n in -600i64..600) {
            let src = seeded(words, seed);
            let mut out = vec![0; words];
            permute(&mut out, &src, n).unwrap();
            let bits = words * 64;
            for i in 0..bits {
                let j = (i as i64 + n).rem_euclid(bits as i64) as usize;
                prop_assert_eq!(get_bit(&src, i), get_bit(&out, j));
            }
        }

        #[test]
        fn bundle_matches_bit_by_bit_oracle(n in 1usize..7, words in 1usize..4, seed: u64) {
            let inputs: Vec<Vec<u64>> = (0..n).map(|k| seeded(words, seed ^ k as u64)).collect();
            let refs: Vec<&[u64]> = inputs.iter().map(|v| v.as_slice()).collect();
            let mut out = vec![0; words];
            bundle(&mut out, &refs).unwrap();
            let tie = seeded(words, TIE_SEED);
            for i in 0..words * 64 {
                let ones = inputs.iter().filter(|v| get_bit(v, i)).count();
                let expect = if 2 * ones == n { get_bit(&tie, i) } else { 2 * ones > n };
                prop_assert_eq!(get_bit(&out, i), expect);
            }
        }
    }
}
