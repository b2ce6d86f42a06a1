//! Why the flash log refused or failed.

use core::convert::Infallible;
use core::fmt;

use crate::log::error::{EncodeError, FormatError};

/// Why the flash log refused an operation or could not recover.
///
/// `E` is the flash's error; `A` the replay target's (for
/// [`super::FlashLog::mount`]; appends never apply anything, so theirs is
/// `Infallible`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E, A = Infallible> {
    /// The flash failed. After a failed write or erase the log refuses
    /// further appends ([`Error::Poisoned`]) until it is mounted again.
    Storage(E),
    /// Corruption in the middle of the log (not a torn tail): the bytes at
    /// flash offset `offset` are damaged and `skipped` bytes up to the next
    /// valid record (or the sector's known end) would be skipped. Mounting
    /// with [`crate::log::Policy::Repair`] goes on past it.
    Corrupted {
        /// Flash offset where the damage starts.
        offset: u32,
        /// Bytes up to the next valid record.
        skipped: u32,
        /// Why the frame there was refused.
        error: FormatError,
    },
    /// A commit that does not close the records before it.
    BrokenBatch {
        /// Flash offset of the commit.
        offset: u32,
        /// Its batch's sequence number.
        seq: u64,
    },
    /// A batch whose sequence number is not above the previous one.
    OutOfOrder {
        /// Flash offset of its commit.
        offset: u32,
        /// Its sequence number.
        seq: u64,
        /// The previous batch's.
        previous: u64,
    },
    /// No room: garbage collection cannot free a sector without eating the
    /// reserve. Nothing of the batch was written.
    Full,
    /// The batch is larger than one sector can hold.
    BatchTooLarge {
        /// Bytes the batch needs.
        need: usize,
        /// Bytes a sector holds.
        room: usize,
    },
    /// A mutation cannot be encoded (wrong width, bad label).
    Encode(EncodeError),
    /// A sector header is valid but not for this log (width, alignment), or
    /// makes no sense.
    Format(FormatError),
    /// The configuration does not fit the flash.
    Config(ConfigError),
    /// A write or erase failed earlier: mount again before appending.
    Poisoned,
    /// The replay target refused a record.
    Apply {
        /// Flash offset of the record.
        offset: u32,
        /// Its sequence number.
        seq: u64,
        /// Why.
        error: A,
    },
}

/// Why a flash log configuration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// Fewer than `reserve + 2` sectors.
    TooFewSectors {
        /// Sectors configured.
        sectors: u32,
        /// Sectors needed.
        need: u32,
    },
    /// The sectors run past the end of the flash.
    OutOfBounds,
    /// The reserve must be at least one sector.
    NoReserve,
    /// The flash's write size is not a power of two up to 4096, or its read
    /// size does not divide it.
    Unaligned,
    /// A sector cannot hold its header and one largest record.
    SectorTooSmall {
        /// Bytes a sector needs.
        need: usize,
    },
    /// The lent work buffer is smaller than one largest record.
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConfigError::TooFewSectors { sectors, need } => write!(
                f,
                "{sectors} sectors are too few: the reserve and the head need {need}"
            ),
            ConfigError::OutOfBounds => {
                f.write_str("the log's sectors run past the end of the flash")
            }
            ConfigError::NoReserve => f.write_str("the reserve must be at least one sector"),
            ConfigError::Unaligned => f.write_str(
                "flash write size must be a power of two up to 4096 that the read size divides",
            ),
            ConfigError::SectorTooSmall { need } => write!(
                f,
                "a sector must hold at least {need} bytes (its header and one largest record)"
            ),
            ConfigError::BufferTooSmall { need } => {
                write!(f, "the work buffer must hold at least {need} bytes")
            }
        }
    }
}

impl<E: fmt::Debug, A: fmt::Display> fmt::Display for Error<E, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Storage(e) => write!(f, "flash error: {e:?}"),
            Error::Corrupted {
                offset,
                skipped,
                error,
            } => write!(
                f,
                "flash log corrupted at offset {offset:#x} ({error}); {skipped} bytes would be \
                 skipped: mount with repair to go on past it"
            ),
            Error::BrokenBatch { offset, seq } => write!(
                f,
                "flash log corrupted: the commit of batch {seq} at offset {offset:#x} does not \
                 match the records before it"
            ),
            Error::OutOfOrder {
                offset,
                seq,
                previous,
            } => write!(
                f,
                "flash log corrupted: batch {seq} at offset {offset:#x} follows batch {previous}"
            ),
            Error::Full => f.write_str(
                "flash log is full: garbage collection cannot free a sector (delete entries)",
            ),
            Error::BatchTooLarge { need, room } => write!(
                f,
                "batch of {need} bytes does not fit in one sector ({room} bytes)"
            ),
            Error::Encode(e) => write!(f, "cannot encode mutation: {e}"),
            Error::Format(e) => write!(f, "flash log header: {e}"),
            Error::Config(e) => write!(f, "flash log configuration: {e}"),
            Error::Poisoned => {
                f.write_str("a flash write failed earlier: mount the log again before appending")
            }
            Error::Apply { offset, seq, error } => write!(
                f,
                "record {seq} at offset {offset:#x} could not be applied: {error}"
            ),
        }
    }
}

impl<E> Error<E, Infallible> {
    /// The same error with a target error type (it carries none).
    pub(crate) fn widen<B>(self) -> Error<E, B> {
        match self {
            Error::Storage(e) => Error::Storage(e),
            Error::Corrupted {
                offset,
                skipped,
                error,
            } => Error::Corrupted {
                offset,
                skipped,
                error,
            },
            Error::BrokenBatch { offset, seq } => Error::BrokenBatch { offset, seq },
            Error::OutOfOrder {
                offset,
                seq,
                previous,
            } => Error::OutOfOrder {
                offset,
                seq,
                previous,
            },
            Error::Full => Error::Full,
            Error::BatchTooLarge { need, room } => Error::BatchTooLarge { need, room },
            Error::Encode(e) => Error::Encode(e),
            Error::Format(e) => Error::Format(e),
            Error::Config(e) => Error::Config(e),
            Error::Poisoned => Error::Poisoned,
            Error::Apply { error, .. } => match error {},
        }
    }
}
