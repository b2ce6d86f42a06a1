//! Faults and the seed defects, each a regression test named after it.

mod store_support;

use bindspace_core::mutation::Mutation;
use bindspace_core::space::{Filter, SpaceError};
use bindspace_core::Addr;
use bindspace_host::store::sim::{Fault, FaultOp, SimFs};
use bindspace_host::store::{Batch, Options, Store, StoreError, Vfs};
use std::sync::Arc;
use store_support::{segments, small_options, snapshot_of};

const DIR: &str = "/data";

fn open(sim: &SimFs, options: &Options) -> Result<Store, StoreError> {
    Store::open_with(Arc::new(sim.clone()), DIR, options.clone())
}

fn set(store: &Store, addr: Addr, word: u64) -> Result<u64, StoreError> {
    store.commit(&[Mutation::Set { addr, fp: &[word] }])
}

fn word_at(store: &Store, addr: Addr) -> Option<u64> {
    store.view().get(addr).map(|e| e.fp[0])
}

/// Seed defect: the log was written after memory. Here a commit whose
/// fsync fails is never visible, and the store refuses writes after it.
#[test]
fn write_behind_log() {
    let sim = SimFs::new();
    let options = small_options(1, 1 << 20);
    let store = open(&sim, &options).unwrap();
    let a = Addr::new(0x80, 1);
    set(&store, a, 1).unwrap();
    sim.arm(Fault {
        op: FaultOp::Sync,
        skip: 0,
        sticky: false,
    });
    let err = set(&store, a, 2).unwrap_err();
    assert!(matches!(err, StoreError::Poisoned { .. }), "{err}");
    assert_eq!(
        word_at(&store, a),
        Some(1),
        "an unsynced commit became visible"
    );
    // Reads still work; writes are refused without another fsync attempt.
    let syncs = sim.syncs();
    let again = set(&store, a, 3).unwrap_err();
    assert!(again.to_string().contains("fsync"), "{again}");
    assert_eq!(sim.syncs(), syncs, "a failed fsync was retried");
    assert!(store.poisoned().is_some());
    assert_eq!(store.view().len(), 1);
    // Reopening is the way back: the disk decides whether commit 2 landed.
    drop(store);
    let reopened = open(&sim.crash(7), &options).unwrap();
    assert!(matches!(word_at(&reopened, a), Some(1) | Some(2)));
    set(&reopened, a, 4).unwrap();
}

/// A full disk fails the commit whole: nothing applied, the log cut back,
/// and the next commit works once there is room.
#[test]
fn no_space_fails_the_commit_cleanly() {
    let sim = SimFs::new();
    let mut options = small_options(2, 1 << 20);
    // Prefill steps smaller than a batch: every commit's first write is
    // the prefill that takes its space, where a full disk is met.
    options.prefill_bytes = 8;
    let store = open(&sim, &options).unwrap();
    let (a, b) = (Addr::new(0x10, 1), Addr::new(0x10, 2));
    store
        .commit(&[Mutation::Set {
            addr: a,
            fp: &[1, 1],
        }])
        .unwrap();
    sim.arm(Fault {
        op: FaultOp::Write,
        skip: 0,
        sticky: false,
    });
    let err = store
        .commit(&[
            Mutation::Set {
                addr: a,
                fp: &[2, 2],
            },
            Mutation::Set {
                addr: b,
                fp: &[2, 2],
            },
        ])
        .unwrap_err();
    assert!(matches!(err, StoreError::NoSpace { .. }), "{err}");
    assert_eq!(store.view().get(a).unwrap().fp, &[1, 1]);
    assert!(
        store.view().get(b).is_none(),
        "half of a failed batch was applied"
    );
    assert!(
        store.poisoned().is_none(),
        "a full disk is not a failed fsync"
    );
    store
        .commit(&[Mutation::Set {
            addr: b,
            fp: &[3, 3],
        }])
        .unwrap();
    let before = snapshot_of(&store.view());
    drop(store);
    let reopened = open(&sim.crash(1), &options).unwrap();
    assert_eq!(snapshot_of(&reopened.view()), before);
}

