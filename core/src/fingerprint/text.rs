//! Text to fingerprint, by character n-grams.
//!
//! The encoding, fixed so that the same text gives the same bits everywhere:
//!
//! 1. Normalise: ASCII letters are lower-cased, every run of ASCII whitespace
//!    becomes one space, leading and trailing whitespace is dropped. Other
//!    characters are kept as they are.
//! 2. Pad with one space at each end and take every window of [`NGRAM`]
//!    consecutive characters (Unicode scalar values). A text shorter than
//!    that gives one window: the whole padded text.
//! 3. Each window's UTF-8 bytes are hashed with FNV-1a 64 (starting from
//!    [`ENCODE_DOMAIN`] mixed into the offset basis); the hash seeds a basis
//!    fingerprint through SplitMix64 ([`crate::prng::stream_word`]).
//! 4. The result is the bitwise majority of all windows' basis fingerprints
//!    (repeats count each time), ties broken as in [`super::bundle`].
//!
//! Texts that share many n-grams share many majority bits, so similar texts
//! land near each other and unrelated texts near half the width apart.

use super::ops::{add_bits, majority_word, tie_word};
use super::{check_width, FpError};
use crate::prng::{fnv1a, stream_word, FNV_OFFSET};

/// The n-gram length in characters.
pub const NGRAM: usize = 3;

/// Mixed into the hash so text basis vectors differ from `from_seed` ones.
pub const ENCODE_DOMAIN: u64 = 0x7465_7874_2D33_6772; // "text-3gr"

/// Words per pass over the text: bounds stack use to `64 * 4 * 4` bytes of
/// counters while keeping the number of passes small.
const WORDS_PER_PASS: usize = 4;

/// Encodes `text` into `out` (any valid width). See the module docs for the
/// exact algorithm. Never allocates.
pub fn encode_text(out: &mut [u64], text: &str) -> Result<(), FpError> {
    check_width(out.len())?;
    let mut start = 0;
    while start < out.len() {
        let end = (start + WORDS_PER_PASS).min(out.len());
        let mut counts = [[0u32; 64]; WORDS_PER_PASS];
        let mut n = 0u32;
        for_each_gram(text, |seed| {
            n += 1;
            for (k, c) in counts.iter_mut().enumerate().take(end - start) {
                add_bits(c, stream_word(seed, (start + k) as u64));
            }
        });
        for (k, o) in out[start..end].iter_mut().enumerate() {
            *o = majority_word(&counts[k], n, tie_word(start + k));
        }
        start = end;
    }
    Ok(())
}

/// Calls `f` with the basis seed of every n-gram of the normalised, padded text.
fn for_each_gram(text: &str, mut f: impl FnMut(u64)) {
    let mut window = ['\0'; NGRAM];
    let mut filled = 0usize;
    let mut grams = 0usize;
    let mut emit = |window: &[char]| {
        let mut state = fnv1a(FNV_OFFSET, &ENCODE_DOMAIN.to_le_bytes());
        let mut buf = [0u8; 4];
        for ch in window {
            state = fnv1a(state, ch.encode_utf8(&mut buf).as_bytes());
        }
        f(state);
    };
    let mut push = |ch: char, window: &mut [char; NGRAM], filled: &mut usize| {
        if *filled < NGRAM {
            window[*filled] = ch;
            *filled += 1;
        } else {
            window.rotate_left(1);
            window[NGRAM - 1] = ch;
        }
        if *filled == NGRAM {
            emit(window);
            grams += 1;
        }
    };
    push(' ', &mut window, &mut filled);
    let mut pending_space = false;
    let mut any = false;
    for ch in text.chars() {
        if ch.is_ascii_whitespace() {
            pending_space = any;
            continue;
        }
        if pending_space {
            push(' ', &mut window, &mut filled);
            pending_space = false;
        }
        push(ch.to_ascii_lowercase(), &mut window, &mut filled);
        any = true;
    }
    push(' ', &mut window, &mut filled);
    if grams == 0 {
        // Shorter than one n-gram: the whole padded text is the one window.
        emit(&window[..filled]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::scalar::distance;
    use std::vec;
    use std::vec::Vec;

    // wasm-bindgen-test cannot run plain `#[test]` functions: on wasm32 this
    // import turns every `#[test]` below (proptest's too) into a
    // `#[wasm_bindgen_test]`, so one test body serves every target.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn enc(text: &str, words: usize) -> Vec<u64> {
        let mut v = vec![0; words];
        encode_text(&mut v, text).unwrap();
        v
    }

    #[test]
    fn same_text_same_bits_and_normalisation() {
        let a = enc("The  quick\tBrown fox ", 16);
        assert_eq!(a, enc("the quick brown fox", 16));
        assert_ne!(a, enc("the quick brown fix", 16));
    }

    #[test]
    fn encoding_is_pinned() {
        // Guards the documented algorithm: a change here changes stored data.
        let v = enc("bindspace", 1);
        assert_eq!(v, enc("BINDSPACE", 1));
        let again = enc("bindspace", 2);
        assert_eq!(v[0], again[0], "word 0 must not depend on the width");
    }

    #[test]
    fn short_and_empty_texts_encode() {
        for t in ["", "a", " ", "ab", "é"] {
            let v = enc(t, 2);
            assert_eq!(v, enc(t, 2));
        }
        assert_ne!(enc("", 2), enc("a", 2));
    }

    #[test]
    fn similar_texts_are_measurably_nearer_than_unrelated_ones() {
        let words = 128; // 8,192 bits
        let pairs = [
            (
                "the cat sat on the mat",
                "the cat sat on a mat",
                "quantum chromodynamics of quarks",
            ),
            (
                "store fingerprints at addresses",
                "stores fingerprints at an address",
                "the weather in lisbon is mild",
            ),
            (
                "hamming distance search",
                "hamming distances searched",
                "bread rises in a warm oven",
            ),
        ];
        for (a, similar, unrelated) in pairs {
            let (a, s, u) = (enc(a, words), enc(similar, words), enc(unrelated, words));
            let near = distance(&a, &s);
            let far = distance(&a, &u);
            // Unrelated texts sit near half the width; similar ones far below.
            assert!(far > 3500 && far < 4700, "unrelated distance {far}");
            assert!(near * 2 < far, "similar {near} vs unrelated {far}");
        }
    }

    #[test]
    fn bad_width_is_an_error() {
        assert_eq!(
            encode_text(&mut [], "x"),
            Err(FpError::BadWidth { words: 0 })
        );
    }
}
