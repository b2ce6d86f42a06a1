//! Addresses: 65,536 of them, `prefix << 8 | slot`, written `0x80:1F`.
//!
//! The prefix selects a zone. Lookup anywhere in bindspace is array indexing
//! by this integer: no hashing, no floating point.

use core::fmt;
use core::str::FromStr;

/// One of the 65,536 addresses of a space: `prefix << 8 | slot`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Addr(pub u16);

/// The three zones of the address space, chosen by the prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Zone {
    /// Prefixes `0x00-0x0F`: 4,096 addresses reserved for system and vocabulary.
    Surface,
    /// Prefixes `0x10-0x7F`: 28,672 addresses of working memory; entries may expire.
    Fluid,
    /// Prefixes `0x80-0xFF`: 32,768 long-lived addresses (named paths live here).
    Nodes,
}

impl Zone {
    /// Every zone, in address order.
    pub const ALL: [Zone; 3] = [Zone::Surface, Zone::Fluid, Zone::Nodes];

    /// The inclusive prefix range of this zone.
    pub const fn prefixes(self) -> (u8, u8) {
        match self {
            Zone::Surface => (0x00, 0x0F),
            Zone::Fluid => (0x10, 0x7F),
            Zone::Nodes => (0x80, 0xFF),
        }
    }

    /// The zone's lower-case name, as the command language spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Zone::Surface => "surface",
            Zone::Fluid => "fluid",
            Zone::Nodes => "nodes",
        }
    }

    /// Parses a zone name, ignoring ASCII case.
    pub fn parse(s: &[u8]) -> Option<Zone> {
        Zone::ALL
            .into_iter()
            .find(|z| z.name().as_bytes().eq_ignore_ascii_case(s))
    }

    /// Whether `addr` lies in this zone.
    pub const fn contains(self, addr: Addr) -> bool {
        let (lo, hi) = self.prefixes();
        let p = addr.prefix();
        p >= lo && p <= hi
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an address string did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddrError {
    /// Not of the form `PP:SS` (two hex bytes joined by a colon, `0x` optional).
    Syntax,
    /// The prefix or slot is not a hex number.
    BadHex,
    /// The prefix or slot is larger than `0xFF`.
    OutOfRange,
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddrError::Syntax => "address must look like 0x80:1F (prefix:slot in hex)",
            AddrError::BadHex => "address prefix and slot must be hex digits",
            AddrError::OutOfRange => "address prefix and slot must each be at most 0xFF",
        })
    }
}

impl Addr {
    /// The address with this prefix and slot.
    pub const fn new(prefix: u8, slot: u8) -> Addr {
        Addr(((prefix as u16) << 8) | slot as u16)
    }

    /// The high byte: which page of 256 slots, and so which zone.
    pub const fn prefix(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// The low byte: the slot within the prefix.
    pub const fn slot(self) -> u8 {
        self.0 as u8
    }

    /// The zone this address belongs to.
    pub const fn zone(self) -> Zone {
        match self.prefix() {
            0x00..=0x0F => Zone::Surface,
            0x10..=0x7F => Zone::Fluid,
            _ => Zone::Nodes,
        }
    }

    /// Parses `0x80:1F`, `80:1F` or `80:1f` from bytes.
    pub fn parse(s: &[u8]) -> Result<Addr, AddrError> {
        let colon = s.iter().position(|&c| c == b':').ok_or(AddrError::Syntax)?;
        let (p, rest) = s.split_at(colon);
        let slot = &rest[1..];
        let p = p
            .strip_prefix(b"0x")
            .or_else(|| p.strip_prefix(b"0X"))
            .unwrap_or(p);
        let slot = slot
            .strip_prefix(b"0x")
            .or_else(|| slot.strip_prefix(b"0X"))
            .unwrap_or(slot);
        Ok(Addr::new(parse_hex_byte(p)?, parse_hex_byte(slot)?))
    }
}

/// Parses one to two hex digits (longer strings with leading zeros allowed).
fn parse_hex_byte(s: &[u8]) -> Result<u8, AddrError> {
    if s.is_empty() {
        return Err(AddrError::Syntax);
    }
    let mut value: u32 = 0;
    for &c in s {
        let digit = (c as char).to_digit(16).ok_or(AddrError::BadHex)?;
        value = value * 16 + digit;
        if value > 0xFF {
            return Err(AddrError::OutOfRange);
        }
    }
    Ok(value as u8)
}

impl FromStr for Addr {
    type Err = AddrError;
    fn from_str(s: &str) -> Result<Addr, AddrError> {
        Addr::parse(s.as_bytes())
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X}:{:02X}", self.prefix(), self.slot())
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    // wasm-bindgen-test cannot run plain `#[test]` functions: on wasm32 this
    // import turns every `#[test]` below (proptest's too) into a
    // `#[wasm_bindgen_test]`, so one test body serves every target.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn round_trips_every_address() {
        for raw in 0..=u16::MAX {
            let a = Addr(raw);
            let text = a.to_string();
            assert_eq!(text.parse::<Addr>(), Ok(a), "{text}");
        }
    }

    #[test]
    fn zones_cover_the_documented_ranges() {
        let count = |z: Zone| (0..=u16::MAX).filter(|&r| Addr(r).zone() == z).count();
        assert_eq!(count(Zone::Surface), 4096);
        assert_eq!(count(Zone::Fluid), 28672);
        assert_eq!(count(Zone::Nodes), 32768);
        for z in Zone::ALL {
            assert!((0..=u16::MAX).all(|r| z.contains(Addr(r)) == (Addr(r).zone() == z)));
        }
    }

    #[test]
    fn accepts_lower_case_and_no_prefix() {
        assert_eq!("80:1f".parse(), Ok(Addr::new(0x80, 0x1F)));
        assert_eq!("0x0:0x1".parse(), Ok(Addr::new(0, 1)));
    }

    #[test]
    fn bad_addresses_are_errors_not_panics() {
        for (s, e) in [
            ("", AddrError::Syntax),
            ("801F", AddrError::Syntax),
            (":1F", AddrError::Syntax),
            ("80:", AddrError::Syntax),
            ("0x:1F", AddrError::Syntax),
            ("G0:1F", AddrError::BadHex),
            ("80:1F:2", AddrError::BadHex),
            ("100:00", AddrError::OutOfRange),
            ("00:1FF", AddrError::OutOfRange),
            ("é:1", AddrError::BadHex),
        ] {
            assert_eq!(s.parse::<Addr>(), Err(e), "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,12}") {
            let _ = s.parse::<Addr>();
        }
    }
}
