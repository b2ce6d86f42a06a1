//! Group commit: many committers, one fsync.
//!
//! Every committer knows the sequence number its commit ends at. It waits
//! until the durable watermark reaches it. If nobody is syncing, it becomes
//! the leader: it runs the sync (which reads the appended watermark first,
//! so it covers every commit appended before it started), raises the
//! watermark and wakes everyone. Commits appended while a sync runs are
//! covered by the next leader, so one fsync serves all of them.
//!
//! A failed sync is recorded once and returned to every waiter, present
//! and future: nobody retries a failed fsync (the kernel may already have
//! dropped the dirty pages) and nobody waits forever, because the leader
//! always clears its flag and notifies, success or not.
//!
//! A leader wakes only the waiters its sync covered, and the one with the
//! lowest target it did not cover (to lead the next sync): with 16
//! committers, waking everyone made each wait about 1.8 times per commit
//! (the uncovered half woke, found a new leader and slept again). Each
//! waiter sleeps on one of [`WAKE_SLOTS`] condition variables, chosen by
//! its target, so a wake-up reaches few others; anyone woken for nothing
//! checks and sleeps again.
//!
//! Before sleeping, a committer that finds a sync running spins for a
//! while, yielding its processor at every turn, watching the watermark
//! and the leader's flag (atomic copies, so without the lock); only if
//! the sync outlasts [`SPIN_MAX`] does it sleep. While a sync runs, every
//! committer waits, so without spinning the processors go idle, and after
//! each sync every covered committer has to be woken through the
//! scheduler; on the project machine (a 2-processor virtual machine)
//! that was most of the time between syncs. A committer that spins sees
//! the watermark move at once and commits again while the next sync
//! gathers. The price is processor time while syncs run, given up to
//! anything else runnable at each yield (docs/HOST.md, "Group commit",
//! has the measurements). A spinner that sees the watermark reach its
//! commit returns at once: the watermark is only raised by a sync that
//! succeeded, after it published what it covered, and a failure recorded
//! later does not undo that. Anything else it saw (the leader gone, the
//! budget spent) is decided under the lock as before.
//!
//! A sync made outside the group (rotation's fsync of the closed segment)
//! takes the leader's place for its duration ([`GroupSync::sync_exclusive`]):
//! otherwise a group leader could fsync the same file just after that
//! sync failed and before the failure was recorded, succeed (Linux reports
//! a writeback error once, and may have marked the lost pages clean) and
//! acknowledge commits that are not on disk. The loom model found that
//! window (group/loom_model.rs).

// std's primitives, or loom's in the model (group/loom_model.rs).
use super::sync::{yield_now, AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, MutexGuard};
use core::sync::atomic::Ordering;

/// Why a commit could not be made durable: the first sync failure, kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyncFailure(pub(crate) String);

/// Condition variables the waiters are spread over, by target: more than
/// the commits one sync usually covers, so those it covers seldom share
/// one with a waiter it did not.
#[cfg(not(loom))]
const WAKE_SLOTS: usize = 32;
/// Two in the model, so its three committers share one and loom checks
/// waiters woken for another's target too.
#[cfg(loom)]
const WAKE_SLOTS: usize = 2;

/// How long a committer spins before sleeping (see the module comment):
/// longer than a sync of a fast disk takes, short enough that a slow disk
/// costs little processor time per commit before its waiters sleep.
#[cfg(not(loom))]
const SPIN_MAX: core::time::Duration = core::time::Duration::from_micros(200);

#[derive(Debug)]
struct SyncState {
    durable: u64,
    leader: bool,
    failure: Option<SyncFailure>,
    /// The targets of the committers asleep in `wait_durable`, unordered
    /// (one entry per sleeper).
    waiting: Vec<u64>,
    /// Callers of `sync_exclusive` asleep until the leader's role is free.
    exclusive_waiting: usize,
}

