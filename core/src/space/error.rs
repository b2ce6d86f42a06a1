//! Why a change to a space was refused.

use crate::addr::Addr;
use core::fmt;

/// Why a change to a space was refused. A refused change leaves the space
/// exactly as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpaceError {
    /// Every row is in use: the entry would need a row the storage does
    /// not have. Nothing is ever overwritten to make room.
    Full {
        /// Rows the storage holds.
        capacity: usize,
    },
    /// The entry's prefix has no slot page yet and every page is in use by
    /// other prefixes.
    PrefixesFull {
        /// Pages the storage holds.
        pages: usize,
    },
    /// A fingerprint does not have the space's width.
    WidthMismatch {
        /// Words the space's fingerprints have.
        expected: usize,
        /// Words given.
        got: usize,
    },
    /// A label is longer than [`crate::mutation::LABEL_MAX`] bytes.
    LabelTooLong {
        /// Bytes given.
        len: usize,
    },
    /// A label is not UTF-8.
    LabelNotUtf8,
    /// An entry named itself as its parent.
    SelfParent {
        /// The entry.
        addr: Addr,
    },
    /// The change needs an existing entry and there is none at `addr`.
    NotFound {
        /// Where the entry was expected.
        addr: Addr,
    },
}

impl fmt::Display for SpaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SpaceError::Full { capacity } => {
                write!(f, "space is full: all {capacity} rows are in use")
            }
            SpaceError::PrefixesFull { pages } => write!(
                f,
                "space is full: all {pages} slot pages are in use by other prefixes"
            ),
            SpaceError::WidthMismatch { expected, got } => write!(
                f,
                "fingerprint width mismatch: the space holds {} bits, got {} bits",
                expected * 64,
                got * 64
            ),
            SpaceError::LabelTooLong { len } => write!(
                f,
                "label of {len} bytes is longer than the {} allowed",
                crate::mutation::LABEL_MAX
            ),
            SpaceError::LabelNotUtf8 => f.write_str("label is not valid UTF-8"),
            SpaceError::SelfParent { addr } => {
                write!(f, "entry {addr} cannot be its own parent")
            }
            SpaceError::NotFound { addr } => write!(f, "no entry at {addr}"),
        }
    }
}
