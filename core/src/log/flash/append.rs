//! Appending batches: check, make room, write the records and the commit
//! (docs/FORMAT.md, sections 4 and 6.2).

use embedded_storage::nor_flash::NorFlash;

use super::{Error, FlashLog};
use crate::log::apply::Live;
use crate::log::error::{EncodeError, FormatError};
use crate::log::header::{Header, NO_PREV_END};
use crate::mutation::Mutation;

impl<F: NorFlash> FlashLog<'_, F> {
    /// Makes `batch` durable as one atomic batch and returns its sequence
    /// number. Only after this returns `Ok` may the caller apply the batch
    /// to its space, each mutation with the returned number as version.
    ///
    /// `live` is the caller's current state (everything appended before
    /// applied): garbage collection copies what is still live from it.
    ///
    /// Nothing of the batch is written unless all of it fits: a bad
    /// mutation, a batch larger than a sector, or a full log is refused
    /// first. A failed program or erase part way poisons the log (mount
    /// again); the batch then has no commit and recovery drops it. A
    /// failed read fails the append before anything is written, and the
    /// log stays usable.
    pub fn append<L: Live>(
        &mut self,
        batch: &[Mutation<'_>],
        live: &L,
    ) -> Result<u64, Error<F::Error>> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        if batch.is_empty() {
            return Err(Error::Encode(EncodeError::EmptyBatch));
        }
        for m in batch {
            self.enc.check(m).map_err(Error::Encode)?;
        }
        let count =
            u32::try_from(batch.len()).map_err(|_| Error::Encode(EncodeError::BatchTooLarge))?;
        let need = self.enc.batch_len(batch);
        let room = (self.sector_size - self.data_start) as usize;
        if need > room {
            return Err(Error::BatchTooLarge { need, room });
        }
        if self.next_seq == u64::MAX {
            return Err(Error::Format(FormatError::Exhausted));
        }
        if self.stale_check_pending {
            self.erase_stale()?;
        }
        if !self.fits(need) {
            let deletes_only = batch.iter().all(|m| matches!(m, Mutation::Delete { .. }));
            self.make_room(live, deletes_only)?;
        }
        let s = self.head();
        let seq = self.next_seq;
        let enc = self.enc;
        for m in batch {
            let n = enc.mutation(m, seq, self.buf).map_err(Error::Encode)?;
            self.program(s, self.head_write, n)?;
            self.head_write += n as u32;
        }
        let n = enc.commit(seq, count, self.buf).map_err(Error::Encode)?;
        self.program(s, self.head_write, n)?;
        self.head_write += n as u32;
        self.next_seq += 1;
        self.known_full = false;
        self.stats.batches += 1;
        self.stats.payload_bytes += batch.iter().map(payload_len).sum::<u64>();
        Ok(seq)
    }

    /// Whether `need` bytes fit in the head now.
    fn fits(&self, need: usize) -> bool {
        self.live > 0
            && self.head_writable
            && self.head_write as usize + need <= self.sector_size as usize
    }

    /// Opens a new sector for a batch, garbage-collecting first until the
    /// reserve stays free after the open (at most one trip around the
    /// ring). A batch of deletes only may use all but one reserve sector,
    /// so that a full log can always shrink.
    fn make_room<L: Live>(&mut self, live: &L, deletes_only: bool) -> Result<(), Error<F::Error>> {
        let keep = if deletes_only { 1 } else { self.cfg.reserve };
        if self.known_full && !deletes_only {
            return Err(Error::Full);
        }
        let mut rounds = self.live;
        while self.free_sectors() < self.cfg.reserve + 1 && self.live > 1 && rounds > 0 {
            match self.gc_oldest(live) {
                Ok(()) => rounds -= 1,
                Err(Error::Full) => break,
                Err(e) => return Err(e),
            }
        }
        if self.free_sectors() < keep + 1 {
            // Until an append succeeds, nothing can have become dead: do not
            // go round the ring again (and wear it) for every refused batch.
            self.known_full = !deletes_only;
            return Err(Error::Full);
        }
        self.open_next()
    }

    /// Opens the sector after the head (the first sector of an empty log):
    /// erase it unless this session already did, then write its header,
    /// closing the old head at `head_write`.
    pub(super) fn open_next(&mut self) -> Result<(), Error<F::Error>> {
        let n = self.cfg.sectors;
        let next = if self.live == 0 {
            self.oldest
        } else {
            (self.head() + 1) % n
        };
        let prev_end = if self.live == 0 {
            NO_PREV_END
        } else {
            self.head_write
        };
        // A stale header of another log only loses its wear count; a
        // failed read is an error, not an erased sector.
        let old = match self.header(next) {
            Err(Error::Storage(e)) => return Err(Error::Storage(e)),
            other => other.ok().flatten(),
        };
        let erase_count = old.map_or(0, |h| h.erase_count).saturating_add(1);
        if self.free_sectors() > self.known_erased {
            self.erase_sector(next)?;
        } else {
            self.known_erased -= 1;
        }
        let header = Header {
            width: self.cfg.width,
            align: F::WRITE_SIZE,
            erase_count,
            segment: self.next_segment,
            first_seq: self.next_seq,
            prev_end,
            recycled: false,
        };
        let len = header.encode(self.buf).map_err(Error::Encode)?;
        self.program(next, 0, len)?;
        if self.live == 0 {
            self.oldest = next;
        }
        self.live += 1;
        self.next_segment += 1;
        self.head_write = self.data_start;
        self.head_writable = true;
        self.stats.sectors_opened += 1;
        Ok(())
    }

    /// Erases free sectors that still hold a valid header (a retired sector
    /// whose erase was cut, or older leftovers), so that none can ever be
    /// taken for part of the live ring once its retire record is gone.
    fn erase_stale(&mut self) -> Result<(), Error<F::Error>> {
        let n = self.cfg.sectors;
        for i in 0..self.free_sectors() {
            let s = (self.oldest + self.live + i) % n;
            match self.header(s) {
                Ok(None) => {}
                // A failed read stops the sweep; the next append runs it again.
                Err(Error::Storage(e)) => return Err(Error::Storage(e)),
                Ok(Some(_)) | Err(_) => self.erase_sector(s)?,
            }
        }
        self.stale_check_pending = false;
        Ok(())
    }
}

/// The payload of a mutation, for the write-amplification figure: its
/// address and the value it stores.
fn payload_len(m: &Mutation<'_>) -> u64 {
    2 + match m {
        Mutation::Set { fp, .. } => fp.len() as u64 * 8,
        Mutation::Delete { .. } => 0,
        Mutation::Expire { .. } => 8,
        Mutation::Meta { label, .. } => label.len() as u64 + 2,
    }
}
