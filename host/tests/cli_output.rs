//! What the `bindspace` program does when its output cannot be written:
//! standard output closed by its reader or full, an export that fails
//! midway, an export cut short and imported.

mod cli_support;

use cli_support::{bindspace, path, stdout_of, BIN};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// A store of `n` text entries at width 256 in `dir/data`; its
/// `--data-dir` and `--width` arguments.
fn store_of(dir: &Path, n: usize) -> [String; 4] {
    let data = dir.join("data");
    let lines = dir.join(format!("lines-{n}.txt"));
    let text: String = (0..n).map(|i| format!("sentence number {i}\n")).collect();
    std::fs::write(&lines, text).unwrap();
    let d = [
        "--data-dir".to_string(),
        path(&data).to_string(),
        "--width".to_string(),
        "256".to_string(),
    ];
    let d_ref: Vec<&str> = d.iter().map(String::as_str).collect();
    stdout_of(&[&["import"][..], &d_ref, &[path(&lines)]].concat());
    d
}

/// An exit a shell pipeline accepts from a writer whose reader went away:
/// success, or death by SIGPIPE.
fn quiet_exit(status: ExitStatus) -> bool {
    status.success() || status.signal() == Some(13)
}

#[test]
fn a_reader_that_goes_away_stops_every_printing_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = store_of(dir.path(), 300);
    let d: Vec<&str> = d.iter().map(String::as_str).collect();
    let export = dir.path().join("export.bslog");
    let lines = dir.path().join("lines-300.txt");
    let commands: Vec<Vec<&str>> = vec![
        vec!["demo"],
        [&["search"][..], &d, &["sentence number 7", "-k", "128"]].concat(),
        [&["get"][..], &d, &["0x10:01"]].concat(),
        [&["stats"][..], &d].concat(),
        [&["check"][..], &d].concat(),
        [&["export"][..], &d, &[path(&export)]].concat(),
        [&["import"][..], &d, &[path(&lines)]].concat(),
        [&["compact"][..], &d].concat(),
        [&["repair"][..], &d].concat(),
    ];
    for args in commands {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before the program has opened anything, let
        // alone written: its first write meets a broken pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            quiet_exit(out.status),
            "{args:?}: {:?} {stderr}",
            out.status
        );
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
    // The work was done all the same.
    assert!(export.exists());
}

#[test]
fn a_full_standard_output_is_one_line_and_a_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let d = store_of(dir.path(), 20);
    let d: Vec<&str> = d.iter().map(String::as_str).collect();
    for args in [
        vec!["demo"],
        [&["search"][..], &d, &["sentence number 7"]].concat(),
        [&["stats"][..], &d].concat(),
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(BIN).args(&args).stdout(full).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("bindspace: error: cannot write to standard output: "),
            "{args:?}: {stderr}"
        );
    }
}

/// The files in `dir`, by name.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_export_that_fails_midway_leaves_the_previous_one_intact() {
    let dir = tempfile::tempdir().unwrap();
    let d = store_of(dir.path(), 3);
    let d: Vec<&str> = d.iter().map(String::as_str).collect();
    let out_dir = dir.path().join("exports");
    std::fs::create_dir(&out_dir).unwrap();
    let export = out_dir.join("export.bslog");
    stdout_of(&[&["export"][..], &d, &[path(&export)]].concat());
    let good = std::fs::read(&export).unwrap();
    assert!(good.len() < 4096, "{}", good.len());
    // Now a store whose export is far larger than the file size limit.
    let more = dir.path().join("more.txt");
    let text: String = (0..300).map(|i| format!("another line {i}\n")).collect();
    std::fs::write(&more, text).unwrap();
    stdout_of(&[&["import"][..], &d, &["--start", "0x20:00", path(&more)]].concat());

    // A file size limit of 8 blocks (4 KiB in dash's 512-byte blocks,
    // 8 KiB in bash's): the export's writes fail partway with EFBIG, as
    // they would on a full disk (SIGXFSZ ignored, so the write returns
    // the error instead of killing the program).
    let out = Command::new("/bin/sh")
        .args([
            "-c",
            "ulimit -f 8 && trap '' XFSZ && exec \"$0\" \"$@\"",
            BIN,
        ])
        .args([&["export"][..], &d, &[path(&export)]].concat())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        std::fs::read(&export).unwrap() == good,
        "the previous export was changed"
    );
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert!(stderr.contains("left as it was"), "{stderr}");
    // No temporary file is left beside it.
    assert_eq!(names(&out_dir), ["export.bslog"]);

    // Without the limit the new export replaces the old one.
    let done = stdout_of(&[&["export"][..], &d, &[path(&export)]].concat());
    assert!(done.contains("exported 303 entries"), "{done}");
    assert_eq!(names(&out_dir), ["export.bslog"]);
}

