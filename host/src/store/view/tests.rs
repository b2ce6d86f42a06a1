//! The two-instance shards (`Slot`) and the two-level table against a
//! plain core space as the oracle: random commits over a few addresses of
//! three prefixes, with views held and dropped at random, so every path
//! of `Slot::writable` runs (catch-up of a free spare, copy when a view holds the spare,
//! in place when no view shares the shard, a spare dropped when too far
//! behind, a shard emptied), with spares caught up outside the writer
//! lock ([`super::Spares::catch_up`]) at random moments in between.

use super::{View, Working, BEHIND_MAX};
use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::space::{Filter, GrowableSpace};
use bindspace_core::{Addr, Width};

/// An entry as owned values: address, fingerprint, label, parent,
/// expiry, version.
type Owned = (u16, Vec<u64>, String, Option<u16>, Option<u64>, u64);

fn contents<'a>(entries: impl Iterator<Item = bindspace_core::space::Entry<'a>>) -> Vec<Owned> {
    entries
        .map(|e| {
            (
                e.addr.0,
                e.fp.to_vec(),
                e.label.to_string(),
                e.parent.map(|p| p.0),
                e.expires_at,
                e.version,
            )
        })
        .collect()
}

fn view_contents(view: &View) -> Vec<Owned> {
    contents(view.iter(Filter::All))
}

/// A random mutation at one of 6 addresses in each of 3 prefixes (two in
/// one group of the table, one in another).
fn mutation<'a>(rng: &mut SplitMix64, fp: &'a [u64], label: &'a [u8]) -> Mutation<'a> {
    let prefix = [0u8, 1, 17][rng.below(3) as usize];
    let addr = Addr::new(prefix, rng.below(6) as u8);
    match rng.below(10) {
        0..=4 => Mutation::Set { addr, fp },
        5..=6 => Mutation::Delete { addr },
        7..=8 => Mutation::Expire {
            addr,
            at: Some(rng.below(100)).filter(|t| *t > 50),
        },
        _ => Mutation::Meta {
            addr,
            label,
            parent: Some(Addr::new(0, 1)).filter(|_| rng.below(2) == 0),
        },
    }
}

#[test]
fn commits_over_shared_and_free_spares_equal_a_plain_space() {
    let width = Width::from_words(2).unwrap();
    for seed in 0..40 {
        let mut rng = SplitMix64::new(seed);
        let mut working = Working::new(width);
        let mut oracle = GrowableSpace::growable(width);
        let mut held: Vec<(View, Vec<Owned>)> = Vec::new();
        let mut newest = working.freeze();
        for seq in 1..=400u64 {
            let fp = [rng.next(), seq];
            let label = [b'a' + rng.below(26) as u8; 3];
            // Mostly single mutations; now and then a batch long enough
            // to leave a spare more than BEHIND_MAX changes behind.
            let len = if rng.below(20) == 0 {
                BEHIND_MAX + 8
            } else {
                1 + rng.below(3) as usize
            };
            let batch: Vec<Mutation<'_>> =
                (0..len).map(|_| mutation(&mut rng, &fp, &label)).collect();
            if working.check_batch(&batch).is_err() {
                assert!(oracle.check_batch(&batch).is_err(), "seed {seed} seq {seq}");
                continue;
            }
            for m in &batch {
                working.apply(m, seq).unwrap();
                oracle.apply(m, seq).unwrap();
            }
            working.set_seq(seq);
            // Sometimes nobody holds the newest view (as after commit_with's
            // decision), so the next commit finds its shard unshared.
            newest = if rng.below(4) == 0 {
                drop(newest);
                working.freeze()
            } else {
                working.freeze()
            };
            // A committer catching up spares after its commit is
            // published: sometimes, for a random prefix or all of them,
            // from the newest view or from one a slow committer loaded
            // earlier (which must then change nothing).
            if rng.below(2) == 0 {
                let spares = working.spares();
                let from = match rng.below(3) {
                    0 if !held.is_empty() => &held[rng.below(held.len() as u64) as usize].0,
                    _ => &newest,
                };
                for prefix in [0, 1, 17, rng.below(256) as usize] {
                    spares.catch_up(from, prefix);
                }
            }
            let expected = contents(oracle.iter(Filter::All));
            assert_eq!(view_contents(&newest), expected, "seed {seed} seq {seq}");
            assert_eq!(newest.len(), oracle.len());
            if rng.below(3) == 0 {
                held.push((newest.clone(), expected));
            }
            if !held.is_empty() && rng.below(3) == 0 {
                held.swap_remove(rng.below(held.len() as u64) as usize);
            }
            for (view, then) in &held {
                assert_eq!(&view_contents(view), then, "a held view changed");
            }
        }
    }
}

