//! Reading through pending changes.
//!
//! Nothing a command decides is applied before the front end has logged
//! it, yet inside a transaction each command must see what the earlier
//! ones did (`SET a ...` then `BIND b @a c` binds the new `a`). The
//! [`Overlay`] answers reads as if the pending mutations were applied: an
//! address is folded through the mutations that touch it, with exactly the
//! rules of `Space::apply`; counts, scans, searches and child lists merge
//! the source's answer with the (at most [`BATCH_MAX`]) touched addresses.

use super::error::ErrorKind;
use super::source::Source;
use crate::addr::Addr;
use crate::kernels::Kernel;
use crate::mutation::Mutation;
use crate::search::{Hit, SearchOptions};
use crate::space::{Entry, Filter};

/// The most mutations one command or transaction makes.
pub const BATCH_MAX: usize = 64;

/// The mutations of one command or transaction, in order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Batch<'a> {
    items: [Mutation<'a>; BATCH_MAX],
    len: usize,
}

impl<'a> Batch<'a> {
    pub(crate) const fn new() -> Self {
        Batch {
            items: [Mutation::Delete { addr: Addr(0) }; BATCH_MAX],
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, m: Mutation<'a>) -> Result<(), ErrorKind> {
        let slot = self
            .items
            .get_mut(self.len)
            .ok_or(ErrorKind::TooManyChanges { max: BATCH_MAX })?;
        *slot = m;
        self.len += 1;
        Ok(())
    }

    pub(crate) fn as_slice(&self) -> &[Mutation<'a>] {
        &self.items[..self.len]
    }
}

/// One address as the overlay sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct State<'x> {
    pub(crate) fp: &'x [u64],
    pub(crate) label: &'x [u8],
    pub(crate) parent: Option<Addr>,
    pub(crate) expires_at: Option<u64>,
    /// The stored version, or `None` when a pending mutation changed it.
    pub(crate) version: Option<u64>,
}

impl<'x> State<'x> {
    fn of(e: Entry<'x>) -> Self {
        State {
            fp: e.fp,
            label: e.label.as_bytes(),
            parent: e.parent,
            expires_at: e.expires_at,
            version: Some(e.version),
        }
    }

    pub(crate) fn is_live(&self, now: u64) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// Addresses touched by a batch: distinct, ascending.
pub(crate) struct Touched {
    addrs: [Addr; BATCH_MAX],
    len: usize,
}

impl Touched {
    pub(crate) fn as_slice(&self) -> &[Addr] {
        &self.addrs[..self.len]
    }

    pub(crate) fn contains(&self, addr: Addr) -> bool {
        self.as_slice().binary_search(&addr).is_ok()
    }
}

/// A source seen through pending mutations.
pub(crate) struct Overlay<'b, 'x, R: ?Sized> {
    pub(crate) src: &'x R,
    pub(crate) pending: &'b [Mutation<'x>],
}

