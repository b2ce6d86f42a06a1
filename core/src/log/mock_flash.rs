//! A RAM-backed NOR flash that behaves like the real thing, and can lose
//! power at any byte.
//!
//! It enforces the NOR rules the log relies on (docs/FORMAT.md, section
//! 6.1), so a log bug that real flash would punish fails a test here:
//!
//! - erase sets a whole sector to `0xFF`;
//! - a write ANDs into the cells (it can only clear bits), must be aligned
//!   to `WRITE_SIZE` in offset and length, and may not touch a word already
//!   written since the last erase ([`MockFlashError::WrittenTwice`]), even
//!   with the same value;
//! - every read, write and erase is counted per sector ([`SectorStats`]);
//! - [`MockFlash::cut_power_after`] makes power fail after a given number
//!   of further programmed bytes (an erase counts as one): the bytes before
//!   the cut are programmed, the rest are not; with [`CutMode::RandomWord`]
//!   the rest of the word being programmed gets random bits instead, and an
//!   interrupted erase leaves random bytes. After the cut every operation
//!   fails with [`MockFlashError::PowerLost`] until [`MockFlash::power_on`];
//! - [`MockFlash::fail_read_after`] makes one later read call fail with
//!   [`MockFlashError::ReadFailed`], its buffer filled with `0xFF` (what a
//!   caller that ignored the error would take for erased flash).
//!
//! No heap: the geometry is const generic and the whole flash is one value
//! (`SECTORS * SECTOR_SIZE * 2` bytes plus counters), so the firmware can
//! keep one in a `static`.

use core::fmt;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

use crate::prng::SplitMix64;

/// What the mock flash refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MockFlashError {
    /// Offset or length not aligned to the write (or erase) size.
    NotAligned {
        /// The offset asked for.
        offset: u32,
    },
    /// The range runs past the end of the flash.
    OutOfBounds {
        /// The offset asked for.
        offset: u32,
    },
    /// A word written since its last erase was written again.
    WrittenTwice {
        /// The offset of the word.
        offset: u32,
    },
    /// Power was cut; nothing works until [`MockFlash::power_on`].
    PowerLost,
    /// An injected read fault ([`MockFlash::fail_read_after`]).
    ReadFailed {
        /// The offset asked for.
        offset: u32,
    },
}

impl fmt::Display for MockFlashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MockFlashError::NotAligned { offset } => {
                write!(f, "flash access at {offset:#x} is not aligned")
            }
            MockFlashError::OutOfBounds { offset } => {
                write!(f, "flash access at {offset:#x} runs past the end")
            }
            MockFlashError::WrittenTwice { offset } => write!(
                f,
                "flash word at {offset:#x} written twice without an erase"
            ),
            MockFlashError::PowerLost => f.write_str("flash power was cut"),
            MockFlashError::ReadFailed { offset } => {
                write!(f, "flash read at {offset:#x} failed")
            }
        }
    }
}

impl NorFlashError for MockFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            MockFlashError::NotAligned { .. } => NorFlashErrorKind::NotAligned,
            MockFlashError::OutOfBounds { .. } => NorFlashErrorKind::OutOfBounds,
            _ => NorFlashErrorKind::Other,
        }
    }
}

/// What a power cut leaves in the word (or sector) being programmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutMode {
    /// Bytes before the cut are programmed, the rest untouched; an
    /// interrupted erase erases the sector's first half only.
    Clean,
    /// As `Clean`, but the rest of the word being programmed gets random
    /// bits, and an interrupted erase leaves random bytes in the sector.
    RandomWord,
}

/// Operation counters of one sector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SectorStats {
    /// Read calls touching the sector.
    pub reads: u64,
    /// Write calls touching the sector.
    pub writes: u64,
    /// Bytes programmed in the sector.
    pub bytes_written: u64,
    /// Erases of the sector.
    pub erases: u64,
}

