//! Writes the golden log images, `tests/golden/*.bslog`, from the scripts
//! in `bindspace_core::log::golden::VECTORS`.
//!
//!     cargo run -p bindspace-tests --bin make_golden
//!
//! The images are committed and must never change: `tests/tests/golden.rs`
//! fails if the bytes this writes differ from the committed ones, because
//! different bytes mean a different format (which needs a new format
//! version, docs/FORMAT.md).

use std::path::Path;
use std::process::ExitCode;

use bindspace_core::log::golden::{check, write, VECTORS};

fn main() -> ExitCode {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut image = vec![0u8; 1 << 16];
    for v in VECTORS {
        let n = match write(v, &mut image) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("{}: {e}", v.file);
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = check(v, &image[..n]) {
            eprintln!("{}: the image does not check out: {e}", v.file);
            return ExitCode::FAILURE;
        }
        let path = dir.join(v.file);
        if let Err(e) = std::fs::write(&path, &image[..n]) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {} ({n} bytes)", path.display());
    }
    ExitCode::SUCCESS
}
