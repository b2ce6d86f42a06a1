//! Writing replies in RESP2 or RESP3. Requests are decoded by the
//! `redis-protocol` crate (see [`super::conn`]); replies are few shapes,
//! written straight into the connection's output buffer.

use bindspace_core::command::Reply;
use std::io::Write;

/// Which protocol a connection speaks (RESP3 after `HELLO 3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// RESP2, the default.
    Resp2,
    /// RESP3.
    Resp3,
}

/// Appends RESP replies to a byte buffer.
#[derive(Debug)]
pub struct Out<'b> {
    buf: &'b mut Vec<u8>,
    proto: Protocol,
}

impl<'b> Out<'b> {
    /// Writes into `buf` in `proto`.
    pub fn new(buf: &'b mut Vec<u8>, proto: Protocol) -> Out<'b> {
        Out { buf, proto }
    }

    /// `+text`
    pub fn status(&mut self, text: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(text.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `-CODE message` (line breaks in the message become spaces, since
    /// an error is one line).
    pub fn error(&mut self, code: &str, message: &str) {
        self.buf.push(b'-');
        self.buf.extend_from_slice(code.as_bytes());
        self.buf.push(b' ');
        self.buf.extend(
            message
                .bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `:n`
    pub fn integer(&mut self, n: i64) {
        let _ = write!(self.buf, ":{n}\r\n");
    }

    /// `$len bytes`
    pub fn bulk(&mut self, bytes: &[u8]) {
        let _ = write!(self.buf, "${}\r\n", bytes.len());
        self.buf.extend_from_slice(bytes);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// Nil: `$-1` (RESP2) or `_` (RESP3).
    pub fn nil(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.buf.extend_from_slice(b"$-1\r\n"),
            Protocol::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// A nil array: `*-1` (RESP2, what EXEC sends when WATCH aborted it)
    /// or `_` (RESP3).
    pub fn nil_array(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.buf.extend_from_slice(b"*-1\r\n"),
            Protocol::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// The header of an array of `n` elements.
    pub fn array(&mut self, n: usize) {
        let _ = write!(self.buf, "*{n}\r\n");
    }

    /// The header of a map of `n` pairs (an array of `2n` in RESP2).
    pub fn map(&mut self, n: usize) {
        match self.proto {
            Protocol::Resp2 => self.array(2 * n),
            Protocol::Resp3 => {
                let _ = write!(self.buf, "%{n}\r\n");
            }
        }
    }

    /// A command's reply; `exec` marks EXEC's, whose nil is an array.
    pub fn reply(&mut self, reply: &Reply<'_>, exec: bool) {
        match reply {
            Reply::Status(s) => self.status(s),
            Reply::Integer(n) => self.integer(*n),
            Reply::Bulk(b) => self.bulk(b),
            Reply::Nil if exec => self.nil_array(),
            Reply::Nil => self.nil(),
            Reply::Array(items) => {
                self.array(items.len());
                for item in items.iter() {
                    self.reply(&item, false);
                }
            }
        }
    }
}

impl Out<'_> {
    /// A combined write's reply or error (see `combine`).
    pub(crate) fn outcome(&mut self, outcome: &super::combine::Outcome) {
        match outcome {
            Ok(reply) => self.owned(reply),
            Err((code, message)) => self.error(code, message),
        }
    }

    /// A reply that crossed threads (see `combine`).
    pub(crate) fn owned(&mut self, reply: &super::combine::Owned) {
        use super::combine::Owned;
        match reply {
            Owned::Status(s) => self.status(s),
            Owned::Integer(n) => self.integer(*n),
            Owned::Bulk(b) => self.bulk(b),
            Owned::Nil => self.nil(),
            Owned::Array(items) => {
                self.array(items.len());
                for item in items {
                    self.owned(item);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nil_differs_by_protocol_and_exec() {
        let mut buf = Vec::new();
        Out::new(&mut buf, Protocol::Resp2).reply(&Reply::Nil, false);
        Out::new(&mut buf, Protocol::Resp2).reply(&Reply::Nil, true);
        Out::new(&mut buf, Protocol::Resp3).reply(&Reply::Nil, true);
        assert_eq!(buf, b"$-1\r\n*-1\r\n_\r\n");
    }

    #[test]
    fn errors_stay_on_one_line() {
        let mut buf = Vec::new();
        Out::new(&mut buf, Protocol::Resp2).error("ERR", "a\r\nb");
        assert_eq!(buf, b"-ERR a  b\r\n");
    }
}
