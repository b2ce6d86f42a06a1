//! wasm32 kernels: simd128 (with an `i64.popcnt` one-to-many path for
//! x86-64 engines).

mod popcnt64;
mod simd128;

pub use simd128::Simd128;

#[cfg(all(test, target_feature = "simd128"))]
mod tests;
