//! A digest of everything a space holds, to compare a recovered space with
//! the state that was acknowledged.

use bindspace_core::prng::{fnv1a, FNV_OFFSET};
use bindspace_core::space::{Filter, Space, Storage};

/// FNV-1a 64 over every entry in address order: address, version,
/// fingerprint, label, parent and expiry. Equal digests mean equal spaces
/// (up to a 64-bit hash collision).
pub(crate) fn digest<S: Storage>(space: &Space<S>) -> u64 {
    let mut h = FNV_OFFSET;
    for e in space.iter(Filter::All) {
        h = fnv1a(h, &e.addr.0.to_le_bytes());
        h = fnv1a(h, &e.version.to_le_bytes());
        for w in e.fp {
            h = fnv1a(h, &w.to_le_bytes());
        }
        h = fnv1a(h, &[e.label.len() as u8]);
        h = fnv1a(h, e.label.as_bytes());
        h = fnv1a(
            h,
            &e.parent.map_or(u32::MAX, |p| u32::from(p.0)).to_le_bytes(),
        );
        let (tag, at) = e.expires_at.map_or((0, 0), |t| (1, t));
        h = fnv1a(h, &[tag]);
        h = fnv1a(h, &at.to_le_bytes());
    }
    h
}
