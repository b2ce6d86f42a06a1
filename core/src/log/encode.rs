//! Encoding records into a caller-lent buffer (docs/FORMAT.md, section 3).

use super::error::EncodeError;
use super::header::{align_ok, Header};
use super::padded_len;
use super::record::{field, flags, Kind, RECORD_HEADER_LEN};
use crate::addr::Addr;
use crate::crc32c;
use crate::mutation::{Mutation, LABEL_MAX};
use crate::space::Entry;
use crate::width::Width;

/// Encodes records for one log: its fingerprint width and record alignment.
///
/// Every method writes one frame (or a whole batch) at the start of `out`,
/// pads it with `0xFF` to the alignment and returns the bytes written. On
/// error nothing useful is written and the caller writes nothing to its
/// medium.
///
/// ```
/// use bindspace_core::log::{Encoder, Reader, Header, Event};
/// use bindspace_core::{mutation::Mutation, Addr, Width};
/// let width = Width::from_words(2).unwrap();
/// let enc = Encoder::new(width, 8).unwrap();
/// let mut image = [0xFFu8; 256];
/// let mut at = Header::new(width, 8, 0, 1).encode(&mut image).unwrap();
/// let fp = [1u64, 2];
/// at += enc.batch(&[Mutation::Set { addr: Addr::new(0x80, 1), fp: &fp }], 1, &mut image[at..]).unwrap();
/// let (_, mut reader) = Reader::open(&image[..at]).unwrap();
/// assert!(matches!(reader.next(), Some(Event::Record { .. })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoder {
    width: Width,
    align: usize,
}

impl Encoder {
    /// An encoder for `width` fingerprints and records aligned to `align`
    /// (a power of two, 1..=4096: the medium's write size).
    pub const fn new(width: Width, align: usize) -> Result<Encoder, EncodeError> {
        if !align_ok(align) {
            return Err(EncodeError::BadAlign { align });
        }
        Ok(Encoder { width, align })
    }

    /// The encoder matching a log header.
    pub const fn for_header(header: &Header) -> Encoder {
        Encoder {
            width: header.width,
            align: header.align,
        }
    }

    /// The fingerprint width.
    pub const fn width(&self) -> Width {
        self.width
    }

    /// The record alignment.
    pub const fn align(&self) -> usize {
        self.align
    }

    /// Bytes a mutation's record takes, padding included.
    pub const fn mutation_len(&self, m: &Mutation<'_>) -> usize {
        let body = match m {
            Mutation::Set { .. } => self.width.bytes(),
            Mutation::Delete { .. } => 0,
            Mutation::Expire { .. } => 8,
            Mutation::Meta { label, .. } => label.len(),
        };
        padded_len(RECORD_HEADER_LEN + body, self.align)
    }

    /// Bytes a commit record takes, padding included.
    pub const fn commit_len(&self) -> usize {
        padded_len(RECORD_HEADER_LEN, self.align)
    }

