//! The host's use of the core log codec (`bindspace_core::log`,
//! `docs/FORMAT.md`): segment and snapshot headers, batches (one record
//! per mutation, then a commit), snapshot entries, and the scan that
//! replays an image and says how it ends. Every byte the store writes is
//! made here by the core's encoder, so a segment or snapshot exported from
//! the host opens wherever the core runs.

use bindspace_core::log::record::field;
use bindspace_core::log::{Body, Encoder, End, Event, Header, Kind, Reader, Record, END_MARK_LEN};
use bindspace_core::mutation::Mutation;
use bindspace_core::space::Entry;
use bindspace_core::Width;

/// Header length in bytes (files use alignment 8, so no padding).
pub(crate) const HEADER_LEN: usize = bindspace_core::log::HEADER_LEN;
/// Record alignment in files.
const ALIGN: usize = 8;
/// The most mutations one batch may hold: the host keeps a batch one
/// write (the format itself allows a `u32` count).
pub(crate) const BATCH_MAX: usize = 1 << 20;

/// Why an image could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The image was written for another width (bits).
    Width { found: u32 },
    /// The header or a record is damaged in a way that is never a torn tail.
    Damaged { offset: u64, reason: String },
}

/// How the records of a segment end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tail {
    /// After the last committed batch: nothing, or erased (`0xFF`) bytes;
    /// in a recycled segment, the end mark and the earlier life's bytes.
    Clean,
    /// From `offset` on, nothing more could be replayed: a batch without
    /// its commit, a torn frame, or damage followed by `later_valid`
    /// valid frames (which were not replayed).
    Damaged {
        offset: u64,
        reason: String,
        later_valid: u64,
    },
}

/// What a scan found besides the batches it passed on.
#[derive(Clone, Debug)]
pub(crate) struct Scanned {
    /// The header's `first_seq`.
    pub(crate) first_seq: u64,
    /// The header's `segment`.
    pub(crate) segment: u64,
    /// How the image ends.
    pub(crate) tail: Tail,
    /// Where the last record replayed ends: the bytes after it, if the
    /// tail is clean, are erased (a prefilled segment) or the end mark and
    /// stale bytes (a recycled one).
    pub(crate) end: u64,
    /// With `resume`: each damaged place before the end whose batch was
    /// dropped (offset, what and why).
    pub(crate) dropped: Vec<(u64, String)>,
}

fn encoder(width: Width) -> Encoder {
    // Alignment 8 is a power of two within the format's range.
    Encoder::new(width, ALIGN).expect("alignment 8 is valid")
}

/// Erased bytes written right after every write of records, so that in a
/// recycled segment the end of the records reads as the end
/// (docs/FORMAT.md, section 5.1); in a prefilled one they are erased
/// already. They are not part of the segment's length: the next write
/// starts on them.
pub(crate) const END_MARK: [u8; END_MARK_LEN] = [0xFF; END_MARK_LEN];

/// Appends a header for an image of `width` whose records start at
/// `first_seq`, as segment number `segment`.
pub(crate) fn encode_header(width: Width, segment: u64, first_seq: u64, out: &mut Vec<u8>) {
    push_header(Header::new(width, ALIGN, segment, first_seq), out);
}

/// Appends the header of a recycled segment (a covered segment's file
/// written again, [`Header::recycled`]), then its end mark.
pub(crate) fn encode_recycled_header(
    width: Width,
    segment: u64,
    first_seq: u64,
    out: &mut Vec<u8>,
) {
    let header = Header {
        recycled: true,
        ..Header::new(width, ALIGN, segment, first_seq)
    };
    push_header(header, out);
    out.extend_from_slice(&END_MARK);
}

fn push_header(header: Header, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + header.padded_len(), 0xFF);
    let n = header
        .encode(&mut out[start..])
        .expect("the buffer was sized for the header");
    out.truncate(start + header.padded_len().max(n));
}

