//! The append side: encoding a batch into the active segment, rotation,
//! and publishing views once their commits are durable.
//!
//! Lock order (never take an earlier lock while holding a later one):
//! `maintenance` -> `writer` -> `target` -> `pending`. The group-commit
//! leader takes `target` and `pending` only, never `writer`, so appenders
//! keep appending while a sync runs; readers take no lock at all. A
//! shard's slot lock (`view.rs`) is a leaf: the appender takes it inside
//! `writer`, a committer catching up a spare takes it holding nothing.
//! So is the automatic checkpoints' mailbox (`auto.rs`): the appender
//! takes it inside `writer` to ask for one.

use super::error::{io_error, StoreError};
use super::group::SyncFailure;
use super::layout;
use super::records;
use super::vfs::{Vfs, VfsFile};
use super::view::{View, Working};
use super::Durability;
use super::Inner;
use bindspace_core::mutation::Mutation;
use bindspace_core::Width;
use core::time::Duration;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The longest a sync leader waits for committers on their way
/// ([`Inner::gather`]).
const GATHER_MAX: Duration = Duration::from_micros(200);

/// How many commits a gathering leader lets pile up before it writes
/// them, ahead of the sync ([`Inner::gather`]).
const EARLY_WRITE_COMMITS: u64 = 4;

/// What the log reads as "nothing written here" (NOR flash's erased
/// state, docs/FORMAT.md): the byte a segment is prefilled with.
pub(crate) const ERASED: u8 = 0xFF;

/// The active segment.
#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) file: Arc<dyn VfsFile>,
    pub(crate) path: PathBuf,
    /// Bytes written (and kept) so far: where the next batch goes.
    pub(crate) len: u64,
    /// The file's length: from `len` to here it holds the end mark, then
    /// erased bytes (prefill, [`Options::prefill_bytes`](super::Options::prefill_bytes))
    /// or, in a recycled segment, the stale bytes of its earlier life.
    pub(crate) filled: u64,
}

/// Everything the single appender owns, behind the `writer` lock.
#[derive(Debug)]
pub(crate) struct Writer {
    pub(crate) segment: Segment,
    /// Closed segments still on disk, by first sequence number, oldest first.
    pub(crate) closed: Vec<(u64, PathBuf)>,
    /// Covered segments kept for reuse (`recycle-….log`), with their sizes,
    /// smallest first: the next segment is the last of them.
    pub(crate) recyclable: Vec<(u64, PathBuf)>,
    /// The first sequence number of the active segment.
    pub(crate) first_seq: u64,
    /// The active segment's number (one more for each new file).
    pub(crate) segment_no: u64,
    /// The newest state, including commits not yet durable.
    pub(crate) working: Working,
    /// Reused encoding buffer.
    pub(crate) buf: Vec<u8>,
    /// Erased bytes for the prefill, made once and reused: allocating and
    /// filling a fresh MiB for every step was about half of the prefill's
    /// time, under this lock (0.9-1.1 against 0.4-0.6 µs a commit,
    /// 16 writers of 1 KiB sets, eight alternating runs).
    pub(crate) erased: Vec<u8>,
}

/// What the next group sync covers: the active file and the last
/// sequence number appended to it.
#[derive(Debug)]
pub(crate) struct SyncTarget {
    pub(crate) file: Arc<dyn VfsFile>,
    pub(crate) path: PathBuf,
    pub(crate) appended: u64,
    /// Batches appended but not yet written (combined mode), in order,
    /// to be written at `unwritten_at` by the next sync leader.
    pub(crate) unwritten: Vec<u8>,
    pub(crate) unwritten_at: u64,
    /// The buffer the last leader wrote, kept for its memory.
    pub(crate) spare: Vec<u8>,
}

