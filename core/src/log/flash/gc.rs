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

/// What the log says about one address, walking it in order from the
/// oldest sector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct State {
    /// Parts of the entry whose last setter is in the oldest sector.
    needed: u8,
    /// The entry's existence still comes from a set or entry copy in the
    /// oldest sector (nothing since has set, replaced or removed it).
    open: bool,
    /// A later meta or expire relies on that existence: once the oldest
    /// sector is erased it would replay onto a missing entry, so the whole
    /// entry must be copied.
    pinned: bool,
}

impl State {
    /// Whether anything must be copied.
    fn copy_any(&self) -> bool {
        self.pinned || self.needed != 0
    }

    /// The state after a committed record of `kind` for this address;
    /// `own`: the record is in the oldest sector.
    fn after(mut self, kind: Kind, own: bool) -> State {
        let part = match kind {
            Kind::Set => FP,
            Kind::Meta => META,
            Kind::Expire => EXPIRY,
            Kind::Entry | Kind::Delete => ALL,
            Kind::Commit | Kind::Retire => return self,
        };
        match (kind, own) {
            (Kind::Entry, true) => {
                self.needed = ALL;
                self.open = true;
            }
            (Kind::Delete, _) | (Kind::Entry, false) => self = State::default(),
            (Kind::Set, true) => {
                self.needed |= FP;
                self.open = true;
            }
            (_, true) => self.needed |= part,
            (Kind::Set, false) => {
                self.needed &= !FP;
                self.open = false;
            }
            (_, false) => {
                self.pinned |= self.open;
                self.needed &= !part;
            }
        }
        self
    }
}

/// One address of the chunk: its state with every committed record seen so
/// far, and with the batch in progress applied too (kept if it commits).
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    addr: u16,
    committed: State,
    tentative: State,
}

