//! Every way a command can be refused: the exact error a user sees, and
//! that the refusal changed nothing (no mutation planned, the space's
//! generation counter unmoved).

mod commands_support;

use bindspace_core::command::{
    self, Context, ErrorKind, Input, Reply, Scratch, Session, ARGS_MAX, BATCH_MAX, WATCH_MAX,
};
use bindspace_core::space::{path_home, PATH_DEPTH_MAX};
use bindspace_core::Addr;
use commands_support::{render, Harness};

const FP: &str = "0f0f0f0f0f0f0f0f";

/// A 64-bit space holding 0x10:01 (and 0x10:02, expired at tick 5).
fn harness() -> Harness {
    let mut h = Harness::new(64, 64, 16);
    assert_eq!(h.line(&format!("SET 0x10:01 {FP}")), "OK");
    assert_eq!(h.line(&format!("SET 0x10:02 {FP}")), "OK");
    assert_eq!(h.line("EXPIRE 0x10:02 5"), "(integer) 1");
    h.now = 10;
    h
}

/// Runs `line` twice: dry (must plan no mutation) and for real (must
/// leave the space's generation as it was); both must print `expected`.
fn refused(h: &mut Harness, line: &str, expected: &str) {
    let before = h.space.generation();
    let (dry, planned) = h.dry(line);
    assert_eq!(dry, expected, "dry run of {line:?}");
    assert_eq!(planned, 0, "{line:?} planned mutations");
    assert_eq!(h.line(line), expected, "{line:?}");
    assert_eq!(h.space.generation(), before, "{line:?} changed the space");
}

fn refused_argv(h: &mut Harness, args: &[&[u8]], expected: &str) {
    let before = h.space.generation();
    assert_eq!(h.argv(args), expected, "{args:?}");
    assert_eq!(h.space.generation(), before, "{args:?} changed the space");
}

#[test]
fn empty_and_unknown_commands() {
    let mut h = harness();
    refused(&mut h, "", "(error) ERR empty command");
    refused(&mut h, " \t ", "(error) ERR empty command");
    refused_argv(&mut h, &[], "(error) ERR empty command");
    refused(&mut h, "FLY 0x10:01", "(error) ERR unknown command 'FLY'");
    refused(&mut h, "DN.FLY a", "(error) ERR unknown command 'DN.FLY'");
    // Names are quoted safely, and cut short.
    refused_argv(
        &mut h,
        &[b"\xff\x00\"x"],
        "(error) ERR unknown command '\\xff\\x00\"x'",
    );
    let long = "X".repeat(100);
    refused(
        &mut h,
        &long,
        &format!("(error) ERR unknown command '{}...'", "X".repeat(32)),
    );
}

#[test]
fn wrong_number_of_arguments_for_every_command() {
    let mut h = harness();
    for (line, name) in [
        ("PING a b", "PING"),
        ("SET 0x10:01", "SET"),
        ("SET 0x10:01 00 00", "SET"),
        ("GET", "GET"),
        ("GET 0x10:01 0x10:02", "GET"),
        ("DEL", "DEL"),
        ("EXISTS", "EXISTS"),
        ("COUNT ZONE fluid x", "COUNT"),
        ("SCAN a b c d e f g", "SCAN"),
        ("BIND 0x10:01 @0x10:01", "BIND"),
        ("BUNDLE 0x10:01", "BUNDLE"),
        ("PERMUTE 0x10:01 @0x10:01", "PERMUTE"),
        ("HAMMING @0x10:01", "HAMMING"),
        ("ENCODE 0x10:01", "ENCODE"),
        ("ENCODE 0x10:01 the cat", "ENCODE"),
        ("SEARCH", "SEARCH"),
        ("EXPIRE 0x10:01", "EXPIRE"),
        ("PERSIST", "PERSIST"),
        ("DN.SET a", "DN.SET"),
        ("DN.GET", "DN.GET"),
        ("DN.CHILDREN a b", "DN.CHILDREN"),
        ("DN.PARENT", "DN.PARENT"),
        ("MULTI now", "MULTI"),
        ("EXEC now", "EXEC"),
        ("DISCARD all", "DISCARD"),
        ("WATCH", "WATCH"),
        ("UNWATCH 0x10:01", "UNWATCH"),
        ("INFO all", "INFO"),
    ] {
        refused(
            &mut h,
            line,
            &format!("(error) ERR wrong number of arguments for '{name}'"),
        );
    }
}

