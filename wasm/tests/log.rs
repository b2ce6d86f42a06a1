//! The log through the binding: export and reopen, torn tails, damage in
//! the middle, capacity, and the staged (write-ahead) path.

mod common;

use bindspace_wasm::BindSpace;
use common::{a, assert_throws, error_of, hits, opts, space};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

fn filled() -> BindSpace {
    let mut s = space(256, 100);
    for (i, t) in ["alpha", "beta", "gamma", "delta"].iter().enumerate() {
        let addr = format!("0x80:{i:02X}");
        s.set(&a(&addr), &s.encode_text(t).unwrap()).unwrap();
    }
    s.set_label(&a("0x80:01"), "b", Some(a("0x80:00"))).unwrap();
    s.expire(&a("0x80:02"), Some(1000.0)).unwrap();
    assert!(s.delete(&a("0x80:03")).unwrap());
    s
}

fn field(v: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(v, &k.into()).unwrap()
}

fn same_contents(x: &BindSpace, y: &BindSpace) {
    assert_eq!(x.width(), y.width());
    assert_eq!(x.addresses().to_vec(), y.addresses().to_vec());
    for raw in x.addresses().to_vec() {
        let addr = common::n(f64::from(raw));
        let (ex, ey) = (x.entry(&addr).unwrap(), y.entry(&addr).unwrap());
        for k in ["addr", "label", "parent", "expiresAt", "version"] {
            assert_eq!(field(&ex, k), field(&ey, k), "{k} of {raw:04x}");
        }
        assert_eq!(x.get(&addr).unwrap(), y.get(&addr).unwrap());
    }
}

#[wasm_bindgen_test]
fn export_then_open_gives_the_same_space() {
    let s = filled();
    let image = s.export_log().unwrap();
    assert_eq!(
        &image[..4],
        b"BSLG",
        "a portable log image starts with its magic"
    );
    assert_eq!(image.len(), s.log_length());
    let t = BindSpace::open_log(&image, None).unwrap();
    same_contents(&s, &t);
    assert_eq!(t.next_sequence(), s.next_sequence());
    let r = t.recovery().unwrap();
    assert_eq!(field(&r, "batches").as_f64(), Some(7.0));
    assert_eq!(field(&r, "tornBytes").as_f64(), Some(0.0));
    assert!(s.recovery().unwrap().is_undefined());
    // Writes go on after the replayed log, and reopen again.
    let mut t = t;
    t.set(&a("0x10:00"), &t.encode_text("epsilon").unwrap())
        .unwrap();
    let u = BindSpace::open_log(&t.export_log().unwrap(), None).unwrap();
    same_contents(&t, &u);
    assert_eq!(
        field(&t.entry(&a("0x10:00")).unwrap(), "version").as_f64(),
        Some(8.0)
    );
}

#[wasm_bindgen_test]
fn the_width_comes_from_the_log() {
    let mut s = space(64, 4);
    s.set(&a("0x00:01"), &[5; 8]).unwrap();
    let t = BindSpace::open_log(&s.export_log().unwrap(), None).unwrap();
    assert_eq!(t.width(), 64);
    assert_eq!(t.get(&a("0x00:01")).unwrap(), Some(vec![5; 8]));
}

#[wasm_bindgen_test]
fn a_torn_tail_is_cut_and_writing_goes_on_after_it() {
    let s = filled();
    let before = s.export_log().unwrap();
    let mut s2 = BindSpace::open_log(&before, None).unwrap();
    s2.set(&a("0x10:00"), &[0xAB; 32]).unwrap();
    let full = s2.export_log().unwrap();
    // Power failed in the middle of the last batch.
    for cut in [before.len() + 1, before.len() + 17, full.len() - 1] {
        let torn = &full[..cut];
        let t = BindSpace::open_log(torn, None).unwrap();
        same_contents(&s, &t);
        assert!(!t.has(&a("0x10:00")).unwrap());
        let r = t.recovery().unwrap();
        let torn = field(&r, "tornBytes").as_f64().unwrap() as usize;
        assert!(torn > 0);
        // The torn bytes are gone from the log (a whole record of the
        // unfinished batch may stay: it has no commit, so it is never
        // applied). A new write follows the last valid record, and the
        // result reopens cleanly.
        let mut t = t;
        assert_eq!(t.log_length() + torn, cut);
        assert!(t.log_length() >= before.len());
        t.set(&a("0x10:01"), &[1; 32]).unwrap();
        let u = BindSpace::open_log(&t.export_log().unwrap(), None).unwrap();
        assert_eq!(
            field(&u.recovery().unwrap(), "tornBytes").as_f64(),
            Some(0.0)
        );
        assert!(u.has(&a("0x10:01")).unwrap());
    }
}

