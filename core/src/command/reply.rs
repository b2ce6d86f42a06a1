//! Replies: a small typed value every front end can render (RESP, a JS
//! value, a line of text), and the byte "tape" that holds arrays without a
//! heap.
//!
//! # The tape
//!
//! A reply is written into the byte scratch the front end lends, as a
//! sequence of tagged elements; [`Reply`] values borrow from it. Each
//! element is a tag byte and a payload, integers little-endian:
//!
//! | tag | element | payload |
//! |---|---|---|
//! | 0 | nil | none |
//! | 1 | status | `u32` length, ASCII text |
//! | 2 | integer | `i64` |
//! | 3 | bulk | `u32` length, bytes |
//! | 4 | array | `u32` count, `u32` payload length, the elements |
//!
//! The tape never leaves the process: it is how one call hands nested
//! arrays to its caller, not a format anyone stores.

use super::error::ErrorKind;
use super::text::{self, FmtSink, TextFull, TextSink};
use crate::addr::Addr;
use core::fmt;

const TAG_NIL: u8 = 0;
const TAG_STATUS: u8 = 1;
const TAG_INT: u8 = 2;
const TAG_BULK: u8 = 3;
const TAG_ARRAY: u8 = 4;

/// A command's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// A short status such as `OK`, `PONG` or `QUEUED` (RESP `+OK`).
    Status(&'a str),
    /// An integer (RESP `:5`).
    Integer(i64),
    /// Bytes: a fingerprint's hex, an address, text (RESP `$3 abc`).
    Bulk(&'a [u8]),
    /// Nothing: no entry, or an EXEC aborted by WATCH (RESP `$-1` / `*-1`).
    Nil,
    /// A list of replies (RESP `*2 ...`).
    Array(Items<'a>),
}

/// The elements of an array reply; iterate them with [`Items::iter`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Items<'a> {
    count: usize,
    tape: &'a [u8],
}

impl<'a> Items<'a> {
    /// How many elements.
    pub const fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The elements, in order.
    pub fn iter(&self) -> ItemsIter<'a> {
        ItemsIter {
            left: self.count,
            tape: self.tape,
        }
    }
}

impl<'a> IntoIterator for Items<'a> {
    type Item = Reply<'a>;
    type IntoIter = ItemsIter<'a>;
    fn into_iter(self) -> ItemsIter<'a> {
        self.iter()
    }
}

impl fmt::Debug for Items<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over the elements of an array reply.
#[derive(Clone, Debug)]
pub struct ItemsIter<'a> {
    left: usize,
    tape: &'a [u8],
}

impl<'a> Iterator for ItemsIter<'a> {
    type Item = Reply<'a>;

    fn next(&mut self) -> Option<Reply<'a>> {
        if self.left == 0 {
            return None;
        }
        let (reply, used) = decode(self.tape)?;
        self.tape = self.tape.get(used..)?;
        self.left -= 1;
        Some(reply)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

fn read_u32(tape: &[u8], at: usize) -> Option<usize> {
    let bytes = tape.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
}

/// Reads the element at the start of `tape`; returns it and the bytes it
/// took. The executor writes every tape, so `None` (a malformed tape)
/// cannot happen; it is handled as the end rather than trusted.
pub(crate) fn decode(tape: &[u8]) -> Option<(Reply<'_>, usize)> {
    match *tape.first()? {
        TAG_NIL => Some((Reply::Nil, 1)),
        TAG_STATUS => {
            let end = read_u32(tape, 1)?.checked_add(5)?;
            let text = core::str::from_utf8(tape.get(5..end)?).ok()?;
            Some((Reply::Status(text), end))
        }
        TAG_INT => {
            let bytes: [u8; 8] = tape.get(1..9)?.try_into().ok()?;
            Some((Reply::Integer(i64::from_le_bytes(bytes)), 9))
        }
        TAG_BULK => {
            let end = read_u32(tape, 1)?.checked_add(5)?;
            Some((Reply::Bulk(tape.get(5..end)?), end))
        }
        TAG_ARRAY => {
            let count = read_u32(tape, 1)?;
            let end = read_u32(tape, 5)?.checked_add(9)?;
            let items = Items {
                count,
                tape: tape.get(9..end)?,
            };
            Some((Reply::Array(items), end))
        }
        _ => None,
    }
}

/// Where an open array's header sits, to be completed by [`Tape::end_array`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ArrayMark {
    at: usize,
    count: u32,
}

