//! Counters of the log syncs that made commits durable, for operators and
//! benchmarks: how well group commit shares its fdatasyncs.

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

/// The log syncs a store has made since it was opened: group syncs
/// (`Always` mode), the periodic syncer's and explicit [`Store::sync`]
/// calls; not the syncs of rotation, checkpoints or segment creation.
///
/// [`Store::sync`]: super::Store::sync
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// fdatasyncs of the active segment that made commits durable.
    pub syncs: u64,
    /// Commits those syncs made durable.
    pub commits: u64,
    /// Time spent inside those fdatasyncs.
    pub sync_time: Duration,
    /// Time sync leaders spent gathering before those syncs: waiting, with
    /// other committers waiting on them, for the committers on their way
    /// to append, so one fdatasync covers them too (zero when nobody
    /// waited). Beside `sync_time` it shows where a group's cycle goes.
    pub gather_time: Duration,
}

impl SyncStats {
    /// Commits per sync on average (0 before the first sync).
    pub fn commits_per_sync(&self) -> f64 {
        if self.syncs == 0 {
            0.0
        } else {
            self.commits as f64 / self.syncs as f64
        }
    }

    /// The mean time of one sync (zero before the first sync).
    pub fn mean_sync(&self) -> Duration {
        let nanos = self
            .sync_time
            .as_nanos()
            .checked_div(u128::from(self.syncs))
            .unwrap_or(0);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// The live counters behind [`SyncStats`]. Relaxed: each is a tally read
/// now and then, not a synchronisation point.
#[derive(Debug, Default)]
pub(crate) struct SyncCounters {
    syncs: AtomicU64,
    commits: AtomicU64,
    nanos: AtomicU64,
    gather_nanos: AtomicU64,
    /// How long the last sync took, in nanoseconds (the gather budget,
    /// writer.rs).
    last_nanos: AtomicU64,
}

impl SyncCounters {
    /// Records one sync that took `nanos` and made `commits` durable,
    /// after a gather of `gather_nanos`.
    pub(crate) fn record(&self, nanos: u64, commits: u64, gather_nanos: u64) {
        self.gather_nanos.fetch_add(gather_nanos, Ordering::Relaxed);
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.commits.fetch_add(commits, Ordering::Relaxed);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.last_nanos.store(nanos, Ordering::Relaxed);
    }

    /// How long the last sync took, in nanoseconds (0 before the first).
    pub(crate) fn last_nanos(&self) -> u64 {
        self.last_nanos.load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self) -> SyncStats {
        SyncStats {
            syncs: self.syncs.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            sync_time: Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
            gather_time: Duration::from_nanos(self.gather_nanos.load(Ordering::Relaxed)),
        }
    }
}
