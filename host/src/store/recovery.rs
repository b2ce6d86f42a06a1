//! Opening a data directory: lock, newest valid snapshot, replay of the
//! later segments, cut of a torn tail, and a fresh segment to append to.
//!
//! What counts as what:
//! - A **torn tail** (the normal result of a crash) is damage in the
//!   *last* segment: the only one that can hold unsynced writes, since
//!   rotation syncs a segment before the next exists. It is cut off
//!   (durably) and reported, with the number of valid frames that
//!   followed it. Bit rot in that segment cannot be told from a torn
//!   write by content alone (the format records no durability mark; see
//!   docs/HOST.md, "Known limit"), so the report says how much was cut
//!   and `bindspace check` shows it without cutting anything.
//! - **Corruption** is anything else: damage in an earlier segment (those
//!   were synced before the next one was created), a damaged snapshot
//!   (snapshots are synced before they are renamed into place), or a gap
//!   in sequence numbers. Opening refuses with the file and offset,
//!   unless `repair` is set: then every valid record is kept, and what
//!   was dropped is listed in the [`RecoveryReport`].
//! - An **inspection** ([`inspect`]) judges the same way but changes
//!   nothing on disk: no cut, no removal, no new segment.
//! - An I/O error while reading is an I/O error, never an end of file.

use super::committers::Committers;
use super::error::{io_error, StoreError};
use super::group::GroupSync;
use super::layout::{self, FileKind};
use super::options::Options;
use super::records::{self, Tail};
use super::stats::SyncCounters;
use super::sync::ArcSwap;
use super::vfs::Vfs;
use super::view::Working;
use super::writer::ERASED;
use super::writer::{start_segment, CreateError, SyncTarget, Writer};
use super::Inner;
use core::sync::atomic::AtomicBool;
use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Condvar, Mutex};

/// What opening a store found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The snapshot loaded, if any.
    pub snapshot: Option<PathBuf>,
    /// Segments replayed.
    pub segments: usize,
    /// Commits (batches) replayed from segments.
    pub batches: u64,
    /// Bytes read from snapshot and segments.
    pub bytes_read: u64,
    /// The last sequence number recovered.
    pub seq: u64,
    /// A torn tail: file, offset, bytes from there to the end (cut when
    /// the store is opened; left as it is by an inspection).
    pub torn_tail: Option<(PathBuf, u64, u64)>,
    /// What the torn tail held, in words.
    pub tail_note: Option<String>,
    /// With `repair`: each damaged place skipped (file, offset, reason).
    pub dropped: Vec<(PathBuf, u64, String)>,
}

impl RecoveryReport {
    /// What opening changed or skipped, one sentence each (empty when the
    /// directory was clean): a torn tail cut, a segment without a header
    /// removed, each place repair skipped. Printed by `bindspace serve` at
    /// start and by `bindspace repair`.
    pub fn notes(&self) -> Vec<String> {
        let mut lines = Vec::new();
        match (&self.torn_tail, &self.tail_note) {
            (Some((file, offset, bytes)), Some(note)) => lines.push(format!(
                "cut a torn tail of {bytes} bytes from {} at byte {offset}: {note}",
                file.display()
            )),
            (Some((file, _, bytes)), None) => lines.push(format!(
                "removed {} ({bytes} bytes), a segment whose header never reached the disk",
                file.display()
            )),
            (None, _) => {}
        }
        for (file, offset, reason) in &self.dropped {
            lines.push(format!(
                "skipped damage in {} at byte {offset}: {reason}",
                file.display()
            ));
        }
        lines
    }
}

fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        offset,
        reason: reason.into(),
    }
}

/// Either refuses (no repair) or notes the damage and carries on.
fn damage(
    report: &mut RecoveryReport,
    repair: bool,
    path: &Path,
    offset: u64,
    reason: String,
) -> Result<(), StoreError> {
    if !repair {
        return Err(corrupt(path, offset, reason));
    }
    report.dropped.push((path.to_path_buf(), offset, reason));
    Ok(())
}

fn read(fs: &dyn Vfs, path: &Path) -> Result<Vec<u8>, StoreError> {
    fs.read(path).map_err(|e| io_error("reading", path, e))
}

