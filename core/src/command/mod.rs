//! The command language every front end speaks, parsed and executed on
//! byte slices with bounded memory. The language itself (each command,
//! its reply, its errors) is documented in `docs/COMMANDS.md`.
//!
//! # The write path
//!
//! [`execute`] never changes the space. It reads the space (any
//! [`Source`]) and returns an [`Outcome`]: the [`Reply`] to send and the
//! [`Mutation`]s to commit. The front end then
//!
//! 1. makes the mutations durable in its log, as one all-or-nothing batch,
//!    which gives them a sequence number,
//! 2. applies them to the space with `Space::apply(m, seq)`,
//! 3. and only then sends the reply.
//!
//! The front end holds its space's single writer from `execute` to the
//! end of step 2, so what a command read (WATCH's versions, an `@addr`
//! operand, the free address a `DN.SET` picked) is still true when its
//! mutations land: check and commit are one step. [`run`] does all of
//! this for a [`Space`](crate::space::Space) and any [`Commit`] (a log); [`run_unlogged`] is
//! the same without durability.
//!
//! ```
//! use bindspace_core::command::{self, Context, Input, Reply, Scratch, Session, Unlogged};
//! use bindspace_core::space::{Lent, RowMeta, SlotPage, Space};
//! use bindspace_core::Width;
//!
//! let width = Width::from_bits(64).unwrap();
//! let (mut arena, mut meta, mut pages) = ([0u64; 8], [RowMeta::EMPTY; 8], [SlotPage::EMPTY; 2]);
//! let mut space = Space::new(width, Lent::new(&mut arena, &mut meta, &mut pages));
//! let mut session = Session::new([0u8; 256]);
//! let mut scratch = Scratch::new([0u64; 16], [0u8; 512]);
//! let mut versions = Unlogged::new(1);
//! let ctx = Context::new(0);
//!
//! let line = Input::Line(b"SET 0x10:01 0123456789abcdef");
//! let reply = command::run_unlogged(&mut space, &mut versions, &ctx, line, &mut session, &mut scratch);
//! assert_eq!(reply.unwrap(), Reply::Status("OK"));
//! let reply = command::run_unlogged(&mut space, &mut versions, &ctx, Input::Line(b"get 10:01"), &mut session, &mut scratch);
//! assert_eq!(reply.unwrap(), Reply::Bulk(b"0123456789abcdef"));
//! ```
//!
//! # Memory
//!
//! No heap. The front end lends a [`Scratch`] (fingerprints and reply
//! bytes) and a [`Session`] per client (MULTI's queue); an [`Outcome`]
//! holds at most [`BATCH_MAX`] mutations inline; a command has at most
//! [`ARGS_MAX`] arguments. Going past any bound is an error reply that
//! changes nothing.
//!
//! # Layers
//!
//! - [`line`](split_line): a text line into arguments.
//! - `parse`: arguments into a typed [`Command`].
//! - `overlay`: reads that see a transaction's pending mutations.
//! - `exec` and `paths`: one command into a reply and mutations.
//! - `session`: MULTI, EXEC, DISCARD, WATCH.
//! - `reply`: the typed reply and the byte tape behind arrays.
//! - `text`: replies and error messages as text without `core::fmt`
//!   ([`TextBuf`]; the `Display` impls print through it too).
//! - `run`: the write path above, for a space and a [`Commit`].
//!
//! No unsafe code: the module forbids it.

#![forbid(unsafe_code)]

mod error;
mod exec;
mod line;
mod overlay;
mod parse;
mod paths;
mod reply;
mod run;
mod scratch;
mod session;
mod source;
mod text;

pub use error::{CommandError, ErrorKind, ExecFailure, Token, TOKEN_MAX};
pub use line::split_line;
pub use overlay::BATCH_MAX;
pub use parse::{
    command_name, Addrs, Command, FpArg, FpArgs, SearchArgs, SCAN_COUNT_DEFAULT, SCAN_COUNT_MAX,
    SEARCH_K_DEFAULT, SEARCH_K_MAX,
};
pub use reply::{Items, ItemsIter, Reply};
pub use run::{run, run_unlogged, Commit, RunError, Unlogged};
pub use scratch::Scratch;
pub use session::{Session, WATCH_MAX};
pub use source::Source;
pub use text::{FmtSink, TextBuf, TextFull, TextSink};