    /// Bytes a whole batch takes: its records and its commit.
    pub fn batch_len(&self, batch: &[Mutation<'_>]) -> usize {
        batch.iter().map(|m| self.mutation_len(m)).sum::<usize>() + self.commit_len()
    }

    /// Bytes an entry record takes, padding included.
    pub const fn entry_len(&self, label_len: usize) -> usize {
        padded_len(
            RECORD_HEADER_LEN + 8 + self.width.bytes() + label_len,
            self.align,
        )
    }

    /// Bytes a retire record takes, padding included.
    pub const fn retire_len(&self) -> usize {
        padded_len(RECORD_HEADER_LEN + 8, self.align)
    }

    /// Checks that `m` can be encoded (fingerprint width, label), writing
    /// nothing: a writer checks a whole batch before writing any of it.
    pub fn check(&self, m: &Mutation<'_>) -> Result<(), EncodeError> {
        match *m {
            Mutation::Set { fp, .. } => self.check_fp(fp),
            Mutation::Meta { label, .. } => check_label(label),
            Mutation::Delete { .. } | Mutation::Expire { .. } => Ok(()),
        }
    }

    /// Encodes one mutation of the batch with sequence number `seq`.
    pub fn mutation(
        &self,
        m: &Mutation<'_>,
        seq: u64,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        self.mutation_with_flags(m, seq, 0, out)
    }

    /// Encodes a GC copy of a set, meta or expire mutation: a standalone
    /// record (flag `COPY`) with `seq` = the entry's current version.
    /// Deletes are never copied; they are refused.
    pub fn copy(&self, m: &Mutation<'_>, seq: u64, out: &mut [u8]) -> Result<usize, EncodeError> {
        if matches!(m, Mutation::Delete { .. }) {
            return Err(EncodeError::NotCopyable);
        }
        self.mutation_with_flags(m, seq, flags::COPY, out)
    }

    fn mutation_with_flags(
        &self,
        m: &Mutation<'_>,
        seq: u64,
        extra: u8,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        match *m {
            Mutation::Set { addr, fp } => {
                self.check_fp(fp)?;
                self.frame(out, Kind::Set, extra, seq, addr, 0, fp.len() * 8, |b| {
                    put_words(b, fp)
                })
            }
            Mutation::Delete { addr } => {
                self.frame(out, Kind::Delete, extra, seq, addr, 0, 0, |_| {})
            }
            Mutation::Expire { addr, at } => {
                let f = extra
                    | if at.is_some() {
                        flags::EXPIRE_HAS_AT
                    } else {
                        0
                    };
                self.frame(out, Kind::Expire, f, seq, addr, 0, 8, |b| {
                    b.copy_from_slice(&at.unwrap_or(0).to_le_bytes())
                })
            }
            Mutation::Meta {
                addr,
                label,
                parent,
            } => {
                check_label(label)?;
                let f = extra
                    | if parent.is_some() {
                        flags::HAS_PARENT
                    } else {
                        0
                    };
                let aux = meta_aux(parent, label.len());
                self.frame(out, Kind::Meta, f, seq, addr, aux, label.len(), |b| {
                    b.copy_from_slice(label)
                })
            }
        }
    }

    /// Encodes the commit closing batch `seq` of `count` records.
    pub fn commit(&self, seq: u64, count: u32, out: &mut [u8]) -> Result<usize, EncodeError> {
        if count == 0 {
            return Err(EncodeError::EmptyBatch);
        }
        self.frame(out, Kind::Commit, 0, seq, Addr(0), count, 0, |_| {})
    }

    /// Encodes a whole batch: one record per mutation, all with `seq`, then
    /// its commit. Checks that everything fits before writing anything.
    pub fn batch(
        &self,
        batch: &[Mutation<'_>],
        seq: u64,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        if batch.is_empty() {
            return Err(EncodeError::EmptyBatch);
        }
        let count = u32::try_from(batch.len()).map_err(|_| EncodeError::BatchTooLarge)?;
        let need = self.batch_len(batch);
        if out.len() < need {
            return Err(EncodeError::BufferTooSmall {
                need,
                have: out.len(),
            });
        }
        let mut at = 0;
        for m in batch {
            at += self.mutation(m, seq, &mut out[at..])?;
        }
        at += self.commit(seq, count, &mut out[at..])?;
        Ok(at)
    }

    /// Encodes a whole entry (GC copy), `seq` = the entry's version.
    pub fn entry(&self, e: &Entry<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.check_fp(e.fp)?;
        let label = e.label.as_bytes();
        check_label(label)?;
        let mut f = flags::COPY;
        if e.parent.is_some() {
            f |= flags::HAS_PARENT;
        }
        if e.expires_at.is_some() {
            f |= flags::ENTRY_HAS_AT;
        }
        let aux = meta_aux(e.parent, label.len());
        let fp_bytes = e.fp.len() * 8;
        self.frame(
            out,
            Kind::Entry,
            f,
            e.version,
            e.addr,
            aux,
            8 + fp_bytes + label.len(),
            |b| {
                b[..8].copy_from_slice(&e.expires_at.unwrap_or(0).to_le_bytes());
                put_words(&mut b[8..8 + fp_bytes], e.fp);
                b[8 + fp_bytes..].copy_from_slice(label);
            },
        )
    }

    /// Encodes the record retiring flash sector `segment`.
    pub fn retire(&self, segment: u64, seq: u64, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.frame(out, Kind::Retire, flags::COPY, seq, Addr(0), 0, 8, |b| {
            b.copy_from_slice(&segment.to_le_bytes())
        })
    }

    fn check_fp(&self, fp: &[u64]) -> Result<(), EncodeError> {
        if fp.len() != self.width.words() {
            return Err(EncodeError::WidthMismatch {
                expected: self.width.words(),
                got: fp.len(),
            });
        }
        Ok(())
    }

    /// Writes header, body (filled by `fill`), CRC and padding.
    #[allow(clippy::too_many_arguments)]
    fn frame(
        &self,
        out: &mut [u8],
        kind: Kind,
        flag_bits: u8,
        seq: u64,
        addr: Addr,
        aux: u32,
        body_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<usize, EncodeError> {
        let len = RECORD_HEADER_LEN + body_len;
        let crc_at = len - field::CRC_LEN;
        let need = padded_len(len, self.align);
        let have = out.len();
        let out = out
            .get_mut(..need)
            .ok_or(EncodeError::BufferTooSmall { need, have })?;
        out[field::LEN].copy_from_slice(&(len as u32).to_le_bytes());
        out[field::SEQ].copy_from_slice(&seq.to_le_bytes());
        out[field::KIND] = kind as u8;
        out[field::FLAGS] = flag_bits;
        out[field::ADDR].copy_from_slice(&addr.0.to_le_bytes());
        out[field::AUX].copy_from_slice(&aux.to_le_bytes());
        fill(&mut out[field::BODY..crc_at]);
        let crc = crc32c::checksum(&out[..crc_at]);
        out[crc_at..len].copy_from_slice(&crc.to_le_bytes());
        out[len..].fill(0xFF);
        Ok(need)
    }
}

fn put_words(out: &mut [u8], words: &[u64]) {
    for (c, w) in out.chunks_exact_mut(8).zip(words) {
        c.copy_from_slice(&w.to_le_bytes());
    }
}

fn meta_aux(parent: Option<Addr>, label_len: usize) -> u32 {
    let parent = parent.map_or(0, |p| p.0) as u32;
    parent | (label_len as u32) << 16
}

fn check_label(label: &[u8]) -> Result<(), EncodeError> {
    if label.len() > LABEL_MAX {
        return Err(EncodeError::LabelTooLong { len: label.len() });
    }
    core::str::from_utf8(label).map_err(|_| EncodeError::LabelNotUtf8)?;
    Ok(())
}
