//! Named paths: `a/b/c` as a chain of node-zone entries linked by parent.
//!
//! # How addresses are chosen
//!
//! A component is identified by its (parent, label) pair, the parent being
//! `None` for a first component. Its *home* address is
//!
//! ```text
//! h    = FNV-1a-64 over [0] ++ label                    (first component)
//!        FNV-1a-64 over [1, parent_lo, parent_hi] ++ label (otherwise)
//! home = 0x8000 | (h & 0x7FFF)                          (inside the nodes zone)
//! ```
//!
//! and its *probe window* is the [`PATH_PROBE_WINDOW`] addresses from home
//! onward, wrapping inside the nodes zone (`0xFFFF` is followed by
//! `0x8000`).
//!
//! - **Lookup** reads every address of the window and takes the first entry
//!   whose label and parent both match. It never stops at a hole, so
//!   deleting an entry earlier in the window cannot hide a later one.
//! - **Creation** happens only after a lookup over the whole window found
//!   nothing, and takes the first address of the window that is free:
//!   nothing stored there, not already chosen for another component of the
//!   same plan, and not named as parent by any stored entry (so a new node
//!   never adopts the orphans of a deleted one). An occupied address with a
//!   different label or parent is a collision and is probed past, never
//!   merged. If the whole window is taken the answer is
//!   [`PathError::NoFreeAddress`], never a wrong address.
//!
//! Components created only as ancestors hold the all-zero fingerprint
//! until a later `dn_set` names them as the leaf.
//!
//! # Through the log
//!
//! [`Space::plan_dn_set`] only reads: it returns the mutations (a `Set` and
//! a `Meta` per new component, a `Set` for an existing leaf) that a front
//! end logs and then applies with [`Space::apply`]. Plan and apply must
//! happen under the same writer exclusion; [`PathPlan::generation`] lets a
//! front end assert that nothing changed in between.

use super::entry::Entry;
use super::error::SpaceError;
use super::storage::Storage;
use super::Space;
use crate::addr::Addr;
use crate::mutation::{Mutation, LABEL_MAX};
use crate::prng::{fnv1a, FNV_OFFSET};
use core::fmt;

/// The most components a path may have.
pub const PATH_DEPTH_MAX: usize = 16;
/// How many node addresses, from a component's home address on, are
/// searched for it and may hold it.
pub const PATH_PROBE_WINDOW: usize = 256;

/// The fingerprint given to components created only as ancestors (its
/// first `width` words), for every planner of named paths.
pub(crate) static ZEROS: [u64; 256] = [0; 256];

/// Why a path was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// The path is empty.
    Empty,
    /// A component is empty (`a//b`, or a leading or trailing `/`).
    EmptyComponent,
    /// A component is longer than [`LABEL_MAX`] bytes.
    ComponentTooLong {
        /// Bytes in the component.
        len: usize,
    },
    /// The path has more than [`PATH_DEPTH_MAX`] components.
    TooDeep,
    /// Every address of a new component's probe window is taken.
    NoFreeAddress,
    /// The space refused the change (full, wrong width, ...).
    Space(SpaceError),
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PathError::Empty => f.write_str("path is empty"),
            PathError::EmptyComponent => {
                f.write_str("path has an empty component (use a/b/c, no leading, trailing or double /)")
            }
            PathError::ComponentTooLong { len } => write!(
                f,
                "path component of {len} bytes is longer than the {LABEL_MAX} allowed"
            ),
            PathError::TooDeep => {
                write!(f, "path has more than {PATH_DEPTH_MAX} components")
            }
            PathError::NoFreeAddress => write!(
                f,
                "no free node address for a path component within its {PATH_PROBE_WINDOW}-address probe window"
            ),
            PathError::Space(e) => fmt::Display::fmt(&e, f),
        }
    }
}

impl From<SpaceError> for PathError {
    fn from(e: SpaceError) -> Self {
        PathError::Space(e)
    }
}

/// The mutations that store a fingerprint under a path, made by
/// [`Space::plan_dn_set`].
#[derive(Clone, Copy, Debug)]
pub struct PathPlan<'a> {
    mutations: [Mutation<'a>; 2 * PATH_DEPTH_MAX],
    len: usize,
    leaf: Addr,
    created: usize,
    generation: u64,
}

impl<'a> PathPlan<'a> {
    /// The mutations, in the order they must be logged and applied.
    pub fn mutations(&self) -> &[Mutation<'a>] {
        &self.mutations[..self.len]
    }

    /// The address of the last component, which receives the fingerprint.
    pub const fn leaf(&self) -> Addr {
        self.leaf
    }

    /// How many components the plan creates.
    pub const fn created(&self) -> usize {
        self.created
    }

    /// [`Space::generation`] when the plan was made.
    pub const fn generation(&self) -> u64 {
        self.generation
    }

