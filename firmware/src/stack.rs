//! The stack's high-water mark, per phase and for the whole run.
//!
//! cortex-m-rt's `paint-stack` feature fills everything between
//! `_stack_end` (the top of static data) and `_stack_start` (the initial
//! stack pointer) with [`cortex_m_rt::STACK_PAINT_VALUE`] before `main`
//! runs. The stack grows down from `_stack_start`, so the lowest word that
//! no longer holds the paint marks the deepest the stack has been.
//! [`repaint`] paints again below the current frame, so the next reading
//! measures only what ran after it.

use cortex_m_rt::STACK_PAINT_VALUE;

extern "C" {
    // Linker-script symbols: only their addresses mean anything.
    static _stack_start: u32;
    static _stack_end: u32;
}

/// Bytes left unpainted just below the stack pointer: the frames of
/// `repaint` itself and anything the compiler keeps below SP.
const GUARD: usize = 256;

fn bounds() -> (usize, usize) {
    (
        core::ptr::addr_of!(_stack_end) as usize,
        core::ptr::addr_of!(_stack_start) as usize,
    )
}

/// Bytes of stack used since reset, or since the last [`repaint`].
pub(crate) fn high_water_bytes() -> usize {
    let (bottom, top) = bounds();
    let mut addr = bottom;
    while addr < top {
        // SAFETY: `addr` is word-aligned (both symbols are 4-aligned, the
        // linker script asserts it) and lies in `[_stack_end, _stack_start)`,
        // RAM that belongs to the stack; a volatile read keeps the compiler
        // from assuming anything about memory it did not write.
        let word = unsafe { core::ptr::read_volatile(addr as *const u32) };
        if word != STACK_PAINT_VALUE {
            break;
        }
        addr += 4;
    }
    top - addr
}

/// Bytes of stack in use right now (from the top to the stack pointer).
pub(crate) fn depth() -> usize {
    let (_, top) = bounds();
    top.saturating_sub(cortex_m::register::msp::read() as usize)
}

/// Paints the unused stack (below the current frame) again.
#[inline(never)]
pub(crate) fn repaint() {
    let (bottom, _) = bounds();
    let sp = cortex_m::register::msp::read() as usize;
    let mut addr = bottom;
    while addr + GUARD < sp {
        // SAFETY: `[bottom, sp - GUARD)` is stack memory below every live
        // frame: nothing owns it now (no interrupts are enabled, and an
        // exception would only ever push below the stack pointer onto
        // memory that is then its own), so writing the paint there cannot
        // change any value the program uses. `addr` is word-aligned.
        unsafe { core::ptr::write_volatile(addr as *mut u32, STACK_PAINT_VALUE) };
        addr += 4;
    }
}
