//! Random command sequences against a `BTreeMap` model: every reply and
//! the state after every command must agree. The model is written from
//! docs/COMMANDS.md, independently of the executor: 128-bit fingerprints
//! are `u128`s, search is a sort, scan a filter.
//!
//! A second property: a transaction gives the same replies and the same
//! final state as its commands run one by one, which is what the
//! executor's overlay (reads through pending changes) must guarantee.

mod commands_support;

use bindspace_core::command::{self, Context, ErrorKind, Input, Reply, Unlogged};
use bindspace_core::fingerprint;
use bindspace_core::space::Filter;
use bindspace_core::{Addr, Zone};
use commands_support::Harness;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A reply as plain data, so model and executor can be compared.
#[derive(Clone, Debug, PartialEq, Eq)]
enum R {
    Status(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<R>),
}

fn to_r(reply: Reply<'_>) -> R {
    match reply {
        Reply::Status(s) => R::Status(s.to_string()),
        Reply::Integer(n) => R::Int(n),
        Reply::Bulk(b) => R::Bulk(b.to_vec()),
        Reply::Nil => R::Nil,
        Reply::Array(items) => R::Array(items.iter().map(to_r).collect()),
    }
}

fn ok() -> R {
    R::Status("OK".into())
}
fn bulk(s: &str) -> R {
    R::Bulk(s.as_bytes().to_vec())
}
fn addr_r(a: Addr) -> R {
    bulk(&a.to_string())
}

/// The addresses the sequences use: every zone, prefix edges.
const POOL: [Addr; 8] = [
    Addr::new(0x00, 0x01),
    Addr::new(0x0F, 0xFF),
    Addr::new(0x10, 0x00),
    Addr::new(0x10, 0x01),
    Addr::new(0x10, 0xFF),
    Addr::new(0x7F, 0xFF),
    Addr::new(0x80, 0x00),
    Addr::new(0xFF, 0xFF),
];

fn hex128(v: u128) -> String {
    let words = [v as u64, (v >> 64) as u64];
    commands_support::hex_of(&words)
}

#[derive(Clone, Debug)]
enum Fp {
    Hex(u128),
    At(usize),
}