use crate::kernels::Kernel;
use crate::mutation::Mutation;
use core::fmt;
use exec::Exec;
use overlay::Batch;
use reply::Tape;
use scratch::Words;

/// The most arguments a command has, its name included.
pub const ARGS_MAX: usize = 64;

/// What a command runs with besides its arguments: the time and the
/// Hamming kernel.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    /// The current tick. Core never reads a clock: entries whose expiry is
    /// at or before `now` are invisible, and `EXPIRE addr t` stores
    /// `now + t`.
    pub now: u64,
    /// The kernel for SEARCH and HAMMING (the host passes its run-time
    /// choice; INFO names it).
    pub kernel: Kernel,
}

impl Context {
    /// At tick `now`, with the best kernel this build was compiled for.
    pub fn new(now: u64) -> Self {
        Context {
            now,
            kernel: Kernel::best(),
        }
    }

    /// With this kernel.
    pub fn kernel(self, kernel: Kernel) -> Self {
        Context { kernel, ..self }
    }
}

/// A command as a front end received it.
#[derive(Clone, Copy, Debug)]
pub enum Input<'i> {
    /// Arguments already split (RESP), the command name first.
    Argv(&'i [&'i [u8]]),
    /// A text line, split by [`split_line`]'s rules (double quotes, `\"`
    /// and `\\` escapes).
    Line(&'i [u8]),
}

/// What a command decided: the reply to send and the mutations to commit
/// first. Borrows the [`Scratch`], not the space, so the front end can
/// apply the mutations while holding it.
pub struct Outcome<'a> {
    reply: Reply<'a>,
    batch: Batch<'a>,
}

impl<'a> Outcome<'a> {
    /// The reply, to send after the mutations are durable and applied.
    pub fn reply(&self) -> Reply<'a> {
        self.reply
    }

    /// The mutations, in order: log them as one batch, then apply each
    /// with the batch's sequence number. Empty for reads.
    pub fn mutations(&self) -> &[Mutation<'a>] {
        self.batch.as_slice()
    }
}

impl fmt::Debug for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field("reply", &self.reply)
            .field("mutations", &self.mutations())
            .finish()
    }
}

/// Parses and executes one command against `src` as seen by `session`,
/// changing nothing: returns the reply and the mutations to commit (see
/// the module docs for the order), or the error to reply with. A refused
/// command yields no mutations; inside MULTI it also makes EXEC discard
/// the transaction, except for misuse of the transaction commands
/// themselves (a nested MULTI, WATCH inside MULTI), which is refused and
/// leaves the transaction as it was, as in Redis.
pub fn execute<'a, R, Q, W, B>(
    src: &R,
    ctx: &Context,
    input: Input<'_>,
    session: &mut Session<Q>,
    scratch: &'a mut Scratch<W, B>,
) -> Result<Outcome<'a>, CommandError>
where
    R: Source + ?Sized,
    Q: AsRef<[u8]> + AsMut<[u8]>,
    W: AsMut<[u64]>,
    B: AsMut<[u8]>,
{
    let mut tape = Tape::new(scratch.bytes.as_mut());
    let words = Words::new(scratch.words.as_mut());
    let mut split: [&[u8]; ARGS_MAX] = [&[]; ARGS_MAX];
    let args: &[&[u8]] = match input {
        Input::Argv(args) => args,
        Input::Line(line) => {
            let buf = tape
                .carve_end(line.len())
                .inspect_err(|_| session.abort())?;
            let n = split_line(line, buf, &mut split).inspect_err(|_| session.abort())?;
            &split[..n]
        }
    };
    if args.len() > ARGS_MAX {
        session.abort();
        return Err(ErrorKind::TooManyArguments { max: ARGS_MAX }.into());
    }
    let cmd = Command::parse(args).inspect_err(|_| session.abort())?;
    let mut exec = Exec {
        src,
        ctx: *ctx,
        words,
        tape,
        batch: Batch::new(),
    };
    control(&mut exec, session, &cmd, args)?;
    let Exec { tape, batch, .. } = exec;
    let reply = reply::decode(tape.finish()).map_or(Reply::Nil, |(r, _)| r);
    Ok(Outcome { reply, batch })
}