impl Inner {
    /// Appends `batch` as the next commit and applies it to the working
    /// state; returns the sequence number of its last mutation. Durability
    /// is the caller's next step. Called with the writer lock held.
    pub(crate) fn append(&self, w: &mut Writer, batch: &[Mutation<'_>]) -> Result<u64, StoreError> {
        self.check_writable()?;
        w.working.check_batch(batch).map_err(StoreError::Rejected)?;
        if batch.len() > records::BATCH_MAX {
            return Err(StoreError::BatchTooLarge {
                len: batch.len(),
                max: records::BATCH_MAX,
            });
        }
        // One sequence number per batch (FORMAT.md 3.3): every mutation of
        // it gets it as its version.
        let seq = w.working.seq() + 1;
        let mut buf = core::mem::take(&mut w.buf);
        buf.clear();
        records::encode_batch(self.options.width, seq, batch, &mut buf);
        let mark = records::END_MARK.len() as u64;
        if w.segment.len + buf.len() as u64 + mark > self.options.segment_bytes
            && w.segment.len > records::HEADER_LEN as u64
        {
            if let Err(e) = self.rotate(w) {
                w.buf = buf;
                return Err(e);
            }
            if self.checkpoint_due(w) {
                self.auto.want();
            }
        }
        let at = w.segment.len;
        let end = at + buf.len() as u64;
        if let Err(e) = self.prefill(&mut w.segment, &mut w.erased, end + mark) {
            w.buf = buf;
            return Err(e);
        }
        // In `Always` mode the batch lands in space the prefill already
        // took, and its commit waits for a sync anyway: the sync leader
        // writes every batch appended since the last sync in one `pwrite`
        // (`sync_and_publish`). Otherwise it is written now.
        let combined = self.combines();
        let written = if combined {
            Ok(())
        } else {
            let batch_len = buf.len();
            buf.extend_from_slice(&records::END_MARK);
            let written = w.segment.file.write_all_at(&buf, at);
            buf.truncate(batch_len);
            written
        };
        if let Err(e) = written {
            w.buf = buf;
            // Cut back whatever part was written, so the next batch starts
            // on a record boundary and nothing of this one can be replayed.
            match w.segment.file.set_len(at) {
                Ok(()) => w.segment.filled = at,
                Err(cut) => self.poison(format!(
                    "cutting back {} after a failed write: {cut}",
                    w.segment.path.display()
                )),
            }
            return Err(io_error("appending to", &w.segment.path, e));
        }
        w.segment.len = end;
        w.segment.filled = w.segment.filled.max(end + mark);
        for m in batch {
            if let Err(e) = w.working.apply(m, seq) {
                // check_batch passed, so this is a bug; the log and memory
                // now disagree, so stop writing.
                self.poison(format!("applying a checked batch failed: {e}"));
                return Err(self.poisoned_error());
            }
        }
        w.working.set_seq(seq);
        let view = w.working.freeze();
        let mut target = self.target.lock().unwrap_or_else(|e| e.into_inner());
        if combined {
            if target.unwritten.is_empty() {
                target.unwritten_at = at;
            }
            debug_assert_eq!(target.unwritten_at + target.unwritten.len() as u64, at);
            target.unwritten.extend_from_slice(&buf);
        }
        w.buf = buf;
        target.appended = seq;
        self.committers.appended(seq);
        match self.options.durability {
            // Visible only once durable: queued for the sync leader, while
            // `target` is held, so a leader whose sync covers `seq` finds
            // its view queued (else the commit could return before its
            // view was ever published).
            Durability::Always => self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_back(view),
            Durability::Periodic(_) | Durability::Never => self.current.store(Arc::new(view)),
        }
        drop(target);
        Ok(seq)
    }

    /// Whether an automatic checkpoint is due: they are on
    /// ([`Options::checkpoint_after_segments`](super::Options::checkpoint_after_segments))
    /// and that many closed segments are on disk.
    pub(crate) fn checkpoint_due(&self, w: &Writer) -> bool {
        let after = self.options.checkpoint_after_segments;
        after > 0 && w.closed.len() >= after
    }

    /// Whether batches are written by the sync leader, combined: in
    /// `Always` mode with prefill, where a batch's space is taken before
    /// it is applied (a full disk fails the prefill write, cleanly).
    fn combines(&self) -> bool {
        self.options.durability == Durability::Always && self.options.prefill_bytes > 0
    }

    /// Writes the batches appended since the last write (combined mode),
    /// in one `pwrite`, and returns what a sync then covers: the active
    /// file, its path and the last sequence number appended (read in the
    /// same step as the batches are taken, so every batch up to it was
    /// either written by its appender or is written here). Called by the
    /// sync leader, or by rotation in its place. A failure poisons the
    /// store: the batches are already applied to the working state, and
    /// their commits (and every later one) fail.
    fn write_unwritten(&self) -> Result<(Arc<dyn VfsFile>, PathBuf, u64), SyncFailure> {
        let (file, path, appended, mut bytes, at) = {
            let mut t = self.target.lock().unwrap_or_else(|e| e.into_inner());
            let spare = core::mem::take(&mut t.spare);
            let bytes = core::mem::replace(&mut t.unwritten, spare);
            let file = Arc::clone(&t.file);
            (file, t.path.clone(), t.appended, bytes, t.unwritten_at)
        };
        if !bytes.is_empty() {
            bytes.extend_from_slice(&records::END_MARK);
            let written = file.write_all_at(&bytes, at);
            bytes.clear();
            self.target.lock().unwrap_or_else(|e| e.into_inner()).spare = bytes;
            if let Err(e) = written {
                let failure = SyncFailure(format!("writing {} at {at}: {e}", path.display()));
                self.group.poison(failure.clone());
                return Err(failure);
            }
        }
        Ok((file, path, appended))
    }

    /// Makes sure the active segment is at least `end` bytes long, filling
    /// it with erased bytes a step of `prefill_bytes` at a time. The fill
    /// is not synced here: the next sync carries it (and the new length)
    /// with the commit that needed it. Unsynced fill lost in a crash is
    /// the same as a torn tail, or the file simply ends earlier.
    fn prefill(
        &self,
        segment: &mut Segment,
        erased: &mut Vec<u8>,
        end: u64,
    ) -> Result<(), StoreError> {
        if end <= segment.filled {
            return Ok(());
        }
        let step = self.options.prefill_bytes;
        if step == 0 {
            return Ok(());
        }
        let to = segment
            .filled
            .saturating_add(step)
            .min(self.options.segment_bytes)
            .max(end);
        if erased.is_empty() {
            // One step's worth (capped at 16 MiB); a longer fill, for a
            // batch larger than a step, goes in pieces.
            let len = usize::try_from(step).map_or(1 << 24, |s| s.min(1 << 24));
            erased.resize(len, ERASED);
        }
        let mut at = segment.filled;
        while at < to {
            let piece = (to - at).min(erased.len() as u64) as usize;
            segment
                .file
                .write_all_at(&erased[..piece], at)
                .map_err(|e| io_error("prefilling", &segment.path, e))?;
            at += piece as u64;
            // Erased bytes past a failed piece are harmless (they read as
            // the end); `filled` names only what was surely written.
            segment.filled = at;
        }
        Ok(())
    }

    /// The group-commit leader's work: fdatasync the active segment, then
    /// publish every view it covers. Returns the sequence number covered.
    pub(crate) fn sync_and_publish(&self) -> Result<u64, SyncFailure> {
        let gathered = self.gather()?;
        let (file, path, appended) = self.write_unwritten()?;
        // The leader's role is held, so nothing else raises it meanwhile
        // (and its lock-free copy is exact).
        let before = self.group.durable_seen();
        let started = Instant::now();
        if let Err(e) = file.sync_data() {
            let failure = SyncFailure(format!("fdatasync {}: {e}", path.display()));
            self.group.poison(failure.clone());
            return Err(failure);
        }
        let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.syncs
            .record(took, appended.saturating_sub(before), gathered);
        self.committers.take_peak();
        self.publish_through(appended);
        Ok(appended)
    }

    /// Before a group sync, lets the committers on their way append first,
    /// so the one fsync covers them too. When a sync ends, the committers
    /// it covered mostly commit again at once; a leader that synced
    /// straight away covered only those that had appended during the last
    /// sync, so 16 committers settled into groups of about 8. So the
    /// leader yields its processor until as many commits are pending as
    /// the most committers seen inside `commit` during the last cycle
    /// ([`super::committers::Committers`]) and nobody is halfway through
    /// appending, for at most as long as the last sync took and at most
    /// [`GATHER_MAX`]. Waiting applies only when others wait for a sync
    /// (one writer never waits; on tmpfs, where a sync is nearly free,
    /// nobody does). It changes only how much a sync covers, never what is
    /// acknowledged.
    ///
    /// While it waits, the leader writes what has been appended once
    /// [`EARLY_WRITE_COMMITS`] commits have piled up since its last write
    /// ([`Inner::write_unwritten`], the same call the sync makes after),
    /// so the write left before the fdatasync is a short one: only one
    /// committer appends at a time, so the other processor is free for
    /// it. Measured with 16 writers of 8,192-bit sets (docs/BENCHMARKS.md,
    /// host store run M): 16 writers / 1 from 7.83 to 8.12 by median of
    /// ten alternating runs. A failed write poisons the store, as the
    /// sync's own write would.
    ///
    /// Returns how long it gathered, in nanoseconds (0 when it did not
    /// wait), for [`super::SyncStats::gather_time`].
    fn gather(&self) -> Result<u64, SyncFailure> {
        let budget = Duration::from_nanos(self.syncs.last_nanos()).min(GATHER_MAX);
        if budget < Duration::from_micros(10) || !self.group.has_waiters() {
            return Ok(0);
        }
        let expected = self.committers.expected();
        let start = Instant::now();
        let waited = || u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        // The leader's role is held, so the watermark stays put meanwhile.
        let durable = self.group.durable_seen();
        let mut written = durable;
        loop {
            // The committers just acknowledged have often not run yet, so
            // the counts are read only after giving them the processor.
            std::thread::yield_now();
            if start.elapsed() >= budget {
                return Ok(waited());
            }
            let appended = self.committers.last_appended();
            let pending = appended.saturating_sub(durable);
            if self.committers.entering_now() == 0 && pending >= expected {
                return Ok(waited());
            }
            // The batches appended so far are written while the rest
            // arrive, so the write before the sync is a short one.
            if appended >= written + EARLY_WRITE_COMMITS {
                written = self.write_unwritten()?.2;
            }
        }
    }

    /// Makes the newest pending view with `seq <= through` the one readers
    /// see, dropping the older ones.
    pub(crate) fn publish_through(&self, through: u64) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let mut newest: Option<View> = None;
        while pending.front().is_some_and(|v| v.seq() <= through) {
            newest = pending.pop_front();
        }
        if let Some(view) = newest {
            // Stored while holding `pending`, so publications never go
            // backwards.
            self.current.store(Arc::new(view));
        }
    }

