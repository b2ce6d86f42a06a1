//! # bindspace-tests
//!
//! Tests that span crates: golden vectors read on every target, crash and
//! power-cut tests, conformance. The tests live in `tests/`; this library
//! holds what they share.
