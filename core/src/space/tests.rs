//! Unit tests of the space: capacity, density, pages, metadata, expiry,
//! iteration, batches, named paths.

use super::*;
use crate::addr::Zone;
use crate::mutation::Mutation;
use crate::prng::SplitMix64;
use std::vec;
use std::vec::Vec;

// wasm-bindgen-test cannot run plain `#[test]` functions: on wasm32 this
// import turns every `#[test]` below (proptest's too) into a
// `#[wasm_bindgen_test]`, so one test body serves every target.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const W: usize = 4;

fn width() -> Width {
    Width::from_words(W).unwrap()
}

fn fp(seed: u64) -> [u64; W] {
    let mut g = SplitMix64::new(seed);
    [g.next(), g.next(), g.next(), g.next()]
}

/// Owned buffers for a lent space of `rows` rows and `pages` pages.
struct Buffers {
    arena: Vec<u64>,
    meta: Vec<RowMeta>,
    pages: Vec<SlotPage>,
}

impl Buffers {
    fn new(rows: usize, pages: usize) -> Self {
        Buffers {
            arena: vec![0; rows * W],
            meta: vec![RowMeta::EMPTY; rows],
            pages: vec![SlotPage::EMPTY; pages],
        }
    }

    fn space(&mut self) -> LentSpace<'_> {
        Space::new(
            width(),
            Lent::new(&mut self.arena, &mut self.meta, &mut self.pages),
        )
    }
}

#[test]
fn full_is_an_error_and_changes_nothing() {
    let mut b = Buffers::new(64, 1);
    let mut s = b.space();
    for slot in 0..64u8 {
        s.set(Addr::new(0x20, slot), &fp(slot.into()), slot.into())
            .unwrap();
    }
    assert_eq!(s.capacity(), 64);
    let before = s.generation();
    assert_eq!(
        s.set(Addr::new(0x20, 200), &fp(1), 99),
        Err(SpaceError::Full { capacity: 64 })
    );
    assert_eq!(s.generation(), before);
    assert_eq!(s.len(), 64);
    assert!(!s.exists(Addr::new(0x20, 200)));
    // Replacing an existing entry needs no new row.
    s.set(Addr::new(0x20, 5), &fp(500), 100).unwrap();
    assert_eq!(s.get(Addr::new(0x20, 5)).unwrap().fp, &fp(500));
    // Every earlier entry is intact: nothing was overwritten.
    for slot in 0..64u8 {
        let want = if slot == 5 { fp(500) } else { fp(slot.into()) };
        assert_eq!(s.get(Addr::new(0x20, slot)).unwrap().fp, &want);
    }
}

#[test]
fn pages_are_taken_per_prefix_and_given_back() {
    let mut b = Buffers::new(16, 2);
    let mut s = b.space();
    s.set(Addr::new(0x01, 1), &fp(1), 1).unwrap();
    s.set(Addr::new(0x90, 1), &fp(2), 2).unwrap();
    assert_eq!(s.pages_used(), 2);
    assert_eq!(
        s.set(Addr::new(0x30, 1), &fp(3), 3),
        Err(SpaceError::PrefixesFull { pages: 2 })
    );
    // Emptying prefix 0x01 frees its page (the 0x90 page moves into it).
    assert!(s.delete(Addr::new(0x01, 1)));
    assert_eq!(s.pages_used(), 1);
    s.set(Addr::new(0x30, 1), &fp(3), 3).unwrap();
    assert_eq!(s.get(Addr::new(0x90, 1)).unwrap().fp, &fp(2));
    assert_eq!(s.get(Addr::new(0x30, 1)).unwrap().fp, &fp(3));
    assert!(!s.exists(Addr::new(0x01, 1)));
}

