//! The data directory as the operating system has it: files that are not
//! the store's, symlinks, and a store opened by a relative path.

mod store_support;

use bindspace_core::mutation::Mutation;
use bindspace_core::Addr;
use bindspace_host::store::Store;
use std::path::Path;
use std::path::PathBuf;
use store_support::small_options;

fn commit(store: &Store, addr: u16, word: u64) {
    store
        .commit(&[Mutation::Set {
            addr: Addr(addr),
            fp: &[word],
        }])
        .unwrap();
}

/// The segment files in `dir`, in name order.
fn segments(dir: &Path) -> Vec<PathBuf> {
    names_in(dir)
        .into_iter()
        .filter(|n| n.starts_with("wal-"))
        .map(|n| dir.join(n))
        .collect()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Defect: opening removed every file ending in `.tmp` as an unfinished
/// checkpoint, so a user's `draft.tmp` beside the data, or anything in
/// `/tmp` when that was the data directory, was deleted. Only the
/// store's own unfinished snapshots go.
#[test]
fn opening_removes_only_the_stores_own_unfinished_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = ["draft.tmp", "snap-notes.snap.tmp", "wal.tmp"];
    for name in theirs {
        std::fs::write(dir.path().join(name), b"someone's work").unwrap();
    }
    let ours = "snap-0000000000000005-0000000000000002.snap.tmp";
    std::fs::write(dir.path().join(ours), b"half a snapshot").unwrap();
    drop(Store::open(dir.path(), small_options(1, 1 << 20)).unwrap());
    let names = names_in(dir.path());
    for name in theirs {
        assert!(names.iter().any(|n| n == name), "{name} was removed");
        assert_eq!(
            std::fs::read(dir.path().join(name)).unwrap(),
            b"someone's work"
        );
    }
    assert!(!names.iter().any(|n| n == ours), "{names:?}");
}

/// Defect: the listing skipped symlinks, so a segment replaced by a link
/// to its file was missed, the store looked empty, and its first new
/// segment (of the same name) truncated the file behind the link. Now
/// the link is listed and refused by name; the file is left whole.
#[test]
fn a_symlinked_segment_is_refused_and_the_file_behind_it_left_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = Store::open(&data, small_options(1, 1 << 20)).unwrap();
    for i in 0..10 {
        commit(&store, i, u64::from(i) + 1);
    }
    drop(store);
    let segment = segments(&data).pop().expect("a segment");
    let elsewhere = dir.path().join("moved.log");
    std::fs::rename(&segment, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &segment).unwrap();
    let before = std::fs::read(&elsewhere).unwrap();
    for _ in 0..2 {
        let err = Store::open(&data, small_options(1, 1 << 20))
            .map(|_| "opened")
            .unwrap_err();
        let name = segment.file_name().unwrap().to_str().unwrap();
        // Refused as recovery reads it, before anything is created.
        let text = err.to_string();
        assert!(text.starts_with("reading") && text.contains(name), "{err}");
    }
    assert_eq!(std::fs::read(&elsewhere).unwrap(), before);
    // Put back, it opens with every commit.
    std::fs::remove_file(&segment).unwrap();
    std::fs::rename(&elsewhere, &segment).unwrap();
    let store = Store::open(&data, small_options(1, 1 << 20)).unwrap();
    assert_eq!(store.view().len(), 10);
}