#[wasm_bindgen_test]
fn damage_in_the_middle_refuses_to_open_unless_repair_is_asked() {
    let s = filled();
    let mut image = s.export_log().unwrap();
    // Flip one bit inside the first record (after the 40-byte header).
    image[60] ^= 0x01;
    let (name, message) = error_of(BindSpace::open_log(&image, None).err().unwrap());
    assert_eq!(name, "LogError");
    assert!(message.contains("corrupted at byte 40"), "{message}");
    let t = BindSpace::open_log(&image, opts(&[("repair", true.into())])).unwrap();
    let r = t.recovery().unwrap();
    assert_eq!(field(&r, "damagedRegions").as_f64(), Some(1.0));
    // Later records are kept, never silently dropped.
    assert!(t.has(&a("0x80:01")).unwrap());
    assert!(
        !t.has(&a("0x80:00")).unwrap(),
        "the damaged batch is skipped"
    );
    assert_throws(
        BindSpace::open_log(&image, opts(&[("repair", "yes".into())])),
        "OptionsError",
        "repair",
    );
}

#[wasm_bindgen_test]
fn bad_headers_and_small_capacity_are_clear_errors() {
    assert_throws(
        BindSpace::open_log(b"not a log", None),
        "LogError",
        "log header",
    );
    assert_throws(BindSpace::open_log(&[], None), "LogError", "log header");
    let s = filled();
    assert_throws(
        BindSpace::open_log(&s.export_log().unwrap(), opts(&[("capacity", 2.into())])),
        "CapacityError",
        "larger capacity",
    );
}

#[wasm_bindgen_test]
fn staged_writes_apply_only_when_committed() {
    let mut s = filled();
    let before = s.export_log().unwrap();
    let fp = s.encode_text("zeta").unwrap();
    s.stage().unwrap();
    s.set(&a("0x10:05"), &fp).unwrap();
    // Held, not applied: readers see the old state.
    assert!(!s.has(&a("0x10:05")).unwrap());
    assert_eq!(s.log_length(), before.len());
    let bytes = s.staged_bytes().expect("a staged batch");
    assert_throws(
        s.set(&a("0x10:06"), &fp),
        "LogError",
        "staged write is waiting",
    );
    assert_throws(s.stage(), "LogError", "already staged");
    s.commit_staged().unwrap();
    assert!(s.has(&a("0x10:05")).unwrap());
    let mut expected = before.clone();
    expected.extend_from_slice(&bytes);
    assert_eq!(
        s.export_log().unwrap(),
        expected,
        "the log is the old log plus exactly the staged bytes"
    );
    assert_eq!(
        hits(s.search(&fp, opts(&[("k", 1.into())])).unwrap())[0].0,
        "0x10:05"
    );
}

#[wasm_bindgen_test]
fn a_discarded_stage_changes_nothing() {
    let mut s = filled();
    let before = s.export_log().unwrap();
    let seq = s.next_sequence();
    s.stage().unwrap();
    s.set(&a("0x10:07"), &[9; 32]).unwrap();
    s.discard_staged();
    assert!(!s.has(&a("0x10:07")).unwrap());
    assert_eq!(s.export_log().unwrap(), before);
    assert_eq!(s.next_sequence(), seq);
    // A staged write that changes nothing has no bytes to store.
    s.stage().unwrap();
    assert!(!s.delete(&a("0x10:07")).unwrap());
    assert!(s.staged_bytes().is_none());
    s.commit_staged().unwrap();
    assert_throws(s.commit_staged(), "LogError", "nothing is staged");
    // A refused staged write leaves staging armed and nothing held.
    s.stage().unwrap();
    assert_throws(s.set(&a("0x10:08"), &[1; 8]), "FingerprintError", "bits");
    assert!(s.staged_bytes().is_none());
    s.discard_staged();
}

