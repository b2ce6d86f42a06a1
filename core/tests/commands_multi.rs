//! MULTI / EXEC / DISCARD / WATCH: order, visibility of earlier commands,
//! all-or-nothing, and the optimistic check that makes lost updates and
//! check-then-commit races impossible.

mod commands_support;

use bindspace_core::command::{Session, Unlogged};
use commands_support::Harness;

const A: &str = "0f0f0f0f0f0f0f0f";
const B: &str = "00000000ffffffff";

/// Two clients of one space: `h` holds the space and client 1's session,
/// `other` is client 2's session.
struct Two {
    h: Harness,
    other: Session<Vec<u8>>,
}

impl Two {
    fn new() -> Self {
        Two {
            h: Harness::new(64, 64, 16),
            other: Session::new(vec![0u8; 4096]),
        }
    }

    fn one(&mut self, line: &str) -> String {
        self.h.line(line)
    }

    fn two(&mut self, line: &str) -> String {
        core::mem::swap(&mut self.h.session, &mut self.other);
        let out = self.h.line(line);
        core::mem::swap(&mut self.h.session, &mut self.other);
        out
    }
}

#[test]
fn commands_run_in_order_and_see_earlier_ones() {
    let mut h = Harness::new(64, 64, 16);
    assert_eq!(h.line(&format!("SET 0x10:01 {A}")), "OK");
    assert_eq!(h.line("MULTI"), "OK");
    for line in [
        &format!("SET 0x10:02 {B}") as &str,
        "BIND 0x10:03 @0x10:01 @0x10:02",
        "GET 0x10:03",
        "DEL 0x10:01",
        "EXISTS 0x10:01 0x10:02 0x10:03",
        "COUNT",
        "SCAN",
        "SEARCH @0x10:02 WITHDIST",
        "SET 0x10:01 @0x10:03",
        "HAMMING @0x10:01 @0x10:03",
        "DN.SET a/b @0x10:02",
        "DN.GET a/b",
        "DN.CHILDREN a",
        "EXPIRE 0x10:02 0",
        "EXISTS 0x10:02",
        "PING",
    ] {
        assert_eq!(h.line(line), "QUEUED", "{line}");
    }
    // Nothing is applied while queuing.
    assert_eq!(h.line("COUNT"), "QUEUED");
    assert_eq!(h.space.len(), 1);
    let reply = h.line("EXEC");
    // The path's address comes from the space's own path rules.
    let leaf = h.space.dn_get("a/b").unwrap().expect("a/b exists");
    let expected = [
        " 1) OK",
        " 2) OK",
        " 3) \"0f0f0f0ff0f0f0f0\"",
        " 4) (integer) 1",
        " 5) (integer) 2",
        " 6) (integer) 2",
        " 7) 1) \"0\"",
        "    2) 1) \"0x10:02\"",
        "       2) \"0x10:03\"",
        " 8) 1) 1) \"0x10:02\"",
        "       2) (integer) 0",
        "    2) 1) \"0x10:03\"",
        "       2) (integer) 32",
        " 9) OK",
        "10) (integer) 0",
        &format!("11) \"{leaf}\""),
        &format!("12) \"{leaf}\""),
        "13) 1) 1) \"b\"",
        &format!("       2) \"{leaf}\""),
        "14) (integer) 1",
        "15) (integer) 0",
        "16) PONG",
        // 0x10:01, 0x10:03, a and a/b: 0x10:02 expired at once.
        "17) (integer) 4",
    ]
    .join("\n");
    assert_eq!(reply, expected);
    // Applied afterwards, as one batch with one version.
    let versions: Vec<u64> = h
        .space
        .iter(Default::default())
        .map(|e| e.version)
        .collect();
    assert!(versions.iter().all(|&v| v == versions[0]), "{versions:?}");
    assert_eq!(h.line("GET 0x10:01"), "\"0f0f0f0ff0f0f0f0\"");
    assert_eq!(h.line("EXISTS 0x10:02"), "(integer) 0");
    assert_eq!(h.line("DN.GET a/b"), format!("\"{leaf}\""));
}

#[test]
fn a_command_failing_at_exec_applies_nothing() {
    let mut h = Harness::new(64, 64, 16);
    assert_eq!(h.line(&format!("SET 0x10:01 {A}")), "OK");
    let before = (h.space.generation(), h.versions);
    assert_eq!(h.line("MULTI"), "OK");
    assert_eq!(h.line(&format!("SET 0x10:02 {B}")), "QUEUED");
    assert_eq!(h.line("DEL 0x10:01"), "QUEUED");
    assert_eq!(h.line("DN.SET x/y @0x10:02"), "QUEUED");
    // 0x10:01 is gone by now, inside the transaction.
    assert_eq!(h.line("BIND 0x10:03 @0x10:01 @0x10:02"), "QUEUED");
    assert_eq!(
        h.line("EXEC"),
        "(error) EXECABORT Transaction discarded: command 4 of 4 (BIND) failed: no entry at @0x10:01; nothing was applied"
    );
    assert_eq!((h.space.generation(), h.versions), before);
    assert_eq!(h.line("EXISTS 0x10:01 0x10:02 0x10:03"), "(integer) 1");
    assert_eq!(h.line("DN.GET x/y"), "(nil)");
    assert!(!h.session.in_multi());
}

