//! aarch64 kernels: NEON.

mod neon;

pub use neon::Neon;
