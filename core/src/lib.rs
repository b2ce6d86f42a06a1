//! # bindspace-core
//!
//! The portable heart of bindspace: everything that does not need an
//! operating system. It is `#![no_std]`, needs no heap (the caller lends
//! storage), never reads a clock (time comes in as an integer tick) and uses
//! no floating point.
//!
//! The module tree is the architecture, from the bottom up:
//!
//! - [`addr`]: the 65,536 addresses, written `0x80:1F` (prefix:slot), and
//!   their zones (surface, fluid, nodes).
//! - [`width`]: the fingerprint width of a space, checked once.
//! - [`prng`]: the documented, platform-stable integer PRNG and hash that
//!   every generated bit comes from.
//! - [`fingerprint`]: bind, bundle, permute, generation from a seed and from
//!   text, hex form.
//! - [`kernels`]: Hamming distance one-to-one and one-to-many, one algorithm
//!   over a small vector trait, implemented for scalar, AVX2, AVX-512,
//!   NEON and wasm simd128.
//! - [`crc32c`]: the CRC-32C used to frame log records.
//! - [`mutation`]: the value every write becomes before it is logged.
//! - [`space`]: the 65,536 addresses over storage lent by the caller.
//! - [`search`]: exact k-nearest and range search.
//! - [`command`]: the text command language every front end speaks.
//! - [`log`]: the record format, recovery, and the NOR-flash log.
//!
//! ```
//! use bindspace_core::{fingerprint, kernels::Kernel, width::Width};
//! let width = Width::from_bits(1024).unwrap();
//! let mut a = [0u64; 16];
//! let mut b = [0u64; 16];
//! fingerprint::encode_text(&mut a, "the cat sat on the mat").unwrap();
//! fingerprint::encode_text(&mut b, "the cat sat on a mat").unwrap();
//! let d = Kernel::best().distance(&a, &b).unwrap();
//! assert!(d < width.bits() / 2);
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod addr;
pub mod command;
pub mod crc32c;
pub mod fingerprint;
pub mod kernels;
pub mod log;
mod moves;
pub mod mutation;
pub mod prng;
pub mod search;
pub mod space;
pub mod width;

pub use addr::{Addr, Zone};
pub use width::Width;
