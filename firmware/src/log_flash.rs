//! Phase "flash log": the NOR-flash log on a RAM-backed flash that enforces
//! the NOR rules (erase to `0xFF`, writes only clear bits, a word written
//! once per erase, alignment), with power cut at chosen bytes.
//!
//! A random workload (sets, overwrites, deletes, labels, expiry, batches of
//! three) over a few addresses runs write-ahead: check the batch, append it
//! to the log, and only once the append returned apply it to the live
//! space. The ring is small, so garbage collection copies live entries
//! forward and erases sectors many times over.
//!
//! 1. A run without cuts: the log's write amplification and every sector's
//!    erase count are printed, wear must be even (most-erased sector at
//!    most twice the least), and a fresh mount equals the live space.
//! 2. A power cut after every single programmed byte (an erase counts as
//!    one) of the workload's first batches, leaving the rest unprogrammed,
//!    then the same with the cut word left with random bits.
//! 3. Cuts at spread-out points of the whole workload (through garbage
//!    collection, sector opens and erases), most followed by a second cut
//!    after recovery, while the workload goes on from the recovered state.
//!
//! After every cut the flash is mounted into a fresh space, which must
//! equal the live space as of the last acknowledged batch, or as of the
//! batch in flight when its commit made it to flash. Every append error
//! but the power cut fails the phase: the mock flash would report a word
//! written twice, so "never append into a damaged region" is checked too.

use crate::buffers::{Buffers, Fp, WORDS};
use crate::check::{ensure, Failed};
use crate::flash::{Flash, SECTORS};
use crate::state::digest;
use bindspace_core::fingerprint::from_seed;
use bindspace_core::log::flash::{Config, Error, FlashLog};
use bindspace_core::log::mock_flash::{CutMode, MockFlashError};
use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::space::LentSpace;
use bindspace_core::Addr;

/// Batches in the workload.
const BATCHES: usize = 80;
/// Batches whose every byte gets a power cut, in each mode.
const EXHAUSTIVE_BATCHES: usize = 6;
/// Spread-out cut points over the whole workload, each with a second cut
/// drawn within what is left of it (137 of the 150 land).
const SPREAD_CUTS: u64 = 150;

/// Addresses the workload writes: few, so entries are overwritten often
/// and garbage collection finds live and dead records side by side.
const ADDRS: [Addr; 8] = [
    Addr::new(0x01, 0x00),
    Addr::new(0x01, 0x01),
    Addr::new(0x20, 0x10),
    Addr::new(0x20, 0x11),
    Addr::new(0x80, 0x00),
    Addr::new(0x80, 0x01),
    Addr::new(0x80, 0x02),
    Addr::new(0xF0, 0xFF),
];
const LABELS: [&[u8]; 4] = [
    b"door",
    b"kitchen",
    b"",
    b"a label of exactly 32 bytes ....",
];

fn config() -> Config {
    Config::new(crate::buffers::WIDTH, SECTORS as u32)
}

