//! What can go wrong in a store, in words a user can act on.

use bindspace_core::space::SpaceError;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O call failed (not a full disk, not a failed fsync).
    Io {
        /// What the store was doing.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The disk is full. The commit (or checkpoint) failed whole: nothing
    /// of it was applied and the log was cut back to where it was.
    NoSpace {
        /// The file being written.
        path: PathBuf,
    },
    /// An fsync failed, so the store refuses every further write (reads
    /// still work). The data on disk is in an unknown state; reopen the
    /// store to recover from what is really there.
    Poisoned {
        /// The first failure, with its file.
        cause: String,
    },
    /// Another process, or another store in this one, has the directory open.
    Locked {
        /// The data directory.
        dir: PathBuf,
        /// Whether the holder is a store in this process.
        by_this_process: bool,
    },
    /// A file is damaged before its tail. Nothing was opened; pass
    /// `repair: true` to keep every valid record and drop the rest.
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// The byte offset of the first bad record.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
    /// The store was created with another fingerprint width.
    WidthMismatch {
        /// The width in the files, in bits.
        found: u32,
        /// The width asked for, in bits.
        expected: u32,
    },
    /// A mutation was refused before anything was logged.
    Rejected(SpaceError),
    /// A query fingerprint has the wrong number of words.
    QueryWidth {
        /// Words the space's fingerprints have.
        expected: usize,
        /// Words given.
        got: usize,
    },
    /// A batch has more mutations than one log record can hold.
    BatchTooLarge {
        /// Mutations given.
        len: usize,
        /// The most one batch can hold.
        max: usize,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { op, path, source } => {
                write!(f, "{op} {}: {source}", path.display())
            }
            StoreError::NoSpace { path } => write!(
                f,
                "no space left on the device writing {}; the commit was not applied",
                path.display()
            ),
            StoreError::Poisoned { cause } => write!(
                f,
                "the store is read-only after a failed fsync ({cause}); reopen it to recover"
            ),
            StoreError::Locked {
                dir,
                by_this_process,
            } => write!(
                f,
                "{} is already open {} (its LOCK file is held)",
                dir.display(),
                if *by_this_process {
                    "by another store in this process"
                } else {
                    "in another process"
                }
            ),
            StoreError::Corrupt {
                path,
                offset,
                reason,
            } => write!(
                f,
                "{} is corrupt at byte {offset}: {reason}; open with repair to keep every valid record",
                path.display()
            ),
            StoreError::WidthMismatch { found, expected } => write!(
                f,
                "the store holds {found}-bit fingerprints, but {expected} bits were asked for"
            ),
            StoreError::Rejected(e) => write!(f, "mutation refused: {e}"),
            StoreError::QueryWidth { expected, got } => write!(
                f,
                "query has {} bits, the space holds {} bits",
                got * 64,
                expected * 64
            ),
            StoreError::BatchTooLarge { len, max } => {
                write!(f, "a batch of {len} mutations is larger than the {max} allowed")
            }
        }
    }
}

impl core::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Turns an I/O error into a [`StoreError`], keeping a full disk apart.
pub(crate) fn io_error(
    op: &'static str,
    path: impl Into<PathBuf>,
    source: io::Error,
) -> StoreError {
    let path = path.into();
    if source.kind() == io::ErrorKind::StorageFull {
        StoreError::NoSpace { path }
    } else {
        StoreError::Io { op, path, source }
    }
}
