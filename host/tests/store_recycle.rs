//! Recycled segments (docs/HOST.md, "Recycled segments"): a checkpoint
//! keeps covered segment files to be written again as later segments, so
//! their commits need no prefill. Checked here: the files are kept and
//! reused, commits into one cost one write each, nothing of a file's
//! earlier life is ever read back (after a clean reopen, after a power
//! cut, after a cut inside the write that overwrites the end), and
//! opening keeps no more of them than the options say.

mod store_support;

use bindspace_core::log::{End, Event, Reader};
use bindspace_core::mutation::Mutation;
use bindspace_core::Addr;
use bindspace_host::store::sim::{Fault, FaultOp, SimFs};
use bindspace_host::store::{Durability, Options, Store, Vfs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store_support::{files_named, is_recycled, segments, small_options, snapshot_of, Model};

const DIR: &str = "/data";

fn open(sim: &SimFs, options: &Options) -> Store {
    Store::open_with(Arc::new(sim.clone()), DIR, options.clone()).unwrap()
}

fn options() -> Options {
    Options {
        prefill_bytes: 256,
        recycle_segments: 2,
        ..small_options(1, 1024)
    }
}

/// Sets address `i` of prefix 0x40 and records it in `model`.
fn set(store: &Store, model: &mut Model, i: u16) {
    let fp = [u64::from(i) * 0x0101_0101 + 1];
    let addr = Addr::new(0x40 + (i >> 8) as u8, i as u8);
    store.commit(&[Mutation::Set { addr, fp: &fp }]).unwrap();
    model.insert(
        addr.0,
        snapshot_of(&store.view()).get(&addr.0).cloned().unwrap(),
    );
}

fn recyclable(sim: &SimFs) -> Vec<PathBuf> {
    files_named(sim, DIR, "recycle-")
}

/// A store that wrote 40 commits (several segments) and checkpointed:
/// the covered segments' files are kept, two of them.
fn store_with_kept_files(sim: &SimFs) -> (Store, Model) {
    let store = open(sim, &options());
    let mut model = Model::new();
    for i in 0..40 {
        set(&store, &mut model, i);
    }
    store.checkpoint().unwrap();
    assert_eq!(recyclable(sim).len(), 2, "the checkpoint kept no file");
    (store, model)
}

/// A store whose active segment is a recycled file holding `commits`
/// commits of this life, with the model of everything committed.
fn store_writing_a_recycled_segment(sim: &SimFs, commits: u16) -> (Store, Model, PathBuf) {
    let (store, mut model) = store_with_kept_files(sim);
    // Rotate into a recycled file, then write this life's commits.
    let mut i = 100;
    while !is_recycled(sim, segments(sim, DIR).last().unwrap()) {
        set(&store, &mut model, i);
        i += 1;
        assert!(i < 200, "no rotation into a recycled file");
    }
    for _ in 0..commits {
        set(&store, &mut model, i);
        i += 1;
    }
    let active = segments(sim, DIR).last().unwrap().clone();
    assert!(is_recycled(sim, &active), "the commits rotated out of it");
    (store, model, active)
}

#[test]
fn a_checkpoint_keeps_covered_segments_and_rotation_writes_them_again() {
    let sim = SimFs::new();
    let (store, _, active) = store_writing_a_recycled_segment(&sim, 0);
    assert_eq!(recyclable(&sim).len(), 1, "{:?}", recyclable(&sim));
    // The file kept its size: commits go into its space without prefill,
    // one write each (the group sync's; one writer, so one per commit).
    let size = sim.len_of(&active).unwrap();
    assert!(size >= 900, "a recycled file of {size} bytes");
    let writes = sim.writes();
    let mut model = Model::new();
    for i in 0..5 {
        set(&store, &mut model, 300 + i);
    }
    assert_eq!(
        sim.writes() - writes,
        5,
        "prefill writes into a recycled file"
    );
    assert_eq!(sim.len_of(&active), Some(size));
}

/// Every frame of the earlier life after this life's records: seq below
/// the header's first, and what the reader yields of them.
fn walk(image: &[u8]) -> (u64, Vec<u64>, Vec<u64>, Option<End>) {
    let (header, mut reader) = Reader::open(image).unwrap();
    let seqs = reader
        .by_ref()
        .filter_map(|e| match e {
            Event::Record { record, .. } => Some(record.seq()),
            Event::Corrupted { .. } => None,
        })
        .collect();
    // The same bytes walked with the recycled flag ignored.
    let mut plain = Reader::new(image, header.width, header.align, header.padded_len());
    let stale = plain
        .by_ref()
        .filter_map(|e| match e {
            Event::Record { record, .. } if record.seq() < header.first_seq => Some(record.seq()),
            _ => None,
        })
        .collect();
    (header.first_seq, seqs, stale, reader.end())
}

#[test]
fn a_recycled_segment_never_reads_back_its_earlier_life() {
    // With only the commit that rotated into it, and with three more.
    for commits in [0, 3] {
        let sim = SimFs::new();
        let (store, model, active) = store_writing_a_recycled_segment(&sim, commits);
        let image = sim.read(&active).unwrap();
        let (first, seqs, stale, end) = walk(&image);
        assert!(
            !stale.is_empty(),
            "the file holds no earlier life to test against"
        );
        assert!(seqs.iter().all(|&s| s >= first), "{seqs:?} from {first}");
        assert_eq!(seqs.len(), 2 * usize::from(1 + commits));
        assert!(matches!(end, Some(End::Clean { .. })), "{commits}: {end:?}");
        // A power cut losing nothing synced, then a clean reopen: the model.
        let cut = sim.crash(7);
        drop(store);
        let reopened = open(&sim, &options());
        assert_eq!(snapshot_of(&reopened.view()), model);
        let report = reopened.recovery();
        assert!(report.torn_tail.is_none(), "{commits}: {report:?}");
        drop(reopened);
        let after_cut = open(&cut, &options());
        assert_eq!(snapshot_of(&after_cut.view()), model);
        assert!(after_cut.recovery().torn_tail.is_none(), "{commits}");
    }
}

/// A recycled segment holding no commit (the one an open starts): its
/// header's end mark is the end of its records.
#[test]
fn a_recycled_segment_with_no_commit_reopens_clean() {
    let sim = SimFs::new();
    let (store, model) = store_with_kept_files(&sim);
    drop(store);
    // This open starts its segment in a kept file, and commits nothing.
    drop(open(&sim, &options()));
    let newest = segments(&sim, DIR).last().unwrap().clone();
    assert!(is_recycled(&sim, &newest));
    let (_, seqs, stale, end) = walk(&sim.read(&newest).unwrap());
    assert!(seqs.is_empty() && !stale.is_empty(), "{seqs:?}");
    assert!(matches!(end, Some(End::Clean { offset: 40 })), "{end:?}");
    let reopened = open(&sim, &options());
    assert!(
        reopened.recovery().torn_tail.is_none(),
        "{:?}",
        reopened.recovery()
    );
    assert_eq!(snapshot_of(&reopened.view()), model);
}

/// The direct write path (no prefill, or `Never` durability: each append
/// writes its batch itself) ends every write with the end mark too, so a
/// recycled segment written that way reopens clean.
#[test]
fn a_recycled_segment_written_batch_by_batch_reopens_clean() {
    for (durability, prefill_bytes) in [
        (Durability::Always, 0),
        (Durability::Never, 128),
        (Durability::Never, 0),
    ] {
        let sim = SimFs::new();
        let options = Options {
            durability,
            prefill_bytes,
            ..options()
        };
        let store = open(&sim, &options);
        let mut model = Model::new();
        for i in 0..60 {
            set(&store, &mut model, i);
        }
        store.checkpoint().unwrap();
        let mut i = 100;
        while !is_recycled(&sim, segments(&sim, DIR).last().unwrap()) {
            set(&store, &mut model, i);
            i += 1;
            assert!(i < 300, "no rotation into a recycled file");
        }
        for _ in 0..3 {
            set(&store, &mut model, i);
            i += 1;
        }
        assert!(is_recycled(&sim, segments(&sim, DIR).last().unwrap()));
        store.close().unwrap();
        drop(store);
        let reopened = open(&sim, &options);
        let case = format!("{durability:?}, prefill {prefill_bytes}");
        assert!(
            reopened.recovery().torn_tail.is_none(),
            "{case}: {:?}",
            reopened.recovery()
        );
        assert_eq!(snapshot_of(&reopened.view()), model, "{case}");
    }
}

/// Writing a kept file again is only a saving: if it cannot be renamed
/// (or opened, or written), it is dropped and a new segment made instead,
/// so neither the commit that rotates nor an open fails for it.
#[test]
fn a_kept_file_that_cannot_be_written_again_gives_way_to_a_new_segment() {
    for at_open in [false, true] {
        let sim = SimFs::new();
        let (store, mut model) = store_with_kept_files(&sim);
        let fault = Fault {
            op: FaultOp::Rename,
            skip: 0,
            sticky: false,
        };
        let store = if at_open {
            drop(store);
            sim.arm(fault);
            open(&sim, &options())
        } else {
            sim.arm(fault);
            let before = segments(&sim, DIR).len();
            let mut i = 100;
            while segments(&sim, DIR).len() == before {
                set(&store, &mut model, i);
                i += 1;
                assert!(i < 300, "no rotation");
            }
            store
        };
        let case = format!("at open: {at_open}");
        let newest = segments(&sim, DIR).last().unwrap().clone();
        assert!(
            !is_recycled(&sim, &newest),
            "{case}: the faulted rename went through"
        );
        assert_eq!(
            recyclable(&sim).len(),
            1,
            "{case}: the failed file was kept"
        );
        assert!(store.poisoned().is_none(), "{case}");
        set(&store, &mut model, 999);
        drop(store);
        assert_eq!(snapshot_of(&open(&sim, &options()).view()), model, "{case}");
    }
}

#[test]
fn a_cut_inside_the_write_over_the_end_loses_only_that_commit() {
    // Every unsynced write's fate, over many seeds: commits that were
    // acknowledged survive, the one in flight is whole or absent, and no
    // stale frame of the earlier life is ever replayed (it would set an
    // address this life never set to an old value).
    for seed in 0..200u64 {
        let sim = SimFs::new();
        let (store, model, _) = store_writing_a_recycled_segment(&sim, 2);
        let in_flight = sim.ops() + 1 + seed % 3;
        sim.arm_cut(in_flight, seed);
        let mut next = model.clone();
        set(&store, &mut next, 500);
        let cut = sim.take_cut().unwrap_or_else(|| sim.crash(seed));
        drop(store);
        let reopened = open(&cut, &options());
        let got = snapshot_of(&reopened.view());
        assert!(
            got == model || got == next,
            "seed {seed}: recovered {got:?}\nwant {model:?}\n  or {next:?}"
        );
    }
}

#[test]
fn opening_keeps_no_more_recyclable_files_than_the_options_say() {
    let sim = SimFs::new();
    let (store, mut model) = store_with_kept_files(&sim);
    drop(store);
    assert_eq!(recyclable(&sim).len(), 2);
    let one = Options {
        recycle_segments: 1,
        ..options()
    };
    // One is written again as the new segment, the other is one too many.
    drop(open(&sim, &one));
    assert_eq!(recyclable(&sim).len(), 0);
    let none = Options {
        recycle_segments: 0,
        ..options()
    };
    let store = open(&sim, &none);
    for i in 0..40 {
        set(&store, &mut model, 100 + i);
    }
    store.checkpoint().unwrap();
    assert!(recyclable(&sim).is_empty(), "{:?}", recyclable(&sim));
    assert_eq!(snapshot_of(&store.view()), model);
}

/// A segment repair found damaged is removed by the next checkpoint,
/// never kept to be written again: frames past its damage may be newer
/// than its records, so its bytes are no earlier life to read as stale.
#[test]
fn a_segment_repair_found_damaged_is_never_kept() {
    let sim = SimFs::new();
    let opts = Options {
        recycle_segments: 8,
        ..options()
    };
    let store = open(&sim, &opts);
    let mut model = Model::new();
    for i in 0..40 {
        set(&store, &mut model, i);
    }
    drop(store);
    let segs = segments(&sim, DIR);
    assert!(segs.len() >= 3, "{segs:?}");
    // A byte of the first segment's second batch (header 40, batches of
    // a 32-byte set and a 24-byte commit).
    assert!(sim.corrupt(&segs[0], 40 + 56 + 5, 0x10));
    let repair = Options {
        repair: true,
        ..opts.clone()
    };
    let store = open(&sim, &repair);
    assert_eq!(store.recovery().dropped.len(), 1, "{:?}", store.recovery());
    assert_eq!(store.recovery().dropped[0].0, segs[0]);
    store.checkpoint().unwrap();
    let kept = recyclable(&sim);
    // The other covered segments are kept (room for 8), the damaged one
    // is gone.
    assert!(
        !kept.is_empty(),
        "nothing kept: the check below proves nothing"
    );
    let damaged_name = segs[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace("wal-", "recycle-");
    assert!(
        kept.iter().all(|k| !k.ends_with(&damaged_name)),
        "the damaged segment was kept: {kept:?}"
    );
    assert!(!sim
        .list(Path::new(DIR))
        .unwrap()
        .iter()
        .any(|n| *n == segs[0].file_name().unwrap().to_string_lossy()));
}
