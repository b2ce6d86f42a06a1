//! Shared helpers for the store tests: a model of the space and workloads.
#![allow(dead_code, unreachable_pub)]

use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::space::Filter;
use bindspace_core::{Addr, Width};
use bindspace_host::store::sim::SimFs;
use bindspace_host::store::{Batch, Durability, Options, Vfs, View};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the model keeps per address: fingerprint, label, parent, expiry.
pub type ModelEntry = (Vec<u64>, String, Option<Addr>, Option<u64>);
/// The model: address -> entry.
pub type Model = BTreeMap<u16, ModelEntry>;

/// Small, fast options for simulated disks: segments prefilled in steps
/// of 128 bytes, so appends overwrite prefill and also grow the file.
pub fn small_options(width_words: usize, segment_bytes: u64) -> Options {
    Options {
        width: Width::from_words(width_words).unwrap(),
        durability: Durability::Always,
        segment_bytes,
        prefill_bytes: 128,
        recycle_segments: 2,
        // Checkpoints only when a test asks: a background one would make
        // the disk's call counts, and so the crash points, vary by run.
        checkpoint_after_segments: 0,
        repair: false,
        search_threads: 1,
    }
}

/// Whether the segment at `path` on `sim` was written over a covered
/// one's file (its header's recycled flag).
pub fn is_recycled(sim: &SimFs, path: &Path) -> bool {
    let image = sim.read(path).unwrap();
    bindspace_core::log::Reader::open(&image).is_ok_and(|(header, _)| header.recycled)
}

/// The segment files in `dir` on `sim`, oldest first.
pub fn segments(sim: &SimFs, dir: &str) -> Vec<PathBuf> {
    files_named(sim, dir, "wal-")
}

/// The files in `dir` on `sim` whose names start with `prefix`, in name
/// order.
pub fn files_named(sim: &SimFs, dir: &str, prefix: &str) -> Vec<PathBuf> {
    let mut names: Vec<_> = sim
        .list(Path::new(dir))
        .unwrap()
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names.into_iter().map(|n| Path::new(dir).join(n)).collect()
}

/// Everything a view holds, in the model's shape.
pub fn snapshot_of(view: &View) -> Model {
    view.iter(Filter::All)
        .map(|e| {
            (
                e.addr.0,
                (e.fp.to_vec(), e.label.to_string(), e.parent, e.expires_at),
            )
        })
        .collect()
}

/// Applies a batch to the model exactly as the space applies it.
pub fn apply_model(model: &mut Model, batch: &[Mutation<'_>]) {
    for m in batch {
        match *m {
            Mutation::Set { addr, fp } => {
                model
                    .entry(addr.0)
                    .and_modify(|e| e.0 = fp.to_vec())
                    .or_insert_with(|| (fp.to_vec(), String::new(), None, None));
            }
            Mutation::Delete { addr } => {
                model.remove(&addr.0);
            }
            Mutation::Expire { addr, at } => {
                if let Some(e) = model.get_mut(&addr.0) {
                    e.3 = at;
                }
            }
            Mutation::Meta {
                addr,
                label,
                parent,
            } => {
                if let Some(e) = model.get_mut(&addr.0) {
                    e.1 = String::from_utf8(label.to_vec()).unwrap();
                    e.2 = parent;
                }
            }
        }
    }
}

/// A random batch over a few addresses in three prefixes, valid against
/// `model` (Expire and Meta only on existing entries, or on ones the batch
/// sets first).
pub fn random_batch(rng: &mut SplitMix64, model: &Model, words: usize) -> Batch {
    let mut batch = Batch::new();
    let mut exists: BTreeMap<u16, bool> = BTreeMap::new();
    let n = 1 + rng.below(4) as usize;
    for _ in 0..n {
        let addr = Addr::new(
            [0x05, 0x20, 0x81][rng.below(3) as usize],
            rng.below(12) as u8,
        );
        let present = *exists.get(&addr.0).unwrap_or(&model.contains_key(&addr.0));
        match rng.below(10) {
            0..=4 => {
                let fp: Vec<u64> = (0..words).map(|_| rng.next()).collect();
                batch.set(addr, &fp);
                exists.insert(addr.0, true);
            }
            5 | 6 => {
                batch.delete(addr);
                exists.insert(addr.0, false);
            }
            7 if present => {
                let at = (rng.below(2) == 0).then(|| rng.below(1000));
                batch.expire(addr, at);
            }
            8 | 9 if present => {
                let label = format!("l{}", rng.below(100));
                let parent = (rng.below(2) == 0).then(|| Addr::new(0x81, rng.below(12) as u8));
                let parent = parent.filter(|p| *p != addr);
                batch.meta(addr, &label, parent);
            }
            _ => {
                batch.delete(addr);
                exists.insert(addr.0, false);
            }
        }
    }
    batch
}
