//! Group commit: many committers, one fsync.
//!
//! Every committer knows the sequence number its commit ends at. It waits
//! until the durable watermark reaches it. If nobody is syncing, it becomes
//! the leader: it runs the sync (which reads the appended watermark first,
//! so it covers every commit appended before it started), raises the
//! watermark and wakes everyone. Commits appended while a sync runs are
//! covered by the next leader, so one fsync serves all of them.
//!
//! A failed sync is recorded once and returned to every waiter, present
//! and future: nobody retries a failed fsync (the kernel may already have
//! dropped the dirty pages) and nobody waits forever, because the leader
//! always clears its flag and notifies, success or not.

use std::sync::{Condvar, Mutex, MutexGuard};

/// Why a commit could not be made durable: the first sync failure, kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyncFailure(pub(crate) String);

#[derive(Debug)]
struct SyncState {
    durable: u64,
    leader: bool,
    failure: Option<SyncFailure>,
}

/// The shared watermark and the leader flag.
#[derive(Debug)]
pub(crate) struct GroupSync {
    state: Mutex<SyncState>,
    wake: Condvar,
}

impl GroupSync {
    /// A watermark starting at `durable` (everything recovered is durable).
    pub(crate) fn new(durable: u64) -> GroupSync {
        GroupSync {
            state: Mutex::new(SyncState {
                durable,
                leader: false,
                failure: None,
            }),
            wake: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SyncState> {
        // The state is three plain fields updated in one step each; a
        // panic elsewhere cannot leave them inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The highest sequence number known durable.
    pub(crate) fn durable(&self) -> u64 {
        self.lock().durable
    }

    /// The recorded sync failure, if any.
    pub(crate) fn failure(&self) -> Option<SyncFailure> {
        self.lock().failure.clone()
    }

    /// Records a failure that makes further durability impossible (for
    /// example a failed fsync during rotation) and wakes every waiter.
    pub(crate) fn poison(&self, failure: SyncFailure) {
        let mut state = self.lock();
        if state.failure.is_none() {
            state.failure = Some(failure);
        }
        drop(state);
        self.wake.notify_all();
    }

    /// Raises the watermark to `seq` (a sync done outside the protocol,
    /// such as the one at segment rotation).
    pub(crate) fn advance(&self, seq: u64) {
        let mut state = self.lock();
        state.durable = state.durable.max(seq);
        drop(state);
        self.wake.notify_all();
    }

    /// Blocks until every commit up to `target` is durable. The one
    /// waiter that becomes leader calls `sync`, which must make durable
    /// (and visible) everything appended before it was called and return
    /// the sequence number it covered.
    pub(crate) fn wait_durable<F>(&self, target: u64, sync: F) -> Result<(), SyncFailure>
    where
        F: FnOnce() -> Result<u64, SyncFailure>,
    {
        let mut sync = Some(sync);
        let mut state = self.lock();
        loop {
            if let Some(failure) = &state.failure {
                return Err(failure.clone());
            }
            if state.durable >= target {
                return Ok(());
            }
            if state.leader {
                state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            let Some(run) = sync.take() else {
                // A leader covered less than we need although our commit
                // was appended before it started: that cannot happen, but
                // waiting would hang, so report it.
                return Err(SyncFailure(format!(
                    "internal error: sync stopped at {} before commit {}",
                    state.durable, target
                )));
            };
            state.leader = true;
            drop(state);
            let result = run();
            state = self.lock();
            state.leader = false;
            match result {
                Ok(covered) => state.durable = state.durable.max(covered),
                Err(failure) => {
                    if state.failure.is_none() {
                        state.failure = Some(failure);
                    }
                }
            }
            self.wake.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    #[test]
    fn concurrent_waiters_share_syncs_and_all_return() {
        let group = Arc::new(GroupSync::new(0));
        let appended = Arc::new(AtomicU64::new(0));
        let syncs = Arc::new(AtomicU64::new(0));
        std::thread::scope(|s| {
            for _ in 0..8 {
                let (group, appended, syncs) = (&group, &appended, &syncs);
                s.spawn(move || {
                    for _ in 0..200 {
                        let mine = appended.fetch_add(1, Ordering::SeqCst) + 1;
                        group
                            .wait_durable(mine, || {
                                let covered = appended.load(Ordering::SeqCst);
                                syncs.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(core::time::Duration::from_micros(200));
                                Ok(covered)
                            })
                            .unwrap();
                        assert!(group.durable() >= mine);
                    }
                });
            }
        });
        assert_eq!(group.durable(), 1600);
        assert!(syncs.load(Ordering::SeqCst) < 1600, "no sync was shared");
    }

    #[test]
    fn a_failed_sync_reaches_every_waiter_and_every_later_commit() {
        let group = Arc::new(GroupSync::new(0));
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (1..=6u64)
                .map(|target| {
                    let group = &group;
                    s.spawn(move || {
                        group.wait_durable(target, || {
                            std::thread::sleep(core::time::Duration::from_millis(5));
                            Err(SyncFailure("disk said EIO".into()))
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(results
            .iter()
            .all(|r| r == &Err(SyncFailure("disk said EIO".into()))));
        assert_eq!(
            group.wait_durable(7, || Ok(7)),
            Err(SyncFailure("disk said EIO".into())),
            "a later commit must not retry a failed sync"
        );
        assert_eq!(group.durable(), 0);
    }
}