#[test]
fn bad_addresses() {
    let mut h = harness();
    refused(
        &mut h,
        "GET 0x1001",
        "(error) ERR bad address '0x1001': address must look like 0x80:1F (prefix:slot in hex)",
    );
    refused(
        &mut h,
        "GET 0xG0:01",
        "(error) ERR bad address '0xG0:01': address prefix and slot must be hex digits",
    );
    refused(
        &mut h,
        "DEL 0x10:01 0x10:100",
        "(error) ERR bad address '0x10:100': address prefix and slot must each be at most 0xFF",
    );
    // A bad address anywhere in a list refuses the whole command.
    assert_eq!(h.line("EXISTS 0x10:01"), "(integer) 1");
    refused(
        &mut h,
        "SET @0x10:01 @0x10:01",
        "(error) ERR bad address '@0x10:01': address prefix and slot must be hex digits",
    );
    refused(
        &mut h,
        "SET 0x10:05 @10-01",
        "(error) ERR bad address '10-01': address must look like 0x80:1F (prefix:slot in hex)",
    );
    refused(
        &mut h,
        "WATCH 0x10:01 nowhere",
        "(error) ERR bad address 'nowhere': address must look like 0x80:1F (prefix:slot in hex)",
    );
}

#[test]
fn bad_hex_and_wrong_width() {
    let mut h = harness();
    refused(
        &mut h,
        "SET 0x10:05 0f0f0f0f0f0f0fxg",
        "(error) ERR bad hex in fingerprint at offset 14",
    );
    // The offset counts the 0x prefix.
    refused(
        &mut h,
        "SET 0x10:05 0x0f0f0f0f0f0f0f0z",
        "(error) ERR bad hex in fingerprint at offset 17",
    );
    refused(
        &mut h,
        "SET 0x10:05 0f0f",
        "(error) ERR wrong width (expected 64 bits, got 16 bits)",
    );
    refused(
        &mut h,
        &format!("SET 0x10:05 {FP}00"),
        "(error) ERR wrong width (expected 64 bits, got 72 bits)",
    );
    refused(
        &mut h,
        "SET 0x10:05 0x",
        "(error) ERR wrong width (expected 64 bits, got 0 bits)",
    );
    refused(
        &mut h,
        &format!("BIND 0x10:05 {FP} 0f"),
        "(error) ERR wrong width (expected 64 bits, got 8 bits)",
    );
    refused(
        &mut h,
        &format!("BUNDLE 0x10:05 {FP} {FP} 0f"),
        "(error) ERR wrong width (expected 64 bits, got 8 bits)",
    );
    refused(
        &mut h,
        "HAMMING 00 @0x10:01",
        "(error) ERR wrong width (expected 64 bits, got 8 bits)",
    );
    refused(
        &mut h,
        "SEARCH 0f0f",
        "(error) ERR wrong width (expected 64 bits, got 16 bits)",
    );
    refused(
        &mut h,
        "DN.SET a/b 0f0f",
        "(error) ERR wrong width (expected 64 bits, got 16 bits)",
    );
}

