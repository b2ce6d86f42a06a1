//! # bindspace-host
//!
//! bindspace where there is an operating system. Today it chooses the
//! Hamming kernel at run time ([`kernels`]); later layers (the file
//! write-ahead log with fsync and group commit, snapshots, compaction beside
//! readers, the RESP server and the `bindspace` program) live here too.

pub mod cli;
pub mod kernels;
pub mod server;
pub mod store;
