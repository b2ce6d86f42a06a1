//! Phase "space": the space over static lent storage, driven by a random
//! workload of sets, overwrites and deletes and compared with a model after
//! every step, through a full space and a full set of prefixes (refused,
//! and nothing changes), then labels, parents, expiry and an all-or-nothing
//! batch.

use crate::buffers::{Buffers, Fp, PAGES, ROWS, WORDS};
use crate::check::{ensure, ensure_eq, Failed};
use bindspace_core::fingerprint::from_seed;
use bindspace_core::mutation::{Mutation, LABEL_MAX};
use bindspace_core::prng::SplitMix64;
use bindspace_core::space::{Filter, LentSpace, SpaceError};
use bindspace_core::{Addr, Zone};

/// Prefixes the workload writes to: one more than there are slot pages, in
/// every zone, so a full set of prefixes is reached.
const PREFIXES: [u8; PAGES + 1] = [0x01, 0x20, 0x21, 0x80, 0xF7];
/// Slots used per prefix.
const SLOTS: usize = 20;
/// Candidate addresses: more than the rows, so the space fills up.
const CANDIDATES: usize = PREFIXES.len() * SLOTS;
/// Random operations in the workload.
const STEPS: usize = 600;

/// Candidate `i`, in increasing address order.
fn candidate(i: usize) -> Addr {
    Addr::new(PREFIXES[i / SLOTS], (i % SLOTS * 13) as u8)
}

/// What the model says is at a candidate: the seed of its fingerprint and
/// its version.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Held {
    seed: u64,
    version: u64,
}

/// The model: the expected contents, one slot per candidate address.
struct Model {
    held: [Option<Held>; CANDIDATES],
}

impl Model {
    fn len(&self) -> usize {
        self.held.iter().flatten().count()
    }

    fn prefix_in_use(&self, prefix: u8) -> bool {
        (0..CANDIDATES).any(|i| candidate(i).prefix() == prefix && self.held[i].is_some())
    }

    fn prefixes_in_use(&self) -> usize {
        PREFIXES.iter().filter(|&&p| self.prefix_in_use(p)).count()
    }

    /// What setting a new candidate `i` must do, by the space's contract.
    fn expected_set(&self, i: usize) -> Result<(), SpaceError> {
        if self.held[i].is_some() {
            Ok(())
        } else if self.len() == ROWS {
            Err(SpaceError::Full { capacity: ROWS })
        } else if !self.prefix_in_use(candidate(i).prefix()) && self.prefixes_in_use() == PAGES {
            Err(SpaceError::PrefixesFull { pages: PAGES })
        } else {
            Ok(())
        }
    }
}

fn seeded(seed: u64) -> Fp {
    let mut fp = [0; WORDS];
    let _ = from_seed(&mut fp, seed);
    fp
}

#[inline(never)] // its own frame, so the stack it needs is measured alone
pub(crate) fn run(buffers: &mut Buffers) -> Result<(), Failed> {
    workload(buffers)?;
    metadata(buffers)?;
    batch(buffers)?;
    Ok(())
}

/// Random sets, overwrites and deletes, each checked against the model.
fn workload(buffers: &mut Buffers) -> Result<(), Failed> {
    let mut space = buffers.space();
    ensure_eq!(space.capacity(), ROWS, "capacity of the lent storage");
    let mut model = Model {
        held: [None; CANDIDATES],
    };
    let mut rng = SplitMix64::new(0x5EED_5BACE);
    let (mut full, mut prefixes_full, mut deletes) = (0u32, 0u32, 0u32);
    for step in 0..STEPS {
        let version = step as u64 + 1;
        let i = rng.below(CANDIDATES as u64) as usize;
        let addr = candidate(i);
        // Mostly writes, so the space fills up and stays near full.
        if rng.below(6) == 0 {
            let existed = space.delete(addr);
            ensure_eq!(
                existed,
                model.held[i].is_some(),
                "delete reports what was there"
            );
            model.held[i] = None;
            deletes += 1;
        } else {
            let seed = rng.next();
            let expected = model.expected_set(i);
            let got = space.apply(
                &Mutation::Set {
                    addr,
                    fp: &seeded(seed),
                },
                version,
            );
            ensure!(
                got == expected,
                "step {=usize}: set {=u16:#06x} gave {}, the model expected {}",
                step,
                addr.0,
                got.is_ok(),
                expected.is_ok()
            );
            match expected {
                Ok(()) => model.held[i] = Some(Held { seed, version }),
                Err(SpaceError::Full { .. }) => full += 1,
                Err(_) => prefixes_full += 1,
            }
        }
        same_as_model(&space, &model, step)?;
    }
    ensure!(
        full > 0 && prefixes_full > 0 && deletes > 0,
        "the workload must reach a full space ({=u32}), full prefixes ({=u32}) and deletes ({=u32})",
        full,
        prefixes_full,
        deletes
    );
    defmt::info!(
        "space: {=usize} random steps, {=u32} refused as full, {=u32} for want of a prefix page, {=u32} deletes",
        STEPS,
        full,
        prefixes_full,
        deletes
    );
    Ok(())
}

