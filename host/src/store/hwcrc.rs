//! CRC-32C with the processor's CRC instruction when it has one.
//!
//! The core's CRC-32C (`bindspace_core::crc32c`, a 16-way table) runs on
//! every target; on a large recovery it was a quarter of the time. x86-64
//! with SSE4.2 and aarch64 with the CRC extension compute the same
//! polynomial (Castagnoli, reflected) in one instruction per 8 bytes. The
//! choice is made once at run time, and the result is the core's bit for
//! bit (tested below on every length and alignment up to a few frames).

use std::sync::OnceLock;

type Checksum = fn(&[u8]) -> u32;

fn choose() -> Checksum {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("sse4.2") {
        return x86::checksum;
    }
    #[cfg(target_arch = "aarch64")]
    if std::arch::is_aarch64_feature_detected!("crc") {
        return arm::checksum;
    }
    bindspace_core::crc32c::checksum
}

/// The CRC-32C of `bytes`, equal to `bindspace_core::crc32c::checksum`.
pub(crate) fn checksum(bytes: &[u8]) -> u32 {
    static CHOSEN: OnceLock<Checksum> = OnceLock::new();
    (CHOSEN.get_or_init(choose))(bytes)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};

    pub(super) fn checksum(bytes: &[u8]) -> u32 {
        // SAFETY: chosen only after `is_x86_feature_detected!("sse4.2")`.
        unsafe { crc(bytes) }
    }

    /// # Safety
    /// The CPU must support SSE4.2.
    #[target_feature(enable = "sse4.2")]
    unsafe fn crc(bytes: &[u8]) -> u32 {
        let mut state = u64::from(!0u32);
        let mut words = bytes.chunks_exact(8);
        for word in words.by_ref() {
            // chunks_exact(8) yields 8-byte slices.
            let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            state = _mm_crc32_u64(state, w);
        }
        let mut state = state as u32;
        for &b in words.remainder() {
            state = _mm_crc32_u8(state, b);
        }
        !state
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use core::arch::aarch64::{__crc32cb, __crc32cd};

    pub(super) fn checksum(bytes: &[u8]) -> u32 {
        // SAFETY: chosen only after `is_aarch64_feature_detected!("crc")`.
        unsafe { crc(bytes) }
    }

    /// # Safety
    /// The CPU must support the CRC extension.
    #[target_feature(enable = "crc")]
    unsafe fn crc(bytes: &[u8]) -> u32 {
        let mut state = !0u32;
        let mut words = bytes.chunks_exact(8);
        for word in words.by_ref() {
            let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            state = __crc32cd(state, w);
        }
        for &b in words.remainder() {
            state = __crc32cb(state, b);
        }
        !state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bindspace_core::prng::SplitMix64;

    #[test]
    fn agrees_with_the_core_on_every_length_and_alignment() {
        let mut rng = SplitMix64::new(0xC5C);
        let bytes: Vec<u8> = (0..4200).map(|_| rng.next() as u8).collect();
        for start in 0..9 {
            for len in (0..=1100).chain([2067, 4096, 4191 - start]) {
                let piece = &bytes[start..start + len];
                assert_eq!(
                    checksum(piece),
                    bindspace_core::crc32c::checksum(piece),
                    "start {start} len {len}"
                );
            }
        }
    }

    #[test]
    fn known_answer_and_the_instruction_is_used_where_present() {
        assert_eq!(checksum(b"123456789"), 0xE306_9283);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("sse4.2") {
            assert_eq!(choose() as usize, x86::checksum as Checksum as usize);
        }
    }
}