    fn push(&mut self, m: Mutation<'a>) {
        self.mutations[self.len] = m;
        self.len += 1;
    }
}

/// The home address of the component (`parent`, `label`): the first
/// address of its probe window (see the module docs).
pub fn home(parent: Option<Addr>, label: &[u8]) -> Addr {
    let h = match parent {
        None => fnv1a(FNV_OFFSET, &[0]),
        Some(p) => {
            let [lo, hi] = p.0.to_le_bytes();
            fnv1a(FNV_OFFSET, &[1, lo, hi])
        }
    };
    Addr(0x8000 | (fnv1a(h, label) as u16 & 0x7FFF))
}

/// Address `i` of the probe window starting at `home`.
fn probe(home: Addr, i: usize) -> Addr {
    Addr(0x8000 | (home.0.wrapping_add(i as u16) & 0x7FFF))
}

/// What the path rules read: the entries stored (expired or not), with
/// their labels and parents. The space is one; the command layer's view of
/// a transaction's pending changes is another, so `DN.*` inside MULTI and
/// on any front end follows these same rules.
pub(crate) trait PathNodes {
    /// The parent and label of the entry stored at `addr`, if any.
    fn node(&self, addr: Addr) -> Option<(Option<Addr>, &[u8])>;
    /// Whether any stored entry names `addr` as its parent.
    fn is_named_parent(&self, addr: Addr) -> bool;
}

/// A [`PathNodes`] that also records the mutations of a plan.
pub(crate) trait PathPlanner<'a>: PathNodes {
    /// What recording can fail with (a full batch, say).
    type Error: From<PathError>;
    /// Records the next mutation of the plan.
    fn push(&mut self, m: Mutation<'a>) -> Result<(), Self::Error>;
}

/// The components of `path`, as the bytes a label is stored as.
// A byte split, not `str::split`: the same pieces (`/` is ASCII, so every
// piece is still UTF-8), and about 0.6 KB less code on a device, where
// `str::split` brings its own searcher.
fn components(path: &str) -> impl Iterator<Item = &[u8]> + '_ {
    path.as_bytes().split(|&b| b == b'/')
}

/// Checks a path: not empty, no empty component, components of at most
/// [`LABEL_MAX`] bytes, at most [`PATH_DEPTH_MAX`] of them.
pub(crate) fn check_path(path: &str) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    let mut depth = 0;
    for c in components(path) {
        depth += 1;
        if c.is_empty() {
            return Err(PathError::EmptyComponent);
        }
        if c.len() > LABEL_MAX {
            return Err(PathError::ComponentTooLong { len: c.len() });
        }
    }
    if depth > PATH_DEPTH_MAX {
        return Err(PathError::TooDeep);
    }
    Ok(())
}

/// The address of the component `label` under `parent`, if it exists: the
/// first match anywhere in the probe window (never stopping at a hole).
pub(crate) fn lookup<N: PathNodes + ?Sized>(
    nodes: &N,
    parent: Option<Addr>,
    label: &[u8],
) -> Option<Addr> {
    let home = home(parent, label);
    (0..PATH_PROBE_WINDOW).map(|i| probe(home, i)).find(|&a| {
        nodes
            .node(a)
            .is_some_and(|(p, l)| p == parent && l == label)
    })
}

/// The address `path` names, if every component exists.
pub(crate) fn resolve<N: PathNodes + ?Sized>(
    nodes: &N,
    path: &str,
) -> Result<Option<Addr>, PathError> {
    check_path(path)?;
    let mut parent = None;
    for label in components(path) {
        match lookup(nodes, parent, label) {
            Some(a) => parent = Some(a),
            None => return Ok(None),
        }
    }
    Ok(parent)
}

/// Records the mutations that store `fp` under `path` (a `Set` and a `Meta`
/// for each new component, ancestors holding `zeros`; a `Set` for an
/// existing leaf); returns the leaf's address and how many components are
/// new. Reads only through `planner`.
pub(crate) fn plan<'a, P: PathPlanner<'a> + ?Sized>(
    planner: &mut P,
    path: &'a str,
    fp: &'a [u64],
    zeros: &'a [u64],
) -> Result<(Addr, usize), P::Error> {
    check_path(path)?;
    let depth = components(path).count();
    let mut chosen = [Addr(0); PATH_DEPTH_MAX];
    let mut created = 0;
    let mut parent = None;
    let mut leaf = Addr(0);
    // Once a component is new, all below it are new too.
    let mut creating = false;
    for (i, label) in components(path).enumerate() {
        let is_leaf = i + 1 == depth;
        let existing = if creating {
            None
        } else {
            lookup(planner, parent, label)
        };
        let addr = match existing {
            Some(a) => {
                if is_leaf {
                    planner.push(Mutation::Set { addr: a, fp })?;
                }
                a
            }
            None => {
                creating = true;
                let a = free_node(planner, parent, label, &chosen[..created])?;
                chosen[created] = a;
                created += 1;
                let node_fp = if is_leaf { fp } else { zeros };
                planner.push(Mutation::Set {
                    addr: a,
                    fp: node_fp,
                })?;
                planner.push(Mutation::Meta {
                    addr: a,
                    label,
                    parent,
                })?;
                a
            }
        };
        parent = Some(addr);
        leaf = addr;
    }
    Ok((leaf, created))
}

