//! The server in this process, driven over loopback by raw RESP, for what
//! the write combiner promises when the leader sends replies itself:
//! replies in order, a client reads its own writes, a client that does
//! not read holds nobody up, and every acknowledged write survives
//! shutdown.

use super::{Config, Listeners, ServeError, Server};
use crate::store::{Durability, Options, Store};
use bindspace_core::{Addr, Width};
use core::net::SocketAddr;
use core::sync::atomic::Ordering;
use core::time::Duration;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::thread::JoinHandle;

const WIDTH_BITS: u32 = 64;

fn options(durability: Durability) -> Options {
    Options {
        width: Width::from_bits(WIDTH_BITS).unwrap(),
        durability,
        ..Options::default()
    }
}

/// A server on a free loopback port; stopped (and its store closed) by
/// [`Running::stop`].
struct Running {
    addr: SocketAddr,
    /// The metrics endpoint's address, if it is on.
    metrics: Option<SocketAddr>,
    stop: std::sync::Arc<core::sync::atomic::AtomicBool>,
    thread: JoinHandle<Result<(), super::ServeError>>,
}

impl Running {
    fn start(dir: &Path, durability: Durability) -> Running {
        Running::on(Store::open(dir, options(durability)).unwrap(), dir)
    }

    /// A server over `store`, whose directory is `dir`.
    fn on(store: Store, dir: &Path) -> Running {
        Running::with(store, loopback(dir))
    }

    /// A server over `store` configured by `config`.
    fn with(store: Store, config: Config) -> Running {
        let server = Server::bind(store, config).unwrap();
        let addr = server.local_addr().unwrap();
        let metrics = server.metrics_addr();
        let stop = server.stop_flag();
        let thread = std::thread::spawn(move || server.run());
        Running {
            addr,
            metrics,
            stop,
            thread,
        }
    }

    fn stop(self) {
        self.finish().unwrap();
    }

    /// Stops the server and says how its final sync went.
    fn finish(self) -> Result<(), super::ServeError> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap()
    }
}

/// The defaults, on a free loopback port.
fn loopback(dir: &Path) -> Config {
    let mut config = Config::new(dir.to_path_buf());
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config
}

/// [`loopback`] with the metrics endpoint on a free loopback port too.
fn with_metrics(dir: &Path) -> Config {
    let mut config = loopback(dir);
    config.metrics = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    config
}

/// The metrics page at `addr`, HTTP header and all.
fn scrape(addr: SocketAddr) -> String {
    let mut t = TcpStream::connect(addr).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    t.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut page = String::new();
    t.read_to_string(&mut page).unwrap();
    page
}

/// A raw RESP client.
struct Client {
    out: TcpStream,
    input: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let out = TcpStream::connect(addr).unwrap();
        out.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let input = BufReader::new(out.try_clone().unwrap());
        Client { out, input }
    }

    /// Sends one command (one write call) without reading.
    fn send(&mut self, args: &[&[u8]]) {
        self.out.write_all(&encode(args)).unwrap();
    }

    /// Sends one command and reads its reply.
    fn ask(&mut self, args: &[&str]) -> String {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&argv);
        self.reply()
    }

    /// The value of `field` in the INFO text.
    fn info(&mut self, field: &str) -> String {
        let info = self.ask(&["INFO"]);
        let key = format!("{field}:");
        info.split("\r\n")
            .find_map(|line| line.strip_prefix(&key))
            .unwrap_or_else(|| panic!("INFO lacks {field}: {info}"))
            .to_string()
    }

    /// Reads one reply: a status or error line as is, a bulk string's
    /// bytes, `(nil)`.
    fn reply(&mut self) -> String {
        let mut line = String::new();
        self.input.read_line(&mut line).unwrap();
        let line = line.trim_end().to_string();
        match line.strip_prefix('$') {
            Some("-1") => "(nil)".into(),
            Some(len) => {
                let mut body = vec![0u8; len.parse::<usize>().unwrap() + 2];
                self.input.read_exact(&mut body).unwrap();
                body.truncate(body.len() - 2);
                String::from_utf8(body).unwrap()
            }
            None => line,
        }
    }
}

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The hex of a 64-bit fingerprint.
fn hex(v: u64) -> String {
    let mut out = [0u8; 16];
    bindspace_core::fingerprint::to_hex(&[v], &mut out)
        .unwrap()
        .to_string()
}

