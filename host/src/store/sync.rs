//! The synchronisation primitives of the store's two concurrency
//! protocols (group commit in `group.rs`, the view swap in `view.rs` and
//! `mod.rs`), in one place so a model checker can stand in for them.
//!
//! Normal builds get exactly `std::sync` and `arc_swap::ArcSwap`, re-exported
//! unchanged. Under `RUSTFLAGS="--cfg loom"` they are loom's, so the models
//! at the bottom of `group.rs` and `view.rs` run the real protocol code
//! through every interleaving loom explores (docs/HOST.md, "Loom models").
//! Nothing built with `cfg(loom)` is meant to run outside such a model:
//! loom's primitives panic there.

#[cfg(not(loom))]
pub(crate) use arc_swap::ArcSwap;
#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
#[cfg(not(loom))]
pub(crate) use std::thread::yield_now;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::thread::yield_now;
#[cfg(loom)]
pub(crate) use loom_swap::ArcSwap;
// loom's `Mutex::try_lock` returns std's error type.
#[cfg(loom)]
pub(crate) use std::sync::TryLockError;

/// `Arc::make_mut`: the value behind `this`, copied first if anybody else
/// holds it.
#[cfg(not(loom))]
pub(crate) fn make_mut<T: Clone>(this: &mut Arc<T>) -> &mut T {
    Arc::make_mut(this)
}

/// `Arc::make_mut` for loom's `Arc`, which has no such method: the same
/// rule (copy unless this is the only holder; the store makes no weak
/// references) built from `get_mut`, whose reference-count check loom
/// models.
#[cfg(loom)]
pub(crate) fn make_mut<T: Clone>(this: &mut Arc<T>) -> &mut T {
    if Arc::get_mut(this).is_none() {
        *this = Arc::new(T::clone(this));
    }
    // Cannot fail: `this` is now either the only holder or a fresh copy.
    Arc::get_mut(this).expect("a freshly made Arc has one holder")
}

/// The published view under loom: what `arc_swap::ArcSwap` promises the
/// store (a load returns whole the value of one store, stores are seen in
/// one order by everybody, an old value lives while a loaded copy does),
/// built on a loom mutex so loom orders every load against every store.
/// arc-swap's own lock-free implementation is its authors' to verify; the
/// models check the store's use of that promise.
#[cfg(loom)]
mod loom_swap {
    use core::fmt;

    /// Holds one `std::sync::Arc<T>` (the type the store passes in and
    /// hands out), swapped whole.
    pub(crate) struct ArcSwap<T> {
        current: loom::sync::Mutex<std::sync::Arc<T>>,
    }

    impl<T> ArcSwap<T> {
        /// A cell holding `value`.
        pub(crate) fn from_pointee(value: T) -> ArcSwap<T> {
            ArcSwap {
                current: loom::sync::Mutex::new(std::sync::Arc::new(value)),
            }
        }

        /// Replaces the value; the old one is dropped once the last loaded
        /// copy of it is.
        pub(crate) fn store(&self, value: std::sync::Arc<T>) {
            let old = {
                let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
                core::mem::replace(&mut *current, value)
            };
            drop(old);
        }

        /// The value of the latest store.
        pub(crate) fn load_full(&self) -> std::sync::Arc<T> {
            let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            std::sync::Arc::clone(&current)
        }
    }

    impl<T: fmt::Debug> fmt::Debug for ArcSwap<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            f.debug_tuple("ArcSwap").field(&*current).finish()
        }
    }
}

/// Runs a loom model: every interleaving of `model` with at most
/// [`LOOM_PREEMPTIONS`] forced switches (or `LOOM_MAX_PREEMPTIONS`), and
/// prints how many executions that was, so the test step's log shows what
/// each model covered.
#[cfg(all(test, loom))]
pub(crate) fn loom_check(name: &str, model: impl Fn() + Sync + Send + 'static) {
    use core::sync::atomic::{AtomicUsize, Ordering};
    let mut builder = loom::model::Builder::new();
    let bound = *builder.preemption_bound.get_or_insert(LOOM_PREEMPTIONS);
    // A plain std counter: loom neither sees nor schedules it.
    let executions = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&executions);
    builder.check(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        model();
    });
    println!(
        "loom model {name}: {} executions, preemption bound {bound}",
        executions.load(Ordering::Relaxed)
    );
}

/// The models' preemption bound unless `LOOM_MAX_PREEMPTIONS` says
/// otherwise: 4 runs each model in seconds in release (6 took over four
/// minutes for three committers).
#[cfg(all(test, loom))]
pub(crate) const LOOM_PREEMPTIONS: usize = 4;
