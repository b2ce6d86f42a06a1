//! The real `bindspace serve` binary on a loopback port, driven by the
//! `redis` crate and by `redis-cli`.

use core::time::Duration;
use redis::{Connection, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

struct Server {
    child: Child,
    port: u16,
    /// The lines it prints after the first, as they come.
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// The next line it printed (a line it never prints fails the test,
    /// rather than waiting for ever).
    fn line(&mut self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .expect("no further line printed")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, extra: &[&str]) -> Server {
    start_wide(dir, 64, extra)
}

/// [`start`] with fingerprints of `width` bits.
fn start_wide(dir: &Path, width: u32, extra: &[&str]) -> Server {
    let width = width.to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bindspace"))
        .args(["serve", "--port", "0", "--width", &width, "--data-dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start bindspace serve");
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Server { child, port, lines }
}

fn connect(s: &Server) -> Connection {
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", s.port)).unwrap();
    let con = client
        .get_connection_with_timeout(Duration::from_secs(10))
        .unwrap();
    con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    con
}

fn q(con: &mut Connection, args: &[&str]) -> redis::RedisResult<Value> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

fn text(v: Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8(b).unwrap(),
        Value::Okay => "OK".into(),
        Value::SimpleString(s) => s,
        Value::Int(n) => n.to_string(),
        Value::Nil => "(nil)".into(),
        Value::Array(items) => format!(
            "[{}]",
            items.into_iter().map(text).collect::<Vec<_>>().join(",")
        ),
        other => format!("{other:?}"),
    }
}

fn ok(con: &mut Connection, args: &[&str]) -> String {
    text(q(con, args).unwrap_or_else(|e| panic!("{args:?}: {e}")))
}

fn err(con: &mut Connection, args: &[&str]) -> String {
    match q(con, args) {
        Err(e) => e.to_string(),
        Ok(v) => panic!("{args:?} succeeded: {v:?}"),
    }
}

#[test]
fn every_command_of_the_language_over_resp() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &[]);
    let c = &mut connect(&s);
    assert_eq!(ok(c, &["PING"]), "PONG");
    assert_eq!(ok(c, &["PING", "hello there"]), "hello there");
    assert_eq!(ok(c, &["SET", "0x10:01", "0f0f0f0f0f0f0f0f"]), "OK");
    assert_eq!(ok(c, &["SET", "10:02", "00000000ffffffff"]), "OK");
    assert_eq!(ok(c, &["SET", "0x10:03", "@0x10:01"]), "OK");
    assert_eq!(ok(c, &["GET", "0x10:01"]), "0f0f0f0f0f0f0f0f");
    assert_eq!(ok(c, &["GET", "0x10:09"]), "(nil)");
    assert_eq!(ok(c, &["EXISTS", "10:01", "10:02", "10:09"]), "2");
    assert_eq!(ok(c, &["DEL", "0x10:03", "0x10:09"]), "1");
    assert_eq!(ok(c, &["SET", "0x80:01", "ffffffffffffffff"]), "OK");
    assert_eq!(ok(c, &["COUNT"]), "3");
    assert_eq!(ok(c, &["COUNT", "ZONE", "fluid"]), "2");
    assert_eq!(ok(c, &["SCAN", "COUNT", "2"]), "[4099,[0x10:01,0x10:02]]");
    assert_eq!(
        ok(c, &["SCAN", "CURSOR", "4099", "COUNT", "2"]),
        "[0,[0x80:01]]"
    );
    assert_eq!(ok(c, &["SET", "0x20:01", "0101010101010101"]), "OK");
    assert_eq!(ok(c, &["EXPIRE", "0x20:01", "100000"]), "1");
    assert_eq!(ok(c, &["PERSIST", "0x20:01"]), "1");
    assert_eq!(ok(c, &["PERSIST", "0x20:01"]), "0");
    assert_eq!(ok(c, &["EXPIRE", "0x20:01", "0"]), "1");
    assert_eq!(ok(c, &["EXISTS", "0x20:01"]), "0");
    assert_eq!(ok(c, &["BIND", "0x10:04", "@0x10:01", "@0x10:02"]), "OK");
    assert_eq!(ok(c, &["GET", "0x10:04"]), "0f0f0f0ff0f0f0f0");
    assert_eq!(
        ok(
            c,
            &[
                "BUNDLE",
                "0x10:06",
                "@0x10:01",
                "@0x10:02",
                "ffffffff00000000"
            ]
        ),
        "OK"
    );
    assert_eq!(ok(c, &["GET", "0x10:06"]), "0f0f0f0f0f0f0f0f");
    assert_eq!(
        ok(c, &["PERMUTE", "0x10:07", "0100000000000000", "4"]),
        "OK"
    );
    assert_eq!(ok(c, &["GET", "0x10:07"]), "1000000000000000");
    assert_eq!(
        ok(c, &["ENCODE", "0x80:10", "the cat sat on the mat"]),
        "OK"
    );
    assert_eq!(
        ok(c, &["ENCODE", "0x80:11", "The cat  sat on the MAT"]),
        "OK"
    );
    assert_eq!(ok(c, &["HAMMING", "@0x80:10", "@0x80:11"]), "0");
    assert_eq!(ok(c, &["HAMMING", "@0x10:01", "@0x10:02"]), "32");
    assert_eq!(
        ok(c, &["SEARCH", "@0x10:01", "COUNT", "2", "WITHDIST"]),
        "[[0x10:01,0],[0x10:06,0]]"
    );
    assert_eq!(ok(c, &["DN.SET", "animals/cat", "@0x80:10"]), "0xFB:86");
    assert_eq!(ok(c, &["DN.GET", "animals/cat"]), "0xFB:86");
    assert_eq!(ok(c, &["DN.GET", "animals/cow"]), "(nil)");
    assert_eq!(ok(c, &["DN.CHILDREN", "animals"]), "[[cat,0xFB:86]]");
    assert_eq!(ok(c, &["DN.PARENT", "animals"]), "(nil)");
    assert_eq!(ok(c, &["DN.PARENT", "animals/cat"]), "0xBA:C8");
    let info = ok(c, &["INFO"]);
    for section in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# bindspace",
        "width_bits:64",
        "log_syncs:",
        "log_synced_commits:",
        "log_gather_microseconds:",
    ] {
        assert!(info.contains(section), "INFO lacks {section}: {info}");
    }
    // What clients send on connect.
    assert_eq!(ok(c, &["CLIENT", "SETINFO", "LIB-NAME", "x"]), "OK");
    assert_eq!(ok(c, &["CLIENT", "NO-EVICT", "ON"]), "OK");
    assert_eq!(ok(c, &["CLIENT", "REPLY", "ON"]), "OK");
    // Turning replies off is refused, not acknowledged and then ignored.
    for mode in ["OFF", "SKIP"] {
        assert!(err(c, &["CLIENT", "REPLY", mode]).contains("not supported"));
    }
    assert_eq!(ok(c, &["PING"]), "PONG");
    assert_eq!(ok(c, &["SELECT", "0"]), "OK");
    assert!(err(c, &["SELECT", "1"]).contains("out of range"));
    assert_eq!(ok(c, &["COMMAND"]), "[]");
    assert_eq!(ok(c, &["COMMAND", "DOCS"]), "[]");
}