    /// Closes the active segment and starts the next one. The old one is
    /// synced first: recovery relies on only the last segment ever having
    /// a torn tail.
    pub(crate) fn rotate(&self, w: &mut Writer) -> Result<(), StoreError> {
        // In the group leader's place, so no group sync can retry this
        // fsync between its failure and the poisoning (group.rs).
        let last = w.working.seq();
        let segment = &w.segment;
        let synced = self.group.sync_exclusive(|| {
            // No appender and no leader runs meanwhile, so what is
            // unwritten belongs to this segment.
            self.write_unwritten()?;
            // A closed segment holds its records and nothing else.
            if segment.filled > segment.len {
                segment.file.set_len(segment.len).map_err(|e| {
                    SyncFailure(format!(
                        "cutting the prefill of {}: {e}",
                        segment.path.display()
                    ))
                })?;
            }
            segment
                .file
                .sync_data()
                .map_err(|e| SyncFailure(format!("fdatasync {}: {e}", segment.path.display())))?;
            self.publish_through(last);
            Ok(last)
        });
        // The prefill was cut (or the store is poisoned): from `len` on
        // the file holds nothing, so if no new segment follows (creating
        // it failed), the next commit here must prefill its space again
        // and meet a full disk there, cleanly, not in the sync's write.
        w.segment.filled = w.segment.filled.min(w.segment.len);
        if synced.is_err() {
            return Err(self.poisoned_error());
        }
        let first = last + 1;
        if w.first_seq == first {
            // The active segment holds no commit yet, so it already holds
            // only commits `> last`. A new one would get the same name
            // (`wal-<first>`) and the old path, now the live segment, would
            // be listed as closed and removed by the checkpoint.
            return Ok(());
        }
        let number = w.segment_no + 1;
        let reuse = w.recyclable.pop().map(|(_, path)| path);
        let segment = match start_segment(
            self.fs.as_ref(),
            &self.dir,
            self.options.width,
            number,
            first,
            reuse.as_deref(),
        ) {
            Ok(segment) => segment,
            Err(CreateError::Io(e)) => return Err(e),
            Err(CreateError::Sync(cause)) => {
                self.poison(cause);
                return Err(self.poisoned_error());
            }
        };
        let old_path = core::mem::replace(&mut w.segment.path, segment.path.clone());
        w.closed.push((w.first_seq, old_path));
        w.first_seq = first;
        w.segment_no = number;
        w.segment = segment;
        let mut t = self.target.lock().unwrap_or_else(|e| e.into_inner());
        t.file = Arc::clone(&w.segment.file);
        t.path = w.segment.path.clone();
        Ok(())
    }
}

