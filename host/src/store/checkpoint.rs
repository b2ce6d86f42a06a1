//! Checkpoints (and compaction, which is a checkpoint): the whole space
//! written as a snapshot beside running readers and writers.
//!
//! 1. Under the writer lock, for an instant: freeze the working state at
//!    commit `S` and rotate, so every closed segment holds only commits
//!    `<= S` (rotation syncs the old segment first).
//! 2. No lock held: write the frozen view to `snap-S-N.snap.tmp`, fsync it,
//!    rename it to `snap-S-N.snap`, fsync the directory. Writers append to
//!    the new segment meanwhile; readers read whatever view is current.
//! 3. Only now retire the closed segments (up to
//!    [`Options::recycle_segments`](super::Options::recycle_segments) of
//!    them are renamed `recycle-….log` to be written again as later
//!    segments, the rest removed) and remove older snapshots, and fsync
//!    the directory again.
//!
//! A failure in step 2 removes the temporary file and changes nothing
//! else: the old snapshot and segments stay in charge. A crash anywhere
//! leaves a directory recovery reads correctly: before the rename it sees
//! the old files (and deletes the `.tmp`); after it, the new snapshot
//! plus segments whose records it skips up to `S`.

use super::error::{io_error, StoreError};
use super::layout::{self, FileKind};
use super::records;
use super::view::View;
use super::{lock, Inner};
use core::time::Duration;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a compaction (or checkpoint) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactReport {
    /// The snapshot covers every commit up to this sequence number.
    pub seq: u64,
    /// Bytes of segments and snapshots in the directory before.
    pub bytes_before: u64,
    /// Bytes of segments and snapshots in the directory after.
    pub bytes_after: u64,
    /// Live entries written to the snapshot.
    pub records_kept: usize,
    /// Files removed (covered segments and older snapshots), covered
    /// segments kept for reuse included.
    pub files_removed: usize,
    /// Wall time taken.
    pub elapsed: Duration,
}

/// What [`Inner::retire`] did with a checkpoint's covered segments.
struct Retired {
    /// The segments gone from the log (removed or renamed), by first
    /// sequence number.
    gone: Vec<(u64, PathBuf)>,
    /// The new recyclable files, with their sizes.
    recycled: Vec<(u64, PathBuf)>,
}

impl Inner {
    /// Sum of the sizes of the store's files.
    fn store_bytes(&self) -> Result<u64, StoreError> {
        let names = self
            .fs
            .list(&self.dir)
            .map_err(|e| io_error("listing", &self.dir, e))?;
        let mut total = 0;
        for name in names {
            if layout::holds_store_data(&name) {
                let path = self.dir.join(&name);
                total += self
                    .fs
                    .size(&path)
                    .map_err(|e| io_error("measuring", &path, e))?;
            }
        }
        Ok(total)
    }

    /// Writes a snapshot of the current working state and retires what it
    /// covers (older snapshots removed, covered segments kept for reuse or
    /// removed).
    pub(crate) fn checkpoint(&self) -> Result<CompactReport, StoreError> {
        let started = Instant::now();
        let _one_at_a_time = lock(&self.maintenance);
        self.check_writable()?;
        let bytes_before = self.store_bytes()?;
        let (view, covered) = {
            let mut w = lock(&self.writer);
            self.check_writable()?;
            let view = w.working.freeze();
            self.rotate(&mut w)?;
            (view, w.closed.clone())
        };
        let snapshot = self.write_snapshot(&view)?;
        // The new snapshot is durable and in charge: retire what it covers.
        // A segment that could not be retired stays listed as closed, so
        // the next checkpoint tries again (it is covered, so harmless
        // meanwhile; recovery lists it as closed too).
        let kept = lock(&self.writer).recyclable.clone();
        let Retired { gone, recycled } = self.retire(&covered, kept);
        let mut removed = gone.len();
        {
            let mut w = lock(&self.writer);
            w.closed.retain(|c| !gone.contains(c));
            w.recyclable.extend(recycled);
            w.recyclable.sort();
        }
        let names = self
            .fs
            .list(&self.dir)
            .map_err(|e| io_error("listing", &self.dir, e))?;
        for name in names {
            if let Some(FileKind::Snapshot(seq, _)) = layout::classify(&name) {
                let path = self.dir.join(&name);
                // Older snapshots, and one that repair dropped as damaged
                // (its number may equal this one's), unless this one just
                // replaced it under the same name.
                let damaged = path != snapshot && self.dropped_by_repair(&path);
                if (seq < view.seq() || damaged) && self.fs.remove(&path).is_ok() {
                    removed += 1;
                }
            }
        }
        if let Err(e) = self.fs.sync_dir(&self.dir) {
            // The removals may come back after a crash; recovery skips
            // what the snapshot covers, so nothing is wrong, only bigger.
            self.poison(format!("fsync directory {}: {e}", self.dir.display()));
            return Err(self.poisoned_error());
        }
        Ok(CompactReport {
            seq: view.seq(),
            bytes_before,
            bytes_after: self.store_bytes()?,
            records_kept: view.len(),
            files_removed: removed,
            elapsed: started.elapsed(),
        })
    }

