//! The space against a `BTreeMap` model over random operation sequences,
//! checked after every operation, on lent storage (small, so `Full` and
//! `PrefixesFull` happen) and on growable storage.

use super::*;
use crate::addr::Zone;
use crate::mutation::Mutation;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::string::String;
use std::vec;
use std::vec::Vec;

// wasm-bindgen-test cannot run plain `#[test]` functions: on wasm32 this
// import turns every `#[test]` below (proptest's too) into a
// `#[wasm_bindgen_test]`, so one test body serves every target.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const W: usize = 3;
const ROWS: usize = 12;
const PAGES: usize = 3;

#[derive(Clone, Debug, PartialEq)]
struct Model {
    fp: Vec<u64>,
    label: String,
    parent: Option<Addr>,
    expires_at: Option<u64>,
    version: u64,
}

#[derive(Clone, Debug)]
enum Op {
    Set(Addr, u64),
    Delete(Addr),
    Expire(Addr, Option<u64>),
    Meta(Addr, String, Option<Addr>),
    Purge(u64),
    Batch(Vec<Op>),
}

/// Few prefixes and slots, so operations keep hitting the same entries.
fn addr() -> impl Strategy<Value = Addr> {
    (
        prop::sample::select(vec![0x00u8, 0x10, 0x11, 0x80, 0xFF]),
        0u8..6,
    )
        .prop_map(|(p, s)| Addr::new(p, s))
}

fn single_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (addr(), any::<u64>()).prop_map(|(a, s)| Op::Set(a, s)),
        2 => addr().prop_map(Op::Delete),
        1 => (addr(), proptest::option::of(0u64..20)).prop_map(|(a, t)| Op::Expire(a, t)),
        1 => (addr(), "[a-z]{0,4}", proptest::option::of(addr()))
            .prop_map(|(a, l, p)| Op::Meta(a, l, p)),
        1 => (0u64..20).prop_map(Op::Purge),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => single_op(),
        1 => prop::collection::vec(single_op(), 0..5).prop_map(Op::Batch),
    ]
}

fn fp_of(seed: u64) -> Vec<u64> {
    (0..W as u64)
        .map(|i| crate::prng::stream_word(seed, i))
        .collect()
}

/// Owned copies of the data a mutation borrows.
enum Owned {
    Set(Addr, Vec<u64>),
    Delete(Addr),
    Expire(Addr, Option<u64>),
    Meta(Addr, String, Option<Addr>),
}

impl Owned {
    fn of(op: &Op) -> Option<Owned> {
        Some(match op {
            Op::Set(a, s) => Owned::Set(*a, fp_of(*s)),
            Op::Delete(a) => Owned::Delete(*a),
            Op::Expire(a, t) => Owned::Expire(*a, *t),
            Op::Meta(a, l, p) => Owned::Meta(*a, l.clone(), *p),
            Op::Purge(_) | Op::Batch(_) => return None,
        })
    }

    fn mutation(&self) -> Mutation<'_> {
        match self {
            Owned::Set(addr, fp) => Mutation::Set { addr: *addr, fp },
            Owned::Delete(addr) => Mutation::Delete { addr: *addr },
            Owned::Expire(addr, at) => Mutation::Expire {
                addr: *addr,
                at: *at,
            },
            Owned::Meta(addr, label, parent) => Mutation::Meta {
                addr: *addr,
                label: label.as_bytes(),
                parent: *parent,
            },
        }
    }
}

