//! Phase "kernels": the Hamming kernels this build selects, against a
//! one-line oracle, over every length from 1 to 64 words at every word
//! offset within a 64-byte line, plus the widest fingerprint (256 words),
//! one-to-many over arenas of several rows, and refusals of bad shapes.

use crate::check::{ensure, Failed};
use bindspace_core::kernels::{Kernel, ShapeError};
use bindspace_core::prng::SplitMix64;

/// The widest fingerprint: 16,384 bits.
const MAX_WORDS: usize = 256;
/// Lengths checked at every offset.
const SWEEP_WORDS: usize = 64;
/// Word offsets: every position within a 64-byte line.
const OFFSETS: usize = 8;
/// Rows in the one-to-many arena.
const ROWS: usize = 6;
/// Room for the largest case of either sweep.
const BUF_WORDS: usize = MAX_WORDS + OFFSETS;
const ARENA_WORDS: usize = SWEEP_WORDS * ROWS + OFFSETS;

/// The oracle: one line, obviously right.
fn oracle(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

#[inline(never)] // its own frame, so the stack it needs is measured alone
pub(crate) fn run() -> Result<(), Failed> {
    // Static, not on the stack: the stack bound should measure the core.
    let (a, b, arena) = match cortex_m::singleton!(
        : ([u64; BUF_WORDS], [u64; BUF_WORDS], [u64; ARENA_WORDS]) =
            ([0; BUF_WORDS], [0; BUF_WORDS], [0; ARENA_WORDS])
    ) {
        Some((a, b, arena)) => (a, b, arena),
        None => {
            defmt::error!("kernel buffers taken twice");
            return Err(Failed);
        }
    };
    let mut rng = SplitMix64::new(0x006B_6572_6E65_6C73); // "kernels" in ASCII
    for w in a.iter_mut().chain(b.iter_mut()).chain(arena.iter_mut()) {
        *w = rng.next();
    }
    let best = Kernel::best();
    defmt::info!("kernel selected at compile time: {=str}", best.name());
    for kernel in [Kernel::scalar(), best] {
        one_to_one(kernel, a, b)?;
        one_to_many(kernel, a, arena)?;
    }
    shapes(best, a)?;
    Ok(())
}

fn one_to_one(kernel: Kernel, a: &[u64], b: &[u64]) -> Result<(), Failed> {
    let lengths = (1..=SWEEP_WORDS).chain([MAX_WORDS - 1, MAX_WORDS]);
    for len in lengths {
        for off in 0..OFFSETS {
            let (x, y) = (&a[off..off + len], &b[OFFSETS - 1 - off..][..len]);
            let got = kernel.distance(x, y).ok();
            let want = oracle(x, y);
            ensure!(
                got == Some(want),
                "{=str} distance, {=usize} words at offset {=usize}: {:?}, oracle {=u32}",
                kernel.name(),
                len,
                off,
                got,
                want
            );
        }
    }
    Ok(())
}

fn one_to_many(kernel: Kernel, a: &[u64], arena: &[u64]) -> Result<(), Failed> {
    let mut out = [0u32; ROWS];
    for len in 1..=SWEEP_WORDS {
        for rows in 0..=ROWS {
            let off = (len + rows) % OFFSETS;
            let query = &a[..len];
            let block = &arena[off..off + rows * len];
            ensure!(
                kernel.distances(query, block, &mut out[..rows]).is_ok(),
                "{=str} distances refused {=usize} rows of {=usize} words",
                kernel.name(),
                rows,
                len
            );
            for (r, got) in out[..rows].iter().enumerate() {
                let want = oracle(query, &block[r * len..][..len]);
                ensure!(
                    *got == want,
                    "{=str} distances row {=usize} of {=usize} words: {=u32}, oracle {=u32}",
                    kernel.name(),
                    r,
                    len,
                    *got,
                    want
                );
            }
        }
    }
    Ok(())
}

/// Shapes that do not fit are errors that say so.
fn shapes(kernel: Kernel, a: &[u64]) -> Result<(), Failed> {
    let mut out = [0u32; 3];
    ensure!(
        kernel.distance(&a[..4], &a[..5])
            == Err(ShapeError::WidthMismatch {
                expected: 4,
                got: 5
            }),
        "distance of 4 and 5 words must be a width mismatch"
    );
    ensure!(
        kernel.distances(&[], &a[..4], &mut out) == Err(ShapeError::EmptyQuery),
        "an empty query must be refused"
    );
    ensure!(
        kernel.distances(&a[..4], &a[..10], &mut out)
            == Err(ShapeError::RaggedArena {
                arena_words: 10,
                row_words: 4
            }),
        "an arena of 10 words in rows of 4 must be ragged"
    );
    ensure!(
        kernel.distances(&a[..4], &a[..8], &mut out)
            == Err(ShapeError::OutputLength { rows: 2, got: 3 }),
        "2 rows into 3 slots must be refused"
    );
    Ok(())
}
