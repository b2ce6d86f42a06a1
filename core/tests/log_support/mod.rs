//! What the log's power-cut tests share: a `BTreeMap` model of the space,
//! workloads, and a driver that runs a workload on the mock flash with the
//! real space as the replay target and the garbage collector's source.

#![allow(dead_code)]

use std::collections::BTreeMap;

use bindspace_core::log::flash::{Config, Error, FlashLog, Recovery};
use bindspace_core::log::mock_flash::{CutMode, MockFlash, MockFlashError};
use bindspace_core::log::Apply;
use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::space::{GrowableSpace, Space};
use bindspace_core::{Addr, Width};

/// Words per fingerprint in these tests: small records, many cut points.
pub(crate) const W: usize = 2;
/// 8 sectors of 1 KiB, 4-byte words.
pub(crate) type Flash = MockFlash<8, 1024, 4>;
/// The work buffer the log borrows.
pub(crate) type Buf = [u8; 2304];

pub(crate) fn width() -> Width {
    Width::from_words(W).unwrap()
}

pub(crate) fn config() -> Config {
    Config::new(width(), 8)
}

/// One mutation, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Set(Addr, [u64; W]),
    Delete(Addr),
    Expire(Addr, Option<u64>),
    Meta(Addr, String, Option<Addr>),
}

impl Op {
    pub(crate) fn mutation(&self) -> Mutation<'_> {
        match self {
            Op::Set(addr, fp) => Mutation::Set { addr: *addr, fp },
            Op::Delete(addr) => Mutation::Delete { addr: *addr },
            Op::Expire(addr, at) => Mutation::Expire {
                addr: *addr,
                at: *at,
            },
            Op::Meta(addr, label, parent) => Mutation::Meta {
                addr: *addr,
                label: label.as_bytes(),
                parent: *parent,
            },
        }
    }
}

pub(crate) type Batch = Vec<Op>;

/// What the space should hold at one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Want {
    pub(crate) fp: [u64; W],
    pub(crate) label: String,
    pub(crate) parent: Option<Addr>,
    pub(crate) expires_at: Option<u64>,
    pub(crate) version: u64,
}

/// The model: what the space should hold, changed by the space's rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Model(pub(crate) BTreeMap<Addr, Want>);

impl Model {
    pub(crate) fn apply_batch(&mut self, batch: &[Op], seq: u64) {
        for op in batch {
            match op {
                Op::Set(a, fp) => {
                    let e = self.0.entry(*a).or_insert(Want {
                        fp: *fp,
                        label: String::new(),
                        parent: None,
                        expires_at: None,
                        version: seq,
                    });
                    e.fp = *fp;
                    e.version = seq;
                }
                Op::Delete(a) => {
                    self.0.remove(a);
                }
                Op::Expire(a, at) => {
                    let e = self
                        .0
                        .get_mut(a)
                        .expect("workloads only expire existing entries");
                    e.expires_at = *at;
                    e.version = seq;
                }
                Op::Meta(a, label, parent) => {
                    let e = self
                        .0
                        .get_mut(a)
                        .expect("workloads only label existing entries");
                    e.label = label.clone();
                    e.parent = *parent;
                    e.version = seq;
                }
            }
        }
    }

    /// Whether `space` holds exactly this.
    pub(crate) fn matches(&self, space: &GrowableSpace) -> Result<(), String> {
        if space.len() != self.0.len() {
            return Err(format!(
                "space has {} entries, model {}",
                space.len(),
                self.0.len()
            ));
        }
        for (a, w) in &self.0 {
            let Some(e) = space.get(*a) else {
                return Err(format!("{a} missing"));
            };
            let got = Want {
                fp: [e.fp[0], e.fp[1]],
                label: e.label.into(),
                parent: e.parent,
                expires_at: e.expires_at,
                version: e.version,
            };
            if &got != w {
                return Err(format!("{a}: got {got:?}, want {w:?}"));
            }
        }
        Ok(())
    }
}