    /// Takes the covered segments out of the log: the largest, up to the
    /// room [`Options::recycle_segments`](super::Options::recycle_segments)
    /// leaves beside the `kept` recyclable files, are renamed for reuse,
    /// the rest removed. Returns the segments gone from the log and the
    /// new recyclable files with their sizes. Only the rotation that
    /// writes a recyclable file again takes it from the writer's list, so
    /// `kept` can only shrink meanwhile.
    fn retire(&self, covered: &[(u64, PathBuf)], kept: Vec<(u64, PathBuf)>) -> Retired {
        let mut by_size: Vec<(u64, &(u64, PathBuf))> = covered
            .iter()
            .map(|c| (self.fs.size(&c.1).unwrap_or(0), c))
            .collect();
        by_size.sort_by_key(|&(size, _)| core::cmp::Reverse(size));
        let mut room = self.options.recycle_segments.saturating_sub(kept.len());
        let mut gone = Vec::with_capacity(covered.len());
        let mut recycled = Vec::new();
        for (size, segment) in by_size {
            let name = self.dir.join(layout::recycle_name(segment.0));
            // A segment recovery found damaged may hold frames past the
            // damage, newer than its records: never a stale earlier life.
            let reuse = room > 0
                && size > 0
                && !self.dropped_by_repair(&segment.1)
                && kept.iter().all(|(_, p)| *p != name);
            let retired = if reuse {
                self.fs.rename(&segment.1, &name).is_ok()
            } else {
                self.fs.remove(&segment.1).is_ok()
            };
            if retired {
                gone.push(segment.clone());
                if reuse {
                    room -= 1;
                    recycled.push((size, name));
                }
            }
        }
        Retired { gone, recycled }
    }

    /// Whether opening (under repair) dropped damage in the file at `path`.
    fn dropped_by_repair(&self, path: &Path) -> bool {
        self.recovery.dropped.iter().any(|(p, _, _)| p == path)
    }

    /// Writes `view` as `snap-<seq>-<entries>.snap`, atomically and durably.
    fn write_snapshot(&self, view: &View) -> Result<PathBuf, StoreError> {
        let name = layout::snapshot_name(view.seq(), view.len() as u64);
        let path = self.dir.join(&name);
        let temp = self.dir.join(format!("{name}{}", layout::TEMP_SUFFIX));
        let result = self.write_snapshot_file(view, &temp, &path);
        if result.is_err() {
            let _ = self.fs.remove(&temp);
        }
        result.map(|()| path)
    }

    fn write_snapshot_file(
        &self,
        view: &View,
        temp: &PathBuf,
        path: &PathBuf,
    ) -> Result<(), StoreError> {
        let file = self
            .fs
            .create(temp)
            .map_err(|e| io_error("creating snapshot", temp, e))?;
        let mut offset = 0u64;
        let mut buf = Vec::with_capacity(1 << 20);
        let flush = |buf: &mut Vec<u8>, offset: &mut u64| -> Result<(), StoreError> {
            file.write_all_at(buf, *offset)
                .map_err(|e| io_error("writing snapshot", temp, e))?;
            *offset += buf.len() as u64;
            buf.clear();
            Ok(())
        };
        records::encode_header(view.width(), 0, view.seq(), &mut buf);
        for entry in view.iter(bindspace_core::space::Filter::All) {
            records::encode_entry(view.width(), &entry, &mut buf);
            if buf.len() >= 1 << 20 {
                flush(&mut buf, &mut offset)?;
            }
        }
        flush(&mut buf, &mut offset)?;
        if let Err(e) = file.sync_data() {
            self.poison(format!("fdatasync {}: {e}", temp.display()));
            return Err(self.poisoned_error());
        }
        self.fs
            .rename(temp, path)
            .map_err(|e| io_error("renaming snapshot into place", path, e))?;
        if let Err(e) = self.fs.sync_dir(&self.dir) {
            self.poison(format!("fsync directory {}: {e}", self.dir.display()));
            return Err(self.poisoned_error());
        }
        Ok(())
    }
}
