//! One log format everywhere: the log a `BindSpace` writes is the same
//! bytes natively as in wasm, the host store opens it, and a host store's
//! log opens in the binding.
//!
//! These tests run natively (`cargo test -p bindspace-wasm`). Their other
//! half runs in Node against the installed npm package
//! (`wasm/dev/package-tests/import.test.mjs`): it replays the same
//! workload and requires `exportLog()` to equal
//! `fixtures/binding-workload.bslog` byte for byte, and opens
//! `fixtures/host-workload.bslog`, written by the host store.
//!
//! Regenerate the fixtures (after a deliberate format change only) with
//! `BINDSPACE_REGENERATE=1 cargo test -p bindspace-wasm --test portable_log`.
#![cfg(not(target_arch = "wasm32"))]

use bindspace_core::fingerprint;
use bindspace_core::log::{replay, Policy};
use bindspace_core::mutation::Mutation;
use bindspace_core::space::{Entry, Filter, Space, Storage};
use bindspace_core::{Addr, Width};
use bindspace_host::store::{Durability, Options, Store};
use bindspace_wasm::journal::Journal;
use bindspace_wasm::storage::Capped;
use std::path::{Path, PathBuf};

const BITS: u32 = 1024;

/// One write of the workload, owning its data (the JS side does the same
/// calls in the same order).
enum Op {
    Set(u16, Vec<u64>),
    Meta(u16, &'static str, Option<u16>),
    Expire(u16, Option<u64>),
    Delete(u16),
}

fn text(t: &str) -> Vec<u64> {
    let mut fp = vec![0; (BITS / 64) as usize];
    fingerprint::encode_text(&mut fp, t).unwrap();
    fp
}

/// The workload, also spelled out in `wasm/dev/package-tests/workload.mjs`.
fn workload() -> Vec<Op> {
    let cat = text("the cat sat on the mat");
    let dog = text("a dog barked all night");
    let mut seeded = vec![0; cat.len()];
    fingerprint::from_seed(&mut seeded, 7).unwrap();
    let mut bound = vec![0; cat.len()];
    fingerprint::bind(&mut bound, &cat, &dog).unwrap();
    let mut moved = vec![0; cat.len()];
    fingerprint::permute(&mut moved, &text("x"), 5).unwrap();
    vec![
        Op::Set(0x8000, cat),
        Op::Set(0x8001, dog),
        Op::Meta(0x8001, "dog", Some(0x8000)),
        Op::Set(0x1000, seeded),
        Op::Expire(0x1000, Some(500)),
        Op::Set(0x0001, bound),
        Op::Delete(0x8000),
        Op::Set(0xFFFF, moved),
    ]
}

fn mutation(op: &Op) -> Mutation<'_> {
    match op {
        Op::Set(a, fp) => Mutation::Set { addr: Addr(*a), fp },
        Op::Meta(a, label, parent) => Mutation::Meta {
            addr: Addr(*a),
            label: label.as_bytes(),
            parent: parent.map(Addr),
        },
        Op::Expire(a, at) => Mutation::Expire {
            addr: Addr(*a),
            at: *at,
        },
        Op::Delete(a) => Mutation::Delete { addr: Addr(*a) },
    }
}

/// The workload through the binding's write path (frame, append, apply),
/// one batch per write, as `BindSpace` does it.
fn binding_log() -> (Space<Capped>, Journal) {
    let width = Width::from_bits(BITS).unwrap();
    let mut space = Space::new(width, Capped::with_max_rows(64));
    let mut journal = Journal::new(width);
    for op in workload() {
        let m = mutation(&op);
        space.check(&m).unwrap();
        let framed = journal.frame(&[m]).unwrap();
        journal.append(&framed);
        space.apply(&m, framed.seq).unwrap();
    }
    (space, journal)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn regenerate() -> bool {
    std::env::var_os("BINDSPACE_REGENERATE").is_some()
}

/// Every entry as comparable values.
fn contents<S: Storage>(space: &Space<S>) -> Vec<String> {
    space
        .iter(Filter::All)
        .map(|e: Entry<'_>| format!("{e:?}"))
        .collect()
}

fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bindspace-wasm-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn host_options() -> Options {
    Options {
        width: Width::from_bits(BITS).unwrap(),
        durability: Durability::Always,
        ..Options::default()
    }
}

#[test]
fn the_binding_writes_the_pinned_bytes() {
    let (_, journal) = binding_log();
    let path = fixture("binding-workload.bslog");
    if regenerate() {
        std::fs::write(&path, journal.image()).unwrap();
    }
    let pinned = std::fs::read(&path).unwrap();
    assert_eq!(
        journal.image(),
        &pinned[..],
        "the binding's log bytes changed"
    );
}

#[test]
fn the_host_store_opens_a_log_the_binding_wrote() {
    let (space, _) = binding_log();
    let dir = scratch_dir("host-opens-binding");
    std::fs::copy(
        fixture("binding-workload.bslog"),
        dir.join("wal-0000000000000001.log"),
    )
    .unwrap();
    let store = Store::open(&dir, host_options()).unwrap();
    let view = store.view();
    let host: Vec<String> = view.iter(Filter::All).map(|e| format!("{e:?}")).collect();
    assert_eq!(host, contents(&space));
    assert_eq!(view.len(), 4);
    store.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_log_the_host_store_wrote_opens_in_the_binding() {
    let (space, _) = binding_log();
    let dir = scratch_dir("binding-opens-host");
    let store = Store::open(&dir, host_options()).unwrap();
    for op in workload() {
        store.commit(&[mutation(&op)]).unwrap();
    }
    store.close().unwrap();
    let segments: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    assert_eq!(segments.len(), 1, "one segment: {segments:?}");
    let image = std::fs::read(&segments[0]).unwrap();
    let path = fixture("host-workload.bslog");
    if regenerate() {
        std::fs::write(&path, &image).unwrap();
    }
    // What the host writes today and what it wrote when the fixture was
    // made both open with the binding's reader to the same contents.
    for bytes in [image, std::fs::read(&path).unwrap()] {
        let mut opened = Space::new(Width::from_bits(BITS).unwrap(), Capped::with_max_rows(64));
        let (journal, replayed) = Journal::open(&bytes, &mut opened, Policy::Strict).unwrap();
        assert_eq!(contents(&opened), contents(&space));
        assert_eq!(replayed.counts.batches, 8);
        assert_eq!(journal.next_seq(), 9);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_pinned_log_replays_with_the_core_alone() {
    let (space, _) = binding_log();
    let bytes = std::fs::read(fixture("binding-workload.bslog")).unwrap();
    let mut plain = Space::growable(Width::from_bits(BITS).unwrap());
    let replayed = replay(&bytes, None, &mut plain, Policy::Strict).unwrap();
    assert_eq!(replayed.counts.batches, 8);
    let plain_contents: Vec<String> = plain.iter(Filter::All).map(|e| format!("{e:?}")).collect();
    assert_eq!(plain_contents, contents(&space));
}