/// The offset in "... from byte N on ..." of an import's error.
fn offset_in(stderr: &str) -> u64 {
    let rest = stderr.split("from byte ").nth(1).expect(stderr);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect(stderr)
}

#[test]
fn importing_a_cut_short_export_fails_naming_the_offset_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = store_of(dir.path(), 50);
    let d: Vec<&str> = d.iter().map(String::as_str).collect();
    let export = dir.path().join("export.bslog");
    stdout_of(&[&["export"][..], &d, &[path(&export)]].concat());
    let good = std::fs::read(&export).unwrap();
    // Cut inside the last record, as a full disk or a copy stopped short
    // leaves it.
    let cut = dir.path().join("cut.bslog");
    std::fs::write(&cut, &good[..good.len() - 10]).unwrap();

    let copy: PathBuf = dir.path().join("copy");
    let c = ["--data-dir", path(&copy)];
    let out = bindspace(&[&["import"][..], &c, &["--format", "log", path(&cut)]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(path(&cut)), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(!copy.exists(), "a refused import created the store");

    // The error says where the whole records end: cut there, the file
    // imports every entry but the torn one.
    let at = offset_in(&stderr);
    assert!(at < good.len() as u64, "{at}");
    let file = std::fs::OpenOptions::new().write(true).open(&cut).unwrap();
    file.set_len(at).unwrap();
    drop(file);
    let out = stdout_of(&[&["import"][..], &c, &["--format", "log", path(&cut)]].concat());
    assert!(out.contains("imported 49 entries"), "{out}");
}

/// Defect: an export to standard output (`-`, `/dev/stdout`) printed its
/// "exported ..." line after the log, so the log read back was refused as
/// damaged; and when the shell had redirected standard output to a file,
/// that file was replaced by a rename instead of written (an append lost
/// what was there). Now the log is written to standard output as it is
/// and the report goes to standard error.
#[test]
fn an_export_to_standard_output_is_the_log_alone_and_appends_stay_appends() {
    let dir = tempfile::tempdir().unwrap();
    let d = store_of(dir.path(), 20);
    let d: Vec<&str> = d.iter().map(String::as_str).collect();
    for target in ["-", "/dev/stdout"] {
        let log = dir.path().join("appended.log");
        std::fs::write(&log, b"EARLIER\n").unwrap();
        let file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        let out = Command::new(BIN)
            .args([&["export"][..], &d, &[target]].concat())
            .stdout(Stdio::from(file))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{target}: {err}");
        assert!(err.contains("exported 20 entries"), "{target}: {err}");
        let bytes = std::fs::read(&log).unwrap();
        assert!(
            bytes.starts_with(b"EARLIER\n"),
            "{target}: the file was replaced"
        );
        // What followed is the log, whole and alone: it imports back.
        let alone = dir.path().join("alone.log");
        std::fs::write(&alone, &bytes[8..]).unwrap();
        let copy = dir.path().join(format!("copy-{}", target.len()));
        let said = stdout_of(&[
            "import",
            "--data-dir",
            path(&copy),
            "--format",
            "log",
            path(&alone),
        ]);
        assert!(said.contains("imported 20 entries"), "{target}: {said}");
    }
}
