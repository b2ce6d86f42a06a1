//! Records: the checked view [`Record`] over one frame, its kinds and its
//! decoded [`Body`] (docs/FORMAT.md, section 3).

use super::error::FormatError;
use super::header::{le16, le32, le64};
use crate::addr::Addr;
use crate::crc32c;
use crate::mutation::{Mutation, LABEL_MAX};
use crate::space::Entry;
use crate::width::Width;

/// Byte offsets of the record fields. The kind comes first so that a
/// frame's first byte is never `0xFF`: an interrupted write that programmed
/// anything at all never looks like erased flash. The CRC comes last.
pub mod field {
    use core::ops::Range;
    /// Record kind, `u8` (1..=7).
    pub const KIND: usize = 0;
    /// Flags, `u8`.
    pub const FLAGS: usize = 1;
    /// Address, `u16`.
    pub const ADDR: Range<usize> = 2..4;
    /// Frame length without padding, CRC included, `u32`.
    pub const LEN: Range<usize> = 4..8;
    /// Sequence number, `u64`.
    pub const SEQ: Range<usize> = 8..16;
    /// Kind-specific `u32` (commit: record count).
    pub const AUX: Range<usize> = 16..20;
    /// Meta and entry: the parent address inside `aux`, `u16`.
    pub const PARENT: Range<usize> = 16..18;
    /// Meta and entry: the label length inside `aux`, `u8`.
    pub const LABEL_LEN: usize = 18;
    /// Meta and entry: the byte of `aux` that must be zero.
    pub const AUX_RESERVED: usize = 19;
    /// Where the body starts.
    pub const BODY: usize = 20;
    /// Bytes of the CRC-32C trailer (of every byte before it).
    pub const CRC_LEN: usize = 4;
}

/// Bytes of a frame besides its body: the 20-byte header and the 4-byte
/// CRC trailer. The shortest frame (delete, commit) is exactly this.
pub const RECORD_HEADER_LEN: usize = field::BODY + field::CRC_LEN;
/// The longest frame: an entry record of the widest fingerprint with the
/// longest label.
pub const FRAME_MAX: usize = RECORD_HEADER_LEN + 8 + Width::MAX_BITS as usize / 8 + LABEL_MAX;

/// Record flag bits.
pub mod flags {
    /// A standalone record: committed when first written, applied where met.
    pub const COPY: u8 = 1 << 0;
    /// Meta and entry: the record names a parent.
    pub const HAS_PARENT: u8 = 1 << 1;
    /// Expire: the record sets an expiry tick.
    pub const EXPIRE_HAS_AT: u8 = 1 << 1;
    /// Entry: the entry has an expiry tick.
    pub const ENTRY_HAS_AT: u8 = 1 << 2;
}

/// What a record does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Kind {
    /// Store a fingerprint.
    Set = 1,
    /// Remove an entry.
    Delete = 2,
    /// Set or clear an expiry tick.
    Expire = 3,
    /// Set label and parent.
    Meta = 4,
    /// Close a batch: its records apply now.
    Commit = 5,
    /// A whole entry, copied forward by flash garbage collection.
    Entry = 6,
    /// A flash sector retired by garbage collection.
    Retire = 7,
}

impl Kind {
    /// The kind with this byte, if any.
    pub const fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Set,
            2 => Kind::Delete,
            3 => Kind::Expire,
            4 => Kind::Meta,
            5 => Kind::Commit,
            6 => Kind::Entry,
            7 => Kind::Retire,
            _ => return None,
        })
    }
}

/// A fingerprint inside a record: `width` little-endian words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpBytes<'a>(&'a [u8]);

impl<'a> FpBytes<'a> {
    /// The raw bytes, 8 per word, little-endian.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Words in the fingerprint.
    pub const fn words(&self) -> usize {
        self.0.len() / 8
    }

