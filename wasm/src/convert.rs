//! Conversions between JavaScript values and core types: fingerprints as
//! `Uint8Array` (words little-endian, as on the wire and in the log) and
//! addresses as `"0x80:1F"` strings or integers `0..=65535`.

use crate::errors::{js_error, ErrorKind};
use bindspace_core::{width::Width, Addr, Zone};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const ADDRESS_TS: &str = r#"
/** An address: `"0x80:1F"` (prefix:slot in hex, `0x` optional) or an integer 0..=65535. */
export type Address = string | number;

/** The three zones of the address space, by prefix: surface 0x00-0x0F, fluid 0x10-0x7F, nodes 0x80-0xFF. */
export type Zone = "surface" | "fluid" | "nodes";
"#;

#[wasm_bindgen]
extern "C" {
    /// An address as JavaScript passes it: `"0x80:1F"` or an integer.
    #[wasm_bindgen(typescript_type = "Address")]
    pub type AddressArg;

    /// A zone name: `"surface"`, `"fluid"` or `"nodes"`.
    #[wasm_bindgen(typescript_type = "Zone")]
    pub type ZoneArg;
}

/// Reads a fingerprint of exactly `width` from bytes.
pub fn fp_from_bytes(bytes: &[u8], width: Width) -> Result<Vec<u64>, JsValue> {
    if bytes.len() != width.bytes() {
        return Err(js_error(
            ErrorKind::Fingerprint,
            format_args!(
                "fingerprint has {} bytes ({} bits) but this space is {} bits ({} bytes)",
                bytes.len(),
                bytes.len() * 8,
                width.bits(),
                width.bytes()
            ),
        ));
    }
    Ok(words_of(bytes))
}

/// Reads a fingerprint of any valid width from bytes.
pub fn fp_from_any_bytes(bytes: &[u8]) -> Result<Vec<u64>, JsValue> {
    let bad = || {
        js_error(
            ErrorKind::Fingerprint,
            format_args!(
                "a fingerprint of {} bytes is not a valid width (8 to 2048 bytes, a multiple of 8)",
                bytes.len()
            ),
        )
    };
    if !bytes.len().is_multiple_of(8) {
        return Err(bad());
    }
    Width::from_words(bytes.len() / 8).map_err(|_| bad())?;
    Ok(words_of(bytes))
}

/// The bytes of a fingerprint, each word little-endian.
pub fn fp_to_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn words_of(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            u64::from_le_bytes(word)
        })
        .collect()
}

/// Reads an address from a string (`"0x80:1F"`) or an integer 0..=65535.
pub fn addr_from_js(value: &JsValue) -> Result<Addr, JsValue> {
    if let Some(text) = value.as_string() {
        return text
            .parse::<Addr>()
            .map_err(|e| js_error(ErrorKind::Address, format_args!("{e}: {text:?}")));
    }
    if let Some(n) = value.as_f64() {
        if whole_number_in(n, 0.0..=65535.0) {
            return Ok(Addr(n as u16));
        }
        return Err(js_error(
            ErrorKind::Address,
            format_args!("address number {n} is not an integer in 0..=65535"),
        ));
    }
    Err(js_error(
        ErrorKind::Address,
        "an address must be a string like \"0x80:1F\" or an integer 0..=65535",
    ))
}

/// Reads a zone name, ignoring ASCII case.
pub fn zone_from_js(value: &JsValue) -> Result<Zone, JsValue> {
    let name = value.as_string().unwrap_or_default();
    Zone::parse(name.as_bytes()).ok_or_else(|| {
        js_error(
            ErrorKind::Options,
            format_args!("unknown zone {name:?}: use \"surface\", \"fluid\" or \"nodes\""),
        )
    })
}

/// The canonical text of an address: `0x80:1F`.
pub fn addr_to_js(addr: Addr) -> String {
    addr.to_string()
}

/// The largest integer a JavaScript number holds exactly (2^53).
pub const SAFE_MAX: f64 = 9_007_199_254_740_992.0;

/// Whether the JavaScript number `value` is a whole number in `range`
/// (NaN, infinities and fractions never are): the one test behind every
/// integer argument, each caller giving its own error.
pub fn whole_number_in(value: f64, range: core::ops::RangeInclusive<f64>) -> bool {
    value.fract() == 0.0 && range.contains(&value)
}

/// Reads an integer argument in `min..=max` (both within ±2^53) from a
/// JavaScript number: fractions, NaN, infinities and values out of range
/// are an `OptionsError` naming `what`, never rounded or wrapped.
pub fn integer_from_js(value: f64, min: i64, max: i64, what: &str) -> Result<i64, JsValue> {
    if whole_number_in(value, min as f64..=max as f64) {
        Ok(value as i64)
    } else {
        Err(js_error(
            ErrorKind::Options,
            format_args!("{what} must be an integer from {min} to {max}, got {value}"),
        ))
    }
}

/// Reads a 64-bit unsigned integer from a `BigInt` (`0n..2n**64n - 1n`)
/// or a non-negative integer number (up to 2^53), refusing anything else
/// (a negative or too large `BigInt` is not wrapped).
pub fn u64_from_js(value: &JsValue, what: &str) -> Result<u64, JsValue> {
    if let Some(n) = value.as_f64() {
        let n = integer_from_js(n, 0, SAFE_MAX as i64, what)?;
        return Ok(n as u64);
    }
    if value.is_bigint() {
        let text: String = js_sys::BigInt::unchecked_from_js_ref(value)
            .to_string(10)
            .map_err(|_| js_error(ErrorKind::Options, format_args!("{what}: not a BigInt")))?
            .into();
        return text.parse::<u64>().map_err(|_| {
            js_error(
                ErrorKind::Options,
                format_args!("{what} must be from 0 to 2^64 - 1, got {text}n"),
            )
        });
    }
    Err(js_error(
        ErrorKind::Options,
        format_args!("{what} must be a BigInt or a non-negative integer number"),
    ))
}
