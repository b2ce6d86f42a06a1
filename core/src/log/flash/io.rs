//! Low-level flash access for the log: sector addressing, reads rounded to
//! the read size, counted writes and erases, headers.

use embedded_storage::nor_flash::NorFlash;

use super::{Error, FlashLog};
use crate::log::error::FormatError;
use crate::log::header::{Header, HEADER_LEN};

impl<F: NorFlash> FlashLog<'_, F> {
    /// Flash offset of byte `off` of log sector `s` (0-based in the log).
    pub(super) fn abs(&self, s: u32, off: u32) -> u32 {
        (self.cfg.first_sector + s) * self.sector_size + off
    }

    /// Physical sector of the `k`-th live sector (0 = oldest).
    pub(super) fn phys(&self, k: u32) -> u32 {
        (self.oldest + k) % self.cfg.sectors
    }

    /// Segment number of the oldest live sector: the live sectors hold
    /// consecutive segments ending at the head's (`next_segment - 1`).
    pub(super) fn oldest_segment(&self) -> u64 {
        self.next_segment - u64::from(self.live)
    }

    /// Physical sector of the head (`live > 0`).
    pub(super) fn head(&self) -> u32 {
        self.phys(self.live.saturating_sub(1))
    }

    /// Reads `len` bytes at `off` of sector `s` into the front of the work
    /// buffer (the read itself is rounded up to the read size, within the
    /// sector).
    pub(super) fn read(&mut self, s: u32, off: u32, len: usize) -> Result<(), F::Error> {
        let rs = F::READ_SIZE;
        let rounded = len.div_ceil(rs) * rs;
        let at = self.abs(s, off);
        self.flash.read(at, &mut self.buf[..rounded])
    }

    /// Writes the front `len` bytes of the work buffer at `off` of sector
    /// `s`. A failure poisons the log.
    pub(super) fn program(&mut self, s: u32, off: u32, len: usize) -> Result<(), Error<F::Error>> {
        let at = self.abs(s, off);
        match self.flash.write(at, &self.buf[..len]) {
            Ok(()) => {
                self.stats.programmed_bytes += len as u64;
                Ok(())
            }
            Err(e) => {
                self.poisoned = true;
                Err(Error::Storage(e))
            }
        }
    }

    /// Erases sector `s`. A failure poisons the log.
    pub(super) fn erase_sector(&mut self, s: u32) -> Result<(), Error<F::Error>> {
        let from = self.abs(s, 0);
        match self.flash.erase(from, from + self.sector_size) {
            Ok(()) => {
                self.stats.erases += 1;
                Ok(())
            }
            Err(e) => {
                self.poisoned = true;
                Err(Error::Storage(e))
            }
        }
    }

    /// The header of sector `s`: `Ok(None)` when it is not a valid header
    /// (erased, torn, damaged); an error when it is valid but belongs to a
    /// log of another width or alignment.
    pub(super) fn header(&mut self, s: u32) -> Result<Option<Header>, Error<F::Error>> {
        self.read(s, 0, HEADER_LEN).map_err(Error::Storage)?;
        let Ok(h) = Header::new_checked(&self.buf[..HEADER_LEN]) else {
            return Ok(None);
        };
        if h.width != self.cfg.width {
            return Err(Error::Format(FormatError::WidthMismatch {
                log: h.width.words(),
                expected: self.cfg.width.words(),
            }));
        }
        if h.align != F::WRITE_SIZE {
            return Err(Error::Format(FormatError::BadAlign {
                align: h.align as u16,
            }));
        }
        if h.recycled {
            // Flash erases a sector before it is written again, so no
            // sector of a flash log is ever a recycled image: a header
            // that says so was written by something else.
            return Err(Error::Format(FormatError::Reserved));
        }
        Ok(Some(h))
    }

    /// Where the records of closed live sector `k` end: the `prev_end` of
    /// the header of the sector after it (the head's own: `head_write`).
    pub(super) fn limit_of(&mut self, k: u32) -> Result<u32, Error<F::Error>> {
        if k + 1 >= self.live {
            return Ok(self.head_write);
        }
        let next = self.phys(k + 1);
        let h = self
            .header(next)?
            .ok_or(Error::Format(FormatError::Checksum))?;
        self.check_prev_end(h.prev_end)
    }

    /// A `prev_end` must lie on an alignment boundary inside a sector's
    /// record area.
    pub(super) fn check_prev_end(&self, prev_end: u32) -> Result<u32, Error<F::Error>> {
        if prev_end < self.data_start
            || prev_end > self.sector_size
            || !(prev_end as usize).is_multiple_of(F::WRITE_SIZE)
        {
            return Err(Error::Format(FormatError::BadLength { len: prev_end }));
        }
        Ok(prev_end)
    }
}
