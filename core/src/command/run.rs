//! The whole write path for a [`Space`]: execute, commit to the log,
//! apply, reply. Front ends whose state is not one `Space` (the host's
//! store) follow the same order with [`execute`](super::execute) directly.

use super::error::CommandError;
use super::reply::Reply;
use super::scratch::Scratch;
use super::session::Session;
use super::{execute, Context, Input};
use crate::mutation::Mutation;
use crate::space::{Space, SpaceError, Storage};
use core::convert::Infallible;
use core::fmt;

/// Where a front end's log plugs in: makes a batch durable before it is
/// applied.
pub trait Commit {
    /// Why the log could not take the batch.
    type Error;

    /// Makes `batch` durable as one all-or-nothing unit and returns its
    /// sequence number, which becomes the version of every entry it
    /// changes. Only called with a non-empty batch. On error nothing of
    /// the batch may be applied (or replayed) later.
    fn commit(&mut self, batch: &[Mutation<'_>]) -> Result<u64, Self::Error>;
}

/// No log: every batch "commits" at once with the next number of a
/// counter. For spaces that need no durability (tests, scratch spaces).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unlogged {
    next: u64,
}

impl Unlogged {
    /// The first batch gets version `first`, the next `first + 1`, ...
    /// Start above every version already in the space, so that WATCH sees
    /// every change.
    pub const fn new(first: u64) -> Self {
        Unlogged { next: first }
    }

    /// The version the next batch gets.
    pub const fn next_version(&self) -> u64 {
        self.next
    }
}

impl Commit for Unlogged {
    type Error = Infallible;

    fn commit(&mut self, _batch: &[Mutation<'_>]) -> Result<u64, Infallible> {
        let version = self.next;
        self.next = self.next.saturating_add(1);
        Ok(version)
    }
}

/// Why [`run`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunError<E> {
    /// The command was refused; nothing was logged or applied.
    Command(CommandError),
    /// The log refused the batch; nothing was applied.
    Log(E),
    /// The space refused a mutation the log already holds. The executor
    /// checks every batch against the space first, so this means the
    /// space changed between execute and apply: a front end bug.
    Apply(SpaceError),
}

impl<E: fmt::Display> fmt::Display for RunError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Command(e) => fmt::Display::fmt(e, f),
            RunError::Log(e) => write!(f, "the log refused the change: {e}"),
            RunError::Apply(e) => write!(f, "a logged change could not be applied: {e}"),
        }
    }
}

/// Executes `input`, commits its mutations to `log`, applies them to
/// `space` with the sequence number the log gave, and returns the reply:
/// write-ahead, in that order, under the `&mut` borrow that makes this
/// caller the space's single writer.
pub fn run<'a, S, L, Q, W, B>(
    space: &mut Space<S>,
    log: &mut L,
    ctx: &Context,
    input: Input<'_>,
    session: &mut Session<Q>,
    scratch: &'a mut Scratch<W, B>,
) -> Result<Reply<'a>, RunError<L::Error>>
where
    S: Storage,
    L: Commit + ?Sized,
    Q: AsRef<[u8]> + AsMut<[u8]>,
    W: AsMut<[u64]>,
    B: AsMut<[u8]>,
{
    let outcome = execute(&*space, ctx, input, session, scratch).map_err(RunError::Command)?;
    let batch = outcome.mutations();
    if !batch.is_empty() {
        let seq = log.commit(batch).map_err(RunError::Log)?;
        for m in batch {
            space.apply(m, seq).map_err(RunError::Apply)?;
        }
    }
    Ok(outcome.reply())
}

/// [`run`] without a log: the batch is applied at once with the next
/// version of `versions`.
pub fn run_unlogged<'a, S, Q, W, B>(
    space: &mut Space<S>,
    versions: &mut Unlogged,
    ctx: &Context,
    input: Input<'_>,
    session: &mut Session<Q>,
    scratch: &'a mut Scratch<W, B>,
) -> Result<Reply<'a>, CommandError>
where
    S: Storage,
    Q: AsRef<[u8]> + AsMut<[u8]>,
    W: AsMut<[u64]>,
    B: AsMut<[u8]>,
{
    run(space, versions, ctx, input, session, scratch).map_err(|e| match e {
        RunError::Command(e) => e,
        RunError::Log(never) => match never {},
        // Checked before: unreachable, but reported rather than trusted.
        RunError::Apply(e) => crate::command::ErrorKind::Space(e).into(),
    })
}
