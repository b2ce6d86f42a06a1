//! The clock interleaved rounds are timed with.
//!
//! Where the OS has one (Linux and other Unix), it is the **thread CPU
//! clock**: time this thread was running on a core, stalls on memory
//! included, time the OS gave to other processes excluded. On a shared
//! machine (a CI runner, a build going on beside the benchmark) wall time
//! counts every preemption into whichever sample it hits; the thread clock
//! does not, so the medians stay close to what the same code does on a
//! quiet machine. Elsewhere it is the wall clock. The report names the clock.

use core::time::Duration;
use std::time::Instant;

/// A point on the chosen clock.
#[derive(Clone, Copy, Debug)]
pub struct Tick(Inner);

#[derive(Clone, Copy, Debug)]
enum Inner {
    Cpu(Duration),
    Wall(Instant),
}

impl Tick {
    /// Now, on the thread CPU clock if there is one, else the wall clock.
    pub fn now() -> Tick {
        match thread_cpu_time() {
            Some(t) => Tick(Inner::Cpu(t)),
            None => Tick(Inner::Wall(Instant::now())),
        }
    }

    /// Time on the same clock since `self`.
    pub fn elapsed(self) -> Duration {
        match self.0 {
            Inner::Cpu(start) => {
                thread_cpu_time().map_or(Duration::ZERO, |now| now.saturating_sub(start))
            }
            Inner::Wall(start) => start.elapsed(),
        }
    }
}

/// The clock's name, for reports.
pub fn name() -> &'static str {
    if thread_cpu_time().is_some() {
        "thread CPU time"
    } else {
        "wall time"
    }
}

#[cfg(unix)]
fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_advances_the_clock_and_sleep_does_not_count_on_the_cpu_clock() {
        let start = Tick::now();
        let busy = Instant::now();
        let mut x = 0u64;
        while busy.elapsed() < Duration::from_millis(20) {
            x = core::hint::black_box(x.wrapping_add(1));
        }
        let worked = start.elapsed();
        // One thread cannot run longer than the wall time that passed.
        assert!(
            worked > Duration::ZERO && worked <= busy.elapsed() + Duration::from_millis(1),
            "{worked:?}"
        );
        if name() == "thread CPU time" {
            let before = Tick::now();
            std::thread::sleep(Duration::from_millis(50));
            assert!(before.elapsed() < Duration::from_millis(25));
        }
    }
}