/// A rotation that cut the closed segment's prefill and then failed to
/// create the next segment left the store believing the cut space was
/// still taken: the next commit skipped its prefill, and a full disk met
/// it in the sync leader's write, which poisons the store. Here that
/// commit fails cleanly too.
#[test]
fn a_full_disk_after_a_failed_rotation_fails_the_commit_cleanly() {
    let sim = SimFs::new();
    let mut options = small_options(4, 512);
    options.prefill_bytes = 4096;
    let store = open(&sim, &options).unwrap();
    let six: Vec<Vec<u64>> = (0..6).map(|i| vec![i; 4]).collect();
    let batch = |prefix: u8| -> Vec<Mutation<'_>> {
        (0..6)
            .map(|i| Mutation::Set {
                addr: Addr::new(prefix, i as u8),
                fp: &six[i],
            })
            .collect()
    };
    store.commit(&batch(0x10)).unwrap();
    // The second batch does not fit: rotation, whose new segment cannot
    // be created.
    sim.arm(Fault {
        op: FaultOp::Create,
        skip: 0,
        sticky: false,
    });
    let err = store.commit(&batch(0x11)).unwrap_err();
    assert!(err.to_string().contains("creating segment"), "{err}");
    assert!(store.poisoned().is_none(), "{err}");
    // One set still fits in the old segment; the disk is full.
    sim.arm(Fault {
        op: FaultOp::Write,
        skip: 0,
        sticky: true,
    });
    let one = |word: u64| {
        store.commit(&[Mutation::Set {
            addr: Addr::new(0x12, 0),
            fp: &[word; 4],
        }])
    };
    let err = one(7).unwrap_err();
    assert!(matches!(err, StoreError::NoSpace { .. }), "{err}");
    assert!(store.poisoned().is_none(), "a full disk poisoned the store");
    assert!(store.view().get(Addr::new(0x12, 0)).is_none());
    sim.disarm();
    one(8).unwrap();
    assert_eq!(word_at(&store, Addr::new(0x12, 0)), Some(8));
}

/// A covered segment whose removal failed was forgotten: no later
/// checkpoint removed it, in this run or after a reopen, and the disk
/// kept it for good. Here the next checkpoint retires it, either way,
/// whether it is removed or renamed to be recycled (the snapshot's own
/// rename comes first, so that fault skips one).
#[test]
fn a_covered_segment_left_behind_is_removed_by_the_next_checkpoint() {
    let cases = [(0, FaultOp::Remove, 0), (2, FaultOp::Rename, 1)];
    for (recycle_segments, op, skip) in cases {
        let options = Options {
            recycle_segments,
            ..small_options(1, 1 << 20)
        };
        for reopen in [false, true] {
            // A fresh disk each time, so no recyclable file is there yet
            // (writing one again renames it, a rename before the snapshot's).
            let sim = SimFs::new();
            let store = open(&sim, &options).unwrap();
            set(&store, Addr::new(0x20, 1), 1).unwrap();
            let before = segments(&sim, DIR);
            sim.arm(Fault {
                op,
                skip,
                sticky: false,
            });
            store.checkpoint().unwrap();
            let left = segments(&sim, DIR);
            assert!(
                before.iter().any(|s| left.contains(s)),
                "{op:?}: the fault kept no covered segment: {before:?} -> {left:?}"
            );
            let store = if reopen {
                drop(store);
                open(&sim, &options).unwrap()
            } else {
                store
            };
            set(&store, Addr::new(0x20, 2), 2).unwrap();
            store.checkpoint().unwrap();
            let after = segments(&sim, DIR);
            assert_eq!(after.len(), 1, "{op:?}, reopen {reopen}: {after:?}");
            assert!(
                !before.iter().any(|s| after.contains(s)),
                "{op:?}, reopen {reopen}: a covered segment stayed: {after:?}"
            );
            assert_eq!(word_at(&store, Addr::new(0x20, 2)), Some(2));
        }
    }
}

