//! The durable store: a data directory of log segments and snapshots in
//! front of an in-memory space that any number of threads read and write.
//!
//! ```no_run
//! use bindspace_core::{fingerprint, mutation::Mutation, Addr};
//! use bindspace_host::store::{Options, SearchOptions, Store};
//!
//! let store = Store::open("data", Options::default())?;
//! let mut fp = vec![0u64; store.width().words()];
//! fingerprint::encode_text(&mut fp, "hello").unwrap();
//! store.commit(&[Mutation::Set { addr: Addr::new(0x80, 1), fp: &fp }])?;
//! let hits = store.search(&fp, 5, &SearchOptions::new())?;
//! assert_eq!(hits[0].addr, Addr::new(0x80, 1));
//! # Ok::<(), bindspace_host::store::StoreError>(())
//! ```
//!
//! The design (threads, snapshots, lock order, durability, file layout,
//! recovery) is written up in `docs/HOST.md`.

mod auto;
mod batch;
mod checkpoint;
mod committers;
mod create_dirs;
mod dir_lock;
mod error;
mod group;
mod layout;
mod options;
mod pool;
mod records;
mod recovery;
mod search;
pub mod sim;
mod stats;
mod sync;
mod vfs;
mod view;
mod writer;

pub use auto::AutoCheckpoints;
pub use batch::Batch;
pub use bindspace_core::search::{Hit, SearchOptions};
pub use checkpoint::CompactReport;
pub use error::StoreError;
pub use options::{Durability, Options};
pub use recovery::RecoveryReport;
pub use stats::SyncStats;
pub use vfs::{StdFs, Vfs, VfsFile, VfsLock};
pub use view::View;

use bindspace_core::mutation::Mutation;
use bindspace_core::Width;
use committers::Committers;
use core::sync::atomic::{AtomicBool, Ordering};
use group::{GroupSync, SyncFailure};
use stats::SyncCounters;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use sync::ArcSwap;
use view::Touched;
use writer::{SyncTarget, Writer};

/// A bindspace store on disk. Cheap to clone (a handle); share it across
/// threads freely.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
    _closer: Arc<Closer>,
}

/// Shared state; the locks are listed in the order they may be taken.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) fs: Arc<dyn Vfs>,
    pub(crate) dir: PathBuf,
    pub(crate) options: Options,
    /// One checkpoint or compaction at a time.
    pub(crate) maintenance: Mutex<()>,
    /// The automatic checkpoints' thread's mailbox (a leaf lock).
    pub(crate) auto: auto::AutoCheckpointer,
    /// The appender: active segment and working state.
    pub(crate) writer: Mutex<Writer>,
    /// What the next group sync covers.
    pub(crate) target: Mutex<SyncTarget>,
    /// Views appended but not yet durable (`Always` mode), oldest first.
    pub(crate) pending: Mutex<VecDeque<View>>,
    /// What readers see; swapped atomically, read without locks.
    pub(crate) current: ArcSwap<View>,
    pub(crate) group: GroupSync,
    /// The writer's side of the shards, the same as `writer`'s working
    /// state holds: committers catch spares up through it once their
    /// commit is published ([`Inner::catch_up_spares`]). Its per-shard
    /// locks are leaves, outside the order above: nobody takes another
    /// lock while holding one.
    pub(crate) spares: sync::Arc<view::Spares>,
    pub(crate) recovery: RecoveryReport,
    pub(crate) stop: (Mutex<bool>, Condvar),
    pub(crate) closed: AtomicBool,
    /// Who is committing (for `Inner::gather` in writer.rs).
    pub(crate) committers: Committers,
    /// The syncs that made commits durable: counts, and how long the last
    /// one took (the gather budget, writer.rs).
    pub(crate) syncs: SyncCounters,
    pub(crate) _lock: Box<dyn VfsLock>,
}

