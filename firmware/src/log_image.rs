//! Phase "log image": the log format in RAM, with power cut at every byte.
//!
//! A scripted workload (single sets, multi-record batches, overwrites,
//! labels and parents, expiry set and cleared, deletes, re-creation) is
//! written the write-ahead way: check the batch against the space, encode
//! it into the image, and only then apply it to the model space and take
//! a digest of the model's whole state (the state as of that acknowledged
//! commit).
//!
//! Then power is cut after every byte of the image, twice: once leaving the
//! rest erased, once also leaving the word being programmed half-written
//! (each bit either its new value or still erased, the NOR failure mode).
//! Each cut image is recovered (strict policy) into a fresh space, whose
//! digest must equal the state after the last batch whose commit was
//! complete, or, for a cut inside a commit record, the state after that
//! batch (the commit in flight). A power cut must never read as corruption.
//!
//! Then damage in the middle of the log: strict recovery refuses it and
//! names the offset; repair recovery skips it and still applies every
//! later batch. And a log of another width is refused.

use crate::buffers::{width, Buffers, Fp, WORDS};
use crate::check::{ensure, Failed};
use crate::state::digest;
use bindspace_core::fingerprint::from_seed;
use bindspace_core::log::{replay, Encoder, FormatError, Header, Policy, ReplayError};
use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::{Addr, Width};
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicBool, Ordering};

/// Record alignment: a flash that programs 8-byte double words.
const ALIGN: usize = 8;
/// Room for the workload's image.
const IMAGE_MAX: usize = 8 * 1024;
/// Batches in the workload.
const BATCHES: usize = 12;
/// Mutations per batch at most.
const BATCH_MAX: usize = 3;

static mut IMAGES: [[u8; IMAGE_MAX]; 2] = [[0; IMAGE_MAX]; 2];
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The image and a scratch copy to cut, the first time only.
fn images() -> Option<(&'static mut [u8; IMAGE_MAX], &'static mut [u8; IMAGE_MAX])> {
    if TAKEN.swap(true, Ordering::Relaxed) {
        return None;
    }
    // SAFETY: `TAKEN` was false, so this is the only borrow of `IMAGES`
    // for the life of the program, split into its two disjoint halves.
    let [a, b] = unsafe { &mut *addr_of_mut!(IMAGES) };
    Some((a, b))
}

fn fp(seed: u64) -> Fp {
    let mut fp = [0; WORDS];
    let _ = from_seed(&mut fp, seed);
    fp
}

