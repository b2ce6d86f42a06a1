//! A store opened by a relative path, in a process that then changes its
//! working directory. Its own test binary with one test: the working
//! directory belongs to the whole process.

mod store_support;

use bindspace_core::mutation::Mutation;
use bindspace_core::Addr;
use bindspace_host::store::Store;
use store_support::small_options;

/// Defect: the store kept the path it was opened with and built every
/// later file's path from it, so after a `chdir` (as daemons do) new
/// segments and snapshots went into another directory of that name,
/// unlocked, and acknowledged commits were missing from the real one.
/// Now the path is made absolute at open.
#[test]
fn a_store_opened_by_a_relative_path_stays_where_it_was_opened() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::env::set_current_dir(&a).unwrap();
    // Small segments: the commits below rotate several times.
    let store = Store::open("data", small_options(1, 4096)).unwrap();
    std::env::set_current_dir(&b).unwrap();
    let n = 200u16;
    for i in 0..n {
        store
            .commit(&[Mutation::Set {
                addr: Addr(i),
                fp: &[u64::from(i) + 1],
            }])
            .unwrap();
        if i == n / 2 {
            store.checkpoint().unwrap();
        }
    }
    store.compact().unwrap();
    drop(store);
    assert!(
        !b.join("data").exists(),
        "files were written under the new working directory"
    );
    let reopened = Store::open(a.join("data"), small_options(1, 4096)).unwrap();
    let view = reopened.view();
    assert_eq!(view.len(), usize::from(n));
    for i in 0..n {
        assert_eq!(view.get(Addr(i)).map(|e| e.fp[0]), Some(u64::from(i) + 1));
    }
}
