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
    /// Clients served at once.
    #[arg(long, default_value_t = 1000)]
    max_clients: usize,
    /// Largest request in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_request: usize,
    /// Seconds a silent client stays connected.
    #[arg(long, default_value_t = 300)]
    idle_timeout: u64,
    /// When acknowledged writes reach the disk.
    #[arg(long, value_enum, default_value = "always")]
    fsync: Fsync,
    /// Serve Prometheus metrics over HTTP at this address (e.g. 127.0.0.1:9379).
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
    config.max_clients = args.max_clients.max(1);
    config.max_request = args.max_request.max(1024);
    config.idle_timeout = Duration::from_secs(args.idle_timeout.max(1));
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
