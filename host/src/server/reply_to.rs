//! Sending a combined write's reply from the leader's thread.
//!
//! The leader must never wait on a client: one that stops reading would
//! stall every writer behind it. So it sends without blocking and leaves
//! whatever the socket would not take to the client's own thread
//! ([`super::combine::Finished::unsent`]).

use super::combine::Outcome;
use super::resp::{Out, Protocol};
use rustix::io::Errno;
use rustix::net::{send, SendFlags};
use std::net::TcpStream;
use std::sync::Arc;

/// A connection the leader may answer on, and how it speaks.
#[derive(Debug)]
pub(crate) struct ReplyTo {
    stream: Arc<TcpStream>,
    proto: Protocol,
}

impl ReplyTo {
    /// Replies to `stream` in `proto`.
    pub(crate) fn new(stream: Arc<TcpStream>, proto: Protocol) -> ReplyTo {
        ReplyTo { stream, proto }
    }

    /// Sends `outcome`'s reply as far as the socket takes it at once;
    /// returns the bytes left over (none, normally).
    pub(crate) fn send(&self, outcome: &Outcome) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(16);
        Out::new(&mut bytes, self.proto).outcome(outcome);
        let mut sent = 0;
        while sent < bytes.len() {
            // NOSIGNAL: a client that has gone is found by its own thread's
            // next read, not by a signal to the whole process.
            match send(
                &*self.stream,
                &bytes[sent..],
                SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
            ) {
                Ok(0) => break,
                Ok(n) => sent += n,
                Err(Errno::INTR) => {}
                // Full (or broken): the client's thread sends the rest, or
                // finds out the connection is gone.
                Err(_) => break,
            }
        }
        bytes.drain(..sent);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::combine::Owned;
    use std::io::Read;
    use std::net::TcpListener;

    fn pair() -> (Arc<TcpStream>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (Arc::new(server), client)
    }

    #[test]
    fn a_reply_is_sent_whole() {
        let (server, mut client) = pair();
        let to = ReplyTo::new(server, Protocol::Resp2);
        assert!(to.send(&Ok(Owned::ok())).is_empty());
        assert!(to.send(&Err(("ERR", "no".into()))).is_empty());
        let mut got = [0u8; 14];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"+OK\r\n-ERR no\r\n");
    }

    #[test]
    fn a_client_that_does_not_read_never_blocks_the_sender() {
        let (server, _client) = pair();
        let to = ReplyTo::new(server, Protocol::Resp2);
        let big = Ok(Owned::Bulk(vec![b'x'; 1 << 20]));
        // The socket buffers fill within a few megabytes; from then on
        // every reply comes back unsent instead of blocking.
        let mut leftover = 0;
        for _ in 0..64 {
            leftover += to.send(&big).len();
        }
        assert!(leftover > 0, "the socket took 64 MiB without a reader");
    }
}
