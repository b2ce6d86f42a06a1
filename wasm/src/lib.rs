//! # bindspace-wasm
//!
//! The wasm-bindgen binding of bindspace. It only converts between
//! JavaScript and the core; every rule lives in `bindspace-core`.
//!
//! - [`errors`]: the JS error classes (`AddressError`, `FingerprintError`, ...).
//! - [`convert`]: fingerprints as `Uint8Array`, addresses as `"0x80:1F"`.
//! - [`fingerprint_ops`]: bind, bundle, permute, encodeText, hamming.
//!
//! The npm package `bindspace` is built from this crate by `wasm/build.sh`.

pub mod convert;
pub mod errors;
pub mod fingerprint_ops;

pub use errors::{js_error, ErrorKind};