/// Stops the background threads (periodic syncer, automatic
/// checkpoints) and syncs once more when the last handle goes.
#[derive(Debug)]
struct Closer {
    inner: Arc<Inner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Closer {
    fn drop(&mut self) {
        let _ = self.inner.close();
        let threads = core::mem::take(&mut *lock(&self.threads));
        for handle in threads {
            let _ = handle.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its data consistent at each step (or
    // poisons the store on the way out), so a panicking holder is no
    // reason to stop everyone else.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Store {
    /// Opens (or creates) the store in directory `dir` on the operating
    /// system's file system.
    ///
    /// The directory is locked while the store is open: another process,
    /// or another store in this one, gets [`StoreError::Locked`]. The lock
    /// is a POSIX record lock on its `LOCK` file, which the kernel drops
    /// when this process closes *any* descriptor of that file: nothing
    /// else in the process should open it (docs/HOST.md, "The lock").
    /// A relative `dir` is made absolute here, so a later change of the
    /// working directory does not move the store.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Store, StoreError> {
        Store::open_with(Arc::new(StdFs), dir, options)
    }

    /// Opens (or creates) the store in `dir` on the file system `fs`.
    pub fn open_with(
        fs: Arc<dyn Vfs>,
        dir: impl AsRef<Path>,
        options: Options,
    ) -> Result<Store, StoreError> {
        let inner = Arc::new(recovery::open(fs, dir.as_ref(), options)?);
        let mut threads = Vec::new();
        if let Durability::Periodic(every) = inner.options.durability {
            let inner = Arc::clone(&inner);
            threads.push(std::thread::spawn(move || inner.periodic_sync(every)));
        }
        if inner.options.checkpoint_after_segments > 0 {
            let inner = Arc::clone(&inner);
            threads.push(std::thread::spawn(move || inner.run_auto_checkpoints()));
        }
        Ok(Store {
            _closer: Arc::new(Closer {
                inner: Arc::clone(&inner),
                threads: Mutex::new(threads),
            }),
            inner,
        })
    }

    /// Reads the store in `dir` as [`Store::open`] would and changes
    /// nothing on disk: returns the state it holds and what opening would
    /// report (a torn tail is reported, not cut; nothing is removed or
    /// created). Refuses a directory that holds no store. Takes the
    /// directory's lock, shared, while it reads: it fails with
    /// [`StoreError::Locked`] while a store has it open, and other
    /// processes may inspect beside it. The lock is a file (`LOCK`), read
    /// only here if it is there (so a directory the user may read but not
    /// write can be inspected) and made if it is not, so a directory
    /// copied without it gains one, and a read-only directory without one
    /// cannot be inspected.
    pub fn inspect(
        dir: impl AsRef<Path>,
        options: Options,
    ) -> Result<(View, RecoveryReport), StoreError> {
        Store::inspect_with(Arc::new(StdFs), dir, options)
    }

    /// [`Store::inspect`] through `fs`.
    pub fn inspect_with(
        fs: Arc<dyn Vfs>,
        dir: impl AsRef<Path>,
        options: Options,
    ) -> Result<(View, RecoveryReport), StoreError> {
        recovery::inspect(fs, dir.as_ref(), options)
    }

    /// Whether directory `dir` holds a store (a log segment or a
    /// snapshot); false for a directory that does not exist, or a path
    /// that is not a directory.
    pub fn exists(dir: impl AsRef<Path>) -> Result<bool, StoreError> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Ok(false);
        }
        recovery::holds_a_store(&StdFs, dir)
    }

    /// The fingerprint width.
    pub fn width(&self) -> Width {
        self.inner.options.width
    }

    /// What opening found and did.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.inner.recovery
    }

