//! Running the `bindspace` program from the command-line tests.

#![allow(dead_code, unreachable_pub)] // each test binary uses its own part

use std::path::Path;
use std::process::{Command, Output};

/// The program the tests run.
pub const BIN: &str = env!("CARGO_BIN_EXE_bindspace");

/// Runs the program with `args` and returns what it did.
pub fn bindspace(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run bindspace")
}

/// Runs the program with `args`, which must succeed; returns its output.
pub fn stdout_of(args: &[&str]) -> String {
    let out = bindspace(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A path as a command-line argument (the tests' paths are UTF-8).
pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}