/// Cuts the file at `path` to `len` bytes, durably.
fn cut(fs: &dyn Vfs, path: &Path, len: u64) -> Result<(), StoreError> {
    let file = fs
        .open_write(path)
        .map_err(|e| io_error("opening", path, e))?;
    file.set_len(len)
        .and_then(|()| file.sync_data())
        .map_err(|e| io_error("cutting the tail of", path, e))
}

/// Writes the bytes a cut at `offset` of `path` removes (up to the
/// erased prefill after them) to `<segment>.torn-<offset>` beside it, and
/// syncs the file and the directory before the cut is made.
fn keep_cut_bytes(
    fs: &dyn Vfs,
    path: &Path,
    tail: &[u8],
    offset: u64,
) -> Result<PathBuf, StoreError> {
    let used = tail.iter().rposition(|&b| b != ERASED).map_or(0, |i| i + 1);
    let base = format!(
        "{}{}{offset:016x}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        layout::TORN_SUFFIX
    );
    let dir = path.parent().unwrap_or(Path::new("."));
    // A segment name can come back (a cut segment that held no commit is
    // replaced by one of the same name): earlier evidence is never
    // overwritten, a later copy gets a number.
    let taken = fs.list(dir).map_err(|e| io_error("listing", dir, e))?;
    let mut name = base.clone();
    let mut n = 0;
    while taken.contains(&name) {
        n += 1;
        name = format!("{base}.{n}");
    }
    let kept = path.with_file_name(name);
    let file = fs
        .create(&kept)
        .map_err(|e| io_error("creating", &kept, e))?;
    file.write_all_at(&tail[..used], 0)
        .and_then(|()| file.sync_data())
        .map_err(|e| io_error("keeping the cut tail in", &kept, e))?;
    fs.sync_dir(dir).map_err(|e| io_error("syncing", dir, e))?;
    Ok(kept)
}

/// Reads `live` in order into reused buffers and hands each over (or the
/// first error, then stops).
fn read_ahead(
    fs: &dyn Vfs,
    live: &[(u64, PathBuf)],
    full: &mpsc::SyncSender<Result<Vec<u8>, StoreError>>,
    spare: &mpsc::Receiver<Vec<u8>>,
) {
    for (_, path) in live {
        let mut buf = spare.try_recv().unwrap_or_default();
        let read = fs
            .read_into(path, &mut buf)
            .map(|()| buf)
            .map_err(|e| io_error("reading", path, e));
        let failed = read.is_err();
        if full.send(read).is_err() || failed {
            return;
        }
    }
}

/// What replaying a directory found.
struct Replayed {
    working: Working,
    /// What recovery found, `seq` (the last sequence number recovered)
    /// included.
    report: RecoveryReport,
    /// The last segment's number.
    segment_no: u64,
    /// Every segment file, by first sequence number, oldest first.
    segments: Vec<(u64, PathBuf)>,
    /// Covered segments kept for reuse, with their sizes, smallest first.
    recyclable: Vec<(u64, PathBuf)>,
    dir_lock: Box<dyn super::vfs::VfsLock>,
}

/// Whether `dir` holds a store's data (a segment or a snapshot).
pub(crate) fn holds_a_store(fs: &dyn Vfs, dir: &Path) -> Result<bool, StoreError> {
    let names = fs.list(dir).map_err(|e| io_error("listing", dir, e))?;
    Ok(names.iter().any(|name| layout::holds_store_data(name)))
}

/// Reads the store in `dir` as opening it would, and changes nothing on
/// disk: the state it holds and what recovery would report (a torn tail
/// is reported, not cut). Refuses a directory that holds no store.
pub(crate) fn inspect(
    fs: Arc<dyn Vfs>,
    dir: &Path,
    options: Options,
) -> Result<(super::View, RecoveryReport), StoreError> {
    if !holds_a_store(fs.as_ref(), dir)? {
        return Err(StoreError::Io {
            op: "inspecting",
            path: dir.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::NotFound,
                "no bindspace store here (no log segment, no snapshot)",
            ),
        });
    }
    let replayed = replay(fs.as_ref(), dir, &options, true)?;
    Ok((replayed.working.freeze(), replayed.report))
}

