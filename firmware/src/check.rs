//! The self-test's checks: a condition, a message logged when it fails, and
//! a count of the ones that passed (printed at the end, so a run that
//! silently checked nothing would show it).

use core::sync::atomic::{AtomicU32, Ordering};

/// A check failed; its message has already been logged.
#[derive(Debug)]
pub(crate) struct Failed;

static PASSED: AtomicU32 = AtomicU32::new(0);

/// Records one passing check.
pub(crate) fn pass() {
    PASSED.fetch_add(1, Ordering::Relaxed);
}

/// How many checks have passed so far.
pub(crate) fn passed_count() -> u32 {
    PASSED.load(Ordering::Relaxed)
}

/// `ensure!(condition, "defmt format", args...)`: counts the check if the
/// condition holds, else logs the message as an error and returns
/// `Err(Failed)` from the enclosing function.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if $cond {
            $crate::check::pass();
        } else {
            defmt::error!($($msg)+);
            return Err($crate::check::Failed);
        }
    };
}

/// `ensure_eq!(left, right, "what")`: like `ensure!`, logging both values
/// (which must be `defmt::Format`; no `core::fmt` is pulled in).
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $what:literal) => {{
        let (left, right) = (&$left, &$right);
        if left == right {
            $crate::check::pass();
        } else {
            defmt::error!("{=str}: got {:?}, expected {:?}", $what, left, right);
            return Err($crate::check::Failed);
        }
    }};
}

pub(crate) use {ensure, ensure_eq};
