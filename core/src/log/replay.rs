//! Replaying a log image into a target: batches whole or not at all,
//! standalone copies where they are met, damage reported, never skipped
//! in silence (docs/FORMAT.md, sections 3.3 and 5).

use core::fmt;

use super::apply::Apply;
use super::error::FormatError;
use super::header::Header;
use super::reader::{End, Event, Reader};
use super::record::{Kind, Record};
use crate::width::Width;

/// What recovery does when it meets corruption in the middle of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Policy {
    /// Refuse: stop with an error naming the offset. The default, so that
    /// damage is never hidden.
    #[default]
    Strict,
    /// Repair, asked for explicitly: skip the damaged bytes and the
    /// batches they broke, apply every valid record after them, and count
    /// what was skipped in [`Damage`].
    Repair,
}

/// What was skipped because of damage (only under [`Policy::Repair`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Damage {
    /// Damaged regions skipped.
    pub regions: u32,
    /// Bytes skipped in them.
    pub bytes: u64,
    /// The first damaged region: (offset, bytes).
    pub first: Option<(usize, usize)>,
    /// Committed batches not applied because damage broke them (a record
    /// or the commit missing).
    pub broken_batches: u32,
    /// Batches not applied because their sequence number was not above
    /// the one before.
    pub out_of_order: u32,
}

impl Damage {
    /// Whether nothing was skipped.
    pub const fn is_none(&self) -> bool {
        self.regions == 0 && self.broken_batches == 0 && self.out_of_order == 0
    }
}

/// Counts of what a replay applied and found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Committed batches applied.
    pub batches: u64,
    /// Mutations applied from those batches.
    pub mutations: u64,
    /// Standalone records (GC copies) applied.
    pub copies: u64,
    /// Batches without a commit (the one in flight at a power cut): dropped.
    pub abandoned: u64,
    /// The highest sequence number of any valid record.
    pub max_seq: Option<u64>,
    /// The sequence number of the last committed batch applied.
    pub last_committed: Option<u64>,
}

/// The outcome of replaying one image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// The image's header.
    pub header: Header,
    /// How the log ends: where a writer goes on, or the torn tail it cuts.
    pub end: End,
    /// What was applied.
    pub counts: Counts,
    /// What damage made replay skip (always none under [`Policy::Strict`]).
    pub damage: Damage,
    /// The sequence number the next batch must have.
    pub next_seq: u64,
}

/// Why a replay stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayError<E> {
    /// The header is not valid, or is for another width.
    Format(FormatError),
    /// Corruption in the middle of the log (strict policy).
    Corrupted {
        /// Where the damage starts.
        offset: usize,
        /// Bytes to the next valid record.
        skipped: usize,
        /// Why the frame at `offset` was refused.
        error: FormatError,
    },
    /// A commit that does not close the records before it (strict policy).
    BrokenBatch {
        /// Where the commit is.
        offset: usize,
        /// The batch's sequence number.
        seq: u64,
        /// Records the commit covers.
        expected: u32,
        /// Records found.
        found: u32,
    },
    /// A batch whose sequence number is not above the previous one (strict
    /// policy).
    OutOfOrder {
        /// Where its commit is.
        offset: usize,
        /// Its sequence number.
        seq: u64,
        /// The previous batch's.
        previous: u64,
    },
    /// The target refused a record.
    Apply {
        /// Where the record is.
        offset: usize,
        /// Its sequence number.
        seq: u64,
        /// Why.
        error: E,
    },
}

impl<E: fmt::Display> fmt::Display for ReplayError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Format(e) => write!(f, "log header: {e}"),
            ReplayError::Corrupted {
                offset,
                skipped,
                error,
            } => write!(
                f,
                "log corrupted at byte {offset} ({error}); {skipped} bytes up to the next valid \
                 record would be skipped: refusing to open without an explicit repair"
            ),
            ReplayError::BrokenBatch {
                offset,
                seq,
                expected,
                found,
            } => write!(
                f,
                "log corrupted: the commit of batch {seq} at byte {offset} covers {expected} \
                 records but {found} precede it"
            ),
            ReplayError::OutOfOrder {
                offset,
                seq,
                previous,
            } => write!(
                f,
                "log corrupted: batch {seq} at byte {offset} follows batch {previous}"
            ),
            ReplayError::Apply { offset, seq, error } => {
                write!(
                    f,
                    "record {seq} at byte {offset} could not be applied: {error}"
                )
            }
        }
    }
}

