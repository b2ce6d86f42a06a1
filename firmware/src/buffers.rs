//! The space's storage: static arrays lent to the core, taken once.
//!
//! A device this size keeps a few dozen entries: 64 rows of 2,048-bit
//! fingerprints (16 KiB of arena), their metadata, and slot pages for four
//! address prefixes. They live in `.bss`, not on the stack, so the stack
//! high-water mark measures the core's own needs.

use bindspace_core::space::{Lent, LentSpace, RowMeta, SlotPage, Space};
use bindspace_core::Width;
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicBool, Ordering};

/// Words per fingerprint (2,048 bits).
pub(crate) const WORDS: usize = 32;
/// Rows: the most entries the space holds.
pub(crate) const ROWS: usize = 64;
/// Slot pages: the most address prefixes in use at once.
pub(crate) const PAGES: usize = 4;

/// The space's width.
pub(crate) fn width() -> Width {
    // 32 words is a valid width (1..=256); the fallback is never taken.
    Width::from_words(WORDS).unwrap_or(Width::DEFAULT)
}

/// A fingerprint of the space's width.
pub(crate) type Fp = [u64; WORDS];

static mut ARENA: [u64; ROWS * WORDS] = [0; ROWS * WORDS];
static mut META: [RowMeta; ROWS] = [RowMeta::EMPTY; ROWS];
static mut PAGES_BUF: [SlotPage; PAGES] = [SlotPage::EMPTY; PAGES];
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The three slices a space is made over.
pub(crate) struct Buffers {
    arena: &'static mut [u64],
    meta: &'static mut [RowMeta],
    pages: &'static mut [SlotPage],
}

impl Buffers {
    /// The buffers, the first time only.
    pub(crate) fn take() -> Option<Buffers> {
        if TAKEN.swap(true, Ordering::Relaxed) {
            return None;
        }
        // SAFETY: `TAKEN` was false, so this is the only time these
        // statics are borrowed for the life of the program: the three
        // `&'static mut` are unique.
        unsafe {
            Some(Buffers {
                arena: &mut *addr_of_mut!(ARENA),
                meta: &mut *addr_of_mut!(META),
                pages: &mut *addr_of_mut!(PAGES_BUF),
            })
        }
    }

    /// A new, empty space over the buffers (whatever they held is ignored).
    pub(crate) fn space(&mut self) -> LentSpace<'_> {
        Space::new(width(), Lent::new(self.arena, self.meta, self.pages))
    }
}
