//! x86_64 kernels: AVX2 and AVX-512 (VPOPCNTDQ).

mod avx2;
mod avx512;

pub use avx2::Avx2;
pub use avx512::Avx512;
