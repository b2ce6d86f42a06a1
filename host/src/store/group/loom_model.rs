//! Loom model of group commit: the real [`GroupSync`] on loom's mutex and
//! condition variable, driven by committers shaped like `Store::commit`
//! (append under a lock, then `wait_durable` with a leader sync shaped
//! like `Inner::sync_and_publish`). Loom runs every interleaving of the
//! threads up to `sync::LOOM_PREEMPTIONS` forced switches
//! (`LOOM_MAX_PREEMPTIONS` overrides it) and reports a deadlock if any
//! thread could wait forever.
//!
//! Checked in every interleaving:
//! - a committer is acknowledged only after a successful sync covered its
//!   append;
//! - an error is only ever the failure a sync really had (never the
//!   "internal error" of a leader that covered too little);
//! - a failed sync is never retried: no sync starts after one failed;
//! - once a sync failed, every later commit fails without syncing;
//! - nobody hangs (loom fails the model on a thread left waiting).
//!
//! Run by scripts/test.d/67-host-loom.sh:
//! `RUSTFLAGS="--cfg loom" cargo test -p bindspace-host --release --lib loom_model`.

use super::{GroupSync, SyncFailure};
use crate::store::sync::loom_check;
use loom::sync::{Arc, Mutex, MutexGuard};
use loom::thread;

fn eio() -> SyncFailure {
    SyncFailure("fdatasync wal: EIO".into())
}

fn rotation_eio() -> SyncFailure {
    SyncFailure("fdatasync wal (rotation): EIO".into())
}

/// The log and the disk as the protocol sees them.
#[derive(Debug, Default)]
struct Disk {
    /// The last sequence number appended (the `target` lock's `appended`).
    appended: u64,
    /// The highest sequence number a successful sync made durable.
    durable: u64,
    /// Syncs started so far.
    syncs: u32,
    /// Whether a sync (group or rotation) has failed.
    failed: bool,
}

/// A store reduced to its group-commit protocol.
struct Rig {
    group: GroupSync,
    disk: Mutex<Disk>,
    /// Which group sync fails (1 = the first started), if any.
    failing_sync: Option<u32>,
}

impl Rig {
    fn new(failing_sync: Option<u32>) -> Arc<Rig> {
        Arc::new(Rig {
            group: GroupSync::new(0),
            disk: Mutex::new(Disk::default()),
            failing_sync,
        })
    }

    fn disk(&self) -> MutexGuard<'_, Disk> {
        self.disk.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends one commit and returns its sequence number.
    fn append(&self) -> u64 {
        let mut disk = self.disk();
        disk.appended += 1;
        disk.appended
    }

    /// The leader's work, as `Inner::sync_and_publish` does it: read what
    /// is appended, fsync (a separate step, so other committers append and
    /// wait meanwhile), and on failure poison the group before returning.
    fn sync(&self) -> Result<u64, SyncFailure> {
        let (covered, nth) = {
            let mut disk = self.disk();
            assert!(!disk.failed, "a sync started after one had failed");
            disk.syncs += 1;
            (disk.appended, disk.syncs)
        };
        let mut disk = self.disk();
        if Some(nth) == self.failing_sync {
            disk.failed = true;
            drop(disk);
            self.group.poison(eio());
            return Err(eio());
        }
        disk.durable = disk.durable.max(covered);
        Ok(covered)
    }

    /// `Store::commit` in `Always` mode: append, then wait to be durable.
    /// Checks the answer against the disk as it returns.
    fn commit(&self) -> Result<u64, SyncFailure> {
        let seq = self.append();
        let result = self.group.wait_durable(seq, || self.sync());
        let disk = self.disk();
        match &result {
            Ok(()) => assert!(
                disk.durable >= seq,
                "commit {seq} acknowledged with only {} durable",
                disk.durable
            ),
            Err(failure) => {
                assert!(disk.failed, "commit {seq} failed with no failed sync");
                assert!(
                    *failure == eio() || *failure == rotation_eio(),
                    "commit {seq} got {failure:?}"
                );
            }
        }
        result.map(|()| seq)
    }

    /// After a failure: a new commit fails at once and starts no sync.
    fn assert_poisoned(&self, cause: &SyncFailure) {
        assert_eq!(self.group.failure().as_ref(), Some(cause));
        let syncs = self.disk().syncs;
        let seq = self.append();
        let late = self.group.wait_durable(seq, || {
            panic!("a commit after the failure ran a sync");
        });
        assert_eq!(late.as_ref(), Err(cause));
        assert_eq!(self.disk().syncs, syncs);
    }
}