/// Writes an entry at `addr` into `t`, reopens its log and returns the
/// reopened space, which must hold it (a write that started off the
/// alignment would be cut as a torn tail there).
fn reopened_after_a_write(t: &mut BindSpace, addr: &str) -> BindSpace {
    t.set(&a(addr), &t.encode_text(addr).unwrap()).unwrap();
    let again = BindSpace::open_log(&t.export_log().unwrap(), None).unwrap();
    assert!(
        again.has(&a(addr)).unwrap(),
        "the write after reopening was lost"
    );
    again
}

#[wasm_bindgen_test]
fn an_image_that_stops_inside_padding_takes_later_writes_at_the_aligned_end() {
    // A compacted log ends with a standalone entry record; a 3-byte label
    // leaves it 5 bytes of padding, which nothing checks, so a copy may
    // drop them. Writes after reopening must still start aligned, or the
    // next open would take them for a torn tail and cut them.
    let mut s = space(256, 100);
    s.set(&a("0x80:01"), &s.encode_text("one").unwrap())
        .unwrap();
    s.set_label(&a("0x80:01"), "abc", None).unwrap();
    let compacted = s.compacted_log().unwrap();
    let trimmed_len = compacted.iter().rposition(|&b| b != 0xFF).unwrap() + 1;
    assert!(trimmed_len < compacted.len(), "the last record has padding");
    let mut t = BindSpace::open_log(&compacted[..trimmed_len], None).unwrap();
    assert_eq!(
        t.log_length() % 8,
        0,
        "the log goes on at an aligned offset"
    );
    let again = reopened_after_a_write(&mut t, "0x80:02");
    assert_eq!(
        field(&again.recovery().unwrap(), "tornBytes").as_f64(),
        Some(0.0)
    );
    same_contents(&t, &again);
}

#[wasm_bindgen_test]
fn an_image_that_stops_inside_its_header_padding_goes_on_aligned() {
    // A log aligned to 64 bytes: its 40-byte header is padded to 64. A copy
    // that dropped that padding must still take writes at 64.
    let header =
        bindspace_core::log::Header::new(bindspace_core::Width::from_bits(256).unwrap(), 64, 0, 1);
    let mut full = vec![0xFFu8; header.padded_len()];
    header.encode(&mut full).unwrap();
    assert_eq!(full.len(), 64);
    let mut t = BindSpace::open_log(&full[..40], None).unwrap();
    assert_eq!(
        t.log_length(),
        64,
        "the log goes on at the header's padded end"
    );
    reopened_after_a_write(&mut t, "0x80:01");
}

#[wasm_bindgen_test]
fn a_repair_reports_the_batches_it_dropped_as_out_of_order() {
    // A log with another log's first batch appended: its sequence number
    // (1) is not above the last one's, so repair drops it, and says so.
    let s = filled();
    let mut other = space(256, 100);
    let header_len = other.log_length();
    other
        .set(&a("0x10:0A"), &other.encode_text("theta").unwrap())
        .unwrap();
    let mut image = s.export_log().unwrap();
    image.extend_from_slice(&other.export_log().unwrap()[header_len..]);
    assert_throws(BindSpace::open_log(&image, None), "LogError", "");
    let repaired = BindSpace::open_log(&image, opts(&[("repair", true.into())])).unwrap();
    let r = repaired.recovery().unwrap();
    assert_eq!(field(&r, "outOfOrder").as_f64(), Some(1.0));
    assert!(!repaired.has(&a("0x10:0A")).unwrap());
    same_contents(&s, &repaired);
}