/// Seed defect: a torn tail was taken for the end of the log (or worse,
/// damage anywhere was). The torn tail of the last segment is cut and
/// reported; damage in an earlier segment refuses to open, naming the
/// file and offset, unless repair is asked for.
#[test]
fn torn_tail_taken_for_eof() {
    let sim = SimFs::new();
    let options = small_options(1, 300);
    let store = open(&sim, &options).unwrap();
    for i in 0..40u8 {
        set(&store, Addr::new(0x80, i), u64::from(i)).unwrap();
    }
    let want = snapshot_of(&store.view());
    drop(store);
    let segs = segments(&sim, DIR);
    assert!(segs.len() >= 3, "rotation did not happen: {segs:?}");

    // A torn write at the end of the last segment: garbage past its end,
    // after the prefill (erased bytes) that follows its last record.
    let torn = sim.crash(0);
    let len = {
        use bindspace_host::store::Vfs;
        let last = segs.last().unwrap();
        let len = torn.size(last).unwrap();
        let f = torn.open_write(last).unwrap();
        f.write_all_at(&[0x13; 20], len).unwrap();
        f.sync_data().unwrap();
        len
    };
    let before = {
        use bindspace_host::store::Vfs;
        torn.read(segs.last().unwrap()).unwrap()
    };
    let reopened = open(&torn, &options).unwrap();
    assert_eq!(snapshot_of(&reopened.view()), want);
    let (path, offset, cut) = reopened
        .recovery()
        .torn_tail
        .clone()
        .expect("the torn tail was reported");
    assert_eq!(&path, segs.last().unwrap());
    assert!(
        offset > 0 && offset + cut == len + 20,
        "cut {cut} bytes at {offset} of {}",
        len + 20
    );
    assert!(
        before[offset as usize..len as usize]
            .iter()
            .all(|b| *b == 0xFF),
        "only prefill lies between the last record and the garbage"
    );
    drop(reopened);

    // One flipped bit in the first segment's records: corruption.
    let damaged = sim.crash(0);
    assert!(damaged.corrupt(&segs[0], 60, 0x04));
    let err = open(&damaged, &options).unwrap_err();
    match &err {
        StoreError::Corrupt { path, offset, .. } => {
            assert_eq!(path, &segs[0]);
            assert!(*offset >= 40, "offset {offset} is in the header");
        }
        other => panic!("expected Corrupt, got {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("wal-") && message.contains("repair"),
        "{message}"
    );

    // Repair opens, keeps every commit after the damage, reports the drop.
    let mut repair = options.clone();
    repair.repair = true;
    let repaired = open(&damaged, &repair).unwrap();
    assert_eq!(
        repaired.recovery().dropped.len(),
        1,
        "{:?}",
        repaired.recovery()
    );
    let got = snapshot_of(&repaired.view());
    assert!(
        got.len() < want.len() && got.len() >= want.len() - 8,
        "{} of {}",
        got.len(),
        want.len()
    );
    for (addr, entry) in &got {
        assert_eq!(want.get(addr), Some(entry));
    }
}

/// Seed defect: an I/O error while reading the log was taken for its end
/// (so the store opened empty). Here it is an error.
#[test]
fn io_error_taken_for_eof() {
    let sim = SimFs::new();
    let options = small_options(1, 1 << 20);
    let store = open(&sim, &options).unwrap();
    set(&store, Addr::new(0x80, 9), 9).unwrap();
    drop(store);
    let disk = sim.crash(0);
    disk.arm(Fault {
        op: FaultOp::Read,
        skip: 0,
        sticky: false,
    });
    let err = open(&disk, &options).unwrap_err();
    assert!(matches!(err, StoreError::Io { op: "reading", .. }), "{err}");
    let reopened = open(&disk, &options).unwrap();
    assert_eq!(word_at(&reopened, Addr::new(0x80, 9)), Some(9));
}

/// Seed defect: a failed compaction was not rolled back. Here a failure
/// at any step leaves the old files in charge and the store writable.
#[test]
fn no_rollback_on_partial_failure() {
    for (op, skip) in [
        (FaultOp::Write, 0),
        (FaultOp::Create, 1),
        (FaultOp::Rename, 0),
    ] {
        let sim = SimFs::new();
        let options = small_options(1, 400);
        let store = open(&sim, &options).unwrap();
        for i in 0..30u8 {
            set(&store, Addr::new(0x81, i % 7), u64::from(i)).unwrap();
        }
        let want = snapshot_of(&store.view());
        // Rotation (the checkpoint's first step) creates a segment: skip
        // it for the Create fault so the snapshot's own creation fails.
        sim.arm(Fault {
            op,
            skip,
            sticky: false,
        });
        let err = store.compact().unwrap_err();
        assert!(!matches!(err, StoreError::Poisoned { .. }), "{op:?}: {err}");
        assert_eq!(snapshot_of(&store.view()), want, "{op:?}");
        set(&store, Addr::new(0x81, 0), 99).unwrap();
        let mut want = want;
        want.get_mut(&Addr::new(0x81, 0).0).unwrap().0 = vec![99];
        drop(store);
        let reopened = open(&sim.crash(3), &options).unwrap();
        assert_eq!(snapshot_of(&reopened.view()), want, "{op:?}");
        // The next compaction works and changes nothing visible.
        let report = reopened.compact().unwrap();
        assert_eq!(report.records_kept, want.len());
        assert!(report.bytes_after < report.bytes_before, "{report:?}");
        assert_eq!(snapshot_of(&reopened.view()), want);
    }
}

/// Seed defect: a check and the commit that depended on it were separate
/// steps, so two writers could both pass the check. Here `commit_with`
/// reads and writes as one step: of many "set if absent", exactly one wins.
#[test]
fn check_then_commit_race() {
    let sim = SimFs::new();
    let store = open(&sim, &small_options(1, 1 << 20)).unwrap();
    let addr = Addr::new(0x80, 0x42);
    let winners: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8u64)
            .map(|t| {
                let store = &store;
                s.spawn(move || {
                    let mut won = 0;
                    for round in 0..25u64 {
                        let r = store.commit_with(|view, batch| {
                            if view.get(addr).is_some() {
                                return Err(StoreError::Rejected(SpaceError::NotFound { addr }));
                            }
                            batch.set(addr, &[t * 1000 + round]);
                            Ok(())
                        });
                        won += usize::from(r.is_ok());
                    }
                    won
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(winners, 1);
}

/// Runs `then` while a commit to `addr` is appended and its sync is
/// running, a sync that then fails; returns what `then` returned.
fn while_a_failing_sync_runs<R>(then: impl FnOnce(&Store, Addr) -> R) -> R {
    let sim = SimFs::new();
    let store = open(&sim, &small_options(1, 1 << 20)).unwrap();
    let addr = Addr::new(0x80, 9);
    sim.set_sync_delay(core::time::Duration::from_millis(100));
    sim.arm(Fault {
        op: FaultOp::Sync,
        skip: 0,
        sticky: false,
    });
    let (appended, wait_appended) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let first = s.spawn(|| {
            store.commit_with(|_, batch| {
                batch.set(addr, &[1]);
                // The batch is appended before the `writer` lock is let go,
                // so whatever `then` does next sees it.
                appended.send(()).unwrap();
                Ok::<_, StoreError>(())
            })
        });
        wait_appended.recv().unwrap();
        let result = then(&store, addr);
        let first = first.join().unwrap().unwrap_err();
        assert!(matches!(first, StoreError::Poisoned { .. }), "{first}");
        result
    })
}

/// A read-and-commit that sees the commit still syncing and answers with
/// `answer`.
fn decide_during_a_failing_sync(
    answer: impl FnOnce(&mut Batch) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    while_a_failing_sync_runs(|store, addr| {
        let mut saw_it = false;
        let result = store.commit_with(|view, batch| {
            saw_it = view.get(addr).is_some();
            answer(batch)
        });
        assert!(saw_it, "decide did not see the commit still syncing");
        result
    })
}

/// Seed defect (the write-behind log, seen from a reader): an answer
/// decided on a commit that was not yet durable was returned at once, so
/// a client could act on a state a failed sync then lost. Here a
/// read-and-commit that changes nothing, or refuses, answers only once
/// what it read is durable, and fails if that sync fails; so does an
/// empty commit, which reports the current sequence number.
#[test]
fn an_answer_decided_on_an_unsynced_commit_waits_for_its_sync() {
    let nothing = decide_during_a_failing_sync(|_| Ok(())).unwrap_err();
    assert!(matches!(nothing, StoreError::Poisoned { .. }), "{nothing}");
    let refusal = decide_during_a_failing_sync(|_| {
        Err(StoreError::Rejected(SpaceError::NotFound {
            addr: Addr::new(0, 0),
        }))
    })
    .unwrap_err();
    assert!(matches!(refusal, StoreError::Poisoned { .. }), "{refusal}");
    let empty = while_a_failing_sync_runs(|store, _| store.commit(&[])).unwrap_err();
    assert!(matches!(empty, StoreError::Poisoned { .. }), "{empty}");
}

/// Seed defect: a counter kept by read, add, write lost updates under
/// concurrency. Here every increment lands, in memory and after reopening.
#[test]
fn read_modify_write_counter() {
    let sim = SimFs::new();
    let options = small_options(1, 2048);
    let store = open(&sim, &options).unwrap();
    let counter = Addr::new(0x00, 1);
    store
        .commit(&[Mutation::Set {
            addr: counter,
            fp: &[0],
        }])
        .unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let store = &store;
            s.spawn(move || {
                for _ in 0..50 {
                    store
                        .commit_with(|view, batch| {
                            let n = view.get(counter).map_or(0, |e| e.fp[0]);
                            batch.set(counter, &[n + 1]);
                            Ok::<_, StoreError>(())
                        })
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(word_at(&store, counter), Some(400));
    drop(store);
    let reopened = open(&sim.crash(5), &options).unwrap();
    assert_eq!(word_at(&reopened, counter), Some(400));
}

/// Opening with another width is a clear error, not a misread.
#[test]
fn a_store_refuses_another_width() {
    let sim = SimFs::new();
    let store = open(&sim, &small_options(2, 1 << 20)).unwrap();
    store
        .commit(&[Mutation::Set {
            addr: Addr(5),
            fp: &[1, 2],
        }])
        .unwrap();
    drop(store);
    let err = open(&sim, &small_options(3, 1 << 20)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::WidthMismatch {
                found: 128,
                expected: 192
            }
        ),
        "{err}"
    );
}

/// A refused batch logs and changes nothing.
#[test]
fn a_refused_batch_changes_nothing() {
    let sim = SimFs::new();
    let store = open(&sim, &small_options(1, 1 << 20)).unwrap();
    let ops = sim.ops();
    let err = store
        .commit(&[
            Mutation::Set {
                addr: Addr(7),
                fp: &[1],
            },
            Mutation::Expire {
                addr: Addr(8),
                at: Some(3),
            },
        ])
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Rejected(SpaceError::NotFound { .. })),
        "{err}"
    );
    assert_eq!(sim.ops(), ops, "a refused batch reached the disk");
    assert_eq!(store.view().count(Filter::All), 0);
}

/// Seed defect family "compaction racing the live files": two checkpoints
/// with no commit between them used to rotate into a segment of the same
/// name, list the live segment as closed and delete it, losing every later
/// commit. Each checkpoint here is followed by commits and a power cut.
#[test]
fn checkpoint_twice_without_commits_keeps_the_live_segment() {
    let sim = SimFs::new();
    let options = small_options(1, 1 << 20);
    let store = open(&sim, &options).unwrap();
    let a = Addr::new(0x80, 1);
    set(&store, a, 1).unwrap();
    store.checkpoint().unwrap();
    store.checkpoint().unwrap();
    store.compact().unwrap();
    set(&store, a, 2).unwrap();
    set(&store, Addr::new(0x80, 2), 3).unwrap();
    store.checkpoint().unwrap();
    store.checkpoint().unwrap();
    set(&store, Addr::new(0x80, 3), 4).unwrap();
    let want = snapshot_of(&store.view());
    drop(store);
    for seed in 0..20 {
        let reopened = open(&sim.crash(seed), &options).unwrap();
        assert_eq!(snapshot_of(&reopened.view()), want, "crash seed {seed}");
    }
}

/// Versions are the same live and after recovery: every mutation of a
/// batch gets the batch's one sequence number (FORMAT.md 3.3) when the
/// store applies it and when a reopen replays it from segments or loads
/// it from a snapshot. (The core's `Space::apply_all` numbers a batch's
/// mutations `seq, seq + 1, ..`; the store never uses it.)
#[test]
fn versions_after_reopen_equal_versions_before() {
    let sim = SimFs::new();
    let options = small_options(1, 600);
    let store = open(&sim, &options).unwrap();
    let mut last_touch: std::collections::BTreeMap<u16, u64> = Default::default();
    let mut rng = bindspace_core::prng::SplitMix64::new(5);
    for round in 0..120u64 {
        let len = 1 + (rng.next() % 5) as usize;
        let base = (rng.next() % 40) as u16;
        let words: Vec<[u64; 1]> = (0..len).map(|_| [rng.next()]).collect();
        let mut batch: Vec<Mutation<'_>> = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let addr = Addr(base + i as u16 * 3);
            batch.push(Mutation::Set { addr, fp: w });
            if i == 1 {
                batch.push(Mutation::Meta {
                    addr,
                    label: b"named",
                    parent: None,
                });
                batch.push(Mutation::Expire {
                    addr,
                    at: Some(round + 1000),
                });
            }
        }
        let seq = store.commit(&batch).unwrap();
        for m in &batch {
            last_touch.insert(m.addr().0, seq);
        }
        if round == 60 {
            store.checkpoint().unwrap();
        }
    }
    let before: Vec<(u16, u64)> = store
        .view()
        .iter(Filter::All)
        .map(|e| (e.addr.0, e.version))
        .collect();
    let want: Vec<(u16, u64)> = last_touch.into_iter().collect();
    assert_eq!(
        before, want,
        "live versions are the batch's sequence number"
    );
    let model = snapshot_of(&store.view());
    drop(store);
    let reopened = open(&sim, &options).unwrap();
    assert!(reopened.recovery().snapshot.is_some() && reopened.recovery().batches > 0);
    let after: Vec<(u16, u64)> = reopened
        .view()
        .iter(Filter::All)
        .map(|e| (e.addr.0, e.version))
        .collect();
    assert_eq!(after, before, "versions after reopen equal versions before");
    assert_eq!(snapshot_of(&reopened.view()), model);
}

/// Repair of a damaged segment that is not the last: the scan resumes
/// after the damage, drops exactly the batch it broke (whole, though one
/// of its records survived), keeps every later valid batch of the same
/// segment and of the later ones, and reports the one damaged place.
#[test]
fn repair_resumes_after_mid_segment_damage() {
    let sim = SimFs::new();
    // Two 1-word sets and a commit: 32 + 32 + 24 = 88 bytes a batch, six
    // batches a segment.
    let options = small_options(1, 600);
    let store = open(&sim, &options).unwrap();
    for k in 0..20u16 {
        let (a, b) = ([u64::from(k) * 2 + 100], [u64::from(k) * 2 + 101]);
        store
            .commit(&[
                Mutation::Set {
                    addr: Addr(2 * k),
                    fp: &a,
                },
                Mutation::Set {
                    addr: Addr(2 * k + 1),
                    fp: &b,
                },
            ])
            .unwrap();
    }
    drop(store);
    let segs = segments(&sim, DIR);
    assert!(segs.len() >= 3, "{segs:?}");
    let damaged = sim.crash(0);
    // Batch 2 (commit 3): a byte of its second set record.
    let batch_2 = 40 + 2 * 88;
    assert!(damaged.corrupt(&segs[0], batch_2 + 32 + 5, 0x10));
    assert!(matches!(
        open(&damaged, &options),
        Err(StoreError::Corrupt { offset, .. }) if offset == batch_2
    ));
    let mut repair = options.clone();
    repair.repair = true;
    let repaired = open(&damaged, &repair).unwrap();
    let report = repaired.recovery().clone();
    assert_eq!(report.dropped.len(), 1, "{report:?}");
    let (path, offset, reason) = &report.dropped[0];
    assert_eq!((path, *offset), (&segs[0], batch_2), "{reason}");
    assert!(reason.contains("batch 3"), "{reason}");
    assert_eq!(report.batches, 19);
    assert_eq!(report.seq, 20);
    for k in 0..20u16 {
        for a in [2 * k, 2 * k + 1] {
            let got = word_at(&repaired, Addr(a));
            if k == 2 {
                assert_eq!(got, None, "the damaged batch is dropped whole");
            } else {
                assert_eq!(got, Some(u64::from(a) + 100), "address {a} kept");
            }
        }
    }
    // The repaired store takes new commits after the recovered ones.
    assert_eq!(set(&repaired, Addr(999), 7).unwrap(), 21);
}

/// Seed defect: work orphaned at a hand-off. `close` raced a commit that
/// had passed its writable check: in `Never` mode that commit could be
/// acknowledged after `close` read how far to sync, and nobody synced it.
/// Here every commit acknowledged while `close` runs is durable after it.
#[test]
fn a_commit_acknowledged_while_closing_is_synced_by_close() {
    let mut options = small_options(1, 1 << 20);
    options.durability = bindspace_host::store::Durability::Never;
    for round in 0..300u64 {
        let sim = SimFs::new();
        let store = open(&sim, &options).unwrap();
        let acknowledged: Vec<u64> = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut acked = Vec::new();
                for i in 0..10_000u64 {
                    let addr = Addr::new(0x82, (i % 250) as u8);
                    match set(&store, addr, i) {
                        Ok(_) => acked.push(i),
                        Err(_) => break,
                    }
                }
                acked
            });
            // Let the writer get going, for a varying while.
            for _ in 0..round % 40 {
                std::thread::yield_now();
            }
            store.close().unwrap();
            writer.join().unwrap()
        });
        drop(store);
        let reopened = open(&sim.crash(round), &options).unwrap();
        // The last acknowledged write to each address must have survived.
        let mut last = std::collections::BTreeMap::new();
        for i in acknowledged {
            last.insert(i % 250, i);
        }
        for (slot, i) in last {
            assert_eq!(
                word_at(&reopened, Addr::new(0x82, slot as u8)),
                Some(i),
                "round {round}: a commit acknowledged before close returned was lost"
            );
        }
    }
}

