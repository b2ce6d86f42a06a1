//! Walking a log image held in memory: records, corruption in the middle,
//! and how the log ends (docs/FORMAT.md, section 5).

use super::error::FormatError;
use super::header::{Header, END_MARK_LEN};
#[cfg(test)]
use super::record::{field, frame_len_field};
use super::record::{Record, RECORD_HEADER_LEN};
use crate::width::Width;

/// One step of a walk over a log image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A valid record at `offset` in the image.
    Record {
        /// Where the frame starts.
        offset: usize,
        /// The checked record.
        record: Record<'a>,
    },
    /// Damaged bytes at `offset`, followed by a valid record `skipped`
    /// bytes later: corruption in the middle of the log, not its end.
    Corrupted {
        /// Where the damage starts (the end of the last valid record).
        offset: usize,
        /// Bytes skipped to reach the next valid record.
        skipped: usize,
        /// Why the frame at `offset` was refused.
        error: FormatError,
    },
}

/// How a log image ends, once the walk is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// After the last valid record there is nothing, or only erased
    /// (`0xFF`) bytes; in a recycled image ([`Reader::recycled`]), the
    /// 8-byte end mark and then only stale bytes.
    Clean {
        /// Where the last valid record ends (padding included): where a
        /// writer goes on. Always aligned, so it may lie past the image's
        /// end by part of that padding when the image stops inside it
        /// (padding is erased bytes no checksum covers, so a copy may have
        /// dropped them); a writer pads the image with `0xFF` up to it.
        offset: usize,
    },
    /// After the last valid record there are bytes that are not a valid
    /// record and no valid record follows: a write that did not finish.
    /// They are cut, never applied.
    Torn {
        /// Where the torn bytes start (the end of the last valid record).
        offset: usize,
        /// How many bytes, to the end of the image, are cut.
        len: usize,
        /// Why the frame at `offset` was refused.
        error: FormatError,
    },
}

impl End {
    /// Where the valid part of the log ends.
    pub const fn offset(&self) -> usize {
        match *self {
            End::Clean { offset } | End::Torn { offset, .. } => offset,
        }
    }
}

/// Walks the records of an image, yielding [`Event`]s; after the last one,
/// [`Reader::end`] says how the log ends.
///
/// It never stops at the first bad frame: when a frame is refused it looks
/// at every later aligned offset for a valid one, so corruption in the
/// middle is reported (with its offset and size) and the records after it
/// are still yielded. Only a bad region with nothing valid after it is a
/// torn tail (in a recycled image: nothing valid of this life after it,
/// and no end mark where it starts, docs/FORMAT.md 5.1).
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    image: &'a [u8],
    width: Width,
    align: usize,
    pos: usize,
    end: Option<End>,
    /// In a recycled image ([`Header::recycled`]), its first sequence
    /// number: frames below it are stale.
    stale_below: Option<u64>,
    /// Bytes the walk's CRC checks covered, for tests to bound its work.
    #[cfg(test)]
    crc_bytes: core::cell::Cell<usize>,
}

impl<'a> Reader<'a> {
    /// Checks the image's header and returns it with a reader positioned at
    /// the first record: the header's padded end, even when the image
    /// stops inside that padding (the log is then empty and ends there,
    /// aligned, where a writer goes on).
    pub fn open(image: &'a [u8]) -> Result<(Header, Reader<'a>), FormatError> {
        let header = Header::new_checked(image)?;
        let start = header.padded_len();
        let reader = Reader::new(image, header.width, header.align, start);
        let reader = if header.recycled {
            reader.recycled(header.first_seq)
        } else {
            reader
        };
        Ok((header, reader))
    }

    /// A reader over `image` (records of `width`, aligned to `align`
    /// relative to the image's start), starting at `start`.
    pub fn new(image: &'a [u8], width: Width, align: usize, start: usize) -> Reader<'a> {
        Reader {
            image,
            width,
            align: align.max(1),
            pos: start,
            end: None,
            stale_below: None,
            #[cfg(test)]
            crc_bytes: core::cell::Cell::new(0),
        }
    }

    /// Reads the image as recycled ([`Header::recycled`]) with first
    /// sequence number `first_seq`: a frame below it is stale bytes, never
    /// a record, and after the last record the log ends where
    /// [`END_MARK_LEN`] erased bytes follow and no record of this image
    /// comes later (anything else there is a torn write).
    pub fn recycled(mut self, first_seq: u64) -> Reader<'a> {
        self.stale_below = Some(first_seq);
        self
    }

