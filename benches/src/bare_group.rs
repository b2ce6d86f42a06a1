//! The bare group commit: how fast synchronous committers can go on this
//! file system when they share fdatasyncs and do nothing else.
//!
//! Each committer copies its bytes into one shared buffer and waits until
//! a sync covers them: it spins first, yielding its processor at every
//! turn, for up to [`SPIN_MAX`] (as the store's committers do), then
//! sleeps. The leader first waits until every committer still running has
//! appended (it knows how many there are, which a store cannot), then
//! writes the buffer in one `pwrite` into prefilled space and runs one
//! fdatasync without holding the lock. No checks, no views, no record
//! encoding: what is left is the disk and the hand-offs between threads,
//! so this is the anchor a store's group commit is measured beside. The
//! store benchmark prints it next to the store's 16-writer rate.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// What a run of the bare group commit did.
#[derive(Clone, Copy, Debug)]
pub struct BareGroupRun {
    /// Commits made durable, over all committers.
    pub commits: u64,
    /// fdatasyncs that made them durable.
    pub syncs: u64,
    /// Wall time from the first commit to the last acknowledgement.
    pub took: Duration,
}

impl BareGroupRun {
    /// Durable commits per second.
    pub fn rate(&self) -> f64 {
        self.commits as f64 / self.took.as_secs_f64()
    }

    /// Commits each sync covered, on average.
    pub fn commits_per_sync(&self) -> f64 {
        self.commits as f64 / self.syncs.max(1) as f64
    }
}

/// Longest a leader waits for the others to append: only reached when a
/// committer is slow to be scheduled, so that a stalled one cannot stop
/// the run.
const GATHER_LIMIT: Duration = Duration::from_millis(1);
/// How long a committer spins before sleeping.
const SPIN_MAX: Duration = Duration::from_micros(200);

struct State {
    /// Bytes appended and not yet handed to a sync.
    buffer: Vec<u8>,
    /// The last sync's buffer, emptied, so appending never reallocates.
    spare: Vec<u8>,
    /// Commits appended, and of those, made durable.
    appended: u64,
    durable: u64,
    /// Where the next sync's bytes go in the file.
    at: u64,
    leading: bool,
    /// The leader waits for the others to append.
    gathering: bool,
    /// Committers that have not finished their commits.
    running: u64,
    syncs: u64,
    failure: Option<String>,
}

impl State {
    /// Every running committer has at most one commit outstanding; the
    /// leader waits until each has one.
    fn all_gathered(&self) -> bool {
        self.appended - self.durable >= self.running
    }
}

struct Shared {
    file: File,
    state: Mutex<State>,
    /// A committer appended (for a gathering leader) or finished.
    arrived: Condvar,
    /// A sync ended.
    synced: Condvar,
    /// Copies of `durable` and `leading` for the spinners.
    durable_seen: AtomicU64,
    leading_seen: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `bytes` and returns once a sync has made them durable.
    fn commit(&self, bytes: &[u8]) -> Result<(), String> {
        let mut s = self.lock();
        s.buffer.extend_from_slice(bytes);
        s.appended += 1;
        let mine = s.appended;
        self.wake_gatherer(&s);
        let mut spin_until = None;
        while s.durable < mine {
            if let Some(failure) = &s.failure {
                return Err(failure.clone());
            }
            if s.leading {
                let until = *spin_until.get_or_insert_with(|| Instant::now() + SPIN_MAX);
                if Instant::now() >= until {
                    s = self.synced.wait(s).unwrap_or_else(PoisonError::into_inner);
                    continue;
                }
                drop(s);
                while self.durable_seen.load(Ordering::Acquire) < mine
                    && self.leading_seen.load(Ordering::Acquire)
                    && Instant::now() < until
                {
                    std::thread::yield_now();
                }
                s = self.lock();
                continue;
            }
            s = self.lead(s);
        }
        Ok(())
    }