/// The transaction state machine around [`Exec::run`].
fn control<R, Q>(
    exec: &mut Exec<'_, '_, R>,
    session: &mut Session<Q>,
    cmd: &Command<'_>,
    args: &[&[u8]],
) -> Result<(), CommandError>
where
    R: Source + ?Sized,
    Q: AsRef<[u8]> + AsMut<[u8]>,
{
    let now = exec.ctx.now;
    match *cmd {
        Command::Multi if session.in_multi() => Err(ErrorKind::NestedMulti.into()),
        Command::Multi => {
            session.begin_multi();
            Ok(exec.tape.status("OK")?)
        }
        Command::Discard if !session.in_multi() => Err(ErrorKind::DiscardWithoutMulti.into()),
        Command::Discard => {
            session.reset();
            Ok(exec.tape.status("OK")?)
        }
        Command::Exec if !session.in_multi() => Err(ErrorKind::ExecWithoutMulti.into()),
        Command::Exec => {
            let result = transaction(exec, session);
            session.reset();
            result
        }
        Command::Watch(_) if session.in_multi() => Err(ErrorKind::WatchInsideMulti.into()),
        Command::Watch(addrs) => {
            let new = addrs
                .iter()
                .enumerate()
                .filter(|&(i, a)| {
                    !session.watches().iter().any(|w| w.addr == a)
                        && !addrs.iter().take(i).any(|b| b == a)
                })
                .count();
            if session.watching() + new > WATCH_MAX {
                return Err(ErrorKind::TooManyWatches { max: WATCH_MAX }.into());
            }
            for a in addrs.iter() {
                session.watch(a, live_version(exec.src, a, now))?;
            }
            Ok(exec.tape.status("OK")?)
        }
        Command::Unwatch if !session.in_multi() => {
            session.unwatch();
            Ok(exec.tape.status("OK")?)
        }
        _ if session.in_multi() => {
            let queued = cmd
                .check_width(exec.src.width())
                .and_then(|()| session.enqueue(args));
            if let Err(e) = queued {
                session.abort();
                return Err(e.into());
            }
            // Queued already: if the reply cannot be written, the client
            // hears an error, so EXEC must not run what it queued.
            exec.tape
                .status("QUEUED")
                .inspect_err(|_| session.abort())?;
            Ok(())
        }
        _ => {
            exec.run(cmd)?;
            exec.src
                .check_batch(exec.batch.as_slice())
                .map_err(ErrorKind::Space)?;
            Ok(())
        }
    }
}

/// The version of the live entry at `addr`, if any: what WATCH records
/// and EXEC compares. Any change (set, delete, expiry, metadata, or the
/// entry expiring) changes it, since versions are log sequence numbers.
fn live_version<R: Source + ?Sized>(src: &R, addr: crate::addr::Addr, now: u64) -> Option<u64> {
    src.entry(addr)
        .filter(|e| e.is_live(now))
        .map(|e| e.version)
}

/// EXEC: the watch check, then every queued command in order through one
/// overlay, then the whole batch checked. Any failure discards all.
fn transaction<R, Q>(exec: &mut Exec<'_, '_, R>, session: &Session<Q>) -> Result<(), CommandError>
where
    R: Source + ?Sized,
    Q: AsRef<[u8]> + AsMut<[u8]>,
{
    if session.aborted() {
        return Err(ErrorKind::QueuedErrors.into());
    }
    let now = exec.ctx.now;
    let changed = session
        .watches()
        .iter()
        .any(|w| live_version(exec.src, w.addr, now) != w.seen);
    if changed {
        // As in Redis: a nil reply, nothing applied.
        return Ok(exec.tape.nil()?);
    }
    let queued = session.queued() as u16;
    let failure = |index, command| ExecFailure {
        index,
        queued,
        command,
    };
    let mut list = exec.tape.begin_array()?;
    let mut queue = session.queue();
    let mut args: [&[u8]; ARGS_MAX] = [&[]; ARGS_MAX];
    let mut index = 0u16;
    while let Some(n) = queue.next_into(&mut args) {
        index = index.saturating_add(1);
        let args = &args[..n];
        let name = args.first().and_then(|a| command_name(a)).unwrap_or("?");
        let ran = Command::parse(args).and_then(|cmd| exec.run(&cmd));
        if let Err(kind) = ran {
            return Err(CommandError {
                kind,
                exec: Some(failure(Some(index), name)),
            });
        }
        list.push();
    }
    exec.tape.end_array(list);
    exec.src
        .check_batch(exec.batch.as_slice())
        .map_err(|e| CommandError {
            kind: ErrorKind::Space(e),
            exec: Some(failure(None, "EXEC")),
        })
}