/// Opens the store in `dir`: the whole of recovery.
pub(crate) fn open(fs: Arc<dyn Vfs>, dir: &Path, options: Options) -> Result<Inner, StoreError> {
    fs.create_dir_all(dir)
        .map_err(|e| io_error("creating directory", dir, e))?;
    // Every later path is built from this one, for as long as the store
    // is open: relative, it would follow the process's working directory.
    let dir = &fs.resolve(dir).map_err(|e| io_error("resolving", dir, e))?;
    let replayed = replay(fs.as_ref(), dir, &options, false)?;
    open_after(fs, dir, options, replayed)
}

/// Replays the store in `dir`. With `inspect`, nothing on disk changes:
/// unfinished checkpoints stay, a torn tail or a header-less last
/// segment is only reported, the prefill is not cut.
fn replay(
    fs: &dyn Vfs,
    dir: &Path,
    options: &Options,
    inspect: bool,
) -> Result<Replayed, StoreError> {
    // An inspection changes nothing, so other inspections may read beside
    // it; a store may not.
    let locked = if inspect {
        fs.lock_shared(dir)
    } else {
        fs.lock(dir)
    };
    let dir_lock = locked.map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::ResourceBusy => StoreError::Locked {
            dir: dir.to_path_buf(),
            by_this_process: e.kind() == io::ErrorKind::ResourceBusy,
        },
        _ => io_error("locking", dir, e),
    })?;
    let names = fs.list(dir).map_err(|e| io_error("listing", dir, e))?;
    let mut segments = Vec::new();
    let mut snapshots = Vec::new();
    let mut recyclable = Vec::new();
    for name in names {
        let path = dir.join(&name);
        match layout::classify(&name) {
            Some(FileKind::Segment(seq)) => segments.push((seq, path)),
            Some(FileKind::Snapshot(seq, entries)) => snapshots.push((seq, entries, path)),
            // Covered data, never read: kept to be written again.
            Some(FileKind::Recyclable(_)) => {
                let size = fs
                    .size(&path)
                    .map_err(|e| io_error("measuring", &path, e))?;
                recyclable.push((size, path));
            }
            // An unfinished checkpoint: never in charge.
            Some(FileKind::Temp) if !inspect => {
                fs.remove(&path)
                    .map_err(|e| io_error("removing", &path, e))?;
            }
            Some(FileKind::Temp) | None => {}
        }
    }
    segments.sort();
    snapshots.sort();
    recyclable.sort();
    if !inspect {
        // More than the options keep (they were lowered): the smallest go.
        let extra = recyclable.len().saturating_sub(options.recycle_segments);
        for (_, path) in recyclable.drain(..extra) {
            fs.remove(&path)
                .map_err(|e| io_error("removing", &path, e))?;
        }
    }
    let width = options.width;
    let mut report = RecoveryReport::default();
    let mut working = Working::new(width);

    // The newest snapshot that reads whole. An older one is only a
    // fallback under repair (the segments it needs may be gone; the
    // sequence check below then reports the gap).
    let mut base = 0;
    for (seq, entries, path) in snapshots.iter().rev() {
        let bytes = read(fs, path)?;
        report.bytes_read += bytes.len() as u64;
        let mut candidate = Working::new(width);
        let loaded = records::read_snapshot(&bytes, width, |entry| {
            candidate
                .restore(entry)
                .map_err(|e| format!("entry does not load: {e}"))
        });
        match loaded {
            Ok((found, count)) if found == *seq && count == *entries => {
                candidate.set_seq(*seq);
                working = candidate;
                base = *seq;
                report.snapshot = Some(path.clone());
                break;
            }
            Ok((found, count)) => damage(
                &mut report,
                options.repair,
                path,
                bytes.len() as u64,
                format!(
                    "snapshot holds commit {found} with {count} entries, its name says commit {seq} with {entries}"
                ),
            )?,
            Err(records::ReadError::Width { found }) => {
                return Err(StoreError::WidthMismatch {
                    found,
                    expected: width.bits(),
                })
            }
            Err(records::ReadError::Damaged { offset, reason }) => {
                damage(&mut report, options.repair, path, offset, reason)?
            }
        }
    }

    // Replay, oldest first, every segment not wholly covered by the base.
    let mut seq = base;
    let live: Vec<(u64, PathBuf)> = segments
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            segments
                .get(i + 1)
                .is_none_or(|(after, _)| *after > base + 1)
        })
        .map(|(_, s)| s.clone())
        .collect();
    let mut segment_no = 0;
    // A second thread reads the next segment while this one replays the
    // current one; buffers go back to it to be reused.
    let (full_tx, full_rx) = mpsc::sync_channel(1);
    let (spare_tx, spare_rx) = mpsc::channel();
    std::thread::scope(|scope| -> Result<(), StoreError> {
        let (fs_ref, live_ref) = (fs, &live);
        scope.spawn(move || read_ahead(fs_ref, live_ref, &full_tx, &spare_rx));
        // Owned here: returning early drops it, which stops the reader.
        let full_rx = full_rx;
        for (index, (first_seq, path)) in live.iter().enumerate() {
            let is_last = index + 1 == live.len();
            let bytes = full_rx.recv().map_err(|_| StoreError::Io {
                op: "reading",
                path: path.clone(),
                source: io::Error::other("the read-ahead thread stopped"),
            })??;
            report.bytes_read += bytes.len() as u64;
            report.segments += 1;
            // Repair resumes after damage in a segment that was synced whole;
            // damage in the last one is a torn tail, cut below.
            let resume = options.repair && !is_last;
            let scanned = records::scan_segment(&bytes, width, resume, |batch_seq, mutations| {
                if batch_seq <= seq {
                    return Ok(()); // covered by the snapshot
                }
                if batch_seq != seq + 1 && !options.repair {
                    return Err(format!(
                        "sequence gap: expected commit {}, found {batch_seq}",
                        seq + 1
                    ));
                }
                if options.repair && mutations.len() > 1 {
                    // Checked whole first, so a batch that does not apply (only
                    // possible in a damaged log) is dropped whole, never half.
                    // Without repair any failure fails the whole open, so a
                    // half-applied state is thrown away with it.
                    working
                        .check_batch(mutations)
                        .map_err(|e| format!("commit {batch_seq} does not apply: {e}"))?;
                }
                for m in mutations {
                    working
                        .apply(m, batch_seq)
                        .map_err(|e| format!("commit {batch_seq} does not apply: {e}"))?;
                }
                report.batches += 1;
                seq = batch_seq;
                Ok(())
            });
            let scanned = match scanned {
                Ok(s) => s,
                Err(records::ReadError::Width { found }) => {
                    return Err(StoreError::WidthMismatch {
                        found,
                        expected: width.bits(),
                    })
                }
                Err(records::ReadError::Damaged { offset, reason }) => {
                    if is_last && bytes.len() <= records::HEADER_LEN {
                        // A segment whose header never fully reached the disk:
                        // rotation made it just before a crash; it holds nothing.
                        report.torn_tail = Some((path.clone(), 0, bytes.len() as u64));
                        if !inspect {
                            fs.remove(path).map_err(|e| io_error("removing", path, e))?;
                        }
                        continue;
                    }
                    damage(&mut report, options.repair, path, offset, reason)?;
                    continue;
                }
            };
            for (offset, reason) in scanned.dropped {
                damage(&mut report, options.repair, path, offset, reason)?;
            }
            segment_no = scanned.segment;
            if scanned.first_seq != *first_seq {
                damage(
                    &mut report,
                    options.repair,
                    path,
                    0,
                    format!(
                        "header says commit {}, the name says {first_seq}",
                        scanned.first_seq
                    ),
                )?;
            }
            if is_last && scanned.tail == Tail::Clean && scanned.end < bytes.len() as u64 {
                // The prefill after the last record (erased bytes, never
                // a record): cut so the segment, now closed, holds its
                // records alone.
                if !inspect {
                    cut(fs, path, scanned.end)?;
                }
            }
            if let Tail::Damaged {
                offset,
                reason,
                later_valid,
            } = scanned.tail
            {
                if is_last {
                    // The last segment is the only one that can hold unsynced
                    // writes (rotation syncs a segment before the next exists),
                    // so damage here is what a crash leaves: everything from it
                    // on was never synced, hence never acknowledged. Cut it,
                    // durably, and say so.
                    let mut note =
                        format!("{reason}; {later_valid} later valid frames were unsynced");
                    if !inspect {
                        if later_valid > 0 {
                            // Whole frames after the damage are also what
                            // bit rot in synced data looks like, which no
                            // reader can tell from a crash: the bytes are
                            // kept beside the segment before the cut.
                            let kept = keep_cut_bytes(fs, path, &bytes[offset as usize..], offset)?;
                            note.push_str(&format!(
                                "; the cut bytes are kept in {}",
                                kept.display()
                            ));
                        }
                        cut(fs, path, offset)?;
                    }
                    report.torn_tail = Some((path.clone(), offset, bytes.len() as u64 - offset));
                    report.tail_note = Some(note);
                } else {
                    damage(
                        &mut report,
                        options.repair,
                        path,
                        offset,
                        format!("{reason} ({later_valid} valid frames after it)"),
                    )?;
                }
            }
            let _ = spare_tx.send(bytes);
        }
        Ok(())
    })?;

    if options.repair {
        // What repair dropped (a damaged snapshot, say) may have held the
        // newest commits: numbering goes on after every commit a file's
        // name claims, so sequence numbers never run backwards and the
        // next checkpoint's snapshot is newer than the damaged one.
        let claimed = snapshots
            .iter()
            .map(|(s, _, _)| *s)
            .chain(segments.iter().map(|(first, _)| first.saturating_sub(1)))
            .max()
            .unwrap_or(0);
        seq = seq.max(claimed);
    }
    working.set_seq(seq);
    report.seq = seq;
    Ok(Replayed {
        working,
        report,
        segment_no,
        segments,
        recyclable,
        dir_lock,
    })
}

