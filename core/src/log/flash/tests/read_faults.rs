//! Read faults: a read that fails is an error, never erased flash, never
//! the end of the log. Seed defect "I/O error taken for end of file": had
//! a failed read been taken for erased bytes, a live sector would have
//! looked free and garbage collection could have erased it.
//!
//! Every test injects one fault at every read call in turn
//! ([`MockFlash::fail_read_after`], whose failed read also fills the
//! buffer with `0xFF`), until a run ends with the fault never reached.

use std::format;
use std::vec::Vec;

use super::*;
use crate::log::header::{Header, NO_PREV_END};
use crate::log::mock_flash::MockFlashError;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A log after garbage collection (retire records, a ring that does not
/// start at sector 0), with a stale valid header in a free sector.
fn collected_image() -> Flash {
    let mut flash = Flash::new();
    let mut buf = [0u8; 2304];
    fill(&mut flash, &mut buf, 3, 300);
    let ring = live_by_segment(&mut flash, &mut buf);
    let free = (0..6u32).find(|s| !ring.contains(s)).unwrap();
    let stale = Header {
        erase_count: 1,
        prev_end: NO_PREV_END,
        ..Header::new(width(), 4, 0, 1)
    };
    let mut h = [0u8; 40];
    let n = stale.encode(&mut h).unwrap();
    flash.write(free * 1024, &h[..n]).unwrap();
    flash
}

/// The same log with a torn write at the head.
fn torn_image() -> Flash {
    let mut flash = collected_image();
    let mut buf = [0u8; 2304];
    let mut model = Model::default();
    let (mut log, _) = FlashLog::mount(&mut flash, &mut buf, cfg(), &mut model).unwrap();
    let f = fp(77);
    let batch = [Mutation::Set {
        addr: Addr::new(0x70, 1),
        fp: &f,
    }];
    // One batch first, so that the stale sweep and any sector open are
    // done and the cut falls inside the record.
    let seq = log.append(&batch, &model).unwrap();
    model.apply(&batch[0], seq).unwrap();
    log.flash.cut_power_after(30, CutMode::Clean, 1);
    assert!(matches!(
        log.append(&batch, &model),
        Err(Error::Storage(MockFlashError::PowerLost))
    ));
    flash.power_on();
    flash
}

/// The collected log with a damaged record in its oldest sector, so that
/// a repair mount resynchronises.
fn damaged_image() -> Flash {
    let mut flash = collected_image();
    let mut buf = [0u8; 2304];
    let oldest = live_by_segment(&mut flash, &mut buf)[0] as usize;
    // A fingerprint byte of the sector's first record (header 40 + 30).
    flash.corrupt(oldest * 1024 + 70, 0x10);
    flash
}

fn repair() -> Config {
    Config {
        policy: Policy::Repair,
        ..cfg()
    }
}

/// Whether the two flashes hold the same bytes and the same written words.
fn same_image(a: &Flash, b: &Flash) -> bool {
    (0..6).all(|s| a.sector(s) == b.sector(s))
        && (0..6 * 1024).all(|i| a.is_written(i) == b.is_written(i))
}

/// Mount with a read fault at every read call in turn: each fails with
/// the storage error, writes and erases nothing, and never mounts a
/// shorter log; the run that reaches no fault mounts the whole log.
#[test]
fn a_failed_read_during_mount_is_an_error_never_a_shorter_log() {
    let cases = [
        ("empty", Flash::new(), cfg()),
        ("collected", collected_image(), cfg()),
        ("torn head", torn_image(), cfg()),
        ("damaged, repair", damaged_image(), repair()),
    ];
    for (name, image, config) in cases {
        let mut buf = [0u8; 2304];
        let mut want = Model::default();
        let want_rec = FlashLog::mount(&mut image.clone(), &mut buf, config, &mut want)
            .map(|(_, rec)| rec)
            .unwrap();
        let mut n = 0;
        loop {
            let mut flash = image.clone();
            flash.reset_stats();
            flash.fail_read_after(n);
            let mut got = Model::default();
            let r = FlashLog::mount(&mut flash, &mut buf, config, &mut got).map(|(_, rec)| rec);
            let case = format!("{name}: fault at read {n}");
            let untouched = flash
                .all_stats()
                .iter()
                .all(|s| s.writes == 0 && s.erases == 0);
            assert!(
                untouched && same_image(&flash, &image),
                "{case}: flash changed"
            );
            if flash.read_fault_pending() {
                // No fault reached: every read of the mount was tried.
                assert_eq!(r, Ok(want_rec), "{case}");
                assert_eq!(got, want, "{case}");
                assert!(n >= 6, "{case}: too few reads");
                break;
            }
            assert!(
                matches!(r, Err(Error::Storage(MockFlashError::ReadFailed { .. }))),
                "{case}: mounted as {r:?}"
            );
            n += 1;
        }
        if name != "empty" {
            assert!(!want.0.is_empty() && n > 50, "{name}: {n} reads");
        }
        if name == "torn head" {
            assert!(matches!(want_rec.head_end, Some(SectorEnd::Torn(_))));
        }
        if name == "damaged, repair" {
            assert_eq!(want_rec.damage.regions, 1, "{name}: resync ran");
        }
    }
}

/// The batches of the append script: overwrites that keep garbage
/// collection busy, and new addresses it must copy forward.
fn script(i: u64, f: &[u64; W]) -> Vec<Mutation<'_>> {
    let a = Addr::new(0x80, (i % 5) as u8);
    let mut batch = Vec::from([Mutation::Set { addr: a, fp: f }]);
    if i.is_multiple_of(4) {
        batch.push(Mutation::Set {
            addr: Addr::new(0x60, i as u8),
            fp: f,
        });
    }
    if i.is_multiple_of(6) {
        batch.push(Mutation::Meta {
            addr: a,
            label: b"m",
            parent: None,
        });
    }
    batch
}

