//! Walking the records of one flash sector, with the rules of
//! docs/FORMAT.md sections 5 and 6.3: a closed sector's records must tile
//! it up to its known end; the head's end is found by scanning, and a bad
//! frame there is a torn tail only if nothing valid follows it.

use embedded_storage::nor_flash::NorFlash;

use super::FlashLog;
use crate::log::error::FormatError;
use crate::log::padded_len;
use crate::log::record::{field, frame_len_field, Record};

/// How the records of a sector end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectorEnd {
    /// At this offset in the sector, after which the sector is erased (or,
    /// for a closed sector, its known end).
    Clean(u32),
    /// A torn write starts at this offset in the sector: the sector is
    /// closed there and never written again.
    Torn(u32),
}

impl SectorEnd {
    /// Where the valid records end.
    pub const fn offset(self) -> u32 {
        match self {
            SectorEnd::Clean(o) | SectorEnd::Torn(o) => o,
        }
    }
}

/// One step of a sector walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ScanEvent {
    /// A valid frame of `len` bytes at `off`; its bytes are at the front of
    /// the work buffer.
    Record { off: u32, len: usize },
    /// Damage at `off`; the walk goes on `skipped` bytes later.
    Corrupted {
        off: u32,
        skipped: u32,
        error: FormatError,
    },
}

/// The state of a walk over sector `s`, from `pos` to `limit`.
#[derive(Clone, Copy, Debug)]
pub(super) struct SectorScan {
    pub(super) s: u32,
    pub(super) pos: u32,
    /// Closed sector: its known end. Head: the sector size.
    pub(super) limit: u32,
    /// Whether `limit` is a known end the records must reach exactly.
    pub(super) closed: bool,
    pub(super) end: Option<SectorEnd>,
}

impl SectorScan {
    pub(super) fn new(s: u32, start: u32, limit: u32, closed: bool) -> SectorScan {
        SectorScan {
            s,
            pos: start,
            limit,
            closed,
            end: None,
        }
    }
}

impl<F: NorFlash> FlashLog<'_, F> {
    /// Reads the frame at `off` of sector `s` (ending by `limit`) into the
    /// work buffer and checks it: `Ok(Ok(len))` when valid.
    pub(super) fn frame_at(
        &mut self,
        s: u32,
        off: u32,
        limit: u32,
        check_crc: bool,
    ) -> Result<Result<usize, FormatError>, F::Error> {
        let room = limit.saturating_sub(off) as usize;
        if room < field::BODY {
            return Ok(Err(FormatError::Truncated {
                need: field::BODY,
                have: room,
            }));
        }
        self.read(s, off, field::BODY)?;
        let len = match frame_len_field(&self.buf[..field::BODY]) {
            Ok(len) if len > Self::max_frame(self.cfg.width) => {
                return Ok(Err(FormatError::BadLength { len: len as u32 }))
            }
            Ok(len) if len <= room => len,
            Ok(len) => {
                return Ok(Err(FormatError::Truncated {
                    need: len,
                    have: room,
                }))
            }
            Err(e) => return Ok(Err(e)),
        };
        self.read(s, off, len)?;
        let frame = &self.buf[..len];
        let checked = if check_crc {
            Record::new_checked(frame, self.cfg.width)
        } else {
            Record::rechecked_without_crc(frame, self.cfg.width)
        };
        Ok(checked.map(|_| len))
    }

    /// The next event of a sector walk; `None` when the walk is over (then
    /// `scan.end` says how the sector ends).
    pub(super) fn scan_next(
        &mut self,
        scan: &mut SectorScan,
    ) -> Result<Option<ScanEvent>, F::Error> {
        if scan.end.is_some() {
            return Ok(None);
        }
        let pos = scan.pos;
        if pos >= scan.limit {
            scan.end = Some(SectorEnd::Clean(pos));
            if scan.closed && pos > scan.limit {
                // The last frame runs past the sector's known end.
                return Ok(Some(ScanEvent::Corrupted {
                    off: scan.limit,
                    skipped: 0,
                    error: FormatError::BadLength { len: pos },
                }));
            }
            return Ok(None);
        }
        match self.frame_at(scan.s, pos, scan.limit, true)? {
            Ok(len) => {
                scan.pos = pos + padded_len(len, F::WRITE_SIZE) as u32;
                Ok(Some(ScanEvent::Record { off: pos, len }))
            }
            Err(error) => {
                if !scan.closed && self.erased_from(scan.s, pos, scan.limit)? {
                    scan.end = Some(SectorEnd::Clean(pos));
                    return Ok(None);
                }
                match self.resync(scan.s, pos, scan.limit)? {
                    Some(next) => {
                        scan.pos = next;
                        Ok(Some(ScanEvent::Corrupted {
                            off: pos,
                            skipped: next - pos,
                            error,
                        }))
                    }
                    None if scan.closed => {
                        // Data was written up to the known end: damage.
                        scan.pos = scan.limit;
                        scan.end = Some(SectorEnd::Clean(scan.limit));
                        Ok(Some(ScanEvent::Corrupted {
                            off: pos,
                            skipped: scan.limit - pos,
                            error,
                        }))
                    }
                    None => {
                        scan.end = Some(SectorEnd::Torn(pos));
                        Ok(None)
                    }
                }
            }
        }
    }

    /// Whether bytes `from..limit` of sector `s` all read `0xFF`.
    fn erased_from(&mut self, s: u32, from: u32, limit: u32) -> Result<bool, F::Error> {
        let chunk = (self.buf.len() / F::READ_SIZE * F::READ_SIZE) as u32;
        let mut at = from;
        while at < limit {
            let n = chunk.min(limit - at);
            self.read(s, at, n as usize)?;
            if !self.buf[..n as usize].iter().all(|&b| b == 0xFF) {
                return Ok(false);
            }
            at += n;
        }
        Ok(true)
    }

    /// The first aligned offset after `from` (before `limit`) where a valid
    /// frame starts. Every aligned offset is tried, so a damaged length
    /// cannot hide later records.
    fn resync(&mut self, s: u32, from: u32, limit: u32) -> Result<Option<u32>, F::Error> {
        let step = F::WRITE_SIZE as u32;
        let mut p = from + step;
        while p + (field::BODY as u32) <= limit {
            if self.frame_at(s, p, limit, true)?.is_ok() {
                return Ok(Some(p));
            }
            p += step;
        }
        Ok(None)
    }
}