/// The shared watermark and the leader flag.
#[derive(Debug)]
pub(crate) struct GroupSync {
    state: Mutex<SyncState>,
    /// A waiter for target `t` sleeps on `wake[t % WAKE_SLOTS]`.
    wake: [Condvar; WAKE_SLOTS],
    /// Where `sync_exclusive` waits for the leader's role.
    exclusive: Condvar,
    /// Copies of `durable` and `leader`, written under the lock whenever
    /// they change, for the spinners, who read them without it.
    durable_seen: AtomicU64,
    leader_seen: AtomicBool,
    /// Committers spinning in `wait_durable` (see [`GroupSync::spin`]).
    spinning: AtomicUsize,
    /// How long each may spin ([`SPIN_MAX`]; tests set their own).
    #[cfg(not(loom))]
    spin_max: core::time::Duration,
}

/// Which wake slots a leader notifies as it ends, as a bit set.
type Slots = u32;
const _: () = assert!(WAKE_SLOTS <= Slots::BITS as usize);
const ALL_SLOTS: Slots = Slots::MAX >> (Slots::BITS as usize - WAKE_SLOTS);

fn slot(target: u64) -> usize {
    (target % WAKE_SLOTS as u64) as usize
}

impl GroupSync {
    /// A watermark starting at `durable` (everything recovered is durable).
    pub(crate) fn new(durable: u64) -> GroupSync {
        GroupSync {
            state: Mutex::new(SyncState {
                durable,
                leader: false,
                failure: None,
                waiting: Vec::new(),
                exclusive_waiting: 0,
            }),
            wake: core::array::from_fn(|_| Condvar::new()),
            exclusive: Condvar::new(),
            durable_seen: AtomicU64::new(durable),
            leader_seen: AtomicBool::new(false),
            spinning: AtomicUsize::new(0),
            #[cfg(not(loom))]
            spin_max: SPIN_MAX,
        }
    }

    /// [`GroupSync::new`] whose committers spin for `spin_max`.
    #[cfg(all(test, not(loom)))]
    fn with_spin_max(durable: u64, spin_max: core::time::Duration) -> GroupSync {
        GroupSync {
            spin_max,
            ..GroupSync::new(durable)
        }
    }

    /// Sets the leader flag (the lock is held: `state` is its guard).
    fn set_leader(&self, state: &mut SyncState, leader: bool) {
        state.leader = leader;
        self.leader_seen.store(leader, Ordering::Release);
    }

    /// Spins, yielding, while the sync that is running may still cover
    /// `target`: until the watermark reaches it, the leader's role is
    /// free, or the committer's `budget` is spent. Called without the
    /// lock. Returns whether `target` is durable: then the commit is
    /// acknowledged without taking the lock (the watermark is only raised
    /// by a sync that succeeded, after it published the views it covered;
    /// a failure recorded later does not undo that). Otherwise the caller
    /// decides under the lock.
    fn spin(&self, target: u64, budget: &mut SpinBudget) -> bool {
        self.spinning.fetch_add(1, Ordering::AcqRel);
        let durable = loop {
            yield_now();
            if self.durable_seen.load(Ordering::Acquire) >= target {
                break true;
            }
            if !self.leader_seen.load(Ordering::Acquire) || budget.spent() {
                break false;
            }
        };
        self.spinning.fetch_sub(1, Ordering::AcqRel);
        durable
    }

