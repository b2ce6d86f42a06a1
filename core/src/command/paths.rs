//! Named paths through the overlay.
//!
//! The rules (home address, probe window, lookup that never stops at a
//! hole, creation at the first free address that no entry names as its
//! parent) are the space's, written once in `space/paths.rs`; this module
//! only lets them read an [`Overlay`] instead of a bare space, so a
//! `DN.SET` inside a transaction sees what earlier commands of the
//! transaction did, and any [`Source`] (the host's sharded state too) gets
//! named paths.

use super::error::ErrorKind;
use super::overlay::{Batch, Overlay};
use super::source::Source;
use crate::addr::Addr;
use crate::mutation::Mutation;
use crate::space::{plan, PathNodes, PathPlanner};

pub(crate) use crate::space::{check_path, resolve};

impl<R: Source + ?Sized> PathNodes for Overlay<'_, '_, R> {
    fn node(&self, addr: Addr) -> Option<(Option<Addr>, &[u8])> {
        self.stored(addr).map(|s| (s.parent, s.label))
    }

    fn is_named_parent(&self, addr: Addr) -> bool {
        self.has_children(addr)
    }
}

/// Plans into a transaction's batch, reading the source through the
/// mutations already in it.
struct BatchPlanner<'b, 'r, 'a, R: ?Sized> {
    src: &'r R,
    batch: &'b mut Batch<'a>,
}

impl<R: Source + ?Sized> BatchPlanner<'_, '_, '_, R> {
    fn overlay(&self) -> Overlay<'_, '_, R> {
        Overlay {
            src: self.src,
            pending: self.batch.as_slice(),
        }
    }
}

impl<R: Source + ?Sized> PathNodes for BatchPlanner<'_, '_, '_, R> {
    fn node(&self, addr: Addr) -> Option<(Option<Addr>, &[u8])> {
        self.overlay().stored(addr).map(|s| (s.parent, s.label))
    }

    fn is_named_parent(&self, addr: Addr) -> bool {
        self.overlay().has_children(addr)
    }
}

impl<'a, R: Source + ?Sized> PathPlanner<'a> for BatchPlanner<'_, '_, 'a, R> {
    type Error = ErrorKind;

    fn push(&mut self, m: Mutation<'a>) -> Result<(), ErrorKind> {
        self.batch.push(m)
    }
}

/// Pushes the mutations that store `fp` under `path` onto `batch` (see
/// [`crate::space::Space::plan_dn_set`] for the rules); returns the leaf's
/// address.
pub(crate) fn plan_set<'a, R: Source + ?Sized>(
    src: &R,
    batch: &mut Batch<'a>,
    path: &'a str,
    fp: &'a [u64],
    zeros: &'a [u64],
) -> Result<Addr, ErrorKind> {
    let mut planner = BatchPlanner { src, batch };
    plan(&mut planner, path, fp, zeros).map(|(leaf, _)| leaf)
}