/// What the model says applying `m` does, or the error it expects.
fn model_apply(
    model: &mut BTreeMap<Addr, Model>,
    m: &Mutation<'_>,
    version: u64,
    limits: (usize, usize),
) -> Result<(), SpaceError> {
    match *m {
        Mutation::Set { addr, fp } => match model.get_mut(&addr) {
            Some(e) => {
                e.fp = fp.to_vec();
                e.version = version;
            }
            None => {
                if model.len() == limits.0 {
                    return Err(SpaceError::Full { capacity: limits.0 });
                }
                let mut prefixes: Vec<u8> = model.keys().map(|a| a.prefix()).collect();
                prefixes.dedup();
                if !prefixes.contains(&addr.prefix()) && prefixes.len() == limits.1 {
                    return Err(SpaceError::PrefixesFull { pages: limits.1 });
                }
                model.insert(
                    addr,
                    Model {
                        fp: fp.to_vec(),
                        label: String::new(),
                        parent: None,
                        expires_at: None,
                        version,
                    },
                );
            }
        },
        Mutation::Delete { addr } => {
            model.remove(&addr);
        }
        Mutation::Expire { addr, at } => {
            let e = model.get_mut(&addr).ok_or(SpaceError::NotFound { addr })?;
            e.expires_at = at;
            e.version = version;
        }
        Mutation::Meta {
            addr,
            label,
            parent,
        } => {
            if parent == Some(addr) {
                return Err(SpaceError::SelfParent { addr });
            }
            let e = model.get_mut(&addr).ok_or(SpaceError::NotFound { addr })?;
            e.label = String::from_utf8(label.to_vec()).unwrap();
            e.parent = parent;
            e.version = version;
        }
    }
    Ok(())
}

fn check_same<S: Storage>(space: &Space<S>, model: &BTreeMap<Addr, Model>) {
    assert_eq!(space.len(), model.len());
    let got: Vec<(Addr, Model)> = space
        .iter(Filter::All)
        .map(|e| {
            (
                e.addr,
                Model {
                    fp: e.fp.to_vec(),
                    label: e.label.into(),
                    parent: e.parent,
                    expires_at: e.expires_at,
                    version: e.version,
                },
            )
        })
        .collect();
    let want: Vec<(Addr, Model)> = model.iter().map(|(a, m)| (*a, m.clone())).collect();
    assert_eq!(got, want);
    for filter in [
        Filter::Zone(Zone::Surface),
        Filter::Zone(Zone::Fluid),
        Filter::Zone(Zone::Nodes),
        Filter::Prefix(0x10),
        Filter::Prefix(0x42),
    ] {
        let got: Vec<Addr> = space.iter(filter).map(|e| e.addr).collect();
        let want: Vec<Addr> = model
            .keys()
            .copied()
            .filter(|a| filter.matches(*a))
            .collect();
        assert_eq!(got, want, "{filter:?}");
        assert_eq!(space.count(filter), want.len());
    }
    for now in [0, 7, 19] {
        let live = model
            .values()
            .filter(|m| m.expires_at.is_none_or(|t| t > now))
            .count();
        assert_eq!(space.count_live(Filter::All, now), live);
    }
    // The arena is dense and each row holds its address's fingerprint.
    assert_eq!(space.arena().len(), model.len() * W);
    for row in 0..space.len() {
        let a = space.row_addr(row).unwrap();
        assert_eq!(&space.arena()[row * W..(row + 1) * W], &model[&a].fp[..]);
    }
    // Addresses kept apart from the metadata (growable storage) stay in
    // step with it.
    if let Some(addrs) = space.row_addrs() {
        let (_, meta) = space.rows();
        let want: Vec<Addr> = meta.iter().map(|m| m.addr()).collect();
        assert_eq!(addrs, &want[..]);
    }
}

