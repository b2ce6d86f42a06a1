//! Phase "golden logs": the log images committed under `tests/golden/`,
//! built into the firmware image, open on the Cortex-M to the same space
//! as on every other target.
//!
//! 1. Every image is checked by the core's `log::golden::check`, the check
//!    the host, aarch64 and wasm32 run on the same bytes: replay (strict),
//!    then every entry against the vector's script, fingerprint bit for
//!    bit, label, parent, expiry, version, how the image ends, the batches
//!    it drops and the next sequence number.
//! 2. Every image whose alignment is the flash's write size and that fits
//!    one sector is programmed into an erased sector of the emulated NOR
//!    flash and mounted by the flash log: a log written on the host opens
//!    as the device's own log, to the same space as replaying it in RAM.

use crate::buffers::Buffers;
use crate::check::{ensure, Failed};
use crate::flash::{Flash, SECTORS, SECTOR_SIZE, WRITE_SIZE};
use crate::state::digest;
use bindspace_core::log::flash::{Config, FlashLog};
use bindspace_core::log::golden::{check, VECTORS};
use bindspace_core::log::{replay, Policy};
use bindspace_core::Width;
use embedded_storage::nor_flash::NorFlash;

/// The committed images, by file name.
const IMAGES: [(&str, &[u8]); 3] = [
    (
        "basic-w64-a8.bslog",
        include_bytes!("../../tests/golden/basic-w64-a8.bslog"),
    ),
    (
        "default-w8192-a8.bslog",
        include_bytes!("../../tests/golden/default-w8192-a8.bslog"),
    ),
    (
        "packed-w256-a1.bslog",
        include_bytes!("../../tests/golden/packed-w256-a1.bslog"),
    ),
];

/// Slot pages of the spaces the images open into.
const PAGES: usize = 4;

#[inline(never)] // its own frame, so the stack it needs is measured alone
pub(crate) fn run(
    flash: &mut Flash,
    buf: &mut [u8],
    in_ram: &mut Buffers,
    on_flash: &mut Buffers,
) -> Result<(), Failed> {
    ensure!(
        VECTORS.len() == IMAGES.len(),
        "{=usize} golden vectors but {=usize} images built in",
        VECTORS.len(),
        IMAGES.len()
    );
    let mut mounted = 0u32;
    for vector in VECTORS {
        let image = IMAGES
            .iter()
            .find(|(name, _)| *name == vector.file)
            .map(|(_, bytes)| *bytes);
        let Some(image) = image else {
            defmt::error!("golden image {=str} is not built in", vector.file);
            return Err(Failed);
        };
        let checked = check(vector, image);
        ensure!(
            checked.is_ok(),
            "golden image {=str} does not check out: {}",
            vector.file,
            defmt::Debug2Format(&checked)
        );
        defmt::info!(
            "golden image {=str}: {=usize} bytes, {=usize}-bit fingerprints, {=usize} entries as on the host",
            vector.file,
            image.len(),
            vector.width_words * 64,
            vector.expect.len()
        );
        if vector.align == WRITE_SIZE && image.len() <= SECTOR_SIZE {
            mount_from_flash(flash, buf, in_ram, on_flash, vector.width_words, image)?;
            mounted += 1;
        }
    }
    ensure!(
        mounted > 0,
        "no golden image fits the flash: the flash check ran on nothing"
    );
    defmt::info!(
        "golden logs: {=u32} image(s) programmed into NOR flash mount to the same space",
        mounted
    );
    Ok(())
}

/// Programs `image` into sector 0 of an erased flash, mounts it, and
/// compares the mounted space with the image replayed in RAM.
fn mount_from_flash(
    flash: &mut Flash,
    buf: &mut [u8],
    in_ram: &mut Buffers,
    on_flash: &mut Buffers,
    words: usize,
    image: &[u8],
) -> Result<(), Failed> {
    let width = Width::from_words(words).map_err(|_| Failed)?;
    let mut expected = in_ram.space_of(width, PAGES);
    ensure!(
        replay(image, Some(width), &mut expected, Policy::Strict).is_ok(),
        "replay in RAM failed"
    );

    flash.power_on();
    ensure!(
        flash.erase(0, (SECTORS * SECTOR_SIZE) as u32).is_ok(),
        "erasing the flash failed"
    );
    // Whole words: the image's last word is padded with erased bytes.
    let whole = image.len() / WRITE_SIZE * WRITE_SIZE;
    ensure!(
        flash.write(0, &image[..whole]).is_ok(),
        "programming the image failed"
    );
    if whole < image.len() {
        let mut last = [0xFF; WRITE_SIZE];
        last[..image.len() - whole].copy_from_slice(&image[whole..]);
        ensure!(
            flash.write(whole as u32, &last).is_ok(),
            "programming the image's last word failed"
        );
    }
    let mut space = on_flash.space_of(width, PAGES);
    let mounted = FlashLog::mount(
        &mut *flash,
        buf,
        Config::new(width, SECTORS as u32),
        &mut space,
    );
    ensure!(
        mounted.is_ok(),
        "mounting a golden image from flash failed: {}",
        defmt::Debug2Format(&mounted.err())
    );
    ensure!(
        digest(&space) == digest(&expected),
        "the image mounted from flash differs from its replay"
    );
    Ok(())
}
