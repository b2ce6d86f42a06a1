//! An owned batch of mutations, for commits decided inside
//! [`crate::store::Store::commit_with`] (where the new fingerprints are
//! computed from what was read, so nothing outside can lend them).

use bindspace_core::mutation::Mutation;
use bindspace_core::Addr;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Set(Addr, Vec<u64>),
    Delete(Addr),
    Expire(Addr, Option<u64>),
    Meta(Addr, Vec<u8>, Option<Addr>),
}

/// Mutations that own their data, applied in the order they were added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch (committing it changes nothing).
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Adds `Set { addr, fp }`.
    pub fn set(&mut self, addr: Addr, fp: &[u64]) -> &mut Batch {
        self.ops.push(Op::Set(addr, fp.to_vec()));
        self
    }

    /// Adds `Delete { addr }`.
    pub fn delete(&mut self, addr: Addr) -> &mut Batch {
        self.ops.push(Op::Delete(addr));
        self
    }

    /// Adds `Expire { addr, at }`.
    pub fn expire(&mut self, addr: Addr, at: Option<u64>) -> &mut Batch {
        self.ops.push(Op::Expire(addr, at));
        self
    }

    /// Adds `Meta { addr, label, parent }`.
    pub fn meta(&mut self, addr: Addr, label: &str, parent: Option<Addr>) -> &mut Batch {
        self.ops
            .push(Op::Meta(addr, label.as_bytes().to_vec(), parent));
        self
    }

    /// How many mutations the batch holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch holds no mutation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Adds a copy of `m`.
    pub fn push(&mut self, m: &Mutation<'_>) -> &mut Batch {
        match *m {
            Mutation::Set { addr, fp } => self.set(addr, fp),
            Mutation::Delete { addr } => self.delete(addr),
            Mutation::Expire { addr, at } => self.expire(addr, at),
            Mutation::Meta {
                addr,
                label,
                parent,
            } => {
                self.ops.push(Op::Meta(addr, label.to_vec(), parent));
                self
            }
        }
    }

    /// The mutations, borrowing this batch's data.
    pub fn mutations(&self) -> Vec<Mutation<'_>> {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Set(addr, fp) => Mutation::Set { addr: *addr, fp },
                Op::Delete(addr) => Mutation::Delete { addr: *addr },
                Op::Expire(addr, at) => Mutation::Expire {
                    addr: *addr,
                    at: *at,
                },
                Op::Meta(addr, label, parent) => Mutation::Meta {
                    addr: *addr,
                    label,
                    parent: *parent,
                },
            })
            .collect()
    }
}
