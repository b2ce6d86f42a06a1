//! Hex form of fingerprints: the words' little-endian bytes in order,
//! two lower-case hex digits a byte.

use super::{check_width, FpError};
use core::fmt;

/// Why a hex fingerprint did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HexError {
    /// A character that is not a hex digit, at this byte offset.
    BadDigit {
        /// Offset of the character in the input.
        at: usize,
    },
    /// The hex has this many digits, but the width needs `expected`.
    WrongLength {
        /// Digits the width needs.
        expected: usize,
        /// Digits given.
        got: usize,
    },
    /// The output slice is not a valid width.
    BadWidth(FpError),
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            HexError::BadDigit { at } => write!(f, "bad hex digit at offset {at}"),
            HexError::WrongLength { expected, got } => write!(
                f,
                "wrong width: fingerprint hex has {got} digits ({} bits), this space needs {expected} ({} bits)",
                got * 4,
                expected * 4
            ),
            HexError::BadWidth(e) => e.fmt(f),
        }
    }
}

/// Parses hex into `out`; the hex must have exactly `16 * out.len()` digits.
/// An optional `0x` prefix is accepted. On error `out` is left unchanged.
pub fn from_hex(out: &mut [u64], hex: &[u8]) -> Result<(), HexError> {
    check_width(out.len()).map_err(HexError::BadWidth)?;
    let (hex, base) = match hex.strip_prefix(b"0x") {
        Some(rest) => (rest, 2),
        None => (hex, 0),
    };
    let expected = out.len() * 16;
    if hex.len() != expected {
        return Err(HexError::WrongLength {
            expected,
            got: hex.len(),
        });
    }
    // Every digit is checked before `out` is touched (it stays unchanged on
    // error); one table lookup a digit in both passes, with no branch a
    // digit (an 8,192-bit SET carries 2,048 of them).
    if hex
        .iter()
        .fold(0, |bad, &c| bad | HEX_VALUE[usize::from(c)])
        & NOT_DIGIT
        != 0
    {
        let at = hex
            .iter()
            .position(|&c| HEX_VALUE[usize::from(c)] & NOT_DIGIT != 0)
            .unwrap_or(0);
        return Err(HexError::BadDigit { at: at + base });
    }
    for (o, chunk) in out.iter_mut().zip(hex.chunks_exact(16)) {
        let mut bytes = [0u8; 8];
        for (b, pair) in bytes.iter_mut().zip(chunk.chunks_exact(2)) {
            *b = (HEX_VALUE[usize::from(pair[0])] << 4) | HEX_VALUE[usize::from(pair[1])];
        }
        *o = u64::from_le_bytes(bytes);
    }
    Ok(())
}

/// Marks a byte that is not a hex digit in [`HEX_VALUE`]: no digit's value
/// has a high-nibble bit, so OR-ing the values of a run of bytes and
/// testing once finds any bad one.
const NOT_DIGIT: u8 = 0xF0;

/// The value of each byte as a hex digit (either case), or [`NOT_DIGIT`].
const HEX_VALUE: [u8; 256] = {
    let mut table = [NOT_DIGIT; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Writes the hex form of `fp` into `out`, which must hold `16 * fp.len()`
/// bytes; returns the written part as `&str`.
pub fn to_hex<'o>(fp: &[u64], out: &'o mut [u8]) -> Result<&'o str, HexError> {
    let need = fp.len() * 16;
    if out.len() < need {
        return Err(HexError::WrongLength {
            expected: need,
            got: out.len(),
        });
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (word, chunk) in fp.iter().zip(out.chunks_exact_mut(16)) {
        for (b, pair) in word.to_le_bytes().iter().zip(chunk.chunks_exact_mut(2)) {
            pair[0] = DIGITS[(b >> 4) as usize];
            pair[1] = DIGITS[(b & 15) as usize];
        }
    }
    // Only ASCII hex digits were written.
    core::str::from_utf8(&out[..need]).map_err(|_| HexError::BadDigit { at: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec;

    // wasm-bindgen-test cannot run plain `#[test]` functions: on wasm32 this
    // import turns every `#[test]` below (proptest's too) into a
    // `#[wasm_bindgen_test]`, so one test body serves every target.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn byte_order_is_little_endian_words() {
        let mut fp = [0u64; 1];
        from_hex(&mut fp, b"0100000000000080").unwrap();
        assert_eq!(fp[0], 0x8000_0000_0000_0001);
    }

    #[test]
    fn errors_name_the_problem() {
        let mut fp = [7u64; 1];
        assert_eq!(
            from_hex(&mut fp, b"01"),
            Err(HexError::WrongLength {
                expected: 16,
                got: 2
            })
        );
        assert_eq!(
            from_hex(&mut fp, b"0x010000000000000g"),
            Err(HexError::BadDigit { at: 17 })
        );
        assert_eq!(fp[0], 7, "failed parse leaves output untouched");
    }

    #[test]
    fn every_byte_value_is_a_digit_exactly_when_ascii_says_so() {
        for b in 0..=255u8 {
            for at in [0, 7, 15] {
                let mut hex = *b"0123456789abcdef";
                hex[at] = b;
                let mut fp = [0u64];
                let got = from_hex(&mut fp, &hex);
                match char::from(b).to_digit(16) {
                    Some(v) => {
                        assert_eq!(got, Ok(()), "byte {b:#04x}");
                        let byte = fp[0].to_le_bytes()[at / 2];
                        let nibble = if at % 2 == 0 { byte >> 4 } else { byte & 15 };
                        assert_eq!(u32::from(nibble), v, "byte {b:#04x} at {at}");
                    }
                    None => assert_eq!(got, Err(HexError::BadDigit { at }), "byte {b:#04x}"),
                }
            }
        }
    }

    proptest! {
        #[test]
        fn round_trips(words in proptest::collection::vec(any::<u64>(), 1..8)) {
            let mut buf = vec![0u8; words.len() * 16];
            let hex = std::string::String::from(to_hex(&words, &mut buf).unwrap());
            let mut back = vec![0u64; words.len()];
            from_hex(&mut back, hex.as_bytes()).unwrap();
            prop_assert_eq!(back, words);
        }

        #[test]
        fn never_panics(words in 1usize..4, s in proptest::collection::vec(any::<u8>(), 0..80)) {
            let mut fp = vec![0u64; words];
            let _ = from_hex(&mut fp, &s);
        }
    }
}