#[test]
fn garbage_in_lent_pages_is_harmless() {
    let mut b = Buffers::new(32, 4);
    let mut g = SplitMix64::new(9);
    for p in &mut b.pages {
        for v in p.0.iter_mut() {
            *v = g.next() as u16 % 40;
        }
    }
    let mut s = b.space();
    for raw in 0..=u16::MAX {
        assert!(!s.exists(Addr(raw)));
    }
    for i in 0..32u16 {
        s.set(Addr(0x1000 + i * 3), &fp(i.into()), 1).unwrap();
    }
    let stored: Vec<Addr> = s.iter(Filter::All).map(|e| e.addr).collect();
    let want: Vec<Addr> = (0..32u16).map(|i| Addr(0x1000 + i * 3)).collect();
    assert_eq!(stored, want);
}

#[test]
fn delete_keeps_the_arena_dense() {
    let mut b = Buffers::new(8, 1);
    let mut s = b.space();
    for slot in 0..8u8 {
        s.set(Addr::new(0x80, slot), &fp(slot.into()), 1).unwrap();
    }
    assert!(s.delete(Addr::new(0x80, 2)));
    assert!(!s.delete(Addr::new(0x80, 2)));
    assert_eq!(s.len(), 7);
    assert_eq!(s.arena().len(), 7 * W);
    // Every row of the arena is the fingerprint of the address it names.
    for row in 0..s.len() {
        let addr = s.row_addr(row).unwrap();
        assert_eq!(&s.arena()[row * W..(row + 1) * W], &fp(addr.slot().into()));
    }
    assert_eq!(s.row_addr(7), None);
}

#[test]
fn set_keeps_metadata_and_bumps_version() {
    let mut s = Space::growable(width());
    let a = Addr::new(0x40, 7);
    s.apply(
        &Mutation::Set {
            addr: a,
            fp: &fp(1),
        },
        10,
    )
    .unwrap();
    s.apply(
        &Mutation::Meta {
            addr: a,
            label: b"seven",
            parent: Some(Addr::new(0x80, 0)),
        },
        11,
    )
    .unwrap();
    s.apply(
        &Mutation::Expire {
            addr: a,
            at: Some(50),
        },
        12,
    )
    .unwrap();
    s.apply(
        &Mutation::Set {
            addr: a,
            fp: &fp(2),
        },
        13,
    )
    .unwrap();
    let e = s.get(a).unwrap();
    assert_eq!(
        (e.fp, e.label, e.parent, e.expires_at, e.version),
        (&fp(2)[..], "seven", Some(Addr::new(0x80, 0)), Some(50), 13)
    );
}

#[test]
fn bad_changes_are_refused_with_a_reason() {
    let mut s = Space::growable(width());
    let a = Addr::new(0x40, 7);
    let long = [b'x'; LABEL_MAX_PLUS_ONE];
    assert_eq!(
        s.set(a, &[1, 2, 3], 1),
        Err(SpaceError::WidthMismatch {
            expected: W,
            got: 3
        })
    );
    assert_eq!(
        s.apply(&Mutation::Expire { addr: a, at: None }, 1),
        Err(SpaceError::NotFound { addr: a })
    );
    s.set(a, &fp(1), 1).unwrap();
    for (m, e) in [
        (
            Mutation::Meta {
                addr: a,
                label: &long,
                parent: None,
            },
            SpaceError::LabelTooLong {
                len: LABEL_MAX_PLUS_ONE,
            },
        ),
        (
            Mutation::Meta {
                addr: a,
                label: &[0xFF, 0xFE],
                parent: None,
            },
            SpaceError::LabelNotUtf8,
        ),
        (
            Mutation::Meta {
                addr: a,
                label: b"me",
                parent: Some(a),
            },
            SpaceError::SelfParent { addr: a },
        ),
    ] {
        assert_eq!(s.check(&m), Err(e));
        assert_eq!(s.apply(&m, 2), Err(e));
        let mut msg = std::string::String::new();
        core::fmt::Write::write_fmt(&mut msg, format_args!("{e}")).unwrap();
        assert!(!msg.is_empty());
    }
    assert_eq!(s.get(a).unwrap().version, 1);
    assert_eq!(s.get(a).unwrap().label, "");
}

