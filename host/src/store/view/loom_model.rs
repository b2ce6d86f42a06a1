//! Loom model of the view swap: the real [`Working`] and [`View`] (their
//! shards behind loom's `Arc`; the writer's `Arc::get_mut` decides whether
//! it may change a shard, catch up its spare, or must copy it) and
//! the published cell (`sync::ArcSwap`, loom's stand-in for arc-swap),
//! with a writer publishing commits as `Inner::append` does, a checkpoint
//! freezing the working state as `Inner::checkpoint` does and reading its
//! snapshot without a lock, and two readers loading views as
//! `Store::view` does. Loom runs every interleaving up to
//! `sync::LOOM_PREEMPTIONS` forced switches (`LOOM_MAX_PREEMPTIONS`
//! overrides it).
//!
//! Checked in every interleaving:
//! - every view a reader loads, and the checkpoint's snapshot, is one
//!   whole commit: both addresses hold that commit's values and versions,
//!   never one old and one new;
//! - a reader's views never go backwards;
//! - a view held across later commits still reads exactly as when it was
//!   loaded (the writer copied the shards it shared instead of changing
//!   them, and did not free them);
//! - every shard is freed once the last view and working table holding it
//!   are gone (loom fails an execution that leaks an `Arc`).
//!
//! Run by scripts/test.d/67-host-loom.sh:
//! `RUSTFLAGS="--cfg loom" cargo test -p bindspace-host --release --lib loom_model`.

use super::super::sync::ArcSwap;
use super::{View, Working};
use crate::store::sync::loom_check;
use bindspace_core::mutation::Mutation;
use bindspace_core::{Addr, Width};
use core::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

/// Two addresses in different shards (prefixes) of different groups of
/// the table, so a torn view would mix shards or groups of two commits.
const A: Addr = Addr::new(0x00, 1);
const B: Addr = Addr::new(0x10, 1);

/// The last commit the writer makes.
const LAST: u64 = 3;

/// Commit `seq` sets both addresses to `[seq]`, except the last, which
/// sets `A` and deletes `B` (emptying `B`'s shard).
fn commit(working: &mut Working, seq: u64) {
    let fp = [seq];
    working
        .apply(&Mutation::Set { addr: A, fp: &fp }, seq)
        .unwrap();
    let second = if seq == LAST {
        Mutation::Delete { addr: B }
    } else {
        Mutation::Set { addr: B, fp: &fp }
    };
    working.apply(&second, seq).unwrap();
    working.set_seq(seq);
}

/// What each address holds in the whole state after commit `seq`:
/// (fingerprint word, version), or `None` if absent.
fn expected(seq: u64) -> [Option<(u64, u64)>; 2] {
    if seq == LAST {
        [Some((LAST, LAST)), None]
    } else {
        [Some((seq, seq)), Some((seq, seq))]
    }
}

/// What `view` holds at both addresses.
fn read(view: &View) -> [Option<(u64, u64)>; 2] {
    [A, B].map(|addr| view.get(addr).map(|e| (e.fp[0], e.version)))
}

/// Asserts `view` is exactly the state after its own commit.
fn assert_whole(view: &View, who: &str) {
    let seq = view.seq();
    assert!((1..=LAST).contains(&seq), "{who}: view of commit {seq}");
    assert_eq!(
        read(view),
        expected(seq),
        "{who}: torn view of commit {seq}"
    );
    assert_eq!(view.len(), expected(seq).iter().flatten().count());
}

/// The working state after `commit` 1 behind the writer lock, the cell
/// its view is published in, and a thread making commits 2 to [`LAST`]
/// with `commit`, each published under the writer lock, as `append` does
/// in the Periodic and Never modes.
fn start_writer(
    commit: fn(&mut Working, u64),
) -> (
    Arc<Mutex<Working>>,
    Arc<ArcSwap<View>>,
    thread::JoinHandle<()>,
) {
    let mut working = Working::new(Width::from_words(1).unwrap());
    commit(&mut working, 1);
    let current = Arc::new(ArcSwap::from_pointee(working.freeze()));
    let writer = Arc::new(Mutex::new(working));
    let appender = {
        let (writer, current) = (Arc::clone(&writer), Arc::clone(&current));
        thread::spawn(move || {
            for seq in 2..=LAST {
                let mut w = writer.lock().unwrap();
                commit(&mut w, seq);
                current.store(std::sync::Arc::new(w.freeze()));
            }
        })
    };
    (writer, current, appender)
}