    /// Copies the words into `out` (which must hold at least
    /// [`Self::words`] words) and returns the filled part.
    pub fn copy_to<'b>(&self, out: &'b mut [u64]) -> Option<&'b [u64]> {
        let out = out.get_mut(..self.words())?;
        for (w, c) in out.iter_mut().zip(self.0.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            *w = u64::from_le_bytes(b);
        }
        Some(out)
    }
}

/// A record's content, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body<'a> {
    /// Store `fp` at the record's address.
    Set {
        /// The fingerprint.
        fp: FpBytes<'a>,
    },
    /// Remove the entry at the record's address.
    Delete,
    /// Set (`Some`) or clear (`None`) the expiry tick.
    Expire {
        /// The tick.
        at: Option<u64>,
    },
    /// Set the label and parent.
    Meta {
        /// The label (may be empty).
        label: &'a str,
        /// The parent.
        parent: Option<Addr>,
    },
    /// Close the batch with the record's sequence number.
    Commit {
        /// Records in the batch.
        count: u32,
    },
    /// A whole entry (version = the record's sequence number).
    Entry {
        /// The fingerprint.
        fp: FpBytes<'a>,
        /// The label.
        label: &'a str,
        /// The parent.
        parent: Option<Addr>,
        /// The expiry tick.
        expires_at: Option<u64>,
    },
    /// The flash sector with this segment number is retired.
    Retire {
        /// The retired sector's `segment`.
        segment: u64,
    },
}

/// A checked view of one record frame: the CRC matched, the kind is
/// known, reserved bits are zero and the length is what the kind needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Exactly the frame, padding excluded.
    bytes: &'a [u8],
    kind: Kind,
}

