//! The command language over a [`Store`]: reads run on the current
//! snapshot without waiting for writers; writes run inside the store's
//! single writer, in the fixed order execute -> log (durable) -> apply ->
//! reply. Both the server and the command line go through here.

use crate::store::{Store, StoreError};
use bindspace_core::command::{self, CommandError, Context, Input, Reply, Scratch, Session};
use bindspace_core::Width;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
    /// The clock could not say what time it is; nothing ran.
    Clock(ClockError),
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
            Failure::Clock(_) => "ERR",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Command(e) => fmt::Display::fmt(e, f),
            Failure::Store(e) => write!(f, "the change was not stored: {e}"),
            Failure::Clock(e) => fmt::Display::fmt(e, f),
        }
    }
}

/// Why the clock gave no time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockError {
    /// How far before 1970 the clock reads, in milliseconds.
    pub before_1970_ms: u64,
}

impl fmt::Display for ClockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the system clock reads {} ms before 1970: set it right (expiries are kept in milliseconds since 1970)",
            self.before_1970_ms
        )
    }
}

impl core::error::Error for ClockError {}

/// Where an [`Engine`] reads the time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since 1970, or why the clock cannot say.
    fn now_ms(&self) -> Result<u64, ClockError>;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Result<u64, ClockError> {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => Ok(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            Err(e) => Err(ClockError {
                before_1970_ms: u64::try_from(e.duration().as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }
}

/// Runs commands against one store.
#[derive(Clone, Debug)]
pub struct Engine {
    store: Store,
    clock: Arc<dyn Clock>,
    /// The highest tick handed out (shared by clones): the tick never goes
    /// back, or entries that expired would come back when the wall clock
    /// is set back.
    last_tick: Arc<AtomicU64>,
}

/// The current tick: milliseconds of wall-clock time since 1970, the unit
/// every bindspace data directory keeps (expiries are stored in it), or
/// the error of a clock before 1970 (never a made-up 0). The command
/// line's one-shot commands use it; the server goes through
/// [`Engine::tick`], which is also monotonic.
pub fn now_ms() -> Result<u64, ClockError> {
    SystemClock.now_ms()
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
pub fn context() -> Result<Context, ClockError> {
    Ok(context_at(now_ms()?))
}

/// The context of a command run at `tick`, with the detected kernel.
fn context_at(tick: u64) -> Context {
    Context::new(tick).kernel(crate::kernels::detected())
}

impl Engine {
    /// An engine over `store` on the system clock.
    pub fn new(store: Store) -> Engine {
        Engine::with_clock(store, Arc::new(SystemClock))
    }

    /// An engine over `store` that reads the time from `clock`.
    pub fn with_clock(store: Store, clock: Arc<dyn Clock>) -> Engine {
        Engine {
            store,
            clock,
            last_tick: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The tick a command runs at: the clock's milliseconds since 1970,
    /// but never lower than a tick handed out before (a clock set back
    /// does not bring expired entries back). A clock before 1970 is an
    /// error, never taken for 1970.
    pub fn tick(&self) -> Result<u64, ClockError> {
        let now = self.clock.now_ms()?;
        let before = self.last_tick.fetch_max(now, Ordering::AcqRel);
        Ok(now.max(before))
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Fresh buffers for one client.
    pub fn client_buffers(&self) -> (ClientSession, ClientScratch) {
        client_buffers(self.store.width())
    }

    /// The context a command runs in: [`Engine::tick`], the detected
    /// kernel.
    pub(crate) fn context(&self) -> Result<Context, Failure> {
        Ok(context_at(self.tick().map_err(Failure::Clock)?))
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
        let writes = !session.in_multi_queueing(args) && args.first().is_some_and(|n| may_write(n));
        if !writes {
            let ctx = self.context()?;
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
            // Taken holding the writer, so commits see ticks in order.
            let ctx = self.context()?;
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
    use super::{may_write, Clock, ClockError, Engine};
    use crate::store::{Durability, Options, Store};
    use bindspace_core::command::{Command, Reply};
    use bindspace_core::Width;
    use std::sync::{Arc, Mutex};

    /// A clock the test sets by hand.
    #[derive(Debug)]
    struct HandClock(Mutex<Result<u64, ClockError>>);

    impl HandClock {
        fn set(&self, now: Result<u64, ClockError>) {
            *self.0.lock().unwrap() = now;
        }
    }

    impl Clock for HandClock {
        fn now_ms(&self) -> Result<u64, ClockError> {
            *self.0.lock().unwrap()
        }
    }

    /// A wall clock set back (an NTP step, an operator) must not bring
    /// back an entry that has expired, and a clock before 1970 is an
    /// error the client is told about, not a tick of 0 (under which
    /// every expired entry would be live again).
    #[test]
    fn the_tick_never_goes_back_and_a_clock_before_1970_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            width: Width::from_bits(64).unwrap(),
            durability: Durability::Never,
            ..Options::default()
        };
        let clock = Arc::new(HandClock(Mutex::new(Ok(1_000_000))));
        let engine = Engine::with_clock(Store::open(dir.path(), options).unwrap(), clock.clone());
        let (mut session, mut scratch) = engine.client_buffers();
        let mut run = |args: &[&str]| {
            let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            match engine.run(&argv, &mut session, &mut scratch) {
                Ok(Reply::Nil) => Ok("(nil)".to_string()),
                Ok(Reply::Bulk(b)) => Ok(String::from_utf8_lossy(b).into_owned()),
                Ok(other) => Ok(format!("{other:?}")),
                Err(e) => Err((e.code(), e.to_string())),
            }
        };
        run(&["SET", "0x20:01", "00000000000000ff"]).unwrap();
        run(&["EXPIRE", "0x20:01", "1000"]).unwrap();
        assert_eq!(run(&["GET", "0x20:01"]).unwrap(), "00000000000000ff");
        clock.set(Ok(1_002_000));
        assert_eq!(run(&["GET", "0x20:01"]).unwrap(), "(nil)", "expired");
        // Set back past the expiry: still expired.
        clock.set(Ok(1_000_500));
        assert_eq!(run(&["GET", "0x20:01"]).unwrap(), "(nil)", "came back");
        assert_eq!(engine.tick(), Ok(1_002_000));
        // Before 1970: every command is refused, saying why.
        clock.set(Err(ClockError {
            before_1970_ms: 5_000,
        }));
        let (code, message) = run(&["GET", "0x20:01"]).unwrap_err();
        assert_eq!(code, "ERR");
        assert!(
            message.contains("clock") && message.contains("1970"),
            "{message}"
        );
        assert!(run(&["SET", "0x20:02", "00000000000000ff"]).is_err());
        // Back on time, from where it was.
        clock.set(Ok(1_003_000));
        assert_eq!(run(&["GET", "0x20:01"]).unwrap(), "(nil)");
        assert_eq!(engine.tick(), Ok(1_003_000));
    }

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