const LABEL_MAX_PLUS_ONE: usize = crate::mutation::LABEL_MAX + 1;

#[test]
fn expired_entries_hide_from_live_reads_and_purge() {
    let mut s = Space::growable(width());
    for slot in 0..10u8 {
        let a = Addr::new(0x10, slot);
        s.set(a, &fp(slot.into()), 1).unwrap();
        s.expire(a, Some(u64::from(slot) * 10), 2).unwrap();
    }
    s.expire(Addr::new(0x10, 9), None, 3).unwrap();
    // At tick 35: slots 0..=3 are gone (expiry <= now), 4..=9 remain.
    assert!(!s.exists_live(Addr::new(0x10, 3), 35));
    assert!(s.exists_live(Addr::new(0x10, 4), 35));
    assert!(s.exists(Addr::new(0x10, 3)));
    assert_eq!(s.count_live(Filter::All, 35), 6);
    assert_eq!(s.count(Filter::All), 10);
    let mut expired: Vec<Addr> = s.expired(35).collect();
    expired.sort();
    assert_eq!(
        expired,
        (0..4).map(|i| Addr::new(0x10, i)).collect::<Vec<_>>()
    );
    assert_eq!(s.purge_expired(35), 4);
    assert_eq!(s.len(), 6);
    assert_eq!(s.purge_expired(u64::MAX), 5);
    assert_eq!(s.len(), 1);
    assert!(s.exists(Addr::new(0x10, 9)));
}

#[test]
fn iteration_is_in_address_order_with_filters_and_cursors() {
    let mut s = Space::growable(width());
    let addrs = [
        0x0F01u16, 0x0001, 0xFFFF, 0x8000, 0x1000, 0x7FFF, 0x80FF, 0x8100,
    ];
    for (i, &raw) in addrs.iter().enumerate() {
        s.set(Addr(raw), &fp(i as u64), 1).unwrap();
    }
    let all: Vec<u16> = s.iter(Filter::All).map(|e| e.addr.0).collect();
    assert_eq!(
        all,
        [0x0001, 0x0F01, 0x1000, 0x7FFF, 0x8000, 0x80FF, 0x8100, 0xFFFF]
    );
    let nodes: Vec<u16> = s
        .iter(Filter::Zone(Zone::Nodes))
        .map(|e| e.addr.0)
        .collect();
    assert_eq!(nodes, [0x8000, 0x80FF, 0x8100, 0xFFFF]);
    let p80: Vec<u16> = s.iter(Filter::Prefix(0x80)).map(|e| e.addr.0).collect();
    assert_eq!(p80, [0x8000, 0x80FF]);
    assert_eq!(s.iter(Filter::Prefix(0x81)).count(), 1);
    assert_eq!(s.iter(Filter::Prefix(0x55)).count(), 0);
    let from: Vec<u16> = s
        .iter_from(Filter::All, Addr(0x7FFF))
        .map(|e| e.addr.0)
        .collect();
    assert_eq!(from, [0x7FFF, 0x8000, 0x80FF, 0x8100, 0xFFFF]);
    assert_eq!(s.count(Filter::Zone(Zone::Surface)), 2);
    assert_eq!(s.count(Filter::Zone(Zone::Fluid)), 2);
    assert_eq!(s.count(Filter::Zone(Zone::Nodes)), 4);
    assert_eq!(s.count(Filter::Prefix(0x80)), 2);
}

