//! Regression tests, on real threads and the real store, for what the
//! loom models of the store's protocols found (docs/HOST.md, "Loom
//! models"). These run in every `cargo test`; the models themselves run
//! only under `--cfg loom` (scripts/test.d/67-host-loom.sh).

use bindspace_core::mutation::Mutation;
use bindspace_core::{Addr, Width};
use bindspace_host::store::sim::SimFs;
use bindspace_host::store::{Durability, Options, Store, StoreError, Vfs, VfsFile, VfsLock};
use core::time::Duration;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// How long the failing fsync lingers, giving any other fsync of the same
/// file the chance to run while it does.
const LINGER: Duration = Duration::from_millis(300);

/// What the gate has seen of the fsyncs it watches.
#[derive(Debug, Default)]
struct Seen {
    /// Whether the next fsync fails.
    armed: bool,
    /// The file whose fsync failed (or is failing).
    failing: Option<PathBuf>,
    /// Whether that fsync is still running.
    in_progress: bool,
    /// Whether that file was fsynced again during or after the failure.
    retried: bool,
}

/// Makes one fsync fail, slowly, the way a disk error does; a later fsync
/// of the same file then succeeds, as Linux lets it once it has reported
/// the writeback error (and possibly marked the lost pages clean).
#[derive(Debug, Default)]
struct Gate {
    seen: Mutex<Seen>,
    changed: Condvar,
}

impl Gate {
    fn seen(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap()
    }

    fn wait_until_failing(&self) {
        let mut seen = self.seen();
        while !seen.in_progress {
            seen = self.changed.wait(seen).unwrap();
        }
    }

    fn sync(&self, path: &Path, inner: &dyn VfsFile) -> io::Result<()> {
        let mut seen = self.seen();
        if seen.armed {
            seen.armed = false;
            seen.failing = Some(path.to_path_buf());
            seen.in_progress = true;
            self.changed.notify_all();
            let start = Instant::now();
            while !seen.retried && start.elapsed() < LINGER {
                seen = self.changed.wait_timeout(seen, LINGER).unwrap().0;
            }
            seen.in_progress = false;
            self.changed.notify_all();
            return Err(io::Error::other("EIO (injected)"));
        }
        if seen.failing.as_deref() == Some(path) {
            seen.retried = true;
            self.changed.notify_all();
            while seen.in_progress {
                seen = self.changed.wait(seen).unwrap();
            }
            return Ok(());
        }
        drop(seen);
        inner.sync_data()
    }
}

#[derive(Debug)]
struct GatedFile {
    path: PathBuf,
    inner: Arc<dyn VfsFile>,
    gate: Arc<Gate>,
}

impl VfsFile for GatedFile {
    fn write_all_at(&self, bytes: &[u8], offset: u64) -> io::Result<()> {
        self.inner.write_all_at(bytes, offset)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.gate.sync(&self.path, self.inner.as_ref())
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }
}

/// The simulated file system with every file's fsync behind the gate.
#[derive(Debug)]
struct GatedFs {
    inner: SimFs,
    gate: Arc<Gate>,
}

impl GatedFs {
    fn wrap(&self, path: &Path, inner: Arc<dyn VfsFile>) -> Arc<dyn VfsFile> {
        Arc::new(GatedFile {
            path: path.to_path_buf(),
            inner,
            gate: Arc::clone(&self.gate),
        })
    }
}

impl Vfs for GatedFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.inner.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.inner.read(path)
    }
    fn size(&self, path: &Path) -> io::Result<u64> {
        self.inner.size(path)
    }
    fn create(&self, path: &Path) -> io::Result<Arc<dyn VfsFile>> {
        Ok(self.wrap(path, self.inner.create(path)?))
    }
    fn open_write(&self, path: &Path) -> io::Result<Arc<dyn VfsFile>> {
        Ok(self.wrap(path, self.inner.open_write(path)?))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.inner.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.inner.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.inner.sync_dir(dir)
    }
    fn lock(&self, dir: &Path) -> io::Result<Box<dyn VfsLock>> {
        self.inner.lock(dir)
    }
}

fn set(store: &Store, word: u64) -> Result<u64, StoreError> {
    store.commit(&[Mutation::Set {
        addr: Addr::new(0x80, 1),
        fp: &[word],
    }])
}

/// Found by the group-commit model: a segment rotation's fsync failed, and
/// before the rotation recorded the failure a group sync (here
/// `Store::sync`; in `Always` mode any committer's) fsynced the same
/// segment again, was told it succeeded, and reported commit 1 durable.
/// Now the rotation's fsync holds the group leader's place, so the group
/// sync waits for it and gets its failure.
#[test]
fn a_failed_rotation_fsync_is_never_retried_by_a_group_sync() {
    let gate = Arc::new(Gate::default());
    let fs = Arc::new(GatedFs {
        inner: SimFs::new(),
        gate: Arc::clone(&gate),
    });
    let options = Options {
        width: Width::from_words(1).unwrap(),
        durability: Durability::Never,
        // Every commit after the first in a segment rotates.
        segment_bytes: 1,
        ..Options::default()
    };
    let store = Store::open_with(fs, "/data", options).unwrap();
    assert_eq!(set(&store, 1).unwrap(), 1, "commit 1, not yet synced");
    gate.seen().armed = true;
    let rotating = {
        let store = store.clone();
        std::thread::spawn(move || set(&store, 2))
    };
    gate.wait_until_failing();
    let synced = store.sync();
    let rotated = rotating.join().unwrap();

    assert!(
        !gate.seen().retried,
        "the segment whose fsync failed was fsynced again"
    );
    assert!(
        matches!(synced, Err(StoreError::Poisoned { .. })),
        "a sync after the failed fsync answered {synced:?}"
    );
    assert!(matches!(rotated, Err(StoreError::Poisoned { .. })));
    assert!(store.poisoned().unwrap().contains("EIO (injected)"));
    assert!(set(&store, 3).is_err(), "a poisoned store took a commit");
}
