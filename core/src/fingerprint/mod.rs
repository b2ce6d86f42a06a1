//! Fingerprints: bit vectors of a space's width, held as `[u64]` slices.
//!
//! Bit `i` of a fingerprint is bit `i % 64` (least significant first) of word
//! `i / 64`. On the wire and in the log a fingerprint is its words in order,
//! each little-endian, so byte `j` holds bits `8j..8j+8`.
//!
//! Every function here takes its output and inputs as slices and checks
//! that their lengths agree: mixing widths is an error, never a panic and
//! never a silent truncation.

mod hex;
mod ops;
mod text;

pub use hex::{from_hex, to_hex, HexError};
pub use ops::{bind, bundle, from_seed, permute, unpermute, TIE_SEED};
pub use text::{encode_text, ENCODE_DOMAIN, NGRAM};

use core::fmt;

/// Why a fingerprint operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FpError {
    /// Two fingerprints (or an output and an input) have different lengths.
    WidthMismatch {
        /// Words expected (the output's length).
        expected: usize,
        /// Words given.
        got: usize,
    },
    /// The length is not a valid width (1 to 256 words).
    BadWidth {
        /// Words given.
        words: usize,
    },
    /// `bundle` was given no inputs.
    NoInputs,
    /// `bundle` was given more inputs than its counters hold (65,535).
    TooManyInputs,
}

impl fmt::Display for FpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FpError::WidthMismatch { expected, got } => write!(
                f,
                "fingerprint width mismatch: expected {} bits, got {} bits",
                expected * 64,
                got * 64
            ),
            FpError::BadWidth { words } => write!(
                f,
                "fingerprint of {} bits is not a valid width (64..=16384 bits, whole words)",
                words * 64
            ),
            FpError::NoInputs => f.write_str("bundle needs at least one input"),
            FpError::TooManyInputs => f.write_str("bundle takes at most 65535 inputs"),
        }
    }
}

/// Checks that `words` is a valid fingerprint length.
pub(crate) fn check_width(words: usize) -> Result<(), FpError> {
    if (1..=256).contains(&words) {
        Ok(())
    } else {
        Err(FpError::BadWidth { words })
    }
}

/// Checks that `got` has the `expected` length.
pub(crate) fn check_same(expected: usize, got: usize) -> Result<(), FpError> {
    if expected == got {
        Ok(())
    } else {
        Err(FpError::WidthMismatch { expected, got })
    }
}