#[test]
fn bad_numbers_and_options() {
    let mut h = harness();
    for v in ["x", "+5", "-", "1.5", "99999999999999999999", "0x10"] {
        refused(
            &mut h,
            &format!("PERMUTE 0x10:05 @0x10:01 {v}"),
            &format!("(error) ERR value '{v}' is not an integer or out of range"),
        );
    }
    refused(
        &mut h,
        "SEARCH @0x10:01 COUNT 129",
        "(error) ERR COUNT out of range: got 129, allowed 1..=128",
    );
    refused(
        &mut h,
        "SCAN COUNT 0",
        "(error) ERR COUNT out of range: got 0, allowed 1..=1024",
    );
    refused(
        &mut h,
        "SCAN COUNT 1025",
        "(error) ERR COUNT out of range: got 1025, allowed 1..=1024",
    );
    refused(
        &mut h,
        "SCAN CURSOR 65536",
        "(error) ERR CURSOR out of range: got 65536, allowed 0..=65535",
    );
    refused(
        &mut h,
        "SEARCH @0x10:01 MAXDIST -1",
        "(error) ERR MAXDIST out of range: got -1, allowed 0..=16384",
    );
    refused(
        &mut h,
        "EXPIRE 0x10:01 -1",
        "(error) ERR ticks out of range: got -1, allowed 0..=9223372036854775807",
    );
    refused(
        &mut h,
        "SEARCH @0x10:01 COUNT",
        "(error) ERR option COUNT needs a value",
    );
    refused(
        &mut h,
        "SCAN CURSOR",
        "(error) ERR option CURSOR needs a value",
    );
    refused(&mut h, "SCAN ZONE", "(error) ERR option ZONE needs a value");
    refused(
        &mut h,
        "SCAN WITHDIST",
        "(error) ERR syntax error near 'WITHDIST'",
    );
    refused(
        &mut h,
        "COUNT COUNT 3",
        "(error) ERR syntax error near 'COUNT'",
    );
    refused(
        &mut h,
        "SEARCH @0x10:01 ZONE nodes extra",
        "(error) ERR syntax error near 'extra'",
    );
    refused(
        &mut h,
        "SCAN ZONE deep",
        "(error) ERR unknown zone 'deep' (use surface, fluid or nodes)",
    );
}

#[test]
fn expire_far_in_the_future_is_out_of_range() {
    let mut h = harness();
    h.now = u64::MAX - 10;
    assert_eq!(h.line(&format!("SET 0x10:05 {FP}")), "OK");
    refused(
        &mut h,
        "EXPIRE 0x10:05 11",
        "(error) ERR ticks out of range: got 11, allowed 0..=10",
    );
    assert_eq!(h.line("EXPIRE 0x10:05 10"), "(integer) 1");
}

#[test]
fn references_to_missing_or_expired_entries() {
    let mut h = harness();
    for line in [
        "SET 0x10:05 @0x10:09",
        "BIND 0x10:05 @0x10:01 @0x10:09",
        "BUNDLE 0x10:05 @0x10:01 @0x10:09",
        "PERMUTE 0x10:05 @0x10:09 1",
        "HAMMING @0x10:01 @0x10:09",
        "SEARCH @0x10:09",
        "DN.SET a @0x10:09",
    ] {
        refused(&mut h, line, "(error) ERR no entry at @0x10:09");
    }
    // 0x10:02 is stored but expired at tick 5 (now is 10).
    refused(
        &mut h,
        "SET 0x10:05 @0x10:02",
        "(error) ERR no entry at @0x10:02",
    );
}

#[test]
fn text_and_paths_must_be_utf8() {
    let mut h = harness();
    refused_argv(
        &mut h,
        &[b"ENCODE", b"0x10:05", b"caf\xe9"],
        "(error) ERR text is not valid UTF-8",
    );
    refused_argv(
        &mut h,
        &[b"DN.SET", b"a/\xff", FP.as_bytes()],
        "(error) ERR path is not valid UTF-8",
    );
    refused_argv(
        &mut h,
        &[b"DN.GET", b"\xc3"],
        "(error) ERR path is not valid UTF-8",
    );
    // Valid UTF-8 of any kind is fine, NUL bytes and emoji included.
    assert_eq!(h.argv(&[b"ENCODE", b"0x10:05", "🐞 a\0b".as_bytes()]), "OK");
}