/// The next batch of the workload, valid against `space`.
fn next_batch<'f>(
    rng: &mut SplitMix64,
    space: &LentSpace<'_>,
    fps: &'f mut [Fp; 3],
) -> ([Mutation<'f>; 3], usize) {
    for f in fps.iter_mut() {
        let _ = from_seed(f, rng.next());
    }
    let mut pick = || ADDRS[rng.below(ADDRS.len() as u64) as usize];
    let (a, b, c) = (pick(), pick(), pick());
    let roll = rng.below(20);
    let tick = rng.below(1_000);
    let label = LABELS[rng.below(LABELS.len() as u64) as usize];
    let [f0, f1, f2] = fps;
    let set = Mutation::Set { addr: a, fp: f0 };
    let pad = Mutation::Delete { addr: a };
    match roll {
        0..=10 => ([set, pad, pad], 1),
        11..=13 => ([Mutation::Delete { addr: a }, pad, pad], 1),
        // Metadata needs an entry: without one, the batch sets it first.
        14..=15 => {
            let meta = Mutation::Meta {
                addr: a,
                label,
                parent: Some(b).filter(|&p| p != a),
            };
            if space.exists(a) {
                ([meta, pad, pad], 1)
            } else {
                ([set, meta, pad], 2)
            }
        }
        16..=17 => {
            let expire = Mutation::Expire {
                addr: a,
                at: tick.is_multiple_of(2).then_some(tick),
            };
            if space.exists(a) {
                ([expire, pad, pad], 1)
            } else {
                ([set, expire, pad], 2)
            }
        }
        _ => (
            [
                set,
                Mutation::Set { addr: b, fp: f1 },
                Mutation::Set { addr: c, fp: f2 },
            ],
            3,
        ),
    }
}

/// How a workload run ended.
enum Ran {
    /// Every batch was acknowledged.
    Finished,
    /// Power failed during an append: the digests of the live space as of
    /// the last acknowledged batch and with the batch in flight applied.
    Cut {
        acked: u64,
        in_flight: u64,
        batches_done: usize,
    },
}

/// Runs batches `batches` of the workload write-ahead on `log`, keeping
/// `live` equal to what was acknowledged.
fn run_workload(
    log: &mut FlashLog<'_, &mut Flash>,
    live: &mut LentSpace<'_>,
    rng: &mut SplitMix64,
    batches: core::ops::Range<usize>,
) -> Result<Ran, Failed> {
    let mut fps = [[0; WORDS]; 3];
    for n in batches {
        let (muts, len) = next_batch(rng, live, &mut fps);
        let batch = &muts[..len];
        ensure!(
            live.check_batch(batch).is_ok(),
            "workload batch {=usize} does not apply",
            n
        );
        let seq = log.next_seq();
        match log.append(batch, live) {
            Ok(got) => {
                ensure!(
                    got == seq,
                    "append gave sequence {=u64}, next_seq said {=u64}",
                    got,
                    seq
                );
                for m in batch {
                    ensure!(
                        live.apply(m, seq).is_ok(),
                        "batch {=usize} refused after logging",
                        n
                    );
                }
            }
            Err(Error::Storage(MockFlashError::PowerLost)) => {
                let acked = digest(live);
                for m in batch {
                    ensure!(live.apply(m, seq).is_ok(), "batch {=usize} refused", n);
                }
                return Ok(Ran::Cut {
                    acked,
                    in_flight: digest(live),
                    batches_done: n,
                });
            }
            Err(e) => {
                defmt::error!(
                    "append of batch {=usize} failed: {}",
                    n,
                    defmt::Debug2Format(&e)
                );
                return Err(Failed);
            }
        }
    }
    Ok(Ran::Finished)
}

#[inline(never)] // its own frame, so the stack it needs is measured alone
pub(crate) fn run(
    flash: &mut Flash,
    buf: &mut [u8],
    a: &mut Buffers,
    b: &mut Buffers,
) -> Result<(), Failed> {
    let units = uncut_run(flash, buf, a, b)?;
    let first = exhaustive_limit(flash, buf, a)?;
    let mut cuts = 0u32;
    for mode in [CutMode::Clean, CutMode::RandomWord] {
        for at in 0..first {
            if let Err(e) = cut_run(flash, buf, a, b, at, mode, None).map(drop) {
                defmt::error!("the run cut at step {=u64}", at);
                return Err(e);
            }
            cuts += 1;
        }
    }
    defmt::info!(
        "flash log: power cut at each of the {=u64} program/erase steps of the first {=usize} batches, clean and torn: {=u32} recoveries equal to what was acknowledged",
        first,
        EXHAUSTIVE_BATCHES,
        cuts
    );
    let mut rng = SplitMix64::new(0xD0_0B1E);
    let mut second_cuts = 0u64;
    for i in 0..SPREAD_CUTS {
        let at = units * i / SPREAD_CUTS + rng.below(units / SPREAD_CUTS + 1);
        let mode = if i % 2 == 0 {
            CutMode::RandomWord
        } else {
            CutMode::Clean
        };
        // Within what is left of the workload after the first cut, so the
        // second cut lands (the count below says how often it did).
        let second = rng.below(units.saturating_sub(at).max(1));
        match cut_run(flash, buf, a, b, at, mode, Some(second)) {
            Ok(Cuts::Two) => second_cuts += 1,
            Ok(Cuts::One | Cuts::None) => {}
            Err(e) => {
                defmt::error!(
                    "the run cut at step {=u64}, then {=u64} steps after recovery",
                    at,
                    second
                );
                return Err(e);
            }
        }
    }
    defmt::info!(
        "flash log: {=u64} cuts spread over all {=u64} steps, {=u64} of them followed by a second cut after recovery: all recovered",
        SPREAD_CUTS,
        units,
        second_cuts
    );
    // Most must get their second cut, or this phase tests less than it says.
    if second_cuts * 4 < SPREAD_CUTS * 3 {
        defmt::error!(
            "only {=u64} of {=u64} runs were cut a second time",
            second_cuts,
            SPREAD_CUTS
        );
        return Err(Failed);
    }
    Ok(())
}

/// Erases the whole log and hands the flash back, power on, counters zero.
fn formatted<'f>(flash: &'f mut Flash, buf: &mut [u8]) -> Result<&'f mut Flash, Failed> {
    flash.power_on();
    match FlashLog::format(flash, buf, config()) {
        Ok(log) => {
            let flash = log.into_flash();
            flash.reset_stats();
            Ok(flash)
        }
        Err(e) => {
            defmt::error!("format failed: {}", defmt::Debug2Format(&e));
            Err(Failed)
        }
    }
}

