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

/// Serves `stream` until the client leaves, breaks a bound, or the server
/// stops.
pub(crate) fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(POLL));
    // Shared with the combiner's leader, which may send a write's reply.
    let stream = Arc::new(stream);
    let mut client = Client::new(shared);
    let mut conn = Conn {
        stream: &stream,
        pending: None,
    };
    let mut input: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut output: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut last_heard = Instant::now();
    loop {
        match (&*stream).read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                input.extend_from_slice(&chunk[..n]);
                last_heard = Instant::now();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // A reply the leader could not send whole goes out now.
                if conn.pending.as_ref().is_some_and(Pending::is_done)
                    && conn.settle(&client).is_err()
                {
                    return;
                }
                if shared.stop.load(Ordering::Acquire) {
                    let _ = conn.settle(&client);
                    return;
                }
                if last_heard.elapsed() >= shared.config.idle_timeout {
                    if conn.settle(&client).is_ok() {
                        let mut out = Out::new(&mut output, Protocol::Resp2);
                        out.error("ERR", "idle timeout: closing the connection");
                        let _ = (&*stream).write_all(&output);
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
        if conn.settle(&client).is_err() {
            return;
        }
        let close = answer(&mut client, &mut conn, &mut input, &mut output, shared);
        if !output.is_empty() && (&*stream).write_all(&output).is_err() {
            return;
        }
        output.clear();
        // On shutdown a busy client is let go after the replies to what it
        // already sent: its commits are acknowledged, nothing is cut off.
        if close || shared.stop.load(Ordering::Acquire) {
            let _ = conn.settle(&client);
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// The socket, and the write (if any) whose reply the combiner's leader
/// sends on it.
struct Conn<'a> {
    stream: &'a Arc<TcpStream>,
    pending: Option<Pending>,
}

impl Conn<'_> {
    /// Waits for the pending write, if any, and sends what of its reply
    /// the leader could not.
    fn settle(&mut self, client: &Client<'_>) -> std::io::Result<()> {
        match self.pending.take() {
            Some(pending) => {
                let unsent = client.settle(pending);
                (&**self.stream).write_all(&unsent)
            }
            None => Ok(()),
        }
    }
}

/// Answers every complete request in `input` (removing them), appending
/// replies to `output`. A write that is the last request leaves its reply
/// to the combiner's leader (after the replies before it are sent), so
/// this thread does not sleep a second time waiting for it. Returns
/// whether to close the connection.
fn answer(
    client: &mut Client<'_>,
    conn: &mut Conn<'_>,
    input: &mut Vec<u8>,
    output: &mut Vec<u8>,
    shared: &Shared,
) -> bool {
    let max = shared.config.max_request;
    let mut pos = 0;
    let mut inline_buf = Vec::new();
    let mut close = false;
    loop {
        let rest = &input[pos..];
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
                            if (&**conn.stream).write_all(output).is_err() {
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
                shared.stats.errors_total.fetch_add(1, Ordering::Relaxed);
                Out::new(output, client.protocol()).error("ERR", &msg);
                close = true;
                break;
            }
        }
    }
    input.drain(..pos);
    close
}

fn too_big(client: &Client<'_>, output: &mut Vec<u8>, max: usize) {
    client
        .shared()
        .stats
        .errors_total
        .fetch_add(1, Ordering::Relaxed);
    Out::new(output, client.protocol()).error(
        "ERR",
        &format!("request larger than the limit of {max} bytes: closing the connection"),
    );
}
