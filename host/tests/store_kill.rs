//! `write_behind_log` under a real kill: a child process commits in a
//! loop and reports each acknowledged commit to the parent through a
//! pipe; the parent kills it with SIGKILL at random moments, reopens the
//! directory, and checks that every acknowledged commit is there, whole,
//! with the version it was acknowledged with, and that nothing
//! unacknowledged half-appears.
//!
//! The child is this test binary run again with `BINDSPACE_KILL_CHILD`
//! set, running only `write_behind_log_under_a_real_kill_child`.

use bindspace_core::log::Reader;
use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::{Addr, Width};
use bindspace_host::store::{Durability, Options, Store};
use core::time::Duration;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const CHILD_DIR: &str = "BINDSPACE_KILL_CHILD";
const CHILD_START: &str = "BINDSPACE_KILL_CHILD_START";
/// Mutations per commit: a commit must appear whole or not at all.
const PER_BATCH: usize = 3;
/// Batches before addresses would wrap (each batch has its own).
const MAX_BATCHES: u64 = (65_536 / PER_BATCH) as u64;
const KILLS: usize = 20;
/// Batches one child commits at most before it waits to be killed, so 20
/// rounds stay within the addresses.
const PER_CHILD: u64 = 1000;
/// The child checkpoints after every this many batches, so covered
/// segments are kept and written again (recycled segments) while kills
/// land.
const CHECKPOINT_EVERY: u64 = 150;

fn options() -> Options {
    Options {
        width: Width::from_bits(256).unwrap(),
        durability: Durability::Always,
        // Small segments: kills also land around rotations.
        segment_bytes: 16 << 10,
        // Several prefill steps a segment: kills land between them too.
        prefill_bytes: 4 << 10,
        recycle_segments: 2,
        search_threads: 1,
        ..Options::default()
    }
}

fn addr(batch: u64, j: usize) -> Addr {
    Addr((batch as usize * PER_BATCH + j) as u16)
}

fn fp(batch: u64, j: usize) -> Vec<u64> {
    let mut rng = SplitMix64::new(batch * 31 + j as u64);
    (0..4).map(|_| rng.next()).collect()
}

/// The child: commits batches from `BINDSPACE_KILL_CHILD_START` on and
/// prints `ACK <batch> <seq>` after each commit returns, until killed.
#[test]
fn write_behind_log_under_a_real_kill_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return; // run as the parent's child only
    };
    let start: u64 = std::env::var(CHILD_START).unwrap().parse().unwrap();
    let store = Store::open(&dir, options()).unwrap();
    let mut out = std::io::stdout().lock();
    for batch in start..(start + PER_CHILD).min(MAX_BATCHES) {
        let fps: Vec<Vec<u64>> = (0..PER_BATCH).map(|j| fp(batch, j)).collect();
        let muts: Vec<Mutation<'_>> = fps
            .iter()
            .enumerate()
            .map(|(j, f)| Mutation::Set {
                addr: addr(batch, j),
                fp: f,
            })
            .collect();
        let seq = store.commit(&muts).unwrap();
        writeln!(out, "ACK {batch} {seq}").unwrap();
        out.flush().unwrap();
        if batch % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1 {
            store.checkpoint().unwrap();
        }
    }
    loop {
        std::thread::sleep(Duration::from_secs(1)); // until killed
    }
}

/// Whether a segment in `dir` is a recycled one (a covered file written
/// again), before opening changes anything.
fn holds_a_recycled_segment(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        name.starts_with("wal-")
            && std::fs::read(&path)
                .ok()
                .and_then(|image| Reader::open(&image).ok().map(|(h, _)| h.recycled))
                .unwrap_or(false)
    })
}

