//! Automatic checkpoints (`Options::checkpoint_after_segments`): the log
//! stays bounded with nobody calling `checkpoint`, covered segments are
//! kept and written again, a failed checkpoint is reported and tried again
//! at the next rotation, and nothing acknowledged is lost, with writers
//! and readers running meanwhile.

mod store_support;

use bindspace_core::mutation::Mutation;
use bindspace_core::Addr;
use bindspace_host::store::sim::{Fault, FaultOp, SimFs};
use bindspace_host::store::{Options, Store};
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::sync::Arc;
use std::time::Instant;
use store_support::{files_named, segments, small_options, snapshot_of, Model};

const DIR: &str = "/data";

fn options(after: usize) -> Options {
    Options {
        checkpoint_after_segments: after,
        ..small_options(1, 1024)
    }
}

fn open(sim: &SimFs, options: &Options) -> Store {
    Store::open_with(Arc::new(sim.clone()), DIR, options.clone()).unwrap()
}

fn set(store: &Store, model: &mut Model, i: u32) {
    let fp = [u64::from(i) + 1];
    let addr = Addr((i % 4096) as u16);
    store.commit(&[Mutation::Set { addr, fp: &fp }]).unwrap();
    model.insert(
        addr.0,
        snapshot_of(&store.view()).get(&addr.0).cloned().unwrap(),
    );
}

/// Waits (at most 10 s) for `done` to hold.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn count(sim: &SimFs, prefix: &str) -> usize {
    files_named(sim, DIR, prefix).len()
}

#[test]
fn the_log_stays_bounded_with_nobody_calling_checkpoint() {
    let sim = SimFs::new();
    let store = open(&sim, &options(3));
    let mut model = Model::new();
    for i in 0..600 {
        set(&store, &mut model, i);
    }
    eventually("the checkpoints to catch up", || {
        segments(&sim, DIR).len() <= 3
    });
    // About 35 segments were written (the control below keeps them all);
    // how many a checkpoint covers depends on when its thread runs.
    let report = store.auto_checkpoints();
    assert!(report.runs >= 1, "{report:?}");
    assert_eq!(report.failures, 0, "{report:?}");
    assert!(count(&sim, "snap-") >= 1);
    assert!(count(&sim, "recycle-") <= 2);
    assert_eq!(snapshot_of(&store.view()), model);
    drop(store);
    let reopened = open(&sim, &options(3));
    assert_eq!(snapshot_of(&reopened.view()), model);
}

#[test]
fn with_automatic_checkpoints_off_segments_pile_up() {
    // The control: the same commits with the option at 0.
    let sim = SimFs::new();
    let store = open(&sim, &options(0));
    let mut model = Model::new();
    for i in 0..600 {
        set(&store, &mut model, i);
    }
    assert!(segments(&sim, DIR).len() > 20);
    assert_eq!(store.auto_checkpoints().runs, 0);
    assert_eq!(count(&sim, "snap-"), 0);
}

#[test]
fn a_failed_automatic_checkpoint_is_reported_and_tried_again() {
    let sim = SimFs::new();
    let store = open(&sim, &options(2));
    let mut model = Model::new();
    // Every rename fails: a checkpoint's snapshot cannot be put in place
    // (cleanly: the old files stay in charge, the store writable), while
    // rotations create new segments, which needs no rename.
    sim.arm(Fault {
        op: FaultOp::Rename,
        skip: 0,
        sticky: true,
    });
    let mut i = 0;
    // Committing until the background thread has tried; on a busy
    // machine it may take a while to be scheduled.
    eventually("an automatic checkpoint to fail", || {
        set(&store, &mut model, i);
        i += 1;
        store.auto_checkpoints().failures > 0
    });
    let report = store.auto_checkpoints();
    let why = report.last_error.clone().unwrap();
    assert!(why.contains("simulated I/O error"), "{why}");
    assert!(store.poisoned().is_none(), "a failed creation poisoned");
    sim.disarm();
    // The next rotations ask again, and it succeeds.
    eventually("a checkpoint after the fault", || {
        set(&store, &mut model, i);
        i += 1;
        let r = store.auto_checkpoints();
        r.runs > 0 && r.last_error.is_none()
    });
    assert_eq!(snapshot_of(&store.view()), model);
    drop(store);
    assert_eq!(snapshot_of(&open(&sim, &options(2)).view()), model);
}

#[test]
fn writers_and_readers_run_through_automatic_checkpoints() {
    let sim = SimFs::new();
    let store = open(&sim, &options(2));
    let stop = AtomicBool::new(false);
    let all = std::thread::scope(|s| {
        let (store, stop) = (&store, &stop);
        let writers: Vec<_> = (0..3u32)
            .map(|t| {
                s.spawn(move || {
                    let mut model = Model::new();
                    for i in 0..300 {
                        set(store, &mut model, t * 1000 + i);
                    }
                    model
                })
            })
            .collect();
        let reader = s.spawn(move || {
            // Views never go back, whatever the checkpoints do.
            let mut last = 0;
            let mut seen = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let view = store.view();
                assert!(view.seq() >= last, "a view went back");
                last = view.seq();
                seen += 1;
            }
            seen
        });
        let mut all = Model::new();
        for w in writers {
            all.extend(w.join().unwrap());
        }
        stop.store(true, Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
        all
    });
    assert_eq!(snapshot_of(&store.view()), all);
    let report = store.auto_checkpoints();
    assert!(report.runs >= 1, "{report:?}");
    assert_eq!(report.failures, 0, "{report:?}");
    drop(store);
    assert_eq!(snapshot_of(&open(&sim, &options(2)).view()), all);
}

/// A checkpoint runs once per `checkpoint_after_segments` closed
/// segments, not more often: a rotation while one runs counts the
/// segments it is about to retire, and asks again, but the thread only
/// runs when that many are closed since. Slow syncs make each checkpoint
/// last several rotations, the case where they would run back to back.
#[test]
fn a_checkpoint_runs_once_per_so_many_closed_segments() {
    const AFTER: usize = 4;
    let sim = SimFs::new();
    sim.set_sync_delay(Duration::from_millis(2));
    let options = Options {
        durability: bindspace_host::store::Durability::Never,
        ..options(AFTER)
    };
    let store = open(&sim, &options);
    let mut model = Model::new();
    let mut made = std::collections::BTreeSet::new();
    for i in 0..1500 {
        set(&store, &mut model, i);
        made.extend(segments(&sim, DIR));
    }
    let report = store.auto_checkpoints();
    // Each run covers at least AFTER segments no other run covered, and
    // its own rotation makes one more.
    assert!(report.runs >= 2, "{report:?}");
    assert!(
        report.runs as usize * AFTER <= made.len() + AFTER,
        "{} runs for {} segments made",
        report.runs,
        made.len()
    );
    assert_eq!(snapshot_of(&store.view()), model);
}
