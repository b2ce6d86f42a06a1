//! The write path: commands go through a log before they touch the space.
//! A `Commit` that writes the real log format proves that what the space
//! holds is exactly what replaying the log gives, that each command or
//! transaction is one batch, that reads log nothing, and that a log that
//! refuses a batch leaves the space untouched (so nothing is ever applied
//! before it is durable).

mod commands_support;

use bindspace_core::command::{self, Commit, Context, Input, Reply, RunError, Scratch, Session};
use bindspace_core::log::{self, Encoder, Header, Policy};
use bindspace_core::mutation::Mutation;
use bindspace_core::space::{Filter, Lent, Space};
use bindspace_core::Width;
use commands_support::leaked_space;
use proptest::prelude::*;

/// A log in memory, in the real record format.
struct ImageLog {
    image: Vec<u8>,
    encoder: Encoder,
    next_seq: u64,
    batches: Vec<usize>,
    refuse_next: bool,
}

#[derive(Debug, PartialEq)]
struct Refused;

impl core::fmt::Display for Refused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("disk full")
    }
}

impl ImageLog {
    fn new(width: Width) -> Self {
        let mut image = vec![0xFF; 64];
        let header = Header::new(width, 8, 0, 1);
        let len = header.encode(&mut image).unwrap();
        image.truncate(len);
        ImageLog {
            image,
            encoder: Encoder::for_header(&header),
            next_seq: 1,
            batches: Vec::new(),
            refuse_next: false,
        }
    }
}

impl Commit for ImageLog {
    type Error = Refused;

    fn commit(&mut self, batch: &[Mutation<'_>]) -> Result<u64, Refused> {
        if core::mem::take(&mut self.refuse_next) {
            return Err(Refused);
        }
        let mut buf = vec![0xFF; self.encoder.batch_len(batch)];
        let n = self.encoder.batch(batch, self.next_seq, &mut buf).unwrap();
        self.image.extend_from_slice(&buf[..n]);
        self.batches.push(batch.len());
        self.next_seq += 1;
        Ok(self.next_seq - 1)
    }
}

struct Front {
    space: Space<Lent<'static>>,
    log: ImageLog,
    session: Session<Vec<u8>>,
    scratch: Scratch<Vec<u64>, Vec<u8>>,
    now: u64,
}

impl Front {
    fn new() -> Self {
        let width = Width::from_bits(128).unwrap();
        Front {
            space: leaked_space(width, 64, 32),
            log: ImageLog::new(width),
            session: Session::new(vec![0; 4096]),
            scratch: Scratch::new(vec![0; 256], vec![0; 8192]),
            now: 0,
        }
    }

