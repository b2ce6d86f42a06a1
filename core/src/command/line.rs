//! Splitting a text line into arguments, for the front ends that read
//! lines (the wasm `exec`, the command line). RESP front ends already have
//! an argument list and skip this.
//!
//! The rules, kept small on purpose:
//!
//! - Arguments are separated by runs of ASCII whitespace.
//! - An argument that starts with `"` runs to the next unescaped `"`;
//!   inside it `\"` is a quote and `\\` a backslash, and any other
//!   backslash is an error (so a typo never silently changes the text).
//!   The closing quote must be followed by whitespace or the end of line.
//! - A `"` anywhere else (inside a bare word) is an error.

use super::error::ErrorKind;

/// Splits `line` into arguments, unquoting into `buf` (which needs at most
/// `line.len()` bytes), and stores them in `args`; returns how many there
/// are. Errors name the offending offset of `line`.
pub fn split_line<'b>(
    line: &[u8],
    buf: &'b mut [u8],
    args: &mut [&'b [u8]],
) -> Result<usize, ErrorKind> {
    let capacity = buf.len();
    let mut rest: &'b mut [u8] = buf;
    let mut i = 0;
    let mut n = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == line.len() {
            return Ok(n);
        }
        if n == args.len() {
            return Err(ErrorKind::TooManyArguments { max: args.len() });
        }
        let mut written = 0;
        let mut push = |c: u8, rest: &mut [u8]| match rest.get_mut(written) {
            Some(slot) => {
                *slot = c;
                written += 1;
                Ok(())
            }
            None => Err(ErrorKind::ScratchBytes { capacity }),
        };
        if line[i] == b'"' {
            let open = i;
            i += 1;
            loop {
                match line.get(i) {
                    None => return Err(ErrorKind::UnterminatedQuote { at: open }),
                    Some(b'\\') => match line.get(i + 1) {
                        Some(&c @ (b'"' | b'\\')) => {
                            push(c, rest)?;
                            i += 2;
                        }
                        _ => return Err(ErrorKind::BadEscape { at: i }),
                    },
                    Some(b'"') => {
                        i += 1;
                        if line.get(i).is_some_and(|c| !c.is_ascii_whitespace()) {
                            return Err(ErrorKind::StrayQuote { at: i - 1 });
                        }
                        break;
                    }
                    Some(&c) => {
                        push(c, rest)?;
                        i += 1;
                    }
                }
            }
        } else {
            while let Some(&c) = line.get(i) {
                if c.is_ascii_whitespace() {
                    break;
                }
                if c == b'"' {
                    return Err(ErrorKind::StrayQuote { at: i });
                }
                push(c, rest)?;
                i += 1;
            }
        }
        let (arg, tail) = core::mem::take(&mut rest).split_at_mut(written);
        args[n] = arg;
        rest = tail;
        n += 1;
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

    fn split(line: &str) -> Result<std::vec::Vec<std::string::String>, ErrorKind> {
        let mut buf = [0u8; 256];
        let mut args: [&[u8]; 8] = [&[]; 8];
        let n = split_line(line.as_bytes(), &mut buf, &mut args)?;
        Ok(args[..n]
            .iter()
            .map(|a| std::string::String::from_utf8_lossy(a).into_owned())
            .collect())
    }

    #[test]
    fn splits_on_whitespace_runs() {
        assert_eq!(
            split("  SET\t0x10:01   ab \r\n").unwrap(),
            ["SET", "0x10:01", "ab"]
        );
        assert_eq!(
            split("").unwrap(),
            std::vec::Vec::<std::string::String>::new()
        );
        assert_eq!(split(" \t ").unwrap().len(), 0);
    }

    #[test]
    fn quoted_arguments_keep_spaces_and_unescape() {
        assert_eq!(
            split(r#"ENCODE 0x10:01 "the \"cat\" sat \\ here" """#).unwrap(),
            ["ENCODE", "0x10:01", r#"the "cat" sat \ here"#, ""]
        );
    }

    #[test]
    fn quoting_mistakes_name_their_offset() {
        assert_eq!(
            split(r#"PING "abc"#),
            Err(ErrorKind::UnterminatedQuote { at: 5 })
        );
        assert_eq!(split(r#"PING "a\nb""#), Err(ErrorKind::BadEscape { at: 7 }));
        assert_eq!(split(r#"PING "a\"#), Err(ErrorKind::BadEscape { at: 7 }));
        assert_eq!(split(r#"PING "a"b"#), Err(ErrorKind::StrayQuote { at: 7 }));
        assert_eq!(split(r#"PING a"b""#), Err(ErrorKind::StrayQuote { at: 6 }));
    }

    #[test]
    fn bounded_argument_count_and_buffer() {
        assert_eq!(
            split("a b c d e f g h i"),
            Err(ErrorKind::TooManyArguments { max: 8 })
        );
        let mut buf = [0u8; 3];
        let mut args: [&[u8]; 4] = [&[]; 4];
        assert_eq!(
            split_line(b"ab cd", &mut buf, &mut args),
            Err(ErrorKind::ScratchBytes { capacity: 3 })
        );
        // Exactly enough room: quotes and separators take none.
        let mut buf = [0u8; 4];
        assert_eq!(split_line(b"ab \"cd\"", &mut buf, &mut args), Ok(2));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_needs_at_most_the_line(line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let mut buf = std::vec![0u8; line.len()];
            let mut args: [&[u8]; 64] = [&[]; 64];
            let r = split_line(&line, &mut buf, &mut args);
            let short = matches!(r, Err(ErrorKind::ScratchBytes { .. }));
            proptest::prop_assert!(!short, "a buffer as long as the line was too short");
        }
    }
}