impl Fp {
    fn text(&self) -> String {
        match self {
            Fp::Hex(v) => hex128(*v),
            Fp::At(i) => format!("@{}", POOL[*i]),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Set(usize, Fp),
    Get(usize),
    Del(Vec<usize>),
    Exists(Vec<usize>),
    Count(Option<Zone>),
    Scan(Option<Zone>, u16, usize),
    Bind(usize, Fp, Fp),
    Bundle(usize, Vec<Fp>),
    Permute(usize, Fp, i64),
    Hamming(Fp, Fp),
    Search(Fp, usize, Option<Zone>, Option<u32>, bool),
    Expire(usize, u64),
    Persist(usize),
    Tick(u64),
    Multi(Vec<Op>),
}

fn zone_text(z: Option<Zone>) -> String {
    z.map_or(String::new(), |z| format!(" ZONE {z}"))
}

impl Op {
    fn line(&self) -> String {
        let a = |i: &usize| POOL[*i].to_string();
        match self {
            Op::Set(i, f) => format!("SET {} {}", a(i), f.text()),
            Op::Get(i) => format!("GET {}", a(i)),
            Op::Del(v) => format!("DEL {}", v.iter().map(a).collect::<Vec<_>>().join(" ")),
            Op::Exists(v) => format!("EXISTS {}", v.iter().map(a).collect::<Vec<_>>().join(" ")),
            Op::Count(z) => format!("COUNT{}", zone_text(*z)),
            Op::Scan(z, c, n) => format!("SCAN{} CURSOR {c} COUNT {n}", zone_text(*z)),
            Op::Bind(i, x, y) => format!("BIND {} {} {}", a(i), x.text(), y.text()),
            Op::Bundle(i, v) => format!(
                "BUNDLE {} {}",
                a(i),
                v.iter().map(Fp::text).collect::<Vec<_>>().join(" ")
            ),
            Op::Permute(i, x, n) => format!("PERMUTE {} {} {n}", a(i), x.text()),
            Op::Hamming(x, y) => format!("HAMMING {} {}", x.text(), y.text()),
            Op::Search(q, k, z, d, wd) => format!(
                "SEARCH {} COUNT {k}{}{}{}",
                q.text(),
                zone_text(*z),
                d.map_or(String::new(), |d| format!(" MAXDIST {d}")),
                if *wd { " WITHDIST" } else { "" }
            ),
            Op::Expire(i, t) => format!("EXPIRE {} {t}", a(i)),
            Op::Persist(i) => format!("PERSIST {}", a(i)),
            Op::Tick(_) | Op::Multi(_) => String::new(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Op::Set(..) => "SET",
            Op::Get(..) => "GET",
            Op::Del(..) => "DEL",
            Op::Exists(..) => "EXISTS",
            Op::Count(..) => "COUNT",
            Op::Scan(..) => "SCAN",
            Op::Bind(..) => "BIND",
            Op::Bundle(..) => "BUNDLE",
            Op::Permute(..) => "PERMUTE",
            Op::Hamming(..) => "HAMMING",
            Op::Search(..) => "SEARCH",
            Op::Expire(..) => "EXPIRE",
            Op::Persist(..) => "PERSIST",
            Op::Tick(..) | Op::Multi(..) => "",
        }
    }
}

/// What the model stores per address.
#[derive(Clone, Debug, PartialEq, Eq)]
struct MEntry {
    fp: u128,
    expires: Option<u64>,
}

#[derive(Clone, Debug, Default)]
struct Model {
    map: BTreeMap<Addr, MEntry>,
    now: u64,
}

fn tie() -> u128 {
    let mut t = [0u64; 2];
    fingerprint::from_seed(&mut t, fingerprint::TIE_SEED).unwrap();
    t[0] as u128 | (t[1] as u128) << 64
}

fn zone_ok(z: Option<Zone>, a: Addr) -> bool {
    z.is_none_or(|z| z.contains(a))
}

impl Model {
    fn live(&self, a: Addr) -> Option<&MEntry> {
        self.map
            .get(&a)
            .filter(|e| e.expires.is_none_or(|t| t > self.now))
    }

    fn fp(&self, f: &Fp) -> Result<u128, String> {
        match f {
            Fp::Hex(v) => Ok(*v),
            Fp::At(i) => self
                .live(POOL[*i])
                .map(|e| e.fp)
                .ok_or_else(|| format!("no entry at @{}", POOL[*i])),
        }
    }

    fn store(&mut self, a: Addr, fp: u128) {
        let expires = self.live(a).and_then(|e| e.expires);
        self.map.insert(a, MEntry { fp, expires });
    }

    fn fluid(a: Addr) -> Result<(), String> {
        if a.zone() == Zone::Fluid {
            Ok(())
        } else {
            Err(format!(
                "{a} is not in the fluid zone (0x10:00-0x7F:FF); only fluid entries expire"
            ))
        }
    }

    /// Runs one command; `Err` is the error message.
    fn run(&mut self, op: &Op) -> Result<R, String> {
        Ok(match op {
            Op::Set(i, f) => {
                let v = self.fp(f)?;
                self.store(POOL[*i], v);
                ok()
            }
            Op::Get(i) => match self.live(POOL[*i]) {
                Some(e) => bulk(&hex128(e.fp)),
                None => R::Nil,
            },
            Op::Del(v) => {
                let mut n = 0;
                for i in v {
                    n += i64::from(self.live(POOL[*i]).is_some());
                    self.map.remove(&POOL[*i]);
                }
                R::Int(n)
            }
            Op::Exists(v) => {
                R::Int(v.iter().filter(|i| self.live(POOL[**i]).is_some()).count() as i64)
            }
            Op::Count(z) => R::Int(
                self.map
                    .keys()
                    .filter(|a| zone_ok(*z, **a) && self.live(**a).is_some())
                    .count() as i64,
            ),
            Op::Scan(z, cursor, count) => {
                let hits: Vec<Addr> = self
                    .map
                    .keys()
                    .copied()
                    .filter(|a| a.0 >= *cursor && zone_ok(*z, *a) && self.live(*a).is_some())
                    .take(*count)
                    .collect();
                let next = if hits.len() == *count {
                    (hits[count - 1].0 as u32 + 1) % 65536
                } else {
                    0
                };
                R::Array(vec![
                    bulk(&next.to_string()),
                    R::Array(hits.into_iter().map(addr_r).collect()),
                ])
            }
            Op::Bind(i, x, y) => {
                let v = self.fp(x)? ^ self.fp(y)?;
                self.store(POOL[*i], v);
                ok()
            }
            Op::Bundle(i, inputs) => {
                let vals = inputs
                    .iter()
                    .map(|f| self.fp(f))
                    .collect::<Result<Vec<_>, _>>()?;
                let tie = tie();
                let mut out = 0u128;
                for bit in 0..128 {
                    let ones = vals.iter().filter(|v| *v >> bit & 1 == 1).count();
                    let set = match (2 * ones).cmp(&vals.len()) {
                        core::cmp::Ordering::Greater => true,
                        core::cmp::Ordering::Less => false,
                        core::cmp::Ordering::Equal => tie >> bit & 1 == 1,
                    };
                    out |= u128::from(set) << bit;
                }
                self.store(POOL[*i], out);
                ok()
            }
            Op::Permute(i, x, n) => {
                let v = self.fp(x)?.rotate_left(n.rem_euclid(128) as u32);
                self.store(POOL[*i], v);
                ok()
            }
            Op::Hamming(x, y) => R::Int((self.fp(x)? ^ self.fp(y)?).count_ones() as i64),
            Op::Search(q, k, z, maxd, wd) => {
                let q = self.fp(q)?;
                let mut hits: Vec<(u32, Addr)> = self
                    .map
                    .iter()
                    .filter(|(a, _)| zone_ok(*z, **a) && self.live(**a).is_some())
                    .map(|(a, e)| ((e.fp ^ q).count_ones(), *a))
                    .filter(|(d, _)| maxd.is_none_or(|m| *d <= m))
                    .collect();
                hits.sort();
                hits.truncate(*k);
                R::Array(
                    hits.into_iter()
                        .map(|(d, a)| {
                            if *wd {
                                R::Array(vec![addr_r(a), R::Int(d.into())])
                            } else {
                                addr_r(a)
                            }
                        })
                        .collect(),
                )
            }
            Op::Expire(i, t) => {
                let a = POOL[*i];
                Model::fluid(a)?;
                if self.live(a).is_none() {
                    R::Int(0)
                } else {
                    let now = self.now;
                    self.map.get_mut(&a).unwrap().expires = Some(now + t);
                    R::Int(1)
                }
            }
            Op::Persist(i) => {
                let a = POOL[*i];
                Model::fluid(a)?;
                match self.live(a).map(|e| e.expires) {
                    Some(Some(_)) => {
                        self.map.get_mut(&a).unwrap().expires = None;
                        R::Int(1)
                    }
                    _ => R::Int(0),
                }
            }
            Op::Tick(_) | Op::Multi(_) => unreachable!(),
        })
    }

    /// Runs a whole transaction on a copy; keeps it only if all succeed.
    fn exec(&mut self, ops: &[Op]) -> Result<R, String> {
        let mut copy = self.clone();
        let mut replies = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            match copy.run(op) {
                Ok(r) => replies.push(r),
                Err(e) => {
                    return Err(format!(
                    "Transaction discarded: command {} of {} ({}) failed: {e}; nothing was applied",
                    i + 1,
                    ops.len(),
                    op.name()
                ))
                }
            }
        }
        *self = copy;
        Ok(R::Array(replies))
    }
}

fn fp_strategy() -> impl Strategy<Value = Fp> {
    prop_oneof![
        3 => prop_oneof![
            any::<u128>(),
            Just(0u128),
            Just(u128::MAX),
            (0..128u32).prop_map(|i| 1u128 << i),
        ]
        .prop_map(Fp::Hex),
        2 => (0..POOL.len()).prop_map(Fp::At),
    ]
}

fn zone_strategy() -> impl Strategy<Value = Option<Zone>> {
    prop_oneof![
        Just(None),
        Just(Some(Zone::Surface)),
        Just(Some(Zone::Fluid)),
        Just(Some(Zone::Nodes))
    ]
}

fn simple_op() -> impl Strategy<Value = Op> {
    let i = 0..POOL.len();
    prop_oneof![
        4 => (i.clone(), fp_strategy()).prop_map(|(i, f)| Op::Set(i, f)),
        2 => i.clone().prop_map(Op::Get),
        1 => proptest::collection::vec(i.clone(), 1..4).prop_map(Op::Del),
        1 => proptest::collection::vec(i.clone(), 1..4).prop_map(Op::Exists),
        1 => zone_strategy().prop_map(Op::Count),
        1 => (zone_strategy(), prop_oneof![Just(0u16), any::<u16>(), Just(0x1001)], 1..5usize)
            .prop_map(|(z, c, n)| Op::Scan(z, c, n)),
        2 => (i.clone(), fp_strategy(), fp_strategy()).prop_map(|(i, x, y)| Op::Bind(i, x, y)),
        1 => (i.clone(), proptest::collection::vec(fp_strategy(), 1..5))
            .prop_map(|(i, v)| Op::Bundle(i, v)),
        1 => (i.clone(), fp_strategy(), -300i64..300).prop_map(|(i, x, n)| Op::Permute(i, x, n)),
        1 => (fp_strategy(), fp_strategy()).prop_map(|(x, y)| Op::Hamming(x, y)),
        2 => (fp_strategy(), 1..10usize, zone_strategy(), proptest::option::of(0..128u32), any::<bool>())
            .prop_map(|(q, k, z, d, wd)| Op::Search(q, k, z, d, wd)),
        2 => (i.clone(), 0..20u64).prop_map(|(i, t)| Op::Expire(i, t)),
        1 => i.prop_map(Op::Persist),
        1 => (1..10u64).prop_map(Op::Tick),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => simple_op(),
        1 => proptest::collection::vec(
            simple_op().prop_filter("no ticks inside MULTI", |o| !matches!(o, Op::Tick(_))),
            0..6
        )
        .prop_map(Op::Multi),
    ]
}

/// The space's stored entries (expired ones included) as the model holds them.
fn state_of(h: &Harness) -> BTreeMap<Addr, MEntry> {
    h.space
        .iter(Filter::All)
        .map(|e| {
            (
                e.addr,
                MEntry {
                    fp: e.fp[0] as u128 | (e.fp[1] as u128) << 64,
                    expires: e.expires_at,
                },
            )
        })
        .collect()
}

/// Runs one line through the executor; the reply as data, or the error
/// message.
fn exec_line(h: &mut Harness, line: &str) -> Result<R, String> {
    let ctx = Context::new(h.now);
    command::run_unlogged(
        &mut h.space,
        &mut h.versions,
        &ctx,
        Input::Line(line.as_bytes()),
        &mut h.session,
        &mut h.scratch,
    )
    .map(to_r)
    .map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn executor_agrees_with_the_model(ops in proptest::collection::vec(op_strategy(), 1..40)) {
        let mut h = Harness::new(128, 16, 8);
        let mut model = Model::default();
        for op in &ops {
            match op {
                Op::Tick(n) => {
                    h.now += n;
                    model.now += n;
                }
                Op::Multi(inner) => {
                    prop_assert_eq!(exec_line(&mut h, "MULTI"), Ok(ok()));
                    for o in inner {
                        prop_assert_eq!(exec_line(&mut h, &o.line()), Ok(R::Status("QUEUED".into())));
                    }
                    let got = exec_line(&mut h, "EXEC");
                    prop_assert_eq!(got, model.exec(inner), "EXEC of {:?}", inner);
                }
                _ => {
                    let line = op.line();
                    let got = exec_line(&mut h, &line);
                    prop_assert_eq!(got, model.run(op), "{}", line);
                }
            }
            prop_assert_eq!(&state_of(&h), &model.map, "state after {:?}", op);
        }
    }
}

/// A command for the transaction property: anything, named paths
/// included, that the overlay must answer as if earlier commands had been
/// applied.
fn tx_line() -> impl Strategy<Value = String> {
    let labels = prop_oneof![Just("a"), Just("b"), Just("c")];
    let path = proptest::collection::vec(labels, 1..4).prop_map(|v| v.join("/"));
    prop_oneof![
        6 => simple_op()
            .prop_filter("no ticks", |o| !matches!(o, Op::Tick(_)))
            .prop_map(|o| o.line()),
        2 => (path.clone(), fp_strategy()).prop_map(|(p, f)| format!("DN.SET {p} {}", f.text())),
        1 => path.clone().prop_map(|p| format!("DN.GET {p}")),
        1 => path.clone().prop_map(|p| format!("DN.CHILDREN {p}")),
        1 => path.prop_map(|p| format!("DN.PARENT {p}")),
        1 => Just("INFO".to_string()),
    ]
}

/// The live state: what any command can observe.
fn observable(h: &mut Harness) -> Vec<String> {
    let all: Vec<String> = h
        .space
        .iter(Filter::All)
        .map(|e| format!("{} {:?} {:?} {:?}", e.addr, e.label, e.parent, e.expires_at))
        .collect();
    let mut seen = vec![h.line("SCAN COUNT 1024"), h.line("INFO")];
    for entry in all {
        let a = entry.split(' ').next().unwrap_or_default().to_string();
        seen.push(format!("{entry} {}", h.line(&format!("GET {a}"))));
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn a_transaction_equals_its_commands_one_by_one(
        setup in proptest::collection::vec(tx_line(), 0..12),
        body in proptest::collection::vec(tx_line(), 1..12),
    ) {
        let mut one_by_one = Harness::new(128, 48, 48);
        let mut batched = Harness::new(128, 48, 48);
        for line in &setup {
            let a = one_by_one.line(line);
            let b = batched.line(line);
            prop_assert_eq!(a, b, "setup {}", line);
        }
        let before = observable(&mut batched);
        let mut replies = Vec::new();
        let mut failed = None;
        for (i, line) in body.iter().enumerate() {
            let r = exec_line(&mut one_by_one, line);
            match r {
                Ok(r) => replies.push(r),
                Err(e) => {
                    failed = Some((i, e));
                    break;
                }
            }
        }
        prop_assert_eq!(exec_line(&mut batched, "MULTI"), Ok(ok()));
        for line in &body {
            prop_assert_eq!(exec_line(&mut batched, line), Ok(R::Status("QUEUED".into())));
        }
        let got = exec_line(&mut batched, "EXEC");
        match failed {
            None => {
                prop_assert_eq!(got, Ok(R::Array(replies)));
                prop_assert_eq!(observable(&mut batched), observable(&mut one_by_one));
            }
            Some((i, e)) => {
                let got = got.unwrap_err();
                let needle = format!("command {} of {}", i + 1, body.len());
                prop_assert!(got.contains(&needle), "{} vs {}", got, needle);
                prop_assert!(got.ends_with(&format!("{e}; nothing was applied")), "{} vs {}", got, e);
                prop_assert_eq!(observable(&mut batched), before);
            }
        }
    }
}

#[test]
fn the_model_knows_the_error_it_expects() {
    // A guard on the test itself: the model's messages are the executor's.
    let mut h = Harness::new(128, 16, 8);
    let mut m = Model::default();
    for op in [Op::Set(0, Fp::At(3)), Op::Expire(7, 1), Op::Persist(0)] {
        let line = op.line();
        let got = exec_line(&mut h, &line);
        assert!(got.is_err(), "{line}");
        assert_eq!(got, m.run(&op).map(|_| R::Nil), "{line}");
    }
    let _ = ErrorKind::EmptyCommand;
    let _ = Unlogged::new(1);
}