#[test]
fn a_batch_applies_whole_or_not_at_all() {
    let mut b = Buffers::new(2, 1);
    let mut s = b.space();
    let (a, c, d) = (Addr::new(0x20, 1), Addr::new(0x20, 2), Addr::new(0x20, 3));
    s.set(a, &fp(1), 1).unwrap();
    s.set(c, &fp(2), 2).unwrap();
    // Full, but a delete first makes room for the set.
    let ok = [
        Mutation::Delete { addr: a },
        Mutation::Set {
            addr: d,
            fp: &fp(3),
        },
        Mutation::Expire {
            addr: d,
            at: Some(9),
        },
    ];
    s.check_batch(&ok).unwrap();
    // The same set without the delete does not fit: nothing is applied.
    let too_big = [
        Mutation::Expire {
            addr: a,
            at: Some(5),
        },
        Mutation::Set {
            addr: d,
            fp: &fp(3),
        },
    ];
    assert_eq!(
        s.apply_all(&too_big, 10),
        Err(SpaceError::Full { capacity: 2 })
    );
    assert_eq!(s.get(a).unwrap().expires_at, None);
    // Meta on an entry deleted earlier in the batch is refused.
    let gone = [
        Mutation::Delete { addr: c },
        Mutation::Meta {
            addr: c,
            label: b"x",
            parent: None,
        },
    ];
    assert_eq!(s.check_batch(&gone), Err(SpaceError::NotFound { addr: c }));
    // A new prefix needs a page the storage does not have.
    let new_prefix = [
        Mutation::Delete { addr: a },
        Mutation::Set {
            addr: Addr::new(0x21, 0),
            fp: &fp(4),
        },
    ];
    assert_eq!(
        s.check_batch(&new_prefix),
        Err(SpaceError::PrefixesFull { pages: 1 })
    );
    // Emptying the prefix first gives its page back.
    let moved = [
        Mutation::Delete { addr: a },
        Mutation::Delete { addr: c },
        Mutation::Set {
            addr: Addr::new(0x21, 0),
            fp: &fp(4),
        },
    ];
    s.apply_all(&moved, 20).unwrap();
    assert_eq!(s.len(), 1);
    // Every mutation of a batch takes the batch's version, as log replay gives it.
    assert_eq!(s.get(Addr::new(0x21, 0)).unwrap().version, 20);
    // Prefix 0x20 has no page now; it gets the one 0x21 gives back.
    assert_eq!(
        s.check_batch(&ok[1..]),
        Err(SpaceError::PrefixesFull { pages: 1 })
    );
    let back = [
        Mutation::Delete {
            addr: Addr::new(0x21, 0),
        },
        ok[1],
        ok[2],
    ];
    s.apply_all(&back, 30).unwrap();
    assert_eq!(s.get(d).unwrap().expires_at, Some(9));
    assert_eq!(s.get(d).unwrap().version, 30);
}

#[test]
fn restore_copies_an_entry_exactly() {
    let mut s = Space::growable(width());
    s.set(Addr::new(0x80, 1), &fp(1), 1).unwrap();
    let f = fp(7);
    let e = Entry {
        addr: Addr::new(0x12, 3),
        fp: &f,
        label: "hello",
        parent: Some(Addr::new(0x80, 1)),
        expires_at: Some(77),
        version: 42,
    };
    s.restore(&e).unwrap();
    assert_eq!(s.get(e.addr), Some(e));
    let mut t = Space::growable(width());
    for e in s.iter(Filter::All) {
        t.restore(&e).unwrap();
    }
    assert!(s.iter(Filter::All).eq(t.iter(Filter::All)));
}

#[test]
fn growable_storage_holds_every_address() {
    let w1 = Width::from_words(1).unwrap();
    let mut s = Space::growable(w1);
    for raw in 0..=u16::MAX {
        s.set(Addr(raw), &[u64::from(raw) * 3], 1).unwrap();
    }
    assert_eq!(s.len(), ROWS_MAX);
    assert_eq!(s.pages_used(), PAGES_MAX);
    for raw in (0..=u16::MAX).step_by(97) {
        assert_eq!(s.get(Addr(raw)).unwrap().fp, &[u64::from(raw) * 3]);
    }
    for raw in (0..=u16::MAX).rev() {
        assert!(s.delete(Addr(raw)));
    }
    assert!(s.is_empty());
    assert_eq!(s.pages_used(), 0);
}