/// What [`Batcher::record`] asks the replay to do with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing now (a batch record waits for its commit).
    Wait,
    /// Apply this standalone record now.
    Standalone,
    /// Apply the `count` batch records starting at `start`, then go on.
    Batch { start: usize, count: u32 },
    /// A commit that does not match what precedes it.
    Broken { expected: u32, found: u32 },
    /// A complete batch whose number is not above the previous one.
    OutOfOrder { previous: u64 },
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    seq: u64,
    start: usize,
    count: u32,
    broken: bool,
}

/// The batch rules of docs/FORMAT.md section 3.3 as a state machine, fed
/// one valid record (or one damaged region) at a time. Shared by the image
/// replay and the flash recovery, which re-read a batch's records from
/// `start` when its commit arrives (no heap to hold them).
#[derive(Clone, Debug, Default)]
pub(crate) struct Batcher {
    pending: Option<Pending>,
    pub(crate) counts: Counts,
    pub(crate) broken_batches: u32,
}

impl Batcher {
    pub(crate) fn record(&mut self, offset: usize, r: &Record<'_>) -> Step {
        let seq = r.seq();
        self.counts.max_seq = Some(self.counts.max_seq.map_or(seq, |m| m.max(seq)));
        if r.is_standalone() {
            return Step::Standalone;
        }
        if r.kind() == Kind::Commit {
            let expected = match r.body() {
                super::record::Body::Commit { count } => count,
                _ => 0,
            };
            let pending = self.pending.take();
            return match pending {
                Some(p) if p.seq == seq && !p.broken && p.count == expected => {
                    match self.counts.last_committed {
                        Some(previous) if seq <= previous => Step::OutOfOrder { previous },
                        _ => {
                            self.counts.last_committed = Some(seq);
                            Step::Batch {
                                start: p.start,
                                count: p.count,
                            }
                        }
                    }
                }
                other => {
                    let found = other.filter(|p| p.seq == seq).map_or(0, |p| p.count);
                    if let Some(p) = other.filter(|p| p.seq != seq) {
                        self.drop_pending(p);
                    }
                    Step::Broken { expected, found }
                }
            };
        }
        match &mut self.pending {
            Some(p) if p.seq == seq => p.count = p.count.saturating_add(1),
            other => {
                if let Some(p) = other.take() {
                    self.drop_pending(p);
                }
                self.pending = Some(Pending {
                    seq,
                    start: offset,
                    count: 1,
                    broken: false,
                });
            }
        }
        Step::Wait
    }

    /// Damaged bytes: the batch in progress, if any, can no longer be whole.
    pub(crate) fn damage(&mut self) {
        if let Some(p) = &mut self.pending {
            p.broken = true;
        }
    }

    /// The end of the log: a batch still open was in flight.
    pub(crate) fn finish(&mut self) {
        if let Some(p) = self.pending.take() {
            self.drop_pending(p);
        }
    }

    fn drop_pending(&mut self, p: Pending) {
        if p.broken {
            self.broken_batches += 1;
        } else {
            self.counts.abandoned += 1;
        }
    }
}

