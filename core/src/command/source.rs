//! What the executor reads: the [`Source`] trait, implemented here for
//! [`Space`] and by front ends whose state is shaped differently (the host
//! keeps a space per prefix, shared with readers).

use crate::addr::Addr;
use crate::mutation::Mutation;
use crate::search::{Hit, SearchError, SearchOptions};
use crate::space::{Entry, Filter, Space, SpaceError, Storage};
use crate::width::Width;

/// Read access to a space, as commands need it. Every method only reads;
/// the executor never changes a source (it returns mutations instead).
///
/// "Stored" entries include expired ones that nobody has purged yet; the
/// executor applies the clock itself where a command needs it.
pub trait Source {
    /// The width of every fingerprint.
    fn width(&self) -> Width;

    /// The most rows the storage can hold (for INFO).
    fn capacity(&self) -> usize;

    /// Stored entries, expired or not (for INFO).
    fn stored(&self) -> usize;

    /// The stored entry at `addr`, expired or not.
    fn entry(&self, addr: Addr) -> Option<Entry<'_>>;

    /// Entries visible at tick `now` whose address passes `filter`.
    fn count_live(&self, filter: Filter, now: u64) -> usize;

    /// Stored entries whose address passes `filter`, from `start` on, in
    /// address order.
    fn entries_from(&self, filter: Filter, start: Addr) -> impl Iterator<Item = Entry<'_>>;

    /// The stored entries whose parent is `parent`, in address order.
    fn children(&self, parent: Addr) -> impl Iterator<Item = Entry<'_>> {
        self.entries_from(Filter::All, Addr(0))
            .filter(move |e| e.parent == Some(parent))
    }

    /// The `out.len()` nearest entries to `query` under `opts`, best first
    /// (ties by address); returns how many were written. Must be exact:
    /// the executor merges these hits with a transaction's pending changes.
    fn nearest(
        &self,
        query: &[u64],
        opts: &SearchOptions,
        out: &mut [Hit],
    ) -> Result<usize, SearchError>;

    /// Whether `batch`, applied in order, would be accepted whole.
    fn check_batch(&self, batch: &[Mutation<'_>]) -> Result<(), SpaceError>;
}

impl<S: Storage> Source for Space<S> {
    fn width(&self) -> Width {
        Space::width(self)
    }

    fn capacity(&self) -> usize {
        // What INFO reports as the storage's capacity: the most it can
        // hold, not the rows a growable storage has allocated so far.
        Space::max_rows(self)
    }

    fn stored(&self) -> usize {
        self.len()
    }

    fn entry(&self, addr: Addr) -> Option<Entry<'_>> {
        self.get(addr)
    }

    fn count_live(&self, filter: Filter, now: u64) -> usize {
        Space::count_live(self, filter, now)
    }

    fn entries_from(&self, filter: Filter, start: Addr) -> impl Iterator<Item = Entry<'_>> {
        self.iter_from(filter, start)
    }

    fn children(&self, parent: Addr) -> impl Iterator<Item = Entry<'_>> {
        self.dn_children(parent)
    }

    fn nearest(
        &self,
        query: &[u64],
        opts: &SearchOptions,
        out: &mut [Hit],
    ) -> Result<usize, SearchError> {
        Space::nearest(self, query, opts, out)
    }

    fn check_batch(&self, batch: &[Mutation<'_>]) -> Result<(), SpaceError> {
        Space::check_batch(self, batch)
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::Source;
    use crate::space::GrowableSpace;
    use crate::Width;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// INFO's capacity is what the storage can hold, not what a growable
    /// storage has allocated so far (an empty one read "capacity:0").
    #[test]
    fn a_growable_space_reports_what_it_can_hold() {
        let space = GrowableSpace::growable(Width::from_bits(64).unwrap());
        assert_eq!(Source::capacity(&space), space.max_rows());
        assert!(
            Source::capacity(&space) >= 256 * 256,
            "{}",
            space.max_rows()
        );
    }
}
