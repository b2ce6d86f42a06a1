//! The NOR-flash log: sectors used as a ring, append only, never a word
//! written twice, garbage collection that copies live records forward, and
//! recovery that tells a torn tail from corruption (docs/FORMAT.md,
//! section 6).
//!
//! ```
//! # #[cfg(feature = "mock-flash")] {
//! use bindspace_core::log::flash::{Config, FlashLog};
//! use bindspace_core::log::mock_flash::MockFlash;
//! use bindspace_core::space::{Lent, RowMeta, Space, SlotPage};
//! use bindspace_core::{mutation::Mutation, Addr, Width};
//!
//! let width = Width::from_words(2).unwrap();
//! let (mut arena, mut meta, mut pages) = ([0u64; 16], [RowMeta::EMPTY; 8], [SlotPage::EMPTY; 2]);
//! let mut space = Space::new(width, Lent::new(&mut arena, &mut meta, &mut pages));
//! let mut buf = [0u8; 2304];
//! let flash: MockFlash<6, 4096, 4> = MockFlash::new();
//! let (mut log, _) = FlashLog::mount(flash, &mut buf, Config::new(width, 6), &mut space).unwrap();
//! let fp = [7u64, 9];
//! let batch = [Mutation::Set { addr: Addr::new(0x80, 1), fp: &fp }];
//! let seq = log.append(&batch, &space).unwrap();    // durable first,
//! for m in &batch { space.apply(m, seq).unwrap(); } // then applied
//! # }
//! ```

mod append;
mod error;
mod gc;
mod io;
mod mount;
mod scan;
#[cfg(test)]
mod tests;

pub use error::{ConfigError, Error};
pub use mount::Recovery;
pub use scan::SectorEnd;

use embedded_storage::nor_flash::NorFlash;

use super::encode::Encoder;
use super::header::{align_ok, HEADER_LEN};
use super::padded_len;
use super::record::RECORD_HEADER_LEN;
use super::replay::Policy;
use crate::mutation::LABEL_MAX;
use crate::width::Width;

/// Where the log lives on the flash and how it behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Fingerprint width of the space the log belongs to.
    pub width: Width,
    /// Index (in erase sectors) of the log's first sector on the flash.
    pub first_sector: u32,
    /// Sectors in the ring: at least `reserve + 2`.
    pub sectors: u32,
    /// Sectors kept free for garbage collection and for closing a sector
    /// after a torn write (at least 1; default 3: one for the close, and
    /// room for the copies of one sector, which may be a little larger
    /// than the sector when whole entries are copied).
    pub reserve: u32,
    /// What mounting does on corruption in the middle of the log.
    pub policy: Policy,
}

impl Config {
    /// A log of `width` over the first `sectors` sectors, reserve 3, strict.
    pub const fn new(width: Width, sectors: u32) -> Config {
        Config {
            width,
            first_sector: 0,
            sectors,
            reserve: 3,
            policy: Policy::Strict,
        }
    }
}

/// What the log has done since it was mounted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Batches appended.
    pub batches: u64,
    /// Payload bytes in them: per mutation its address (2), plus the
    /// fingerprint (set), tick (expire) or label and parent (meta).
    pub payload_bytes: u64,
    /// Every byte programmed: records, padding, commits, sector headers,
    /// garbage-collection copies and retire records.
    pub programmed_bytes: u64,
    /// Bytes of garbage-collection copies among them.
    pub copied_bytes: u64,
    /// Sectors reclaimed by garbage collection.
    pub gc_runs: u64,
    /// Sectors opened.
    pub sectors_opened: u64,
    /// Sectors erased.
    pub erases: u64,
}

/// A log on NOR flash `F`, with a work buffer lent by the caller.
pub struct FlashLog<'b, F: NorFlash> {
    flash: F,
    buf: &'b mut [u8],
    cfg: Config,
    enc: Encoder,
    sector_size: u32,
    /// Where records start in a sector (the padded header length).
    data_start: u32,
    /// Physical index (0-based within the log) of the oldest live sector.
    oldest: u32,
    /// Live sectors (0: the log is empty).
    live: u32,
    /// The `segment` the next sector opened gets (the head's plus one).
    next_segment: u64,
    /// Where the next record goes in the head.
    head_write: u32,
    /// False when the head ends in a torn write: the next record opens a
    /// new sector, closing this one at `head_write`.
    head_writable: bool,
    next_seq: u64,
    /// Sectors outside the live ring may hold stale valid headers (found by
    /// mount); they are erased before the first write.
    stale_check_pending: bool,
    /// How many free sectors, counted back from the oldest live one, this
    /// session erased itself and never wrote since: opening them needs no
    /// second erase (one erase per sector per trip around the ring).
    known_erased: u32,
    poisoned: bool,
    /// The last batch was refused for want of room and none has been
    /// appended since.
    known_full: bool,
    stats: Stats,
}

