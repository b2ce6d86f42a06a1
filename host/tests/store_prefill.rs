//! Prefilled segments: the active segment runs ahead of its records in
//! erased bytes (`0xFF`), which the log reads as a clean end. Checked
//! here: the prefill is there, closed segments hold their records alone,
//! reopening cuts the prefill without calling it a torn tail, a power
//! cut inside the prefill keeps every synced commit, and a failure of the
//! sync leader's combined write (the batches of a group, written into the
//! prefill in one call) fails those commits and poisons the store.

mod store_support;

use bindspace_core::log::{End, Reader};
use bindspace_core::mutation::Mutation;
use bindspace_core::Addr;
use bindspace_host::store::sim::{Fault, FaultOp, SimFs};
use bindspace_host::store::{Durability, Options, Store, StoreError, Vfs};
use std::sync::Arc;
use store_support::{segments, small_options, snapshot_of};

const DIR: &str = "/data";

fn open(sim: &SimFs, options: &Options) -> Store {
    Store::open_with(Arc::new(sim.clone()), DIR, options.clone()).unwrap()
}

fn set(store: &Store, i: u8) {
    let fp = [u64::from(i) * 0x0101_0101];
    store
        .commit(&[Mutation::Set {
            addr: Addr::new(0x40, i),
            fp: &fp,
        }])
        .unwrap();
}

/// Where the records of a segment image end, and whether the rest is
/// erased (a clean end) rather than damage.
fn records_end(image: &[u8]) -> (usize, bool) {
    let (_, mut reader) = Reader::open(image).unwrap();
    for _ in reader.by_ref() {}
    match reader.end().unwrap() {
        End::Clean { offset } => (offset, true),
        End::Torn { offset, .. } => (offset, false),
    }
}

#[test]
fn the_active_segment_is_prefilled_and_closed_ones_are_exact() {
    let mut options = small_options(1, 1024);
    options.prefill_bytes = 256;
    let sim = SimFs::new();
    let store = open(&sim, &options);
    for i in 0..40 {
        set(&store, i);
    }
    let segs = segments(&sim, DIR);
    assert!(segs.len() >= 3, "no rotation: {segs:?}");
    for closed in &segs[..segs.len() - 1] {
        let image = sim.read(closed).unwrap();
        let (end, clean) = records_end(&image);
        assert!(clean, "{closed:?} does not end cleanly");
        assert_eq!(end, image.len(), "{closed:?} kept prefill past its records");
    }
    let active = sim.read(segs.last().unwrap()).unwrap();
    let (end, clean) = records_end(&active);
    assert!(clean);
    assert!(end > 32, "the active segment holds no record");
    assert!(
        active.len() > end && active[end..].iter().all(|b| *b == 0xFF),
        "the active segment is not prefilled: {} bytes, records end at {end}",
        active.len()
    );
    assert!(active.len() as u64 <= options.segment_bytes);
}

#[test]
fn a_prefill_step_is_whole_and_erased() {
    // A step that is no multiple of a page or a record: the segment is
    // its header and exactly one step, every byte after the record erased.
    let mut options = small_options(1, 1 << 20);
    options.prefill_bytes = 150_000;
    let sim = SimFs::new();
    let store = open(&sim, &options);
    set(&store, 1);
    let segs = segments(&sim, DIR);
    let active = sim.read(segs.last().unwrap()).unwrap();
    let (end, clean) = records_end(&active);
    assert!(clean);
    let (header, _) = Reader::open(&active).unwrap();
    assert_eq!(
        active.len(),
        header.padded_len() + 150_000,
        "the segment is not its header and one whole step"
    );
    assert!(
        active[end..].iter().all(|b| *b == 0xFF),
        "a byte of the prefill is not erased"
    );
    drop(store);
    // Reopening cuts all of it.
    let reopened = open(&sim, &options);
    assert_eq!(
        reopened.view().get(Addr::new(0x40, 1)).map(|e| e.fp[0]),
        Some(0x0101_0101)
    );
    assert_eq!(sim.size(segs.last().unwrap()).unwrap(), end as u64);
}

