//! The storage a `BindSpace` lives in: like the core's growable storage,
//! but never past the capacity the JavaScript caller asked for, so a full
//! space answers `CapacityError` instead of growing without bound.

use bindspace_core::space::{RowMeta, SlotPage, Storage, PAGES_MAX, ROWS_MAX};

/// Vec-backed storage that grows on demand up to `max_rows` rows.
#[derive(Debug)]
pub struct Capped {
    arena: Vec<u64>,
    meta: Vec<RowMeta>,
    pages: Vec<SlotPage>,
    max_rows: usize,
}

impl Capped {
    /// Empty storage that will hold at most `max_rows` rows (at most 65,536).
    pub fn new(max_rows: usize) -> Self {
        Capped {
            arena: Vec::new(),
            meta: Vec::new(),
            pages: Vec::new(),
            max_rows: max_rows.min(ROWS_MAX),
        }
    }

    /// The most rows this storage will ever hold.
    pub const fn max_rows(&self) -> usize {
        self.max_rows
    }
}

impl Storage for Capped {
    fn parts(&self) -> (&[u64], &[RowMeta], &[SlotPage]) {
        (&self.arena, &self.meta, &self.pages)
    }

    fn parts_mut(&mut self) -> (&mut [u64], &mut [RowMeta], &mut [SlotPage]) {
        (&mut self.arena, &mut self.meta, &mut self.pages)
    }

    fn reserve(&mut self, rows: usize, row_words: usize, pages: usize) {
        let rows = rows.min(self.max_rows);
        if self.meta.len() < rows {
            // Doubling keeps the total cost of growth linear.
            let target = rows.max(self.meta.len() * 2).max(16).min(self.max_rows);
            self.meta.resize(target, RowMeta::EMPTY);
        }
        let words = self.meta.len() * row_words;
        if self.arena.len() < words {
            self.arena.resize(words, 0);
        }
        let pages = pages.min(PAGES_MAX);
        if self.pages.len() < pages {
            let target = pages.max(self.pages.len() * 2).min(PAGES_MAX);
            self.pages.resize(target, SlotPage::EMPTY);
        }
    }

    fn limits(&self, _row_words: usize) -> (usize, usize) {
        (self.max_rows, PAGES_MAX)
    }
}
