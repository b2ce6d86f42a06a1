//! The end of a run: through semihosting, so QEMU exits with 0 or 1.
//! Shared by the self-test and the footprint program.

use cortex_m_semihosting::debug;

/// Ends the program through semihosting: QEMU exits with 0 or 1.
pub(crate) fn exit(success: bool) -> ! {
    debug::exit(if success {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // Only reached without a debugger or emulator to catch the exit call.
    loop {
        cortex_m::asm::bkpt();
    }
}