    fn lock(&self) -> MutexGuard<'_, SyncState> {
        // Every field is updated in one step under the lock (a sleeper's
        // `waiting` entry is pushed before and removed after its wait); a
        // panic elsewhere cannot leave them inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps until woken on `target`'s slot, listed in `waiting`
    /// meanwhile so a leader knows to wake it.
    fn sleep<'a>(
        &'a self,
        mut state: MutexGuard<'a, SyncState>,
        target: u64,
    ) -> MutexGuard<'a, SyncState> {
        state.waiting.push(target);
        let mut state = self.wake[slot(target)]
            .wait(state)
            .unwrap_or_else(|e| e.into_inner());
        let me = state.waiting.iter().position(|t| *t == target);
        state
            .waiting
            .swap_remove(me.expect("a sleeper stays listed until it wakes"));
        state
    }

    /// Wakes the sleepers in `slots` and, if `exclusive`, the callers of
    /// `sync_exclusive`. Called without the state lock.
    fn notify(&self, mut slots: Slots, exclusive: bool) {
        while slots != 0 {
            self.wake[slots.trailing_zeros() as usize].notify_all();
            slots &= slots - 1;
        }
        if exclusive {
            self.exclusive.notify_all();
        }
    }

    /// The slots to wake when the leader's role has just been given up
    /// (or a failure recorded): every sleeper after a failure; else those
    /// now covered, and the lowest uncovered one, to lead the next sync.
    fn to_wake(state: &SyncState) -> Slots {
        if state.failure.is_some() {
            return state.waiting.iter().fold(0, |s, t| s | 1 << slot(*t));
        }
        let covered = state
            .waiting
            .iter()
            .filter(|t| **t <= state.durable)
            .fold(0, |s, t| s | 1 << slot(*t));
        let next = state.waiting.iter().filter(|t| **t > state.durable).min();
        covered | next.map_or(0, |t| 1 << slot(*t))
    }

    /// Whether any committer is waiting for a sync (asleep or spinning).
    pub(crate) fn has_waiters(&self) -> bool {
        self.spinning.load(Ordering::Acquire) > 0 || !self.lock().waiting.is_empty()
    }

    /// The highest sequence number known durable, read without the lock
    /// (it may be behind `durable` for a moment).
    pub(crate) fn durable_seen(&self) -> u64 {
        self.durable_seen.load(Ordering::Acquire)
    }

    /// The highest sequence number known durable.
    pub(crate) fn durable(&self) -> u64 {
        self.lock().durable
    }

    /// The recorded sync failure, if any.
    pub(crate) fn failure(&self) -> Option<SyncFailure> {
        self.lock().failure.clone()
    }

    /// Records a failure that makes further durability impossible (for
    /// example a failed fsync during rotation) and wakes every waiter.
    pub(crate) fn poison(&self, failure: SyncFailure) {
        let mut state = self.lock();
        if state.failure.is_none() {
            state.failure = Some(failure);
        }
        let exclusive = state.exclusive_waiting > 0;
        drop(state);
        self.notify(ALL_SLOTS, exclusive);
    }

    /// Runs a sync made outside the group protocol (the one at segment
    /// rotation) as the leader would: it waits for a running group sync to
    /// end, no group sync starts while it runs, and its failure is recorded
    /// before any other sync can start, so a failed fsync is never retried
    /// by a group leader. `sync` must make durable (and visible) everything
    /// up to the sequence number it returns, to which the watermark is
    /// raised. Fails without running `sync` if a failure is recorded.
    pub(crate) fn sync_exclusive<F>(&self, sync: F) -> Result<(), SyncFailure>
    where
        F: FnOnce() -> Result<u64, SyncFailure>,
    {
        let mut state = self.lock();
        loop {
            if let Some(failure) = &state.failure {
                return Err(failure.clone());
            }
            if !state.leader {
                break;
            }
            state.exclusive_waiting += 1;
            state = self
                .exclusive
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
            state.exclusive_waiting -= 1;
        }
        self.set_leader(&mut state, true);
        drop(state);
        let mut role = Leadership {
            group: self,
            result: None,
        };
        let result = sync();
        role.result = Some(result.clone());
        drop(role);
        result.map(|_| ())
    }

    /// What a leader does when its sync returns: gives up the flag, raises
    /// the watermark or records the failure, wakes everybody.
    fn end_leadership(&self, result: &Result<u64, SyncFailure>) {
        let mut state = self.lock();
        match result {
            Ok(covered) => {
                state.durable = state.durable.max(*covered);
                self.durable_seen.store(state.durable, Ordering::Release);
            }
            Err(failure) => {
                if state.failure.is_none() {
                    state.failure = Some(failure.clone());
                }
            }
        }
        // After the watermark: a spinner that sees the role free and then
        // reads the watermark under the lock finds it raised.
        self.set_leader(&mut state, false);
        let slots = Self::to_wake(&state);
        let exclusive = state.exclusive_waiting > 0;
        drop(state);
        self.notify(slots, exclusive);
    }

    /// Blocks until every commit up to `target` is durable. The one
    /// waiter that becomes leader calls `sync`, which must make durable
    /// (and visible) everything appended before it was called and return
    /// the sequence number it covered.
    pub(crate) fn wait_durable<F>(&self, target: u64, sync: F) -> Result<(), SyncFailure>
    where
        F: FnOnce() -> Result<u64, SyncFailure>,
    {
        let mut sync = Some(sync);
        let mut budget = SpinBudget::new(
            #[cfg(not(loom))]
            self.spin_max,
        );
        let mut state = self.lock();
        loop {
            if let Some(failure) = &state.failure {
                return Err(failure.clone());
            }
            if state.durable >= target {
                return Ok(());
            }
            if state.leader {
                if budget.spent() {
                    state = self.sleep(state, target);
                } else {
                    drop(state);
                    if self.spin(target, &mut budget) {
                        return Ok(());
                    }
                    state = self.lock();
                }
                continue;
            }
            let Some(run) = sync.take() else {
                // A leader covered less than we need although our commit
                // was appended before it started: that cannot happen, but
                // waiting would hang, so report it.
                return Err(SyncFailure(format!(
                    "internal error: sync stopped at {} before commit {}",
                    state.durable, target
                )));
            };
            self.set_leader(&mut state, true);
            drop(state);
            let mut role = Leadership {
                group: self,
                result: None,
            };
            role.result = Some(run());
            drop(role);
            state = self.lock();
        }
    }
}

