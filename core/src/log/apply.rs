//! The two small traits that connect the log to a space: [`Apply`] (replay
//! writes through it) and [`Live`] (flash garbage collection reads the
//! current state through it).

use crate::addr::Addr;
use crate::mutation::Mutation;
use crate::space::{Entry, Space, SpaceError, Storage};

/// Where replay sends what the log holds, in log order.
///
/// The replay contract (docs/FORMAT.md, sections 3.3 and 6.5):
/// - committed batches arrive whole, in order, each mutation with the
///   batch's sequence number as the entry's version;
/// - a GC copy arrives where it was written, with the version the entry
///   had when it was copied (which may be lower than versions already
///   applied); an entry copy replaces the whole entry;
/// - after garbage collection has erased a sector, an `Expire` or `Meta`
///   may arrive for an address whose entry is not (yet) there: the entry
///   is re-established by a later copy, so such a mutation must be
///   ignored, not refused.
pub trait Apply {
    /// Why a mutation could not be applied.
    type Error;

    /// Applies one mutation with `seq` as the entry's version.
    fn apply(&mut self, mutation: &Mutation<'_>, seq: u64) -> Result<(), Self::Error>;

    /// Stores a whole entry exactly as given (replacing any entry there).
    fn restore(&mut self, entry: &Entry<'_>) -> Result<(), Self::Error>;
}

/// The current state, as flash garbage collection needs to read it: the
/// entry at an address, with everything committed so far applied.
pub trait Live {
    /// The entry at `addr` (expired or not), if any.
    fn entry(&self, addr: Addr) -> Option<Entry<'_>>;
}

impl<S: Storage> Apply for Space<S> {
    type Error = SpaceError;

    fn apply(&mut self, mutation: &Mutation<'_>, seq: u64) -> Result<(), SpaceError> {
        match Space::apply(self, mutation, seq) {
            // See the replay contract above: the entry comes back with a
            // later copy.
            Err(SpaceError::NotFound { .. })
                if matches!(mutation, Mutation::Meta { .. } | Mutation::Expire { .. }) =>
            {
                Ok(())
            }
            other => other,
        }
    }

    fn restore(&mut self, entry: &Entry<'_>) -> Result<(), SpaceError> {
        Space::restore(self, entry)
    }
}

impl<S: Storage> Live for Space<S> {
    fn entry(&self, addr: Addr) -> Option<Entry<'_>> {
        self.get(addr)
    }
}