#[test]
fn many_writers_get_their_replies_in_order_and_read_their_writes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), Durability::Periodic(Duration::from_secs(1)));
    let clients: Vec<_> = (0..8u64)
        .map(|t| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                let at = format!("0x10:{t:02x}");
                for i in 0..300u64 {
                    let value = hex(t << 32 | i);
                    match i % 3 {
                        // One write, its reply awaited (the leader sends it).
                        0 => {
                            c.send(&[b"SET", at.as_bytes(), value.as_bytes()]);
                            assert_eq!(c.reply(), "+OK");
                        }
                        // A write and a read sent back to back: the read
                        // must see the write, whatever the reads cut.
                        1 => {
                            c.send(&[b"SET", at.as_bytes(), value.as_bytes()]);
                            c.send(&[b"GET", at.as_bytes()]);
                            assert_eq!(c.reply(), "+OK");
                            assert_eq!(c.reply(), value);
                        }
                        // Writes pipelined in one go, then a read.
                        _ => {
                            let mut both = encode(&[b"SET", at.as_bytes(), hex(0).as_bytes()]);
                            both.extend(encode(&[b"SET", at.as_bytes(), value.as_bytes()]));
                            both.extend(encode(&[b"DEL", b"0x11:00"]));
                            c.out.write_all(&both).unwrap();
                            c.send(&[b"GET", at.as_bytes()]);
                            assert_eq!(c.reply(), "+OK");
                            assert_eq!(c.reply(), "+OK");
                            assert_eq!(c.reply(), ":0");
                            assert_eq!(c.reply(), value);
                        }
                    }
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    server.stop();
}

#[test]
fn errors_of_detached_writes_reach_their_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), Durability::Periodic(Duration::from_secs(1)));
    let mut c = Client::connect(server.addr);
    // Not a plain SET (wrong width, bad address): the language's errors.
    c.send(&[b"SET", b"0x10:01", b"00ff"]);
    assert!(c.reply().starts_with("-ERR"), "a short fingerprint");
    c.send(&[b"SET", b"nowhere", hex(1).as_bytes()]);
    assert!(c.reply().starts_with("-ERR"), "a bad address");
    c.send(&[b"EXPIRE", b"0x80:01", b"5"]);
    assert!(
        c.reply().starts_with("-ERR"),
        "EXPIRE outside the fluid zone"
    );
    c.send(&[b"SET", b"0x10:01", hex(7).as_bytes()]);
    assert_eq!(c.reply(), "+OK");
    c.send(&[b"INFO", b"stats"]);
    let info = c.reply();
    assert!(info.contains("total_error_replies:3\r\n"), "{info}");
    server.stop();
}

#[test]
fn a_client_that_does_not_read_holds_no_other_writer_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), Durability::Never);
    let addr = server.addr;
    // Sends writes one by one and never reads a reply, until its socket
    // buffers are full and its sends block (or the test ends).
    let mut mute = TcpStream::connect(addr).unwrap();
    mute.set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let flood = std::thread::spawn(move || {
        let set = encode(&[b"SET", b"0x12:00", hex(9).as_bytes()]);
        let mut sent = 0u32;
        while sent < 200_000 && mute.write_all(&set).is_ok() {
            sent += 1;
        }
        mute
    });
    let started = std::time::Instant::now();
    let mut c = Client::connect(addr);
    for i in 0..2_000u64 {
        c.send(&[b"SET", b"0x10:01", hex(i).as_bytes()]);
        assert_eq!(c.reply(), "+OK");
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "2,000 writes took {:?} beside a client that does not read",
        started.elapsed()
    );
    let mute = flood.join().unwrap();
    drop(mute);
    server.stop();
}

#[test]
fn every_acknowledged_write_survives_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), Durability::Always);
    let addr = server.addr;
    let writers: Vec<_> = (0..4u8)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                let mut acked = Vec::new();
                for slot in 0..=255u8 {
                    let at = format!("0x2{t}:{slot:02x}");
                    let value = u64::from(t) << 8 | u64::from(slot);
                    c.send(&[b"SET", at.as_bytes(), hex(value).as_bytes()]);
                    let mut line = String::new();
                    // The server may stop between a write and its reply.
                    if c.input.read_line(&mut line).is_err() || line.trim_end() != "+OK" {
                        break;
                    }
                    acked.push((Addr::new(0x20 + t, slot), value));
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    server.stop();
    let acked: Vec<(Addr, u64)> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(
        !acked.is_empty(),
        "no write was acknowledged before the stop"
    );
    let store = Store::open(dir.path(), options(Durability::Always)).unwrap();
    let view = store.view();
    for (addr, value) in acked {
        let entry = view.get(addr).unwrap_or_else(|| panic!("{addr} lost"));
        assert_eq!(entry.fp, &[value], "{addr}");
    }
}