#[test]
fn reopening_cuts_the_prefill_without_calling_it_torn() {
    let options = small_options(1, 4096);
    let sim = SimFs::new();
    let store = open(&sim, &options);
    for i in 0..10 {
        set(&store, i);
    }
    let want = snapshot_of(&store.view());
    drop(store);
    let segs = segments(&sim, DIR);
    let last = segs.last().unwrap();
    let (end, _) = records_end(&sim.read(last).unwrap());
    assert!(
        sim.size(last).unwrap() > end as u64,
        "nothing was prefilled"
    );

    let reopened = open(&sim, &options);
    assert_eq!(snapshot_of(&reopened.view()), want);
    assert_eq!(reopened.recovery().torn_tail, None);
    assert_eq!(
        sim.size(last).unwrap(),
        end as u64,
        "the prefill was not cut"
    );
}

#[test]
fn a_power_cut_inside_the_prefill_keeps_every_synced_commit() {
    // Eight commits synced, then six written but never synced: their
    // prefill steps and batches are each dropped, kept or garbled by the
    // crash, independently. What reopens must be the synced state plus a
    // prefix of the unsynced commits, never anything else.
    for seed in 0..300 {
        let mut options = small_options(1, 1 << 20);
        options.durability = Durability::Never;
        options.prefill_bytes = 96;
        let sim = SimFs::new();
        let store = open(&sim, &options);
        let mut states = Vec::new();
        for i in 0..14 {
            set(&store, i);
            if i == 7 {
                store.sync().unwrap();
            }
            if i >= 7 {
                states.push(snapshot_of(&store.view()));
            }
        }
        let cut = sim.crash(seed);
        drop(store);
        let reopened = Store::open_with(Arc::new(cut), DIR, options).unwrap();
        let got = snapshot_of(&reopened.view());
        assert!(
            states.contains(&got),
            "seed {seed}: reopened to {} entries, not the synced 8 plus a prefix of the rest",
            got.len()
        );
    }
}

#[test]
fn a_failed_combined_write_fails_its_commits_and_poisons() {
    let mut options = small_options(1, 1 << 20);
    options.prefill_bytes = 64 << 10;
    let sim = SimFs::new();
    let store = open(&sim, &options);
    set(&store, 1); // takes the prefill: later batches need no more
    let before = snapshot_of(&store.view());
    let writes_before = sim.ops();
    sim.arm(Fault {
        op: FaultOp::Write,
        skip: 0,
        sticky: false,
    });
    let err = store
        .commit(&[Mutation::Set {
            addr: Addr::new(0x40, 2),
            fp: &[7],
        }])
        .unwrap_err();
    assert!(sim.ops() > writes_before);
    match &err {
        StoreError::Poisoned { cause } => assert!(cause.contains("writing"), "{cause}"),
        other => panic!("expected Poisoned, got {other}"),
    }
    assert_eq!(
        snapshot_of(&store.view()),
        before,
        "a failed commit is visible"
    );
    assert!(store.poisoned().is_some());
    assert!(store
        .commit(&[Mutation::Set {
            addr: Addr::new(0x40, 3),
            fp: &[8],
        }])
        .is_err());
    drop(store);
    let reopened = Store::open_with(Arc::new(sim.crash(3)), DIR, options).unwrap();
    assert_eq!(snapshot_of(&reopened.view()), before);
}

/// A prefill step larger than anything (`u64::MAX`) fills to the segment's
/// size limit; the arithmetic saturates instead of overflowing.
#[test]
fn a_prefill_step_of_any_size_fills_to_the_segment_limit() {
    let sim = SimFs::new();
    let mut options = small_options(1, 4096);
    options.prefill_bytes = u64::MAX;
    let store = open(&sim, &options);
    for i in 0..3 {
        set(&store, i);
    }
    let segment = segments(&sim, DIR).pop().unwrap();
    assert_eq!(sim.len_of(&segment), Some(4096));
    let before = snapshot_of(&store.view());
    drop(store);
    assert_eq!(snapshot_of(&open(&sim.crash(3), &options).view()), before);
}