    /// Commits `batch` atomically: logged, made durable as the durability
    /// mode promises, applied, visible. Returns the sequence number of its
    /// last mutation (an empty batch changes nothing and returns the
    /// current one, once it is durable). The whole batch is checked first:
    /// a refused batch logs and changes nothing.
    pub fn commit(&self, batch: &[Mutation<'_>]) -> Result<u64, StoreError> {
        let inner = &self.inner;
        let _inside = inner.committers.inside();
        let decided = {
            let _entering = inner.committers.entering();
            let mut w = lock(&inner.writer);
            inner.check_writable()?;
            if batch.is_empty() {
                Decided::Nothing(w.working.seq(), None)
            } else {
                let seq = inner.append(&mut w, batch)?;
                drop(w);
                Decided::Appended(seq, Touched::of(batch))
            }
        };
        self.conclude(decided)
    }

    /// Reads and commits as one step: `decide` sees the newest state
    /// (including commits not yet durable, all ordered before this one)
    /// and fills the batch to commit, or returns an error to commit
    /// nothing. No other commit can land between the read and the write,
    /// so check-then-set and read-modify-write are safe here.
    ///
    /// Whatever `decide` answers, the caller hears it only once the state
    /// it read is as durable as a commit would be: an error or an empty
    /// batch decided on a commit whose sync then fails would otherwise
    /// report something that never happened (a key "gone" that is still
    /// there after a restart). If that sync fails, its failure is
    /// returned instead.
    ///
    /// `decide` runs holding the store's `writer` lock: it must not call
    /// `commit`, `commit_with`, `compact`, `checkpoint` or `close` on the
    /// same store (they take that lock too and would wait for ever).
    pub fn commit_with<F, E>(&self, decide: F) -> Result<u64, E>
    where
        F: FnOnce(&View, &mut Batch) -> Result<(), E>,
        E: From<StoreError>,
    {
        let inner = &self.inner;
        let _inside = inner.committers.inside();
        let outcome = {
            let _entering = inner.committers.entering();
            let mut w = lock(&inner.writer);
            inner.check_writable()?;
            let read = w.working.seq();
            let mut batch = Batch::new();
            match decide(&w.working.freeze(), &mut batch) {
                Ok(()) if !batch.is_empty() => {
                    let mutations = batch.mutations();
                    let touched = Touched::of(&mutations);
                    Decided::Appended(inner.append(&mut w, &mutations)?, touched)
                }
                Ok(()) => Decided::Nothing(read, None),
                Err(e) => Decided::Nothing(read, Some(e)),
            }
        };
        self.conclude(outcome)
    }

    /// The end of a commit, outside the `writer` lock: waits until what
    /// was appended (or, if nothing was, what was read) is durable, then
    /// catches the changed shards' spares up, or returns the refusal.
    fn conclude<E: From<StoreError>>(&self, decided: Decided<E>) -> Result<u64, E> {
        match decided {
            Decided::Appended(seq, touched) => {
                self.finish(seq)?;
                self.inner.catch_up_spares(&touched);
                Ok(seq)
            }
            Decided::Nothing(read, refusal) => {
                self.finish(read)?;
                refusal.map_or(Ok(read), Err)
            }
        }
    }

    /// Waits, as the durability mode says, until commit `seq` is durable
    /// and visible.
    fn finish(&self, seq: u64) -> Result<u64, StoreError> {
        let inner = &self.inner;
        if inner.options.durability == Durability::Always {
            inner.group.wait_durable(seq, || inner.sync_and_publish())?;
        }
        Ok(seq)
    }

    /// Makes every commit so far durable now (for `Periodic` and `Never`).
    pub fn sync(&self) -> Result<(), StoreError> {
        let inner = &self.inner;
        let appended = lock(&inner.target).appended;
        inner
            .group
            .wait_durable(appended, || inner.sync_and_publish())
            .map_err(StoreError::from)
    }

    /// The current consistent picture of the space. Never blocks.
    pub fn view(&self) -> Arc<View> {
        self.inner.current.load_full()
    }

    /// The `k` entries nearest to `query`, best first, ties broken by
    /// address, over the current view, split across the configured
    /// threads (`opts.kernel` is replaced by the run-time-detected one).
    pub fn search(
        &self,
        query: &[u64],
        k: usize,
        opts: &SearchOptions,
    ) -> Result<Vec<Hit>, StoreError> {
        self.search_with_threads(query, k, opts, self.inner.options.search_threads)
    }

    /// [`Store::search`] with an explicit thread count.
    pub fn search_with_threads(
        &self,
        query: &[u64],
        k: usize,
        opts: &SearchOptions,
        threads: usize,
    ) -> Result<Vec<Hit>, StoreError> {
        self.view().search(query, k, opts, threads)
    }

    /// Rewrites the log down to the live records: writes the whole space
    /// as a snapshot (temporary file, fsync, rename, directory fsync),
    /// removes the older snapshots and retires the segments it covers
    /// (up to [`Options::recycle_segments`] kept for reuse, the rest
    /// removed). Readers and writers carry on meanwhile; a failure leaves
    /// the old files in charge.
    pub fn compact(&self) -> Result<CompactReport, StoreError> {
        self.inner.checkpoint()
    }

    /// Another name for [`Store::compact`]: a checkpoint writes a snapshot
    /// and retires the log it covers.
    pub fn checkpoint(&self) -> Result<CompactReport, StoreError> {
        self.inner.checkpoint()
    }

    /// The log syncs that made commits durable since the store was opened:
    /// how many, the commits they covered and the time spent in them (how
    /// well group commit shares its fdatasyncs).
    pub fn sync_stats(&self) -> SyncStats {
        self.inner.syncs.snapshot()
    }

    /// What the automatic checkpoints
    /// ([`Options::checkpoint_after_segments`]) have done since the store
    /// was opened: how many ran, how many failed and why the last failed.
    pub fn auto_checkpoints(&self) -> AutoCheckpoints {
        self.inner.auto.report()
    }

    /// Why writes are refused, if an fsync failed.
    pub fn poisoned(&self) -> Option<String> {
        self.inner.group.failure().map(|f| f.0)
    }

    /// Syncs outstanding commits and stops the periodic syncer and the
    /// automatic checkpoints' thread. Later writes through any handle
    /// fail; dropping the last handle does the same and also waits for a
    /// checkpoint that thread is running (`close` does not: that
    /// checkpoint then fails or finishes on its own).
    pub fn close(&self) -> Result<(), StoreError> {
        self.inner.close()
    }
}

impl From<SyncFailure> for StoreError {
    fn from(f: SyncFailure) -> StoreError {
        StoreError::Poisoned { cause: f.0 }
    }
}

impl Inner {
    /// Fails if the store can no longer accept writes.
    pub(crate) fn check_writable(&self) -> Result<(), StoreError> {
        if self.group.failure().is_some() {
            return Err(self.poisoned_error());
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Poisoned {
                cause: "the store was closed".into(),
            });
        }
        Ok(())
    }

