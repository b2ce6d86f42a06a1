//! Mutations: the only way a space changes.
//!
//! Every write path produces mutations first, then hands them to the log
//! (which makes them durable and assigns each a sequence number), and only
//! then applies them to the space with [`crate::space`]'s `apply`. Keeping
//! "what changes" as a value apart from "changing it" is what makes the
//! write-ahead order possible on every front end.

use crate::addr::Addr;

/// The longest label an entry can carry, in bytes (UTF-8).
pub const LABEL_MAX: usize = 32;

/// One change to one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation<'a> {
    /// Store `fp` at `addr`, creating the entry or replacing its
    /// fingerprint (label, parent and expiry of an existing entry are kept).
    Set {
        /// Where.
        addr: Addr,
        /// The fingerprint, exactly the space's width in words.
        fp: &'a [u64],
    },
    /// Remove the entry at `addr` (no effect if there is none).
    Delete {
        /// Where.
        addr: Addr,
    },
    /// Set or clear the absolute expiry tick of the entry at `addr`.
    Expire {
        /// Where.
        addr: Addr,
        /// The tick at and after which the entry is gone; `None` keeps it forever.
        at: Option<u64>,
    },
    /// Set the label and parent of the entry at `addr`.
    Meta {
        /// Where.
        addr: Addr,
        /// At most [`LABEL_MAX`] bytes of UTF-8.
        label: &'a [u8],
        /// The parent address of a named path component.
        parent: Option<Addr>,
    },
}

impl Mutation<'_> {
    /// The address this mutation changes.
    pub const fn addr(&self) -> Addr {
        match *self {
            Mutation::Set { addr, .. }
            | Mutation::Delete { addr }
            | Mutation::Expire { addr, .. }
            | Mutation::Meta { addr, .. } => addr,
        }
    }
}
