//! The committed golden log images (`tests/golden/*.bslog`) and the check
//! every target runs on them: the host (`tests/tests/golden.rs`), aarch64
//! under QEMU and wasm32 call [`check_all`]; the no-heap firmware calls
//! `bindspace_core::log::golden::check` on the same bytes.
//!
//! The images are made by `cargo run -p bindspace-tests --bin make_golden`
//! from the scripts in `bindspace_core::log::golden::VECTORS`, and never
//! change (a change of bytes is a change of format).

use bindspace_core::log::golden::{check, GoldenError, Vector, VECTORS};

/// Every golden image, by file name, as committed.
pub const IMAGES: &[(&str, &[u8])] = &[
    (
        "basic-w64-a8.bslog",
        include_bytes!("../golden/basic-w64-a8.bslog"),
    ),
    (
        "default-w8192-a8.bslog",
        include_bytes!("../golden/default-w8192-a8.bslog"),
    ),
    (
        "packed-w256-a1.bslog",
        include_bytes!("../golden/packed-w256-a1.bslog"),
    ),
];

/// Why the golden images do not check out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A vector has no committed image.
    Missing(&'static str),
    /// A committed image does not open to its vector's space.
    Check(&'static str, GoldenError),
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Missing(file) => write!(f, "golden image {file} is not committed"),
            Failure::Check(file, e) => write!(f, "golden image {file}: {e}"),
        }
    }
}

/// The committed bytes of `vector`.
pub fn image_of(vector: &Vector) -> Option<&'static [u8]> {
    IMAGES
        .iter()
        .find(|(name, _)| *name == vector.file)
        .map(|(_, bytes)| *bytes)
}

/// Opens every committed golden image on this target and checks it against
/// its vector; returns how many were checked.
pub fn check_all() -> Result<usize, Failure> {
    for v in VECTORS {
        let image = image_of(v).ok_or(Failure::Missing(v.file))?;
        check(v, image).map_err(|e| Failure::Check(v.file, e))?;
    }
    Ok(VECTORS.len())
}