/// Reopens `dir` and checks it against the acknowledged commits and the
/// `known` batches an earlier round found on disk; returns the number of
/// batches present (the next batch to write).
fn check(dir: &Path, acked: &BTreeMap<u64, u64>, known: u64, round: usize) -> u64 {
    let store = Store::open(dir, options()).unwrap();
    let view = store.view();
    let mut present = 0u64;
    for batch in 0..MAX_BATCHES {
        let found: Vec<_> = (0..PER_BATCH).map(|j| view.get(addr(batch, j))).collect();
        let whole = found.iter().all(Option::is_some);
        if !whole {
            assert!(
                found.iter().all(Option::is_none),
                "round {round}: batch {batch} half-appears: {found:?}"
            );
            assert!(
                !acked.contains_key(&batch),
                "round {round}: acknowledged batch {batch} is lost"
            );
            break;
        }
        for (j, entry) in found.iter().enumerate() {
            let entry = entry.as_ref().unwrap();
            assert_eq!(
                entry.fp,
                fp(batch, j).as_slice(),
                "round {round}: batch {batch}"
            );
            if let Some(&seq) = acked.get(&batch) {
                assert_eq!(entry.version, seq, "round {round}: batch {batch} version");
            }
        }
        present = batch + 1;
    }
    // Every acknowledged batch is present (the loop stopped at the first
    // absent one), and so is every batch an earlier round recovered. Each
    // child may leave one unacknowledged batch on disk (it commits one at
    // a time, and a write the kill interrupted after its pwrite is in the
    // page cache), so a round adds at most one batch beyond what was
    // acknowledged or already known; nothing is stored beyond.
    let last_acked = acked.keys().next_back().map_or(0, |b| b + 1);
    assert!(
        present >= last_acked,
        "round {round}: {present} < {last_acked}"
    );
    assert!(
        present >= known,
        "round {round}: {present} batches, {known} recovered by an earlier round"
    );
    assert!(
        present <= last_acked.max(known) + 1,
        "round {round}: {present} batches, {last_acked} acknowledged, {known} known before"
    );
    assert_eq!(
        view.len() as u64,
        present * PER_BATCH as u64,
        "round {round}"
    );
    assert_eq!(
        view.seq(),
        present,
        "round {round}: one sequence number per batch"
    );
    present
}

#[test]
fn write_behind_log_under_a_real_kill() {
    if std::env::var(CHILD_DIR).is_ok() {
        return; // the child runs only its own test
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    println!("seed {seed}");
    let mut rng = SplitMix64::new(seed);
    // On the disk the build uses (not a tmpfs), so fdatasync is real.
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = tmp.path().join("data");
    let exe = std::env::current_exe().unwrap();
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut next = 0;
    let mut recycled_rounds = 0;
    let began = Instant::now();
    for round in 0..KILLS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "write_behind_log_under_a_real_kill_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, &dir)
            .env(CHILD_START, next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest's "test ... " may precede the first one on its line.
                let Some(at) = line.find("ACK ") else {
                    continue;
                };
                let mut words = line[at + 4..].split_whitespace();
                let batch: u64 = words.next().unwrap().parse().unwrap();
                let seq: u64 = words.next().unwrap().parse().unwrap();
                got.push((batch, seq));
            }
            got
        });
        // A random moment: during opening and recovery, or well into the
        // commit loop.
        std::thread::sleep(Duration::from_millis(rng.next() % 250));
        // std's Child::kill sends SIGKILL on Unix: no destructor, no flush.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: the child ended by itself"
        );
        for (batch, seq) in reader.join().unwrap() {
            acked.insert(batch, seq);
        }
        recycled_rounds += usize::from(holds_a_recycled_segment(&dir));
        next = check(&dir, &acked, next, round);
    }
    println!(
        "{KILLS} kills, {} acknowledged commits, {next} on disk, {recycled_rounds} kills \
         with a recycled segment on disk, {:.1} s",
        acked.len(),
        began.elapsed().as_secs_f64()
    );
    assert!(!acked.is_empty(), "the child never committed");
    // Every reopen after the first checkpoint starts its segment in a
    // kept file, so most kills find one.
    assert!(
        recycled_rounds >= KILLS / 4,
        "{recycled_rounds} of {KILLS} kills found a recycled segment"
    );
}