    fn run(&mut self, line: &str) -> Result<String, RunError<Refused>> {
        let ctx = Context::new(self.now);
        command::run(
            &mut self.space,
            &mut self.log,
            &ctx,
            Input::Line(line.as_bytes()),
            &mut self.session,
            &mut self.scratch,
        )
        .map(|r| r.to_string())
    }
}

type Snapshot = Vec<(String, Vec<u64>, String, Option<String>, Option<u64>, u64)>;

fn snapshot(space: &Space<Lent<'static>>) -> Snapshot {
    space
        .iter(Filter::All)
        .map(|e| {
            (
                e.addr.to_string(),
                e.fp.to_vec(),
                e.label.to_string(),
                e.parent.map(|p| p.to_string()),
                e.expires_at,
                e.version,
            )
        })
        .collect()
}

fn replayed(image: &[u8]) -> Snapshot {
    let mut fresh = leaked_space(Width::from_bits(128).unwrap(), 64, 32);
    let r = log::replay(image, None, &mut fresh, Policy::Strict).unwrap();
    assert!(r.damage.is_none());
    snapshot(&fresh)
}

const F1: &str = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";
const F2: &str = "ffffffffffffffff0000000000000000";

#[test]
fn each_command_or_transaction_is_one_batch_and_reads_log_nothing() {
    let mut f = Front::new();
    assert_eq!(f.run(&format!("SET 0x10:01 {F1}")).unwrap(), "OK");
    assert_eq!(f.run("GET 0x10:01").unwrap(), format!("\"{F1}\""));
    assert_eq!(f.run("SEARCH @0x10:01").unwrap(), "1) \"0x10:01\"");
    assert_eq!(f.run("DN.SET a/b/c @0x10:01").unwrap().len(), 9);
    assert_eq!(f.run("MULTI").unwrap(), "OK");
    assert_eq!(f.run(&format!("SET 0x10:02 {F2}")).unwrap(), "QUEUED");
    assert_eq!(f.run("BIND 0x10:03 @0x10:01 @0x10:02").unwrap(), "QUEUED");
    assert_eq!(f.run("DEL 0x10:01").unwrap(), "QUEUED");
    assert_eq!(f.run("EXEC").unwrap(), "1) OK\n2) OK\n3) (integer) 1");
    // A DEL of nothing, an EXPIRE of nothing: no change, no batch.
    assert_eq!(f.run("DEL 0x10:09").unwrap(), "(integer) 0");
    assert_eq!(f.run("EXPIRE 0x10:09 5").unwrap(), "(integer) 0");
    // SET: 1; DN.SET of three new components: 6; the transaction: 3.
    assert_eq!(f.log.batches, vec![1, 6, 3]);
    // Versions are the log's sequence numbers, one per batch.
    let v = |a: &str| f.space.get(a.parse().unwrap()).unwrap().version;
    assert_eq!((v("0x10:02"), v("0x10:03")), (3, 3));
    assert_eq!(snapshot(&f.space), replayed(&f.log.image));
}

#[test]
fn a_refused_commit_applies_nothing() {
    let mut f = Front::new();
    assert_eq!(f.run(&format!("SET 0x10:01 {F1}")).unwrap(), "OK");
    let before = (snapshot(&f.space), f.space.generation(), f.log.image.len());

    f.log.refuse_next = true;
    let e = f.run(&format!("SET 0x10:01 {F2}")).unwrap_err();
    assert_eq!(e, RunError::Log(Refused));
    assert_eq!(e.to_string(), "the log refused the change: disk full");
    assert_eq!(
        (snapshot(&f.space), f.space.generation(), f.log.image.len()),
        before
    );

    // A whole transaction refused by the log: nothing of it applied, and
    // the session is ready for the next one.
    assert_eq!(f.run("MULTI").unwrap(), "OK");
    assert_eq!(f.run("DN.SET x/y @0x10:01").unwrap(), "QUEUED");
    assert_eq!(f.run("DEL 0x10:01").unwrap(), "QUEUED");
    f.log.refuse_next = true;
    assert_eq!(f.run("EXEC").unwrap_err(), RunError::Log(Refused));
    assert_eq!(
        (snapshot(&f.space), f.space.generation(), f.log.image.len()),
        before
    );
    assert!(!f.session.in_multi());
    assert_eq!(f.run("DN.GET x/y").unwrap(), "(nil)");

    // The next commit goes through.
    assert_eq!(f.run("DEL 0x10:01").unwrap(), "(integer) 1");
    assert_eq!(snapshot(&f.space), replayed(&f.log.image));
}

#[test]
fn execute_changes_nothing_until_the_front_end_applies() {
    // The front-end sequence by hand: execute, log, apply, reply.
    let mut f = Front::new();
    let mut session = Session::new([0u8; 64]);
    let mut scratch = Scratch::new([0u64; 8], [0u8; 256]);
    let ctx = Context::new(0);
    let before = f.space.generation();
    let outcome = command::execute(
        &f.space,
        &ctx,
        Input::Argv(&[b"SET", b"0x10:01", F1.as_bytes()]),
        &mut session,
        &mut scratch,
    )
    .unwrap();
    assert_eq!(f.space.generation(), before);
    assert!(!f.space.exists("0x10:01".parse().unwrap()));
    assert_eq!(outcome.reply(), Reply::Status("OK"));
    let seq = f.log.commit(outcome.mutations()).unwrap();
    for m in outcome.mutations() {
        f.space.apply(m, seq).unwrap();
    }
    assert!(f.space.exists("0x10:01".parse().unwrap()));
    assert_eq!(snapshot(&f.space), replayed(&f.log.image));
}

fn line() -> impl Strategy<Value = String> {
    let addr = prop_oneof![
        Just("0x10:01"),
        Just("0x10:02"),
        Just("0x20:01"),
        Just("0x80:01")
    ];
    let fp = prop_oneof![
        any::<u128>().prop_map(|v| format!("{v:032x}")),
        addr.clone().prop_map(|a| format!("@{a}")),
    ];
    prop_oneof![
        3 => (addr.clone(), fp.clone()).prop_map(|(a, f)| format!("SET {a} {f}")),
        1 => (addr.clone(), fp.clone(), fp.clone()).prop_map(|(a, x, y)| format!("BIND {a} {x} {y}")),
        1 => (addr.clone(), any::<u8>()).prop_map(|(a, t)| format!("ENCODE {a} \"text {t}\"")),
        1 => addr.clone().prop_map(|a| format!("DEL {a}")),
        1 => (addr.clone(), 0..5u64).prop_map(|(a, t)| format!("EXPIRE {a} {t}")),
        1 => addr.clone().prop_map(|a| format!("PERSIST {a}")),
        1 => (prop_oneof![Just("p"), Just("p/q"), Just("r/q")], fp).prop_map(|(p, f)| format!("DN.SET {p} {f}")),
        1 => Just("MULTI".to_string()),
        1 => Just("EXEC".to_string()),
        1 => Just("DISCARD".to_string()),
        1 => addr.prop_map(|a| format!("WATCH {a}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_space_always_equals_the_replayed_log(
        lines in proptest::collection::vec(line(), 1..40),
        refusals in proptest::collection::vec(any::<bool>(), 40),
    ) {
        let mut f = Front::new();
        for (i, l) in lines.iter().enumerate() {
            f.log.refuse_next = refusals[i] && i % 3 == 0;
            f.now = i as u64;
            let _ = f.run(l);
            f.log.refuse_next = false;
            prop_assert_eq!(snapshot(&f.space), replayed(&f.log.image), "after {}", l);
        }
    }
}
