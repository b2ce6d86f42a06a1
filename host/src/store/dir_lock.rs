//! The data directory's lock: one open store per directory, across
//! processes and within one.
//!
//! Not `flock`: a flock belongs to the open file description, and every
//! process forked by any thread of ours (`std::process::Command` included)
//! holds a copy of each descriptor until it execs. So a store's lock could
//! outlive its close by a child's fork-to-exec time, and a reopen in that
//! window was refused as "already open in another process": 1,919 of 3,000
//! close-and-reopen rounds in a scratch run while another thread spawned
//! `/bin/true` in a loop, 128 of 300 in the test that guards it
//! (`reopening_while_children_are_spawned_is_never_refused`).
//!
//! A POSIX record lock (`fcntl(F_SETLK)`) belongs to the process: a child
//! never inherits it, and it goes when the process dies, as a flock does.
//! It does not exclude the process that holds it, so a table of the
//! directories this process has locked does that. And the kernel drops it
//! when the process closes *any* descriptor of the file, so a `LOCK` file
//! in the table is never opened again here, by any name: the table holds
//! each lock's directory and `LOCK` file (device and inode), both are
//! checked before the file is opened, and an entry leaves the table only
//! after the store's descriptor is closed.

use super::layout::LOCK_FILE;
use super::vfs::VfsLock;
use rustix::fs::{fcntl_lock, FlockOperation};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;

/// A file's identity: device and inode, so two spellings of one
/// directory (a symlink, `a/../a`) are one entry, and so are two names of
/// one `LOCK` file.
type FileId = (u64, u64);

fn id_of(meta: &std::fs::Metadata) -> FileId {
    (meta.dev(), meta.ino())
}

/// One lock this process holds: its directory and its `LOCK` file. Both
/// are checked: a second directory whose `LOCK` is the same file (a hard
/// link, a tree copied with `cp -al`, a symlink) must not open it either,
/// since closing that descriptor would drop the first one's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Held {
    dir: FileId,
    file: FileId,
}

/// The locks this process holds.
static LOCKED_HERE: Mutex<Vec<Held>> = Mutex::new(Vec::new());

fn locked_here() -> std::sync::MutexGuard<'static, Vec<Held>> {
    // Each step below leaves the table consistent; a panic elsewhere is
    // no reason to stop opening stores.
    LOCKED_HERE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Holds the lock of one directory until dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    /// `None` only while dropping: closed before the table entry goes.
    file: Option<File>,
    held: Held,
}

impl VfsLock for DirLock {}

/// How a directory is locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockMode {
    /// An open store: nobody else.
    Exclusive,
    /// An inspection (`Store::inspect`, `bindspace stats`, `check`, ...):
    /// other inspections in other processes, never a store. The `LOCK`
    /// file is opened read-only if it is there, so a directory the user
    /// may read but not write can be inspected.
    Shared,
}

/// Takes the lock of `dir` in `mode`. Fails with `ResourceBusy` if this
/// process holds it (either mode), `WouldBlock` if another process holds
/// it in a mode that excludes this one.
pub(crate) fn lock(dir: &Path, mode: LockMode) -> io::Result<DirLock> {
    let busy = || {
        io::Error::new(
            io::ErrorKind::ResourceBusy,
            "a store in this process has it open",
        )
    };
    let dir_id = id_of(&std::fs::metadata(dir)?);
    let mut table = locked_here();
    if table.iter().any(|h| h.dir == dir_id) {
        return Err(busy());
    }
    let path = dir.join(LOCK_FILE);
    match std::fs::metadata(&path) {
        Ok(m) if table.iter().any(|h| h.file == id_of(&m)) => return Err(busy()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let file = open_lock_file(&path, mode)?;
    let file_id = id_of(&file.metadata()?);
    if table.iter().any(|h| h.file == file_id) {
        // Made a name of a held `LOCK` between the check above and the
        // open: closing this descriptor would drop that lock, so it is
        // kept open, for the life of the process.
        core::mem::forget(file);
        return Err(busy());
    }
    let held = Held {
        dir: dir_id,
        file: file_id,
    };
    let operation = match mode {
        LockMode::Exclusive => FlockOperation::NonBlockingLockExclusive,
        LockMode::Shared => FlockOperation::NonBlockingLockShared,
    };
    match fcntl_lock(&file, operation) {
        Ok(()) => {
            table.push(held);
            Ok(DirLock {
                file: Some(file),
                held,
            })
        }
        // Closing `file` here is safe: nobody in this process holds the
        // lock (the table said so), so there is none of ours to drop.
        Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::ACCESS => Err(
            io::Error::new(io::ErrorKind::WouldBlock, "another process holds the lock"),
        ),
        Err(e) => Err(e.into()),
    }
}

/// Opens `LOCK`: for writing (a write lock needs it), made if missing;
/// for a shared lock, read-only if it is there.
fn open_lock_file(path: &Path, mode: LockMode) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    if mode == LockMode::Shared {
        match options.open(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            opened => return opened,
        }
    }
    // A read lock needs only reading; `write` here is for making the file.
    options.write(true).create(true).truncate(false).open(path)
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Closing the descriptor releases the lock. Only then may the
        // directory leave the table: an opener let in earlier would open
        // `LOCK`, and this close would drop the lock it had just taken.
        drop(self.file.take());
        locked_here().retain(|held| *held != self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Another process's view of these locks is tested with the real
    // program (host/tests/store_lock.rs): these tests also run under
    // qemu-aarch64, which cannot start another aarch64 process.

    #[test]
    fn this_process_holds_a_directory_once_in_either_mode() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (held, asked) in [
            (LockMode::Shared, LockMode::Shared),
            (LockMode::Shared, LockMode::Exclusive),
            (LockMode::Exclusive, LockMode::Shared),
        ] {
            let first = lock(d, held).unwrap();
            let err = lock(d, asked).unwrap_err();
            assert_eq!(
                err.kind(),
                io::ErrorKind::ResourceBusy,
                "{held:?} {asked:?}"
            );
            drop(first);
        }
    }

    /// A shared lock needs only to read `LOCK` when it is there (so a
    /// directory the user cannot write can be inspected), and makes it
    /// when it is not.
    #[test]
    fn a_shared_lock_opens_an_existing_lock_file_read_only() {
        use rustix::fs::OFlags;
        let access = |l: &DirLock| {
            rustix::fs::fcntl_getfl(l.file.as_ref().unwrap()).unwrap() & OFlags::RWMODE
        };
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let made = lock(d, LockMode::Shared).unwrap();
        assert!(d.join(LOCK_FILE).exists());
        drop(made);
        let shared = lock(d, LockMode::Shared).unwrap();
        assert_eq!(access(&shared), OFlags::RDONLY);
        drop(shared);
        let exclusive = lock(d, LockMode::Exclusive).unwrap();
        assert_eq!(access(&exclusive), OFlags::RDWR);
    }
}