/// `--port 0` binds a free port; INFO names that one, not port 0.
#[test]
fn info_names_the_port_bound() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), Durability::Never);
    let mut c = Client::connect(server.addr);
    assert_ne!(server.addr.port(), 0);
    assert_eq!(c.info("tcp_port"), server.addr.port().to_string());
    assert_eq!(c.info("listen"), server.addr.to_string());
    server.stop();
}

/// Every error reply sent is counted once in `total_error_replies`:
/// those of the connection commands and of inline quoting too, and a
/// failing write that is the last thing its client sent before leaving.
#[test]
fn every_error_reply_is_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), Durability::Never);
    let mut c = Client::connect(server.addr);
    let mut errors = 0;
    let mut expect_error = |reply: String| {
        assert!(reply.starts_with('-'), "{reply}");
        errors += 1;
    };
    // An unclosed quote; an escape the line rules do not know (`\t`).
    for inline in [&b"ENCODE 0x10:08 \"unclosed\r\n"[..], b"PING \"a\\tb\"\r\n"] {
        c.out.write_all(inline).unwrap();
        expect_error(c.reply());
    }
    for args in [
        &["SELECT", "1"][..],
        &["CLIENT", "LIST"],
        &["CONFIG", "SET", "a", "b"],
        &["HELLO", "4"],
        &["AUTH", "x"],
        &["FLY"],
        // Writes: one through the combiner with a read behind it, one
        // whose reply the leader sends.
        &["SET", "0x10:01", "00ff"],
    ] {
        expect_error(c.ask(args));
    }
    c.send(&[b"SET", b"0x10:01", b"00ff"]);
    c.send(&[b"PING"]);
    expect_error(c.reply());
    assert_eq!(c.reply(), "+PONG");
    assert_eq!(c.info("total_error_replies"), errors.to_string());

    // A failing write, and the client is gone before its reply.
    let mut leaving = TcpStream::connect(server.addr).unwrap();
    leaving
        .write_all(b"*3\r\n$3\r\nSET\r\n$7\r\n0x10:02\r\n$4\r\n00ff\r\n")
        .unwrap();
    drop(leaving);
    let started = std::time::Instant::now();
    loop {
        let counted = c.info("total_error_replies");
        if counted == (errors + 1).to_string() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the last write's error was not counted: {counted}, {errors} before it"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.stop();
}

/// Arity and argument errors of the server's own commands.
#[test]
fn connection_commands_check_their_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), Durability::Never);
    let mut c = Client::connect(server.addr);
    for (args, said) in [
        (
            &["DBSIZE", "x"][..],
            "wrong number of arguments for 'DBSIZE'",
        ),
        (&["COMPACT", "x"], "wrong number of arguments for 'COMPACT'"),
        (
            &["CLIENT", "SETNAME"],
            "wrong number of arguments for 'CLIENT SETNAME'",
        ),
        (&["CLIENT"], "wrong number of arguments for 'CLIENT'"),
        (&["SELECT", "x"], "DB index is not an integer"),
        (&["SELECT", "1"], "DB index is out of range"),
    ] {
        let reply = c.ask(args);
        assert!(
            reply.starts_with("-ERR ") && reply.contains(said),
            "{args:?}: {reply}"
        );
    }
    assert_eq!(c.ask(&["DBSIZE"]), ":0");
    assert_eq!(c.ask(&["SELECT", "0"]), "+OK");
    // The unknown-subcommand error lists exactly what is accepted.
    let unknown = c.ask(&["CLIENT", "LIST"]);
    let list = unknown
        .split("knows ")
        .nth(1)
        .and_then(|l| l.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{unknown}"));
    let sample = |sub: &str| -> Vec<&'static str> {
        match sub {
            "SETINFO" => vec!["LIB-NAME", "x"],
            "SETNAME" => vec!["me"],
            "REPLY" | "NO-EVICT" | "NO-TOUCH" => vec!["ON"],
            _ => vec![],
        }
    };
    let mut listed = Vec::new();
    for sub in list.split(", ") {
        let mut args = vec!["CLIENT", sub];
        args.extend(sample(sub));
        let reply = c.ask(&args);
        assert!(
            !reply.starts_with('-'),
            "CLIENT {sub} is listed but refused: {reply}"
        );
        listed.push(sub);
    }
    listed.sort_unstable();
    let mut accepted = [
        "SETINFO", "SETNAME", "GETNAME", "ID", "REPLY", "NO-EVICT", "NO-TOUCH",
    ];
    accepted.sort_unstable();
    assert_eq!(listed, accepted);
    // CONFIG GET answers save and appendonly; the refusal of the rest
    // says so.
    c.send(&[b"CONFIG", b"GET", b"save"]);
    assert_eq!(c.reply(), "*2");
    assert_eq!(c.reply(), "save");
    assert_eq!(c.reply(), "");
    let refused = c.ask(&["CONFIG", "SET", "save", ""]);
    assert!(
        refused.contains("only CONFIG GET is answered (save, appendonly)"),
        "{refused}"
    );
    server.stop();
}