#[test]
fn only_fluid_entries_expire() {
    let mut h = harness();
    assert_eq!(h.line(&format!("SET 0x80:01 {FP}")), "OK");
    assert_eq!(h.line(&format!("SET 0x0F:01 {FP}")), "OK");
    refused(
        &mut h,
        "EXPIRE 0x80:01 5",
        "(error) ERR 0x80:01 is not in the fluid zone (0x10:00-0x7F:FF); only fluid entries expire",
    );
    refused(
        &mut h,
        "PERSIST 0x0F:01",
        "(error) ERR 0x0F:01 is not in the fluid zone (0x10:00-0x7F:FF); only fluid entries expire",
    );
}

#[test]
fn path_errors() {
    let mut h = harness();
    refused_argv(
        &mut h,
        &[b"DN.SET", b"", FP.as_bytes()],
        "(error) ERR path is empty",
    );
    for path in ["/a", "a/", "a//b"] {
        refused(
            &mut h,
            &format!("DN.SET {path} {FP}"),
            "(error) ERR path has an empty component (use a/b/c, no leading, trailing or double /)",
        );
    }
    let long = "x".repeat(33);
    refused(
        &mut h,
        &format!("DN.GET a/{long}"),
        "(error) ERR path component of 33 bytes is longer than the 32 allowed",
    );
    let deep = ["p"; PATH_DEPTH_MAX + 1].join("/");
    refused(
        &mut h,
        &format!("DN.CHILDREN {deep}"),
        "(error) ERR path has more than 16 components",
    );
    // Exactly the limits are fine.
    let deepest = ["p"; PATH_DEPTH_MAX].join("/");
    assert!(h
        .line(&format!("DN.SET {deepest} {FP}"))
        .starts_with("\"0x"));
    assert!(h
        .line(&format!("DN.SET {} {FP}", "y".repeat(32)))
        .starts_with("\"0x"));
}

#[test]
fn a_full_probe_window_is_refused_not_merged() {
    // Fill every address of the probe window of the first component "x".
    let mut h = Harness::new(64, 300, 8);
    let home = path_home(None, b"x");
    for i in 0..256u16 {
        let a = Addr(0x8000 | (home.0.wrapping_add(i) & 0x7FFF));
        assert_eq!(h.line(&format!("SET {a} {FP}")), "OK");
    }
    refused(
        &mut h,
        &format!("DN.SET x {FP}"),
        "(error) ERR no free node address for a path component within its 256-address probe window",
    );
    refused(&mut h, "DN.GET x", "(nil)");
}

#[test]
fn a_full_space_is_an_error_never_an_overwrite() {
    let mut h = Harness::new(64, 2, 2);
    assert_eq!(h.line(&format!("SET 0x10:01 {FP}")), "OK");
    assert_eq!(h.line(&format!("SET 0x10:02 {FP}")), "OK");
    refused(
        &mut h,
        &format!("SET 0x10:03 {FP}"),
        "(error) ERR space is full: all 2 rows are in use",
    );
    refused(
        &mut h,
        "ENCODE 0x10:03 hello",
        "(error) ERR space is full: all 2 rows are in use",
    );
    // Replacing an existing entry needs no room.
    assert_eq!(h.line("SET 0x10:02 ffffffffffffffff"), "OK");
    // A path needs a row per new component: refused whole.
    assert_eq!(h.line("DEL 0x10:02"), "(integer) 1");
    refused(
        &mut h,
        &format!("DN.SET a/b {FP}"),
        "(error) ERR space is full: all 2 rows are in use",
    );
    let mut h = Harness::new(64, 8, 1);
    assert_eq!(h.line(&format!("SET 0x10:01 {FP}")), "OK");
    refused(
        &mut h,
        &format!("SET 0x11:01 {FP}"),
        "(error) ERR space is full: all 1 slot pages are in use by other prefixes",
    );
}

