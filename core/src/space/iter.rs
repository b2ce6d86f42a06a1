//! Walking a space in address order.

use super::entry::{Entry, Filter};
use super::storage::Storage;
use super::Space;
use crate::addr::Addr;

/// Stored entries (expired or not) passing a filter, in address order;
/// made by [`Space::iter`] and [`Space::iter_from`].
///
/// It walks the prefix directory, skipping prefixes with no entries, so a
/// sparse space is walked in few steps. Address order (not row order) is
/// what makes a scan cursor stable while rows move.
#[derive(Debug)]
pub struct Iter<'s, S> {
    space: &'s Space<S>,
    filter: Filter,
    /// The next address to look at, as a `u32` so it can run past 0xFFFF.
    next: u32,
    /// One past the last address the filter can match.
    end: u32,
}

impl<'s, S: Storage> Iter<'s, S> {
    pub(super) fn new(space: &'s Space<S>, filter: Filter, start: Addr) -> Self {
        let (lo, hi) = filter.prefixes();
        let first = u32::from(lo) << 8;
        Iter {
            space,
            filter,
            next: first.max(u32::from(start.0)),
            end: (u32::from(hi) + 1) << 8,
        }
    }
}

impl<'s, S: Storage> Iterator for Iter<'s, S> {
    type Item = Entry<'s>;

    fn next(&mut self) -> Option<Entry<'s>> {
        while self.next < self.end {
            let addr = Addr(self.next as u16);
            if self.space.directory.count_in(addr.prefix()) == 0 {
                // Nothing under this prefix: jump to the next one.
                self.next = (self.next | 0xFF) + 1;
                continue;
            }
            self.next += 1;
            if !self.filter.matches(addr) {
                continue;
            }
            if let Some(entry) = self.space.get(addr) {
                return Some(entry);
            }
        }
        None
    }
}