    /// Records a failure after which nothing may be written.
    pub(crate) fn poison(&self, cause: String) {
        self.group.poison(SyncFailure(cause));
    }

    /// Brings the spares of the shards a commit changed up to date, now
    /// that it is published (see `view.rs`), so the next commit to each
    /// finds its spare ready instead of catching it up under the `writer`
    /// lock, where every other committer waits for it. Measured in
    /// docs/BENCHMARKS.md, host store run O.
    fn catch_up_spares(&self, touched: &Touched) {
        let view = self.current.load_full();
        for prefix in touched.iter() {
            self.spares.catch_up(&view, prefix);
        }
    }

    /// The error every write returns once poisoned.
    pub(crate) fn poisoned_error(&self) -> StoreError {
        let cause = self
            .group
            .failure()
            .map_or_else(|| "unknown".to_string(), |f| f.0);
        StoreError::Poisoned { cause }
    }

    fn periodic_sync(&self, every: core::time::Duration) {
        let (stopped, wake) = &self.stop;
        let mut stop = lock(stopped);
        loop {
            let (guard, _) = wake
                .wait_timeout(stop, every)
                .unwrap_or_else(|e| e.into_inner());
            stop = guard;
            if *stop {
                return;
            }
            drop(stop);
            let appended = lock(&self.target).appended;
            if self.group.durable() < appended
                && self
                    .group
                    .wait_durable(appended, || self.sync_and_publish())
                    .is_err()
            {
                return;
            }
            stop = lock(stopped);
        }
    }

    fn close(&self) -> Result<(), StoreError> {
        // Closed under the `writer` lock: a commit holding it has passed
        // its writable check and is counted in `appended` before the flag
        // turns, so the sync below covers it; every later one is refused.
        // Without the lock a commit could append after `appended` was
        // read and be acknowledged with nobody left to sync it.
        let already = {
            let _w = lock(&self.writer);
            self.closed.swap(true, Ordering::AcqRel)
        };
        if already {
            return Ok(());
        }
        *lock(&self.stop.0) = true;
        self.stop.1.notify_all();
        self.auto.stop();
        if self.group.failure().is_some() {
            return Err(self.poisoned_error());
        }
        let appended = lock(&self.target).appended;
        self.group
            .wait_durable(appended, || self.sync_and_publish())
            .map_err(StoreError::from)
    }
}

/// What a commit came to under the `writer` lock ([`Store::commit`],
/// [`Store::commit_with`]).
enum Decided<E> {
    /// A batch was appended: its sequence number and the shards it changed.
    Appended(u64, Touched),
    /// Nothing was appended: the sequence number of the state the commit
    /// saw (what `decide` read), and the refusal, if any.
    Nothing(u64, Option<E>),
}
