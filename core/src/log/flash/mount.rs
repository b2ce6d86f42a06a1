//! Mounting: find the live sectors, drop retired ones, replay the records
//! into the caller's target, and find where the next record goes
//! (docs/FORMAT.md, section 6.6).

use embedded_storage::nor_flash::NorFlash;

use super::scan::{ScanEvent, SectorEnd, SectorScan};
use super::{Config, Error, FlashLog};
use crate::log::apply::Apply;
use crate::log::error::FormatError;
use crate::log::header::HEADER_LEN;
use crate::log::padded_len;
use crate::log::record::{field, frame_len_field, Body, Kind, Record};
use crate::log::replay::{apply_one, Batcher, Counts, Damage, Policy, Step};

/// What replaying the live sectors gave: counts, damage, the head's end.
type Replayed = (Counts, Damage, SectorEnd);

/// Live sectors lost before the oldest found: the sector just before it,
/// and how many (see `FlashLog::lost_sectors`).
type Lost = Option<(u32, u32)>;

/// What mounting found and did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// Sectors holding the live log.
    pub live_sectors: u32,
    /// How the head sector ends (`None`: the log is empty). A torn end is
    /// the expected trace of a power cut during a write; the next append
    /// opens a new sector instead of writing there.
    pub head_end: Option<SectorEnd>,
    /// What was applied.
    pub counts: Counts,
    /// What damage made recovery skip (only under [`Policy::Repair`]).
    pub damage: Damage,
    /// Sectors with a valid header outside the live ring (retired, or
    /// left from an interrupted erase): erased before the next write.
    pub stale_sectors: u32,
    /// The sequence number the next batch gets.
    pub next_seq: u64,
}

impl<'b, F: NorFlash> FlashLog<'b, F> {
    /// Mounts the log on `flash`: replays every committed batch and
    /// standalone copy into `target`, oldest first, and returns the log
    /// ready to append. An empty (erased) flash mounts as an empty log.
    ///
    /// A torn tail is cut (and never written again); corruption in the
    /// middle fails the mount under [`Policy::Strict`] with its offset, and
    /// is skipped and counted under [`Policy::Repair`]. Mounting writes
    /// nothing, so a power cut during it changes nothing.
    pub fn mount<A: Apply>(
        flash: F,
        buf: &'b mut [u8],
        cfg: Config,
        target: &mut A,
    ) -> Result<(Self, Recovery), Error<F::Error, A::Error>> {
        let enc = Self::check_config(&flash, buf, &cfg).map_err(Error::Config)?;
        let mut log = Self::new_unmounted(flash, buf, cfg, enc);
        let n = cfg.sectors;

        // The head: the valid header with the highest segment.
        let mut head = None;
        let mut valid = 0;
        for s in 0..n {
            if let Some(h) = log.header(s).map_err(Error::widen)? {
                valid += 1;
                if head.is_none_or(|(_, seg)| h.segment > seg) {
                    head = Some((s, h.segment));
                }
            }
        }
        let Some((head_phys, head_seg)) = head else {
            log.stale_check_pending = false;
            return Ok((log, Recovery::empty(valid)));
        };

        // The live ring: physically consecutive sectors before the head
        // with consecutive segments.
        let mut oldest = head_phys;
        let mut chain = 1;
        while chain < n {
            let prev = (oldest + n - 1) % n;
            match log.header(prev).map_err(Error::widen)? {
                Some(h) if h.segment.checked_add(1) == Some(head_seg - (chain as u64 - 1)) => {
                    oldest = prev;
                    chain += 1;
                }
                _ => break,
            }
        }
        log.oldest = oldest;
        log.live = chain;
        // A segment (or sequence) number at the end of its range cannot be
        // followed: refuse rather than wrap and lose the log's order.
        log.next_segment = head_seg
            .checked_add(1)
            .ok_or(Error::Format(FormatError::Exhausted))?;

        // Sectors a retire record names are dead, whatever an interrupted
        // erase left in them.
        let retired = log.find_retired().map_err(Error::widen)?;
        if let Some(retired) = retired {
            let oldest_seg = log.oldest_segment();
            if retired >= oldest_seg {
                // A counted retire record names an older segment than its
                // own sector, so never the head; the `min` only guards that.
                let drop = (retired - oldest_seg + 1).min(chain as u64 - 1) as u32;
                log.oldest = (log.oldest + drop) % n;
                log.live -= drop;
            }
        }
        // Replayed first, so that damage inside the ring (which may also
        // hide the newest retire record) is reported where it is.
        let (counts, mut damage, head_end) = log.replay_live(target)?;
        if let Some((phys, sectors)) = log.lost_sectors(retired)? {
            // Only reached under repair: the sectors' records are gone.
            damage.regions += 1;
            damage.bytes += u64::from(sectors) * u64::from(log.sector_size);
            damage
                .first
                .get_or_insert((log.abs(phys, 0) as usize, log.sector_size as usize));
        }
        log.head_write = head_end.offset();
        log.head_writable = matches!(head_end, SectorEnd::Clean(_));
        let first_seq = log
            .header(head_phys)
            .map_err(Error::widen)?
            .map_or(0, |h| h.first_seq);
        log.next_seq = counts
            .max_seq
            .map_or(1, |s| s.saturating_add(1))
            .max(first_seq)
            .max(1);
        let recovery = Recovery {
            live_sectors: log.live,
            head_end: Some(head_end),
            counts,
            damage,
            stale_sectors: valid - log.live,
            next_seq: log.next_seq,
        };
        log.stale_check_pending = recovery.stale_sectors > 0;
        Ok((log, recovery))
    }