impl<'a> Record<'a> {
    /// Checks the frame starting at `bytes[0]` (`bytes` may run on past
    /// it) against a log of `width`.
    pub fn new_checked(bytes: &'a [u8], width: Width) -> Result<Record<'a>, FormatError> {
        let len = frame_len_field(bytes)?;
        let frame = bytes.get(..len).ok_or(FormatError::Truncated {
            need: len,
            have: bytes.len(),
        })?;
        let crc_at = len - field::CRC_LEN;
        if crc32c::checksum(&frame[..crc_at]) != le32(frame, crc_at..len) {
            return Err(FormatError::Checksum);
        }
        Self::check_structure(frame, width)
    }

    /// A view over a frame whose CRC-32C was already checked (by
    /// [`Self::new_checked`] at the same place, or by the caller with an
    /// equal CRC-32C such as the host's hardware one): skips the CRC, keeps
    /// every other check (so a wrong call can give an error, never a bad
    /// view).
    pub fn rechecked_without_crc(bytes: &'a [u8], width: Width) -> Result<Record<'a>, FormatError> {
        let len = frame_len_field(bytes)?;
        let frame = bytes.get(..len).ok_or(FormatError::Truncated {
            need: len,
            have: bytes.len(),
        })?;
        Self::check_structure(frame, width)
    }

    fn check_structure(frame: &'a [u8], width: Width) -> Result<Record<'a>, FormatError> {
        let kind_byte = frame[field::KIND];
        let kind =
            Kind::from_byte(kind_byte).ok_or(FormatError::UnknownKind { kind: kind_byte })?;
        let f = frame[field::FLAGS];
        let fp_len = width.bytes();
        let label_len = frame[field::LABEL_LEN] as usize;
        let (allowed, required, expected) = match kind {
            Kind::Set => (flags::COPY, 0, RECORD_HEADER_LEN + fp_len),
            Kind::Delete | Kind::Commit => (0, 0, RECORD_HEADER_LEN),
            Kind::Expire => (flags::COPY | flags::EXPIRE_HAS_AT, 0, RECORD_HEADER_LEN + 8),
            Kind::Meta => (
                flags::COPY | flags::HAS_PARENT,
                0,
                RECORD_HEADER_LEN + label_len,
            ),
            Kind::Entry => (
                flags::COPY | flags::HAS_PARENT | flags::ENTRY_HAS_AT,
                flags::COPY,
                RECORD_HEADER_LEN + 8 + fp_len + label_len,
            ),
            Kind::Retire => (flags::COPY, flags::COPY, RECORD_HEADER_LEN + 8),
        };
        if f & !allowed != 0 || f & required != required {
            return Err(FormatError::Reserved);
        }
        if frame.len() != expected {
            return Err(FormatError::BodyLength {
                len: frame.len() as u32,
                expected: expected as u32,
            });
        }
        let record = Record { bytes: frame, kind };
        match kind {
            Kind::Set | Kind::Delete | Kind::Expire => {
                if record.aux() != 0 {
                    return Err(FormatError::Reserved);
                }
                if kind == Kind::Expire
                    && f & flags::EXPIRE_HAS_AT == 0
                    && le64(frame, body(0, 8)) != 0
                {
                    return Err(FormatError::Reserved);
                }
            }
            Kind::Meta | Kind::Entry => {
                if frame[field::AUX_RESERVED] != 0 {
                    return Err(FormatError::Reserved);
                }
                if f & flags::HAS_PARENT == 0 && le16(frame, field::PARENT) != 0 {
                    return Err(FormatError::Reserved);
                }
                if kind == Kind::Entry
                    && f & flags::ENTRY_HAS_AT == 0
                    && le64(frame, body(0, 8)) != 0
                {
                    return Err(FormatError::Reserved);
                }
                if label_len > LABEL_MAX {
                    return Err(FormatError::LabelTooLong { len: label_len });
                }
                core::str::from_utf8(record.label_bytes())
                    .map_err(|_| FormatError::LabelNotUtf8)?;
            }
            Kind::Commit | Kind::Retire => {
                if record.addr().0 != 0 {
                    return Err(FormatError::Reserved);
                }
                if kind == Kind::Retire && record.aux() != 0 {
                    return Err(FormatError::Reserved);
                }
                if kind == Kind::Commit && record.aux() == 0 {
                    return Err(FormatError::EmptyCommit);
                }
            }
        }
        Ok(record)
    }

    /// The frame's bytes, padding excluded.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The frame length, padding excluded.
    pub const fn frame_len(&self) -> usize {
        self.bytes.len()
    }

    /// The frame length padded to `align`: where the next record starts.
    pub const fn padded_len(&self, align: usize) -> usize {
        super::padded_len(self.bytes.len(), align)
    }

    /// The sequence number.
    pub fn seq(&self) -> u64 {
        le64(self.bytes, field::SEQ)
    }

    /// The kind.
    pub const fn kind(&self) -> Kind {
        self.kind
    }

    /// The flag bits.
    pub const fn flags(&self) -> u8 {
        self.bytes[field::FLAGS]
    }

    /// Whether the record stands alone (a GC copy, entry or retire): it
    /// needs no commit and is applied where it is met.
    pub const fn is_standalone(&self) -> bool {
        self.flags() & flags::COPY != 0
    }

    /// Whether the record is part of a batch (not standalone, not a commit).
    pub const fn in_batch(&self) -> bool {
        !self.is_standalone() && !matches!(self.kind, Kind::Commit)
    }

    /// The address the record changes (`0x00:00` for commit and retire).
    pub fn addr(&self) -> Addr {
        Addr(le16(self.bytes, field::ADDR))
    }

    fn aux(&self) -> u32 {
        le32(self.bytes, field::AUX)
    }

    fn parent(&self) -> Option<Addr> {
        (self.flags() & flags::HAS_PARENT != 0).then(|| Addr(le16(self.bytes, field::PARENT)))
    }

    fn label_bytes(&self) -> &'a [u8] {
        let n = self.bytes[field::LABEL_LEN] as usize;
        let end = self.bytes.len() - field::CRC_LEN;
        let bytes: &'a [u8] = self.bytes;
        &bytes[end - n..end]
    }

    fn label(&self) -> &'a str {
        // Checked UTF-8 by `check_structure`; the fallback is unreachable.
        core::str::from_utf8(self.label_bytes()).unwrap_or("")
    }

    /// The decoded content.
    pub fn body(&self) -> Body<'a> {
        let b: &'a [u8] = self.bytes;
        let fp_after = |skip: usize| {
            let start = field::BODY + skip;
            let end = b.len() - field::CRC_LEN - self.bytes_of_label();
            FpBytes(&b[start..end])
        };
        match self.kind {
            Kind::Set => Body::Set { fp: fp_after(0) },
            Kind::Delete => Body::Delete,
            Kind::Expire => Body::Expire {
                at: (self.flags() & flags::EXPIRE_HAS_AT != 0).then(|| le64(b, body(0, 8))),
            },
            Kind::Meta => Body::Meta {
                label: self.label(),
                parent: self.parent(),
            },
            Kind::Commit => Body::Commit { count: self.aux() },
            Kind::Entry => Body::Entry {
                fp: fp_after(8),
                label: self.label(),
                parent: self.parent(),
                expires_at: (self.flags() & flags::ENTRY_HAS_AT != 0).then(|| le64(b, body(0, 8))),
            },
            Kind::Retire => Body::Retire {
                segment: le64(b, body(0, 8)),
            },
        }
    }