/// A NOR flash of `SECTORS` sectors of `SECTOR_SIZE` bytes, programmed in
/// words of `WRITE_SIZE` bytes, held in RAM.
#[derive(Clone)]
pub struct MockFlash<const SECTORS: usize, const SECTOR_SIZE: usize, const WRITE_SIZE: usize> {
    data: [[u8; SECTOR_SIZE]; SECTORS],
    /// Per byte: written since the last erase (a whole word is marked).
    written: [[bool; SECTOR_SIZE]; SECTORS],
    stats: [SectorStats; SECTORS],
    /// Programmed bytes (erases count one) left before power fails.
    budget: Option<u64>,
    mode: CutMode,
    powered: bool,
    rng: SplitMix64,
    /// Read calls left to succeed before the injected read fault.
    read_fault: Option<u64>,
}

impl<const SECTORS: usize, const SECTOR_SIZE: usize, const WRITE_SIZE: usize>
    MockFlash<SECTORS, SECTOR_SIZE, WRITE_SIZE>
{
    /// Checked when a flash is made: the geometry must be NOR-like.
    const GEOMETRY_OK: () = assert!(
        SECTORS > 0
            && WRITE_SIZE > 0
            && WRITE_SIZE.is_power_of_two()
            && SECTOR_SIZE.is_multiple_of(WRITE_SIZE)
            && (SECTORS * SECTOR_SIZE) as u64 <= u32::MAX as u64,
        "mock flash geometry: WRITE_SIZE must be a power of two dividing SECTOR_SIZE"
    );

    /// A flash fresh from the factory: every byte erased (`0xFF`), powered.
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::GEOMETRY_OK;
        MockFlash {
            data: [[0xFF; SECTOR_SIZE]; SECTORS],
            written: [[false; SECTOR_SIZE]; SECTORS],
            stats: [SectorStats {
                reads: 0,
                writes: 0,
                bytes_written: 0,
                erases: 0,
            }; SECTORS],
            budget: None,
            mode: CutMode::Clean,
            powered: true,
            rng: SplitMix64::new(0x0B5E_55ED),
            read_fault: None,
        }
    }

    /// Power fails after `bytes` more programmed bytes (an erase counts as
    /// one byte): the write or erase in progress is cut as `mode` says.
    /// `seed` drives the random bits of [`CutMode::RandomWord`].
    pub fn cut_power_after(&mut self, bytes: u64, mode: CutMode, seed: u64) {
        self.budget = Some(bytes);
        self.mode = mode;
        self.rng = SplitMix64::new(seed);
    }

    /// Power comes back (the contents stay as the cut left them) and no cut
    /// is scheduled.
    pub fn power_on(&mut self) {
        self.powered = true;
        self.budget = None;
    }

    /// Whether power has been cut.
    pub const fn power_lost(&self) -> bool {
        !self.powered
    }

    /// After `reads` more read calls succeed, the next one fails with
    /// [`MockFlashError::ReadFailed`] and fills its buffer with `0xFF`;
    /// reads after it succeed again. Contents and power are untouched.
    pub fn fail_read_after(&mut self, reads: u64) {
        self.read_fault = Some(reads);
    }

    /// Whether a read fault is scheduled and has not happened yet.
    pub const fn read_fault_pending(&self) -> bool {
        self.read_fault.is_some()
    }

    /// Programmed bytes left before the scheduled cut, if one is scheduled.
    pub const fn budget(&self) -> Option<u64> {
        self.budget
    }

    /// The counters of sector `i`.
    pub fn stats(&self, i: usize) -> SectorStats {
        self.stats.get(i).copied().unwrap_or_default()
    }

    /// Every sector's counters.
    pub const fn all_stats(&self) -> &[SectorStats; SECTORS] {
        &self.stats
    }

    /// Forgets the counters (the contents stay).
    pub fn reset_stats(&mut self) {
        self.stats = [SectorStats::default(); SECTORS];
    }

    /// The raw contents of sector `i`, for tests and dumps.
    pub fn sector(&self, i: usize) -> &[u8] {
        self.data.get(i).map_or(&[], |s| &s[..])
    }

    /// Whether the byte at `offset` has been written since its sector's last
    /// erase.
    pub fn is_written(&self, offset: usize) -> bool {
        let (s, o) = (offset / SECTOR_SIZE, offset % SECTOR_SIZE);
        self.written.get(s).is_some_and(|w| w[o])
    }

    /// Damages the flash behind the log's back (bit rot, tampering): XORs
    /// `mask` into the byte at `offset`. Not counted, not checked.
    pub fn corrupt(&mut self, offset: usize, mask: u8) {
        let (s, o) = (offset / SECTOR_SIZE, offset % SECTOR_SIZE);
        if let Some(sector) = self.data.get_mut(s) {
            sector[o] ^= mask;
        }
    }

    /// Takes `n` units from the budget: how many may really happen.
    fn spend(&mut self, n: u64) -> u64 {
        match &mut self.budget {
            None => n,
            Some(left) => {
                let can = (*left).min(n);
                *left -= can;
                can
            }
        }
    }

    fn check(&self, offset: u32, len: usize, align: usize) -> Result<(), MockFlashError> {
        if !self.powered {
            return Err(MockFlashError::PowerLost);
        }
        let end = offset as usize + len;
        if end > SECTORS * SECTOR_SIZE {
            return Err(MockFlashError::OutOfBounds { offset });
        }
        if !(offset as usize).is_multiple_of(align) || !len.is_multiple_of(align) {
            return Err(MockFlashError::NotAligned { offset });
        }
        Ok(())
    }

    fn sectors_of(offset: usize, len: usize) -> core::ops::Range<usize> {
        if len == 0 {
            return 0..0;
        }
        offset / SECTOR_SIZE..(offset + len - 1) / SECTOR_SIZE + 1
    }
}

