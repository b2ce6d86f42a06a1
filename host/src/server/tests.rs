//! The server in this process, driven over loopback by raw RESP, for what
//! the write combiner promises when the leader sends replies itself:
//! replies in order, a client reads its own writes, a client that does
//! not read holds nobody up, and every acknowledged write survives
//! shutdown.

use super::{Config, Server};
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
    stop: std::sync::Arc<core::sync::atomic::AtomicBool>,
    thread: JoinHandle<Result<(), super::ServeError>>,
}

impl Running {
    fn start(dir: &Path, durability: Durability) -> Running {
        let store = Store::open(dir, options(durability)).unwrap();
        let mut config = Config::new(dir.to_path_buf());
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let server = Server::bind(store, config).unwrap();
        let addr = server.local_addr().unwrap();
        let stop = server.stop_flag();
        let thread = std::thread::spawn(move || server.run());
        Running { addr, stop, thread }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap().unwrap();
    }
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
