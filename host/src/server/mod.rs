//! `bindspace serve`: the command language over the Redis protocol
//! (RESP2, RESP3 after `HELLO 3`) on TCP, so `redis-cli` and every Redis
//! client library talk to a bindspace store unchanged.
//!
//! One thread per connection, up to [`Config::max_clients`]. Reads run on
//! the store's current snapshot and never wait for writers; writes go
//! through the store's single writer in the fixed order execute -> log
//! (durable) -> apply -> reply. Pipelined requests are answered in order
//! and their replies sent in one write. The design is in `docs/SERVER.md`.

mod combine;
mod conn;
mod dispatch;
pub mod engine;
pub mod frame;
mod info;
mod metrics;
mod plain_set;
mod reply_to;
pub mod resp;
mod source;
#[cfg(test)]
mod tests;

pub use engine::{Clock, ClockError, Engine, Failure, SystemClock};

use crate::store::{CompactReport, Store};
use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

/// The port `bindspace serve` listens on unless told otherwise (Redis's
/// 6379 plus 1000, so both can run side by side).
pub const DEFAULT_PORT: u16 = 7379;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The password `AUTH` must give; required to listen, or to serve
    /// metrics, on a non-loopback address.
    pub password: Option<String>,
    /// Connections served at once; one more is told so and closed.
    pub max_clients: usize,
    /// The largest request, in bytes; a client that sends a bigger one is
    /// told so and disconnected.
    pub max_request: usize,
    /// A client silent this long is disconnected.
    pub idle_timeout: Duration,
    /// Where to serve Prometheus text metrics over HTTP, if anywhere. The
    /// page has no authentication: a non-loopback address needs a
    /// password set all the same, as the operator's sign of consent.
    pub metrics: Option<SocketAddr>,
    /// The data directory (for INFO).
    pub data_dir: PathBuf,
}

impl Config {
    /// Defaults: 127.0.0.1:7379, no password, 1,000 clients, 1 MiB
    /// requests, 5 minutes idle.
    pub fn new(data_dir: PathBuf) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            password: None,
            max_clients: 1000,
            max_request: 1 << 20,
            idle_timeout: Duration::from_secs(300),
            metrics: None,
            data_dir,
        }
    }
}

/// Why the server could not start or stopped badly.
#[derive(Debug)]
pub enum ServeError {
    /// A non-loopback address without a password.
    Protected(SocketAddr),
    /// A non-loopback metrics address without a password.
    MetricsProtected(SocketAddr),
    /// The address could not be bound.
    Bind(SocketAddr, io::Error),
    /// Signal handlers could not be installed.
    Signals(io::Error),
    /// The metrics endpoint could not be started (its thread, or its
    /// socket's mode).
    Metrics(io::Error),
    /// The final sync failed: recent writes may not be durable.
    Close(crate::store::StoreError),
}

impl core::fmt::Display for ServeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ServeError::Protected(a) => write!(
                f,
                "refusing to listen on {a} without a password (protected mode): set --password or listen on 127.0.0.1"
            ),
            ServeError::MetricsProtected(a) => write!(
                f,
                "refusing to serve metrics on {a} without a password (protected mode): the metrics page has no authentication; set --password to expose it anyway, or serve metrics on 127.0.0.1"
            ),
            ServeError::Bind(a, e) => write!(f, "cannot listen on {a}: {e} (is another server using the port? try --port)"),
            ServeError::Signals(e) => write!(f, "cannot install signal handlers: {e}"),
            ServeError::Metrics(e) => write!(f, "cannot start the metrics endpoint: {e}"),
            ServeError::Close(e) => write!(f, "the final sync failed: {e}"),
        }
    }
}

impl core::error::Error for ServeError {}

/// Counters behind INFO and the metrics endpoint.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) clients: AtomicUsize,
    pub(crate) connections_total: AtomicU64,
    pub(crate) rejected_total: AtomicU64,
    pub(crate) commands_total: AtomicU64,
    pub(crate) errors_total: AtomicU64,
    pub(crate) store_errors_total: AtomicU64,
    pub(crate) ops_per_sec: AtomicU64,
    pub(crate) last_compaction: Mutex<Option<(SystemTime, CompactReport)>>,
}

impl Stats {
    /// Counts one error reply sent with code `code` (`ERR`, `IOERR`, ...);
    /// `IOERR` (a store failure, [`Failure::code`]) is a store error too.
    pub(crate) fn error_reply(&self, code: &[u8]) {
        self.errors_total.fetch_add(1, Ordering::Relaxed);
        if code == b"IOERR" {
            self.store_errors_total.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts the error reply, if `reply` (one whole RESP reply) is one.
    pub(crate) fn reply(&self, reply: &[u8]) {
        if let Some(rest) = reply.strip_prefix(b"-") {
            let end = rest
                .iter()
                .position(|&b| b == b' ' || b == b'\r')
                .unwrap_or(rest.len());
            self.error_reply(&rest[..end]);
        }
    }
}

/// What every connection thread shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) combiner: combine::Combiner,
    pub(crate) config: Config,
    /// The address the listener got (`config.listen` may ask for port 0).
    pub(crate) bound: SocketAddr,
    pub(crate) stats: Stats,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) started: Instant,
    pub(crate) next_id: AtomicU64,
}

/// The server's sockets, bound before the store is opened: a port that
/// is taken then fails the start before a data directory is touched.
#[derive(Debug)]
pub struct Listeners {
    config: Config,
    listener: TcpListener,
    metrics: Option<TcpListener>,
}

