//! The emulated NOR flash the log lives on, and the log's work buffer:
//! static, taken once, shared by the phases that use a log.
//!
//! The flash is the core's mock flash held in RAM: it enforces the NOR
//! rules (erase to `0xFF`, writes only clear bits, a word written once per
//! erase, alignment) and can cut power after any byte, which is what lets
//! the self-test pull the plug at chosen points.

use bindspace_core::log::flash::FlashLog;
use bindspace_core::log::mock_flash::MockFlash;
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicBool, Ordering};

/// Sectors in the ring (two of them the reserve).
pub(crate) const SECTORS: usize = 6;
/// Bytes per sector: room for about seven 2,048-bit sets.
pub(crate) const SECTOR_SIZE: usize = 2048;
/// The flash programs 8-byte double words.
pub(crate) const WRITE_SIZE: usize = 8;

/// The flash.
pub(crate) type Flash = MockFlash<SECTORS, SECTOR_SIZE, WRITE_SIZE>;
/// The log's work buffer: one largest record of the widest log used here.
pub(crate) const BUF_LEN: usize = FlashLog::<&mut Flash>::buffer_len(crate::buffers::WIDTH);

static mut FLASH: Flash = Flash::new();
static mut BUF: [u8; BUF_LEN] = [0; BUF_LEN];
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The flash and the log's buffer, the first time only.
pub(crate) fn take() -> Option<(&'static mut Flash, &'static mut [u8; BUF_LEN])> {
    if TAKEN.swap(true, Ordering::Relaxed) {
        return None;
    }
    // SAFETY: `TAKEN` was false, so this is the only borrow of `FLASH` and
    // `BUF` for the life of the program.
    unsafe { Some((&mut *addr_of_mut!(FLASH), &mut *addr_of_mut!(BUF))) }
}
