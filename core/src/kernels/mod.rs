//! Hamming distance kernels: one-to-one and one-to-many.
//!
//! One algorithm ([`generic`]) is written once over a small private vector
//! trait; each instruction set only implements that trait:
//!
//! | path | module | needs |
//! |---|---|---|
//! | scalar | [`scalar`] | nothing (portable, safe) |
//! | AVX2 | [`x86_64::Avx2`] | `avx2` (+`popcnt`) |
//! | AVX-512 | [`x86_64::Avx512`] | `avx512f` + `avx512vl` + `avx512vpopcntdq` |
//! | NEON | [`aarch64::Neon`] | `neon` (baseline on aarch64) |
//! | simd128 | [`wasm32::Simd128`] | `simd128` |
//!
//! Every instruction-set type has the same face: `is_available()` (decided
//! at compile time here, by `cfg(target_feature)`), `new() -> Option<Self>`,
//! `unsafe fn new_unchecked()` for callers that checked the CPU at run time
//! (the host crate does, with `is_x86_feature_detected!`), and `kernel()`
//! which erases the type into a [`Kernel`].

mod fused;
mod generic;
pub mod scalar;
pub(crate) mod screen;

/// Declares an instruction-set type with the common face: `is_available`,
/// `new`, `new_unchecked`, `kernel`, and the `#[target_feature]` entry
/// points that instantiate [`generic`] for its vector type.
// Targets without a SIMD path (Cortex-M) only have the scalar kernel.
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "wasm32"
    )),
    allow(unused_macros)
)]
macro_rules! instruction_set {
    (
        $(#[$doc:meta])*
        $name:ident, $label:literal, vector = $vector:ty,
        features = $features:literal, cfg = ($($cfg:tt)*)
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name {
            _present: (),
        }

        impl $name {
            /// Whether this build was compiled with the instruction set
            /// enabled (`cfg(target_feature)`); run-time detection lives in
            /// the host crate.
            pub const fn is_available() -> bool {
                cfg!($($cfg)*)
            }

            /// The kernel, if [`Self::is_available`].
            pub fn new() -> Option<Self> {
                if Self::is_available() {
                    // SAFETY: the instruction set is enabled at compile time.
                    Some(unsafe { Self::new_unchecked() })
                } else {
                    None
                }
            }

            /// The kernel, without checking.
            ///
            /// # Safety
            #[doc = concat!("The CPU must support `", $features, "`.")]
            pub const unsafe fn new_unchecked() -> Self {
                $name { _present: () }
            }

            /// This instruction set as a type-erased [`crate::kernels::Kernel`].
            pub const fn kernel(self) -> crate::kernels::Kernel {
                // SAFETY: `self` exists, so the instruction set is present.
                unsafe {
                    crate::kernels::Kernel::from_parts(
                        $label,
                        distance_raw,
                        distances_raw,
                        screen_raw,
                        Some(pass_raw),
                    )
                }
            }
        }

        /// # Safety
        /// Instruction set present; `a.len() == b.len()`.
        #[target_feature(enable = $features)]
        unsafe fn distance_raw(a: &[u64], b: &[u64]) -> u32 {
            // SAFETY: forwarded contract.
            unsafe { crate::kernels::generic::distance::<$vector>(a, b) }
        }

        /// # Safety
        /// Instruction set present; shapes checked by `check_many`.
        #[target_feature(enable = $features)]
        unsafe fn distances_raw(query: &[u64], arena: &[u64], out: &mut [u32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::kernels::generic::distances::<$vector>(query, arena, out) }
        }

        /// # Safety
        /// Instruction set present.
        #[target_feature(enable = $features)]
        unsafe fn screen_raw(ds: &[u32], cut: u32) -> u64 {
            crate::kernels::screen::groups_at_or_below(ds, cut)
        }

        /// # Safety
        /// Instruction set present; shapes checked by `check_rows`.
        #[target_feature(enable = $features)]
        unsafe fn pass_raw(
            query: &[u64],
            arena: &[u64],
            cut: u32,
            visit: crate::kernels::Visit<'_>,
        ) -> bool {
            // SAFETY: forwarded contract.
            unsafe {
                <$vector as crate::kernels::generic::Vector>::visit_at_or_below(
                    query, arena, cut, visit,
                )
            }
        }
    };
}

#[cfg(target_arch = "aarch64")]
pub mod aarch64;
#[cfg(target_arch = "wasm32")]
pub mod wasm32;
#[cfg(target_arch = "x86_64")]
pub mod x86_64;

use core::fmt;

/// The shapes given to a kernel do not fit together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShapeError {
    /// The two fingerprints have different lengths (in words).
    WidthMismatch {
        /// Words in the first (or the query).
        expected: usize,
        /// Words in the second.
        got: usize,
    },
    /// The query is empty.
    EmptyQuery,
    /// The arena is not a whole number of rows of the query's width.
    RaggedArena {
        /// Words in the arena.
        arena_words: usize,
        /// Words in a row (the query's length).
        row_words: usize,
    },
    /// `out` does not have one slot per arena row.
    OutputLength {
        /// Rows in the arena.
        rows: usize,
        /// Slots in `out`.
        got: usize,
    },
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ShapeError::WidthMismatch { expected, got } => write!(
                f,
                "fingerprint width mismatch: {} bits vs {} bits",
                expected * 64,
                got * 64
            ),
            ShapeError::EmptyQuery => f.write_str("query fingerprint is empty"),
            ShapeError::RaggedArena {
                arena_words,
                row_words,
            } => write!(
                f,
                "arena of {arena_words} words is not a whole number of {row_words}-word rows"
            ),
            ShapeError::OutputLength { rows, got } => {
                write!(f, "output has {got} slots for {rows} rows")
            }
        }
    }
}