impl ArrayMark {
    /// Counts one more element of the array.
    pub(crate) fn push(&mut self) {
        self.count += 1;
    }
}

/// Writes replies into the byte scratch, from the front; pieces that must
/// outlive the call (labels of named paths, an unquoted line) are carved
/// from the back.
#[derive(Debug)]
pub(crate) struct Tape<'a> {
    buf: &'a mut [u8],
    pos: usize,
    capacity: usize,
}

impl<'a> Tape<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        let capacity = buf.len();
        Tape {
            buf,
            pos: 0,
            capacity,
        }
    }

    fn full(&self) -> ErrorKind {
        ErrorKind::ScratchBytes {
            capacity: self.capacity,
        }
    }

    /// The next `n` bytes of the tape, claimed.
    fn claim(&mut self, n: usize) -> Result<&mut [u8], ErrorKind> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return Err(self.full());
        };
        let start = self.pos;
        self.pos = end;
        Ok(&mut self.buf[start..end])
    }

    fn header(&mut self, tag: u8, len: usize) -> Result<(), ErrorKind> {
        let len = u32::try_from(len).map_err(|_| self.full())?;
        let head = self.claim(5)?;
        head[0] = tag;
        head[1..5].copy_from_slice(&len.to_le_bytes());
        Ok(())
    }

    pub(crate) fn nil(&mut self) -> Result<(), ErrorKind> {
        self.claim(1)?[0] = TAG_NIL;
        Ok(())
    }

    pub(crate) fn status(&mut self, text: &str) -> Result<(), ErrorKind> {
        self.header(TAG_STATUS, text.len())?;
        self.claim(text.len())?.copy_from_slice(text.as_bytes());
        Ok(())
    }

    pub(crate) fn int(&mut self, value: i64) -> Result<(), ErrorKind> {
        let out = self.claim(9)?;
        out[0] = TAG_INT;
        out[1..].copy_from_slice(&value.to_le_bytes());
        Ok(())
    }

    /// A bulk element of `len` bytes that `fill` writes.
    pub(crate) fn bulk_with(
        &mut self,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), ErrorKind> {
        self.header(TAG_BULK, len)?;
        fill(self.claim(len)?);
        Ok(())
    }

    pub(crate) fn bulk(&mut self, bytes: &[u8]) -> Result<(), ErrorKind> {
        self.bulk_with(bytes.len(), |out| out.copy_from_slice(bytes))
    }

    /// An address as a bulk element, written `0x80:1F`.
    pub(crate) fn addr(&mut self, addr: Addr) -> Result<(), ErrorKind> {
        self.bulk(&addr_text(addr))
    }

    /// A bulk element of text that `write` renders onto the tape.
    pub(crate) fn bulk_text(
        &mut self,
        write: impl FnOnce(&mut dyn TextSink) -> Result<(), TextFull>,
    ) -> Result<(), ErrorKind> {
        let at = self.pos;
        self.header(TAG_BULK, 0)?;
        let start = self.pos;
        if write(self).is_err() {
            return Err(self.full());
        }
        let len = (self.pos - start) as u32;
        self.buf[at + 1..at + 5].copy_from_slice(&len.to_le_bytes());
        Ok(())
    }

    /// Opens an array; elements written until [`Self::end_array`] belong
    /// to it (count each with [`ArrayMark::push`]).
    pub(crate) fn begin_array(&mut self) -> Result<ArrayMark, ErrorKind> {
        let at = self.pos;
        self.claim(9)?[0] = TAG_ARRAY;
        Ok(ArrayMark { at, count: 0 })
    }

    pub(crate) fn end_array(&mut self, mark: ArrayMark) {
        let len = (self.pos - mark.at - 9) as u32;
        self.buf[mark.at + 1..mark.at + 5].copy_from_slice(&mark.count.to_le_bytes());
        self.buf[mark.at + 5..mark.at + 9].copy_from_slice(&len.to_le_bytes());
    }

    /// Takes `n` bytes from the back of the scratch for the rest of the
    /// call's lifetime.
    pub(crate) fn carve_end(&mut self, n: usize) -> Result<&'a mut [u8], ErrorKind> {
        let Some(keep) = self.buf.len().checked_sub(n).filter(|&k| k >= self.pos) else {
            return Err(self.full());
        };
        let (front, back) = core::mem::take(&mut self.buf).split_at_mut(keep);
        self.buf = front;
        Ok(back)
    }

    /// Everything written, for decoding.
    pub(crate) fn finish(self) -> &'a [u8] {
        let Tape { buf, pos, .. } = self;
        &buf[..pos]
    }
}

