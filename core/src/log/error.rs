//! Why bytes are not a valid log header or record, and why a record could
//! not be encoded.

use core::fmt;

/// Why bytes are not a valid log header or record. Every variant names
/// what is wrong so a report can say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// Fewer bytes than the header or frame needs.
    Truncated {
        /// Bytes needed.
        need: usize,
        /// Bytes there.
        have: usize,
    },
    /// The header does not start with the log magic `BSLG`.
    BadMagic,
    /// The header's format version is not one this build reads.
    UnsupportedVersion {
        /// The version found.
        found: u16,
    },
    /// The header's width is not 1..=256 words.
    BadWidth {
        /// The width found, in words.
        words: u16,
    },
    /// The header's alignment is not a power of two in 1..=4096.
    BadAlign {
        /// The alignment found.
        align: u16,
    },
    /// The log was written for another fingerprint width.
    WidthMismatch {
        /// Words per fingerprint in the log.
        log: usize,
        /// Words per fingerprint expected by the caller.
        expected: usize,
    },
    /// A checksum does not match: the bytes are damaged or were never
    /// completely written.
    Checksum,
    /// A frame length outside what any record can have.
    BadLength {
        /// The length found.
        len: u32,
    },
    /// A record kind this format does not define.
    UnknownKind {
        /// The kind byte found.
        kind: u8,
    },
    /// A reserved bit or byte is set, or a flag is not allowed on the kind.
    Reserved,
    /// The frame length does not match what the kind and width require.
    BodyLength {
        /// The length found.
        len: u32,
        /// The length the kind requires.
        expected: u32,
    },
    /// A label longer than [`crate::mutation::LABEL_MAX`] bytes.
    LabelTooLong {
        /// The length found.
        len: usize,
    },
    /// A label that is not UTF-8.
    LabelNotUtf8,
    /// A commit record that covers no records.
    EmptyCommit,
    /// A sequence or segment number at the end of its range: nothing can
    /// follow it.
    Exhausted,
    /// A whole frame older than the recycled image it sits in: stale bytes
    /// of the image's earlier life, never a record of this one.
    Stale {
        /// The frame's sequence number.
        seq: u64,
        /// The image's first sequence number.
        first_seq: u64,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FormatError::Truncated { need, have } => {
                write!(f, "truncated: {need} bytes needed, {have} present")
            }
            FormatError::BadMagic => f.write_str("not a bindspace log (magic is not BSLG)"),
            FormatError::UnsupportedVersion { found } => write!(
                f,
                "log format version {found} is not supported (this build reads version {})",
                super::FORMAT_VERSION
            ),
            FormatError::BadWidth { words } => {
                write!(f, "log header width of {words} words is not in 1..=256")
            }
            FormatError::BadAlign { align } => write!(
                f,
                "log header alignment {align} is not a power of two in 1..=4096"
            ),
            FormatError::WidthMismatch { log, expected } => write!(
                f,
                "the log holds {}-bit fingerprints but {}-bit ones were expected",
                log * 64,
                expected * 64
            ),
            FormatError::Checksum => f.write_str("CRC-32C mismatch"),
            FormatError::BadLength { len } => write!(f, "impossible frame length {len}"),
            FormatError::UnknownKind { kind } => write!(f, "unknown record kind {kind}"),
            FormatError::Reserved => f.write_str("reserved bits or bytes are not zero"),
            FormatError::BodyLength { len, expected } => write!(
                f,
                "frame length {len} does not match the {expected} bytes its kind requires"
            ),
            FormatError::LabelTooLong { len } => write!(
                f,
                "label of {len} bytes is longer than the {} allowed",
                crate::mutation::LABEL_MAX
            ),
            FormatError::LabelNotUtf8 => f.write_str("label is not UTF-8"),
            FormatError::EmptyCommit => f.write_str("commit record covers no records"),
            FormatError::Exhausted => {
                f.write_str("sequence or segment numbers are exhausted (2^64 used)")
            }
            FormatError::Stale { seq, first_seq } => write!(
                f,
                "a frame of commit {seq} left from this recycled file's earlier life \
                 (its records start at commit {first_seq})"
            ),
        }
    }
}

/// Why a record could not be encoded. Nothing is written when encoding
/// fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A fingerprint does not have the log's width.
    WidthMismatch {
        /// Words the log's fingerprints have.
        expected: usize,
        /// Words given.
        got: usize,
    },
    /// A label longer than [`crate::mutation::LABEL_MAX`] bytes.
    LabelTooLong {
        /// Bytes given.
        len: usize,
    },
    /// A label that is not UTF-8.
    LabelNotUtf8,
    /// A batch with no mutations.
    EmptyBatch,
    /// A batch with more mutations than a commit can count.
    BatchTooLarge,
    /// Deletes have no standalone copies.
    NotCopyable,
    /// A record alignment that is not a power of two in 1..=4096.
    BadAlign {
        /// The alignment given.
        align: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EncodeError::BufferTooSmall { need, have } => write!(
                f,
                "record buffer too small: {need} bytes needed, {have} available"
            ),
            EncodeError::WidthMismatch { expected, got } => write!(
                f,
                "fingerprint of {} bits does not match the log's {} bits",
                got * 64,
                expected * 64
            ),
            EncodeError::LabelTooLong { len } => write!(
                f,
                "label of {len} bytes is longer than the {} allowed",
                crate::mutation::LABEL_MAX
            ),
            EncodeError::LabelNotUtf8 => f.write_str("label is not UTF-8"),
            EncodeError::EmptyBatch => f.write_str("a batch needs at least one mutation"),
            EncodeError::BatchTooLarge => {
                f.write_str("a batch holds at most 4,294,967,295 mutations")
            }
            EncodeError::NotCopyable => {
                f.write_str("a delete is never written as a standalone copy")
            }
            EncodeError::BadAlign { align } => write!(
                f,
                "record alignment {align} is not a power of two in 1..=4096"
            ),
        }
    }
}
