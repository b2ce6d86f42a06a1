//! wasm32 kernels: simd128.

mod simd128;

pub use simd128::Simd128;