impl<'b, F: NorFlash> FlashLog<'b, F> {
    /// The longest frame a log of `width` holds: an entry copy with the
    /// longest label.
    pub const fn max_frame(width: Width) -> usize {
        RECORD_HEADER_LEN + 8 + width.bytes() + LABEL_MAX
    }

    /// Bytes the work buffer must hold for a log of `width` on this flash:
    /// one largest record, padded (at most 2,112 bytes plus padding).
    pub const fn buffer_len(width: Width) -> usize {
        let a = padded_len(Self::max_frame(width), F::WRITE_SIZE);
        let h = padded_len(HEADER_LEN, F::WRITE_SIZE);
        if a > h {
            a
        } else {
            h
        }
    }

    /// Checks the configuration against the flash and the buffer, and
    /// returns the encoder for the log's records.
    fn check_config(flash: &F, buf: &[u8], cfg: &Config) -> Result<Encoder, ConfigError> {
        if cfg.reserve == 0 {
            return Err(ConfigError::NoReserve);
        }
        let need = cfg.reserve.saturating_add(2);
        if cfg.sectors < need {
            return Err(ConfigError::TooFewSectors {
                sectors: cfg.sectors,
                need,
            });
        }
        let end = (cfg.first_sector as u64 + cfg.sectors as u64) * F::ERASE_SIZE as u64;
        if end > flash.capacity() as u64 || end > u32::MAX as u64 {
            return Err(ConfigError::OutOfBounds);
        }
        if !align_ok(F::WRITE_SIZE)
            || F::READ_SIZE == 0
            || !F::WRITE_SIZE.is_multiple_of(F::READ_SIZE)
            || !F::ERASE_SIZE.is_multiple_of(F::WRITE_SIZE)
        {
            return Err(ConfigError::Unaligned);
        }
        let sector_need = padded_len(HEADER_LEN, F::WRITE_SIZE)
            + padded_len(Self::max_frame(cfg.width), F::WRITE_SIZE);
        if F::ERASE_SIZE < sector_need {
            return Err(ConfigError::SectorTooSmall { need: sector_need });
        }
        if buf.len() < Self::buffer_len(cfg.width) {
            return Err(ConfigError::BufferTooSmall {
                need: Self::buffer_len(cfg.width),
            });
        }
        Encoder::new(cfg.width, F::WRITE_SIZE).map_err(|_| ConfigError::Unaligned)
    }

    fn new_unmounted(flash: F, buf: &'b mut [u8], cfg: Config, enc: Encoder) -> Self {
        FlashLog {
            flash,
            buf,
            cfg,
            enc,
            sector_size: F::ERASE_SIZE as u32,
            data_start: padded_len(HEADER_LEN, F::WRITE_SIZE) as u32,
            oldest: 0,
            live: 0,
            next_segment: 0,
            head_write: 0,
            head_writable: false,
            next_seq: 1,
            stale_check_pending: true,
            known_erased: 0,
            poisoned: false,
            known_full: false,
            stats: Stats::default(),
        }
    }

    /// Erases every sector of the log and returns it empty. Everything the
    /// sectors held is gone.
    pub fn format(flash: F, buf: &'b mut [u8], cfg: Config) -> Result<Self, Error<F::Error>> {
        let enc = Self::check_config(&flash, buf, &cfg).map_err(Error::Config)?;
        let mut log = Self::new_unmounted(flash, buf, cfg, enc);
        for s in 0..cfg.sectors {
            log.erase_sector(s)?;
        }
        log.stale_check_pending = false;
        log.known_erased = cfg.sectors;
        Ok(log)
    }

    /// The sequence number the next batch gets.
    pub const fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Sectors holding live records.
    pub const fn live_sectors(&self) -> u32 {
        self.live
    }

    /// Sectors free for new records.
    pub const fn free_sectors(&self) -> u32 {
        self.cfg.sectors - self.live
    }

    /// What the log has done since it was mounted.
    pub const fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The configuration.
    pub const fn config(&self) -> &Config {
        &self.cfg
    }

    /// The encoder for this log's records.
    pub const fn encoder(&self) -> &Encoder {
        &self.enc
    }

    /// The flash, read-only.
    pub const fn flash(&self) -> &F {
        &self.flash
    }

    /// Gives the flash back (to mount it again after a failure, or to power
    /// cycle it in a test).
    pub fn into_flash(self) -> F {
        self.flash
    }

    /// Whether a failed write or erase stopped appends until a new mount.
    pub const fn is_poisoned(&self) -> bool {
        self.poisoned
    }
}
