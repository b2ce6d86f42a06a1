//! The log: one record format for every medium, its recovery, and the
//! NOR-flash log. The byte-level contract is `docs/FORMAT.md`; this module
//! is its code.
//!
//! The layers, from the bytes up:
//!
//! - [`header`]: the 40-byte header every image starts with (magic,
//!   version, width, alignment, segment, first sequence number).
//! - [`record`]: the checked view [`Record::new_checked`] over one frame
//!   (length, CRC-32C, sequence number, kind, address, body).
//! - [`encode`]: [`Encoder`] writes frames and whole batches (records,
//!   then their commit) into a caller-lent buffer.
//! - [`reader`]: [`Reader`] walks an image in memory and tells a clean end
//!   from a torn tail from corruption in the middle.
//! - [`replay`]: [`replay()`] applies an image to an [`Apply`] target,
//!   batches whole or not at all.
//! - [`apply`]: the [`Apply`] and [`Live`] traits the space implements.
//!
//! The write path is write-ahead everywhere: encode the batch, make it
//! durable, and only then apply it to the space and acknowledge it.

pub mod apply;
pub mod encode;
pub mod error;
pub mod flash;
#[cfg(any(test, feature = "golden"))]
pub mod golden;
pub mod header;
#[cfg(any(test, feature = "mock-flash"))]
pub mod mock_flash;
pub mod reader;
pub mod record;
pub mod replay;

pub use apply::{Apply, Live};
pub use encode::Encoder;
pub use error::{EncodeError, FormatError};
pub use header::{Header, END_MARK_LEN, FLAG_RECYCLED, HEADER_LEN};
pub use reader::{End, Event, Reader};
pub use record::{Body, Kind, Record, FRAME_MAX, RECORD_HEADER_LEN};
pub use replay::{replay, Counts, Damage, Policy, ReplayError, Replayed};

/// The log format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;

/// `len` rounded up to a multiple of `align` (a power of two; `0` and `1`
/// mean no padding).
pub const fn padded_len(len: usize, align: usize) -> usize {
    if align <= 1 {
        return len;
    }
    let mask = align - 1;
    (len + mask) & !mask
}

#[cfg(test)]
mod test_model;
#[cfg(test)]
mod tests;