impl<const SECTORS: usize, const SECTOR_SIZE: usize, const WRITE_SIZE: usize> Default
    for MockFlash<SECTORS, SECTOR_SIZE, WRITE_SIZE>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const SECTORS: usize, const SECTOR_SIZE: usize, const WRITE_SIZE: usize> ErrorType
    for MockFlash<SECTORS, SECTOR_SIZE, WRITE_SIZE>
{
    type Error = MockFlashError;
}

impl<const SECTORS: usize, const SECTOR_SIZE: usize, const WRITE_SIZE: usize> ReadNorFlash
    for MockFlash<SECTORS, SECTOR_SIZE, WRITE_SIZE>
{
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), MockFlashError> {
        self.check(offset, bytes.len(), 1)?;
        match &mut self.read_fault {
            Some(0) => {
                self.read_fault = None;
                bytes.fill(0xFF);
                return Err(MockFlashError::ReadFailed { offset });
            }
            Some(left) => *left -= 1,
            None => {}
        }
        let mut at = offset as usize;
        let mut out = bytes;
        while !out.is_empty() {
            let (s, o) = (at / SECTOR_SIZE, at % SECTOR_SIZE);
            let n = out.len().min(SECTOR_SIZE - o);
            let (head, rest) = out.split_at_mut(n);
            head.copy_from_slice(&self.data[s][o..o + n]);
            self.stats[s].reads += 1;
            out = rest;
            at += n;
        }
        Ok(())
    }

    fn capacity(&self) -> usize {
        SECTORS * SECTOR_SIZE
    }
}

