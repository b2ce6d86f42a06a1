//! The `bindspace` command line, run as a program.

mod cli_support;

use cli_support::{bindspace, path, stdout_of};
use std::path::Path;
use std::process::Command;

#[test]
fn demo_runs_with_nothing_set_up() {
    // No HOME, no data directory: the demo needs neither.
    let out = Command::new(env!("CARGO_BIN_EXE_bindspace"))
        .arg("demo")
        .env_remove("HOME")
        .env_remove("XDG_DATA_HOME")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Encoding 320 sentences"), "{text}");
    // A misspelt query finds the sentence it resembles first.
    let rocket = text
        .split("query \"a rockett lands on the mooon\"")
        .nth(1)
        .unwrap();
    let first = rocket.lines().nth(1).unwrap();
    assert!(first.contains("rocket lands on the moon"), "{first}");
    assert!(text.contains("(integer) 320"), "{text}");
}

#[test]
fn import_search_get_export_and_reimport() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let copy = dir.path().join("copy");
    let lines = dir.path().join("lines.txt");
    std::fs::write(
        &lines,
        "the cat sat on the mat\na dog barks at the moon\nrain falls on the city\n",
    )
    .unwrap();
    let d = ["--data-dir", path(&data), "--width", "256"];
    let out = stdout_of(&[&["import"][..], &d, &[path(&lines)]].concat());
    assert!(out.contains("imported 3 entries"), "{out}");
    let out = stdout_of(&[&["search"][..], &d, &["the cat sat on a mat", "-k", "2"]].concat());
    let first = out.lines().next().unwrap();
    assert_eq!(first, "1) 1) \"0x10:00\"", "{out}");
    let got = stdout_of(&[&["get"][..], &d, &["0x10:01"]].concat());
    assert_eq!(got.trim().len(), 2 + 64, "{got}");
    let stats = stdout_of(&[&["stats"][..], &d].concat());
    assert!(stats.contains("entries:        3"), "{stats}");
    assert!(stats.contains("fluid         3"), "{stats}");

    let log = dir.path().join("export.bslog");
    let out = stdout_of(&[&["export"][..], &d, &[path(&log)]].concat());
    assert!(out.contains("exported 3 entries"), "{out}");
    let c = ["--data-dir", path(&copy), "--width", "256"];
    let out = stdout_of(&[&["import"][..], &c, &["--format", "log", path(&log)]].concat());
    assert!(out.contains("imported 3 entries"), "{out}");
    assert_eq!(got, stdout_of(&[&["get"][..], &c, &["0x10:01"]].concat()));

    let check = stdout_of(&[&["check"][..], &c].concat());
    assert!(
        check.contains("entries:        3") && check.contains(": OK"),
        "{check}"
    );
    let compact = stdout_of(&[&["compact"][..], &c].concat());
    assert!(compact.starts_with("compacted to sequence"), "{compact}");
    assert_eq!(got, stdout_of(&[&["get"][..], &c, &["0x10:01"]].concat()));
}

#[test]
fn raw_fingerprints_import_and_bad_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let raw = dir.path().join("fps.bin");
    let mut bytes = Vec::new();
    for w in [0x0102030405060708u64, u64::MAX] {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    std::fs::write(&raw, &bytes).unwrap();
    let d = ["--data-dir", path(&data), "--width", "64"];
    let out = stdout_of(
        &[
            &["import"][..],
            &d,
            &["--format", "raw", "--start", "0x20:00", path(&raw)],
        ]
        .concat(),
    );
    assert!(out.contains("imported 2 entries"), "{out}");
    assert_eq!(
        stdout_of(&[&["get"][..], &d, &["0x20:00"]].concat()).trim(),
        "\"0807060504030201\""
    );
    std::fs::write(&raw, [1u8, 2, 3]).unwrap();
    let out = bindspace(&[&["import"][..], &d, &["--format", "raw", path(&raw)]].concat());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a whole number"));
}

#[test]
fn errors_are_one_line_with_a_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let nowhere = dir.path().join("nowhere");
    let cases: [&[&str]; 4] = [
        &["get", "--data-dir", path(&data), "0x100:01"],
        &["check", "--data-dir", path(&nowhere)],
        &["stats", "--data-dir", path(&data), "--width", "100"],
        &[
            "serve",
            "--data-dir",
            path(&data),
            "--bind",
            "0.0.0.0",
            "--port",
            "0",
        ],
    ];
    for args in cases {
        let out = bindspace(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("bindspace: error: "), "{err}");
    }
}