/// Mounts the flash into `target` (a fresh space) and checks it against
/// the acknowledged state (or the in-flight batch's).
fn mount_and_check<'b, 'f>(
    flash: &'f mut Flash,
    buf: &'b mut [u8],
    target: &mut LentSpace<'_>,
    acked: u64,
    in_flight: Option<u64>,
) -> Result<FlashLog<'b, &'f mut Flash>, Failed> {
    let (log, recovery) = match FlashLog::mount(flash, buf, config(), target) {
        Ok(mounted) => mounted,
        Err(e) => {
            defmt::error!("mount failed: {}", defmt::Debug2Format(&e));
            return Err(Failed);
        }
    };
    let got = digest(target);
    if got != acked && Some(got) != in_flight {
        defmt::error!("mount recovered {}", defmt::Debug2Format(&recovery));
    }
    ensure!(
        got == acked || Some(got) == in_flight,
        "recovered state {=u64:#x} is neither the acknowledged {=u64:#x} nor the in-flight {:?}",
        got,
        acked,
        in_flight
    );
    Ok(log)
}

/// The whole workload without a cut; returns the program/erase steps it
/// took, after printing write amplification and wear.
fn uncut_run(
    flash: &mut Flash,
    buf: &mut [u8],
    a: &mut Buffers,
    b: &mut Buffers,
) -> Result<u64, Failed> {
    let flash = formatted(flash, buf)?;
    flash.cut_power_after(u64::MAX, CutMode::Clean, 0);
    let mut live = a.space();
    let (mut log, _) = match FlashLog::mount(flash, buf, config(), &mut live) {
        Ok(m) => m,
        Err(_) => {
            defmt::error!("mounting a formatted flash failed");
            return Err(Failed);
        }
    };
    let mut rng = SplitMix64::new(0xF1A5);
    ensure!(
        matches!(
            run_workload(&mut log, &mut live, &mut rng, 0..BATCHES)?,
            Ran::Finished
        ),
        "uncut run was cut"
    );
    let stats = *log.stats();
    let flash = log.into_flash();
    let units = u64::MAX - flash.budget().unwrap_or(0);
    let erases = flash.all_stats().map(|s| s.erases);
    let (min, max) = (
        erases.iter().min().copied().unwrap_or(0),
        erases.iter().max().copied().unwrap_or(0),
    );
    defmt::info!(
        "flash log: {=u64} batches, {=u64} payload bytes, {=u64} bytes programmed ({=u64}.{=u64:02} per payload byte), {=u64} copied by {=u64} GC runs",
        stats.batches,
        stats.payload_bytes,
        stats.programmed_bytes,
        stats.programmed_bytes / stats.payload_bytes.max(1),
        stats.programmed_bytes * 100 / stats.payload_bytes.max(1) % 100,
        stats.copied_bytes,
        stats.gc_runs
    );
    defmt::info!(
        "flash log: erases per sector {:?} (min {=u64}, max {=u64})",
        erases,
        min,
        max
    );
    ensure!(
        stats.gc_runs > 0,
        "the workload must make garbage collection run"
    );
    ensure!(
        min > 0 && max <= 2 * min,
        "wear: erases per sector from {=u64} to {=u64}",
        min,
        max
    );
    let acked = digest(&live);
    flash.power_on();
    mount_and_check(flash, buf, &mut b.space(), acked, None)?;
    Ok(units)
}