impl TextSink for Tape<'_> {
    fn put(&mut self, text: &str) -> Result<(), TextFull> {
        self.claim(text.len())
            .map_err(|_| TextFull)?
            .copy_from_slice(text.as_bytes());
        Ok(())
    }
}

/// `0x80:1F`: an address as replies spell it.
pub(crate) fn addr_text(addr: Addr) -> [u8; 7] {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let (p, s) = (addr.prefix(), addr.slot());
    [
        b'0',
        b'x',
        DIGITS[(p >> 4) as usize],
        DIGITS[(p & 15) as usize],
        b':',
        DIGITS[(s >> 4) as usize],
        DIGITS[(s & 15) as usize],
    ]
}

impl Reply<'_> {
    /// Writes the reply the way an interactive client prints it: `OK`,
    /// `(integer) 3`, `"0x10:01"`, `(nil)`, numbered lines for arrays
    /// (nested arrays indented). Bulk bytes are quoted, with `\"`, `\\`,
    /// `\n`, `\r`, `\t` and `\xHH` escapes for anything else that is not
    /// printable ASCII. This is what `Display` prints; it needs no
    /// `core::fmt`.
    pub fn write_text(&self, out: &mut dyn TextSink) -> Result<(), TextFull> {
        write_reply(out, self, 0)
    }
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(&mut FmtSink(f)).map_err(|_| fmt::Error)
    }
}

fn bulk_escape(b: u8) -> Option<&'static str> {
    match b {
        b'"' => Some("\\\""),
        b'\\' => Some("\\\\"),
        b'\n' => Some("\\n"),
        b'\r' => Some("\\r"),
        b'\t' => Some("\\t"),
        _ => None,
    }
}

fn write_reply(out: &mut dyn TextSink, reply: &Reply<'_>, indent: usize) -> Result<(), TextFull> {
    match *reply {
        Reply::Status(s) => out.put(s),
        Reply::Integer(n) => {
            out.put("(integer) ")?;
            text::put_int(out, n)
        }
        Reply::Nil => out.put("(nil)"),
        Reply::Bulk(bytes) => {
            out.put("\"")?;
            text::put_escaped(out, bytes, bulk_escape)?;
            out.put("\"")
        }
        Reply::Array(items) if items.is_empty() => out.put("(empty array)"),
        Reply::Array(items) => {
            let digits = decimal_digits(items.len());
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put("\n")?;
                    text::put_spaces(out, indent)?;
                }
                // The number, right-aligned to the widest one.
                text::put_spaces(out, digits - decimal_digits(i + 1))?;
                text::put_usize(out, i + 1)?;
                out.put(") ")?;
                write_reply(out, &item, indent + digits + 2)?;
            }
            Ok(())
        }
    }
}

fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}
