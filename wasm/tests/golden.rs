//! The golden log images of `tests/golden/`, written by the log's
//! generator on the host, opened through the binding (`BindSpace.openLog`)
//! in Node and in Chromium, and compared entry by entry, bit for bit, with
//! what their scripts say they hold.

mod common;

use bindspace_core::log::golden::{Fp, VECTORS};
use bindspace_tests::golden::{check_all, image_of};
use bindspace_wasm::fingerprint_ops as ops;
use bindspace_wasm::BindSpace;
use common::n;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

fn field(v: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(v, &k.into()).unwrap()
}

fn bytes_of(fp: Fp, bits: u32) -> Vec<u8> {
    match fp {
        Fp::Seed(seed) => ops::from_seed(seed.into(), f64::from(bits)).unwrap(),
        Fp::Text(text) => ops::encode_text(text, f64::from(bits)).unwrap(),
    }
}

#[wasm_bindgen_test]
fn every_golden_image_opens_through_the_binding_to_its_script() {
    assert!(!VECTORS.is_empty());
    for v in VECTORS {
        let image = image_of(v).unwrap_or_else(|| panic!("{} is not committed", v.file));
        let space = BindSpace::open_log(image, None).unwrap_or_else(|e| {
            panic!("{}: {}", v.file, common::error_of(e).1);
        });
        let bits = (v.width_words * 64) as u32;
        assert_eq!(space.width(), bits, "{}", v.file);
        let r = space.recovery().unwrap();
        assert_eq!(
            field(&r, "tornBytes").as_f64().unwrap() > 0.0,
            v.torn,
            "{}",
            v.file
        );
        assert_eq!(
            field(&r, "abandoned").as_f64(),
            Some(v.abandoned as f64),
            "{}",
            v.file
        );
        assert_eq!(space.next_sequence(), v.next_seq as f64, "{}", v.file);
        let want: Vec<u16> = v.expect.iter().map(|e| e.addr.0).collect();
        assert_eq!(space.addresses().to_vec(), want, "{}", v.file);
        for e in v.expect {
            let addr = n(f64::from(e.addr.0));
            let got = space.entry(&addr).unwrap();
            let what = format!("{} {}", v.file, e.addr);
            assert_eq!(
                space.get(&addr).unwrap(),
                Some(bytes_of(e.fp, bits)),
                "{what}"
            );
            assert_eq!(
                field(&got, "label").as_string().as_deref(),
                Some(e.label),
                "{what}"
            );
            assert_eq!(
                field(&got, "parent").as_string(),
                e.parent.map(|p| p.to_string()),
                "{what}"
            );
            assert_eq!(
                field(&got, "expiresAt").as_f64(),
                e.expires_at.map(|t| t as f64),
                "{what}"
            );
            assert_eq!(
                field(&got, "version").as_f64(),
                Some(e.version as f64),
                "{what}"
            );
        }
        // Re-exported, compacted and reopened: the same entries again.
        let again = BindSpace::open_log(&space.compacted_log().unwrap(), None).unwrap();
        assert_eq!(again.addresses().to_vec(), want, "{}", v.file);
    }
}

#[wasm_bindgen_test]
fn the_core_check_passes_on_this_target_too() {
    assert_eq!(check_all(), Ok(VECTORS.len()));
}
