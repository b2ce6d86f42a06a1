//! The `BindSpace` class, as JavaScript sees it, run by wasm-bindgen-test
//! in Node and in headless Chromium (scripts/test.d/45-wasm-package.sh).

mod common;

use common::{a, any, assert_throws, hits, n, opts, space};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

const BITS: u32 = 1024;

#[wasm_bindgen_test]
fn set_then_get_round_trips_bytes() {
    let mut s = space(BITS, 16);
    let fp = s.encode_text("hello world").unwrap();
    assert_eq!(fp.len(), 128);
    s.set(&a("0x80:1F"), &fp).unwrap();
    assert_eq!(s.get(&a("0x80:1F")).unwrap(), Some(fp.clone()));
    // The same address in every accepted spelling.
    assert_eq!(s.get(&a("80:1f")).unwrap(), Some(fp.clone()));
    assert_eq!(s.get(&n(f64::from(0x801F))).unwrap(), Some(fp));
    assert_eq!(s.get(&a("0x80:20")).unwrap(), None);
    assert!(s.has(&a("0x80:1F")).unwrap());
    assert!(!s.has(&a("0x80:20")).unwrap());
}

#[wasm_bindgen_test]
fn bad_addresses_throw_address_error() {
    let s = space(BITS, 16);
    assert_throws(s.get(&a("801F")), "AddressError", "0x80:1F");
    assert_throws(s.get(&a("100:00")), "AddressError", "at most 0xFF");
    assert_throws(s.get(&n(65536.0)), "AddressError", "0..=65535");
    assert_throws(s.get(&n(1.5)), "AddressError", "0..=65535");
    assert_throws(s.get(&any(JsValue::TRUE)), "AddressError", "string like");
}

#[wasm_bindgen_test]
fn wrong_width_fingerprints_throw_and_change_nothing() {
    let mut s = space(BITS, 16);
    assert_throws(
        s.set(&a("0x10:00"), &[0u8; 64]),
        "FingerprintError",
        "this space is 1024 bits",
    );
    assert_eq!(s.count(None).unwrap(), 0);
    assert_eq!(
        s.next_sequence(),
        1.0,
        "a refused write takes no sequence number"
    );
    assert_throws(s.search(&[0u8; 8], None), "FingerprintError", "64 bits");
}

#[wasm_bindgen_test]
fn full_space_throws_capacity_error_and_overwrites_nothing() {
    let mut s = space(64, 3);
    for i in 0..3u8 {
        s.set(&n(f64::from(0x1000 + u32::from(i))), &[i; 8])
            .unwrap();
    }
    assert_throws(s.set(&a("0x10:03"), &[9; 8]), "CapacityError", "full");
    assert_eq!(s.count(None).unwrap(), 3);
    assert!(!s.has(&a("0x10:03")).unwrap());
    // Replacing an existing entry needs no new row.
    s.set(&a("0x10:01"), &[7; 8]).unwrap();
    assert_eq!(s.get(&a("0x10:01")).unwrap(), Some(vec![7; 8]));
    // After a delete there is room again.
    assert!(s.delete(&a("0x10:00")).unwrap());
    s.set(&a("0x10:03"), &[9; 8]).unwrap();
    assert_eq!(s.count(None).unwrap(), 3);
}

#[wasm_bindgen_test]
fn options_are_checked() {
    use bindspace_wasm::BindSpace;
    assert_throws(
        BindSpace::new(opts(&[("width", 100.into())])),
        "OptionsError",
        "multiple of 64",
    );
    assert_throws(
        BindSpace::new(opts(&[("width", 32768.into())])),
        "OptionsError",
        "out of range",
    );
    assert_throws(
        BindSpace::new(opts(&[("capacity", 0.into())])),
        "OptionsError",
        "capacity",
    );
    assert_throws(
        BindSpace::new(opts(&[("capacity", "x".into())])),
        "OptionsError",
        "capacity",
    );
    assert_throws(
        BindSpace::new(Some(any(JsValue::from(5)))),
        "OptionsError",
        "object",
    );
    let s = BindSpace::new(None).unwrap();
    assert_eq!((s.width(), s.capacity()), (8192, 65536));
    let q = s.encode_text("q").unwrap();
    assert_throws(
        s.search(&q, opts(&[("k", (-1).into())])),
        "OptionsError",
        "option k",
    );
    assert_throws(
        s.search(&q, opts(&[("zone", "moon".into())])),
        "OptionsError",
        "zone",
    );
    assert_throws(
        s.search(
            &q,
            opts(&[("zone", "nodes".into()), ("prefix", 0x80.into())]),
        ),
        "OptionsError",
        "not both",
    );
}

