//! Fingerprint operations through the binding: the same bits as the core
//! computes on every other platform (values pinned from an x86_64 run).

mod common;

use bindspace_wasm::fingerprint_ops as ops;
use common::{assert_throws, space};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[wasm_bindgen_test]
fn encode_text_matches_the_native_bits() {
    // Pinned from bindspace-core on x86_64: same text, same bits, everywhere.
    let fp = words(&ops::encode_text("The quick brown fox", 1024.0).unwrap());
    assert_eq!(fp[0], 0x1f8c_7f92_c92f_8f6f);
    assert_eq!(fp[15], 0x77ae_ec64_5890_a930);
    let s = space(1024, 1);
    assert_eq!(
        s.encode_text("The quick brown fox").unwrap(),
        ops::encode_text("The quick brown fox", 1024.0).unwrap()
    );
}

#[wasm_bindgen_test]
fn from_seed_matches_the_native_bits() {
    let fp = words(&ops::from_seed(42u64.into(), 128.0).unwrap());
    assert_eq!(fp, vec![0xbdd7_3226_2feb_6e95, 0x28ef_e333_b266_f103]);
}

#[wasm_bindgen_test]
fn bind_is_its_own_inverse() {
    let x = ops::from_seed(1u64.into(), 256.0).unwrap();
    let y = ops::from_seed(2u64.into(), 256.0).unwrap();
    let bound = ops::bind(&x, &y).unwrap();
    assert_ne!(bound, x);
    assert_eq!(ops::bind(&bound, &y).unwrap(), x);
    assert_throws(ops::bind(&x, &y[..8]), "FingerprintError", "mismatch");
}

#[wasm_bindgen_test]
fn bundle_is_the_majority() {
    let s = space(64, 1);
    let inputs = js_sys::Array::new();
    for bytes in [[0b011u8; 8], [0b101u8; 8], [0b110u8; 8]] {
        inputs.push(&js_sys::Uint8Array::from(&bytes[..]));
    }
    assert_eq!(s.bundle(inputs.clone()).unwrap(), vec![0b111u8; 8]);
    assert_eq!(ops::bundle(inputs).unwrap(), vec![0b111u8; 8]);
    assert_throws(
        ops::bundle(js_sys::Array::new()),
        "FingerprintError",
        "at least one",
    );
    let bad = js_sys::Array::of1(&"text".into());
    assert_throws(
        ops::bundle(bad),
        "FingerprintError",
        "input 0 is not a Uint8Array",
    );
}

#[wasm_bindgen_test]
fn permute_rotates_and_comes_back() {
    let s = space(128, 1);
    let mut one = [0u8; 16];
    one[0] = 1;
    let moved = s.permute(&one, 65.0).unwrap();
    assert_eq!(words(&moved), vec![0, 2], "bit 0 moves to bit 65");
    assert_eq!(s.permute(&moved, -65.0).unwrap(), one.to_vec());
    assert_eq!(s.permute(&one, 128.0).unwrap(), one.to_vec(), "a full turn");
}

#[wasm_bindgen_test]
fn numeric_arguments_are_checked_not_rounded_or_wrapped() {
    let s = space(128, 1);
    let one = [1u8; 16];
    for n in [1.5, f64::NAN, f64::INFINITY, 2f64.powi(60)] {
        assert_throws(s.permute(&one, n), "OptionsError", "rotation");
        assert_throws(ops::permute(&one, n), "OptionsError", "rotation");
    }
    // A rotation past the width is taken modulo the width, as documented.
    assert_eq!(
        ops::permute(&one, 2f64.powi(32) + 3.0).unwrap(),
        ops::permute(&one, 3.0).unwrap()
    );
    for bits in [1024.9, -64.0, f64::NAN, 2f64.powi(40)] {
        assert_throws(ops::encode_text("a", bits), "OptionsError", "width");
        assert_throws(ops::from_seed(1u64.into(), bits), "OptionsError", "width");
    }
    // Seeds: a BigInt of 64 bits, or a safe non-negative integer number.
    assert_eq!(
        ops::from_seed(42u64.into(), 128.0).unwrap(),
        ops::from_seed(JsValue::from_f64(42.0), 128.0).unwrap()
    );
    let max = ops::from_seed(u64::MAX.into(), 128.0).unwrap();
    assert_eq!(max.len(), 16);
    for bad in [
        JsValue::from(-1i64),
        JsValue::bigint_from_str("18446744073709551616"), // 2^64
        JsValue::from_f64(-1.0),
        JsValue::from_f64(0.5),
        JsValue::from_str("42"),
    ] {
        assert_throws(ops::from_seed(bad, 128.0), "OptionsError", "seed");
    }
}

#[wasm_bindgen_test]
fn hamming_counts_differing_bits() {
    let a = [0u8; 16];
    let mut b = [0u8; 16];
    b[3] = 0xFF;
    b[15] = 0x01;
    assert_eq!(ops::hamming(&a, &b).unwrap(), 9);
    assert_throws(ops::hamming(&a, &b[..7]), "FingerprintError", "7 bytes");
}

#[wasm_bindgen_test]
fn the_kernel_is_named() {
    let name = ops::kernel_name();
    let expected = if cfg!(target_feature = "simd128") {
        "simd128"
    } else {
        "scalar"
    };
    assert_eq!(name, expected);
}