#[test]
fn lent_storage_of_all_addresses_needs_all_pages() {
    let w1 = Width::from_words(1).unwrap();
    let mut arena = vec![0u64; ROWS_MAX + 10];
    let mut meta = vec![RowMeta::EMPTY; ROWS_MAX + 10];
    let mut pages = vec![SlotPage::EMPTY; PAGES_MAX + 3];
    let mut s = Space::new(w1, Lent::new(&mut arena, &mut meta, &mut pages));
    assert_eq!(s.capacity(), ROWS_MAX);
    for raw in 0..=u16::MAX {
        s.set(Addr(raw), &[u64::from(raw)], 1).unwrap();
    }
    assert_eq!(s.get(Addr(0xFFFF)).unwrap().fp, &[0xFFFF]);
}

mod paths {
    use super::*;
    // Named explicitly so it wins over the glob (which also brings `test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn dn_set_creates_parents_and_reuses_them() {
        let mut s = Space::growable(width());
        let c = s.dn_set("a/b/c", &fp(1), 1).unwrap();
        assert_eq!(s.dn_get("a/b/c"), Ok(Some(c)));
        let b = s.dn_get("a/b").unwrap().unwrap();
        let a = s.dn_get("a").unwrap().unwrap();
        for addr in [a, b, c] {
            assert_eq!(addr.zone(), Zone::Nodes);
        }
        assert_eq!(s.dn_parent(c), Some(b));
        assert_eq!(s.dn_parent(b), Some(a));
        assert_eq!(s.dn_parent(a), None);
        assert_eq!(s.get(c).unwrap().label, "c");
        assert_eq!(s.get(b).unwrap().fp, &[0; W]);
        // A sibling reuses a and b.
        let d = s.dn_set("a/b/d", &fp(2), 10).unwrap();
        assert_eq!(s.len(), 4);
        let kids: Vec<Addr> = s.dn_children(b).map(|e| e.addr).collect();
        let mut want = vec![c, d];
        want.sort();
        assert_eq!(kids, want);
        // Setting an existing path only replaces the fingerprint.
        let f3 = fp(3);
        let plan = s.plan_dn_set("a/b/c", &f3).unwrap();
        assert_eq!(plan.mutations(), &[Mutation::Set { addr: c, fp: &f3 }]);
        assert_eq!(plan.created(), 0);
        assert_eq!(s.dn_set("a/b/c", &fp(3), 20), Ok(c));
        assert_eq!(s.get(c).unwrap().fp, &fp(3));
        assert_eq!(s.dn_get("a/x"), Ok(None));
        assert_eq!(s.dn_get("x"), Ok(None));
    }

    #[test]
    fn a_plan_replays_through_apply() {
        let mut direct = Space::growable(width());
        let mut logged = Space::growable(width());
        for (i, path) in ["x/y", "x/z/w", "q", "x/y/y/y"].into_iter().enumerate() {
            let f = fp(i as u64);
            let want = direct.dn_set(path, &f, 100 * i as u64).unwrap();
            let plan = logged.plan_dn_set(path, &f).unwrap();
            assert_eq!(plan.generation(), logged.generation());
            for m in plan.mutations() {
                logged.apply(m, 100 * i as u64).unwrap();
            }
            assert_eq!(plan.leaf(), want);
        }
        assert!(direct.iter(Filter::All).eq(logged.iter(Filter::All)));
    }

    #[test]
    fn collisions_are_probed_past_never_merged() {
        let mut s = Space::growable(width());
        let home = super::super::paths::home(None, b"a");
        // An unrelated entry squats on the home address of "a".
        s.set(home, &fp(9), 1).unwrap();
        let a = s.dn_set("a", &fp(1), 2).unwrap();
        assert_ne!(a, home);
        assert_eq!(s.get(home).unwrap().fp, &fp(9));
        assert_eq!(s.get(home).unwrap().label, "");
        // Another labelled node at home with another parent: still not "a".
        s.set_meta(home, b"a", Some(Addr::new(0x80, 0)), 3).unwrap();
        assert_eq!(s.dn_get("a"), Ok(Some(a)));
        // Deleting the squatter leaves a hole before "a"; lookup still finds it
        // and dn_set does not make a second "a".
        s.delete(home);
        assert_eq!(s.dn_get("a"), Ok(Some(a)));
        assert_eq!(s.dn_set("a", &fp(5), 4), Ok(a));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_new_node_never_adopts_orphans() {
        let mut s = Space::growable(width());
        let b = s.dn_set("a/b", &fp(1), 1).unwrap();
        let a = s.dn_get("a").unwrap().unwrap();
        s.delete(a);
        // "a" is gone; b still names its old address as parent.
        assert_eq!(s.dn_get("a/b"), Ok(None));
        let a2 = s.dn_set("a", &fp(2), 2).unwrap();
        assert_ne!(a2, a);
        assert_eq!(s.dn_children(a2).count(), 0);
        assert_eq!(s.dn_parent(b), Some(a));
    }

    #[test]
    fn a_full_probe_window_is_an_error() {
        let mut s = Space::growable(Width::from_words(1).unwrap());
        let home = super::super::paths::home(None, b"z");
        for i in 0..PATH_PROBE_WINDOW as u16 {
            let addr = Addr(0x8000 | (home.0.wrapping_add(i) & 0x7FFF));
            s.set(addr, &[1], 1).unwrap();
        }
        let before = s.len();
        assert_eq!(s.dn_set("z", &[2], 2), Err(PathError::NoFreeAddress));
        assert_eq!(s.len(), before);
    }

    #[test]
    fn bad_paths_are_refused() {
        let mut s = Space::growable(width());
        let long = "x".repeat(crate::mutation::LABEL_MAX + 1);
        let deep = "d/".repeat(PATH_DEPTH_MAX) + "d";
        for (path, e) in [
            ("", PathError::Empty),
            ("/a", PathError::EmptyComponent),
            ("a/", PathError::EmptyComponent),
            ("a//b", PathError::EmptyComponent),
            (long.as_str(), PathError::ComponentTooLong { len: 33 }),
            (deep.as_str(), PathError::TooDeep),
        ] {
            assert_eq!(s.dn_set(path, &fp(1), 1), Err(e), "{path:?}");
            assert_eq!(s.dn_get(path), Err(e), "{path:?}");
        }
        assert_eq!(
            s.dn_set("a/b", &[1], 1),
            Err(PathError::Space(SpaceError::WidthMismatch {
                expected: W,
                got: 1
            }))
        );
        assert!(s.is_empty());
        let max = "d/".repeat(PATH_DEPTH_MAX - 1) + "d";
        s.dn_set(&max, &fp(1), 1).unwrap();
        assert_eq!(s.len(), PATH_DEPTH_MAX);
    }

    #[test]
    fn a_path_that_does_not_fit_changes_nothing() {
        let mut b = Buffers::new(2, 4);
        let mut s = b.space();
        assert_eq!(
            s.dn_set("a/b/c", &fp(1), 1),
            Err(PathError::Space(SpaceError::Full { capacity: 2 }))
        );
        assert!(s.is_empty());
    }
}

