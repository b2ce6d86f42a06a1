//! Every search path against a brute-force oracle (a full sort), on random
//! and on clustered data: identical results, order included.

use super::*;
use crate::addr::Zone;
use crate::prng::SplitMix64;
use crate::space::{Growable, Space};
use crate::width::Width;
use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

// wasm-bindgen-test cannot run plain `#[test]` functions: on wasm32 this
// import turns every `#[test]` below (proptest's too) into a
// `#[wasm_bindgen_test]`, so one test body serves every target.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The oracle: score every stored entry with the scalar kernel, keep those
/// passing the options, sort by (distance, address).
fn brute_force(space: &Space<Growable>, query: &[u64], opts: &SearchOptions) -> Vec<Hit> {
    let mut all: Vec<Hit> = space
        .iter(Filter::All)
        .filter(|e| opts.filter.matches(e.addr))
        .filter(|e| opts.now.is_none_or(|now| e.is_live(now)))
        .map(|e| Hit {
            distance: crate::kernels::scalar::distance(query, e.fp),
            addr: e.addr,
        })
        .filter(|h| opts.max_distance.is_none_or(|d| h.distance <= d))
        .collect();
    all.sort();
    all
}

/// A generated space and queries.
#[derive(Debug)]
struct Case {
    words: usize,
    /// (address, fingerprint, expiry)
    entries: Vec<(Addr, Vec<u64>, Option<u64>)>,
    queries: Vec<Vec<u64>>,
}

fn random_fp(g: &mut SplitMix64, words: usize) -> Vec<u64> {
    (0..words).map(|_| g.next()).collect()
}

/// A copy of `fp` with about `flips` bits flipped.
fn noisy(g: &mut SplitMix64, fp: &[u64], flips: u32) -> Vec<u64> {
    let mut out = fp.to_vec();
    let bits = fp.len() as u64 * 64;
    for _ in 0..flips {
        let b = g.below(bits);
        out[(b / 64) as usize] ^= 1 << (b % 64);
    }
    out
}

/// Random data, or clusters of noisy copies of a few centres (so many
/// entries sit at small, often equal, distances from a query).
fn case() -> impl Strategy<Value = Case> {
    (
        // From 128 words (8,192 bits) up a single query takes the whole
        // pass (scan.rs); 130 ends in a part-filled register.
        prop::sample::select(vec![1usize, 2, 3, 8, 16, 17, 64, 128, 130, 256]),
        0usize..600,
        any::<u64>(),
        any::<bool>(),
        0u32..6,
    )
        .prop_map(|(words, count, seed, clustered, flips)| {
            let mut g = SplitMix64::new(seed);
            let centres: Vec<Vec<u64>> = (0..4).map(|_| random_fp(&mut g, words)).collect();
            let mut used = std::collections::BTreeSet::new();
            let mut entries = Vec::new();
            while entries.len() < count {
                // Addresses in every zone, bunched so prefixes repeat.
                let prefix = [0x00u8, 0x0F, 0x10, 0x42, 0x80, 0xC3, 0xFF][g.below(7) as usize];
                let addr = Addr::new(prefix, g.next() as u8);
                if !used.insert(addr) {
                    continue;
                }
                let fp = if clustered {
                    let c = &centres[g.below(4) as usize];
                    let n = g.below(u64::from(flips) + 1) as u32;
                    noisy(&mut g, c, n)
                } else {
                    random_fp(&mut g, words)
                };
                let expiry = (g.below(4) == 0).then(|| g.below(10));
                entries.push((addr, fp, expiry));
            }
            let mut queries: Vec<Vec<u64>> =
                centres.iter().map(|c| noisy(&mut g, c, flips)).collect();
            queries.push(random_fp(&mut g, words));
            if let Some((_, fp, _)) = entries.first() {
                queries.push(fp.clone());
            }
            Case {
                words,
                entries,
                queries,
            }
        })
}

fn options() -> impl Strategy<Value = (Filter, Option<u32>, Option<u64>, usize)> {
    (
        prop_oneof![
            Just(Filter::All),
            Just(Filter::Zone(Zone::Surface)),
            Just(Filter::Zone(Zone::Fluid)),
            Just(Filter::Zone(Zone::Nodes)),
            Just(Filter::Prefix(0x42)),
            // Matches nothing: no entry is ever stored under 0x43.
            Just(Filter::Prefix(0x43)),
        ],
        prop_oneof![
            Just(None),
            Just(Some(0)),
            (0u32..40).prop_map(Some),
            (0u32..4096).prop_map(Some),
        ],
        proptest::option::of(0u64..10),
        // Which of the kernels this CPU runs (`kernels::tests::available`).
        0usize..8,
    )
}

fn build(case: &Case) -> Space<Growable> {
    let mut space = Space::growable(Width::from_words(case.words).unwrap());
    for (i, (addr, fp, expiry)) in case.entries.iter().enumerate() {
        space.set(*addr, fp, i as u64).unwrap();
        if expiry.is_some() {
            space.expire(*addr, *expiry, i as u64).unwrap();
        }
    }
    // Deletes move the last row into the hole: the search must still name
    // every row by its own address (it reads them apart from the metadata).
    for (addr, _, _) in case.entries.iter().skip(3).step_by(7) {
        assert!(space.delete(*addr));
    }
    space
}

