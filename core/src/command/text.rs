//! Replies and errors as text, without `core::fmt`.
//!
//! A device that prints replies on a serial line should not need the
//! formatting machinery (and the 64- and 128-bit division behind its
//! integers) for that: on a Cortex-M4 it costs more flash than the whole
//! reply renderer. So the text of every reply and error message is written
//! here, from static strings and one small decimal writer, into any
//! [`TextSink`]: a fixed buffer ([`TextBuf`]) on a device, or a
//! `fmt::Formatter` through [`FmtSink`], which is how the `Display` impls
//! of [`Reply`](super::Reply), [`CommandError`](super::CommandError) and
//! [`ErrorKind`](super::ErrorKind) print. One text, two ways out.
//!
//! ```
//! use bindspace_core::command::{Reply, TextBuf};
//! let mut buf = [0u8; 32];
//! let mut out = TextBuf::new(&mut buf);
//! Reply::Integer(-42).write_text(&mut out).unwrap();
//! assert_eq!(out.as_str(), "(integer) -42");
//! ```

use super::error::Token;
use crate::addr::{Addr, AddrError};
use crate::mutation::LABEL_MAX;
use crate::space::{PathError, SpaceError, PATH_DEPTH_MAX, PATH_PROBE_WINDOW};
use core::fmt;

/// The sink had no room for the rest of the text (what fit was written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextFull;

/// Where rendered text goes.
pub trait TextSink {
    /// Appends `text`, or refuses with [`TextFull`] when it does not fit.
    fn put(&mut self, text: &str) -> Result<(), TextFull>;
}

/// Text rendered into a byte buffer lent by the caller.
#[derive(Debug)]
pub struct TextBuf<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> TextBuf<'b> {
    /// An empty text over `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        TextBuf { buf, len: 0 }
    }

    /// Forgets what was written, to render the next text.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// What was written. Every piece put is a whole `&str`, so this is
    /// always UTF-8.
    pub fn as_str(&self) -> &str {
        let written = self.buf.get(..self.len).unwrap_or_default();
        core::str::from_utf8(written).unwrap_or_default()
    }
}

impl TextSink for TextBuf<'_> {
    fn put(&mut self, text: &str) -> Result<(), TextFull> {
        let end = self.len.checked_add(text.len()).ok_or(TextFull)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(TextFull)?;
        dst.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A `fmt::Write` (a `Formatter`, a `String`) as a [`TextSink`].
pub struct FmtSink<'w, W: ?Sized>(pub &'w mut W);

impl<W: fmt::Write + ?Sized> TextSink for FmtSink<'_, W> {
    fn put(&mut self, text: &str) -> Result<(), TextFull> {
        self.0.write_str(text).map_err(|_| TextFull)
    }
}

/// Writes `magnitude` in decimal, after a `-` when `negative`. Divides by
/// ten on 16-bit limbs, so only 32-bit arithmetic runs: no 64- or 128-bit
/// division routine is linked for it.
pub(crate) fn put_decimal(
    out: &mut dyn TextSink,
    negative: bool,
    magnitude: u128,
) -> Result<(), TextFull> {
    const LIMBS: usize = 8;
    let mut limbs = [0u16; LIMBS];
    for (i, limb) in limbs.iter_mut().enumerate() {
        // Most significant limb first.
        *limb = (magnitude >> (16 * (LIMBS - 1 - i))) as u16;
    }
    // u128::MAX has 39 digits.
    let mut digits = [0u8; 39];
    let mut start = digits.len();
    loop {
        let mut rem = 0u32;
        let mut rest = 0u16;
        for limb in limbs.iter_mut() {
            let cur = (rem << 16) | u32::from(*limb);
            *limb = (cur / 10) as u16;
            rem = cur % 10;
            rest |= *limb;
        }
        start -= 1;
        digits[start] = b'0' + rem as u8;
        if rest == 0 || start == 0 {
            break;
        }
    }
    if negative {
        out.put("-")?;
    }
    out.put(ascii(&digits[start..]))
}

/// Writes an unsigned integer in decimal.
pub(crate) fn put_uint(out: &mut dyn TextSink, n: impl Into<u128>) -> Result<(), TextFull> {
    put_decimal(out, false, n.into())
}

/// Writes a `usize` in decimal.
pub(crate) fn put_usize(out: &mut dyn TextSink, n: usize) -> Result<(), TextFull> {
    put_decimal(out, false, n as u128)
}

/// Writes a signed integer in decimal.
pub(crate) fn put_int(out: &mut dyn TextSink, n: impl Into<i128>) -> Result<(), TextFull> {
    let n = n.into();
    put_decimal(out, n < 0, n.unsigned_abs())
}