/// Appends batch `seq`: one record per mutation, then its commit. The
/// caller has checked the batch against the space (widths, labels) and
/// its size, so encoding cannot fail.
pub(crate) fn encode_batch(width: Width, seq: u64, batch: &[Mutation<'_>], out: &mut Vec<u8>) {
    let enc = encoder(width);
    let start = out.len();
    out.resize(start + enc.batch_len(batch), 0xFF);
    let n = enc
        .batch(batch, seq, &mut out[start..])
        .expect("a checked batch encodes into a buffer of its length");
    out.truncate(start + n);
}

/// Appends one snapshot entry (an `entry` record, `COPY` set, `seq` = the
/// entry's version).
pub(crate) fn encode_entry(width: Width, entry: &Entry<'_>, out: &mut Vec<u8>) {
    let enc = encoder(width);
    let start = out.len();
    out.resize(start + enc.entry_len(entry.label.len()), 0xFF);
    let n = enc
        .entry(entry, &mut out[start..])
        .expect("a stored entry encodes into a buffer of its length");
    out.truncate(start + n);
}

/// Opens an image: its header, checked against `width`, and a reader.
fn open(bytes: &[u8], width: Width) -> Result<(Header, Reader<'_>), ReadError> {
    let (header, reader) = Reader::open(bytes).map_err(|e| ReadError::Damaged {
        offset: 0,
        reason: e.to_string(),
    })?;
    if header.width != width {
        return Err(ReadError::Width {
            found: header.width.bits(),
        });
    }
    Ok((header, reader))
}

/// Walks an image's records like the core's [`Reader`], checking each
/// frame's CRC-32C with the processor's instruction where there is one
/// (the `crc32c` crate) and every other rule with the core. At the first
/// frame that does not pass, the core's reader takes over from there, so
/// damage, resynchronisation and the end are judged exactly as the core
/// judges them.
struct Frames<'a> {
    image: &'a [u8],
    width: Width,
    pos: usize,
    /// The core's reader as the header opened it (a recycled image's
    /// stale frames are its rule too), not walked: it takes over from a
    /// copy of it at the first frame the fast walk does not pass.
    opened: Reader<'a>,
    core: Option<Reader<'a>>,
}

impl<'a> Frames<'a> {
    /// The frame at `self.pos` if it passes every check.
    fn fast(&self) -> Option<Record<'a>> {
        let rest = self.image.get(self.pos..)?;
        let len = rest.get(field::LEN)?;
        let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
        let crc_at = len.checked_sub(field::CRC_LEN)?;
        let stored = rest.get(crc_at..len)?;
        if crc32c::crc32c(&rest[..crc_at]) != u32::from_le_bytes(stored.try_into().ok()?) {
            return None;
        }
        let record = Record::rechecked_without_crc(rest, self.width).ok()?;
        self.opened.current(record).ok()
    }

    /// How the image ends, once the walk is over.
    fn end(&self) -> Option<End> {
        self.core.as_ref().and_then(Reader::end)
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if self.core.is_none() {
            if let Some(record) = self.fast() {
                let offset = self.pos;
                self.pos += record.padded_len(ALIGN);
                return Some(Event::Record { offset, record });
            }
            self.core = Some(self.opened.starting_at(self.pos));
        }
        self.core.as_mut()?.next()
    }
}

/// Opens an image for a fast walk: its header, checked against `width`.
fn frames(bytes: &[u8], width: Width) -> Result<(Header, Frames<'_>), ReadError> {
    let (header, reader) = open(bytes, width)?;
    let frames = Frames {
        image: bytes,
        width,
        pos: reader.position(),
        opened: reader,
        core: None,
    };
    Ok((header, frames))
}