impl<'x, R: Source + ?Sized> Overlay<'_, 'x, R> {
    /// The stored state of `addr` (expired or not), pending changes applied.
    pub(crate) fn stored(&self, addr: Addr) -> Option<State<'x>> {
        let mut cur = self.src.entry(addr).map(State::of);
        for m in self.pending.iter().filter(|m| m.addr() == addr) {
            match (*m, cur.as_mut()) {
                (Mutation::Set { fp, .. }, Some(s)) => {
                    s.fp = fp;
                    s.version = None;
                }
                (Mutation::Set { fp, .. }, None) => {
                    cur = Some(State {
                        fp,
                        label: &[],
                        parent: None,
                        expires_at: None,
                        version: None,
                    });
                }
                (Mutation::Delete { .. }, _) => cur = None,
                (Mutation::Expire { at, .. }, Some(s)) => {
                    s.expires_at = at;
                    s.version = None;
                }
                (Mutation::Meta { label, parent, .. }, Some(s)) => {
                    s.label = label;
                    s.parent = parent;
                    s.version = None;
                }
                // The executor never makes these (the space would refuse
                // them): nothing to fold.
                (Mutation::Expire { .. } | Mutation::Meta { .. }, None) => {}
            }
        }
        cur
    }

    /// The state of `addr` if it is visible at tick `now`.
    pub(crate) fn live(&self, addr: Addr, now: u64) -> Option<State<'x>> {
        self.stored(addr).filter(|s| s.is_live(now))
    }

    pub(crate) fn touched(&self) -> Touched {
        let mut t = Touched {
            addrs: [Addr(0); BATCH_MAX],
            len: 0,
        };
        for m in self.pending {
            let a = m.addr();
            if let Err(at) = t.as_slice().binary_search(&a) {
                if t.len < BATCH_MAX {
                    t.len = crate::moves::insert(&mut t.addrs, t.len, at, a);
                }
            }
        }
        t
    }

    /// Entries visible at `now` whose address passes `filter`.
    pub(crate) fn count_live(&self, filter: Filter, now: u64) -> usize {
        let mut count = self.src.count_live(filter, now);
        for &a in self.touched().as_slice() {
            if !filter.matches(a) {
                continue;
            }
            let before = self.src.entry(a).is_some_and(|e| e.is_live(now));
            let after = self.live(a, now).is_some();
            // `before` is counted in the source's figure; saturating keeps
            // a source whose count and entries disagree from panicking.
            count = (count + usize::from(after)).saturating_sub(usize::from(before));
        }
        count
    }

    /// Stored entries (expired or not), pending changes applied.
    pub(crate) fn stored_count(&self) -> usize {
        let mut count = self.src.stored();
        for &a in self.touched().as_slice() {
            let before = self.src.entry(a).is_some();
            let after = self.stored(a).is_some();
            count = (count + usize::from(after)).saturating_sub(usize::from(before));
        }
        count
    }

    /// Calls `emit` with up to `count` addresses visible at `now` passing
    /// `filter`, from `start` on, in address order; returns the address to
    /// resume from (`None` when the scan reached the end). `emit` is a
    /// `dyn` because SCAN runs it with two closures, and one copy of this
    /// loop is enough.
    pub(crate) fn scan(
        &self,
        filter: Filter,
        start: Addr,
        count: usize,
        now: u64,
        emit: &mut dyn FnMut(Addr) -> Result<(), ErrorKind>,
    ) -> Result<Option<Addr>, ErrorKind> {
        let touched = self.touched();
        let mut pending = touched
            .as_slice()
            .iter()
            .copied()
            .filter(|&a| a >= start && filter.matches(a))
            .peekable();
        let mut stored = self.src.entries_from(filter, start).peekable();
        let mut emitted = 0;
        loop {
            let from_stored = match (stored.peek().map(|e| e.addr), pending.peek()) {
                (None, None) => return Ok(None),
                (Some(s), Some(&p)) => s < p,
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            let (addr, visible) = if from_stored {
                match stored.next() {
                    Some(e) => (e.addr, e.is_live(now)),
                    None => return Ok(None),
                }
            } else {
                let Some(p) = pending.next() else {
                    return Ok(None);
                };
                if stored.peek().is_some_and(|e| e.addr == p) {
                    stored.next();
                }
                (p, self.live(p, now).is_some())
            };
            if visible {
                emit(addr)?;
                emitted += 1;
                if emitted == count {
                    return Ok(addr.0.checked_add(1).map(Addr));
                }
            }
        }
    }

    /// Calls `emit` with the address and label of every stored entry whose
    /// parent is `parent`, in address order.
    pub(crate) fn children(
        &self,
        parent: Addr,
        mut emit: impl FnMut(Addr, &[u8]) -> Result<(), ErrorKind>,
    ) -> Result<(), ErrorKind> {
        let touched = self.touched();
        let mut pending = touched.as_slice().iter().copied().peekable();
        let mut stored = self
            .src
            .children(parent)
            .filter(|e| !touched.contains(e.addr))
            .peekable();
        loop {
            let from_stored = match (stored.peek().map(|e| e.addr), pending.peek()) {
                (None, None) => return Ok(()),
                (Some(s), Some(&p)) => s < p,
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            if from_stored {
                if let Some(e) = stored.next() {
                    emit(e.addr, e.label.as_bytes())?;
                }
            } else if let Some(p) = pending.next() {
                if let Some(s) = self.stored(p).filter(|s| s.parent == Some(parent)) {
                    emit(p, s.label)?;
                }
            }
        }
    }

    /// Whether any stored entry names `parent` as its parent.
    pub(crate) fn has_children(&self, parent: Addr) -> bool {
        let touched = self.touched();
        touched
            .as_slice()
            .iter()
            .any(|&a| self.stored(a).is_some_and(|s| s.parent == Some(parent)))
            || self.src.children(parent).any(|e| !touched.contains(e.addr))
    }

    /// The `k` nearest entries to `query` visible at `opts.now`, best
    /// first, in `out` (which holds at least `k + 2 * BATCH_MAX` hits);
    /// returns how many.
    ///
    /// Exact: the source's best `k + t` hits (`t` touched addresses)
    /// contain its best `k` untouched ones, and every touched address is
    /// scored directly against its pending state.
    pub(crate) fn nearest(
        &self,
        query: &[u64],
        k: usize,
        opts: &SearchOptions,
        kernel: Kernel,
        out: &mut [Hit],
    ) -> Result<usize, ErrorKind> {
        let touched = self.touched();
        let t = touched.as_slice().len();
        let width_error = |_| ErrorKind::WrongWidth {
            expected: self.src.width().bits(),
            got: query.len() * 64,
        };
        let want = (k + t).min(out.len());
        let found = self
            .src
            .nearest(query, opts, &mut out[..want])
            .map_err(width_error)?;
        let mut n = 0;
        for i in 0..found {
            if !touched.contains(out[i].addr) {
                out[n] = out[i];
                n += 1;
            }
        }
        let now = opts.now.unwrap_or(0);
        for &a in touched.as_slice() {
            if !opts.filter.matches(a) || n == out.len() {
                continue;
            }
            let Some(s) = self.live(a, now) else {
                continue;
            };
            let distance = kernel
                .distance(query, s.fp)
                .map_err(|_| ErrorKind::WrongWidth {
                    expected: self.src.width().bits(),
                    got: s.fp.len() * 64,
                })?;
            if opts.max_distance.is_none_or(|d| distance <= d) {
                out[n] = Hit { distance, addr: a };
                n += 1;
            }
        }
        crate::search::sort_hits(&mut out[..n]);
        Ok(n.min(k))
    }
}
