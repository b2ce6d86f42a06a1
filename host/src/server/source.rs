//! The command executor reads the store's [`View`] through core's
//! [`Source`]: a view is 256 per-prefix shards, so each method walks the
//! shards an address filter can reach.

use crate::store::View;
use bindspace_core::command::Source;
use bindspace_core::mutation::Mutation;
use bindspace_core::search::{Hit, SearchError, SearchOptions};
use bindspace_core::space::{Entry, Filter, GrowableSpace, SpaceError};
use bindspace_core::{Addr, Width};

impl Source for View {
    fn width(&self) -> Width {
        View::width(self)
    }

    fn capacity(&self) -> usize {
        // Shards grow on demand: 256 prefixes of 256 slots each.
        256 * 256
    }

    fn stored(&self) -> usize {
        self.len()
    }

    fn entry(&self, addr: Addr) -> Option<Entry<'_>> {
        self.get(addr)
    }

    fn count_live(&self, filter: Filter, now: u64) -> usize {
        self.shards_in(filter)
            .map(|s| s.count_live(filter, now))
            .sum()
    }

    fn entries_from(&self, filter: Filter, start: Addr) -> impl Iterator<Item = Entry<'_>> {
        // Shards before `start`'s prefix hold only smaller addresses.
        self.shards_in(filter)
            .flat_map(move |s| s.iter_from(filter, start))
    }

    fn nearest(
        &self,
        query: &[u64],
        opts: &SearchOptions,
        out: &mut [Hit],
    ) -> Result<usize, SearchError> {
        let expected = self.width().words();
        if query.len() != expected {
            return Err(SearchError::WidthMismatch {
                expected,
                got: query.len(),
            });
        }
        // Many clients search at once; one thread per search keeps them
        // from fighting over the cores.
        let hits =
            self.search(query, out.len(), opts, 1)
                .map_err(|_| SearchError::WidthMismatch {
                    expected,
                    got: query.len(),
                })?;
        let n = hits.len().min(out.len());
        out[..n].copy_from_slice(&hits[..n]);
        Ok(n)
    }

    fn check_batch(&self, batch: &[Mutation<'_>]) -> Result<(), SpaceError> {
        // Mutations of different prefixes never interact (a growable shard
        // has no capacity limit), so each shard checks its own, in order.
        let mut touched = [false; 256];
        for m in batch {
            touched[m.addr().prefix() as usize] = true;
        }
        let mut subset = Vec::new();
        for prefix in (0..=255u8).filter(|p| touched[*p as usize]) {
            subset.clear();
            subset.extend(batch.iter().filter(|m| m.addr().prefix() == prefix));
            match self.shards_in(Filter::Prefix(prefix)).next() {
                Some(shard) => shard.check_batch(&subset)?,
                None => GrowableSpace::growable(self.width()).check_batch(&subset)?,
            }
        }
        Ok(())
    }
}
