//! Checkpoints that run by themselves
//! ([`Options::checkpoint_after_segments`](super::Options::checkpoint_after_segments)):
//! a background thread, woken when a commit's rotation leaves that many
//! closed segments on disk, runs [`Inner::checkpoint`] as a caller would.
//! The checkpoint takes its locks in the documented order; the state here
//! is a leaf lock, taken for an instant (the appender takes it holding
//! `writer`), never while taking another.

use super::{lock, Inner};
use core::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex};

/// What the automatic checkpoints have done since the store was opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoCheckpoints {
    /// Checkpoints that ran and succeeded.
    pub runs: u64,
    /// Checkpoints that failed (each is tried again at the next rotation).
    pub failures: u64,
    /// Why the last one failed, until one succeeds again.
    pub last_error: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    wanted: bool,
    stop: bool,
    report: AutoCheckpoints,
}

/// The background thread's mailbox.
#[derive(Debug, Default)]
pub(crate) struct AutoCheckpointer {
    state: Mutex<State>,
    wake: Condvar,
}

impl AutoCheckpointer {
    /// Asks for a checkpoint; one asked for while one runs follows it.
    pub(crate) fn want(&self) {
        lock(&self.state).wanted = true;
        self.wake.notify_one();
    }

    /// Stops the thread once the checkpoint it may be running ends.
    pub(crate) fn stop(&self) {
        lock(&self.state).stop = true;
        self.wake.notify_all();
    }

    pub(crate) fn report(&self) -> AutoCheckpoints {
        lock(&self.state).report.clone()
    }
}

impl Inner {
    /// The background thread: a checkpoint each time one is wanted, until
    /// the store is closed or poisoned.
    pub(crate) fn run_auto_checkpoints(&self) {
        let auto = &self.auto;
        loop {
            {
                let mut state = lock(&auto.state);
                while !state.wanted && !state.stop {
                    state = auto.wake.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                if state.stop {
                    return;
                }
                state.wanted = false;
            }
            // A rotation while the last checkpoint ran counted the
            // segments that checkpoint covered and retired after: asked
            // for again, but not due. Counted now, under `writer`, the
            // closed segments are the ones written since.
            if !self.checkpoint_due(&lock(&self.writer)) {
                continue;
            }
            let result = self.checkpoint();
            if self.closed.load(Ordering::Acquire) {
                // Refused because the store closed meanwhile: not a failure.
                return;
            }
            let poisoned = self.group.failure().is_some();
            let mut state = lock(&auto.state);
            match result {
                Ok(_) => {
                    state.report.runs += 1;
                    state.report.last_error = None;
                }
                Err(e) => {
                    state.report.failures += 1;
                    state.report.last_error = Some(e.to_string());
                }
            }
            if poisoned {
                return; // no checkpoint can run again
            }
        }
    }
}
