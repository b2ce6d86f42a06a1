//! The `bindspace` command line: `serve`, `demo`, `import`, `export`,
//! `search`, `get`, `check`, `compact`, `repair`, `stats`. Every failure is one line
//! a person can act on and a non-zero exit code (see `bin/bindspace.rs`).

mod data;
mod demo;
mod out;
mod print;
mod replace_file;
mod serve;

pub use data::Format;

use crate::store::{Durability, Options, Store, StoreError};
use bindspace_core::Width;
use clap::{Parser, Subcommand, ValueEnum};
use core::fmt;
use out::Out;
use std::path::{Path, PathBuf};

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
#[command(name = "bindspace", version)]
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
    /// Fingerprint width in bits of a new store [default: 8192]; an
    /// existing store is read at its own width, which this must match if
    /// given.
    #[arg(long)]
    pub width: Option<u32>,
    /// Log segment size in MiB: a segment is closed and the next started
    /// at this size (commands that write).
    #[arg(long, value_name = "MIB", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub segment_mib: u64,
    /// Covered segment files a checkpoint keeps to write again (no
    /// prefill for their commits); 0 removes them all.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(0..=64))]
    pub keep_segments: u64,
    /// A checkpoint runs by itself once this many closed segments are on
    /// disk; 0 leaves checkpoints to `compact` (and COMPACT).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(0..=4096))]
    pub checkpoint_after: u64,
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
    /// Open a damaged data directory keeping every valid record, list what
    /// was dropped, and rewrite the directory without the damage.
    Repair(StoreOnly),
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

    /// The width asked for, or the default one.
    pub fn width(&self) -> Result<Width, CliError> {
        let Some(bits) = self.width else {
            return Ok(Width::DEFAULT);
        };
        Width::from_bits(bits).map_err(|_| {
            CliError(format!(
                "--width {bits} is not a fingerprint width: use a multiple of 64 from 64 to 16384"
            ))
        })
    }

    /// Runs `read` (an open or an inspection of the data directory) at the
    /// width asked for; with none asked, at the width the store holds
    /// (tried at the default first: a store of another width is refused
    /// at its first header, before anything is replayed or changed).
    /// Errors name the directory and what to do about them.
    pub(crate) fn at_stored_width<T>(
        &self,
        read: impl Fn(Width) -> Result<T, StoreError>,
    ) -> Result<T, CliError> {
        let dir = self.dir()?;
        let first = read(self.width()?);
        let result = match first {
            Err(StoreError::WidthMismatch { found, .. }) if self.width.is_none() => {
                match Width::from_bits(found) {
                    Ok(width) => read(width),
                    Err(_) => first,
                }
            }
            other => other,
        };
        result.map_err(|e| explain(&dir, &e))
    }

    /// Opens the store with `durability`, creating it if the directory
    /// holds none.
    pub fn open(&self, durability: Durability) -> Result<Store, CliError> {
        // The store creates the directory (and its parents) itself, each
        // synced into its parent; created here first, they would not be.
        let dir = self.dir()?;
        self.open_at_stored_width(&dir, durability, false)
    }

    /// Opens the store with `durability`; a directory that holds no store
    /// is an error, not a new empty store (for commands that only make
    /// sense on data: compact, repair).
    pub fn open_existing(&self, durability: Durability, repair: bool) -> Result<Store, CliError> {
        let dir = self.dir()?;
        if !Store::exists(&dir).map_err(|e| explain(&dir, &e))? {
            return Err(no_store(&dir));
        }
        self.open_at_stored_width(&dir, durability, repair)
    }

    /// Opens the store in `dir` ([`StoreArgs::at_stored_width`]).
    fn open_at_stored_width(
        &self,
        dir: &Path,
        durability: Durability,
        repair: bool,
    ) -> Result<Store, CliError> {
        self.at_stored_width(|width| {
            let options = Options {
                width,
                durability,
                repair,
                segment_bytes: self.segment_mib << 20,
                // The ranges were checked when the command line was parsed.
                recycle_segments: self.keep_segments as usize,
                checkpoint_after_segments: self.checkpoint_after as usize,
                ..Options::default()
            };
            Store::open(dir, options)
        })
    }
}

/// The error for a directory without a store.
pub(crate) fn no_store(dir: &Path) -> CliError {
    let why = if dir.is_file() {
        "it is a file"
    } else if dir.is_dir() {
        "it holds no log segment or snapshot"
    } else {
        "it does not exist"
    };
    CliError(format!(
        "{} is not a bindspace data directory ({why}); check --data-dir",
        dir.display()
    ))
}

/// A store error said with what to do about it on the command line.
fn explain(dir: &Path, e: &StoreError) -> CliError {
    let hint = match e {
        StoreError::WidthMismatch { found, .. } => {
            format!("; leave --width out to read it at its own width ({found})")
        }
        StoreError::Corrupt { .. } => format!(
            "; `bindspace repair --data-dir {}` does that and rewrites the directory without the damage",
            dir.display()
        ),
        _ => String::new(),
    };
    CliError(format!("cannot open {}: {e}{hint}", dir.display()))
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

/// Runs one invocation. A command whose reader went away (`bindspace
/// search ... | head -1`) stops at its next write and succeeds: what it
/// had left to say has nobody to read it, and the work was done.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let mut out = Out::stdout();
    let result = match cli.command {
        // The server prints its own lines and ignores a closed output:
        // it serves clients, not whoever started it.
        Cmd::Serve(args) => serve::run(args),
        Cmd::Demo => demo::run(&mut out),
        Cmd::Import(args) => data::import(args, &mut out),
        Cmd::Export(args) => data::export(args, &mut out),
        Cmd::Search(args) => data::search(args, &mut out),
        Cmd::Get(args) => data::get(args, &mut out),
        Cmd::Check(args) => data::check(args, &mut out),
        Cmd::Compact(args) => data::compact(&args.store, &mut out),
        Cmd::Repair(args) => data::repair(&args.store, &mut out),
        Cmd::Stats(args) => data::stats(&args.store, &mut out),
    };
    match result {
        // Commands stop at their first failed write (`writeln!(out, ..)?`),
        // so this error is that write's.
        Err(_) if out.reader_gone() => Ok(()),
        other => other,
    }
}