#[test]
fn pipelines_multi_exec_and_watch_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &[]);
    let c1 = &mut connect(&s);
    let c2 = &mut connect(&s);
    let mut p = redis::pipe();
    for i in 0..200 {
        p.cmd("SET")
            .arg(format!("0x30:{:02x}", i))
            .arg(format!("{:016x}", i));
    }
    p.cmd("COUNT");
    let replies: Vec<Value> = p.query(c1).unwrap();
    assert_eq!(replies.len(), 201);
    assert_eq!(text(replies[200].clone()), "200");
    assert_eq!(ok(c1, &["GET", "0x30:c7"]), format!("{:016x}", 199));

    assert_eq!(ok(c1, &["WATCH", "0x30:01"]), "OK");
    assert_eq!(ok(c1, &["MULTI"]), "OK");
    assert_eq!(
        ok(c1, &["BIND", "0x30:01", "@0x30:01", "ffffffffffffffff"]),
        "QUEUED"
    );
    assert_eq!(ok(c2, &["SET", "0x30:01", "1111111111111111"]), "OK");
    assert_eq!(ok(c1, &["EXEC"]), "(nil)");
    assert_eq!(ok(c1, &["GET", "0x30:01"]), "1111111111111111");

    assert_eq!(ok(c1, &["MULTI"]), "OK");
    assert_eq!(ok(c1, &["SET", "0x40:01", "00000000000000ff"]), "QUEUED");
    assert_eq!(ok(c1, &["GET", "0x40:01"]), "QUEUED");
    assert_eq!(ok(c1, &["EXEC"]), "[OK,00000000000000ff]");
    assert_eq!(ok(c1, &["MULTI"]), "OK");
    assert_eq!(ok(c1, &["SET", "0x40:02", "@0x40:09"]), "QUEUED");
    let e = err(c1, &["EXEC"]);
    assert!(e.contains("no entry at @0x40:09"), "{e}");
    assert_eq!(ok(c2, &["EXISTS", "0x40:02"]), "0");
    assert_eq!(ok(c1, &["MULTI"]), "OK");
    assert_eq!(ok(c1, &["DEL", "0x40:01"]), "QUEUED");
    assert_eq!(ok(c1, &["DISCARD"]), "OK");
    assert_eq!(ok(c1, &["EXISTS", "0x40:01"]), "1");
    assert_eq!(ok(c1, &["WATCH", "0x40:01"]), "OK");
    assert_eq!(ok(c1, &["UNWATCH"]), "OK");
    assert_eq!(ok(c2, &["DEL", "0x40:01"]), "1");
    assert_eq!(ok(c1, &["MULTI"]), "OK");
    assert_eq!(ok(c1, &["PING"]), "QUEUED");
    assert_eq!(ok(c1, &["EXEC"]), "[PONG]");
}

