//! The two-instance shards (`Slot`) and the two-level table against a
//! plain core space as the oracle: random commits over a few addresses of
//! three prefixes, with views held and dropped at random, so every path
//! of `Slot::writable` runs (catch-up of a free spare, copy when a view holds the spare,
//! in place when no view shares the shard, a spare dropped when too far
//! behind, a shard emptied).

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