fn run<S: Storage>(space: &mut Space<S>, ops: &[Op], limits: (usize, usize)) {
    let mut model = BTreeMap::new();
    let mut version = 0;
    for op in ops {
        version += 10;
        match op {
            Op::Purge(now) => {
                let n = space.purge_expired(*now);
                let before = model.len();
                model.retain(|_, m: &mut Model| m.expires_at.is_none_or(|t| t > *now));
                assert_eq!(n, before - model.len());
            }
            Op::Batch(ops) => {
                let owned: Vec<Owned> = ops.iter().filter_map(Owned::of).collect();
                let batch: Vec<Mutation<'_>> = owned.iter().map(Owned::mutation).collect();
                let mut trial = model.clone();
                let want = batch
                    .iter()
                    .enumerate()
                    .try_for_each(|(_, m)| model_apply(&mut trial, m, version, limits));
                let gen = space.generation();
                assert_eq!(space.apply_all(&batch, version), want);
                if want.is_ok() {
                    model = trial;
                } else {
                    assert_eq!(space.generation(), gen, "a refused batch changed the space");
                }
            }
            single => {
                let owned = Owned::of(single).unwrap();
                let m = owned.mutation();
                let mut trial = model.clone();
                let want = model_apply(&mut trial, &m, version, limits);
                assert_eq!(space.check(&m), want);
                assert_eq!(space.apply(&m, version), want);
                if want.is_ok() {
                    model = trial;
                }
            }
        }
        check_same(space, &model);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lent_space_matches_the_model(ops in prop::collection::vec(op(), 1..80)) {
        let mut arena = [0u64; ROWS * W];
        let mut meta = [RowMeta::EMPTY; ROWS];
        let mut pages = [SlotPage::EMPTY; PAGES];
        let mut space = Space::new(
            Width::from_words(W).unwrap(),
            Lent::new(&mut arena, &mut meta, &mut pages),
        );
        run(&mut space, &ops, (ROWS, PAGES));
    }

    #[test]
    fn growable_space_matches_the_model(ops in prop::collection::vec(op(), 1..80)) {
        let mut space = Space::growable(Width::from_words(W).unwrap());
        run(&mut space, &ops, (ROWS_MAX, PAGES_MAX));
    }
}

/// Long batches (a bulk import) are checked with bitmaps instead of by
/// looking back: both ways must agree, and agree with the model.
mod long_batches {
    use super::*;
    // Named explicitly so it wins over the glob (which also brings `test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn bitmaps_agree_with_lookback_and_the_model(
            setup in prop::collection::vec(single_op(), 0..30),
            ops in prop::collection::vec(single_op(), 200..700),
        ) {
            let mut arena = [0u64; ROWS * W];
            let mut meta = [RowMeta::EMPTY; ROWS];
            let mut pages = [SlotPage::EMPTY; PAGES];
            let mut space = Space::new(
                Width::from_words(W).unwrap(),
                Lent::new(&mut arena, &mut meta, &mut pages),
            );
            let limits = (ROWS, PAGES);
            let mut model = BTreeMap::new();
            // Some state to start from, through single mutations.
            for op in &setup {
                if let Some(owned) = Owned::of(op) {
                    let m = owned.mutation();
                    let mut trial = model.clone();
                    if model_apply(&mut trial, &m, 1, limits).is_ok() {
                        space.apply(&m, 1).unwrap();
                        model = trial;
                    }
                }
            }
            let owned: Vec<Owned> = ops.iter().filter_map(Owned::of).collect();
            let batch: Vec<Mutation<'_>> = owned.iter().map(Owned::mutation).collect();
            let mut trial = model.clone();
            let want = batch
                .iter()
                .try_for_each(|m| model_apply(&mut trial, m, 2, limits));
            prop_assert_eq!(space.check_batch_by_lookback(&batch), want);
            prop_assert_eq!(space.check_long_batch(&batch), want);
            // The same batch without the mutations the model refuses (each
            // judged after the ones kept before it) must pass, apply whole,
            // and leave the space equal to the model.
            let mut kept_model = model.clone();
            let accepted: Vec<Mutation<'_>> = batch
                .iter()
                .copied()
                // `model_apply` changes nothing when it refuses.
                .filter(|m| model_apply(&mut kept_model, m, 3, limits).is_ok())
                .collect();
            prop_assert_eq!(space.check_batch_by_lookback(&accepted), Ok(()));
            prop_assert_eq!(space.check_long_batch(&accepted), Ok(()));
            let gen = space.generation();
            prop_assert_eq!(space.apply_all(&batch, 3), want);
            if want.is_err() {
                prop_assert_eq!(space.generation(), gen, "a refused batch changed the space");
                space.apply_all(&accepted, 3).unwrap();
            }
            for (addr, m) in kept_model.iter_mut() {
                // Versions depend on positions in the batch; compare the rest.
                m.version = space.get(*addr).map_or(0, |e| e.version);
            }
            check_same(&space, &kept_model);
        }
    }
}
