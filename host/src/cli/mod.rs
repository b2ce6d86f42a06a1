//! The `bindspace` command line: `serve`, `demo`, `import`, `export`,
//! `search`, `get`, `check`, `compact`, `stats`. Every failure is one line
//! a person can act on and a non-zero exit code (see `bin/bindspace.rs`).

mod data;
mod demo;
mod print;
mod serve;

pub use data::Format;

use crate::store::{Durability, Options, Store};
use bindspace_core::Width;
use clap::{Parser, Subcommand, ValueEnum};
use core::fmt;
use std::path::PathBuf;

/// A failure, said in one line.
#[derive(Debug)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for CliError {}

impl<E: fmt::Display> From<E> for CliError
where
    E: IsError,
{
    fn from(e: E) -> CliError {
        CliError(e.to_string())
    }
}

/// The errors that turn into a [`CliError`] by their message.
pub trait IsError {}
impl IsError for crate::store::StoreError {}
impl IsError for std::io::Error {}
impl IsError for crate::server::ServeError {}

/// bindspace: a portable associative memory of binary fingerprints.
#[derive(Debug, Parser)]
#[command(name = "bindspace", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// Where the data lives and how wide its fingerprints are.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The data directory [default: $XDG_DATA_HOME/bindspace or ~/.local/share/bindspace].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Fingerprint width in bits of a new store (an existing one must match).
    #[arg(long, default_value_t = Width::DEFAULT.bits())]
    pub width: u32,
}

/// When acknowledged writes reach stable storage.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Fsync {
    /// Every acknowledged write is on disk (group commit): survives power loss.
    Always,
    /// Written to the OS at once (survives a crash of the process), synced every second.
    Periodic,
    /// Synced only at shutdown, compaction and segment rotation.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Serve the data directory over the Redis protocol (redis-cli works).
    Serve(serve::ServeArgs),
    /// Encode, store and search a bundled corpus of sentences in a temporary store.
    Demo,
    /// Import text lines, raw fingerprints or a portable log file.
    Import(data::ImportArgs),
    /// Export the store as a portable log file (the flash and wasm format).
    Export(data::ExportArgs),
    /// The entries nearest to a text or a fingerprint.
    Search(data::SearchArgs),
    /// The fingerprint stored at an address.
    Get(data::GetArgs),
    /// Verify a data directory: records, CRCs, snapshot; print a report.
    Check(data::CheckArgs),
    /// Rewrite the log down to the live entries.
    Compact(StoreOnly),
    /// Counts, sizes and sequence numbers of a data directory.
    Stats(StoreOnly),
}

/// Only the store to act on.
#[derive(Debug, clap::Args)]
pub struct StoreOnly {
    #[command(flatten)]
    store: StoreArgs,
}

impl StoreArgs {
    /// The data directory to use.
    pub fn dir(&self) -> Result<PathBuf, CliError> {
        if let Some(d) = &self.data_dir {
            return Ok(d.clone());
        }
        default_data_dir()
    }

    /// The width asked for.
    pub fn width(&self) -> Result<Width, CliError> {
        Width::from_bits(self.width).map_err(|_| {
            CliError(format!(
                "--width {} is not a fingerprint width: use a multiple of 64 from 64 to 16384",
                self.width
            ))
        })
    }

    /// Opens the store with `durability`.
    pub fn open(&self, durability: Durability) -> Result<Store, CliError> {
        let dir = self.dir()?;
        std::fs::create_dir_all(&dir).map_err(|e| {
            CliError(format!(
                "cannot create the data directory {}: {e}",
                dir.display()
            ))
        })?;
        let options = Options {
            width: self.width()?,
            durability,
            ..Options::default()
        };
        Store::open(&dir, options)
            .map_err(|e| CliError(format!("cannot open {}: {e}", dir.display())))
    }
}

/// `$XDG_DATA_HOME/bindspace`, else `~/.local/share/bindspace`.
pub fn default_data_dir() -> Result<PathBuf, CliError> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return Ok(PathBuf::from(x).join("bindspace"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/bindspace")),
        None => Err(CliError(
            "no data directory: set HOME or XDG_DATA_HOME, or pass --data-dir".into(),
        )),
    }
}

/// Runs one invocation.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Cmd::Serve(args) => serve::run(args),
        Cmd::Demo => demo::run(),
        Cmd::Import(args) => data::import(args),
        Cmd::Export(args) => data::export(args),
        Cmd::Search(args) => data::search(args),
        Cmd::Get(args) => data::get(args),
        Cmd::Check(args) => data::check(args),
        Cmd::Compact(args) => data::compact(&args.store),
        Cmd::Stats(args) => data::stats(&args.store),
    }
}
