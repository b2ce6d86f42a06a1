//! Checking a batch of mutations as a whole, changing nothing.
//!
//! Each mutation is judged against the space as the earlier mutations of
//! the batch would leave it: whether its address holds an entry by then,
//! and how many rows and pages are in use. The counts are a few integers
//! and a 256-entry array; whether an address holds an entry is found one
//! of two ways:
//!
//! - short batches (up to [`LOOKBACK_MAX`] mutations) look back through
//!   the batch for the last earlier mutation at the same address: no
//!   memory, `O(n^2)` comparisons, which is nothing for a transaction;
//! - longer batches (a bulk import) keep two bitmaps of the 65,536
//!   addresses (touched by the batch so far, and holding an entry after it)
//!   in 16 KiB of stack, in a function of their own so short batches never
//!   pay for that frame: `O(n)`.

use super::error::SpaceError;
use super::storage::{Storage, PAGES_MAX};
use super::write::check_shape;
use super::Space;
use crate::addr::Addr;
use crate::mutation::Mutation;

/// The longest batch checked by looking back through it.
pub(crate) const LOOKBACK_MAX: usize = 256;

/// Whether an address holds an entry at some point of the batch.
trait Presence {
    /// Whether `addr` holds an entry before mutation `i`.
    fn existed<S: Storage>(
        &self,
        space: &Space<S>,
        batch: &[Mutation<'_>],
        i: usize,
        addr: Addr,
    ) -> bool;
    /// Records whether `addr` holds an entry after mutation `i`.
    fn record(&mut self, addr: Addr, present: bool);
}

/// Looks back through the batch; remembers nothing.
struct Lookback;

impl Presence for Lookback {
    fn existed<S: Storage>(
        &self,
        space: &Space<S>,
        batch: &[Mutation<'_>],
        i: usize,
        addr: Addr,
    ) -> bool {
        batch[..i]
            .iter()
            .rev()
            .find(|earlier| earlier.addr() == addr)
            .map_or_else(
                || space.exists(addr),
                |earlier| !matches!(earlier, Mutation::Delete { .. }),
            )
    }

    fn record(&mut self, _addr: Addr, _present: bool) {}
}

/// One bit per address for "touched by the batch" and for "holds an entry
/// after the batch so far".
struct Bitmaps {
    touched: [u64; 1024],
    present: [u64; 1024],
}

impl Presence for Bitmaps {
    fn existed<S: Storage>(
        &self,
        space: &Space<S>,
        _batch: &[Mutation<'_>],
        _i: usize,
        addr: Addr,
    ) -> bool {
        let (word, bit) = (addr.0 as usize / 64, addr.0 % 64);
        if self.touched[word] >> bit & 1 == 1 {
            self.present[word] >> bit & 1 == 1
        } else {
            space.exists(addr)
        }
    }

    fn record(&mut self, addr: Addr, present: bool) {
        let (word, bit) = (addr.0 as usize / 64, addr.0 % 64);
        self.touched[word] |= 1 << bit;
        if present {
            self.present[word] |= 1 << bit;
        } else {
            self.present[word] &= !(1 << bit);
        }
    }
}

impl<S: Storage> Space<S> {
    /// Whether every mutation of `batch`, applied in order, would be
    /// accepted, changing nothing. A batch that passes applies whole.
    ///
    /// Linear in the batch's length; batches longer than 256 mutations use
    /// 16 KiB of stack (see the module docs of `space::batch`).
    pub fn check_batch(&self, batch: &[Mutation<'_>]) -> Result<(), SpaceError> {
        if batch.len() <= LOOKBACK_MAX {
            self.check_batch_with(batch, &mut Lookback)
        } else {
            self.check_long_batch(batch)
        }
    }

    /// The bitmap path, in its own frame.
    #[inline(never)]
    pub(crate) fn check_long_batch(&self, batch: &[Mutation<'_>]) -> Result<(), SpaceError> {
        let mut bitmaps = Bitmaps {
            touched: [0; 1024],
            present: [0; 1024],
        };
        self.check_batch_with(batch, &mut bitmaps)
    }

    /// The lookback path, whatever the batch's length (for tests).
    #[cfg(test)]
    pub(crate) fn check_batch_by_lookback(&self, batch: &[Mutation<'_>]) -> Result<(), SpaceError> {
        self.check_batch_with(batch, &mut Lookback)
    }

    fn check_batch_with<P: Presence>(
        &self,
        batch: &[Mutation<'_>],
        presence: &mut P,
    ) -> Result<(), SpaceError> {
        let (max_rows, max_pages) = self.storage.limits(self.width.words());
        // Net change, by this point of the batch, to the rows in use, the
        // pages in use and the entries of each prefix.
        let mut rows_delta: isize = 0;
        let mut pages_delta: isize = 0;
        let mut prefix_delta = [0i32; PAGES_MAX];
        for (i, m) in batch.iter().enumerate() {
            check_shape(self, m)?;
            let addr = m.addr();
            let existed = presence.existed(self, batch, i, addr);
            let prefix = addr.prefix() as usize;
            let before = self.directory.count_in(addr.prefix()) as i32 + prefix_delta[prefix];
            match m {
                Mutation::Set { .. } if !existed => {
                    if self.len as isize + rows_delta + 1 > max_rows as isize {
                        return Err(SpaceError::Full { capacity: max_rows });
                    }
                    if before == 0 {
                        if self.directory.pages_used() as isize + pages_delta + 1
                            > max_pages as isize
                        {
                            return Err(SpaceError::PrefixesFull { pages: max_pages });
                        }
                        pages_delta += 1;
                    }
                    rows_delta += 1;
                    prefix_delta[prefix] += 1;
                }
                Mutation::Delete { .. } if existed => {
                    rows_delta -= 1;
                    prefix_delta[prefix] -= 1;
                    if before == 1 {
                        pages_delta -= 1;
                    }
                }
                Mutation::Expire { .. } | Mutation::Meta { .. } if !existed => {
                    return Err(SpaceError::NotFound { addr });
                }
                _ => {}
            }
            presence.record(addr, !matches!(m, Mutation::Delete { .. }));
        }
        Ok(())
    }
}