#[test]
fn argument_and_change_limits() {
    let mut h = harness();
    let many: Vec<String> = (0..ARGS_MAX).map(|i| format!("0x20:{i:02X}")).collect();
    let line = format!("DEL {}", many.join(" "));
    refused(
        &mut h,
        &line,
        "(error) ERR too many arguments (at most 64, the command included)",
    );
    let mut args: Vec<&[u8]> = vec![b"EXISTS"];
    args.extend(many.iter().map(|s| s.as_bytes()));
    refused_argv(
        &mut h,
        &args,
        "(error) ERR too many arguments (at most 64, the command included)",
    );
    // 63 arguments are fine.
    args.pop();
    assert_eq!(h.argv(&args), "(integer) 0");

    // More than BATCH_MAX changes in one transaction.
    assert_eq!(h.line("MULTI"), "OK");
    for i in 0..=BATCH_MAX {
        assert_eq!(h.line(&format!("SET 0x21:{i:02X} {FP}")), "QUEUED");
    }
    let before = h.space.generation();
    assert_eq!(
        h.line("EXEC"),
        "(error) EXECABORT Transaction discarded: command 65 of 65 (SET) failed: too many changes for one command or transaction (at most 64); nothing was applied"
    );
    assert_eq!(h.space.generation(), before);
    assert_eq!(h.line("COUNT ZONE fluid"), "(integer) 1");
}

#[test]
fn scratch_that_is_too_small() {
    let mut h = harness();
    h.scratch = Scratch::new(vec![0u64; 0], vec![0u8; 256]);
    refused(
        &mut h,
        &format!("SET 0x10:05 {FP}"),
        "(error) ERR the 0-word fingerprint scratch of this front end is too small for this command",
    );
    h.scratch = Scratch::new(vec![0u64; 2], vec![0u8; 256]);
    refused(
        &mut h,
        &format!("BUNDLE 0x10:05 {FP} {FP} {FP}"),
        "(error) ERR the 2-word fingerprint scratch of this front end is too small for this command",
    );
    // A GET needs 16 hex digits plus 5 bytes of framing.
    h.scratch = Scratch::new(vec![0u64; 4], vec![0u8; 20]);
    let before = h.space.generation();
    let ctx = h.ctx();
    let r = command::run_unlogged(
        &mut h.space,
        &mut h.versions,
        &ctx,
        Input::Argv(&[b"GET", b"0x10:01"]),
        &mut h.session,
        &mut h.scratch,
    );
    assert_eq!(
        render(r),
        "(error) ERR the 20-byte reply scratch of this front end is too small for this command"
    );
    // A text line is unquoted into the same bytes.
    refused(
        &mut h,
        "PING aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "(error) ERR the 20-byte reply scratch of this front end is too small for this command",
    );
    assert_eq!(h.space.generation(), before);
    h.scratch = Scratch::new(vec![0u64; 4], vec![0u8; 21]);
    assert_eq!(h.argv(&[b"GET", b"0x10:01"]), format!("\"{FP}\""));
}