/// Named paths under random sets, squatters and deletes: every path set
/// and not broken by a delete keeps resolving to the address it got, with
/// the fingerprint last stored, and its parent link names its parent path.
mod path_model {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::string::String;
    // Named explicitly so it wins over the glob (which also brings `test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const WORDS: [&str; 3] = ["a", "b", "c"];

    #[derive(Clone, Debug)]
    enum Op {
        /// `dn_set` of a path (indices into `WORDS`) with a fingerprint seed.
        Set(Vec<usize>, u64),
        /// An unrelated entry near a component's home address: unlabelled,
        /// or with a vocabulary label under a parent no path has.
        Squat(usize, u16, bool),
        /// Deletes the entry of the `n`-th known path (modulo their count).
        DeletePath(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (prop::collection::vec(0..WORDS.len(), 1..4), any::<u64>())
                .prop_map(|(p, s)| Op::Set(p, s)),
            2 => (0..WORDS.len(), 0u16..4, any::<bool>()).prop_map(|(w, o, l)| Op::Squat(w, o, l)),
            1 => any::<usize>().prop_map(Op::DeletePath),
        ]
    }

    fn path_of(p: &[usize]) -> String {
        p.iter().map(|&i| WORDS[i]).collect::<Vec<_>>().join("/")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn paths_stay_where_they_were_put(ops in prop::collection::vec(op(), 1..60)) {
            let mut s = Space::growable(width());
            // path -> (address, fingerprint seed of its last dn_set, if it
            // was ever a leaf)
            let mut known: BTreeMap<String, (Addr, Option<u64>)> = BTreeMap::new();
            // Paths a delete broke and no dn_set has made again: they must
            // not resolve (a new node never adopts an old node's orphans).
            let mut broken: std::collections::BTreeSet<String> = Default::default();
            let mut version = 1;
            for op in ops {
                version += 100;
                match op {
                    Op::Set(p, seed) => {
                        let path = path_of(&p);
                        let leaf = s.dn_set(&path, &fp(seed), version).unwrap();
                        if let Some(&(a, _)) = known.get(&path) {
                            prop_assert_eq!(a, leaf, "an existing path moved");
                        }
                        known.insert(path.clone(), (leaf, Some(seed)));
                        broken.remove(&path);
                        // Every ancestor is known too.
                        for depth in 1..p.len() {
                            let anc = path_of(&p[..depth]);
                            let a = s.dn_get(&anc).unwrap().unwrap();
                            let seed = known.get(&anc).and_then(|e| e.1);
                            if let Some(&(old, _)) = known.get(&anc) {
                                prop_assert_eq!(old, a, "an ancestor moved");
                            }
                            broken.remove(&anc);
                            known.insert(anc, (a, seed));
                        }
                    }
                    Op::Squat(w, offset, labelled) => {
                        let home = super::super::paths::home(None, WORDS[w].as_bytes());
                        let addr = Addr(0x8000 | (home.0.wrapping_add(offset) & 0x7FFF));
                        if !s.exists(addr) {
                            s.set(addr, &fp(7), version).unwrap();
                            if labelled {
                                s.set_meta(addr, WORDS[w].as_bytes(), Some(Addr(1)), version).unwrap();
                            }
                        }
                    }
                    Op::DeletePath(n) => {
                        if known.is_empty() {
                            continue;
                        }
                        let path = known.keys().nth(n % known.len()).unwrap().clone();
                        let (addr, _) = known[&path];
                        s.delete(addr);
                        // The path and everything under it is broken.
                        let prefix = path.clone() + "/";
                        let gone: Vec<String> = known
                            .keys()
                            .filter(|p| **p == path || p.starts_with(&prefix))
                            .cloned()
                            .collect();
                        for p in gone {
                            known.remove(&p);
                            broken.insert(p);
                        }
                    }
                }
                for path in &broken {
                    prop_assert_eq!(s.dn_get(path), Ok(None), "{} came back", path);
                }
                for (path, &(addr, seed)) in &known {
                    prop_assert_eq!(s.dn_get(path), Ok(Some(addr)), "{}", path);
                    let e = s.get(addr).unwrap();
                    let label = path.rsplit('/').next().unwrap();
                    prop_assert_eq!(e.label, label);
                    let parent = path.rsplit_once('/').map(|(p, _)| known[p].0);
                    prop_assert_eq!(e.parent, parent);
                    if let Some(seed) = seed {
                        prop_assert_eq!(e.fp, &fp(seed)[..]);
                    }
                }
            }
        }
    }
}
