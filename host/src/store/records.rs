//! The host's use of the log format (`docs/FORMAT.md`): segment and
//! snapshot headers, batches (one record per mutation, then a commit),
//! snapshot entries, and the scan that replays an image and says how it
//! ends.
//!
//! PROVISIONAL: the core's record codec (`bindspace_core::log`) was not
//! yet published when this was written, so this module encodes and checks
//! the bytes of FORMAT.md sections 2, 3 and 5 itself. It is the single
//! place the host touches record bytes; it is to be replaced by calls to
//! the core codec, keeping this interface, as soon as that lands.

use super::batch::Batch;
use bindspace_core::crc32c;
use bindspace_core::mutation::{Mutation, LABEL_MAX};
use bindspace_core::space::Entry;
use bindspace_core::{Addr, Width};

/// Header length in bytes.
pub(crate) const HEADER_LEN: usize = 40;
/// Record alignment in files.
const ALIGN: usize = 8;
/// The most mutations one batch may hold (the commit's count is a `u32`;
/// the host keeps batches far smaller so one commit stays one write).
pub(crate) const BATCH_MAX: usize = 1 << 20;
const MAGIC: [u8; 4] = *b"BSLG";
const VERSION: u16 = 1;
const FRAME_HEADER: usize = 24;

mod kind {
    pub(super) const SET: u8 = 1;
    pub(super) const DELETE: u8 = 2;
    pub(super) const EXPIRE: u8 = 3;
    pub(super) const META: u8 = 4;
    pub(super) const COMMIT: u8 = 5;
    pub(super) const ENTRY: u8 = 6;
}
const FLAG_COPY: u8 = 1;
const FLAG_BIT1: u8 = 2;
const FLAG_BIT2: u8 = 4;

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
    /// After the last committed batch: nothing, or erased (`0xFF`) bytes.
    Clean,
    /// From `offset` on, nothing more could be replayed: an unfinished
    /// batch, a damaged frame, or garbage. `later_valid` counts valid
    /// frames found after it.
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
}

fn pad(out: &mut Vec<u8>) {
    while out.len() % ALIGN != 0 {
        out.push(0xFF);
    }
}

/// Appends a header for an image of `width` whose records start at
/// `first_seq`, as segment number `segment`.
pub(crate) fn encode_header(width: Width, segment: u64, first_seq: u64, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(width.words() as u16).to_le_bytes());
    out.extend_from_slice(&(ALIGN as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&segment.to_le_bytes());
    out.extend_from_slice(&first_seq.to_le_bytes());
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    let crc = crc32c::checksum(&out[start..start + 36]);
    out.extend_from_slice(&crc.to_le_bytes());
    pad(out);
}

fn frame(out: &mut Vec<u8>, seq: u64, kind: u8, flags: u8, addr: u16, aux: u32, body: &[&[u8]]) {
    let start = out.len();
    let len = FRAME_HEADER + body.iter().map(|b| b.len()).sum::<usize>();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&addr.to_le_bytes());
    out.extend_from_slice(&aux.to_le_bytes());
    for part in body {
        out.extend_from_slice(part);
    }
    let crc = crc32c::checksum(&out[start + 4..start + len]);
    out[start..start + 4].copy_from_slice(&crc.to_le_bytes());
    pad(out);
}