impl<const SECTORS: usize, const SECTOR_SIZE: usize, const WRITE_SIZE: usize> NorFlash
    for MockFlash<SECTORS, SECTOR_SIZE, WRITE_SIZE>
{
    const WRITE_SIZE: usize = WRITE_SIZE;
    const ERASE_SIZE: usize = SECTOR_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), MockFlashError> {
        if to < from {
            return Err(MockFlashError::OutOfBounds { offset: from });
        }
        self.check(from, (to - from) as usize, SECTOR_SIZE)?;
        for s in Self::sectors_of(from as usize, (to - from) as usize) {
            if self.spend(1) == 0 {
                // Power fails during this erase: undefined contents, and
                // every word must be erased again before it is written.
                self.powered = false;
                let half = SECTOR_SIZE / 2;
                for (i, b) in self.data[s].iter_mut().enumerate() {
                    match self.mode {
                        CutMode::Clean if i < half => *b = 0xFF,
                        CutMode::Clean => {}
                        CutMode::RandomWord => *b = self.rng.next() as u8,
                    }
                }
                self.written[s] = [true; SECTOR_SIZE];
                self.stats[s].erases += 1;
                return Err(MockFlashError::PowerLost);
            }
            self.data[s] = [0xFF; SECTOR_SIZE];
            self.written[s] = [false; SECTOR_SIZE];
            self.stats[s].erases += 1;
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), MockFlashError> {
        self.check(offset, bytes.len(), WRITE_SIZE)?;
        let start = offset as usize;
        for i in (0..bytes.len()).step_by(WRITE_SIZE) {
            let at = start + i;
            if self.written[at / SECTOR_SIZE][at % SECTOR_SIZE] {
                return Err(MockFlashError::WrittenTwice { offset: at as u32 });
            }
        }
        for s in Self::sectors_of(start, bytes.len()) {
            self.stats[s].writes += 1;
        }
        let allowed = self.spend(bytes.len() as u64) as usize;
        for (i, &b) in bytes[..allowed].iter().enumerate() {
            let at = start + i;
            let (s, o) = (at / SECTOR_SIZE, at % SECTOR_SIZE);
            self.data[s][o] &= b;
            self.stats[s].bytes_written += 1;
            // A word is spoiled for further writes once any of it is programmed.
            let w = o - o % WRITE_SIZE;
            self.written[s][w..w + WRITE_SIZE].fill(true);
        }
        // The word being programmed when power fails: the one holding byte
        // `allowed`. Random mode fills the rest of it with random bits.
        if allowed < bytes.len() && self.mode == CutMode::RandomWord {
            let at = start + allowed;
            let (s, o) = (at / SECTOR_SIZE, at % SECTOR_SIZE);
            let w = o - o % WRITE_SIZE;
            for byte in &mut self.data[s][o..w + WRITE_SIZE] {
                *byte &= self.rng.next() as u8;
            }
            self.written[s][w..w + WRITE_SIZE].fill(true);
        }
        if allowed < bytes.len() {
            self.powered = false;
            return Err(MockFlashError::PowerLost);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    type Flash = MockFlash<4, 256, 4>;

    #[test]
    fn erase_sets_ff_and_writes_only_clear_bits() {
        let mut f = Flash::new();
        f.write(0, &[0x0F, 0xF0, 0xAA, 0x55]).unwrap();
        let mut b = [0u8; 4];
        f.read(0, &mut b).unwrap();
        assert_eq!(b, [0x0F, 0xF0, 0xAA, 0x55]);
        f.erase(0, 256).unwrap();
        f.read(0, &mut b).unwrap();
        assert_eq!(b, [0xFF; 4]);
        assert_eq!(f.stats(0).erases, 1);
        assert_eq!(f.stats(0).bytes_written, 4);
    }

    #[test]
    fn a_word_written_twice_is_an_error_even_with_ff() {
        let mut f = Flash::new();
        f.write(8, &[0xFF; 4]).unwrap();
        assert_eq!(
            f.write(8, &[0x00; 4]),
            Err(MockFlashError::WrittenTwice { offset: 8 })
        );
        f.write(12, &[1, 2, 3, 4]).unwrap();
        assert_eq!(
            f.write(4, &[0; 8]),
            Err(MockFlashError::WrittenTwice { offset: 8 })
        );
    }

    #[test]
    fn alignment_and_bounds_are_checked() {
        let mut f = Flash::new();
        assert_eq!(
            f.write(2, &[0; 4]),
            Err(MockFlashError::NotAligned { offset: 2 })
        );
        assert_eq!(
            f.write(0, &[0; 3]),
            Err(MockFlashError::NotAligned { offset: 0 })
        );
        assert_eq!(
            f.erase(0, 100),
            Err(MockFlashError::NotAligned { offset: 0 })
        );
        assert_eq!(
            f.write(1024, &[0; 4]),
            Err(MockFlashError::OutOfBounds { offset: 1024 })
        );
        let mut b = [0u8; 2];
        assert_eq!(
            f.read(1023, &mut b),
            Err(MockFlashError::OutOfBounds { offset: 1023 })
        );
    }

    #[test]
    fn a_cut_programs_exactly_the_bytes_before_it() {
        for cut in 0..8u64 {
            let mut f = Flash::new();
            f.cut_power_after(cut, CutMode::Clean, 1);
            let r = f.write(0, &[0u8; 8]);
            assert_eq!(r, Err(MockFlashError::PowerLost), "cut {cut}");
            let s = f.sector(0);
            assert!(s[..cut as usize].iter().all(|&b| b == 0));
            assert!(s[cut as usize..].iter().all(|&b| b == 0xFF));
            // The word holding the cut is spoiled; later words are not.
            let spoiled = (cut as usize).div_ceil(4) * 4;
            assert!((0..spoiled).all(|i| f.is_written(i)));
            assert!((spoiled..8).all(|i| !f.is_written(i)));
            assert_eq!(f.write(100, &[0; 4]), Err(MockFlashError::PowerLost));
            f.power_on();
            f.write(100, &[0; 4]).unwrap();
        }
    }

    #[test]
    fn random_mode_leaves_random_bits_in_the_cut_word_only() {
        let mut f = Flash::new();
        f.cut_power_after(5, CutMode::RandomWord, 7);
        assert_eq!(f.write(0, &[0u8; 12]), Err(MockFlashError::PowerLost));
        let s = f.sector(0);
        assert!(s[..5].iter().all(|&b| b == 0));
        assert_ne!(&s[5..8], &[0xFF; 3], "random bits (fixed seed)");
        assert!(s[8..].iter().all(|&b| b == 0xFF));
    }

    #[test]
    fn an_injected_read_fault_fails_one_read_only() {
        let mut f = Flash::new();
        f.write(0, &[1, 2, 3, 4]).unwrap();
        f.fail_read_after(2);
        let mut b = [0u8; 4];
        for _ in 0..2 {
            f.read(0, &mut b).unwrap();
            assert_eq!(b, [1, 2, 3, 4]);
        }
        assert!(f.read_fault_pending());
        assert_eq!(
            f.read(0, &mut b),
            Err(MockFlashError::ReadFailed { offset: 0 })
        );
        assert_eq!(b, [0xFF; 4], "a failed read looks erased");
        assert!(!f.read_fault_pending());
        f.read(0, &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4]);
        assert_eq!(f.sector(0)[..4], [1, 2, 3, 4], "contents untouched");
    }

    #[test]
    fn an_interrupted_erase_spoils_the_sector_until_erased_again() {
        let mut f = Flash::new();
        f.write(256, &[0; 8]).unwrap();
        f.cut_power_after(0, CutMode::RandomWord, 3);
        assert_eq!(f.erase(256, 512), Err(MockFlashError::PowerLost));
        f.power_on();
        assert!(matches!(
            f.write(300, &[0; 4]),
            Err(MockFlashError::WrittenTwice { .. })
        ));
        f.erase(256, 512).unwrap();
        f.write(300, &[0; 4]).unwrap();
        assert_eq!(f.stats(1).erases, 2);
    }
}
