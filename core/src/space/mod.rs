//! The space: 65,536 addresses over storage lent by the caller.
//!
//! # Layout
//!
//! Entries live in **rows**. Row `r` is `width.words()` words of the arena
//! starting at `r * width.words()`, plus `meta[r]` (address, label, parent,
//! expiry, version). Rows in use are always `0..len`, with no holes: a
//! delete moves the last row into the hole and re-points that row's slot.
//! So a search reads one contiguous slice, `arena[..len * words]`, at
//! memory speed, whatever the history of writes.
//!
//! # Address -> row
//!
//! A two-level table: a 256-entry prefix directory held inline in
//! [`Space`] (about 1.3 KiB with its bookkeeping), pointing into 256-slot
//! pages of `u16` row numbers lent by the caller (512 bytes each). Lookup
//! is two array indexings and one compare. A page is taken when a prefix
//! gets its first entry and given back when it loses its last, so a small
//! device holding 64 entries in one or two prefixes lends one or two pages
//! (1 KiB), while a host holding everything lends 256 (128 KiB).
//!
//! Why not a flat 65,536-entry table: 128 KiB is more than many
//! microcontrollers have. Why not a hash map: lookup must be plain array
//! indexing, integer only, with no probing and no worst case.
//!
//! A slot's row number is trusted only if the row is in use and its
//! metadata names the same address (the "sparse set" check). So pages
//! need no clearing, neither when lent nor when a delete leaves a stale
//! number behind, and every address maps to at most one row.
//!
//! # Writes
//!
//! [`Space::apply`] is the way writes land: every front end turns a request
//! into mutations ([`crate::mutation::Mutation`]), has the log make them
//! durable and number them, then applies them here with that number as the
//! entry's version. The log
//! replays through the same function. [`Space::check`] and
//! [`Space::check_batch`] say, without changing anything, whether mutations
//! would apply, so a front end can refuse a bad request (or a whole batch)
//! before logging it. Every refused change leaves the space untouched.
//!
//! # Time
//!
//! Core never reads a clock. An entry may carry an expiry tick; reads that
//! take a `now` (the `*_live` functions, and search) hide entries whose
//! expiry is at or before `now`. Plain reads see every stored entry, which
//! is what snapshots and the log need. [`Space::expired`] lists what a
//! front end should delete (through the log) to purge.
//!
//! # Example
//!
//! ```
//! use bindspace_core::mutation::Mutation;
//! use bindspace_core::space::{Filter, Lent, RowMeta, SlotPage, Space, SpaceError};
//! use bindspace_core::{Addr, Width, Zone};
//!
//! // A microcontroller-sized space: 4 entries of 128 bits, 1 prefix.
//! let width = Width::from_bits(128).unwrap();
//! let (mut arena, mut meta, mut pages) = ([0u64; 4 * 2], [RowMeta::EMPTY; 4], [SlotPage::EMPTY; 1]);
//! let mut space = Space::new(width, Lent::new(&mut arena, &mut meta, &mut pages));
//!
//! let a = Addr::new(0x10, 0x01);
//! // Version 1: the sequence number the log gave this mutation.
//! space.apply(&Mutation::Set { addr: a, fp: &[7, 9] }, 1)?;
//! space.apply(&Mutation::Expire { addr: a, at: Some(100) }, 2)?;
//! assert_eq!(space.get(a).unwrap().fp, &[7, 9]);
//! assert!(space.exists_live(a, 99));
//! assert!(!space.exists_live(a, 100)); // expired at tick 100
//! assert_eq!(space.count(Filter::Zone(Zone::Fluid)), 1);
//!
//! // A second prefix needs a second page: refused, nothing changed.
//! let b = Addr::new(0x11, 0x00);
//! assert_eq!(
//!     space.apply(&Mutation::Set { addr: b, fp: &[1, 1] }, 3),
//!     Err(SpaceError::PrefixesFull { pages: 1 })
//! );
//! # Ok::<(), SpaceError>(())
//! ```

mod batch;
mod directory;
mod entry;
mod error;
mod iter;
mod paths;
mod storage;
mod write;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;

pub use entry::{Entry, Filter};
pub use error::SpaceError;
pub use iter::Iter;
pub(crate) use paths::{check_path, plan, resolve, PathNodes, PathPlanner, ZEROS};
pub use paths::{home as path_home, PathError, PathPlan, PATH_DEPTH_MAX, PATH_PROBE_WINDOW};
#[cfg(any(feature = "alloc", test))]
pub use storage::Growable;
pub use storage::{Lent, RowMeta, SlotPage, Storage, PAGES_MAX, ROWS_MAX, SLOTS_PER_PAGE};

use crate::addr::Addr;
use crate::width::Width;
use directory::Directory;

/// A space of 65,536 addresses holding fingerprints of one width, over
/// storage `S` ([`Lent`] slices, or `Growable` with the `alloc` feature).
#[derive(Clone, Debug)]
pub struct Space<S> {
    storage: S,
    width: Width,
    /// Rows in use: `0..len`.
    len: usize,
    directory: Directory,
    /// Bumped by every change, so a plan made earlier can tell it is stale.
    generation: u64,
}

/// A space over storage lent by the caller.
pub type LentSpace<'a> = Space<Lent<'a>>;
/// A space over storage that grows.
#[cfg(any(feature = "alloc", test))]
pub type GrowableSpace = Space<Growable>;

#[cfg(any(feature = "alloc", test))]
impl Space<Growable> {
    /// An empty space that grows as entries arrive.
    pub fn growable(width: Width) -> Self {
        Space::new(width, Growable::new())
    }
}

