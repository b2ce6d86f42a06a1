//! What readers see: an immutable picture of the space after one commit.
//!
//! The space is split into 256 shards, one per address prefix, each a core
//! [`Space`] of at most 256 entries behind an `Arc`. A [`View`] is a table
//! of those `Arc`s. The writer keeps its own table ([`Working`]); a
//! mutation never changes a shard a published view still shares, so a
//! reader's view never changes under it: no locks, no torn states, old
//! shards freed when the last reader lets go.
//!
//! Since the newest view shares every shard, nearly every commit finds its
//! shard shared. Copying it whole (up to 256 KiB at 8,192 bits) was half
//! of a commit's CPU time, so the writer keeps two instances of each
//! shard it writes and applies commits to them in turn: the one views
//! share (`live`) and the one before it (`spare`), which no view holds
//! any more once the views older than `live` are gone. A commit brings
//! the spare up to date by copying only the entries changed since it was
//! `live` (usually one), and it becomes `live`. Only when a reader still
//! holds the spare is the shard copied whole, as before. The price is
//! memory: a written shard is kept twice.
//!
//! Bringing a spare up to date need not wait for the next commit to its
//! shard, under the `writer` lock: once a commit is published, the view
//! that replaced the one holding the spare is out, and its committer
//! catches up the spares of the shards it changed itself, with no lock
//! but the shard's own ([`Spares::catch_up`]), while the next committer
//! appends. Each shard's writer side (its [`Slot`]) has a lock of its own
//! for this; it is a leaf: nobody takes another lock while holding one.
//!
//! The table itself is two levels: 16 groups of 16 shards, each group
//! behind an `Arc` too. Freezing a view copies the 16 group pointers, and
//! a commit copies the group it touches (16 shard pointers) if a view
//! shares it. A flat table cost 256 reference-count increments to freeze
//! and as many decrements to drop, per commit (about 2 µs, measured).
use bindspace_core::mutation::Mutation;
use bindspace_core::space::{Entry, Filter, GrowableSpace, SpaceError};
use bindspace_core::{Addr, Width};
// The shards' and groups' `Arc` and the slots' locks are loom's in the
// model (view/loom_model.rs), so loom checks that copy-on-write never
// touches a shard or group a view still holds, that every old one is
// freed once its last view is gone, and that a spare caught up outside
// the writer lock equals its live instance.
use super::sync::{make_mut, Arc, Mutex, MutexGuard, TryLockError};

/// Shards in a view: one per address prefix.
pub(crate) const SHARDS: usize = 256;
/// Shards per group: the unit a commit copies the table in.
const GROUP: usize = 16;
const GROUPS: usize = SHARDS / GROUP;

type Shard = Option<Arc<GrowableSpace>>;
type Group = Arc<[Shard; GROUP]>;

/// The group and the index in it of prefix `prefix`.
fn place(prefix: usize) -> (usize, usize) {
    (prefix / GROUP, prefix % GROUP)
}

/// A spare further behind than this many changed addresses is dropped
/// rather than caught up: copying that many entries one by one would come
/// close to copying the shard, and a shard changed that often without a
/// commit publishing it is being bulk-loaded.
const BEHIND_MAX: usize = 32;

/// A consistent, immutable picture of the whole space after commit
/// [`View::seq`]. Cheap to clone; holding one never blocks anybody.
#[derive(Clone, Debug)]
pub struct View {
    width: Width,
    seq: u64,
    len: usize,
    groups: [Group; GROUPS],
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
        let (g, i) = place(addr.prefix() as usize);
        self.groups[g][i].as_deref()?.get(addr)
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
        (lo as usize..=hi as usize).filter_map(move |p| {
            let (g, i) = place(p);
            self.groups[g][i].as_deref()
        })
    }
}

/// The writer's state: the newest picture, including commits not yet
/// durable, which it freezes into [`View`]s.
#[derive(Debug)]
pub(crate) struct Working {
    width: Width,
    seq: u64,
    len: usize,
    /// The newest state of every shard (`live`); what [`Working::freeze`]
    /// shares.
    groups: [Group; GROUPS],
    /// The writer's own side of each shard, by prefix, shared with the
    /// committers that catch spares up ([`Working::spares`]).
    spares: Arc<Spares>,
}

/// The prefixes a batch changes, each once, in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Touched([u64; SHARDS / 64]);

impl Touched {
    /// The prefixes of `batch`'s addresses.
    pub(crate) fn of(batch: &[Mutation<'_>]) -> Touched {
        let mut touched = Touched::default();
        for m in batch {
            let p = m.addr().prefix() as usize;
            touched.0[p / 64] |= 1 << (p % 64);
        }
        touched
    }

    /// Each prefix, ascending.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(word, &bits)| {
            let mut bits = bits;
            core::iter::from_fn(move || {
                let bit = (bits != 0).then(|| bits.trailing_zeros() as usize)?;
                bits &= bits - 1;
                Some(word * 64 + bit)
            })
        })
    }
}

