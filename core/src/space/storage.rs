//! Where a space keeps its rows: storage lent by the caller, or (with the
//! `alloc` feature) storage that grows.
//!
//! A space needs three kinds of memory, all sized by whoever owns it:
//!
//! - the **arena**: fingerprints, `width.words()` words per row, rows packed
//!   one after another so a search reads one contiguous slice;
//! - the **row metadata**: one [`RowMeta`] per row (address, label, parent,
//!   expiry, version), in the same row order as the arena;
//! - the **slot pages**: one [`SlotPage`] per address prefix in use, mapping
//!   each of its 256 slots to a row.
//!
//! A storage may also keep each row's address apart from its metadata, 2
//! bytes a row ([`Storage::row_addrs`]): the growable storage does, so a
//! search names the rows that pass its screen from 128 KiB that stay in
//! cache instead of from 64-byte metadata rows spread over 4 MiB.
//!
//! Capacity in rows is `min(arena.len() / width.words(), meta.len())`, and
//! the number of distinct prefixes that can hold entries at once is
//! `min(pages.len(), 256)`.

use crate::addr::Addr;
use crate::mutation::LABEL_MAX;

/// How many slots (and so addresses) one prefix has.
pub const SLOTS_PER_PAGE: usize = 256;
/// How many prefixes there are, and so the most pages a space can use.
pub const PAGES_MAX: usize = 256;
/// How many rows a space can ever hold: one per address.
pub const ROWS_MAX: usize = 65_536;

/// The slot table of one prefix: for each of its 256 slots, the row that
/// may hold it.
///
/// The contents need no initialisation: a slot counts as filled only when
/// its row is in use *and* that row's metadata names the same address (see
/// the `space` module docs), so stale or garbage values are harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotPage(pub(crate) [u16; SLOTS_PER_PAGE]);

impl SlotPage {
    /// A page of zeros, for static initialisers.
    pub const EMPTY: SlotPage = SlotPage([0; SLOTS_PER_PAGE]);
}

impl Default for SlotPage {
    fn default() -> Self {
        SlotPage::EMPTY
    }
}

/// The metadata of one row: everything about an entry except its
/// fingerprint. Only the space writes it; callers lend memory for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowMeta {
    pub(crate) addr: Addr,
    pub(crate) label_len: u8,
    pub(crate) label: [u8; LABEL_MAX],
    pub(crate) parent: Option<Addr>,
    pub(crate) expires_at: Option<u64>,
    pub(crate) version: u64,
}

impl RowMeta {
    /// An unused row, for static initialisers.
    pub const EMPTY: RowMeta = RowMeta {
        addr: Addr(0),
        label_len: 0,
        label: [0; LABEL_MAX],
        parent: None,
        expires_at: None,
        version: 0,
    };

    /// A fresh row for `addr`: no label, no parent, no expiry.
    pub(crate) const fn fresh(addr: Addr, version: u64) -> RowMeta {
        RowMeta {
            addr,
            version,
            ..RowMeta::EMPTY
        }
    }

    /// The address of the entry in this row.
    #[inline]
    pub(crate) const fn addr(&self) -> Addr {
        self.addr
    }

    /// Whether the entry in this row is visible at tick `now`.
    #[inline]
    pub(crate) const fn is_live(&self, now: u64) -> bool {
        super::entry::is_live(self.expires_at, now)
    }

    /// The label bytes (checked UTF-8 when they were stored).
    pub(crate) fn label_bytes(&self) -> &[u8] {
        &self.label[..self.label_len as usize]
    }
}

impl Default for RowMeta {
    fn default() -> Self {
        RowMeta::EMPTY
    }
}

/// The memory a space lives in.
///
/// The space only ever uses the first `capacity` rows of the arena and the
/// metadata; it calls [`Storage::reserve`] before it needs more, and a
/// storage that cannot grow simply leaves its slices as they are (the space
/// then answers `Full`).
pub trait Storage {
    /// The arena, the row metadata and the slot pages, read-only.
    fn parts(&self) -> (&[u64], &[RowMeta], &[SlotPage]);
    /// The arena, the row metadata and the slot pages, writable.
    fn parts_mut(&mut self) -> (&mut [u64], &mut [RowMeta], &mut [SlotPage]);
    /// Each row's address (the same as its metadata's), if this storage
    /// keeps them apart; the space keeps them in step. At 65,536 rows this
    /// is 128 KiB against 4 MiB of metadata, and a search reads it for
    /// every row that passes its screen: at 1,024 bits the row walks of a
    /// top-10 went from about 13 to 10 µs per pass (six alternating runs,
    /// docs/BENCHMARKS.md). Lent storage does not keep them, which spares
    /// a small device 2 bytes a row; its searches read the metadata.
    fn row_addrs(&self) -> Option<&[Addr]> {
        None
    }
    /// The same, writable.
    fn row_addrs_mut(&mut self) -> Option<&mut [Addr]> {
        None
    }
    /// Tries to make room for `rows` rows of `row_words` words and for
    /// `pages` slot pages. Storage that cannot grow does nothing.
    fn reserve(&mut self, rows: usize, row_words: usize, pages: usize);
    /// The most rows of `row_words` words and the most pages this storage
    /// can ever hold, counting growth (so a space can refuse a change
    /// before making it).
    fn limits(&self, row_words: usize) -> (usize, usize) {
        let (arena, meta, pages) = self.parts();
        (rows_in(arena, meta, row_words), pages.len().min(PAGES_MAX))
    }
}