/// Seed defect: no rollback on partial failure, for every step of a
/// checkpoint. A fault at any write, sync, create, rename, directory sync
/// or removal a compaction makes either fails it cleanly (old files in
/// charge, no temporary file left, the store writable) or, for a failed
/// fsync, poisons the store (writes refused without another fsync); and
/// what reopens after a crash is exactly what was acknowledged. Run twice:
/// with the checkpoint's rotation creating its new segment, and with it
/// writing a kept (recycled) segment file again, whose header write,
/// fsync, rename and directory fsync are then the first steps.
#[test]
fn a_fault_at_any_step_of_a_checkpoint_rolls_back_or_poisons() {
    let options = small_options(1, 400);
    let mut poisoned_by = std::collections::BTreeSet::new();
    let mut clean_failures = 0;
    let mut recycling_checkpoints = 0;
    for (recycle, op) in [false, true].into_iter().flat_map(|r| {
        [
            FaultOp::Write,
            FaultOp::Sync,
            FaultOp::SyncDir,
            FaultOp::Create,
            FaultOp::Rename,
            FaultOp::Remove,
        ]
        .map(|op| (r, op))
    }) {
        for skip in 0..6 {
            let sim = SimFs::new();
            let store = open(&sim, &options).unwrap();
            for i in 0..30u8 {
                set(&store, Addr::new(0x81, i % 7), u64::from(i)).unwrap();
            }
            if recycle {
                // Keeps covered segments; the next rotation (the faulted
                // compaction's) writes one of them again.
                store.checkpoint().unwrap();
                set(&store, Addr::new(0x81, 1), 77).unwrap();
                let kept = sim
                    .list(std::path::Path::new(DIR))
                    .unwrap()
                    .into_iter()
                    .filter(|n| n.starts_with("recycle-"))
                    .count();
                recycling_checkpoints += usize::from(kept > 0);
            }
            let mut want = snapshot_of(&store.view());
            sim.arm(Fault {
                op,
                skip,
                sticky: false,
            });
            let result = store.compact();
            sim.disarm();
            let case = format!("{op:?} skip {skip} recycle {recycle}");

            assert_eq!(snapshot_of(&store.view()), want, "{case}");
            let temps = sim
                .list(std::path::Path::new(DIR))
                .unwrap()
                .into_iter()
                .filter(|n| n.ends_with(".tmp"))
                .count();
            assert_eq!(temps, 0, "{case}: a temporary snapshot was left behind");
            match result {
                Err(StoreError::Poisoned { .. }) => {
                    assert!(
                        matches!(op, FaultOp::Sync | FaultOp::SyncDir),
                        "{case}: only a failed fsync may poison"
                    );
                    poisoned_by.insert(format!("{op:?}"));
                    let syncs = sim.syncs();
                    assert!(set(&store, Addr::new(0x81, 0), 99).is_err(), "{case}");
                    assert_eq!(sim.syncs(), syncs, "{case}: a failed fsync was retried");
                }
                other => {
                    assert!(
                        !matches!(op, FaultOp::Sync | FaultOp::SyncDir) || other.is_ok(),
                        "{case}: a failed fsync did not poison: {other:?}"
                    );
                    clean_failures += usize::from(other.is_err());
                    set(&store, Addr::new(0x81, 0), 99).unwrap();
                    want.get_mut(&Addr::new(0x81, 0).0).unwrap().0 = vec![99];
                }
            }
            drop(store);
            let reopened = open(&sim.crash(skip as u64), &options).unwrap();
            assert_eq!(snapshot_of(&reopened.view()), want, "{case}");
        }
    }
    // The faults reached the checkpoint's own fsyncs, not only rotation's.
    assert!(poisoned_by.contains("Sync") && poisoned_by.contains("SyncDir"));
    assert!(clean_failures > 0);
    assert_eq!(
        recycling_checkpoints, 36,
        "a faulted compaction found no kept file"
    );
}