/// Appends (through the stale-sector sweep, sector opens and garbage
/// collection) with a read fault at every read call in turn: the append
/// that meets it fails with the storage error, the log goes on appending,
/// and a remount without faults finds every acknowledged batch and no
/// damage.
#[test]
fn a_failed_read_during_append_or_gc_loses_nothing_acknowledged() {
    const BATCHES: u64 = 30;
    let image = collected_image();
    let mut buf = [0u8; 2304];
    let fps: Vec<[u64; W]> = (0..BATCHES).map(|i| fp(i + 5000)).collect();
    let mut n = 0;
    loop {
        let mut flash = image.clone();
        let mut model = Model::default();
        let (mut log, rec) = FlashLog::mount(&mut flash, &mut buf, cfg(), &mut model).unwrap();
        assert_eq!(rec.stale_sectors, 1);
        log.flash.fail_read_after(n);
        for i in 0..BATCHES {
            let batch = script(i, &fps[i as usize]);
            let pending = log.flash.read_fault_pending();
            let r = log.append(&batch, &model);
            let hit = pending && !log.flash.read_fault_pending();
            let case = format!("fault at read {n}, batch {i}");
            match r {
                Ok(seq) => {
                    assert!(!hit, "{case}: the append that met it succeeded");
                    for m in &batch {
                        model.apply(m, seq).unwrap();
                    }
                }
                Err(e) => assert!(
                    hit && matches!(e, Error::Storage(MockFlashError::ReadFailed { .. })),
                    "{case}: {e:?}"
                ),
            }
        }
        let reached = !log.flash.read_fault_pending();
        let gc_runs = log.stats().gc_runs;
        // The remount reads without faults (none left within reach).
        flash.fail_read_after(u64::MAX);
        let mut got = Model::default();
        let (_, rec) = FlashLog::mount(&mut flash, &mut buf, cfg(), &mut got).unwrap();
        assert_eq!(got, model, "fault at read {n}");
        assert!(rec.damage.is_none(), "fault at read {n}: {rec:?}");
        if !reached {
            assert!(gc_runs >= 2 && n > 500, "{gc_runs} collections, {n} reads");
            break;
        }
        n += 1;
    }
}
