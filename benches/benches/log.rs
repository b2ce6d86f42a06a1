//! The log: recovery speed beside CRC-32C, and flash wear.
//!
//! **Recovery.** An in-memory log image of 1,000,000 records (500,000
//! batches of one 8,192-bit set and its commit, over all 65,536 addresses:
//! about 536 MB) is replayed, in the same run, four ways:
//!
//! - `replay into space`: `log::replay` into a growable space (CRC and
//!   checks of every frame, batch assembly, every set applied): recovery;
//! - `walk records`: the reader alone (CRC and checks, no batches, no
//!   space);
//! - `crc32c (core)`: the CRC-32C bindspace uses over the same bytes
//!   (no_std: on x86_64 with SSE4.2 one stream of the `crc32`
//!   instruction, elsewhere a slice-by-16 table): the limit recovery is
//!   held to, since it must checksum every byte;
//! - `crc32c (hardware)`: the `crc32c` crate (SSE4.2 or ARMv8 CRC
//!   instructions, several streams at once) over the same bytes: what
//!   the fastest checksum would allow.
//!
//! Goal (issue 4): recovery at 500 MB/s or more.
//!
//! **Wear.** On the mock NOR flash (16 sectors of 4 KiB, 8-byte words), a
//! long overwrite workload with live data at 50% of the flash: bytes
//! programmed per payload byte, and erases per sector (goal: the most
//! erased sector at most twice the least).
//!
//! `BINDSPACE_BENCH_QUICK=1` takes fewer rounds (CI);
//! `BINDSPACE_BENCH_CRITERION=0` skips criterion's pass;
//! `BINDSPACE_BENCH_REPORT=path` also writes the tables to `path`.

use bindspace_benches::lineup::{Lineup, Measured, Rounds};
use bindspace_benches::machine;
use bindspace_benches::mode::Mode;
use bindspace_benches::report::{format_ns, throughput_table};
use bindspace_core::log::flash::{Config, FlashLog};
use bindspace_core::log::mock_flash::MockFlash;
use bindspace_core::log::{replay, Apply, Encoder, Event, Header, Policy, Reader};
use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::space::{Growable, Space};
use bindspace_core::{crc32c, Addr, Width};
use core::fmt::Write as _;
use core::hint::black_box;
use core::time::Duration;

const RECORDS: usize = 1_000_000;
const WIDTH_BITS: u32 = 8192;
const GOAL_MB_S: f64 = 500.0;
const WEAR_GOAL: f64 = 2.0;

const REPLAY: &str = "replay into space";
const WALK: &str = "walk records";
const CRC_CORE: &str = "crc32c (core)";
const CRC_HW: &str = "crc32c (hardware)";

fn main() {
    let mode = Mode::from_env();
    let mut criterion = mode.criterion().configure_from_args();
    let mut report = format!(
        "## Log ({} mode)\n\n- machine: {}\n",
        mode.name(),
        machine::describe()
    );

    let width = Width::from_bits(WIDTH_BITS).expect("a valid width");
    let image = build_image(width);
    let records = check_image(&image, width);
    let _ = writeln!(
        report,
        "- image: {records} records ({} batches of one {WIDTH_BITS}-bit set and its commit, \
         all 65,536 addresses), {:.1} MB in memory\n",
        records / 2,
        image.len() as f64 / 1e6
    );
    println!("{report}");

    let mut lineup = Lineup::new(
        format!("recover/{records} records x {WIDTH_BITS}-bit"),
        image.len() as u64,
    );
    let img = &image[..];
    lineup
        .add(REPLAY, move |reps| {
            let mut sum = 0;
            for _ in 0..reps {
                let mut space = Space::new(width, Growable::with_capacity(65_536, width.words()));
                let r = replay(img, Some(width), &mut space, Policy::Strict).expect("replays");
                sum += r.counts.mutations + space.len() as u64;
            }
            sum
        })
        .add(WALK, move |reps| {
            let mut sum = 0;
            for _ in 0..reps {
                let (_, reader) = Reader::open(img).expect("a header");
                sum += reader.filter(|e| matches!(e, Event::Record { .. })).count() as u64;
            }
            sum
        })
        .add(CRC_CORE, move |reps| {
            (0..reps)
                .map(|_| crc32c::checksum(black_box(img)) as u64)
                .sum()
        })
        .add(CRC_HW, move |reps| {
            (0..reps)
                .map(|_| ::crc32c::crc32c(black_box(img)) as u64)
                .sum()
        });
    if mode.criterion {
        lineup.criterion(&mut criterion);
    }
    let rounds = Rounds {
        rounds: if mode.quick { 5 } else { 21 },
        min_sample: Duration::from_millis(1),
    };
    let measured = lineup.rounds(rounds);
    let mut tables = format!(
        "### Recovery ({} interleaved rounds, medians)\n\n{}\n",
        rounds.rounds,
        throughput_table(&measured)
    );
    tables.push_str(&recovery_summary(&measured));
    tables.push_str(&wear_tables());
    println!("{tables}");
    report.push_str(&tables);
    if let Ok(path) = std::env::var("BINDSPACE_BENCH_REPORT") {
        if let Err(e) = std::fs::write(&path, &report) {
            eprintln!("cannot write the report to {path}: {e}");
        }
    }
    criterion.final_summary();
}