/// Seed defect: a torn tail taken for the end, the other way round. Damage
/// in the last segment with whole frames after it reads as a crash's torn
/// write, but is also what bit rot in synced data looks like. The cut
/// still happens (no reader can tell the two apart), and the bytes it
/// removes are kept beside the segment and named in the report.
#[test]
fn a_cut_with_valid_frames_after_the_damage_keeps_the_cut_bytes() {
    let sim = SimFs::new();
    let options = small_options(1, 1 << 20);
    let store = open(&sim, &options).unwrap();
    for i in 0..20u8 {
        set(&store, Addr::new(0x80, i), u64::from(i)).unwrap();
    }
    drop(store);
    let segs = segments(&sim, DIR);
    let last = segs.last().unwrap().clone();
    let disk = sim.crash(0);
    let before = disk.read(&last).unwrap();
    assert!(disk.corrupt(&last, 100, 0x04));
    let reopened = open(&disk, &options).unwrap();
    let report = reopened.recovery().clone();
    let (path, offset, _) = report.torn_tail.clone().expect("a cut was reported");
    assert_eq!(path, last);
    let note = report.tail_note.clone().unwrap();
    assert!(note.contains("the cut bytes are kept in"), "{note}");
    let kept_name = disk
        .list(std::path::Path::new(DIR))
        .unwrap()
        .into_iter()
        .find(|n| n.contains(".torn-"))
        .expect("the cut bytes were kept");
    assert!(note.contains(&kept_name), "{note}");
    let kept = disk
        .read(&std::path::Path::new(DIR).join(&kept_name))
        .unwrap();
    let mut want = before[offset as usize..].to_vec();
    while want.last() == Some(&0xFF) {
        want.pop();
    }
    want[100 - offset as usize] ^= 0x04;
    assert_eq!(kept, want, "the kept bytes are exactly the cut ones");
    // The kept file is no part of the store: it opens again as it was,
    // and a checkpoint leaves the file alone.
    drop(reopened);
    let again = open(&disk, &options).unwrap();
    again.compact().unwrap();
    assert!(disk
        .list(std::path::Path::new(DIR))
        .unwrap()
        .contains(&kept_name));

    // Earlier evidence under the same name is never overwritten.
    let second = sim.crash(0);
    assert!(second.corrupt(&last, 100, 0x04));
    let earlier = std::path::Path::new(DIR).join(&kept_name);
    let f = second.create(&earlier).unwrap();
    f.write_all_at(b"earlier", 0).unwrap();
    f.sync_data().unwrap();
    drop(open(&second, &options).unwrap());
    assert_eq!(second.read(&earlier).unwrap(), b"earlier");
    let numbered = std::path::Path::new(DIR).join(format!("{kept_name}.1"));
    assert_eq!(second.read(&numbered).unwrap(), want);
}

