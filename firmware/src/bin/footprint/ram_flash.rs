//! The footprint app's flash: a NOR flash kept in RAM, with only what a
//! device's flash driver does (bounds and alignment checks, erase to
//! `0xFF`, programming that can only clear bits). The core's `MockFlash`
//! also simulates power cuts, counts wear and refuses a word written twice,
//! which the self-test needs and a device does not, so its code would
//! count against the footprint without being part of one.

use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash,
};

/// Sectors, their size and the program unit (the self-test's flash shape).
pub(crate) const SECTORS: usize = 6;
const SECTOR_SIZE: usize = 2048;
const WORD: usize = 8;
const CAPACITY: usize = SECTORS * SECTOR_SIZE;

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
}

// Bounds and alignment are checked by `embedded-storage`'s own helpers,
// as a driver checks them; the slices below are then in range.
impl ErrorType for RamFlash {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for RamFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), NorFlashErrorKind> {
        check_read(self, offset, bytes.len())?;
        let start = offset as usize;
        bytes.copy_from_slice(&self.data[start..start + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        CAPACITY
    }
}

impl NorFlash for RamFlash {
    const WRITE_SIZE: usize = WORD;
    const ERASE_SIZE: usize = SECTOR_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), NorFlashErrorKind> {
        check_erase(self, from, to)?;
        self.data[from as usize..to as usize].fill(0xFF);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), NorFlashErrorKind> {
        check_write(self, offset, bytes.len())?;
        let start = offset as usize;
        // NOR programming only clears bits.
        for (cell, &b) in self.data[start..start + bytes.len()].iter_mut().zip(bytes) {
            *cell &= b;
        }
        Ok(())
    }
}