/// A store whose fsync fails under eight writing clients: every reply
/// is `+OK` or an `-IOERR`, the store says it is poisoned, reads go on,
/// no failed write is ever visible while the server runs, and every
/// acknowledged one survives a power cut. (A write whose fsync failed
/// may or may not be on the disk after the cut, as with a real disk: the
/// kernel may have written it anyway. A write refused after the failure
/// never reached the log, so nothing but the two values is possible.)
#[test]
fn a_failed_fsync_under_many_clients_loses_no_acknowledged_write() {
    use crate::store::sim::{Fault, FaultOp, SimFs};
    use std::sync::Arc;

    let sim = SimFs::new();
    let dir = Path::new("/data");
    let store = Store::open_with(Arc::new(sim.clone()), dir, options(Durability::Always)).unwrap();
    let server = Running::on(store, dir);
    // 320 writes, at most 8 to a sync (each client waits for its reply):
    // at least 40 syncs, so the 11th always fails, after 10 that did not.
    sim.arm(Fault {
        op: FaultOp::Sync,
        skip: 10,
        sticky: false,
    });
    let writers: Vec<_> = (0..8u8)
        .map(|t| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                let mut outcomes = Vec::new();
                for slot in 0..40u8 {
                    let at = Addr::new(0x30 + t, slot);
                    let value = u64::from(t) << 8 | u64::from(slot) | 1 << 40;
                    let reply = c.ask(&["SET", &at.to_string(), &hex(value)]);
                    assert!(
                        reply == "+OK" || reply.starts_with("-IOERR "),
                        "{at}: {reply}"
                    );
                    outcomes.push((at, value, reply == "+OK"));
                }
                outcomes
            })
        })
        .collect();
    let outcomes: Vec<(Addr, u64, bool)> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let acked = outcomes.iter().filter(|o| o.2).count();
    assert!(acked > 0, "no write was acknowledged before the fault");
    assert!(acked < outcomes.len(), "the armed fault never fired");

    let mut c = Client::connect(server.addr);
    assert_ne!(c.info("poisoned"), "no");
    let failed = (outcomes.len() - acked).to_string();
    // A client's last write is counted when its connection settles, which
    // may come after this client's INFO: wait for it, with a deadline.
    let started = std::time::Instant::now();
    loop {
        let counted = (c.info("total_error_replies"), c.info("store_errors"));
        if counted == (failed.clone(), failed.clone()) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "error replies and store errors counted: {counted:?}, sent: {failed}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Reads work, and show exactly the acknowledged writes.
    assert_eq!(c.ask(&["DBSIZE"]), format!(":{acked}"));
    for &(at, value, ok) in &outcomes {
        let got = c.ask(&["GET", &at.to_string()]);
        let want = if ok { hex(value) } else { "(nil)".into() };
        assert_eq!(got, want, "{at}");
    }
    assert!(c.ask(&["SET", "0x10:01", &hex(1)]).starts_with("-IOERR "));
    drop(c);
    assert!(
        server.finish().is_err(),
        "the final sync of a poisoned store succeeded"
    );

    for seed in 0..8 {
        let disk = sim.crash(seed);
        let reopened = Store::open_with(Arc::new(disk), dir, options(Durability::Always)).unwrap();
        let view = reopened.view();
        for &(at, value, ok) in &outcomes {
            match view.get(at) {
                Some(e) => assert_eq!(e.fp, &[value], "seed {seed}: {at}"),
                None => assert!(!ok, "seed {seed}: acknowledged {at} lost"),
            }
        }
        assert!(view.get(Addr::new(0x10, 1)).is_none(), "seed {seed}");
    }
}