#[test]
fn auth_and_protected_mode() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &["--password", "s3cret"]);
    let c = &mut connect(&s);
    assert!(err(c, &["PING"]).contains("NOAUTH"));
    assert!(err(c, &["AUTH", "wrong"]).contains("WRONGPASS"));
    assert_eq!(ok(c, &["AUTH", "s3cret"]), "OK");
    assert_eq!(ok(c, &["PING"]), "PONG");
    drop(s);
    let out = Command::new(env!("CARGO_BIN_EXE_bindspace"))
        .args(["serve", "--bind", "0.0.0.0", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("protected mode"));
}

/// The metrics page has no authentication, so `--metrics` on a
/// non-loopback address needs `--password` like `--bind` does; the refusal
/// comes before the data directory is created.
#[test]
fn metrics_on_a_non_loopback_address_needs_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bindspace"))
        .args([
            "serve",
            "--port",
            "0",
            "--metrics",
            "0.0.0.0:0",
            "--data-dir",
        ])
        .arg(&data)
        .env_remove("BINDSPACE_PASSWORD")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A server that starts anyway would serve for ever: give it a while
    // to refuse, then stop it and fail.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve --metrics 0.0.0.0:0 without a password started");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("refusing to serve metrics on 0.0.0.0:0")
            && stderr.contains("protected mode"),
        "{stderr}"
    );
    assert!(!data.exists(), "created {}", data.display());
}

fn raw(port: u16, send: &[u8]) -> Vec<u8> {
    let mut t = TcpStream::connect(("127.0.0.1", port)).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    t.write_all(send).unwrap();
    let mut out = Vec::new();
    let _ = t.read_to_end(&mut out);
    out
}

#[test]
fn bad_input_is_answered_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        dir.path(),
        &["--max-request", "4096", "--idle-timeout", "1"],
    );
    let c = &mut connect(&s);
    assert!(err(c, &["FLY", "0x10:01"]).contains("unknown command"));
    assert!(err(c, &["GET"]).contains("wrong number of arguments"));
    let e = err(c, &["SET", "0x10:01", "zz"]);
    assert!(e.contains("hex") || e.contains("width"), "{e}");
    assert_eq!(ok(c, &["PING"]), "PONG");
    let garbage = raw(s.port, b"*2\r\n:1\r\n\x00\xff\xfe\r\n");
    assert!(
        garbage.starts_with(b"-ERR Protocol error"),
        "{:?}",
        String::from_utf8_lossy(&garbage)
    );
    let mut big = b"*2\r\n$4\r\nPING\r\n$100000\r\n".to_vec();
    big.extend(core::iter::repeat_n(b'a', 100_000));
    let reply = raw(s.port, &big);
    assert!(String::from_utf8_lossy(&reply).contains("larger than the limit"));
    // Idle clients are told and let go.
    let started = Instant::now();
    let idle = raw(s.port, b"");
    assert!(String::from_utf8_lossy(&idle).contains("idle timeout"));
    assert!(started.elapsed() < Duration::from_secs(5));
    // The server is still up for new clients (the first one idled out too).
    assert_eq!(ok(&mut connect(&s), &["PING"]), "PONG");
}

