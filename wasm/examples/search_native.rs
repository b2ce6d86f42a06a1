//! The native anchor of the Node search benchmark (`benches/wasm/search.mjs`):
//! the same space (65,536 entries of `from_seed(i)`), the same query, the
//! same exact top-10 search, timed with every kernel this CPU runs.
//!
//! `cargo run --release -p bindspace-wasm --example search_native -- BITS ROUNDS`
//! prints one JSON line per kernel: `{"kernel", "median_ns", "min_ns", "hits"}`.

/// The anchor is native only: built for wasm32 (by `--all-targets`) it does
/// nothing.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::run();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use bindspace_core::fingerprint;
    use bindspace_core::search::{Hit, SearchOptions};
    use bindspace_core::space::Space;
    use bindspace_core::{Addr, Width};
    use core::hint::black_box;
    use std::time::Instant;

    /// The query's seed (the JS side uses the same).
    const QUERY_SEED: u64 = 0xB1D5_CAFE;

    pub(super) fn run() {
        let args: Vec<String> = std::env::args().collect();
        let bits: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1024);
        let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(51);
        let width = Width::from_bits(bits).expect("width");
        let mut space = Space::growable(width);
        let mut fp = vec![0u64; width.words()];
        for i in 0..=u16::MAX {
            fingerprint::from_seed(&mut fp, u64::from(i)).expect("seed");
            space.set(Addr(i), &fp, 1).expect("room");
        }
        let mut query = vec![0u64; width.words()];
        fingerprint::from_seed(&mut query, QUERY_SEED).expect("seed");
        for kernel in bindspace_host::kernels::available() {
            let opts = SearchOptions::new().kernel(kernel);
            let mut hits = [Hit::default(); 10];
            let mut times = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                let start = Instant::now();
                let n = space
                    .nearest(black_box(&query), &opts, &mut hits)
                    .expect("search");
                black_box(n);
                times.push(start.elapsed().as_nanos() as u64);
            }
            times.sort_unstable();
            let listed: Vec<String> = hits
                .iter()
                .map(|h| format!("{{\"addr\":\"{}\",\"distance\":{}}}", h.addr, h.distance))
                .collect();
            println!(
                "{{\"kernel\":\"{}\",\"median_ns\":{},\"min_ns\":{},\"hits\":[{}]}}",
                kernel.name(),
                times[times.len() / 2],
                times[0],
                listed.join(",")
            );
        }
    }
}