/// A workload of `n` valid batches drawn from `seed`: sets, overwrites,
/// labels, expiries, deletes, over `addrs` addresses, batches of up to
/// `max_batch` mutations.
pub(crate) fn workload(seed: u64, n: usize, addrs: u8, max_batch: u64) -> Vec<Batch> {
    let mut rng = SplitMix64::new(seed);
    let mut exists = BTreeMap::new();
    let mut out = Vec::new();
    for _ in 0..n {
        let len = 1 + rng.below(max_batch) as usize;
        let mut batch = Vec::new();
        for _ in 0..len {
            let a = Addr::new(0x80, rng.below(addrs as u64) as u8);
            let here = exists.get(&a).copied().unwrap_or(false);
            let op = match rng.below(10) {
                0..=4 => Op::Set(a, [rng.next(), rng.next()]),
                5 if here => Op::Meta(
                    a,
                    format!("n{}", rng.below(1000)),
                    Some(Addr::new(0x80, 0xFF)),
                ),
                6 if here => Op::Expire(a, (rng.below(2) == 0).then(|| rng.next() >> 1)),
                7 | 8 => Op::Delete(a),
                _ => Op::Set(a, [rng.next(), rng.next()]),
            };
            exists.insert(a, !matches!(op, Op::Delete(_)));
            batch.push(op);
        }
        out.push(batch);
    }
    out
}

/// How a run of a workload ended.
pub(crate) struct Run {
    /// The state after every acknowledged batch.
    pub(crate) acked: Model,
    /// Batches acknowledged.
    pub(crate) done: usize,
    /// The batch being appended when power failed, with the number it would
    /// have had.
    pub(crate) in_flight: Option<(usize, u64)>,
}

/// Mounts `flash` into a fresh space, then appends `batches` (write-ahead:
/// each applied to the space and the model only once acknowledged) until
/// they are all done or power fails.
pub(crate) fn run(flash: &mut Flash, buf: &mut Buf, start: &Model, batches: &[Batch]) -> Run {
    let mut space = Space::growable(width());
    let mut acked = start.clone();
    let mounted = FlashLog::mount(&mut *flash, buf, config(), &mut space);
    let (mut log, _) = match mounted {
        Ok(x) => x,
        Err(e) => panic!("mount failed: {e:?}"),
    };
    for (i, batch) in batches.iter().enumerate() {
        let muts: Vec<Mutation<'_>> = batch.iter().map(Op::mutation).collect();
        let seq = log.next_seq();
        match log.append(&muts, &space) {
            Ok(s) => {
                assert_eq!(s, seq);
                for m in &muts {
                    Apply::apply(&mut space, m, s).unwrap();
                }
                acked.apply_batch(batch, s);
            }
            Err(Error::Storage(MockFlashError::PowerLost)) => {
                return Run {
                    acked,
                    done: i,
                    in_flight: Some((i, seq)),
                };
            }
            Err(e) => panic!("append {i} failed: {e}"),
        }
    }
    Run {
        acked,
        done: batches.len(),
        in_flight: None,
    }
}

/// Mounts `flash` and returns the recovered space.
pub(crate) fn recover(flash: &mut Flash, buf: &mut Buf) -> (GrowableSpace, Recovery) {
    let mut space = Space::growable(width());
    let (_, rec) = match FlashLog::mount(&mut *flash, buf, config(), &mut space) {
        Ok(x) => x,
        Err(e) => panic!("recovery failed: {e}"),
    };
    (space, rec)
}

/// The state recovery may show after `run`: the acknowledged one, or (for
/// the batch in flight) the one after it. Returns which, or why neither.
pub(crate) fn check_recovered(
    space: &GrowableSpace,
    run: &Run,
    batches: &[Batch],
) -> Result<Model, String> {
    let acked = run.acked.matches(space);
    if acked.is_ok() {
        return Ok(run.acked.clone());
    }
    if let Some((i, seq)) = run.in_flight {
        let mut next = run.acked.clone();
        next.apply_batch(&batches[i], seq);
        if next.matches(space).is_ok() {
            return Ok(next);
        }
    }
    Err(acked.unwrap_err())
}

/// Programmed bytes (and erases) a whole uncut run takes: the cut points.
pub(crate) fn cut_points(batches: &[Batch]) -> u64 {
    let mut flash = Flash::new();
    let mut buf = [0u8; 2304];
    flash.cut_power_after(u64::MAX, CutMode::Clean, 0);
    let r = run(&mut flash, &mut buf, &Model::default(), batches);
    assert_eq!(r.done, batches.len());
    u64::MAX - flash.budget().unwrap()
}