/// A client that pipelines requests and never reads the replies, until
/// its own writes block (the server stopped reading: its replies have
/// nowhere to go). Returns the socket, still open.
fn stop_reading(port: u16) -> TcpStream {
    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    silent
        .set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let requests = b"GET 0x10:01\r\n".repeat(4096);
    let started = Instant::now();
    while silent.write_all(&requests).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server kept reading a client that reads nothing"
        );
    }
    silent
}

/// One read of pipelined GETs makes far more reply bytes than request
/// bytes; the server answers them a slice at a time (so its memory per
/// client stays bounded) and every reply still comes, in order.
#[test]
fn a_long_pipeline_is_answered_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_wide(dir.path(), 8192, &[]);
    let c = &mut connect(&s);
    for i in 0..4u8 {
        ok(
            c,
            &["SET", &format!("0x10:0{i}"), &format!("{i}").repeat(2048)],
        );
    }
    let requests: Vec<u8> = (0..4096)
        .flat_map(|n| format!("GET 0x10:0{}\r\n", n % 4).into_bytes())
        .collect();
    let t = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let writer = {
        let mut t = t.try_clone().unwrap();
        std::thread::spawn(move || t.write_all(&requests))
    };
    let mut reader = BufReader::new(t);
    let mut line = String::new();
    for n in 0..4096 {
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "$2048\r\n", "reply {n}");
        line.clear();
        reader.read_line(&mut line).unwrap();
        let digit = char::from(b'0' + (n % 4) as u8);
        assert_eq!(line.len(), 2050, "reply {n}");
        assert!(line[..2048].chars().all(|c| c == digit), "reply {n}");
    }
    writer.join().unwrap().unwrap();
}

/// A client that stopped reading held its server thread in a blocking
/// write forever, and with it the server's shutdown (which joins every
/// connection thread). Here it is let go at the idle timeout, or at once
/// when the server stops.
#[test]
fn a_client_that_stops_reading_is_let_go() {
    for idle in ["300", "1"] {
        let dir = tempfile::tempdir().unwrap();
        // 8,192-bit fingerprints: each 13-byte GET is answered with 2 KiB,
        // so the replies fill the socket buffers soon.
        let mut s = start_wide(dir.path(), 8192, &["--idle-timeout", idle]);
        ok(&mut connect(&s), &["SET", "0x10:01", &"0".repeat(2048)]);
        let mut silent = stop_reading(s.port);
        if idle == "1" {
            // The server gives up on it: what it already sent, then the
            // end of the connection.
            silent
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut replies = Vec::new();
            let ended = silent.read_to_end(&mut replies);
            assert!(
                ended.is_ok()
                    || ended
                        .as_ref()
                        .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
                "{ended:?}"
            );
            assert!(replies.starts_with(b"$2048\r\n0000"));
        }
        assert_eq!(ok(&mut connect(&s), &["PING"]), "PONG");
        Command::new("kill")
            .arg(s.child.id().to_string())
            .status()
            .unwrap();
        let stopping = Instant::now();
        let status = loop {
            if let Some(status) = s.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                stopping.elapsed() < Duration::from_secs(10),
                "the server did not stop with a client that reads nothing"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success());
        drop(silent);
    }
}

#[test]
fn acknowledged_writes_survive_restart_and_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &[]);
    let c = &mut connect(&s);
    for i in 0..100 {
        assert_eq!(
            ok(c, &["SET", &format!("0x50:{i:02x}"), &format!("{i:016x}")]),
            "OK"
        );
    }
    let mut s = s;
    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();
    drop(s);
    let s = start(dir.path(), &[]);
    let c = &mut connect(&s);
    assert_eq!(ok(c, &["COUNT"]), "100");
    for i in 0..100 {
        assert_eq!(
            ok(c, &["GET", &format!("0x50:{i:02x}")]),
            format!("{i:016x}")
        );
    }
    // A clean stop (SIGTERM) exits 0 and keeps everything too.
    assert_eq!(ok(c, &["DEL", "0x50:00"]), "1");
    let mut s = s;
    Command::new("kill")
        .arg(s.child.id().to_string())
        .status()
        .unwrap();
    assert!(s.child.wait().unwrap().success());
    drop(s);
    let s = start(dir.path(), &[]);
    assert_eq!(ok(&mut connect(&s), &["COUNT"]), "99");
}

#[test]
fn redis_cli_talks_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &[]);
    let port = s.port.to_string();
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-p", &port])
            .args(args)
            .output()
            .expect("redis-cli (Debian redis-tools) must be installed");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(cli(&["ENCODE", "0x80:10", "the cat sat on the mat"]), "OK");
    assert_eq!(cli(&["SEARCH", "@0x80:10", "WITHDIST"]), "0x80:10\n0");
    assert_eq!(cli(&["FLY"]), "ERR unknown command 'FLY'");
    assert!(cli(&["-3", "HELLO", "3"]).contains("bindspace"));
    assert!(cli(&["INFO", "server"]).contains("tcp_port:"));
}

