//! Per-connection state: an open transaction's queue and watched
//! addresses. The front end keeps one [`Session`] per client.

use super::error::ErrorKind;
use super::ARGS_MAX;
use crate::addr::Addr;

/// The most addresses one session watches.
pub const WATCH_MAX: usize = 16;

/// Where a session's transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Multi {
    /// No MULTI open.
    Idle,
    /// MULTI open, commands queue.
    Queuing,
    /// MULTI open, but a command was refused while queuing: EXEC will
    /// discard the transaction.
    Aborted,
}

/// An address watched, and its live version when WATCH ran (`None`: no
/// live entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Watch {
    pub(crate) addr: Addr,
    pub(crate) seen: Option<u64>,
}

/// One client's transaction state: MULTI's queue (in the buffer `Q` the
/// front end lends: an array, a `Vec<u8>`, a `&mut [u8]`) and WATCH's
/// addresses.
///
/// A queued command takes 2 bytes plus 4 bytes and its length per
/// argument; a transaction that outgrows the buffer is refused (and
/// discarded at EXEC), never truncated.
#[derive(Clone, Debug)]
pub struct Session<Q> {
    queue: Q,
    used: usize,
    queued: u16,
    multi: Multi,
    watches: [Watch; WATCH_MAX],
    watching: usize,
}

impl<Q: AsRef<[u8]> + AsMut<[u8]>> Session<Q> {
    /// A session with no transaction, queuing into `queue`.
    pub fn new(queue: Q) -> Self {
        Session {
            queue,
            used: 0,
            queued: 0,
            multi: Multi::Idle,
            watches: [Watch {
                addr: Addr(0),
                seen: None,
            }; WATCH_MAX],
            watching: 0,
        }
    }

    /// Whether a MULTI is open.
    pub fn in_multi(&self) -> bool {
        self.multi != Multi::Idle
    }

    /// Commands queued in the open transaction.
    pub fn queued(&self) -> usize {
        self.queued as usize
    }

    /// Addresses watched.
    pub fn watching(&self) -> usize {
        self.watching
    }

    /// Forgets the transaction and the watches (as EXEC and DISCARD do;
    /// call it when a client goes away).
    pub fn reset(&mut self) {
        self.end_multi();
        self.watching = 0;
    }

    pub(crate) fn begin_multi(&mut self) {
        self.multi = Multi::Queuing;
        self.used = 0;
        self.queued = 0;
    }

    pub(crate) fn end_multi(&mut self) {
        self.multi = Multi::Idle;
        self.used = 0;
        self.queued = 0;
    }

    /// Marks the open transaction as failed: EXEC will discard it.
    pub(crate) fn abort(&mut self) {
        if self.in_multi() {
            self.multi = Multi::Aborted;
        }
    }

    pub(crate) fn aborted(&self) -> bool {
        self.multi == Multi::Aborted
    }

    pub(crate) fn watches(&self) -> &[Watch] {
        &self.watches[..self.watching]
    }

    /// Watches `addr`, first observation kept (a second WATCH of the same
    /// address does not move its starting point).
    pub(crate) fn watch(&mut self, addr: Addr, seen: Option<u64>) -> Result<(), ErrorKind> {
        if self.watches().iter().any(|w| w.addr == addr) {
            return Ok(());
        }
        let slot = self
            .watches
            .get_mut(self.watching)
            .ok_or(ErrorKind::TooManyWatches { max: WATCH_MAX })?;
        *slot = Watch { addr, seen };
        self.watching += 1;
        Ok(())
    }

    pub(crate) fn unwatch(&mut self) {
        self.watching = 0;
    }

    /// Appends a command to the queue.
    pub(crate) fn enqueue(&mut self, args: &[&[u8]]) -> Result<(), ErrorKind> {
        let full = ErrorKind::QueueFull {
            capacity: self.queue.as_ref().len(),
        };
        if args.len() > ARGS_MAX {
            return Err(ErrorKind::TooManyArguments { max: ARGS_MAX });
        }
        // EXEC numbers commands with a u16.
        if self.queued == u16::MAX {
            return Err(full);
        }
        let need = args
            .iter()
            .try_fold(2usize, |n, a| n.checked_add(4)?.checked_add(a.len()));
        let end = need.and_then(|n| n.checked_add(self.used));
        let buf = self.queue.as_mut();
        let Some(out) = end.and_then(|end| buf.get_mut(self.used..end)) else {
            return Err(full);
        };
        let (count, mut rest) = out.split_at_mut(2);
        count.copy_from_slice(&(args.len() as u16).to_le_bytes());
        for a in args {
            let Ok(len) = u32::try_from(a.len()) else {
                return Err(full);
            };
            let (len_bytes, tail) = rest.split_at_mut(4);
            len_bytes.copy_from_slice(&len.to_le_bytes());
            let (body, tail) = tail.split_at_mut(a.len());
            body.copy_from_slice(a);
            rest = tail;
        }
        self.used = end.unwrap_or(self.used);
        self.queued += 1;
        Ok(())
    }

    /// The queued commands, in order.
    pub(crate) fn queue(&self) -> Queue<'_> {
        Queue {
            bytes: self.queue.as_ref().get(..self.used).unwrap_or(&[]),
        }
    }
}

/// Walks a session's queue.
pub(crate) struct Queue<'q> {
    bytes: &'q [u8],
}

impl<'q> Queue<'q> {
    /// The next queued command's arguments, stored in `args`; returns how
    /// many, or `None` at the end.
    pub(crate) fn next_into(&mut self, args: &mut [&'q [u8]; ARGS_MAX]) -> Option<usize> {
        let (count, mut rest) = self.bytes.split_first_chunk::<2>()?;
        let n = u16::from_le_bytes(*count) as usize;
        if n > ARGS_MAX {
            return None;
        }
        for slot in args.iter_mut().take(n) {
            let (len, tail) = rest.split_first_chunk::<4>()?;
            let len = u32::from_le_bytes(*len) as usize;
            if len > tail.len() {
                return None;
            }
            let (arg, tail) = tail.split_at(len);
            *slot = arg;
            rest = tail;
        }
        self.bytes = rest;
        Some(n)
    }
}
