//! Regression: a retire record that names its own sector.
//!
//! Garbage collection writes a retire record into a newer sector than the
//! one it retires. A flash image found by the `recovery` fuzz target holds,
//! in its only sector (segment 0), a valid retire record naming segment 0,
//! then a torn tail. Mounting it recovered two batches; the next append
//! opened a second sector, and the mount after that, now seeing a ring of
//! two sectors, let the record retire the first: both batches acknowledged
//! before were gone. A retire record only counts when it names an older
//! segment than its own sector (docs/FORMAT.md, section 6).

use bindspace_core::log::flash::{Config, FlashLog};
use bindspace_core::log::mock_flash::MockFlash;
use bindspace_core::log::{Apply, Policy};
use bindspace_core::mutation::Mutation;
use bindspace_core::space::{GrowableSpace, Space};
use bindspace_core::{Addr, Width};

const SECTORS: usize = 6;
const SECTOR: usize = 512;
type Flash = MockFlash<SECTORS, SECTOR, 4>;

/// The fuzz target's image: its first 1,353 bytes, the rest erased.
const IMAGE: &[u8] = include_bytes!("fixtures/flash-retire-names-own-sector.bin");

fn entries(space: &GrowableSpace) -> Vec<String> {
    space
        .iter(Default::default())
        .map(|e| format!("{e:?}"))
        .collect()
}

#[test]
fn a_retire_record_naming_its_own_sector_retires_nothing() {
    let width = Width::from_words(2).unwrap();
    let mut flash = Flash::new();
    for (i, &b) in IMAGE.iter().enumerate() {
        // From erased (0xFF), XOR gives exactly `b`.
        flash.corrupt(i, 0xFF ^ b);
    }
    let cfg = Config {
        policy: Policy::Strict,
        ..Config::new(width, SECTORS as u32)
    };
    let mut buf = [0u8; 256];

    let mut space = Space::growable(width);
    {
        let (mut log, first) = FlashLog::mount(&mut flash, &mut buf, cfg, &mut space).unwrap();
        assert_eq!(first.counts.batches, 2, "{first:?}");
        assert_eq!(space.len(), 2);
        let fp = [0x0123_4567_89AB_CDEF, 42];
        let batch = [Mutation::Set {
            addr: Addr::new(0x80, 7),
            fp: &fp,
        }];
        let seq = log.append(&batch, &space).unwrap();
        Apply::apply(&mut space, &batch[0], seq).unwrap();
    }

    let mut again = Space::growable(width);
    let (_, second) = FlashLog::mount(&mut flash, &mut buf, cfg, &mut again).unwrap();
    assert_eq!(second.stale_sectors, 0, "{second:?}");
    assert_eq!(second.live_sectors, 2, "{second:?}");
    assert_eq!(entries(&again), entries(&space));
}