/// Sets `addr` to `[word]` as commit `seq` and freezes the view after it.
fn set(working: &mut Working, addr: Addr, word: u64, seq: u64) -> View {
    working
        .apply(&Mutation::Set { addr, fp: &[word] }, seq)
        .unwrap();
    working.set_seq(seq);
    working.freeze()
}

/// Two addresses in prefix 0's shard.
const A: Addr = Addr::new(0, 1);
const B: Addr = Addr::new(0, 2);

/// A working state after commit 1 (sets `A` to `[1]`) and commit 2 (sets
/// `B` to `[2]`), and the views frozen after each. Commit 1's view held
/// the shard, so commit 2 copied it: the copy is live, and the old
/// instance, which `first` holds, is the spare, behind by `B`.
fn two_commits() -> (Working, View, View) {
    let mut working = Working::new(Width::from_words(1).unwrap());
    let first = set(&mut working, A, 1, 1);
    let second = set(&mut working, B, 2, 2);
    (working, first, second)
}

/// The address of the live instance of prefix 0 in `view`.
fn instance(view: &View) -> *const GrowableSpace {
    std::sync::Arc::as_ptr(view.groups[0][0].as_ref().unwrap())
}

#[test]
fn a_spare_caught_up_after_publication_is_taken_as_it_is_by_the_next_commit() {
    let (mut working, first, second) = two_commits();
    let spare = instance(&first);
    drop(first);
    let spares = working.spares();
    assert!(
        spares.catch_up(&second, 0),
        "the spare is free and `second` holds the live instance"
    );
    assert!(!spares.catch_up(&second, 0), "nothing is left to catch up");
    // Commit 3 swaps the caught-up spare in; had the catch-up been
    // wrong, the entry at `B` would be missing from it.
    let third = set(&mut working, A, 3, 3);
    assert_eq!(instance(&third), spare, "the spare became live");
    let read = |v: &View, addr| v.get(addr).map(|e| (e.fp[0], e.version));
    assert_eq!(read(&third, A), Some((3, 3)));
    assert_eq!(read(&third, B), Some((2, 2)));
    assert_eq!(read(&second, A), Some((1, 1)), "a held view changed");
}

#[test]
fn a_spare_is_not_caught_up_while_a_view_holds_it_or_from_a_stale_view() {
    let (mut working, first, second) = two_commits();
    let spares = working.spares();
    // `first` still holds the spare: a reader may be reading it.
    assert!(
        !spares.catch_up(&second, 0),
        "caught up a spare a view holds"
    );
    // `first` holds the spare, not the live instance `behind` counts from.
    assert!(!spares.catch_up(&first, 0), "caught up from a stale view");
    assert_eq!(first.get(B), None, "a held view changed");
    drop(first);
    // A view of another prefix's shard says nothing about this one.
    assert!(!spares.catch_up(&second, 5));
    // Commit 3 now finds the spare free and catches it up itself.
    let third = set(&mut working, A, 3, 3);
    assert_eq!(third.get(B).map(|e| e.fp[0]), Some(2));
    // And while the writer holds the slot, a committer skips it (the
    // spare, `second`'s instance, is free once `second` is gone).
    drop(second);
    let held = spares.lock(0);
    assert!(
        !spares.catch_up(&third, 0),
        "caught up a slot the writer holds"
    );
    drop(held);
    assert!(spares.catch_up(&third, 0));
}

