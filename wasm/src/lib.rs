//! # bindspace-wasm
//!
//! The wasm-bindgen binding of bindspace. It only converts between
//! JavaScript and the core; every rule lives in `bindspace-core`.
//!
//! - [`errors`]: the JS error classes (`AddressError`, `FingerprintError`, ...).
//! - [`convert`]: fingerprints as `Uint8Array`, addresses as `"0x80:1F"`.
//! - [`fingerprint_ops`]: bind, bundle, permute, encodeText, hamming.
//! - [`options`]: `{ width, capacity }` and `{ k, zone, prefix, maxDist }`.
//! - [`storage`]: the space's memory, grown on demand up to its capacity.
//! - [`space`]: the `BindSpace` class: the write path, reads, search.
//! - [`space_ops`]: its fingerprint operations (bind, bundle, permute, ...).
//! - [`journal`]: its log, one portable image in memory.
//! - [`log_api`]: `exportLog`, `openLog` and the staged (write-ahead) path.
//! - [`command`]: `exec`, the command language.
//!
//! The npm package `bindspace` is built from this crate by `wasm/build.sh`.

pub mod command;
pub mod convert;
pub mod errors;
pub mod fingerprint_ops;
pub mod journal;
pub mod log_api;
pub mod options;
pub mod space;
pub mod space_ops;
pub mod storage;

pub use errors::{js_error, ErrorKind};
pub use space::BindSpace;