/// COMPACT while clients write and read: no acknowledged write is lost,
/// readers see every value they should throughout, and INFO tells of the
/// last compaction.
#[test]
fn compact_under_writers_and_readers_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), Durability::Always);
    let mut c = Client::connect(server.addr);
    assert_eq!(c.info("last_compaction_time"), "-1");
    // No segment has closed yet, so no automatic checkpoint ran.
    assert_eq!(c.info("auto_checkpoints"), "0");
    assert_eq!(c.info("auto_checkpoint_failures"), "0");
    assert_eq!(c.info("auto_checkpoint_last_error"), "-");
    // A value no one changes, for the readers.
    assert_eq!(c.ask(&["SET", "0x10:00", &hex(42)]), "+OK");
    let done = std::sync::Arc::new(core::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (addr, done) = (server.addr, done.clone());
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                let mut reads = 0u32;
                while !done.load(Ordering::Acquire) || reads == 0 {
                    assert_eq!(c.ask(&["GET", "0x10:00"]), hex(42));
                    reads += 1;
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..4u8)
        .map(|t| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                let mut last = Vec::new();
                // Each slot twice: the first value is dead weight that
                // compaction drops.
                for round in 0..2u64 {
                    for slot in 0..100u8 {
                        let at = Addr::new(0x40 + t, slot);
                        let value = round << 32 | u64::from(t) << 8 | u64::from(slot);
                        assert_eq!(c.ask(&["SET", &at.to_string(), &hex(value)]), "+OK");
                        assert_eq!(c.ask(&["GET", &at.to_string()]), hex(value));
                        if round == 1 {
                            last.push((at, value));
                        }
                    }
                }
                last
            })
        })
        .collect();
    // Compactions until the writers are done; at least one of them
    // between the writers' first and last write.
    let mut during = 0;
    loop {
        let writing = writers.iter().any(|w| !w.is_finished());
        let reply = c.ask(&["COMPACT"]);
        assert!(reply.starts_with("compacted to seq "), "{reply}");
        if !writing {
            break;
        }
        if writers.iter().any(|w| !w.is_finished()) {
            during += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(during > 0, "no compaction ran while clients wrote");
    let acked: Vec<(Addr, u64)> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    done.store(true, Ordering::Release);
    for r in readers {
        r.join().unwrap();
    }
    assert!(c.ask(&["COMPACT"]).starts_with("compacted to seq "));
    assert_ne!(c.info("last_compaction_time"), "-1");
    let before: u64 = c.info("last_compaction_bytes_before").parse().unwrap();
    let after: u64 = c.info("last_compaction_bytes_after").parse().unwrap();
    assert!(after > 0 && after <= before, "{before} -> {after}");
    c.info("last_compaction_ms").parse::<u64>().unwrap();
    drop(c);
    server.stop();
    let store = Store::open(dir.path(), options(Durability::Always)).unwrap();
    let view = store.view();
    assert_eq!(view.len(), acked.len() + 1);
    for (at, value) in acked {
        let entry = view.get(at).unwrap_or_else(|| panic!("{at} lost"));
        assert_eq!(entry.fp, &[value], "{at}");
    }
}

/// When `run` returns, no thread it started still holds the store: a
/// library user who stops a server with metrics on reopens its directory
/// at once, without meeting the directory's lock.
#[test]
fn the_store_is_released_when_run_returns_with_metrics_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), options(Durability::Never)).unwrap();
    let server = Running::with(store, with_metrics(dir.path()));
    let page = scrape(server.metrics.unwrap());
    assert!(page.contains("bindspace_entries 0\n"), "{page}");
    // A scraper that is slow to ask keeps the metrics thread busy as the
    // server stops, so a `run` that did not wait for it would return
    // while it still holds the store (not only by chance of timing).
    let _slow = TcpStream::connect(server.metrics.unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    server.stop();
    if let Err(e) = Store::open(dir.path(), options(Durability::Never)) {
        panic!("the stopped server still holds the store: {e}");
    }
}

/// A metrics client that connects and never sends a request holds
/// shutdown up for one read timeout at most, not for ever.
#[test]
fn a_silent_metrics_client_does_not_hold_shutdown_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), options(Durability::Never)).unwrap();
    let server = Running::with(store, with_metrics(dir.path()));
    let _silent = TcpStream::connect(server.metrics.unwrap()).unwrap();
    // Long enough for the metrics thread (it polls every 20 ms) to take
    // the connection and wait on it.
    std::thread::sleep(Duration::from_millis(100));
    let asked = std::time::Instant::now();
    server.stop();
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
}

/// The metrics page has no authentication, so like the main address a
/// non-loopback metrics address needs a password; loopback needs none.
#[test]
fn a_non_loopback_metrics_address_needs_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = loopback(dir.path());
    config.metrics = Some(SocketAddr::from(([0, 0, 0, 0], 0)));
    let err = Listeners::bind(config.clone()).unwrap_err();
    assert!(matches!(err, ServeError::MetricsProtected(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("metrics") && message.contains("protected mode"),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
    config.password = Some("s3cret".into());
    let listeners = Listeners::bind(config).unwrap();
    drop(listeners);
    assert!(Listeners::bind(with_metrics(dir.path())).is_ok());
}
