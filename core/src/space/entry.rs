//! What a read returns: a borrowed view of one entry, and the address
//! filters shared by iteration and search.

use crate::addr::{Addr, Zone};

/// One stored entry, borrowed from the space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'s> {
    /// Where it lives.
    pub addr: Addr,
    /// Its fingerprint: exactly the space's width in words.
    pub fp: &'s [u64],
    /// Its label (empty when it has none); at most
    /// [`crate::mutation::LABEL_MAX`] bytes.
    pub label: &'s str,
    /// The parent of a named path component.
    pub parent: Option<Addr>,
    /// The tick at and after which it is gone; `None` keeps it forever.
    pub expires_at: Option<u64>,
    /// The log sequence number of the last change to it.
    pub version: u64,
}

impl Entry<'_> {
    /// Whether the entry is still visible at tick `now` (its expiry, if
    /// any, is later than `now`).
    pub const fn is_live(&self, now: u64) -> bool {
        is_live(self.expires_at, now)
    }
}

/// Whether an entry expiring at `expires_at` is visible at tick `now`.
#[inline]
pub(crate) const fn is_live(expires_at: Option<u64>, now: u64) -> bool {
    match expires_at {
        Some(at) => at > now,
        None => true,
    }
}

/// Which addresses a scan or a search looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    /// Every address.
    #[default]
    All,
    /// The addresses of one zone.
    Zone(Zone),
    /// The 256 addresses of one prefix.
    Prefix(u8),
}

impl Filter {
    /// Whether `addr` passes the filter.
    #[inline]
    pub const fn matches(self, addr: Addr) -> bool {
        match self {
            Filter::All => true,
            Filter::Zone(z) => z.contains(addr),
            Filter::Prefix(p) => addr.prefix() == p,
        }
    }

    /// The inclusive range of prefixes the filter can match.
    pub const fn prefixes(self) -> (u8, u8) {
        match self {
            Filter::All => (0x00, 0xFF),
            Filter::Zone(z) => z.prefixes(),
            Filter::Prefix(p) => (p, p),
        }
    }
}
