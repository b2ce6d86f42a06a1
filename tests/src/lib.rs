//! # bindspace-tests
//!
//! Tests that span crates: golden vectors read on every target, crash and
//! power-cut tests, conformance. The tests live in `tests/`; this library
//! holds what they share.
//!
//! - [`golden`]: the committed golden log images and the check every
//!   target runs on them.

pub mod golden;
