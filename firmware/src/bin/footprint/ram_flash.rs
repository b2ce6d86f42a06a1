//! The footprint app's flash: a NOR flash kept in RAM, with only what a
//! device's flash driver does (bounds and alignment checks, erase to
//! `0xFF`, programming that can only clear bits). The core's `MockFlash`
//! also simulates power cuts, counts wear and refuses a word written twice,
//! which the self-test needs and a device does not, so its code would
//! count against the footprint without being part of one.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// Sectors, their size and the program unit (the self-test's flash shape).
pub(crate) const SECTORS: usize = 6;
const SECTOR_SIZE: usize = 2048;
const WORD: usize = 8;
const CAPACITY: usize = SECTORS * SECTOR_SIZE;

/// What a flash operation refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RamFlashError {
    /// The range runs past the end of the flash.
    OutOfBounds,
    /// The offset or length is not a multiple of the operation's unit.
    NotAligned,
}

impl NorFlashError for RamFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            RamFlashError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            RamFlashError::NotAligned => NorFlashErrorKind::NotAligned,
        }
    }
}

/// The flash contents, erased (`0xFF`) at reset.
pub(crate) struct RamFlash {
    data: [u8; CAPACITY],
}

impl RamFlash {
    /// An erased flash.
    pub(crate) const fn new() -> Self {
        RamFlash {
            data: [0xFF; CAPACITY],
        }
    }

    /// The bytes `offset..offset + len`, if the range is inside the flash
    /// and aligned to `unit`.
    fn range(&mut self, offset: u32, len: usize, unit: usize) -> Result<&mut [u8], RamFlashError> {
        let start = offset as usize;
        if !start.is_multiple_of(unit) || !len.is_multiple_of(unit) {
            return Err(RamFlashError::NotAligned);
        }
        let end = start.checked_add(len).ok_or(RamFlashError::OutOfBounds)?;
        self.data
            .get_mut(start..end)
            .ok_or(RamFlashError::OutOfBounds)
    }
}

impl ErrorType for RamFlash {
    type Error = RamFlashError;
}

impl ReadNorFlash for RamFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), RamFlashError> {
        bytes.copy_from_slice(self.range(offset, bytes.len(), 1)?);
        Ok(())
    }

    fn capacity(&self) -> usize {
        CAPACITY
    }
}

impl NorFlash for RamFlash {
    const WRITE_SIZE: usize = WORD;
    const ERASE_SIZE: usize = SECTOR_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), RamFlashError> {
        let len = to.checked_sub(from).ok_or(RamFlashError::OutOfBounds)?;
        self.range(from, len as usize, SECTOR_SIZE)?.fill(0xFF);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), RamFlashError> {
        let cells = self.range(offset, bytes.len(), WORD)?;
        // NOR programming only clears bits.
        for (cell, &b) in cells.iter_mut().zip(bytes) {
            *cell &= b;
        }
        Ok(())
    }
}
