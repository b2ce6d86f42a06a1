//! # bindspace-wasm
//!
//! The wasm-bindgen binding of bindspace: it only converts between
//! JavaScript and the core. It will hold the `BindSpace` class of the npm
//! package; today it exposes the fingerprint functions the core has.

use bindspace_core::{fingerprint, kernels::Kernel, width::Width};
use wasm_bindgen::prelude::*;

/// Encodes `text` into a fingerprint of `bits` bits, returned as bytes
/// (little-endian words).
#[wasm_bindgen(js_name = encodeText)]
pub fn encode_text(text: &str, bits: u32) -> Result<Vec<u8>, JsError> {
    let width = Width::from_bits(bits).map_err(|e| JsError::new(&e.to_string()))?;
    let mut fp = vec![0u64; width.words()];
    fingerprint::encode_text(&mut fp, text).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(fp.iter().flat_map(|w| w.to_le_bytes()).collect())
}

/// The Hamming distance between two fingerprints given as bytes.
pub fn hamming(a: &[u8], b: &[u8]) -> Result<u32, JsError> {
    let (a, b) = (words(a)?, words(b)?);
    Kernel::best()
        .distance(&a, &b)
        .map_err(|e| JsError::new(&e.to_string()))
}

/// The name of the kernel this build uses (`simd128` or `scalar`).
#[wasm_bindgen(js_name = kernelName)]
pub fn kernel_name() -> String {
    Kernel::best().name().to_string()
}

fn words(bytes: &[u8]) -> Result<Vec<u64>, JsError> {
    if bytes.len() % 8 != 0 {
        return Err(JsError::new("fingerprint length must be a multiple of 8 bytes"));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect())
}