/// How long one `wait_durable` may still spin: [`SPIN_MAX`] from its
/// first spin, over however many syncs it waits through. In the loom
/// model, one look: spinning only changes when the lock is taken again,
/// and loom explores every moment for that anyway.
struct SpinBudget {
    #[cfg(not(loom))]
    max: core::time::Duration,
    #[cfg(not(loom))]
    until: Option<std::time::Instant>,
    #[cfg(loom)]
    looked: bool,
}

impl SpinBudget {
    fn new(#[cfg(not(loom))] max: core::time::Duration) -> SpinBudget {
        SpinBudget {
            #[cfg(not(loom))]
            max,
            #[cfg(not(loom))]
            until: None,
            #[cfg(loom)]
            looked: false,
        }
    }

    /// Whether the spinning is over (the clock starts at the first call).
    #[cfg(not(loom))]
    fn spent(&mut self) -> bool {
        let now = std::time::Instant::now();
        now >= *self.until.get_or_insert(now + self.max)
    }

    #[cfg(loom)]
    fn spent(&mut self) -> bool {
        core::mem::replace(&mut self.looked, true)
    }
}

/// The leader's role, given up when dropped: also when the sync panicked,
/// which is recorded as a failure (its outcome is unknown), so nobody
/// waits for a leader that is gone.
struct Leadership<'a> {
    group: &'a GroupSync,
    result: Option<Result<u64, SyncFailure>>,
}

impl Drop for Leadership<'_> {
    fn drop(&mut self) {
        let result = self.result.take().unwrap_or_else(|| {
            Err(SyncFailure(
                "a sync panicked, so what it made durable is unknown".into(),
            ))
        });
        self.group.end_leadership(&result);
    }
}

#[cfg(all(test, loom))]
mod loom_model;

