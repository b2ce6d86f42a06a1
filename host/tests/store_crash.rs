//! Power cuts at thousands of points of random workloads, on the
//! crash-simulating file system, checked against a `BTreeMap` model:
//! every acknowledged commit survives, nothing unacknowledged half-appears.

mod store_support;

use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::Addr;
use bindspace_host::store::sim::SimFs;
use bindspace_host::store::{Durability, Store};
use std::path::Path;
use std::sync::Arc;
use store_support::{
    apply_model, is_recycled, random_batch, segments, small_options, snapshot_of, Model,
};

fn trials(default: u64) -> u64 {
    std::env::var("BINDSPACE_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One workload with a power cut armed at a random I/O call. Returns
/// whether the cut landed inside the workload, and whether a recycled
/// segment (a covered file written again) was then in use.
fn one_trial(seed: u64) -> (bool, bool) {
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
    let recycled = segments(&cut, "/data").iter().any(|s| is_recycled(&cut, s));
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
    (landed, recycled)
}

#[test]
fn every_acknowledged_commit_survives_power_cuts_at_random_points() {
    let n = trials(2000);
    let (mut landed, mut recycled) = (0, 0);
    for seed in 0..n {
        let (l, r) = one_trial(seed);
        landed += u64::from(l);
        recycled += u64::from(l && r);
    }
    println!(
        "bindspace store crash points: {n} workloads, {landed} power cuts inside a commit \
         or checkpoint, {recycled} of them with a recycled segment on disk"
    );
    assert!(landed > n / 2, "too few cuts landed inside workloads");
    assert!(
        recycled > landed / 4,
        "too few cuts with a recycled segment on disk ({recycled} of {landed})"
    );
}

/// The two addresses thread `t`'s batch `b` sets (a pair differing in
/// the last bit, in `t`'s prefix).
fn batch_addrs(t: u16, b: u16) -> [u16; 2] {
    [(t << 8) | (2 * b), (t << 8) | (2 * b + 1)]
}

/// The value both addresses of thread `t`'s batch `b` get (never 0).
fn batch_value(t: u16, b: u16) -> u64 {
    (u64::from(t) << 16) | (u64::from(b) + 1)
}

/// Committer threads on a disk whose syncs take 300 µs, so each sync
/// leader gathers the others' commits and writes them while more arrive
/// (`Inner::gather`), and a power cut at a random call. Every commit
/// acknowledged before the cut survives whole; every entry recovered is
/// one that was committed, with its batch partner. Returns the writes and
/// syncs the run made, and whether the cut landed inside it.
fn concurrent_trial(seed: u64) -> (u64, u64, bool) {
    const THREADS: u16 = 8;
    const BATCHES: u16 = 12;
    let mut rng = SplitMix64::new(seed);
    let mut options = small_options(1, 1 << 20);
    options.prefill_bytes = 1 << 16;
    let dir = Path::new("/g");
    let sim = SimFs::new();
    sim.set_sync_delay(core::time::Duration::from_micros(300));
    let store = Store::open_with(Arc::new(sim.clone()), dir, options.clone()).unwrap();
    // The commits make about 35 calls (a prefill write, then per sync
    // one or two writes and the sync).
    let cut_at = sim.ops() + 1 + rng.below(36);
    sim.arm_cut(cut_at, seed ^ 0xFACADE);
    let (writes, syncs) = (sim.writes(), sim.syncs());
    // Each commit sets two addresses of its thread's prefix to the same
    // value; recorded with the disk's call count once it returned.
    let acked: Vec<(u16, u16, u64)> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (store, sim) = (&store, &sim);
                s.spawn(move || {
                    let mut acked = Vec::new();
                    for b in 0..BATCHES {
                        let value = [batch_value(t, b)];
                        let [first, second] = batch_addrs(t, b);
                        store
                            .commit(&[
                                Mutation::Set {
                                    addr: Addr(first),
                                    fp: &value,
                                },
                                Mutation::Set {
                                    addr: Addr(second),
                                    fp: &value,
                                },
                            ])
                            .expect("commit on a healthy disk");
                        acked.push((t, b, sim.ops()));
                    }
                    acked
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    let (writes, syncs) = (sim.writes() - writes, sim.syncs() - syncs);
    let landed = sim.ops() >= cut_at;
    let cut = sim.take_cut().unwrap_or_else(|| sim.crash(seed));
    drop(store);
    let reopened = Store::open_with(Arc::new(cut), dir, options)
        .unwrap_or_else(|e| panic!("seed {seed}: reopening after the cut failed: {e}"));
    let got = snapshot_of(&reopened.view());
    // A commit whose sync came before the cut was acknowledged before
    // power failed (the call count read after it returned is at least its
    // sync's number, so this never counts a commit that was not).
    for &(t, b, ops) in &acked {
        if !landed || ops < cut_at {
            for addr in batch_addrs(t, b) {
                assert_eq!(
                    got.get(&addr).map(|e| e.0[0]),
                    Some(batch_value(t, b)),
                    "seed {seed}: cut at call {cut_at}: acknowledged commit {t}/{b} lost at {addr:#06x}"
                );
            }
        }
    }
    for (&addr, entry) in &got {
        let (t, b) = (addr >> 8, (addr & 0xFF) / 2);
        assert!(
            t < THREADS && b < BATCHES,
            "seed {seed}: {addr:#06x} was never written"
        );
        assert_eq!(entry.0[0], batch_value(t, b), "seed {seed}");
        assert!(
            got.contains_key(&(addr ^ 1)),
            "seed {seed}: half of commit {t}/{b} recovered ({addr:#06x} without its partner)"
        );
    }
    (writes, syncs, landed)
}

#[test]
fn concurrent_commits_survive_power_cuts_while_the_leader_writes_early() {
    let n = trials(2000) / 50;
    let (mut writes, mut syncs, mut landed) = (0, 0, 0);
    for seed in 0..n {
        let (w, s, l) = concurrent_trial(seed + 2_000_000);
        writes += w;
        syncs += s;
        landed += u64::from(l);
    }
    println!(
        "bindspace concurrent crash points: {n} workloads, {landed} cuts inside them, \
         {writes} writes for {syncs} syncs"
    );
    assert!(landed > n / 2, "too few cuts landed inside workloads");
    // One prefill write each, then one write per sync unless a leader
    // wrote some of its group early: more writes than that shows the
    // early writes ran, and the checks above held across them.
    assert!(
        writes > syncs + n,
        "{writes} writes for {syncs} syncs in {n} workloads: no leader wrote early"
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
