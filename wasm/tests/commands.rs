//! `exec`: the command language through the binding, its writes logged
//! like every other write.

mod common;

use bindspace_wasm::BindSpace;
use common::{a, assert_throws, space};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

fn s(v: &JsValue) -> String {
    v.as_string()
        .unwrap_or_else(|| panic!("expected a string, got {v:?}"))
}

fn array(v: JsValue) -> Vec<JsValue> {
    v.dyn_into::<js_sys::Array>()
        .expect("an array")
        .iter()
        .collect()
}

#[wasm_bindgen_test]
fn replies_become_strings_numbers_null_and_arrays() {
    let mut sp = space(64, 16);
    assert_eq!(s(&sp.exec("PING").unwrap()), "PONG");
    assert_eq!(s(&sp.exec("SET 0x10:01 0f0f0f0f0f0f0f0f").unwrap()), "OK");
    assert_eq!(s(&sp.exec("GET 0x10:01").unwrap()), "0f0f0f0f0f0f0f0f");
    assert!(sp.exec("GET 0x10:02").unwrap().is_null());
    assert_eq!(
        sp.exec("EXISTS 0x10:01 0x10:02").unwrap().as_f64(),
        Some(1.0)
    );
    assert_eq!(s(&sp.exec("SET 0x10:05 @0x10:01").unwrap()), "OK");
    let hits = array(sp.exec("SEARCH @0x10:01 COUNT 2 WITHDIST").unwrap());
    assert_eq!(hits.len(), 2);
    let first = array(hits[0].clone());
    assert_eq!(s(&first[0]), "0x10:01");
    assert_eq!(first[1].as_f64(), Some(0.0));
    // The command's writes are the space's writes.
    assert_eq!(
        sp.get(&a("0x10:05")).unwrap(),
        sp.get(&a("0x10:01")).unwrap()
    );
    assert_eq!(sp.count(None).unwrap(), 2);
}

#[wasm_bindgen_test]
fn refused_commands_throw_command_error_and_change_nothing() {
    let mut sp = space(64, 16);
    let before = sp.export_log().unwrap();
    assert_throws(sp.exec("FROB 1"), "CommandError", "FROB");
    assert_throws(sp.exec("SET 0x10:01 xyz"), "CommandError", "");
    assert_throws(sp.exec("SET 0x10:01 @0x10:09"), "CommandError", "0x10:09");
    assert_eq!(sp.export_log().unwrap(), before, "nothing logged");
    assert_eq!(sp.count(None).unwrap(), 0);
}

#[wasm_bindgen_test]
fn a_transaction_is_one_logged_batch() {
    let mut sp = space(64, 16);
    assert_eq!(s(&sp.exec("MULTI").unwrap()), "OK");
    assert_eq!(
        s(&sp.exec("SET 0x30:01 00000000000000ff").unwrap()),
        "QUEUED"
    );
    assert_eq!(
        s(&sp.exec("BIND 0x30:02 @0x30:01 ff00000000000000").unwrap()),
        "QUEUED"
    );
    assert!(!sp.has(&a("0x30:01")).unwrap(), "queued, not applied");
    let replies = array(sp.exec("EXEC").unwrap());
    assert_eq!(replies.len(), 2);
    let e1 = sp.entry(&a("0x30:01")).unwrap();
    let e2 = sp.entry(&a("0x30:02")).unwrap();
    let version = |e: &JsValue| js_sys::Reflect::get(e, &"version".into()).unwrap();
    assert_eq!(version(&e1), version(&e2), "one batch, one sequence number");
    let reopened = BindSpace::open_log(&sp.export_log().unwrap(), None).unwrap();
    assert_eq!(
        reopened.get(&a("0x30:02")).unwrap(),
        sp.get(&a("0x30:02")).unwrap()
    );
    assert_eq!(reopened.next_sequence(), 2.0);
}