#[test]
fn loom_readers_and_a_checkpoint_see_whole_commits_while_the_writer_publishes() {
    loom_check("view swap, writer + checkpoint + 2 readers", || {
        // The writer lock: the appender and the checkpoint's freeze.
        let (writer, current, appender) = start_writer(commit);
        let checkpoint = {
            let writer = Arc::clone(&writer);
            thread::spawn(move || {
                let snapshot = writer.lock().unwrap().freeze();
                // Written out with no lock held while commits go on.
                assert_whole(&snapshot, "checkpoint");
                snapshot
            })
        };

        // A second reader, holding its view until everything is done.
        let other_reader = {
            let current = Arc::clone(&current);
            thread::spawn(move || {
                let view = current.load_full();
                assert_whole(&view, "second reader");
                (read(&view), view)
            })
        };

        let first = current.load_full();
        assert_whole(&first, "reader");
        let held = read(&first);
        let second = current.load_full();
        assert_whole(&second, "reader");
        assert!(second.seq() >= first.seq(), "views went backwards");

        appender.join().unwrap();
        let snapshot = checkpoint.join().unwrap();
        let (other_held, other) = other_reader.join().unwrap();
        assert_eq!(
            read(&other),
            other_held,
            "a held view changed under its reader"
        );
        // Every commit is done: what was held reads as it did.
        assert_eq!(read(&first), held, "a held view changed under its reader");
        assert_whole(&first, "reader, after the writer finished");
        assert_whole(&snapshot, "checkpoint, after the writer finished");
        assert_eq!(current.load_full().seq(), LAST);
    });
}

/// Catch-ups that happened, over every execution of the model below: a
/// plain std counter, which loom neither sees nor schedules.
static CAUGHT_UP: AtomicUsize = AtomicUsize::new(0);

/// A second address in `A`'s shard, written by commits 1 and 3 only, so a
/// spare caught up wrongly (missing commit 2's change to `A`) is read
/// after commit 3 swaps it in.
const A2: Addr = Addr::new(0x00, 2);

/// Commit `seq` of the spares model: 1 sets `A`, `A2` and `B`; 2 sets `A`
/// and `B`; 3 sets `A2` and `B`. Each value is `[seq]`.
fn spares_commit(working: &mut Working, seq: u64) {
    let fp = [seq];
    let addrs: &[Addr] = match seq {
        1 => &[A, A2, B],
        2 => &[A, B],
        _ => &[A2, B],
    };
    for &addr in addrs {
        working
            .apply(&Mutation::Set { addr, fp: &fp }, seq)
            .unwrap();
    }
    working.set_seq(seq);
}

/// (fingerprint word, version) at `A`, `A2` and `B` after commit `seq`:
/// each address holds the last commit that set it.
fn spares_expected(seq: u64) -> [Option<(u64, u64)>; 3] {
    let a = if seq >= 2 { 2 } else { 1 };
    let a2 = if seq >= 3 { 3 } else { 1 };
    [Some((a, a)), Some((a2, a2)), Some((seq, seq))]
}

/// Asserts `view` holds exactly the state after its own commit.
fn spares_whole(view: &View, who: &str) {
    let seq = view.seq();
    assert!((1..=LAST).contains(&seq), "{who}: view of commit {seq}");
    let got = [A, A2, B].map(|addr| view.get(addr).map(|e| (e.fp[0], e.version)));
    assert_eq!(
        got,
        spares_expected(seq),
        "{who}: wrong view of commit {seq}"
    );
}

#[test]
fn loom_spares_caught_up_beside_the_writer_leave_every_view_whole() {
    loom_check("spares, writer + committer catching up + reader", || {
        let (writer, current, appender) = start_writer(spares_commit);
        let spares = writer.lock().unwrap().spares();
        // A committer whose commit was published catching up the spares
        // of both shards, as `Inner::catch_up_spares` does, with no
        // writer lock, from whatever view it loads.
        let committer = {
            let current = Arc::clone(&current);
            thread::spawn(move || {
                for _ in 0..2 {
                    let view = current.load_full();
                    for addr in [A, B] {
                        if spares.catch_up(&view, addr.prefix() as usize) {
                            CAUGHT_UP.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    spares_whole(&view, "committer");
                }
            })
        };

        let view = current.load_full();
        spares_whole(&view, "reader");
        appender.join().unwrap();
        committer.join().unwrap();
        spares_whole(&view, "reader, after the writer finished");
        // The writer's state after every commit is the last commit's,
        // also where commit 3 swapped in a spare a committer caught up
        // (a wrong catch-up would show at `A`).
        let last = writer.lock().unwrap().freeze();
        spares_whole(&last, "the working state");
        assert_eq!(last.seq(), LAST);
    });
    // Else the model checked only the paths where nothing is caught up.
    assert!(
        CAUGHT_UP.load(Ordering::Relaxed) > 0,
        "no execution caught a spare up"
    );
}
