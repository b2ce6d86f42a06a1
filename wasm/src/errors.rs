//! Errors cross into JavaScript as instances of specific `Error` subclasses
//! (defined in `js/errors.js`), each carrying the core's message.

use core::fmt::Display;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(kind: &str, message: &str) -> JsValue;
}

/// Which JS error class an error becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `AddressError`: an address that does not parse or is out of range.
    Address,
    /// `FingerprintError`: wrong width or length, or a refused operation.
    Fingerprint,
    /// `CapacityError`: the space is full.
    Capacity,
    /// `LogError`: a log image that does not open.
    Log,
    /// `CommandError`: a command that is malformed or failed.
    Command,
    /// `OptionsError`: bad options or arguments.
    Options,
}

impl ErrorKind {
    /// The JS class name, as `js/errors.js` spells it.
    pub const fn class_name(self) -> &'static str {
        match self {
            ErrorKind::Address => "AddressError",
            ErrorKind::Fingerprint => "FingerprintError",
            ErrorKind::Capacity => "CapacityError",
            ErrorKind::Log => "LogError",
            ErrorKind::Command => "CommandError",
            ErrorKind::Options => "OptionsError",
        }
    }
}

/// Builds the JS error of `kind` with `message`, ready to be thrown.
pub fn js_error(kind: ErrorKind, message: impl Display) -> JsValue {
    make_error(kind.class_name(), &message.to_string())
}