#[test]
fn quoting_errors() {
    let mut h = harness();
    refused(
        &mut h,
        "ENCODE 0x10:05 \"open",
        "(error) ERR unterminated quote opened at offset 15",
    );
    refused(
        &mut h,
        r#"ENCODE 0x10:05 "a\b""#,
        r#"(error) ERR bad escape at offset 17 (inside quotes only \" and \\ are escapes)"#,
    );
    refused(
        &mut h,
        r#"ENCODE 0x10:05 "a"b"#,
        "(error) ERR unexpected quote at offset 17 (quote whole arguments, separated by spaces)",
    );
    refused(
        &mut h,
        r#"ENCODE 0x10:05 it"s"#,
        "(error) ERR unexpected quote at offset 17 (quote whole arguments, separated by spaces)",
    );
    assert_eq!(h.line(r#"ENCODE 0x10:05 "say \"hi\" \\o/""#), "OK");
}

#[test]
fn transaction_control_errors() {
    let mut h = harness();
    refused(&mut h, "EXEC", "(error) ERR EXEC without MULTI");
    refused(&mut h, "DISCARD", "(error) ERR DISCARD without MULTI");
    assert_eq!(h.line("MULTI"), "OK");
    // These do not abort the transaction (as in Redis).
    refused(&mut h, "MULTI", "(error) ERR MULTI calls can not be nested");
    refused(
        &mut h,
        "WATCH 0x10:01",
        "(error) ERR WATCH inside MULTI is not allowed",
    );
    assert_eq!(h.line("GET 0x10:01"), "QUEUED");
    assert_eq!(h.line("EXEC"), format!("1) \"{FP}\""));

    // Too many watched addresses: refused whole, nothing watched.
    let addrs: Vec<String> = (0..=WATCH_MAX).map(|i| format!("0x30:{i:02X}")).collect();
    refused(
        &mut h,
        &format!("WATCH {}", addrs.join(" ")),
        "(error) ERR too many watched addresses (at most 16 per session)",
    );
    assert_eq!(h.session.watching(), 0);
    assert_eq!(
        h.line(&format!("WATCH {}", addrs[..WATCH_MAX].join(" "))),
        "OK"
    );
    assert_eq!(h.session.watching(), WATCH_MAX);
    // Watching an address already watched takes no new room.
    assert_eq!(h.line("WATCH 0x30:00"), "OK");
    refused(
        &mut h,
        "WATCH 0x31:00",
        "(error) ERR too many watched addresses (at most 16 per session)",
    );
    assert_eq!(h.line("UNWATCH"), "OK");
    assert_eq!(h.session.watching(), 0);
}

#[test]
fn a_full_queue_discards_the_transaction() {
    let mut h = harness();
    h.session = Session::new(vec![0u8; 40]);
    assert_eq!(h.line("MULTI"), "OK");
    // 2 + (4 + 3) + (4 + 7) = 20 bytes.
    assert_eq!(h.line("DEL 0x10:01"), "QUEUED");
    assert_eq!(h.line("DEL 0x10:01"), "QUEUED");
    refused(
        &mut h,
        "DEL 0x10:01",
        "(error) ERR transaction too large for the 40-byte queue of this session",
    );
    // (Not `refused`: its dry run would consume the EXEC.)
    let before = h.space.generation();
    assert_eq!(
        h.line("EXEC"),
        "(error) EXECABORT Transaction discarded because of previous errors"
    );
    assert_eq!(h.space.generation(), before);
    assert!(!h.session.in_multi());
    assert_eq!(h.line("EXISTS 0x10:01"), "(integer) 1");
}

#[test]
fn queue_time_errors_discard_the_transaction() {
    let mut h = harness();
    for bad in [
        "FLY",
        "GET",
        "GET 0x100:00",
        "SET 0x10:01 zz",
        "SET 0x10:01 00",
        "SEARCH @0x10:01 COUNT 0",
        "DN.SET a//b 00",
        "ENCODE 0x10:01 \"open",
    ] {
        assert_eq!(h.line("MULTI"), "OK");
        assert_eq!(h.line("DEL 0x10:01"), "QUEUED");
        assert!(h.line(bad).starts_with("(error) ERR "), "{bad}");
        let before = h.space.generation();
        assert_eq!(
            h.line("EXEC"),
            "(error) EXECABORT Transaction discarded because of previous errors",
            "after {bad}"
        );
        assert_eq!(h.space.generation(), before);
        assert_eq!(h.line("EXISTS 0x10:01"), "(integer) 1", "after {bad}");
    }
}

#[test]
fn errors_are_typed_for_front_ends() {
    let mut h = harness();
    let ctx = Context::new(10);
    let e = command::execute(
        &h.space,
        &ctx,
        Input::Line(b"SET 0x10:01 0f"),
        &mut h.session,
        &mut h.scratch,
    )
    .unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::WrongWidth {
            expected: 64,
            got: 8
        }
    );
    assert_eq!(e.code(), "ERR");
    assert!(e.exec.is_none());
    let ok = command::execute(
        &h.space,
        &ctx,
        Input::Line(b"EXISTS 0x10:01"),
        &mut h.session,
        &mut h.scratch,
    )
    .unwrap();
    assert_eq!(ok.reply(), Reply::Integer(1));
    assert!(ok.mutations().is_empty());
}
