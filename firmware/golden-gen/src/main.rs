//! Prints `firmware/src/golden_table.rs`: the digest of every golden case
//! (`firmware/src/golden_recipe.rs`) as the build machine computes it.
//!
//! Run from the repository root (so the firmware's Cortex-M target setting
//! does not apply):
//! `cargo run --manifest-path firmware/golden-gen/Cargo.toml > firmware/src/golden_table.rs`.
//! The firmware test step runs it and fails if the committed table differs.

#[path = "../../src/golden_recipe.rs"]
mod golden_recipe;

use golden_recipe::{digest, CASES, MAX_WORDS};
use std::process::ExitCode;

fn main() -> ExitCode {
    println!("//! Golden digests written by `firmware/golden-gen` on the host: do not edit.");
    println!("//! One per case of `golden_recipe::CASES`, in order.");
    println!();
    println!("/// FNV-1a 64 of each case's fingerprint bytes.");
    println!("pub(crate) const EXPECTED: [u64; {}] = [", CASES.len());
    let mut out = [0u64; MAX_WORDS];
    for case in &CASES {
        let fp = &mut out[..case.words];
        if let Err(e) = (case.make)(fp) {
            eprintln!("golden case {:?} failed: {e}", case.name);
            return ExitCode::FAILURE;
        }
        println!("    0x{:016X}, // {}", digest(fp), case.name);
    }
    println!("];");
    ExitCode::SUCCESS
}
