//! The screen of a block of distances against a search's cut: which groups
//! of rows hold a distance that could still enter the top k.
//!
//! It is written once here and compiled into each instruction set's kernel
//! (under that set's `#[target_feature]`, see `instruction_set!`), so the
//! compare is vectorised as wide as the CPU allows: measured on Zen 4, with
//! the screen at the baseline SSE2 width the search spent ~11% beyond its
//! one-to-many kernel at 1,024 bits, most of it here.

/// Distances per group: one bit of the screen's answer.
pub(crate) const GROUP: usize = 64;
/// Distances one screen looks at, at most (one bit per group in a `u64`).
pub(crate) const MAX_DISTANCES: usize = 64 * GROUP;

/// Bit `g` is set when some distance in `ds[g * GROUP..(g + 1) * GROUP]`
/// is at or below `cut`; distances past [`MAX_DISTANCES`] are not looked at.
///
/// Branch-free within a group so the compiler can vectorise it. Distances
/// are at most 16,384 bits, so they and the clamped cut compare correctly
/// as `i32` (a signed compare exists on every vector instruction set; an
/// unsigned one does not).
#[inline(always)]
pub(crate) fn groups_at_or_below(ds: &[u32], cut: u32) -> u64 {
    let cut = cut.min(i32::MAX as u32) as i32;
    let mut groups = 0u64;
    for (g, group) in ds.chunks(GROUP).take(64).enumerate() {
        let any = group
            .iter()
            .fold(0u32, |acc, &d| acc | u32::from(d as i32 <= cut));
        groups |= u64::from(any) << g;
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn marks_exactly_the_groups_with_a_distance_at_or_below_the_cut() {
        let mut ds = [500u32; 3 * GROUP + 5];
        assert_eq!(groups_at_or_below(&ds, 499), 0);
        assert_eq!(groups_at_or_below(&ds, 500), 0b1111);
        ds[GROUP + 7] = 499;
        ds[3 * GROUP + 4] = 10;
        assert_eq!(groups_at_or_below(&ds, 499), 0b1010);
        assert_eq!(groups_at_or_below(&ds, 10), 0b1000);
        assert_eq!(groups_at_or_below(&ds, 9), 0);
        // A cut above i32::MAX (no cut yet) lets every group through.
        assert_eq!(groups_at_or_below(&ds, u32::MAX), 0b1111);
        assert_eq!(groups_at_or_below(&[], u32::MAX), 0);
    }

    #[test]
    fn looks_at_no_more_than_64_groups() {
        let ds = [0u32; MAX_DISTANCES + GROUP];
        assert_eq!(groups_at_or_below(&ds, 0), u64::MAX);
    }
}
