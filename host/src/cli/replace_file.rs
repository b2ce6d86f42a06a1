//! Writing a whole file so that it is replaced all at once or not at all.
//! `bindspace export` wrote in place: a write that failed midway (a full
//! disk) had already destroyed the previous export and left a cut-short
//! file, and nothing was synced.
//!
//! Only a regular file (or a new one) is replaced so: a device or a pipe
//! (`bindspace export /dev/stdout`) is written to as before, since there
//! is nothing to rename over, and renaming over `/dev/stdout` would
//! replace the link itself.

use super::CliError;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Makes `target` hold `bytes`, durably: they are written to a temporary
/// file beside it, synced, renamed over it, and the directory is synced.
/// On failure the temporary file is removed and a previous `target` is
/// untouched, which the error says (but for a failure of the last sync,
/// after which the new file is in place, not known to be on disk).
pub(crate) fn replace_file(target: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let cannot = |e: io::Error| CliError(format!("cannot write {}: {e}", target.display()));
    let (real, permissions) = match std::fs::metadata(target) {
        Ok(m) if !m.is_file() && !m.is_dir() => {
            return std::fs::write(target, bytes).map_err(cannot)
        }
        // Through a symbolic link to the file it names (the link is
        // kept), with that file's permissions.
        Ok(m) => (
            std::fs::canonicalize(target).map_err(cannot)?,
            Some(m.permissions()),
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (new_file_at(target), None),
        Err(e) => return Err(cannot(e)),
    };
    let dir = write_beside(&real, bytes, permissions).map_err(|e| {
        CliError(format!(
            "cannot write {}: {e}; any file there before is left as it was",
            target.display()
        ))
    })?;
    sync_dir(dir).map_err(|e| {
        CliError(format!(
            "{} was written, but its directory could not be synced, so it may not survive a power loss: {e}",
            target.display()
        ))
    })
}

/// Where a new file named `target` is made: through a symbolic link that
/// names a file not there yet (the link is kept, as writing through it
/// would keep it), else `target` itself.
fn new_file_at(target: &Path) -> std::path::PathBuf {
    match std::fs::read_link(target) {
        Ok(to) => match target.parent() {
            Some(dir) => dir.join(to),
            None => to,
        },
        Err(_) => target.to_path_buf(),
    }
}

/// Writes and syncs `bytes` in a temporary file beside `target` and
/// renames it over `target`; returns the directory that holds both. A
/// new file gets `permissions`, else those `std::fs::write` gives one.
fn write_beside<'a>(
    target: &'a Path,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
) -> io::Result<&'a Path> {
    let Some(name) = target.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not end in a file name",
        ));
    };
    // The same directory, so that the rename stays in one file system
    // and is atomic.
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Not the temporary file's owner-only permissions: those of the file
    // replaced, or for a new one 0o666 less the umask.
    builder.permissions(permissions.unwrap_or_else(|| PermissionsExt::from_mode(0o666)));
    // Dropped on any error before the rename: the file is removed then.
    let mut temp = builder.tempfile_in(dir)?;
    // Through the file, not the wrapper: its errors name the temporary
    // path, which is gone by the time the error is read.
    temp.as_file_mut().write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(target).map_err(|e| e.error)?;
    Ok(dir)
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::replace_file;

    #[test]
    fn replaces_a_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bslog");
        std::fs::write(&target, b"old").unwrap();
        replace_file(&target, b"new contents").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new contents");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_link_to_a_file_not_there_yet_is_kept_and_the_file_made() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
        let link = dir.path().join("out.bslog");
        std::os::unix::fs::symlink("elsewhere/made.bslog", &link).unwrap();
        replace_file(&link, b"contents").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let made = dir.path().join("elsewhere/made.bslog");
        assert_eq!(std::fs::read(made).unwrap(), b"contents");
    }

    #[test]
    fn a_failed_rename_keeps_the_old_target_and_removes_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory cannot be renamed over by a file.
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("kept"), b"old").unwrap();
        assert!(replace_file(&target, b"new").is_err());
        assert_eq!(std::fs::read(target.join("kept")).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