/// The options drawn, with every kernel this CPU runs (found at run time,
/// so the paths only some instruction sets take, such as the fused pass
/// of `kernels/fused.rs`, are tested too).
fn opts_of(o: (Filter, Option<u32>, Option<u64>, usize)) -> SearchOptions {
    let kernels = crate::kernels::tests::available();
    let kernel = kernels[o.3 % kernels.len()];
    SearchOptions {
        kernel,
        filter: o.0,
        max_distance: o.1,
        now: o.2,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn nearest_equals_brute_force(case in case(), o in options(), k in 0usize..40) {
        let space = build(&case);
        let opts = opts_of(o);
        for q in &case.queries {
            let want = brute_force(&space, q, &opts);
            let mut out = vec![Hit::default(); k];
            let n = space.nearest(q, &opts, &mut out).unwrap();
            prop_assert_eq!(&out[..n], &want[..k.min(want.len())]);
        }
    }

    #[test]
    fn k_larger_than_the_space_returns_everything(case in case(), o in options()) {
        let space = build(&case);
        let opts = opts_of(o);
        let q = &case.queries[0];
        let want = brute_force(&space, q, &opts);
        let mut out = vec![Hit::default(); case.entries.len() + 7];
        let n = space.nearest(q, &opts, &mut out).unwrap();
        prop_assert_eq!(&out[..n], &want[..]);
    }

    #[test]
    fn within_equals_brute_force(case in case(), o in options(), radius in 0u32..2000, buf in 0usize..50) {
        let space = build(&case);
        let opts = opts_of(o);
        let bounded = SearchOptions {
            max_distance: Some(o.1.map_or(radius, |d| d.min(radius))),
            ..opts
        };
        for q in &case.queries {
            let want = brute_force(&space, q, &bounded);
            let mut out = vec![Hit::default(); buf];
            let got = space.within(q, radius, &opts, &mut out).unwrap();
            prop_assert_eq!(got.total, want.len());
            prop_assert_eq!(&out[..got.returned], &want[..buf.min(want.len())]);
        }
    }

    #[test]
    fn a_batch_equals_single_queries(case in case(), o in options(), k in 0usize..25) {
        let space = build(&case);
        let opts = opts_of(o);
        let queries: Vec<&[u64]> = case.queries.iter().map(|q| &q[..]).collect();
        let mut out = vec![Hit::default(); queries.len() * k];
        let mut lens = vec![usize::MAX; queries.len()];
        space.nearest_batch(&queries, &opts, k, &mut out, &mut lens).unwrap();
        for (i, q) in queries.iter().enumerate() {
            let want = brute_force(&space, q, &opts);
            prop_assert_eq!(&out[i * k..i * k + lens[i]], &want[..k.min(want.len())]);
        }
    }
}

#[test]
fn an_empty_space_finds_nothing() {
    let space = Space::growable(Width::DEFAULT);
    let q = vec![0u64; Width::DEFAULT.words()];
    let mut out = [Hit::default(); 10];
    assert_eq!(space.nearest(&q, &SearchOptions::new(), &mut out), Ok(0));
    assert_eq!(
        space.within(&q, 100, &SearchOptions::new(), &mut out),
        Ok(RangeCount {
            returned: 0,
            total: 0
        })
    );
}

#[test]
fn ties_are_broken_by_address() {
    let mut space = Space::growable(Width::from_words(1).unwrap());
    // Every entry at distance 1 from the zero query, stored in reverse.
    for (i, raw) in [0x9000u16, 0x2000, 0x0005, 0x1234].into_iter().enumerate() {
        space.set(Addr(raw), &[1 << i], 1).unwrap();
    }
    let mut out = [Hit::default(); 3];
    assert_eq!(space.nearest(&[0], &SearchOptions::new(), &mut out), Ok(3));
    let addrs: Vec<u16> = out.iter().map(|h| h.addr.0).collect();
    assert_eq!(addrs, [0x0005, 0x1234, 0x2000]);
    assert!(out.iter().all(|h| h.distance == 1));
}

#[test]
fn ties_across_blocks_are_broken_by_address_with_no_filter() {
    // Rows stored in an order unrelated to their addresses, over several
    // blocks, nearly all at one of a few distances, so the heap meets ties
    // at every step and a block's walk resumes the previous block's heap.
    let mut space = Space::growable(Width::from_words(1).unwrap());
    let mut g = SplitMix64::new(7);
    let mut used = std::collections::BTreeSet::new();
    while used.len() < 1_500 {
        let addr = Addr(g.next() as u16);
        if used.insert(addr) {
            let fp = [0u64, 1, 3, 7][g.below(4) as usize] << g.below(40);
            space.set(addr, &[fp], 1).unwrap();
        }
    }
    let opts = SearchOptions::new();
    let queries: [&[u64]; 3] = [&[0], &[3], &[u64::MAX]];
    for k in [1, 10, 100, 1_600] {
        let mut out = vec![Hit::default(); queries.len() * k];
        let mut lens = [0usize; 3];
        space
            .nearest_batch(&queries, &opts, k, &mut out, &mut lens)
            .unwrap();
        for (i, q) in queries.iter().enumerate() {
            let want = brute_force(&space, q, &opts);
            let want = &want[..k.min(want.len())];
            let mut single = vec![Hit::default(); k];
            let n = space.nearest(q, &opts, &mut single).unwrap();
            assert_eq!(&single[..n], want, "k {k}, query {i}");
            assert_eq!(
                &out[i * k..i * k + lens[i]],
                want,
                "k {k}, query {i}, batch"
            );
        }
    }
}

#[test]
fn long_rows_over_many_screens_equal_brute_force() {
    // A single query over rows of 8,192 bits or more takes the whole pass
    // and screens its distances 4,096 at a time (scan.rs): 9,000 rows,
    // some of them noisy copies of the query spread over every screen,
    // so rows passing in later screens must be offered under their own
    // row numbers.
    let words = 128;
    let mut space = Space::growable(Width::from_words(words).unwrap());
    let mut g = SplitMix64::new(11);
    let query = random_fp(&mut g, words);
    for i in 0..9_000u32 {
        let addr = Addr((i * 7 % 65_536) as u16);
        let fp = if i % 700 == 3 {
            noisy(&mut g, &query, 40 + i / 100)
        } else {
            random_fp(&mut g, words)
        };
        space.set(addr, &fp, 1).unwrap();
        if i % 5 == 0 {
            space.expire(addr, Some(u64::from(i % 3)), 1).unwrap();
        }
    }
    for opts in [
        SearchOptions::new(),
        SearchOptions::new().filter(Filter::Zone(Zone::Fluid)),
        SearchOptions::new().now(1),
        SearchOptions::new().max_distance(4_000),
    ] {
        let want = brute_force(&space, &query, &opts);
        for k in [1, 10, 13, 200] {
            let mut out = vec![Hit::default(); k];
            let n = space.nearest(&query, &opts, &mut out).unwrap();
            assert_eq!(&out[..n], &want[..k.min(want.len())], "k {k}, {opts:?}");
        }
        let mut out = vec![Hit::default(); 20];
        let got = space.within(&query, 4_050, &opts, &mut out).unwrap();
        let within: Vec<Hit> = want
            .iter()
            .copied()
            .filter(|h| h.distance <= 4_050)
            .collect();
        assert_eq!(got.total, within.len(), "{opts:?}");
        assert_eq!(&out[..got.returned], &within[..got.returned], "{opts:?}");
    }
}

#[test]
fn bad_shapes_are_errors() {
    let space = Space::growable(Width::from_words(2).unwrap());
    let mut out = [Hit::default(); 4];
    let opts = SearchOptions::new();
    assert_eq!(
        space.nearest(&[1, 2, 3], &opts, &mut out),
        Err(SearchError::WidthMismatch {
            expected: 2,
            got: 3
        })
    );
    let q: &[u64] = &[1, 2];
    let mut lens = [0usize; 2];
    assert_eq!(
        space.nearest_batch(&[q, q], &opts, 3, &mut out, &mut lens),
        Err(SearchError::BatchBuffers {
            queries: 2,
            k: 3,
            hits: 4,
            lens: 2
        })
    );
    assert_eq!(
        space.nearest_batch(&[q, q], &opts, usize::MAX, &mut out, &mut lens),
        Err(SearchError::BatchBuffers {
            queries: 2,
            k: usize::MAX,
            hits: 4,
            lens: 2
        })
    );
    let e = SearchError::WidthMismatch {
        expected: 2,
        got: 3,
    };
    assert_eq!(
        std::format!("{e}"),
        "query width mismatch: the space holds 128 bits, the query has 192 bits"
    );
}

#[test]
fn lent_space_searches_like_growable() {
    use crate::space::{Lent, RowMeta, SlotPage};
    let mut arena = [0u64; 64 * 2];
    let mut meta = [RowMeta::EMPTY; 64];
    let mut pages = [SlotPage::EMPTY; 1];
    let w = Width::from_words(2).unwrap();
    let mut lent = Space::new(w, Lent::new(&mut arena, &mut meta, &mut pages));
    let mut grown = Space::growable(w);
    let mut g = SplitMix64::new(5);
    for slot in 0..64u8 {
        let fp = [g.next(), g.next()];
        lent.set(Addr::new(0x30, slot), &fp, 1).unwrap();
        grown.set(Addr::new(0x30, slot), &fp, 1).unwrap();
    }
    let q = [g.next(), g.next()];
    let (mut a, mut b) = ([Hit::default(); 10], [Hit::default(); 10]);
    let opts = SearchOptions::new();
    assert_eq!(lent.nearest(&q, &opts, &mut a), Ok(10));
    assert_eq!(grown.nearest(&q, &opts, &mut b), Ok(10));
    assert_eq!(a, b);
}