// These run real threads, so not under loom (its primitives work only
// inside a model).
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    #[test]
    fn concurrent_waiters_share_syncs_and_all_return() {
        let group = Arc::new(GroupSync::new(0));
        let appended = Arc::new(AtomicU64::new(0));
        let syncs = Arc::new(AtomicU64::new(0));
        std::thread::scope(|s| {
            for _ in 0..8 {
                let (group, appended, syncs) = (&group, &appended, &syncs);
                s.spawn(move || {
                    for _ in 0..200 {
                        let mine = appended.fetch_add(1, Ordering::SeqCst) + 1;
                        group
                            .wait_durable(mine, || {
                                let covered = appended.load(Ordering::SeqCst);
                                syncs.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(core::time::Duration::from_micros(200));
                                Ok(covered)
                            })
                            .unwrap();
                        assert!(group.durable() >= mine);
                    }
                });
            }
        });
        assert_eq!(group.durable(), 1600);
        assert!(syncs.load(Ordering::SeqCst) < 1600, "no sync was shared");
    }

    #[test]
    fn a_failed_sync_reaches_every_waiter_and_every_later_commit() {
        let group = Arc::new(GroupSync::new(0));
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (1..=6u64)
                .map(|target| {
                    let group = &group;
                    s.spawn(move || {
                        group.wait_durable(target, || {
                            std::thread::sleep(core::time::Duration::from_millis(5));
                            Err(SyncFailure("disk said EIO".into()))
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(results
            .iter()
            .all(|r| r == &Err(SyncFailure("disk said EIO".into()))));
        assert_eq!(
            group.wait_durable(7, || Ok(7)),
            Err(SyncFailure("disk said EIO".into())),
            "a later commit must not retry a failed sync"
        );
        assert_eq!(group.durable(), 0);
    }

    /// Runs a leader for target 1 whose sync calls `during` (with the
    /// group) once a second committer, for target 2, is waiting; returns
    /// both results.
    fn leader_and_waiter(
        spin_max: core::time::Duration,
        during: impl Fn(&GroupSync) -> Result<u64, SyncFailure> + Sync,
    ) -> (Result<(), SyncFailure>, Result<(), SyncFailure>) {
        let group = GroupSync::with_spin_max(0, spin_max);
        let started = core::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let leader = s.spawn(|| {
                group.wait_durable(1, || {
                    started.store(true, Ordering::SeqCst);
                    during(&group)
                })
            });
            while !started.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            let waiter = group.wait_durable(2, || panic!("the second committer led a sync"));
            (leader.join().unwrap(), waiter)
        })
    }

    /// A spin budget no test outlasts.
    const LONG: core::time::Duration = core::time::Duration::from_secs(60);

    /// Waits (at most 10 s) until `ready` holds.
    fn until(ready: impl Fn() -> bool) {
        let start = std::time::Instant::now();
        while !ready() {
            assert!(
                start.elapsed() < core::time::Duration::from_secs(10),
                "timed out"
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_committer_spins_through_a_short_sync_and_is_acknowledged_awake() {
        // A spin long enough that only the leader ends it.
        let (leader, waiter) = leader_and_waiter(LONG, |group| {
            until(|| group.spinning.load(Ordering::SeqCst) == 1);
            assert!(group.has_waiters(), "a spinner counts as waiting");
            assert!(group.lock().waiting.is_empty(), "nobody asleep");
            Ok(2)
        });
        assert_eq!((leader, waiter), (Ok(()), Ok(())));
    }

    #[test]
    fn a_committer_sleeps_once_a_sync_outlasts_its_spin() {
        let (leader, waiter) = leader_and_waiter(core::time::Duration::ZERO, |group| {
            until(|| group.lock().waiting.len() == 1);
            assert_eq!(group.spinning.load(Ordering::SeqCst), 0);
            Ok(2)
        });
        assert_eq!((leader, waiter), (Ok(()), Ok(())));
    }

    #[test]
    fn a_sync_failing_under_a_spinner_fails_its_commit() {
        let eio = SyncFailure("disk said EIO".into());
        let (leader, waiter) = leader_and_waiter(LONG, |group| {
            until(|| group.spinning.load(Ordering::SeqCst) == 1);
            Err(SyncFailure("disk said EIO".into()))
        });
        assert_eq!((leader, waiter), (Err(eio.clone()), Err(eio)));
    }

    #[test]
    fn a_panicking_sync_gives_up_the_leadership_and_poisons() {
        let group = GroupSync::new(0);
        let panicked = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
            group.wait_durable(1, || panic!("a sync that panics"))
        }));
        assert!(panicked.is_err());
        // Would wait forever for the vanished leader if the flag stayed set.
        let later = group.wait_durable(2, || Ok(2));
        assert!(later.unwrap_err().0.contains("panicked"));
        assert!(group.sync_exclusive(|| Ok(2)).is_err());
        assert_eq!(group.durable(), 0);
    }
}