#[test]
fn a_batch_the_space_cannot_hold_applies_nothing() {
    let mut h = Harness::new(64, 3, 4);
    assert_eq!(h.line(&format!("SET 0x10:01 {A}")), "OK");
    assert_eq!(h.line("MULTI"), "OK");
    for i in 2..=4 {
        assert_eq!(h.line(&format!("SET 0x10:0{i} {A}")), "QUEUED");
    }
    let before = h.space.generation();
    assert_eq!(
        h.line("EXEC"),
        "(error) EXECABORT Transaction discarded: space is full: all 3 rows are in use; nothing was applied"
    );
    assert_eq!(h.space.generation(), before);
    assert_eq!(h.line("COUNT"), "(integer) 1");
    // Deleting first makes room inside the same batch.
    assert_eq!(h.line("MULTI"), "OK");
    assert_eq!(h.line("DEL 0x10:01"), "QUEUED");
    for i in 2..=4 {
        assert_eq!(h.line(&format!("SET 0x10:0{i} {A}")), "QUEUED");
    }
    assert_eq!(h.line("EXEC"), "1) (integer) 1\n2) OK\n3) OK\n4) OK");
    assert_eq!(h.line("COUNT"), "(integer) 3");
}

#[test]
fn discard_drops_the_queue_and_the_watches() {
    let mut h = Harness::new(64, 64, 16);
    assert_eq!(h.line(&format!("SET 0x10:01 {A}")), "OK");
    assert_eq!(h.line("WATCH 0x10:01"), "OK");
    assert_eq!(h.line("MULTI"), "OK");
    assert_eq!(h.line("DEL 0x10:01"), "QUEUED");
    assert_eq!(h.line("DISCARD"), "OK");
    assert_eq!(h.session.watching(), 0);
    assert!(!h.session.in_multi());
    assert_eq!(h.line("EXISTS 0x10:01"), "(integer) 1");
    assert_eq!(h.line("EXEC"), "(error) ERR EXEC without MULTI");
    // An empty transaction is fine.
    assert_eq!(h.line("MULTI"), "OK");
    assert_eq!(h.line("EXEC"), "(empty array)");
}

#[test]
fn watch_aborts_exec_on_every_kind_of_change() {
    // Each change is made by the other client between WATCH and EXEC.
    let changes = [
        format!("SET 0x10:01 {B}"),
        format!("SET 0x10:01 {A}"), // same bits: still a write
        "DEL 0x10:01".to_string(),
        "EXPIRE 0x10:01 1000".to_string(),
        "BIND 0x10:01 @0x10:01 @0x10:01".to_string(),
        "MULTI|DEL 0x10:01|EXEC".to_string(),
    ];
    for change in &changes {
        let mut t = Two::new();
        assert_eq!(t.one(&format!("SET 0x10:01 {A}")), "OK");
        assert_eq!(t.one("WATCH 0x10:01 0x10:09"), "OK");
        assert_eq!(t.one("MULTI"), "OK");
        assert_eq!(t.one(&format!("SET 0x10:02 {A}")), "QUEUED");
        for part in change.split('|') {
            assert!(!t.two(part).starts_with("(error)"), "{part}");
        }
        let before = t.h.space.generation();
        assert_eq!(t.one("EXEC"), "(nil)", "after {change}");
        assert_eq!(t.h.space.generation(), before, "after {change}");
        assert_eq!(t.one("EXISTS 0x10:02"), "(integer) 0");
        // EXEC ended the watch: the next transaction runs.
        assert_eq!(t.h.session.watching(), 0);
        assert_eq!(t.one("MULTI"), "OK");
        assert_eq!(t.one(&format!("SET 0x10:02 {A}")), "QUEUED");
        assert_eq!(t.one("EXEC"), "1) OK");
    }
}

#[test]
fn watch_sees_creation_and_expiry_by_time() {
    // An address with no entry at WATCH time that gets one.
    let mut t = Two::new();
    assert_eq!(t.one("WATCH 0x10:07"), "OK");
    assert_eq!(t.two(&format!("SET 0x10:07 {A}")), "OK");
    assert_eq!(t.one("MULTI"), "OK");
    assert_eq!(t.one("PING"), "QUEUED");
    assert_eq!(t.one("EXEC"), "(nil)");

    // An entry that expires between WATCH and EXEC, with no write at all.
    let mut h = Harness::new(64, 64, 16);
    assert_eq!(h.line(&format!("SET 0x10:01 {A}")), "OK");
    assert_eq!(h.line("EXPIRE 0x10:01 10"), "(integer) 1");
    assert_eq!(h.line("WATCH 0x10:01"), "OK");
    assert_eq!(h.line("MULTI"), "OK");
    assert_eq!(h.line("PING"), "QUEUED");
    h.now = 10;
    assert_eq!(h.line("EXEC"), "(nil)");
}

