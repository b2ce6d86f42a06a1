//! Writers, readers, checkpoints and compactions at once, with the
//! invariants readers must always see.

mod store_support;

use bindspace_core::mutation::Mutation;
use bindspace_core::search::SearchOptions;
use bindspace_core::space::Filter;
use bindspace_core::Addr;
use bindspace_host::store::sim::SimFs;
use bindspace_host::store::{Durability, Store};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use store_support::{small_options, snapshot_of};

const WORDS: usize = 4;

/// Every write is a batch setting a pair of addresses (one in prefix
/// 0x80, its twin in 0x90) to the same fingerprint, which carries its
/// own address and a check word, so a reader can tell a torn batch, a
/// half-swapped compaction or a misplaced row.
fn pair_batch(writer: u64, n: u64, fp: &mut [u64; WORDS]) -> [Addr; 2] {
    let slot = ((writer * 31 + n) % 64) as u8;
    let value = writer << 32 | n;
    *fp = [value, u64::from(slot), value ^ 0xA5A5, !value];
    [Addr::new(0x80, slot), Addr::new(0x90, slot)]
}

fn check_view(view: &bindspace_host::store::View) {
    for e in view.iter(Filter::Prefix(0x80)) {
        let twin = view
            .get(Addr::new(0x90, e.addr.slot()))
            .expect("a batch was seen half applied");
        assert_eq!(twin.fp, e.fp, "twins differ: a batch was seen half applied");
        assert_eq!(twin.version, e.version);
        assert_eq!(
            e.fp[1],
            u64::from(e.addr.slot()),
            "a row answered for another address"
        );
        assert_eq!(e.fp[2], e.fp[0] ^ 0xA5A5, "a fingerprint is torn");
        assert_eq!(e.fp[3], !e.fp[0], "a fingerprint is torn");
    }
    assert_eq!(
        view.count(Filter::Prefix(0x80)),
        view.count(Filter::Prefix(0x90))
    );
}

