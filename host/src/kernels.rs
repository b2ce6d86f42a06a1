//! Run-time choice of the Hamming kernel.
//!
//! The core chooses at compile time; a host binary is usually built for
//! baseline x86_64, so here the CPU is asked once (`is_x86_feature_detected!`)
//! and the answer cached for the life of the process.

use bindspace_core::kernels::Kernel;
use std::sync::OnceLock;

/// The fastest kernel this CPU runs, detected once and cached.
pub fn detected() -> Kernel {
    static CHOSEN: OnceLock<Kernel> = OnceLock::new();
    *CHOSEN.get_or_init(|| *available().last().unwrap_or(&Kernel::scalar()))
}

/// Every kernel this CPU runs, slowest first (scalar is always first).
pub fn available() -> Vec<Kernel> {
    let mut kernels = vec![Kernel::scalar()];
    #[cfg(target_arch = "x86_64")]
    {
        use bindspace_core::kernels::x86_64::{Avx2, Avx512};
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("popcnt") {
            // SAFETY: AVX2 and POPCNT were detected on this CPU just above.
            kernels.push(unsafe { Avx2::new_unchecked() }.kernel());
        }
        // AVX2 too: the kernel is compiled with it and uses 256-bit AVX2
        // operations, and a virtual machine may hide one CPUID bit and
        // show the other.
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512vpopcntdq")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("popcnt")
        {
            // SAFETY: AVX-512F, VL, VPOPCNTDQ, AVX2 and POPCNT were detected
            // just above (everything `Avx512::new_unchecked` requires).
            kernels.push(unsafe { Avx512::new_unchecked() }.kernel());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let best = Kernel::best();
        if best.name() != "scalar" {
            kernels.push(best);
        }
    }
    kernels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detected_kernel_agrees_with_scalar() {
        let mut g = bindspace_core::prng::SplitMix64::new(9);
        let a: Vec<u64> = (0..128).map(|_| g.next()).collect();
        let arena: Vec<u64> = (0..128 * 33).map(|_| g.next()).collect();
        for k in available() {
            let mut out = vec![0; 33];
            let mut expect = vec![0; 33];
            k.distances(&a, &arena, &mut out).unwrap();
            Kernel::scalar().distances(&a, &arena, &mut expect).unwrap();
            assert_eq!(out, expect, "{}", k.name());
        }
        println!(
            "bindspace host kernels available: {} (chosen: {})",
            available()
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", "),
            detected().name()
        );
        assert_eq!(detected().name(), available().last().unwrap().name());
    }
}
