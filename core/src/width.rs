//! The width of a space's fingerprints, chosen when the space is created.

use core::fmt;

/// A fingerprint width: a whole number of 64-bit words, 64 to 16,384 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Width {
    words: u16,
}

/// Why a width was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WidthError {
    /// The bit count is not a multiple of 64.
    NotWholeWords {
        /// The bits asked for.
        bits: u32,
    },
    /// The bit count is below 64 or above 16,384.
    OutOfRange {
        /// The bits asked for.
        bits: u32,
    },
}

impl fmt::Display for WidthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WidthError::NotWholeWords { bits } => {
                write!(f, "width {bits} bits is not a multiple of 64")
            }
            WidthError::OutOfRange { bits } => write!(
                f,
                "width {bits} bits is out of range ({}..={} bits)",
                Width::MIN_BITS,
                Width::MAX_BITS
            ),
        }
    }
}

impl Width {
    /// The narrowest fingerprint: one word.
    pub const MIN_BITS: u32 = 64;
    /// The widest fingerprint: 256 words.
    pub const MAX_BITS: u32 = 16_384;
    /// The width a space gets unless told otherwise.
    pub const DEFAULT: Width = Width { words: 128 };

    /// Checks a width given in bits.
    pub const fn from_bits(bits: u32) -> Result<Width, WidthError> {
        if bits < Self::MIN_BITS || bits > Self::MAX_BITS {
            return Err(WidthError::OutOfRange { bits });
        }
        if !bits.is_multiple_of(64) {
            return Err(WidthError::NotWholeWords { bits });
        }
        Ok(Width {
            words: (bits / 64) as u16,
        })
    }

    /// Checks a width given in 64-bit words.
    pub const fn from_words(words: usize) -> Result<Width, WidthError> {
        if words > (Self::MAX_BITS / 64) as usize {
            return Err(WidthError::OutOfRange { bits: u32::MAX });
        }
        Self::from_bits(words as u32 * 64)
    }

    /// The width in bits.
    pub const fn bits(self) -> u32 {
        self.words as u32 * 64
    }

    /// The width in 64-bit words: the length of a fingerprint slice.
    pub const fn words(self) -> usize {
        self.words as usize
    }

    /// The width in bytes, as fingerprints travel on the wire and in the log.
    pub const fn bytes(self) -> usize {
        self.words as usize * 8
    }
}

impl Default for Width {
    fn default() -> Self {
        Width::DEFAULT
    }
}

impl fmt::Display for Width {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bits", self.bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // wasm-bindgen-test cannot run plain `#[test]` functions: on wasm32 this
    // import turns every `#[test]` below (proptest's too) into a
    // `#[wasm_bindgen_test]`, so one test body serves every target.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn accepts_every_whole_word_width_in_range() {
        for words in 1..=256u32 {
            let w = Width::from_bits(words * 64).unwrap();
            assert_eq!(w.words() as u32, words);
            assert_eq!(Width::from_words(words as usize), Ok(w));
        }
        assert_eq!(Width::DEFAULT.bits(), 8192);
    }

    #[test]
    fn refuses_bad_widths_with_a_reason() {
        assert_eq!(Width::from_bits(0), Err(WidthError::OutOfRange { bits: 0 }));
        assert_eq!(
            Width::from_bits(32),
            Err(WidthError::OutOfRange { bits: 32 })
        );
        assert_eq!(
            Width::from_bits(16_448),
            Err(WidthError::OutOfRange { bits: 16_448 })
        );
        assert_eq!(
            Width::from_bits(100),
            Err(WidthError::NotWholeWords { bits: 100 })
        );
        assert!(Width::from_words(0).is_err());
        assert!(Width::from_words(257).is_err());
        assert!(Width::from_words(usize::MAX).is_err());
    }
}
