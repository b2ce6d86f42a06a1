//! Garbage collection: copy what is still live in the oldest sector to the
//! head, retire the sector, erase it (docs/FORMAT.md, section 6.5).
//!
//! Liveness is decided per address and per part of an entry (fingerprint,
//! label and parent, expiry) by walking the log once per chunk of
//! addresses, with no heap: the chunk is a small fixed array.

use embedded_storage::nor_flash::NorFlash;

use super::scan::{ScanEvent, SectorScan};
use super::{Error, FlashLog};
use crate::addr::Addr;
use crate::log::apply::Live;
use crate::log::padded_len;
use crate::log::record::{Body, Kind, Record};
use crate::log::replay::Policy;
use crate::mutation::Mutation;

/// Addresses whose liveness one walk of the log decides.
const CHUNK: usize = 32;

/// Parts of an entry a record sets.
const FP: u8 = 1;
const META: u8 = 2;
const EXPIRY: u8 = 4;
const ALL: u8 = FP | META | EXPIRY;

/// One address of the chunk: which parts of its current state come from
/// the oldest sector (`needed`), and the same with the batch in progress
/// applied (`tentative`, kept only if the batch commits).
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    addr: u16,
    needed: u8,
    tentative: u8,
}

/// What a record does to the parts of its address.
#[derive(Clone, Copy)]
enum Effect {
    /// Sets these parts (in the oldest sector: they come from here).
    Sets(u8),
    /// Replaces the whole entry (entry copy) or removes it (delete).
    Replaces { exists: bool },
}

fn effect(kind: Kind) -> Option<Effect> {
    Some(match kind {
        Kind::Set => Effect::Sets(FP),
        Kind::Meta => Effect::Sets(META),
        Kind::Expire => Effect::Sets(EXPIRY),
        Kind::Entry => Effect::Replaces { exists: true },
        Kind::Delete => Effect::Replaces { exists: false },
        Kind::Commit | Kind::Retire => return None,
    })
}

/// Applies a record's effect to a parts mask: records of the oldest sector
/// add the parts they set; later records take them away.
fn apply_effect(mask: u8, e: Effect, own: bool) -> u8 {
    match (e, own) {
        (Effect::Sets(p), true) => mask | p,
        (Effect::Sets(p), false) => mask & !p,
        (Effect::Replaces { exists: true }, true) => ALL,
        (Effect::Replaces { .. }, _) => 0,
    }
}

