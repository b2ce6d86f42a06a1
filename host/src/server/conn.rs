//! One client connection: read, cut requests, answer each in order,
//! write every reply of a read in one go (pipelining), enforce the
//! bounds (request size, idle time) and notice shutdown. A write that
//! ends what the client sent is answered by the combiner's leader
//! (`combine::Combiner::detach`), and the next read waits for it.

use super::combine::Pending;
use super::dispatch::{Client, Next};
use super::frame::{next_frame, split_inline, Frame, FrameError};
use super::resp::{Out, Protocol};
use super::Shared;
use core::sync::atomic::Ordering;
use core::time::Duration;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::Instant;

/// How often a waiting connection looks at the stop flag.
const POLL: Duration = Duration::from_millis(200);

/// Reply bytes gathered before they are sent: past this, the requests
/// left in the input wait until the replies so far have gone out. A
/// pipeline of short reads (a 10-byte GET answers a KiB at 8,192 bits)
/// would otherwise make about 13 MiB of replies from one 64 KiB read.
const OUTPUT_MAX: usize = 256 * 1024;

/// Serves `stream` until the client leaves, breaks a bound, or the server
/// stops.
pub(crate) fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(POLL));
    // So a client that stops reading cannot hold this thread in a write
    // (see `send`).
    let _ = stream.set_write_timeout(Some(POLL));
    // Shared with the combiner's leader, which may send a write's reply.
    let stream = Arc::new(stream);
    let mut client = Client::new(shared);
    let mut conn = Conn {
        stream: &stream,
        shared,
        pending: None,
    };
    exchange(&stream, &mut client, &mut conn, shared);
    // However the exchange ended (the client closed its side, the socket
    // broke, the server stopped), a write still pending is waited for:
    // its outcome is counted, and what the leader could not send goes out
    // if the client still reads.
    let _ = conn.settle(&client);
}

