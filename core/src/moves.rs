//! Moves of items inside fixed buffers, written so that no general
//! overlapping `memmove` is needed: on a device that routine alone is about
//! 1.5 KB of code (Cortex-M4), and these moves never need it.

/// Inserts `value` at `at` into the first `len` items of `items`, moving
/// `items[at..len]` up by one; when the buffer is full (`len ==
/// items.len()`) the last item falls off. Returns the new length.
/// `at` must be at most `len` and inside `items`; otherwise nothing changes
/// and `len` is returned.
///
/// A backward loop rather than `copy_within`: the arrays are a few dozen
/// entries.
pub(crate) fn insert<T: Copy>(items: &mut [T], len: usize, at: usize, value: T) -> usize {
    if at > len || at >= items.len() {
        return len;
    }
    let end = len.min(items.len() - 1);
    let mut i = end;
    while i > at {
        items[i] = items[i - 1];
        i -= 1;
    }
    items[at] = value;
    (len + 1).min(items.len())
}

/// Copies `items[from]` over `items[to]` (`to < from`; otherwise nothing
/// is copied): the move that keeps a dense array dense when `to` is
/// removed.
pub(crate) fn copy_down<T: Copy>(items: &mut [T], from: usize, to: usize) {
    if to >= from || from >= items.len() {
        return;
    }
    let (head, tail) = items.split_at_mut(from);
    // An explicit non-overlapping copy: a plain `head[to] = tail[0]` was
    // still compiled to the overlapping `memmove` for large items.
    // SAFETY: `head` and `tail` are disjoint borrows of `items`, `to <
    // from == head.len()`, and `tail` is not empty (`from < items.len()`).
    unsafe { core::ptr::copy_nonoverlapping(&tail[0], &mut head[to], 1) }
}

/// `*dst = *src`, as a copy the compiler knows does not overlap (a `&mut`
/// and a `&` never do). A plain assignment of a large item whose source
/// has been lent elsewhere in the function was compiled to `memmove`.
pub(crate) fn put<T: Copy>(dst: &mut T, src: &T) {
    // SAFETY: both are valid, aligned references to a `T`; a `&mut` and a
    // `&` cannot point into the same memory.
    unsafe { core::ptr::copy_nonoverlapping(src, dst, 1) }
}

#[cfg(test)]
mod tests {
    use super::{copy_down, insert, put};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn put_copies() {
        let (mut a, b) = ([0u8; 64], [7u8; 64]);
        put(&mut a, &b);
        assert_eq!(a, b);
    }

    #[test]
    fn copies_down_only_from_above() {
        let mut a = [1, 2, 3, 4];
        copy_down(&mut a, 3, 1);
        assert_eq!(a, [1, 4, 3, 4]);
        copy_down(&mut a, 0, 2);
        copy_down(&mut a, 2, 2);
        copy_down(&mut a, 9, 0);
        assert_eq!(a, [1, 4, 3, 4]);
    }

    #[test]
    fn inserts_in_the_middle_at_the_ends_and_drops_the_last_when_full() {
        let mut a = [0u8; 4];
        let mut len = 0;
        len = insert(&mut a, len, 0, 5);
        len = insert(&mut a, len, 0, 1);
        len = insert(&mut a, len, 2, 9);
        len = insert(&mut a, len, 2, 7);
        assert_eq!((len, a), (4, [1, 5, 7, 9]));
        // Full: the last falls off.
        len = insert(&mut a, len, 1, 3);
        assert_eq!((len, a), (4, [1, 3, 5, 7]));
        // Full, at the end: nothing fits.
        assert_eq!(insert(&mut a, len, 4, 8), 4);
        assert_eq!(a, [1, 3, 5, 7]);
        // Past the length: refused.
        assert_eq!(insert(&mut a[..], 2, 3, 0), 2);
        assert_eq!(a, [1, 3, 5, 7]);
    }
}