    /// The leader's turn: gathers everyone, writes and syncs what they
    /// appended without the lock, raises the watermark (or records the
    /// failure) and wakes the sleepers.
    fn lead<'a>(&'a self, mut s: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        s.leading = true;
        self.leading_seen.store(true, Ordering::Release);
        let start = Instant::now();
        s.gathering = true;
        while !s.all_gathered() && start.elapsed() < GATHER_LIMIT {
            s = self
                .arrived
                .wait_timeout(s, GATHER_LIMIT)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        s.gathering = false;
        let covered = s.appended;
        let spare = core::mem::take(&mut s.spare);
        let mut bytes = core::mem::replace(&mut s.buffer, spare);
        let at = s.at;
        s.at += bytes.len() as u64;
        drop(s);
        let result = self
            .file
            .write_all_at(&bytes, at)
            .and_then(|()| self.file.sync_data());
        bytes.clear();
        let mut s = self.lock();
        s.spare = bytes;
        s.leading = false;
        match result {
            Ok(()) => {
                s.durable = covered;
                s.syncs += 1;
                self.durable_seen.store(covered, Ordering::Release);
            }
            Err(e) => s.failure = Some(format!("bare group commit: {e}")),
        }
        self.leading_seen.store(false, Ordering::Release);
        self.synced.notify_all();
        s
    }

    fn finished(&self) {
        let mut s = self.lock();
        s.running -= 1;
        self.wake_gatherer(&s);
    }

    /// Wakes a gathering leader once everyone is there (a wake-up is a
    /// system call; one per commit would be store work the anchor does
    /// not need).
    fn wake_gatherer(&self, s: &State) {
        if s.gathering && s.all_gathered() {
            self.arrived.notify_one();
        }
    }
}

/// Runs `threads` committers, each making `per_thread` commits of
/// `payload` bytes durable, into a file in `dir` prefilled with `0xFF` for
/// every byte the run writes (as a store's segment is prefilled).
pub fn bare_group_commit(
    dir: &Path,
    threads: usize,
    per_thread: usize,
    payload: usize,
) -> std::io::Result<BareGroupRun> {
    let path = dir.join("bare-group.log");
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)?;
    let total = threads * per_thread * payload;
    file.write_all_at(&vec![0xFF; total], 0)?;
    file.sync_all()?;
    let shared = Shared {
        file,
        state: Mutex::new(State {
            buffer: Vec::with_capacity(threads * payload),
            spare: Vec::with_capacity(threads * payload),
            appended: 0,
            durable: 0,
            at: 0,
            leading: false,
            gathering: false,
            running: threads as u64,
            syncs: 0,
            failure: None,
        }),
        arrived: Condvar::new(),
        synced: Condvar::new(),
        durable_seen: AtomicU64::new(0),
        leading_seen: AtomicBool::new(false),
    };
    let start = Instant::now();
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let shared = &shared;
                scope.spawn(move || {
                    let bytes = vec![t as u8; payload];
                    let result = (0..per_thread).try_for_each(|_| shared.commit(&bytes));
                    shared.finished();
                    result
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a committer panicked"))
            .collect()
    });
    let took = start.elapsed();
    if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
        return Err(std::io::Error::other(e));
    }
    let state = shared.lock();
    let run = BareGroupRun {
        commits: state.durable,
        syncs: state.syncs,
        took,
    };
    drop(state);
    std::fs::remove_file(&path)?;
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "bindspace-bare-group-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn every_commit_is_covered_by_a_sync_and_syncs_are_shared() {
        let dir = scratch("shared");
        let run = bare_group_commit(&dir, 8, 25, 100).unwrap();
        assert_eq!(run.commits, 200);
        assert!(
            run.syncs >= 25,
            "a committer's commits need a sync each: {run:?}"
        );
        assert!(run.syncs < 200, "8 committers shared no sync: {run:?}");
        assert!(run.rate() > 0.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn one_committer_syncs_once_per_commit() {
        let dir = scratch("one");
        let run = bare_group_commit(&dir, 1, 20, 64).unwrap();
        assert_eq!((run.commits, run.syncs), (20, 20));
        assert_eq!(run.commits_per_sync(), 1.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
