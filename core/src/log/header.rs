//! The header every log image starts with (docs/FORMAT.md, section 2).

use super::error::FormatError;
use super::{padded_len, FORMAT_VERSION};
use crate::crc32c;
use crate::width::Width;

/// Byte offsets of the header fields.
pub mod field {
    use core::ops::Range;
    /// `BSLG`.
    pub const MAGIC: Range<usize> = 0..4;
    /// Format version, `u16`.
    pub const VERSION: Range<usize> = 4..6;
    /// Fingerprint width in words, `u16`.
    pub const WIDTH_WORDS: Range<usize> = 6..8;
    /// Record alignment in bytes, `u16`.
    pub const ALIGN: Range<usize> = 8..10;
    /// Header flags, `u16`: bit 0 [`super::FLAG_RECYCLED`], the rest zero.
    pub const FLAGS: Range<usize> = 10..12;
    /// Times this flash sector was erased, `u32`.
    pub const ERASE_COUNT: Range<usize> = 12..16;
    /// Position of the image in its log, `u64`.
    pub const SEGMENT: Range<usize> = 16..24;
    /// Next sequence number when the image was opened, `u64`.
    pub const FIRST_SEQ: Range<usize> = 24..32;
    /// Where the previous flash sector's records end, `u32`.
    pub const PREV_END: Range<usize> = 32..36;
    /// CRC-32C of bytes `0..36`, `u32`.
    pub const CRC: Range<usize> = 36..40;
}

/// The magic every log image starts with: ASCII `BSLG`.
pub const MAGIC: [u8; 4] = *b"BSLG";
/// Bytes in a header, before padding.
pub const HEADER_LEN: usize = 40;
/// `prev_end` of an image that is not a flash sector.
pub const NO_PREV_END: u32 = u32::MAX;
/// The largest record alignment a header may carry.
pub const ALIGN_MAX: usize = 4096;
/// Header flag: the image reuses the space of an earlier one
/// ([`Header::recycled`]).
pub const FLAG_RECYCLED: u16 = 1 << 0;
/// Erased bytes a writer of a recycled image puts right after its last
/// record (and after the header), so the end of the records reads as an
/// end and not as a torn write: the bytes after it are an earlier life's
/// (docs/FORMAT.md, section 5.1).
pub const END_MARK_LEN: usize = 8;

/// A log image's header, decoded and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Fingerprint width of every record.
    pub width: Width,
    /// Records start on multiples of this many bytes (the medium's write size).
    pub align: usize,
    /// Times this flash sector has been erased; `0` for files.
    pub erase_count: u32,
    /// Position of this image in its log (flash: sector sequence; files: segment number).
    pub segment: u64,
    /// The sequence number the writer would have given next when it opened this image.
    pub first_seq: u64,
    /// Flash: where the previous sector's records end; [`NO_PREV_END`] otherwise.
    pub prev_end: u32,
    /// The image reuses the space of an earlier image (a host segment
    /// file kept after a checkpoint and written again): after its records
    /// come stale bytes of that earlier life, every frame among them with
    /// a sequence number below `first_seq`. The reader never takes such a
    /// frame for a record, and the end of the records is marked by
    /// [`END_MARK_LEN`] erased bytes (docs/FORMAT.md, section 5.1).
    pub recycled: bool,
}

impl Header {
    /// A header for a file segment or an in-memory image (no flash fields).
    pub const fn new(width: Width, align: usize, segment: u64, first_seq: u64) -> Header {
        Header {
            width,
            align,
            erase_count: 0,
            segment,
            first_seq,
            prev_end: NO_PREV_END,
            recycled: false,
        }
    }

    /// Bytes the header takes with its padding: where the first record starts.
    pub const fn padded_len(&self) -> usize {
        padded_len(HEADER_LEN, self.align)
    }

    /// Decodes and checks a header at the start of `bytes`.
    pub fn new_checked(bytes: &[u8]) -> Result<Header, FormatError> {
        let b = bytes.get(..HEADER_LEN).ok_or(FormatError::Truncated {
            need: HEADER_LEN,
            have: bytes.len(),
        })?;
        if crc32c::checksum(&b[..field::CRC.start]) != le32(b, field::CRC) {
            return Err(FormatError::Checksum);
        }
        if b[field::MAGIC] != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = le16(b, field::VERSION);
        if version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion { found: version });
        }
        let words = le16(b, field::WIDTH_WORDS);
        let width =
            Width::from_words(words as usize).map_err(|_| FormatError::BadWidth { words })?;
        let align = le16(b, field::ALIGN);
        if !align_ok(align as usize) {
            return Err(FormatError::BadAlign { align });
        }
        let flags = le16(b, field::FLAGS);
        if flags & !FLAG_RECYCLED != 0 {
            return Err(FormatError::Reserved);
        }
        Ok(Header {
            width,
            align: align as usize,
            erase_count: le32(b, field::ERASE_COUNT),
            segment: le64(b, field::SEGMENT),
            first_seq: le64(b, field::FIRST_SEQ),
            prev_end: le32(b, field::PREV_END),
            recycled: flags & FLAG_RECYCLED != 0,
        })
    }

    /// Encodes the header and its `0xFF` padding into `out`; returns the
    /// bytes written ([`Self::padded_len`]).
    ///
    /// Fails if `out` is too small; an invalid `align` is refused too.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, super::EncodeError> {
        if !align_ok(self.align) {
            // A header with a bad alignment could never be read back.
            return Err(super::EncodeError::BadAlign { align: self.align });
        }
        let need = self.padded_len();
        let have = out.len();
        let out = out
            .get_mut(..need)
            .ok_or(super::EncodeError::BufferTooSmall { need, have })?;
        out[field::MAGIC].copy_from_slice(&MAGIC);
        out[field::VERSION].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[field::WIDTH_WORDS].copy_from_slice(&(self.width.words() as u16).to_le_bytes());
        out[field::ALIGN].copy_from_slice(&(self.align as u16).to_le_bytes());
        let flags = if self.recycled { FLAG_RECYCLED } else { 0 };
        out[field::FLAGS].copy_from_slice(&flags.to_le_bytes());
        out[field::ERASE_COUNT].copy_from_slice(&self.erase_count.to_le_bytes());
        out[field::SEGMENT].copy_from_slice(&self.segment.to_le_bytes());
        out[field::FIRST_SEQ].copy_from_slice(&self.first_seq.to_le_bytes());
        out[field::PREV_END].copy_from_slice(&self.prev_end.to_le_bytes());
        let crc = crc32c::checksum(&out[..field::CRC.start]);
        out[field::CRC].copy_from_slice(&crc.to_le_bytes());
        out[HEADER_LEN..].fill(0xFF);
        Ok(need)
    }
}

