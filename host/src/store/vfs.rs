//! The small file interface the store does all its I/O through.
//!
//! Production uses [`StdFs`] (the operating system); the crash tests use
//! [`crate::store::sim::SimFs`], which keeps written and durable data apart.
//! Every method has a one-line contract; the store relies on nothing else.

use super::dir_lock::{self, LockMode};
use core::fmt::Debug;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One open file. Methods take `&self` so the appender and the syncer can
/// share a handle (`pwrite` and `fdatasync` on one descriptor are safe to
/// run at the same time).
pub trait VfsFile: Send + Sync + Debug {
    /// Writes all of `bytes` at `offset`, or fails; a failure may leave a
    /// prefix of `bytes` written.
    fn write_all_at(&self, bytes: &[u8], offset: u64) -> io::Result<()>;
    /// Makes every byte written so far durable (fdatasync).
    fn sync_data(&self) -> io::Result<()>;
    /// Truncates or extends the file to exactly `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;
}

/// A guard that holds a directory's lock until dropped.
pub trait VfsLock: Send + Sync + Debug {}

/// The directory operations the store needs.
pub trait Vfs: Send + Sync + Debug {
    /// Creates `dir` and its parents if missing, durably: each directory
    /// created is synced into its parent.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// The absolute path of the existing directory `dir`, so that a store
    /// opened by a relative path keeps writing where it was opened after
    /// the process changes its working directory.
    fn resolve(&self, dir: &Path) -> io::Result<PathBuf> {
        Ok(dir.to_path_buf())
    }
    /// The names of the files in `dir`, symlinks included (unordered;
    /// not subdirectories).
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// The whole content of the file at `path`; an I/O error is an error,
    /// never a short result.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// [`Vfs::read`] into `buf` (cleared first), reusing its memory: a
    /// recovery reads many segments of the same size.
    fn read_into(&self, path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
        *buf = self.read(path)?;
        Ok(())
    }
    /// The current length of the file at `path`.
    fn size(&self, path: &Path) -> io::Result<u64>;
    /// Creates (or truncates to empty) the file at `path` for writing.
    fn create(&self, path: &Path) -> io::Result<Arc<dyn VfsFile>>;
    /// Opens the existing file at `path` for writing, without truncating.
    fn open_write(&self, path: &Path) -> io::Result<Arc<dyn VfsFile>>;
    /// Atomically replaces `to` with `from` (rename(2)).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes the file at `path`.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Makes the directory's entries (creations, renames, removals) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Takes the exclusive lock of `dir` (its `LOCK` file), failing with
    /// `io::ErrorKind::WouldBlock` if another process holds it and
    /// `io::ErrorKind::ResourceBusy` if a store in this one does.
    fn lock(&self, dir: &Path) -> io::Result<Box<dyn VfsLock>>;
    /// Takes a shared lock of `dir`, for reading it while changing
    /// nothing: it excludes [`Vfs::lock`] but not other shared holders
    /// elsewhere. By default the exclusive lock.
    fn lock_shared(&self, dir: &Path) -> io::Result<Box<dyn VfsLock>> {
        self.lock(dir)
    }
}

/// The operating system's file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdFs;

#[derive(Debug)]
struct StdFile(File);

impl VfsFile for StdFile {
    fn write_all_at(&self, bytes: &[u8], offset: u64) -> io::Result<()> {
        self.0.write_all_at(bytes, offset)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

/// Options that refuse a symlink as the file itself (`O_NOFOLLOW`, failing
/// with ELOOP): the store's files live in its directory, and a link there
/// is refused by name rather than read or truncated through.
fn no_follow() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    options
}

impl Vfs for StdFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        super::create_dirs::create_dirs_durably(dir, |parent| self.sync_dir(parent))
    }
    fn resolve(&self, dir: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            // A symlink is listed so that opening it fails loudly (every
            // open here refuses to follow one): left out, a symlinked
            // segment would be missed, and a new segment of its name
            // would truncate the file it points to.
            if kind.is_file() || kind.is_symlink() {
                if let Some(name) = entry.file_name().to_str() {
                    names.push(name.to_owned());
                }
            }
        }
        Ok(names)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.read_into(path, &mut buf)?;
        Ok(buf)
    }
    fn read_into(&self, path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
        use std::io::Read as _;
        let mut file = no_follow().read(true).open(path)?;
        let size = file.metadata()?.len();
        buf.clear();
        buf.reserve(usize::try_from(size).unwrap_or(0));
        file.read_to_end(buf)?;
        Ok(())
    }
    fn size(&self, path: &Path) -> io::Result<u64> {
        Ok(std::fs::metadata(path)?.len())
    }
    fn create(&self, path: &Path) -> io::Result<Arc<dyn VfsFile>> {
        let file = no_follow()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        Ok(Arc::new(StdFile(file)))
    }
    fn open_write(&self, path: &Path) -> io::Result<Arc<dyn VfsFile>> {
        let file = no_follow().read(true).write(true).open(path)?;
        Ok(Arc::new(StdFile(file)))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
    fn lock(&self, dir: &Path) -> io::Result<Box<dyn VfsLock>> {
        Ok(Box::new(dir_lock::lock(dir, LockMode::Exclusive)?))
    }
    fn lock_shared(&self, dir: &Path) -> io::Result<Box<dyn VfsLock>> {
        Ok(Box::new(dir_lock::lock(dir, LockMode::Shared)?))
    }
}
