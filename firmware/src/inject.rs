//! Phase "injected fault": present only when an `inject-*` feature is on.
//! The test step builds the firmware once per feature and requires the run
//! to fail, which proves the runner turns each way a self-test can go wrong
//! into a failed `cargo run`, not a pass or a hang.

use crate::check::Failed;

#[inline(never)] // its own frame, so the stack it needs is measured alone
pub(crate) fn run() -> Result<(), Failed> {
    #[cfg(feature = "inject-failed-check")]
    crate::check::ensure!(false, "injected failing check");
    #[cfg(feature = "inject-panic")]
    panic!("injected panic");
    #[cfg(feature = "inject-hard-fault")]
    cortex_m::asm::udf();
    #[cfg(feature = "inject-hang")]
    loop {
        cortex_m::asm::nop();
    }
    #[allow(unreachable_code)]
    Ok(())
}
