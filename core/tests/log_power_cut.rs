//! Power cut at every byte: for scripted workloads (single sets, batches,
//! overwrites, deletes, garbage-collection cycles) the mock flash loses
//! power after every possible programmed byte (an erase counts as one);
//! recovery must give the state of the last acknowledged batch, or of the
//! one in flight; the log must go on working after it; and a second cut
//! during the work that follows a recovery must be survived too.
//!
//! Two ways to reach a cut point: `continuous` runs the workload from the
//! start in one session and cuts at the n-th byte; `after_mount` starts
//! every batch from a snapshot of the flash taken before it and mounts
//! first (a device rebooting between batches), which makes exhaustive
//! cutting of long workloads cheap.
//!
//! The full suite (about 700,000 cut points) takes a minute or two in a
//! release build; a debug build runs every test on a smaller share of the
//! cut points, and every report line says which (scripts/test.d/52-log-fuzz.sh
//! runs the full suite; `BINDSPACE_POWER_CUT=full` forces it anywhere).

mod log_support;

use bindspace_core::log::mock_flash::CutMode;
use bindspace_core::prng::SplitMix64;
use bindspace_core::Addr;
use log_support::*;

/// Whether to cover every cut point (release builds, or asked for).
fn full() -> bool {
    !cfg!(debug_assertions) || std::env::var("BINDSPACE_POWER_CUT").is_ok_and(|v| v == "full")
}

/// `full` in a full run, else `quick`.
fn pick<T>(full_value: T, quick: T) -> T {
    if full() {
        full_value
    } else {
        quick
    }
}

/// Batches appended after each recovery, before a last clean remount.
const AFTER: usize = 6;
/// Second cuts: exhaustive after one first cut in this many...
const SECOND_EVERY: u64 = 16;
/// ...and this many random ones after the others.
const SECOND_SAMPLE: u64 = 4;

/// Checks what recovery gives after `r`, appends a few more batches and
/// remounts; returns the recovered state.
fn recover_and_go_on(
    flash: &mut Flash,
    buf: &mut Buf,
    r: &Run,
    batches: &[Batch],
    what: &str,
) -> Model {
    flash.power_on();
    let (space, _) = recover(flash, buf);
    let recovered = check_recovered(&space, r, batches).unwrap_or_else(|e| panic!("{what}: {e}"));
    let from = r.done.min(batches.len());
    let rest = &batches[from..(from + AFTER).min(batches.len())];
    let after = run(flash, buf, &recovered, rest);
    assert_eq!(after.done, rest.len(), "{what}: appends after recovery");
    let (space, rec) = recover(flash, buf);
    after
        .acked
        .matches(&space)
        .unwrap_or_else(|e| panic!("{what}, after more appends: {e}"));
    assert!(rec.damage.is_none(), "{what}: {:?}", rec.damage);
    recovered
}

/// Cuts a continuous run of the whole workload at each of `cuts`.
fn continuous(
    name: &str,
    batches: &[Batch],
    cuts: impl Iterator<Item = u64>,
    mode: CutMode,
) -> u64 {
    let mut covered = 0;
    let mut buf = [0u8; 2304];
    for cut in cuts {
        let mut flash = Flash::new();
        flash.cut_power_after(cut, mode, cut);
        let r = run(&mut flash, &mut buf, &Model::default(), batches);
        recover_and_go_on(
            &mut flash,
            &mut buf,
            &r,
            batches,
            &format!("{name}: cut at {cut}"),
        );
        covered += 1;
    }
    covered
}

/// The flash and the model before each batch, each batch run after a
/// mount, with the cut points each batch takes.
fn snapshots(batches: &[Batch]) -> Vec<(Flash, Model, u64)> {
    let mut buf = [0u8; 2304];
    let mut flash = Flash::new();
    let mut model = Model::default();
    let mut out = Vec::new();
    for b in batches.chunks(1) {
        let before = flash.clone();
        flash.cut_power_after(u64::MAX, CutMode::Clean, 0);
        let r = run(&mut flash, &mut buf, &model, b);
        assert_eq!(r.done, 1);
        let units = u64::MAX - flash.budget().unwrap();
        flash.power_on();
        out.push((before, model.clone(), units));
        model = r.acked;
    }
    out
}

