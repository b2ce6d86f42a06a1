//! The two-level slot table: a 256-entry prefix directory, held inline,
//! pointing into caller-lent 256-slot pages.

use super::error::SpaceError;
use super::storage::{RowMeta, SlotPage, PAGES_MAX};
use crate::addr::Addr;

/// `page_of` value of a prefix that has no page.
const NO_PAGE: u16 = u16::MAX;

/// Which page serves each prefix, and how many entries each prefix holds.
///
/// Pages are handed out densely (`0..pages_used`): a prefix gets one when
/// its first entry arrives and gives it back when its last entry leaves,
/// the last page in use moving into the hole. So a device only pays for
/// the prefixes it holds entries in at this moment.
#[derive(Clone, Debug)]
pub(crate) struct Directory {
    /// Prefix -> page index, or [`NO_PAGE`].
    page_of: [u16; PAGES_MAX],
    /// Page index -> the prefix it serves (meaningful below `pages_used`).
    prefix_of: [u8; PAGES_MAX],
    /// Stored entries per prefix (expired or not).
    live: [u16; PAGES_MAX],
    /// Pages in use.
    pages_used: usize,
}

impl Directory {
    pub(crate) const fn new() -> Self {
        Directory {
            page_of: [NO_PAGE; PAGES_MAX],
            prefix_of: [0; PAGES_MAX],
            live: [0; PAGES_MAX],
            pages_used: 0,
        }
    }

    /// The row holding `addr`, if any: two array indexings and one check.
    ///
    /// The page value is trusted only if it points below `rows` (the rows
    /// in use) at a row whose metadata names `addr`. That is what lets
    /// pages start as garbage and lets deletes leave stale values behind.
    #[inline]
    pub(crate) fn row_of(
        &self,
        pages: &[SlotPage],
        meta: &[RowMeta],
        rows: usize,
        addr: Addr,
    ) -> Option<usize> {
        let page = self.page_of[addr.prefix() as usize];
        if page == NO_PAGE {
            return None;
        }
        let row = pages[page as usize].0[addr.slot() as usize] as usize;
        (row < rows && meta[row].addr == addr).then_some(row)
    }

    /// Entries stored under `prefix` (expired or not).
    pub(crate) fn count_in(&self, prefix: u8) -> usize {
        self.live[prefix as usize] as usize
    }

    /// Pages in use.
    pub(crate) fn pages_used(&self) -> usize {
        self.pages_used
    }

    /// Whether a new entry under `prefix` would need a page it lacks.
    pub(crate) fn needs_page(&self, prefix: u8) -> bool {
        self.page_of[prefix as usize] == NO_PAGE
    }

    /// Checks that a new entry under `prefix` can get a page among
    /// `page_capacity`.
    pub(crate) fn check_page(&self, prefix: u8, page_capacity: usize) -> Result<(), SpaceError> {
        if self.needs_page(prefix) && self.pages_used >= page_capacity.min(PAGES_MAX) {
            return Err(SpaceError::PrefixesFull {
                pages: page_capacity.min(PAGES_MAX),
            });
        }
        Ok(())
    }

    /// Records a new entry at `addr` in `row`, taking a page for its prefix
    /// if it has none. The caller has run [`Self::check_page`].
    pub(crate) fn insert(&mut self, pages: &mut [SlotPage], addr: Addr, row: usize) {
        let prefix = addr.prefix() as usize;
        if self.page_of[prefix] == NO_PAGE {
            let page = self.pages_used;
            self.pages_used += 1;
            self.page_of[prefix] = page as u16;
            self.prefix_of[page] = prefix as u8;
        }
        self.live[prefix] += 1;
        self.point(pages, addr, row);
    }

    /// Points the slot of `addr` (whose prefix has a page) at `row`.
    pub(crate) fn point(&self, pages: &mut [SlotPage], addr: Addr, row: usize) {
        let page = self.page_of[addr.prefix() as usize] as usize;
        pages[page].0[addr.slot() as usize] = row as u16;
    }

    /// Records that the entry at `addr` is gone; frees its prefix's page if
    /// that was the prefix's last entry.
    pub(crate) fn remove(&mut self, pages: &mut [SlotPage], addr: Addr) {
        let prefix = addr.prefix() as usize;
        self.live[prefix] -= 1;
        if self.live[prefix] > 0 {
            return;
        }
        let hole = self.page_of[prefix] as usize;
        let last = self.pages_used - 1;
        if hole != last {
            crate::moves::copy_down(pages, last, hole);
            let moved = self.prefix_of[last];
            self.prefix_of[hole] = moved;
            self.page_of[moved as usize] = hole as u16;
        }
        self.page_of[prefix] = NO_PAGE;
        self.pages_used = last;
    }
}