/// Rows usable in these slices: whole arena rows with metadata, at most
/// one per address.
pub(crate) fn rows_in(arena: &[u64], meta: &[RowMeta], row_words: usize) -> usize {
    (arena.len() / row_words.max(1))
        .min(meta.len())
        .min(ROWS_MAX)
}

/// Storage lent by the caller: three slices that never grow.
///
/// ```
/// use bindspace_core::space::{Lent, RowMeta, SlotPage, Space};
/// use bindspace_core::Width;
/// // Room for 64 entries of 1,024 bits spread over at most 2 prefixes.
/// let width = Width::from_bits(1024).unwrap();
/// let mut arena = [0u64; 64 * 16];
/// let mut meta = [RowMeta::EMPTY; 64];
/// let mut pages = [SlotPage::EMPTY; 2];
/// let space = Space::new(width, Lent::new(&mut arena, &mut meta, &mut pages));
/// assert_eq!(space.capacity(), 64);
/// ```
#[derive(Debug)]
pub struct Lent<'a> {
    arena: &'a mut [u64],
    meta: &'a mut [RowMeta],
    pages: &'a mut [SlotPage],
}

impl<'a> Lent<'a> {
    /// Wraps the three slices. Their sizes set the capacity (see the
    /// module docs); nothing is checked here because any sizes are usable.
    pub fn new(arena: &'a mut [u64], meta: &'a mut [RowMeta], pages: &'a mut [SlotPage]) -> Self {
        Lent { arena, meta, pages }
    }
}

impl Storage for Lent<'_> {
    fn parts(&self) -> (&[u64], &[RowMeta], &[SlotPage]) {
        (self.arena, self.meta, self.pages)
    }

    fn parts_mut(&mut self) -> (&mut [u64], &mut [RowMeta], &mut [SlotPage]) {
        (self.arena, self.meta, self.pages)
    }

    fn reserve(&mut self, _rows: usize, _row_words: usize, _pages: usize) {}
}

// Test builds always include the growable storage, so the space's tests
// run the same with and without the `alloc` feature.
#[cfg(any(feature = "alloc", test))]
pub use growable::Growable;

#[cfg(any(feature = "alloc", test))]
mod growable {
    extern crate alloc;

    use super::{Addr, RowMeta, SlotPage, Storage, PAGES_MAX, ROWS_MAX};
    use alloc::vec::Vec;

    /// Storage that grows on demand (doubling), up to all 65,536 addresses
    /// or to a smaller row cap chosen at creation (a front end that must
    /// not grow without bound, such as the wasm binding, answers `Full`
    /// past it).
    #[derive(Clone, Debug)]
    pub struct Growable {
        arena: Vec<u64>,
        meta: Vec<RowMeta>,
        /// Each row's address, as [`Storage::row_addrs`] describes.
        addrs: Vec<Addr>,
        pages: Vec<SlotPage>,
        max_rows: usize,
    }

    impl Default for Growable {
        fn default() -> Self {
            Growable::with_max_rows(ROWS_MAX)
        }
    }

    impl Growable {
        /// Empty storage; it grows as entries arrive.
        pub fn new() -> Self {
            Growable::default()
        }

        /// Empty storage that will hold at most `max_rows` rows (at most
        /// 65,536).
        pub fn with_max_rows(max_rows: usize) -> Self {
            Growable {
                arena: Vec::new(),
                meta: Vec::new(),
                addrs: Vec::new(),
                pages: Vec::new(),
                max_rows: max_rows.min(ROWS_MAX),
            }
        }

        /// Storage with room for `rows` rows of `row_words` words already made.
        pub fn with_capacity(rows: usize, row_words: usize) -> Self {
            let mut g = Growable::new();
            g.reserve(rows, row_words, 0);
            g
        }

        /// The most rows this storage will ever hold.
        pub const fn max_rows(&self) -> usize {
            self.max_rows
        }
    }

    impl Storage for Growable {
        fn parts(&self) -> (&[u64], &[RowMeta], &[SlotPage]) {
            (&self.arena, &self.meta, &self.pages)
        }

        fn parts_mut(&mut self) -> (&mut [u64], &mut [RowMeta], &mut [SlotPage]) {
            (&mut self.arena, &mut self.meta, &mut self.pages)
        }

        fn row_addrs(&self) -> Option<&[Addr]> {
            Some(&self.addrs)
        }

        fn row_addrs_mut(&mut self) -> Option<&mut [Addr]> {
            Some(&mut self.addrs)
        }

        fn reserve(&mut self, rows: usize, row_words: usize, pages: usize) {
            let rows = rows.min(self.max_rows);
            if self.meta.len() < rows {
                // Doubling keeps the cost of growth linear overall.
                let target = rows.max(self.meta.len() * 2).max(16).min(self.max_rows);
                self.meta.resize(target, RowMeta::EMPTY);
                self.addrs.resize(target, Addr(0));
            }
            let words = self.meta.len() * row_words;
            if self.arena.len() < words {
                self.arena.resize(words, 0);
            }
            let pages = pages.min(PAGES_MAX);
            if self.pages.len() < pages {
                let target = pages.max(self.pages.len() * 2).clamp(1, PAGES_MAX);
                self.pages.resize(target, SlotPage::EMPTY);
            }
        }

        fn limits(&self, _row_words: usize) -> (usize, usize) {
            (self.max_rows, PAGES_MAX)
        }
    }
}
