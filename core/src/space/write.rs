//! Changing a space: check first, then change, so a refused change leaves
//! nothing behind.

use super::entry::Entry;
use super::error::SpaceError;
use super::storage::{RowMeta, Storage};
use super::Space;
use crate::addr::Addr;
use crate::mutation::{Mutation, LABEL_MAX};

impl<S: Storage> Space<S> {
    /// Applies one mutation, recording `version` (its log sequence number)
    /// as the entry's version. This is the way writes land: front ends log
    /// a mutation first and apply it after, and recovery replays the log
    /// through here.
    ///
    /// - `Set` creates the entry or replaces its fingerprint (label, parent
    ///   and expiry of an existing entry are kept).
    /// - `Delete` removes the entry; deleting nothing is not an error.
    /// - `Expire` and `Meta` need an existing entry (`NotFound` otherwise).
    pub fn apply(&mut self, mutation: &Mutation<'_>, version: u64) -> Result<(), SpaceError> {
        match *mutation {
            Mutation::Set { addr, fp } => self.set(addr, fp, version),
            Mutation::Delete { addr } => {
                self.delete(addr);
                Ok(())
            }
            Mutation::Expire { addr, at } => self.expire(addr, at, version),
            Mutation::Meta {
                addr,
                label,
                parent,
            } => self.set_meta(addr, label, parent, version),
        }
    }