#[wasm_bindgen_test]
fn commands_stage_like_every_other_write() {
    let mut sp = space(1024, 16);
    sp.stage().unwrap();
    assert_eq!(
        s(&sp
            .exec("ENCODE 0x80:10 \"the cat sat on the mat\"")
            .unwrap()),
        "OK"
    );
    assert!(!sp.has(&a("0x80:10")).unwrap());
    assert!(sp.staged_bytes().is_some());
    sp.commit_staged().unwrap();
    assert_eq!(
        sp.get(&a("0x80:10")).unwrap().unwrap(),
        sp.encode_text("the cat sat on the mat").unwrap(),
        "ENCODE and encodeText give the same bits"
    );
    // Long lines (a 16,384-bit operand) fit.
    let mut wide = space(16384, 4);
    let hex = "ab".repeat(2048);
    assert_eq!(s(&wide.exec(&format!("SET 0x10:00 {hex}")).unwrap()), "OK");
    assert_eq!(s(&wide.exec("GET 0x10:00").unwrap()), hex);
}

#[wasm_bindgen_test]
fn reads_run_while_a_staged_write_waits_and_refused_writes_keep_the_session() {
    let mut sp = space(64, 16);
    sp.exec("SET 0x10:01 0101010101010101").unwrap();
    sp.stage().unwrap();
    sp.set(&a("0x10:01"), &[2; 8]).unwrap();
    // A read through the language works as get() does: the old state.
    assert_eq!(s(&sp.exec("GET 0x10:01").unwrap()), "0101010101010101");
    assert_eq!(s(&sp.exec("PING").unwrap()), "PONG");
    // A write is refused before it runs.
    assert_throws(
        sp.exec("SET 0x10:02 0202020202020202"),
        "LogError",
        "staged write",
    );
    // A transaction can be queued; its EXEC is refused and keeps it.
    assert_eq!(s(&sp.exec("MULTI").unwrap()), "OK");
    assert_eq!(
        s(&sp.exec("SET 0x10:03 0303030303030303").unwrap()),
        "QUEUED"
    );
    assert_throws(sp.exec("EXEC"), "LogError", "staged write");
    sp.commit_staged().unwrap();
    assert_eq!(array(sp.exec("EXEC").unwrap()).len(), 1);
    assert_eq!(sp.get(&a("0x10:01")).unwrap(), Some(vec![2; 8]));
    assert_eq!(sp.get(&a("0x10:03")).unwrap(), Some(vec![3; 8]));
    assert!(!sp.has(&a("0x10:02")).unwrap());
}

#[wasm_bindgen_test]
fn an_unstaged_exec_on_a_durable_space_leaves_the_transaction_queued() {
    let mut sp = space(64, 16);
    sp.require_staging();
    assert_eq!(s(&sp.exec("WATCH 0x10:01").unwrap()), "OK");
    assert_eq!(s(&sp.exec("MULTI").unwrap()), "OK");
    assert_eq!(
        s(&sp.exec("SET 0x10:01 0101010101010101").unwrap()),
        "QUEUED"
    );
    let before = sp.export_log().unwrap();
    assert_throws(sp.exec("EXEC"), "LogError", "durable store");
    assert_eq!(sp.export_log().unwrap(), before);
    // Through the store's path (staged), the same transaction still runs.
    sp.stage().unwrap();
    assert_eq!(array(sp.exec("EXEC").unwrap()).len(), 1);
    sp.commit_staged().unwrap();
    assert_eq!(sp.get(&a("0x10:01")).unwrap(), Some(vec![1; 8]));
}

/// INFO's capacity is what the space can hold (its `capacity`), not the
/// rows its growable storage has allocated so far: an empty space said
/// `capacity:0`.
#[wasm_bindgen_test]
fn info_reports_the_capacity_the_space_can_hold() {
    let mut sp = space(64, 1000);
    let info = s(&sp.exec("INFO").unwrap());
    let want = format!("capacity:{}\r\n", sp.capacity());
    assert!(info.contains(&want), "{info}");
    sp.exec("SET 0x10:01 0f0f0f0f0f0f0f0f").unwrap();
    assert!(s(&sp.exec("INFO").unwrap()).contains(&want));
}