#[wasm_bindgen_test]
fn a_space_that_requires_staging_refuses_every_other_write() {
    // What the durable stores do with their space: a write made on it
    // directly would never be stored, so it is refused instead.
    let mut s = filled();
    s.require_staging();
    let before = s.export_log().unwrap();
    let fp = s.encode_text("eta").unwrap();
    assert_throws(s.set(&a("0x10:09"), &fp), "LogError", "durable store");
    assert_throws(s.exec("DEL 0x80:00"), "LogError", "durable store");
    assert_throws(s.compact_log(), "LogError", "durable store");
    assert!(!s.has(&a("0x10:09")).unwrap());
    assert!(s.has(&a("0x80:00")).unwrap());
    assert_eq!(s.export_log().unwrap(), before, "nothing reached the log");
    // Reads still work, on the space and through the language.
    assert!(s.exec("GET 0x80:00").is_ok());
    // A staged write goes through, and afterwards unstaged ones are still
    // refused.
    s.stage().unwrap();
    s.set(&a("0x10:09"), &fp).unwrap();
    s.commit_staged().unwrap();
    assert!(s.has(&a("0x10:09")).unwrap());
    assert_throws(s.delete(&a("0x10:09")), "LogError", "durable store");
    s.stage().unwrap();
    assert!(s.delete(&a("0x10:09")).unwrap());
    s.discard_staged();
    assert_throws(s.delete(&a("0x10:09")), "LogError", "durable store");
}

#[wasm_bindgen_test]
fn compaction_keeps_every_entry_version_and_the_sequence() {
    let mut s = filled();
    for round in 0..20u8 {
        s.set(&a("0x80:00"), &[round; 32]).unwrap();
    }
    let before = s.export_log().unwrap();
    let seq = s.next_sequence();
    let n = s.compact_log().unwrap();
    assert!(n < before.len() / 4, "{n} bytes from {}", before.len());
    assert_eq!(s.log_length(), n);
    assert_eq!(s.next_sequence(), seq);
    let t = BindSpace::open_log(&s.export_log().unwrap(), None).unwrap();
    same_contents(&s, &t);
    assert_eq!(t.next_sequence(), seq, "the next batch number survives");
    // Writing on after compaction, then reopening.
    s.set(&a("0x10:09"), &[9; 32]).unwrap();
    let u = BindSpace::open_log(&s.export_log().unwrap(), None).unwrap();
    same_contents(&s, &u);
    assert_eq!(
        field(&u.entry(&a("0x10:09")).unwrap(), "version").as_f64(),
        Some(seq)
    );
}

#[wasm_bindgen_test]
fn a_log_of_other_contents_is_not_adopted() {
    let mut s = filled();
    let mut other = filled();
    other.set(&a("0x10:00"), &[1; 32]).unwrap();
    let mine = s.export_log().unwrap();
    assert_throws(
        s.replace_log(&other.export_log().unwrap()),
        "LogError",
        "does not replay",
    );
    assert_throws(s.replace_log(b"junk"), "LogError", "log header");
    assert_eq!(s.export_log().unwrap(), mine, "nothing changed");
    // The same contents, written another way, are adopted.
    let compacted = s.compacted_log().unwrap();
    assert_eq!(
        s.export_log().unwrap(),
        mine,
        "compactedLog changes nothing"
    );
    s.replace_log(&compacted).unwrap();
    assert_eq!(s.export_log().unwrap(), compacted);
    s.stage().unwrap();
    assert_throws(s.compacted_log(), "LogError", "staged");
    s.discard_staged();
}

#[wasm_bindgen_test]
fn a_repaired_log_exports_an_image_that_opens_without_repair() {
    let s = filled();
    let mut image = s.export_log().unwrap();
    image[60] ^= 0x01;
    let mut t = BindSpace::open_log(&image, opts(&[("repair", true.into())])).unwrap();
    let exported = t.export_log().unwrap();
    let u = BindSpace::open_log(&exported, None).unwrap();
    same_contents(&t, &u);
    assert_eq!(u.next_sequence(), t.next_sequence());
    // Writes after the repair are exported too.
    t.set(&a("0x10:00"), &[7; 32]).unwrap();
    let u = BindSpace::open_log(&t.export_log().unwrap(), None).unwrap();
    same_contents(&t, &u);
    assert_eq!(u.next_sequence(), t.next_sequence());
    // Once compacted, the held log is the exported one.
    t.compact_log().unwrap();
    assert_eq!(t.export_log().unwrap().len(), t.log_length());
}