/// The rest of opening, once replayed: a fresh segment and the store's
/// state.
fn open_after(
    fs: Arc<dyn Vfs>,
    dir: &Path,
    options: Options,
    replayed: Replayed,
) -> Result<Inner, StoreError> {
    let Replayed {
        working,
        report,
        segment_no,
        segments,
        mut recyclable,
        dir_lock,
    } = replayed;
    let seq = report.seq;
    // A fresh segment for new commits: appending after damage, or into a
    // file whose tail was just cut, is never needed.
    let segment_no = segment_no + 1;
    let reuse = recyclable.pop().map(|(_, path)| path);
    let segment = start_segment(
        fs.as_ref(),
        dir,
        options.width,
        segment_no,
        seq + 1,
        reuse.as_deref(),
    )
    .map_err(|e| match e {
        CreateError::Io(e) => e,
        CreateError::Sync(cause) => StoreError::Io {
            op: "syncing",
            path: dir.to_path_buf(),
            source: io::Error::other(cause),
        },
    })?;
    // Every older segment is closed, those the snapshot covers too: one
    // left behind (a crash between a checkpoint's rename and its removals,
    // or a removal that failed) is removed by the next checkpoint.
    let closed = segments
        .iter()
        .filter(|(first, _)| *first != seq + 1)
        .cloned()
        .collect();
    let target = SyncTarget {
        file: Arc::clone(&segment.file),
        path: segment.path.clone(),
        appended: seq,
        unwritten: Vec::new(),
        unwritten_at: 0,
        spare: Vec::new(),
    };
    let view = working.freeze();
    Ok(Inner {
        fs,
        dir: dir.to_path_buf(),
        spares: working.spares(),
        maintenance: Mutex::new(()),
        auto: super::auto::AutoCheckpointer::default(),
        writer: Mutex::new(Writer {
            segment,
            closed,
            recyclable,
            first_seq: seq + 1,
            segment_no,
            working,
            buf: Vec::new(),
            erased: Vec::new(),
        }),
        target: Mutex::new(target),
        pending: Mutex::new(VecDeque::new()),
        current: ArcSwap::from_pointee(view),
        group: GroupSync::new(seq),
        recovery: report,
        stop: (Mutex::new(false), Condvar::new()),
        closed: AtomicBool::new(false),
        committers: Committers::new(seq),
        syncs: SyncCounters::default(),
        options,
        _lock: dir_lock,
    })
}
