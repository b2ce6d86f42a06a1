//! Writes the seed corpus of the `recovery` fuzz target
//! (core/fuzz/corpus/recovery/): mock-flash images of the target's geometry
//! (6 sectors of 512 bytes, 4-byte words, 128-bit fingerprints) holding a
//! clean log, a log after garbage collection, a torn tail, damage in the
//! middle, and a plain in-memory image.
//!
//! It is a generator, not a check, so it is ignored by default; run it with
//! `cargo test -p bindspace-core --test log_fuzz_seeds -- --ignored`.

use std::path::Path;

use bindspace_core::log::flash::{Config, FlashLog};
use bindspace_core::log::mock_flash::{CutMode, MockFlash};
use bindspace_core::log::{Apply, Encoder, Header};
use bindspace_core::mutation::Mutation;
use bindspace_core::space::Space;
use bindspace_core::{Addr, Width};

type Flash = MockFlash<6, 512, 4>;

fn image(flash: &Flash) -> Vec<u8> {
    (0..6).flat_map(|s| flash.sector(s).to_vec()).collect()
}

/// Appends `n` overwrites of a few addresses, cutting power after `cut`
/// programmed bytes if given.
fn log_of(n: u64, cut: Option<u64>) -> Flash {
    let width = Width::from_words(2).unwrap();
    let mut flash = Flash::new();
    let mut buf = [0u8; 256];
    let mut space = Space::growable(width);
    if let Some(c) = cut {
        flash.cut_power_after(c, CutMode::Clean, c);
    }
    {
        let (mut log, _) = FlashLog::mount(
            &mut flash,
            &mut buf,
            Config::new(width, 6),
            &mut space.clone(),
        )
        .unwrap();
        for i in 0..n {
            let fp = [i, i * 3];
            let a = Addr::new(0x80, (i % 5) as u8);
            let mut batch = vec![Mutation::Set { addr: a, fp: &fp }];
            if i % 4 == 0 {
                batch.push(Mutation::Meta {
                    addr: a,
                    label: b"x",
                    parent: None,
                });
            }
            if i % 7 == 0 {
                batch.push(Mutation::Expire {
                    addr: a,
                    at: Some(i),
                });
            }
            let Ok(seq) = log.append(&batch, &space) else {
                break;
            };
            for m in &batch {
                Apply::apply(&mut space, m, seq).unwrap();
            }
        }
    }
    flash.power_on();
    flash
}

#[test]
#[ignore = "generator: writes core/fuzz/corpus/recovery"]
fn write_recovery_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/recovery");
    std::fs::create_dir_all(&dir).unwrap();
    let mut damaged = log_of(12, None);
    damaged.corrupt(60, 0x08);
    let width = Width::from_words(2).unwrap();
    let enc = Encoder::new(width, 8).unwrap();
    let mut mem = vec![0xFF; 512];
    let mut at = Header::new(width, 8, 0, 1).encode(&mut mem).unwrap();
    let fp = [1u64, 2];
    at += enc
        .batch(
            &[
                Mutation::Set {
                    addr: Addr(1),
                    fp: &fp,
                },
                Mutation::Delete { addr: Addr(2) },
            ],
            1,
            &mut mem[at..],
        )
        .unwrap();
    mem.truncate(at);
    let seeds: [(&str, Vec<u8>); 5] = [
        ("clean", image(&log_of(8, None))),
        ("after-gc", image(&log_of(60, None))),
        ("torn-tail", image(&log_of(30, Some(700)))),
        ("damaged-middle", image(&damaged)),
        ("memory-image", mem),
    ];
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