/// The writer's side of every shard ([`Slot`]), by prefix, each behind a
/// lock of its own.
#[derive(Debug)]
pub(crate) struct Spares {
    slots: Box<[Mutex<Slot>]>,
}

/// The instance of one prefix's shard before its live one, kept to be
/// caught up instead of copied.
#[derive(Debug, Default)]
struct Slot {
    /// An older instance, equal to `live` but for the entries at `behind`.
    spare: Shard,
    /// Addresses changed in `live` since `spare` equalled it (repeats
    /// allowed; at most [`BEHIND_MAX`]).
    behind: Vec<Addr>,
    /// Where the live instance that `behind` counts from is, to recognise
    /// it in a view ([`Spares::catch_up`]). Compared only while both that
    /// view and the working table hold their instance, so two equal
    /// addresses are one instance.
    live: usize,
}

impl Slot {
    /// The live shard `live`, writable: created if absent; if a view
    /// shares it, replaced by the caught-up spare when no view holds that,
    /// else by a copy (the old live instance becoming the spare).
    fn writable<'a>(&mut self, live: &'a mut Shard, width: Width) -> &'a mut GrowableSpace {
        let live = live.get_or_insert_with(|| Arc::new(GrowableSpace::growable(width)));
        if Arc::get_mut(live).is_none() {
            if self.catch_up_spare(live) {
                core::mem::swap(live, self.spare.as_mut().expect("caught up"));
            } else {
                let copy = Arc::new(GrowableSpace::clone(live));
                self.spare = Some(core::mem::replace(live, copy));
            }
            // The spare is the old live instance: equal to the new one
            // until the change about to be made.
            self.behind.clear();
        }
        Arc::get_mut(live).expect("the live shard has one holder now")
    }

    /// Brings the spare up to date with `live`, the instance `behind`
    /// counts from, if nothing else holds the spare. Returns whether the
    /// spare now equals `live`. The writer calls it before changing a
    /// shard, a committer after its commit is published
    /// ([`Spares::catch_up`]).
    fn catch_up_spare(&mut self, live: &GrowableSpace) -> bool {
        let Some(spare) = self.spare.as_mut().and_then(Arc::get_mut) else {
            return false;
        };
        // Catching up is idempotent (each address is set to exactly what
        // `live` holds, or deleted), so a panic halfway leaves a slot the
        // next catch-up repairs.
        let caught_up = catch_up(spare, live, &self.behind).is_ok();
        if !caught_up {
            // Cannot happen (the same entries fit `live`); if it did, the
            // spare is dropped rather than trusted.
            self.spare = None;
        }
        self.behind.clear();
        caught_up
    }

    /// Records that the entry at `addr` changed in the live shard `live`,
    /// or, if that is empty now, drops it (the spare too).
    fn changed(&mut self, live: &mut Shard, addr: Addr) {
        if live.as_deref().is_some_and(GrowableSpace::is_empty) {
            *live = None;
            *self = Slot::default();
            return;
        }
        self.live = live.as_ref().map_or(0, |l| Arc::as_ptr(l) as usize);
        if self.spare.is_some() {
            if self.behind.len() < BEHIND_MAX {
                self.behind.push(addr);
            } else {
                self.spare = None;
                self.behind.clear();
            }
        }
    }
}

/// Makes `spare` equal to `live` at every address of `behind` (the only
/// ones where they differ), entry by entry: fingerprint, label, parent,
/// expiry and version. Rows may end up in another order, which no reader
/// can observe: lookups go by address, iteration is in address order and
/// search ties are broken by address.
fn catch_up(
    spare: &mut GrowableSpace,
    live: &GrowableSpace,
    behind: &[Addr],
) -> Result<(), SpaceError> {
    for &addr in behind {
        match live.get(addr) {
            Some(entry) => spare.restore(&entry)?,
            None => {
                spare.delete(addr);
            }
        }
    }
    Ok(())
}

impl Spares {
    fn new() -> Spares {
        Spares {
            slots: (0..SHARDS).map(|_| Mutex::new(Slot::default())).collect(),
        }
    }