/// Bytes this module built from ASCII as `&str` (never fails for them;
/// anything else reads as nothing rather than panicking).
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` with every byte outside the printable ASCII range (and
/// every byte `escape` names) escaped: `escape` returns the escape of a
/// byte or `None` to keep it; unprintable bytes without one become `\xHH`.
pub(crate) fn put_escaped(
    out: &mut dyn TextSink,
    bytes: &[u8],
    escape: fn(u8) -> Option<&'static str>,
) -> Result<(), TextFull> {
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let special = escape(b);
        if special.is_none() && (b' '..=b'~').contains(&b) {
            continue;
        }
        out.put(ascii(&bytes[run..i]))?;
        run = i + 1;
        match special {
            Some(text) => out.put(text)?,
            None => {
                let hex = [
                    b'\\',
                    b'x',
                    HEX_LOWER[usize::from(b >> 4)],
                    HEX_LOWER[usize::from(b & 15)],
                ];
                out.put(ascii(&hex))?;
            }
        }
    }
    out.put(ascii(&bytes[run..]))
}

/// Writes `n` spaces.
pub(crate) fn put_spaces(out: &mut dyn TextSink, mut n: usize) -> Result<(), TextFull> {
    const SPACES: &str = "                ";
    while n > 0 {
        let take = n.min(SPACES.len());
        out.put(&SPACES[..take])?;
        n -= take;
    }
    Ok(())
}

/// `0x80:1F`, as addresses are written everywhere.
pub(crate) fn put_addr(out: &mut dyn TextSink, addr: Addr) -> Result<(), TextFull> {
    out.put(ascii(&super::reply::addr_text(addr)))
}

/// A value that a message template's `{}` stands for.
#[derive(Clone, Copy)]
pub(crate) enum Arg<'a> {
    /// An integer, in decimal.
    Int(i128),
    /// Text as is.
    Str(&'a str),
    /// A piece of the input, escaped.
    Token(&'a Token),
    /// An address, `0x80:1F`.
    Addr(Addr),
}

impl Arg<'_> {
    /// A size or count.
    pub(crate) fn size(n: usize) -> Self {
        Arg::Int(n as i128)
    }

    fn write(self, out: &mut dyn TextSink) -> Result<(), TextFull> {
        match self {
            Arg::Int(n) => put_decimal(out, n < 0, n.unsigned_abs()),
            Arg::Str(s) => out.put(s),
            Arg::Token(t) => t.write_text(out),
            Arg::Addr(a) => put_addr(out, a),
        }
    }
}

/// Writes `template` with each `{}` replaced by the next of `args`. One
/// call with a table of arguments takes less code per message than a call
/// per piece.
pub(crate) fn fill(
    out: &mut dyn TextSink,
    template: &str,
    args: &[Arg<'_>],
) -> Result<(), TextFull> {
    let bytes = template.as_bytes();
    let mut args = args.iter();
    let (mut start, mut i) = (0, 0);
    while i + 1 < bytes.len() {
        if bytes[i] == b'{' && bytes[i + 1] == b'}' {
            out.put(template.get(start..i).unwrap_or_default())?;
            if let Some(arg) = args.next() {
                arg.write(out)?;
            }
            i += 2;
            start = i;
        } else {
            i += 1;
        }
    }
    out.put(template.get(start..).unwrap_or_default())
}

/// The message of an address that did not parse (the text of
/// `AddrError`'s `Display`; a test checks every variant against it).
pub(crate) fn addr_error_text(e: AddrError) -> &'static str {
    match e {
        AddrError::Syntax => "address must look like 0x80:1F (prefix:slot in hex)",
        AddrError::BadHex => "address prefix and slot must be hex digits",
        AddrError::OutOfRange => "address prefix and slot must each be at most 0xFF",
    }
}

/// The message of a refused change (the text of `SpaceError`'s
/// `Display`; a test checks every variant against it).
pub(crate) fn put_space_error(out: &mut dyn TextSink, e: SpaceError) -> Result<(), TextFull> {
    let size = Arg::size;
    match e {
        SpaceError::Full { capacity } => fill(
            out,
            "space is full: all {} rows are in use",
            &[size(capacity)],
        ),
        SpaceError::PrefixesFull { pages } => fill(
            out,
            "space is full: all {} slot pages are in use by other prefixes",
            &[size(pages)],
        ),
        SpaceError::WidthMismatch { expected, got } => fill(
            out,
            "fingerprint width mismatch: the space holds {} bits, got {} bits",
            &[Arg::Int(expected as i128 * 64), Arg::Int(got as i128 * 64)],
        ),
        SpaceError::LabelTooLong { len } => fill(
            out,
            "label of {} bytes is longer than the {} allowed",
            &[size(len), size(LABEL_MAX)],
        ),
        SpaceError::LabelNotUtf8 => out.put("label is not valid UTF-8"),
        SpaceError::SelfParent { addr } => {
            fill(out, "entry {} cannot be its own parent", &[Arg::Addr(addr)])
        }
        SpaceError::NotFound { addr } => fill(out, "no entry at {}", &[Arg::Addr(addr)]),
    }
}

/// The message of a refused path (the text of `PathError`'s `Display`; a
/// test checks every variant against it).
pub(crate) fn put_path_error(out: &mut dyn TextSink, e: PathError) -> Result<(), TextFull> {
    let size = Arg::size;
    match e {
        PathError::Empty => out.put("path is empty"),
        PathError::EmptyComponent => {
            out.put("path has an empty component (use a/b/c, no leading, trailing or double /)")
        }
        PathError::ComponentTooLong { len } => fill(
            out,
            "path component of {} bytes is longer than the {} allowed",
            &[size(len), size(LABEL_MAX)],
        ),
        PathError::TooDeep => fill(
            out,
            "path has more than {} components",
            &[size(PATH_DEPTH_MAX)],
        ),
        PathError::NoFreeAddress => fill(
            out,
            "no free node address for a path component within its {}-address probe window",
            &[size(PATH_PROBE_WINDOW)],
        ),
        PathError::Space(e) => put_space_error(out, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::{String, ToString};

    // On wasm32 every `#[test]` below runs as a `#[wasm_bindgen_test]`.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn text(f: impl FnOnce(&mut dyn TextSink) -> Result<(), TextFull>) -> String {
        let mut s = String::new();
        f(&mut FmtSink(&mut s)).unwrap();
        s
    }

    #[test]
    fn decimals_match_the_standard_formatter_at_the_edges() {
        let signed = [0i128, 1, -1, 9, 10, -10, 99, 100, 65_535, 65_536];
        for n in signed.into_iter().chain([
            i64::MIN.into(),
            i64::MAX.into(),
            u64::MAX.into(),
            i128::MIN,
            i128::MAX,
            i128::MIN + 1,
        ]) {
            assert_eq!(text(|o| put_int(o, n)), n.to_string());
        }
        for n in [0u128, 7, 4_294_967_296, u128::MAX] {
            assert_eq!(text(|o| put_uint(o, n)), n.to_string());
        }
        let mut x = 1u128;
        while let Some(next) = x.checked_mul(3) {
            assert_eq!(text(|o| put_uint(o, x - 1)), (x - 1).to_string());
            x = next;
        }
    }

    #[test]
    fn a_full_buffer_refuses_and_keeps_what_fit() {
        let mut buf = [0u8; 5];
        let mut out = TextBuf::new(&mut buf);
        assert_eq!(out.put("abc"), Ok(()));
        assert_eq!(out.put("def"), Err(TextFull));
        assert_eq!(out.as_str(), "abc");
        assert_eq!(put_int(&mut out, -123_456), Err(TextFull));
        out.clear();
        assert_eq!(put_int(&mut out, -1234), Ok(()));
        assert_eq!(out.as_str(), "-1234");
    }

    #[test]
    fn escapes_unprintable_bytes_and_the_named_ones() {
        let quote = |b| (b == b'"').then_some("\\\"");
        let s = text(|o| put_escaped(o, b"a\"b\x00\xff~ \x7f", quote));
        assert_eq!(s, "a\\\"b\\x00\\xff~ \\x7f");
        assert_eq!(text(|o| put_spaces(o, 37)), " ".repeat(37));
    }

    #[test]
    fn the_messages_of_other_modules_errors_equal_their_display() {
        for e in [AddrError::Syntax, AddrError::BadHex, AddrError::OutOfRange] {
            assert_eq!(addr_error_text(e), e.to_string());
        }
        let addr = Addr::new(0x8A, 0x0F);
        let space = [
            SpaceError::Full { capacity: 70_000 },
            SpaceError::PrefixesFull { pages: 3 },
            SpaceError::WidthMismatch {
                expected: 128,
                got: 1,
            },
            SpaceError::LabelTooLong { len: 33 },
            SpaceError::LabelNotUtf8,
            SpaceError::SelfParent { addr },
            SpaceError::NotFound { addr },
        ];
        for e in space {
            assert_eq!(text(|o| put_space_error(o, e)), e.to_string());
            let p = PathError::Space(e);
            assert_eq!(text(|o| put_path_error(o, p)), p.to_string());
        }
        let paths = [
            PathError::Empty,
            PathError::EmptyComponent,
            PathError::ComponentTooLong { len: 40 },
            PathError::TooDeep,
            PathError::NoFreeAddress,
        ];
        for e in paths {
            assert_eq!(text(|o| put_path_error(o, e)), e.to_string());
        }
        assert_eq!(text(|o| put_addr(o, addr)), addr.to_string());
    }
}