/// Cuts every batch, started after a mount, at every `stride`-th of its
/// bytes (every one with stride 1);
/// with `second`, also cuts the work after each recovery during its first
/// append: at every byte of it after one first cut in `SECOND_EVERY`, at
/// `SECOND_SAMPLE` random bytes of it after the others. Returns (first
/// cuts, second cuts).
fn after_mount(
    name: &str,
    batches: &[Batch],
    mode: CutMode,
    second: bool,
    stride: u64,
) -> (u64, u64) {
    let snaps = snapshots(batches);
    let mut buf = [0u8; 2304];
    let (mut first, mut seconds) = (0, 0);
    for (i, (start, model, units)) in snaps.iter().enumerate() {
        let tail = &batches[i..];
        for cut in (0..*units).filter(|c| (c + i as u64).is_multiple_of(stride)) {
            let mut flash = start.clone();
            flash.cut_power_after(cut, mode, cut ^ (i as u64) << 32);
            let r = run(&mut flash, &mut buf, model, tail);
            let what = format!("{name}: batch {i}, cut at {cut}");
            let recovered = recover_and_go_on(&mut flash.clone(), &mut buf, &r, tail, &what);
            first += 1;
            if !second {
                continue;
            }
            // A second cut during the first append after recovery (closing
            // a torn sector, erasing stale sectors, garbage collection).
            let next = &tail[r.done.min(tail.len())..];
            let Some(b) = next.first() else { continue };
            let mut probe = flash.clone();
            probe.power_on();
            probe.cut_power_after(u64::MAX, CutMode::Clean, 0);
            let p = run(&mut probe, &mut buf, &recovered, core::slice::from_ref(b));
            assert_eq!(p.done, 1, "{what}: first append after recovery");
            let work = u64::MAX - probe.budget().unwrap();
            let mut rng = SplitMix64::new(cut);
            let cuts2: Vec<u64> = if cut % SECOND_EVERY == 0 {
                (0..work).collect()
            } else {
                (0..SECOND_SAMPLE).map(|_| rng.below(work)).collect()
            };
            for cut2 in cuts2 {
                let mut f2 = flash.clone();
                f2.power_on();
                f2.cut_power_after(cut2, mode, cut2 + 1);
                let r2 = run(&mut f2, &mut buf, &recovered, next);
                recover_and_go_on(
                    &mut f2,
                    &mut buf,
                    &r2,
                    next,
                    &format!("{what}, second cut at {cut2}"),
                );
                seconds += 1;
            }
        }
    }
    (first, seconds)
}

fn report(name: &str, covered: u64, total: u64) {
    let how = if full() {
        "full run"
    } else {
        "quick run: debug build"
    };
    eprintln!("power-cut {name}: {covered} cut points covered of {total} ({how})");
}

fn singles() -> Vec<Batch> {
    (0..12u8)
        .map(|i| vec![Op::Set(Addr::new(0x80, i), [i as u64, !(i as u64)])])
        .collect()
}

#[test]
fn single_sets_every_byte() {
    let b = singles();
    let total = cut_points(&b);
    let n = continuous("single sets", &b, 0..total, CutMode::Clean);
    assert_eq!(n, total);
    report("single sets (continuous)", n, total);
}

#[test]
fn batches_every_byte() {
    let b = workload(1, 14, 6, 4);
    let total = cut_points(&b);
    let n = continuous("batches", &b, 0..total, CutMode::Clean);
    assert_eq!(n, total);
    report("batches (continuous)", n, total);
}

#[test]
fn overwrites_and_deletes_every_byte_random_bits() {
    let mut b: Vec<Batch> = (0..10u64)
        .map(|i| vec![Op::Set(Addr::new(0x80, (i % 3) as u8), [i, i * 7])])
        .collect();
    b.push(vec![Op::Delete(Addr::new(0x80, 1))]);
    b.push(vec![Op::Meta(Addr::new(0x80, 2), "two".into(), None)]);
    b.push(vec![
        Op::Delete(Addr::new(0x80, 2)),
        Op::Set(Addr::new(0x80, 2), [5, 5]),
    ]);
    let total = cut_points(&b);
    let n = continuous("overwrites+deletes", &b, 0..total, CutMode::RandomWord);
    assert_eq!(n, total);
    report("overwrites+deletes (continuous, random bits)", n, total);
}

/// Enough overwrites on 8 sectors of 1 KiB to run garbage collection many
/// times, every batch cut at every byte.
#[test]
fn garbage_collection_cycles_every_byte() {
    let b = workload(7, 200, 10, 3);
    let total: u64 = snapshots(&b).iter().map(|s| s.2).sum();
    let (n, _) = after_mount("GC cycles", &b, CutMode::Clean, false, pick(1, 5));
    report("GC cycles (after mount)", n, total);
    let (n, _) = after_mount("GC cycles", &b, CutMode::RandomWord, false, pick(1, 13));
    report("GC cycles (after mount, random bits)", n, total);
}

/// A cut, then a second cut at every byte of the first append after the
/// recovery.
#[test]
fn two_cuts_in_a_row() {
    let b = workload(5, pick(60, 12), 8, 3);
    let total: u64 = snapshots(&b).iter().map(|s| s.2).sum();
    let (first, second) = after_mount("two cuts", &b, CutMode::Clean, true, 1);
    report("two cuts in a row (first cuts)", first, total);
    report(
        "two cuts in a row (second cuts, during the append after recovery)",
        second,
        second,
    );
}

#[test]
fn long_workload_random_cuts() {
    let b = workload(11, 400, 24, 4);
    let total = cut_points(&b);
    let mut rng = SplitMix64::new(99);
    let cuts: Vec<u64> = (0..pick(3000, 200)).map(|_| rng.below(total)).collect();
    let n = continuous("long", &b, cuts.into_iter(), CutMode::RandomWord);
    report(
        "long workload (continuous, random cuts, random bits)",
        n,
        total,
    );
}