    /// The slot of prefix `prefix`, for the writer.
    fn lock(&self, prefix: usize) -> MutexGuard<'_, Slot> {
        // A slot whose holder panicked is still usable: its spare is
        // either caught up (`behind` cleared) or not (`behind` kept), as
        // `behind` is cleared only after a catch-up succeeded, and the
        // catch-up is idempotent.
        self.slots[prefix].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the spare of prefix `prefix` up to date with its live
    /// instance, if `view` holds that instance and nothing holds the
    /// spare; otherwise leaves it to the next commit to that shard, which
    /// does the same under the `writer` lock. Returns whether it did.
    ///
    /// Safe beside the writer: the live instance cannot change while
    /// `view` holds it (the writer changes only an instance nobody else
    /// holds), and the slot's lock keeps the writer from swapping or
    /// changing the spare meanwhile. It never waits: a slot the writer
    /// holds is skipped. The writer does wait for a committer halfway
    /// through catching up the shard it is about to change, for at most
    /// [`BEHIND_MAX`] entries' copies.
    pub(crate) fn catch_up(&self, view: &View, prefix: usize) -> bool {
        let mut slot = match self.slots[prefix].try_lock() {
            Ok(slot) => slot,
            // A holder panicked: the slot is still consistent (see `lock`).
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return false,
        };
        if slot.behind.is_empty() {
            return false;
        }
        let (g, i) = place(prefix);
        let Some(live) = view.groups[g][i].as_ref() else {
            return false;
        };
        if Arc::as_ptr(live) as usize != slot.live {
            return false;
        }
        slot.catch_up_spare(live)
    }
}

#[cfg(all(test, not(loom)))]
impl Spares {
    /// Whether prefix `prefix` has a spare equal to its live instance.
    pub(crate) fn is_caught_up(&self, prefix: usize) -> bool {
        let slot = self.lock(prefix);
        slot.spare.is_some() && slot.behind.is_empty()
    }
}

impl Working {
    /// An empty space of `width` before any commit.
    pub(crate) fn new(width: Width) -> Working {
        Working {
            width,
            seq: 0,
            len: 0,
            groups: core::array::from_fn(|_| Arc::new(Default::default())),
            spares: Arc::new(Spares::new()),
        }
    }

    /// The writer's side of the shards, for committers to catch spares up
    /// outside the `writer` lock.
    pub(crate) fn spares(&self) -> Arc<Spares> {
        Arc::clone(&self.spares)
    }

    /// The live shard of prefix `prefix`.
    fn live(&self, prefix: usize) -> &Shard {
        let (g, i) = place(prefix);
        &self.groups[g][i]
    }

    /// The live shard of prefix `prefix` (its group copied first if a view
    /// shares it) and the writer's slot for it, locked.
    fn live_mut(&mut self, prefix: usize) -> (&mut Shard, MutexGuard<'_, Slot>) {
        let (g, i) = place(prefix);
        (
            &mut make_mut(&mut self.groups[g])[i],
            self.spares.lock(prefix),
        )
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
        let mut subset = Vec::new();
        for prefix in Touched::of(batch).iter() {
            subset.clear();
            subset.extend(
                batch
                    .iter()
                    .filter(|m| m.addr().prefix() as usize == prefix),
            );
            match self.live(prefix) {
                Some(shard) => shard.check_batch(&subset)?,
                None => GrowableSpace::growable(self.width).check_batch(&subset)?,
            }
        }
        Ok(())
    }

    /// Applies one mutation as commit `version`, to a shard no published
    /// view shares (see [`Slot::writable`]).
    pub(crate) fn apply(
        &mut self,
        mutation: &Mutation<'_>,
        version: u64,
    ) -> Result<(), SpaceError> {
        let addr = mutation.addr();
        let prefix = addr.prefix() as usize;
        if self.live(prefix).is_none() && matches!(mutation, Mutation::Delete { .. }) {
            return Ok(());
        }
        self.change(addr, |shard| shard.apply(mutation, version))
    }

    /// Stores an entry exactly as a snapshot recorded it.
    pub(crate) fn restore(&mut self, entry: &Entry<'_>) -> Result<(), SpaceError> {
        self.change(entry.addr, |shard| shard.restore(entry))
    }

    /// Runs `f` on the writable live shard of `addr` (see
    /// [`Slot::writable`]), then records the change at `addr` and the new
    /// entry count.
    fn change<R>(&mut self, addr: Addr, f: impl FnOnce(&mut GrowableSpace) -> R) -> R {
        let width = self.width;
        let (live, mut slot) = self.live_mut(addr.prefix() as usize);
        let shard = slot.writable(live, width);
        let before = shard.len();
        let result = f(shard);
        let after = shard.len();
        slot.changed(live, addr);
        drop(slot);
        self.len = self.len + after - before;
        result
    }

    /// A frozen copy for readers, sharing every group of live shards.
    pub(crate) fn freeze(&self) -> View {
        View {
            width: self.width,
            seq: self.seq,
            len: self.len,
            groups: self.groups.clone(),
        }
    }
}

#[cfg(all(test, loom))]
mod loom_model;

#[cfg(all(test, not(loom)))]
mod tests;