    /// Applies every mutation of `batch` with the batch's one `version`
    /// (its log sequence number, as replay gives it: docs/FORMAT.md 3.3),
    /// after checking the whole batch: either all apply or none does.
    pub fn apply_all(&mut self, batch: &[Mutation<'_>], version: u64) -> Result<(), SpaceError> {
        self.check_batch(batch)?;
        for m in batch {
            self.apply(m, version)?;
        }
        Ok(())
    }

    /// Whether [`Self::apply`] would accept `mutation` now, changing nothing.
    pub fn check(&self, mutation: &Mutation<'_>) -> Result<(), SpaceError> {
        check_shape(self, mutation)?;
        let addr = mutation.addr();
        match mutation {
            Mutation::Set { .. } if !self.exists(addr) => self.check_room(addr.prefix()),
            Mutation::Expire { .. } | Mutation::Meta { .. } if !self.exists(addr) => {
                Err(SpaceError::NotFound { addr })
            }
            _ => Ok(()),
        }
    }

    /// Stores `fp` at `addr` with `version`: creates the entry, or replaces
    /// the fingerprint of an existing one keeping its label, parent and
    /// expiry. Prefer [`Self::apply`] where a log is in use.
    pub fn set(&mut self, addr: Addr, fp: &[u64], version: u64) -> Result<(), SpaceError> {
        self.check_width(fp)?;
        let w = self.width.words();
        let row = match self.row_of(addr) {
            Some(row) => {
                let (_, meta, _) = self.storage.parts_mut();
                meta[row].version = version;
                row
            }
            None => {
                self.check_room(addr.prefix())?;
                self.push_row(addr, RowMeta::fresh(addr, version))
            }
        };
        let (arena, _, _) = self.storage.parts_mut();
        arena[row * w..(row + 1) * w].copy_from_slice(fp);
        self.generation += 1;
        Ok(())
    }

    /// Removes the entry at `addr`, keeping rows dense (the last row moves
    /// into the hole). Returns whether there was one.
    pub fn delete(&mut self, addr: Addr) -> bool {
        let Some(row) = self.row_of(addr) else {
            return false;
        };
        let w = self.width.words();
        let last = self.len - 1;
        let (arena, meta, pages) = self.storage.parts_mut();
        if row != last {
            // `row < last`: the two rows do not overlap (a plain copy).
            let (head, tail) = arena.split_at_mut(last * w);
            head[row * w..(row + 1) * w].copy_from_slice(&tail[..w]);
            crate::moves::copy_down(meta, last, row);
            self.directory.point(pages, meta[row].addr, row);
        }
        self.directory.remove(pages, addr);
        if let Some(addrs) = self.storage.row_addrs_mut() {
            addrs[row] = addrs[last];
        }
        self.len = last;
        self.generation += 1;
        true
    }

    /// Sets (`Some(tick)`) or clears (`None`) the expiry of the entry at
    /// `addr`. Prefer [`Self::apply`] where a log is in use.
    pub fn expire(&mut self, addr: Addr, at: Option<u64>, version: u64) -> Result<(), SpaceError> {
        let row = self.row_of(addr).ok_or(SpaceError::NotFound { addr })?;
        let (_, meta, _) = self.storage.parts_mut();
        meta[row].expires_at = at;
        meta[row].version = version;
        self.generation += 1;
        Ok(())
    }

    /// Sets the label and parent of the entry at `addr`. Prefer
    /// [`Self::apply`] where a log is in use.
    pub fn set_meta(
        &mut self,
        addr: Addr,
        label: &[u8],
        parent: Option<Addr>,
        version: u64,
    ) -> Result<(), SpaceError> {
        check_label(label)?;
        check_parent(addr, parent)?;
        let row = self.row_of(addr).ok_or(SpaceError::NotFound { addr })?;
        let (_, meta, _) = self.storage.parts_mut();
        let m = &mut meta[row];
        m.label = [0; LABEL_MAX];
        m.label[..label.len()].copy_from_slice(label);
        m.label_len = label.len() as u8;
        m.parent = parent;
        m.version = version;
        self.generation += 1;
        Ok(())
    }

    /// Stores an entry exactly as given (fingerprint, label, parent, expiry
    /// and version), as when loading a snapshot. Replaces any entry at the
    /// same address.
    pub fn restore(&mut self, entry: &Entry<'_>) -> Result<(), SpaceError> {
        self.check_width(entry.fp)?;
        check_label(entry.label.as_bytes())?;
        check_parent(entry.addr, entry.parent)?;
        let mut meta_row = RowMeta::fresh(entry.addr, entry.version);
        meta_row.label[..entry.label.len()].copy_from_slice(entry.label.as_bytes());
        meta_row.label_len = entry.label.len() as u8;
        meta_row.parent = entry.parent;
        meta_row.expires_at = entry.expires_at;
        let row = match self.row_of(entry.addr) {
            Some(row) => {
                let (_, meta, _) = self.storage.parts_mut();
                crate::moves::put(&mut meta[row], &meta_row);
                row
            }
            // `push_row` stores the metadata of a new row.
            None => {
                self.check_room(entry.addr.prefix())?;
                self.push_row(entry.addr, meta_row)
            }
        };
        let w = self.width.words();
        let (arena, _, _) = self.storage.parts_mut();
        arena[row * w..(row + 1) * w].copy_from_slice(entry.fp);
        self.generation += 1;
        Ok(())
    }

    /// Deletes every entry expired at tick `now`; returns how many. This
    /// bypasses the log: a front end with a log deletes
    /// [`Self::expired`] entries through it instead.
    pub fn purge_expired(&mut self, now: u64) -> usize {
        let mut purged = 0;
        let mut row = 0;
        // Deleting moves the last row into `row`, so re-examine it.
        while row < self.len {
            let (_, meta, _) = self.storage.parts();
            let m = meta[row];
            if super::entry::is_live(m.expires_at, now) {
                row += 1;
            } else {
                self.delete(m.addr);
                purged += 1;
            }
        }
        purged
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.len = 0;
        self.directory = super::directory::Directory::new();
        self.generation += 1;
    }

    /// Checks there is room (now or after growing) for one more entry,
    /// under `prefix`.
    fn check_room(&self, prefix: u8) -> Result<(), SpaceError> {
        let (max_rows, max_pages) = self.storage.limits(self.width.words());
        if self.len + 1 > max_rows {
            return Err(SpaceError::Full { capacity: max_rows });
        }
        self.directory.check_page(prefix, max_pages)
    }

    /// Appends a row for the new entry `addr` (room checked) and returns it.
    fn push_row(&mut self, addr: Addr, meta_row: RowMeta) -> usize {
        let row = self.len;
        let pages_needed =
            self.directory.pages_used() + usize::from(self.directory.needs_page(addr.prefix()));
        self.storage
            .reserve(row + 1, self.width.words(), pages_needed);
        let (_, meta, pages) = self.storage.parts_mut();
        meta[row] = meta_row;
        self.directory.insert(pages, addr, row);
        if let Some(addrs) = self.storage.row_addrs_mut() {
            addrs[row] = addr;
        }
        self.len = row + 1;
        row
    }

    fn check_width(&self, fp: &[u64]) -> Result<(), SpaceError> {
        if fp.len() != self.width.words() {
            return Err(SpaceError::WidthMismatch {
                expected: self.width.words(),
                got: fp.len(),
            });
        }
        Ok(())
    }
}

/// The checks of a mutation that do not depend on what is stored.
pub(super) fn check_shape<S: Storage>(
    space: &Space<S>,
    m: &Mutation<'_>,
) -> Result<(), SpaceError> {
    match *m {
        Mutation::Set { fp, .. } => space.check_width(fp),
        Mutation::Meta {
            addr,
            label,
            parent,
        } => {
            check_label(label)?;
            check_parent(addr, parent)
        }
        Mutation::Delete { .. } | Mutation::Expire { .. } => Ok(()),
    }
}

fn check_label(label: &[u8]) -> Result<(), SpaceError> {
    if label.len() > LABEL_MAX {
        return Err(SpaceError::LabelTooLong { len: label.len() });
    }
    core::str::from_utf8(label).map_err(|_| SpaceError::LabelNotUtf8)?;
    Ok(())
}

fn check_parent(addr: Addr, parent: Option<Addr>) -> Result<(), SpaceError> {
    if parent == Some(addr) {
        return Err(SpaceError::SelfParent { addr });
    }
    Ok(())
}
