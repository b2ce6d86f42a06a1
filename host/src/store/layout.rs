//! The data directory's file names.
//!
//! ```text
//! LOCK                          locked while open (dir_lock.rs)
//! wal-<first seq, 16 hex>.log   log segments, in sequence order
//! snap-<seq>-<n>.snap           a snapshot: the whole space after commit <seq>,
//!                               holding <n> entries (both 16 hex digits)
//! snap-<...>.snap.tmp            a checkpoint being written (ignored, removed at
//!                               open; no other `.tmp` file is the store's)
//! recycle-<first seq>.log       a segment a checkpoint covered, kept to be
//!                               written again as a later segment (ignored
//!                               by recovery; docs/HOST.md, "Recycled segments")
//! wal-<...>.log.torn-<offset>   the bytes recovery cut from a segment's tail
//!                               when whole frames followed the damage (kept
//!                               for a person to look at; ignored otherwise)
//! ```
//!
//! Names carry sequence numbers in fixed-width hex so that sorting names
//! sorts files, and so recovery knows which segments a snapshot covers
//! without reading them.

/// The lock file's name.
pub(crate) const LOCK_FILE: &str = "LOCK";
const SEGMENT_PREFIX: &str = "wal-";
const SEGMENT_SUFFIX: &str = ".log";
const RECYCLE_PREFIX: &str = "recycle-";
const SNAPSHOT_PREFIX: &str = "snap-";
const SNAPSHOT_SUFFIX: &str = ".snap";
/// Between a segment's name and the offset in the name of its cut tail.
pub(crate) const TORN_SUFFIX: &str = ".torn-";
/// The suffix of files being written by a checkpoint.
pub(crate) const TEMP_SUFFIX: &str = ".tmp";

/// What a file in the data directory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FileKind {
    /// A log segment whose first record has this sequence number.
    Segment(u64),
    /// A snapshot of the space after this sequence number, holding this
    /// many entries (so a snapshot cut at a record boundary is caught).
    Snapshot(u64, u64),
    /// A covered segment kept for reuse, named after the first sequence
    /// number it held.
    Recyclable(u64),
    /// A leftover temporary file.
    Temp,
}

/// The name of the segment starting at `first_seq`.
pub(crate) fn segment_name(first_seq: u64) -> String {
    format!("{SEGMENT_PREFIX}{first_seq:016x}{SEGMENT_SUFFIX}")
}

/// The name a covered segment that started at `first_seq` is kept under
/// for reuse.
pub(crate) fn recycle_name(first_seq: u64) -> String {
    format!("{RECYCLE_PREFIX}{first_seq:016x}{SEGMENT_SUFFIX}")
}

/// The name of the snapshot after commit `seq` holding `entries` entries.
pub(crate) fn snapshot_name(seq: u64, entries: u64) -> String {
    format!("{SNAPSHOT_PREFIX}{seq:016x}-{entries:016x}{SNAPSHOT_SUFFIX}")
}

fn hex_between(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let hex = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// Whether a file of this name is a store's data (a segment or a
/// snapshot): a directory with none holds no store.
pub(crate) fn holds_store_data(name: &str) -> bool {
    matches!(
        classify(name),
        Some(FileKind::Segment(_) | FileKind::Snapshot(..))
    )
}

/// Whether `name` is a checkpoint's unfinished snapshot: a snapshot's
/// name and [`TEMP_SUFFIX`]. Nothing else ending in `.tmp` is the store's:
/// opening removes these, and a user's `draft.tmp` beside the data (or a
/// data directory pointed at `/tmp`) must survive that.
fn is_unfinished_snapshot(name: &str) -> bool {
    name.strip_suffix(TEMP_SUFFIX)
        .and_then(|n| n.strip_prefix(SNAPSHOT_PREFIX))
        .and_then(|n| n.strip_suffix(SNAPSHOT_SUFFIX))
        .is_some_and(|middle| {
            !middle.is_empty() && middle.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        })
}

/// Classifies a file name; `None` for files that are not the store's.
pub(crate) fn classify(name: &str) -> Option<FileKind> {
    if is_unfinished_snapshot(name) {
        return Some(FileKind::Temp);
    }
    if let Some(seq) = hex_between(name, SEGMENT_PREFIX, SEGMENT_SUFFIX) {
        return Some(FileKind::Segment(seq));
    }
    if let Some(seq) = hex_between(name, RECYCLE_PREFIX, SEGMENT_SUFFIX) {
        return Some(FileKind::Recyclable(seq));
    }
    let both = name
        .strip_prefix(SNAPSHOT_PREFIX)?
        .strip_suffix(SNAPSHOT_SUFFIX)?;
    let (seq, entries) = both.split_once('-')?;
    let seq = hex_between(seq, "", "")?;
    let entries = hex_between(entries, "", "")?;
    Some(FileKind::Snapshot(seq, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_by_sequence() {
        assert_eq!(classify(&segment_name(0x1f)), Some(FileKind::Segment(0x1f)));
        assert_eq!(
            classify(&snapshot_name(7, 3)),
            Some(FileKind::Snapshot(7, 3))
        );
        assert_eq!(
            classify("snap-0000000000000007.snap.tmp"),
            Some(FileKind::Temp)
        );
        assert_eq!(
            classify(&format!("{}.tmp", snapshot_name(7, 3))),
            Some(FileKind::Temp)
        );
        // Other people's temporary files are not the store's.
        for name in ["draft.tmp", "snap-notes.snap.tmp", "snap-.snap.tmp", ".tmp"] {
            assert_eq!(classify(name), None, "{name}");
        }
        assert_eq!(
            classify(&recycle_name(0x1f)),
            Some(FileKind::Recyclable(0x1f))
        );
        assert!(!holds_store_data(&recycle_name(1)));
        assert_eq!(classify("wal-1f.log"), None);
        assert_eq!(classify("LOCK"), None);
        assert!(segment_name(9) < segment_name(10));
        assert!(segment_name(0xff) < segment_name(0x100));
    }
}