/// The first free address of the probe window of (`parent`, `label`):
/// nothing stored there, not chosen already, not named as a parent.
fn free_node<N: PathNodes + ?Sized>(
    nodes: &N,
    parent: Option<Addr>,
    label: &[u8],
    chosen: &[Addr],
) -> Result<Addr, PathError> {
    let home = home(parent, label);
    (0..PATH_PROBE_WINDOW)
        .map(|i| probe(home, i))
        .find(|&a| nodes.node(a).is_none() && !chosen.contains(&a) && !nodes.is_named_parent(a))
        .ok_or(PathError::NoFreeAddress)
}

impl<S: Storage> PathNodes for Space<S> {
    fn node(&self, addr: Addr) -> Option<(Option<Addr>, &[u8])> {
        self.get(addr).map(|e| (e.parent, e.label.as_bytes()))
    }

    fn is_named_parent(&self, addr: Addr) -> bool {
        let (_, meta) = self.rows();
        meta.iter().any(|m| m.parent == Some(addr))
    }
}

/// Plans over a space into a [`PathPlan`].
struct SpacePlanner<'s, 'a, S: Storage> {
    space: &'s Space<S>,
    plan: PathPlan<'a>,
}

impl<S: Storage> PathNodes for SpacePlanner<'_, '_, S> {
    fn node(&self, addr: Addr) -> Option<(Option<Addr>, &[u8])> {
        self.space.node(addr)
    }

    fn is_named_parent(&self, addr: Addr) -> bool {
        self.space.is_named_parent(addr)
    }
}

impl<'a, S: Storage> PathPlanner<'a> for SpacePlanner<'_, 'a, S> {
    type Error = PathError;

    fn push(&mut self, m: Mutation<'a>) -> Result<(), PathError> {
        // A plan holds two mutations per component, the most a path has.
        self.plan.push(m);
        Ok(())
    }
}

impl<S: Storage> Space<S> {
    /// The address of the component `label` under `parent` (`None` for a
    /// first component), if it exists.
    pub fn dn_lookup(&self, parent: Option<Addr>, label: &[u8]) -> Option<Addr> {
        lookup(self, parent, label)
    }

    /// The address named by `path` (`a/b/c`), if every component exists.
    pub fn dn_get(&self, path: &str) -> Result<Option<Addr>, PathError> {
        resolve(self, path)
    }

    /// The parent of the entry at `addr`, if it has an entry and a parent.
    pub fn dn_parent(&self, addr: Addr) -> Option<Addr> {
        self.get(addr).and_then(|e| e.parent)
    }

    /// The entries whose parent is `addr`, in address order.
    pub fn dn_children(&self, addr: Addr) -> impl Iterator<Item = Entry<'_>> + '_ {
        self.iter(super::Filter::All)
            .filter(move |e| e.parent == Some(addr))
    }

    /// The mutations that store `fp` under `path`, creating missing
    /// components (see the module docs for how addresses are chosen).
    /// Reads only; the plan is checked to apply whole.
    pub fn plan_dn_set<'a>(&self, path: &'a str, fp: &'a [u64]) -> Result<PathPlan<'a>, PathError> {
        let zeros: &'static [u64] =
            ZEROS
                .get(..self.width.words())
                .ok_or(PathError::Space(SpaceError::WidthMismatch {
                    expected: self.width.words(),
                    got: ZEROS.len(),
                }))?;
        let mut planner = SpacePlanner {
            space: self,
            plan: PathPlan {
                mutations: [Mutation::Delete { addr: Addr(0) }; 2 * PATH_DEPTH_MAX],
                len: 0,
                leaf: Addr(0),
                created: 0,
                generation: self.generation,
            },
        };
        let (leaf, created) = plan(&mut planner, path, fp, zeros)?;
        let mut plan = planner.plan;
        plan.leaf = leaf;
        plan.created = created;
        self.check_batch(plan.mutations())?;
        Ok(plan)
    }

    /// Plans and applies `dn_set` in one step, every mutation taking
    /// `first_version` (one batch, one version); returns the leaf address.
    /// Front ends with a log use [`Self::plan_dn_set`] instead.
    pub fn dn_set(
        &mut self,
        path: &str,
        fp: &[u64],
        first_version: u64,
    ) -> Result<Addr, PathError> {
        let plan = self.plan_dn_set(path, fp)?;
        self.apply_all(plan.mutations(), first_version)?;
        Ok(plan.leaf())
    }
}