    /// The same reader (image, width, alignment, recycled or not) with its
    /// walk not begun, at `pos`: for a caller that walked part of the
    /// image by itself and hands the rest over.
    pub fn starting_at(&self, pos: usize) -> Reader<'a> {
        let mut reader = self.clone();
        reader.pos = pos;
        reader.end = None;
        reader
    }

    /// `record` if it belongs to this image: refused as stale when the
    /// image is recycled and the record is older than it
    /// ([`Reader::recycled`]).
    pub fn current(&self, record: Record<'a>) -> Result<Record<'a>, FormatError> {
        match self.stale_below {
            Some(first_seq) if record.seq() < first_seq => Err(FormatError::Stale {
                seq: record.seq(),
                first_seq,
            }),
            _ => Ok(record),
        }
    }

    /// How the log ends; `None` until the walk is over.
    pub const fn end(&self) -> Option<End> {
        self.end
    }

    /// The offset of the next frame to be read.
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// The image.
    pub const fn image(&self) -> &'a [u8] {
        self.image
    }

    /// [`Record::new_checked`] on `bytes`. Under test it also counts the
    /// bytes the CRC covers: the CRC is computed once the kind and length
    /// fields pass and the frame fits.
    fn checked(&self, bytes: &'a [u8]) -> Result<Record<'a>, FormatError> {
        #[cfg(test)]
        if let Some(len) = frame_len_field(bytes).ok().filter(|&n| n <= bytes.len()) {
            self.crc_bytes
                .set(self.crc_bytes.get() + len - field::CRC_LEN);
        }
        Record::new_checked(bytes, self.width).and_then(|r| self.current(r))
    }

    /// The first aligned offset after `from` where a valid frame starts.
    /// At each offset the structure (kind, flags, the length the kind and
    /// width call for) is checked before the CRC: it reads a few bytes
    /// where the CRC reads the whole claimed length, so damage that looks
    /// like a long frame at every offset costs no CRC at all. A frame must
    /// pass both, so the offset found is the same. In a recycled image a
    /// stale frame is skipped by its sequence number, before its CRC too.
    fn resync(&self, from: usize) -> Option<usize> {
        let mut p = from + self.align;
        while p + RECORD_HEADER_LEN <= self.image.len() {
            let bytes = &self.image[p..];
            let structure = Record::rechecked_without_crc(bytes, self.width);
            if structure.is_ok_and(|r| self.current(r).is_ok()) && self.checked(bytes).is_ok() {
                return Some(p);
            }
            p += self.align;
        }
        None
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if self.end.is_some() {
            return None;
        }
        let pos = self.pos;
        let Some(rest) = self.image.get(pos..).filter(|r| !r.is_empty()) else {
            self.end = Some(End::Clean { offset: pos });
            return None;
        };
        match self.checked(rest) {
            Ok(record) => {
                self.pos = pos + record.padded_len(self.align);
                Some(Event::Record {
                    offset: pos,
                    record,
                })
            }
            Err(error) => {
                // A recycled image holds an earlier life's bytes after its
                // records, so only its end mark and nothing of this life
                // after it make a clean end (below); elsewhere the rest is
                // erased.
                if self.stale_below.is_none() && is_erased(rest) {
                    self.end = Some(End::Clean { offset: pos });
                    return None;
                }
                match self.resync(pos) {
                    Some(next) => {
                        self.pos = next;
                        Some(Event::Corrupted {
                            offset: pos,
                            skipped: next - pos,
                            error,
                        })
                    }
                    None if self.stale_below.is_some()
                        && is_erased(&rest[..rest.len().min(END_MARK_LEN)]) =>
                    {
                        self.end = Some(End::Clean { offset: pos });
                        None
                    }
                    None => {
                        self.end = Some(End::Torn {
                            offset: pos,
                            len: rest.len(),
                            error,
                        });
                        None
                    }
                }
            }
        }
    }
}

/// Whether every byte is erased (`0xFF`).
pub fn is_erased(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0xFF)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_recycled;