fn words_le(fp: &[u64], out: &mut Vec<u8>) {
    for w in fp {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

fn meta_aux(label: &[u8], parent: Option<Addr>) -> u32 {
    let parent = parent.map_or(0, |p| p.0);
    u32::from(parent) | (label.len() as u32) << 16
}

/// Appends batch `seq`: one record per mutation, then its commit. The
/// caller has checked the batch (widths, labels, size).
pub(crate) fn encode_batch(seq: u64, batch: &[Mutation<'_>], out: &mut Vec<u8>) {
    let mut fp_bytes = Vec::new();
    for m in batch {
        match *m {
            Mutation::Set { addr, fp } => {
                fp_bytes.clear();
                words_le(fp, &mut fp_bytes);
                frame(out, seq, kind::SET, 0, addr.0, 0, &[&fp_bytes]);
            }
            Mutation::Delete { addr } => frame(out, seq, kind::DELETE, 0, addr.0, 0, &[]),
            Mutation::Expire { addr, at } => {
                let flags = if at.is_some() { FLAG_BIT1 } else { 0 };
                let tick = at.unwrap_or(0).to_le_bytes();
                frame(out, seq, kind::EXPIRE, flags, addr.0, 0, &[&tick]);
            }
            Mutation::Meta {
                addr,
                label,
                parent,
            } => {
                let flags = if parent.is_some() { FLAG_BIT1 } else { 0 };
                frame(
                    out,
                    seq,
                    kind::META,
                    flags,
                    addr.0,
                    meta_aux(label, parent),
                    &[label],
                );
            }
        }
    }
    frame(out, seq, kind::COMMIT, 0, 0, batch.len() as u32, &[]);
}

/// Appends one snapshot entry (an `entry` record, `COPY` set, `seq` = the
/// entry's version).
pub(crate) fn encode_entry(entry: &Entry<'_>, out: &mut Vec<u8>) {
    let mut flags = FLAG_COPY;
    if entry.parent.is_some() {
        flags |= FLAG_BIT1;
    }
    if entry.expires_at.is_some() {
        flags |= FLAG_BIT2;
    }
    let mut body = Vec::with_capacity(8 + entry.fp.len() * 8 + entry.label.len());
    body.extend_from_slice(&entry.expires_at.unwrap_or(0).to_le_bytes());
    words_le(entry.fp, &mut body);
    body.extend_from_slice(entry.label.as_bytes());
    let aux = meta_aux(entry.label.as_bytes(), entry.parent);
    frame(
        out,
        entry.version,
        kind::ENTRY,
        flags,
        entry.addr.0,
        aux,
        &[&body],
    );
}

/// A record decoded from a frame, owning its data.
enum Decoded {
    Mutation(Batch),
    Commit(u32),
    Entry {
        addr: Addr,
        fp: Vec<u64>,
        label: String,
        parent: Option<Addr>,
        expires_at: Option<u64>,
    },
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}
fn words_from(b: &[u8]) -> Vec<u64> {
    b.chunks_exact(8).map(|c| u64_at(c, 0)).collect()
}

/// Checks the frame at the start of `b`; returns its length, sequence
/// number and record, or why it is not a valid frame.
fn decode(b: &[u8], words: usize) -> Result<(usize, u64, Decoded), String> {
    if b.len() < FRAME_HEADER {
        return Err("truncated frame".into());
    }
    let len = u32_at(b, 4) as usize;
    if !(FRAME_HEADER..=32 + words * 8 + LABEL_MAX).contains(&len) || len > b.len() {
        return Err(format!("impossible frame length {len}"));
    }
    if crc32c::checksum(&b[4..len]) != u32_at(b, 0) {
        return Err("CRC-32C mismatch".into());
    }
    let seq = u64_at(b, 8);
    let (kind, flags, addr, aux) = (b[16], b[17], Addr(u16_at(b, 18)), u32_at(b, 20));
    let body = &b[FRAME_HEADER..len];
    let parent_of = |flags: u8| (flags & FLAG_BIT1 != 0).then_some(Addr(aux as u16));
    let label_len = ((aux >> 16) & 0xFF) as usize;
    let exact = |want: usize| {
        if len == want {
            Ok(())
        } else {
            Err(format!(
                "frame length {len} does not match the {want} its kind requires"
            ))
        }
    };
    let mut batch = Batch::new();
    let record = match kind {
        kind::SET if flags == 0 && aux == 0 => {
            exact(FRAME_HEADER + words * 8)?;
            batch.set(addr, &words_from(body));
            Decoded::Mutation(batch)
        }
        kind::DELETE if flags == 0 && aux == 0 => {
            exact(FRAME_HEADER)?;
            batch.delete(addr);
            Decoded::Mutation(batch)
        }
        kind::EXPIRE if flags & !FLAG_BIT1 == 0 && aux == 0 => {
            exact(FRAME_HEADER + 8)?;
            batch.expire(addr, (flags & FLAG_BIT1 != 0).then(|| u64_at(body, 0)));
            Decoded::Mutation(batch)
        }
        kind::META if flags & !FLAG_BIT1 == 0 && aux >> 24 == 0 && label_len <= LABEL_MAX => {
            exact(FRAME_HEADER + label_len)?;
            let label = core::str::from_utf8(body).map_err(|_| "label is not UTF-8".to_string())?;
            batch.meta(addr, label, parent_of(flags));
            Decoded::Mutation(batch)
        }
        kind::COMMIT if flags == 0 && addr.0 == 0 && aux > 0 => {
            exact(FRAME_HEADER)?;
            Decoded::Commit(aux)
        }
        kind::ENTRY
            if flags & FLAG_COPY != 0
                && flags & !(FLAG_COPY | FLAG_BIT1 | FLAG_BIT2) == 0
                && aux >> 24 == 0
                && label_len <= LABEL_MAX =>
        {
            exact(32 + words * 8 + label_len)?;
            let label = core::str::from_utf8(&body[8 + words * 8..])
                .map_err(|_| "label is not UTF-8".to_string())?;
            Decoded::Entry {
                addr,
                fp: words_from(&body[8..8 + words * 8]),
                label: label.to_owned(),
                parent: parent_of(flags),
                expires_at: (flags & FLAG_BIT2 != 0).then(|| u64_at(body, 0)),
            }
        }
        _ => return Err(format!("invalid record (kind {kind}, flags {flags:#x})")),
    };
    Ok((len, seq, record))
}

/// Reads and checks a header; returns `(segment, first_seq)`.
fn read_header(bytes: &[u8], width: Width) -> Result<(u64, u64), ReadError> {
    let damaged = |reason: &str| ReadError::Damaged {
        offset: 0,
        reason: reason.to_string(),
    };
    if bytes.len() < HEADER_LEN {
        return Err(damaged("shorter than a header"));
    }
    if bytes[..4] != MAGIC {
        return Err(damaged("not a bindspace log (magic is not BSLG)"));
    }
    if crc32c::checksum(&bytes[..36]) != u32_at(bytes, 36) {
        return Err(damaged("header CRC-32C mismatch"));
    }
    if u16_at(bytes, 4) != VERSION {
        return Err(damaged("unsupported format version"));
    }
    let words = u16_at(bytes, 6) as usize;
    if words != width.words() {
        return Err(ReadError::Width {
            found: words as u32 * 64,
        });
    }
    if u16_at(bytes, 8) as usize != ALIGN || u16_at(bytes, 10) != 0 {
        return Err(damaged("unexpected alignment or flags for a file"));
    }
    Ok((u64_at(bytes, 16), u64_at(bytes, 24)))
}

fn align_up(at: usize) -> usize {
    at.div_ceil(ALIGN) * ALIGN
}

/// Counts valid frames at aligned offsets from `from` on (the
/// resynchronising scan of FORMAT.md section 5).
fn valid_after(bytes: &[u8], from: usize, words: usize) -> u64 {
    let mut count = 0;
    let mut at = align_up(from);
    while at + FRAME_HEADER <= bytes.len() {
        match decode(&bytes[at..], words) {
            Ok((len, _, _)) => {
                count += 1;
                at = align_up(at + len);
            }
            Err(_) => at += ALIGN,
        }
    }
    count
}

/// Replays a segment: calls `on_batch(seq, mutations)` for every
/// committed batch in order, and says how the image ends. An error from
/// `on_batch` is reported as damage at that batch.
pub(crate) fn scan_segment<F>(
    bytes: &[u8],
    width: Width,
    mut on_batch: F,
) -> Result<Scanned, ReadError>
where
    F: FnMut(u64, &[Mutation<'_>]) -> Result<(), String>,
{
    let (segment, first_seq) = read_header(bytes, width)?;
    let words = width.words();
    let mut at = HEADER_LEN;
    let mut pending = Batch::new();
    let mut pending_seq = 0;
    let mut batch_start = at;
    let mut last_committed: Option<u64> = None;
    let tail = loop {
        if at >= bytes.len() || bytes[at..].iter().all(|&b| b == 0xFF) {
            break if pending.is_empty() {
                Tail::Clean
            } else {
                Tail::Damaged {
                    offset: batch_start as u64,
                    reason: "a batch without its commit".into(),
                    later_valid: 0,
                }
            };
        }
        let (len, seq, record) = match decode(&bytes[at..], words) {
            Ok(d) => d,
            Err(reason) => {
                let start = if pending.is_empty() { at } else { batch_start };
                break Tail::Damaged {
                    offset: start as u64,
                    reason,
                    later_valid: valid_after(bytes, at + ALIGN, words),
                };
            }
        };
        if pending.is_empty() {
            batch_start = at;
            pending_seq = seq;
        }
        let problem = match record {
            Decoded::Mutation(m) if seq == pending_seq => {
                pending.extend(m);
                None
            }
            Decoded::Commit(count) if seq == pending_seq && count as usize == pending.len() => {
                if last_committed.is_some_and(|l| seq <= l) {
                    Some(format!("batch {seq} is out of order"))
                } else {
                    let result = on_batch(seq, &pending.mutations());
                    last_committed = Some(seq);
                    pending = Batch::new();
                    result.err()
                }
            }
            Decoded::Entry { .. } => Some("a snapshot entry inside a log segment".into()),
            _ => Some(format!(
                "record of batch {seq} does not continue batch {pending_seq}"
            )),
        };
        if let Some(reason) = problem {
            return Err(ReadError::Damaged {
                offset: batch_start as u64,
                reason,
            });
        }
        at = align_up(at + len);
    };
    Ok(Scanned {
        first_seq,
        segment,
        tail,
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
    let (_, seq) = read_header(bytes, width)?;
    let words = width.words();
    let mut at = HEADER_LEN;
    let mut count = 0;
    while at < bytes.len() {
        let (len, version, record) =
            decode(&bytes[at..], words).map_err(|reason| ReadError::Damaged {
                offset: at as u64,
                reason,
            })?;
        let Decoded::Entry {
            addr,
            fp,
            label,
            parent,
            expires_at,
        } = record
        else {
            return Err(ReadError::Damaged {
                offset: at as u64,
                reason: "a snapshot holds only entry records".into(),
            });
        };
        let entry = Entry {
            addr,
            fp: &fp,
            label: &label,
            parent,
            expires_at,
            version,
        };
        restore(&entry).map_err(|reason| ReadError::Damaged {
            offset: at as u64,
            reason,
        })?;
        count += 1;
        at = align_up(at + len);
    }
    Ok((seq, count))
}
