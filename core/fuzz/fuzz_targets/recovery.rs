//! Fuzz target `recovery`: log recovery on random bytes.
//!
//! The input is used twice:
//! - as a log image held in memory: `log::replay` under both policies;
//! - as the contents of a 6-sector mock NOR flash (the rest erased):
//!   `FlashLog::mount` under both policies, and when a mount succeeds, an
//!   append and a second mount.
//!
//! Checked: nothing panics and everything returns (libFuzzer reports a
//! hang past its timeout); a flash that mounted once mounts again after an
//! append; and after a strict mount (which succeeds only on an undamaged
//! log) the batch acknowledged is there after the next mount, with
//! everything recovered before it unchanged. (A repair mount promises less:
//! once garbage collection erases sectors holding damage, what the rest
//! replays to may differ; docs/FORMAT.md section 5.)
#![no_main]

use bindspace_core::log::flash::{Config, FlashLog};
use bindspace_core::log::mock_flash::MockFlash;
use bindspace_core::log::{replay, Apply, Policy};
use bindspace_core::mutation::Mutation;
use bindspace_core::space::{GrowableSpace, Space};
use bindspace_core::{Addr, Width};
use libfuzzer_sys::fuzz_target;

const SECTORS: usize = 6;
const SECTOR: usize = 512;
type Flash = MockFlash<SECTORS, SECTOR, 4>;

fn width() -> Width {
    Width::from_words(2).unwrap()
}

/// Whether two spaces hold the same entries (versions included).
fn same(a: &GrowableSpace, b: &GrowableSpace) -> bool {
    a.len() == b.len()
        && a.iter(Default::default())
            .all(|e| b.get(e.addr).is_some_and(|f| f == e))
}

fuzz_target!(|data: &[u8]| {
    for policy in [Policy::Strict, Policy::Repair] {
        let mut space = Space::growable(width());
        let _ = replay(data, None, &mut space, policy);
    }

    let mut flash = Flash::new();
    for (i, &b) in data.iter().take(SECTORS * SECTOR).enumerate() {
        // From erased (0xFF), XOR gives exactly `b`.
        flash.corrupt(i, 0xFF ^ b);
    }
    let mut buf = [0u8; 256];
    for policy in [Policy::Strict, Policy::Repair] {
        let cfg = Config {
            policy,
            ..Config::new(width(), SECTORS as u32)
        };
        let mut f = flash.clone();
        let mut space = Space::growable(width());
        let Ok((mut log, _)) = FlashLog::mount(&mut f, &mut buf, cfg, &mut space) else {
            continue;
        };
        let fp = [0x0123_4567_89AB_CDEF, 42];
        let batch = [Mutation::Set {
            addr: Addr::new(0x80, 7),
            fp: &fp,
        }];
        let Ok(seq) = log.append(&batch, &space) else {
            continue;
        };
        Apply::apply(&mut space, &batch[0], seq).unwrap();
        let mut again = Space::growable(width());
        let mounted = FlashLog::mount(&mut f, &mut buf, cfg, &mut again);
        assert!(
            mounted.is_ok(),
            "remount after an acknowledged append failed: {:?}",
            mounted.err()
        );
        if policy == Policy::Strict {
            assert!(same(&space, &again), "remount lost or changed state");
        }
    }
});
