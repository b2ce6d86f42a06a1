//! The spaces' storage: static arrays lent to the core, taken once.
//!
//! A device this size keeps a few dozen entries: 64 rows of 2,048-bit
//! fingerprints (16 KiB of arena), their metadata, and slot pages for up
//! to sixteen address prefixes, in each of two banks. They live in `.bss`, not on the
//! stack, so the stack high-water mark measures the core's own needs.

use bindspace_core::space::{Lent, LentSpace, RowMeta, SlotPage, Space};
use bindspace_core::Width;
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicBool, Ordering};

/// Words per fingerprint (2,048 bits).
pub(crate) const WORDS: usize = 32;
/// Rows: the most entries the space holds.
pub(crate) const ROWS: usize = 64;
/// Slot pages of the default space: the most address prefixes it has in
/// use at once (few, so that running out of them is tested).
pub(crate) const PAGES: usize = 4;
/// Slot pages each bank holds, for the spaces that need more prefixes.
pub(crate) const PAGES_MAX: usize = 16;

/// The space's width.
pub(crate) const WIDTH: Width = match Width::from_words(WORDS) {
    Ok(w) => w,
    Err(_) => panic!("WORDS is not a valid width"),
};

/// The space's width.
pub(crate) const fn width() -> Width {
    WIDTH
}

/// A fingerprint of the space's width.
pub(crate) type Fp = [u64; WORDS];

/// One space's memory.
struct Bank {
    arena: [u64; ROWS * WORDS],
    meta: [RowMeta; ROWS],
    pages: [SlotPage; PAGES_MAX],
}

const EMPTY_BANK: Bank = Bank {
    arena: [0; ROWS * WORDS],
    meta: [RowMeta::EMPTY; ROWS],
    pages: [SlotPage::EMPTY; PAGES_MAX],
};

/// Two banks: the space under test, and a second one where a phase keeps
/// what the first must equal (the state as of an acknowledged commit).
static mut BANKS: [Bank; 2] = [EMPTY_BANK; 2];
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The three slices a space is made over.
pub(crate) struct Buffers {
    arena: &'static mut [u64],
    meta: &'static mut [RowMeta],
    pages: &'static mut [SlotPage],
}

impl Buffers {
    /// Both banks, the first time only.
    pub(crate) fn take() -> Option<[Buffers; 2]> {
        if TAKEN.swap(true, Ordering::Relaxed) {
            return None;
        }
        // SAFETY: `TAKEN` was false, so this is the only time `BANKS` is
        // borrowed for the life of the program: the `&'static mut` made
        // here is unique, and the slices below split it without overlap.
        let [a, b] = unsafe { &mut *addr_of_mut!(BANKS) };
        Some([a, b].map(|bank| Buffers {
            arena: &mut bank.arena,
            meta: &mut bank.meta,
            pages: &mut bank.pages,
        }))
    }

    /// A new, empty space of the firmware's width over the buffers
    /// (whatever they held is ignored).
    pub(crate) fn space(&mut self) -> LentSpace<'_> {
        self.space_of(width(), PAGES)
    }

    /// A new, empty space of another width and number of slot pages (at
    /// most [`PAGES_MAX`]) over the same memory: fewer rows when wider.
    pub(crate) fn space_of(&mut self, width: Width, pages: usize) -> LentSpace<'_> {
        let pages = &mut self.pages[..pages.min(PAGES_MAX)];
        Space::new(width, Lent::new(self.arena, self.meta, pages))
    }
}