/// The log image: a header, then 500,000 batches of one set and its
/// commit, cycling over every address with pseudo-random fingerprints.
fn build_image(width: Width) -> Vec<u8> {
    let enc = Encoder::new(width, 8).expect("alignment 8");
    let batch_len = enc.batch_len(&[Mutation::Set {
        addr: Addr(0),
        fp: &vec![0; width.words()],
    }]);
    let batches = RECORDS / 2;
    let mut image = vec![0u8; Header::new(width, 8, 0, 1).padded_len() + batches * batch_len];
    let mut at = Header::new(width, 8, 0, 1)
        .encode(&mut image)
        .expect("room");
    let mut rng = SplitMix64::new(0x106);
    let mut fp = vec![0u64; width.words()];
    for i in 0..batches {
        fp.iter_mut().for_each(|w| *w = rng.next());
        let m = Mutation::Set {
            addr: Addr(i as u16),
            fp: &fp,
        };
        at += enc
            .batch(&[m], i as u64 + 1, &mut image[at..])
            .expect("room");
    }
    image.truncate(at);
    image
}

/// Replays the image once and checks it: every batch, every address.
fn check_image(image: &[u8], width: Width) -> usize {
    let mut space = Space::growable(width);
    let r = replay(image, Some(width), &mut space, Policy::Strict).expect("the image replays");
    assert_eq!(r.counts.batches as usize, RECORDS / 2);
    assert!(r.damage.is_none());
    assert_eq!(space.len(), 65_536);
    RECORDS
}

fn find<'a>(m: &'a [Measured], case: &str) -> &'a Measured {
    m.iter().find(|x| x.case == case).expect("measured")
}

fn recovery_summary(m: &[Measured]) -> String {
    let replay = find(m, REPLAY);
    let mb_s = replay.gb_per_s() * 1000.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| comparison | ratio |\n|---|---:|\n\
         | replay into space / crc32c (core) | {:.2} |\n\
         | walk records / crc32c (core) | {:.2} |\n\
         | crc32c (hardware) / crc32c (core) | {:.2} |\n",
        replay.gb_per_s() / find(m, CRC_CORE).gb_per_s(),
        find(m, WALK).gb_per_s() / find(m, CRC_CORE).gb_per_s(),
        find(m, CRC_HW).gb_per_s() / find(m, CRC_CORE).gb_per_s(),
    );
    let _ = writeln!(
        s,
        "Recovery of {RECORDS} records: {} per image, {mb_s:.0} MB/s; goal >= {GOAL_MB_S:.0} MB/s: {}\n",
        format_ns(replay.median_ns),
        if mb_s >= GOAL_MB_S { "met" } else { "**not met**" }
    );
    s
}

/// One wear measurement on a 16 x 4 KiB mock flash.
struct Wear {
    width_bits: u32,
    addresses: usize,
    live_percent: f64,
    batches: u64,
    per_payload: f64,
    copied_share: f64,
    gc_runs: u64,
    erases_min: u64,
    erases_max: u64,
}