/// A snapshot that rots right after a compaction (the only segment after
/// it empty): repair drops it, numbering goes on after the commit its
/// name claims (never backwards), and the next checkpoint removes it, so
/// the directory opens without repair again.
#[test]
fn repair_of_a_damaged_snapshot_keeps_numbering_and_removes_it() {
    let sim = SimFs::new();
    let options = small_options(1, 1 << 20);
    let store = open(&sim, &options).unwrap();
    let mut last = 0;
    for i in 0..10u8 {
        last = set(&store, Addr::new(0x80, i), u64::from(i)).unwrap();
    }
    store.compact().unwrap();
    drop(store);
    let snapshot = sim
        .list(std::path::Path::new(DIR))
        .unwrap()
        .into_iter()
        .find(|n| n.starts_with("snap-"))
        .map(|n| std::path::Path::new(DIR).join(n))
        .expect("a snapshot");
    let disk = sim.crash(0);
    assert!(disk.corrupt(&snapshot, 60, 0x10));
    assert!(matches!(
        open(&disk, &options).unwrap_err(),
        StoreError::Corrupt { .. }
    ));
    let mut repair = options.clone();
    repair.repair = true;
    let repaired = open(&disk, &repair).unwrap();
    assert_eq!(repaired.recovery().dropped.len(), 1);
    assert!(repaired.recovery().seq >= last, "numbering ran backwards");
    let next = set(&repaired, Addr::new(0x81, 1), 7).unwrap();
    assert!(next > last, "commit {next} after {last}");
    repaired.compact().unwrap();
    drop(repaired);
    let names = disk.list(std::path::Path::new(DIR)).unwrap();
    assert!(
        !names
            .iter()
            .any(|n| std::path::Path::new(DIR).join(n) == snapshot),
        "the damaged snapshot is still there: {names:?}"
    );
    let reopened = open(&disk, &options).unwrap();
    assert_eq!(word_at(&reopened, Addr::new(0x81, 1)), Some(7));
    assert!(set(&reopened, Addr::new(0x81, 2), 8).unwrap() > next);
}
