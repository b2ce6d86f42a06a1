//! What one client's requests do: the connection commands Redis clients
//! send (AUTH, HELLO, CLIENT, COMMAND, SELECT, CONFIG GET, QUIT), the
//! server's own (INFO, COMPACT), and everything else through the command
//! language ([`super::Engine`]).

use super::combine::Pending;
use super::engine::{ClientScratch, ClientSession};
use super::reply_to::ReplyTo;
use super::resp::{Out, Protocol};
use super::{info, Shared};
use core::sync::atomic::Ordering;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::SystemTime;

/// What the connection does after a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Read the next request.
    Continue,
    /// Send what is written and close.
    Close,
}

/// One client's state.
pub(crate) struct Client<'s> {
    shared: &'s Shared,
    id: u64,
    authed: bool,
    proto: Protocol,
    name: Vec<u8>,
    session: ClientSession,
    scratch: ClientScratch,
}

fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

impl<'s> Client<'s> {
    pub(crate) fn new(shared: &'s Shared) -> Client<'s> {
        let (session, scratch) = shared.engine.client_buffers();
        Client {
            shared,
            id: shared.next_id.fetch_add(1, Ordering::Relaxed),
            authed: shared.config.password.is_none(),
            proto: Protocol::Resp2,
            name: Vec::new(),
            session,
            scratch,
        }
    }

    pub(crate) fn shared(&self) -> &'s Shared {
        self.shared
    }

    pub(crate) fn protocol(&self) -> Protocol {
        self.proto
    }

    /// Answers one request (`args[0]` is its name) into `output`, and
    /// counts its reply if it is an error.
    pub(crate) fn handle(&mut self, args: &[&[u8]], output: &mut Vec<u8>) -> Next {
        self.shared
            .stats
            .commands_total
            .fetch_add(1, Ordering::Relaxed);
        let start = output.len();
        let next = self.answer(args, output);
        // Counted from the reply itself, in this one place, so that no
        // error path of any command can forget to count it.
        self.shared.stats.reply(&output[start..]);
        next
    }

    /// [`Client::handle`] without the counting.
    fn answer(&mut self, args: &[&[u8]], output: &mut Vec<u8>) -> Next {
        let Some(&name) = args.first() else {
            return Next::Continue;
        };
        let mut out = Out::new(output, self.proto);
        if is(name, "QUIT") {
            out.status("OK");
            return Next::Close;
        }
        if is(name, "AUTH") {
            self.auth(&args[1..], &mut out);
            return Next::Continue;
        }
        if is(name, "HELLO") {
            self.hello(&args[1..], output);
            return Next::Continue;
        }
        if !self.authed {
            out.error("NOAUTH", "Authentication required.");
            return Next::Continue;
        }
        if !self.session.in_multi() && self.connection_command(name, args, &mut out) {
            return Next::Continue;
        }
        let exec = is(name, "EXEC");
        if self.combines(name) {
            let outcome = self.shared.combiner.write(&self.shared.engine, args);
            out.outcome(&outcome);
            return Next::Continue;
        }
        match self
            .shared
            .engine
            .run(args, &mut self.session, &mut self.scratch)
        {
            Ok(reply) => out.reply(&reply, exec),
            Err(e) => out.error(e.code(), &e.to_string()),
        }
        Next::Continue
    }

    /// Whether the command `name` goes to the combiner: a write outside
    /// MULTI (EXEC runs the queued transaction itself).
    fn combines(&self, name: &[u8]) -> bool {
        !self.session.in_multi() && !is(name, "EXEC") && super::engine::may_write(name)
    }

    /// Whether `args` is a write the combiner takes, so that its reply
    /// may be left to the leader ([`Client::detach`]): the combiner's
    /// branch of [`Client::handle`], for a client that is authenticated
    /// (AUTH, HELLO, QUIT and the connection commands are not writes).
    pub(crate) fn detachable(&self, args: &[&[u8]]) -> bool {
        self.authed && args.first().is_some_and(|&n| self.combines(n))
    }