/// Replays a whole log image into `target`.
///
/// `width`, when given, must match the header's. Under [`Policy::Strict`]
/// the first sign of damage in the middle of the log stops the replay with
/// an error (the target then holds a prefix of the log and should be
/// discarded); a torn tail is never an error. Under [`Policy::Repair`]
/// damage is skipped and counted.
pub fn replay<A: Apply>(
    image: &[u8],
    width: Option<Width>,
    target: &mut A,
    policy: Policy,
) -> Result<Replayed, ReplayError<A::Error>> {
    let (header, mut reader) = Reader::open(image).map_err(ReplayError::Format)?;
    if let Some(w) = width.filter(|&w| w != header.width) {
        return Err(ReplayError::Format(FormatError::WidthMismatch {
            log: header.width.words(),
            expected: w.words(),
        }));
    }
    let mut batcher = Batcher::default();
    let mut damage = Damage::default();
    let mut fp = [0u64; 256];
    for event in reader.by_ref() {
        match event {
            Event::Corrupted {
                offset,
                skipped,
                error,
            } => {
                if policy == Policy::Strict {
                    return Err(ReplayError::Corrupted {
                        offset,
                        skipped,
                        error,
                    });
                }
                batcher.damage();
                damage.regions += 1;
                damage.bytes += skipped as u64;
                damage.first.get_or_insert((offset, skipped));
            }
            Event::Record { offset, record } => match batcher.record(offset, &record) {
                Step::Wait => {}
                Step::Standalone => {
                    apply_one(target, &record, &mut fp)
                        .map_err(|error| apply_error(offset, &record, error))?;
                    if record.kind() != Kind::Retire {
                        batcher.counts.copies += 1;
                    }
                }
                Step::Batch { start, count } => {
                    apply_batch(image, header, start, count, record.seq(), target, &mut fp)?;
                    batcher.counts.batches += 1;
                    batcher.counts.mutations += count as u64;
                }
                Step::Broken { expected, found } => {
                    if policy == Policy::Strict {
                        return Err(ReplayError::BrokenBatch {
                            offset,
                            seq: record.seq(),
                            expected,
                            found,
                        });
                    }
                    damage.broken_batches += 1;
                }
                Step::OutOfOrder { previous } => {
                    if policy == Policy::Strict {
                        return Err(ReplayError::OutOfOrder {
                            offset,
                            seq: record.seq(),
                            previous,
                        });
                    }
                    damage.out_of_order += 1;
                }
            },
        }
    }
    batcher.finish();
    damage.broken_batches += batcher.broken_batches;
    let end = reader.end().unwrap_or(End::Clean {
        offset: image.len(),
    });
    let counts = batcher.counts;
    let next_seq = counts
        .max_seq
        .map_or(0, |s| s.saturating_add(1))
        .max(header.first_seq);
    Ok(Replayed {
        header,
        end,
        counts,
        damage,
        next_seq,
    })
}

/// Applies a standalone record (entry restores; meta and expire copies
/// apply; retire is flash bookkeeping and changes nothing).
pub(crate) fn apply_one<A: Apply>(
    target: &mut A,
    record: &Record<'_>,
    fp: &mut [u64; 256],
) -> Result<(), A::Error> {
    if let Some(entry) = record.entry(fp) {
        return target.restore(&entry);
    }
    if let Some(m) = record.mutation(fp) {
        return target.apply(&m, record.seq());
    }
    Ok(())
}

fn apply_error<E>(offset: usize, record: &Record<'_>, error: E) -> ReplayError<E> {
    ReplayError::Apply {
        offset,
        seq: record.seq(),
        error,
    }
}

/// Re-walks the `count` records of batch `seq` from `start` (already
/// checked, so without the CRC) and applies them in order.
fn apply_batch<A: Apply>(
    image: &[u8],
    header: Header,
    start: usize,
    count: u32,
    seq: u64,
    target: &mut A,
    fp: &mut [u64; 256],
) -> Result<(), ReplayError<A::Error>> {
    let mut at = start;
    let mut left = count;
    while left > 0 {
        let record = image
            .get(at..)
            .ok_or(FormatError::Truncated {
                need: at,
                have: image.len(),
            })
            .and_then(|b| Record::rechecked_without_crc(b, header.width))
            .map_err(ReplayError::Format)?;
        if record.in_batch() && record.seq() == seq {
            if let Some(m) = record.mutation(fp) {
                target
                    .apply(&m, seq)
                    .map_err(|error| apply_error(at, &record, error))?;
            }
            left -= 1;
        }
        at += record.padded_len(header.align);
    }
    Ok(())
}