/// Seed defect: compaction updated offsets before swapping storage, so
/// readers saw a mix of old and new. Here readers check every view they
/// get, and search, while writers commit and compactions and checkpoints
/// run, and the reopened store equals the last view.
#[test]
fn compaction_offsets_before_swap() {
    let sim = SimFs::new();
    let options = small_options(WORDS, 4096);
    let store = Store::open_with(Arc::new(sim.clone()), "/c", options.clone()).unwrap();
    let stop = AtomicBool::new(false);
    let views_checked = AtomicU64::new(0);
    let compactions = AtomicU64::new(0);
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..4u64)
            .map(|w| {
                let store = &store;
                s.spawn(move || {
                    let mut fp = [0u64; WORDS];
                    for n in 0..150 {
                        let [a, b] = pair_batch(w, n, &mut fp);
                        store
                            .commit(&[
                                Mutation::Set { addr: a, fp: &fp },
                                Mutation::Set { addr: b, fp: &fp },
                            ])
                            .unwrap();
                    }
                })
            })
            .collect();
        for _ in 0..3 {
            let (store, stop, views_checked) = (&store, &stop, &views_checked);
            s.spawn(move || {
                let mut last_seq = 0;
                // Run until the writers stop, but always long enough to check
                // views: on a loaded machine the writers may finish first.
                while !stop.load(Ordering::Relaxed) || views_checked.load(Ordering::Relaxed) < 200 {
                    let view = store.view();
                    assert!(view.seq() >= last_seq, "a reader went back in time");
                    last_seq = view.seq();
                    check_view(&view);
                    if let Some(e) = view.iter(Filter::Prefix(0x80)).next() {
                        let hits = view.search(e.fp, 2, &SearchOptions::new(), 2).unwrap();
                        assert_eq!(hits[0].distance, 0);
                    }
                    views_checked.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        {
            let (store, stop, compactions) = (&store, &stop, &compactions);
            s.spawn(move || {
                // At least a few compactions even if the writers finish first
                // (they then run against a quiet store, which is still checked).
                while !stop.load(Ordering::Relaxed) || compactions.load(Ordering::Relaxed) < 3 {
                    let report = store.compact().unwrap();
                    assert_eq!(report.records_kept % 2, 0, "a compaction saw half a batch");
                    store.checkpoint().unwrap();
                    compactions.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
    });
    let last = store.view();
    check_view(&last);
    assert!(compactions.load(Ordering::Relaxed) > 0);
    assert!(views_checked.load(Ordering::Relaxed) > 100);
    let want = snapshot_of(&last);
    drop(store);
    let reopened = Store::open_with(Arc::new(sim.crash(11)), "/c", options).unwrap();
    assert_eq!(
        snapshot_of(&reopened.view()),
        want,
        "a write that landed during compaction was lost"
    );
    println!(
        "bindspace store stress: {} views checked, {} compactions+checkpoints, final seq {}",
        views_checked.load(Ordering::Relaxed),
        compactions.load(Ordering::Relaxed),
        last.seq()
    );
}

/// Concurrent committers share fsyncs (group commit), all return, and
/// each sees its own write as it returns.
#[test]
fn group_commit_shares_syncs() {
    let sim = SimFs::new();
    sim.set_sync_delay(core::time::Duration::from_millis(2));
    let store = Store::open_with(Arc::new(sim.clone()), "/g", small_options(1, 1 << 20)).unwrap();
    let before = sim.syncs();
    std::thread::scope(|s| {
        for t in 0..16u16 {
            let store = &store;
            s.spawn(move || {
                for i in 0..40u16 {
                    let addr = Addr(t << 8 | i);
                    let seq = store
                        .commit(&[Mutation::Set {
                            addr,
                            fp: &[u64::from(i)],
                        }])
                        .unwrap();
                    // A commit returns durable and visible: its own
                    // write is in the view readers get from then on.
                    let view = store.view();
                    assert!(view.seq() >= seq, "commit {seq} returned before its view");
                    assert_eq!(view.get(addr).map(|e| e.fp[0]), Some(u64::from(i)));
                }
            });
        }
    });
    let syncs = sim.syncs() - before;
    assert_eq!(store.view().len(), 640);
    assert!(
        syncs <= 640 / 4,
        "{syncs} syncs for 640 commits: not shared"
    );
    // The store's own tally agrees: every commit was made durable by
    // exactly one counted sync, and each sync took the disk's delay.
    let stats = store.sync_stats();
    assert_eq!(stats.commits, 640, "{stats:?}");
    assert_eq!(stats.syncs, syncs, "{stats:?}");
    assert!(stats.sync_time >= core::time::Duration::from_millis(2) * syncs as u32);
    // Committers waited on the leaders, so the leaders gathered.
    assert!(stats.gather_time > core::time::Duration::ZERO, "{stats:?}");
    println!(
        "bindspace group commit on the simulated disk: 640 commits, {syncs} fdatasyncs, {:.1} commits per sync",
        stats.commits_per_sync()
    );
}

/// `Never` durability syncs nothing until asked; one explicit sync then
/// covers every commit so far, and the tally says so.
#[test]
fn sync_stats_count_what_each_sync_covered() {
    let sim = SimFs::new();
    let mut options = small_options(1, 1 << 20);
    options.durability = Durability::Never;
    let store = Store::open_with(Arc::new(sim.clone()), "/n", options).unwrap();
    for i in 0..5u16 {
        store
            .commit(&[Mutation::Set {
                addr: Addr(i),
                fp: &[u64::from(i)],
            }])
            .unwrap();
    }
    assert_eq!(store.sync_stats().syncs, 0);
    store.sync().unwrap();
    let stats = store.sync_stats();
    assert_eq!((stats.syncs, stats.commits), (1, 5), "{stats:?}");
    // Nobody waited for that sync, so its leader did not gather.
    assert_eq!(stats.gather_time, core::time::Duration::ZERO);
    assert_eq!(stats.commits_per_sync(), 5.0);
    // Nothing new to cover: a second call syncs nothing.
    store.sync().unwrap();
    assert_eq!(store.sync_stats(), stats);
}

/// `Periodic` durability: acknowledged at once, synced by the background
/// thread within the interval.
#[test]
fn periodic_durability_syncs_in_the_background() {
    let sim = SimFs::new();
    let mut options = small_options(1, 1 << 20);
    options.durability = Durability::Periodic(core::time::Duration::from_millis(5));
    let store = Store::open_with(Arc::new(sim.clone()), "/p", options.clone()).unwrap();
    store
        .commit(&[Mutation::Set {
            addr: Addr(1),
            fp: &[1],
        }])
        .unwrap();
    // The periodic syncer makes it durable on its own: wait for its sync
    // (no sleep of a guessed length), never calling `sync` ourselves.
    let deadline = std::time::Instant::now() + core::time::Duration::from_secs(30);
    while store.sync_stats().commits < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the periodic syncer never synced"
        );
        std::thread::sleep(core::time::Duration::from_millis(1));
    }
    // Whatever the cut drops now, the commit is already durable.
    let reopened = Store::open_with(Arc::new(sim.crash(0)), "/p", options).unwrap();
    assert_eq!(reopened.view().get(Addr(1)).map(|e| e.fp[0]), Some(1));
}