impl Listeners {
    /// Binds the listening sockets; refuses a non-loopback address
    /// (to listen or to serve metrics on) without a password.
    pub fn bind(config: Config) -> Result<Listeners, ServeError> {
        protected_mode(&config)?;
        let listener =
            TcpListener::bind(config.listen).map_err(|e| ServeError::Bind(config.listen, e))?;
        let metrics = match config.metrics {
            Some(a) => Some(TcpListener::bind(a).map_err(|e| ServeError::Bind(a, e))?),
            None => None,
        };
        Ok(Listeners {
            config,
            listener,
            metrics,
        })
    }

    /// The address actually bound (port 0 picks a free one).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A server on these sockets running commands through `engine` (its
    /// store, its clock).
    pub fn serve(self, engine: Engine) -> Result<Server, ServeError> {
        let Listeners {
            config,
            listener,
            metrics,
        } = self;
        let bound = listener
            .local_addr()
            .map_err(|e| ServeError::Bind(config.listen, e))?;
        Ok(Server {
            shared: Arc::new(Shared {
                combiner: combine::Combiner::new(&engine),
                engine,
                config,
                bound,
                stats: Stats::default(),
                stop: Arc::new(AtomicBool::new(false)),
                started: Instant::now(),
                next_id: AtomicU64::new(1),
            }),
            listener,
            metrics,
        })
    }
}

/// Refuses to expose the server beyond this machine unless a password is
/// set. The metrics page never asks for it, but counts what every client
/// does: serving it to the network should be as deliberate a choice.
fn protected_mode(config: &Config) -> Result<(), ServeError> {
    if config.password.is_some() {
        return Ok(());
    }
    if !config.listen.ip().is_loopback() {
        return Err(ServeError::Protected(config.listen));
    }
    match config.metrics {
        Some(a) if !a.ip().is_loopback() => Err(ServeError::MetricsProtected(a)),
        _ => Ok(()),
    }
}

/// A running server's handle: its address and a way to stop it.
#[derive(Debug)]
pub struct Server {
    shared: Arc<Shared>,
    listener: TcpListener,
    metrics: Option<TcpListener>,
}

impl Server {
    /// Binds the listening sockets ([`Listeners::bind`]) and serves
    /// `store` on them.
    pub fn bind(store: Store, config: Config) -> Result<Server, ServeError> {
        Listeners::bind(config)?.serve(Engine::new(store))
    }

    /// The address actually bound (port 0 picks a free one).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.shared.bound)
    }

    /// The metrics endpoint's address actually bound, if it is on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|m| m.local_addr().ok())
    }

    /// The flag that stops the server when set (signal handlers set it).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.shared.stop)
    }

    /// Serves until the stop flag is set, then stops accepting, lets every
    /// connection finish the command it is running, and syncs the store.
    /// Every thread it started has ended when it returns, so the store
    /// (and its directory's lock) is released unless the caller holds
    /// another handle to it.
    pub fn run(self) -> Result<(), ServeError> {
        let Server {
            shared,
            listener,
            metrics,
        } = self;
        listener
            .set_nonblocking(true)
            .map_err(|e| ServeError::Bind(shared.config.listen, e))?;
        let metrics = match metrics {
            Some(m) => Some(start_metrics(m, &shared)?),
            None => None,
        };
        let mut workers = Vec::new();
        let mut sample = (Instant::now(), 0u64);
        while !shared.stop.load(Ordering::Acquire) {
            match listener.accept() {
                Ok((stream, _)) => {
                    workers.retain(|w: &std::thread::JoinHandle<()>| !w.is_finished());
                    if let Some(w) = admit(stream, &shared) {
                        workers.push(w);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
            if sample.0.elapsed() >= Duration::from_secs(1) {
                let total = shared.stats.commands_total.load(Ordering::Relaxed);
                let rate = (total - sample.1) as f64 / sample.0.elapsed().as_secs_f64();
                shared
                    .stats
                    .ops_per_sec
                    .store(rate as u64, Ordering::Relaxed);
                sample = (Instant::now(), total);
            }
        }
        drop(listener);
        for w in workers {
            let _ = w.join();
        }
        // It holds the store too. It sees the stop flag within one
        // scrape's timeouts (metrics::serve), so this wait is bounded.
        if let Some(m) = metrics {
            let _ = m.join();
        }
        shared.engine.store().close().map_err(ServeError::Close)
    }
}

/// Starts the thread that answers on the metrics socket until the server
/// stops.
fn start_metrics(
    listener: TcpListener,
    shared: &Arc<Shared>,
) -> Result<std::thread::JoinHandle<()>, ServeError> {
    // A blocking accept would never see the stop flag, and `run` would
    // wait for this thread for ever.
    listener
        .set_nonblocking(true)
        .map_err(ServeError::Metrics)?;
    let shared = Arc::clone(shared);
    std::thread::Builder::new()
        .name("bindspace-metrics".into())
        .spawn(move || metrics::serve(listener, &shared))
        .map_err(ServeError::Metrics)
}

/// Starts a thread for a new connection, or turns it away when the
/// server is full.
fn admit(mut stream: TcpStream, shared: &Arc<Shared>) -> Option<std::thread::JoinHandle<()>> {
    let stats = &shared.stats;
    if stats.clients.load(Ordering::Acquire) >= shared.config.max_clients {
        stats.rejected_total.fetch_add(1, Ordering::Relaxed);
        stats.error_reply(b"ERR");
        let _ = stream.set_nonblocking(false);
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n");
        return None;
    }
    stats.clients.fetch_add(1, Ordering::AcqRel);
    stats.connections_total.fetch_add(1, Ordering::Relaxed);
    let shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("bindspace-client".into())
        .spawn(move || {
            conn::serve(stream, &shared);
            shared.stats.clients.fetch_sub(1, Ordering::AcqRel);
        });
    match spawned {
        Ok(handle) => Some(handle),
        Err(_) => {
            stats.clients.fetch_sub(1, Ordering::AcqRel);
            None
        }
    }
}