    /// Live sectors before the oldest one found whose header was damaged.
    /// A sector with a damaged header reads as free, so the ring walked
    /// back from the head stops short of it: its records (and those of
    /// any sector before it) would not be replayed, and the next write
    /// would erase it. Every segment from the first (0) to the head is
    /// live or retired, and garbage collection retires the oldest sector
    /// only after writing a retire record naming it, so the newest retire
    /// record names the segment just before the oldest live one. An
    /// oldest segment above that means the sectors in between lost their
    /// headers. With no retire record (no garbage collection yet), the
    /// oldest live segment is the first, 0; one above 0 is a gap only if
    /// the sector before it has a header that was programmed and no longer
    /// checks (an image written elsewhere and programmed into flash may
    /// start at any segment, after erased sectors).
    ///
    /// Under [`Policy::Strict`] that is [`Error::Corrupted`] at the sector
    /// before the oldest found; under repair, returns that sector and how
    /// many were lost, to be counted as damage.
    ///
    /// Known limit: the same damage in the *head* sector's header is not
    /// found. The sector before it is then taken for the head, and one
    /// after a head whose header does not check cannot be told, by what
    /// the format records, from a sector whose opening a power cut tore
    /// or one left by a cut erase (docs/FORMAT.md, section 6.6).
    fn lost_sectors<E>(&mut self, retired: Option<u64>) -> Result<Lost, Error<F::Error, E>> {
        let n = self.cfg.sectors;
        let oldest_seg = self.oldest_segment();
        let first_kept = retired.map_or(0, |r| r.saturating_add(1));
        if oldest_seg <= first_kept {
            return Ok(None);
        }
        let phys = (self.oldest + n - 1) % n;
        if retired.is_none() {
            self.read(phys, 0, HEADER_LEN).map_err(Error::Storage)?;
            if self.buf[..HEADER_LEN].iter().all(|&b| b == 0xFF) {
                return Ok(None);
            }
        }
        let missing = (oldest_seg - first_kept).min(u64::from(n)) as u32;
        if self.cfg.policy == Policy::Strict {
            return Err(Error::Corrupted {
                offset: self.abs(phys, 0),
                skipped: missing.saturating_mul(self.sector_size),
                error: FormatError::Checksum,
            });
        }
        Ok(Some((phys, missing)))
    }

    /// The highest segment named by a valid retire record in the live
    /// ring. Walks record headers only, checking retire frames in full.
    fn find_retired(&mut self) -> Result<Option<u64>, Error<F::Error>> {
        let mut retired: Option<u64> = None;
        let oldest_seg = self.oldest_segment();
        for k in 0..self.live {
            let s = self.phys(k);
            let holder = oldest_seg + u64::from(k);
            let limit = if k + 1 == self.live {
                self.sector_size
            } else {
                self.limit_of(k)?
            };
            let mut pos = self.data_start;
            while pos + field::BODY as u32 <= limit {
                self.read(s, pos, field::BODY).map_err(Error::Storage)?;
                let Ok(len) = frame_len_field(&self.buf[..field::BODY]) else {
                    break;
                };
                if self.buf[field::KIND] == Kind::Retire as u8
                    && self
                        .frame_at(s, pos, limit, true)
                        .map_err(Error::Storage)?
                        .is_ok()
                {
                    if let Ok(r) = Record::rechecked_without_crc(&self.buf[..len], self.cfg.width) {
                        // Garbage collection retires the oldest sector
                        // from a newer one, so a retire record names an
                        // older segment than the sector it is in. One that
                        // names its own sector or a later one (damage that
                        // kept a valid CRC, or a foreign image) retires
                        // nothing: counted, it would drop live sectors only
                        // once the ring has grown past it, and a remount
                        // would lose acknowledged batches.
                        match r.body() {
                            Body::Retire { segment } if segment < holder => {
                                retired = Some(retired.map_or(segment, |m| m.max(segment)));
                            }
                            _ => {}
                        }
                    }
                }
                pos += padded_len(len, F::WRITE_SIZE) as u32;
            }
        }
        Ok(retired)
    }