impl<S: Storage> Space<S> {
    /// An empty space of `width` over `storage`. Whatever the storage holds
    /// is ignored: the space starts empty.
    pub fn new(width: Width, storage: S) -> Self {
        Space {
            storage,
            width,
            len: 0,
            directory: Directory::new(),
            generation: 0,
        }
    }

    /// The width of every fingerprint in this space.
    pub const fn width(&self) -> Width {
        self.width
    }

    /// Rows the storage holds now (a growable storage may grow past it).
    pub fn capacity(&self) -> usize {
        let (arena, meta, _) = self.storage.parts();
        storage::rows_in(arena, meta, self.width.words())
    }

    /// The most rows this space can ever hold: its capacity for a fixed
    /// storage, what a growable one may grow to.
    pub fn max_rows(&self) -> usize {
        self.storage.limits(self.width.words()).0
    }

    /// Stored entries, expired or not.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stored entries (expired or not) whose address passes `filter`, in
    /// constant time for a prefix and at most 256 steps for a zone.
    pub fn count(&self, filter: Filter) -> usize {
        match filter {
            Filter::All => self.len,
            _ => {
                let (lo, hi) = filter.prefixes();
                (lo..=hi).map(|p| self.directory.count_in(p)).sum()
            }
        }
    }

    /// Entries visible at tick `now` whose address passes `filter` (reads
    /// every row's expiry).
    pub fn count_live(&self, filter: Filter, now: u64) -> usize {
        let (_, meta, _) = self.storage.parts();
        meta[..self.len]
            .iter()
            .filter(|m| filter.matches(m.addr) && entry::is_live(m.expires_at, now))
            .count()
    }

    /// Slot pages in use (one per prefix holding entries).
    pub fn pages_used(&self) -> usize {
        self.directory.pages_used()
    }

    /// A counter bumped by every change to the space.
    pub const fn generation(&self) -> u64 {
        self.generation
    }

    /// The entry at `addr`, expired or not.
    pub fn get(&self, addr: Addr) -> Option<Entry<'_>> {
        self.row_of(addr).map(|row| self.entry_at(row))
    }

    /// The entry at `addr` if it is visible at tick `now`.
    pub fn get_live(&self, addr: Addr, now: u64) -> Option<Entry<'_>> {
        self.get(addr).filter(|e| e.is_live(now))
    }

    /// Whether an entry (expired or not) is stored at `addr`.
    pub fn exists(&self, addr: Addr) -> bool {
        self.row_of(addr).is_some()
    }

    /// Whether an entry visible at tick `now` is stored at `addr`.
    pub fn exists_live(&self, addr: Addr, now: u64) -> bool {
        self.get_live(addr, now).is_some()
    }

    /// Every stored entry whose address passes `filter`, in address order.
    pub fn iter(&self, filter: Filter) -> Iter<'_, S> {
        Iter::new(self, filter, Addr(0))
    }

    /// Like [`Self::iter`], starting at address `start` (a scan cursor).
    pub fn iter_from(&self, filter: Filter, start: Addr) -> Iter<'_, S> {
        Iter::new(self, filter, start)
    }

    /// Addresses of the entries expired at tick `now`, in row order. A
    /// front end purges them by logging a `Delete` for each.
    pub fn expired(&self, now: u64) -> impl Iterator<Item = Addr> + '_ {
        let (_, meta, _) = self.storage.parts();
        meta[..self.len]
            .iter()
            .filter(move |m| !entry::is_live(m.expires_at, now))
            .map(|m| m.addr)
    }

    /// The fingerprints of every stored row, packed in row order: what a
    /// search scans. Row `r` is `arena()[r * w..(r + 1) * w]`.
    pub fn arena(&self) -> &[u64] {
        let (arena, _, _) = self.storage.parts();
        &arena[..self.len * self.width.words()]
    }

    /// The address of row `row` (`row < len()`), to name what the arena
    /// holds.
    pub fn row_addr(&self, row: usize) -> Option<Addr> {
        let (_, meta, _) = self.storage.parts();
        meta[..self.len].get(row).map(|m| m.addr)
    }

    /// The storage, read-only.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Gives the storage back.
    pub fn into_storage(self) -> S {
        self.storage
    }

    /// The rows in use: fingerprints and metadata, in row order.
    pub(crate) fn rows(&self) -> (&[u64], &[RowMeta]) {
        let (arena, meta, _) = self.storage.parts();
        (&arena[..self.len * self.width.words()], &meta[..self.len])
    }

    /// The address of each row in use, if the storage keeps them apart
    /// from the metadata ([`Storage::row_addrs`]).
    pub(crate) fn row_addrs(&self) -> Option<&[Addr]> {
        self.storage.row_addrs().map(|addrs| &addrs[..self.len])
    }

    /// The row holding `addr`.
    #[inline]
    fn row_of(&self, addr: Addr) -> Option<usize> {
        let (_, meta, pages) = self.storage.parts();
        self.directory.row_of(pages, meta, self.len, addr)
    }

    /// The entry in row `row` (`row < len`).
    fn entry_at(&self, row: usize) -> Entry<'_> {
        let (arena, meta, _) = self.storage.parts();
        let w = self.width.words();
        let m = &meta[row];
        Entry {
            addr: m.addr,
            fp: &arena[row * w..(row + 1) * w],
            // Labels are checked UTF-8 when stored; the fallback is unreachable.
            label: core::str::from_utf8(m.label_bytes()).unwrap_or(""),
            parent: m.parent,
            expires_at: m.expires_at,
            version: m.version,
        }
    }
}
