//! # bindspace-firmware
//!
//! bindspace-core on a Cortex-M4 (QEMU `mps2-an386`), with no heap: a
//! self-test that runs every layer of the core the firmware links and exits
//! through semihosting with a status, so `cargo run` here is a real test.
//!
//! Output goes out as defmt frames over semihosting; the runner
//! (`run-qemu.sh`) decodes them with `defmt-print` and gives QEMU a time
//! limit. A failed check, a panic or a fault all end in
//! `debug::exit(EXIT_FAILURE)`; nothing hangs.
//!
//! The phases, in order (each in its own module):
//!
//! - [`fingerprints`]: published PRNG/hash vectors, text encoding, bind,
//!   bundle, permute, hex, and refusals of bad shapes.
//! - [`golden`]: fingerprint digests computed by the host build of the same
//!   core, so the bits here equal the bits on x86_64.
//! - [`kernels`]: the Hamming kernels this build selects, against a one-line
//!   oracle over every length and word offset.
//! - [`space`]: the space over static storage ([`buffers`]), a random
//!   workload checked against a model after every step, full space, full
//!   prefixes, metadata, expiry, all-or-nothing batches.
//! - [`search`]: exact k-nearest and range search against a brute-force
//!   oracle, with filters, a maximum distance, expiry and ties.
//! - [`log_image`]: the log format in RAM: a workload written write-ahead,
//!   power cut after every byte (erased and half-programmed), recovery
//!   equal to the acknowledged state; damage mid-log refused or repaired.
//! - [`log_flash`]: the NOR-flash log on a RAM flash that enforces the NOR
//!   rules: write amplification and wear, power cut after every step of
//!   the first batches and at points spread over a long workload with
//!   garbage collection, a second cut after recovery, recovery equal to
//!   what was acknowledged.
//! - [`commands`]: every example of `docs/COMMANDS.md` replies as printed,
//!   each write committed through the flash log before it is applied.
//! - [`golden_logs`]: the log images of `tests/golden/` open to the same
//!   space as on the host, from RAM and programmed into the NOR flash.
//!
//! [`stack`] reports how deep the stack went (it is painted at reset).
#![no_std]
#![no_main]

mod buffers;
mod check;
mod commands;
mod exit;
mod fingerprints;
mod flash;
mod golden;
mod golden_logs;
mod golden_recipe;
mod golden_table;
#[cfg(any(
    feature = "inject-failed-check",
    feature = "inject-panic",
    feature = "inject-hard-fault",
    feature = "inject-hang"
))]
mod inject;
mod kernels;
mod log_flash;
mod log_image;
mod search;
mod space;
mod stack;
mod state;

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use cortex_m_rt::{entry, exception, ExceptionFrame};
use defmt_semihosting as _;
use exit::exit;

/// Stack the self-test may use, in bytes. The measured high-water mark must
/// stay under it, so a change that makes the core hungrier fails the run.
const STACK_BUDGET: usize = 24 * 1024;

#[entry]
fn main() -> ! {
    defmt::info!("bindspace firmware self-test: Cortex-M4, no heap");
    let outcome = run();
    let used = stack::high_water_bytes().max(DEEPEST.load(Ordering::Relaxed));
    defmt::info!(
        "stack high-water mark: {=usize} bytes (budget {=usize} bytes)",
        used,
        STACK_BUDGET
    );
    let within_budget = used <= STACK_BUDGET;
    if !within_budget {
        defmt::error!("stack use is over its budget");
    }
    match outcome {
        Ok(()) if within_budget => {
            defmt::info!("self-test passed: {=u32} checks", check::passed_count());
            exit(true)
        }
        _ => {
            defmt::error!(
                "self-test FAILED after {=u32} passing checks",
                check::passed_count()
            );
            exit(false)
        }
    }
}

/// Runs every phase in order, stopping at the first failure.
fn run() -> Result<(), check::Failed> {
    let Some([mut buffers, mut model]) = buffers::Buffers::take() else {
        defmt::error!("space buffers taken twice");
        return Err(check::Failed);
    };
    // First, so a deliberate fault is met at once, not after the long phases.
    #[cfg(any(
        feature = "inject-failed-check",
        feature = "inject-panic",
        feature = "inject-hard-fault",
        feature = "inject-hang"
    ))]
    phase("injected fault", inject::run)?;
    phase("fingerprints", fingerprints::run)?;
    phase("golden digests", golden::run)?;
    phase("kernels", kernels::run)?;
    phase("space", || space::run(&mut buffers))?;
    phase("search", || search::run(&mut buffers))?;
    phase("log image", || log_image::run(&mut buffers, &mut model))?;
    let Some((flash, log_buf)) = flash::take() else {
        defmt::error!("flash taken twice");
        return Err(check::Failed);
    };
    phase("flash log", || {
        log_flash::run(flash, log_buf, &mut buffers, &mut model)
    })?;
    phase("commands", || {
        commands::run(flash, log_buf, &mut buffers, &mut model)
    })?;
    phase("golden logs", || {
        golden_logs::run(flash, log_buf, &mut buffers, &mut model)
    })?;
    Ok(())
}

/// Runs one phase between log lines that name it and count its checks and
/// the stack it used.
fn phase(
    name: &str,
    body: impl FnOnce() -> Result<(), check::Failed>,
) -> Result<(), check::Failed> {
    defmt::info!("phase {=str}: start", name);
    let before = check::passed_count();
    let deepest_so_far = stack::high_water_bytes();
    let depth_at_entry = stack::depth();
    stack::repaint();
    let result = body();
    let used = stack::high_water_bytes();
    DEEPEST.fetch_max(used.max(deepest_so_far), Ordering::Relaxed);
    let checks = check::passed_count() - before;
    match result {
        Ok(()) => defmt::info!(
            "phase {=str}: ok ({=u32} checks, stack {=usize} bytes, {=usize} of them below the phase's caller)",
            name,
            checks,
            used,
            used.saturating_sub(depth_at_entry)
        ),
        Err(_) => defmt::error!("phase {=str}: FAILED", name),
    }
    result
}

/// The deepest stack of any phase so far (repainting hides earlier ones
/// from [`stack::high_water_bytes`]).
static DEEPEST: AtomicUsize = AtomicUsize::new(0);

/// Set once a panic or fault is being reported: a second one (say, inside
/// the logger) exits at once instead of recursing.
static FAILING: AtomicBool = AtomicBool::new(false);

/// A panic is a failed self-test: say where, then exit with failure.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if !FAILING.swap(true, Ordering::Relaxed) {
        defmt::error!("panic: {}", defmt::Display2Format(info));
    }
    exit(false)
}

// A fault (bad address, undefined instruction, ...) must fail the run too,
// not spin in the default handler until the time limit.
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    if !FAILING.swap(true, Ordering::Relaxed) {
        defmt::error!("hard fault at pc {=u32:#010x}", frame.pc());
    }
    exit(false)
}