type WearFlash = MockFlash<16, 4096, 8>;

/// Overwrites `addresses` entries at random, `batches` times, after filling
/// them once; live data is their set records.
fn wear(width_bits: u32, live_fraction: f64, batches: u64) -> Wear {
    let width = Width::from_bits(width_bits).expect("a valid width");
    let enc = Encoder::new(width, 8).expect("alignment 8");
    let set_len = enc.mutation_len(&Mutation::Set {
        addr: Addr(0),
        fp: &vec![0; width.words()],
    });
    let flash_bytes = 16.0 * 4096.0;
    let addresses = (flash_bytes * live_fraction / set_len as f64) as usize;
    let mut flash: Box<WearFlash> = Box::default();
    let mut buf = vec![0u8; 4096];
    let mut space = Space::growable(width);
    let (mut log, _) = FlashLog::mount(
        &mut *flash,
        &mut buf,
        Config::new(width, 16),
        &mut space.clone(),
    )
    .expect("mounts");
    let mut rng = SplitMix64::new(width_bits as u64);
    let mut fp = vec![0u64; width.words()];
    let mut write =
        |log: &mut FlashLog<'_, &mut WearFlash>, space: &mut Space<Growable>, a: usize| {
            fp.iter_mut().for_each(|w| *w = rng.next());
            let m = Mutation::Set {
                addr: Addr(a as u16),
                fp: &fp,
            };
            let seq = log.append(&[m], &*space).expect("room at 50% live");
            Apply::apply(space, &m, seq).expect("applies");
        };
    for a in 0..addresses {
        write(&mut log, &mut space, a);
    }
    let mut pick = SplitMix64::new(7);
    for _ in 0..batches {
        let a = pick.below(addresses as u64) as usize;
        write(&mut log, &mut space, a);
    }
    let stats = *log.stats();
    let erases: Vec<u64> = flash.all_stats().iter().map(|s| s.erases).collect();
    Wear {
        width_bits,
        addresses,
        live_percent: addresses as f64 * set_len as f64 / flash_bytes * 100.0,
        batches: stats.batches,
        per_payload: stats.programmed_bytes as f64 / stats.payload_bytes as f64,
        copied_share: stats.copied_bytes as f64 / stats.programmed_bytes as f64,
        gc_runs: stats.gc_runs,
        erases_min: *erases.iter().min().expect("sectors"),
        erases_max: *erases.iter().max().expect("sectors"),
    }
}

fn wear_tables() -> String {
    let runs = [wear(8192, 0.5, 20_000), wear(256, 0.5, 200_000)];
    let mut s = String::from(
        "### Flash wear (mock NOR flash, 16 x 4 KiB sectors, 8-byte words, reserve 3)\n\n\
         | fingerprint | live entries | live data / flash | batches | bytes programmed per payload byte | of which GC copies | GC runs | erases per sector (min / max) | max / min | goal <= 2 |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|\n",
    );
    for w in &runs {
        // A sector never erased while others were makes the spread
        // unbounded, not `max`: it fails the goal.
        let ratio = if w.erases_min == 0 && w.erases_max > 0 {
            f64::INFINITY
        } else {
            w.erases_max as f64 / w.erases_min.max(1) as f64
        };
        let _ = writeln!(
            s,
            "| {} bits | {} | {:.0}% | {} | {:.2} | {:.0}% | {} | {} / {} | {:.2} | {} |",
            w.width_bits,
            w.addresses,
            w.live_percent,
            w.batches,
            w.per_payload,
            w.copied_share * 100.0,
            w.gc_runs,
            w.erases_min,
            w.erases_max,
            ratio,
            if ratio <= WEAR_GOAL {
                "met"
            } else {
                "**not met**"
            }
        );
    }
    s.push_str(
        "\nPayload per set: its 2-byte address and the fingerprint; every other byte \
         programmed (frame header, CRC, padding, commit, sector headers, GC copies, retire \
         records) counts against it.\n",
    );
    s
}