impl<F: NorFlash> FlashLog<'_, F> {
    /// Reclaims the oldest live sector (there must be at least two). First
    /// works out what must be copied; if that would not fit without the
    /// last free sector, returns [`Error::Full`] having written nothing.
    pub(super) fn gc_oldest<L: Live>(&mut self, live: &L) -> Result<(), Error<F::Error>> {
        let planned = self.gc_walk(live, false)? + self.enc.retire_len();
        if planned > self.gc_capacity() {
            return Err(Error::Full);
        }
        self.gc_walk(live, true)?;
        let oldest = self.phys(0);
        let oldest_segment = self.next_segment - self.live as u64;
        let len = self.enc.retire_len();
        self.gc_room(len)?;
        let enc = self.enc;
        let n = enc
            .retire(oldest_segment, 0, self.buf)
            .map_err(Error::Encode)?;
        self.write_copy(n)?;
        self.erase_sector(oldest)?;
        self.oldest = (oldest + 1) % self.cfg.sectors;
        self.live -= 1;
        self.known_erased += 1;
        self.stats.gc_runs += 1;
        Ok(())
    }

    /// Decides, chunk by chunk of addresses, what of the oldest sector is
    /// live; writes the copies when `write`, and returns their bytes.
    fn gc_walk<L: Live>(&mut self, live: &L, write: bool) -> Result<usize, Error<F::Error>> {
        let oldest = self.phys(0);
        let limit = self.limit_of(0)?;
        let mut bytes = 0;
        let mut from: u32 = 0;
        while from <= u16::MAX as u32 {
            let mut slots = [Slot::default(); CHUNK];
            let n = self.collect_addrs(oldest, limit, from, &mut slots)?;
            if n == 0 {
                break;
            }
            self.mark_needed(&mut slots[..n])?;
            for slot in &slots[..n] {
                if slot.needed != 0 {
                    bytes += self.copy_forward(Addr(slot.addr), slot.needed, live, write)?;
                }
            }
            from = slots[n - 1].addr as u32 + 1;
        }
        Ok(bytes)
    }

    /// Bytes garbage collection may surely write without taking the last
    /// free sector: the head's room and all but one free sector, each less
    /// the most a sector end can waste (records never straddle sectors).
    fn gc_capacity(&self) -> usize {
        let largest = padded_len(Self::max_frame(self.cfg.width), F::WRITE_SIZE);
        let head = if self.head_writable && self.live > 0 {
            (self.sector_size - self.head_write) as usize
        } else {
            0
        };
        let fresh = (self.sector_size - self.data_start) as usize;
        let spare = self.free_sectors().saturating_sub(1) as usize;
        head.saturating_sub(largest) + spare * fresh.saturating_sub(largest)
    }

    /// The (up to) `CHUNK` smallest addresses `>= from` that records of the
    /// oldest sector set, sorted, into `slots`; returns how many.
    fn collect_addrs(
        &mut self,
        s: u32,
        limit: u32,
        from: u32,
        slots: &mut [Slot; CHUNK],
    ) -> Result<usize, Error<F::Error>> {
        let mut n = 0;
        let mut scan = SectorScan::new(s, self.data_start, limit, true);
        while let Some(event) = self.scan_next(&mut scan).map_err(Error::Storage)? {
            let len = match event {
                ScanEvent::Record { len, .. } => len,
                ScanEvent::Corrupted {
                    off,
                    skipped,
                    error,
                } => {
                    self.damage_in_gc(s, off, skipped, error)?;
                    continue;
                }
            };
            let Ok(r) = Record::rechecked_without_crc(&self.buf[..len], self.cfg.width) else {
                continue;
            };
            if !matches!(
                r.kind(),
                Kind::Set | Kind::Meta | Kind::Expire | Kind::Entry
            ) {
                continue;
            }
            let a = r.addr().0;
            if (a as u32) < from {
                continue;
            }
            match slots[..n].binary_search_by_key(&a, |s| s.addr) {
                Ok(_) => {}
                Err(i) if n < CHUNK => {
                    slots.copy_within(i..n, i + 1);
                    slots[i] = Slot {
                        addr: a,
                        ..Slot::default()
                    };
                    n += 1;
                }
                Err(i) if i < CHUNK => {
                    // Keep the smallest: drop the largest.
                    slots.copy_within(i..CHUNK - 1, i + 1);
                    slots[i] = Slot {
                        addr: a,
                        ..Slot::default()
                    };
                }
                Err(_) => {}
            }
        }
        Ok(n)
    }

    /// Walks the whole live log once and leaves in each slot's `needed` the
    /// parts of its entry whose last committed setter is in the oldest
    /// sector.
    fn mark_needed(&mut self, slots: &mut [Slot]) -> Result<(), Error<F::Error>> {
        for k in 0..self.live {
            let s = self.phys(k);
            let own = k == 0;
            let limit = self.limit_of(k)?;
            let mut scan = SectorScan::new(s, self.data_start, limit, true);
            // The batch in progress: its number and records so far.
            let mut pending: Option<(u64, u32)> = None;
            while let Some(event) = self.scan_next(&mut scan).map_err(Error::Storage)? {
                let len = match event {
                    ScanEvent::Record { len, .. } => len,
                    ScanEvent::Corrupted {
                        off,
                        skipped,
                        error,
                    } => {
                        self.damage_in_gc(s, off, skipped, error)?;
                        pending = None;
                        reset(slots);
                        continue;
                    }
                };
                let Ok(r) = Record::rechecked_without_crc(&self.buf[..len], self.cfg.width) else {
                    continue;
                };
                let seq = r.seq();
                if r.is_standalone() {
                    if let (Some(e), Ok(i)) = (effect(r.kind()), find(slots, r.addr())) {
                        slots[i].needed = apply_effect(slots[i].needed, e, own);
                        slots[i].tentative = apply_effect(slots[i].tentative, e, own);
                    }
                    continue;
                }
                if let Body::Commit { count } = r.body() {
                    if pending == Some((seq, count)) {
                        for slot in slots.iter_mut() {
                            slot.needed = slot.tentative;
                        }
                    } else {
                        reset(slots);
                    }
                    pending = None;
                    continue;
                }
                match &mut pending {
                    Some((p, c)) if *p == seq => *c += 1,
                    other => {
                        reset(slots);
                        *other = Some((seq, 1));
                    }
                }
                if let (Some(e), Ok(i)) = (effect(r.kind()), find(slots, r.addr())) {
                    slots[i].tentative = apply_effect(slots[i].tentative, e, own);
                }
            }
            // A batch never spans sectors: one still open was abandoned.
            reset(slots);
        }
        Ok(())
    }

    /// Writes (when `write`) the live parts of `addr`'s current entry to the
    /// head as standalone copies, and returns their bytes: the whole entry
    /// if its fingerprint is live (a later meta or expire replays before
    /// the copy and needs the entry to exist), else its meta and/or expiry.
    fn copy_forward<L: Live>(
        &mut self,
        addr: Addr,
        needed: u8,
        live: &L,
        write: bool,
    ) -> Result<usize, Error<F::Error>> {
        let Some(e) = live.entry(addr) else {
            return Ok(0);
        };
        let enc = self.enc;
        if needed & FP != 0 {
            let len = enc.entry_len(e.label.len());
            if write {
                self.gc_room(len)?;
                let n = enc.entry(&e, self.buf).map_err(Error::Encode)?;
                self.write_copy(n)?;
            }
            return Ok(len);
        }
        let mut bytes = 0;
        if needed & META != 0 {
            let m = Mutation::Meta {
                addr,
                label: e.label.as_bytes(),
                parent: e.parent,
            };
            bytes += enc.mutation_len(&m);
            if write {
                self.gc_room(enc.mutation_len(&m))?;
                let n = enc.copy(&m, e.version, self.buf).map_err(Error::Encode)?;
                self.write_copy(n)?;
            }
        }
        if needed & EXPIRY != 0 {
            let m = Mutation::Expire {
                addr,
                at: e.expires_at,
            };
            bytes += enc.mutation_len(&m);
            if write {
                self.gc_room(enc.mutation_len(&m))?;
                let n = enc.copy(&m, e.version, self.buf).map_err(Error::Encode)?;
                self.write_copy(n)?;
            }
        }
        Ok(bytes)
    }

    fn write_copy(&mut self, n: usize) -> Result<(), Error<F::Error>> {
        let s = self.head();
        self.program(s, self.head_write, n)?;
        self.head_write += n as u32;
        self.stats.copied_bytes += n as u64;
        Ok(())
    }

    /// Makes room for a `len`-byte record of garbage collection at the
    /// head: it may open a sector of the reserve, but always leaves one
    /// free, for the close after a torn write.
    fn gc_room(&mut self, len: usize) -> Result<(), Error<F::Error>> {
        if self.head_writable && self.head_write as usize + len <= self.sector_size as usize {
            return Ok(());
        }
        if self.free_sectors() < 2 {
            return Err(Error::Full);
        }
        self.open_next()
    }

    /// Damage met while collecting: an error unless the log was mounted
    /// with repair (which reported it then).
    fn damage_in_gc(
        &self,
        s: u32,
        off: u32,
        skipped: u32,
        error: crate::log::FormatError,
    ) -> Result<(), Error<F::Error>> {
        if self.cfg.policy == Policy::Repair {
            return Ok(());
        }
        Err(Error::Corrupted {
            offset: self.abs(s, off),
            skipped,
            error,
        })
    }
}

fn find(slots: &[Slot], addr: Addr) -> Result<usize, usize> {
    slots.binary_search_by_key(&addr.0, |s| s.addr)
}

/// Forgets the batch in progress.
fn reset(slots: &mut [Slot]) {
    for slot in slots {
        slot.tentative = slot.needed;
    }
}
