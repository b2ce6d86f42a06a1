//! DN.* through the command language agrees with the space's own path
//! functions (`Space::dn_set`, `dn_get`, `dn_children`, `dn_parent`): the
//! same addresses, labels, parents and fingerprints, through collisions in
//! probe windows, deleted ancestors and their orphans.

mod commands_support;

use bindspace_core::space::{path_home, Filter, Lent, Space};
use bindspace_core::{Addr, Width};
use commands_support::{hex_of, leaked_space, Harness};
use proptest::prelude::*;

const LABELS: [&str; 4] = ["a", "b", "cat", "dog"];

#[derive(Clone, Debug)]
enum Op {
    /// DN.SET of this path with this fingerprint.
    Set(Vec<usize>, u64),
    /// An unrelated entry at (an address near) the home address of this
    /// path's last component, so the path has to probe past it.
    Occupy(Vec<usize>, u16),
    /// Delete the entry this path names, leaving its children orphaned.
    Delete(Vec<usize>),
}

fn path_text(p: &[usize]) -> String {
    p.iter().map(|&i| LABELS[i]).collect::<Vec<_>>().join("/")
}

fn op() -> impl Strategy<Value = Op> {
    let path = proptest::collection::vec(0..LABELS.len(), 1..4);
    prop_oneof![
        5 => (path.clone(), any::<u64>()).prop_map(|(p, f)| Op::Set(p, f)),
        2 => (path.clone(), 0..3u16).prop_map(|(p, o)| Op::Occupy(p, o)),
        1 => path.prop_map(Op::Delete),
    ]
}

/// Every stored entry: address, fingerprint, label, parent.
fn entries(space: &Space<Lent<'static>>) -> Vec<(Addr, u64, String, Option<Addr>)> {
    space
        .iter(Filter::All)
        .map(|e| (e.addr, e.fp[0], e.label.to_string(), e.parent))
        .collect()
}

/// The address of the last component's home, under the parent the path
/// has now (if any).
fn home_of(space: &Space<Lent<'static>>, p: &[usize]) -> Addr {
    let (last, parents) = p.split_last().unwrap();
    let parent = if parents.is_empty() {
        None
    } else {
        space.dn_get(&path_text(parents)).unwrap()
    };
    path_home(parent, LABELS[*last].as_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn commands_agree_with_the_space_path_functions(ops in proptest::collection::vec(op(), 1..30)) {
        let width = Width::from_bits(64).unwrap();
        let mut h = Harness::new(64, 256, 256);
        let mut reference = leaked_space(width, 256, 256);
        let mut version = 1_000_000;
        for op in &ops {
            version += 1;
            match op {
                Op::Set(p, f) => {
                    let path = path_text(p);
                    let got = h.line(&format!("DN.SET {path} {}", hex_of(&[*f])));
                    let want = reference.dn_set(&path, &[*f], version);
                    match want {
                        Ok(a) => prop_assert_eq!(got, format!("\"{a}\"")),
                        Err(e) => prop_assert_eq!(got, format!("(error) ERR {e}")),
                    }
                }
                Op::Occupy(p, offset) => {
                    let home = home_of(&reference, p);
                    let a = Addr(0x8000 | (home.0.wrapping_add(*offset) & 0x7FFF));
                    prop_assert_eq!(h.line(&format!("SET {a} ffffffffffffffff")), "OK");
                    reference.set(a, &[u64::MAX], version).unwrap();
                }
                Op::Delete(p) => {
                    let path = path_text(p);
                    if let Some(a) = reference.dn_get(&path).unwrap() {
                        prop_assert_eq!(h.line(&format!("DEL {a}")), "(integer) 1");
                        reference.delete(a);
                    } else {
                        prop_assert_eq!(h.line(&format!("DN.GET {path}")), "(nil)");
                    }
                }
            }
            prop_assert_eq!(entries(&h.space), entries(&reference), "after {:?}", op);
        }
        // Every path reads the same both ways.
        for a in 0..LABELS.len() {
            for b in 0..=LABELS.len() {
                let p: Vec<usize> = if b == LABELS.len() { vec![a] } else { vec![a, b] };
                let path = path_text(&p);
                let node = reference.dn_get(&path).unwrap();
                prop_assert_eq!(
                    h.line(&format!("DN.GET {path}")),
                    node.map_or("(nil)".to_string(), |a| format!("\"{a}\""))
                );
                let parent = node.and_then(|n| reference.dn_parent(n));
                prop_assert_eq!(
                    h.line(&format!("DN.PARENT {path}")),
                    parent.map_or("(nil)".to_string(), |a| format!("\"{a}\""))
                );
                let children: Vec<(String, Addr)> = node
                    .map(|n| reference.dn_children(n).map(|e| (e.label.to_string(), e.addr)).collect())
                    .unwrap_or_default();
                let want = if children.is_empty() {
                    "(empty array)".to_string()
                } else {
                    let w = children.len().to_string().len();
                    children
                        .iter()
                        .enumerate()
                        .map(|(i, (l, a))| format!(
                            "{:>w$}) 1) \"{l}\"\n{:pad$}2) \"{a}\"",
                            i + 1,
                            "",
                            pad = w + 2
                        ))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                prop_assert_eq!(h.line(&format!("DN.CHILDREN {path}")), want, "{}", path);
            }
        }
    }
}

#[test]
fn ancestors_are_created_with_zero_fingerprints_and_reused() {
    let mut h = Harness::new(64, 64, 64);
    let leaf = h.line("DN.SET x/y/z 0f0f0f0f0f0f0f0f");
    let y = h.line("DN.GET x/y");
    let x = h.line("DN.GET x");
    assert_eq!(
        h.line(&format!("GET {}", y.trim_matches('"'))),
        "\"0000000000000000\""
    );
    assert_eq!(h.line("DN.PARENT x/y/z"), y);
    assert_eq!(h.line("DN.PARENT x/y"), x);
    assert_eq!(h.line("COUNT ZONE nodes"), "(integer) 3");
    // Setting an existing path only replaces the leaf's fingerprint.
    let before = h.space.len();
    assert_eq!(h.line("DN.SET x/y/z ffffffffffffffff"), leaf);
    assert_eq!(h.space.len(), before);
    assert_eq!(
        h.line(&format!("GET {}", leaf.trim_matches('"'))),
        "\"ffffffffffffffff\""
    );
    // Setting an ancestor gives it a fingerprint, keeping its place.
    assert_eq!(h.line("DN.SET x/y 1111111111111111"), y);
    assert_eq!(h.line("DN.GET x/y/z"), leaf);
}
