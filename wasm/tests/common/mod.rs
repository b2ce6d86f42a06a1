//! Helpers shared by the wasm-bindgen-test suites.
#![allow(dead_code, unreachable_pub)]

use bindspace_wasm::convert::AddressArg;
use bindspace_wasm::BindSpace;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `{ key: value, ... }` as a JS object.
pub fn obj(fields: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in fields {
        js_sys::Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

/// `{ key: value, ... }` as an options argument of type `T`.
pub fn opts<T: JsCast>(fields: &[(&str, JsValue)]) -> Option<T> {
    Some(obj(fields).unchecked_into())
}

/// Any JS value passed where `T` is expected (to test what bad input does).
pub fn any<T: JsCast>(value: JsValue) -> T {
    value.unchecked_into()
}

/// A space of `bits` bits holding at most `capacity` entries.
pub fn space(bits: u32, capacity: u32) -> BindSpace {
    BindSpace::new(opts(&[
        ("width", bits.into()),
        ("capacity", capacity.into()),
    ]))
    .unwrap()
}

/// An address string as JS.
pub fn a(text: &str) -> AddressArg {
    JsValue::from_str(text).unchecked_into()
}

/// An address number as JS.
pub fn n(raw: f64) -> AddressArg {
    JsValue::from_f64(raw).unchecked_into()
}

/// The class name and message of a thrown error; fails the test if the
/// value is not an `Error`.
pub fn error_of(e: JsValue) -> (String, String) {
    let err = e
        .dyn_into::<js_sys::Error>()
        .expect("bindspace must throw Error instances");
    (String::from(err.name()), String::from(err.message()))
}

/// Asserts `result` failed with an error of class `class` whose message
/// contains `needle`.
pub fn assert_throws<T>(result: Result<T, JsValue>, class: &str, needle: &str) {
    let Err(e) = result else {
        panic!("expected {class} containing {needle:?}, got success")
    };
    let (name, message) = error_of(e);
    assert_eq!(name, class, "error class (message: {message})");
    assert!(
        message.contains(needle),
        "message {message:?} should contain {needle:?}"
    );
}

/// The search hits as (address, distance) pairs.
pub fn hits(array: js_sys::Array) -> Vec<(String, u32)> {
    array
        .iter()
        .map(|hit| {
            let addr = js_sys::Reflect::get(&hit, &"addr".into()).unwrap();
            let d = js_sys::Reflect::get(&hit, &"distance".into()).unwrap();
            (addr.as_string().unwrap(), d.as_f64().unwrap() as u32)
        })
        .collect()
}