/// Whether `align` is a valid record alignment: a power of two, 1..=4096.
pub const fn align_ok(align: usize) -> bool {
    align.is_power_of_two() && align <= ALIGN_MAX
}

pub(crate) fn le16(b: &[u8], r: core::ops::Range<usize>) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(&b[r]);
    u16::from_le_bytes(a)
}

pub(crate) fn le32(b: &[u8], r: core::ops::Range<usize>) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[r]);
    u32::from_le_bytes(a)
}

pub(crate) fn le64(b: &[u8], r: core::ops::Range<usize>) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[r]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn sample() -> Header {
        Header {
            width: Width::from_words(4).unwrap(),
            align: 8,
            erase_count: 7,
            segment: 0x0102_0304_0506_0708,
            first_seq: 42,
            prev_end: 1000,
            recycled: false,
        }
    }

    #[test]
    fn round_trips_and_pads_with_erased_bytes() {
        let mut buf = [0u8; 64];
        let n = sample().encode(&mut buf).unwrap();
        assert_eq!(n, 40);
        assert_eq!(Header::new_checked(&buf), Ok(sample()));
        let h = Header {
            align: 64,
            ..sample()
        };
        assert_eq!(h.encode(&mut buf), Ok(64));
        assert!(buf[40..64].iter().all(|&b| b == 0xFF));
        assert_eq!(Header::new_checked(&buf), Ok(h));
    }

    #[test]
    fn the_recycled_flag_round_trips_and_other_flags_are_refused() {
        let mut buf = [0u8; 40];
        let recycled = Header {
            recycled: true,
            ..sample()
        };
        recycled.encode(&mut buf).unwrap();
        assert_eq!(le16(&buf, field::FLAGS), FLAG_RECYCLED);
        assert_eq!(Header::new_checked(&buf), Ok(recycled));
        for flag in 1..16 {
            let mut b = buf;
            b[field::FLAGS].copy_from_slice(&(1u16 << flag).to_le_bytes());
            let crc = crc32c::checksum(&b[..36]);
            b[36..40].copy_from_slice(&crc.to_le_bytes());
            assert_eq!(
                Header::new_checked(&b),
                Err(FormatError::Reserved),
                "bit {flag}"
            );
        }
    }

    #[test]
    fn every_single_bit_flip_is_refused() {
        let mut buf = [0u8; 40];
        sample().encode(&mut buf).unwrap();
        for bit in 0..40 * 8 {
            let mut b = buf;
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(Header::new_checked(&b).is_err(), "bit {bit}");
        }
    }

    #[test]
    fn refuses_other_versions_and_widths_with_a_reason() {
        let mut buf = [0u8; 40];
        sample().encode(&mut buf).unwrap();
        let reseal = |b: &mut [u8; 40]| {
            let crc = crc32c::checksum(&b[..36]);
            b[36..40].copy_from_slice(&crc.to_le_bytes());
        };
        let mut v2 = buf;
        v2[field::VERSION].copy_from_slice(&2u16.to_le_bytes());
        reseal(&mut v2);
        assert_eq!(
            Header::new_checked(&v2),
            Err(FormatError::UnsupportedVersion { found: 2 })
        );
        let mut w = buf;
        w[field::WIDTH_WORDS].copy_from_slice(&257u16.to_le_bytes());
        reseal(&mut w);
        assert_eq!(
            Header::new_checked(&w),
            Err(FormatError::BadWidth { words: 257 })
        );
        let mut a = buf;
        a[field::ALIGN].copy_from_slice(&3u16.to_le_bytes());
        reseal(&mut a);
        assert_eq!(
            Header::new_checked(&a),
            Err(FormatError::BadAlign { align: 3 })
        );
        assert_eq!(
            Header::new_checked(&buf[..39]),
            Err(FormatError::Truncated { need: 40, have: 39 })
        );
    }
}