/// Every file in `dir`, by name, with its bytes.
fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// `check`, `get`, `search`, `stats` and `export` used to open the store
/// for writing: `check` cut a torn tail (and so could destroy evidence of
/// damage it was asked to look at), and a mistyped `--data-dir` became a
/// new empty store. They now read and change nothing.
#[test]
fn reading_commands_change_nothing_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lines = dir.path().join("lines.txt");
    std::fs::write(&lines, "one\ntwo\nthree\n").unwrap();
    let d = ["--data-dir", path(&data), "--width", "256"];
    stdout_of(&[&["import"][..], &d, &[path(&lines)]].concat());
    // A torn tail: bytes after the last record that are neither a record
    // nor erased.
    let segment = files_of(&data)
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with("wal-"))
        .max()
        .expect("a segment");
    let mut bytes = std::fs::read(data.join(&segment)).unwrap();
    bytes.extend_from_slice(b"not a record");
    std::fs::write(data.join(&segment), &bytes).unwrap();
    let before = files_of(&data);

    let check = stdout_of(&[&["check"][..], &d].concat());
    assert!(
        check.contains(&format!(
            "torn tail:      {}",
            data.join(&segment).display()
        )),
        "{check}"
    );
    assert!(check.contains("entries:        3"), "{check}");
    let export = dir.path().join("out.bslog");
    for args in [
        &["get", "0x10:01"][..],
        &["search", "two", "-k", "1"],
        &["stats"],
        &["export", path(&export)],
    ] {
        stdout_of(&[&args[..1], &d, &args[1..]].concat());
    }
    assert!(
        files_of(&data) == before,
        "a reading command changed the data directory"
    );

    // A directory that does not exist stays that way.
    let typo = dir.path().join("dta");
    for args in [
        &["get", "0x10:01"][..],
        &["stats"],
        &["search", "two"],
        &["check"],
    ] {
        let out = bindspace(&[&args[..1], &["--data-dir", path(&typo)], &args[1..]].concat());
        assert!(
            !out.status.success(),
            "{args:?} succeeded on a missing directory"
        );
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }

    // A writer opening it cuts the tail, as recovery does after a crash.
    stdout_of(&[&["compact"][..], &d].concat());
    let check = stdout_of(&[&["check"][..], &d].concat());
    assert!(check.contains("torn tail:      none"), "{check}");
    assert!(check.contains("entries:        3"), "{check}");
}

/// A store is read at its own width: after it was created at 256 bits,
/// reading commands need no `--width`; a wrong `--width` is refused with
/// what to do instead.
#[test]
fn a_store_is_read_at_its_own_width() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lines = dir.path().join("lines.txt");
    std::fs::write(&lines, "one\ntwo\nthree\n").unwrap();
    let d = ["--data-dir", path(&data)];
    stdout_of(&[&["import", "--width", "256"][..], &d, &[path(&lines)]].concat());
    let stats = stdout_of(&[&["stats"][..], &d].concat());
    assert!(stats.contains("width:          256 bits"), "{stats}");
    assert!(stats.contains("entries:        3"), "{stats}");
    let search = stdout_of(&[&["search", "two", "-k", "1"][..], &d].concat());
    assert!(search.contains("0x10:01"), "{search}");
    // A second import without --width writes at the store's width.
    stdout_of(&[&["import", "--start", "0x11:00"][..], &d, &[path(&lines)]].concat());
    let stats = stdout_of(&[&["stats"][..], &d].concat());
    assert!(stats.contains("entries:        6"), "{stats}");
    let out = bindspace(&[&["get", "0x10:01", "--width", "512"][..], &d].concat());
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("leave --width out"), "{err}");
}

/// An import whose input or options are refused creates no store, and
/// `compact` and `repair` refuse a directory that holds none.
#[test]
fn a_refused_import_or_a_mistyped_directory_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lines = dir.path().join("lines.txt");
    std::fs::write(&lines, "one\ntwo\n").unwrap();
    let raw = dir.path().join("odd.raw");
    std::fs::write(&raw, [0u8; 13]).unwrap();
    let d = ["--data-dir", path(&data)];
    let cases: [&[&str]; 5] = [
        &["import", "--start", "zz", path(&lines)],
        &["import", "--start", "0xFF:FF", path(&lines)],
        &["import", "--format", "log", path(&lines)],
        &["import", "--format", "raw", path(&raw)],
        &["compact"],
    ];
    for args in cases.iter().chain([&["repair"][..]].iter()) {
        let out = bindspace(&[&args[..1], &d, &args[1..]].concat());
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!data.exists(), "{args:?} created {}", data.display());
    }
    // A file where a directory should be is called what it is.
    let out = bindspace(&["check", "--data-dir", path(&lines)]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("it is a file"), "{err}");
}

