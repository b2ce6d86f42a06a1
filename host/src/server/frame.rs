//! Cutting requests out of a connection's input: RESP arrays of bulk
//! strings (decoded by the `redis-protocol` crate) and inline commands
//! (a text line, as typed into telnet), split by core's line rules.

use bindspace_core::command::{split_line, ARGS_MAX};
use redis_protocol::resp2::decode::decode_range;
use redis_protocol::resp2::types::RangeFrame;

/// One request found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A command: argument ranges into the buffer, and the bytes it took.
    Command {
        /// Where each argument lies in the buffer.
        args: Vec<(usize, usize)>,
        /// Bytes the request took.
        used: usize,
    },
    /// An inline line: its bytes (without the line end) and the bytes it
    /// took; split it with [`split_inline`].
    Inline {
        /// The line's range in the buffer.
        line: (usize, usize),
        /// Bytes the request took.
        used: usize,
    },
    /// An empty line or an empty array: nothing to do.
    Empty {
        /// Bytes it took.
        used: usize,
    },
}

/// Why the input is not a request; the connection is closed after the
/// error is sent (its framing can no longer be trusted).
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Not RESP: the message says what was wrong.
    Protocol(String),
}

/// Finds the first request in `buf`: `Ok(None)` if more bytes are needed.
pub fn next_frame(buf: &[u8]) -> Result<Option<Frame>, FrameError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first != b'*' {
        let Some(end) = buf.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let line_end = if end > 0 && buf[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        if buf[..line_end].iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(Frame::Empty { used: end + 1 }));
        }
        return Ok(Some(Frame::Inline {
            line: (0, line_end),
            used: end + 1,
        }));
    }
    if !check_flat(buf)? {
        return Ok(None);
    }
    let (frame, used) = match decode_range(buf) {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(None),
        Err(e) => {
            return Err(FrameError::Protocol(format!(
                "Protocol error: {}",
                e.details()
            )))
        }
    };
    match frame {
        RangeFrame::Array(items) if items.is_empty() => Ok(Some(Frame::Empty { used })),
        RangeFrame::Array(items) => {
            let args = items
                .into_iter()
                .map(|item| match item {
                    RangeFrame::BulkString(range) => Ok(range),
                    _ => Err(FrameError::Protocol(
                        "Protocol error: a command's arguments must be bulk strings".into(),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(Frame::Command { args, used }))
        }
        RangeFrame::Null => Ok(Some(Frame::Empty { used })),
        _ => Err(FrameError::Protocol(
            "Protocol error: a command is an array of bulk strings".into(),
        )),
    }
}

/// Checks, before the decoder recurses, that the request is one flat
/// array whose elements are all bulk strings (what every client sends):
/// a nested array is refused here so that no input can make decoding
/// recurse deeply. `Ok(false)` means the request is not complete yet.
fn check_flat(buf: &[u8]) -> Result<bool, FrameError> {
    let Some((count, mut at)) = header(buf, 0)? else {
        return Ok(false);
    };
    for _ in 0..count.max(0) {
        match buf.get(at) {
            None => return Ok(false),
            Some(b'$') => {}
            Some(&other) => {
                return Err(FrameError::Protocol(format!(
                    "Protocol error: expected '$', got '{}'",
                    other.escape_ascii()
                )))
            }
        }
        let Some((len, body)) = header(buf, at)? else {
            return Ok(false);
        };
        if len < 0 {
            at = body;
            continue;
        }
        at = match body.checked_add(len as usize + 2) {
            Some(next) => next,
            None => {
                return Err(FrameError::Protocol(
                    "Protocol error: invalid bulk length".into(),
                ))
            }
        };
    }
    Ok(true)
}

/// Reads `<type><integer>\r\n` at `at`: the integer and where its body
/// starts. The digits are few; a long run is refused.
fn header(buf: &[u8], at: usize) -> Result<Option<(i64, usize)>, FrameError> {
    let rest = buf.get(at + 1..).unwrap_or_default();
    let Some(end) = rest.iter().take(22).position(|&b| b == b'\r') else {
        return if rest.len() >= 22 {
            Err(FrameError::Protocol(
                "Protocol error: invalid length".into(),
            ))
        } else {
            Ok(None)
        };
    };
    let n = core::str::from_utf8(&rest[..end])
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|n| *n >= -1)
        .ok_or_else(|| FrameError::Protocol("Protocol error: invalid length".into()))?;
    Ok(Some((n, at + 1 + end + 2)))
}

/// Splits an inline command line into arguments by core's rules (double
/// quotes, `\"` and `\\`); the argument bytes are written into `buf`.
pub fn split_inline<'b>(line: &[u8], buf: &'b mut Vec<u8>) -> Result<Vec<&'b [u8]>, String> {
    buf.clear();
    buf.resize(line.len(), 0);
    let mut args: [&[u8]; ARGS_MAX] = [&[]; ARGS_MAX];
    let n = split_line(line, buf, &mut args).map_err(|e| e.to_string())?;
    Ok(args[..n].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipeline_is_cut_request_by_request() {
        let buf = b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$5\r\n10:01\r\n";
        let Some(Frame::Command { args, used }) = next_frame(buf).unwrap() else {
            panic!("no command");
        };
        assert_eq!(used, 14);
        assert_eq!(&buf[args[0].0..args[0].1], b"PING");
        let rest = &buf[used..];
        let Some(Frame::Command { args, used }) = next_frame(rest).unwrap() else {
            panic!("no command");
        };
        assert_eq!(used, rest.len());
        assert_eq!(&rest[args[1].0..args[1].1], b"10:01");
    }

    #[test]
    fn partial_requests_wait_for_more() {
        let full = b"*2\r\n$3\r\nGET\r\n$5\r\n10:01\r\n";
        for cut in 0..full.len() {
            assert_eq!(next_frame(&full[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn nested_arrays_and_bad_lengths_are_refused() {
        assert!(next_frame(b"*1\r\n*1\r\n*1\r\n").is_err());
        assert!(next_frame(b"*1\r\n:5\r\n").is_err());
        assert!(next_frame(b"*x\r\n").is_err());
        assert!(next_frame(b"*1\r\n$99999999999999999999999\r\n").is_err());
    }

    #[test]
    fn inline_lines_are_split_by_core_rules() {
        let Some(Frame::Inline { line, used }) = next_frame(b"ping \"a b\"\r\nX").unwrap() else {
            panic!("no inline");
        };
        assert_eq!(used, 12);
        let mut buf = Vec::new();
        let args = split_inline(&b"ping \"a b\"\r\nX"[line.0..line.1], &mut buf).unwrap();
        assert_eq!(args, vec![&b"ping"[..], &b"a b"[..]]);
    }
}
