//! A small pool of parked search threads, started once per process.
//!
//! Starting a thread costs tens of microseconds, as much as scanning a
//! few hundred kilobytes, so a search that split its arena across freshly
//! spawned threads was slower than one thread until the arena was large.
//! These threads are started on first use and then wait on a channel;
//! waking one costs a few microseconds. Jobs own what they read (a clone
//! of the view, which shares its shards), so nothing here is `unsafe` and
//! a job may outlive the search that sent it without harm.
//!
//! A well-kept general pool (rayon) would do the same job; this one is a
//! few dozen lines, has no global configuration to clash with an
//! embedding program's own pool, and needs no new dependency.

use core::panic::AssertUnwindSafe;
use core::time::Duration;
use std::panic::catch_unwind;
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::OnceLock;
use std::time::Instant;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The pool: one channel per worker.
struct Pool {
    workers: Vec<Sender<Job>>,
}

/// Worker threads: one fewer than the processors (the caller searches
/// one part itself), at least one.
fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let n =
            std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));
        let workers = (0..n)
            .filter_map(|i| {
                let (tx, rx) = channel::<Job>();
                std::thread::Builder::new()
                    .name(format!("bindspace-search-{i}"))
                    .spawn(move || {
                        while let Some(job) = receive(&rx) {
                            // A panicking job drops its result sender, so
                            // its caller learns of it; the worker lives on.
                            let _ = catch_unwind(AssertUnwindSafe(job));
                        }
                    })
                    .ok()
                    .map(|_| tx)
            })
            .collect();
        Pool { workers }
    })
}

/// How long a thread waiting for a job or an answer keeps checking before
/// it parks. Waking a parked thread on another processor took tens of
/// microseconds on the virtual machine measured (as long as a search of a
/// few hundred kilobytes); searches come back to back under load, so a
/// short spin keeps both sides awake between them, bounded so an idle
/// pool costs nothing.
pub(crate) const SPIN: Duration = Duration::from_micros(100);

/// The next message on `rx`: spins for [`SPIN`], then parks. `None` once
/// every sender is gone.
fn receive<T>(rx: &Receiver<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        match rx.try_recv() {
            Ok(message) => return Some(message),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if start.elapsed() < SPIN => core::hint::spin_loop(),
            Err(TryRecvError::Empty) => return rx.recv().ok(),
        }
    }
}

/// How many jobs can run at once besides the caller.
pub(crate) fn workers() -> usize {
    pool().workers.len()
}

/// Runs `job` on worker `index` (modulo the pool size). Returns the job
/// back if no worker could take it (none could be started), so the
/// caller runs it itself.
pub(crate) fn run(index: usize, job: Job) -> Result<(), Job> {
    let workers = &pool().workers;
    let Some(worker) = workers.get(index % workers.len().max(1)) else {
        return Err(job);
    };
    worker.send(job).map_err(|e| e.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    #[test]
    fn jobs_run_and_a_panicking_job_does_not_stop_its_worker() {
        let (tx, rx) = sync_channel(8);
        for i in 0..4usize {
            let tx = tx.clone();
            run(i, Box::new(move || tx.send(i * 10).unwrap())).unwrap_or_else(|job| job());
        }
        for i in 0..workers() {
            run(i, Box::new(|| panic!("a job that fails"))).unwrap_or_else(|job| job());
        }
        let tx2 = tx.clone();
        run(0, Box::new(move || tx2.send(99).unwrap())).unwrap_or_else(|job| job());
        drop(tx);
        let mut got: Vec<usize> = rx.iter().collect();
        got.sort_unstable();
        assert_eq!(got, vec![0, 10, 20, 30, 99]);
    }
}