#[wasm_bindgen_test]
fn search_is_exact_and_breaks_ties_by_address() {
    let mut s = space(BITS, 64);
    let texts = [
        "the cat sat on the mat",
        "a dog barked all night",
        "the cat sat on a mat",
        "quantum field theory lecture notes",
    ];
    for (i, t) in texts.iter().enumerate() {
        s.set(&n(f64::from(0x8000 + i as u32)), &s.encode_text(t).unwrap())
            .unwrap();
    }
    // The same fingerprint at a higher and a lower address: equal distance,
    // the lower address first.
    let cat = s.encode_text(texts[0]).unwrap();
    s.set(&a("0x20:00"), &cat).unwrap();
    let found = hits(s.search(&cat, opts(&[("k", 3.into())])).unwrap());
    assert_eq!(found[0], ("0x20:00".to_string(), 0));
    assert_eq!(found[1], ("0x80:00".to_string(), 0));
    assert_eq!(found[2].0, "0x80:02", "the near sentence comes next");
    // Every distance matches hamming(), and the list is sorted.
    let all = hits(s.search(&cat, opts(&[("k", 100.into())])).unwrap());
    assert_eq!(all.len(), 5, "k above the count returns everything");
    for w in all.windows(2) {
        assert!(w[0].1 <= w[1].1);
    }
    for (addr, d) in &all {
        let fp = s.get(&a(addr)).unwrap().unwrap();
        assert_eq!(s.hamming(&cat, &fp).unwrap(), *d);
    }
    // Zone and prefix filters, maximum distance.
    let fluid = hits(s.search(&cat, opts(&[("zone", "fluid".into())])).unwrap());
    assert_eq!(fluid, vec![("0x20:00".to_string(), 0)]);
    let nodes = hits(
        s.search(&cat, opts(&[("prefix", 0x80.into()), ("k", 2.into())]))
            .unwrap(),
    );
    assert_eq!(nodes[0].0, "0x80:00");
    let exact = hits(s.search(&cat, opts(&[("maxDist", 0.into())])).unwrap());
    assert_eq!(exact.len(), 2);
    let none = hits(s.search(&cat, opts(&[("zone", "surface".into())])).unwrap());
    assert!(none.is_empty());
}

#[wasm_bindgen_test]
fn empty_space_search_returns_nothing() {
    let s = space(BITS, 4);
    let q = s.encode_text("anything").unwrap();
    assert!(hits(s.search(&q, None).unwrap()).is_empty());
}

#[wasm_bindgen_test]
fn delete_count_and_addresses() {
    let mut s = space(64, 16);
    for raw in [0x0001u32, 0x1000, 0x7FFF, 0x8000, 0xFFFF] {
        s.set(&n(f64::from(raw)), &[1; 8]).unwrap();
    }
    assert_eq!(s.count(None).unwrap(), 5);
    assert_eq!(s.count(Some(any("surface".into()))).unwrap(), 1);
    assert_eq!(s.count(Some(any("FLUID".into()))).unwrap(), 2);
    assert_eq!(s.count(Some(any("nodes".into()))).unwrap(), 2);
    assert_throws(
        s.count(Some(any("moon".into()))),
        "OptionsError",
        "unknown zone",
    );
    assert_eq!(
        s.addresses().to_vec(),
        vec![0x0001, 0x1000, 0x7FFF, 0x8000, 0xFFFF]
    );
    assert!(s.delete(&a("0x7F:FF")).unwrap());
    assert!(
        !s.delete(&a("0x7F:FF")).unwrap(),
        "deleting nothing says so"
    );
    assert_eq!(s.addresses().to_vec(), vec![0x0001, 0x1000, 0x8000, 0xFFFF]);
}

#[wasm_bindgen_test]
fn labels_parents_and_versions() {
    let mut s = space(64, 16);
    s.set(&a("0x80:00"), &[1; 8]).unwrap();
    s.set(&a("0x80:01"), &[2; 8]).unwrap();
    s.set_label(&a("0x80:01"), "child", Some(a("0x80:00")))
        .unwrap();
    let e = s.entry(&a("0x80:01")).unwrap();
    let get = |k: &str| js_sys::Reflect::get(&e, &k.into()).unwrap();
    assert_eq!(get("label").as_string().unwrap(), "child");
    assert_eq!(get("parent").as_string().unwrap(), "0x80:00");
    assert_eq!(get("version").as_f64().unwrap(), 3.0);
    assert!(get("expiresAt").is_undefined());
    assert_throws(
        s.set_label(&a("0x80:01"), &"x".repeat(33), None),
        "OptionsError",
        "label of 33 bytes",
    );
    assert_throws(
        s.set_label(&a("0x80:09"), "nobody", None),
        "AddressError",
        "no entry at 0x80:09",
    );
    assert!(s.entry(&a("0x80:09")).unwrap().is_undefined());
}

#[wasm_bindgen_test]
fn expired_entries_are_invisible_after_their_tick() {
    let mut s = space(64, 16);
    s.set(&a("0x10:00"), &[3; 8]).unwrap();
    s.set(&a("0x10:01"), &[3; 8]).unwrap();
    s.expire(&a("0x10:00"), Some(10.0)).unwrap();
    s.set_now(9.0).unwrap();
    assert!(s.has(&a("0x10:00")).unwrap());
    assert_eq!(hits(s.search(&[3; 8], None).unwrap()).len(), 2);
    s.set_now(10.0).unwrap();
    assert!(!s.has(&a("0x10:00")).unwrap());
    assert_eq!(s.get(&a("0x10:00")).unwrap(), None);
    assert_eq!(s.count(None).unwrap(), 1);
    assert_eq!(hits(s.search(&[3; 8], None).unwrap()).len(), 1);
    assert_throws(s.set_now(-1.0), "OptionsError", "non-negative");
    assert_throws(
        s.expire(&a("0x10:01"), Some(0.5)),
        "OptionsError",
        "integer tick",
    );
}