/// The program/erase steps taken by the first `EXHAUSTIVE_BATCHES` batches.
fn exhaustive_limit(flash: &mut Flash, buf: &mut [u8], a: &mut Buffers) -> Result<u64, Failed> {
    let flash = formatted(flash, buf)?;
    flash.cut_power_after(u64::MAX, CutMode::Clean, 0);
    let mut live = a.space();
    let Ok((mut log, _)) = FlashLog::mount(flash, buf, config(), &mut live) else {
        defmt::error!("mounting a formatted flash failed");
        return Err(Failed);
    };
    let mut rng = SplitMix64::new(0xF1A5);
    let ran = run_workload(&mut log, &mut live, &mut rng, 0..EXHAUSTIVE_BATCHES)?;
    ensure!(matches!(ran, Ran::Finished), "uncut run was cut");
    Ok(u64::MAX - log.into_flash().budget().unwrap_or(0))
}

/// How many power cuts a [`cut_run`] made.
enum Cuts {
    /// The cut point lay past the workload.
    None,
    One,
    Two,
}

/// One run with power cut after `at` steps, recovery, and optionally the
/// workload going on from the recovered state until a second cut `second`
/// steps later, then recovery again.
fn cut_run(
    flash: &mut Flash,
    buf: &mut [u8],
    a: &mut Buffers,
    b: &mut Buffers,
    at: u64,
    mode: CutMode,
    second: Option<u64>,
) -> Result<Cuts, Failed> {
    let flash = formatted(flash, buf)?;
    flash.cut_power_after(at, mode, at);
    let mut live = a.space();
    let Ok((mut log, _)) = FlashLog::mount(&mut *flash, buf, config(), &mut live) else {
        defmt::error!("mounting a formatted flash failed");
        return Err(Failed);
    };
    let mut rng = SplitMix64::new(0xF1A5);
    let ran = run_workload(&mut log, &mut live, &mut rng, 0..BATCHES)?;
    let Ran::Cut {
        acked,
        in_flight,
        batches_done,
    } = ran
    else {
        return Ok(Cuts::None); // the cut point lies past the workload
    };
    flash.power_on();
    if let Some(second) = second {
        flash.cut_power_after(second, mode, !at);
    }
    let mut recovered = b.space();
    let mut log = mount_and_check(flash, buf, &mut recovered, acked, Some(in_flight))?;
    let Some(_) = second else {
        return Ok(Cuts::One);
    };
    let ran = run_workload(
        &mut log,
        &mut recovered,
        &mut rng,
        batches_done + 1..BATCHES,
    )?;
    let flash = log.into_flash();
    flash.power_on();
    Ok(match ran {
        Ran::Finished => {
            mount_and_check(flash, buf, &mut a.space(), digest(&recovered), None)?;
            Cuts::One
        }
        Ran::Cut {
            acked, in_flight, ..
        } => {
            mount_and_check(flash, buf, &mut a.space(), acked, Some(in_flight))?;
            Cuts::Two
        }
    })
}