/// Runs `extra` committers on their own threads and one on this thread;
/// returns every answer once all have returned.
fn commit_from_threads(rig: &Arc<Rig>, extra: usize) -> Vec<Result<u64, SyncFailure>> {
    let handles: Vec<_> = (0..extra)
        .map(|_| {
            let rig = Arc::clone(rig);
            thread::spawn(move || rig.commit())
        })
        .collect();
    let mut results = vec![rig.commit()];
    results.extend(handles.into_iter().map(|h| h.join().unwrap()));
    results
}

#[test]
fn loom_three_committers_each_acknowledged_after_a_sync_covering_it() {
    loom_check("group commit, 3 committers", || {
        let rig = Rig::new(None);
        let results = commit_from_threads(&rig, 2);
        let mut seqs: Vec<u64> = results.into_iter().map(Result::unwrap).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(rig.group.durable(), 3);
        let syncs = rig.disk().syncs;
        assert!((1..=3).contains(&syncs), "{syncs} syncs for 3 commits");
        assert_eq!(rig.group.failure(), None);
    });
}

#[test]
fn loom_a_failed_first_sync_reaches_every_committer_and_poisons() {
    loom_check("group commit, first sync fails", || {
        let rig = Rig::new(Some(1));
        let results = commit_from_threads(&rig, 2);
        // Nothing was ever durable, so nobody may be acknowledged.
        assert!(
            results.iter().all(|r| r.as_ref() == Err(&eio())),
            "{results:?}"
        );
        assert_eq!(rig.group.durable(), 0);
        rig.assert_poisoned(&eio());
    });
}

#[test]
fn loom_a_failed_second_sync_fails_what_the_first_did_not_cover() {
    loom_check("group commit, second sync fails", || {
        let rig = Rig::new(Some(2));
        let results = commit_from_threads(&rig, 2);
        let disk = rig.disk();
        let (syncs, durable, failed) = (disk.syncs, disk.durable, disk.failed);
        drop(disk);
        // Each answer was checked against the disk as it returned; here,
        // every commit the successful sync did not cover failed.
        for seq in results.iter().flatten() {
            assert!(
                *seq <= durable,
                "commit {seq} acknowledged, {durable} durable"
            );
        }
        assert_eq!(failed, syncs >= 2);
        if failed {
            rig.assert_poisoned(&eio());
        } else {
            // The first sync covered all three.
            assert!(results.iter().all(Result::is_ok), "{results:?}");
        }
    });
}

/// A rotation syncs the closed segment under the writer lock, outside
/// the group protocol, as `Inner::rotate` does: through
/// `GroupSync::sync_exclusive`. Before that existed, this model found a
/// group leader fsyncing the segment again between the rotation's failed
/// fsync and its poisoning, and acknowledging a commit on the strength of
/// that retry ("a sync started after one had failed").
fn rotation_beside_two_committers(rotation_fails: bool) {
    loom_check(
        if rotation_fails {
            "group commit, rotation sync fails"
        } else {
            "group commit, rotation sync succeeds"
        },
        move || {
            let rig = Rig::new(None);
            let rotation = {
                let rig = Arc::clone(&rig);
                thread::spawn(move || {
                    let synced = rig.group.sync_exclusive(|| {
                        let covered = {
                            let disk = rig.disk();
                            assert!(!disk.failed, "a sync started after one had failed");
                            disk.appended
                        };
                        let mut disk = rig.disk();
                        if rotation_fails {
                            disk.failed = true;
                            return Err(rotation_eio());
                        }
                        disk.durable = disk.durable.max(covered);
                        Ok(covered)
                    });
                    assert_eq!(synced.is_err(), rotation_fails);
                })
            };
            let results = commit_from_threads(&rig, 1);
            rotation.join().unwrap();
            if rotation_fails {
                // Each answer was checked against the disk as it returned.
                rig.assert_poisoned(&rotation_eio());
            } else {
                assert!(results.iter().all(Result::is_ok), "{results:?}");
                assert_eq!(rig.group.durable(), 2);
            }
        },
    );
}

#[test]
fn loom_a_rotation_sync_raises_the_watermark_for_waiting_committers() {
    rotation_beside_two_committers(false);
}

#[test]
fn loom_a_failed_rotation_sync_reaches_waiting_committers() {
    rotation_beside_two_committers(true);
}
