//! The k best hits so far, kept in a buffer lent by the caller.

use super::Hit;

/// The order a [`TopK`] keeps its hits in: by `(distance, addr)`, however
/// a hit names its address.
pub(crate) trait HitOrder {
    /// Whether `a` is a better hit than `b`.
    fn less(&self, a: &Hit, b: &Hit) -> bool;
}

/// Hits that carry their own address: `Hit`'s own order.
pub(crate) struct ByAddr;

impl HitOrder for ByAddr {
    #[inline]
    fn less(&self, a: &Hit, b: &Hit) -> bool {
        a < b
    }
}

/// A bounded max-heap of hits ordered by `(distance, addr)`: the root is
/// the worst hit kept, so deciding whether a new row gets in is one
/// comparison, and letting it in costs `O(log k)`.
pub(crate) struct TopK<'o, O: HitOrder = ByAddr> {
    heap: &'o mut [Hit],
    len: usize,
    /// Largest distance accepted at all (the caller's maximum distance).
    bound: u32,
    order: O,
}

impl<'o> TopK<'o> {
    /// An empty top-k over `heap` (`k = heap.len()`), accepting distances
    /// up to `bound`; `len` hits already in `heap` (from an earlier block
    /// of the same search) are kept.
    pub(crate) fn resume(heap: &'o mut [Hit], len: usize, bound: u32) -> Self {
        TopK::resume_in(heap, len, bound, ByAddr)
    }
}

impl<'o, O: HitOrder> TopK<'o, O> {
    /// As [`TopK::resume`], for hits kept in `order`.
    pub(crate) fn resume_in(heap: &'o mut [Hit], len: usize, bound: u32, order: O) -> Self {
        TopK {
            heap,
            len,
            bound,
            order,
        }
    }

    /// Hits kept.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every row with a distance above this can be skipped without looking
    /// further: it cannot enter. A row at or below it may (ties are decided
    /// by address in [`Self::offer`]).
    #[inline]
    pub(crate) fn cut(&self) -> u32 {
        // Below k hits (or with k = 0, where `offer` refuses everything)
        // only the caller's bound applies.
        if self.len < self.heap.len() || self.heap.is_empty() {
            self.bound
        } else {
            self.heap[0].distance
        }
    }

    /// Offers a hit that passed [`Self::cut`] and the caller's filters;
    /// keeps it if it is among the k best by `(distance, addr)`.
    #[inline]
    pub(crate) fn offer(&mut self, hit: Hit) {
        let k = self.heap.len();
        if k == 0 || hit.distance > self.bound {
            return;
        }
        if self.len < k {
            self.heap[self.len] = hit;
            self.len += 1;
            self.sift_up(self.len - 1);
        } else if self.order.less(&hit, &self.heap[0]) {
            self.heap[0] = hit;
            self.sift_down(0);
        }
    }

    /// Sorts the kept hits best first and returns how many there are.
    pub(crate) fn finish(mut self) -> usize {
        // Heapsort on the heap already built: the root (the worst hit) goes
        // to the end and the rest is sifted again. (distance, addr) is
        // unique per hit (addresses are), so the order is the same on every
        // platform; and reusing `sift_down` instead of the slice sort keeps
        // a device image ~2.4 KB smaller (measured on the Cortex-M4
        // footprint build).
        let len = self.len;
        for end in (1..len).rev() {
            self.heap.swap(0, end);
            self.len = end;
            self.sift_down(0);
        }
        len
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.order.less(&self.heap[parent], &self.heap[i]) {
                break;
            }
            self.heap.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut largest = i;
            if l < self.len && self.order.less(&self.heap[largest], &self.heap[l]) {
                largest = l;
            }
            if r < self.len && self.order.less(&self.heap[largest], &self.heap[r]) {
                largest = r;
            }
            if largest == i {
                break;
            }
            self.heap.swap(i, largest);
            i = largest;
        }
    }
}

/// Sorts `hits` best first by `(distance, addr)`: the same heapsort as
/// [`TopK::finish`], for hit lists built another way (the command
/// language's search inside MULTI).
pub(crate) fn sort_hits(hits: &mut [Hit]) {
    let len = hits.len();
    let mut heap = TopK::resume(hits, len, u32::MAX);
    for i in (0..len / 2).rev() {
        heap.sift_down(i);
    }
    heap.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::prng::SplitMix64;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn sort_hits_orders_like_the_slice_sort() {
        let mut g = SplitMix64::new(3);
        for len in 0..40usize {
            let mut hits: [Hit; 40] = core::array::from_fn(|i| Hit {
                distance: (g.next() % 8) as u32,
                addr: Addr(i as u16 ^ 0x5a),
            });
            let mut want = hits;
            want[..len].sort_unstable();
            sort_hits(&mut hits[..len]);
            assert_eq!(hits[..len], want[..len], "len {len}");
        }
    }
}