    fn bytes_of_label(&self) -> usize {
        match self.kind {
            Kind::Meta | Kind::Entry => self.bytes[field::LABEL_LEN] as usize,
            _ => 0,
        }
    }

    /// The mutation a set, delete, expire or meta record carries, with the
    /// fingerprint copied into `fp` (at least the log's width in words).
    /// `None` for the other kinds or a too short `fp`.
    pub fn mutation<'b>(&self, fp: &'b mut [u64]) -> Option<Mutation<'b>>
    where
        'a: 'b,
    {
        let addr = self.addr();
        Some(match self.body() {
            Body::Set { fp: bytes } => Mutation::Set {
                addr,
                fp: bytes.copy_to(fp)?,
            },
            Body::Delete => Mutation::Delete { addr },
            Body::Expire { at } => Mutation::Expire { addr, at },
            Body::Meta { label, parent } => Mutation::Meta {
                addr,
                label: label.as_bytes(),
                parent,
            },
            _ => return None,
        })
    }

    /// The entry an entry record carries, version = its sequence number,
    /// with the fingerprint copied into `fp`. `None` for other kinds.
    pub fn entry<'b>(&self, fp: &'b mut [u64]) -> Option<Entry<'b>>
    where
        'a: 'b,
    {
        match self.body() {
            Body::Entry {
                fp: bytes,
                label,
                parent,
                expires_at,
            } => Some(Entry {
                addr: self.addr(),
                fp: bytes.copy_to(fp)?,
                label,
                parent,
                expires_at,
                version: self.seq(),
            }),
            _ => None,
        }
    }
}

/// The body range `[BODY + at, BODY + at + len)`.
const fn body(at: usize, len: usize) -> core::ops::Range<usize> {
    field::BODY + at..field::BODY + at + len
}

/// Reads and bounds-checks the kind and length fields of the frame at
/// `bytes[0]` (needs only its first 20 bytes).
pub(crate) fn frame_len_field(bytes: &[u8]) -> Result<usize, FormatError> {
    let head = bytes.get(..field::BODY).ok_or(FormatError::Truncated {
        need: field::BODY,
        have: bytes.len(),
    })?;
    if Kind::from_byte(head[field::KIND]).is_none() {
        return Err(FormatError::UnknownKind {
            kind: head[field::KIND],
        });
    }
    let len = le32(head, field::LEN);
    if (len as usize) < RECORD_HEADER_LEN || len as usize > FRAME_MAX {
        return Err(FormatError::BadLength { len });
    }
    Ok(len as usize)
}
