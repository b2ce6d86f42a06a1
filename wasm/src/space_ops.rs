//! Fingerprint operations of a `BindSpace`, checked against its width:
//! bind, bundle, permute, encodeText, hamming. (The same operations for
//! any width are free functions in [`crate::fingerprint_ops`].)

use crate::convert::fp_to_bytes;
use crate::errors::{js_error, ErrorKind};
use crate::fingerprint_ops::{fp_error, fps_from_array};
use crate::space::BindSpace;
use bindspace_core::fingerprint;
use bindspace_core::kernels::Kernel;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl BindSpace {
    /// `a XOR b` (both of this space's width).
    pub fn bind(&self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, JsValue> {
        let (a, b) = (self.fp(a)?, self.fp(b)?);
        let mut out = self.zeroed();
        fingerprint::bind(&mut out, &a, &b).map_err(fp_error)?;
        Ok(fp_to_bytes(&out))
    }

    /// The bitwise majority of `inputs` (all of this space's width).
    pub fn bundle(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] inputs: js_sys::Array,
    ) -> Result<Vec<u8>, JsValue> {
        let fps = fps_from_array(&inputs)?;
        let mut out = self.zeroed();
        let refs: Vec<&[u64]> = fps.iter().map(Vec::as_slice).collect();
        fingerprint::bundle(&mut out, &refs).map_err(fp_error)?;
        Ok(fp_to_bytes(&out))
    }

    /// `fp` rotated by `n` bits towards higher positions (negative: back).
    pub fn permute(&self, fp: &[u8], n: f64) -> Result<Vec<u8>, JsValue> {
        let n = crate::fingerprint_ops::rotation_from_js(n)?;
        let src = self.fp(fp)?;
        let mut out = self.zeroed();
        fingerprint::permute(&mut out, &src, n).map_err(fp_error)?;
        Ok(fp_to_bytes(&out))
    }

    /// `text` encoded as a fingerprint of this space's width.
    #[wasm_bindgen(js_name = encodeText)]
    pub fn encode_text(&self, text: &str) -> Result<Vec<u8>, JsValue> {
        let mut out = self.zeroed();
        fingerprint::encode_text(&mut out, text).map_err(fp_error)?;
        Ok(fp_to_bytes(&out))
    }

    /// The Hamming distance between two fingerprints of this space's width.
    pub fn hamming(&self, a: &[u8], b: &[u8]) -> Result<u32, JsValue> {
        let (a, b) = (self.fp(a)?, self.fp(b)?);
        Kernel::best()
            .distance(&a, &b)
            .map_err(|e| js_error(ErrorKind::Fingerprint, e))
    }
}
