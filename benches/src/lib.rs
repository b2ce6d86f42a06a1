//! # bindspace-benches
//!
//! Criterion benchmarks for bindspace, each measured beside its anchor in
//! the same run (a plain memory read, `simsimd`, ...). Shared helpers live
//! here; the benchmarks are in `benches/`.
