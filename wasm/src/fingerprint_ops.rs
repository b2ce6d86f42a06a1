//! Fingerprint operations as free functions over `Uint8Array`s of any
//! valid width: bind, bundle, permute, text encoding, seeding, Hamming
//! distance. `BindSpace` has the same operations checked against its width.

use crate::convert::{fp_from_any_bytes, fp_to_bytes, integer_from_js, u64_from_js};
use crate::errors::{js_error, ErrorKind};
use bindspace_core::{fingerprint, kernels::Kernel, width::Width};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Checks a width given in bits (an integer number; a fraction or a value
/// out of range is refused, not rounded).
pub fn width_from_bits(bits: f64) -> Result<Width, JsValue> {
    let bits = integer_from_js(bits, 0, i64::from(u32::MAX), "the width in bits")?;
    Width::from_bits(bits as u32).map_err(|e| js_error(ErrorKind::Options, e))
}

/// Reads a rotation in bits: an integer number, either sign.
pub fn rotation_from_js(n: f64) -> Result<i64, JsValue> {
    // Any safe integer: the rotation is taken modulo the width.
    integer_from_js(n, -(1 << 53), 1 << 53, "the rotation n")
}

/// Turns a core fingerprint error into a `FingerprintError`.
pub fn fp_error(e: fingerprint::FpError) -> JsValue {
    js_error(ErrorKind::Fingerprint, e)
}

/// `text` encoded as a fingerprint of `bits` bits (character trigrams,
/// the same bits on every platform).
#[wasm_bindgen(js_name = encodeText)]
pub fn encode_text(text: &str, bits: f64) -> Result<Vec<u8>, JsValue> {
    let width = width_from_bits(bits)?;
    let mut fp = vec![0u64; width.words()];
    fingerprint::encode_text(&mut fp, text).map_err(fp_error)?;
    Ok(fp_to_bytes(&fp))
}

/// The fingerprint of `bits` bits generated from an integer `seed`: a
/// `BigInt` from `0n` to `2n ** 64n - 1n`, or a non-negative integer number.
#[wasm_bindgen(js_name = fromSeed)]
pub fn from_seed(
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue,
    bits: f64,
) -> Result<Vec<u8>, JsValue> {
    let seed = u64_from_js(&seed, "the seed")?;
    let width = width_from_bits(bits)?;
    let mut fp = vec![0u64; width.words()];
    fingerprint::from_seed(&mut fp, seed).map_err(fp_error)?;
    Ok(fp_to_bytes(&fp))
}

/// `a XOR b`; binding is its own inverse.
#[wasm_bindgen]
pub fn bind(a: &[u8], b: &[u8]) -> Result<Vec<u8>, JsValue> {
    let (a, b) = (fp_from_any_bytes(a)?, fp_from_any_bytes(b)?);
    let mut out = vec![0u64; a.len()];
    fingerprint::bind(&mut out, &a, &b).map_err(fp_error)?;
    Ok(fp_to_bytes(&out))
}

/// The bitwise majority of `inputs` (ties broken by a fixed, documented
/// fingerprint, the same on every platform).
#[wasm_bindgen]
pub fn bundle(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] inputs: js_sys::Array,
) -> Result<Vec<u8>, JsValue> {
    let fps = fps_from_array(&inputs)?;
    let words = fps.first().map_or(0, Vec::len);
    let refs: Vec<&[u64]> = fps.iter().map(Vec::as_slice).collect();
    let mut out = vec![0u64; words.max(1)];
    fingerprint::bundle(&mut out, &refs).map_err(fp_error)?;
    Ok(fp_to_bytes(&out))
}

/// `fp` rotated by `n` bits towards higher bit positions (negative `n`
/// rotates back).
#[wasm_bindgen]
pub fn permute(fp: &[u8], n: f64) -> Result<Vec<u8>, JsValue> {
    let n = rotation_from_js(n)?;
    let src = fp_from_any_bytes(fp)?;
    let mut out = vec![0u64; src.len()];
    fingerprint::permute(&mut out, &src, n).map_err(fp_error)?;
    Ok(fp_to_bytes(&out))
}

/// The Hamming distance between two fingerprints of the same width.
#[wasm_bindgen]
pub fn hamming(a: &[u8], b: &[u8]) -> Result<u32, JsValue> {
    let (a, b) = (fp_from_any_bytes(a)?, fp_from_any_bytes(b)?);
    Kernel::best()
        .distance(&a, &b)
        .map_err(|e| js_error(ErrorKind::Fingerprint, e))
}

/// The Hamming kernel this build uses: `simd128` or `scalar`.
#[wasm_bindgen(js_name = kernelName)]
pub fn kernel_name() -> String {
    Kernel::best().name().to_string()
}

/// Reads an array of `Uint8Array` fingerprints.
pub fn fps_from_array(inputs: &js_sys::Array) -> Result<Vec<Vec<u64>>, JsValue> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let bytes = value.dyn_into::<js_sys::Uint8Array>().map_err(|_| {
                js_error(
                    ErrorKind::Fingerprint,
                    format_args!("input {i} is not a Uint8Array"),
                )
            })?;
            fp_from_any_bytes(&bytes.to_vec())
        })
        .collect()
}
