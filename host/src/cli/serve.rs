//! `bindspace serve`.

use super::{CliError, Fsync, StoreArgs};
use crate::server::{Config, Engine, Listeners, DEFAULT_PORT};
use crate::store::Durability;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::io::Write;

/// Options of `bindspace serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on (a non-loopback one needs --password).
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on (0: any free port, printed at start).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Password clients must give with AUTH [default: $BINDSPACE_PASSWORD].
    #[arg(long, env = "BINDSPACE_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Clients served at once (at least 1).
    #[arg(long, default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_clients: u64,
    /// Largest request in bytes (at least 1024: a command with one
    /// 16,384-bit fingerprint must fit).
    #[arg(long, default_value_t = 1 << 20,
          value_parser = clap::value_parser!(u64).range(1024..=1 << 30))]
    max_request: u64,
    /// Seconds a silent client stays connected (at least 1).
    #[arg(long, default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// When acknowledged writes reach the disk.
    #[arg(long, value_enum, default_value = "always")]
    fsync: Fsync,
    /// Serve Prometheus metrics over HTTP at this address (e.g. 127.0.0.1:9379;
    /// a non-loopback one needs --password, though the page never asks for it).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,
}

pub(crate) fn run(args: ServeArgs) -> Result<(), CliError> {
    let durability = match args.fsync {
        Fsync::Always => Durability::Always,
        Fsync::Periodic => Durability::Periodic(Duration::from_secs(1)),
        Fsync::Never => Durability::Never,
    };
    let dir = args.store.dir()?;
    let mut config = Config::new(dir.clone());
    config.listen = SocketAddr::new(args.bind, args.port);
    config.password = args.password.filter(|p| !p.is_empty());
    // The ranges were checked when the command line was parsed: a value
    // out of range is refused there, never quietly raised.
    config.max_clients = usize::try_from(args.max_clients).unwrap_or(usize::MAX);
    config.max_request = usize::try_from(args.max_request).unwrap_or(usize::MAX);
    config.idle_timeout = Duration::from_secs(args.idle_timeout);
    config.metrics = args.metrics;
    // The sockets first: a port that is taken (or protected mode) fails
    // the start before the data directory is created or locked.
    let listeners = Listeners::bind(config)?;
    let store = args.store.open(durability)?;
    let recovery = store.recovery().clone();
    let server = listeners.serve(Engine::new(store))?;
    let stop = server.stop_flag();
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, std::sync::Arc::clone(&stop))
            .map_err(|e| CliError(format!("cannot install signal handlers: {e}")))?;
    }
    let addr = server.local_addr()?;
    // Whoever started the server may have stopped reading its output;
    // that is no reason to fail.
    let say = |line: String| {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    // The first line ends with the port (scripts read it from there).
    say(format!(
        "bindspace {} serving {} on {addr}",
        env!("CARGO_PKG_VERSION"),
        dir.display()
    ));
    if let Some(metrics) = server.metrics_addr() {
        say(format!("metrics: http://{metrics}/metrics"));
    }
    for line in recovery.notes() {
        say(format!("recovery: {line}"));
    }
    server.run()?;
    say("bindspace: stopped cleanly, data synced".into());
    Ok(())
}