#[test]
fn max_clients_resp3_and_the_metrics_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let metrics = format!("127.0.0.1:{metrics_port}");
    let mut s = start(dir.path(), &["--max-clients", "1", "--metrics", &metrics]);
    assert_eq!(s.line(), format!("metrics: http://{metrics}/metrics"));
    let mut first = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    first.write_all(b"HELLO 3\r\nGET 0x10:01\r\n").unwrap();
    // The server admits the second client only after the first is
    // running, so wait for the first's replies before knocking again.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"_\r\n") {
        let n = first.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let hello = String::from_utf8_lossy(&got);
    assert!(hello.starts_with("%7\r\n"), "RESP3 map expected: {hello}");
    assert!(hello.contains("bindspace"), "{hello}");
    let turned_away = raw(s.port, b"PING\r\n");
    assert_eq!(turned_away, b"-ERR max number of clients reached\r\n");
    // The first client is unaffected.
    first.write_all(b"PING\r\n").unwrap();
    let n = first.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"+PONG\r\n");

    // One durable write (`--fsync always`): one log sync, covering it.
    first.write_all(b"ENCODE 0x10:02 hello\r\n").unwrap();
    let n = first.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"+OK\r\n");

    let page = raw(metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let page = String::from_utf8_lossy(&page);
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    assert!(page.contains("bindspace_log_syncs_total 1\n"), "{page}");
    assert!(
        page.contains("bindspace_log_synced_commits_total 1\n"),
        "{page}"
    );
    // One client's commit: nobody waited for its sync, so no gather.
    assert!(
        page.contains("bindspace_log_gather_microseconds_total 0\n"),
        "{page}"
    );
    assert!(
        page.contains("bindspace_rejected_connections_total 1"),
        "{page}"
    );
    // No segment closed yet: no automatic checkpoint.
    assert!(
        page.contains("bindspace_auto_checkpoints_total 0\n")
            && page.contains("bindspace_auto_checkpoint_failures_total 0\n"),
        "{page}"
    );
    assert!(page.contains("bindspace_connected_clients 1"), "{page}");
    // The one error reply: the client turned away.
    assert!(page.contains("bindspace_error_replies_total 1\n"), "{page}");
}

#[test]
fn concurrent_writers_get_their_own_replies() {
    // Writes arriving together are committed as one batch; a failing
    // write must fail alone and every other write must land.
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &[]);
    let port = s.port;
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            std::thread::spawn(move || {
                let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
                let mut c = client.get_connection().unwrap();
                for i in 0..100u8 {
                    let addr = format!("0x{:02x}:{i:02x}", 0x40 + t);
                    if t % 2 == 1 && i % 10 == 0 {
                        let e = err(&mut c, &["SET", &addr, "@0x7f:ff"]);
                        assert!(e.contains("no entry at @0x7F:FF"), "{e}");
                    } else {
                        assert_eq!(
                            ok(&mut c, &["SET", &addr, &format!("{t:02x}{i:014x}")]),
                            "OK"
                        );
                        assert_eq!(ok(&mut c, &["DEL", &addr, "0x7f:fe"]), "1");
                        assert_eq!(
                            ok(&mut c, &["SET", &addr, &format!("{t:02x}{i:014x}")]),
                            "OK"
                        );
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let c = &mut connect(&s);
    assert_eq!(ok(c, &["COUNT"]), (8 * 100 - 4 * 10).to_string());
    assert_eq!(ok(c, &["GET", "0x43:05"]), format!("{:02x}{:014x}", 3, 5));
    assert_eq!(ok(c, &["GET", "0x43:0a"]), "(nil)");
}

/// The log segments (`wal-*`) of a data directory, oldest first.
fn segments(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut segs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("wal-"))
        })
        .collect();
    segs.sort();
    segs
}

