//! Who is committing right now: what a sync leader looks at to decide how
//! long to gather before it syncs (`Inner::gather`, writer.rs).
//!
//! A committer is counted *inside* from entering `commit` (or
//! `commit_with`) until it returns, and *entering* until its batch is
//! appended or refused. Each sync takes the most committers seen inside
//! since the sync before as the number the next one gathers for: with 16
//! threads committing in a loop that is 16, and when fewer commit it falls
//! back within one sync. Relaxed counts would do for the heuristic; the
//! orderings only make the counts no older than the appends they follow.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The counts; one per store.
#[derive(Debug)]
pub(crate) struct Committers {
    entering: AtomicUsize,
    inside: AtomicUsize,
    /// The most `inside` seen since the last sync took it.
    peak: AtomicUsize,
    /// What the last sync took from `peak`.
    expected: AtomicUsize,
    /// The last sequence number appended (a copy of `SyncTarget::appended`,
    /// readable without its lock).
    appended: AtomicU64,
}

impl Committers {
    /// Nobody committing yet; `appended` is the last sequence number in
    /// the log.
    pub(crate) fn new(appended: u64) -> Committers {
        Committers {
            entering: AtomicUsize::new(0),
            inside: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            expected: AtomicUsize::new(0),
            appended: AtomicU64::new(appended),
        }
    }

    /// Counts a committer inside until the guard is dropped.
    pub(crate) fn inside(&self) -> Inside<'_> {
        let now = self.inside.fetch_add(1, Ordering::AcqRel) + 1;
        self.peak.fetch_max(now, Ordering::AcqRel);
        Inside(self)
    }

    /// Counts a committer entering until the guard is dropped (declared
    /// before the `writer` lock's guard, so dropped after it: once its
    /// batch is appended or refused).
    pub(crate) fn entering(&self) -> Entering<'_> {
        self.entering.fetch_add(1, Ordering::AcqRel);
        Entering(self)
    }

    /// Committers between entering and having appended.
    pub(crate) fn entering_now(&self) -> usize {
        self.entering.load(Ordering::Acquire)
    }

    /// Records that commit `seq` was appended (called under the `target`
    /// lock, as `SyncTarget::appended` is set).
    pub(crate) fn appended(&self, seq: u64) {
        self.appended.store(seq, Ordering::Release);
    }

    /// The last sequence number appended.
    pub(crate) fn last_appended(&self) -> u64 {
        self.appended.load(Ordering::Acquire)
    }

    /// Called by each sync: the most committers inside since the last
    /// call becomes the number to gather for, and counting starts again
    /// from those inside now.
    pub(crate) fn take_peak(&self) {
        let now = self.inside.load(Ordering::Acquire);
        let peak = self.peak.swap(now, Ordering::AcqRel);
        self.expected.store(peak, Ordering::Release);
    }

    /// How many committers the next sync gathers for.
    pub(crate) fn expected(&self) -> u64 {
        self.expected.load(Ordering::Acquire) as u64
    }
}

/// A committer inside `commit`; see [`Committers::inside`].
pub(crate) struct Inside<'a>(&'a Committers);

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.inside.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A committer not yet appended; see [`Committers::entering`].
pub(crate) struct Entering<'a>(&'a Committers);

impl Drop for Entering<'_> {
    fn drop(&mut self) {
        self.0.entering.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_of_a_cycle_is_what_the_next_sync_gathers_for() {
        let c = Committers::new(0);
        {
            let _a = c.inside();
            let _b = c.inside();
            let _c = c.inside();
        }
        let _d = c.inside();
        c.take_peak();
        assert_eq!(c.expected(), 3, "three were inside at once");
        // Only one is inside now, and nobody came since: the next cycle's
        // peak is one.
        c.take_peak();
        assert_eq!(c.expected(), 1);
    }

    #[test]
    fn entering_counts_until_the_guard_drops() {
        let c = Committers::new(0);
        let e = c.entering();
        assert_eq!(c.entering_now(), 1);
        drop(e);
        assert_eq!(c.entering_now(), 0);
        c.appended(7);
        assert_eq!(c.last_appended(), 7);
    }
}
