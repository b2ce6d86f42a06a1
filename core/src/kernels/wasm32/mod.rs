//! wasm32 kernels: simd128 (with an `i64.popcnt` one-to-many path for
//! x86-64 engines).

mod popcnt64;
mod simd128;

pub use simd128::Simd128;
// The kernel tests ask which path an engine takes.
#[cfg(test)]
pub(crate) use simd128::engine_on_x86;

#[cfg(all(test, target_feature = "simd128"))]
mod tests;