/// Batch `n` of the workload: its mutations, whose fingerprints live in
/// `fps`.
fn batch(n: usize, fps: &mut [Fp; BATCH_MAX]) -> ([Mutation<'_>; BATCH_MAX], usize) {
    let (a, b, c) = (Addr::new(0x80, 1), Addr::new(0x80, 2), Addr::new(0x20, 5));
    let (s0, s1, s2) = (
        Addr::new(0x01, 0x10),
        Addr::new(0x01, 0x11),
        Addr::new(0x01, 0x12),
    );
    for (i, f) in fps.iter_mut().enumerate() {
        *f = fp((n * BATCH_MAX + i) as u64);
    }
    let [f0, f1, f2] = fps;
    let del = |addr| Mutation::Delete { addr };
    let pad = del(Addr(0));
    let (muts, len) = match n {
        0 => ([Mutation::Set { addr: a, fp: f0 }, pad, pad], 1),
        1 => (
            [
                Mutation::Set { addr: b, fp: f0 },
                Mutation::Set { addr: c, fp: f1 },
                Mutation::Meta {
                    addr: b,
                    label: b"child",
                    parent: Some(a),
                },
            ],
            3,
        ),
        2 => ([Mutation::Set { addr: a, fp: f0 }, pad, pad], 1),
        3 => (
            [
                Mutation::Expire {
                    addr: c,
                    at: Some(500),
                },
                pad,
                pad,
            ],
            1,
        ),
        4 => ([del(b), pad, pad], 1),
        5 => (
            [
                Mutation::Set { addr: s0, fp: f0 },
                Mutation::Set { addr: s1, fp: f1 },
                Mutation::Set { addr: s2, fp: f2 },
            ],
            3,
        ),
        6 => (
            [
                Mutation::Meta {
                    addr: s0,
                    label: b"surface",
                    parent: None,
                },
                pad,
                pad,
            ],
            1,
        ),
        7 => ([Mutation::Expire { addr: c, at: None }, pad, pad], 1),
        8 => ([Mutation::Set { addr: b, fp: f0 }, pad, pad], 1),
        9 => (
            [
                del(s1),
                Mutation::Set {
                    addr: Addr::new(0x20, 6),
                    fp: f1,
                },
                pad,
            ],
            2,
        ),
        10 => (
            [
                Mutation::Set {
                    addr: Addr::new(0x80, 3),
                    fp: f0,
                },
                pad,
                pad,
            ],
            1,
        ),
        _ => ([del(Addr::new(0x80, 3)), pad, pad], 1),
    };
    (muts, len)
}

/// What writing the workload left: the image's length, and per batch the
/// state digest once acknowledged and where its commit record lies.
struct Written {
    len: usize,
    /// `acked[k]`: the model's digest after `k` batches.
    acked: [u64; BATCHES + 1],
    /// Byte range of each batch's commit frame.
    commits: [(usize, usize); BATCHES],
}

#[inline(never)] // its own frame, so the stack it needs is measured alone
pub(crate) fn run(buffers: &mut Buffers, model: &mut Buffers) -> Result<(), Failed> {
    let Some((image, cut)) = images() else {
        defmt::error!("log images taken twice");
        return Err(Failed);
    };
    let written = write_workload(model, image)?;
    defmt::info!(
        "log image: {=usize} batches in {=usize} bytes, {=usize}-byte records alignment",
        BATCHES,
        written.len,
        ALIGN
    );
    power_cuts(buffers, image, cut, &written)?;
    damage_in_the_middle(buffers, image, cut, &written)?;
    let other = Width::from_words(WORDS * 2).unwrap_or(Width::DEFAULT);
    ensure!(
        matches!(
            replay(
                &image[..written.len],
                Some(other),
                &mut buffers.space_of(other, 1),
                Policy::Strict
            ),
            Err(ReplayError::Format(FormatError::WidthMismatch { .. }))
        ),
        "a log of another width must be refused"
    );
    Ok(())
}

/// Writes the workload write-ahead: check, encode, then apply to the model.
fn write_workload(model: &mut Buffers, image: &mut [u8; IMAGE_MAX]) -> Result<Written, Failed> {
    image.fill(0xFF);
    let mut space = model.space();
    let header = Header::new(width(), ALIGN, 0, 1);
    let mut at = match header.encode(image) {
        Ok(n) => n,
        Err(_) => {
            defmt::error!("the header was not encoded");
            return Err(Failed);
        }
    };
    let encoder = Encoder::for_header(&header);
    let mut written = Written {
        len: 0,
        acked: [0; BATCHES + 1],
        commits: [(0, 0); BATCHES],
    };
    written.acked[0] = digest(&space);
    let mut fps = [[0; WORDS]; BATCH_MAX];
    for n in 0..BATCHES {
        let seq = n as u64 + 1;
        let (muts, len) = batch(n, &mut fps);
        let muts = &muts[..len];
        ensure!(
            space.check_batch(muts).is_ok(),
            "batch {=usize} does not apply",
            n
        );
        let Ok(bytes) = encoder.batch(muts, seq, &mut image[at..]) else {
            defmt::error!("batch {=usize} was not encoded", n);
            return Err(Failed);
        };
        let commit_end = at + bytes;
        written.commits[n] = (commit_end - encoder.commit_len(), commit_end);
        at = commit_end;
        // Durable now: only now does the model change (write-ahead).
        for m in muts {
            ensure!(
                space.apply(m, seq).is_ok(),
                "batch {=usize} refused by the model",
                n
            );
        }
        written.acked[n + 1] = digest(&space);
    }
    written.len = at;
    Ok(written)
}

/// Cuts power after every byte, in both modes, and recovers each image.
fn power_cuts(
    buffers: &mut Buffers,
    image: &[u8; IMAGE_MAX],
    cut: &mut [u8; IMAGE_MAX],
    written: &Written,
) -> Result<(), Failed> {
    let mut rng = SplitMix64::new(0x0C07_0FF5);
    let (mut cuts, mut in_flight_applied) = (0u32, 0u32);
    for at in 0..=written.len {
        for torn in [false, true] {
            let len = written.len;
            cut[..at].copy_from_slice(&image[..at]);
            cut[at..len].fill(0xFF);
            if torn {
                // The word being programmed: each bit its new value or
                // still erased (programming only clears bits).
                let word_end = ((at / ALIGN) + 1) * ALIGN;
                for i in at..word_end.min(len) {
                    cut[i] = image[i] | (rng.next() as u8 & !image[i]);
                }
            }
            let mut space = buffers.space();
            let result = replay(&cut[..len], Some(width()), &mut space, Policy::Strict);
            let acked = written.commits.iter().filter(|c| c.1 <= at).count();
            let in_flight = written.commits.iter().any(|c| c.0 < at && at < c.1);
            let Ok(replayed) = result else {
                // Only a cut inside the header leaves no log to open.
                ensure!(
                    at < header_len() && matches!(result, Err(ReplayError::Format(_))),
                    "cut at byte {=usize} (torn {=bool}): recovery failed, {=usize} batches were acknowledged",
                    at,
                    torn,
                    acked
                );
                cuts += 1;
                continue;
            };
            let got = digest(&space);
            let recovered = replayed.counts.batches as usize;
            let ok = (recovered == acked && got == written.acked[acked])
                || (in_flight && recovered == acked + 1 && got == written.acked[acked + 1]);
            ensure!(
                ok,
                "cut at byte {=usize} (torn {=bool}): recovered {=usize} batches, {=usize} were acknowledged",
                at,
                torn,
                recovered,
                acked
            );
            // The valid part never ends before the last acknowledged
            // commit (a writer goes on after it, never over it), and no
            // sequence number already used is handed out again.
            let acked_end = if acked == 0 {
                header_len()
            } else {
                written.commits[acked - 1].1
            };
            ensure!(
                replayed.end.offset() >= acked_end && replayed.next_seq > recovered as u64,
                "cut at byte {=usize}: log ends at {=usize}, before the acknowledged {=usize}, or next sequence {=u64} reuses one",
                at,
                replayed.end.offset(),
                acked_end,
                replayed.next_seq
            );
            in_flight_applied += u32::from(recovered > acked);
            cuts += 1;
        }
    }
    defmt::info!(
        "log image: {=u32} power cuts recovered to the acknowledged state ({=u32} kept the commit in flight)",
        cuts,
        in_flight_applied
    );
    Ok(())
}

fn header_len() -> usize {
    Header::new(width(), ALIGN, 0, 1).padded_len()
}

/// A damaged record mid-log: refused with its offset under the strict
/// policy; skipped, with every later batch applied, under repair.
fn damage_in_the_middle(
    buffers: &mut Buffers,
    image: &[u8; IMAGE_MAX],
    cut: &mut [u8; IMAGE_MAX],
    written: &Written,
) -> Result<(), Failed> {
    let len = written.len;
    cut[..len].copy_from_slice(&image[..len]);
    // Batch 5 starts right after batch 4's commit; damage its first record.
    let damaged_at = written.commits[4].1;
    cut[damaged_at + 30] ^= 0x10;
    let strict = replay(
        &cut[..len],
        Some(width()),
        &mut buffers.space(),
        Policy::Strict,
    );
    ensure!(
        matches!(strict, Err(ReplayError::Corrupted { offset, .. }) if offset == damaged_at),
        "strict recovery must refuse damage at byte {=usize}",
        damaged_at
    );
    let mut space = buffers.space();
    let repaired = replay(&cut[..len], Some(width()), &mut space, Policy::Repair);
    let Ok(repaired) = repaired else {
        defmt::error!("repair recovery failed");
        return Err(Failed);
    };
    ensure!(
        repaired.damage.regions == 1 && repaired.damage.first.map(|f| f.0) == Some(damaged_at),
        "repair must report the one damaged region at byte {=usize}",
        damaged_at
    );
    ensure!(
        repaired.counts.batches == BATCHES as u64 - 1,
        "repair applied {=u64} batches; all but the damaged one must be",
        repaired.counts.batches
    );
    let later = space.get(Addr::new(0x20, 6)).map(|e| e.version);
    ensure!(
        later == Some(10),
        "a batch after the damage must not be dropped"
    );
    ensure!(
        space.get(Addr::new(0x01, 0x12)).is_none(),
        "the damaged batch must not be applied"
    );
    Ok(())
}