/// Calls `on_batch` with the mutations of `records` (one committed
/// batch), decoded into `fps` (reused between batches).
///
/// Only set records carry a fingerprint, so only they get room in `fps`:
/// a batch of a million deletes takes about 32 MB of log, and room for
/// every record would have asked for 2 GiB at 16,384 bits on replay.
fn deliver<F>(
    records: &[Record<'_>],
    fps: &mut Vec<u64>,
    words: usize,
    seq: u64,
    on_batch: &mut F,
) -> Result<(), String>
where
    F: FnMut(u64, &[Mutation<'_>]) -> Result<(), String>,
{
    const UNDECODABLE: &str = "a mutation record does not decode";
    // The kind byte alone says it, without decoding the body.
    let carries_fp = |r: &Record<'_>| r.kind() == Kind::Set;
    if let [record] = records {
        // The common case, one mutation: no allocation at all.
        fps.resize(words, 0);
        let m = record.mutation(fps).ok_or(UNDECODABLE)?;
        return on_batch(seq, core::slice::from_ref(&m));
    }
    fps.clear();
    fps.resize(records.iter().filter(|r| carries_fp(r)).count() * words, 0);
    let mut room = fps.as_mut_slice();
    let mut mutations = Vec::with_capacity(records.len());
    for record in records {
        let fp: &mut [u64] = if carries_fp(record) {
            let (fp, rest) = core::mem::take(&mut room).split_at_mut(words);
            room = rest;
            fp
        } else {
            &mut []
        };
        mutations.push(record.mutation(fp).ok_or(UNDECODABLE)?);
    }
    on_batch(seq, &mutations)
}

/// Notes a dropped batch at `at`; right after damage (`after_damage`) it
/// is the same damaged place, told in the same entry.
fn note_drop(dropped: &mut Vec<(u64, String)>, after_damage: bool, at: usize, why: String) {
    match dropped.last_mut() {
        Some((_, note)) if after_damage => {
            note.push_str("; then ");
            note.push_str(&why);
        }
        _ => dropped.push((at as u64, why)),
    }
}

/// Replays a segment: calls `on_batch(seq, mutations)` for every
/// committed batch in order, and says how the image ends.
///
/// Without `resume`, damage stops the replay: the rest is reported in
/// [`Scanned::tail`], and a record that breaks the batch rules (or an
/// error from `on_batch`) is an error at its batch. With `resume` (repair
/// of a segment that must have been whole), each damaged place drops only
/// the batch it broke: the scan resynchronises on the next valid frame,
/// keeps every later valid batch, and lists what it dropped in
/// [`Scanned::dropped`].
pub(crate) fn scan_segment<F>(
    bytes: &[u8],
    width: Width,
    resume: bool,
    mut on_batch: F,
) -> Result<Scanned, ReadError>
where
    F: FnMut(u64, &[Mutation<'_>]) -> Result<(), String>,
{
    let (header, mut reader) = frames(bytes, width)?;
    let words = width.words();
    let mut fps: Vec<u64> = Vec::new();
    let mut pending: Vec<Record<'_>> = Vec::new();
    let mut pending_seq = 0;
    let mut batch_start = header.padded_len();
    let mut last_committed: Option<u64> = None;
    let mut damaged: Option<(usize, String)> = None;
    let mut later_valid = 0u64;
    let mut dropped: Vec<(u64, String)> = Vec::new();
    // After damage in resume mode: the batch it broke, whose surviving
    // records are dropped too.
    let mut broken: Option<u64> = None;
    // Whether no batch was delivered since the last damaged place: what
    // breaks next is the same damage (a batch whose first records it
    // took), so it is told in the same entry.
    let mut after_damage = false;
    for event in reader.by_ref() {
        let (offset, record) = match event {
            Event::Record { offset, record } => (offset, record),
            Event::Corrupted {
                offset,
                skipped,
                error,
            } => {
                if resume {
                    let start = if pending.is_empty() {
                        offset
                    } else {
                        batch_start
                    };
                    let what = if pending.is_empty() {
                        String::new()
                    } else {
                        broken = Some(pending_seq);
                        format!(" (batch {pending_seq} dropped whole)")
                    };
                    dropped.push((
                        start as u64,
                        format!("{error}: {skipped} bytes skipped{what}"),
                    ));
                    pending.clear();
                    after_damage = true;
                } else if damaged.is_none() {
                    let start = if pending.is_empty() {
                        offset
                    } else {
                        batch_start
                    };
                    damaged = Some((start, error.to_string()));
                }
                continue;
            }
        };
        if damaged.is_some() {
            later_valid += 1;
            continue;
        }
        if broken == Some(record.seq()) {
            // A surviving record of the batch the damage broke.
            continue;
        }
        broken = None;
        if resume && !pending.is_empty() && record.seq() != pending_seq {
            note_drop(
                &mut dropped,
                after_damage,
                batch_start,
                format!("batch {pending_seq} has no commit record (dropped whole)"),
            );
            pending.clear();
        }
        if pending.is_empty() {
            batch_start = offset;
            pending_seq = record.seq();
        }
        let problem = match record.body() {
            Body::Commit { count }
                if record.seq() == pending_seq && count as usize == pending.len() =>
            {
                let result = if last_committed.is_some_and(|l| pending_seq <= l) {
                    Err(format!("batch {pending_seq} is out of order"))
                } else {
                    last_committed = Some(pending_seq);
                    let delivered = deliver(&pending, &mut fps, words, pending_seq, &mut on_batch);
                    after_damage &= delivered.is_err();
                    delivered
                };
                pending.clear();
                result.err()
            }
            Body::Set { .. } | Body::Delete | Body::Expire { .. } | Body::Meta { .. }
                if record.seq() == pending_seq =>
            {
                pending.push(record);
                None
            }
            _ => {
                let problem = format!(
                    "record of commit {} at byte {offset} does not continue batch {pending_seq}",
                    record.seq()
                );
                pending.clear();
                Some(problem)
            }
        };
        if let Some(reason) = problem {
            if !resume {
                return Err(ReadError::Damaged {
                    offset: batch_start as u64,
                    reason,
                });
            }
            note_drop(
                &mut dropped,
                after_damage,
                batch_start,
                format!("{reason} (dropped whole)"),
            );
        }
    }
    let end = reader.end().map_or(bytes.len(), |e| e.offset()) as u64;
    let tail = match (damaged, reader.end()) {
        (Some((offset, reason)), _) => Tail::Damaged {
            offset: offset as u64,
            reason,
            later_valid,
        },
        (None, Some(End::Torn { offset, error, .. })) => Tail::Damaged {
            offset: if pending.is_empty() {
                offset
            } else {
                batch_start
            } as u64,
            reason: format!("torn write: {error}"),
            later_valid: 0,
        },
        (None, _) if !pending.is_empty() => Tail::Damaged {
            offset: batch_start as u64,
            reason: "a batch without its commit".into(),
            later_valid: 0,
        },
        (None, _) => Tail::Clean,
    };
    Ok(Scanned {
        first_seq: header.first_seq,
        segment: header.segment,
        tail,
        end,
        dropped,
    })
}

/// Loads a snapshot image into `restore`, which receives every entry.
/// Returns the header's sequence number (the snapshot covers commits up
/// to it) and the number of entries. Any damage is an error: snapshots
/// are synced before they are renamed into place.
pub(crate) fn read_snapshot<F>(
    bytes: &[u8],
    width: Width,
    mut restore: F,
) -> Result<(u64, u64), ReadError>
where
    F: FnMut(&Entry<'_>) -> Result<(), String>,
{
    let (header, mut reader) = frames(bytes, width)?;
    let mut fp = vec![0u64; width.words()];
    let mut count = 0;
    for event in reader.by_ref() {
        let (offset, record) = match event {
            Event::Record { offset, record } => (offset, record),
            Event::Corrupted { offset, error, .. } => {
                return Err(ReadError::Damaged {
                    offset: offset as u64,
                    reason: error.to_string(),
                })
            }
        };
        let entry = record.entry(&mut fp).ok_or_else(|| ReadError::Damaged {
            offset: offset as u64,
            reason: "a snapshot holds only entry records".into(),
        })?;
        restore(&entry).map_err(|reason| ReadError::Damaged {
            offset: offset as u64,
            reason,
        })?;
        count += 1;
    }
    if let Some(End::Torn { offset, error, .. }) = reader.end() {
        return Err(ReadError::Damaged {
            offset: offset as u64,
            reason: format!("snapshot cut short: {error}"),
        });
    }
    Ok((header.first_seq, count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bindspace_core::Addr;

    /// The records of one encoded batch (without its commit record).
    fn records_of(image: &[u8], width: Width) -> Vec<Record<'_>> {
        let (_, frames) = frames(image, width).unwrap();
        frames
            .filter_map(|event| match event {
                Event::Record { record, .. } => Some(record),
                _ => None,
            })
            .filter(|r| !matches!(r.body(), Body::Commit { .. }))
            .collect()
    }

    #[test]
    fn a_batch_gets_fingerprint_room_only_for_its_sets() {
        let width = Width::from_bits(16_384).unwrap();
        let words = width.words();
        let fp: Vec<u64> = (0..words as u64).collect();
        let mut batch: Vec<Mutation<'_>> = (0..1000u16)
            .map(|i| Mutation::Delete { addr: Addr(i) })
            .collect();
        batch.insert(
            500,
            Mutation::Set {
                addr: Addr(9_999),
                fp: &fp,
            },
        );
        batch.push(Mutation::Expire {
            addr: Addr(3),
            at: Some(7),
        });
        let mut image = Vec::new();
        encode_header(width, 1, 1, &mut image);
        encode_batch(width, 1, &batch, &mut image);
        let records = records_of(&image, width);
        assert_eq!(records.len(), batch.len());
        let mut fps = Vec::new();
        let mut seen = Vec::new();
        deliver(&records, &mut fps, words, 1, &mut |seq, ms| {
            assert_eq!(seq, 1);
            seen = ms.iter().map(|m| format!("{m:?}")).collect();
            Ok(())
        })
        .unwrap();
        let expected: Vec<String> = batch.iter().map(|m| format!("{m:?}")).collect();
        assert_eq!(seen, expected);
        // Room for the one set, not for all 1,002 records (2 MiB).
        assert_eq!(fps.len(), words);
    }
}