/// Distance between two equal-length fingerprints. Callers guarantee equal
/// lengths; implementations may assume their instruction set is present.
type OneFn = unsafe fn(&[u64], &[u64]) -> u32;
/// Distances from a query to each row of an arena of `out.len()` rows of
/// `query.len()` words.
type ManyFn = unsafe fn(&[u64], &[u64], &mut [u32]);
/// Which groups of 64 distances hold one at or below a cut
/// ([`screen::groups_at_or_below`], compiled for the instruction set).
type ScreenFn = unsafe fn(&[u32], u32) -> u64;
/// What a fused pass hands each row at or below its cut to: called with
/// the row's number and distance, it returns the new cut.
pub(crate) type Visit<'a> = &'a mut dyn FnMut(usize, u32) -> u32;
/// Hands a visitor every row at or below a cut that the visitor lowers
/// (`Vector::visit_at_or_below`, compiled for the instruction set); false
/// when the instruction set has no fused pass for the query.
type PassFn = unsafe fn(&[u64], &[u64], u32, Visit<'_>) -> bool;

/// A chosen Hamming kernel: a name and two functions.
///
/// A `Kernel` can only be made by [`Kernel::scalar`], [`Kernel::best`] or an
/// instruction-set type's `kernel()`, each of which holds proof that the
/// instruction set is present; that is what makes its methods safe.
#[derive(Clone, Copy)]
pub struct Kernel {
    name: &'static str,
    one: OneFn,
    many: ManyFn,
    screen: ScreenFn,
    // Only x86-64 and wasm32 searches take a fused pass (search/scan.rs).
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "wasm32")),
        allow(dead_code)
    )]
    pass: Option<PassFn>,
}

impl fmt::Debug for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Kernel").field(&self.name).finish()
    }
}

impl Kernel {
    /// # Safety
    /// `one` and `many` must be sound to call with equal-length inputs on
    /// this CPU, `screen` with any input, and `pass` with the shapes
    /// `check_rows` accepts (their instruction set is present).
    pub(crate) const unsafe fn from_parts(
        name: &'static str,
        one: OneFn,
        many: ManyFn,
        screen: ScreenFn,
        pass: Option<PassFn>,
    ) -> Self {
        Kernel {
            name,
            one,
            many,
            screen,
            pass,
        }
    }

    /// The portable scalar kernel, available everywhere.
    pub const fn scalar() -> Kernel {
        // SAFETY: the scalar functions use no special instructions.
        unsafe {
            Kernel::from_parts(
                "scalar",
                scalar::distance_raw,
                scalar::distances_raw,
                scalar::screen_raw,
                None,
            )
        }
    }

