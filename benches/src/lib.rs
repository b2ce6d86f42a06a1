//! # bindspace-benches
//!
//! Criterion benchmarks for bindspace, each measured beside its anchor in
//! the same run. The benchmarks live in `benches/`; this library holds what
//! they share:
//!
//! - [`bare_group`]: the bare group commit, the anchor a store's group
//!   commit is measured beside (committers sharing fdatasyncs and doing
//!   nothing else).
//! - [`arena`]: word buffers whose first word sits on a 64-byte line, filled
//!   with the platform-stable PRNG, and a byte view of them for libraries
//!   that take `&[u8]`.
//! - [`anchor`]: plain memory-read passes, the physical limit a scanning
//!   kernel is held to (several strategies; the fastest one counts).
//! - [`handoff`]: the round trip of a word between two running threads,
//!   which tells what kind of placement a parallel run had.
//! - [`clock`]: the clock samples are timed with (thread CPU time where the
//!   OS has it, so other processes' time is not counted).
//! - [`lineup`]: cases doing the same work over the same bytes, measured by
//!   criterion and in interleaved rounds whose medians the tables use.
//! - [`report`]: throughput and ratio tables, as markdown.
//! - [`mode`]: the full and quick (CI) measurement settings.
//! - [`machine`]: a description of the machine a run was on.

pub mod anchor;
pub mod arena;
#[cfg(unix)]
pub mod bare_group;
pub mod clock;
pub mod handoff;
pub mod lineup;
pub mod machine;
pub mod mode;
pub mod report;
