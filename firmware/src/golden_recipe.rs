//! The golden fingerprint cases, word for word the same on both sides: the
//! firmware computes them on Cortex-M and compares with
//! `golden_table.rs`, which the host program `golden-gen/` wrote by
//! computing them on the build machine (`#[path]` includes this file).
//! Core only: no defmt, no std, so it compiles for both.

use bindspace_core::fingerprint::{bind, bundle, encode_text, from_seed, permute, FpError};
use bindspace_core::prng::{fnv1a, FNV_OFFSET};

/// The widest output any case writes: 256 words, 16,384 bits.
pub(crate) const MAX_WORDS: usize = 256;
/// Words of the inputs the composite cases combine (2,048 bits).
const PART: usize = 32;

/// One golden case: a name and how to fill a fingerprint.
pub(crate) struct Case {
    /// What the case computes, for the log and the table's comments.
    pub(crate) name: &'static str,
    /// Output width in words.
    pub(crate) words: usize,
    /// Fills an output of `words` words.
    pub(crate) make: fn(&mut [u64]) -> Result<(), FpError>,
}

/// The cases: text encoding at the smallest, the default and the largest
/// width, ASCII and not, then seeds and each operation on top of them.
pub(crate) const CASES: [Case; 10] = [
    Case {
        name: "encode_text 64 bits: hello world",
        words: 1,
        make: |o| encode_text(o, "hello world"),
    },
    Case {
        name: "encode_text 8192 bits: hello world",
        words: 128,
        make: |o| encode_text(o, "hello world"),
    },
    Case {
        name: "encode_text 8192 bits: empty text",
        words: 128,
        make: |o| encode_text(o, ""),
    },
    Case {
        name: "encode_text 8192 bits: quick brown fox",
        words: 128,
        make: |o| encode_text(o, "The quick brown fox jumps over the lazy dog"),
    },
    Case {
        name: "encode_text 8192 bits: non-ASCII",
        words: 128,
        make: |o| encode_text(o, "Grüße, 世界 🌍"),
    },
    Case {
        name: "encode_text 16384 bits: bindspace",
        words: 256,
        make: |o| encode_text(o, "bindspace"),
    },
    Case {
        name: "from_seed 8192 bits: 42",
        words: 128,
        make: |o| from_seed(o, 42),
    },
    Case {
        name: "bind 2048 bits: text cat, text dog",
        words: PART,
        make: |o| bind(o, &text_part("cat")?, &text_part("dog")?),
    },
    Case {
        name: "bundle 2048 bits: seeds 1, 2, 3, 4",
        words: PART,
        make: |o| {
            bundle(
                o,
                &[
                    &seed_part(1)?,
                    &seed_part(2)?,
                    &seed_part(3)?,
                    &seed_part(4)?,
                ],
            )
        },
    },
    Case {
        name: "permute 2048 bits: seed 5 by -1000",
        words: PART,
        make: |o| permute(o, &seed_part(5)?, -1000),
    },
];

fn text_part(text: &str) -> Result<[u64; PART], FpError> {
    let mut fp = [0; PART];
    encode_text(&mut fp, text)?;
    Ok(fp)
}

fn seed_part(seed: u64) -> Result<[u64; PART], FpError> {
    let mut fp = [0; PART];
    from_seed(&mut fp, seed)?;
    Ok(fp)
}

/// FNV-1a 64 over the fingerprint's bytes in log order (words little-endian).
pub(crate) fn digest(fp: &[u64]) -> u64 {
    fp.iter()
        .fold(FNV_OFFSET, |h, w| fnv1a(h, &w.to_le_bytes()))
}