/// `stats` counts what reads see: an entry whose expiry has passed is not
/// among the entries (it was counted as live while GET said nil).
#[test]
fn stats_leaves_expired_entries_out() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    // 0x10:00 never expires; 0x10:01 expires at tick 1 (long past).
    let store = bindspace_host::store::Store::open(
        &copy,
        bindspace_host::store::Options {
            width: bindspace_core::Width::from_bits(64).unwrap(),
            ..Default::default()
        },
    )
    .unwrap();
    let a = bindspace_core::Addr::new(0x10, 0);
    let b = bindspace_core::Addr::new(0x10, 1);
    store
        .commit(&[
            bindspace_core::mutation::Mutation::Set { addr: a, fp: &[1] },
            bindspace_core::mutation::Mutation::Set { addr: b, fp: &[2] },
            bindspace_core::mutation::Mutation::Expire {
                addr: b,
                at: Some(1),
            },
        ])
        .unwrap();
    drop(store);
    let c = ["--data-dir", path(&copy)];
    let stats = stdout_of(&[&["stats"][..], &c].concat());
    assert!(stats.contains("entries:        1\n"), "{stats}");
    assert!(stats.contains("expired:        1"), "{stats}");
    let get = stdout_of(&[&["get", "0x10:01"][..], &c].concat());
    assert!(get.contains("(nil)"), "{get}");
}

/// A command line that does not parse is one line and exit status 2;
/// help is clap's own text.
#[test]
fn a_command_line_that_does_not_parse_is_one_line() {
    for args in [
        &["fly"][..],
        &["get"],
        &["serve", "--bind", "localhost"],
        &["serve", "--port", "70000"],
        &["search", "two", "-k", "0"],
        // Out of range is refused, never quietly raised to the minimum.
        &["serve", "--max-request", "10"],
        &["serve", "--idle-timeout", "0"],
        &["serve", "--max-clients", "0"],
    ] {
        let out = bindspace(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("bindspace: error: "), "{err}");
    }
    let missing = String::from_utf8(bindspace(&["get"]).stderr).unwrap();
    assert!(missing.contains("<ADDR>"), "{missing}");
    assert!(bindspace(&["--help"]).status.success());
}

/// A damaged segment that is not the last refuses to open and says how to
/// repair; `bindspace repair` keeps every valid record, says what it
/// dropped, and leaves a directory that opens without repair.
#[test]
fn repair_keeps_every_valid_record_and_removes_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let options = bindspace_host::store::Options {
        width: bindspace_core::Width::from_bits(64).unwrap(),
        segment_bytes: 4096,
        ..Default::default()
    };
    let store = bindspace_host::store::Store::open(&data, options).unwrap();
    for i in 0..200u16 {
        store
            .commit(&[bindspace_core::mutation::Mutation::Set {
                addr: bindspace_core::Addr(0x1000 + i),
                fp: &[u64::from(i)],
            }])
            .unwrap();
    }
    drop(store);
    let first = files_of(&data)
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with("wal-"))
        .min()
        .unwrap();
    let mut bytes = std::fs::read(data.join(&first)).unwrap();
    bytes[200] ^= 0x40;
    std::fs::write(data.join(&first), &bytes).unwrap();
    let d = ["--data-dir", path(&data)];
    let out = bindspace(&[&["stats"][..], &d].concat());
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bindspace repair --data-dir"), "{err}");
    let repaired = stdout_of(&[&["repair"][..], &d].concat());
    assert!(repaired.contains("skipped damage in "), "{repaired}");
    let stats = stdout_of(&[&["stats"][..], &d].concat());
    let entries: usize = stats
        .lines()
        .find_map(|l| l.strip_prefix("entries:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!((190..200).contains(&entries), "{stats}");
    assert!(stdout_of(&[&["check"][..], &d].concat()).contains("OK"));
}
