//! Word buffers aligned to a cache line, for benchmarks.
//!
//! A `Vec<u64>` is only 8-byte aligned (large ones come from `mmap` plus an
//! allocator header, so they usually start 16 bytes into a page): a kernel
//! benchmarked on it would pay for line splits the real store may not. An
//! [`AlignedWords`] over-allocates by one line and starts at the first
//! 64-byte boundary, in safe code.

use bindspace_core::prng::SplitMix64;

/// Bytes in a cache line on every CPU bindspace targets.
pub const LINE_BYTES: usize = 64;
const LINE_WORDS: usize = LINE_BYTES / 8;

/// `len` words whose first word starts a 64-byte cache line.
pub struct AlignedWords {
    buf: Vec<u64>,
    start: usize,
    len: usize,
}

impl AlignedWords {
    /// `len` zero words.
    pub fn zeroed(len: usize) -> Self {
        let buf = vec![0u64; len + LINE_WORDS];
        // The pointer is 8-aligned, so the distance to the next line is a
        // whole number of words, at most LINE_WORDS - 1.
        let misaligned = buf.as_ptr() as usize % LINE_BYTES;
        let start = (LINE_BYTES - misaligned) % LINE_BYTES / 8;
        AlignedWords { buf, start, len }
    }

    /// `len` words from the SplitMix64 stream seeded with `seed`: the same
    /// bits on every machine, so runs compare the same data.
    pub fn random(len: usize, seed: u64) -> Self {
        let mut words = Self::zeroed(len);
        let mut g = SplitMix64::new(seed);
        words.as_mut_slice().iter_mut().for_each(|w| *w = g.next());
        words
    }

    /// The words.
    pub fn as_slice(&self) -> &[u64] {
        &self.buf[self.start..self.start + self.len]
    }

    /// The words, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u64] {
        &mut self.buf[self.start..self.start + self.len]
    }

    /// Size in bytes.
    pub fn bytes(&self) -> usize {
        self.len * 8
    }
}

/// The same memory as bytes (little-endian words on every target bindspace
/// benchmarks), for libraries whose Hamming takes `&[u8]`.
pub fn as_bytes(words: &[u64]) -> &[u8] {
    // SAFETY: the pointer and length cover exactly the memory of `words`,
    // borrowed for the same lifetime; `u8` has alignment 1 and every bit
    // pattern is a valid `u8`.
    unsafe { core::slice::from_raw_parts(words.as_ptr().cast::<u8>(), words.len() * 8) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_a_line_and_has_the_asked_length() {
        for len in [0, 1, 7, 8, 9, 1000] {
            let w = AlignedWords::random(len, 3);
            assert_eq!(w.as_slice().len(), len);
            assert_eq!(w.as_slice().as_ptr() as usize % LINE_BYTES, 0);
            assert_eq!(as_bytes(w.as_slice()).len(), len * 8);
        }
    }

    #[test]
    fn random_is_the_prng_stream() {
        let w = AlignedWords::random(3, 42);
        let mut g = SplitMix64::new(42);
        assert_eq!(w.as_slice(), &[g.next(), g.next(), g.next()]);
    }
}