#[test]
fn touched_names_each_prefix_of_a_batch_once_in_order() {
    let fp = [0u64];
    let batch: Vec<Mutation<'_>> = [0x80u8, 0x00, 0xff, 0x80, 0x3f, 0x40]
        .iter()
        .map(|&p| Mutation::Set {
            addr: Addr::new(p, 9),
            fp: &fp,
        })
        .collect();
    let got: Vec<usize> = super::Touched::of(&batch).iter().collect();
    assert_eq!(got, vec![0x00, 0x3f, 0x40, 0x80, 0xff]);
    assert_eq!(super::Touched::of(&[]).iter().count(), 0);
}

#[test]
fn a_spare_is_not_caught_up_from_a_view_of_an_older_instance() {
    // Instance one, held by `first` throughout; commit 2 copied it.
    let (mut working, first, second) = two_commits();
    // Instance one is held still, so commit 3 copies instance two: live
    // three, spare two, behind by the change to `A`.
    let third = set(&mut working, A, 3, 3);
    drop(second);
    // The spare (two) is free now, but `first` holds instance one, not
    // the live three: catching two up from one would give it `A` = 1.
    let spares = working.spares();
    assert!(!spares.catch_up(&first, 0), "caught up from a stale view");
    let fourth = set(&mut working, B, 4, 4);
    assert_eq!(fourth.get(A).map(|e| (e.fp[0], e.version)), Some((3, 3)));
    assert_eq!(third.get(B).map(|e| e.fp[0]), Some(2));
    assert_eq!(
        first.get(A).map(|e| e.fp[0]),
        Some(1),
        "a held view changed"
    );
}

#[test]
fn a_slot_whose_holder_panicked_is_still_caught_up() {
    let (mut working, first, second) = two_commits();
    drop(first);
    let spares = working.spares();
    let holder = std::sync::Arc::clone(&spares);
    let panicked = std::thread::spawn(move || {
        let _slot = holder.lock(0);
        panic!("a holder of slot 0 panics (expected by this test)");
    })
    .join();
    assert!(panicked.is_err());
    assert!(
        spares.catch_up(&second, 0),
        "a poisoned slot was skipped for good"
    );
    let third = set(&mut working, A, 3, 3);
    assert_eq!(third.get(B).map(|e| e.fp[0]), Some(2));
}

#[test]
fn a_commit_catches_up_the_spares_of_its_shard_once_published() {
    use crate::store::{Durability, Options, Store};
    for durability in [Durability::Always, Durability::Never] {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            width: Width::from_words(1).unwrap(),
            durability,
            ..Options::default()
        };
        let store = Store::open(dir.path(), options).unwrap();
        let (a, b) = (Addr::new(7, 1), Addr::new(7, 2));
        store
            .commit(&[Mutation::Set { addr: a, fp: &[1] }])
            .unwrap();
        // Commit 1's view held the shard, so commit 2 copied it: the old
        // instance is the spare, behind by `b`, until commit 2's
        // committer catches it up after publishing.
        store
            .commit(&[Mutation::Set { addr: b, fp: &[2] }])
            .unwrap();
        assert!(
            store.inner.spares.is_caught_up(7),
            "{durability:?}: the spare was left to the next commit"
        );
        // The next commit swaps it in; nothing is lost.
        store
            .commit(&[Mutation::Set { addr: a, fp: &[3] }])
            .unwrap();
        let view = store.view();
        assert_eq!(view.get(a).map(|e| (e.fp[0], e.version)), Some((3, 3)));
        assert_eq!(view.get(b).map(|e| (e.fp[0], e.version)), Some((2, 2)));
    }
}
