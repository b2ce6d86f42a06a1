//! Power cuts at thousands of points of random workloads, on the
//! crash-simulating file system, checked against a `BTreeMap` model:
//! every acknowledged commit survives, nothing unacknowledged half-appears.

mod store_support;

use bindspace_core::prng::SplitMix64;
use bindspace_host::store::sim::SimFs;
use bindspace_host::store::{Durability, Store};
use std::path::Path;
use std::sync::Arc;
use store_support::{apply_model, random_batch, small_options, snapshot_of, Model};

fn trials(default: u64) -> u64 {
    std::env::var("BINDSPACE_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One workload with a power cut armed at a random I/O call. Returns
/// whether the cut landed inside the workload.
fn one_trial(seed: u64) -> bool {
    let mut rng = SplitMix64::new(seed);
    let words = 1 + rng.below(3) as usize;
    let mut options = small_options(words, 256 + rng.below(2048));
    // No prefill, steps smaller than a batch, or larger.
    options.prefill_bytes = [0, 64, 512][rng.below(3) as usize];
    let dir = Path::new("/data");
    let sim = SimFs::new();
    let cut_at = 1 + rng.below(130);
    sim.arm_cut(cut_at, seed ^ 0xC0FFEE);
    let mut models: Vec<Model> = vec![Model::new()];
    // (ops before, ops after) of each acknowledged commit, in order.
    let mut spans: Vec<(u64, u64)> = Vec::new();
    let store = match Store::open_with(Arc::new(sim.clone()), dir, options.clone()) {
        Ok(store) => store,
        Err(e) => panic!("seed {seed}: open failed: {e}"),
    };
    for step in 0..40 {
        if step % 13 == 12 {
            store.checkpoint().expect("checkpoint on a healthy disk");
        }
        let batch = random_batch(&mut rng, models.last().unwrap(), words);
        let before = sim.ops();
        store
            .commit(&batch.mutations())
            .expect("commit on a healthy disk");
        let after = sim.ops();
        let mut next = models.last().unwrap().clone();
        apply_model(&mut next, &batch.mutations());
        models.push(next);
        spans.push((before, after));
    }
    let landed = sim.ops() >= cut_at;
    let cut = sim.take_cut().unwrap_or_else(|| sim.crash(seed));
    drop(store);
    // Commits whose every I/O call happened before the cut were
    // acknowledged before power failed; the one spanning the cut was in
    // flight; the rest never started.
    let acked = if landed {
        spans.iter().filter(|(_, after)| *after < cut_at).count()
    } else {
        spans.len()
    };
    let in_flight = landed && spans.iter().any(|(b, a)| *b < cut_at && cut_at <= *a);
    let reopened = Store::open_with(Arc::new(cut), dir, options)
        .unwrap_or_else(|e| panic!("seed {seed}: reopening after the cut failed: {e}"));
    let got = snapshot_of(&reopened.view());
    let ok = got == models[acked] || (in_flight && got == models[acked + 1]);
    assert!(
        ok,
        "seed {seed}: cut at call {cut_at}: recovered state matches no allowed model \
         ({acked} acknowledged, in flight: {in_flight})\n got: {got:?}\n want: {:?}",
        models[acked]
    );
    landed
}

#[test]
fn every_acknowledged_commit_survives_power_cuts_at_random_points() {
    let n = trials(2000);
    let landed = (0..n).filter(|&seed| one_trial(seed)).count();
    println!("bindspace store crash points: {n} workloads, {landed} power cuts inside a commit or checkpoint");
    assert!(
        landed as u64 > n / 2,
        "too few cuts landed inside workloads"
    );
}

/// `Never` durability acknowledges without syncing: a cut may lose a
/// suffix of commits, but only whole batches, and nothing before the last
/// explicit sync.
#[test]
fn unsynced_commits_are_lost_only_as_a_suffix_of_whole_batches() {
    let n = trials(2000) / 2;
    for seed in 0..n {
        let mut rng = SplitMix64::new(seed + 1_000_000);
        let mut options = small_options(1, 512 + rng.below(1024));
        options.durability = Durability::Never;
        let dir = Path::new("/d");
        let sim = SimFs::new();
        let store = Store::open_with(Arc::new(sim.clone()), dir, options.clone()).unwrap();
        let mut models: Vec<Model> = vec![Model::new()];
        let mut synced = 0;
        for _ in 0..30 {
            let batch = random_batch(&mut rng, models.last().unwrap(), 1);
            store.commit(&batch.mutations()).unwrap();
            let mut next = models.last().unwrap().clone();
            apply_model(&mut next, &batch.mutations());
            models.push(next);
            if rng.below(6) == 0 {
                store.sync().unwrap();
                synced = models.len() - 1;
            }
        }
        let cut = sim.crash(seed);
        drop(store);
        let reopened = Store::open_with(Arc::new(cut), dir, options)
            .unwrap_or_else(|e| panic!("seed {seed}: reopen failed: {e}"));
        let got = snapshot_of(&reopened.view());
        let position = models.iter().rposition(|m| *m == got);
        assert!(
            position.is_some_and(|p| p >= synced),
            "seed {seed}: recovered state is not a whole-batch prefix at or after the last sync ({synced})"
        );
    }
}