/// Every candidate reads back as the model says, and a walk in address
/// order yields exactly the model's entries.
fn same_as_model(space: &LentSpace<'_>, model: &Model, step: usize) -> Result<(), Failed> {
    ensure!(
        space.len() == model.len(),
        "step {=usize}: {=usize} entries, the model has {=usize}",
        step,
        space.len(),
        model.len()
    );
    for (i, held) in model.held.iter().enumerate() {
        let addr = candidate(i);
        let entry = space.get(addr);
        let same = match (held, entry) {
            (None, None) => true,
            (Some(h), Some(e)) => e.version == h.version && e.fp == seeded(h.seed),
            _ => false,
        };
        ensure!(
            same,
            "step {=usize}: address {=u16:#06x} differs from the model",
            step,
            addr.0
        );
    }
    let mut walked = space.iter(Filter::All);
    for (i, _) in model.held.iter().enumerate().filter(|(_, h)| h.is_some()) {
        let next = walked.next().map(|e| e.addr);
        ensure!(
            next == Some(candidate(i)),
            "step {=usize}: the address-order walk skipped or reordered {=u16:#06x}",
            step,
            candidate(i).0
        );
    }
    ensure!(
        walked.next().is_none(),
        "step {=usize}: the walk went past the model",
        step
    );
    Ok(())
}

/// Labels, parents and expiry ticks, and the errors for bad ones.
fn metadata(buffers: &mut Buffers) -> Result<(), Failed> {
    let mut space = buffers.space();
    let (root, child) = (Addr::new(0x80, 1), Addr::new(0x80, 2));
    let temp = Addr::new(0x20, 9);
    for (v, addr) in [root, child, temp].into_iter().enumerate() {
        let fp = seeded(v as u64);
        ensure!(
            space
                .apply(&Mutation::Set { addr, fp: &fp }, v as u64 + 1)
                .is_ok(),
            "set refused"
        );
    }
    let named = Mutation::Meta {
        addr: child,
        label: b"child",
        parent: Some(root),
    };
    ensure!(
        space.apply(&named, 4).is_ok(),
        "a label and a parent were refused"
    );
    let got = space
        .get(child)
        .map(|e| (e.label == "child", e.parent, e.version));
    ensure!(
        got == Some((true, Some(root), 4)),
        "label, parent and version read back"
    );
    ensure_eq!(
        space.get(child).map(|e| e.fp == seeded(1)),
        Some(true),
        "meta keeps the fingerprint"
    );

    let long = [b'x'; LABEL_MAX + 1];
    let too_long = Mutation::Meta {
        addr: child,
        label: &long,
        parent: None,
    };
    ensure!(
        space.apply(&too_long, 5) == Err(SpaceError::LabelTooLong { len: LABEL_MAX + 1 }),
        "a label over LABEL_MAX must be refused"
    );
    let bad_utf8 = Mutation::Meta {
        addr: child,
        label: &[0xFF, 0xFE],
        parent: None,
    };
    ensure!(
        space.apply(&bad_utf8, 5) == Err(SpaceError::LabelNotUtf8),
        "a non-UTF-8 label must be refused"
    );
    let own_parent = Mutation::Meta {
        addr: root,
        label: b"r",
        parent: Some(root),
    };
    ensure!(
        space.apply(&own_parent, 5) == Err(SpaceError::SelfParent { addr: root }),
        "an entry cannot be its own parent"
    );
    let nowhere = Addr::new(0x81, 0);
    ensure!(
        space.apply(
            &Mutation::Expire {
                addr: nowhere,
                at: Some(1)
            },
            5
        ) == Err(SpaceError::NotFound { addr: nowhere }),
        "expiring nothing must be NotFound"
    );
    ensure!(
        space.get(child).map(|e| e.label) == Some("child"),
        "refused changes left the label"
    );

    ensure!(
        space
            .apply(
                &Mutation::Expire {
                    addr: temp,
                    at: Some(100)
                },
                6
            )
            .is_ok(),
        "expire refused"
    );
    ensure!(
        space.get_live(temp, 99).is_some(),
        "an entry is live before its expiry tick"
    );
    ensure!(
        space.get_live(temp, 100).is_none(),
        "an entry is gone at its expiry tick"
    );
    ensure!(
        space.get(temp).is_some(),
        "plain reads still see an expired entry"
    );
    ensure_eq!(
        space.count_live(Filter::All, 100),
        2,
        "live entries at tick 100"
    );
    ensure_eq!(
        space.count(Filter::Zone(Zone::Nodes)),
        2,
        "entries in the nodes zone"
    );
    let mut expired = space.expired(100);
    ensure!(
        expired.next() == Some(temp) && expired.next().is_none(),
        "expired() lists exactly the expired entry"
    );
    Ok(())
}

/// A batch applies whole or not at all.
fn batch(buffers: &mut Buffers) -> Result<(), Failed> {
    let mut space = buffers.space();
    let (a, b) = (Addr::new(0x10, 1), Addr::new(0x10, 2));
    let (fa, fb) = (seeded(100), seeded(101));
    let short = [0u64; WORDS - 1];
    let bad = [
        Mutation::Set { addr: a, fp: &fa },
        Mutation::Set { addr: b, fp: &fb },
        Mutation::Set {
            addr: Addr::new(0x10, 3),
            fp: &short,
        },
    ];
    ensure!(
        space.apply_all(&bad, 1)
            == Err(SpaceError::WidthMismatch {
                expected: WORDS,
                got: WORDS - 1
            }),
        "a batch with one bad fingerprint must be refused"
    );
    ensure!(
        space.is_empty() && space.generation() == 0,
        "a refused batch must change nothing"
    );
    ensure!(
        space.apply_all(&bad[..2], 1).is_ok(),
        "a good batch was refused"
    );
    let versions = (
        space.get(a).map(|e| e.version),
        space.get(b).map(|e| e.version),
    );
    ensure!(
        versions == (Some(1), Some(1)),
        "every mutation of a batch takes the batch's version, as log replay gives it"
    );
    Ok(())
}
