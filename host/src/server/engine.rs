//! The command language over a [`Store`]: reads run on the current
//! snapshot without waiting for writers; writes run inside the store's
//! single writer, in the fixed order execute -> log (durable) -> apply ->
//! reply. Both the server and the command line go through here.

use crate::store::{Store, StoreError};
use bindspace_core::command::{self, CommandError, Context, Input, Reply, Scratch, Session};
use bindspace_core::Width;
use core::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// The per-client buffers a command runs in.
pub type ClientSession = Session<Vec<u8>>;
/// The per-client scratch (fingerprint words, reply bytes).
pub type ClientScratch = Scratch<Vec<u64>, Vec<u8>>;

/// Bytes of MULTI queue each client gets.
pub const QUEUE_BYTES: usize = 64 * 1024;
/// Bytes of reply each command may produce.
pub const REPLY_BYTES: usize = 256 * 1024;

/// Why a command produced no reply.
#[derive(Debug)]
pub enum Failure {
    /// The command was refused; nothing changed.
    Command(CommandError),
    /// The store could not make the change durable; nothing changed.
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

impl Failure {
    /// The RESP error code (`ERR`, `EXECABORT`, `IOERR`).
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Command(e) => e.code(),
            Failure::Store(_) => "IOERR",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Command(e) => fmt::Display::fmt(e, f),
            Failure::Store(e) => write!(f, "the change was not stored: {e}"),
        }
    }
}

/// Runs commands against one store.
#[derive(Clone, Debug)]
pub struct Engine {
    store: Store,
}

/// The current tick: milliseconds of wall-clock time since 1970, the unit
/// every bindspace data directory keeps (expiries are stored in it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Fresh buffers for one client of a space `width` bits wide.
pub fn client_buffers(width: Width) -> (ClientSession, ClientScratch) {
    // A whole transaction's fingerprints plus a BUNDLE's operands.
    let words = Scratch::<Vec<u64>, Vec<u8>>::words_for(width, 256);
    (
        Session::new(vec![0u8; QUEUE_BYTES]),
        Scratch::new(vec![0u64; words], vec![0u8; REPLY_BYTES]),
    )
}

/// The context a command runs in: the clock now, the detected kernel.
pub fn context() -> Context {
    Context::new(now_ms()).kernel(crate::kernels::detected())
}

impl Engine {
    /// An engine over `store`.
    pub fn new(store: Store) -> Engine {
        Engine { store }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Fresh buffers for one client.
    pub fn client_buffers(&self) -> (ClientSession, ClientScratch) {
        client_buffers(self.store.width())
    }

    /// The context a command runs in: the clock now, the detected kernel.
    pub(crate) fn context(&self) -> Context {
        context()
    }

    /// Executes one command (its name first) as seen by `session`; the
    /// reply borrows `scratch`. Commands that may write (and EXEC) run
    /// holding the store's writer through the durable commit; the others
    /// run on the current snapshot.
    pub fn run<'s>(
        &self,
        args: &[&[u8]],
        session: &mut ClientSession,
        scratch: &'s mut ClientScratch,
    ) -> Result<Reply<'s>, Failure> {
        let ctx = self.context();
        let writes = !session.in_multi_queueing(args) && args.first().is_some_and(|n| may_write(n));
        if !writes {
            let view = self.store.view();
            let outcome = command::execute(&*view, &ctx, Input::Argv(args), session, scratch)
                .map_err(Failure::Command)?;
            // A read has no mutations; the view it borrowed may go.
            return Ok(outcome.reply());
        }
        let mut reply = None;
        let slot = &mut reply;
        let session = &mut *session;
        self.store.commit_with(move |view, batch| {
            let outcome = command::execute(view, &ctx, Input::Argv(args), session, scratch)
                .map_err(Failure::Command)?;
            for m in outcome.mutations() {
                batch.push(m);
            }
            *slot = Some(outcome.reply());
            Ok::<(), Failure>(())
        })?;
        Ok(reply.unwrap_or(Reply::Nil))
    }
}

/// The commands for which [`Command::may_write`] is true, by name: routing
/// by name alone spares parsing (and hex-decoding) every write twice. A
/// test checks the list against `may_write`.
const WRITERS: [&str; 10] = [
    "SET", "DEL", "BIND", "BUNDLE", "PERMUTE", "ENCODE", "EXPIRE", "PERSIST", "DN.SET", "EXEC",
];

/// Whether the command named `name` must run holding the writer. An
/// unknown name is refused by the executor, which changes nothing, so
/// the snapshot path is right for it.
pub(crate) fn may_write(name: &[u8]) -> bool {
    WRITERS
        .iter()
        .any(|w| w.as_bytes().eq_ignore_ascii_case(name))
}

/// Whether a command would only be queued by an open MULTI.
trait Queueing {
    fn in_multi_queueing(&self, args: &[&[u8]]) -> bool;
}

impl Queueing for ClientSession {
    fn in_multi_queueing(&self, args: &[&[u8]]) -> bool {
        // Inside MULTI everything but EXEC is only checked and queued.
        self.in_multi()
            && !args
                .first()
                .is_some_and(|n| n.eq_ignore_ascii_case(b"EXEC"))
    }
}

#[cfg(test)]
mod tests {
    use super::may_write;
    use bindspace_core::command::Command;

    #[test]
    fn routing_by_name_agrees_with_the_parser() {
        let samples: [&[&[u8]]; 18] = [
            &[b"SET", b"10:01", b"00"],
            &[b"DEL", b"10:01"],
            &[b"BIND", b"10:01", b"00", b"00"],
            &[b"BUNDLE", b"10:01", b"00"],
            &[b"PERMUTE", b"10:01", b"00", b"1"],
            &[b"ENCODE", b"10:01", b"text"],
            &[b"EXPIRE", b"10:01", b"1"],
            &[b"PERSIST", b"10:01"],
            &[b"DN.SET", b"a/b", b"00"],
            &[b"EXEC"],
            &[b"GET", b"10:01"],
            &[b"PING"],
            &[b"SEARCH", b"00"],
            &[b"COUNT"],
            &[b"WATCH", b"10:01"],
            &[b"MULTI"],
            &[b"DN.GET", b"a/b"],
            &[b"INFO"],
        ];
        for args in samples {
            let parsed = Command::parse(args).expect("a valid sample");
            assert_eq!(may_write(args[0]), parsed.may_write(), "{:?}", args[0]);
        }
    }
}