/// A crash can leave damage in the last segment with valid frames after
/// it (the disk wrote later blocks first); recovery cuts from the damage
/// on. `serve` says so at start, with the file, the offset and how many
/// valid frames were cut, and INFO keeps it.
#[test]
fn a_cut_torn_tail_is_told_at_start_and_in_info() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(dir.path(), &[]);
    let c = &mut connect(&s);
    for i in 0..4 {
        ok(c, &["SET", &format!("0x10:0{i}"), &format!("{i:016x}")]);
    }
    assert!(ok(c, &["INFO", "persistence"]).contains("recovery_torn_tail:0\r\n"));
    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();
    drop(s);
    let segment = segments(dir.path()).pop().expect("a segment");
    let mut bytes = std::fs::read(&segment).unwrap();
    // The second commit's first record: a byte of its fingerprint. The
    // header is 40 bytes, a 1-word SET and its commit record 56.
    let damaged_at = 40 + 56;
    bytes[damaged_at + 30] ^= 0x40;
    std::fs::write(&segment, &bytes).unwrap();

    let mut s = start(dir.path(), &[]);
    let said = s.line();
    assert!(
        said.starts_with(&format!(
            "recovery: cut a torn tail of {} bytes from {} at byte {damaged_at}: ",
            bytes.len() - damaged_at,
            segment.display()
        )),
        "{said}"
    );
    assert!(
        said.contains("; 5 later valid frames were unsynced"),
        "{said}"
    );
    let c = &mut connect(&s);
    assert_eq!(ok(c, &["COUNT"]), "1");
    let info = ok(c, &["INFO", "persistence"]);
    for field in [
        "recovery_torn_tail:1".to_string(),
        format!("recovery_torn_tail_file:{}", segment.display()),
        format!("recovery_torn_tail_offset:{damaged_at}"),
        format!("recovery_torn_tail_bytes:{}", bytes.len() - damaged_at),
        "recovery_repaired_places:0".to_string(),
    ] {
        assert!(info.contains(&format!("{field}\r\n")), "{field}: {info}");
    }
    assert!(
        info.contains("recovery_tail_note:") && info.contains("5 later valid frames"),
        "{info}"
    );
}

/// A port that is taken fails the start before the data directory is
/// created or locked.
#[test]
fn a_port_in_use_leaves_no_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let data = dir.path().join("new");
    let metrics = format!("127.0.0.1:{port}");
    for args in [
        &["--port", port.as_str()][..],
        &["--port", "0", "--metrics", &metrics],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_bindspace"))
            .arg("serve")
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cannot listen on"), "{stderr}");
        assert!(!data.exists(), "{args:?} created {}", data.display());
    }
}

/// The store's log settings from the command line: small segments and an
/// automatic checkpoint every 2 closed ones, one covered file kept. A
/// server that only takes SETs then checkpoints by itself (INFO says so),
/// its directory holds a snapshot and at most that one kept file, and the
/// data reads back after a restart. Out-of-range values are refused when
/// the command line is parsed.
#[test]
fn serve_takes_the_log_settings_and_checkpoints_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--segment-mib",
        "1",
        "--checkpoint-after",
        "2",
        "--keep-segments",
        "1",
        "--fsync",
        "never",
    ];
    let s = start_wide(dir.path(), 8192, &args);
    let c = &mut connect(&s);
    // 8,192-bit sets, about 1.1 KB of log each: 3,000 fill 3 segments.
    let value = |i: usize| format!("{:02x}", i % 251).repeat(1024);
    let addr = |i: usize| format!("0x{:02x}:{:02x}", 0x10 + i / 256, i % 256);
    for chunk in 0..6 {
        let mut p = redis::pipe();
        for i in chunk * 500..(chunk + 1) * 500 {
            p.cmd("SET").arg(addr(i)).arg(value(i));
        }
        let _: Vec<Value> = p.query(c).unwrap();
    }
    let info_field = |c: &mut Connection, field: &str| -> String {
        let info = ok(c, &["INFO", "persistence"]);
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .unwrap_or_else(|| panic!("no {field} in {info}"))
            .trim()
            .to_string()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while info_field(c, "auto_checkpoints") == "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "no automatic checkpoint"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(info_field(c, "auto_checkpoint_failures"), "0");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("snap-")), "{names:?}");
    let kept = names.iter().filter(|n| n.starts_with("recycle-")).count();
    assert!(kept <= 1, "{names:?}");
    drop(s);
    let s = start_wide(dir.path(), 8192, &args);
    let c = &mut connect(&s);
    assert_eq!(ok(c, &["GET", &addr(0)]), value(0));
    assert_eq!(ok(c, &["GET", &addr(2999)]), value(2999));
    drop(s);
    for bad in [
        ["--checkpoint-after", "5000"],
        ["--segment-mib", "0"],
        ["--keep-segments", "65"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_bindspace"))
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(dir.path())
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}
