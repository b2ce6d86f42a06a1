//! What readers see: an immutable picture of the space after one commit.
//!
//! The space is split into 256 shards, one per address prefix, each a core
//! [`Space`] of at most 256 entries behind an `Arc`. A [`View`] is a table
//! of those `Arc`s. The writer keeps its own table ([`Working`]); applying
//! a mutation copies only the touched shard if a published view still
//! shares it (`Arc::make_mut`), so publishing a new view costs one table
//! copy plus the shards a commit touched, and a reader's view never
//! changes under it: no locks, no torn states, old shards freed when the
//! last reader lets go.

use bindspace_core::mutation::Mutation;
use bindspace_core::space::{Entry, Filter, GrowableSpace, SpaceError};
use bindspace_core::{Addr, Width};
// The shards' `Arc` is loom's in the model (view/loom_model.rs), so loom
// checks that copy-on-write never touches a shard a view still holds and
// that every old shard is freed once its last view is gone.
use super::sync::{make_mut, Arc};

/// Shards in a view: one per address prefix.
pub(crate) const SHARDS: usize = 256;

type Shard = Option<Arc<GrowableSpace>>;

/// A consistent, immutable picture of the whole space after commit
/// [`View::seq`]. Cheap to clone; holding one never blocks anybody.
#[derive(Clone, Debug)]
pub struct View {
    width: Width,
    seq: u64,
    len: usize,
    // Immutable once built, so plain std `Arc` in every build.
    shards: std::sync::Arc<[Shard]>,
}

impl View {
    /// The sequence number of the last commit this view includes (0 for
    /// an empty store).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The fingerprint width.
    pub fn width(&self) -> Width {
        self.width
    }

    /// Stored entries, expired or not.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry at `addr`, expired or not.
    pub fn get(&self, addr: Addr) -> Option<Entry<'_>> {
        self.shards[addr.prefix() as usize].as_deref()?.get(addr)
    }

    /// The entry at `addr` if it is visible at tick `now`.
    pub fn get_live(&self, addr: Addr, now: u64) -> Option<Entry<'_>> {
        self.get(addr).filter(|e| e.is_live(now))
    }

    /// Entries (expired or not) whose address passes `filter`.
    pub fn count(&self, filter: Filter) -> usize {
        self.shards_in(filter).map(|s| s.count(filter)).sum()
    }

    /// Every entry whose address passes `filter`, in address order.
    pub fn iter(&self, filter: Filter) -> impl Iterator<Item = Entry<'_>> + '_ {
        self.shards_in(filter).flat_map(move |s| s.iter(filter))
    }

    /// The `k` entries nearest to `query` in this view, best first, ties
    /// broken by address, with the run-time-detected kernel, split across
    /// up to `threads` threads.
    pub fn search(
        &self,
        query: &[u64],
        k: usize,
        opts: &bindspace_core::search::SearchOptions,
        threads: usize,
    ) -> Result<Vec<bindspace_core::search::Hit>, super::StoreError> {
        let words = self.width.words();
        if query.len() != words {
            return Err(super::StoreError::QueryWidth {
                expected: words,
                got: query.len(),
            });
        }
        let opts = opts.kernel(crate::kernels::detected());
        Ok(super::search::search(self, query, k, &opts, threads))
    }

    /// The non-empty shards that can hold addresses passing `filter`, in
    /// prefix order.
    pub(crate) fn shards_in(&self, filter: Filter) -> impl Iterator<Item = &GrowableSpace> + '_ {
        let (lo, hi) = filter.prefixes();
        self.shards[lo as usize..=hi as usize]
            .iter()
            .filter_map(|s| s.as_deref())
    }
}

/// The writer's state: the newest picture, including commits not yet
/// durable, which it freezes into [`View`]s.
#[derive(Debug)]
pub(crate) struct Working {
    width: Width,
    seq: u64,
    len: usize,
    shards: Vec<Shard>,
}

impl Working {
    /// An empty space of `width` before any commit.
    pub(crate) fn new(width: Width) -> Working {
        Working {
            width,
            seq: 0,
            len: 0,
            shards: vec![None; SHARDS],
        }
    }

    /// The sequence number of the last commit applied.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Records that everything up to `seq` has been applied.
    pub(crate) fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// Whether `batch`, applied in order, would be accepted whole.
    pub(crate) fn check_batch(&self, batch: &[Mutation<'_>]) -> Result<(), SpaceError> {
        // Mutations of different prefixes never interact (a growable shard
        // has no capacity limit), so each shard checks its own, in order.
        let mut touched = [false; SHARDS];
        for m in batch {
            touched[m.addr().prefix() as usize] = true;
        }
        let mut subset = Vec::new();
        for (prefix, _) in touched.iter().enumerate().filter(|(_, t)| **t) {
            subset.clear();
            subset.extend(
                batch
                    .iter()
                    .filter(|m| m.addr().prefix() as usize == prefix),
            );
            match &self.shards[prefix] {
                Some(shard) => shard.check_batch(&subset)?,
                None => GrowableSpace::growable(self.width).check_batch(&subset)?,
            }
        }
        Ok(())
    }

    /// Applies one mutation as commit `version`, copying its shard first
    /// if a published view shares it.
    pub(crate) fn apply(
        &mut self,
        mutation: &Mutation<'_>,
        version: u64,
    ) -> Result<(), SpaceError> {
        let prefix = mutation.addr().prefix() as usize;
        let width = self.width;
        let slot = &mut self.shards[prefix];
        if slot.is_none() && matches!(mutation, Mutation::Delete { .. }) {
            return Ok(());
        }
        let shard = make_mut(slot.get_or_insert_with(|| Arc::new(GrowableSpace::growable(width))));
        let before = shard.len();
        let result = shard.apply(mutation, version);
        let after = shard.len();
        self.len = self.len + after - before;
        if after == 0 {
            *slot = None;
        }
        result
    }

    /// Stores an entry exactly as a snapshot recorded it.
    pub(crate) fn restore(&mut self, entry: &Entry<'_>) -> Result<(), SpaceError> {
        let prefix = entry.addr.prefix() as usize;
        let width = self.width;
        let slot = &mut self.shards[prefix];
        let shard = make_mut(slot.get_or_insert_with(|| Arc::new(GrowableSpace::growable(width))));
        let before = shard.len();
        let result = shard.restore(entry);
        self.len = self.len + shard.len() - before;
        result
    }

    /// A frozen copy for readers, sharing every shard.
    pub(crate) fn freeze(&self) -> View {
        View {
            width: self.width,
            seq: self.seq,
            len: self.len,
            shards: self.shards.iter().cloned().collect(),
        }
    }
}

#[cfg(all(test, loom))]
mod loom_model;
