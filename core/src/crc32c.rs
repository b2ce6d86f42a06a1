//! CRC-32C (Castagnoli), the checksum that frames every log record.
//!
//! Uses the `crc` crate's `CRC_32_ISCSI`: it is no_std, needs no heap, and
//! gives the same value on every target. The `crc32c` crate would use the
//! SSE4.2 instruction but needs std.
//!
//! Where there is an operating system, a 16-way slicing table (16 KiB) makes
//! it several times faster than one table. On a bare-metal device (no OS)
//! flash is the scarce resource, so there it is the one 1 KiB table: 15 KiB
//! less read-only data and less code, for a checksum that only runs as
//! records are appended or recovered.

use crc::{Crc, CRC_32_ISCSI};

#[cfg(not(target_os = "none"))]
type Slicing = crc::Table<16>;
#[cfg(target_os = "none")]
type Slicing = crc::Table<1>;

static CASTAGNOLI: Crc<u32, Slicing> = Crc::<u32, Slicing>::new(&CRC_32_ISCSI);

/// The CRC-32C of `bytes`.
pub fn checksum(bytes: &[u8]) -> u32 {
    CASTAGNOLI.checksum(bytes)
}

/// A CRC-32C over several pieces, fed in order.
pub struct Hasher {
    digest: crc::Digest<'static, u32, Slicing>,
}

impl Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Hasher {
            digest: CASTAGNOLI.digest(),
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.digest.update(bytes);
    }

    /// The CRC-32C of everything fed so far.
    pub fn finalize(self) -> u32 {
        self.digest.finalize()
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // wasm-bindgen-test cannot run plain `#[test]` functions: on wasm32 this
    // import turns every `#[test]` below (proptest's too) into a
    // `#[wasm_bindgen_test]`, so one test body serves every target.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn known_answer() {
        // The standard check value of CRC-32C.
        assert_eq!(checksum(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn pieces_equal_whole() {
        let data: std::vec::Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut h = Hasher::new();
        h.update(&data[..333]);
        h.update(&data[333..]);
        assert_eq!(h.finalize(), checksum(&data));
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// The no_std CRC agrees with the `crc32c` crate (hardware-accelerated
        /// on the host) on arbitrary data.
        #[test]
        fn agrees_with_crc32c_crate(data in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            proptest::prop_assert_eq!(checksum(&data), ::crc32c::crc32c(&data));
        }
    }
}
