//! Creating a data directory and its missing parents so that they survive
//! a power cut: a new directory's entry lives in its parent, and only an
//! fsync of the parent makes it durable. Without it, a store created in
//! `a/b/data` could acknowledge commits and lose the whole directory.

use std::io;
use std::path::Path;

/// Creates `dir` and every missing ancestor, farthest first, calling
/// `sync_dir` on the parent of each directory it created (`.` for a
/// relative path's first component). A directory that already exists is
/// left alone, and so is its parent.
pub(crate) fn create_dirs_durably(
    dir: &Path,
    mut sync_dir: impl FnMut(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = dir;
    loop {
        match std::fs::metadata(at) {
            Ok(meta) if meta.is_dir() => break,
            // A file in the way: create_dir below says so.
            Ok(_) => {
                missing.push(at);
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(at),
            Err(e) => return Err(e),
        }
        match at.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => at = parent,
            _ => break,
        }
    }
    for created in missing.into_iter().rev() {
        match std::fs::create_dir(created) {
            Ok(()) => {}
            // Made by someone else meanwhile: theirs to sync.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && created.is_dir() => continue,
            Err(e) => return Err(e),
        }
        let parent = match created.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        sync_dir(parent)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn synced_for(dir: &Path) -> Vec<PathBuf> {
        let mut synced = Vec::new();
        create_dirs_durably(dir, |p| {
            synced.push(p.to_path_buf());
            Ok(())
        })
        .unwrap();
        synced
    }

    #[test]
    fn each_created_directory_is_synced_into_its_parent() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/data");
        let synced = synced_for(&dir);
        assert!(dir.is_dir());
        let r = root.path();
        assert_eq!(synced, vec![r.to_path_buf(), r.join("a"), r.join("a/b")]);
        // All there now: nothing created, nothing synced.
        assert!(synced_for(&dir).is_empty());
        // One level missing: only its parent.
        assert_eq!(synced_for(&r.join("a/b/other")), vec![r.join("a/b")]);
    }

    #[test]
    fn a_file_in_the_way_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let err = create_dirs_durably(&file.join("data"), |_| Ok(())).unwrap_err();
        assert_ne!(err.kind(), io::ErrorKind::NotFound, "{err}");
        assert!(create_dirs_durably(&file, |_| Ok(())).is_err());
    }
}
