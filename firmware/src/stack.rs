//! The stack's high-water mark.
//!
//! cortex-m-rt's `paint-stack` feature fills everything between
//! `_stack_end` (the top of static data) and `_stack_start` (the initial
//! stack pointer) with [`cortex_m_rt::STACK_PAINT_VALUE`] before `main`
//! runs. The stack grows down from `_stack_start`, so the lowest word that
//! no longer holds the paint marks the deepest the stack has been.

use cortex_m_rt::STACK_PAINT_VALUE;

extern "C" {
    // Linker-script symbols: only their addresses mean anything.
    static _stack_start: u32;
    static _stack_end: u32;
}

/// Bytes of stack used so far (deepest point since reset).
pub(crate) fn high_water_bytes() -> usize {
    let top = core::ptr::addr_of!(_stack_start) as usize;
    let bottom = core::ptr::addr_of!(_stack_end) as usize;
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
