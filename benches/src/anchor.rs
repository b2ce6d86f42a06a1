//! The plain memory-read pass: the physical limit of a scan.
//!
//! A one-to-many kernel reads every byte of the arena once; nothing that
//! reads those bytes can be faster than the fastest pass that only reads
//! them. To keep that anchor honest it is not one loop but several read
//! strategies, all measured in the same run; the report holds kernels to
//! the fastest of them. (Which one wins depends on the CPU: on some,
//! streaming from DRAM with the widest loads and no other work is *not*
//! the fastest way to read, so each is measured rather than assumed.)
//!
//! Every strategy folds all words into a result, so no load can be
//! skipped, and returns it.
//!
//! Known limit: every strategy reads one sequential stream. The AVX-512
//! kernel reads long arenas as two streams (half the rows each), which
//! keeps more misses in flight than one stream does, so on that kernel a
//! search can come in *under* this anchor (ratios below 1.0 in
//! docs/BENCHMARKS.md, search run K). The anchor is then a floor the
//! kernel has beaten, not the limit; a two-stream read strategy would be
//! the fairer anchor there and has not been added.

/// One way of reading a buffer.
#[derive(Clone, Copy)]
pub struct PlainRead {
    name: &'static str,
    read: unsafe fn(&[u64]) -> u64,
}

impl PlainRead {
    /// Every read strategy this CPU runs.
    pub fn available() -> Vec<PlainRead> {
        let mut reads = vec![PlainRead {
            name: "read-portable",
            read: portable_raw,
        }];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                reads.push(PlainRead {
                    name: "read-avx2",
                    read: x86::avx2,
                });
            }
            if std::is_x86_feature_detected!("avx512f") {
                reads.push(PlainRead {
                    name: "read-avx512",
                    read: x86::avx512,
                });
                reads.push(PlainRead {
                    name: "read-avx512-paced",
                    read: x86::avx512_paced,
                });
            }
        }
        reads
    }

    /// The strategy's name, e.g. `read-avx512`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Reads every word of `words`; returns their XOR.
    pub fn read(&self, words: &[u64]) -> u64 {
        // SAFETY: a `PlainRead` is only built by `available`, after checking
        // that the CPU has the instructions its function needs.
        unsafe { (self.read)(words) }
    }
}

/// XOR of all words, in portable code (the compiler vectorises it for the
/// baseline of the target).
pub fn portable(words: &[u64]) -> u64 {
    words.iter().fold(0, |acc, w| acc ^ w)
}

/// `portable` with the signature of the other strategies.
///
/// # Safety
/// None needed: it is safe code; `unsafe` only to share the pointer type.
unsafe fn portable_raw(words: &[u64]) -> u64 {
    portable(words)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::*;

    /// XOR of all words with 256-bit loads, four accumulators.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2(words: &[u64]) -> u64 {
        let (n, p) = (words.len(), words.as_ptr());
        let mut acc = [_mm256_setzero_si256(); 4];
        let mut i = 0;
        while i + 16 <= n {
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: 4 words at `i + 4k`, `i + 16 <= n`: inside
                // `words`; AVX2 present (caller's contract).
                *a = _mm256_xor_si256(*a, unsafe { _mm256_loadu_si256(p.add(i + 4 * k).cast()) });
            }
            i += 16;
        }
        let v = _mm256_xor_si256(
            _mm256_xor_si256(acc[0], acc[1]),
            _mm256_xor_si256(acc[2], acc[3]),
        );
        let lanes = _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let folded = (_mm_cvtsi128_si64(lanes) ^ _mm_extract_epi64::<1>(lanes)) as u64;
        folded ^ super::portable(&words[i..])
    }

    /// XOR of all words with 512-bit loads, four accumulators, four lines
    /// per iteration: the most loads per cycle.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512(words: &[u64]) -> u64 {
        let (n, p) = (words.len(), words.as_ptr());
        let mut acc = [_mm512_setzero_si512(); 4];
        let mut i = 0;
        while i + 32 <= n {
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: 8 words at `i + 8k`, `i + 32 <= n`: inside
                // `words`; AVX-512F present (caller's contract).
                *a = _mm512_xor_si512(*a, unsafe { _mm512_loadu_si512(p.add(i + 8 * k).cast()) });
            }
            i += 32;
        }
        let v = _mm512_xor_si512(
            _mm512_xor_si512(acc[0], acc[1]),
            _mm512_xor_si512(acc[2], acc[3]),
        );
        xor_lanes(v) ^ super::portable(&words[i..])
    }

    /// 512-bit loads, each line folded into both an XOR and a sum: more
    /// work per line, which on some CPUs streams from DRAM faster than the
    /// bare loop (fewer misses queued ahead of the hardware prefetcher).
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512_paced(words: &[u64]) -> u64 {
        let (n, p) = (words.len(), words.as_ptr());
        let mut xor = _mm512_setzero_si512();
        let mut sum = _mm512_setzero_si512();
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: 8 words at `i`, `i + 8 <= n`: inside `words`;
            // AVX-512F present (caller's contract).
            let v = unsafe { _mm512_loadu_si512(p.add(i).cast()) };
            xor = _mm512_xor_si512(xor, v);
            sum = _mm512_add_epi64(sum, v);
            i += 8;
        }
        xor_lanes(xor) ^ (_mm512_reduce_add_epi64(sum) as u64 & 1) ^ super::portable(&words[i..])
    }

    #[target_feature(enable = "avx512f")]
    fn xor_lanes(v: __m512i) -> u64 {
        let mut lanes = [0u64; 8];
        // SAFETY: `lanes` is 64 writable bytes; AVX-512F present (the
        // target feature of this function, only called from ones that
        // have it).
        unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), v) };
        lanes.iter().fold(0, |a, b| a ^ b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_reads_every_word() {
        let words: Vec<u64> = (0..1000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        for len in [0, 1, 7, 8, 15, 16, 31, 32, 33, 999, 1000] {
            let expect = portable(&words[..len]);
            for r in PlainRead::available() {
                let got = r.read(&words[..len]);
                // The paced read also folds in the low bit of the sum.
                let sum_bit = words[..len - len % 8]
                    .iter()
                    .fold(0u64, |a, w| a.wrapping_add(*w))
                    & 1;
                if r.name() == "read-avx512-paced" {
                    assert_eq!(got, expect ^ sum_bit, "{} len {len}", r.name());
                } else {
                    assert_eq!(got, expect, "{} len {len}", r.name());
                }
            }
        }
    }
}