    /// Replays the live sectors, oldest first, into `target`.
    fn replay_live<A: Apply>(
        &mut self,
        target: &mut A,
    ) -> Result<Replayed, Error<F::Error, A::Error>> {
        let mut batcher = Batcher::default();
        let mut damage = Damage::default();
        let mut fp = [0u64; 256];
        let mut head_end = SectorEnd::Clean(self.data_start);
        for k in 0..self.live {
            let s = self.phys(k);
            let is_head = k + 1 == self.live;
            let (limit, closed) = if is_head {
                (self.sector_size, false)
            } else {
                (self.limit_of(k).map_err(Error::widen)?, true)
            };
            let mut scan = SectorScan::new(s, self.data_start, limit, closed);
            while let Some(event) = self.scan_next(&mut scan).map_err(Error::Storage)? {
                match event {
                    ScanEvent::Corrupted {
                        off,
                        skipped,
                        error,
                    } => {
                        if self.cfg.policy == Policy::Strict {
                            return Err(Error::Corrupted {
                                offset: self.abs(s, off),
                                skipped,
                                error,
                            });
                        }
                        batcher.damage();
                        damage.regions += 1;
                        damage.bytes += skipped as u64;
                        damage
                            .first
                            .get_or_insert((self.abs(s, off) as usize, skipped as usize));
                    }
                    ScanEvent::Record { off, len } => {
                        let at = self.abs(s, off);
                        let Ok(record) =
                            Record::rechecked_without_crc(&self.buf[..len], self.cfg.width)
                        else {
                            continue;
                        };
                        let seq = record.seq();
                        match batcher.record(at as usize, &record) {
                            Step::Wait => {}
                            Step::Standalone => {
                                apply_one(target, &record, &mut fp).map_err(|error| {
                                    Error::Apply {
                                        offset: at,
                                        seq,
                                        error,
                                    }
                                })?;
                                if record.kind() != Kind::Retire {
                                    batcher.counts.copies += 1;
                                }
                            }
                            Step::Batch { start, count } => {
                                let rel = (start as u32).wrapping_sub(self.abs(s, 0));
                                if rel >= limit {
                                    // A batch never spans sectors.
                                    return Err(Error::BrokenBatch { offset: at, seq });
                                }
                                self.apply_batch(s, rel, limit, count, seq, target, &mut fp)?;
                                batcher.counts.batches += 1;
                                batcher.counts.mutations += count as u64;
                            }
                            Step::Broken { .. } => {
                                if self.cfg.policy == Policy::Strict {
                                    return Err(Error::BrokenBatch { offset: at, seq });
                                }
                                damage.broken_batches += 1;
                            }
                            Step::OutOfOrder { previous } => {
                                if self.cfg.policy == Policy::Strict {
                                    return Err(Error::OutOfOrder {
                                        offset: at,
                                        seq,
                                        previous,
                                    });
                                }
                                damage.out_of_order += 1;
                            }
                        }
                    }
                }
            }
            if is_head {
                head_end = scan.end.unwrap_or(SectorEnd::Clean(scan.pos));
            }
        }
        batcher.finish();
        damage.broken_batches += batcher.broken_batches;
        Ok((batcher.counts, damage, head_end))
    }

    /// Re-reads the `count` records of batch `seq` from `start` in sector
    /// `s` (already checked, so without the CRC) and applies them.
    #[allow(clippy::too_many_arguments)]
    fn apply_batch<A: Apply>(
        &mut self,
        s: u32,
        start: u32,
        limit: u32,
        count: u32,
        seq: u64,
        target: &mut A,
        fp: &mut [u64; 256],
    ) -> Result<(), Error<F::Error, A::Error>> {
        let mut pos = start;
        let mut left = count;
        while left > 0 {
            let len = self
                .frame_at(s, pos, limit, false)
                .map_err(Error::Storage)?
                .map_err(Error::Format)?;
            let at = self.abs(s, pos);
            let record = Record::rechecked_without_crc(&self.buf[..len], self.cfg.width)
                .map_err(Error::Format)?;
            if record.in_batch() && record.seq() == seq {
                if let Some(m) = record.mutation(fp) {
                    target.apply(&m, seq).map_err(|error| Error::Apply {
                        offset: at,
                        seq,
                        error,
                    })?;
                }
                left -= 1;
            }
            pos += padded_len(len, F::WRITE_SIZE) as u32;
        }
        Ok(())
    }
}

impl Recovery {
    fn empty(valid: u32) -> Recovery {
        Recovery {
            live_sectors: 0,
            head_end: None,
            counts: Counts::default(),
            damage: Damage::default(),
            stale_sectors: valid,
            next_seq: 1,
        }
    }
}
