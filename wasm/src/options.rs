//! Option objects from JavaScript: `{ width, capacity }` for a new space
//! and `{ k, zone, prefix, maxDist }` for a search. Every field is
//! optional; a present field of the wrong type or range is an
//! `OptionsError`, never silently ignored.

use crate::convert::zone_from_js;
use crate::errors::{js_error, ErrorKind};
use bindspace_core::space::{Filter, ROWS_MAX};
use bindspace_core::width::Width;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const OPTIONS_TS: &str = r#"
/** Options of `new BindSpace(options)`. */
export interface BindSpaceOptions {
  /** Fingerprint width in bits: a multiple of 64, 64..=16384. Default 8192. */
  width?: number;
  /** The most entries the space will hold, 1..=65536. Default 65536. */
  capacity?: number;
}

/** Options of `BindSpace.openLog`. */
export interface OpenLogOptions {
  /** The most entries the space will hold, 1..=65536. Default 65536. */
  capacity?: number;
  /** Skip damage in the middle of the log instead of refusing to open. Default false. */
  repair?: boolean;
}

/** Options of `search`. */
export interface SearchOptions {
  /** How many hits at most, 0..=65536. Default 10. */
  k?: number;
  /** Only addresses of this zone. */
  zone?: Zone;
  /** Only addresses with this prefix (0..=255); not together with `zone`. */
  prefix?: number;
  /** Only hits at most this Hamming distance away. */
  maxDist?: number;
}

/** One search result. */
export interface SearchHit {
  /** The entry's address, `"0x80:1F"`. */
  addr: string;
  /** Its Hamming distance from the query. */
  distance: number;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `{ width, capacity }` as JavaScript passes it.
    #[wasm_bindgen(typescript_type = "BindSpaceOptions")]
    pub type BindSpaceOptionsArg;

    /// `{ capacity, repair }` as JavaScript passes it.
    #[wasm_bindgen(typescript_type = "OpenLogOptions")]
    pub type OpenLogOptionsArg;

    /// `{ k, zone, prefix, maxDist }` as JavaScript passes it.
    #[wasm_bindgen(typescript_type = "SearchOptions")]
    pub type SearchOptionsArg;
}

/// The number of hits a search returns unless told otherwise.
pub const DEFAULT_K: usize = 10;

/// Reads field `name` of `options`; `None` when absent or `undefined`.
fn field(options: &JsValue, name: &str) -> Result<Option<JsValue>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    if !options.is_object() {
        return Err(js_error(ErrorKind::Options, "options must be an object"));
    }
    let value = js_sys::Reflect::get(options, &JsValue::from_str(name))?;
    Ok((!value.is_undefined()).then_some(value))
}

/// Reads an integer field in `lo..=hi`.
fn integer(options: &JsValue, name: &str, lo: u32, hi: u32) -> Result<Option<u32>, JsValue> {
    let Some(value) = field(options, name)? else {
        return Ok(None);
    };
    match value.as_f64() {
        Some(n) if crate::convert::whole_number_in(n, f64::from(lo)..=f64::from(hi)) => {
            Ok(Some(n as u32))
        }
        _ => Err(js_error(
            ErrorKind::Options,
            format_args!("option {name} must be an integer in {lo}..={hi}"),
        )),
    }
}

/// What `new BindSpace(options)` asked for.
#[derive(Clone, Copy, Debug)]
pub struct SpaceOptions {
    /// Fingerprint width.
    pub width: Width,
    /// The most entries.
    pub capacity: usize,
}

impl SpaceOptions {
    /// Reads `{ width, capacity }`.
    pub fn from_js(options: &JsValue) -> Result<SpaceOptions, JsValue> {
        let width = match integer(options, "width", 0, u32::MAX)? {
            Some(bits) => Width::from_bits(bits).map_err(|e| js_error(ErrorKind::Options, e))?,
            None => Width::DEFAULT,
        };
        let capacity =
            integer(options, "capacity", 1, ROWS_MAX as u32)?.map_or(ROWS_MAX, |c| c as usize);
        Ok(SpaceOptions { width, capacity })
    }
}

/// What `openLog` asked for.
#[derive(Clone, Copy, Debug)]
pub struct OpenLogOptions {
    /// The most entries.
    pub capacity: usize,
    /// Whether damage in the middle is skipped rather than refused.
    pub repair: bool,
}

impl OpenLogOptions {
    /// Reads `{ capacity, repair }`.
    pub fn from_js(options: &JsValue) -> Result<OpenLogOptions, JsValue> {
        let capacity =
            integer(options, "capacity", 1, ROWS_MAX as u32)?.map_or(ROWS_MAX, |c| c as usize);
        let repair = match field(options, "repair")? {
            None => false,
            Some(v) => v.as_bool().ok_or_else(|| {
                js_error(ErrorKind::Options, "option repair must be true or false")
            })?,
        };
        Ok(OpenLogOptions { capacity, repair })
    }
}

/// What a search asked for.
#[derive(Clone, Copy, Debug)]
pub struct SearchRequest {
    /// Hits at most.
    pub k: usize,
    /// Which addresses.
    pub filter: Filter,
    /// Farthest hit.
    pub max_distance: Option<u32>,
}

impl SearchRequest {
    /// Reads `{ k, zone, prefix, maxDist }`.
    pub fn from_js(options: &JsValue) -> Result<SearchRequest, JsValue> {
        let k = integer(options, "k", 0, ROWS_MAX as u32)?.map_or(DEFAULT_K, |k| k as usize);
        let max_distance = integer(options, "maxDist", 0, u32::MAX)?;
        let zone = field(options, "zone")?
            .map(|value| zone_from_js(&value))
            .transpose()?;
        let prefix = integer(options, "prefix", 0, 255)?;
        let filter = match (zone, prefix) {
            (Some(_), Some(_)) => {
                return Err(js_error(
                    ErrorKind::Options,
                    "give either zone or prefix, not both",
                ))
            }
            (Some(z), None) => Filter::Zone(z),
            (None, Some(p)) => Filter::Prefix(p as u8),
            (None, None) => Filter::All,
        };
        Ok(SearchRequest {
            k,
            filter,
            max_distance,
        })
    }
}