/// Why a segment could not be made.
#[derive(Debug)]
pub(crate) enum CreateError {
    /// Creating or writing failed; nothing depends on the file.
    Io(StoreError),
    /// An fsync failed: the caller decides whether that poisons.
    Sync(String),
}

/// [`create_segment`], writing the kept file `reuse` again if there is
/// one; if that fails short of an fsync (the file cannot be opened,
/// written or renamed), the file is dropped and a new segment created in
/// its place: reuse only saves the prefill, so a commit (or an open) never
/// fails for it. A failed fsync poisons either way.
pub(crate) fn start_segment(
    fs: &dyn Vfs,
    dir: &Path,
    width: Width,
    number: u64,
    first: u64,
    reuse: Option<&Path>,
) -> Result<Segment, CreateError> {
    match create_segment(fs, dir, width, number, first, reuse) {
        Err(CreateError::Io(_)) if reuse.is_some() => {
            create_segment(fs, dir, width, number, first, None)
        }
        other => other,
    }
}

/// Creates the segment whose first record will be `first`, with its
/// header, durably (file and directory entry). With `reuse`, a covered
/// segment's file (`recycle-….log`) becomes it: its header is written
/// and synced while it still has its old name, then it is renamed into
/// place, so a crash leaves either an ignored recyclable file or a whole
/// recycled segment whose earlier life reads as stale (docs/FORMAT.md,
/// section 5.1). Its space needs no prefill.
pub(crate) fn create_segment(
    fs: &dyn Vfs,
    dir: &Path,
    width: Width,
    number: u64,
    first: u64,
    reuse: Option<&Path>,
) -> Result<Segment, CreateError> {
    let path = dir.join(layout::segment_name(first));
    let mut header = Vec::new();
    // The file the header goes into: the kept one, renamed after.
    let written = reuse.unwrap_or(&path);
    let (file, filled) = match reuse {
        Some(old) => {
            records::encode_recycled_header(width, number, first, &mut header);
            let file = fs
                .open_write(old)
                .map_err(|e| CreateError::Io(io_error("opening recyclable segment", old, e)))?;
            let size = fs
                .size(old)
                .map_err(|e| CreateError::Io(io_error("measuring", old, e)))?;
            (file, size.max(header.len() as u64))
        }
        None => {
            records::encode_header(width, number, first, &mut header);
            let file = fs
                .create(&path)
                .map_err(|e| CreateError::Io(io_error("creating segment", &path, e)))?;
            (file, header.len() as u64)
        }
    };
    let result = file
        .write_all_at(&header, 0)
        .map_err(|e| CreateError::Io(io_error("writing segment header", written, e)))
        .and_then(|()| {
            file.sync_data()
                .map_err(|e| CreateError::Sync(format!("fdatasync {}: {e}", written.display())))
        })
        .and_then(|()| match reuse {
            Some(old) => fs
                .rename(old, &path)
                .map_err(|e| CreateError::Io(io_error("renaming into place", &path, e))),
            None => Ok(()),
        })
        .and_then(|()| {
            fs.sync_dir(dir)
                .map_err(|e| CreateError::Sync(format!("fsync directory {}: {e}", dir.display())))
        });
    if let Err(e) = result {
        // Best effort: a half-made segment holds no record, and recovery
        // removes a last segment too short for its header; a recyclable
        // file with a new header is covered data either way.
        let _ = fs.remove(&path);
        if let Some(old) = reuse {
            let _ = fs.remove(old);
        }
        return Err(e);
    }
    Ok(Segment {
        file,
        path,
        len: records::HEADER_LEN as u64,
        filled,
    })
}