/// A space where `0x10:00` (labelled, fingerprint 1s) expired at tick 5 and
/// the clock is at 10: still stored (nothing purges), invisible.
fn with_expired_entry() -> bindspace_wasm::BindSpace {
    let mut s = space(64, 16);
    s.set(&a("0x10:00"), &[1; 8]).unwrap();
    s.set_label(&a("0x10:00"), "old", None).unwrap();
    s.expire(&a("0x10:00"), Some(5.0)).unwrap();
    s.set_now(10.0).unwrap();
    assert!(!s.has(&a("0x10:00")).unwrap());
    s
}

#[wasm_bindgen_test]
fn set_on_an_expired_entry_makes_a_fresh_one_as_the_language_does() {
    let mut js = with_expired_entry();
    let mut lang = with_expired_entry();
    js.set(&a("0x10:00"), &[2; 8]).unwrap();
    lang.exec("SET 0x10:00 0202020202020202").unwrap();
    // Visible at once, with no label and no expiry left over.
    assert_eq!(js.get(&a("0x10:00")).unwrap(), Some(vec![2; 8]));
    let e = js.entry(&a("0x10:00")).unwrap();
    let get = |k: &str| js_sys::Reflect::get(&e, &k.into()).unwrap();
    assert!(get("expiresAt").is_undefined());
    assert_eq!(get("label").as_string().as_deref(), Some(""));
    // The same one logged batch (delete, then set) as SET.
    assert_eq!(js.next_sequence(), 5.0);
    assert_eq!(js.export_log().unwrap(), lang.export_log().unwrap());
}

#[wasm_bindgen_test]
fn expire_and_set_label_refuse_an_expired_entry_as_an_absent_one() {
    let mut s = with_expired_entry();
    let before = s.export_log().unwrap();
    // The language treats the entry as absent.
    assert_eq!(s.exec("PERSIST 0x10:00").unwrap().as_f64(), Some(0.0));
    assert_eq!(s.exec("EXPIRE 0x10:00 100").unwrap().as_f64(), Some(0.0));
    // The JS methods refuse it exactly as an empty address.
    let absent = s.expire(&a("0x10:05"), None).err().unwrap();
    let (class, message) = common::error_of(absent);
    assert_eq!(class, "AddressError");
    assert_throws(s.expire(&a("0x10:00"), None), &class, "no entry at 0x10:00");
    assert!(message.contains("no entry at 0x10:05"), "{message}");
    assert_throws(
        s.expire(&a("0x10:00"), Some(20.0)),
        &class,
        "no entry at 0x10:00",
    );
    assert_throws(
        s.set_label(&a("0x10:00"), "new", None),
        &class,
        "no entry at 0x10:00",
    );
    assert_throws(
        s.set_label(&a("0x10:05"), "new", None),
        &class,
        "no entry at 0x10:05",
    );
    assert!(!s.has(&a("0x10:00")).unwrap(), "not revived");
    assert_eq!(s.export_log().unwrap(), before, "nothing logged");
    // Rewinding the clock shows the old entry untouched.
    s.set_now(0.0).unwrap();
    let e = s.entry(&a("0x10:00")).unwrap();
    let get = |k: &str| js_sys::Reflect::get(&e, &k.into()).unwrap();
    assert_eq!(get("label").as_string().as_deref(), Some("old"));
    assert_eq!(get("expiresAt").as_f64(), Some(5.0));
}

#[wasm_bindgen_test]
fn expired_entries_keep_their_rows_until_overwritten_or_deleted() {
    let mut s = space(64, 2);
    s.set(&a("0x10:00"), &[1; 8]).unwrap();
    s.set(&a("0x10:01"), &[1; 8]).unwrap();
    s.expire(&a("0x10:00"), Some(5.0)).unwrap();
    s.set_now(10.0).unwrap();
    assert_eq!(s.count(None).unwrap(), 1);
    // The expired entry still takes a row: a new address does not fit...
    assert_throws(s.set(&a("0x10:02"), &[2; 8]), "CapacityError", "");
    // ...until it is overwritten (in its own row) or deleted.
    s.set(&a("0x10:00"), &[3; 8]).unwrap();
    s.expire(&a("0x10:00"), Some(11.0)).unwrap();
    s.set_now(11.0).unwrap();
    assert!(!s.delete(&a("0x10:00")).unwrap(), "it was not live");
    s.set(&a("0x10:02"), &[2; 8]).unwrap();
    assert_eq!(s.count(None).unwrap(), 2);
}