impl<F: NorFlash> FlashLog<'_, F> {
    /// Reclaims the oldest live sector (there must be at least two). First
    /// works out what must be copied; if that would not fit without the
    /// last free sector, returns [`Error::Full`] having written nothing.
    pub(super) fn gc_oldest<L: Live>(&mut self, live: &L) -> Result<(), Error<F::Error>> {
        let mut first = [Slot::default(); CHUNK];
        let (copies, n, more) = self.gc_walk(live, false, &mut first)?;
        if copies + self.enc.retire_len() > self.gc_capacity() {
            return Err(Error::Full);
        }
        if more {
            self.gc_walk(live, true, &mut first)?;
        } else {
            // One chunk held every address: its verdicts still hold (the
            // copies change nothing in the oldest sector).
            for slot in &first[..n] {
                if slot.committed.copy_any() {
                    self.copy_forward(Addr(slot.addr), slot.committed, live, true)?;
                }
            }
        }
        let oldest = self.phys(0);
        let oldest_segment = self.oldest_segment();
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
    /// live; writes the copies when `write`. Returns the copies' bytes, and
    /// leaves the first chunk in `first` with its size and whether more
    /// chunks followed.
    fn gc_walk<L: Live>(
        &mut self,
        live: &L,
        write: bool,
        first: &mut [Slot; CHUNK],
    ) -> Result<(usize, usize, bool), Error<F::Error>> {
        let oldest = self.phys(0);
        let limit = self.limit_of(0)?;
        let mut bytes = 0;
        let mut from: u32 = 0;
        let mut chunks = 0;
        let mut first_n = 0;
        while from <= u16::MAX as u32 {
            let mut slots = [Slot::default(); CHUNK];
            let n = self.collect_addrs(oldest, limit, from, &mut slots)?;
            if n == 0 {
                break;
            }
            self.mark_needed(&mut slots[..n])?;
            for slot in &slots[..n] {
                if slot.committed.copy_any() {
                    bytes += self.copy_forward(Addr(slot.addr), slot.committed, live, write)?;
                }
            }
            if chunks == 0 {
                *first = slots;
                first_n = n;
            }
            chunks += 1;
            from = slots[n - 1].addr as u32 + 1;
            if n < CHUNK {
                break;
            }
        }
        Ok((bytes, first_n, chunks > 1))
    }

    /// Bytes garbage collection may surely write: the head's room, or a
    /// fresh sector when the head is torn (it must be closed anyway, and
    /// may take the last free sector), and all free sectors but one
    /// beyond that; each less the most a sector end can waste (records
    /// never straddle sectors).
    fn gc_capacity(&self) -> usize {
        let largest = padded_len(Self::max_frame(self.cfg.width), F::WRITE_SIZE);
        let fresh = (self.sector_size - self.data_start) as usize;
        let free = self.free_sectors() as usize;
        let (head, spare) = if self.head_writable && self.live > 0 {
            (
                (self.sector_size - self.head_write) as usize,
                free.saturating_sub(1),
            )
        } else if free > 0 {
            (fresh, free.saturating_sub(2))
        } else {
            (0, 0)
        };
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
                // Below the chunk's capacity the slot is added; at it, the
                // largest falls off (`moves::insert`), keeping the smallest.
                Err(i) => {
                    let slot = Slot {
                        addr: a,
                        ..Slot::default()
                    };
                    n = crate::moves::insert(&mut slots[..], n, i, slot);
                }
            }
        }
        Ok(n)
    }

    /// Walks the whole live log once and leaves in each slot the state of
    /// its address after every committed record: which parts of the entry
    /// still come from the oldest sector, and whether a later record needs
    /// the entry to exist.
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
                    if let Ok(i) = find(slots, r.addr()) {
                        slots[i].committed = slots[i].committed.after(r.kind(), own);
                        slots[i].tentative = slots[i].tentative.after(r.kind(), own);
                    }
                    continue;
                }
                if let Body::Commit { count } = r.body() {
                    if pending == Some((seq, count)) {
                        for slot in slots.iter_mut() {
                            slot.committed = slot.tentative;
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
                if let Ok(i) = find(slots, r.addr()) {
                    slots[i].tentative = slots[i].tentative.after(r.kind(), own);
                }
            }
            // A batch never spans sectors: one still open was abandoned.
            reset(slots);
        }
        Ok(())
    }

    /// Writes (when `write`) the live parts of `addr`'s current entry to the
    /// head as standalone copies, and returns their bytes: the whole entry
    /// when its existence is pinned (meta and expire only apply to an
    /// entry that exists, so once the set that created it is erased they
    /// must find it re-created by a whole copy), else a copy of each live
    /// part: fingerprint, meta, expiry. Copies are never larger than what
    /// they replace, but for pinned entries.
    fn copy_forward<L: Live>(
        &mut self,
        addr: Addr,
        state: State,
        live: &L,
        write: bool,
    ) -> Result<usize, Error<F::Error>> {
        let Some(e) = live.entry(addr) else {
            return Ok(0);
        };
        let enc = self.enc;
        let needed = state.needed;
        if state.pinned {
            let len = enc.entry_len(e.label.len());
            if write {
                self.gc_room(len)?;
                let n = enc.entry(&e, self.buf).map_err(Error::Encode)?;
                self.write_copy(n)?;
            }
            return Ok(len);
        }
        let mut bytes = 0;
        if needed & FP != 0 {
            let m = Mutation::Set { addr, fp: e.fp };
            bytes += self.copy_part(&m, e.version, write)?;
        }
        if needed & META != 0 {
            let m = Mutation::Meta {
                addr,
                label: e.label.as_bytes(),
                parent: e.parent,
            };
            bytes += self.copy_part(&m, e.version, write)?;
        }
        if needed & EXPIRY != 0 {
            let m = Mutation::Expire {
                addr,
                at: e.expires_at,
            };
            bytes += self.copy_part(&m, e.version, write)?;
        }
        Ok(bytes)
    }

    /// Copies one part of a live entry forward as `m` with its `version`
    /// (or, without `write`, only measures it); returns its length.
    fn copy_part(
        &mut self,
        m: &Mutation<'_>,
        version: u64,
        write: bool,
    ) -> Result<usize, Error<F::Error>> {
        let len = self.enc.mutation_len(m);
        if write {
            self.gc_room(len)?;
            let n = self.enc.copy(m, version, self.buf).map_err(Error::Encode)?;
            self.write_copy(n)?;
        }
        Ok(len)
    }

    fn write_copy(&mut self, n: usize) -> Result<(), Error<F::Error>> {
        let s = self.head();
        self.program(s, self.head_write, n)?;
        self.head_write += n as u32;
        self.stats.copied_bytes += n as u64;
        Ok(())
    }

    /// Makes room for a `len`-byte record of garbage collection at the
    /// head: it may open sectors of the reserve but leaves one free for the
    /// close after a torn write, unless the head is torn itself (then the
    /// close is this very open).
    fn gc_room(&mut self, len: usize) -> Result<(), Error<F::Error>> {
        if self.head_writable && self.head_write as usize + len <= self.sector_size as usize {
            return Ok(());
        }
        let keep = if self.head_writable { 1 } else { 0 };
        if self.free_sectors() < keep + 1 {
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
        slot.tentative = slot.committed;
    }
}
