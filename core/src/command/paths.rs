//! Named paths through the overlay.
//!
//! The rules (home address, probe window, lookup that never stops at a
//! hole, creation at the first free address that no entry names as its
//! parent) are the space's, documented in `space/paths.rs`; this module
//! runs them over an [`Overlay`] instead of a bare space, so a `DN.SET`
//! inside a transaction sees what earlier commands of the transaction did,
//! and so any [`Source`] (the host's sharded state too) gets named paths.
//! The integration tests check that both give the same addresses and
//! mutations.

use super::error::ErrorKind;
use super::overlay::{Batch, Overlay};
use super::source::Source;
use crate::addr::Addr;
use crate::mutation::{Mutation, LABEL_MAX};
use crate::space::{path_home, PathError, PATH_DEPTH_MAX, PATH_PROBE_WINDOW};

/// Checks a path the way the space does: not empty, no empty component,
/// components of at most [`LABEL_MAX`] bytes, at most [`PATH_DEPTH_MAX`]
/// of them.
pub(crate) fn check_path(path: &str) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    let mut depth = 0;
    for c in path.split('/') {
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

/// Address `i` of the probe window starting at `home`, wrapping inside
/// the nodes zone.
fn probe(home: Addr, i: usize) -> Addr {
    Addr(0x8000 | (home.0.wrapping_add(i as u16) & 0x7FFF))
}

/// The address of the component `label` under `parent`, if it exists.
pub(crate) fn lookup<R: Source + ?Sized>(
    ov: &Overlay<'_, '_, R>,
    parent: Option<Addr>,
    label: &[u8],
) -> Option<Addr> {
    let home = path_home(parent, label);
    (0..PATH_PROBE_WINDOW).map(|i| probe(home, i)).find(|&a| {
        ov.stored(a)
            .is_some_and(|s| s.parent == parent && s.label == label)
    })
}

/// The address `path` names, if every component exists.
pub(crate) fn resolve<R: Source + ?Sized>(
    ov: &Overlay<'_, '_, R>,
    path: &str,
) -> Result<Option<Addr>, ErrorKind> {
    check_path(path)?;
    let mut parent = None;
    for label in path.split('/') {
        match lookup(ov, parent, label.as_bytes()) {
            Some(a) => parent = Some(a),
            None => return Ok(None),
        }
    }
    Ok(parent)
}

/// Pushes the mutations that store `fp` under `path` onto `batch` (a `Set`
/// and a `Meta` for each new component, ancestors holding `zeros`; a `Set`
/// for an existing leaf); returns the leaf's address.
pub(crate) fn plan_set<'a, R: Source + ?Sized>(
    src: &R,
    batch: &mut Batch<'a>,
    path: &'a str,
    fp: &'a [u64],
    zeros: &'a [u64],
) -> Result<Addr, ErrorKind> {
    check_path(path)?;
    let depth = path.split('/').count();
    let mut chosen = [Addr(0); PATH_DEPTH_MAX];
    let mut created = 0;
    let mut parent = None;
    let mut leaf = Addr(0);
    // Once a component is new, all below it are new too.
    let mut creating = false;
    for (i, label) in path.split('/').map(str::as_bytes).enumerate() {
        let is_leaf = i + 1 == depth;
        let ov = Overlay {
            src,
            pending: batch.as_slice(),
        };
        let existing = if creating {
            None
        } else {
            lookup(&ov, parent, label)
        };
        let addr = match existing {
            Some(a) => {
                if is_leaf {
                    batch.push(Mutation::Set { addr: a, fp })?;
                }
                a
            }
            None => {
                creating = true;
                let a = free_node(&ov, parent, label, &chosen[..created])?;
                chosen[created] = a;
                created += 1;
                let node_fp = if is_leaf { fp } else { zeros };
                batch.push(Mutation::Set {
                    addr: a,
                    fp: node_fp,
                })?;
                batch.push(Mutation::Meta {
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
    Ok(leaf)
}

/// The first free address of the probe window of (`parent`, `label`):
/// nothing stored there, not chosen already, not named as a parent.
fn free_node<R: Source + ?Sized>(
    ov: &Overlay<'_, '_, R>,
    parent: Option<Addr>,
    label: &[u8],
    chosen: &[Addr],
) -> Result<Addr, ErrorKind> {
    let home = path_home(parent, label);
    (0..PATH_PROBE_WINDOW)
        .map(|i| probe(home, i))
        .find(|&a| ov.stored(a).is_none() && !chosen.contains(&a) && !ov.has_children(a))
        .ok_or(ErrorKind::Path(PathError::NoFreeAddress))
}