/// Reads and answers until the client leaves, breaks a bound, or the
/// server stops.
fn exchange(
    stream: &Arc<TcpStream>,
    client: &mut Client<'_>,
    conn: &mut Conn<'_>,
    shared: &Shared,
) {
    let mut input: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut output: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut last_heard = Instant::now();
    loop {
        match (&**stream).read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                input.extend_from_slice(&chunk[..n]);
                last_heard = Instant::now();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // A reply the leader could not send whole goes out now.
                if conn.pending.as_ref().is_some_and(Pending::is_done)
                    && conn.settle(client).is_err()
                {
                    return;
                }
                if shared.stop.load(Ordering::Acquire) {
                    let _ = conn.settle(client);
                    return;
                }
                if last_heard.elapsed() >= shared.config.idle_timeout {
                    if conn.settle(client).is_ok() {
                        let mut out = Out::new(&mut output, Protocol::Resp2);
                        out.error("ERR", "idle timeout: closing the connection");
                        shared.stats.error_reply(b"ERR");
                        let _ = send(stream, &output, shared);
                    }
                    return;
                }
                continue;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
        // Nothing new is answered before the write sent last is done:
        // replies stay in order and the client reads its own writes.
        if conn.settle(client).is_err() {
            return;
        }
        loop {
            let answered = answer(client, conn, &mut input, &mut output, shared);
            if !output.is_empty() && send(stream, &output, shared).is_err() {
                return;
            }
            output.clear();
            // On shutdown a busy client is let go after the replies to what
            // it already sent: its commits are acknowledged, nothing is cut
            // off.
            if answered.close || shared.stop.load(Ordering::Acquire) {
                let _ = conn.settle(client);
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            // Nothing is pending here when more is left: a write is only
            // handed off as the last request of the input.
            if !answered.more {
                break;
            }
        }
    }
}

/// Sends all of `bytes`. The socket's writes time out every [`POLL`]:
/// a client that has taken nothing for the idle timeout (or, once the
/// server is stopping, for one poll) is given up on, so a client that
/// stops reading cannot hold this thread, or the server's shutdown,
/// forever.
fn send(stream: &TcpStream, bytes: &[u8], shared: &Shared) -> std::io::Result<()> {
    let mut rest = bytes;
    let mut last_taken = Instant::now();
    while !rest.is_empty() {
        match (&*stream).write(rest) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => {
                rest = &rest[n..];
                last_taken = Instant::now();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if shared.stop.load(Ordering::Acquire)
                    || last_taken.elapsed() >= shared.config.idle_timeout
                {
                    return Err(ErrorKind::TimedOut.into());
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The socket, and the write (if any) whose reply the combiner's leader
/// sends on it.
struct Conn<'a> {
    stream: &'a Arc<TcpStream>,
    shared: &'a Shared,
    pending: Option<Pending>,
}

impl Conn<'_> {
    /// Waits for the pending write, if any, and sends what of its reply
    /// the leader could not.
    fn settle(&mut self, client: &Client<'_>) -> std::io::Result<()> {
        match self.pending.take() {
            Some(pending) => {
                let unsent = client.settle(pending);
                send(self.stream, &unsent, self.shared)
            }
            None => Ok(()),
        }
    }
}

/// Answers every complete request in `input` (removing them), appending
/// replies to `output`. A write that is the last request leaves its reply
/// to the combiner's leader (after the replies before it are sent), so
/// this thread does not sleep a second time waiting for it. Stops early,
/// with complete requests left in `input`, once `output` holds
/// [`OUTPUT_MAX`] bytes.
fn answer(
    client: &mut Client<'_>,
    conn: &mut Conn<'_>,
    input: &mut Vec<u8>,
    output: &mut Vec<u8>,
    shared: &Shared,
) -> Answered {
    let max = shared.config.max_request;
    let mut pos = 0;
    let mut inline_buf = Vec::new();
    let mut close = false;
    let mut more = false;
    loop {
        let rest = &input[pos..];
        if output.len() >= OUTPUT_MAX && !rest.is_empty() {
            more = true;
            break;
        }
        match next_frame(rest) {
            Ok(None) => {
                if rest.len() > max {
                    too_big(client, output, max);
                    close = true;
                }
                break;
            }
            Ok(Some(frame)) => {
                let used = match &frame {
                    Frame::Command { used, .. }
                    | Frame::Inline { used, .. }
                    | Frame::Empty { used } => *used,
                };
                if used > max {
                    too_big(client, output, max);
                    close = true;
                    break;
                }
                let last = used == rest.len();
                let next = match frame {
                    Frame::Empty { .. } => Next::Continue,
                    Frame::Command { args, .. } => {
                        let args: Vec<&[u8]> = args.iter().map(|&(a, b)| &rest[a..b]).collect();
                        if last && client.detachable(&args) {
                            if send(conn.stream, output, shared).is_err() {
                                close = true;
                                break;
                            }
                            output.clear();
                            conn.pending = Some(client.detach(&args, Arc::clone(conn.stream)));
                            Next::Continue
                        } else {
                            client.handle(&args, output)
                        }
                    }
                    Frame::Inline { line, .. } => {
                        match split_inline(&rest[line.0..line.1], &mut inline_buf) {
                            Ok(args) if args.is_empty() => Next::Continue,
                            Ok(args) => client.handle(&args, output),
                            Err(msg) => {
                                Out::new(output, client.protocol()).error("ERR", &msg);
                                shared.stats.error_reply(b"ERR");
                                Next::Continue
                            }
                        }
                    }
                };
                pos += used;
                if next == Next::Close {
                    close = true;
                    break;
                }
            }
            Err(FrameError::Protocol(msg)) => {
                shared.stats.error_reply(b"ERR");
                Out::new(output, client.protocol()).error("ERR", &msg);
                close = true;
                break;
            }
        }
    }
    input.drain(..pos);
    Answered { close, more }
}

/// What [`answer`] did with the input.
struct Answered {
    /// Close the connection (after sending the replies).
    close: bool,
    /// Requests are left in the input, whole or in part, because the
    /// output was full: answer again before reading.
    more: bool,
}

fn too_big(client: &Client<'_>, output: &mut Vec<u8>, max: usize) {
    client.shared().stats.error_reply(b"ERR");
    Out::new(output, client.protocol()).error(
        "ERR",
        &format!("request larger than the limit of {max} bytes: closing the connection"),
    );
}