#[test]
fn watch_lets_an_unchanged_transaction_through() {
    let mut t = Two::new();
    assert_eq!(t.one(&format!("SET 0x10:01 {A}")), "OK");
    assert_eq!(t.one("WATCH 0x10:01"), "OK");
    // The other client reads and writes elsewhere: no conflict.
    assert_eq!(t.two("GET 0x10:01"), format!("\"{A}\""));
    assert_eq!(t.two(&format!("SET 0x10:02 {B}")), "OK");
    assert_eq!(t.one("MULTI"), "OK");
    assert_eq!(t.one(&format!("BIND 0x10:01 @0x10:01 {B}")), "QUEUED");
    assert_eq!(t.one("EXEC"), "1) OK");
    assert_eq!(t.one("GET 0x10:01"), "\"0f0f0f0ff0f0f0f0\"");
}

#[test]
fn watched_read_modify_write_never_loses_an_update() {
    // Two clients both flip bits of one entry read-modify-write style,
    // interleaved in the worst order. With WATCH the loser learns it
    // lost (nil) and retries; no flip is ever lost.
    let mut t = Two::new();
    assert_eq!(t.one("SET 0x10:01 0000000000000000"), "OK");
    let flip_one = "BIND 0x10:01 @0x10:01 0100000000000000";
    let flip_two = "BIND 0x10:01 @0x10:01 0000000000000001";
    assert_eq!(t.one("WATCH 0x10:01"), "OK");
    assert_eq!(t.two("WATCH 0x10:01"), "OK");
    assert_eq!(t.one("MULTI"), "OK");
    assert_eq!(t.two("MULTI"), "OK");
    assert_eq!(t.one(flip_one), "QUEUED");
    assert_eq!(t.two(flip_two), "QUEUED");
    assert_eq!(t.one("EXEC"), "1) OK");
    assert_eq!(t.two("EXEC"), "(nil)");
    // The loser retries.
    assert_eq!(t.two("WATCH 0x10:01"), "OK");
    assert_eq!(t.two("MULTI"), "OK");
    assert_eq!(t.two(flip_two), "QUEUED");
    assert_eq!(t.two("EXEC"), "1) OK");
    assert_eq!(t.one("GET 0x10:01"), "\"0100000000000001\"");
}

#[test]
fn a_session_can_be_reset_when_its_client_leaves() {
    let mut h = Harness::new(64, 64, 16);
    assert_eq!(h.line("WATCH 0x10:01"), "OK");
    assert_eq!(h.line("MULTI"), "OK");
    assert_eq!(h.line("PING"), "QUEUED");
    assert_eq!(h.session.queued(), 1);
    h.session.reset();
    assert!(!h.session.in_multi());
    assert_eq!(h.session.watching(), 0);
    assert_eq!(h.session.queued(), 0);
    assert_eq!(h.line("PING"), "PONG");
}

#[test]
fn versions_come_from_the_log_counter() {
    let mut h = Harness::new(64, 64, 16);
    h.versions = Unlogged::new(100);
    assert_eq!(h.line(&format!("SET 0x10:01 {A}")), "OK");
    assert_eq!(h.line("GET 0x10:01"), format!("\"{A}\""));
    assert_eq!(
        h.space
            .get(bindspace_core::Addr::new(0x10, 1))
            .unwrap()
            .version,
        100
    );
    // Reads do not use a number.
    assert_eq!(h.versions.next_version(), 101);
}

/// A command queued inside MULTI whose `QUEUED` reply did not fit the
/// scratch was left in the queue, so EXEC ran a command the client had
/// been told failed. Now that failure aborts the transaction too.
#[test]
fn a_command_queued_without_room_for_its_reply_aborts_the_transaction() {
    use bindspace_core::command::{execute, Context, Input, Scratch};
    let line = format!("SET 0x10:01 {A}");
    let mut refused_after_queuing = 0;
    for room in line.len()..line.len() + 24 {
        let mut h = Harness::new(64, 64, 16);
        assert_eq!(h.line("MULTI"), "OK");
        let mut tight = Scratch::new(vec![0u64; 70], vec![0u8; room]);
        let ctx = Context::new(0);
        let queued = execute(
            &h.space,
            &ctx,
            Input::Line(line.as_bytes()),
            &mut h.session,
            &mut tight,
        );
        let exec = h.line("EXEC");
        match queued {
            Ok(_) => assert_eq!(exec, "1) OK", "room {room}"),
            Err(_) => {
                refused_after_queuing += 1;
                assert!(exec.contains("EXECABORT"), "room {room}: {exec}");
                assert_eq!(h.line("GET 0x10:01"), "(nil)", "room {room}");
            }
        }
    }
    assert!(refused_after_queuing > 0, "no room size refused the reply");
}
