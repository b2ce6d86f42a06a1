//! Phase "golden digests": every case of [`golden_recipe::CASES`] computed
//! here must hash to the digest the host computed (`golden_table.rs`,
//! written by `golden-gen/`). Equal digests mean equal bits: text encoding,
//! seeding and the operations give the same fingerprints on a 32-bit
//! Cortex-M as on the 64-bit build machine.

use crate::check::{ensure, Failed};
use crate::golden_recipe::{digest, CASES, MAX_WORDS};
use crate::golden_table::EXPECTED;

#[inline(never)] // its own frame, so the stack it needs is measured alone
pub(crate) fn run() -> Result<(), Failed> {
    ensure!(
        CASES.len() == EXPECTED.len(),
        "{=usize} golden cases but {=usize} digests: regenerate golden_table.rs",
        CASES.len(),
        EXPECTED.len()
    );
    let Some(out) = cortex_m::singleton!(: [u64; MAX_WORDS] = [0; MAX_WORDS]) else {
        defmt::error!("golden buffer taken twice");
        return Err(Failed);
    };
    for (case, &expected) in CASES.iter().zip(&EXPECTED) {
        let fp = &mut out[..case.words];
        ensure!(
            (case.make)(fp).is_ok(),
            "golden case {=str} was refused",
            case.name
        );
        let got = digest(fp);
        ensure!(
            got == expected,
            "golden case {=str}: digest {=u64:#018x}, host computed {=u64:#018x}",
            case.name,
            got,
            expected
        );
    }
    Ok(())
}