    /// Hands a [`Client::detachable`] write to the combiner, whose leader
    /// sends the reply on `stream`; see [`Combiner::detach`] for what the
    /// caller must do before sending anything else.
    ///
    /// [`Combiner::detach`]: super::combine::Combiner::detach
    pub(crate) fn detach(&mut self, args: &[&[u8]], stream: Arc<TcpStream>) -> Pending {
        self.shared
            .stats
            .commands_total
            .fetch_add(1, Ordering::Relaxed);
        let reply_to = ReplyTo::new(stream, self.proto);
        self.shared
            .combiner
            .detach(&self.shared.engine, args, reply_to)
    }

    /// Waits for a detached write and counts how it ended; returns the
    /// reply bytes the leader could not send.
    pub(crate) fn settle(&self, pending: Pending) -> Vec<u8> {
        let finished = pending.settle();
        if let Err((code, _)) = &finished.outcome {
            self.shared.stats.error_reply(code.as_bytes());
        }
        finished.unsent
    }

    fn auth(&mut self, args: &[&[u8]], out: &mut Out<'_>) {
        let Some(expected) = &self.shared.config.password else {
            out.error(
                "ERR",
                "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            );
            return;
        };
        let given = match args {
            [pass] => *pass,
            [user, pass] if is(user, "default") => *pass,
            [_, _] => {
                out.error(
                    "WRONGPASS",
                    "invalid username-password pair or user is disabled.",
                );
                return;
            }
            _ => {
                arity(out, "AUTH");
                return;
            }
        };
        if constant_time_eq(given, expected.as_bytes()) {
            self.authed = true;
            out.status("OK");
        } else {
            out.error(
                "WRONGPASS",
                "invalid username-password pair or user is disabled.",
            );
        }
    }

    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`.
    fn hello(&mut self, args: &[&[u8]], output: &mut Vec<u8>) {
        let mut proto = self.proto;
        if let Some(v) = args.first() {
            proto = match *v {
                b"2" => Protocol::Resp2,
                b"3" => Protocol::Resp3,
                _ => {
                    Out::new(output, self.proto).error("NOPROTO", "unsupported protocol version");
                    return;
                }
            };
        }
        let mut rest = args.get(1..).unwrap_or_default();
        while let Some(&opt) = rest.first() {
            if is(opt, "AUTH") && rest.len() >= 3 {
                // AUTH writes its own reply; HELLO answers once, so the
                // reply goes to a throwaway buffer unless it is an error.
                let mut said = Vec::new();
                self.auth(&rest[1..3], &mut Out::new(&mut said, self.proto));
                if !self.authed {
                    output.extend_from_slice(&said);
                    return;
                }
                rest = &rest[3..];
            } else if is(opt, "SETNAME") && rest.len() >= 2 {
                self.name = rest[1].to_vec();
                rest = &rest[2..];
            } else {
                Out::new(output, self.proto).error("ERR", "syntax error in HELLO");
                return;
            }
        }
        if !self.authed {
            Out::new(output, self.proto).error("NOAUTH", "HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        self.proto = proto;
        let mut out = Out::new(output, proto);
        out.map(7);
        out.bulk(b"server");
        out.bulk(b"bindspace");
        out.bulk(b"version");
        out.bulk(env!("CARGO_PKG_VERSION").as_bytes());
        out.bulk(b"proto");
        out.integer(if proto == Protocol::Resp3 { 3 } else { 2 });
        out.bulk(b"id");
        out.integer(self.id as i64);
        out.bulk(b"mode");
        out.bulk(b"standalone");
        out.bulk(b"role");
        out.bulk(b"master");
        out.bulk(b"modules");
        out.array(0);
    }

    /// Commands about the connection and the server rather than the data;
    /// returns false for a command of the language.
    fn connection_command(&mut self, name: &[u8], args: &[&[u8]], out: &mut Out<'_>) -> bool {
        let sub = args.get(1).copied().unwrap_or_default();
        if is(name, "SELECT") {
            match args {
                [_, index] => match core::str::from_utf8(index).map(str::parse::<i64>) {
                    Ok(Ok(0)) => out.status("OK"),
                    Ok(Ok(_)) => out.error(
                        "ERR",
                        "DB index is out of range (bindspace has one database, 0)",
                    ),
                    _ => out.error("ERR", "DB index is not an integer"),
                },
                _ => arity(out, "SELECT"),
            }
        } else if is(name, "CLIENT") {
            // Nothing is evicted and no access time is kept, so NO-EVICT
            // and NO-TOUCH ask for what always holds.
            if args.len() < 2 {
                arity(out, "CLIENT");
            } else if is(sub, "SETINFO") || is(sub, "NO-EVICT") || is(sub, "NO-TOUCH") {
                out.status("OK");
            } else if is(sub, "REPLY") {
                // Every command is answered: OFF and SKIP are refused, not
                // acknowledged and then ignored.
                match args.get(2) {
                    Some(mode) if args.len() == 3 && is(mode, "ON") => out.status("OK"),
                    Some(mode) if args.len() == 3 && (is(mode, "OFF") || is(mode, "SKIP")) => out
                        .error(
                        "ERR",
                        "CLIENT REPLY OFF and SKIP are not supported: every command is answered",
                    ),
                    _ => out.error("ERR", "syntax error: CLIENT REPLY ON|OFF|SKIP"),
                }
            } else if is(sub, "SETNAME") {
                match args {
                    [_, _, name] => {
                        self.name = name.to_vec();
                        out.status("OK");
                    }
                    _ => arity(out, "CLIENT SETNAME"),
                }
            } else if is(sub, "GETNAME") {
                if self.name.is_empty() {
                    out.nil();
                } else {
                    out.bulk(&self.name.clone());
                }
            } else if is(sub, "ID") {
                out.integer(self.id as i64);
            } else {
                out.error(
                    "ERR",
                    "unknown CLIENT subcommand (bindspace knows SETINFO, SETNAME, GETNAME, ID, REPLY, NO-EVICT, NO-TOUCH)",
                );
            }
        } else if is(name, "COMMAND") {
            if is(sub, "COUNT") {
                out.integer(0);
            } else if is(sub, "DOCS") {
                out.map(0);
            } else {
                // Clients ask on connect; an empty table means "no metadata".
                out.array(0);
            }
        } else if is(name, "CONFIG") {
            if is(sub, "GET") {
                // What benchmark tools ask for: bindspace persists through
                // its own log, never through snapshots on a timer or an
                // append-only file.
                let known: [(&str, &str); 2] = [("save", ""), ("appendonly", "no")];
                let hits: Vec<_> = known
                    .iter()
                    .filter(|(k, _)| args[2..].iter().any(|a| is(a, k)))
                    .collect();
                out.map(hits.len());
                for (k, v) in hits {
                    out.bulk(k.as_bytes());
                    out.bulk(v.as_bytes());
                }
            } else {
                out.error(
                    "ERR",
                    "CONFIG: bindspace has no run-time configuration; only CONFIG GET is answered (save, appendonly)",
                );
            }
        } else if is(name, "INFO") {
            let text = info::render(
                self.shared,
                &mut self.session,
                &mut self.scratch,
                args.get(1).copied(),
            );
            out.bulk(text.as_bytes());
        } else if is(name, "COMPACT") && args.len() != 1 {
            arity(out, "COMPACT");
        } else if is(name, "COMPACT") {
            match self.shared.engine.store().compact() {
                Ok(report) => {
                    let summary = format!(
                        "compacted to seq {}: {} -> {} bytes, {} records kept",
                        report.seq, report.bytes_before, report.bytes_after, report.records_kept
                    );
                    *self
                        .shared
                        .stats
                        .last_compaction
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = Some((SystemTime::now(), report));
                    out.bulk(summary.as_bytes());
                }
                Err(e) => out.error("IOERR", &format!("compaction failed: {e}")),
            }
        } else if is(name, "DBSIZE") && args.len() != 1 {
            arity(out, "DBSIZE");
        } else if is(name, "DBSIZE") {
            out.integer(self.shared.engine.store().view().len() as i64);
        } else {
            return false;
        }
        true
    }
}

/// The error for a command given the wrong number of arguments, worded
/// as the command language words it.
fn arity(out: &mut Out<'_>, command: &str) {
    out.error("ERR", &format!("wrong number of arguments for '{command}'"));
}

/// Compares a password without stopping at the first difference, so the
/// time taken does not tell an attacker how much was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, &x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0));
    }
    diff == 0
}
