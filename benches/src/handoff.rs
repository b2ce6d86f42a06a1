//! The hand-off: how long it takes one thread to pass a word to another
//! running thread and get an answer back, through one shared cache line.
//!
//! A search split across two threads hands its job to a pool thread and
//! takes the answer back, and the two halves share their best distance,
//! so every such pass is on its path. On a virtual machine that time is
//! not fixed: it depends on where the host runs the two virtual
//! processors, which the guest cannot see. Printed beside the split
//! search, it tells which kind of run the numbers came from.

use core::hint::spin_loop;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::time::Instant;

/// Round trips timed together; the median over batches is reported, so a
/// batch the scheduler interrupted does not count.
const BATCH: u64 = 100;

/// The median time of one round trip between this thread and a second
/// one, over `batches` batches of [`BATCH`] round trips.
pub fn round_trip(batches: usize) -> Duration {
    let token = AtomicU64::new(0);
    let trips = batches as u64 * BATCH;
    let mut times = Vec::with_capacity(batches);
    std::thread::scope(|s| {
        s.spawn(|| {
            // Answers every odd value with the next even one.
            for i in 0..trips {
                while token.load(Ordering::Acquire) != 2 * i + 1 {
                    spin_loop();
                }
                token.store(2 * i + 2, Ordering::Release);
            }
        });
        for b in 0..batches as u64 {
            let start = Instant::now();
            for i in b * BATCH..(b + 1) * BATCH {
                token.store(2 * i + 1, Ordering::Release);
                while token.load(Ordering::Acquire) != 2 * i + 2 {
                    spin_loop();
                }
            }
            times.push(start.elapsed() / BATCH as u32);
        }
    });
    times.sort_unstable();
    times[times.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_trip_takes_some_time_and_less_than_a_second() {
        let t = round_trip(5);
        assert!(t > Duration::ZERO && t < Duration::from_secs(1), "{t:?}");
    }
}