    /// The fastest kernel this build was compiled for, chosen at compile
    /// time by `cfg(target_feature)`. The host crate adds run-time detection.
    pub fn best() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(k) = x86_64::Avx512::new() {
                return k.kernel();
            }
            if let Some(k) = x86_64::Avx2::new() {
                return k.kernel();
            }
        }
        #[cfg(target_arch = "aarch64")]
        if let Some(k) = aarch64::Neon::new() {
            return k.kernel();
        }
        #[cfg(target_arch = "wasm32")]
        if let Some(k) = wasm32::Simd128::new() {
            return k.kernel();
        }
        Kernel::scalar()
    }

    /// The kernel's name: `scalar`, `avx2`, `avx512`, `neon` or `simd128`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Hamming distance between `a` and `b`.
    #[inline]
    pub fn distance(&self, a: &[u64], b: &[u64]) -> Result<u32, ShapeError> {
        if a.len() != b.len() {
            return Err(ShapeError::WidthMismatch {
                expected: a.len(),
                got: b.len(),
            });
        }
        // SAFETY: lengths are equal (checked above) and the kernel's
        // instruction set is present (the `Kernel` invariant).
        Ok(unsafe { (self.one)(a, b) })
    }

    /// Hamming distance from `query` to every row of `arena` (rows of
    /// `query.len()` words, one after another), written to `out`.
    #[inline]
    pub fn distances(
        &self,
        query: &[u64],
        arena: &[u64],
        out: &mut [u32],
    ) -> Result<(), ShapeError> {
        check_many(query, arena, out)?;
        // SAFETY: shapes checked by `check_many`; instruction set present
        // by the `Kernel` invariant.
        unsafe { (self.many)(query, arena, out) };
        Ok(())
    }
}

impl Kernel {
    /// Bit `g` is set when some distance in `ds[64 * g..64 * (g + 1)]` is
    /// at or below `cut` (at most 64 groups are looked at): the search's
    /// screen of a block, vectorised for this kernel's instruction set.
    #[inline]
    pub(crate) fn groups_at_or_below(&self, ds: &[u32], cut: u32) -> u64 {
        // SAFETY: any input is sound; the instruction set is present (the
        // `Kernel` invariant).
        unsafe { (self.screen)(ds, cut) }
    }

    /// Hands `visit` each row of `arena` (rows of `query.len()` words)
    /// whose distance to `query` is at or below the cut (`cut`, then what
    /// `visit` last returned), in no particular order; false, having
    /// visited nothing, when this kernel has no fused pass for the query
    /// ([`fused`]).
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "wasm32")),
        allow(dead_code)
    )]
    #[inline]
    pub(crate) fn visit_at_or_below(
        &self,
        query: &[u64],
        arena: &[u64],
        cut: u32,
        visit: Visit<'_>,
    ) -> Result<bool, ShapeError> {
        check_rows(query, arena)?;
        let Some(pass) = self.pass else {
            return Ok(false);
        };
        // SAFETY: shapes checked above; instruction set present by the
        // `Kernel` invariant.
        Ok(unsafe { pass(query, arena, cut, visit) })
    }
}

/// Checks the shapes of a one-to-many call.
pub(crate) fn check_many(query: &[u64], arena: &[u64], out: &[u32]) -> Result<(), ShapeError> {
    let w = check_rows(query, arena)?;
    if arena.len() / w != out.len() {
        return Err(ShapeError::OutputLength {
            rows: arena.len() / w,
            got: out.len(),
        });
    }
    Ok(())
}

/// Checks that `arena` is whole rows of a non-empty `query`'s width, and
/// returns the width.
fn check_rows(query: &[u64], arena: &[u64]) -> Result<usize, ShapeError> {
    let w = query.len();
    if w == 0 {
        return Err(ShapeError::EmptyQuery);
    }
    if !arena.len().is_multiple_of(w) {
        return Err(ShapeError::RaggedArena {
            arena_words: arena.len(),
            row_words: w,
        });
    }
    Ok(w)
}

#[cfg(test)]
pub(crate) mod tests;
